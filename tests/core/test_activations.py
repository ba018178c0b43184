"""The activation registry: derivatives against finite differences, gains against PyTorch."""

import math

import numpy as np
import pytest

from core.activations import ACTIVATIONS, ACTIVATION_NAMES

SLOPE = 0.2
# torch.nn.init.calculate_gain, from PyTorch's documentation table.
TORCH_GAINS = {
    "identity": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0),
    "leaky_relu": math.sqrt(2.0 / (1.0 + SLOPE ** 2)), "selu": 0.75,
}


def test_registry_names_match_the_issue():
    assert set(ACTIVATION_NAMES) == {"identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu",
                                     "selu", "gelu", "silu", "softplus", "scaled_sigmoid"}


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_derivative_matches_central_differences(name):
    act = ACTIVATIONS[name]
    z = np.random.default_rng(1).normal(0.0, 2.0, size=2000)
    z = z[np.abs(z) > 1e-3]  # away from the kinks of relu-like functions
    h = 1e-6
    numeric = (act.fn(z + h, SLOPE) - act.fn(z - h, SLOPE)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z, SLOPE), numeric, rtol=2e-6, atol=2e-7)


@pytest.mark.parametrize("name", [n for n in ACTIVATION_NAMES
                                  if ACTIVATIONS[n].derivative_from_output is not None])
def test_derivative_from_output_agrees_with_derivative(name):
    act = ACTIVATIONS[name]
    z = np.random.default_rng(2).normal(0.0, 3.0, size=1000)
    np.testing.assert_allclose(act.derivative_from_output(act.fn(z, SLOPE), SLOPE),
                               act.derivative(z, SLOPE), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name,gain", TORCH_GAINS.items())
def test_gain_is_torch_calculate_gain(name, gain):
    assert ACTIVATIONS[name].gain(SLOPE) == pytest.approx(gain, rel=1e-12)


def test_known_values():
    z = np.array([-30.0, -1.0, 0.0, 1.0, 30.0])
    a = ACTIVATIONS
    np.testing.assert_allclose(a["sigmoid"].fn(z, 0), 1 / (1 + np.exp(-z)), rtol=1e-12)
    np.testing.assert_allclose(a["softplus"].fn(z, 0), np.log1p(np.exp(z)), rtol=1e-12)
    np.testing.assert_allclose(a["leaky_relu"].fn(z, 0.1), np.where(z > 0, z, 0.1 * z))
    np.testing.assert_allclose(a["elu"].fn(z, 0), np.where(z > 0, z, np.exp(z) - 1), rtol=1e-12)
    erf = np.vectorize(math.erf)
    np.testing.assert_allclose(a["gelu"].fn(z, 0), z * 0.5 * (1 + erf(z / math.sqrt(2))),
                               rtol=1e-6, atol=1e-7)
    selu = 1.0507009873554805 * np.where(z > 0, z, 1.6732632423543772 * (np.exp(z) - 1))
    np.testing.assert_allclose(a["selu"].fn(z, 0), selu, rtol=1e-12)


def test_scaled_sigmoid_behaves_like_tanh_near_zero():
    """4σ(x) − 2 has value 0 and slope 1 at 0, as tanh does, so small signals pass alike."""
    z = np.linspace(-0.1, 0.1, 201)
    scaled, tanh = ACTIVATIONS["scaled_sigmoid"], ACTIVATIONS["tanh"]
    assert scaled.fn(np.array([0.0]), 0)[0] == 0.0
    assert scaled.derivative(np.array([0.0]), 0)[0] == pytest.approx(1.0)
    # 4σ(x) − 2 = 2·tanh(x/2) ≈ x − x³/12 against tanh x ≈ x − x³/3: they differ by ≈ x³/4.
    np.testing.assert_allclose(scaled.fn(z, 0), tanh.fn(z, 0), atol=0.26 * 0.1 ** 3)


def test_no_overflow_for_large_inputs():
    z = np.array([-1e4, 1e4], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise"):
        for name in ("sigmoid", "softplus", "scaled_sigmoid", "silu"):
            assert np.isfinite(ACTIVATIONS[name].fn(z, 0)).all(), name


def test_float32_stays_float32():
    z = np.linspace(-3, 3, 11, dtype=np.float32)
    for name, act in ACTIVATIONS.items():
        assert act.fn(z, SLOPE).dtype == np.float32, name
        assert act.derivative(z, SLOPE).dtype == np.float32, name
