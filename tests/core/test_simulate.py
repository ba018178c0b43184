"""The simulator: exact gradients, the classic lessons, determinism, and overflow as a result."""

import itertools
import math
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core import COLUMNS, ACTIVATION_NAMES, NetworkConfig, diagnose, simulate
from core import ops
from core.simulate import ForwardMemo, build_network, gradients, make_input, stream

from .same_result import assert_same_result

NORMS = [("none", "before"), ("batchnorm", "before"), ("batchnorm", "after"),
         ("layernorm", "before")]


def _loss(config, network, x, upstream):
    return float(np.vdot(upstream, gradients(config, network, x, upstream).out))


def _derivative_along(array, direction, loss, eps=1e-6):
    """Central difference of loss() as ``array`` moves along ``direction`` (restored after)."""
    original = array.copy()
    array[...] = original + eps * direction
    plus = loss()
    array[...] = original - eps * direction
    minus = loss()
    array[...] = original
    return (plus - minus) / (2 * eps)


#: No residual, and both residual forms.
RESIDUALS = (None, "pre", "post")


@pytest.mark.parametrize("activation,norm,residual", [
    (a, n, r) for a, n, r in itertools.product(ACTIVATION_NAMES, NORMS, RESIDUALS)])
def test_gradients_match_finite_differences(activation, norm, residual):
    """Directional derivatives of L = Σ r⊙out along random directions, r random, in float64."""
    config = NetworkConfig(widths=(4, 6, 5, 3), batch_size=7, dtype="float64",
                           activation=activation, leaky_slope=0.2, init="normal", init_std=0.6,
                           bias_init="normal", bias_std=0.3, norm=norm[0], norm_position=norm[1],
                           residual=residual is not None, residual_form=residual or "pre",
                           residual_scale=0.7, seed=11)
    network = build_network(config)
    rng = np.random.default_rng(5)
    x = make_input(config, network, rng)
    upstream = rng.standard_normal((7, 3))
    exact = gradients(config, network, x, upstream)
    def loss():
        return _loss(config, network, x, upstream)

    for layer, w in enumerate(network.weights):
        direction = rng.standard_normal(w.shape)
        numeric = _derivative_along(w, direction, loss)
        analytic = float(np.vdot(exact.weights[layer], direction))
        assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-7), f"layer {layer + 1}"
    direction = rng.standard_normal(x.shape)
    numeric = _derivative_along(x, direction, loss)
    assert float(np.vdot(exact.input, direction)) == pytest.approx(numeric, rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("form,norm", [("pre", ("none", "before")), ("post", ("none", "before")),
                                       ("pre", ("layernorm", "before")),
                                       ("pre", ("batchnorm", "after"))])
def test_gradients_with_dropout_and_unequal_widths_match_finite_differences(form, norm):
    config = NetworkConfig(widths=(5, 8, 3, 6), batch_size=9, dtype="float64", activation="tanh",
                           init="xavier_normal", dropout=0.3, residual=True, residual_form=form,
                           norm=norm[0], norm_position=norm[1], bias_init="normal", seed=2)
    network = build_network(config)
    rng = np.random.default_rng(0)
    x = make_input(config, network, rng)
    upstream = rng.standard_normal((9, 6))
    exact = gradients(config, network, x, upstream)
    for layer, w in enumerate(network.weights):
        for i, j in [(0, 0), (w.shape[0] - 1, w.shape[1] - 1), (1, 2)]:
            entry = np.zeros_like(w)
            entry[i, j] = 1.0
            numeric = _derivative_along(w, entry, lambda: _loss(config, network, x, upstream))
            assert exact.weights[layer][i, j] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def test_batchnorm_input_gradient_sums_to_zero_over_the_batch():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(16, 5))
    _, cache, _, _ = ops.norm_forward(x, axis=0)
    grad = ops.norm_backward(rng.standard_normal((16, 5)), cache)
    np.testing.assert_allclose(grad.sum(axis=0), 0.0, atol=1e-12)
    assert np.abs(grad).max() > 0.1


