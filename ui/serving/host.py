"""The process and the server the app runs in: how many computations at once, and whether this
is the real server (``streamlit run``) or a test. Read by the limiter (ui.serving.limiter) and
by the worker processes (ui.serving.workers), which both size themselves to ``worker_count()``.
"""

from __future__ import annotations

import os

WORKERS_ENV = "VARIANCE_LAB_WORKERS"


def environ_whole_number(name: str, environ: dict[str, str] | None = None) -> int | None:
    """The environment variable ``name`` as a whole number ≥ 0 (ASCII digits, spaces around
    allowed), else None."""
    text = (os.environ if environ is None else environ).get(name, "").strip()
    # str.isdigit() also accepts '²' or '٣', which int() refuses or reads: ASCII digits only.
    return int(text) if text.isascii() and text.isdigit() else None


def worker_count(environ: dict[str, str] | None = None) -> int:
    """Slots for concurrent computations: ``VARIANCE_LAB_WORKERS`` if it is a positive integer,
    else the number of CPUs this process may use."""
    workers = environ_whole_number(WORKERS_ENV, environ)
    if workers:
        return workers
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    return max(1, min(cpus, quota) if quota else cpus)


def cgroup_cpu_quota(path: str = "/sys/fs/cgroup/cpu.max") -> int | None:
    """The CPUs a container may use (cgroup v2 ``cpu.max`` "quota period", rounded up), or
    None without a quota: `docker run --cpus 2` on a 32-core host must mean 2 workers."""
    try:
        quota, period = open(path, encoding="ascii").read().split()[:2]
        return None if quota == "max" else max(1, -(-int(quota) // int(period)))
    except (OSError, ValueError):
        return None


def on_real_server(switch_env: str, environ: dict[str, str] | None = None) -> bool:
    """A feature of the real server: ``switch_env`` set to 1 or 0 forces it on or off, else it
    is on exactly under ``streamlit run``."""
    environ = os.environ if environ is None else environ
    switch = environ.get(switch_env, "").strip()
    if switch in ("0", "1"):
        return switch == "1"
    return real_server()


def real_server() -> bool:
    """True under ``streamlit run``; False under AppTest, which installs a mock in place of
    the Runtime, and outside Streamlit."""
    from streamlit.runtime import Runtime

    return Runtime.exists() and type(Runtime.instance()) is Runtime
