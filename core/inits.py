"""Weight-initialisation registry, with torch.nn.init's semantics.

Weights are stored as (fan_in, fan_out) so that a layer is ``h @ W``: this is the transpose of
torch's ``nn.Linear.weight`` (out_features, in_features). fan_in is the number of inputs of a unit,
as in torch, whatever the layout. Every scheme is one function of (fan_in, fan_out, gain, rng,
params) returning that (fan_in, fan_out) array; ``gain`` is the final multiplier, already
including ``init_gain`` and, for Kaiming, the ReLU-family gain √(2/(1+a²)).

Formulas (torch.nn.init, n_in = fan_in, n_out = fan_out):

- xavier_uniform:   U(±b), b = gain·√(6/(n_in+n_out))       ⇒ Var = gain²·2/(n_in+n_out)
- xavier_normal:    N(0, σ²), σ = gain·√(2/(n_in+n_out))
- kaiming_uniform:  U(±b), b = gain·√(3/fan)                ⇒ Var = gain²/fan, fan by init_mode
- kaiming_normal:   N(0, σ²), σ = gain/√fan
- lecun_normal:     N(0, σ²), σ = gain/√n_in   (kaiming with gain 1, mode fan_in)
- lecun_uniform:    U(±b), b = gain·√(3/n_in)
- orthogonal:       QR of an (out, in) Gaussian, Q·sign(diag R), times gain; rows or columns
                    orthonormal, whichever are fewer (torch.nn.init.orthogonal_)
- torch_default:    nn.Linear.reset_parameters: U(±1/√n_in) for the weight and the bias
- truncated_normal: N(0, σ²) cut at ±2σ (TensorFlow's convention; torch.nn.init.trunc_normal_ cuts
                    at absolute ±2 by default), Var = σ²·(1 − 4φ(2)/(2Φ(2) − 1)) ≈ 0.774·σ²
- lsuv:             orthogonal, then the simulator rescales each layer on the batch so that its
                    linear output has unit variance (Mishkin & Matas, 2016)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

Array = np.ndarray
Generator = np.random.Generator


@dataclass(frozen=True)
class InitParams:
    """The scheme-specific numbers a config carries (unused ones are ignored)."""

    std: float = 0.01
    bound: float = 0.05
    value: float = 0.0
    mode: str = "fan_in"
    dtype: type = np.float32


@dataclass(frozen=True)
class Init:
    """One scheme and its rules.

    - ``fn(fan_in, fan_out, gain, rng, params)`` → the (fan_in, fan_out) weight;
    - ``weight_variance(fan_in, fan_out, gain, params)``: Var of one entry, from the formula
      (0 for constants);
    - ``random_iid``: entries independent with that variance (orthogonal and LSUV are not);
    - ``calibrates``: the simulator rescales each layer on the batch (LSUV);
    - ``bias(fan_in, fan_out, rng, dtype)``: the scheme draws its own bias, overriding
      bias_init (torch_default, as nn.Linear), with ``bias_variance(fan_in)``;
    - ``theory_reason``: "" when the mean-field theory applies, else the code of
      ``theory.REASONS`` saying why not (constant weights; a calibration on the batch).
    """

    fn: Callable[[int, int, float, Generator, InitParams], Array]
    uses_gain: bool
    params: tuple[str, ...]
    formula: str
    weight_variance: Callable[[int, int, float, InitParams], float]
    random_iid: bool = True
    calibrates: bool = False
    bias: Callable[[int, int, Generator, type], Array] | None = None
    bias_variance: Callable[[int], float] | None = None
    theory_reason: str = ""

    def variance(self, fan_in: int, fan_out: int, gain: float, params: InitParams) -> float:
        """The variance of one weight entry, from the formula (0 for constants)."""
        return self.weight_variance(fan_in, fan_out, gain, params)


def _normal(shape: tuple[int, int], std: float, rng: Generator, dtype: type) -> Array:
    w = rng.standard_normal(shape, dtype=np.float64 if dtype == np.float64 else np.float32)
    w *= w.dtype.type(std)
    return w


def _uniform(shape: tuple[int, int], bound: float, rng: Generator, dtype: type) -> Array:
    return rng.uniform(-bound, bound, size=shape).astype(dtype, copy=False)


def _fan(fan_in: int, fan_out: int, mode: str) -> int:
    return fan_in if mode == "fan_in" else fan_out


def zeros(fan_in, fan_out, gain, rng, p):
    return np.zeros((fan_in, fan_out), dtype=p.dtype)


def constant(fan_in, fan_out, gain, rng, p):
    return np.full((fan_in, fan_out), p.value, dtype=p.dtype)


def normal(fan_in, fan_out, gain, rng, p):
    return _normal((fan_in, fan_out), p.std, rng, p.dtype)


def uniform(fan_in, fan_out, gain, rng, p):
    return _uniform((fan_in, fan_out), p.bound, rng, p.dtype)


def truncated_normal(fan_in, fan_out, gain, rng, p):
    z = rng.standard_normal((fan_in, fan_out))
    # Rejection: each round redraws the ≈4.6% outside ±2, so a few rounds empty the set.
    outside = np.abs(z) > 2.0
    while outside.any():
        z[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(z) > 2.0
    return (z * p.std).astype(p.dtype)


def xavier_uniform(fan_in, fan_out, gain, rng, p):
    return _uniform((fan_in, fan_out), gain * math.sqrt(6.0 / (fan_in + fan_out)), rng, p.dtype)


def xavier_normal(fan_in, fan_out, gain, rng, p):
    return _normal((fan_in, fan_out), gain * math.sqrt(2.0 / (fan_in + fan_out)), rng, p.dtype)


def kaiming_uniform(fan_in, fan_out, gain, rng, p):
    bound = gain * math.sqrt(3.0 / _fan(fan_in, fan_out, p.mode))
    return _uniform((fan_in, fan_out), bound, rng, p.dtype)


def kaiming_normal(fan_in, fan_out, gain, rng, p):
    return _normal((fan_in, fan_out), gain / math.sqrt(_fan(fan_in, fan_out, p.mode)), rng, p.dtype)


def lecun_normal(fan_in, fan_out, gain, rng, p):
    return _normal((fan_in, fan_out), gain / math.sqrt(fan_in), rng, p.dtype)


def lecun_uniform(fan_in, fan_out, gain, rng, p):
    return _uniform((fan_in, fan_out), gain * math.sqrt(3.0 / fan_in), rng, p.dtype)


def orthogonal(fan_in, fan_out, gain, rng, p):
    """torch.nn.init.orthogonal_ on the (out, in) weight, returned transposed.

    torch: flat = N(0,1) of (rows, cols) = (out, in); if rows < cols: flat = flatᵀ;
    Q, R = qr(flat); Q *= sign(diag R); if rows < cols: Q = Qᵀ; W = gain·Q.
    So the torch weight has orthonormal columns when out ≥ in (WᵀW = I_in) and orthonormal rows
    otherwise (WWᵀ = I_out). Ours is its transpose: h @ W keeps ‖h‖ when fan_out ≥ fan_in.
    """
    rows, cols = fan_out, fan_in
    flat = rng.standard_normal((rows, cols), dtype=np.float64 if p.dtype == np.float64
                               else np.float32)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    w_torch = q * q.dtype.type(gain)
    return np.ascontiguousarray(w_torch.T, dtype=p.dtype)


def torch_default(fan_in, fan_out, gain, rng, p):
    """nn.Linear: kaiming_uniform_(a=√5) ⇒ bound = √(2/(1+5))·√(3/fan_in) = 1/√fan_in."""
    return _uniform((fan_in, fan_out), 1.0 / math.sqrt(fan_in), rng, p.dtype)


_TRUNC_2_VARIANCE_FACTOR = 1.0 - 4.0 * math.exp(-2.0) / math.sqrt(2 * math.pi) / math.erf(
    2.0 / math.sqrt(2.0))

def torch_default_bias(fan_in, fan_out, rng, dtype):
    """nn.Linear's bias: U(±1/√fan_in), Var = 1/(3·fan_in)."""
    bound = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=fan_out).astype(dtype)


