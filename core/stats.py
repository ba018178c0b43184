"""Per-layer statistics of a (B, n) batch, and layer-by-value histograms.

Two variances, two lessons:

- *pooled*: the variance of all B·n entries together, Var = E[x²] − E[x]² over the whole
  matrix. This is what the mean-field recursion Var[z^l] = n·Var[W]·E[(a^{l−1})²] speaks of.
- *per-unit*: the mean over units j of each unit's variance across the batch,
  (1/n)·Σ_j Var_b[x_bj]. This is what BatchNorm sets to 1. It is smaller than the pooled one by
  the spread of the units' means, Var_j(E_b[x_bj]): large for ReLU, sigmoid, or any bias.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

Array = np.ndarray

#: Entries per layer kept for the histograms: the first rows of the batch (i.i.d. samples).
HISTOGRAM_SAMPLE = 4096
#: Bins per histogram; "std" histograms span mean ± 4 standard deviations of their layer.
HISTOGRAM_BINS = 40
STD_SPAN = 4.0


@dataclass(frozen=True)
class Moments:
    """Mean, pooled and per-unit variance, and the fraction of non-finite entries.

    With any non-finite entry, mean and variances are NaN: the layer has overflowed and a
    variance of the finite remainder would mislead. With finite entries whose second moments
    exceed the largest float64 (≈ 1.8e308), those moments are +inf: a bound, not a failure.
    """

    mean: float
    var: float
    unit_var: float
    nonfinite_frac: float
    mean_square: float
    across_units_var: float  # mean over samples of the variance across units (0: all identical)


@lru_cache(maxsize=64)
def _ones(n: int, dtype: np.dtype) -> Array:
    """A read-only vector of ones: the matrix-vector products below sum rows and columns."""
    ones = np.ones(n, dtype=dtype)
    ones.flags.writeable = False
    return ones


@lru_cache(maxsize=8)
def _tiny_mean_square(dtype: np.dtype) -> float:
    """Below this mean square, squares of the entries that carry it may be subnormal or zero
    in ``dtype`` (float32 from an RMS of ≈ 1e-19): the dtype's smallest normal × 2⁸. Above it,
    the squares that underflow (each off by at most 2⁻¹⁵⁰ in float32) change E[x²] by less than
    2⁻³² of itself."""
    return float(np.finfo(dtype).smallest_normal) * 2.0 ** 8


def moments(x: Array, across_units: bool = False, per_unit: bool = True) -> Moments:
    """Pooled and per-unit moments of a (B, n) array in two BLAS passes (three with
    ``across_units``).

    E[x²] comes from one BLAS dot product and the column sums from one matrix-vector product;
    E[x] = Σ col sums / (B·n), Var_unit = E[x²] − mean_j(μ_j²), Var_pooled = Var_unit +
    Var_j(μ_j) = E[x²] − E[x]². Where a subtraction would lose more than three digits
    (|mean| ≫ std) it is done again on centred data. ``per_unit=False``: the pooled moments
    alone (unit_var and across_units_var NaN), for arrays whose per-unit variance is not
    reported. Tiny entries (E[x²] below ``_tiny_mean_square``), whose squares underflow, are
    scaled by a power of two first (exact), so a vanishing layer reports its true tiny moments.
    """
    rows, cols = x.shape
    count = x.size
    sum_sq = float(np.vdot(x, x))
    col_sums = (_ones(rows, x.dtype) @ x).astype(np.float64)
    total = float(np.add.reduce(col_sums))
    # One non-finite unit sum makes their total non-finite too: one check for all of them.
    if not (math.isfinite(sum_sq) and math.isfinite(total)):
        bad = count - int(np.count_nonzero(np.isfinite(x)))
        if bad:
            nan = float("nan")
            return Moments(nan, nan, nan, bad / count, nan, nan)
        return _scaled_moments(x, across_units, per_unit)
    if sum_sq < count * _tiny_mean_square(x.dtype) and (sum_sq > 0.0 or col_sums.any()):
        return _scaled_moments(x, across_units, per_unit)
    mean_square = sum_sq / count
    mean = total / count
    nan = float("nan")
    if not per_unit:
        var = mean_square - mean * mean
        if var < 1e-3 * mean_square:  # |mean| ≫ std: E[x²] − E[x]² cancels
            centred = x - x.dtype.type(mean)
            var = float(np.vdot(centred, centred)) / count
        return Moments(mean, max(var, 0.0), nan, 0.0, mean_square, nan)
    col_sums /= rows  # the unit means μ_j
    mean_of_col_means_sq = float(np.dot(col_sums, col_sums)) / cols
    unit_var = mean_square - mean_of_col_means_sq
    if unit_var < 1e-3 * mean_square:
        centred = x - col_sums.astype(x.dtype)
        unit_var = float(np.vdot(centred, centred)) / count
    spread = mean_of_col_means_sq - mean * mean
    if spread < 1e-6 * mean_of_col_means_sq:  # unit means nearly equal: avoid cancellation
        spread = float(col_sums.var())
    across = nan
    if across_units:
        # E_b[Var_j(x_bj)] = E[x²] − E_b[m_b²], m_b the row means (one matrix-vector product).
        row_means = (x @ _ones(cols, x.dtype)).astype(np.float64) / cols
        across = max(mean_square - float(np.dot(row_means, row_means)) / rows, 0.0)
        if across < 1e-3 * mean_square:
            centred_rows = x - row_means[:, None].astype(x.dtype)
            across = float(np.vdot(centred_rows, centred_rows)) / count
    return Moments(mean, max(unit_var, 0.0) + spread, max(unit_var, 0.0), 0.0, mean_square,
                   across)


def _scaled_moments(x: Array, across_units: bool, per_unit: bool = True) -> Moments:
    """Moments of finite entries whose squares overflow or underflow: those of x·2⁻ᵏ, 2ᵏ the
    power of two at or below max |x|, scaled back by 2ᵏ and 2²ᵏ. Scaling by a power of two is
    exact: tiny entries are scaled up in their own dtype (a subnormal entry too), huge ones
    down in float64. What is beyond float64 becomes +inf, never NaN (2ᵏ is finite, so no
    ∞ − ∞ or 0 · ∞ arises); what is below its range becomes 0."""
    largest = max(-float(x.min()), float(x.max()))
    if largest == 0.0:
        return moments(x.astype(np.float64), across_units, per_unit)
    k = math.frexp(largest)[1] - 1
    if k >= 0:
        scaled = np.ldexp(x.astype(np.float64), -k)
    elif -k <= np.finfo(x.dtype).maxexp - 1:  # 2⁻ᵏ is a number of x's dtype: one multiply
        scaled = x * x.dtype.type(math.ldexp(1.0, -k))
    else:
        scaled = np.ldexp(x, -k)
    m = moments(scaled, across_units, per_unit)
    scale = math.ldexp(1.0, k)
    square = scale * scale
    return Moments(m.mean * scale, m.var * square, m.unit_var * square, 0.0,
                   m.mean_square * square, m.across_units_var * square)


def count_where_abs_above(x: Array, centre: float, threshold: float) -> int:
    """Number of entries with |x − centre| > threshold."""
    shifted = np.abs(x - x.dtype.type(centre)) if centre else np.abs(x)
    return int(np.count_nonzero(shifted > threshold))


def zero_count(x: Array) -> int:
    # Counting a boolean mask is ≈ 3× faster than count_nonzero on floats.
    return int(np.count_nonzero(x == 0))


def dead_unit_count(x: Array) -> int:
    """Units (columns) that are exactly zero on every sample."""
    return int(np.count_nonzero(~x.any(axis=0)))


def sample_entries(x: Array, out: Array) -> None:
    """Copy the first ``out.size`` entries in row order into ``out`` (whole samples, so an
    unbiased sample of units); the rest of ``out`` is left as it is (NaN = absent)."""
    flat = x.reshape(-1)[: out.size]
    out[: flat.size] = flat


@dataclass(frozen=True)
class HistogramSet:
    """Counts of one quantity for every layer: row l counts layer l's sample.

    Bin edges of layer l are ``np.linspace(low[l], high[l], bins + 1)``; ``below``/``above``
    count the finite entries outside them. Rows of layers with no finite entry are all zero
    with low = high = NaN.
    """

    low: Array
    high: Array
    counts: Array
    below: Array
    above: Array

    def edges(self, layer: int) -> Array:
        return np.linspace(self.low[layer], self.high[layer], self.counts.shape[1] + 1)

    @property
    def finite(self) -> Array:
        return self.counts.sum(axis=1) + self.below + self.above


#: Rows binned at a time: their positions (32 × 4096 entries) stay in the core's cache.
_HISTOGRAM_CHUNK = 32


def _binning_dtype(samples: Array, low: Array, high: Array, width: Array, ok: Array):
    """float32 for float32 samples whose usable ranges are safe in it, else float64.

    Safe: 1/w finite in float32 (w ≥ 2⁻¹⁰⁰) and |low|, |high| ≤ 2¹²·w, so that rounding low and
    1/w to float32 moves a bin edge by less than 2⁻¹¹ of a bin, finer than the samples' own
    float32 precision there. Binning in float32 then halves the bytes each step moves.
    """
    if samples.dtype != np.float32 or not ok.any():
        return np.float64
    w = width[ok]
    span = np.maximum(np.abs(low[ok]), np.abs(high[ok]))
    return np.float32 if bool(((w >= 2.0 ** -100) & (span <= 2.0 ** 12 * w)).all()) \
        else np.float64


def histogram_rows(samples: Array, low: Array, high: Array,
                   bins: int = HISTOGRAM_BINS) -> HistogramSet:
    """Histogram each row of ``samples`` (NaN = absent) over its own [low, high], vectorised:
    one bincount per block of rows over (row, slot) pairs, where a row's slots are: absent or
    non-finite, below, the bins, above.

    Bin k of row r holds low + k·w ≤ x < low + (k + 1)·w, w = (high − low)/bins, and the last
    bin also x = high (as np.histogram: saturated tanh is exactly ±1). The position
    ⌊(x − low)/w⌋ is taken in the samples' precision (``_binning_dtype``); its sign is exact
    in it. A row with an entry in an outlier slot is recounted on its samples, so that
    ``above`` is exactly x > high and ±∞ are not counted (a few rows, 4096 entries each).
    """
    low = np.asarray(low, dtype=np.float64)
    high = np.asarray(high, dtype=np.float64)
    n_rows, n_cols = samples.shape
    width = (high - low) / bins
    ok_range = np.isfinite(low) & np.isfinite(high) & (width > 0)
    work = _binning_dtype(samples, low, high, width, ok_range)
    safe_low = np.where(ok_range, low, 0.0)[:, None].astype(work)
    # NaN scale for unusable ranges: their samples fall out with the absent ones.
    scale = np.where(ok_range, 1.0 / np.where(ok_range, width, 1.0), np.nan)[:, None].astype(work)
    stride = bins + 3
    every = np.empty((n_rows, stride), dtype=np.intp)
    block = min(_HISTOGRAM_CHUNK, n_rows)
    position = np.empty((block, n_cols), dtype=work)
    absent = np.empty((block, n_cols), dtype=bool)
    slots = (np.arange(block) * stride + 2.0)[:, None].astype(work)
    with np.errstate(invalid="ignore", over="ignore"):
        for start in range(0, n_rows, block):
            rows = slice(start, min(start + block, n_rows))
            size = rows.stop - start
            p, nan = position[:size], absent[:size]
            np.subtract(samples[rows], safe_low[rows], out=p)
            p *= scale[rows]
            np.clip(p, -1.0, float(bins), out=p)  # NaN stays NaN, ±∞ go to the ends
            np.floor(p, out=p)
            np.isnan(p, out=nan)
            if nan.any():  # absent entries, unusable ranges: the first slot
                np.fmax(p, -2.0, out=p)
            p += slots[:size]
            every[rows] = np.bincount(p.astype(np.int32).reshape(-1),
                                      minlength=size * stride).reshape(size, stride)
    counts = every[:, 2:-1].copy()
    below, above = every[:, 1].copy(), every[:, -1].copy()
    outliers = np.flatnonzero((below > 0) | (above > 0))
    if outliers.size:
        values = samples[outliers]
        # In the above slot: x > high (+∞ too) and x = high; x > high may also sit in the
        # last bin, rounded down: the recount puts each where it belongs.
        beyond = np.count_nonzero(values > high[outliers, None], axis=1)
        counts[outliers, -1] += above[outliers] - beyond
        above[outliers] = beyond
        infinite = np.isinf(values)
        if infinite.any():
            above[outliers] -= np.count_nonzero(infinite & (values > 0), axis=1)
            below[outliers] -= np.count_nonzero(infinite & (values < 0), axis=1)
    # A collapsed layer (all entries equal) gets one centred bin rather than no histogram.
    degenerate = np.isfinite(low) & (width == 0)
    if degenerate.any():
        counts[degenerate, bins // 2] = np.count_nonzero(np.isfinite(samples[degenerate]), axis=1)
    return HistogramSet(low=low, high=high, counts=counts.astype(np.int32),
                        below=below.astype(np.int32), above=above.astype(np.int32))


def ranges_from_moments(mean: Array, var: Array) -> tuple[Array, Array]:
    """Per layer mean ± 4·std of the whole layer (not just the sample)."""
    with np.errstate(invalid="ignore", over="ignore"):
        spread = STD_SPAN * np.sqrt(np.asarray(var, dtype=np.float64))
    mean = np.asarray(mean, dtype=np.float64)
    return mean - spread, mean + spread