def test_layernorm_input_gradient_sums_to_zero_over_features():
    rng = np.random.default_rng(1)
    _, cache, _, _ = ops.norm_forward(rng.normal(1.0, 3.0, size=(6, 9)), axis=1)
    grad = ops.norm_backward(rng.standard_normal((6, 9)), cache)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-12)


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_loss_gradients_match_finite_differences(loss):
    out = np.random.default_rng(0).standard_normal((5, 4))
    _, grad = ops.loss_gradient(loss, out, np.random.default_rng(1))
    eps = 1e-6
    for i, j in [(0, 0), (2, 3), (4, 1)]:
        shifted = out.copy()
        shifted[i, j] += eps
        plus, _ = ops.loss_gradient(loss, shifted, np.random.default_rng(1))
        shifted[i, j] -= 2 * eps
        minus, _ = ops.loss_gradient(loss, shifted, np.random.default_rng(1))
        assert grad[i, j] == pytest.approx((plus - minus) / (2 * eps), rel=1e-6)


# The classic lessons, at width 512, batch 1024, depth 10 ----------------------------------------

def lesson(**fields):
    return simulate(NetworkConfig(depth=10, width=512, batch_size=1024, **fields)).layer_stats


def per_layer_ratio(column):
    """Geometric mean of column[l+1]/column[l] over layers 1..10."""
    values = column.loc[1:].to_numpy()
    return (values[-1] / values[0]) ** (1 / (len(values) - 1))


def test_tanh_with_small_gaussian_collapses():
    stats = lesson(activation="tanh", init="normal", init_std=0.01)
    assert stats.loc[10, "act_var"] < 1e-12
    assert stats.loc[1, "act_var"] > 1e-2


def test_tanh_with_unit_gaussian_saturates():
    stats = lesson(activation="tanh", init="normal", init_std=1.0)
    assert stats.loc[10, "act_saturated_frac"] == pytest.approx(0.9, abs=0.03)


def test_tanh_with_xavier_stays_stable():
    """With gain 1 the variance shrinks like 1/l (tanh' < 1 away from 0), not exponentially:
    by layer 10 each layer keeps > 85 % of it, against 5 % for N(0, 0.01²)."""
    stats = lesson(activation="tanh", init="xavier_normal")
    assert stats.loc[10, "preact_var"] / stats.loc[9, "preact_var"] > 0.85
    assert stats.loc[10, "act_var"] > 0.03
    assert stats.loc[10, "act_saturated_frac"] < 0.01


def test_relu_with_xavier_halves_the_preactivation_variance():
    stats = lesson(activation="relu", init="xavier_normal")
    assert per_layer_ratio(stats["preact_var"]) == pytest.approx(0.5, abs=0.03)


def test_relu_with_he_keeps_the_preactivation_variance():
    stats = lesson(activation="relu", init="kaiming_normal")
    assert per_layer_ratio(stats["preact_var"]) == pytest.approx(1.0, abs=0.03)


def test_relu_theory_q_next_is_half_sigma_w_squared_q_plus_sigma_b_squared():
    """Mean-field ReLU recursion on the pre-activation second moment, with a bias."""
    # Mean field speaks of the ensemble: one network's q fluctuates around it by ≈ √(2/width)
    # per layer, so average the one-step ratio over 8 seeds (≈ 1.6 % noise per layer).
    ratios = []
    for seed in range(8):
        stats = simulate(NetworkConfig(depth=4, width=1024, batch_size=256, activation="relu",
                                       init="normal", init_std=math.sqrt(1.6 / 1024),
                                       bias_init="normal", bias_std=0.3, seed=seed)).layer_stats
        q = stats["preact_mean_square"].to_numpy()
        ratios.append(q[2:] / (1.6 * q[1:-1] / 2 + 0.09))
    ratios = np.array(ratios)
    np.testing.assert_allclose(ratios.mean(axis=0), 1.0, atol=0.05)
    assert ratios.mean() == pytest.approx(1.0, abs=0.02)


