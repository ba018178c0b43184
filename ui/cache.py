"""The core behind Streamlit's process-wide cache: 60 students on one link compute once.

Results (arrays and a small DataFrame), not figures, are cached: rebuilding a figure costs less
than unpickling a cached one. ``simulation`` goes through ui.serving: at most K simulations run
at once, each with one BLAS thread, and a user whose run waits for a free worker is told so.
"""

from __future__ import annotations

from typing import Callable, Iterator

import streamlit as st

from core import NetworkConfig, SimulationResult, simulate
from core.theory import Prediction, predict
from ui import serving
from ui.presets import PRESETS, preset_config

#: ≈ 100–400 KB a result: a few tens of MB at most.
MAX_ENTRIES = 256


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def _simulation(config: NetworkConfig) -> SimulationResult:
    with serving.computing():
        return simulate(config)


simulation = serving.Served(_simulation)


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def prediction(config: NetworkConfig) -> Prediction:
    """The mean-field prediction for a config (or why there is none): quadrature over at most
    200 layers, milliseconds, so it takes no worker slot."""
    return predict(config)


def preset_jobs() -> Iterator[Callable[[], object]]:
    """The warm-up: every lesson preset's simulation and prediction at its default seed, the
    exact configs a preset link opens."""
    for preset_id in PRESETS:
        config = preset_config(preset_id)
        yield lambda config=config: simulation.warm(config)
        yield lambda config=config: prediction(config)


def start_warmup() -> None:
    """Once per process, under ``streamlit run`` (see ui.serving.warmup_wanted)."""
    if serving.warmup_wanted():
        serving.start_warmup(preset_jobs)
