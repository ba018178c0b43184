"""Train page chart builders on records built here: statistics in, figures out."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from ui.chart_style import PALETTE, text_width
from ui.train import charts as train_charts


def tr(key, **values):
    return key + (str(sorted(values.items())) if values else "")


@dataclass
class FakeRun:
    name: str
    colour: str
    history: pd.DataFrame
    layer_history: pd.DataFrame
    first_nonfinite: tuple | None = None


def make_run(name, colour, steps=(0, 10, 20, 30), layers=3, grad=1e-2, stop=None):
    history = pd.DataFrame({
        "step": list(steps),
        "train_loss": [0.7 / (1 + s) for s in steps],
        "test_loss": [0.8 / (1 + s) for s in steps],
    })
    rows = []
    for s in steps:
        for layer in range(1, layers + 1):
            rows.append(dict(step=s, layer=layer, grad_weight_norm=grad * 10.0 ** (-layer),
                             update_ratio=1e-3 * layer, act_std=0.5 / layer,
                             act_saturated_frac=0.1 * layer, dead_unit_frac=np.nan))
    return FakeRun(name, colour, history, pd.DataFrame(rows), stop)


def test_loss_chart_draws_train_solid_and_test_dashed_in_each_setup_colour():
    runs = [make_run("a", PALETTE[0]), make_run("b", PALETTE[1])]
    fig = train_charts.loss_chart(runs, tr)
    assert fig.layout.yaxis.type == "log"
    lines = [d for d in fig.data if d.name in ("a", "b")]
    assert [(d.name, d.line.dash, d.line.color) for d in lines] == [
        ("a", "solid", PALETTE[0]), ("a", "dash", PALETTE[0]),
        ("b", "solid", PALETTE[1]), ("b", "dash", PALETTE[1])]
    # one legend entry per set-up plus the two line styles
    assert [d.name for d in fig.data if d.showlegend is not False] == [
        "a", "b", "train.chart.train", "train.chart.test"]
    assert list(lines[1].y) == pytest.approx(list(runs[0].history["test_loss"]))


def test_loss_chart_marks_the_nonfinite_step_with_its_layer():
    runs = [make_run("ok", PALETTE[0]), make_run("nan", PALETTE[1], stop=(20, 4, "forward"))]
    fig = train_charts.loss_chart(runs, tr)
    assert [s.x0 for s in fig.layout.shapes] == [20]
    assert fig.layout.shapes[0].line.color == PALETTE[1]
    (note,) = [a for a in fig.layout.annotations if "nonfinite_at" in a.text]
    assert "('layer', 4)" in note.text and "('step', 20)" in note.text
    assert "train.direction.forward" in note.text


def test_loss_chart_leaves_gaps_for_what_a_log_axis_cannot_show():
    run = make_run("a", PALETTE[0])
    run.history.loc[2, "train_loss"] = np.nan
    fig = train_charts.loss_chart([run], tr)
    assert np.isnan(fig.data[0].y[2]) and fig.data[0].y.dtype == np.float32


def test_gradient_colourscale_breaks_exactly_at_the_healthy_band():
    scale = train_charts.gradient_colourscale()
    low, high = train_charts.LOG_GRAD_RANGE
    positions = [p for p, _ in scale]
    for edge in (-6, 3):
        at = (edge - low) / (high - low)
        # two stops at the edge: the colour jumps there
        assert positions.count(at) == 2
        inside = [c for p, c in scale if p == at]
        assert inside[0] != inside[1]
    # below, inside and above use different colour families
    assert scale[0][1] in train_charts.BELOW_COLOURS
    assert scale[2][1] in train_charts.HEALTHY_COLOURS
    assert scale[-1][1] in train_charts.ABOVE_COLOURS


def test_gradient_heatmaps_are_layer_by_step_in_log10_with_power_ticks():
    runs = [make_run("a", PALETTE[0], grad=1e-2), make_run("b", PALETTE[1], grad=1e5)]
    fig = train_charts.gradient_heatmaps(runs, tr)
    assert len(fig.data) == 2
    first = fig.data[0]
    assert list(first.y) == [1, 2, 3]
    # a record's cell spans halfway to its neighbours, from step 0 to the last step
    assert list(first.x) == [0, 5, 15, 25, 30]
    assert np.asarray(first.z)[0, 0] == pytest.approx(-3.0)  # 1e-2 · 10^-1
    assert np.asarray(first.customdata)[2, 1] == pytest.approx(1e-5)
    assert (first.zmin, first.zmax) == train_charts.LOG_GRAD_RANGE
    assert fig.data[1].zmin == first.zmin and fig.data[1].zmax == first.zmax
    assert "10⁻⁶" in first.colorbar.ticktext and "10³" in first.colorbar.ticktext
    assert all(v % 1 == 0 for v in first.colorbar.tickvals)
    assert fig.data[1].showscale is False  # one colourbar for all
    assert [a.text for a in fig.layout.annotations][:2] == ["a", "b"]


def test_gradient_heatmaps_clip_zero_and_blank_nonfinite():
    run = make_run("a", PALETTE[0])
    table = run.layer_history
    table.loc[0, "grad_weight_norm"] = 0.0
    table.loc[1, "grad_weight_norm"] = np.inf
    table.loc[2, "grad_weight_norm"] = 1e30
    z = np.asarray(train_charts.gradient_heatmaps([run], tr).data[0].z, dtype=float)
    low, high = train_charts.LOG_GRAD_RANGE
    assert z[0, 0] == low          # zero → the lowest colour (vanished)
    assert np.isnan(z[1, 0])       # ∞ → blank
    assert z[2, 0] == high         # beyond the range → the top colour


def test_update_ratio_chart_has_a_line_per_layer_and_the_reference():
    runs = [make_run("a", PALETTE[0]), make_run("b", PALETTE[1])]
    fig = train_charts.update_ratio_chart(runs, tr)
    assert len(fig.data) == 6
    assert {s.y0 for s in fig.layout.shapes} == {train_charts.UPDATE_RATIO_REFERENCE}
    assert len(fig.layout.shapes) == 2
    assert fig.layout.yaxis.type == "log"
    # pale first layer, full colour last layer
    assert fig.data[2].line.color == PALETTE[0]
    assert fig.data[0].line.color != PALETTE[0]
    assert fig.data[3].xaxis == "x2"


def test_activation_chart_uses_the_last_record_at_or_before_the_step():
    run = make_run("a", PALETTE[0])
    run.layer_history.loc[run.layer_history["step"] == 10, "act_std"] = 7.0
    fig = train_charts.activation_chart([run], 15, tr)
    std = fig.data[0]
    assert list(std.y) == [7.0, 7.0, 7.0]
    saturated = fig.data[1]
    assert list(saturated.y) == pytest.approx([10, 20, 30])
    # dead units are NaN for a bounded φ: no line drawn, only the style legend entries
    assert [d.name for d in fig.data][2:] == ["train.chart.saturated", "train.chart.dead"]


def test_weight_histograms_give_zero_its_own_bin():
    rng = np.random.default_rng(0)
    sparse = np.where(rng.random(1000) < 0.7, 0.0, rng.normal(size=1000))
    dense = rng.normal(scale=0.3, size=1000)
    fig = train_charts.weight_histograms([("L1", PALETTE[0], sparse), ("L2", PALETTE[1], dense)],
                                         tr)
    l1 = fig.data[0]
    centre = int(np.argmin(np.abs(np.asarray(l1.x))))
    assert abs(l1.x[centre]) < 1e-12
    assert l1.y[centre] >= np.count_nonzero(sparse == 0) > 600
    assert fig.data[1].marker.color == PALETTE[1]


def decision(name, colour, steps=(0, 50, 100)):
    xs = np.linspace(-5, 5, 4)
    values = np.stack([np.full((4, 4), s / 100) for s in steps])
    return train_charts.DecisionFrames(name, colour, xs, xs, np.array(steps), values,
                                       np.zeros((3, 2)), np.array([0.0, 1.0, 1.0]))


def test_decision_animation_has_a_frame_per_step_a_play_button_and_a_slider():
    runs = [decision("a", PALETTE[0]), decision("b", PALETTE[1], steps=(0, 50))]  # b stopped
    fig = train_charts.decision_animation(runs, tr)
    assert [f.name for f in fig.frames] == ["0", "50", "100"]
    assert list(fig.frames[0].traces) == [0, 2]  # the two heatmaps, not the points
    last = fig.frames[-1]
    assert np.asarray(last.data[0].z)[0, 0] == 100  # whole percents, one byte a cell
    assert np.asarray(last.data[1].z)[0, 0] == 50   # b keeps its last snapshot
    assert np.asarray(last.data[0].z).dtype == np.uint8
    (menu,) = fig.layout.updatemenus
    assert menu.buttons[0].method == "animate" and menu.buttons[0].args[0] is None
    (slider,) = fig.layout.sliders
    assert [s.label for s in slider.steps] == ["0", "50", "100"]
    assert list(slider.steps[1].args[0]) == ["50"]
    assert slider.currentvalue.prefix.startswith("train.chart.step")
    assert isinstance(fig, go.Figure) and len(fig.data) == 4


def test_a_map_that_never_changes_is_left_out_of_the_frames():
    still = train_charts.DecisionFrames("still", PALETTE[0], np.linspace(-5, 5, 4),
                                        np.linspace(-5, 5, 4), np.array([0, 50, 100]),
                                        np.full((3, 4, 4), 0.5), np.zeros((3, 2)),
                                        np.array([0.0, 1.0, 1.0]))
    fig = train_charts.decision_animation([still, decision("moving", PALETTE[1])], tr)
    assert [list(f.traces) for f in fig.frames] == [[2], [2], [2]]
    assert np.asarray(fig.data[0].z)[0, 0] == 50  # its one picture, in the figure itself


def test_percent_is_one_byte_a_cell_and_clipped_to_the_range():
    p = train_charts.percent(np.array([[0.0, 0.505, 1.2, np.nan]]), (0.0, 1.0))
    assert p.dtype == np.uint8 and p.tolist() == [[0, 50, 100, 50]]
    r = train_charts.percent(np.array([-3.0, -0.25, 0.5]), (-1.0, 1.0))
    assert r.dtype == np.int8 and r.tolist() == [-100, -25, 50]


def test_points_and_the_grid_share_the_plane_of_the_map():
    frames = decision("a", PALETTE[0])
    frames = train_charts.DecisionFrames(**{**frames.__dict__,
                                            "points": np.array([[-5.0, 5.0], [0.0, 0.0]]),
                                            "targets": np.array([0.0, 1.0])})
    fig = train_charts.decision_animation([frames], tr)
    heatmap, points = fig.data
    assert list(heatmap.x) == pytest.approx([0, 250 / 3, 500 / 3, 250])
    assert points.x.tolist() == [0, 125] and points.y.tolist() == [250, 125]
    assert points.x.dtype == np.uint8


@pytest.mark.parametrize("fit", [train_charts.LAPTOP, train_charts.PROJECTOR,
                                 train_charts.PHONE])
def test_panel_titles_fit_their_panels_on_every_screen(fit):
    long = "Activation φ = ReLU, Weight init = He (Kaiming) normal, Residual scale = 0.2"
    runs = [make_run(long, PALETTE[i]) for i in range(4)]
    for fig in (train_charts.update_ratio_chart(runs, tr, fit),
                train_charts.gradient_heatmaps(runs, tr, fit)):
        titles = [a.text for a in fig.layout.annotations if long[:10] in a.text]
        assert len(titles) == 4
        panel = (fit.full_px - 80) / fit.columns
        for title in titles:
            assert title.count("<br>") <= 1
            assert all(text_width(line, fit.font) <= panel for line in title.split("<br>"))
        domains = sorted({tuple(v["domain"]) for k, v in fig.layout.to_plotly_json().items()
                          if k.startswith("xaxis")})
        assert len(domains) == fit.columns  # panels two to a row, one on a phone


def test_update_ratios_share_one_log_range_and_a_reference_line_each():
    runs = [make_run("a", PALETTE[0]), make_run("b", PALETTE[1])]
    runs[1].layer_history["update_ratio"] *= 1e-6
    fig = train_charts.update_ratio_chart(runs, tr)
    assert fig.layout.yaxis.range == fig.layout.yaxis2.range
    low, high = fig.layout.yaxis.range
    assert low <= np.log10(runs[1].layer_history["update_ratio"].min())
    assert high >= np.log10(runs[0].layer_history["update_ratio"].max())


def test_a_run_stopped_at_step_1_spans_steps_0_to_1():
    run = make_run("short", PALETTE[0], steps=(0, 1), stop=(1, 2, "forward"))
    heatmaps = train_charts.gradient_heatmaps([run], tr)
    assert list(heatmaps.data[0].x) == [0, 0.5, 1]
    assert list(heatmaps.layout.xaxis.tickvals) == [0, 1]
    loss = train_charts.loss_chart([run], tr)
    assert list(loss.layout.xaxis.range) == [0, 1]
    assert list(train_charts.update_ratio_chart([run], tr).layout.xaxis.tickvals) == [0, 1]


def test_decision_maps_of_runs_as_they_train_are_laid_out_as_the_animation():
    runs = [decision("a", PALETTE[0], steps=(40,)),
            train_charts.DecisionFrames(**{**decision("b", PALETTE[1]).__dict__,
                                           "steps": np.array([], dtype=int),
                                           "values": np.empty((0, 4, 4))})]
    live = train_charts.decision_maps(runs, ["step 40", "waiting"], "so far", tr)
    final = train_charts.decision_animation([decision("a", PALETTE[0]),
                                             decision("b", PALETTE[1])], tr)
    assert live.layout.title.text == "so far"
    assert [a.text for a in live.layout.annotations] == ["a · step 40", "b · waiting"]
    assert live.data[2].z is None and np.asarray(live.data[0].z)[0, 0] == 40
    for name in ("margin", "height", "xaxis", "yaxis2"):
        assert live.layout[name] == final.layout[name], name
    assert not live.layout.sliders and not live.frames


def test_projector_text_is_18_px_everywhere():
    runs = [make_run("a", PALETTE[0]), make_run("b", PALETTE[1])]
    fit = train_charts.PROJECTOR
    for fig in (train_charts.loss_chart(runs, tr, fit),
                train_charts.decision_animation([decision("a", PALETTE[0])], tr, fit=fit)):
        layout = fig.layout
        assert layout.font.size >= 18 and layout.title.font.size >= 18
        assert all(a.font.size >= 18 for a in layout.annotations)
        for axis in (layout.xaxis, layout.yaxis):
            assert axis.tickfont.size is None or axis.tickfont.size >= 18
