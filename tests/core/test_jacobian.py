"""The input–output Jacobian: isometry, spread, finite differences, determinism, overflow."""

import numpy as np
import pytest

from core import NetworkConfig
from core import theory
from core.jacobian import jacobian_matrix, jacobian_spectrum
from core.simulate import _INPUT, build_network, gradients, make_input, stream


def _forward(config, network, x):
    """The simulator's own forward map (BatchNorm with batch statistics, its dropout masks)."""
    return gradients(config, network, x, np.zeros((x.shape[0], config.layer_widths[-1]))).out


def _finite_difference_jacobian(config, sample=0, eps=1e-6):
    network = build_network(config)
    x = make_input(config, network, stream(config.seed, _INPUT)).astype(np.float64)
    rows = []
    for i in range(x.shape[1]):
        plus, minus = x.copy(), x.copy()
        plus[sample, i] += eps
        minus[sample, i] -= eps
        diff = _forward(config, network, plus) - _forward(config, network, minus)
        rows.append(diff[sample] / (2 * eps))
    return np.array(rows)


def test_orthogonal_linear_network_is_an_isometry():
    config = NetworkConfig(depth=10, width=128, init="orthogonal", activation="identity",
                           dtype="float64")
    exact = jacobian_spectrum(config)
    assert exact.method == "exact" and exact.samples == 4
    np.testing.assert_allclose(exact.singular_values, 1.0, atol=1e-5)
    assert exact.spread < 1e-6 and exact.mean_squared == pytest.approx(1.0, abs=1e-5)
    estimate = jacobian_spectrum(config, max_exact=0)
    assert estimate.method == "estimate"
    np.testing.assert_allclose(estimate.singular_values, 1.0, atol=1e-5)


def test_gaussian_relu_network_has_a_broad_spectrum():
    width = 128
    config = NetworkConfig(depth=10, width=width, init="normal", init_std=width ** -0.5,
                           activation="relu", dtype="float64")
    spectrum = jacobian_spectrum(config)
    assert spectrum.spread > 1.0 and spectrum.condition > 1e6
    # σ_w² = 1, ReLU: χ1 = 1/2 a layer, so the mean squared singular value is about 2^−10.
    assert spectrum.mean_squared == pytest.approx(2.0 ** -10, rel=0.3)


@pytest.mark.parametrize("changes", [
    dict(activation="tanh", norm="layernorm", residual=True, residual_scale=0.7, dropout=0.3),
    # (not gelu: its φ' is the exact Φ + zφ, its φ uses a 1e-7 erf fit, so they differ ~1e-6)
    dict(activation="silu", norm="layernorm", norm_position="after", residual=True),
    dict(activation="tanh", norm="layernorm", residual=True, residual_form="post",
         residual_scale=0.7, dropout=0.3),
    dict(activation="silu", norm="layernorm", norm_position="after", residual=True,
         residual_form="post"),
    dict(activation="elu", residual=True, bias_init="normal", bias_std=0.2, dropout=0.2),
    dict(activation="leaky_relu", leaky_slope=0.1, bias_init="normal", bias_std=0.2),
])
def test_exact_jacobian_matches_finite_differences(changes):
    config = NetworkConfig(widths=(6, 9, 7, 5), batch_size=8, dtype="float64", init="normal",
                           init_std=0.5, seed=3, **changes)
    numeric = _finite_difference_jacobian(config, sample=2)
    exact = jacobian_matrix(config, sample=2)
    assert exact.shape == (6, 5)
    np.testing.assert_allclose(exact, numeric, rtol=1e-6, atol=1e-8)
    # The spectrum is that matrix's (sample 0 here).
    spectrum = jacobian_spectrum(config, samples=1)
    np.testing.assert_allclose(spectrum.singular_values,
                               np.linalg.svd(jacobian_matrix(config, 0), compute_uv=False))


def test_batchnorm_train_jacobian_is_the_fixed_statistics_approximation():
    """With batch statistics held fixed the per-sample Jacobian misses O(1/batch) terms."""
    config = NetworkConfig(widths=(6, 32, 32, 5), batch_size=256, dtype="float64",
                           activation="tanh", norm="batchnorm", seed=1)
    numeric = _finite_difference_jacobian(config)
    exact = jacobian_matrix(config)
    relative = np.linalg.norm(exact - numeric) / np.linalg.norm(numeric)
    assert 0 < relative < 0.05


def test_deterministic_for_a_seed():
    config = NetworkConfig(depth=4, width=64, seed=7)
    for kwargs in ({}, {"max_exact": 0}):
        first, second = jacobian_spectrum(config, **kwargs), jacobian_spectrum(config, **kwargs)
        np.testing.assert_array_equal(first.singular_values, second.singular_values)
        assert first.mean_squared == second.mean_squared
    other = jacobian_spectrum(config.replace(seed=8))
    assert not np.array_equal(other.singular_values, first.singular_values)


def test_estimate_finds_the_largest_singular_values():
    config = NetworkConfig(depth=6, width=96, activation="tanh", init="xavier_normal",
                           dtype="float64")
    exact = jacobian_spectrum(config, samples=1)
    estimate = jacobian_spectrum(config, max_exact=0, samples=1, sketch=16)
    assert estimate.sketch == 16 and estimate.singular_values.size == 16
    top = np.sort(exact.singular_values)[::-1]
    np.testing.assert_allclose(estimate.singular_values[:4], top[:4], rtol=1e-2)
    assert estimate.mean_squared == pytest.approx(exact.mean_squared, rel=0.3)


def test_mean_squared_singular_value_is_the_product_of_chi1():
    """Theory cross-check: E[s²] = Π_l χ1^l at large width (square layers)."""
    config = NetworkConfig(depth=10, width=256, activation="tanh", init="xavier_normal",
                           dtype="float64")
    chi = theory.predict(config).table["pred_chi1"].prod()
    assert jacobian_spectrum(config).mean_squared == pytest.approx(chi, rel=0.15)


def test_supports_projections_eval_batchnorm_and_lsuv():
    for changes in (dict(widths=(32, 64, 16, 48), residual=True),
                    dict(widths=(32, 64, 16, 48), residual=True, residual_form="post"),
                    dict(norm="batchnorm", bn_mode="eval", residual=True),
                    dict(norm="batchnorm", bn_mode="eval", dropout=0.1),
                    dict(init="lsuv", activation="relu")):
        config = NetworkConfig(**{"depth": 4, "width": 32, "batch_size": 64, **changes})
        spectrum = jacobian_spectrum(config)
        assert not spectrum.nonfinite
        n = min(config.layer_widths[0], config.layer_widths[-1])
        assert spectrum.singular_values.size == 4 * n
        assert np.isfinite(spectrum.singular_values).all()


def test_overflowing_network_reports_nonfinite():
    config = NetworkConfig(depth=200, width=64, batch_size=32, activation="relu", init="normal",
                           init_std=100.0)
    for kwargs in ({}, {"max_exact": 0}):
        spectrum = jacobian_spectrum(config, **kwargs)
        assert spectrum.nonfinite
        assert spectrum.singular_values.size == 0 and np.isnan(spectrum.mean_squared)


def test_a_jacobian_over_its_memory_budget_is_refused_before_any_work():
    from core import ConfigError
    from core.jacobian import MAX_JACOBIAN_BYTES, jacobian_memory

    config = NetworkConfig(depth=11, width=2048, batch_size=2)
    assert jacobian_memory(config) > MAX_JACOBIAN_BYTES
    with pytest.raises(ConfigError) as error:
        jacobian_spectrum(config)
    assert error.value.code == "jacobian_memory"
