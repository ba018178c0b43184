"""Mean-field theory of a deep MLP at initialisation (Poole et al. 2016, Schoenholz et al. 2017,
Pennington et al. 2017): what the variances *should* be, layer by layer, to draw next to what
``simulate`` measures.

Notation. z ~ N(0, 1); E[·] is over z (and z1, z2 for pairs). σ_w² = fan_in·Var(W) and
σ_b² = Var(b) (the random, zero-mean part of the bias). q is a pre-activation's second moment.

- Variance map:        q^l = σ_w²·E[φ(√q^{l-1}·z)²] + σ_b²
- Fixed point:         q* = σ_w²·E[φ(√q*·z)²] + σ_b²  (the point the map reaches from q = 1; 0 or ∞
                       are possible: tanh with σ_b² = 0, σ_w² ≤ 1 collapses, ReLU with σ_w² > 2
                       explodes)
- χ1 = σ_w²·E[φ'(√q*·z)²]: the mean squared singular value of one layer's Jacobian; gradients
  grow (χ1 > 1) or shrink (χ1 < 1) by χ1 per layer. χ1 = 1 is the critical line ("edge of chaos").
- Correlation map:     c ↦ (σ_w²·E[φ(u1)·φ(u2)] + σ_b²)/q*,
                       u1 = √q*·z1, u2 = √q*·(c·z1 + √(1−c²)·z2)
  Its fixed point c* is 1 in the ordered phase (χ1 < 1: inputs become alike) and below 1 in the
  chaotic phase. χ_c = σ_w²·E[φ'(u1)·φ'(u2)] at c* is its slope there (χ_c = χ1 when c* = 1).
- Depth scales: ξ_q = −1/log(slope of the variance map at q*), ξ_c = −1/log χ_c; ξ_c is infinite
  on the critical line, where signals propagate deepest.

Public functions

- ``gaussian_expectation(f, var, mean=0.0)`` → E[f(mean + √var·z)], float64, vectorised.
- ``gauss_hermite_expectation(f, q, n=200)`` → E[f(√q·z)] by plain Gauss–Hermite (smooth f).
- ``variance_map``, ``q_fixed_point``, ``chi1``, ``correlation_map``, ``mean_field``
  (→ ``MeanField``), ``critical_sigma_w2``, ``phase_grid`` (→ ``PhaseGrid``).
- ``predict(config)`` → ``Prediction``: the per-layer table for a ``NetworkConfig``, or why the
  theory does not apply (``supported=False`` with a ``reason_code``). ``PREDICTION_COLUMNS``
  lists its columns, ``REASONS`` and ``NOTES`` map codes to English.
- ``agreement_score(measured, predicted)``, ``agreement(layer_stats, table)``: median over layers
  of |log10(measured/predicted)|, 0 is perfect, 0.3 is a factor of 2.

Quadrature. Plain Gauss–Hermite (``numpy.polynomial.hermite_e.hermegauss``) converges slowly
for a kinked φ (ReLU) and fails for large q, where φ(√q·z) changes on a scale 1/√q far below the
spacing of its nodes near 0 (tanh at q = 10⁴ changes over |z| ≈ 0.01, the central nodes of a
200-point rule are 0.1 apart). ``gaussian_expectation`` therefore integrates the density
explicitly with a composite Gauss–Legendre rule whose panels are split at the kink point of φ
(u = 0) and graded geometrically towards it down to 10⁻⁶, then 0.5 wide out to ±10 standard
deviations (the tail beyond holds < 10⁻²²). That makes E[φ²] accurate to ~1e-14 relative for q
from 1e-12 to 1e4 and beyond (see tests/core/test_theory.py, which also cross-checks with
Gauss–Hermite where Gauss–Hermite is reliable). φ is evaluated in float64.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from numpy.polynomial.hermite_e import hermegauss

from . import block
from .activations import ACTIVATIONS, Activation
from .config import NetworkConfig
from .inits import INITS, InitParams, kaiming_gain

Array = np.ndarray

_SQRT_2PI = math.sqrt(2.0 * math.pi)
#: Half-length of the integration range in standard deviations.
_HALF_LENGTH = 10.0
#: A kink further than this (in standard deviations) from the mean is left unresolved: the
#: density there is below 1e-8 and the coarse panels already integrate it.
_KINK_LIMIT = 6.0
#: Beyond this q the phase-grid table extrapolates, and χ1 of an exploding map (q* = ∞) is
#: evaluated here.
Q_CAP = 1e12
_TINY_Q = 1e-300


# ------------------------------------------------------------------------------------------
# Quadrature
# ------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _graded_rule(half_length: float, h0: float, coarse: float, order: int) -> tuple[Array, Array]:
    """Nodes t and Gauss–Legendre weights for ∫_{−L}^{L} g(t) dt, panels graded towards t = 0
    (h0, 2h0, 4h0, … up to ``coarse``, then ``coarse`` wide) so that a kink or a feature of
    any width ≥ h0 at 0 is resolved."""
    edges = [0.0]
    h = h0
    while h < coarse:
        edges.append(h)
        h *= 2.0
    edges.append(coarse)
    while edges[-1] < half_length:
        edges.append(min(edges[-1] + coarse, half_length))
    edges = np.array(edges)
    x, w = np.polynomial.legendre.leggauss(order)
    a, b = edges[:-1, None], edges[1:, None]
    t = ((b - a) / 2 * x + (a + b) / 2).ravel()
    wt = ((b - a) / 2 * w).ravel()
    return np.concatenate([-t[::-1], t]), np.concatenate([wt[::-1], wt])


#: (h0, coarse, order): the fine rule of 1-D expectations, and a lighter one for the inner
#: integral of pair expectations (which costs outer × inner evaluations).
_FINE = (1e-6, 0.5, 8)
_LIGHT = (1e-4, 1.0, 8)


def _normal_pdf(z: Array) -> Array:
    return np.exp(-0.5 * z * z) / _SQRT_2PI


def _rule_for(var: Array, mean: Array, grade: tuple[float, float, int]) -> tuple[Array, Array]:
    """Standard-normal nodes z (k, n) and weights (k, n) for each (var, mean) pair, centred on
    the kink z = −mean/√var where it lies within ``_KINK_LIMIT`` standard deviations."""
    sd = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        kink = np.where(sd > 0, -mean / sd, 0.0)
    kink = np.where(np.isfinite(kink) & (np.abs(kink) <= _KINK_LIMIT), kink, 0.0)
    if not kink.any():
        t, w = _graded_rule(_HALF_LENGTH, *grade)
        z = np.broadcast_to(t, (var.size, t.size))
        return z, np.broadcast_to(w * _normal_pdf(t), z.shape)
    t, w = _graded_rule(_HALF_LENGTH + _KINK_LIMIT, *grade)
    z = kink[:, None] + t[None, :]
    return z, w[None, :] * _normal_pdf(z)


def gaussian_expectation(f: Callable[[Array], Array], var, mean=0.0, *,
                         _grade: tuple[float, float, int] = _FINE) -> Array:
    """E_{z~N(0,1)}[f(mean + √var·z)] for every pair of the broadcast ``var`` and ``mean``.

    ``f`` takes and returns float64 arrays (any shape, elementwise). The rule is split at the
    point where the argument crosses 0, where ReLU-type activations have their kink; var = 0
    gives f(mean). Non-finite var or mean give NaN or ±inf, not an error.
    """
    with np.errstate(all="ignore"):
        shape, u, w = _nodes(var, mean, _grade)
        return np.einsum("kn,kn->k", f(u), w).reshape(shape)


def _nodes(var, mean, grade) -> tuple[tuple[int, ...], Array, Array]:
    """The broadcast shape, and per (var, mean) pair the points u = mean + √var·z and weights
    of the split rule (one row each)."""
    var, mean = np.broadcast_arrays(np.asarray(var, dtype=np.float64),
                                    np.asarray(mean, dtype=np.float64))
    v, m = var.reshape(-1), mean.reshape(-1)
    z, w = _rule_for(v, m, grade)
    return var.shape, m[:, None] + np.sqrt(v)[:, None] * z, w


def hermite_rule(n: int = 200) -> tuple[Array, Array]:
    """Probabilists' Gauss–Hermite nodes and weights normalised to sum 1 (hermegauss's sum to
    √(2π)): Σ w_i f(x_i) ≈ E_{z~N(0,1)}[f(z)], exact for polynomials of degree < 2n."""
    x, w = hermegauss(n)
    return x, w / _SQRT_2PI


def gauss_hermite_expectation(f: Callable[[Array], Array], q, n: int = 200) -> Array:
    """E[f(√q·z)] by plain n-point Gauss–Hermite. Accurate for smooth f at moderate q; for
    kinked f or large q use ``gaussian_expectation`` (see the module docstring)."""
    x, w = hermite_rule(n)
    q = np.asarray(q, dtype=np.float64)
    return f(np.sqrt(q)[..., None] * x) @ w


def _activation(activation) -> Activation:
    return ACTIVATIONS[activation] if isinstance(activation, str) else activation


def _moments(act: Activation, slope: float, var, mean=0.0
             ) -> tuple[Array, Array, Array, Array]:
    """(E[φ], E[φ²], E[φ'], E[φ'²]) at u ~ N(mean, var), one set of nodes for the four."""
    with np.errstate(all="ignore"):
        shape, u, w = _nodes(var, mean, _FINE)
        phi = act.fn(u, slope)
        dphi = act.derivative(u, slope)
        e1 = np.einsum("kn,kn->k", phi, w)
        e2 = np.einsum("kn,kn->k", phi * phi, w)
        d1 = np.einsum("kn,kn->k", dphi, w)
        d2 = np.einsum("kn,kn->k", dphi * dphi, w)
    return e1.reshape(shape), e2.reshape(shape), d1.reshape(shape), d2.reshape(shape)


def _pair_expectation(f: Callable[[Array], Array], g: Callable[[Array], Array], q: float,
                      c: float) -> float:
    """E[f(u1)·g(u2)], u1 = √q·z1, u2 = √q·(c·z1 + √(1−c²)·z2): the inner integral over z2 is a
    1-D expectation with mean √q·c·z1 and variance q(1−c²), split at its own kink."""
    c = min(max(float(c), -1.0), 1.0)
    t, w = _graded_rule(_HALF_LENGTH, *_FINE)
    w = w * _normal_pdf(t)
    u1 = math.sqrt(q) * t
    inner = gaussian_expectation(g, q * (1.0 - c * c), math.sqrt(q) * c * t, _grade=_LIGHT)
    with np.errstate(all="ignore"):
        return float(np.dot(f(u1) * inner, w))


# ------------------------------------------------------------------------------------------
# Maps, fixed points, critical line
# ------------------------------------------------------------------------------------------

def variance_map(activation, q, sigma_w2, sigma_b2, slope: float = 0.01) -> Array:
    """q^l = σ_w²·E[φ(√q^{l-1}·z)²] + σ_b² (arrays broadcast)."""
    act = _activation(activation)
    return np.asarray(sigma_w2) * gaussian_expectation(lambda u: act.fn(u, slope) ** 2, q) \
        + np.asarray(sigma_b2)


def chi1(activation, sigma_w2, q, slope: float = 0.01) -> Array:
    """χ1 = σ_w²·E[φ'(√q·z)²] (at q = q* for the mean-field χ1)."""
    act = _activation(activation)
    return np.asarray(sigma_w2) * gaussian_expectation(lambda u: act.derivative(u, slope) ** 2, q)


def _solve_q_star(second_moment: Callable[[Array], Array], sigma_w2, sigma_b2,
                  q0: float = 1.0) -> Array:
    """The fixed point the variance map reaches from q0, vectorised, without iterating the map
    (which converges only algebraically at the critical point): the map is increasing, so its
    iterates move monotonically towards the nearest root of g(q) = σ_w²F(q) + σ_b² − q in the
    direction of g(q0). That root is bracketed and bisected in log q (≈ 70 steps to machine
    precision, for q* anywhere in 1e-300..1e300); 0 when g ≤ 0 down to 1e-300, ∞ when g > 0 up
    to 1e300. ``second_moment`` is F(q) = E[φ(√q·z)²]."""
    sw, sb = np.broadcast_arrays(np.asarray(sigma_w2, dtype=np.float64),
                                 np.asarray(sigma_b2, dtype=np.float64))
    shape = sw.shape
    sw, sb = sw.ravel(), sb.ravel()

    def g(q: Array) -> Array:
        with np.errstate(all="ignore"):
            return sw * second_moment(q) + sb - q

    q0v = np.full(sw.shape, float(q0))
    g0 = g(q0v)
    result = np.full(sw.shape, np.nan)
    tolerance = 1e-12 * q0
    still = np.abs(g0) <= tolerance
    result[still] = q0
    down, up = g0 < -tolerance, g0 > tolerance
    lo = np.where(down, _TINY_Q, q0)
    hi = np.where(down, q0, q0)
    glo = g(lo)
    # Relative slack for rounding: F(q)/q is computed to ~1e-16 (tanh at σ_w² = 1 exactly).
    collapsed = down & (glo <= 1e-13 * lo)
    result[collapsed] = 0.0
    # Widen the bracket upwards until g changes sign.
    growing = up.copy()
    for _ in range(110):
        if not growing.any():
            break
        hi = np.where(growing, hi * 1e3, hi)
        growing &= (g(hi) > 0) & (hi < 1e300)
    exploded = up & (g(hi) > 0)
    result[exploded] = np.inf
    search = (down & ~collapsed) | (up & ~exploded)
    a, b = np.log(lo), np.log(hi)
    for _ in range(80):
        mid = 0.5 * (a + b)
        positive = g(np.exp(mid)) > 0
        a = np.where(positive, mid, a)
        b = np.where(positive, b, mid)
    result[search] = np.exp(0.5 * (a + b))[search]
    result[~np.isfinite(sw) | ~np.isfinite(sb)] = np.nan
    return result.reshape(shape)


def q_fixed_point(activation, sigma_w2, sigma_b2, slope: float = 0.01,
                  q0: float = 1.0) -> Array:
    """q*: the fixed point of the variance map reached from q0 (0 or inf possible)."""
    act = _activation(activation)
    return _solve_q_star(lambda q: gaussian_expectation(lambda u: act.fn(u, slope) ** 2, q),
                         sigma_w2, sigma_b2, q0)


def correlation_map(activation, c, q, sigma_w2, sigma_b2, slope: float = 0.01) -> Array:
    """c ↦ (σ_w²·E[φ(u1)φ(u2)] + σ_b²)/q, u1 = √q·z1, u2 = √q·(c·z1 + √(1−c²)·z2); pass q = q*.
    ``c`` may be an array (one 2-D quadrature per entry)."""
    act = _activation(activation)
    phi = (lambda u: act.fn(u, slope))
    cs = np.asarray(c, dtype=np.float64)
    out = np.array([(sigma_w2 * _pair_expectation(phi, phi, q, ci) + sigma_b2) / q
                    for ci in cs.ravel()])
    return out.reshape(cs.shape)


def _q_eval(q_star):
    """Where χ1 is evaluated: q*, but q → 0⁺ for q* = 0 (the limit, which differs from φ'(0)²
    where φ' jumps at 0) and Q_CAP for q* = ∞."""
    return np.clip(q_star, _TINY_Q, Q_CAP)


def _depth_scale(slope_value: float) -> float:
    """−1/log(slope) for a contracting map, ∞ at slope ≥ 1 (no contraction: critical or
    unstable), NaN when undefined."""
    if not math.isfinite(slope_value) or slope_value < 0:
        return float("nan")
    if slope_value >= 1.0:
        return float("inf")
    if slope_value == 0.0:
        return 0.0
    return -1.0 / math.log(slope_value)


@dataclass(frozen=True)
class MeanField:
    """The mean-field quantities of one (activation, σ_w², σ_b²) point."""

    sigma_w2: float
    sigma_b2: float
    q_star: float
    chi1: float
    c_star: float
    chi_c: float
    q_slope: float  # slope of the variance map at q*
    xi_q: float
    xi_c: float

    @property
    def phase(self) -> str:
        """"ordered" (χ1 < 1), "chaotic" (χ1 > 1) or "critical" (|χ1 − 1| < 1e-9)."""
        if abs(self.chi1 - 1.0) < 1e-9:
            return "critical"
        return "ordered" if self.chi1 < 1.0 else "chaotic"


def mean_field(activation, sigma_w2: float, sigma_b2: float, slope: float = 0.01) -> MeanField:
    """q*, χ1, c*, χ_c and the depth scales ξ_q, ξ_c at one point (≈ 0.1 s in the chaotic phase,
    where c* takes a bisection over 2-D quadratures; the ordered phase has c* = 1, χ_c = χ1)."""
    act = _activation(activation)
    sw, sb = float(sigma_w2), float(sigma_b2)

    def second(q):
        return gaussian_expectation(lambda u: act.fn(u, slope) ** 2, q)

    q_star = float(_solve_q_star(second, sw, sb))
    q_eval = _q_eval(q_star)
    chi = float(chi1(act, sw, q_eval, slope))
    # Slope of the variance map: a central difference (one-sided at q* = 0).
    h = max(1e-5 * q_eval, 1e-9)
    if q_eval > h:
        q_slope = sw * float(second(q_eval + h) - second(q_eval - h)) / (2 * h)
    else:
        q_slope = sw * float(second(q_eval + h) - second(q_eval)) / h
    if not math.isfinite(q_star) or q_star <= 0.0:
        # q* = 0: every input maps to the same point (c* = 1, ordered); q* = ∞: undefined.
        c_star = 1.0 if q_star == 0.0 else float("nan")
        chi_c = chi if q_star == 0.0 else float("nan")
    elif chi <= 1.0:
        c_star, chi_c = 1.0, chi
    else:
        phi = (lambda u: act.fn(u, slope))
        dphi = (lambda u: act.derivative(u, slope))

        def h_of(c: float) -> float:
            return (sw * _pair_expectation(phi, phi, q_star, c) + sb) / q_star - c

        lo, hi = -1.0, 1.0 - 1e-7
        if h_of(hi) >= 0.0:  # numerically on the critical line
            c_star = 1.0
        else:
            for _ in range(40):
                mid = 0.5 * (lo + hi)
                if h_of(mid) > 0.0:
                    lo = mid
                else:
                    hi = mid
            c_star = 0.5 * (lo + hi)
        chi_c = sw * _pair_expectation(dphi, dphi, q_star, c_star)
    return MeanField(sigma_w2=sw, sigma_b2=sb, q_star=q_star, chi1=chi, c_star=c_star,
                     chi_c=float(chi_c), q_slope=q_slope, xi_q=_depth_scale(q_slope),
                     xi_c=_depth_scale(float(chi_c)))


def critical_sigma_w2(activation, sigma_b2, slope: float = 0.01, tol: float = 1e-12):
    """σ_w² on the critical line χ1(q*(σ_w², σ_b²)) = 1, by bisection on σ_w² (χ1 grows with
    σ_w²). Scalar or array ``sigma_b2``; NaN where χ1 stays below 1 up to σ_w² = 1e6. Where q*
    is infinite (unbounded φ, e.g. ReLU past σ_w² = 2) χ1 is evaluated at q = Q_CAP."""
    act = _activation(activation)

    def second(q):
        return gaussian_expectation(lambda u: act.fn(u, slope) ** 2, q)

    def chi_at(sw: float, sb: float) -> float:
        q = float(_solve_q_star(second, sw, sb))
        return float(chi1(act, sw, _q_eval(q), slope))

    def one(sb: float) -> float:
        lo, hi = 0.0, 1.0
        while chi_at(hi, sb) < 1.0:
            lo, hi = hi, hi * 2.0
            if hi > 1e6:
                return float("nan")
        while hi - lo > tol * hi:
            mid = 0.5 * (lo + hi)
            if chi_at(mid, sb) < 1.0:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)

    sbs = np.asarray(sigma_b2, dtype=np.float64)
    out = np.array([one(float(s)) for s in sbs.ravel()]).reshape(sbs.shape)
    return float(out) if out.ndim == 0 else out


