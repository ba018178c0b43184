"""The Train page's logic: set-ups, the link's codec, result sentences, and every lesson
preset's claim checked against its run."""

import math

import numpy as np
import pytest

from urllib.parse import urlencode

from core import NetworkConfig, TrainConfig, make_dataset, train
from core.query import TRAIN_QUERY_KEYS, decode_train_query
from ui.frame.i18n import catalogue, translate
from ui.serving.cache import training
from ui.train import state as train_state
from ui.train.logic import (DEFAULT_SWEEP, HEALTHY_BAND, SETUP_SPECS, TRAIN_PRESETS, TrainPair,
                            TrainRun, apply_train_diff, build_setups, decision_frames,
                            describe_training_error, eval_jump, format_setups, format_sweep,
                            hidden_unit_spread, outcome, parse_setups, parse_sweep, preset_matches,
                            preset_params, result_sentence, setup_names, split_diff,
                            symmetry_round_off, zero_weight_share)


def en(key, **values):
    return translate("en", key, **values)


BASE = TrainPair(NetworkConfig(depth=3, width=16),
                 TrainConfig(n_points=100, batch_size=10, steps=30))


def test_a_diff_may_change_network_and_training_fields():
    diff = (("init", "zeros"), ("lr", 0.5), ("clip", "norm"))
    assert split_diff(diff) == ((("init", "zeros"),), {"lr": 0.5, "clip": "norm"})
    pair = apply_train_diff(BASE, diff)
    assert pair.network.init == "zeros" and pair.network.depth == 3
    assert pair.training.lr == 0.5 and pair.training.clip == "norm"
    assert pair.training.n_points == 100
    assert apply_train_diff(BASE, ()) == BASE


def test_over_budget_and_invalid_setups_carry_their_error():
    setups = build_setups(BASE, [(), (("width", 4096), ("steps", 100000)),
                                 (("train_batch_size", 80),)], (), en)
    assert setups[0].config == BASE and setups[0].error is None
    assert setups[1].config is None and setups[1].error.code == "too_large"
    assert "too large" in describe_training_error(setups[1].error, en)
    assert setups[2].error.code == "batch_too_large"
    # named as in the link: the batch and what the split is made of
    message = describe_training_error(setups[2].error, en)
    assert "train_batch_size=80" in message and "50 points" in message
    assert "n_points" in message and "train_fraction" in message
    assert [s.colour for s in setups] == ["#1f77b4", "#d62728", "#2ca02c"]


def test_setup_codec_round_trips_training_fields():
    text = "base;init=normal&init_std=0.01&lr=0.5;clip=norm&clip_threshold=2"
    setups = parse_setups(text)
    assert setups[1] == (("init", "normal"), ("init_std", 0.01), ("lr", 0.5))
    assert format_setups(setups) == text
    with pytest.raises(ValueError, match="up to 4 set-ups"):
        parse_setups(";".join(["base"] * 5))
    with pytest.raises(ValueError, match="lr must be a number from 0 to 10"):
        parse_setups("lr=50")
    sweep = parse_sweep("optimizer:sgd,adam")
    assert sweep.diffs() == ((("optimizer", "sgd"),), (("optimizer", "adam"),))
    assert format_sweep(sweep) == "optimizer:sgd,adam"
    assert parse_setups("train_batch_size=20")[0] == (("train_batch_size", 20),)
    with pytest.raises(ValueError, match="lr"):
        parse_sweep("train_seed:1,2")  # not sweepable
    with pytest.raises(ValueError, match="not a config field"):
        parse_setups("t_lr=0.5")


def test_every_training_field_is_a_link_parameter_that_round_trips():
    # the link's names are core's codec's (one definition): a page link is a core link
    for name, key in TRAIN_QUERY_KEYS.items():
        session_key, default, parse, fmt = train_state.URL_PARAMS[key]
        assert session_key == train_state.field_key(name)
        assert parse(fmt(default)) == default
        assert key in SETUP_SPECS
    assert train_state.URL_PARAMS["lr"][2]("0.25") == 0.25
    with pytest.raises(ValueError, match="from 0 to 10"):
        train_state.URL_PARAMS["lr"][2]("nan")
    with pytest.raises(ValueError, match="spiral"):
        train_state.URL_PARAMS["dataset"][2]("moons")
    pair = TRAIN_PRESETS["dropout"].pair()
    params = preset_params("dropout")
    network, training_config, problems = decode_train_query(urlencode(params))
    assert (network, training_config, problems) == (pair.network, pair.training, [])