def test_selu_with_lecun_normal_self_normalises():
    stats = lesson(activation="selu", init="lecun_normal")
    assert abs(stats.loc[10, "act_mean"]) < 0.05
    assert stats.loc[10, "act_var"] == pytest.approx(1.0, abs=0.1)


def test_orthogonal_linear_network_preserves_norms():
    stats = lesson(activation="identity", init="orthogonal", dtype="float64")
    # ‖xW‖ = ‖x‖ row by row, so the second moment E[x²] is the same at every layer.
    np.testing.assert_allclose(stats["act_mean_square"].loc[1:], stats.loc[0, "act_mean_square"],
                               rtol=1e-9)
    np.testing.assert_allclose(stats["grad_out_mean_square"].loc[1:],
                               stats.loc[10, "grad_out_mean_square"], rtol=1e-9)


@pytest.mark.parametrize("init", ["zeros", "constant"])
def test_constant_init_keeps_every_unit_identical(init):
    result = simulate(NetworkConfig(depth=5, width=64, batch_size=32, init=init,
                                    init_value=0.05, activation="tanh"))
    stats = result.layer_stats.loc[1:]
    # Identical up to the rounding of BLAS's summation order.
    assert (stats["act_across_units_var"] <= 1e-12 * stats["act_mean_square"]).all()
    assert (stats["act_mean_square"] > 0).all() if init == "constant" else True
    assert [f.code for f in diagnose(result)].count("symmetry") == 1


@pytest.mark.parametrize("position", ["before", "after"])
def test_batchnorm_restandardises(position):
    stats = lesson(activation="tanh", init="normal", init_std=0.01, norm="batchnorm",
                   norm_position=position)
    column = "preact_unit_var" if position == "before" else "out_var"
    np.testing.assert_allclose(stats[column].loc[1:], 1.0, rtol=1e-3)


def test_layernorm_restandardises_each_sample():
    result = simulate(NetworkConfig(depth=6, width=256, batch_size=64, init="normal",
                                    init_std=0.01, norm="layernorm"))
    stats = result.layer_stats.loc[1:]
    # Every sample's pre-activations have mean 0 and variance v/(v + ε) ≈ 1 over the units
    # (v ≈ 0.01 here, so ε = 1e-5 shows in the third digit).
    np.testing.assert_allclose(stats["preact_mean_square"], 1.0, rtol=3e-3)


def test_batch_size_two_makes_batchnorm_outputs_plus_minus_one():
    result = simulate(NetworkConfig(depth=4, width=64, batch_size=2, norm="batchnorm",
                                    activation="identity"))
    # With two samples x̂ = ±(d/2)/√((d/2)² + ε), d = x1 − x2: ±1 for every unit, whatever
    # the data; all a layer can say about a batch of two is its sign.
    np.testing.assert_allclose(result.layer_stats["preact_mean_square"].loc[1:], 1.0, rtol=3e-3)


def test_batchnorm_eval_uses_running_statistics_with_pytorch_momentum():
    network_config = NetworkConfig(depth=2, width=8, batch_size=16, norm="batchnorm",
                                   bn_mode="eval", bn_passes=1, bn_momentum=0.1)
    from core.simulate import _update_running, Network
    network = Network(weights=[], biases=[], projections=[],
                      running=[(np.zeros(3), np.ones(3))])
    batch = np.array([[1.0, 2.0, 3.0], [3.0, 6.0, 3.0]])
    mean, var = batch.mean(axis=0), batch.var(axis=0)
    _update_running(network, 0, mean, var, 2, 0.1)
    running_mean, running_var = network.running[0]
    np.testing.assert_allclose(running_mean, 0.1 * mean)
    np.testing.assert_allclose(running_var, 0.9 + 0.1 * batch.var(axis=0, ddof=1))
    stats = simulate(network_config).layer_stats
    assert stats["preact_var"].loc[1:].notna().all()