# ------------------------------------------------------------------------------------------
# Phase diagram
# ------------------------------------------------------------------------------------------

_TABLE_POINTS = 1201


@functools.lru_cache(maxsize=32)
def _table(act: Activation, slope: float) -> tuple[Array, Array, Array, float, float]:
    """ln q (from 1e-12 to Q_CAP), E[φ²] and E[φ'²] on it, and both at q = 0."""
    log_q = np.linspace(math.log(1e-12), math.log(Q_CAP), _TABLE_POINTS)
    t, w = _graded_rule(_HALF_LENGTH, *_FINE)
    w = w * _normal_pdf(t)
    with np.errstate(all="ignore"):
        u = np.exp(0.5 * log_q)[:, None] * t[None, :]
        f2 = np.square(act.fn(u, slope)) @ w
        d2 = np.square(act.derivative(u, slope)) @ w
        f0 = float(act.fn(np.zeros(1), slope)[0]) ** 2
    # E[φ'²] as q → 0⁺, not φ'(0)²: they differ where φ' jumps at 0 (ReLU: 1/2, not 0).
    return log_q, f2, d2, f0, float(d2[0])


def _interp_table(q: Array, log_q: Array, values: Array, at_zero: float) -> Array:
    """Cubic (Catmull–Rom) in ln q inside the table, linear in q from q = 0 to its first point,
    power law (the last segment's log–log slope) past its end."""
    q = np.asarray(q, dtype=np.float64)
    with np.errstate(all="ignore"):
        lq = np.log(np.maximum(q, _TINY_Q))
        step = log_q[1] - log_q[0]
        position = np.clip((lq - log_q[0]) / step, 0.0, len(log_q) - 1.0)
        i = np.clip(np.floor(position).astype(np.int64), 1, len(log_q) - 3)
        t = position - i
        p0, p1, p2, p3 = values[i - 1], values[i], values[i + 1], values[i + 2]
        inside = p1 + 0.5 * t * (p2 - p0 + t * (2 * p0 - 5 * p1 + 4 * p2 - p3
                                                 + t * (3 * (p1 - p2) + p3 - p0)))
        q_min = math.exp(log_q[0])
        below = at_zero + (values[0] - at_zero) * (q / q_min)
        v1, v2 = values[-2], values[-1]
        if v1 > 0 and v2 > 0:
            power = (math.log(v2) - math.log(v1)) / step
            above = v2 * np.exp(power * (lq - log_q[-1]))
        else:
            above = np.full(q.shape, v2)
        return np.where(q < q_min, below, np.where(lq > log_q[-1], above, inside))


