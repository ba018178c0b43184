"""core.stats: the histogram rows the heatmaps draw, and the moments of a layer."""

from __future__ import annotations

import numpy as np
import pytest

from core import NetworkConfig, simulate
from core.stats import HISTOGRAM_BINS, HISTOGRAM_SAMPLE, histogram_rows, moments


def test_a_row_of_equal_values_is_counted_once_in_the_centre_bin():
    # low == high: the inclusive top edge must not also put the samples in the last bin.
    samples = np.zeros((2, 300))
    samples[1] = np.random.default_rng(0).standard_normal(300)
    low, high = np.array([0.0, -4.0]), np.array([0.0, 4.0])
    hist = histogram_rows(samples, low, high)
    assert hist.counts[0].sum() == 300
    assert hist.counts[0, HISTOGRAM_BINS // 2] == 300
    assert hist.below[0] == hist.above[0] == 0
    assert hist.finite[1] == 300


def test_zero_init_heatmap_rows_count_each_sample_once():
    result = simulate(NetworkConfig(depth=10, activation="tanh", init="zeros"))
    for quantity in ("act", "grad_out"):
        hist = result.histograms.get(quantity, "std")
        assert (hist.finite[hist.finite > 0] == HISTOGRAM_SAMPLE).all(), quantity
        collapsed = hist.low[1:] == hist.high[1:]
        assert collapsed.any()
        rows = hist.counts[1:][collapsed]
        # All of a collapsed layer's mass sits in the centre bin, none at +4 std.
        assert (rows[:, HISTOGRAM_BINS // 2] == rows.sum(axis=1)).all()
        assert (rows[:, -1] == 0).all()


# Histogram edges, outliers and the binning precision ------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_histogram_rows_count_the_top_edge_and_leave_out_infinities(dtype):
    # np.histogram's rule: [low, high] closed at the top; ±∞ and NaN are not entries.
    values = np.array([-np.inf, -2.0, -1.0, -0.5, 0.0, 1.0, 1.0, 2.0, np.inf, np.nan])
    hist = histogram_rows(values[None, :].astype(dtype), np.array([-1.0]), np.array([1.0]),
                          bins=4)
    finite = values[np.isfinite(values)]
    expected, _ = np.histogram(finite, bins=4, range=(-1.0, 1.0))
    np.testing.assert_array_equal(hist.counts[0], expected)
    assert (hist.below[0], hist.above[0], hist.finite[0]) == (1, 1, 7)


def test_histogram_rows_of_float32_samples_bin_as_float64_does():
    """float32 samples are binned in float32 where that is safe: a bin edge moves by less than
    2⁻¹¹ of a bin, so only an entry within float32 rounding of an edge can change bin."""
    rng = np.random.default_rng(3)
    means, stds = rng.normal(0.0, 3.0, 40), 10.0 ** rng.uniform(-8, 8, 40)
    samples = (means[:, None] + stds[:, None] * rng.standard_normal((40, 4096))
               ).astype(np.float32)
    samples[5, :1000] = np.nan
    low, high = means - 4 * stds, means + 4 * stds
    single = histogram_rows(samples, low, high)
    double = histogram_rows(samples.astype(np.float64), low, high)
    np.testing.assert_array_equal(single.finite, double.finite)
    assert np.abs(single.counts - double.counts).sum() <= 4
    for row in (0, 5, 39):
        finite = samples[row][np.isfinite(samples[row])].astype(np.float64)
        expected, _ = np.histogram(finite, bins=HISTOGRAM_BINS, range=(low[row], high[row]))
        assert np.abs(single.counts[row] - expected).sum() <= 2


@pytest.mark.parametrize("scale,offset", [(1e-39, 0.0), (1e-4, 100.0)])
def test_histogram_rows_of_float32_samples_fall_back_where_float32_binning_is_unsafe(scale,
                                                                                      offset):
    """A range whose 1/width overflows float32 (std 1e-39: subnormal entries), or whose offset
    dwarfs its width (100 ± 4e-4: float32 rounding of the edges would move them by bins), is
    binned in float64: then the counts are np.histogram's."""
    rng = np.random.default_rng(4)
    samples = (offset + scale * rng.standard_normal((3, 4096))).astype(np.float32)
    low, high = np.full(3, offset - 4 * scale), np.full(3, offset + 4 * scale)
    hist = histogram_rows(samples, low, high)
    for row in range(3):
        expected, _ = np.histogram(samples[row].astype(np.float64), bins=HISTOGRAM_BINS,
                                   range=(low[row], high[row]))
        np.testing.assert_array_equal(hist.counts[row], expected)


# Moments -------------------------------------------------------------------------------------

@pytest.mark.parametrize("rms", [1e-20, 1e-30, 1e-41])
def test_moments_of_tiny_entries_are_their_true_tiny_moments(rms):
    """Issue 18: squares summed in float32 underflow below an RMS of ≈ 1e-19 (and the entries
    themselves are subnormal below 1.2e-38): E[x²] read 0 and the variances garbage. The
    moments must be those of the entries as stored, computed exactly (in float64, on x scaled
    by a power of two)."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((256, 64)) * rms + 0.3 * rms).astype(np.float32)
    assert np.count_nonzero(x) > 0.9 * x.size
    m = moments(x, across_units=True)
    exact = x.astype(np.float64) / rms  # exact up to the rounding of the division
    assert m.mean_square == pytest.approx(float(np.mean(exact ** 2)) * rms ** 2, rel=1e-6)
    assert m.mean == pytest.approx(float(exact.mean()) * rms, rel=1e-6)
    assert m.var == pytest.approx(float(exact.var()) * rms ** 2, rel=1e-5)
    assert m.unit_var == pytest.approx(float(exact.var(axis=0).mean()) * rms ** 2, rel=1e-5)
    assert m.across_units_var == pytest.approx(float(exact.var(axis=1).mean()) * rms ** 2,
                                               rel=1e-5)
    pooled = moments(x, per_unit=False)
    assert pooled.var == pytest.approx(m.var, rel=1e-5)
    assert pooled.mean_square == pytest.approx(m.mean_square, rel=1e-9)


def test_pooled_moments_agree_with_the_full_ones():
    rng = np.random.default_rng(1)
    for x in (rng.standard_normal((300, 50)).astype(np.float32) + 2.0,
              np.maximum(rng.standard_normal((64, 700)), 0.0)):
        full, pooled = moments(x), moments(x, per_unit=False)
        assert pooled.var == pytest.approx(full.var, rel=1e-5)
        assert pooled.var == pytest.approx(float(x.astype(np.float64).var()), rel=1e-5)
        assert pooled.mean == pytest.approx(full.mean, rel=1e-6)
        assert np.isnan(pooled.unit_var) and np.isnan(pooled.across_units_var)


def test_moments_of_zeros_are_zero():
    m = moments(np.zeros((16, 8), dtype=np.float32), across_units=True)
    assert (m.mean, m.var, m.unit_var, m.mean_square, m.across_units_var) == (0, 0, 0, 0, 0)