def test_session_training_falls_back_when_fields_do_not_fit_together():
    state = {train_state.field_key("batch_size"): 400, train_state.LAST_GOOD_KEY: BASE.training}
    config, error = train_state.session_training(state)
    assert config == BASE.training and error.code == "batch_too_large"
    state = {train_state.field_key("lr"): 0.5}
    config, error = train_state.session_training(state)
    assert error is None and config == TrainConfig(lr=0.5)
    train_state.set_training(state, config)
    assert state[train_state.field_key("steps")] == config.steps


def test_every_catalogue_key_of_the_page_exists_in_both_languages():
    keys = {f"train.preset.{p}.{part}" for p in TRAIN_PRESETS for part in ("name", "notice")}
    keys |= {f"field.{f}.{part}" for f in SETUP_SPECS for part in ("label", "help")}
    keys |= {f"choice.{f}.{c}" for f, spec in SETUP_SPECS.items() for c in spec.choices}
    keys |= {f"train.direction.{d}" for d in ("forward", "backward")}
    for lang in ("en", "zh"):
        assert sorted(keys - set(catalogue(lang))) == []


def test_presets_match_only_themselves():
    preset = TRAIN_PRESETS["clipping"]
    assert preset_matches("clipping", preset.pair(seed=3), preset.setups)
    assert not preset_matches("clipping", preset.pair(), preset.setups[:1])
    assert not preset_matches("nope", preset.pair(), preset.setups)
    assert DEFAULT_SWEEP.field == "init"


# --- every lesson's claim, checked against its run --------------------------------------------

def preset_runs(preset_id):
    preset = TRAIN_PRESETS[preset_id]
    setups = build_setups(preset.pair(), preset.setups, (), en)
    assert all(s.config is not None for s in setups)
    return [TrainRun(s, training(s.config.network, s.config.training),
                     make_dataset(s.config.training)) for s in setups]


# Each lesson's claims, for seeds 0–9 and one or two BLAS threads: tests/ui/test_train_lessons.py.

def test_setups_are_named_for_what_they_are():
    names = {preset_id: [s.name for s in build_setups(preset.pair(), preset.setups, (), en)]
             for preset_id, preset in TRAIN_PRESETS.items()}
    assert names["init"] == ["N(0, 0.01²), tanh", "N(0, 1²), tanh", "Xavier, tanh", "He, ReLU"]
    assert names["learning_rate"] == ["lr = 0.001", "lr = 0.3", "lr = 10"]
    assert names["clipping"] == ["N(0, 1²)", "N(0, 1²), clipped to norm ≤ 1", "He"]
    assert names["residual"] == ["plain", "residual, s = 0.2"]
    assert names["l1_l2"] == ["no L1, no L2", "L1 λ₁ = 0.003", "L2 λ₂ = 0.03"]
    for lang in ("en", "zh"):
        tr = lambda key, **values: translate(lang, key, **values)  # noqa: E731
        for preset_id, preset in TRAIN_PRESETS.items():
            named = [s.name for s in build_setups(preset.pair(), preset.setups, (), tr)]
            assert len(set(named)) == len(named), (lang, preset_id, named)
            for name in named:  # never the base's stand-in, never a raw key
                assert name not in (tr("compare.base_name"), "base")
                assert "train.name" not in name and "choice." not in name, name
    zh = [s.name for s in build_setups(TRAIN_PRESETS["residual"].pair(),
                                       TRAIN_PRESETS["residual"].setups, (),
                                       lambda key, **v: translate("zh", key, **v))]
    assert zh == ["普通（无残差）", "残差，s = 0.2"]


