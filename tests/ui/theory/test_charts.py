"""The Phase and Spectrum pages' chart builders, and the phase map's computation they draw
(ui.serving.theory_cache)."""

import math

import numpy as np
import pytest

from core import ACTIVATION_NAMES
from core.theory import critical_sigma_w2
from ui.serving.theory_cache import (W_MIN, compute_phase_map, critical_line, nice_ceiling,
                                     theory_slope)
from ui.theory import charts as theory_charts


def tr(key, **values):
    return key + ("" if not values else repr(sorted(values.items())))


@pytest.fixture(scope="module")
def tanh_map():
    return compute_phase_map("tanh", 0.01)


def figure(pm, metric="chi1", marker=(1.0, 0.05)):
    return theory_charts.phase_figure(pm.sigma_w2, pm.sigma_b2, pm.log_chi1, pm.xi_c,
                                      pm.line_b2, pm.line_w2, metric, tr, title="T",
                                      marker=marker)


# --- the phase map --------------------------------------------------------------------------

def test_phase_map_grid_and_critical_line(tanh_map):
    pm = tanh_map
    assert pm.sigma_w2.shape == (60,) and pm.sigma_b2.shape == (60,)
    assert pm.log_chi1.shape == (60, 60) and pm.xi_c.shape == (60, 60)
    assert pm.w_range == (W_MIN, 5.0) and pm.b_range == (0.0, 0.5)
    assert np.isfinite(pm.log_chi1).all()
    # The line agrees with core's bisection (table interpolation: ~1e-3 near σ_b² = 0).
    for b2 in (0.0, 0.25, 0.5):
        i = int(np.argmin(np.abs(pm.line_b2 - b2)))
        assert pm.line_w2[i] == pytest.approx(critical_sigma_w2("tanh", b2), rel=2e-3)
    # χ1 grows with σ_w²: ordered (left) and chaotic (right) sides both on the map.
    assert (np.diff(pm.log_chi1, axis=1) > -1e-9).all()
    assert pm.log_chi1[:, 0].max() < 0 < pm.log_chi1[:, -1].min()


@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_every_activation_has_a_map_with_its_critical_point_inside(activation):
    pm = compute_phase_map(activation, theory_slope(activation, 0.01))
    assert np.isfinite(pm.log_chi1).all()
    reference = critical_sigma_w2(activation, 0.25, theory_slope(activation, 0.01))
    assert pm.w_range[0] < reference < pm.w_range[1]
    assert np.isfinite(pm.line_w2).any()


def test_ranges_follow_the_activation():
    relu = compute_phase_map("relu", 0.01)
    assert relu.w_range[1] == 4.0
    assert np.allclose(relu.line_w2, 2.0, rtol=1e-6)
    sigmoid = compute_phase_map("sigmoid", 0.01)
    assert sigmoid.w_range[1] == 200.0  # its critical σ_w² is ≈ 103
    assert theory_slope("relu", 0.3) == theory_slope("tanh", 0.2) == 0.01
    assert theory_slope("leaky_relu", 0.3) == 0.3


def test_critical_line_is_nan_where_it_leaves_the_range():
    line = critical_line("relu", 0.01, 0.1, 1.5, np.array([0.0, 0.2]))
    assert np.isnan(line).all()


@pytest.mark.parametrize("value,expected", [(4.0, 4.0), (4.26, 5.0), (156.3, 200.0), (0.7, 0.8),
                                            (1.0, 1.0), (9.5, 10.0)])
def test_nice_ceiling(value, expected):
    assert nice_ceiling(value) == expected


def test_phase_figure_has_heatmap_line_marker_and_a_clickable_cell_layer(tanh_map):
    fig = figure(tanh_map)
    kinds = [trace.type for trace in fig.data]
    assert kinds == ["heatmap", "scatter", "scatter", "scatter"]
    heat, line, star, cells = fig.data
    assert heat.hoverinfo == "skip" and heat.zmid == 0.0
    assert line.name == "phase.critical_line"
    assert star.marker.symbol == "star" and (star.x[0], star.y[0]) == (1.0, 0.05)
    assert cells.name == theory_charts.CLICK_TRACE and len(cells.x) == 3600
    assert cells.marker.opacity == 0.0 and "phase.hover_click" in cells.hovertemplate
    # Each invisible marker sits on a cell centre and carries that cell's χ1.
    assert cells.x[61] == pytest.approx(tanh_map.sigma_w2[1], rel=1e-6)
    assert cells.y[61] == pytest.approx(tanh_map.sigma_b2[1], rel=1e-6)
    assert cells.customdata[61] == pytest.approx(math.exp(tanh_map.log_chi1[1, 1]), rel=1e-6)
    assert cells.text is None and "ξ_c" not in cells.hovertemplate
    texts = [a.text for a in fig.layout.annotations]
    assert "← phase.side.ordered" in texts and "phase.side.chaotic →" in texts
    assert fig.layout.clickmode == "event+select"
    assert fig.layout.xaxis.title.text == "phase.axis.sigma_w2"


