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