def test_batchnorm_eval_converges_to_train_statistics_with_many_passes():
    common = dict(depth=3, width=128, batch_size=512, norm="batchnorm", activation="tanh")
    train = simulate(NetworkConfig(**common)).layer_stats
    evaluated = simulate(NetworkConfig(**common, bn_mode="eval", bn_passes=50,
                                       bn_momentum=0.5)).layer_stats
    np.testing.assert_allclose(evaluated["preact_unit_var"].loc[1:],
                               train["preact_unit_var"].loc[1:], rtol=0.1)


def test_residual_turns_products_into_sums():
    """Each residual layer adds a branch: out variance grows by a sum, not a product."""
    stats = simulate(NetworkConfig(depth=20, width=256, batch_size=512, activation="relu",
                                   init="kaiming_normal", residual=True,
                                   residual_scale=1 / math.sqrt(20))).layer_stats
    growth = stats["out_var"].loc[20] / stats["out_var"].loc[0]
    assert 1.5 < growth < 10  # a plain net with this gain would be ≈ 1; with scale 1 ≈ 2^20
    plain = simulate(NetworkConfig(depth=20, width=256, batch_size=512, activation="relu",
                                   init="kaiming_normal", residual=True)).layer_stats
    assert plain["out_var"].loc[20] / plain["out_var"].loc[0] > 1e4


def _linear_fit(values):
    """(slope, R²) of the least-squares line through (layer, value)."""
    layers = np.arange(len(values), dtype=float)
    slope, intercept = np.polyfit(layers, values, 1)
    residual = values - (slope * layers + intercept)
    return slope, 1.0 - residual.var() / values.var()


@pytest.mark.parametrize("norm", ["batchnorm", "layernorm"])
def test_pre_activation_residual_with_norm_adds_a_constant_per_layer(norm):
    """Pre form, ReLU/He, depth 50: q^l = q^{l−1} + s²·σ_w²·E[relu(z)²] = q^{l−1} + 1 with z
    standardised, so out_var grows linearly (products turned into sums), the mean stays near 0,
    no unit dies, and the gradient reaching layer 1 stays in the healthy band."""
    common = dict(depth=50, width=256, batch_size=512, activation="relu", init="kaiming_normal",
                  norm=norm)
    stats = simulate(NetworkConfig(**common, residual=True)).layer_stats
    out_var = stats["out_var"].to_numpy()
    slope, r_squared = _linear_fit(out_var)
    assert r_squared > 0.99 and slope == pytest.approx(1.0, rel=0.1)
    increments = np.diff(out_var)
    assert np.median(increments[1:] / increments[:-1]) == pytest.approx(1.0, abs=0.15)
    assert np.abs(stats["out_mean"]).max() < 1.0
    assert stats["dead_unit_frac"].loc[1:].max() < 0.05
    gradient = stats["grad_out_var"].loc[1] / stats["grad_out_var"].loc[50]
    assert 1e-6 < gradient < 1e3
    # Without the skip the same block is a product: with BatchNorm the gradient grows by a
    # factor a layer (out of the band); in the pre form without a norm the variance doubles.
    plain = simulate(NetworkConfig(**common)).layer_stats
    if norm == "batchnorm":
        plain_gradient = plain["grad_out_var"].loc[1] / plain["grad_out_var"].loc[50]
        assert plain_gradient > 1e3
    unnormalised = simulate(NetworkConfig(**{**common, "norm": "none"}, residual=True,
                                          dtype="float64")).layer_stats["out_var"]
    ratios = (unnormalised.loc[2:] / unnormalised.shift(1).loc[2:]).to_numpy()
    assert np.median(ratios) == pytest.approx(2.0, rel=0.05)
    assert unnormalised.loc[50] / unnormalised.loc[0] > 1e12


