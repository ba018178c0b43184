"""Random legal configs of every priced computation and how one is timed, shared by
fit_budget.py and bench_budget.py.

- simulation: sizes drawn log-uniformly (depth 1–200, width 2–4096, batch 2–16384, one in four
  with uneven ``widths``), every other field uniformly over its choices or a plausible range
  (init_std from 1e-3 to 10, so vanishing and exploding nets are drawn too);
- training: a (NetworkConfig, TrainConfig) pair, sizes, points, steps, batch and record
  interval log-uniform over their whole ranges, optimizer, penalties and clipping drawn;
- jacobian: a simulation's config, ``jacobian_spectrum`` with its default samples and sketch.

A draw is kept when it is legal and its size stays under ``bound`` — the computation's own
budget by default — so the sample covers the legal space, heavy corners included.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import (ACTIVATION_NAMES, INIT_NAMES, ConfigError, NetworkConfig,  # noqa: E402
                  TrainConfig, check_budget, simulate, train)
from core.jacobian import jacobian_spectrum, spectrum_plan  # noqa: E402
from core.train_config import DATASET_NAMES, estimated_training_seconds  # noqa: E402


def _log_int(rng: np.random.Generator, low: int, high: int) -> int:
    return int(round(math.exp(rng.uniform(math.log(low), math.log(high)))))


def random_fields(rng: np.random.Generator) -> dict:
    depth = _log_int(rng, 1, 200)
    fields = dict(
        depth=depth, width=_log_int(rng, 2, 4096), batch_size=_log_int(rng, 2, 16384),
        seed=int(rng.integers(0, 2**32)),
        dtype="float64" if rng.random() < 0.25 else "float32",
        activation=str(rng.choice(ACTIVATION_NAMES)), init=str(rng.choice(INIT_NAMES)),
        leaky_slope=float(rng.uniform(0.0, 0.5)),
        init_std=float(10 ** rng.uniform(-3, 1)), init_bound=float(10 ** rng.uniform(-3, 1)),
        init_value=float(rng.uniform(-1, 1)), init_mode=str(rng.choice(["fan_in", "fan_out"])),
        init_gain=float(10 ** rng.uniform(-1, 0.7)),
        bias_init=str(rng.choice(["zeros", "constant", "normal"])),
        norm=str(rng.choice(["none", "none", "batchnorm", "layernorm"])),
        norm_position=str(rng.choice(["before", "after"])),
        bn_mode=str(rng.choice(["train", "eval"])), bn_passes=int(rng.integers(1, 51)),
        residual=bool(rng.random() < 0.3), residual_scale=float(rng.uniform(0.05, 1.5)),
        dropout=float(rng.uniform(0.05, 0.9)) if rng.random() < 0.3 else 0.0,
        input_dist=str(rng.choice(["normal", "uniform", "raw"])),
        input_preprocess=str(rng.choice(["none", "zscore", "minmax"])),
        loss=str(rng.choice(["random_projection", "mse", "cross_entropy"])),
        residual_form=str(rng.choice(["pre", "post"])),
    )
    if rng.random() < 0.25:
        fields["widths"] = tuple(_log_int(rng, 2, 4096) for _ in range(depth + 1))
    return fields


def random_configs(seed: int, count: int,
                   bound: Callable[[NetworkConfig], bool] | None = None) -> list[NetworkConfig]:
    """``count`` legal configs (``bound(config)`` true when given), deterministic for ``seed``."""
    rng = np.random.default_rng(seed)
    configs: list[NetworkConfig] = []
    while len(configs) < count:
        try:
            config = NetworkConfig(**random_fields(rng))
        except ConfigError:
            continue
        if bound is None or bound(config):
            configs.append(config)
    return configs


def time_run(config: NetworkConfig, repeats: int) -> dict[str, float]:
    """simulate(config), weights drawn inside as the app does, ``repeats`` times: the minimum
    and median of the process's CPU seconds ("cpu", "cpu_median") and of wall seconds ("wall",
    "wall_median").

    With BLAS limited to one thread, CPU time is one core's work, and on a shared machine it
    barely moves when other processes compete for the cores, whereas wall time grows with the
    load; the model is fitted to CPU time and the wall time is printed beside it.
    """
    cpu, wall = [], []
    for _ in range(repeats):
        start_cpu, start = time.process_time(), time.perf_counter()
        simulate(config)
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return {"cpu": min(cpu), "cpu_median": statistics.median(cpu), "wall": min(wall),
            "wall_median": statistics.median(wall)}


PEAK_SCRIPT = """
import sys, tracemalloc
sys.path.insert(0, {root!r})
from core import decode_query, simulate
config, problems = decode_query({query!r})
assert not problems, problems
simulate(config.replace(depth=1) if not config.widths else config)  # imports, BLAS buffers
tracemalloc.start()
simulate(config)
print(tracemalloc.get_traced_memory()[1])
"""


def measured_peak_bytes(config: NetworkConfig) -> int:
    """tracemalloc's peak during simulate(config), in a fresh process (NumPy's buffers are
    traced; the interpreter and imported modules are not counted)."""
    from core import encode_query
    script = PEAK_SCRIPT.format(root=str(ROOT), query=encode_query(config))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=600, env=env)
    return int(out.stdout.split()[-1])


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


def unbudgeted_config(query: str) -> NetworkConfig:
    """The config of a query, every value validated but the size not refused: for measuring
    configs past the served budget (the fitting sample, the issue's slow examples)."""
    from urllib.parse import parse_qsl

    from core.config import FIELD_SPECS
    from core.query import parse_value
    values = {key: parse_value(FIELD_SPECS[key], text) for key, text in parse_qsl(query)}
    config = object.__new__(NetworkConfig)
    for spec in FIELD_SPECS.values():
        object.__setattr__(config, spec.name, spec.check(values.get(spec.name, spec.default)))
    if config.widths:
        object.__setattr__(config, "depth", len(config.widths) - 1)
        object.__setattr__(config, "width", config.widths[1])
    return config


# Training ----------------------------------------------------------------------------------

def random_training_fields(rng: np.random.Generator) -> tuple[dict, dict]:
    """(NetworkConfig fields, TrainConfig fields) of one training draw."""
    network = random_fields(rng)
    depth = network["depth"]
    network["width"] = _log_int(rng, 1, 2048)
    network["batch_size"] = _log_int(rng, 2, 64)  # the simulation's; training has its own
    network.pop("widths", None)
    if rng.random() < 0.2:
        network["widths"] = (2,) + tuple(_log_int(rng, 1, 2048) for _ in range(depth - 1)) + (1,)
    n_points = _log_int(rng, 10, 50000)
    train_fraction = float(rng.uniform(0.1, 0.9))
    n_train = min(max(round(n_points * train_fraction), 1), n_points - 1)
    steps = _log_int(rng, 1, 100000)
    training = dict(
        dataset=str(rng.choice(DATASET_NAMES)), n_points=n_points,
        noise=float(rng.uniform(0.0, 0.5)), train_fraction=train_fraction,
        optimizer=str(rng.choice(["sgd", "momentum", "adam"])),
        # Small enough that most runs do not blow up: a run stopped by an overflow is shorter
        # than its estimate, which assumes every step.
        lr=float(10 ** rng.uniform(-5, -1.5)), momentum=float(rng.uniform(0.0, 0.99)),
        batch_size=_log_int(rng, 1, n_train), steps=steps,
        l1=float(10 ** rng.uniform(-6, -3)) if rng.random() < 0.25 else 0.0,
        l2=float(10 ** rng.uniform(-6, -2)) if rng.random() < 0.25 else 0.0,
        clip=str(rng.choice(["none", "norm", "value"])),
        clip_threshold=float(10 ** rng.uniform(-2, 2)),
        record_every=_log_int(rng, 1, max(steps, 1)), seed=int(rng.integers(0, 2**32)),
    )
    return network, training


def random_training_pairs(seed: int, count: int,
                          bound: Callable[[NetworkConfig, TrainConfig], bool] | None = None
                          ) -> list[tuple[NetworkConfig, TrainConfig]]:
    """``count`` pairs that pass ``check_budget`` (and ``bound`` when given)."""
    rng = np.random.default_rng(seed)
    pairs: list[tuple[NetworkConfig, TrainConfig]] = []
    while len(pairs) < count:
        network_fields, training_fields = random_training_fields(rng)
        try:
            network = NetworkConfig(**network_fields)
            training = TrainConfig(**training_fields)
            check_budget(network, training)
        except ConfigError:
            continue
        if bound is None or bound(network, training):
            pairs.append((network, training))
    return pairs


#: The issue's runs that the old multiply-add budget accepted and that took far longer, and
#: the shapes the budget must price: ``record_every=1``, many points, many small steps.
NAMED_TRAINING: dict[str, tuple[dict, dict]] = {
    "depth 200 × width 2, BatchNorm, batch 2, 4,999 steps":
        (dict(depth=200, width=2, norm="batchnorm", batch_size=2),
         dict(batch_size=2, steps=4999)),
    "depth 200 × width 1, 4,999 steps": (dict(depth=200, width=1), dict(steps=4999)),
    "dropout + residual + Adam + clipping": (
        dict(depth=20, width=64, dropout=0.3, residual=True),
        dict(optimizer="adam", lr=0.001, clip="norm", steps=3000, batch_size=32)),
    "record_every=1, 10,000 points": (dict(depth=6, width=32),
                                      dict(n_points=10000, record_every=1, steps=300)),
    "50,000 points, full batch": (dict(depth=4, width=32),
                                  dict(n_points=50000, batch_size=25000, steps=100)),
    "many small steps": (dict(depth=3, width=4), dict(steps=60000, batch_size=1,
                                                      record_every=1000)),
    "default network, default training": ({}, {}),
    "LayerNorm, pre form, GELU": (dict(depth=30, width=64, norm="layernorm", residual=True,
                                       activation="gelu"), dict(steps=800, batch_size=64)),
}


def designed_training() -> list[tuple[NetworkConfig, TrainConfig]]:
    """A small factorial design that separates the fixed costs random draws confound: depth
    (1–30) × width (1, 8, 64) × record interval (every step, or once) × norm (none, BatchNorm,
    LayerNorm), 300 steps of a batch of 8 on 40 points; then the same at 4,000 points."""
    pairs = []
    for depth in (1, 2, 4, 10, 30):
        for width in (1, 8, 64):
            for every in (1, 300):
                for norm in ("none", "batchnorm", "layernorm"):
                    if depth == 1 and norm != "none":
                        continue  # the head has no norm
                    network = NetworkConfig(depth=depth, width=width, norm=norm)
                    for points in (40, 4000):
                        if points == 4000 and (width == 1 or norm != "none"):
                            continue
                        pairs.append((network, TrainConfig(n_points=points, batch_size=8,
                                                           steps=300, record_every=every)))
    return pairs


def named_training(fraction: float = 1.0) -> dict[str, tuple[NetworkConfig, TrainConfig]]:
    """The named runs, their steps scaled by ``fraction`` (for fitting quickly)."""
    out = {}
    for name, (network, training) in NAMED_TRAINING.items():
        training = dict(training)
        training["steps"] = max(1, round(training.get("steps", 500) * fraction))
        out[name] = (NetworkConfig(**network), TrainConfig(**training))
    return out


def time_training(network: NetworkConfig, training: TrainConfig,
                  repeats: int) -> dict[str, float]:
    """``train(network, training)`` ``repeats`` times (data and weights made inside, as the
    app does): min and median CPU and wall seconds, and whether a run stopped early on a
    non-finite value (its time is then a part of what the estimate prices). A run over the
    budget (the issue's named runs) is measured too: the engine's check is lifted for it."""
    import importlib
    engine = importlib.import_module("core.train")  # the module (core.train is the function)
    try:
        check_budget(network, training)
        run = train
    except ConfigError as error:
        if error.code not in ("too_large", "too_much_memory"):
            raise
        run = _unbudgeted(engine)
    cpu, wall, stopped = [], [], False
    for _ in range(repeats):
        start_cpu, start = time.process_time(), time.perf_counter()
        result = run(network, training)
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
        stopped = result.first_nonfinite is not None
    return {"cpu": min(cpu), "cpu_median": statistics.median(cpu), "wall": min(wall),
            "wall_median": statistics.median(wall), "stopped": float(stopped)}


def _unbudgeted(engine):
    """``engine.train`` with its budget check lifted for the call (measuring only)."""
    def run(network: NetworkConfig, training: TrainConfig):
        checked = engine.check_budget
        engine.check_budget = lambda *args: None
        try:
            return engine.train(network, training)
        finally:
            engine.check_budget = checked
    return run


# The Jacobian spectrum -----------------------------------------------------------------------

def random_jacobian_configs(seed: int, count: int,
                            bound: Callable[[NetworkConfig], bool] | None = None
                            ) -> list[NetworkConfig]:
    """Simulation configs whose spectrum is accepted (``spectrum_plan``), ``bound`` true."""
    configs: list[NetworkConfig] = []
    rng_seed = seed
    while len(configs) < count:
        for config in random_configs(rng_seed, 4 * count):
            try:
                spectrum_plan(config)
            except ConfigError:
                continue
            if bound is None or bound(config):
                configs.append(config)
            if len(configs) == count:
                break
        rng_seed += 1000
    return configs


def time_jacobian(config: NetworkConfig, repeats: int) -> dict[str, float]:
    """``jacobian_spectrum(config)`` (network drawn inside, as the page does)."""
    cpu, wall = [], []
    for _ in range(repeats):
        start_cpu, start = time.process_time(), time.perf_counter()
        jacobian_spectrum(config)
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return {"cpu": min(cpu), "cpu_median": statistics.median(cpu), "wall": min(wall),
            "wall_median": statistics.median(wall)}
