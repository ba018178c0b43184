"""The Explorer's chart builders: statistics in, figures out, no Streamlit."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from core import NetworkConfig, simulate
from ui import chart_style
from ui.explorer import charts


def tr(key, **values):
    return key + (str(sorted(values.items())) if values else "")


@pytest.fixture(scope="module")
def collapsed():
    return simulate(NetworkConfig(depth=8, width=64, batch_size=64, init="normal",
                                  init_std=0.01))


@pytest.fixture(scope="module")
def overflowed():
    return simulate(NetworkConfig(depth=60, width=128, batch_size=32, activation="relu",
                                  init="normal", init_std=1.0))


def test_variance_chart_is_log_scale_with_every_series_and_the_band(collapsed):
    fig = charts.variance_vs_depth(collapsed.layer_stats, tr,
                                   series=[c for c, *_ in charts.VARIANCE_SERIES])
    assert isinstance(fig, go.Figure)
    assert fig.layout.yaxis.type == "log"
    names = [trace.name for trace in fig.data]
    assert names == [key for _, _, _, key in charts.VARIANCE_SERIES] + ["chart.healthy_band"]
    assert any(shape.y0 == 1e-6 and shape.y1 == 1e3 for shape in fig.layout.shapes)
    # The band is named in the legend, not by a label inside the plot under the data lines.
    assert not fig.layout.annotations
    # The collapse is drawn as it is: ~1e-13 at the last layer.
    act = next(t for t in fig.data if t.name == "chart.series.act_var")
    assert act.y[-1] < 1e-10 < act.y[0]
    # Per-unit variants are dotted so the two kinds of variance stay distinguishable.
    assert next(t for t in fig.data if t.name == "chart.series.act_unit_var").line.dash == "dot"


def test_nonfinite_layers_become_gaps_and_are_shaded(overflowed):
    fig = charts.variance_vs_depth(overflowed.layer_stats, tr,
                                   first_nonfinite=overflowed.first_nonfinite_layer)
    act = next(t for t in fig.data if t.name == "chart.series.act_var")
    assert act.y[-1] is None
    assert any("chart.nonfinite_from" in (a.text or "") for a in fig.layout.annotations)


def test_heatmaps_are_one_figure_on_one_colour_scale_and_rows_sum_to_one(collapsed):
    fig = charts.distribution_heatmaps(
        [(collapsed.histograms.get("act"), 0, "a"), (collapsed.histograms.get("grad_out"), 1, "g")],
        "std", tr)
    # One figure (one chart for the browser to draw), each panel titled, one colour bar.
    act, grad = fig.data
    assert [a.text for a in fig.layout.annotations] == ["<b>a</b>", "<b>g</b>"]
    assert act.coloraxis == grad.coloraxis == "coloraxis"
    assert fig.layout.coloraxis.cmax == max(np.nanmax(np.array(t.z, dtype=float))
                                            for t in fig.data)
    z = np.array(act.z, dtype=float)
    np.testing.assert_allclose(np.nansum(z, axis=1), 1.0)
    assert list(grad.y) == list(range(1, 9))
    assert (act.xaxis, act.yaxis, grad.xaxis, grad.yaxis) == ("x", "y", "x2", "y2")


def test_side_by_side_heatmaps_put_a_layer_on_one_row(collapsed):
    fig = charts.distribution_heatmaps(
        [(collapsed.histograms.get("act"), 0, "a"), (collapsed.histograms.get("grad_out"), 1, "g")],
        "std", tr)
    layout = fig.layout
    # Both panels show layers 0 … 8 top to bottom, so layer k is one row across the figure
    # (the gradients start at layer 1: their row 0 is empty), and only the first labels them.
    assert tuple(layout.yaxis.range) == tuple(layout.yaxis2.range) == (8.5, -0.5)
    assert layout.yaxis.showticklabels is not False and layout.yaxis2.showticklabels is False
    left, right = layout.xaxis.domain, layout.xaxis2.domain
    assert left[0] == 0 and right[1] == pytest.approx(1) and left[1] < right[0]
    assert layout.coloraxis.colorbar.orientation != "h"


def test_stacked_heatmaps_for_a_phone_put_the_colour_bar_underneath(collapsed):
    panels = [(collapsed.histograms.get("act"), 0, "a"),
              (collapsed.histograms.get("grad_out"), 1, "g")]
    side, stacked = (charts.distribution_heatmaps(panels, "std", tr, stacked=flag)
                     for flag in (False, True))
    layout = stacked.layout
    upper, lower = layout.yaxis.domain, layout.yaxis2.domain
    assert upper[1] == pytest.approx(1) and lower[0] == pytest.approx(0) and lower[1] < upper[0]
    # The gap holds the upper panel's x axis and the lower one's title.
    plot_height = layout.height - layout.margin.t - layout.margin.b
    assert (upper[0] - lower[1]) * plot_height == pytest.approx(charts.HEATMAP_STACK_GAP)
    assert layout.yaxis2.showticklabels is not False  # each panel labels its layers
    assert layout.coloraxis.colorbar.orientation == "h"
    assert layout.margin.r < side.layout.margin.r and layout.height > side.layout.height


def test_layer_histograms_use_each_layers_own_values(collapsed):
    fig = charts.layer_histograms(collapsed.histograms.get("act", "std"), [1, 8], tr, "t")
    first, last = fig.data
    assert max(abs(x) for x in last.x) < 1e-3 < max(abs(x) for x in first.x)


def test_saturation_chart_in_percent():
    result = simulate(NetworkConfig(depth=4, width=64, batch_size=64, init="normal",
                                    init_std=1.0))
    fig = charts.saturation_chart(result.layer_stats, tr)
    saturated = next(t for t in fig.data if t.name == "chart.series.saturated")
    assert 50 < saturated.y[-1] <= 100


# --- one story, readable axes, text that does not collide ----------------------------------

def test_variance_chart_tells_one_story_and_draws_the_rest_on_request(collapsed):
    theory = pd.DataFrame({f"pred_{c}": np.ones(8) for c, *_ in charts.VARIANCE_SERIES
                           if not c.endswith("unit_var")}, index=range(1, 9))
    fig = charts.variance_vs_depth(collapsed.layer_stats, tr, theory=theory)
    assert [t.name for t in fig.data if t.showlegend is not False] == [
        "chart.series.act_var", "chart.series.grad_out_var", "chart.series.theory_all",
        "chart.healthy_band"]
    assert len([t for t in fig.data if t.line.dash == "dash"]) == 2  # the story's theory
    more = charts.variance_vs_depth(collapsed.layer_stats, tr, theory=theory,
                                    series=charts.STORY_SERIES + ("preact_var",))
    assert "chart.series.preact_var" in [t.name for t in more.data]
    assert len([t for t in more.data if t.line.dash == "dash"]) == 3
    # The story also names the layer output (drawn only where it differs from φ(z)).
    assert set(charts.MORE_SERIES) | set(charts.STORY_SERIES) == {
        c for c, *_ in charts.VARIANCE_SERIES} | {charts.OUT_SERIES[0]}


def test_legend_sits_at_the_figure_bottom_and_the_title_under_the_toolbar(collapsed):
    for fig in (charts.variance_vs_depth(collapsed.layer_stats, tr),
                charts.saturation_chart(collapsed.layer_stats, tr)):
        legend, title = fig.layout.legend, fig.layout.title
        # Container coordinates: Plotly grows the bottom margin for the legend, below the x
        # axis title, however many rows the legend needs at the page's width.
        assert (legend.yref, legend.y, legend.yanchor) == ("container", 0.0, "bottom")
        assert (title.yref, title.yanchor) == ("container", "top")
        assert title.pad.t >= chart_style.TOOLBAR_ROOM
        assert fig.layout.margin.t > title.pad.t


def test_projector_text_is_at_least_18_px(collapsed, overflowed):
    fig = charts.projector(charts.variance_vs_depth(
        overflowed.layer_stats, tr, first_nonfinite=overflowed.first_nonfinite_layer),
        height=440)
    assert fig.layout.height == 440
    assert fig.layout.font.size >= 18 and fig.layout.title.font.size >= 18
    assert fig.layout.legend.font.size >= 18
    assert fig.layout.xaxis.tickfont.size >= 18 and fig.layout.yaxis.tickfont.size >= 18
    assert fig.layout.xaxis.title.font.size >= 18 and fig.layout.yaxis.title.font.size >= 18
    assert fig.layout.annotations and all(a.font.size >= 18 for a in fig.layout.annotations)
    heat = charts.projector(charts.distribution_heatmaps(
        [(collapsed.histograms.get("act"), 0, "a")], "std", tr))
    assert heat.layout.coloraxis.colorbar.tickfont.size >= 18
    assert heat.layout.coloraxis.colorbar.title.font.size >= 18


def test_variance_beyond_float64_is_shaded_and_labelled(collapsed):
    fig = charts.variance_vs_depth(collapsed.layer_stats, tr, beyond_float64=5)
    labels = [a.text for a in fig.layout.annotations]
    assert "chart.beyond_float64_from[('layer', 5)]" in labels
    assert [(s.x0, s.x1) for s in fig.layout.shapes if s.type == "rect" and s.x0 == 4.5] == [
        (4.5, 8.5)]


def test_a_zero_init_chart_says_its_variances_are_exactly_zero():
    from ui.frame.i18n import translate

    result = simulate(NetworkConfig(depth=10, activation="tanh", init="zeros"))
    for lang in ("en", "zh"):
        fig = charts.variance_vs_depth(result.layer_stats,
                                       lambda key, **v: translate(lang, key, **v))
        notes = [a.text for a in fig.layout.annotations if "0" in a.text and "<br>" in a.text]
        assert len(notes) == 1, lang
        # Forward: every layer; the gradient: every layer but the last (the loss's). Only the
        # series drawn are named (the story by default; pre-activations once added).
        assert translate(lang, "chart.zero_values.every_layer",
                         series=translate(lang, "chart.zero_values.act")) in notes[0]
        assert "1–9" in notes[0]
        more = charts.variance_vs_depth(result.layer_stats,
                                        lambda key, **v: translate(lang, key, **v),
                                        series=charts.STORY_SERIES + ("preact_var",))
        note = next(a.text for a in more.layout.annotations if "<br>" in a.text)
        assert translate(lang, "chart.zero_values.every_layer",
                         series=translate(lang, "chart.zero_values.list_sep").join(
                             [translate(lang, "chart.zero_values.preact"),
                              translate(lang, "chart.zero_values.act")])) in note


def test_no_zero_note_where_nothing_is_zero_or_past_an_overflow(collapsed, overflowed):
    for result in (collapsed, overflowed):
        fig = charts.variance_vs_depth(result.layer_stats, tr,
                                       first_nonfinite=result.first_nonfinite_layer)
        assert not [a for a in fig.layout.annotations if "chart.zero_values" in a.text]


def test_layer_ranges_are_compact():
    assert charts.layer_ranges([1, 2, 3, 7, 9, 10]) == "1–3, 7, 9–10"
    assert charts.layer_ranges([4]) == "4"


def test_a_residual_chart_draws_the_layer_output_the_lesson_speaks_of():
    residual = simulate(NetworkConfig(depth=12, width=64, batch_size=64, activation="relu",
                                      init="kaiming_normal", norm="batchnorm", residual=True))
    fig = charts.variance_vs_depth(residual.layer_stats, tr)
    out = next(t for t in fig.data if t.name == "chart.series.out_var")
    np.testing.assert_allclose(out.y, residual.layer_stats["out_var"].iloc[1:])
    plain = simulate(NetworkConfig(depth=12, width=64, batch_size=64, activation="relu"))
    assert "chart.series.out_var" not in [t.name for t in
                                          charts.variance_vs_depth(plain.layer_stats, tr).data]


# --- charts that the browser draws once -----------------------------------------------------
# Margins Plotly's automargin needed in Chromium under Streamlit's theme (fullLayout._pushmargin,
# Streamlit 1.67, Plotly.js 3): the Explorer's variance chart (ticks 10⁻⁶…10², 12 px), its
# heatmaps (layers 0…20, one colour bar for both panels, ticks 0…0.08), and the variance chart in
# present mode (18 px, ticks 1…3, the English legend beside the plot).
MEASURED_NEED = {"variance_l": 78.2, "variance_b": 94.0, "heatmap_l": 74.1, "heatmap_b": 74.2,
                 "colorbar_r": 104.9, "present_l": 95.6, "present_b": 75.6, "present_r": 325.3}


def test_the_estimated_room_covers_what_plotly_measured_without_wasting_much():
    from ui.frame.i18n import translate

    def covers(estimate, need, slack=12):
        assert need <= estimate <= need + slack, (estimate, need)

    covers(charts.y_axis_room(["10⁻⁶", "10⁻⁴", "10⁻²", "1", "10²"]), MEASURED_NEED["variance_l"])
    covers(charts.x_axis_room() + charts.LEGEND_ROW, MEASURED_NEED["variance_b"])
    covers(charts.y_axis_room(["20"]), MEASURED_NEED["heatmap_l"])
    covers(charts.x_axis_room() + charts.HEATMAP_X_EXTRA, MEASURED_NEED["heatmap_b"])
    covers(charts.COLORBAR_ROOM, MEASURED_NEED["colorbar_r"])
    covers(charts.y_axis_room(["0.5", "1", "2", "3", "5"], charts.PROJECTOR_FONT),
           MEASURED_NEED["present_l"])
    covers(charts.x_axis_room(charts.PROJECTOR_FONT), MEASURED_NEED["present_b"])
    legend = [translate("en", key) for key in ("chart.series.act_var",
                                               "chart.series.grad_out_var",
                                               "chart.series.theory_all", "chart.healthy_band")]
    covers(charts.legend_room(legend, charts.PROJECTOR_FONT), MEASURED_NEED["present_r"], 30)


def test_explorer_charts_ask_for_the_room_of_their_own_labels(collapsed, overflowed):
    healthy = charts.variance_vs_depth(
        simulate(NetworkConfig(depth=8, width=64, batch_size=64)).layer_stats, tr)
    wide = charts.variance_vs_depth(collapsed.layer_stats, tr)
    labels = chart_style.log_tick_labels(chart_style.trace_values(healthy) + list(chart_style.HEALTHY_BAND))
    assert healthy.layout.margin.l == charts.y_axis_room(labels)
    assert healthy.layout.margin.b == charts.x_axis_room() + charts.LEGEND_ROW
    # 10⁻¹² is wider than 10⁻⁶: the collapsing network's chart keeps more room for its ticks.
    assert wide.layout.margin.l > healthy.layout.margin.l
    deep = simulate(NetworkConfig(depth=120, width=16, batch_size=16))
    shallow_map = charts.distribution_heatmaps([(collapsed.histograms.get("act"), 0, "a")],
                                               "std", tr)
    deep_map = charts.distribution_heatmaps([(deep.histograms.get("act"), 0, "a")], "std", tr)
    assert deep_map.layout.margin.l > shallow_map.layout.margin.l  # layer 120 vs 8
    for heatmap in (shallow_map, deep_map):
        assert heatmap.layout.margin.r == charts.COLORBAR_ROOM
        # At the plot's edge: the room it needs does not depend on the page's width.
        colour_bar = heatmap.layout.coloraxis.colorbar
        assert (colour_bar.x, colour_bar.xanchor) == (1.0, "left")
    present = charts.projector(charts.variance_vs_depth(collapsed.layer_stats, tr), height=400)
    assert present.layout.margin.l > healthy.layout.margin.l  # 18 px ticks
    assert present.layout.margin.r == charts.legend_room(
        [t.name for t in present.data if t.showlegend is not False], charts.PROJECTOR_FONT)


def test_log_tick_labels_include_the_powers_plotly_draws():
    labels = chart_style.log_tick_labels([1e-6, 3e-2, 1e3])
    assert {"10⁻⁶", "10⁻⁴", "10⁻²", "1", "10²"} <= set(labels)
    assert chart_style.log_tick_labels([0.07, 0.6]) == chart_style.log_axis([0.07, 0.6])["ticktext"]
    assert charts.text_width("10⁻¹²") > charts.text_width("10²") > charts.text_width("1")
    assert charts.text_width("方差") > charts.text_width("ab")