def test_names_come_from_what_differs_and_custom_names_win():
    diffs = [(), (("init", "zeros"),), (("clip", "norm"), ("clip_threshold", 2.0))]
    assert setup_names(BASE, diffs, en) == ["Xavier", "zeros", "Xavier, clipped to norm ≤ 2"]
    assert setup_names(BASE, [()], en) == ["Xavier, tanh"]  # nothing differs: what it is
    assert setup_names(BASE, [(("init", "kaiming_normal"), ("init_gain", 2.0)),
                              (("init", "kaiming_normal"), ("init_mode", "fan_out"))], en) == \
        ["He × 2", "He (fan_out)"]
    assert setup_names(BASE, [(("noise", 0.3),), ()], en) == ["Noise = 0.3", "Noise = 0"]
    setups = build_setups(BASE, [(("lr", 0.5),), (("lr", 5.0),)], ("fast", ""), en)
    assert [s.name for s in setups] == ["fast", "lr = 5"]
    # an invalid set-up is still named for what it asks for
    setups = build_setups(BASE, [(), (("width", 4096), ("steps", 100000))], (), en)
    assert setups[1].error is not None and "Width" in setups[1].name


def test_result_sentences_name_the_loss_they_speak_of():
    network = NetworkConfig(depth=3, width=8)
    config = TrainConfig(n_points=60, batch_size=10, steps=30, record_every=10)
    setup = build_setups(TrainPair(network, config), [()], (), en)[0]
    run = TrainRun(setup, train(network, config), make_dataset(config))
    o = outcome(run.result)
    sentence = result_sentence(run, en)
    assert f"the training loss goes from {o.start_loss:.3g} to {o.end_loss:.3g}" in sentence
    assert f"the test loss ends at {o.end_test_loss:.3g}" in sentence
    assert o.end_test_loss == run.result.history.test_loss.iloc[-1]
    stuck = TrainRun(setup, train(network.replace(init="zeros"), config), make_dataset(config))
    assert "the training loss never moves from 0.69" in result_sentence(stuck, en)


def test_the_symmetry_bound_tells_round_off_from_a_real_difference():
    """Zero init: the units stay within the round-off bound (0 here: no gradient reaches
    them). Constant biases: the weights move, the units stay together. A tiny random init,
    10⁻⁴: the units differ by far more than round-off."""
    network = NetworkConfig(depth=4, width=16, activation="tanh", init="zeros")
    config = TrainConfig(n_points=100, batch_size=10, steps=50, record_every=10)
    zeros = train(network, config)
    assert hidden_unit_spread(zeros) == 0.0 == symmetry_round_off(zeros)
    constant = train(network.replace(bias_init="constant", bias_value=0.1), config)
    assert 0 < symmetry_round_off(constant)
    assert hidden_unit_spread(constant) <= symmetry_round_off(constant)
    tiny = train(network.replace(init="normal", init_std=1e-4), config)
    assert hidden_unit_spread(tiny) > 1e3 * symmetry_round_off(tiny)
    eps32 = float(np.finfo(np.float32).eps)
    scale = max(float(np.abs(w).max()) for w in constant.network.weights)
    assert symmetry_round_off(constant) == pytest.approx(eps32 * math.sqrt(16) * scale)


def test_decision_frames_are_probabilities_of_the_recorded_steps():
    run = preset_runs("zero_init")[1]
    frames = decision_frames(run)
    snapshots = run.result.snapshots
    assert list(frames.steps) == list(snapshots.steps)
    assert frames.values.shape == snapshots.values.shape
    assert np.all((frames.values >= 0) & (frames.values <= 1))
    np.testing.assert_allclose(frames.values, 1 / (1 + np.exp(-snapshots.values)))
    assert len(frames.points) == run.result.train_config.n_train


def test_progress_is_told_every_recorded_step_and_changes_nothing():
    seen = []
    network, config = NetworkConfig(depth=3, width=8), TrainConfig(n_points=60, batch_size=10,
                                                                     steps=25, record_every=10)
    told = train(network, config, progress=lambda step, steps: seen.append((step, steps)))
    assert seen == [(0, 25), (10, 25), (20, 25), (25, 25)]
    assert list(told.history["step"]) == [s for s, _ in seen]
    plain = train(network, config)
    assert told.history.equals(plain.history)
