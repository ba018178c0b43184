"""TrainConfig validates itself like NetworkConfig; the (network, training) pair is budgeted."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from core import ConfigError, NetworkConfig, TrainConfig
from core.train_config import (MAX_TRAIN_SECONDS, TRAIN_FIELD_SPECS, check_budget,
                               estimated_training_seconds, training_widths)


@pytest.mark.parametrize("field,value,expected", [
    ("dataset", "moons", "dataset must be one of circle, xor, gauss, spiral, reg_plane"),
    ("n_points", 5, "n_points must be an integer from 10 to 50000"),
    ("noise", 0.8, "noise must be a number from 0 to 0.5"),
    ("train_fraction", 1.0, "train_fraction must be a number from 0.1 to 0.9"),
    ("feature_scale", 0.0, "feature_scale must be a number from 0.001 to 10000"),
    ("optimizer", "rmsprop", "optimizer must be one of sgd, momentum, adam"),
    ("lr", float("nan"), "lr must be a number from 0 to 10"),
    ("lr", -0.1, "lr must be a number from 0 to 10"),
    ("momentum", 1.0, "momentum must be a number from 0 to 0.999"),
    ("steps", 0, "steps must be an integer from 1 to 100000"),
    ("steps", 2.5, "steps must be an integer"),
    ("clip", "global", "clip must be one of none, norm, value"),
    ("clip_threshold", 0.0, "clip_threshold must be a number from 1e-06"),
    ("record_every", 0, "record_every must be an integer from 1"),
    ("seed", -1, "seed must be an integer from 0"),
    ("l1", True, "l1 must be a number"),
])
def test_invalid_values_name_the_field_value_and_valid_range(field, value, expected):
    with pytest.raises(ConfigError) as error:
        TrainConfig(**{field: value})
    assert expected in str(error.value)
    assert field in error.value.fields
    assert error.value.code == "invalid"


def test_the_field_table_lists_the_issue_fields_in_order():
    assert list(TRAIN_FIELD_SPECS) == [
        "dataset", "n_points", "noise", "train_fraction", "feature_scale", "feature_shift",
        "optimizer", "lr", "momentum", "batch_size", "steps", "l1", "l2", "clip",
        "clip_threshold", "record_every", "seed"]
    assert TRAIN_FIELD_SPECS["dataset"].choices[:4] == ("circle", "xor", "gauss", "spiral")


def test_frozen_hashable_and_canonical_types():
    config = TrainConfig(n_points=np.int64(200), lr=np.float32(0.5))
    assert isinstance(config.n_points, int) and isinstance(config.lr, float)
    with pytest.raises(Exception):
        config.lr = 1.0  # type: ignore[misc]
    assert hash(config) == hash(TrainConfig(n_points=200, lr=0.5))


def test_batch_larger_than_the_training_split_is_refused_and_equal_is_full_batch():
    config = TrainConfig(n_points=100, train_fraction=0.3, batch_size=30)
    assert (config.n_train, config.n_test, config.full_batch) == (30, 70, True)
    with pytest.raises(ConfigError) as error:
        TrainConfig(n_points=100, train_fraction=0.3, batch_size=31)
    assert "at most the training split's 30 points" in str(error.value)
    assert error.value.code == "batch_too_large" and "batch_size" in error.value.fields


def test_default_widths_are_the_data_features_then_width_then_one_output():
    assert training_widths(NetworkConfig(depth=3, width=8), TrainConfig()) == (2, 8, 8, 1)
    assert training_widths(NetworkConfig(widths=(2, 5, 1)), TrainConfig()) == (2, 5, 1)
    with pytest.raises(ConfigError) as error:
        training_widths(NetworkConfig(widths=(3, 5, 1)), TrainConfig())
    assert error.value.code == "widths_mismatch" and "2 features" in str(error.value)


def test_the_budget_counts_steps_in_seconds_and_refuses_before_any_work():
    network = NetworkConfig(depth=10, width=64)
    small = TrainConfig(steps=1000, batch_size=32)
    check_budget(network, small)  # bench/bench_train.py's sizes fit
    check_budget(NetworkConfig(depth=20, width=256), TrainConfig(steps=300, batch_size=128))
    with pytest.raises(ConfigError):  # ≈ 17 s of one core measured here
        check_budget(NetworkConfig(depth=20, width=256), TrainConfig(steps=1000, batch_size=128))
    # Time grows with the steps: doubling them roughly doubles the estimate.
    twice = estimated_training_seconds(network, small.replace(steps=2000))
    assert 1.8 < twice / estimated_training_seconds(network, small) < 2.1
    with pytest.raises(ConfigError) as error:
        # batch_size=2: the NetworkConfig's own (simulation) budget is not what is tested.
        check_budget(NetworkConfig(depth=20, width=512, batch_size=2), TrainConfig(
            n_points=5000, batch_size=1000, steps=100000))
    assert error.value.code == "too_large" and error.value.limit == MAX_TRAIN_SECONDS
    assert error.value.amount > MAX_TRAIN_SECONDS and " s of computing" in str(error.value)
    assert f"{error.value.amount:.2g} s" in str(error.value)
    assert "steps" in error.value.fields
    # Many steps of a tiny network are refused too: each step has a fixed cost per layer.
    with pytest.raises(ConfigError):
        check_budget(NetworkConfig(depth=200, width=2), TrainConfig(steps=100000, batch_size=1))


@pytest.mark.parametrize("network,training", [
    # Accepted by the old multiply-add budget, measured at 108 s and 29 s of CPU (issue 18):
    # BatchNorm's per-layer cost and the fixed cost of a step were not counted.
    (dict(depth=200, width=2, norm="batchnorm", batch_size=2), dict(batch_size=2, steps=4999)),
    (dict(depth=200, width=1), dict(steps=4999)),
    # Every point evaluated at every step.
    (dict(depth=10, width=64), dict(n_points=50000, record_every=1, steps=2000)),
    # The default network for 6,316 steps on large batches.
    ({}, dict(n_points=20000, batch_size=2000, steps=6316)),
    (dict(depth=20, width=128, dropout=0.3, residual=True),
     dict(optimizer="adam", clip="norm", steps=3281, batch_size=500, n_points=5000)),
])
def test_the_issues_long_runs_are_refused_before_any_work(monkeypatch, network, training):
    import importlib
    engine = importlib.import_module("core.train")  # the module; core.train is the function

    def no_work(*args, **kwargs):
        raise AssertionError("work started on a run over the budget")

    monkeypatch.setattr(engine, "make_dataset", no_work)
    monkeypatch.setattr(engine, "build_network", no_work)
    with pytest.raises(ConfigError) as error:
        engine.train(NetworkConfig(**network), TrainConfig(**training))
    assert error.value.code == "too_large" and error.value.amount > MAX_TRAIN_SECONDS


def test_every_part_of_a_run_adds_to_its_estimate():
    network, training = NetworkConfig(depth=10, width=32), TrainConfig(steps=300)
    base = estimated_training_seconds(network, training)
    for changed in (dict(steps=600), dict(batch_size=100), dict(n_points=5000),
                    dict(record_every=1), dict(optimizer="adam")):
        assert estimated_training_seconds(network, training.replace(**changed)) > base, changed
    # Parts whose cost the fit may find lost in the noise (a coefficient of 0) never lower it.
    for changed in (dict(clip="norm"), dict(clip="value"), dict(l1=0.001), dict(l2=0.001),
                    dict(optimizer="momentum")):
        assert estimated_training_seconds(network, training.replace(**changed)) >= base, changed
    for changed in (dict(depth=20), dict(width=64), dict(norm="batchnorm"),
                    dict(norm="layernorm"), dict(dropout=0.2), dict(residual=True),
                    dict(activation="gelu"), dict(dtype="float64")):
        assert estimated_training_seconds(network.replace(**changed), training) > base, changed


@settings(max_examples=60, deadline=None)
@given(depth=st.integers(1, 200), width=st.integers(1, 4096), steps=st.integers(1, 100000),
       batch=st.integers(1, 25000), points=st.integers(10, 50000),
       every=st.integers(1, 100000), norm=st.sampled_from(["none", "batchnorm", "layernorm"]))
def test_a_run_the_budget_accepts_stays_accepted_with_fewer_steps_or_points(
        depth, width, steps, batch, points, every, norm):
    try:
        network = NetworkConfig(depth=depth, width=width, batch_size=2, norm=norm)
        training = TrainConfig(steps=steps, n_points=points, batch_size=min(batch, points // 2),
                               record_every=every)
        check_budget(network, training)
    except ConfigError as error:  # refused: by name, never another exception
        assert error.code in ("too_large", "too_much_memory", "batch_too_large",
                              "batchnorm_batch"), error.code
        return
    assert estimated_training_seconds(network, training) <= MAX_TRAIN_SECONDS
    check_budget(network, training.replace(steps=max(1, steps // 2)))
    check_budget(network, training.replace(record_every=min(100000, every * 2)))


def test_memory_over_budget_is_refused():
    with pytest.raises(ConfigError) as error:
        check_budget(NetworkConfig(widths=(2, 4096, 1), batch_size=2), TrainConfig(
            n_points=50000, batch_size=20000, steps=1, train_fraction=0.5))
    assert error.value.code == "too_much_memory"


def test_batchnorm_needs_two_samples_per_batch():
    with pytest.raises(ConfigError) as error:
        check_budget(NetworkConfig(depth=2, width=8, norm="batchnorm"), TrainConfig(batch_size=1))
    assert error.value.code == "batchnorm_batch"
    check_budget(NetworkConfig(depth=2, width=8, norm="layernorm"), TrainConfig(batch_size=1))