@dataclass(frozen=True)
class PhaseGrid:
    """Mean-field quantities on a grid (all arrays of the broadcast shape of the inputs).

    ``xi_c`` is −1/log χ1 in the ordered phase (there c* = 1 and χ_c = χ1), ∞ on the critical
    line, NaN in the chaotic phase (use ``mean_field`` there: c* < 1 needs 2-D quadrature).
    ``q_star`` may be 0 or ∞. Values come from a table of E[φ²], E[φ'²] over ln q (1201 points,
    cubic interpolation, ~1e-6 relative), so they may differ from ``mean_field`` at that level.
    """

    sigma_w2: Array
    sigma_b2: Array
    q_star: Array
    log_chi1: Array
    xi_q: Array
    xi_c: Array


def phase_grid(activation, sigma_w2, sigma_b2, slope: float = 0.01) -> PhaseGrid:
    """log χ1 (natural log; 0 is the critical line), q*, ξ_q and ξ_c over a grid.

    ``sigma_w2`` and ``sigma_b2`` broadcast together, e.g. ``np.meshgrid(w, b)`` or
    ``w[None, :]`` with ``b[:, None]``.
    """
    act = _activation(activation)
    log_q, f2, d2, f0, d0 = _table(act, float(slope))
    sw, sb = np.broadcast_arrays(np.asarray(sigma_w2, dtype=np.float64),
                                 np.asarray(sigma_b2, dtype=np.float64))

    def second(q):
        return _interp_table(q, log_q, f2, f0)

    q_star = _solve_q_star(second, sw, sb)
    q_eval = _q_eval(q_star)
    with np.errstate(all="ignore"):
        chi = sw * _interp_table(q_eval, log_q, d2, d0)
        log_chi1 = np.log(chi)
        h = np.maximum(1e-4 * q_eval, 1e-13)
        lower = np.maximum(q_eval - h, 0.0)
        q_slope = sw * (second(q_eval + h) - second(lower)) / (q_eval + h - lower)
        xi_q = np.where(q_slope >= 1.0, np.inf, np.where(q_slope > 0, -1.0 / np.log(q_slope),
                                                            np.nan))
        xi_c = np.where(chi < 1.0, -1.0 / log_chi1, np.where(chi == 1.0, np.inf, np.nan))
    return PhaseGrid(sigma_w2=sw, sigma_b2=sb, q_star=q_star, log_chi1=log_chi1, xi_q=xi_q,
                     xi_c=xi_c)