def _xavier_var(i, o, g, p):
    return g * g * 2.0 / (i + o)


def _kaiming_var(i, o, g, p):
    return g * g / _fan(i, o, p.mode)


def _lecun_var(i, o, g, p):
    return g * g / i


def _orthogonal_var(i, o, g, p):
    # Semi-orthogonal Q: each entry has variance 1/max(i, o) on average.
    return g * g / max(i, o)


INITS: dict[str, Init] = {
    "zeros": Init(zeros, False, (), "W = 0", lambda i, o, g, p: 0.0, random_iid=False,
                  theory_reason="constant_init"),
    "constant": Init(constant, False, ("init_value",), "W = c", lambda i, o, g, p: 0.0,
                     random_iid=False, theory_reason="constant_init"),
    "normal": Init(normal, False, ("init_std",), "W ~ N(0, σ²)", lambda i, o, g, p: p.std ** 2),
    "uniform": Init(uniform, False, ("init_bound",), "W ~ U(−b, b), Var = b²/3",
                    lambda i, o, g, p: p.bound ** 2 / 3.0),
    "truncated_normal": Init(truncated_normal, False, ("init_std",),
                             "W ~ N(0, σ²) cut at ±2σ, Var ≈ 0.774·σ²",
                             lambda i, o, g, p: p.std ** 2 * _TRUNC_2_VARIANCE_FACTOR),
    "xavier_uniform": Init(xavier_uniform, True, ("init_gain",),
                           "W ~ U(±g·√(6/(fan_in+fan_out))), Var = 2g²/(fan_in+fan_out)",
                           _xavier_var),
    "xavier_normal": Init(xavier_normal, True, ("init_gain",),
                          "W ~ N(0, 2g²/(fan_in+fan_out))", _xavier_var),
    "kaiming_uniform": Init(kaiming_uniform, True, ("init_gain", "init_mode"),
                            "W ~ U(±g·√(3/fan)), Var = g²/fan, g = √(2/(1+a²))", _kaiming_var),
    "kaiming_normal": Init(kaiming_normal, True, ("init_gain", "init_mode"),
                           "W ~ N(0, g²/fan), g = √(2/(1+a²))", _kaiming_var),
    "lecun_normal": Init(lecun_normal, True, ("init_gain",), "W ~ N(0, 1/fan_in)", _lecun_var),
    "lecun_uniform": Init(lecun_uniform, True, ("init_gain",),
                          "W ~ U(±√(3/fan_in)), Var = 1/fan_in", _lecun_var),
    "orthogonal": Init(orthogonal, True, ("init_gain",),
                       "W = g·Q, Q from the QR of a Gaussian matrix (WᵀW = I)", _orthogonal_var,
                       random_iid=False),
    "torch_default": Init(torch_default, False, (),
                          "W, b ~ U(±1/√fan_in) (nn.Linear's default), Var = 1/(3·fan_in)",
                          lambda i, o, g, p: 1.0 / (3.0 * i), bias=torch_default_bias,
                          bias_variance=lambda i: 1.0 / (3.0 * i)),
    "lsuv": Init(orthogonal, True, ("init_gain",),
                 "orthogonal, then each layer scaled on the batch to Var(output) = 1",
                 _orthogonal_var, random_iid=False, calibrates=True, theory_reason="lsuv"),
}

INIT_NAMES: tuple[str, ...] = tuple(INITS)


def kaiming_gain(activation: str, leaky_slope: float) -> float:
    """torch's kaiming default: gain = √(2/(1+a²)), a = leaky_slope for leaky_relu, else 0."""
    a = leaky_slope if activation == "leaky_relu" else 0.0
    return math.sqrt(2.0 / (1.0 + a * a))
