"""The Train page's logic: set-ups, the link's codec, result sentences, and every lesson
preset's claim checked against its run."""

import math

import numpy as np
import pytest

from urllib.parse import urlencode

from core import NetworkConfig, TrainConfig, make_dataset, train
from core.query import TRAIN_QUERY_KEYS, decode_train_query
from ui import train_state
from ui.cache import training
from ui.i18n import catalogue, translate
from ui.train import (DEFAULT_SWEEP, HEALTHY_BAND, SETUP_SPECS, TRAIN_PRESETS, TrainPair,
                      TrainRun, apply_train_diff, build_setups, decision_frames,
                      describe_training_error, eval_jump, format_setups, format_sweep,
                      hidden_unit_spread, outcome, parse_setups, parse_sweep, preset_matches,
                      preset_params,
                      result_sentence, split_diff, zero_weight_share)


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


def test_init_decides():
    small, large, xavier, he = preset_runs("init")
    o = outcome(small.result)
    assert o.first_grad < HEALTHY_BAND[0]
    assert abs(o.start_loss - math.log(2)) < 0.01 and abs(o.end_loss - math.log(2)) < 0.01
    sentence = result_sentence(small, en)
    assert f"{o.smallest_grad:.0e}" in sentence and "below the healthy band" in sentence
    assert "never moves from 0.693 (ln 2" in sentence
    assert outcome(large.result).test_acc < 0.8
    assert outcome(xavier.result).test_acc >= 0.9
    assert outcome(he.result).test_acc >= 0.9
    assert he.result.config.activation == "relu" and xavier.result.config.activation == "tanh"


def test_zero_init_never_breaks_symmetry():
    zeros, xavier = preset_runs("zero_init")
    assert hidden_unit_spread(zeros.result) == 0.0
    assert abs(outcome(zeros.result).end_loss - math.log(2)) < 0.01
    assert hidden_unit_spread(xavier.result) > 0.1
    assert outcome(xavier.result).test_acc >= 0.9


def test_clipping_stops_the_nan_but_not_the_cause():
    plain, clipped, he = preset_runs("clipping")
    step, layer, direction = plain.result.first_nonfinite
    assert 1 <= layer <= plain.result.config.depth
    sentence = result_sentence(plain, en)
    assert f"at step {step} layer {layer} became non-finite ({direction})" in sentence
    assert clipped.result.first_nonfinite is None
    assert outcome(clipped.result).clipped_share > 0.9
    assert outcome(clipped.result).end_loss > 100 * outcome(he.result).start_loss
    assert outcome(he.result).test_acc >= 0.9


def test_learning_rate_too_small_right_too_large():
    slow, right, large = preset_runs("learning_rate")
    slow_o, right_o, large_o = (outcome(r.result) for r in (slow, right, large))
    assert slow_o.end_loss > 0.8 * slow_o.start_loss          # barely falls
    assert right_o.end_loss < 0.1 * right_o.start_loss and right_o.test_acc >= 0.9
    assert large_o.nonfinite is not None or large_o.end_loss > large_o.start_loss


def test_l1_zeroes_weights_and_l2_shrinks_them_all():
    plain, l1, l2 = preset_runs("l1_l2")
    assert zero_weight_share(l1.result) > 0.2 > 5 * zero_weight_share(plain.result)
    assert zero_weight_share(l2.result) < 0.05
    norm = lambda run: float(np.sqrt(sum((w ** 2).sum() for w in run.result.network.weights)))
    assert norm(l2) < 0.7 * norm(plain)


def test_dropout_narrows_the_train_test_gap():
    plain, dropped = preset_runs("dropout")
    gap = lambda run: outcome(run.result).train_acc - outcome(run.result).test_acc
    assert gap(plain) > 0.1
    assert gap(dropped) < gap(plain)


def test_batchnorm_trains_the_deep_network():
    plain, normed = preset_runs("batchnorm")
    o = outcome(plain.result)
    assert o.smallest_grad < HEALTHY_BAND[0] and abs(o.end_loss - math.log(2)) < 0.01
    assert outcome(normed.result).test_acc >= 0.9


def test_running_statistics_momentum():
    slow, fast = preset_runs("bn_momentum")
    assert (slow.result.config.bn_momentum, fast.result.config.bn_momentum) == (0.1, 0.9)
    assert eval_jump(fast.result) > 2 * eval_jump(slow.result)
    assert outcome(fast.result).end_loss > outcome(slow.result).end_loss
    assert f"{eval_jump(fast.result):.3f}" in result_sentence(fast, en)


def test_badly_scaled_features_versus_zscore():
    raw, zscored = preset_runs("feature_scale")
    assert outcome(raw.result).test_acc < 0.8
    assert outcome(zscored.result).test_acc >= 0.9


def test_deep_plain_versus_residual():
    plain, residual = preset_runs("residual")
    assert outcome(plain.result).test_acc < 0.7
    assert outcome(residual.result).test_acc >= 0.9


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
