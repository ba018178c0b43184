"""The main flow: after every way of arriving, every sidebar control still works.

A preset chosen in the sidebar, a preset link, a share link with many fields, a visit to
another page: each is followed by a move of every kind of sidebar control, and the page must
still draw, with the config changed as the control says.
"""

import json

import pytest

from core import NetworkConfig, encode_query
from ui.presets import PRESETS, preset_config

from .conftest import by_key


def charts(at) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def assert_draws(at):
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("plotly_chart")) == 2, charts(at)


# --- the blocker: a preset, then a control ---------------------------------------------------

def test_preset_chosen_then_depth_moved(app):
    at = app()
    by_key(at.sidebar.selectbox, "ui.preset").set_value("relu_he").run()
    assert_draws(at)
    by_key(at.sidebar.slider, "cfg.depth").set_value(12).run()
    assert_draws(at)
    config = at.session_state["config"]
    assert config == preset_config("relu_he").replace(depth=12)
    # The controls no longer match the lesson: the preset is cleared, and the address too.
    assert by_key(at.sidebar.selectbox, "ui.preset").value == ""
    assert "preset" not in at.query_params and at.query_params["depth"] == "12"
    at.run()  # and the next rerun stays clean
    assert_draws(at)


@pytest.mark.parametrize("preset_id", ["relu_he", "zero_init"])
def test_preset_link_opens_the_lesson_then_a_control_moves(app, preset_id):
    at = app(preset=preset_id)
    assert_draws(at)
    assert at.session_state["config"] == preset_config(preset_id)
    assert by_key(at.sidebar.selectbox, "ui.preset").value == preset_id
    assert at.query_params["preset"] == preset_id
    by_key(at.sidebar.slider, "cfg.depth").set_value(7).run()
    assert_draws(at)
    assert at.session_state["config"] == preset_config(preset_id).replace(depth=7)
    assert by_key(at.sidebar.selectbox, "ui.preset").value == ""
