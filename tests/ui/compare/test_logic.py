"""The Compare page's pure logic (ui.compare.logic, with the set-up machinery of ui.setups it
binds), URL table (ui.compare.state) and chart builders (ui.compare.charts)."""

import random
import string

import numpy as np
import pandas as pd
import pytest

from core import MAX_RUN_SECONDS, NetworkConfig, simulate
from ui.chart_style import HEALTHY_BAND
from ui.compare import state as compare_state
from ui.compare.charts import histogram_grid, units_chart, variance_overlay
from ui.compare.logic import (COMPARE_PRESETS, DEFAULT_SWEEP, SWEEP_DEFAULTS, SWEEP_FIELDS,
                              apply_editor_state, diffs_from_editor, editor_frame, parse_layer,
                              parse_sweep, preset_matches, summary_frame)
from ui.frame.i18n import translate
from ui.setups import MAX_SETUPS, Run, Sweep, build_setups, format_sweep, parse_names


def en(key, **values):
    return translate("en", key, **values)


def zh(key, **values):
    return translate("zh", key, **values)


SMALL = NetworkConfig(depth=6, width=32, batch_size=64)


def runs_for(base, diffs, names=()):
    return [Run(s, simulate(s.config)) for s in build_setups(base, diffs, names, en)
            if s.config is not None]


# --- URL codec -----------------------------------------------------------------------------

def test_sweep_round_trip_and_canonical_values():
    sweep = parse_sweep("init_std:0.01, 0.1,1,0.10")
    assert sweep == Sweep("init_std", (0.01, 0.1, 1.0))  # duplicates dropped, floats parsed
    assert parse_sweep(format_sweep(sweep)) == sweep
    assert parse_sweep("residual:0,1") == Sweep("residual", (False, True))
    for field in SWEEP_FIELDS:
        default = Sweep(field, SWEEP_DEFAULTS[field])
        assert parse_sweep(format_sweep(default)) == default


@pytest.mark.parametrize("text,named", [
    ("bogus:1,2", "init_std"),                 # unknown field: the valid fields are named
    ("init:bogus", "xavier_normal"),           # bad choice: the valid choices are named
    ("depth:0", "from 1 to 200"),
    ("init_std:nan", "from 0 to 100"),
    ("depth:" + ",".join(str(i) for i in range(1, 9)), "6"),  # more than 6 set-ups
    ("depth:", "field"),
    ("depth", "field"),
])
def test_bad_sweeps_raise_value_error_naming_what_is_valid(text, named):
    with pytest.raises(ValueError) as info:
        parse_sweep(text)
    assert named in str(info.value)


def test_names_and_layer_parsers():
    assert parse_names("a; b;;d;") == ("a", "b", "", "d")
    assert parse_names("") == ()
    with pytest.raises(ValueError):
        parse_names(";".join("abcdefg"))
    with pytest.raises(ValueError):
        parse_names("x" * 41)
    assert parse_layer("7") == 7
    for bad in ("-1", "201", "1.5", "", "x", "0" * 10):
        with pytest.raises(ValueError):
            parse_layer(bad)


@pytest.mark.parametrize("text", ["²", "1²", "٣", "１", "³⁴"])
def test_layer_parser_names_the_valid_values_for_non_ascii_digits(text):
    """str.isdigit() accepts superscripts and other scripts' digits that int() refuses: the
    message must be ours (the valid range), not int()'s."""
    with pytest.raises(ValueError, match=r"^an integer from 0 to 200$"):
        parse_layer(text)


def test_parsers_raise_nothing_but_value_error_on_random_input():
    rng = random.Random(0)
    alphabet = string.printable + "σ中;:&=,%"
    for name, (_, _, parse, _) in compare_state.URL_PARAMS.items():
        for _ in range(300):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
            if rng.random() < 0.3:  # something close to valid
                text = rng.choice(["init_std:", "depth=", "cmp", "depth:3,"]) + text
            try:
                parse(text)
            except ValueError:
                pass


