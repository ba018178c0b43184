"""diagnose() turns measurements into findings a page can put into words."""

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
