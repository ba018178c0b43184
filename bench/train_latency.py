#!/usr/bin/env python
"""The Train page in a real browser: a training control changed → a cold run's first progress
drawn, and → the page complete.

Starts the app (``streamlit run app.py`` on 127.0.0.1, Debian Chromium through Playwright, as
bench/browser_latency.py does), opens a Train lesson link (default ``trn_preset=init``: four
set-ups), opens the training settings and presses ArrowLeft on the learning-rate slider N times
(default 12): every press is a learning rate no run has used, so every press trains the
lesson's set-ups afresh. Per press, in page time (performance.now()):

    first progress = the first mutation inside the page's first two Plotly charts (the
                     decision maps and the loss chart) after the keydown: the first picture
                     of the new run, drawn while it trains (or the finished charts);
    complete       = the last chart mutation, once the app is idle and no chart has changed
                     for --quiet-ms (default 300 ms);
    server         = the server's first websocket frame after the press to its last (CDP
                     network stamps): the rerun on the server, apart from the browser's work.

With ``--other DIR`` (a checkout of another version, e.g. ``git archive 911eb04 | tar -x -C
/tmp/prev``) it starts a second server from DIR and alternates the presses between the two
pages, A, B, A, B, …, so that both see the same machine; it prints the paired differences.
The first load of the lesson link (a cold server: the link's runs may still be in the
warm-up's queue) is printed too, with the load average at the start and the end.

Usage (from the repo root):
    python bench/train_latency.py [-n 12] [--query "trn_preset=init&lr=10"] [--other DIR]
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

from bench.browser_latency import percentile  # noqa: E402
from tests.browser import harness  # noqa: E402

SETTINGS = re.compile(r"Training settings|训练设置")
LEARNING_RATE = re.compile(r"Learning rate|学习率")

OBSERVE_JS = """
() => {
    if (window.__trainObserver) window.__trainObserver.disconnect();
    window.__keyT = null; window.__firstMut = null; window.__lastMut = null;
    if (!window.__trainKeyListener) {
        window.__trainKeyListener = (e) => {
            if (e.key.startsWith('Arrow') && window.__keyT === null)
                window.__keyT = performance.now();
        };
        window.addEventListener('keydown', window.__trainKeyListener, {capture: true});
    }
    const sel = "[data-testid='stPlotlyChart']";
    const obs = new MutationObserver((records) => {
        const now = performance.now();
        if (window.__keyT === null) return;
        const main = [...document.querySelectorAll(sel)].slice(0, 2);
        for (const r of records) {
            const node = r.target.nodeType === 1 ? r.target : r.target.parentElement;
            const chart = node && node.closest(sel);
            if (!chart) continue;
            window.__lastMut = now;
            if (window.__firstMut === null && main.includes(chart)) window.__firstMut = now;
        }
    });
    obs.observe(document.body, {subtree: true, childList: true, attributes: true,
                                characterData: true});
    window.__trainObserver = obs;
}
"""

DONE_JS = """
([quietMs, connected, idle, skeleton]) => {
    const k = window.__keyT, m = window.__lastMut;
    if (k === null || m === null || window.__firstMut === null) return false;
    if (!document.querySelector(connected) || !document.querySelector(idle)) return false;
    if (document.querySelector(skeleton)) return false;
    return performance.now() - m >= quietMs;
}
"""

RESULT_JS = "() => ({key: window.__keyT, first: window.__firstMut, last: window.__lastMut})"


class Side:
    """One version: its server's URL, its page, the learning-rate slider."""

    def __init__(self, name: str, browser, url: str, timeout_s: float) -> None:
        self.name, self.url = name, url
        self.page = harness.new_page(browser, timeout_ms=timeout_s * 1000, width=1440,
                                     height=900)
        self.first: list[float] = []
        self.complete: list[float] = []
        self.server: list[float] = []
        self.handle = None
        # The websocket's frames (CDP): the last one of a press is the server's end of it.
        self.frames: list[float] = []
        cdp = self.page.context.new_cdp_session(self.page)
        cdp.on("Network.webSocketFrameReceived", lambda e: self.frames.append(e["timestamp"]))
        cdp.send("Network.enable")
        self.cdp = cdp

    def open(self) -> float:
        started = time.perf_counter()
        self.page.goto(self.url)
        harness.wait_for_plotly(self.page, min_count=4)
        harness.wait_for_app_idle(self.page)
        seconds = time.perf_counter() - started
        self.page.get_by_text(SETTINGS).first.click()  # open the folded training settings
        slider = self.page.get_by_test_id("stSlider").filter(has_text=LEARNING_RATE).first
        slider.wait_for()
        self.handle = slider.get_by_role("slider")
        return seconds

    def press(self, key: str, quiet_ms: int, timeout_s: float) -> tuple[float, float, float]:
        """(first progress, complete, the server's last frame), ms after the keydown."""
        self.handle.focus()
        self.page.evaluate(OBSERVE_JS)
        self.frames.clear()
        self.page.keyboard.press(key)
        self.page.wait_for_function(DONE_JS, arg=[quiet_ms, harness.APP_CONNECTED,
                                                  harness.APP_NOT_RUNNING, harness.SKELETON],
                                    timeout=timeout_s * 1000, polling=25)
        r = self.page.evaluate(RESULT_JS)
        # The server's part: its first frame after the press (the rerun began) to its last
        # (the script finished), stamped by the network stack, not delayed by a busy page.
        span = 1000 * (max(self.frames) - min(self.frames)) if self.frames else float("nan")
        return r["first"] - r["key"], r["last"] - r["key"], span


