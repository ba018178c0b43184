"""Fit core/budget.py's COEFFICIENTS from runs timed on this machine.

    python bench/fit_budget.py [--count 260] [--repeats 3] [--seed 1] [--write]

1. Draw ``count`` random legal configs (bench/budget_configs.py) whose raw counts stay under a
   generous size bound (≈ 3× the served budget, so the fit sees the heavy corners).
2. Time ``simulate(config)`` (weights drawn inside, as the app does) in this process with
   NumPy's BLAS limited to one thread (threadpoolctl): the minimum of ``repeats`` runs of the
   process's CPU time (one core's work; on a shared machine far steadier than wall time, which
   is printed too).
3. Solve non-negative least squares on the relative error, Σ ((Σ_k c_k·f_k − t)/t)², for the
   coefficients c_k of core.budget.features (Lawson–Hanson, NumPy only; columns scaled to unit
   norm first). Non-negative, so every count adds time and the model stays monotonic.
4. Print the coefficients, measured/estimated (worst, median, best) on the fitted sample, and
   with ``--write`` put the coefficients into core/budget.py between its markers.

The sample and the fit are deterministic for a seed; the times are not (print the load).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from budget_configs import (ROOT, load, random_configs, time_run,  # noqa: E402
                            unbudgeted_config)

from core import budget, encode_query  # noqa: E402


def fit_bound(config) -> bool:
    """Raw size bound of the fitting sample (independent of the coefficients being fitted)."""
    f = budget.features(config)
    gemm = f["gemm_float32"] + 2.0 * f["gemm_float64"]
    elements = config.batch_size * sum(config.layer_widths[1:]) * (1 + f["warmup"] / max(
        1.0, config.batch_size * sum(config.layer_widths[1:])) / 3)
    weights = sum(f[f"weights_{name}"] for name in budget.INIT_FEATURES)
    return (gemm <= 6e10 and elements <= 4e7 and weights <= 1.5e8 and f["qr"] <= 3e10
            and budget.peak_bytes(config) <= 700 * 2**20)


def nnls(a: np.ndarray, b: np.ndarray, tolerance: float = 1e-12) -> np.ndarray:
    """min ‖a·x − b‖ subject to x ≥ 0 (Lawson & Hanson, 1974, ch. 23)."""
    rows, cols = a.shape
    x = np.zeros(cols)
    passive = np.zeros(cols, dtype=bool)
    w = a.T @ (b - a @ x)
    for _ in range(30 * cols):
        if passive.all() or w[~passive].max() <= tolerance:
            break
        candidates = np.where(~passive, w, -np.inf)
        passive[int(np.argmax(candidates))] = True
        while True:
            z = np.zeros(cols)
            z[passive] = np.linalg.lstsq(a[:, passive], b, rcond=None)[0]
            if (z[passive] > 0).all():
                x = z
                break
            blocking = passive & (z <= 0)
            alpha = np.min(x[blocking] / (x[blocking] - z[blocking]))
            x = x + alpha * (z - x)
            passive &= x > tolerance
            x[~passive] = 0.0
        w = a.T @ (b - a @ x)
    return x


def write_coefficients(coefficients: dict[str, float], note: str) -> None:
    path = ROOT / "core" / "budget.py"
    source = path.read_text(encoding="utf-8")
    lines = "".join(f"    {name!r}: {value:.4g},\n" for name, value in coefficients.items())
    block = (f"# BEGIN FITTED (bench/fit_budget.py: {note})\n"
             f"COEFFICIENTS: dict[str, float] = {{\n{lines}}}\n# END FITTED")
    pattern = re.compile(r"# BEGIN FITTED.*?# END FITTED", re.S)
    if not pattern.search(source):
        raise SystemExit("core/budget.py has no '# BEGIN FITTED … # END FITTED' block")
    path.write_text(pattern.sub(lambda _: block, source), encoding="utf-8")


def read_measurements(path: Path):
    """The configs and times of a --data file (configs rebuilt without the served budget)."""
    configs, times, walls = [], [], []
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            configs.append(unbudgeted_config(row["query"]))
            times.append(float(row["cpu_seconds"]))
            walls.append(float(row["wall_seconds"]))
    return configs, times, walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=260)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--write", action="store_true", help="update core/budget.py")
    parser.add_argument("--data", type=Path, default=None,
                        help="also write the measurements as CSV (query, CPU s, wall s)")
    parser.add_argument("--from-csv", type=Path, default=None,
                        help="refit from a --data file instead of timing again")
    args = parser.parse_args()
    if args.from_csv:
        configs, times, walls = read_measurements(args.from_csv)
        print(f"{len(configs)} measurements from {args.from_csv}")
    else:
        configs = random_configs(args.seed, args.count, fit_bound)
        print(f"{len(configs)} configs, repeats {args.repeats} (min), 1 BLAS thread; {load()}")
        times, walls = [], []
        started = time.perf_counter()
        with threadpool_limits(1):
            for index, config in enumerate(configs):
                measured = time_run(config, args.repeats)
                times.append(measured["cpu"])
                walls.append(measured["wall"])
                if index % 20 == 19:
                    print(f"  {index + 1} timed, {time.perf_counter() - started:.0f} s; "
                          f"{load()}", flush=True)
    t = np.array(times)
    x = np.array([[budget.features(c)[name] for name in budget.FEATURE_NAMES] for c in configs])
    weighted = x / t[:, None]
    scale = np.linalg.norm(weighted, axis=0)
    scale[scale == 0] = 1.0
    solution = nnls(weighted / scale, np.ones(len(t))) / scale
    coefficients = dict(zip(budget.FEATURE_NAMES, (float(v) for v in solution)))
    ratio = t / (x @ solution)
    wall_ratio = np.array(walls) / (x @ solution)
    print(f"measured CPU/estimated on the fitted sample: worst {ratio.max():.2f}, median "
          f"{np.median(ratio):.2f}, best {ratio.min():.2f}; wall/estimated: worst "
          f"{wall_ratio.max():.2f}, median {np.median(wall_ratio):.2f}; {load()}")
    for name, value in coefficients.items():
        unused = "" if x[:, budget.FEATURE_NAMES.index(name)].any() else "  (not in the sample)"
        print(f"  {name:>26} {value:.4g}{unused}")
    if args.data:
        with args.data.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["query", "cpu_seconds", "wall_seconds"])
            writer.writerows((encode_query(c), f"{s:.6f}", f"{w:.6f}")
                             for c, s, w in zip(configs, times, walls))
    if args.write:
        source = (f"refit from {args.from_csv.name}" if args.from_csv else
                  f"seed {args.seed}, min of {args.repeats}")
        write_coefficients(coefficients, f"{len(configs)} configs, {source}, "
                                         f"{time.strftime('%Y-%m-%d')}")
        print("core/budget.py updated")


if __name__ == "__main__":
    main()
