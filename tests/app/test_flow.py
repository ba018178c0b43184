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
    assert len(at.get("plotly_chart")) == 2, charts(at)  # variance, then the heatmaps


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


# --- every control after every way of arriving ---------------------------------------------

WIDGET_KINDS = ("slider", "select_slider", "selectbox", "toggle", "number_input")


def widget(at, key):
    for kind in WIDGET_KINDS:
        found = [e for e in getattr(at.sidebar, kind) if e.key == key]
        if found:
            return found[0]
    raise AssertionError(f"no sidebar control {key} (hidden?)")


def move(at, field, value):
    """Set one control, rerun, and check that exactly that field changed."""
    before = at.session_state["config"]
    widget(at, f"cfg.{field}").set_value(value).run()
    assert_draws(at)
    assert at.session_state["config"] == before.replace(**{field: value}), field


def one_of_each_kind(at):
    """A slider, a select-slider, a selectbox, a toggle and a number box."""
    config = at.session_state["config"]
    move(at, "depth", config.depth + 1 if config.depth < 200 else config.depth - 1)
    move(at, "width", 128 if config.width != 128 else 64)
    move(at, "activation", "gelu" if config.activation != "gelu" else "tanh")
    move(at, "residual", not config.residual)
    move(at, "seed", config.seed + 1)


def widths_box_and_new_seed(at):
    """The widths text box sets depth and width; the new-seed button draws another seed."""
    by_key(at.sidebar.text_input, "ui.widths_text").input("64,32,16").run()
    assert_draws(at)
    assert at.session_state["config"].layer_widths == (64, 32, 16)
    before = at.session_state["config"]
    next(b for b in at.sidebar.button if "seed" in b.label.lower()).click().run()
    assert_draws(at)
    after = at.session_state["config"]
    assert after.seed != before.seed and after == before.replace(seed=after.seed)
    assert at.query_params["seed"] == str(after.seed)


#: The other controls, in groups that first reveal what they need (every field is moved by one
#: of the arrivals below, each kind of control by all of them).
GROUPS = {
    "network": [("activation", "leaky_relu"), ("leaky_slope", 0.2), ("dtype", "float64")],
    "init_normal": [("init", "normal"), ("init_std", 0.1), ("bias_init", "normal"),
                    ("bias_std", 0.01)],
    "init_other": [("init", "uniform"), ("init_bound", 0.1), ("init", "constant"),
                   ("init_value", 0.5), ("bias_init", "constant"), ("bias_value", 0.2)],
    "kaiming": [("init", "kaiming_normal"), ("init_mode", "fan_out"), ("init_gain", 1.5)],
    "batchnorm": [("norm", "batchnorm"), ("norm_position", "after"), ("bn_mode", "eval"),
                  ("bn_momentum", 0.2), ("bn_passes", 3)],
    "data": [("residual", True), ("residual_form", "post"), ("residual_scale", 0.5), ("dropout", 0.1), ("batch_size", 64),
             ("input_dist", "uniform"), ("input_preprocess", "zscore"), ("loss", "mse")],
}


def test_the_groups_move_every_config_field():
    from core import FIELD_SPECS

    moved = {field for steps in GROUPS.values() for field, _ in steps}
    moved |= {"depth", "width", "activation", "residual", "seed", "widths"}
    assert moved == set(FIELD_SPECS)


def share_link_query():
    config = NetworkConfig(depth=6, width=96, activation="relu", init="kaiming_uniform",
                           init_mode="fan_out", init_gain=1.2, norm="layernorm",
                           residual=True, residual_scale=0.3, dropout=0.05, batch_size=48,
                           seed=11, input_dist="uniform", input_preprocess="minmax",
                           loss="cross_entropy", bias_init="normal", bias_std=0.05)
    return dict(pair.split("=") for pair in encode_query(config).split("&")), config


def arrive(app, how):
    """Open the app the way ``how`` says; return the AppTest on the Explorer."""
    if how == "preset_chosen":
        at = app()
        by_key(at.sidebar.selectbox, "ui.preset").set_value("relu_he").run()
        assert at.session_state["config"] == preset_config("relu_he")
    elif how == "preset_link":
        at = app(preset="bn_rescue")
        assert at.session_state["config"] == preset_config("bn_rescue")
    elif how == "share_link":
        query, config = share_link_query()
        at = app(**query)
        assert at.session_state["config"] == config
        assert not [w for w in at.warning if "link" in w.value]
    else:  # another page, where a control moves too, then back to the Explorer
        at = app(depth="8")
        at.switch_page(f"views/{how}.py").run()
        assert not at.exception and at.get("plotly_chart"), how
        move_on_page = at.session_state["config"]
        widget(at, "cfg.depth").set_value(9).run()
        assert not at.exception and at.get("plotly_chart"), how
        assert at.session_state["config"] == move_on_page.replace(depth=9)
        at.switch_page("views/explorer.py").run()
    assert_draws(at)
    return at


@pytest.mark.parametrize("how,group", [
    ("preset_chosen", "network"), ("preset_link", "batchnorm"), ("share_link", "init_other"),
    ("compare", "kaiming"), ("phase", "init_normal"), ("spectrum", "data"),
])
def test_every_kind_of_control_after_every_way_of_arriving(app, how, group):
    at = arrive(app, how)
    one_of_each_kind(at)
    assert by_key(at.sidebar.selectbox, "ui.preset").value == ""  # no lesson matches now
    for field, value in GROUPS[group]:
        move(at, field, value)
    widths_box_and_new_seed(at)