# ------------------------------------------------------------------------------------------
# Per-layer prediction for a NetworkConfig
# ------------------------------------------------------------------------------------------

#: Why a config is outside the theory (``Prediction.reason_code``).
REASONS: dict[str, str] = {
    "constant_init": "Constant or zero weights are not random: every unit computes the same "
                     "thing, which mean-field theory (independent random weights) does not "
                     "describe.",
    "lsuv": "LSUV rescales each layer on the data batch; the result depends on that batch, "
            "not on a weight variance the theory could use.",
    "narrow_width": "A layer has fewer than 16 inputs: mean-field theory needs wide layers "
                    "(sums over many inputs are Gaussian).",
    "raw_input": "Raw (unscaled) inputs have feature variances spread over eight decades; their "
                 "average over a few hundred features is dominated by the largest few, so no "
                 "single input variance is meaningful. Standardise (zscore) to get a prediction.",
    "batchnorm_eval": "BatchNorm in eval mode uses running statistics that are only partly "
                      "converged after the warm-up passes; the theory does not model them.",
    "small_batch": "BatchNorm over fewer than 16 samples does not produce Gaussian "
                   "pre-activations.",
}

#: Approximations in force for a supported prediction (``Prediction.notes``).
NOTES: dict[str, str] = {
    "orthogonal_init": "Orthogonal weights are not independent; the forward and backward second "
                       "moments are still those of i.i.d. weights with the same variance, "
                       "fluctuations and higher moments are not.",
    "cross_entropy_gradient": "The cross-entropy output gradient depends on the softmax of the "
                              "outputs; gradient predictions are not anchored (NaN).",
    "mse_gradient": "MSE output gradient anchored at 4(E[out²] + 1)/(batch·n_L)².",
    "minmax_input": "Min–max scaled inputs: E[x] = 1/2, E[x²] from the batch size (exact for "
                    "uniform inputs, a seeded Monte Carlo estimate for Gaussian or raw inputs).",
    "normalisation": "Normalised pre-activations are taken as N(0, v/(v+ε)) per unit or sample; "
                     "the per-unit means of a layer's input are taken equal to their common mean.",
    "residual_projection": "Residual skips through projections (width changes) keep the "
                           "second moment but not the mean.",
    "constant_bias": "Constant bias c: the pre-activation is N(c, σ_w²·E[h²]), its mean shift "
                     "is carried exactly into E[φ], E[φ²], E[φ'²].",
}

