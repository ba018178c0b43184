"""The Compare page run by Streamlit's AppTest: default comparison, every preset, share links
(good and bad), over-budget set-ups, the cache, modes and languages."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.serving import cache, worker_tasks
from ui.compare.logic import COMPARE_PRESETS
from ui.frame.i18n import translate

from .conftest import shown


def en(key, **values):
    return translate("en", key, **values)


APP = str(Path(__file__).resolve().parents[2] / "app.py")


def open_compare(**query) -> AppTest:
    cache.simulation.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.switch_page("views/compare.py").run()


def figures(at):
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def overlay(at, with_theory=False):
    """The overlay's two panels (forward, backward) as one figure's traces; by default their
    measured curves only (theory lines are dashed; the band's legend entry is not a curve)."""
    panels = figures(at)[:2]
    titles = {translate(lang, key) for lang in ("en", "zh")
              for key in ("compare.chart.forward", "compare.chart.backward")}
    assert all(f["layout"]["title"]["text"] in titles for f in panels)
    data = [d for f in panels for d in f["data"] if d.get("hoverinfo") != "skip"]
    if not with_theory:
        data = [d for d in data if d.get("line", {}).get("dash") != "dash"]
    # Both panels have a legend (stacked on a phone, each must be read alone): the forward one.
    legend = [d["name"] for d in panels[0]["data"] if d.get("showlegend", True)
              and d.get("hoverinfo") != "skip"]
    return {"data": data, "legend": legend}


def histograms(at):
    """The per-set-up histogram figures (between the overlay's panels and the units chart)."""
    return figures(at)[2:-1]


def legend_names(fig):
    if "legend" in fig:
        return fig["legend"]
    return [d["name"] for d in fig["data"] if d.get("showlegend", True)]


def test_default_comparison_runs_and_draws():
    at = open_compare(lang="en")
    assert not at.exception and not at.warning and not at.error
    assert at.title[0].value == "Compare set-ups side by side"
    figs = figures(at)
    assert len(figs) == 2 + 2 + 1  # overlay panels, a histogram per set-up, units
    assert legend_names(overlay(at)) == ["Weight init = Xavier (Glorot) normal",
                                         "Weight init = He (Kaiming) normal"]
    assert len(overlay(at)["data"]) == 4  # 2 set-ups × forward, backward
    table = at.dataframe[-1].value
    assert len(table) == 2 and list(table.columns)[0] == "set-up"
    assert list(table["first non-finite layer"]) == ["—", "—"]  # none overflowed


@pytest.mark.parametrize("preset_id", list(COMPARE_PRESETS))
def test_each_preset_runs_and_draws_its_setups(preset_id):
    at = open_compare(lang="en")
    at.selectbox(key="cmp.preset").select(preset_id).run()
    assert not at.exception and not at.warning
    preset = COMPARE_PRESETS[preset_id]
    count = len(preset.diffs())
    fig = overlay(at)
    assert len(fig["data"]) == 2 * count
    assert len(set(legend_names(fig))) == count
    colours = [d["line"]["color"] for d in fig["data"] if d.get("showlegend", True)][:count]
    assert len(set(colours)) == count
    hist, units = histograms(at), figures(at)[-1]
    assert [f["data"][0]["marker"]["color"] for f in hist if f["data"]] == [
        c for c, f in zip(colours, hist) if f["data"]]
    assert [d["marker"]["color"] for d in units["data"]] == colours
    assert len(at.dataframe[-1].value) == count
    # the preset set the sidebar's network and stays selected; the URL holds it
    for field, value in preset.base.items():
        assert at.session_state[f"cfg.{field}"] == value
    assert at.selectbox(key="cmp.preset").value == preset_id
    assert at.query_params["cmp_preset"] == preset_id
    # The notice, its numbers measured on these set-ups (ui/lessons.py).
    from core import simulate
    from ui.setups import apply_diff
    from ui.lessons import compare_notice

    results = [simulate(apply_diff(preset.config(), diff)) for diff in preset.diffs()]
    assert any(compare_notice(preset_id, results, en) in i.value for i in at.info)


def test_a_share_link_restores_the_comparison():
    at = open_compare(lang="en", activation="relu", depth="12", width="128",
                      cmp_setups="base;init=kaiming_normal;norm=batchnorm&norm_position=after",
                      cmp_names="plain;He;", cmp_layer="4")
    assert not at.exception and not at.warning
    names = legend_names(overlay(at))
    assert names == ["plain", "He", "Normalisation = BatchNorm, Norm position = after φ"]
    # (a long title is broken onto two lines for a phone)
    assert [f["layout"]["title"]["text"].replace("<br>", " ") for f in histograms(at)] == [
        f"{name} · layer 4" for name in names]
    assert at.radio(key="cmp.w.mode").value == "setups"
    editor = at.dataframe[0].value  # the set-up editor shows each set-up's full values
    assert list(editor["init"]) == ["xavier_normal", "kaiming_normal", "xavier_normal"]
    assert list(editor["norm_position"]) == ["before", "before", "after"]
    assert list(at.dataframe[-1].value["set-up"]) == names
    assert at.session_state["config"].depth == 12
    # the address bar holds the same comparison after the run
    assert at.query_params["cmp_setups"] == (
        "base;init=kaiming_normal;norm=batchnorm&norm_position=after")
    assert at.query_params["cmp_names"] == "plain;He"
    # the layer control shows the linked layer and writes the link back
    assert at.selectbox(key="cmp.w.layer").value == 4
    at.selectbox(key="cmp.w.layer").select("last").run()
    assert "cmp_layer" not in at.query_params
    assert histograms(at)[0]["layout"]["title"]["text"] == "plain · layer 12"
    at.selectbox(key="cmp.w.layer").select(2).run()
    assert at.query_params["cmp_layer"] == "2"


def test_a_sweep_link_and_changing_the_swept_field():
    at = open_compare(lang="en", cmp="init_std:0.01,0.1,1", init="normal")
    assert not at.exception and not at.warning
    assert len(overlay(at)["data"]) == 6
    assert at.text_input(key="cmp.w.values.init_std").value == "0.01, 0.1, 1"
    at.selectbox(key="cmp.w.field").select("depth").run()
    assert legend_names(overlay(at)) == [f"Depth (layers) = {d}" for d in (5, 20, 50)]
    at.text_input(key="cmp.w.values.depth").input("3, 7").run()
    assert legend_names(overlay(at)) == ["Depth (layers) = 3", "Depth (layers) = 7"]
    assert at.query_params["cmp"] == "depth:3,7"
    at.text_input(key="cmp.w.values.depth").input("3, 900").run()
    assert not at.exception
    assert any("from 1 to 200" in w for w in shown(at.warning))
    assert legend_names(overlay(at)) == ["Depth (layers) = 3", "Depth (layers) = 7"]  # kept


@pytest.mark.parametrize("param,value,valid", [
    ("cmp", "bogus:1,2", "init_std"),
    ("cmp", "init:nope", "kaiming_normal"),
    ("cmp_setups", "init=nope;base", "kaiming_normal"),
    ("cmp_setups", ";".join(["base"] * 9), "up to 6 set-ups"),
    ("cmp_names", ";".join("abcdefgh"), "up to 6 names"),
    ("cmp_layer", "999", "from 0 to 200"),
    ("cmp_preset", "nope", "relu_norm"),
])
def test_bad_comparison_params_warn_and_fall_back(param, value, valid):
    at = open_compare(lang="en", **{param: value})
    assert not at.exception
    warnings = shown(at.warning)
    assert any(param in w and valid in w for w in warnings), warnings
    assert legend_names(overlay(at)) == ["Weight init = Xavier (Glorot) normal",
                                         "Weight init = He (Kaiming) normal"]


def test_over_budget_setups_are_named_and_skipped(monkeypatch):
    calls = []
    real = worker_tasks.simulate_drawn
    monkeypatch.setattr(worker_tasks, "simulate_drawn",
                        lambda config: calls.append(config) or real(config))
    at = open_compare(lang="en", depth="20", cmp="width:64,4096")
    assert not at.exception
    assert any("Width (units per layer) = 4096" in w and "too large" in w
               for w in shown(at.warning))
    assert legend_names(overlay(at)) == ["Width (units per layer) = 64"]
    assert [c.width for c in calls] == [64]  # never run


def test_identical_setups_are_computed_once(monkeypatch):
    calls = []
    real = worker_tasks.simulate_drawn
    monkeypatch.setattr(worker_tasks, "simulate_drawn",
                        lambda config: calls.append(config) or real(config))
    at = open_compare(lang="en", cmp_setups="base;depth=4;base;seed=0;depth=4")
    assert not at.exception
    assert len(legend_names(overlay(at))) == 5
    assert len(calls) == 2  # base (seed=0 is the base too) and depth=4
    at.run()
    assert len(calls) == 2  # a rerun hits the cache


def test_switching_modes_keeps_the_setups():
    at = open_compare(lang="en", cmp="activation:tanh,relu")
    at.radio(key="cmp.w.mode").set_value("setups").run()
    assert not at.exception
    assert at.query_params["cmp_setups"] == "activation=tanh;activation=relu"
    assert "cmp" not in at.query_params  # the link carries one form only
    assert legend_names(overlay(at)) == ["Activation φ = tanh", "Activation φ = ReLU"]
    at.radio(key="cmp.w.mode").set_value("sweep").run()
    assert "cmp_setups" not in at.query_params
    assert at.query_params["cmp"] == "activation:tanh,relu"
    assert len(overlay(at)["data"]) == 4


def test_chinese_page_and_chart_text():
    at = open_compare(lang="zh", cmp_preset="relu_norm", activation="relu", depth="50",
                      cmp_setups="norm=none;norm=batchnorm;norm=layernorm;"
                                 "norm=batchnorm&residual=true;norm=layernorm&residual=true")
    assert not at.exception and not at.warning
    assert at.title[0].value == "并排对比多个设置"
    fig = overlay(at)
    assert [f["layout"]["title"]["text"] for f in figures(at)[:2]] == [
        translate("zh", "compare.chart.forward"), translate("zh", "compare.chart.backward")]
    assert legend_names(fig)[3] == "归一化 = BatchNorm（批归一化）, 残差连接 = 开"
    assert at.selectbox(key="cmp.preset").value == "relu_norm"
    assert "诊断" in at.dataframe[-1].value.columns


def test_theory_lines_per_setup_in_the_setups_colour():
    at = open_compare(lang="en", cmp_preset="relu_init")
    fig = overlay(at, with_theory=True)
    dashed = [d for d in fig["data"] if d.get("line", {}).get("dash") == "dash"]
    solid_colours = {d["line"]["color"] for d in overlay(at)["data"]}
    assert len(dashed) == 4  # 2 set-ups × forward, backward
    assert {d["line"]["color"] for d in dashed} == solid_colours


def test_nothing_to_compare_still_writes_the_link():
    at = open_compare(lang="en", batch_size="16384", cmp="width:4096")
    assert not at.exception
    assert at.info and any("cmp=width" in c.value for c in at.sidebar.code)
