"""core.stats: the histogram rows the heatmaps draw."""

from __future__ import annotations

import numpy as np

from core import NetworkConfig, simulate
from core.stats import HISTOGRAM_BINS, HISTOGRAM_SAMPLE, histogram_rows


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
