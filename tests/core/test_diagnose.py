"""diagnose() turns measurements into findings a page can put into words."""

import numpy as np
import pytest

from core import NetworkConfig, diagnose, simulate
from core.diagnose import CODES


def codes(**fields):
    config = NetworkConfig(**{"depth": 10, "width": 256, "batch_size": 256, **fields})
    return {f.code: f for f in diagnose(simulate(config))}


def test_collapse_is_forward_and_backward_vanishing_from_an_early_layer():
    found = codes(init="normal", init_std=0.01)
    vanishing = found["forward_vanishing"]
    assert vanishing.layer <= 3 and vanishing.ratio < 1e-8
    assert vanishing.per_layer == pytest.approx(vanishing.ratio ** (1 / 9))
    assert "backward_vanishing" in found


def test_saturation_is_found_with_its_fraction():
    found = codes(init="normal", init_std=1.0)
    assert found["saturation"].fraction > 0.8 and found["saturation"].layer == 1


def test_overflow_names_the_layer_and_silences_backward_ratios():
    found = codes(depth=100, activation="relu", init="normal", init_std=1.0)
    assert found["forward_overflow"].layer > 5
    assert "backward_vanishing" not in found and "backward_exploding" not in found


def test_symmetry_and_dead_units_from_zero_init():
    found = codes(init="zeros")
    assert found["symmetry"].layer == 1
    assert found["dead_units"].fraction == 1.0


def test_he_relu_neither_vanishes_nor_explodes():
    found = codes(activation="relu", init="kaiming_normal")
    assert not {"forward_vanishing", "forward_exploding", "backward_vanishing",
                "backward_exploding"} & set(found)


def test_healthy_when_nothing_is_wrong():
    found = codes(activation="tanh", init="orthogonal", init_gain=1.0, width=512)
    assert set(found) == {"healthy"}


def test_every_code_is_declared():
    for fields in [dict(init="zeros"), dict(init="normal", init_std=1.0),
                   dict(activation="relu", init="kaiming_normal", residual=True)]:
        for finding in diagnose(simulate(NetworkConfig(depth=10, width=64, batch_size=64,
                                                       **fields))):
            assert finding.code in CODES


def test_float64_statistics_overflow_names_the_layer_where_they_leave_the_range():
    """Every entry stays finite in float64, but from some layer on their squares (and so the
    variance) exceed the largest float64: a problem to report, with that layer."""
    config = NetworkConfig(depth=200, width=128, batch_size=16, activation="relu",
                           init="normal", init_std=1.0, dtype="float64")
    result = simulate(config)
    stats = result.layer_stats.set_index("layer")
    assert result.first_nonfinite_layer is None  # no entry is inf or NaN
    found = {f.code: f for f in diagnose(result)}
    overflow = found["forward_variance_overflow"]
    # The first layer whose variance is beyond float64, the one before it representable.
    assert overflow.severity == "problem"
    assert np.isinf(stats.loc[overflow.layer, "out_var"])
    assert np.isfinite(stats.loc[overflow.layer - 1, "out_var"])
    assert stats.loc[overflow.layer - 1, "out_var"] > 1e290
    # Its growth per layer is measured on the representable layers: ReLU with N(0, 1) weights
    # multiplies E[h²] by n·σ²/2 = 64 a layer.
    assert 45 < overflow.per_layer < 90
    assert overflow.extra["from_layer"] <= 3  # past 100× early, as forward_exploding says
    assert "forward_exploding" not in found  # the overflow finding says it, with its layer
    assert overflow.ratio == float("inf")
    # Going back, the gradient's variance leaves the range too, at a layer named the same way.
    back = found["backward_variance_overflow"]
    assert np.isinf(stats.loc[back.layer, "grad_out_var"])
    assert np.isfinite(stats.loc[back.layer + 1, "grad_out_var"])