def test_phase_figure_without_marker_and_with_xi_c(tanh_map):
    fig = figure(tanh_map, metric="xi_c", marker=None)
    assert [t.type for t in fig.data] == ["heatmap", "scatter", "scatter"]
    heat = fig.data[0]
    assert heat.colorbar.title.text == "phase.colorbar.xi_c"
    cells = fig.data[-1]
    assert "ξ_c = %{text}" in cells.hovertemplate and len(cells.text) == 3600
    assert "∞" not in cells.text and "—" in cells.text  # chaotic side: not tabulated
    z = np.array(heat.z, dtype=float)
    assert np.isnan(z).any() and not np.isnan(z).all()  # chaotic side blank
    assert np.nanmax(z) <= theory_charts.XI_RANGE[1]


def test_phase_colour_clips_and_maps_the_critical_line_to_the_top():
    log_chi1 = np.array([-10.0, 0.0, 10.0])
    xi_c = np.array([0.01, np.inf, np.nan])
    assert list(theory_charts.phase_colour(log_chi1, xi_c, "chi1")) == [-3.0, 0.0, 3.0]
    z = theory_charts.phase_colour(log_chi1, xi_c, "xi_c")
    assert z[0] == -1.0 and z[1] == 3.0 and np.isnan(z[2])


# --- the spectrum ---------------------------------------------------------------------------

def test_split_zeros_and_spread():
    values = np.array([1.0, 10.0, 1e-14, 0.0, np.nan])
    shown, zeros = theory_charts.split_zeros(values)
    assert list(shown) == [1.0, 10.0] and zeros == 2
    assert theory_charts.log_spread(values) == pytest.approx(0.5)
    assert theory_charts.log_spread(np.ones(5)) == 0.0
    assert math.isnan(theory_charts.log_spread(np.zeros(3)))
    assert theory_charts.split_zeros(np.zeros(3))[1] == 3


def test_log_bins_of_equal_values_span_a_decade_around_them():
    edges, counts = theory_charts.log_bins(np.ones(100))
    assert counts.sum() == 100
    assert edges[0] < 1.0 < edges[-1]
    assert math.log10(edges[-1] / edges[0]) == pytest.approx(1.04)
    edges, counts = theory_charts.log_bins(np.array([1e-3, 1.0, 1e2]), bins=10)
    assert len(edges) == 11 and counts.sum() == 3


def test_spectrum_figure_is_a_histogram_on_a_log_axis():
    values = np.exp(np.random.default_rng(0).normal(size=500))
    fig = theory_charts.spectrum_figure(values, 1.5, tr, title="T")
    assert fig.layout.xaxis.type == "log"
    step = fig.data[0]
    assert step.fill == "tozeroy" and max(step.y) > 0 and sum(step.y) == 2 * 500
    # The reference lines are named in the legend (labels at the top overlapped when
    # √(mean s²) ≈ 1): vertical traces at s = 1 and s = √1.5.
    lines = {d.name: d for d in fig.data[1:]}
    assert set(lines) == {"spectrum.line.isometry", "spectrum.line.rms"}
    assert lines["spectrum.line.isometry"].x == (1.0, 1.0)
    assert lines["spectrum.line.rms"].x[0] == pytest.approx(1.5 ** 0.5)
    assert not fig.layout.annotations and step.showlegend is False
    empty = theory_charts.spectrum_figure(np.zeros(4), 0.0, tr, title="T")
    assert not empty.data and empty.layout.annotations[0].text == "spectrum.no_values"


def test_spectrum_axis_under_a_few_decades_has_full_tick_labels():
    values = np.exp(np.random.default_rng(1).normal(scale=0.05, size=300))  # within ±20 %
    fig = theory_charts.spectrum_figure(values, float(np.mean(values ** 2)), tr, title="T")
    labels = fig.layout.xaxis.ticktext
    assert labels and "1" in labels
    assert all(not label.isdigit() or float(label) == pytest.approx(v)
               for label, v in zip(labels, fig.layout.xaxis.tickvals))
