#!/usr/bin/env python
"""Real-browser latency: keypress on the depth slider -> every Plotly chart re-rendered.

Starts the real app.py with the test harness (Streamlit on 127.0.0.1, Debian Chromium through
Playwright), then N times (default 15) presses ArrowRight / ArrowLeft alternately (with
--new-values: ArrowRight every time, so that every value is uncached) on the sidebar
slider labelled "Depth" (or "深度"; falling back to the first sidebar slider, then the first
slider anywhere) and measures, in page time (performance.now()):

    latency = time of the last DOM mutation inside any [data-testid='stPlotlyChart']
              - time of the keydown event

A MutationObserver installed before each keypress records chart mutations; a sample ends once
at least one chart mutated after the keypress, the app is idle (script notRunning, no
skeleton) and no chart has mutated for --quiet-ms (default 300 ms).

With --breakdown, each sample is also traced (Chromium's CDP Tracing and Network domains):

    key->send     keydown -> the rerun request leaves the page (the slider's own handling)
    server        request sent -> the last websocket frame of the rerun received (the script
                  run and its deltas; stamped by the network stack, not delayed by a busy page)
    tail          that last frame -> the last chart mutation (the browser's work left over)
    page CPU      CPU time of the page's main thread from keydown to the last chart mutation
                  (JavaScript, style, layout, paint: thread time, so other load on the machine
                  inflates it less than wall time)

Usage (from the repo root):
    python bench/browser_latency.py [-n 15] [--query "depth=20&act=tanh"] [--json out.json]

Another page and slider: ``--page train --slider "Step shown" --first-key ArrowLeft`` (the Train
page's activation step, which starts at the last step, on cached runs); the first load of such a
link with a cold cache is its cold run.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.browser import harness  # noqa: E402

DEPTH_LABEL = re.compile(r"Depth|深度", re.IGNORECASE)

INSTALL_OBSERVER_JS = """
() => {
    if (window.__benchObserver) window.__benchObserver.disconnect();
    window.__benchKeyT = null;
    window.__benchLastMut = null;
    window.__benchMutCount = 0;
    window.__benchMutated = new Set();
    if (!window.__benchKeyListener) {
        window.__benchKeyListener = (e) => {
            if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
                if (window.__benchKeyT === null) window.__benchKeyT = performance.now();
            }
        };
        window.addEventListener('keydown', window.__benchKeyListener, {capture: true});
    }
    const sel = "[data-testid='stPlotlyChart']";
    const obs = new MutationObserver((records) => {
        const now = performance.now();
        for (const r of records) {
            const node = r.target.nodeType === 1 ? r.target : r.target.parentElement;
            const chart = node && node.closest(sel);
            if (chart) {
                window.__benchLastMut = now;
                window.__benchMutCount += 1;
                window.__benchMutated.add(chart);
            }
        }
    });
    obs.observe(document.body, {subtree: true, childList: true, attributes: true,
                                characterData: true});
    window.__benchObserver = obs;
}
"""

DONE_JS = """
([quietMs, connected, idle, skeleton]) => {
    const k = window.__benchKeyT, m = window.__benchLastMut;
    if (k === null || m === null || m < k) return false;
    if (!document.querySelector(connected) || !document.querySelector(idle)) return false;
    if (document.querySelector(skeleton)) return false;
    return performance.now() - m >= quietMs;
}
"""

RESULT_JS = """
() => ({keyT: window.__benchKeyT, lastMut: window.__benchLastMut,
        mutations: window.__benchMutCount,
        mutatedCharts: [...window.__benchMutated].filter(c => c.isConnected).length,
        charts: document.querySelectorAll("[data-testid='stPlotlyChart']").length})