def test_post_activation_residual_relu_drifts_upwards():
    """Today's block (φ ends the branch): ReLU adds a positive mean every layer."""
    stats = simulate(NetworkConfig(depth=50, width=256, batch_size=512, activation="relu",
                                   init="kaiming_normal", residual=True, residual_form="post",
                                   residual_scale=50 ** -0.5)).layer_stats
    assert stats["out_mean"].loc[50] > 10 * max(stats["out_mean"].loc[1], 0.1)
    pre = simulate(NetworkConfig(depth=50, width=256, batch_size=512, activation="relu",
                                 init="kaiming_normal", residual=True,
                                 residual_scale=50 ** -0.5)).layer_stats
    assert abs(pre["out_mean"].loc[50]) < 0.5


def test_residual_form_is_canonical_without_residual():
    assert NetworkConfig(residual_form="post") == NetworkConfig()
    assert NetworkConfig(residual=True, residual_form="post").residual_form == "post"


def test_lsuv_gives_unit_variance_linear_outputs():
    stats = simulate(NetworkConfig(depth=8, width=128, batch_size=256, activation="relu",
                                   init="lsuv")).layer_stats
    np.testing.assert_allclose(stats["preact_var"].loc[1:], 1.0, rtol=2e-3)


def test_inverted_dropout_divides_by_keep_probability():
    base = dict(depth=1, width=512, batch_size=1024, activation="identity",
                init="orthogonal", dtype="float64")
    plain = simulate(NetworkConfig(**base)).layer_stats
    dropped = simulate(NetworkConfig(**base, dropout=0.5)).layer_stats
    ratio = dropped.loc[1, "out_var"] / plain.loc[1, "out_var"]
    assert ratio == pytest.approx(2.0, rel=0.02)


def test_zscore_fixes_unscaled_features():
    raw = simulate(NetworkConfig(input_dist="raw", depth=3)).layer_stats
    scaled = simulate(NetworkConfig(input_dist="raw", input_preprocess="zscore",
                                    depth=3)).layer_stats
    assert raw.loc[1, "preact_var"] > 1e3
    assert scaled.loc[1, "preact_var"] == pytest.approx(1.0, rel=0.1)
    assert raw.loc[1, "act_saturated_frac"] > 0.5 > scaled.loc[1, "act_saturated_frac"]


# Statistics, structure, determinism, overflow --------------------------------------------------

def test_layer_stats_has_the_contract_columns_and_one_row_per_layer():
    result = simulate(NetworkConfig(widths=(784, 256, 256, 10), batch_size=64))
    stats = result.layer_stats
    required = ["layer", "fan_in", "fan_out", "weight_var", "preact_mean", "preact_var",
                "preact_unit_var", "act_mean", "act_var", "act_unit_var", "out_var",
                "act_saturated_frac", "act_zero_frac", "dead_unit_frac", "grad_preact_var",
                "grad_out_var", "grad_weight_var", "grad_weight_norm", "grad_to_weight_ratio",
                "nonfinite_frac"]
    assert list(stats.columns[:len(required)]) == required
    assert list(stats.columns) == list(COLUMNS)
    assert stats["layer"].tolist() == [0, 1, 2, 3]
    assert stats["layer"].dtype.kind == "i"
    assert (stats.drop(columns="layer").dtypes == np.float64).all()
    assert stats["fan_in"].loc[1:].tolist() == [784, 256, 256]
    assert stats["fan_out"].loc[1:].tolist() == [256, 256, 10]


def test_pooled_and_per_unit_variance_differ_for_relu():
    stats = lesson(activation="relu", init="kaiming_normal")
    # ReLU units have different means: the pooled variance counts that spread, per-unit does not.
    assert (stats["act_var"].loc[2:] > 1.05 * stats["act_unit_var"].loc[2:]).all()