def test_url_params_defaults_round_trip_and_reach_url_state():
    from ui.frame.url_state import EXTRAS

    for name, (key, default, parse, fmt) in compare_state.URL_PARAMS.items():
        assert EXTRAS[name].session_key == key
        if default not in (None, "", ()):
            assert parse(fmt(default)) == default
    assert compare_state.URL_PARAMS["cmp"][1] == DEFAULT_SWEEP


# --- set-ups and presets -------------------------------------------------------------------

def test_every_preset_builds_valid_modest_setups():
    for preset_id, preset in COMPARE_PRESETS.items():
        base = preset.config(seed=3)
        setups = build_setups(base, preset.diffs(), (), en)
        assert 2 <= len(setups) <= MAX_SETUPS, preset_id
        assert all(s.config is not None for s in setups), preset_id
        assert len({s.name for s in setups}) == len(setups)
        assert len({s.config for s in setups}) == len(setups), "set-ups differ"
        for s in setups:
            assert s.config.seed == 3
            assert s.config.estimated_seconds() < MAX_RUN_SECONDS / 3, (preset_id, s.name)
            assert s.config.batch_size <= 512 and s.config.depth <= 50
        assert en(f"compare.preset.{preset_id}.name") != f"compare.preset.{preset_id}.name"
        assert zh(f"compare.preset.{preset_id}.notice") != en(f"compare.preset.{preset_id}.notice")


def test_preset_matches_only_its_own_comparison():
    preset = COMPARE_PRESETS["relu_init"]
    base = preset.config(seed=5)
    assert preset_matches("relu_init", base, preset.sweep, ())
    assert not preset_matches("relu_init", base.replace(depth=31), preset.sweep, ())
    assert not preset_matches("relu_init", base, Sweep("init", ("xavier_normal",)), ())
    assert not preset_matches("relu_init", base, preset.sweep, ((("depth", 3),),))
    norm = COMPARE_PRESETS["relu_norm"]
    assert preset_matches("relu_norm", norm.config(), DEFAULT_SWEEP, norm.setups)
    assert not preset_matches("relu_norm", norm.config(), DEFAULT_SWEEP, norm.setups[:2])
    assert not preset_matches("nope", base, preset.sweep, ())


def test_editor_round_trip():
    setups = ((("init", "normal"), ("init_std", 0.5)), ())
    frame = editor_frame(SMALL, setups)
    assert list(frame["init"]) == ["normal", SMALL.init]
    assert diffs_from_editor(SMALL, frame) == (setups, [])
    state = {"edited_rows": {1: {"norm": "batchnorm", "depth": 9}}, "deleted_rows": [0],
             "added_rows": [{"activation": "relu"}]}
    edited = apply_editor_state(frame, state)
    diffs, problems = diffs_from_editor(SMALL, edited)
    assert problems == []
    assert diffs == ((("depth", 9), ("norm", "batchnorm")),
                     (("depth", 9), ("activation", "relu"), ("norm", "batchnorm")))
    frame.loc[0, "dropout"] = 5.0  # out of range: reported, left at the base's value
    diffs, problems = diffs_from_editor(SMALL, frame)
    assert diffs[0] == setups[0] and len(problems) == 1 and "dropout" in problems[0]


def test_summary_frame_reports_ratios_overflow_and_diagnosis():
    base = NetworkConfig(depth=60, width=64, batch_size=64, activation="relu", init="normal",
                         init_std=1.0)
    runs = runs_for(base, ((), (("init", "kaiming_normal"),)))
    frame = summary_frame(runs, en)
    assert list(frame["set-up"]) == ["sidebar network", "Weight init = He (Kaiming) normal"]
    first = runs[0].result.first_nonfinite_layer
    assert first is not None and frame["first non-finite layer"].iloc[0] == first
    assert pd.isna(frame["first non-finite layer"].iloc[1])
    assert "overflow" in frame["diagnosis"].iloc[0]
    assert frame["forward variance, last / first"].iloc[1] == pytest.approx(
        runs[1].result.layer_stats.set_index("layer")["out_var"].iloc[-1]
        / runs[1].result.layer_stats.set_index("layer")["out_var"].iloc[1])
    assert frame["differences from the sidebar"].tolist() == ["base", "init=kaiming_normal"]
    assert "诊断" in summary_frame(runs, zh).columns


