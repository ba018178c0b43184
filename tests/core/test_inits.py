"""Every init against the formula in PyTorch's torch.nn.init documentation (written out here,
not read from the registry), with tolerances from the sample size."""

import math

import numpy as np
import pytest

from core.inits import INITS, InitParams, kaiming_gain

FAN_IN, FAN_OUT = 300, 500
PARAMS = InitParams(std=0.3, bound=0.7, value=0.25, mode="fan_in", dtype=np.float64)
GAIN = 1.7


def draw(name, fan_in=FAN_IN, fan_out=FAN_OUT, params=PARAMS, gain=GAIN, seed=0):
    return INITS[name].fn(fan_in, fan_out, gain, np.random.default_rng(seed), params)


# (name, expected variance, kurtosis-based factor for the variance estimate's std)
EXPECTED = [
    ("normal", 0.3 ** 2, 2.0),
    ("uniform", 0.7 ** 2 / 3, 0.8),
    ("xavier_uniform", GAIN ** 2 * 2 / (FAN_IN + FAN_OUT), 0.8),
    ("xavier_normal", GAIN ** 2 * 2 / (FAN_IN + FAN_OUT), 2.0),
    ("kaiming_uniform", GAIN ** 2 / FAN_IN, 0.8),
    ("kaiming_normal", GAIN ** 2 / FAN_IN, 2.0),
    ("lecun_normal", GAIN ** 2 / FAN_IN, 2.0),
    ("lecun_uniform", GAIN ** 2 / FAN_IN, 0.8),
    ("torch_default", 1 / (3 * FAN_IN), 0.8),
]


@pytest.mark.parametrize("name,variance,factor", EXPECTED)
def test_empirical_variance_matches_formula(name, variance, factor):
    w = draw(name)
    assert w.shape == (FAN_IN, FAN_OUT)
    # Var of the sample variance ≈ factor·σ⁴/N (2 for Gaussian, 0.8 for uniform); 5 sigmas.
    tolerance = 5 * math.sqrt(factor / w.size)
    assert w.var() == pytest.approx(variance, rel=tolerance)
    assert abs(w.mean()) < 5 * math.sqrt(variance / w.size)
    assert INITS[name].variance(FAN_IN, FAN_OUT, GAIN, PARAMS) == pytest.approx(variance)


@pytest.mark.parametrize("name,bound", [
    ("uniform", 0.7), ("xavier_uniform", GAIN * math.sqrt(6 / (FAN_IN + FAN_OUT))),
    ("kaiming_uniform", GAIN * math.sqrt(3 / FAN_IN)), ("lecun_uniform", GAIN * math.sqrt(3 / FAN_IN)),
    ("torch_default", 1 / math.sqrt(FAN_IN))])
def test_uniform_bounds(name, bound):
    w = draw(name)
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.99 * bound


def test_kaiming_fan_out_mode_uses_fan_out():
    params = InitParams(mode="fan_out", dtype=np.float64)
    w = draw("kaiming_normal", params=params, gain=math.sqrt(2))
    assert w.var() == pytest.approx(2 / FAN_OUT, rel=5 * math.sqrt(2 / w.size))


def test_kaiming_gain_follows_torch_default_nonlinearity():
    assert kaiming_gain("relu", 0.3) == pytest.approx(math.sqrt(2))
    assert kaiming_gain("tanh", 0.3) == pytest.approx(math.sqrt(2))
    assert kaiming_gain("leaky_relu", 0.3) == pytest.approx(math.sqrt(2 / 1.09))


def test_truncated_normal_is_cut_at_two_std():
    w = draw("truncated_normal", fan_in=1000, fan_out=1000)
    assert np.abs(w).max() <= 2 * 0.3
    # Var of N(0, σ²) truncated at ±2σ: σ²·(1 − 2·2φ(2)/(2Φ(2) − 1)).
    phi2 = math.exp(-2) / math.sqrt(2 * math.pi)
    big_phi = 0.5 * (1 + math.erf(2 / math.sqrt(2)))
    expected = 0.09 * (1 - 4 * phi2 / (2 * big_phi - 1))
    assert w.var() == pytest.approx(expected, rel=5 * math.sqrt(1.6 / w.size))


@pytest.mark.parametrize("fan_in,fan_out", [(300, 500), (500, 300), (128, 128)])
def test_orthogonal_is_orthogonal_in_torchs_dimension(fan_in, fan_out):
    w = draw("orthogonal", fan_in=fan_in, fan_out=fan_out, gain=1.0)
    torch_weight = w.T  # (out, in), as torch stores it
    rows, cols = torch_weight.shape
    if rows >= cols:  # torch: columns orthonormal
        np.testing.assert_allclose(torch_weight.T @ torch_weight, np.eye(cols), atol=1e-10)
    else:
        np.testing.assert_allclose(torch_weight @ torch_weight.T, np.eye(rows), atol=1e-10)


def test_orthogonal_preserves_norms_and_applies_gain():
    w = draw("orthogonal", fan_in=256, fan_out=256, gain=2.0)
    x = np.random.default_rng(3).standard_normal((10, 256))
    np.testing.assert_allclose(np.linalg.norm(x @ w, axis=1), 2 * np.linalg.norm(x, axis=1))


def test_orthogonal_sign_convention_makes_the_distribution_haar():
    """With Q·sign(diag R) the first column's first entry is symmetric around 0."""
    firsts = [draw("orthogonal", 8, 8, gain=1.0, seed=s)[0, 0] for s in range(400)]
    assert abs(np.mean(np.sign(firsts))) < 0.2


@pytest.mark.parametrize("name,value", [("zeros", 0.0), ("constant", 0.25)])
def test_constant_inits(name, value):
    w = draw(name)
    assert (w == value).all()


def test_dtype_is_respected():
    for name in INITS:
        w = INITS[name].fn(20, 30, 1.0, np.random.default_rng(0), InitParams(dtype=np.float32))
        assert w.dtype == np.float32, name
        assert w.shape == (20, 30), name


def test_same_rng_seed_same_weights():
    np.testing.assert_array_equal(draw("xavier_normal", seed=5), draw("xavier_normal", seed=5))
    assert not np.array_equal(draw("xavier_normal", seed=5), draw("xavier_normal", seed=6))