#: Columns of ``Prediction.table`` (rows are layers 1..depth, indexed like layer_stats).
PREDICTION_COLUMNS = (
    "layer", "fan_in", "fan_out", "sigma_w2", "sigma_b2", "bias_mean",
    "pred_preact_mean_square", "pred_preact_var", "pred_act_mean", "pred_act_mean_square",
    "pred_act_var", "pred_out_mean", "pred_out_mean_square", "pred_out_var", "pred_chi1",
    "pred_grad_preact_var", "pred_grad_out_mean_square", "pred_grad_out_var",
)

#: Measured column of ``simulate(config).layer_stats`` for each positive predicted column.
COMPARISONS: dict[str, str] = {
    "pred_preact_mean_square": "preact_mean_square",
    "pred_preact_var": "preact_var",
    "pred_act_mean_square": "act_mean_square",
    "pred_act_var": "act_var",
    "pred_out_var": "out_var",
    "pred_grad_preact_var": "grad_preact_var",
    "pred_grad_out_mean_square": "grad_out_mean_square",
    "pred_grad_out_var": "grad_out_var",
}

#: The smallest fan_in for which the prediction is drawn.
MIN_WIDTH = 16


@dataclass(frozen=True)
class Prediction:
    """The theory's table for a config, or why there is none.

    ``table``: DataFrame with ``PREDICTION_COLUMNS``, index 1..depth (None when unsupported).
    ``supported``: False when the config is outside the theory; then ``reason_code`` is a key
    of ``REASONS`` and ``reason`` its English text. ``notes``: keys of ``NOTES`` naming the
    approximations behind a supported table.
    """

    table: pd.DataFrame | None
    supported: bool
    reason_code: str = ""
    reason: str = ""
    notes: tuple[str, ...] = ()