"""


SYNC_JS = "() => { performance.mark('bench-sync'); return performance.now(); }"

TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline",
                    "blink.user_timing"]


class Tracer:
    """One CDP session on the page: a trace and the websocket frames around each sample."""

    def __init__(self, page) -> None:
        self.page = page
        self.cdp = page.context.new_cdp_session(page)
        self.frames: list[tuple[str, float]] = []  # (sent/received, monotonic seconds)
        self.cdp.on("Network.webSocketFrameSent",
                    lambda e: self.frames.append(("sent", e["timestamp"])))
        self.cdp.on("Network.webSocketFrameReceived",
                    lambda e: self.frames.append(("received", e["timestamp"])))
        self.cdp.send("Network.enable")

    def start(self) -> None:
        self.frames.clear()
        self.cdp.send("Tracing.start", {"traceConfig": {
            "includedCategories": TRACE_CATEGORIES}, "transferMode": "ReturnAsStream"})

    def stop(self) -> list[dict]:
        done: dict = {}
        self.cdp.on("Tracing.tracingComplete", lambda e: done.setdefault("stream", e["stream"]))
        self.cdp.send("Tracing.end")
        deadline = time.monotonic() + 30
        while "stream" not in done and time.monotonic() < deadline:
            self.page.wait_for_timeout(20)
        chunks = []
        while True:
            chunk = self.cdp.send("IO.read", {"handle": done["stream"]})
            chunks.append(chunk["data"])
            if chunk.get("eof"):
                break
        self.cdp.send("IO.close", {"handle": done["stream"]})
        data = json.loads("".join(chunks))
        return data["traceEvents"] if isinstance(data, dict) else data


def breakdown(events: list[dict], frames: list[tuple[str, float]], sync_page_ms: float,
              key_ms: float, last_mutation_ms: float) -> dict:
    """One sample's figures (see the module docstring), in ms, from its trace and frames.

    Trace timestamps and CDP frame timestamps share Chromium's monotonic clock; the
    'bench-sync' user-timing mark ties them to the page's performance.now()."""
    sync = next(e for e in events if e.get("name") == "bench-sync")
    offset_us = sync["ts"] - sync_page_ms * 1000  # trace µs = page ms * 1000 + offset

    def page_ms(trace_us: float) -> float:
        return (trace_us - offset_us) / 1000

    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    sync_thread = (sync["pid"], sync["tid"])
    main = sync_thread if names.get(sync_thread) == "CrRendererMain" else next(
        k for k, v in names.items() if v == "CrRendererMain" and k[0] == sync["pid"])
    cpu = wall = 0.0
    end_us = None
    for e in sorted((e for e in events if (e.get("pid"), e.get("tid")) == main
                     and e.get("ph") == "X" and "dur" in e), key=lambda e: e["ts"]):
        if end_us is not None and e["ts"] < end_us:
            continue  # nested in a task already counted
        end_us = e["ts"] + e["dur"]
        start, stop = page_ms(e["ts"]), page_ms(end_us)
        if stop <= key_ms or start >= last_mutation_ms:
            continue
        share = (min(stop, last_mutation_ms) - max(start, key_ms)) / max(stop - start, 1e-9)
        wall += share * (stop - start)
        cpu += share * e.get("tdur", e["dur"]) / 1000
    frame_ms = [(kind, page_ms(t * 1e6)) for kind, t in frames]
    sent = [t for kind, t in frame_ms if kind == "sent" and t >= key_ms]
    received = [t for kind, t in frame_ms if kind == "received" and sent and t >= sent[0]
                and t <= last_mutation_ms]
    nan = float("nan")
    return {"key_to_send": sent[0] - key_ms if sent else nan,
            "server": received[-1] - sent[0] if received else nan,
            "tail": last_mutation_ms - received[-1] if received else nan,
            "page_cpu": cpu, "page_busy": wall}


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100]."""
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    pos = (len(s) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def slider_value(handle) -> str:
    """Displayed value of a Streamlit slider's <input type=range role=slider>."""
    v = handle.get_attribute("aria-valuetext")
    return v if v is not None else handle.input_value()


