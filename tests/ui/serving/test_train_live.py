"""ui.train_live: what a watched run reports is what the run records, and a report is read back
whole or refused."""

import numpy as np
import pandas as pd
import pytest

from core import NetworkConfig, TrainConfig, train
from ui.serving import train_live

NETWORK = NetworkConfig(depth=3, width=8, activation="tanh", init="xavier_normal")
TRAINING = TrainConfig(n_points=60, batch_size=10, steps=25, record_every=5)


def test_reports_are_the_records_so_far_and_the_latest_snapshot():
    payloads = []
    result = train(NETWORK, TRAINING, on_record=train_live.Reporter(payloads.append, seconds=0))
    partials = [train_live.decode(p) for p in payloads]
    assert [p.step for p in partials] == list(result.history["step"])
    for partial in partials:
        assert partial.steps == 25
        expected = result.history[result.history["step"] <= partial.step]
        pd.testing.assert_frame_equal(partial.history, expected.reset_index(drop=True),
                                      check_dtype=False)
        index = np.flatnonzero(result.snapshots.steps <= partial.step)[-1]
        assert partial.snapshot_step == result.snapshots.steps[index]
        np.testing.assert_array_equal(partial.snapshot, result.snapshots.values[index])
    final = train_live.Partial.of_result(result)
    assert final.step == partials[-1].step and final.snapshot_step == partials[-1].snapshot_step
    pd.testing.assert_frame_equal(final.history, partials[-1].history, check_dtype=False)


def test_reports_are_thinned_in_time_but_keep_the_first_and_the_last():
    payloads, now = [], iter(range(1000))
    reporter = train_live.Reporter(payloads.append, seconds=3, clock=lambda: next(now))
    train(NETWORK, TRAINING, on_record=reporter)  # records at 0, 5, …, 25: clock 0, 1, …, 5
    assert [train_live.decode(p).step for p in payloads] == [0, 15, 25]


def test_a_run_without_a_snapshot_yet_and_a_broken_report():
    payload = train_live.encode(0, 10, [(0, 0.7, 0.69, 0.7, 0.5, 0.5, 1.0, 0.0)], None, None)
    partial = train_live.decode(payload)
    assert partial.snapshot is None and partial.snapshot_step is None
    assert partial.history["clipped"].tolist() == [False]
    for broken in (payload[:10], payload[:-8], payload + b"\0"):
        with pytest.raises(ValueError):
            train_live.decode(broken)


def test_train_reporting_returns_the_same_result_as_train():
    payloads = []
    watched = train_live.train_reporting(NETWORK, TRAINING, payloads.append)
    pd.testing.assert_frame_equal(watched.history, train(NETWORK, TRAINING).history)
    assert payloads and train_live.decode(payloads[-1]).step == 25
