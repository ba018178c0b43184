"""Fit core/budget.py's COEFFICIENTS from runs timed on this machine.

    python bench/fit_budget.py [--kind simulation] [--count 260] [--repeats 3] [--seed 1] [--write]
    python bench/fit_budget.py --kind training --count 200 --data bench/budget_fit_training.csv
    python bench/fit_budget.py --kind jacobian --count 80 --data bench/budget_fit_jacobian.csv

One table of coefficients prices every computation (seconds of one core). ``--kind
simulation`` fits the simulation's features (below). ``--kind training`` and ``--kind
jacobian`` time ``train`` and ``jacobian_spectrum`` runs and fit only that computation's own
features (``budget.TRAIN_FEATURES``, ``budget.JACOBIAN_FEATURES``), the shared ones (matrix
products, activations, weight drawing, a whole simulation inside a spectrum) held at their
fitted values: the same NumPy calls cost the same whichever computation makes them.

1. Draw ``count`` random legal configs (bench/budget_configs.py) whose raw counts stay under a
   generous size bound (≈ 3× the served budget, so the fit sees the heavy corners).
2. Time ``simulate(config)`` (weights drawn inside, as the app does) in this process with
   NumPy's BLAS limited to one thread (threadpoolctl): the minimum of ``repeats`` runs of the
   process's CPU time (one core's work; on a shared machine far steadier than wall time, which
   is printed too).
3. Solve non-negative least squares on the relative error, Σ w·((Σ_k c_k·f_k − t)/t)², for the
   coefficients c_k of core.budget.features (Lawson–Hanson, NumPy only; columns scaled to unit
   norm first). Non-negative, so every count adds time and the model stays monotonic. The
   weight w is ``--expectile`` τ (0.8) where a run is underestimated, 1 − τ where it is
   overestimated (expectile regression): the estimate leans towards a bound.
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

from budget_configs import (ROOT, designed_training, load, named_training,  # noqa: E402
                            random_configs,
                            random_jacobian_configs, random_training_pairs, time_jacobian,
                            time_run, time_training, unbudgeted_config)

from core import budget, encode_query  # noqa: E402
from core.jacobian import spectrum_plan  # noqa: E402
from core.query import decode_query, decode_train_query, encode_train_query  # noqa: E402
from core.train_config import (MAX_SNAPSHOTS, SNAPSHOT_GRID, estimated_training_seconds,  # noqa: E402
                               training_network_config)


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


def write_coefficients(coefficients: dict[str, float], kind: str, note: str) -> None:
    """Put ``coefficients`` (some of the table) into core/budget.py's fitted block, the others
    kept, with a note of where this kind's came from."""
    path = ROOT / "core" / "budget.py"
    source = path.read_text(encoding="utf-8")
    pattern = re.compile(r"# BEGIN FITTED.*?# END FITTED", re.S)
    match = pattern.search(source)
    if not match:
        raise SystemExit("core/budget.py has no '# BEGIN FITTED … # END FITTED' block")
    notes = dict(re.findall(r"^# FIT (\w+): (.*)$", match.group(0), re.M))
    notes[kind] = note
    table = {**budget.COEFFICIENTS, **coefficients}
    lines = "".join(f"    {name!r}: {value:.4g},\n" for name, value in table.items())
    header = "".join(f"# FIT {name}: {text}\n" for name, text in sorted(notes.items()))
    block = (f"# BEGIN FITTED (bench/fit_budget.py)\n{header}"
             f"COEFFICIENTS: dict[str, float] = {{\n{lines}}}\n# END FITTED")
    path.write_text(pattern.sub(lambda _: block, source), encoding="utf-8")


SIMULATION_FEATURES = tuple(name for name in budget.FEATURE_NAMES
                            if name not in budget.TRAIN_FEATURES + budget.JACOBIAN_FEATURES)
FITTED = {"simulation": SIMULATION_FEATURES, "training": budget.TRAIN_FEATURES,
          "jacobian": budget.JACOBIAN_FEATURES}