def test_unit_and_pooled_definitions_on_a_small_case():
    config = NetworkConfig(depth=2, width=16, batch_size=32, dtype="float64", activation="relu",
                           init="kaiming_normal", bias_init="normal", bias_std=0.5)
    network = build_network(config)
    stats = simulate(config, network).layer_stats
    # Recompute layer 1 from the weights and the same input stream.
    x = make_input(config, network, stream(config.seed, 4))
    z = x @ network.weights[0] + network.biases[0]
    a = np.maximum(z, 0)
    assert stats.loc[1, "preact_var"] == pytest.approx(z.var())
    assert stats.loc[1, "preact_unit_var"] == pytest.approx(z.var(axis=0).mean())
    assert stats.loc[1, "act_var"] == pytest.approx(a.var())
    assert stats.loc[1, "act_unit_var"] == pytest.approx(a.var(axis=0).mean())
    assert stats.loc[1, "act_zero_frac"] == pytest.approx((a == 0).mean())
    assert stats.loc[1, "dead_unit_frac"] == pytest.approx((a == 0).all(axis=0).mean())


def test_same_seed_same_result_and_other_seed_other_result():
    config = NetworkConfig(depth=5, width=64, batch_size=128, dropout=0.2, seed=42)
    first, second = simulate(config), simulate(config)
    pd.testing.assert_frame_equal(first.layer_stats, second.layer_stats)
    for key, hist in first.histograms.sets.items():
        np.testing.assert_array_equal(hist.counts, second.histograms.sets[key].counts)
    other = simulate(config.replace(seed=43))
    assert not np.allclose(first.layer_stats["act_var"].loc[1:], other.layer_stats["act_var"].loc[1:])


def test_deeper_network_starts_with_the_same_layers():
    shallow = simulate(NetworkConfig(depth=3, width=64, batch_size=64)).layer_stats
    deep = simulate(NetworkConfig(depth=6, width=64, batch_size=64)).layer_stats
    pd.testing.assert_series_equal(shallow["act_var"].loc[:3], deep["act_var"].loc[:3])


