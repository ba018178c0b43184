"""Does the budget bound what a run really costs? Random legal configs, measured against
core/budget.py's estimates.

    python bench/bench_budget.py [--count 120] [--repeats 3] [--seed 2] [--memory 12]

Draws ``count`` random configs that pass NetworkConfig's validation (so within the served
budget; seed 2 by default, not the fitting seed 1), times ``simulate(config)`` with one BLAS
thread (min of ``repeats``, process CPU time — one core's work — and wall time beside it) and
prints measured / estimated seconds: worst, median and best ratio and the worst configs. The
goal is worst ≤ 2 (the budget really bounds a run) with a best ratio not far below 1 (the
estimate is not absurdly pessimistic). Then, for ``memory`` configs (the largest estimates
first, plus random ones), tracemalloc's peak in a fresh process against the estimated peak
(goal: ≤ 1, the estimate is an upper bound).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from budget_configs import load, measured_peak_bytes, random_configs, time_run  # noqa: E402

from core import MAX_MEMORY_BYTES, MAX_RUN_SECONDS, encode_query  # noqa: E402


def summary(name: str, ratios: np.ndarray) -> str:
    return (f"{name}: worst {ratios.max():.2f}, median {np.median(ratios):.2f}, "
            f"best {ratios.min():.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--memory", type=int, default=12)
    parser.add_argument("--worst", type=int, default=8)
    args = parser.parse_args()
    configs = random_configs(args.seed, args.count)
    print(f"budget {MAX_RUN_SECONDS} s of one core, {MAX_MEMORY_BYTES / 2**20:.0f} MiB; "
          f"{len(configs)} random legal configs (seed {args.seed}), min of {args.repeats}, "
          f"1 BLAS thread; {load()}")
    estimated = np.array([c.estimated_seconds() for c in configs])
    cpu, wall = [], []
    with threadpool_limits(1):
        for config in configs:
            measured = time_run(config, args.repeats)
            cpu.append(measured["cpu"])
            wall.append(measured["wall"])
    cpu_ratio, wall_ratio = np.array(cpu) / estimated, np.array(wall) / estimated
    print(f"after timing: {load()}")
    print(summary("CPU time / estimate", cpu_ratio))
    print(summary("wall time / estimate", wall_ratio))
    print(f"largest measured: CPU {max(cpu):.2f} s, wall {max(wall):.2f} s; largest estimate "
          f"{estimated.max():.2f} s")
    print(f"worst {args.worst} by CPU ratio (ratio, CPU s, wall s, estimate s, config):")
    for index in np.argsort(-cpu_ratio)[: args.worst]:
        print(f"  {cpu_ratio[index]:5.2f} {cpu[index]:7.3f} {wall[index]:7.3f} "
              f"{estimated[index]:7.3f}  {encode_query(configs[index])}")
    print("best 3 by CPU ratio:")
    for index in np.argsort(cpu_ratio)[:3]:
        print(f"  {cpu_ratio[index]:5.2f} {cpu[index]:7.3f} {wall[index]:7.3f} "
              f"{estimated[index]:7.3f}  {encode_query(configs[index])}")
    if args.memory:
        by_memory = sorted(configs, key=lambda c: -c.estimated_memory())
        chosen = by_memory[: args.memory // 2]
        chosen += [c for c in configs if c not in chosen][: args.memory - len(chosen)]
        ratios = []
        print("peak memory, tracemalloc in a fresh process (measured MiB, estimate MiB, ratio):")
        for config in chosen:
            measured, estimate = measured_peak_bytes(config), config.estimated_memory()
            ratios.append(measured / estimate)
            print(f"  {measured / 2**20:7.1f} {estimate / 2**20:7.1f} {ratios[-1]:5.2f}  "
                  f"{encode_query(config)[:100]}")
        print(summary("peak memory measured / estimate", np.array(ratios)))
    print(f"end: {load()}")


if __name__ == "__main__":
    main()