def features_of(kind: str, item) -> dict[str, float]:
    """The model's counts of one sampled computation."""
    if kind == "simulation":
        return budget.features(item)
    if kind == "training":
        network, training = item
        return budget.training_features(training_network_config(network, training), training,
                                         snapshots=MAX_SNAPSHOTS,
                                         snapshot_points=SNAPSHOT_GRID ** 2)
    plan = spectrum_plan(item)
    return budget.jacobian_features(item, plan.samples, plan.method, plan.sketch)


def encode(kind: str, item) -> str:
    return encode_train_query(*item) if kind == "training" else encode_query(item)


def decode(kind: str, query: str):
    if kind == "simulation":
        return unbudgeted_config(query)
    if kind == "training":
        network, training, problems = decode_train_query(query)
        assert not problems, problems
        return network, training
    config, problems = decode_query(query)
    assert not problems, problems
    return config


def sample(kind: str, seed: int, count: int, max_seconds: float) -> list:
    """The fitting sample of a kind (the training sample adds the named runs, steps ÷ 5)."""
    if kind == "simulation":
        return random_configs(seed, count, fit_bound)
    if kind == "training":
        named = [pair for pair in named_training(0.2).values()
                 if estimated_training_seconds(*pair) <= max_seconds] + designed_training()
        return named + random_training_pairs(
            seed, count - len(named),
            lambda network, training: estimated_training_seconds(network, training)
            <= max_seconds)
    return random_jacobian_configs(seed, count)


def time_item(kind: str, item, repeats: int) -> dict[str, float]:
    if kind == "simulation":
        return time_run(item, repeats)
    if kind == "training":
        return time_training(*item, repeats)
    return time_jacobian(item, repeats)


def fit(kind: str, x: np.ndarray, t: np.ndarray,
        expectile: float = 0.5) -> tuple[dict[str, float], np.ndarray]:
    """Non-negative least squares on the relative error of the kind's own coefficients, the
    others held: min Σ w_i·((shared_i + Σ_k c_k·x_ik − t_i)/t_i)², c ≥ 0, with w_i = τ where
    the run is underestimated and 1 − τ where it is overestimated (``expectile`` τ; 0.5 is
    plain least squares, larger leans the estimate towards a bound, as a budget wants: an
    underestimate lets a run hold a core longer than its limit, an overestimate only refuses
    a little early). Iterated until the signs settle. Returns the fitted coefficients and
    every sample's estimate."""
    names = budget.FEATURE_NAMES
    own = [names.index(name) for name in FITTED[kind]]
    others = [i for i in range(len(names)) if i not in own]
    held = np.array([budget.COEFFICIENTS[names[i]] for i in others])
    shared = x[:, others] @ held if kind != "simulation" else np.zeros(len(t))
    weights = np.ones(len(t))
    for _ in range(10):
        root = np.sqrt(weights)
        weighted = x[:, own] / t[:, None] * root[:, None]
        scale = np.linalg.norm(weighted, axis=0)
        scale[scale == 0] = 1.0
        solution = nnls(weighted / scale, (t - shared) / t * root) / scale
        estimate = shared + x[:, own] @ solution
        updated = np.where(t > estimate, expectile, 1.0 - expectile)
        if expectile == 0.5 or np.array_equal(updated, weights):
            break
        weights = updated
    coefficients = {names[i]: float(v) for i, v in zip(own, solution)}
    return coefficients, estimate