def test_overflow_is_reported_not_raised():
    config = NetworkConfig(depth=100, width=256, batch_size=128, activation="relu",
                           init="normal", init_std=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = simulate(config)
    layer = result.first_nonfinite_layer
    assert layer is not None and 10 < layer < 60
    stats = result.layer_stats
    assert stats.loc[layer, "nonfinite_frac"] > 0
    assert stats.loc[layer - 1, "nonfinite_frac"] == 0
    assert np.isfinite(stats.loc[layer - 1, "out_var"])
    assert np.isnan(stats.loc[layer, "out_var"])


def test_histograms_count_every_finite_sample_and_read_collapsed_layers():
    result = simulate(NetworkConfig(depth=10, width=256, batch_size=128, activation="tanh",
                                    init="normal", init_std=0.01))
    act = result.histograms.get("act", "std")
    assert act.counts.shape == (11, 40)
    assert (act.finite == 4096).all()
    # Layer 10 has variance ≈ 1e-13, yet its own-std histogram spreads over many bins.
    assert np.count_nonzero(act.counts[10]) > 15
    shared = result.histograms.get("act", "shared")
    assert shared.low[10] <= -1 and shared.high[10] >= 1
    assert (shared.low == shared.low[0]).all() and (shared.high == shared.high[0]).all()
    # On the shared range the collapsed layer is one spike at 0.
    assert np.count_nonzero(shared.counts[10]) <= 2


def test_histogram_rows_agree_with_numpy_histogram():
    from core.stats import histogram_rows
    rng = np.random.default_rng(0)
    samples = rng.standard_normal((3, 500))
    samples[1, :100] = np.nan
    low, high = np.array([-2.0, -1.0, 0.0]), np.array([2.0, 1.5, 3.0])
    hist = histogram_rows(samples, low, high, bins=10)
    for row in range(3):
        finite = samples[row][np.isfinite(samples[row])]
        expected, _ = np.histogram(finite, bins=10, range=(low[row], high[row]))
        np.testing.assert_array_equal(hist.counts[row], expected)
        assert hist.below[row] == np.count_nonzero(finite < low[row])
        assert hist.above[row] == np.count_nonzero(finite > high[row])


def test_moments_survive_a_large_mean_with_a_tiny_spread():
    from core.stats import moments
    x = (0.5 + 1e-5 * np.random.default_rng(0).standard_normal((256, 64))).astype(np.float32)
    m = moments(x)
    assert m.var == pytest.approx(float(x.astype(np.float64).var()), rel=1e-3)
    assert m.unit_var == pytest.approx(float(x.astype(np.float64).var(axis=0).mean()), rel=1e-3)


def test_histogram_payload_is_small_for_200_layers():
    result = simulate(NetworkConfig(depth=200, width=32, batch_size=64))
    total = sum(h.counts.nbytes + h.low.nbytes + h.high.nbytes + h.below.nbytes + h.above.nbytes
                for h in result.histograms.sets.values())
    assert total < 400_000


def test_moments_of_finite_entries_whose_squares_overflow_float64_are_inf_not_nan():
    from core.stats import moments
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 32)) * 1e200
    m = moments(x, across_units=True)
    assert m.nonfinite_frac == 0.0
    # The true variance is ≈ 1e400: beyond float64, so +inf (a bound), never NaN.
    assert m.var == m.unit_var == m.mean_square == m.across_units_var == float("inf")
    assert math.isfinite(m.mean) and abs(m.mean) < 1e200
    # Scaled down, the same entries give the same relative moments.
    small = moments(x * 1e-200)
    assert m.mean == pytest.approx(small.mean * 1e200)


def test_tiny_activations_and_gradients_report_their_true_mean_square():
    """Issue 18: act_mean_square read 0 below an RMS of ≈ 1e-19 (squares summed in float32).
    Identity φ with orthogonal weights × 1e-5: each layer scales every sample's norm by exactly
    1e-5 (up to float32 rounding), so E[x²] of layer l is the input's × 1e-10^l, down to 1e-70
    (entries ≈ 1e-35, still normal float32), and ∂L/∂out shrinks the same way going down."""
    config = NetworkConfig(depth=7, width=64, batch_size=128, activation="identity",
                           init="orthogonal", init_gain=1e-5)
    stats = simulate(config).layer_stats
    factor = 1e-10 ** np.arange(8)
    np.testing.assert_allclose(stats["act_mean_square"], stats.loc[0, "act_mean_square"] * factor,
                               rtol=1e-5)
    np.testing.assert_allclose(stats["preact_mean_square"].loc[1:],
                               stats["act_mean_square"].loc[1:], rtol=1e-6)
    np.testing.assert_allclose(stats["act_var"].loc[1:],
                               stats.loc[0, "act_var"] * factor[1:], rtol=1e-2)
    np.testing.assert_allclose(stats["grad_out_mean_square"].loc[1:],
                               stats.loc[7, "grad_out_mean_square"] * factor[::-1][1:],
                               rtol=1e-5)


def test_histograms_of_layers_smaller_than_the_sample_count_their_entries_only():
    """B·n = 128 < 4096 entries a layer: the histograms count those 128, binned as
    np.histogram bins layer 1's activations recomputed from the weights and the input."""
    config = NetworkConfig(depth=3, width=8, batch_size=16, dtype="float64")
    network = build_network(config)
    result = simulate(config, network)
    for quantity in ("preact", "act", "grad_out", "grad_preact"):
        for scale in ("std", "shared"):
            hist = result.histograms.get(quantity, scale)
            assert (hist.finite[1:] == 128).all(), (quantity, scale)
    x = make_input(config, network, stream(config.seed, 4))
    a = np.tanh(x @ network.weights[0])
    hist = result.histograms.get("act", "std")
    expected, _ = np.histogram(a.ravel(), bins=hist.counts.shape[1],
                               range=(hist.low[1], hist.high[1]))
    np.testing.assert_array_equal(hist.counts[1], expected)


