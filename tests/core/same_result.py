"""One check for 'the same simulation result, bit for bit', used wherever a shortcut (memo,
shared forward pass) must give what a fresh run gives."""

import math

import numpy as np
import pandas as pd


def assert_same_result(got, want):
    pd.testing.assert_frame_equal(got.layer_stats, want.layer_stats)
    assert got.loss == want.loss or (math.isnan(got.loss) and math.isnan(want.loss))
    for field in ("first_nonfinite_layer", "first_nonfinite_grad_layer",
                  "first_subnormal_layer", "first_subnormal_grad_layer"):
        assert getattr(got, field) == getattr(want, field), field
    assert got.histograms.sets.keys() == want.histograms.sets.keys()
    for key, hist in want.histograms.sets.items():
        for part in ("low", "high", "counts", "below", "above"):
            np.testing.assert_array_equal(getattr(got.histograms.sets[key], part),
                                          getattr(hist, part), err_msg=f"{key} {part}")