def _unsupported(code: str) -> Prediction:
    return Prediction(table=None, supported=False, reason_code=code, reason=REASONS[code])


def layer_variances(config: NetworkConfig) -> list[tuple[float, float, float]]:
    """(σ_w², σ_b², bias mean) per layer, as ``build_network`` draws them: σ_w² =
    fan_in·Var(W) from the init's formula (Kaiming gains included), σ_b² the bias variance
    (normal: bias_std²; torch_default: U(±1/√fan_in) ⇒ 1/(3·fan_in)), bias mean the constant
    bias (which has no variance)."""
    init = INITS[config.init]
    params = InitParams(std=config.init_std, bound=config.init_bound, value=config.init_value,
                        mode=config.init_mode)
    gain = config.init_gain
    if config.init.startswith("kaiming"):
        gain *= kaiming_gain(config.activation, config.leaky_slope)
    widths = config.layer_widths
    out = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        sigma_w2 = fan_in * init.variance(fan_in, fan_out, gain, params)
        sigma_b2, bias_mean = 0.0, 0.0
        if init.bias_variance is not None:
            sigma_b2 = init.bias_variance(fan_in)
        elif config.bias_init == "normal":
            sigma_b2 = config.bias_std ** 2
        elif config.bias_init == "constant":
            bias_mean = config.bias_value
        out.append((sigma_w2, sigma_b2, bias_mean))
    return out


