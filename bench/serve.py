"""Start and stop `streamlit run app.py` on 127.0.0.1 for the load benchmarks, by process id.

Standard library only. ``start_server`` returns the process (its pid is the server's: memory is
sampled from /proc/PID/status) once /_stcore/health answers ``ok``; ``stop`` ends the process
group it leads (SIGTERM, then SIGKILL after a grace period).
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health_ok(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200 and resp.read().decode().strip() == "ok"
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def wait_healthy(base_url: str, proc: subprocess.Popen | None, timeout_s: float,
                 log_path: Path | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while not health_ok(base_url):
        if proc is not None and proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:] if log_path else ""
            raise RuntimeError(f"server exited with code {proc.returncode}\n{tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{base_url} not healthy within {timeout_s:.0f} s")
        time.sleep(0.2)


def start_server(port: int, env: dict[str, str] | None = None, timeout_s: float = 60.0,
                 log_path: Path | None = None, extra_args: list[str] | None = None,
                 repo: Path = REPO_ROOT) -> subprocess.Popen:
    """`streamlit run app.py` from ``repo`` (default: this checkout; another one for an A/B
    comparison) on 127.0.0.1:port, healthy, as a new session (its pid leads its group)."""
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py",
           "--server.headless", "true", "--server.address", "127.0.0.1",
           "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", *(extra_args or [])]
    if log_path is None:
        fd, name = tempfile.mkstemp(prefix=f"streamlit-{port}-", suffix=".log")
        os.close(fd)
        log_path = Path(name)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=repo, env={**os.environ, **(env or {}),
                                                          "PYTHONUNBUFFERED": "1"},
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    proc.log_path = log_path  # type: ignore[attr-defined]
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, timeout_s, log_path)
    except BaseException:
        stop(proc)
        raise
    return proc


def stop(proc: subprocess.Popen, grace_s: float = 10.0) -> None:
    """End the process group led by ``proc`` (started with start_new_session=True)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=grace_s)


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident set) of a process in KiB, from /proc/PID/status."""
    values: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
    return values


def pss_kib(pid: int) -> int:
    """Proportional set size in KiB (/proc/PID/smaps_rollup): resident pages, each shared page
    split between the processes sharing it, so the sum over processes is their memory use."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def process_tree(pid: int) -> list[int]:
    """``pid`` and every live descendant (the worker processes and their fork server), from
    /proc/*/stat's parent ids."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its reaped children, from /proc/PID/stat."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        return ticks / os.sysconf("SC_CLK_TCK")
    return float("nan")
