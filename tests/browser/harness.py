"""Real-browser test harness: a Streamlit server on 127.0.0.1 plus Debian's headless Chromium.

Used by tests/browser/ and bench/browser_latency.py. Importing this module needs only the
standard library; Playwright is imported by the caller (``from playwright.sync_api import ...``).

Wait rules (see /work/shared/notes/streamlit-1.67.md):

* a rerun is finished when stApp is CONNECTED, its script state is ``notRunning`` and no
  ``stSkeleton`` remains -- but a fast rerun can flip before you look, so after an interaction
  always wait for the *expected DOM change itself* first, then for idle;
* Plotly text is SVG: read it with ``text_content()``; two ``.gtitle`` nodes briefly coexist
  during a re-render, so use ``.first``.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_PATH = "/usr/bin/chromium"
ARTIFACTS_DIR = REPO_ROOT / "artifacts"
SCREENSHOT_DIR = ARTIFACTS_DIR / "screenshots"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

SERVER_START_TIMEOUT_S = 60.0
#: The bound for waits on a cold computation (several deep networks simulated at once, on a
#: machine shared with other jobs: 30 s was once not enough for 4 × 50 layers). A wait returns
#: as soon as its condition holds; the bound only decides when to give up.
COLD_COMPUTE_TIMEOUT_MS = 240_000

APP_CONNECTED = "[data-testid='stApp'][data-test-connection-state='CONNECTED']"
APP_NOT_RUNNING = "[data-testid='stApp'][data-test-script-state='notRunning']"
SKELETON = "[data-testid='stSkeleton']"
PLOTLY_CHART = "[data-testid='stPlotlyChart']"


class ServerStartError(RuntimeError):
    """The Streamlit server died or never answered its health check."""


def in_ci() -> bool:
    """True when the environment says we run in CI (CI=true/1/yes)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def browser_unavailable_reason() -> str | None:
    """Why real-browser tests cannot run here, or None if they can."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the machine
        missing.append(f"the Python package 'playwright' is not importable ({exc}); "
                       "pip install -r requirements-dev.txt")
    if not os.access(CHROMIUM_PATH, os.X_OK):
        missing.append(f"{CHROMIUM_PATH} is missing; apt-get install -y chromium "
                       "(never 'playwright install')")
    return "; ".join(missing) or None


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, n_chars: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<could not read server log {path}: {exc}>"
    return text[-n_chars:] if text else "<server log is empty>"


def _stop_process_group(proc: subprocess.Popen, grace_s: float = 10.0) -> None:
    """SIGTERM the server's process group (its pgid is its pid), wait, then SIGKILL."""
    if proc.poll() is not None:
        return
    pgid = proc.pid  # start_new_session=True: the server leads its own group
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        proc.wait(timeout=grace_s)
    # Anything else left in the group (should be nothing) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _health_ok(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200 and resp.read().decode().strip() == "ok"
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


@contextlib.contextmanager
def start_app(app_path: str | os.PathLike = "app.py", port: int | None = None, query: str = "",
              cwd: str | os.PathLike | None = None,
              timeout_s: float = SERVER_START_TIMEOUT_S,
              extra_args: list[str] | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """Run ``streamlit run app_path`` on ``host`` (a loopback address: 127.0.0.2 stands for a
    room's network address in tests) and yield its URL.

    ``app_path`` is relative to ``cwd`` (default: the repo root). The yielded URL is
    ``http://127.0.0.1:PORT/`` followed by ``?query`` if ``query`` is given (a leading ``?`` is
    optional). The server is stopped by its process id on exit, whatever happens.
    """
    cwd = Path(cwd) if cwd is not None else REPO_ROOT
    app = Path(app_path)
    app_abs = app if app.is_absolute() else cwd / app
    if not app_abs.is_file():
        raise FileNotFoundError(f"Streamlit app not found: {app_abs}")
    import ipaddress

    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"test servers bind to a loopback address, not {host}")
    port = port or free_port()
    base_url = f"http://{host}:{port}"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.headless", "true",
        "--server.address", host,
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        *(extra_args or []),
    ]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    log_fd, log_name = tempfile.mkstemp(prefix=f"streamlit-{port}-", suffix=".log")
    log_path = Path(log_name)
    proc: subprocess.Popen | None = None
    try:
        with os.fdopen(log_fd, "wb") as log:
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise ServerStartError(
                    f"streamlit exited with code {proc.returncode} before answering "
                    f"{base_url}/_stcore/health\ncommand: {' '.join(cmd)}\n"
                    f"--- server output ---\n{_tail(log_path)}")
            if _health_ok(base_url):
                break
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"streamlit did not answer {base_url}/_stcore/health within {timeout_s:.0f} s"
                    f"\ncommand: {' '.join(cmd)}\n--- server output ---\n{_tail(log_path)}")
            time.sleep(0.2)
        q = query.lstrip("?")
        yield f"{base_url}/" + (f"?{q}" if q else "")
    finally:
        if proc is not None:
            _stop_process_group(proc)
        with contextlib.suppress(OSError):
            log_path.unlink()


def launch_browser(playwright, headless: bool = True, **kwargs):
    """Debian's Chromium through Playwright (never a downloaded browser).

    Playwright gives every ``launch()`` a fresh temporary ``--user-data-dir`` of its own and
    deletes it on ``close()`` (it refuses a ``--user-data-dir`` in ``args``).
    """
    args = list(CHROMIUM_ARGS)
    if not headless:
        args.remove("--headless")
    return playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=headless,
                                      args=args + list(kwargs.pop("args", [])), **kwargs)


