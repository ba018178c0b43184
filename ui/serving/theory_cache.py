"""Cached theory for the Phase and Spectrum pages (process-wide, like ui.serving.cache): arrays
and small dataclasses, never figures.

- ``phase_map(activation, slope)``: ln χ1 and ξ_c on a 60 × 60 grid over (σ_w², σ_b²) and the
  critical line χ1 = 1, with a σ_w² range chosen for the activation (sigmoid's critical σ_w² is
  ≈ 100, ReLU's 2). ``compute_phase_map`` is the same without the cache.
- ``point(activation, slope, σ_w², σ_b²)``: ``core.theory.mean_field`` at the current config.
- ``spectrum(config)``: ``core.jacobian.jacobian_spectrum(config)``.

``phase_map`` and ``spectrum`` go through ui.serving.limiter (a worker slot, one BLAS thread, a
visible queue); ``point`` is one quadrature, too cheap to queue.

``slope`` matters only for leaky_relu; ``theory_slope`` maps every other activation to one value
so that they share their cache entries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np
import streamlit as st

from core import NetworkConfig, encode_query
from core.jacobian import JacobianSpectrum, jacobian_spectrum
from core.theory import MeanField, critical_sigma_w2, mean_field, phase_grid
from ui.serving import limiter, workers
from ui.serving.shared_results import SharedComputation, source_of

GRID_POINTS = 60
SIGMA_B2_MAX = 0.5
#: The σ_w² axis runs from W_MIN to W_MAX, W_MAX ≥ 4 and ≥ 1.5 × the largest critical σ_w².
W_MIN = 0.1
MIN_W_MAX = 4.0
#: Points of the critical line (σ_b² values) and bisection steps per point.
LINE_POINTS = 101
LINE_STEPS = 40


@dataclass(frozen=True)
class PhaseMap:
    """Grid cell centres (``sigma_w2`` (n,), ``sigma_b2`` (m,)), ``log_chi1`` and ``xi_c`` of
    shape (m, n) (rows: σ_b²), and the critical line (``line_b2``, ``line_w2``; NaN where the
    line leaves the σ_w² range)."""

    activation: str
    slope: float
    sigma_w2: np.ndarray
    sigma_b2: np.ndarray
    log_chi1: np.ndarray
    xi_c: np.ndarray
    line_b2: np.ndarray
    line_w2: np.ndarray

    @property
    def w_range(self) -> tuple[float, float]:
        return float(self.sigma_w2[0]), float(self.sigma_w2[-1])

    @property
    def b_range(self) -> tuple[float, float]:
        return float(self.sigma_b2[0]), float(self.sigma_b2[-1])


def theory_slope(activation: str, leaky_slope: float) -> float:
    return float(leaky_slope) if activation == "leaky_relu" else 0.01


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k that is ≥ value."""
    exponent = math.floor(math.log10(value))
    for mantissa in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        candidate = mantissa * 10.0 ** exponent
        if candidate >= value * (1 - 1e-12):
            return float(candidate)
    return 10.0 ** (exponent + 1)  # pragma: no cover


def sigma_w2_max(activation: str, slope: float) -> float:
    critical = critical_sigma_w2(activation, np.array([0.0, SIGMA_B2_MAX / 2, SIGMA_B2_MAX]),
                                 slope, tol=1e-6)
    finite = critical[np.isfinite(critical)]
    top = float(finite.max()) if finite.size else 0.0
    return nice_ceiling(max(MIN_W_MAX, 1.5 * top))


def critical_line(activation: str, slope: float, w_low: float, w_high: float,
                  b2: np.ndarray) -> np.ndarray:
    """σ_w² with χ1 = 1 for each σ_b² in ``b2`` by a vectorised bisection on ``phase_grid``
    (χ1 grows with σ_w²); NaN where χ1 − 1 keeps one sign over [w_low, w_high]."""
    lo = np.full(b2.shape, float(w_low))
    hi = np.full(b2.shape, float(w_high))
    at_lo = phase_grid(activation, lo, b2, slope).log_chi1
    at_hi = phase_grid(activation, hi, b2, slope).log_chi1
    crosses = (at_lo <= 0) & (at_hi >= 0)
    for _ in range(LINE_STEPS):
        mid = 0.5 * (lo + hi)
        below = phase_grid(activation, mid, b2, slope).log_chi1 < 0
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return np.where(crosses, 0.5 * (lo + hi), np.nan)


def compute_phase_map(activation: str, slope: float, points: int = GRID_POINTS) -> PhaseMap:
    w_high = sigma_w2_max(activation, slope)
    w_low = W_MIN
    sigma_w2 = np.linspace(w_low, w_high, points)
    sigma_b2 = np.linspace(0.0, SIGMA_B2_MAX, points)
    grid = phase_grid(activation, sigma_w2[None, :], sigma_b2[:, None], slope)
    line_b2 = np.linspace(0.0, SIGMA_B2_MAX, LINE_POINTS)
    line_w2 = critical_line(activation, slope, w_low, w_high, line_b2)
    return PhaseMap(activation, slope, sigma_w2, sigma_b2, np.asarray(grid.log_chi1),
                    np.asarray(grid.xi_c), line_b2, line_w2)


#: Shared by replicas (ui.serving.shared_results); this module computes the map, so its code is part
#: of the version.
SHARED_PHASE_MAP = SharedComputation(
    "phase_map", lambda activation, slope: urlencode({"activation": activation,
                                                      "slope": repr(float(slope))}),
    types=(PhaseMap,), sources=(source_of(compute_phase_map),))


@st.cache_data(max_entries=64, show_spinner=False)
@SHARED_PHASE_MAP
def _phase_map(activation: str, slope: float) -> PhaseMap:
    with limiter.computing():
        return compute_phase_map(activation, slope)


phase_map = limiter.Served(_phase_map, shared=SHARED_PHASE_MAP)


@st.cache_data(max_entries=512, show_spinner=False)
def point(activation: str, slope: float, sigma_w2: float, sigma_b2: float) -> MeanField:
    return mean_field(activation, sigma_w2, sigma_b2, slope)


SHARED_SPECTRUM = SharedComputation("spectrum", encode_query)


@st.cache_data(max_entries=64, show_spinner=False)
@SHARED_SPECTRUM
def _spectrum(config: NetworkConfig) -> JacobianSpectrum:
    with limiter.computing():
        return workers.run(jacobian_spectrum, config)


spectrum = limiter.Served(_spectrum, shared=SHARED_SPECTRUM)

