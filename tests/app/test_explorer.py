"""The entry point and the Explorer page, run by Streamlit's AppTest."""

import json

import pytest

from core import NetworkConfig, encode_query
from ui.frame.i18n import translate
from ui.presets import PRESETS

from .conftest import by_key, shown


def chart_titles(at):
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def test_default_page_runs_and_draws(app):
    at = app()
    assert not at.exception
    assert "Variance versus depth (log scale)" in chart_titles(at)
    assert len(at.get("plotly_chart")) == 2  # variance, then the heatmaps (one figure)
    assert [m.label for m in at.metric][:2] == ["Forward variance, last / first layer",
                                                "Gradient variance, first / last layer"]
    assert at.success  # the default network is diagnosed healthy


def test_a_share_link_restores_every_control(app):
    config = NetworkConfig(depth=23, width=384, activation="relu", init="kaiming_uniform",
                           init_mode="fan_out", norm="batchnorm", norm_position="after",
                           residual=True, residual_scale=0.25, dropout=0.1, batch_size=128,
                           seed=99, input_dist="uniform", loss="mse")
    query = dict(pair.split("=") for pair in encode_query(config).split("&"))
    at = app(**query, lang="en")
    assert not at.exception and not at.warning
    assert by_key(at.sidebar.slider, "cfg.depth").value == 23
    assert by_key(at.sidebar.select_slider, "cfg.width").value == 384
    assert by_key(at.sidebar.selectbox, "cfg.activation").value == "relu"
    assert by_key(at.sidebar.selectbox, "cfg.init").value == "kaiming_uniform"
    assert by_key(at.sidebar.toggle, "cfg.residual").value is True
    assert by_key(at.sidebar.number_input, "cfg.seed").value == 99
    assert at.session_state["config"] == config
    # And the URL written back is the same experiment.
    assert {k: at.query_params[k] for k in query} == query


@pytest.mark.parametrize("key,value,fragment", [
    ("activation", "swish", "activation must be one of"),
    ("depth", "1000000000", "depth must be an integer from 1 to 200"),
    ("width", "-3", "width must be an integer from 1 to 4096"),
    ("init_std", "abc", "init_std must be a number"),
    ("lang", "<b>fr</b>", "lang must be one of en, zh"),
    ("preset", "<script>x</script>", "preset must be one of"),
])
def test_bad_link_values_warn_and_fall_back(app, key, value, fragment):
    at = app(**{key: value, "seed": "5"})
    assert not at.exception
    warnings = " ".join(shown(at.warning))
    assert fragment in warnings
    assert at.session_state["config"].seed == 5
    assert len(at.get("plotly_chart")) == 2


def test_an_over_budget_link_is_refused_before_it_runs(app):
    at = app(depth="200", width="4096", batch_size="16384")
    assert not at.exception
    assert "too large" in " ".join(shown(at.warning))
    assert at.session_state["config"].depth == 10


def test_over_budget_controls_show_an_error_and_keep_the_last_valid_network(app):
    at = app(depth="50", width="512")
    assert not at.exception
    by_key(at.sidebar.select_slider, "cfg.batch_size").set_value(16384).run()
    assert any("too large" in e.value for e in at.error)
    assert at.session_state["config"].batch_size == 512
    assert len(at.get("plotly_chart")) == 2


def test_every_kind_of_control_changes_the_experiment_and_the_url(app):
    at = app()
    by_key(at.sidebar.slider, "cfg.depth").set_value(14).run()
    by_key(at.sidebar.select_slider, "cfg.width").set_value(128).run()
    by_key(at.sidebar.selectbox, "cfg.activation").set_value("leaky_relu").run()
    by_key(at.sidebar.slider, "cfg.leaky_slope").set_value(0.2).run()
    by_key(at.sidebar.selectbox, "cfg.init").set_value("normal").run()
    by_key(at.sidebar.select_slider, "cfg.init_std").set_value(0.1).run()
    by_key(at.sidebar.toggle, "cfg.residual").set_value(True).run()
    by_key(at.sidebar.number_input, "cfg.seed").set_value(7).run()
    by_key(at.sidebar.text_input, "ui.widths_text").input("64,32,16").run()
    assert not at.exception
    config = at.session_state["config"]
    assert (config.activation, config.leaky_slope, config.init, config.init_std) == (
        "leaky_relu", 0.2, "normal", 0.1)
    assert config.residual and config.seed == 7
    assert config.layer_widths == (64, 32, 16)
    assert at.query_params["widths"] == "64,32,16"
    assert at.query_params["activation"] == "leaky_relu"
    # The sidebar is still there after the changes, with its values.
    assert by_key(at.sidebar.selectbox, "cfg.activation").value == "leaky_relu"
    assert len(at.get("plotly_chart")) == 2


