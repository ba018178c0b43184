"""Does the budget bound what a request really costs? Random legal computations of every kind,
measured against core.budget's one model of seconds.

    python bench/bench_budget.py [--kinds simulation training jacobian] [--count 120]
                                 [--train-count 80] [--jacobian-count 40] [--repeats 3]
                                 [--seed 2] [--memory 12] [--named]

For each kind, random computations its budget accepts (seed 2 by default, not the fitting
seed 1): ``simulate(config)`` (NetworkConfig's validation: within MAX_RUN_SECONDS),
``train(network, training)`` (``check_budget``: within MAX_TRAIN_SECONDS; sizes, points, steps,
batch and record interval log-uniform over their ranges, so ``record_every=1``, 50,000 points
and many small steps are drawn) and ``jacobian_spectrum(config)`` (``spectrum_plan``); with
``--named`` also the issue's training runs (depth 200 × width 2 with BatchNorm at batch 2 for
4,999 steps, depth 200 × width 1 for 4,999 steps, dropout + residual + Adam + clipping,
``record_every=1``, 50,000 points, many small steps) at full size. Each is timed with one
BLAS thread (min of ``repeats``; process CPU time, one core's work, and wall time beside it)
and measured / estimated seconds printed for every sampled run, then per kind the worst,
median and best ratio. Goal: worst ≤ 2 (a request the budget accepts holds a core at most
twice its estimate) with a best not far below 1 (the estimate is not wildly pessimistic).
A training run that an overflow stopped early is printed but left out of the ratios: it
ran a part of the steps the estimate prices.

Then, for ``memory`` simulation configs (the largest estimates first, plus random ones),
tracemalloc's peak in a fresh process against the estimated peak (goal: ≤ 1, an upper bound).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from budget_configs import (load, measured_peak_bytes, named_training,  # noqa: E402
                            random_configs, random_jacobian_configs, random_training_pairs,
                            time_jacobian, time_run, time_training)

from core import MAX_MEMORY_BYTES, MAX_RUN_SECONDS, encode_query  # noqa: E402
from core.budget import MAX_TRAIN_SECONDS  # noqa: E402
from core.jacobian import spectrum_plan  # noqa: E402
from core.query import encode_train_query  # noqa: E402
from core.train_config import estimated_training_seconds  # noqa: E402


def summary(name: str, ratios: np.ndarray) -> str:
    return (f"{name}: worst {ratios.max():.2f}, median {np.median(ratios):.2f}, "
            f"best {ratios.min():.2f} ({len(ratios)} runs)")


def measure(kind: str, items: list, estimates: list[float], labels: list[str], repeats: int,
            worst: int, rows: list | None = None) -> np.ndarray:
    """Time every item, print each ratio, the kind's summary and its worst and best runs;
    return the CPU ratios of the runs that were not stopped early."""
    cpu, wall, stopped = [], [], []
    print(f"\n== {kind}: {len(items)} runs; {load()}", flush=True)
    print(f"  {'CPU/est':>7} {'wall/est':>8} {'CPU s':>8} {'est s':>8}  run")
    with threadpool_limits(1):
        for item, estimate, label in zip(items, estimates, labels):
            if kind == "simulation":
                measured = time_run(item, repeats)
            elif kind == "jacobian":
                measured = time_jacobian(item, repeats)
            else:
                measured = time_training(*item, repeats)
            cpu.append(measured["cpu"])
            wall.append(measured["wall"])
            stopped.append(bool(measured.get("stopped")))
            note = "  (stopped early: overflow)" if stopped[-1] else ""
            if rows is not None:
                rows.append((kind, label, f"{cpu[-1]:.6f}", f"{wall[-1]:.6f}",
                             f"{estimate:.6f}", int(stopped[-1])))
            print(f"  {cpu[-1] / estimate:7.2f} {wall[-1] / estimate:8.2f} {cpu[-1]:8.3f} "
                  f"{estimate:8.3f}  {label[:150]}{note}", flush=True)
    keep = ~np.array(stopped)
    estimated = np.array(estimates)
    cpu_ratio = np.array(cpu) / estimated
    wall_ratio = np.array(wall) / estimated
    print(f"after {kind}: {load()}")
    if keep.any():
        print(summary(f"{kind} CPU time / estimate", cpu_ratio[keep]))
        print(summary(f"{kind} wall time / estimate", wall_ratio[keep]))
        print(f"largest measured: CPU {max(cpu):.2f} s; largest estimate {estimated.max():.2f} s")
        order = np.argsort(-np.where(keep, cpu_ratio, -np.inf))
        print(f"worst {worst} by CPU ratio:")
        for index in order[:worst]:
            print(f"  {cpu_ratio[index]:5.2f} {cpu[index]:8.3f} {estimates[index]:8.3f}  "
                  f"{labels[index][:150]}")
        index = int(np.argmin(np.where(keep, cpu_ratio, np.inf)))
        print(f"best: {cpu_ratio[index]:.2f} {cpu[index]:.3f} {estimates[index]:.3f}  "
              f"{labels[index][:150]}")
    if (~keep).any():
        print(f"{int((~keep).sum())} stopped early, left out of the ratios")
    return cpu_ratio[keep]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kinds", nargs="+", default=["simulation", "training", "jacobian"],
                        choices=["simulation", "training", "jacobian"])
    parser.add_argument("--count", type=int, default=120, help="simulations")
    parser.add_argument("--train-count", type=int, default=80)
    parser.add_argument("--jacobian-count", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--memory", type=int, default=12)
    parser.add_argument("--named", action="store_true",
                        help="also the issue's named training runs at full size")
    parser.add_argument("--worst", type=int, default=5)
    parser.add_argument("--csv", type=Path, default=None,
                        help="also write every run (kind, run, CPU s, wall s, estimate s, stopped)")
    args = parser.parse_args()
    rows: list | None = [] if args.csv else None
    print(f"budget: {MAX_RUN_SECONDS} s of one core for a simulation or a Jacobian spectrum, "
          f"{MAX_TRAIN_SECONDS} s for a training run, {MAX_MEMORY_BYTES / 2**20:.0f} MiB; seed "
          f"{args.seed}, 1 BLAS thread; {load()}")
    results: dict[str, np.ndarray] = {}
    if "simulation" in args.kinds:
        configs = random_configs(args.seed, args.count)
        results["simulation"] = measure(
            "simulation", configs, [c.estimated_seconds() for c in configs],
            [encode_query(c) for c in configs], args.repeats, args.worst, rows)
    if "training" in args.kinds:
        pairs = random_training_pairs(args.seed, args.train_count)
        labels = [encode_train_query(*pair) for pair in pairs]
        if args.named:
            named = named_training()
            pairs = list(named.values()) + pairs
            labels = list(named) + labels
        results["training"] = measure(
            "training", pairs, [estimated_training_seconds(*pair) for pair in pairs], labels,
            args.train_repeats, args.worst, rows)
    if "jacobian" in args.kinds:
        configs = random_jacobian_configs(args.seed, args.jacobian_count)
        plans = [spectrum_plan(c) for c in configs]
        results["jacobian"] = measure(
            "jacobian", configs, [p.cost.seconds for p in plans],
            [f"{p.method} k={p.sketch} {encode_query(c)}" for c, p in zip(configs, plans)],
            args.repeats, args.worst, rows)
    if args.csv:
        import csv
        with args.csv.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["kind", "run", "cpu_seconds", "wall_seconds", "estimate_seconds",
                             "stopped"])
            writer.writerows(rows)
    print("\n== summary (CPU time / estimate)")
    for kind, ratios in results.items():
        if ratios.size:
            print("  " + summary(kind, ratios))
    if args.memory and "simulation" in args.kinds:
        configs = random_configs(args.seed, args.count)
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
