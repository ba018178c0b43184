"""Activation registry: each activation is its function, its derivative and its gain.

Every record takes the leaky-ReLU slope ``a`` as a second argument so that one table serves all
activations; the others ignore it. ``gain`` is the value of ``torch.nn.init.calculate_gain`` for
the activation, the factor that keeps Var[φ(z)]·gain² ≈ Var[z] for small z.

``derivative_from_output`` is the fast path of the backward pass where φ'(z) is a function of
φ(z) alone (tanh: 1 − a², sigmoid: a(1 − a), ReLU: 1[a > 0]); the other activations use
``derivative`` on the stored pre-activation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

Array = np.ndarray

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


@dataclass(frozen=True)
class Activation:
    """One activation: φ, φ', the recommended init gain, and its output range if bounded."""

    fn: Callable[[Array, float], Array]
    derivative: Callable[[Array, float], Array]
    gain: Callable[[float], float]
    bounds: tuple[float, float] | None = None
    derivative_from_output: Callable[[Array, float], Array] | None = None
    summary: str = ""

    def saturation_threshold(self) -> tuple[float, float] | None:
        """(centre, half-width·0.99): |φ(z) − centre| above it counts as saturated."""
        if self.bounds is None:
            return None
        lo, hi = self.bounds
        return (lo + hi) / 2.0, 0.99 * (hi - lo) / 2.0


def _sigmoid(z: Array) -> Array:
    # Split by sign so exp never overflows: σ(z) = 1/(1+e^−z) = e^z/(1+e^z).
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def _erf(x: Array) -> Array:
    """Error function, |error| < 1.2e-7 (Numerical Recipes' erfc Chebyshev fit), NumPy only."""
    t = 1.0 / (1.0 + 0.5 * np.abs(x))
    poly = -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    erfc = t * np.exp(poly)
    return np.where(x >= 0, 1.0 - erfc, erfc - 1.0).astype(x.dtype, copy=False)


def _phi_cdf(z: Array) -> Array:
    return 0.5 * (1.0 + _erf(z / math.sqrt(2.0)))


def _phi_pdf(z: Array) -> Array:
    return np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def _softplus(z: Array) -> Array:
    # log(1 + e^z) = max(z, 0) + log1p(e^−|z|): no overflow for large |z|.
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _elu(z: Array) -> Array:
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))


def _elu_derivative(z: Array) -> Array:
    return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0))).astype(z.dtype, copy=False)


def _relu_mask(values: Array) -> Array:
    return (values > 0).astype(values.dtype)


def _leaky(z: Array, a: float) -> Array:
    return np.where(z > 0, z, z * z.dtype.type(a))


def _leaky_derivative(values: Array, a: float) -> Array:
    return np.where(values > 0, 1.0, a).astype(values.dtype, copy=False)


ACTIVATIONS: dict[str, Activation] = {
    "identity": Activation(
        fn=lambda z, a: z,
        derivative=lambda z, a: np.ones_like(z),
        gain=lambda a: 1.0,
        derivative_from_output=lambda y, a: np.ones_like(y),
        summary="φ(z) = z",
    ),
    "sigmoid": Activation(
        fn=lambda z, a: _sigmoid(z),
        derivative=lambda z, a: _sigmoid(z) * (1 - _sigmoid(z)),
        gain=lambda a: 1.0,
        bounds=(0.0, 1.0),
        derivative_from_output=lambda y, a: y * (1 - y),
        summary="φ(z) = 1/(1+e^−z)",
    ),
    "tanh": Activation(
        fn=lambda z, a: np.tanh(z),
        derivative=lambda z, a: 1 - np.tanh(z) ** 2,
        gain=lambda a: 5.0 / 3.0,
        bounds=(-1.0, 1.0),
        derivative_from_output=lambda y, a: 1 - y * y,
        summary="φ(z) = tanh z",
    ),
    "relu": Activation(
        fn=lambda z, a: np.maximum(z, 0),
        derivative=lambda z, a: _relu_mask(z),
        gain=lambda a: math.sqrt(2.0),
        derivative_from_output=lambda y, a: _relu_mask(y),
        summary="φ(z) = max(z, 0)",
    ),
    "leaky_relu": Activation(
        fn=_leaky,
        derivative=_leaky_derivative,
        gain=lambda a: math.sqrt(2.0 / (1.0 + a * a)),
        # Only valid for a > 0 (the sign of φ(z) is the sign of z); checked by the caller.
        derivative_from_output=_leaky_derivative,
        summary="φ(z) = z if z > 0 else a·z",
    ),
    "elu": Activation(
        fn=lambda z, a: _elu(z),
        derivative=lambda z, a: _elu_derivative(z),
        gain=lambda a: 1.0,
        summary="φ(z) = z if z > 0 else e^z − 1",
    ),
    "selu": Activation(
        fn=lambda z, a: _SELU_SCALE * _elu_scaled(z),
        derivative=lambda z, a: _SELU_SCALE * np.where(
            z > 0, 1.0, _SELU_ALPHA * np.exp(np.minimum(z, 0))).astype(z.dtype, copy=False),
        gain=lambda a: 0.75,
        summary="φ(z) = λ·(z if z > 0 else α(e^z − 1)), λ ≈ 1.0507, α ≈ 1.6733",
    ),
    "gelu": Activation(
        fn=lambda z, a: z * _phi_cdf(z),
        derivative=lambda z, a: _phi_cdf(z) + z * _phi_pdf(z),
        gain=lambda a: 1.0,
        summary="φ(z) = z·Φ(z) (exact, erf form)",
    ),
    "silu": Activation(
        fn=lambda z, a: z * _sigmoid(z),
        derivative=lambda z, a: _sigmoid(z) * (1 + z * (1 - _sigmoid(z))),
        gain=lambda a: 1.0,
        summary="φ(z) = z·σ(z)",
    ),
    "softplus": Activation(
        fn=lambda z, a: _softplus(z),
        derivative=lambda z, a: _sigmoid(z),
        gain=lambda a: 1.0,
        summary="φ(z) = log(1 + e^z)",
    ),
    "scaled_sigmoid": Activation(
        fn=lambda z, a: 4 * _sigmoid(z) - 2,
        derivative=lambda z, a: 4 * _sigmoid(z) * (1 - _sigmoid(z)),
        gain=lambda a: 1.0,
        bounds=(-2.0, 2.0),
        # y = 4σ − 2 ⇒ σ = (y + 2)/4 ⇒ φ' = 4σ(1 − σ) = (2 + y)(2 − y)/4 = 1 − y²/4.
        derivative_from_output=lambda y, a: 1 - 0.25 * y * y,
        summary="φ(z) = 4·σ(z) − 2 (slope 1 at 0, like tanh)",
    ),
}


def _elu_scaled(z: Array) -> Array:
    return np.where(z > 0, z, _SELU_ALPHA * np.expm1(np.minimum(z, 0)))


ACTIVATION_NAMES: tuple[str, ...] = tuple(ACTIVATIONS)