# ForwardMemo: a depth slider's next move resumes the last forward pass -----------------------


MEMO_CONFIGS = [
    NetworkConfig(depth=1, width=24, batch_size=16, activation="relu", init="kaiming_normal"),
    NetworkConfig(depth=1, width=24, batch_size=16, activation="tanh", norm="batchnorm",
                  dropout=0.2, loss="mse"),
    NetworkConfig(depth=1, width=24, batch_size=16, residual=True, norm="layernorm",
                  residual_form="pre", loss="cross_entropy", init="torch_default"),
    NetworkConfig(depth=1, width=24, batch_size=16, activation="relu", init="normal",
                  init_std=3.0, bias_init="constant", bias_value=0.1),  # overflows by 60
    NetworkConfig(depth=1, width=24, batch_size=16, activation="tanh", init="normal",
                  init_std=0.01, input_dist="raw", input_preprocess="zscore"),  # underflows
    NetworkConfig(depth=1, width=24, batch_size=16, activation="gelu", dtype="float64",
                  norm="batchnorm", norm_position="after"),
]


@pytest.mark.parametrize("max_bytes", [2**30, 10 * 24 * 16 * 8])  # all layers; about 5 of them
@pytest.mark.parametrize("config", MEMO_CONFIGS,
                         ids=lambda c: f"{c.activation}-{c.init}-{c.norm}-{c.loss}")
def test_a_slider_moved_through_a_forward_memo_gives_fresh_results(config, max_bytes):
    memo = ForwardMemo(max_bytes)
    for depth in (7, 3, 30, 12, 60, 60, 1, 45):
        moved = replace(config, depth=depth)
        assert_same_result(simulate(moved, build_network(moved), forward=memo), simulate(moved))
    assert memo.hits > 0


def test_the_memo_resumes_after_its_last_layer_and_is_bounded():
    config = NetworkConfig(depth=1, width=32, batch_size=16, activation="relu")
    memo = ForwardMemo(2**30)
    simulate(replace(config, depth=10), forward=memo)
    assert (memo.hits, memo.misses) == (0, 10)
    simulate(replace(config, depth=25), forward=memo)
    assert (memo.hits, memo.misses) == (10, 25)  # layers 11–25 pushed through
    simulate(replace(config, depth=4), forward=memo)
    assert (memo.hits, memo.misses) == (14, 25)  # a shallower one: no forward pass at all
    per_layer = 32 * 16 * 4  # float32 (B, n): ReLU keeps one array a layer, and the input
    small = ForwardMemo(7 * per_layer)
    simulate(replace(config, depth=20), forward=small)
    assert small.get(replace(config, depth=1)).depth == 6


def test_what_the_memo_cannot_share_is_computed_without_it():
    memo = ForwardMemo(2**30)
    for config in (NetworkConfig(widths=(8, 16, 8), batch_size=8),
                   NetworkConfig(depth=3, width=8, batch_size=8, init="lsuv"),
                   NetworkConfig(depth=3, width=8, batch_size=8, norm="batchnorm",
                                 bn_mode="eval")):
        assert_same_result(simulate(config, forward=memo), simulate(config))
    assert (memo.hits, memo.misses) == (0, 0)
    first = NetworkConfig(depth=5, width=8, batch_size=8, seed=1)
    simulate(first, forward=memo)
    simulate(replace(first, seed=2), forward=memo)  # another network takes the memo's place
    assert memo.get(replace(first, depth=1)) is None
    with pytest.raises(ValueError, match="max_bytes"):
        ForwardMemo(-1)
