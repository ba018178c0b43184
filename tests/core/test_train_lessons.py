"""What the engine must show: each lesson of issue 10 on the same data and seed (circle, depth
10, width 64, SGD), kept short (300 steps) where the lesson already shows."""

import math

import numpy as np
import pytest

from core import NetworkConfig, TrainConfig, train
from ui.train.logic import hidden_unit_spread, symmetry_round_off

DATA = TrainConfig(dataset="circle", lr=0.1, batch_size=25, steps=300, record_every=50)


def deep(**changes):
    return NetworkConfig(**{"depth": 10, "width": 64, **changes})


def test_tiny_init_vanishes_the_first_layer_gradient_and_the_loss_stays_at_ln2():
    result = train(deep(activation="tanh", init="normal", init_std=0.01), DATA)
    first = result.layer_history[result.layer_history.layer == 1]
    assert (first.grad_weight_norm < 1e-6).all()
    assert np.allclose(result.history.train_loss, math.log(2), atol=0.01)
    assert np.allclose(result.history.test_acc, 0.5, atol=0.05)  # a coin toss


def test_relu_with_unit_normal_init_hits_a_nonfinite_value_and_names_where():
    result = train(deep(activation="relu", init="normal", init_std=1.0), DATA)
    assert result.first_nonfinite is not None
    step, layer, direction = result.first_nonfinite
    assert direction in ("forward", "backward") and 1 <= layer <= 10
    assert step < 10  # within a few steps
    # Training stopped there: the last row is that step, and the weights are still finite.
    assert result.history.step.iloc[-1] == step
    assert all(np.isfinite(w).all() for w in result.network.weights)
    # Before it, the loss was finite but enormous: the logits are ≈ 1e6.
    assert result.history.train_loss.iloc[0] > 1e4


@pytest.mark.parametrize("activation,init", [("tanh", "xavier_normal"),
                                             ("relu", "kaiming_normal")])
def test_xavier_for_tanh_and_he_for_relu_train_to_90_percent(activation, init):
    result = train(deep(activation=activation, init=init), DATA)
    assert result.first_nonfinite is None
    assert result.history.test_acc.iloc[-1] >= 0.9
    assert result.history.train_loss.iloc[-1] < 0.5 * result.history.train_loss.iloc[0]


@pytest.mark.parametrize("bias_init", ["zeros", "constant"])
def test_zero_init_never_breaks_the_symmetry(bias_init):
    result = train(deep(activation="tanh", init="zeros", bias_init=bias_init, bias_value=0.1),
                   DATA)
    weights = result.network.weights
    # Each hidden unit's incoming weights (a column) and bias stay equal to the other units',
    # exactly in exact arithmetic, and here to within the float32 round-off of the products at
    # the network's weight scale (BLAS kernels may sum columns in different orders: Haswell's
    # leave 5e-13 in a layer whose weights are 4e-8, against a bound of 6e-9).
    assert hidden_unit_spread(result) <= symmetry_round_off(result)
    if bias_init == "zeros":  # every hidden activation is tanh(0) = 0: no gradient at all
        assert all(not w.any() for w in weights)
    acts = result.layer_history
    if bias_init == "constant":
        # Not trivially so: the weights did move, yet all units of a layer stayed one.
        assert np.abs(weights[-2]).max() > 0 and np.abs(weights[-1]).max() > 0
    assert (acts[acts.layer < 10].act_saturated_frac <= 1).all()
    assert result.history.test_acc.iloc[-1] <= 0.6  # one unit's worth of network


def test_clipping_by_norm_removes_the_nan_of_the_exploding_case():
    config = deep(activation="relu", init="normal", init_std=1.0)
    exploding = train(config, DATA)
    clipped = train(config, DATA.replace(clip="norm", clip_threshold=1.0))
    assert exploding.first_nonfinite is not None
    assert clipped.first_nonfinite is None
    assert clipped.history.clipped.iloc[:-1].all()  # gradients of ≈ 1e6 are always clipped
    assert np.isfinite(clipped.history.train_loss).all()
    assert clipped.history.step.iloc[-1] == DATA.steps


def test_l1_drives_many_weights_to_zero_while_l2_shrinks_them_all():
    config = NetworkConfig(depth=4, width=64, activation="tanh", init="xavier_normal")
    run = DATA.replace(steps=500)
    plain = train(config, run).network.weights
    l1 = train(config, run.replace(l1=1e-3)).network.weights
    l2 = train(config, run.replace(l2=1e-2)).network.weights

    def near_zero(weights):
        hidden = np.concatenate([w.ravel() for w in weights[1:-1]])
        return np.mean(np.abs(hidden) < 1e-3)

    assert near_zero(l1) > 0.2 and near_zero(l1) > 10 * near_zero(plain)
    assert near_zero(l2) < 0.05
    for w_plain, w_l2 in zip(plain, l2):
        assert np.linalg.norm(w_l2) < 0.95 * np.linalg.norm(w_plain)


@pytest.mark.parametrize("seed", [0, 1])
def test_dropout_narrows_the_train_test_gap_on_a_small_noisy_set(seed):
    small = TrainConfig(dataset="circle", n_points=100, noise=0.5, lr=0.1, batch_size=10,
                        steps=2000, record_every=500, seed=seed)
    config = NetworkConfig(depth=4, width=64, activation="relu", init="kaiming_normal")
    plain = train(config, small).history.iloc[-1]
    dropped = train(config.replace(dropout=0.5), small).history.iloc[-1]
    gap_plain = plain.test_loss - plain.train_loss
    gap_dropped = dropped.test_loss - dropped.train_loss
    assert gap_plain > 1.0  # it overfits the label noise
    assert gap_dropped < 0.5 * gap_plain
    assert dropped.train_acc - dropped.test_acc < plain.train_acc - plain.test_acc


def test_z_scoring_badly_scaled_features_makes_a_diverging_run_train():
    scaled = DATA.replace(feature_scale=100.0, feature_shift=50.0)
    config = deep(activation="relu", init="kaiming_normal")
    raw = train(config, scaled)
    fixed = train(config.replace(input_preprocess="zscore"), scaled)
    assert raw.first_nonfinite is not None
    assert fixed.first_nonfinite is None and fixed.history.test_acc.iloc[-1] >= 0.9