# --- charts --------------------------------------------------------------------------------

def test_overlay_one_colour_per_setup_on_every_chart():
    runs = runs_for(SMALL, Sweep("activation", ("tanh", "relu", "sigmoid")).diffs())
    forward = variance_overlay(runs, en)
    backward = variance_overlay(runs, en, column="grad_out_var")
    for panel in (forward, backward):
        assert panel.layout.yaxis.type == "log"
        for run in runs:
            traces = [d for d in panel.data if d.name == run.name]
            assert len(traces) == 1 and traces[0].line.color == run.colour
    assert forward.layout.title.text == en("compare.chart.forward")
    # The band is a gradient band: shaded (and named in the legend) on the backward panel only.
    assert not [s for s in forward.layout.shapes if s.type == "rect"]
    bands = [s for s in backward.layout.shapes if s.type == "rect"]
    assert [(s.y0, s.y1) for s in bands] == [HEALTHY_BAND]
    assert en("chart.healthy_band") in [d.name for d in backward.data]
    hist = histogram_grid(runs, None, en)
    assert [fig.data[0].marker.color for fig in hist] == [r.colour for r in runs]
    units = units_chart(runs, en)
    assert [d.marker.color for d in units.data] == [r.colour for r in runs]
    relu = next(d for d in units.data if "ReLU" in d.name)
    assert relu.y[0] is None and relu.y[1] >= 0  # ReLU has no saturation, it has dead units


def test_overlay_draws_theory_when_given_and_marks_overflow():
    base = NetworkConfig(depth=60, width=64, batch_size=64, activation="relu", init="normal",
                         init_std=1.0)
    runs = runs_for(base, ((), (("init", "kaiming_normal"),)))
    theory = {runs[1].name: pd.DataFrame({"pred_out_var": np.ones(60)}, index=range(1, 61))}
    fig = variance_overlay(runs, en, theory=theory)
    dashed = [d for d in fig.data if d.line.dash == "dash"]
    assert len(fig.data) == 3 and len(dashed) == 1 and dashed[0].line.color == runs[1].colour
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(lines) == 1 and lines[0].x0 == runs[0].result.first_nonfinite_layer
    assert lines[0].line.color == runs[0].colour


def test_histogram_grid_uses_the_chosen_layer_or_each_last_layer():
    runs = runs_for(SMALL, Sweep("depth", (3, 6)).diffs())
    figures = histogram_grid(runs, None, en)
    titles = [fig.layout.title.text for fig in figures]
    assert titles == ["Depth (layers) = 3 · layer 3", "Depth (layers) = 6 · layer 6"]
    figures = histogram_grid(runs, 5, en)
    assert figures[1].layout.title.text.endswith("layer 5")
    assert figures[0].layout.title.text.endswith("layer 3")  # shallower: last
    counts = runs[1].result.histograms.get("act", "std").counts[5]
    assert list(figures[1].data[0].y) == list(counts)


def test_the_values_widget_gives_a_sweep_or_says_what_is_wrong():
    from ui.compare.logic import sweep_from_widget
    from ui.setups import EmptySweep, Sweep

    assert sweep_from_widget("init_std", "0.01, 1") == Sweep("init_std", (0.01, 1.0))
    assert sweep_from_widget("init", ["normal", "orthogonal"]) == Sweep(
        "init", ("normal", "orthogonal"))
    with pytest.raises(EmptySweep):
        sweep_from_widget("init", [])
    with pytest.raises(ValueError, match="init_std"):
        sweep_from_widget("init_std", "abc")
