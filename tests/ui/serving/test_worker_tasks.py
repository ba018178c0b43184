"""What a worker runs: the same results as core.simulate, with what it keeps between runs."""

from dataclasses import replace

import pandas as pd

from core import NetworkConfig, simulate
from ui.serving import worker_tasks


def test_memo_sizes_come_from_the_environment_or_the_default():
    name = worker_tasks.FORWARD_MIB_ENV
    assert worker_tasks.memo_bytes(name, 64, {}) == 64 * 2**20
    assert worker_tasks.memo_bytes(name, 64, {name: " 10 "}) == 10 * 2**20
    assert worker_tasks.memo_bytes(name, 64, {name: "0"}) == 0  # no memo
    for bad in ("-5", "1e3", "lots", "１０"):
        assert worker_tasks.memo_bytes(name, 64, {name: bad}) == 64 * 2**20


def test_a_slider_moved_in_a_worker_gives_what_simulate_gives():
    base = NetworkConfig(depth=1, width=32, batch_size=16, activation="relu",
                         init="kaiming_normal", seed=21)
    for depth in (12, 5, 40, 40, 18):
        config = replace(base, depth=depth)
        pd.testing.assert_frame_equal(worker_tasks.simulate_drawn(config).layer_stats,
                                      simulate(config).layer_stats)
    assert worker_tasks.FORWARD.hits > 0 and worker_tasks.DRAWN.hits > 0
