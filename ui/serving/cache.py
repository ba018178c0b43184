"""The core behind Streamlit's process-wide cache: 60 students on one link compute once.

Results (arrays and a small DataFrame), not figures, are cached: rebuilding a figure costs less
than unpickling a cached one. ``simulation`` goes through ui.serving.limiter: at most K
simulations run at once, each in a worker process (ui.serving.workers) with one BLAS thread,
and a user whose run waits for a free worker is told so. Training runs go to the same workers;
``trainings`` runs a page's set-ups in parallel and lets the page draw them while they train.
With Redis configured, simulations and training runs are also shared by the replicas, each
computed once for all of them (ui.serving.shared_results).
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from functools import partial
from typing import Callable, Iterable, Iterator, Sequence

import streamlit as st

from core.config import MAX_DEPTH
from core import (ConfigError, Dataset, Finding, NetworkConfig, SimulationResult, TrainConfig,
                  TrainResult, diagnose, encode_query, make_dataset)
from core.query import encode_train_query
from core.theory import Prediction, agreement, predict
from core.train_config import estimated_training_seconds
from ui.presets import PRESETS, preset_config
from ui.serving import limiter, train_live, worker_tasks, workers
from ui.serving.shared_results import SharedComputation

#: 22 KB (depth 10) to 330 KB (depth 200) a result, pickled: ≈ 60 MB at most. Room for a
#: whole depth slider's neighbourhood (199, see DepthNeighbourhood) and as many others.
MAX_ENTRIES = 400


#: With Redis, replicas share results (ui.serving.shared_results): keyed by the config's link.
SHARED_SIMULATION = SharedComputation("simulation", encode_query)


@st.cache_data(max_entries=MAX_ENTRIES, show_spinner=False)
@SHARED_SIMULATION
def _simulation(config: NetworkConfig) -> SimulationResult:
    with limiter.computing():
        return workers.run(worker_tasks.simulate_drawn, config)


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


#: Networks whose depth neighbourhood DepthNeighbourhood remembers as computed.
DONE_NETWORKS = 64


class DepthNeighbourhood:
    """The depth slider's neighbourhood of the network a user opened last, computed in the
    background: depth d ± 1, d ± 2, … (nearest first) of the same config, each in a background
    slot (after every user in line), at most ``limit`` of them per network, stopping as soon as
    a user opens another network (that one's neighbourhood follows).

    Why: a class starts on the link the teacher projects and then moves the depth slider; 200
    depths of the default width cost ≈ 60 s of one core here, more than a class waits for. A
    teacher who opens the lesson half a minute before the class leaves every depth of it
    computed (on every idle worker: 32 s on two).
    Off where the warm-up is off (AppTest, tests)."""

    def __init__(self, warm: Callable[[NetworkConfig], None],
                 ready: Callable[[NetworkConfig], bool], limit: int,
                 idle: Callable[[int], bool] = lambda own: True, idle_poll_s: float = 0.25,
                 quiet_s: float = 0.0, parallel: int = 1) -> None:
        self._warm, self._ready, self.limit = warm, ready, limit
        # Only while no user computes or waits (``idle(own)``: ``own`` computations are the
        # neighbourhood's), and no Explorer page asked for anything for ``quiet_s``: a
        # neighbour being computed holds a worker for up to ≈ 0.5 s, which a class moving its
        # sliders would wait for (and each look at a neighbour is ≈ 0.1 ms of the server's
        # one GIL). Up to ``parallel`` neighbours at once: every idle worker.
        self._idle, self._idle_poll_s, self.quiet_s = idle, idle_poll_s, quiet_s
        self.parallel = max(1, parallel)
        self.busy = 0  # neighbours being computed now
        self._last_follow = -float("inf")
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._target: NetworkConfig | None = None
        self._thread: threading.Thread | None = None
        # The networks (at depth 1) whose whole neighbourhood is computed: a class moving the
        # slider of one of them costs the thread one lookup a move, not a scan of 199 configs
        # (each a validated NetworkConfig, ≈ 0.1 ms of the server's one GIL).
        self._done: collections.OrderedDict[NetworkConfig, None] = collections.OrderedDict()

    def follow(self, config: NetworkConfig) -> None:
        """``config`` is what a user sees now: its neighbourhood is computed next."""
        if config.widths:  # the depth follows from the widths: no slider to move
            return
        self._last_follow = time.monotonic()
        with self._lock:
            if self._target == config:
                return
            self._target = config
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="variance-lab-depths",
                                                daemon=True)
                self._thread.start()
        self._wake.set()

    def order(self, depth: int) -> list[int]:
        """The depths around ``depth`` nearest first (the larger one first at equal distance),
        within the slider's range, at most ``limit``."""
        found = []
        for step in range(1, MAX_DEPTH):
            for candidate in (depth + step, depth - step):
                if 1 <= candidate <= MAX_DEPTH:
                    found.append(candidate)
            if len(found) >= self.limit:
                break
        return found[:self.limit]

    def neighbours(self, config: NetworkConfig) -> Iterator[NetworkConfig]:
        for depth in self.order(config.depth):
            try:
                yield config.replace(depth=depth)
            except ConfigError:  # over the size budget from here on up
                continue

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                target = self._target
            try:
                base = target.replace(depth=1)
            except ConfigError:
                continue
            if base in self._done:
                self._done.move_to_end(base)
                continue
            started = time.monotonic()
            pending, tally = self.neighbours(target), {"computed": 0, "stopped": False}
            helpers = [threading.Thread(target=self._compute_from, args=(target, pending, tally),
                                        name="variance-lab-depths", daemon=True)
                       for _ in range(self.parallel - 1)]
            for helper in helpers:
                helper.start()
            finished = self._compute_from(target, pending, tally)
            for helper in helpers:
                helper.join()
            if tally["stopped"]:
                return
            if finished and self._target is target:
                if self.limit >= MAX_DEPTH - 1:  # every depth of this network is computed
                    self._done[base] = None
                while len(self._done) > DONE_NETWORKS:
                    self._done.popitem(last=False)
                limiter._logger().info("depth neighbourhood of %s: %d computed in %.1f s",
                                       encode_query(target) or "the default network",
                                       tally["computed"], time.monotonic() - started)

    def _compute_from(self, target: NetworkConfig, pending: Iterator[NetworkConfig],
                      tally: dict) -> bool:
        """Compute the neighbours ``pending`` yields, one at a time, each once the users are
        served; False when a user opened another network (or the workers stopped) first."""
        while True:
            with self._lock:
                if self._target is not target or tally["stopped"]:
                    return False
                neighbour = next(pending, None)
            if neighbour is None:
                return True
            while self._target is target and not (
                    self._idle(self.busy)
                    and time.monotonic() - self._last_follow >= self.quiet_s):
                time.sleep(self._idle_poll_s)
            with self._lock:
                if self._target is not target:
                    return False  # a user opened another network: follow that one
                self.busy += 1
            try:
                if self._ready(neighbour):
                    continue
                self._warm(neighbour)
                with self._lock:
                    tally["computed"] += 1
            except workers.WorkersStopped:
                tally["stopped"] = True
                return False
            except Exception:  # a neighbour that fails is the user's to see, if ever
                continue
            finally:
                with self._lock:
                    self.busy -= 1


#: The whole depth slider (half the cache: a neighbourhood never pushes out everything else).
depth_neighbourhood = DepthNeighbourhood(
    simulation.warm, simulation.ready, limit=min(MAX_DEPTH - 1, MAX_ENTRIES // 2),
    idle=lambda own: limiter.LIMITER.running <= own and not limiter.LIMITER.waiting,
    quiet_s=2.0, parallel=limiter.LIMITER.slots)


def follow_depths(config: NetworkConfig) -> None:
    """The Explorer shows ``config``: compute its depth slider's neighbourhood when idle."""
    if limiter.warmup_wanted():
        depth_neighbourhood.follow(config)


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


#: A training result: ≈ 26 decision-function snapshots (32 × 32) and its records, ≈ 0.5 MB.
MAX_TRAINING_ENTRIES = 64

TrainingKey = tuple[NetworkConfig, TrainConfig]


class LiveTrainings:
    """The latest report (ui.serving.train_live.Partial) of every training computing now, by
    (network, training): the session that computes one and every session waiting for the same
    cached result draw it from here (thirty students opening one cold lesson all watch it
    train). A key is listed from the moment its run holds a worker until it ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[TrainingKey, train_live.Partial | None] = {}
        self.watchers = 0  # pages drawing runs as they train, now

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """Count a page that draws runs while they train (``show_seconds``)."""
        with self._lock:
            self.watchers += 1
        try:
            yield
        finally:
            with self._lock:
                self.watchers -= 1

    def show_seconds(self, fastest: float) -> float:
        """How often each watching page may redraw: every ``fastest`` seconds, slower when
        many watch at once, so that the server draws at most LIVE_DRAWS_PER_SECOND pictures a
        second in all (a class opening one cold lesson: thirty pages waiting for the same runs,
        each redraw ≈ 20 ms of the server's one GIL)."""
        return max(fastest, self.watchers / LIVE_DRAWS_PER_SECOND)

    def begin(self, key: TrainingKey) -> None:
        with self._lock:
            self._latest[key] = None

    def update(self, key: TrainingKey, payload: bytes) -> None:
        partial = train_live.decode(payload)
        with self._lock:
            if key in self._latest:
                self._latest[key] = partial

    def end(self, key: TrainingKey) -> None:
        with self._lock:
            self._latest.pop(key, None)

    def state(self, key: TrainingKey) -> tuple[bool, train_live.Partial | None]:
        """(computing now, its latest report or None before the first)."""
        with self._lock:
            return key in self._latest, self._latest.get(key)


LIVE = LiveTrainings()


SHARED_TRAINING = SharedComputation(
    "training", encode_train_query)


@st.cache_data(max_entries=MAX_TRAINING_ENTRIES, show_spinner=False)
@SHARED_TRAINING
def training(network: NetworkConfig, train_config: TrainConfig) -> TrainResult:
    """One set-up's run, computed once per (network, training) pair for every session, holding
    one of ui.serving.limiter's slots (one BLAS thread, a worker process) like ``simulation``,
    queued by its estimated seconds. While it computes, its reports are in ``LIVE``. Not wrapped
    in ``limiter.Served``: the Train page draws the run itself while it waits (``trainings``)."""
    seconds = estimated_training_seconds(network, train_config)
    key = (network, train_config)
    with limiter.computing(cost=seconds, background=getattr(_warming, "on", False)):
        LIVE.begin(key)
        try:
            return workers.run_reporting(train_live.train_reporting, (network, train_config),
                                         partial(LIVE.update, key))
        finally:
            LIVE.end(key)


@st.cache_data(max_entries=MAX_TRAINING_ENTRIES, show_spinner=False)
def dataset(train_config: TrainConfig) -> Dataset:
    return make_dataset(train_config)


#: What ``trainings`` tells the page about each set-up: "waiting" for a worker, "training"
#: (with its latest report, or None before the first) or "done" (the finished run).
RunState = tuple[str, "train_live.Partial | None"]


#: A page that draws runs as they train redraws at most this often: each redraw is two charts
#: the browser draws afresh (≈ 60 ms each) and ≈ 22 KB sent.
SHOW_SECONDS = 0.25
#: Redraws of runs as they train, all pages together, per second (LiveTrainings.show_seconds).
LIVE_DRAWS_PER_SECOND = 16.0


def trainings(pairs: Sequence[TrainingKey], show: Callable[[list[RunState]], None],
              idle: Callable[[], None] = lambda: None, poll_s: float = 0.05,
              show_s: float = SHOW_SECONDS, idle_s: float = 0.5) -> list[TrainResult]:
    """``training`` of every pair at once (each in a thread of its own, with the script's
    context: each takes a worker when one is free, so the set-ups of a page train in
    parallel), the results in order. While any computes, this thread calls ``show(states)``
    when a state changed, at most every ``show_s`` seconds (the first change at once; never
    when every result was cached; less often when many pages watch at once:
    ``LIVE.show_seconds``), and ``idle()`` after ``idle_s`` seconds without a change: a
    Streamlit script stops for a newer rerun only when it draws something."""
    from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

    count = len(pairs)
    results: list[TrainResult | None] = [None] * count
    errors: list[BaseException | None] = [None] * count
    finals: dict[int, train_live.Partial] = {}

    def work(index: int) -> None:
        try:
            results[index] = training(*pairs[index])
        except BaseException as error:  # re-raised in the script thread
            errors[index] = error

    threads = [threading.Thread(target=work, args=(index,), name="training", daemon=True)
               for index in range(count)]
    context = get_script_run_ctx()
    for thread in threads:
        add_script_run_ctx(thread, context)
        thread.start()

    def state(index: int) -> RunState:
        if results[index] is not None:
            if index not in finals:
                finals[index] = train_live.Partial.of_result(results[index])
            return "done", finals[index]
        computing, latest = LIVE.state(tuple(pairs[index]))
        return ("training" if computing else "waiting"), latest

    shown: tuple | None = None
    shown_at = quiet_since = -float("inf")
    with LIVE.watching():
        while any(thread.is_alive() for thread in threads):
            next(thread for thread in threads if thread.is_alive()).join(poll_s)
            if not any(thread.is_alive() for thread in threads):
                break
            now = time.monotonic()
            if now - shown_at < LIVE.show_seconds(show_s):
                continue
            states = [state(index) for index in range(count)]
            seen = tuple((kind, id(latest)) for kind, latest in states)
            if seen != shown:
                shown, shown_at, quiet_since = seen, now, now
                show(states)
            elif now - quiet_since >= idle_s:
                quiet_since = now
                idle()
    for error in errors:
        if error is not None:
            raise error
    return results  # type: ignore[return-value]


def preset_jobs(lessons: Iterable[TrainingKey] = ()) -> Iterator[Callable[[], object]]:
    """The warm-up: the worker processes, then every lesson preset's simulation and prediction
    at its default seed, the exact configs a preset link opens, then ``lessons``: the Train
    page's lesson set-ups (network, training), one at a time in a background slot."""
    yield workers.start
    for preset_id in PRESETS:
        config = preset_config(preset_id)
        yield lambda config=config: simulation.warm(config)
        yield lambda config=config: prediction(config)
    for pair in lessons:
        yield lambda pair=pair: warm_training(*pair)


_warming = threading.local()


def warm_training(network: NetworkConfig, train_config: TrainConfig) -> None:
    """Fill the cache for a training from the warm-up's thread, its slot after every user in
    line. The slot is taken inside ``training`` as for a user (never before Streamlit's
    per-key lock: a user computing the same key holds that lock while it waits for a slot)."""
    _warming.on = True
    try:
        training(network, train_config)
    finally:
        _warming.on = False


def start_warmup(lessons: Callable[[], Iterable[TrainingKey]] = tuple) -> None:
    """Once per process, under ``streamlit run`` (see ui.serving.limiter.warmup_wanted);
    ``lessons()`` lists the Train lessons' set-ups (the entry point knows the pages)."""
    if limiter.warmup_wanted():
        limiter.start_warmup(lambda: preset_jobs(lessons()))
