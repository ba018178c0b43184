#!/usr/bin/env python
"""Cold cost of a Train page lesson: every set-up of the preset trained from nothing (what the
first student opening the link waits for; everyone after gets the cached runs).

Prints, over --repeats runs in this process (min / median / max), each set-up's time and the
whole preset's, the ratio of the whole to its cheapest set-up, and the load average.

Usage (from the repo root): python bench/train_cost.py [--preset init] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import train  # noqa: E402
from ui.frame.i18n import translate  # noqa: E402
from ui.train.logic import TRAIN_PRESETS, build_setups  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="init", choices=list(TRAIN_PRESETS))
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    preset = TRAIN_PRESETS[args.preset]
    setups = build_setups(preset.pair(), preset.setups, (), lambda k, **v: translate("en", k, **v))
    times: dict[str, list[float]] = {s.name: [] for s in setups}
    totals = []
    print(f"preset {args.preset}: {len(setups)} set-ups, "
          f"{setups[0].config.training.steps} steps each; load average before "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    for _ in range(args.repeats):
        start = time.perf_counter()
        for setup in setups:
            t0 = time.perf_counter()
            train(setup.config.network, setup.config.training)
            times[setup.name].append(time.perf_counter() - t0)
        totals.append(time.perf_counter() - start)
    for name, values in times.items():
        print(f"  {name:<60} min {min(values):6.2f} s  median {statistics.median(values):6.2f} s"
              f"  max {max(values):6.2f} s")
    cheapest = min(statistics.median(v) for v in times.values())
    print(f"whole preset (cold): min {min(totals):.2f} s  median {statistics.median(totals):.2f} s"
          f"  max {max(totals):.2f} s  = {statistics.median(totals) / cheapest:.1f}× its cheapest "
          f"set-up; load average after {os.getloadavg()[0]:.2f} (1 min), "
          f"{os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
