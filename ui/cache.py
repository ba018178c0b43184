"""The core behind Streamlit's process-wide cache: 60 students on one link compute once.

Results (arrays and a small DataFrame), not figures, are cached: rebuilding a figure costs less
than unpickling a cached one.
"""

from __future__ import annotations

from typing import Callable

import streamlit as st

from core import (Dataset, NetworkConfig, SimulationResult, TrainConfig, TrainResult,
                  make_dataset, simulate, train)
from core.theory import Prediction, predict

#: ≈ 100–400 KB a result: a few tens of MB at most.
MAX_ENTRIES = 256


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def simulation(config: NetworkConfig) -> SimulationResult:
    return simulate(config)


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def prediction(config: NetworkConfig) -> Prediction:
    """The mean-field prediction for a config (or why there is none)."""
    return predict(config)


#: A training result holds ≈ 26 decision-function snapshots (40 × 40) and its records: ≈ 0.5 MB.
MAX_TRAINING_ENTRIES = 64


@st.cache_data(max_entries=MAX_TRAINING_ENTRIES, show_spinner=False)
def training(network: NetworkConfig, train_config: TrainConfig,
             _progress: Callable[[int, int], None] | None = None) -> TrainResult:
    """One set-up's run, computed once per (network, training) pair for every session.
    ``_progress(step, steps)`` is told each recorded step while it computes (not part of the
    cache key; never called on a hit)."""
    return train(network, train_config, progress=_progress)


@st.cache_data(max_entries=MAX_TRAINING_ENTRIES, show_spinner=False)
def dataset(train_config: TrainConfig) -> Dataset:
    return make_dataset(train_config)