@functools.lru_cache(maxsize=64)
def _minmax_gaussian_second_moment(batch: int) -> float:
    """E[x'²] of x' = (x − min)/(max − min) over a batch of N(0, 1) samples: a seeded Monte
    Carlo estimate (local Generator, 256 features), ~0.2% accurate."""
    rng = np.random.default_rng(20170101)
    x = rng.standard_normal((batch, 256))
    low, high = x.min(axis=0), x.max(axis=0)
    scaled = (x - low) / (high - low)
    return float(np.mean(scaled * scaled))


def _input_moments(config: NetworkConfig) -> tuple[float, float] | None:
    """(E[x²], E[x]) of the input after preprocessing, or None when out of theory."""
    if config.input_preprocess == "zscore":
        return 1.0, 0.0  # per feature mean 0, (biased) variance 1 exactly
    if config.input_preprocess == "minmax":
        batch = config.batch_size
        if config.input_dist == "uniform":
            # Min and max map to 0 and 1, the other batch − 2 samples are U(0, 1).
            return (1.0 + (batch - 2) / 3.0) / batch, 0.5
        # Min–max scaling is affine-invariant per feature: raw features scale like Gaussians.
        return _minmax_gaussian_second_moment(batch), 0.5
    if config.input_dist == "raw":
        return None
    return 1.0, 0.0  # N(0, 1) and U(−√3, √3) both have E[x²] = 1