def test_new_seed_button_draws_another_network(app):
    at = app()
    before = at.session_state["config"].seed
    next(b for b in at.sidebar.button if "seed" in b.label.lower()).click().run()
    assert at.session_state["config"].seed != before
    assert at.query_params["seed"] == str(at.session_state["config"].seed)


PRESET_NAMES = {p: translate("en", f"preset.{p}.name") for p in PRESETS}


@pytest.mark.parametrize("preset_id", list(PRESETS))
def test_every_preset_runs_and_says_what_to_notice(app, preset_id):
    at = app()
    by_key(at.sidebar.selectbox, "ui.preset").set_value(preset_id).run()
    assert not at.exception
    expected = NetworkConfig(**PRESETS[preset_id])
    assert at.session_state["config"] == expected
    assert any(m.value.startswith("**") and PRESET_NAMES[preset_id] in m.value
               for m in at.markdown)  # the lesson's one-line title
    assert at.info and "{" not in at.info[0].value  # the notice, its numbers filled in
    assert at.query_params["preset"] == preset_id


def test_overflow_preset_is_shown_not_crashed(app):
    at = app(preset="relu_overflow", depth="100", activation="relu", init="normal",
             init_std="1")
    assert not at.exception
    next(b for b in at.button if b.key == "lesson.show.relu_overflow").click().run()
    assert any("overflow" in e.value.lower() for e in at.error)
    variance = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert any("non-finite" in str(shape) for shape in variance["layout"].get("annotations", []))


@pytest.mark.parametrize("section,charts", [("layers", 3), ("why", 1), ("table", 1)])
def test_sections(app, section, charts):
    at = app(view=section)
    assert not at.exception
    assert len(at.get("plotly_chart")) == charts
    if section == "table":
        assert at.dataframe[0].value.shape[0] == 11
        assert len(at.get("download_button")) == 2


def test_histogram_scale_radio_switches_bins(app):
    at = app()
    heat = json.loads(at.get("plotly_chart")[1].proto.spec)
    at.radio[0].set_value("shared").run()
    shared = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert heat["layout"]["xaxis"]["title"]["text"] != shared["layout"]["xaxis"]["title"]["text"]
    assert at.query_params["hist_scale"] == "shared"


def test_chinese_from_the_link_and_from_the_picker(app):
    at = app(lang="zh")
    assert "方差" in at.title[0].value
    assert "方差随深度的变化" in chart_titles(at)[0]
    at.sidebar.selectbox[0].set_value("en").run()
    assert at.title[0].value.startswith("Variance Lab")
    # English is this browser's language (AppTest has no locale): the link names none.
    assert "lang" not in at.query_params


def dashed_traces(at):
    variance = json.loads(at.get("plotly_chart")[0].proto.spec)
    return [trace for trace in variance["data"] if trace.get("line", {}).get("dash") == "dash"]


def test_theory_lines_follow_the_measurement_and_can_be_hidden(app):
    at = app(width="512", activation="relu", init="kaiming_normal")
    assert len(dashed_traces(at)) == 2  # the story's: activation and gradient (more are one click away)
    caption = " ".join(c.value for c in at.caption)
    assert "median |log10(measured/predicted)|" in caption
    forward = float(caption.split("forward ")[1].split(",")[0])
    assert forward < 0.05  # ReLU + He at width 512: within ~12 %
    next(tg for tg in at.toggle if tg.key == "ui.theory@explorer").set_value(False).run()
    assert dashed_traces(at) == []
    assert at.query_params["theory"] == "0"


def test_no_theory_line_where_the_theory_does_not_apply(app):
    at = app(init="zeros")
    assert dashed_traces(at) == []
    assert any("No theory line" in c.value for c in at.caption)


def test_the_table_carries_the_predicted_columns(app):
    at = app(view="table")
    columns = list(at.dataframe[0].value.columns)
    assert "pred_preact_var" in columns and "pred_grad_out_var" in columns


