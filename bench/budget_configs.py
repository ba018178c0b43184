"""Random legal configs and how one is timed, shared by fit_budget.py and bench_budget.py.

Sizes are drawn log-uniformly (depth 1–200, width 2–4096, batch 2–16384, one in four with
uneven ``widths``), every other field uniformly over its choices or a plausible range (init_std
from 1e-3 to 10, so vanishing and exploding nets are drawn too). A draw is kept when its
size stays under ``bound`` — the config's own budget by default — so the sample covers the
legal space, heavy corners included.
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

from core import ACTIVATION_NAMES, INIT_NAMES, ConfigError, NetworkConfig, simulate  # noqa: E402


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