def predict(config: NetworkConfig) -> Prediction:
    """The mean-field prediction of every layer's second moments, forward and backward: the
    moment rules of ``core.block``'s ops (each op carries its own), walked in block order.

    Forward, with h the layer input (E[h²] = Q, common mean m; Q⁰, m⁰ from the input):

        y = hW + b:   E[y²] = σ_w²·Q + σ_b² + c²   (c: constant bias)
        z = y, or Norm(y) ~ N(0, v/(v+ε)) with v = σ_w²·(Q − m²) (BatchNorm, per unit) or
            σ_w²·Q + σ_b² (LayerNorm, per sample)          → pred_preact_mean_square, _var
        a = φ(z):     E[φ], E[φ²] at z ~ N(c, σ_w²·Q + σ_b²) (or the normalised law)
                                                            → pred_act_mean, _mean_square, _var
        branch = a, or Norm(a) (second moment v_a/(v_a+ε), mean 0), then inverted dropout p:
                      E[branch²] = E[·²]/(1 − p)
        out = branch, or skip + s·branch with skip = h (or h·P, P semi-orthogonal, which keeps
              E[h²] and averages the mean out):
                      E[out²] = E[skip²] + s²·E[branch²] + 2s·E[skip]·E[branch]
              (the cross term of the zero-mean fluctuations vanishes: W is independent of h)
                                                            → pred_out_mean, _mean_square, _var

    Backward (gradient-independence assumption: W in the backward pass independent of the
    forward one), G^l = E[(∂L/∂out^l)²], anchored at the last layer by the loss: 1 for
    random_projection, 4(E[out²] + 1)/(B·n_L)² for mse, NaN for cross_entropy:

        g_branch = G^l·s²/(1 − p), divided by (v_a + ε)/(1 − 2/N) after a norm-after
        pred_grad_preact_var = g_branch·E[φ'(z)²]
        G^{l−1} = σ_w²·(fan_out/fan_in)·pred_grad_preact_var [/(v+ε)·(1−2/N) with norm before]
                  + G^l·fan_out/fan_in (residual skip)

    (N: the normalised axis' length, batch for BatchNorm, width for LayerNorm; its projection
    removes 2 of N directions.) pred_chi1 = σ_w²·E[φ'(z)²] is the layer's χ1.

    Residual form "pre" (out = skip + s·Drop(a'W + b), a' = φ(Norm(h)) or Norm(φ(h))): z is
    the layer input, standardised, N(0, v/(v+ε)) with v = Q − U (BatchNorm; U is the mean over
    units of the squared per-unit batch mean, which BatchNorm removes) or Q − m² (LayerNorm),
    else N(m, Q − m²) pooled over units; then

        E[y²] = σ_w²·E[a'²] + σ_b² + c²,   E[out²] = E[skip²] + s²·E[y²]/(1 − p) + 2s·m_skip·c
        U' = U + s²·(σ_w²·ā² + σ_b² + c²) + 2s·m_skip·c   (ā = E[φ] with a norm before, else 0)

    so with a norm before φ the second moment grows by the constant s²(σ_w²·E[φ(z)²] + σ_b²)
    per layer: linear in depth. After φ, BatchNorm's per-unit variance of φ(h) is taken at
    h ~ N(m, Q − U). Backward, W comes first: g = G·s²/(1 − p)·σ_w²·fan_out/fan_in, then the
    norm-after factor, E[φ'²] (pred_grad_preact_var) and the norm-before factor, on the input
    width; G^{l−1} = g + G^l·fan_out/fan_in.

    Unsupported (``supported=False``): constant/zero init, LSUV, any fan_in < 16, raw inputs
    without zscore, BatchNorm in eval mode or over fewer than 16 samples.
    """
    init = INITS[config.init]
    if init.theory_reason:
        return _unsupported(init.theory_reason)
    widths = config.layer_widths
    if min(widths[:-1]) < MIN_WIDTH:
        return _unsupported("narrow_width")
    if config.norm == "batchnorm" and config.bn_mode == "eval":
        return _unsupported("batchnorm_eval")
    if config.norm == "batchnorm" and config.batch_size < MIN_WIDTH:
        return _unsupported("small_batch")
    moments0 = _input_moments(config)
    if moments0 is None:
        return _unsupported("raw_input")

    notes = []
    if config.init == "orthogonal":
        notes.append("orthogonal_init")
    if config.loss == "cross_entropy":
        notes.append("cross_entropy_gradient")
    elif config.loss == "mse":
        notes.append("mse_gradient")
    if config.input_preprocess == "minmax":
        notes.append("minmax_input")
    if config.norm != "none":
        notes.append("normalisation")
    if config.residual and len(set(widths)) > 1:
        notes.append("residual_projection")
    if config.bias_init == "constant" and init.bias is None and config.bias_value:
        notes.append("constant_bias")

    act = ACTIVATIONS[config.activation]
    slope = config.leaky_slope
    spec = block.block(config)
    variances = layer_variances(config)
    depth = config.depth

    def expect(var: float, mean: float) -> tuple[float, float, float, float]:
        return tuple(float(x) for x in _moments(act, slope, var, mean))

    rows, layers = [], []
    q0, m0 = moments0
    # The supported inputs have per-unit means equal to their common mean: u = m².
    state = block.Moments(q=q0, m=m0, u=m0 * m0)
    with np.errstate(all="ignore"):
        for layer, ((fan_in, fan_out), (sw, sb, c)) in enumerate(
                zip(zip(widths[:-1], widths[1:]), variances), start=1):
            row = {"layer": layer, "fan_in": fan_in, "fan_out": fan_out, "sigma_w2": sw,
                   "sigma_b2": sb, "bias_mean": c}
            t = block.LayerTheory(sw=sw, sb=sb, c=c, fan_in=fan_in, fan_out=fan_out,
                                  batch=config.batch_size, expect=expect, row=row)
            state = block.layer_moments(spec, state, t)
            row.update({"pred_out_mean": state.m, "pred_out_mean_square": state.q,
                        "pred_out_var": state.q - state.m * state.m})
            rows.append(row)
            layers.append(t)

        # Backward, from the loss down.
        last = rows[-1]
        batch, n_last = config.batch_size, widths[-1]
        if config.loss == "random_projection":
            grad, grad_mean = 1.0, 0.0
        elif config.loss == "mse":
            grad = 4.0 * (last["pred_out_mean_square"] + 1.0) / (batch * n_last) ** 2
            grad_mean = 2.0 * last["pred_out_mean"] / (batch * n_last)
        else:
            grad, grad_mean = float("nan"), float("nan")
        for row, t in zip(reversed(rows), reversed(layers)):
            row["pred_grad_out_mean_square"] = grad
            row["pred_grad_out_var"] = grad - grad_mean * grad_mean
            grad_mean = grad_mean if config.residual and t.fan_in == t.fan_out else 0.0
            grad = block.layer_grad_moments(spec, grad, t)

    table = pd.DataFrame(rows, columns=list(PREDICTION_COLUMNS),
                         index=pd.RangeIndex(1, depth + 1))
    table["layer"] = table["layer"].astype(int)
    return Prediction(table=table, supported=True, notes=tuple(notes))


# ------------------------------------------------------------------------------------------
# Agreement
# ------------------------------------------------------------------------------------------

def agreement_score(measured, predicted) -> float:
    """Median over layers of |log10(measured/predicted)|: 0 is perfect, 0.01 ≈ 2.3%, 0.3 a factor
    of 2. Pairs where either is non-finite or the ratio is not positive are ignored (overflowed
    layers, zero means); NaN when none is left. Two Series are aligned on their index first."""
    if isinstance(measured, pd.Series) and isinstance(predicted, pd.Series):
        measured, predicted = measured.align(predicted, join="inner")
    m = np.asarray(measured, dtype=np.float64)
    p = np.asarray(predicted, dtype=np.float64)
    with np.errstate(all="ignore"):
        ratio = m / p
        ok = np.isfinite(ratio) & (ratio > 0) & np.isfinite(m) & np.isfinite(p)
        if not ok.any():
            return float("nan")
        return float(np.median(np.abs(np.log10(ratio[ok]))))


def agreement(layer_stats: pd.DataFrame, table: pd.DataFrame) -> dict[str, float]:
    """``agreement_score`` of every pair in COMPARISONS, keyed by the predicted column; rows are
    matched by their ``layer`` column (layer_stats' row 0, the input, is ignored)."""
    measured = layer_stats.set_index("layer")
    predicted = table.set_index("layer")
    return {pred: agreement_score(measured[meas], predicted[pred])
            for pred, meas in COMPARISONS.items()}