def summary(values: list[float]) -> dict:
    return {"median_ms": round(statistics.median(values)), "p90_ms": round(percentile(values, 90)),
            "min_ms": round(min(values)), "max_ms": round(max(values)), "n": len(values)}


def run(args: argparse.Namespace) -> dict:
    from contextlib import ExitStack

    from playwright.sync_api import sync_playwright

    load_start = os.getloadavg()
    result: dict = {"query": args.query, "loadavg_start": [round(x, 2) for x in load_start]}
    with ExitStack() as stack:
        roots = [("this", REPO_ROOT)] + ([("other", Path(args.other))] if args.other else [])
        urls = [(name, stack.enter_context(harness.start_app("app.py", cwd=root)))
                for name, root in roots]
        pw = stack.enter_context(sync_playwright())
        browser = harness.launch_browser(pw)
        stack.callback(browser.close)
        sides = [Side(name, browser, f"{url.rstrip('/')}/{args.page}?{args.query}",
                      args.timeout_s) for name, url in urls]
        for side in sides:
            seconds = side.open()
            result[f"{side.name}_first_load_s"] = round(seconds, 2)
            print(f"{side.name}: first load of {side.url} {seconds:.2f} s "
                  f"(load {os.getloadavg()[0]:.2f})", flush=True)
        for index in range(args.warmup + args.n):
            for side in sides:
                first, complete, server = side.press(args.key, args.quiet_ms, args.timeout_s)
                tag = "warmup" if index < args.warmup else f"{index - args.warmup + 1}/{args.n}"
                print(f"  [{tag}] {side.name}: first progress {first:7.0f} ms, complete "
                      f"{complete:7.0f} ms, server {server:7.0f} ms  "
                      f"(lr {side.handle.get_attribute('aria-valuetext')}, "
                      f"load {os.getloadavg()[0]:.2f})", flush=True)
                if index >= args.warmup:
                    side.first.append(first)
                    side.complete.append(complete)
                    side.server.append(server)
        for side in sides:
            result[side.name] = {"first_progress": summary(side.first),
                                 "complete": summary(side.complete),
                                 "server": summary(side.server),
                                 "first_progress_ms": [round(v) for v in side.first],
                                 "complete_ms": [round(v) for v in side.complete]}
        if len(sides) == 2:
            a, b = sides
            result["paired_median_difference_ms"] = {
                part: round(statistics.median(x - y for x, y in zip(getattr(a, part),
                                                                     getattr(b, part))))
                for part in ("first", "complete")}
    result["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print(f"\n{args.n} presses of {args.key} on the learning rate, {args.page}?{args.query}")
    for name in ("this", "other"):
        if name in result:
            first, complete = result[name]["first_progress"], result[name]["complete"]
            print(f"  {name}: first progress median {first['median_ms']} ms (p90 "
                  f"{first['p90_ms']}, {first['min_ms']}–{first['max_ms']}); complete median "
                  f"{complete['median_ms']} ms (p90 {complete['p90_ms']}, "
                  f"{complete['min_ms']}–{complete['max_ms']}); the server's part median "
                  f"{result[name]['server']['median_ms']} ms")
    if "paired_median_difference_ms" in result:
        print(f"  paired differences this − other, median: "
              f"{result['paired_median_difference_ms']}")
    print(f"  load average start {result['loadavg_start']}, end {result['loadavg_end']} "
          f"({os.cpu_count()} CPUs)")
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=12, help="measured presses a version (default 12)")
    p.add_argument("--warmup", type=int, default=1, help="unmeasured presses first")
    p.add_argument("--page", default="train")
    p.add_argument("--query", default="trn_preset=init&lr=10&lang=en",
                   help="the link (default: the init lesson at lr 10, so that ArrowLeft has "
                        "18 new values)")
    p.add_argument("--key", default="ArrowLeft", choices=("ArrowLeft", "ArrowRight"))
    p.add_argument("--other", help="a checkout of another version to compare, side by side")
    p.add_argument("--quiet-ms", type=int, default=300)
    p.add_argument("--timeout-s", type=float, default=240.0)
    p.add_argument("--json", help="also write the figures here")
    args = p.parse_args(argv)
    reason = harness.browser_unavailable_reason()
    if reason:
        raise SystemExit(f"error: {reason}")
    result = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