#: What a phone's Chromium sends (Android): the server lays some charts out for a phone by it.
PHONE_USER_AGENT = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
                    "Gecko) Chrome/131.0.0.0 Mobile Safari/537.36")


def new_page(browser, timeout_ms: float = 30_000, width: int = 1400, height: int = 1000,
             **context_kwargs):
    """A page in a fresh context (viewport width×height, default timeout ``timeout_ms``); a
    mobile one (``is_mobile=True``) says it is a phone, as a phone's browser does."""
    if context_kwargs.get("is_mobile"):
        context_kwargs.setdefault("user_agent", PHONE_USER_AGENT)
    context = browser.new_context(viewport={"width": width, "height": height}, **context_kwargs)
    context.set_default_timeout(timeout_ms)
    page = context.new_page()
    return page


def wait_for_app_idle(page, timeout_ms: float | None = None) -> None:
    """stApp CONNECTED, script ``notRunning`` and no ``stSkeleton`` left.

    This alone does not prove that *your* rerun happened (a fast one can finish before you
    look): after an interaction, first wait for the DOM change you expect.
    """
    kw = {} if timeout_ms is None else {"timeout": timeout_ms}
    page.wait_for_function(
        """([connected, idle, skeleton]) => !!document.querySelector(connected)
                                            && !!document.querySelector(idle)
                                            && !document.querySelector(skeleton)""",
        arg=[APP_CONNECTED, APP_NOT_RUNNING, SKELETON], **kw)


def wait_for_plotly(page, min_count: int = 1, timeout_ms: float | None = None) -> int:
    """Wait until at least ``min_count`` Plotly charts hold a rendered SVG; return how many."""
    kw = {} if timeout_ms is None else {"timeout": timeout_ms}
    handle = page.wait_for_function(
        """([sel, n]) => {
               const k = [...document.querySelectorAll(sel)]
                   .filter(el => el.querySelector('svg.main-svg, svg')).length;
               return k >= n ? k : false;
           }""",
        arg=[PLOTLY_CHART, min_count], **kw)
    return int(handle.json_value())


def chart_title(page, index: int = 0) -> str:
    """The title text of the ``index``-th Plotly chart ('' if it has none)."""
    title = page.locator(PLOTLY_CHART).nth(index).locator(".gtitle").first
    if title.count() == 0:
        return ""
    return (title.text_content() or "").strip()


def wait_for_chart_title_change(page, old: str, index: int = 0,
                                timeout_ms: float | None = None) -> str:
    """Wait until the ``index``-th chart's (first) ``.gtitle`` text differs from ``old``."""
    kw = {} if timeout_ms is None else {"timeout": timeout_ms}
    handle = page.wait_for_function(
        """([sel, i, old]) => {
               const chart = document.querySelectorAll(sel)[i];
               const t = chart && chart.querySelector('.gtitle');
               const s = t ? t.textContent.trim() : null;
               return (s !== null && s !== old) ? s : false;
           }""",
        arg=[PLOTLY_CHART, index, old], **kw)
    return str(handle.json_value())


def slider_handle(page, label_pattern: str | re.Pattern | None = None, within: str | None = None):
    """The focusable role=slider of the first stSlider whose text matches ``label_pattern``."""
    scope = page.locator(within) if within else page
    sliders = scope.get_by_test_id("stSlider")
    if label_pattern is not None:
        sliders = sliders.filter(has_text=label_pattern)
    return sliders.first.get_by_role("slider")


def _safe_name(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "screenshot"
    return name if name.endswith(".png") else f"{name}.png"


def screenshot(page, name: str, full_page: bool = True) -> Path:
    """Save a PNG into artifacts/screenshots/ (created if needed); return its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / _safe_name(name)
    page.screenshot(path=str(path), full_page=full_page)
    return path


@dataclass(frozen=True)
class Viewport:
    """A screen a page is checked on: a laptop, a projector (present mode) or a phone."""

    name: str
    width: int
    height: int
    present: bool = False
    phone: bool = False


#: Plotly's text boxes that must not overlap within one chart: titles, axis titles, the legend,
#: annotations (panel titles among them) and the toolbar (laid out even while faded out).
CHART_TEXT = ("text.gtitle", "text[class^='x'][class$='title']",
              "text[class^='y'][class$='title']", "g.legend", "g.annotation text", "div.modebar")


def chart_text_collisions(selectors: tuple[str, ...] = CHART_TEXT) -> str:
    """A script for ``page.evaluate``: which pairs of ``selectors``' boxes intersect within one
    Plotly chart (a box and a part of it, such as a colour bar and its title, do not)."""
    return """() => {
  const selector = %s.join(", ");
  const out = [];
  document.querySelectorAll("[data-testid='stPlotlyChart']").forEach((chart, index) => {
    const boxes = [];
    for (const el of new Set(chart.querySelectorAll(selector))) {
      const r = el.getBoundingClientRect();
      if (r.width < 1 || r.height < 1) continue;
      boxes.push({el, name: (el.getAttribute("class") || "") + " '" +
                           (el.textContent || "").trim().slice(0, 40) + "'", r});
    }
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      if (boxes[i].el.contains(boxes[j].el) || boxes[j].el.contains(boxes[i].el)) continue;
      const a = boxes[i].r, b = boxes[j].r;
      const dx = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const dy = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (dx > 1 && dy > 1) out.push(`chart ${index}: ${boxes[i].name} × ${boxes[j].name}`);
    }
  });
  return out;
}""" % json.dumps(list(selectors))