def test_link_warnings_stay_until_the_experiment_changes(app):
    at = app(depth="abc")
    assert at.warning
    at.run()
    assert at.warning  # a rerun alone does not hide them
    by_key(at.sidebar.slider, "cfg.depth").set_value(12).run()
    assert not at.warning


def test_markup_in_a_link_is_shown_as_text(app):
    at = app(activation="[click](http://example.com)")
    raw = " ".join(w.value for w in at.warning)
    assert "[click](" not in raw  # would render as a link
    assert "activation='[click](http://example.com)' is invalid" in " ".join(shown(at.warning))


def test_changing_language_after_visiting_every_page(app):
    at = app(lang="en")
    for page in ("views/compare.py", "views/phase.py", "views/spectrum.py", "views/explorer.py"):
        at.switch_page(page).run()
        assert not at.exception, page
    at.sidebar.selectbox[0].set_value("zh").run()
    assert not at.exception
    assert "方差" in at.title[0].value


def test_link_warnings_speak_chinese(app):
    at = app(lang="zh", depth="abc", activation="swish", preset="nope")
    texts = shown(at.warning)
    assert any("depth='abc' 无效：depth 必须是1 到 200 之间的整数" in w for w in texts)
    assert any("activation='swish' 无效" in w and "以下之一：identity" in w for w in texts)
    assert any("preset='nope' 无效" in w for w in texts)
    assert not any(" must be " in w for w in texts)


def test_over_budget_link_in_chinese(app):
    at = app(lang="zh", depth="200", width="4096", batch_size="16384")
    assert any("这个网络太大" in w for w in shown(at.warning))


def test_no_page_stops_the_entry_point():
    """st.stop() in a page would skip the link rewrite and the share box after it."""
    from pathlib import Path

    for page in (Path(__file__).resolve().parents[2] / "views").glob("*.py"):
        assert "st.stop(" not in page.read_text(encoding="utf-8"), page.name


def test_an_unknown_key_is_named_with_the_nearest_known_one(app):
    at = app(dpeth="50", seed="5")
    assert not at.exception
    warnings = " ".join(shown(at.warning))
    assert "dpeth" in warnings and "depth" in warnings
    assert at.session_state["config"].seed == 5
    assert "dpeth" not in at.query_params  # the rewritten address drops it


def test_an_unknown_key_far_from_every_known_one_is_named_without_a_guess(app):
    at = app(zzqqxx="1")
    warnings = " ".join(shown(at.warning))
    assert "zzqqxx" in warnings and "Did you mean" not in warnings


def test_a_repeated_key_warns_and_the_address_keeps_one_value(app):
    at = app(depth=["abc", "5"])
    assert not at.exception
    warnings = " ".join(shown(at.warning))
    assert "depth" in warnings and "2 times" in warnings
    assert at.session_state["config"].depth == 5
    assert at.query_params["depth"] == "5"  # one value, not ['abc', '5']


def test_the_preset_warning_lists_only_real_presets(app):
    at = app(preset="nope")
    warning = next(w for w in shown(at.warning) if "preset" in w)
    valid = warning.split("one of ", 1)[1].rstrip(".")
    assert [name.strip() for name in valid.split(",")] == list(PRESETS)


def test_float64_statistics_overflow_is_diagnosed_and_the_headline_says_so(app):
    """ReLU, N(0, 1) weights, width 256: E[h²] grows ×128 a layer, so its variance passes the
    largest float64 (1.8e308) near layer 308 / log10(128) ≈ 146, while every entry stays
    finite (they are only ≈ 1e154)."""
    at = app(depth="200", activation="relu", init="normal", init_std="1", dtype="float64")
    assert not at.exception
    sentence = next(e.value for e in at.error if "beyond float64" in e.value)
    layer = int(sentence.split("from layer ")[1].split(" ")[0])
    assert 140 <= layer <= 150
    first = next(m for m in at.metric if m.label == "First layer in trouble")
    assert first.value == str(layer)
    forward = next(m for m in at.metric if m.label.startswith("Forward variance"))
    assert forward.value.startswith("> ")  # a bound, not "—"
    assert float(forward.value[2:]) > 1e300
    backward = next(m for m in at.metric if m.label.startswith("Gradient variance"))
    assert backward.value.startswith("> ") and float(backward.value[2:]) > 1e300
    variance = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert f"variance beyond float64 from layer {layer}" in str(variance["layout"]["annotations"])
