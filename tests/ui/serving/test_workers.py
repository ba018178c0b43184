"""ui.serving.workers: a computation runs in another process and returns the same result, a worker's
death fails only its run, and processes are used only where they are wanted."""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest

from core import NetworkConfig, TrainConfig, simulate, train
from ui.serving import workers
from ui.serving.workers import Pool, WorkerLost


class NeedsTwoArguments(Exception):
    """An exception pickle cannot rebuild (its __init__ takes more than the message)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def raise_unpicklable() -> None:
    raise NeedsTwoArguments("bad value", "depth")


def raise_value_error() -> None:
    raise ValueError("plain")


def die() -> None:
    os._exit(3)  # what the kernel's OOM killer does to a worker, seen from the pool


@pytest.fixture(scope="module")
def pool():
    pool = Pool(2)
    yield pool
    pool.shutdown()


def test_a_simulation_in_a_worker_equals_one_computed_here(pool):
    config = NetworkConfig(depth=6, width=32, batch_size=64, activation="relu",
                           init="kaiming_normal", seed=3)
    there, here = pool.run(simulate, config), simulate(config)
    pd.testing.assert_frame_equal(there.layer_stats, here.layer_stats)
    np.testing.assert_array_equal(there.histograms.get("act", "std").counts,
                                  here.histograms.get("act", "std").counts)


def test_the_work_happens_in_another_process(pool):
    worker_pid = pool.run(os.getpid)
    assert worker_pid != os.getpid()
    assert worker_pid in pool.pids()


def test_an_error_comes_back_as_an_error(pool):
    with pytest.raises(ValueError, match="plain"):
        pool.run(raise_value_error)
    # One pickle cannot rebuild still reaches the caller, named.
    with pytest.raises(RuntimeError, match="NeedsTwoArguments: bad value"):
        pool.run(raise_unpicklable)


def test_a_dead_worker_fails_its_run_and_the_next_run_works(pool):
    with pytest.raises(WorkerLost):
        pool.run(die)
    assert pool.run(os.getpid) != os.getpid()


@pytest.mark.parametrize("value, wanted", [("1", True), ("0", False), (" 1 ", True)])
def test_the_switch_forces_processes_on_or_off(value, wanted):
    assert workers.processes_wanted({workers.PROCESSES_ENV: value}) is wanted


def test_without_a_real_server_the_work_stays_in_this_process(monkeypatch):
    monkeypatch.delenv(workers.PROCESSES_ENV, raising=False)
    assert not workers.processes_wanted()  # no `streamlit run` here
    assert workers.run(os.getpid) == os.getpid()


def count_to(steps: int, report=None) -> int:
    for step in range(1, steps + 1):
        time.sleep(0.01)  # a run that lasts several polls
        if report is not None:
            report(f"{step}/{steps}".encode())
    return steps


def test_reports_reach_the_caller_while_the_worker_runs(monkeypatch):
    monkeypatch.setenv(workers.PROCESSES_ENV, "1")
    seen = []
    try:
        assert workers.run_reporting(count_to, (40,), seen.append, poll_s=0.02) == 40
    finally:
        workers.pool().shutdown()
    assert seen, "nothing was reported"
    steps = [int(payload.split(b"/")[0]) for payload in seen]
    assert all(payload.endswith(b"/40") for payload in seen)
    assert steps == sorted(set(steps))  # the latest each time, never one twice


def test_without_processes_reports_come_from_the_computing_thread(monkeypatch):
    monkeypatch.setenv(workers.PROCESSES_ENV, "0")
    seen = []
    assert workers.run_reporting(count_to, (3,), seen.append) == 3
    assert seen == [b"1/3", b"2/3", b"3/3"]


def test_training_in_a_worker_equals_training_here(monkeypatch):
    network = NetworkConfig(depth=3, width=16, activation="tanh")
    train_config = TrainConfig(steps=30, record_every=10)
    monkeypatch.setenv(workers.PROCESSES_ENV, "1")
    try:
        there = workers.run(train, network, train_config)
    finally:
        workers.pool().shutdown()
    here = train(network, train_config)
    pd.testing.assert_frame_equal(there.history, here.history)


def die_the_first_time(marker: str) -> str:
    """Dies unless ``marker`` exists, which it creates first: a worker lost once."""
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(3)
    return "done"


def test_a_run_whose_worker_died_once_is_run_again(pool, tmp_path):
    assert pool.run(die_the_first_time, str(tmp_path / "died")) == "done"


def test_workers_yield_the_cpu_to_the_server(pool):
    assert pool.run(os.nice, 0) == os.nice(0) + workers.WORKER_NICENESS
