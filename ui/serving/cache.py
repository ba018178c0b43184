"""The core behind Streamlit's process-wide cache: 60 students on one link compute once.

Results (arrays and a small DataFrame), not figures, are cached: rebuilding a figure costs less
than unpickling a cached one. ``simulation`` goes through ui.serving.limiter: at most K
simulations run at once, each in a worker process (ui.serving.workers) with one BLAS thread,
and a user whose run waits for a free worker is told so. Training runs go to the same workers,
their progress polled. With Redis configured, simulations and training runs are also shared by
the replicas, each computed once for all of them (ui.serving.shared_results).
"""

from __future__ import annotations

import threading
from typing import Callable, Iterator

import streamlit as st

from core import (ConfigError, Dataset, Finding, NetworkConfig, SimulationResult, TrainConfig,
                  TrainResult, diagnose, encode_query, make_dataset, simulate, train)
from core.query import encode_train_query
from core.theory import Prediction, agreement, predict
from core.train_config import estimated_training_seconds
from ui.presets import PRESETS, preset_config
from ui.serving import limiter, workers
from ui.serving.shared_results import SharedComputation

#: ≈ 100–400 KB a result: a few tens of MB at most.
MAX_ENTRIES = 256


#: With Redis, replicas share results (ui.serving.shared_results): keyed by the config's link.
SHARED_SIMULATION = SharedComputation("simulation", encode_query)


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
@SHARED_SIMULATION
def _simulation(config: NetworkConfig) -> SimulationResult:
    with limiter.computing():
        return workers.run(simulate, config)


#: Queued by estimated cost (core.budget's model), so that a small network is not stuck behind
#: a large one.
simulation = limiter.Served(_simulation, cost=lambda config: config.estimated_seconds(),
                            shared=SHARED_SIMULATION)


def begin_simulation(config: Callable[[], NetworkConfig]) -> bool:
    """Start the simulation of ``config()`` (the controls' config) before the page is drawn,
    when a worker is free (``Served.start``); the page's ``simulation(config)`` then joins it.
    Only with worker processes: in the server's own threads it would fight the page for the
    GIL. An invalid config starts nothing (the page reports it)."""
    if not workers.processes_wanted():
        return False
    try:
        return simulation.start(config())
    except ConfigError:
        return False


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def prediction(config: NetworkConfig) -> Prediction:
    """The mean-field prediction for a config (or why there is none): quadrature over at most
    200 layers, milliseconds, so it takes no worker slot."""
    return predict(config)


# What a page derives from a config's result is cached with it: a class on one link reruns the
# same config again and again, and each rerun would redo it (diagnose ≈ 2 ms, agreement ≈ 2 ms,
# a hit ≈ 0.4 ms). The result and the prediction are passed as ``_`` arguments, left out of the
# key: they are the ones ``simulation(config)`` and ``prediction(config)`` return.
@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def findings(config: NetworkConfig, _result: SimulationResult) -> list[Finding]:
    """``diagnose`` of the config's result."""
    return diagnose(_result)


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
def theory_agreement(config: NetworkConfig, _result: SimulationResult,
                     _prediction: Prediction) -> dict[str, float]:
    """``core.theory.agreement`` of the config's result with its (supported) prediction."""
    return agreement(_result.layer_stats, _prediction.table)


#: A training result: ≈ 26 decision-function snapshots (40 × 40) and its records, ≈ 0.5 MB.
MAX_TRAINING_ENTRIES = 64


SHARED_TRAINING = SharedComputation(
    "training", lambda network, train_config, _progress=None: encode_train_query(
        network, train_config))


@st.cache_data(max_entries=MAX_TRAINING_ENTRIES, show_spinner=False)
@SHARED_TRAINING
def training(network: NetworkConfig, train_config: TrainConfig,
             _progress: Callable[[int, int], None] | None = None) -> TrainResult:
    """One set-up's run, computed once per (network, training) pair for every session, holding
    one of ui.serving.limiter's slots (one BLAS thread) like ``simulation``.
    ``_progress(step, steps)`` is told each recorded step while it computes (not part of the
    cache key; never called on a hit). Not wrapped in ``limiter.Served``: the Train page shows
    its own progress bar."""
    with limiter.computing(cost=estimated_training_seconds(network, train_config)):
        return workers.run_with_progress(train, (network, train_config), _progress)


@st.cache_data(max_entries=MAX_TRAINING_ENTRIES, show_spinner=False)
def dataset(train_config: TrainConfig) -> Dataset:
    return make_dataset(train_config)


def training_with_progress(network: NetworkConfig, train_config: TrainConfig,
                           report: Callable[[int], None], poll_s: float = 0.25) -> TrainResult:
    """``training`` (cached), calling ``report(step)`` from the calling script thread while a
    run computes: a cached function may not draw, so the run goes to a worker thread (with the
    script's context, for the cache) and this thread polls the step it has reached."""
    from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

    reached = [0]
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["result"] = training(
                network, train_config, _progress=lambda step, steps: reached.__setitem__(0, step))
        except BaseException as error:  # re-raised in the script thread
            outcome["error"] = error

    worker = threading.Thread(target=work, name="training", daemon=True)
    add_script_run_ctx(worker, get_script_run_ctx())
    worker.start()
    shown = None
    while worker.is_alive():
        worker.join(poll_s)
        if reached[0] != shown:
            shown = reached[0]
            report(shown)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def preset_jobs() -> Iterator[Callable[[], object]]:
    """The warm-up: the worker processes, then every lesson preset's simulation and prediction
    at its default seed, the exact configs a preset link opens."""
    yield workers.start
    for preset_id in PRESETS:
        config = preset_config(preset_id)
        yield lambda config=config: simulation.warm(config)
        yield lambda config=config: prediction(config)


def start_warmup() -> None:
    """Once per process, under ``streamlit run`` (see ui.serving.limiter.warmup_wanted)."""
    if limiter.warmup_wanted():
        limiter.start_warmup(preset_jobs)