def find_depth_slider(page, label: re.Pattern | None = None):
    """(role=slider locator, description) for the depth slider (or the slider whose label
    matches ``label``), with fallbacks."""
    sidebar = "[data-testid='stSidebar']"
    candidates = [] if label is None else [
        (page.get_by_test_id("stSlider").filter(has_text=label),
         f"slider labelled {label.pattern}")]
    candidates += [
        (page.locator(sidebar).get_by_test_id("stSlider").filter(has_text=DEPTH_LABEL),
         "sidebar slider labelled Depth/深度"),
        (page.get_by_test_id("stSlider").filter(has_text=DEPTH_LABEL),
         "slider labelled Depth/深度 (not in the sidebar)"),
        (page.locator(sidebar).get_by_test_id("stSlider"), "FALLBACK: first sidebar slider"),
        (page.get_by_test_id("stSlider"), "FALLBACK: first slider on the page"),
    ]
    for loc, desc in candidates:
        if loc.count() > 0:
            return loc.first.get_by_role("slider"), desc
    raise SystemExit("error: no [data-testid='stSlider'] found on the page")


def run(args: argparse.Namespace) -> dict:
    from playwright.sync_api import sync_playwright

    app = Path(args.app)
    app_abs = app if app.is_absolute() else REPO_ROOT / app
    if not app_abs.is_file():
        raise SystemExit(f"error: the app {app_abs} does not exist (yet); nothing to benchmark")
    reason = harness.browser_unavailable_reason()
    if reason:
        raise SystemExit(f"error: {reason}")

    latencies: list[float] = []
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    with harness.start_app(app, cwd=REPO_ROOT) as base_url, sync_playwright() as pw:
        url = base_url + args.page.strip("/") + (f"?{args.query.lstrip('?')}" if args.query
                                                  else "")
        t_server = time.perf_counter() - t0
        browser = harness.launch_browser(pw)
        try:
            page = harness.new_page(browser, timeout_ms=args.timeout_s * 1000)
            t1 = time.perf_counter()
            page.goto(url)
            n_charts = harness.wait_for_plotly(page, min_count=1)
            harness.wait_for_app_idle(page)
            page.wait_for_timeout(args.quiet_ms)
            n_charts = page.locator(harness.PLOTLY_CHART).count()
            t_first = time.perf_counter() - t1
            handle, how = find_depth_slider(
                page, re.compile(args.slider) if args.slider else None)
            print(f"app: {app_abs}\nstart URL: {url}\nserver start {t_server:.2f} s, "
                  f"first load (>=1 chart + idle) {t_first:.2f} s, charts: {n_charts}\n"
                  f"slider: {how}, initial value {slider_value(handle)}",
                  flush=True)
            total = args.warmup + args.n
            # A slider at its end moves only one way (--first-key ArrowLeft for one at its top).
            keys = (args.first_key, "ArrowLeft" if args.first_key == "ArrowRight"
                    else "ArrowRight")
            if args.new_values:  # one way only: every value is one no run has computed yet
                keys = (args.first_key, args.first_key)
            tracer = Tracer(page) if args.breakdown else None
            parts: list[dict] = []
            for i in range(total):
                key = keys[i % 2]
                handle.focus()
                page.evaluate(INSTALL_OBSERVER_JS)
                if tracer:
                    tracer.start()
                    sync_ms = page.evaluate(SYNC_JS)
                page.keyboard.press(key)
                try:
                    page.wait_for_function(
                        DONE_JS,
                        arg=[args.quiet_ms, harness.APP_CONNECTED, harness.APP_NOT_RUNNING,
                             harness.SKELETON],
                        timeout=args.timeout_s * 1000, polling=25)
                except Exception as exc:  # Playwright TimeoutError
                    harness.screenshot(page, f"bench_timeout_{i}")
                    raise SystemExit(f"error: sample {i} ({key}): charts did not update within "
                                     f"{args.timeout_s} s ({exc.__class__.__name__}); "
                                     f"screenshot in {harness.SCREENSHOT_DIR}")
                r = page.evaluate(RESULT_JS)
                ms = r["lastMut"] - r["keyT"]
                tag = "warmup" if i < args.warmup else f"{i - args.warmup + 1:>2}/{args.n}"
                detail = ""
                if tracer:
                    part = breakdown(tracer.stop(), list(tracer.frames), sync_ms, r["keyT"],
                                     r["lastMut"])
                    detail = "  " + " ".join(f"{k} {v:5.0f}" for k, v in part.items())
                    if i >= args.warmup:
                        parts.append(part)
                print(f"  [{tag}] {key:<10} value={slider_value(handle):>4} "
                      f"{ms:8.1f} ms  ({r['mutatedCharts']}/{r['charts']} charts mutated, "
                      f"{r['mutations']} mutation records){detail}", flush=True)
                if i >= args.warmup:
                    latencies.append(ms)
                n_charts = r["charts"]
            config_url = page.url
            if args.screenshot:
                print(f"screenshot: {harness.screenshot(page, 'bench_browser_latency')}")
        finally:
            browser.close()

    result = {
        "n": len(latencies),
        "charts": n_charts,
        "median_ms": statistics.median(latencies),
        "p90_ms": percentile(latencies, 90),
        "min_ms": min(latencies),
        "max_ms": max(latencies),
        "samples_ms": [round(x, 1) for x in latencies],
        "config_url": config_url,
        "slider": how,
        "new_values": args.new_values,
        "breakdown_median_ms": {k: round(statistics.median(p[k] for p in parts), 1)
                                for k in (parts[0] if parts else {})},
        "loadavg_start": [round(x, 2) for x in load_start],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
    }
    print(f"\nkeypress -> all charts updated, n={result['n']}, charts={n_charts}, "
          f"{'new values' if args.new_values else 'two values alternating'}\n"
          f"  median {result['median_ms']:.0f} ms | p90 {result['p90_ms']:.0f} ms | "
          f"min {result['min_ms']:.0f} ms | max {result['max_ms']:.0f} ms\n"
          f"  config URL: {config_url}\n"
          f"  load average start {result['loadavg_start']}, end {result['loadavg_end']} "
          f"({os.cpu_count()} CPUs)")
    if parts:
        print("  breakdown, median ms: " + ", ".join(
            f"{k} {v:.0f}" for k, v in result["breakdown_median_ms"].items()))
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=15, help="measured keypresses (default 15)")
    p.add_argument("--warmup", type=int, default=2, help="unmeasured keypresses first")
    p.add_argument("--app", default="app.py", help="app path relative to the repo root")
    p.add_argument("--query", default="", help="query string for the start URL, e.g. depth=30")
    p.add_argument("--page", default="", help="page path, e.g. train (default: the Explorer)")
    p.add_argument("--first-key", default="ArrowRight", choices=("ArrowRight", "ArrowLeft"),
                   help="the first key pressed (then they alternate)")
    p.add_argument("--new-values", action="store_true",
                   help="press --first-key every time (each value new, so uncached) instead of "
                        "alternating between two values (cached after the first two)")
    p.add_argument("--slider", default="",
                   help="regex of the slider's label to press (default: the depth slider)")
    p.add_argument("--quiet-ms", type=int, default=300, help="chart quiet time that ends a sample")
    p.add_argument("--timeout-s", type=float, default=30.0, help="per-sample timeout")
    p.add_argument("--breakdown", action="store_true",
                   help="trace each sample: time to send, server, browser tail, page CPU")
    p.add_argument("--json", help="also write the result as JSON to this path")
    p.add_argument("--screenshot", action="store_true",
                   help="save artifacts/screenshots/bench_browser_latency.png at the end")
    args = p.parse_args(argv)
    if args.n < 1:
        p.error("-n must be >= 1")
    result = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
