#!/usr/bin/env python
"""Why simulations run in worker processes: one simulation beside busy Python threads.

A Streamlit server runs every session's script in a thread of one process. A simulation makes
~30 NumPy calls per layer; between them it needs the GIL, and while other threads run Python
(pages being drawn) it waits up to the switch interval (5 ms) for it each time. This script
times one simulation (default: ReLU + He, depth 100, width 256, batch 512, one BLAS thread)

- alone in this process (the reference),
- in this process beside 1 and 2 threads spinning in pure Python (pages being drawn),
- in a ui.serving.workers process beside the same threads,

and prints min / median / max over --repeats runs, each as a ratio to the reference, with the
load average. Usage (from the repo root):

    python bench/gil_contention.py [--depth 100] [--repeats 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from threadpoolctl import threadpool_limits  # noqa: E402

from core import NetworkConfig, simulate  # noqa: E402
from ui.serving.workers import Pool  # noqa: E402


class Spinners:
    """``count`` threads running pure Python until stopped."""

    def __init__(self, count: int) -> None:
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.spin, daemon=True) for _ in range(count)]

    def spin(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1

    def __enter__(self) -> "Spinners":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


def timed(run, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--depth", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    threadpool_limits(1)
    config = NetworkConfig(activation="relu", init="kaiming_normal", depth=args.depth)
    pool = Pool(1)
    load_start = os.getloadavg()
    try:
        simulate(config)
        pool.run(simulate, config)  # start the worker, warm both
        rows = [("alone, in this process", 0, lambda: simulate(config))]
        for spinners in (1, 2):
            rows.append((f"in this process, {spinners} busy thread(s)", spinners,
                         lambda: simulate(config)))
            rows.append((f"in a worker process, {spinners} busy thread(s)", spinners,
                         lambda: pool.run(simulate, config)))
        reference = None
        print(f"simulate(ReLU + He, depth {args.depth}, width 256, batch 512), one BLAS thread, "
              f"{args.repeats} runs each; switch interval {sys.getswitchinterval() * 1e3:g} ms")
        for label, spinners, run in rows:
            with Spinners(spinners):
                times = timed(run, args.repeats)
            median = statistics.median(times)
            reference = reference or median
            print(f"  {label:<38} min {min(times):6.3f} s | median {median:6.3f} s | "
                  f"max {max(times):6.3f} s | median / alone {median / reference:5.1f}")
    finally:
        pool.shutdown()
    print(f"load average start {[round(x, 2) for x in load_start]}, "
          f"end {[round(x, 2) for x in os.getloadavg()]} ({os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