def read_measurements(kind: str, path: Path):
    """The items and times of a --data file (simulation configs rebuilt without the served
    budget)."""
    items, times, walls = [], [], []
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            items.append(decode(kind, row["query"]))
            times.append(float(row["cpu_seconds"]))
            walls.append(float(row["wall_seconds"]))
    return items, times, walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=tuple(FITTED), default="simulation")
    parser.add_argument("--count", type=int, default=260)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--expectile", type=float, default=0.8,
                        help="weight of an underestimated run (1 − it: an overestimated one)")
    parser.add_argument("--max-seconds", type=float, default=2.0,
                        help="training sample: estimated seconds at most (the old table's)")
    parser.add_argument("--write", action="store_true", help="update core/budget.py")
    parser.add_argument("--data", type=Path, default=None,
                        help="also write the measurements as CSV (query, CPU s, wall s)")
    parser.add_argument("--from-csv", type=Path, default=None,
                        help="refit from a --data file instead of timing again")
    parser.add_argument("--extend", action="store_true",
                        help="with --data: keep the file's measurements, time only the sample's "
                             "runs it does not hold, fit on all")
    args = parser.parse_args()
    kind = args.kind
    if args.extend and args.data and args.data.exists():
        known, known_times, known_walls = read_measurements(kind, args.data)
        held = {encode(kind, item) for item in known}
        items = [item for item in sample(kind, args.seed, args.count, args.max_seconds)
                 if encode(kind, item) not in held]
        print(f"{len(known)} {kind} measurements kept from {args.data}, {len(items)} to time; "
              f"{load()}", flush=True)
        times, walls, kept = [], [], []
        with threadpool_limits(1):
            for item in items:
                measured = time_item(kind, item, args.repeats)
                if not measured.get("stopped"):
                    kept.append(item)
                    times.append(measured["cpu"])
                    walls.append(measured["wall"])
        items, times, walls = known + kept, known_times + times, known_walls + walls
        print(f"timed; {load()}")
    elif args.from_csv:
        items, times, walls = read_measurements(kind, args.from_csv)
        print(f"{len(items)} {kind} measurements from {args.from_csv}")
    else:
        items = sample(kind, args.seed, args.count, args.max_seconds)
        print(f"{len(items)} {kind} runs, repeats {args.repeats} (min), 1 BLAS thread; {load()}",
              flush=True)
        times, walls, kept = [], [], []
        started = time.perf_counter()
        with threadpool_limits(1):
            for index, item in enumerate(items):
                measured = time_item(kind, item, args.repeats)
                if measured.get("stopped"):
                    continue  # an overflow ended it early: not the run the estimate prices
                kept.append(item)
                times.append(measured["cpu"])
                walls.append(measured["wall"])
                if index % 20 == 19:
                    print(f"  {index + 1} timed, {time.perf_counter() - started:.0f} s; "
                          f"{load()}", flush=True)
        if len(kept) < len(items):
            print(f"{len(items) - len(kept)} runs stopped on an overflow, left out")
        items = kept
    t = np.array(times)
    x = np.array([[features_of(kind, item)[name] for name in budget.FEATURE_NAMES]
                  for item in items])
    coefficients, estimate = fit(kind, x, t, args.expectile)
    ratio = t / estimate
    wall_ratio = np.array(walls) / estimate
    print(f"measured CPU/estimated on the fitted sample: worst {ratio.max():.2f}, median "
          f"{np.median(ratio):.2f}, best {ratio.min():.2f}; wall/estimated: worst "
          f"{wall_ratio.max():.2f}, median {np.median(wall_ratio):.2f}; {load()}")
    for name, value in coefficients.items():
        unused = "" if x[:, budget.FEATURE_NAMES.index(name)].any() else "  (not in the sample)"
        print(f"  {name:>30} {value:.4g}{unused}")
    for index in np.argsort(-ratio)[:5]:
        print(f"  worst {ratio[index]:5.2f} {t[index]:7.3f} s  {encode(kind, items[index])[:150]}")
    if args.data:
        with args.data.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["query", "cpu_seconds", "wall_seconds"])
            writer.writerows((encode(kind, item), f"{s:.6f}", f"{w:.6f}")
                             for item, s, w in zip(items, times, walls))
    if args.write:
        source = (f"refit from {args.from_csv.name}" if args.from_csv else
                  f"seed {args.seed}, min of {args.repeats}")
        source += f", expectile {args.expectile:g}"
        write_coefficients(coefficients, kind, f"{len(items)} runs, {source}, "
                                               f"{time.strftime('%Y-%m-%d')}")
        print("core/budget.py updated")


if __name__ == "__main__":
    main()
