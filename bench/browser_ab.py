#!/usr/bin/env python
"""Two versions of the app, one browser, the depth slider pressed on each in turn.

This shared machine's speed drifts by ±15 % within an hour, more than most changes to a page
are worth, so two runs of bench/browser_latency.py minutes apart cannot tell a 25 ms gain from
the drift. Here each version runs its own server (``streamlit run app.py`` in its own
directory, so each computes its own results) and has its own page in one Chromium; the presses
alternate A, B, A, B, …, so both see the same conditions. Every press is ArrowRight on the
depth slider (a depth nothing has computed, as ``browser_latency.py --new-values``), and a
sample is browser_latency.py's: keydown → the last mutation of any Plotly chart, once the app
is idle and no chart has changed for --quiet-ms.

Printed: per version, median / p90 / min / max over the presses, the difference of the medians
and the median of the paired differences (each A press minus the B press right after it), with
the load average at the start and the end.

Usage (from the repo root):
    python bench/browser_ab.py --rev 569a49e        # this tree against a commit (a worktree)
    python bench/browser_ab.py --other /path/to/other/checkout -n 25 --query "depth=20"
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.browser_latency import (DONE_JS, INSTALL_OBSERVER_JS, RESULT_JS,  # noqa: E402
                                   find_depth_slider, percentile)
from tests.browser import harness  # noqa: E402


@contextlib.contextmanager
def checkout(rev: str):
    """A temporary worktree of this repository at ``rev`` (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="variance-lab-ab-") as parent:
        path = Path(parent) / "tree"
        subprocess.run(["git", "-C", str(REPO_ROOT), "worktree", "add", "--detach", "-f",
                        str(path), rev], check=True, capture_output=True)
        try:
            yield path
        finally:
            subprocess.run(["git", "-C", str(REPO_ROOT), "worktree", "remove", "--force",
                            str(path)], capture_output=True)


def press(page, handle, quiet_ms: int, timeout_ms: float) -> float:
    """One ArrowRight on ``handle``: keydown → last chart mutation, in ms."""
    handle.focus()
    page.evaluate(INSTALL_OBSERVER_JS)
    page.keyboard.press("ArrowRight")
    page.wait_for_function(DONE_JS, arg=[quiet_ms, harness.APP_CONNECTED,
                                         harness.APP_NOT_RUNNING, harness.SKELETON],
                           timeout=timeout_ms, polling=25)
    result = page.evaluate(RESULT_JS)
    return result["lastMut"] - result["keyT"]


def summary(values: list[float]) -> str:
    return (f"median {statistics.median(values):.0f} ms | p90 {percentile(values, 90):.0f} | "
            f"min {min(values):.0f} | max {max(values):.0f}")


def run(trees: dict[str, Path], n: int, warmup: int, query: str, quiet_ms: int,
        timeout_s: float) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    samples: dict[str, list[float]] = {name: [] for name in trees}
    with contextlib.ExitStack() as stack:
        urls = {name: stack.enter_context(harness.start_app("app.py", cwd=tree))
                for name, tree in trees.items()}
        playwright = stack.enter_context(sync_playwright())
        browser = harness.launch_browser(playwright)
        stack.callback(browser.close)
        pages = {}
        for name, url in urls.items():
            page = harness.new_page(browser, timeout_ms=timeout_s * 1000)
            page.goto(url + (f"?{query.lstrip('?')}" if query else ""))
            harness.wait_for_plotly(page, min_count=1)
            harness.wait_for_app_idle(page)
            page.wait_for_timeout(quiet_ms)
            pages[name] = (page, find_depth_slider(page)[0])
        for i in range(warmup + n):
            for name, (page, handle) in pages.items():
                # Each page has a context of its own, and Playwright keeps every page visible
                # and focused: no bring_to_front (it would repaint the page before the press).
                ms = press(page, handle, quiet_ms, timeout_s * 1000)
                if i >= warmup:
                    samples[name].append(ms)
    return samples


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    other = p.add_mutually_exclusive_group(required=True)
    other.add_argument("--rev", help="compare with this commit (checked out in a worktree)")
    other.add_argument("--other", type=Path, help="compare with the app in this directory")
    p.add_argument("-n", type=int, default=20, help="measured presses per version")
    p.add_argument("--warmup", type=int, default=2, help="unmeasured presses first")
    p.add_argument("--query", default="", help="query string of the start URL, e.g. depth=20")
    p.add_argument("--quiet-ms", type=int, default=300)
    p.add_argument("--timeout-s", type=float, default=60.0)
    args = p.parse_args(argv)
    if not 1 <= args.n <= 500:
        p.error("-n must be within 1–500")
    reason = harness.browser_unavailable_reason()
    if reason:
        raise SystemExit(f"error: {reason}")
    load_start = os.getloadavg()
    with contextlib.ExitStack() as stack:
        if args.rev:
            other_tree, other_name = stack.enter_context(checkout(args.rev)), args.rev
        else:
            other_tree, other_name = args.other.resolve(), str(args.other)
        trees = {"this tree": REPO_ROOT, other_name: other_tree}
        samples = run(trees, args.n, args.warmup, args.query, args.quiet_ms, args.timeout_s)
    this, that = samples.values()
    paired = [a - b for a, b in zip(this, that)]
    for name, values in samples.items():
        print(f"{name:>12}: {summary(values)} (n={len(values)})")
    print(f"this tree − {other_name}: medians {statistics.median(this) - statistics.median(that):+.0f} ms, "
          f"median of paired differences {statistics.median(paired):+.0f} ms")
    print(f"load average start {[round(x, 2) for x in load_start]}, "
          f"end {[round(x, 2) for x in os.getloadavg()]} ({os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
