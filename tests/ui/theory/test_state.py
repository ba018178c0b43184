"""The Phase page's link parameter and what a click on the phase map means (ui.theory.state)."""

import math

import pytest

from core import NetworkConfig
from ui.frame import url_state
from ui.theory.state import (METRIC_KEY, URL_PARAMS, applied_matches, config_for_point,
                             parse_metric, point_from_selection, snap)


# --- clicks and the URL ---------------------------------------------------------------------

def test_a_point_becomes_normal_weights_and_biases_for_the_hidden_width():
    base = NetworkConfig(widths=(784, 128, 128, 10), activation="relu")
    new = config_for_point(base, 2.0, 0.05)
    assert new.init == "normal" and new.bias_init == "normal"
    assert new.init_std == snap(math.sqrt(2.0 / 128)) == 0.125
    assert new.bias_std == 0.224
    assert new.widths == base.widths and new.activation == "relu"


def test_points_are_clipped_and_bad_points_refused():
    base = NetworkConfig(width=1)
    huge = config_for_point(base, 1e9, 1e9)
    assert huge.init_std == 100.0 and huge.bias_std == 10.0
    assert config_for_point(base, 0.0, 0.0).init_std == 0.0
    for bad in ((float("nan"), 0.1), (1.0, float("inf")), (-1.0, 0.1)):
        with pytest.raises(ValueError):
            config_for_point(base, *bad)


@pytest.mark.parametrize("payload,expected", [
    ({"selection": {"points": [{"x": 1.5, "y": 0.2, "curve_number": 3}], "point_indices": [5]}},
     (1.5, 0.2)),
    ({"selection": {"points": [{"x": "2", "y": 0}, {"x": 3, "y": 0.1}]}}, (2.0, 0.0)),
    ({"selection": {"points": []}}, None),
    ({"selection": {"points": [{"x": None, "y": 0.1}]}}, None),
    ({"selection": {"points": [{"x": float("nan"), "y": 0.1}]}}, None),
    ({"selection": {"points": [{"x": -1, "y": 0.1}]}}, None),
    ({"selection": {"points": [{"y": 0.1}]}}, None),
    ({}, None), (None, None), ("garbage", None),
])
def test_point_from_selection(payload, expected):
    assert point_from_selection(payload) == expected


def test_applied_matches_only_the_config_it_made():
    new = config_for_point(NetworkConfig(), 1.0, 0.01)
    applied = {"init_std": new.init_std, "bias_std": new.bias_std}
    assert applied_matches(applied, new)
    assert not applied_matches(applied, new.replace(init_std=0.5))
    assert not applied_matches(applied, new.replace(init="xavier_normal"))
    assert not applied_matches(None, new)


def test_metric_param_is_registered_and_validated():
    assert URL_PARAMS["phase_metric"][0] == METRIC_KEY
    extra = url_state.EXTRAS["phase_metric"]
    assert extra.session_key == METRIC_KEY and extra.default == "chi1"
    assert parse_metric("xi_c") == "xi_c"
    with pytest.raises(ValueError, match="one of chi1, xi_c"):
        parse_metric("<b>")


def test_snap():
    assert snap(0.0883883476) == 0.0884
    assert snap(0.0) == 0.0
    assert snap(123456.0) == 123000.0
