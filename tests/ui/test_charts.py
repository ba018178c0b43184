"""Chart builders: statistics in, figures out, no Streamlit."""

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from core import NetworkConfig, simulate
from ui import charts


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
    fig = charts.variance_vs_depth(collapsed.layer_stats, tr)
    assert isinstance(fig, go.Figure)
    assert fig.layout.yaxis.type == "log"
    names = [trace.name for trace in fig.data]
    assert names == [key for _, _, _, key in charts.VARIANCE_SERIES]
    assert any(shape.y0 == 1e-6 and shape.y1 == 1e3 for shape in fig.layout.shapes)
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


def test_positive_drops_what_a_log_axis_cannot_show():
    assert charts.positive([1.0, 0.0, -1.0, math.nan, math.inf]) == [1.0, None, None, None, None]


def test_heatmaps_share_a_colour_scale_and_rows_sum_to_one(collapsed):
    fig = charts.distribution_heatmaps(
        [(collapsed.histograms.get("act"), 0, "a"), (collapsed.histograms.get("grad_out"), 1, "g")],
        "std", tr, "title")
    assert len(fig.data) == 2
    assert fig.data[0].zmax == fig.data[1].zmax
    z = np.array(fig.data[0].z, dtype=float)
    np.testing.assert_allclose(np.nansum(z, axis=1), 1.0)
    assert list(fig.data[1].y) == list(range(1, 9))


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


def test_variance_beyond_float64_is_shaded_and_labelled(collapsed):
    fig = charts.variance_vs_depth(collapsed.layer_stats, tr, beyond_float64=5)
    labels = [a.text for a in fig.layout.annotations]
    assert "chart.beyond_float64_from[('layer', 5)]" in labels
    assert [(s.x0, s.x1) for s in fig.layout.shapes if s.type == "rect" and s.x0 == 4.5] == [
        (4.5, 8.5)]


def test_a_zero_init_chart_says_its_variances_are_exactly_zero():
    from ui.i18n import translate

    result = simulate(NetworkConfig(depth=10, activation="tanh", init="zeros"))
    for lang in ("en", "zh"):
        fig = charts.variance_vs_depth(result.layer_stats,
                                       lambda key, **v: translate(lang, key, **v))
        notes = [a.text for a in fig.layout.annotations if "0" in a.text and "<br>" in a.text]
        assert len(notes) == 1, lang
        # Forward: every layer; the gradient: every layer but the last (the loss's).
        assert translate(lang, "chart.zero_values.every_layer",
                         series=translate(lang, "chart.zero_values.list_sep").join(
                             [translate(lang, "chart.zero_values.preact"),
                              translate(lang, "chart.zero_values.act")])) in notes[0]
        assert "1–9" in notes[0]


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
