"""Chart builders of the Train page: training records in, ``plotly.graph_objects.Figure`` out.
No Streamlit here.

A *run* is anything with ``name``, ``colour`` (its set-up's colour from ui.chart_style.PALETTE, the
same on every chart), ``history`` and ``layer_history`` (core.train's DataFrames, columns as
that issue names them) and ``first_nonfinite`` (None or (step, layer, direction)).
``tr`` translates catalogue keys, so tests can pass a stub.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.chart_style import HEALTHY_BAND, Translate, apply_base_layout, positive

#: makemore part 3: an update ‖ΔW‖/‖W‖ near 1e-3 per step is about right.
UPDATE_RATIO_REFERENCE = 1e-3
#: The gradient heatmap's fixed colour range in log10 (the same for every set-up, so that two
#: maps can be compared by colour): values beyond it take the end colours.
LOG_GRAD_RANGE = (-15.0, 9.0)
LOG_BAND = (math.log10(HEALTHY_BAND[0]), math.log10(HEALTHY_BAND[1]))
#: Below the band: blues (vanishing), inside: greens (healthy), above: reds (exploding). The
#: colour jumps at the band's edges, so a cell's side of the edge is never ambiguous.
BELOW_COLOURS = ("#08306b", "#6baed6")
HEALTHY_COLOURS = ("#c7e9c0", "#238b45")
ABOVE_COLOURS = ("#fd8d3c", "#7f0000")
TRAIN_DASH, TEST_DASH = "solid", "dash"
#: Non-finite steps and zero gradients in the heatmap's hover.
NEUTRAL = "#777777"


class TrainedRun(Protocol):
    name: str
    colour: str
    history: pd.DataFrame
    layer_history: pd.DataFrame
    first_nonfinite: tuple[int, int, str] | None


def _position(log_value: float) -> float:
    low, high = LOG_GRAD_RANGE
    return (log_value - low) / (high - low)


def gradient_colourscale() -> list[list]:
    """A diverging scale over LOG_GRAD_RANGE whose colour breaks sit exactly at log10 of the
    healthy band's edges (1e-6 and 1e3)."""
    lo, hi = _position(LOG_BAND[0]), _position(LOG_BAND[1])
    return [[0.0, BELOW_COLOURS[0]], [lo, BELOW_COLOURS[1]],
            [lo, HEALTHY_COLOURS[0]], [hi, HEALTHY_COLOURS[1]],
            [hi, ABOVE_COLOURS[0]], [1.0, ABOVE_COLOURS[1]]]


def power_of_ten(exponent: int) -> str:
    """10⁻⁶ style tick text."""
    superscript = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
    return "10" + str(exponent).translate(superscript)


def _nonfinite_text(run: TrainedRun, tr: Translate) -> str:
    step, layer, direction = run.first_nonfinite
    return tr("train.chart.nonfinite_at", name=run.name, step=step, layer=layer,
              direction=tr(f"train.direction.{direction}"))


def loss_chart(runs: Sequence[TrainedRun], tr: Translate) -> go.Figure:
    """Full train loss (solid) and test loss (dashed) against step, log y, one colour per
    set-up; where a run went non-finite, a dotted vertical line labelled with step and layer."""
    fig = go.Figure()
    for position, run in enumerate(runs):
        history = run.history
        for column, dash, key in (("train_loss", TRAIN_DASH, "train.chart.train"),
                                  ("test_loss", TEST_DASH, "train.chart.test")):
            fig.add_trace(go.Scatter(
                x=history["step"], y=positive(history[column]), mode="lines",
                name=run.name, legendgroup=run.name, showlegend=column == "train_loss",
                line=dict(color=run.colour, dash=dash, width=2),
                hovertemplate=f"{tr(key)}: %{{y:.4g}}<extra>{run.name}</extra>"))
        if run.first_nonfinite is not None:
            fig.add_vline(x=run.first_nonfinite[0], line=dict(color=run.colour, dash="dot",
                                                              width=2))
            # Annotations placed by hand: several runs may stop at nearby steps.
            fig.add_annotation(x=run.first_nonfinite[0], xref="x", y=1.0 - 0.07 * position,
                               yref="paper", text=_nonfinite_text(run, tr), showarrow=False,
                               xanchor="left", font=dict(size=11, color=run.colour),
                               bgcolor="rgba(255,255,255,0.7)")
    # Two grey legend entries say which line style is which.
    for dash, key in ((TRAIN_DASH, "train.chart.train"), (TEST_DASH, "train.chart.test")):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=tr(key),
                                 line=dict(color=NEUTRAL, dash=dash), hoverinfo="skip"))
    apply_base_layout(fig, tr("train.chart.loss_title"), tr("train.chart.step"),
                      tr("train.chart.loss"), height=400)
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def _grid(count: int, columns: int = 2) -> tuple[int, int]:
    cols = min(columns, max(1, count))
    return math.ceil(max(1, count) / cols), cols


def gradient_heatmaps(runs: Sequence[TrainedRun], tr: Translate) -> go.Figure:
    """Per set-up, a layer × step map of log10 ‖∂L/∂W‖ on one fixed diverging colour scale
    (gradient_colourscale: blue below 1e-6, green inside the band, red above 1e3); the
    colourbar's ticks are powers of ten. A zero gradient takes the lowest colour, a
    non-finite one is left blank."""
    rows, cols = _grid(len(runs))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[run.name for run in runs] or None,
                        horizontal_spacing=0.1, vertical_spacing=0.16 if rows > 1 else 0.1)
    low, high = LOG_GRAD_RANGE
    ticks = list(range(int(low), int(high) + 1, 3))
    for position, run in enumerate(runs):
        row, col = divmod(position, cols)
        table = run.layer_history.pivot(index="layer", columns="step",
                                        values="grad_weight_norm").sort_index()
        values = table.to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(values == 0, low, np.log10(values))
        z = np.where(np.isfinite(z), np.clip(z, low, high), np.nan)
        fig.add_trace(go.Heatmap(
            z=z, x=table.columns.to_numpy(), y=table.index.to_numpy(), customdata=values,
            colorscale=gradient_colourscale(), zmin=low, zmax=high,
            showscale=position == 0, name=run.name,
            colorbar=dict(title=dict(text="‖∂L/∂W‖"), tickvals=ticks,
                          ticktext=[power_of_ten(v) for v in ticks]),
            hovertemplate=(f"{tr('train.chart.step')} %{{x}}<br>{tr('train.chart.layer')} %{{y}}"
                           f"<br>‖∂L/∂W‖ = %{{customdata:.3e}}<extra>{run.name}</extra>")),
            row=row + 1, col=col + 1)
    apply_base_layout(fig, tr("train.chart.grad_title"), "", "", height=250 * rows + 110,
                      hovermode="closest")
    fig.update_xaxes(title_text=tr("train.chart.step"))
    fig.update_yaxes(autorange="reversed")
    for row in range(1, rows + 1):
        fig.update_yaxes(title_text=tr("train.chart.layer"), row=row, col=1)
    fig.update_annotations(font_size=12)
    return fig


def _shade(colour: str, fraction: float) -> str:
    """The colour mixed with white: fraction 0 → pale, 1 → the colour itself."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    mix = 0.25 + 0.75 * fraction
    return "#" + "".join(f"{round(255 - (255 - c) * mix):02x}" for c in (r, g, b))


def update_ratio_chart(runs: Sequence[TrainedRun], tr: Translate) -> go.Figure:
    """Per set-up (one panel each, side by side), ‖ΔW‖/‖W‖ of every layer against step on a
    log axis, the set-up's colour from pale (first layer) to full (last layer), and the 1e-3
    reference line."""
    count = max(1, len(runs))
    fig = make_subplots(rows=1, cols=count, subplot_titles=[run.name for run in runs] or None,
                        shared_yaxes=True, horizontal_spacing=0.03)
    for col, run in enumerate(runs, start=1):
        table = run.layer_history
        layers = sorted(table["layer"].unique())
        for index, layer in enumerate(layers):
            rows = table[table["layer"] == layer]
            fraction = index / max(1, len(layers) - 1)
            fig.add_trace(go.Scatter(
                x=rows["step"], y=positive(rows["update_ratio"]), mode="lines",
                name=f"{run.name} · {tr('train.chart.layer_n', layer=layer)}",
                legendgroup=run.name, showlegend=False,
                line=dict(color=_shade(run.colour, fraction), width=1.5),
                hovertemplate=(f"{tr('train.chart.layer_n', layer=layer)}: %{{y:.2e}}"
                               f"<extra>{run.name}</extra>")), row=1, col=col)
        fig.add_hline(y=UPDATE_RATIO_REFERENCE, line=dict(color=NEUTRAL, dash="dash", width=1),
                      row=1, col=col)
    fig.add_annotation(text=tr("train.chart.update_reference"), showarrow=False,
                       xref="x domain", x=0.0, xanchor="left", yref="y",
                       y=math.log10(UPDATE_RATIO_REFERENCE), yanchor="bottom",
                       font=dict(size=10, color=NEUTRAL))
    apply_base_layout(fig, tr("train.chart.update_title"), "", "", height=360, hovermode="closest")
    fig.update_xaxes(title_text=tr("train.chart.step"))
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_yaxes(title_text=tr("train.chart.update_y"), row=1, col=1)
    fig.update_annotations(font_size=12)
    return fig


def activation_chart(runs: Sequence[TrainedRun], step: int, tr: Translate) -> go.Figure:
    """At the recorded step nearest ``step`` (at most it), per layer: the activations' std
    (left, log axis) and the % of saturated (solid) and dead (dotted) units (right), one
    colour per set-up."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=[tr("train.chart.act_std"), tr("train.chart.units")])
    for run in runs:
        table = run.layer_history
        steps = table["step"].unique()
        shown = steps[steps <= step]
        at = int(shown.max()) if len(shown) else int(steps.min())
        rows = table[table["step"] == at].sort_values("layer")
        fig.add_trace(go.Scatter(
            x=rows["layer"], y=positive(rows["act_std"]), mode="lines+markers", name=run.name,
            legendgroup=run.name, line=dict(color=run.colour, width=2), marker=dict(size=4),
            hovertemplate=f"%{{y:.3g}}<extra>{run.name} · {tr('train.chart.step')} {at}</extra>"),
            row=1, col=1)
        for column, dash, key in (("act_saturated_frac", "solid", "train.chart.saturated"),
                                  ("dead_unit_frac", "dot", "train.chart.dead")):
            if rows[column].notna().any():
                fig.add_trace(go.Scatter(
                    x=rows["layer"], y=100 * rows[column], mode="lines+markers",
                    name=f"{run.name} · {tr(key)}", legendgroup=run.name, showlegend=False,
                    line=dict(color=run.colour, dash=dash, width=2), marker=dict(size=4),
                    hovertemplate=f"{tr(key)}: %{{y:.1f}}%<extra>{run.name}</extra>"),
                    row=1, col=2)
    for dash, key in (("solid", "train.chart.saturated"), ("dot", "train.chart.dead")):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=tr(key),
                                 line=dict(color=NEUTRAL, dash=dash), hoverinfo="skip"),
                      row=1, col=2)
    apply_base_layout(fig, tr("train.chart.activations_title", step=step), tr("train.chart.layer"),
                      "", height=360, hovermode="closest")
    fig.update_annotations(font_size=12)
    fig.update_yaxes(type="log", exponentformat="power", row=1, col=1)
    fig.update_yaxes(range=[-2, 102], title_text="%", row=1, col=2)
    fig.update_xaxes(title_text=tr("train.chart.layer"))
    return fig


def weight_histograms(weights: Sequence[tuple[str, str, np.ndarray]], tr: Translate,
                      bins: int = 61) -> go.Figure:
    """Final weights of each set-up ((name, colour, values)), overlaid on shared bins centred
    on 0 (so a spike at 0, L1's signature, has a bin of its own), log count axis."""
    finite = [np.asarray(v, dtype=float)[np.isfinite(v)] for _, _, v in weights]
    top = max((float(np.abs(v).max()) for v in finite if v.size), default=1.0) or 1.0
    edges = np.linspace(-top, top, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure()
    for (name, colour, _), values in zip(weights, finite):
        counts, _ = np.histogram(values, bins=edges)
        fig.add_trace(go.Bar(x=centres, y=np.where(counts > 0, counts, np.nan),
                             width=np.diff(edges), name=name, marker_color=colour, opacity=0.55,
                             hovertemplate="%{x:.3g}: %{y}<extra>" + name + "</extra>"))
    apply_base_layout(fig, tr("train.chart.weights_title"), tr("train.chart.weight"),
                      tr("train.chart.count"), height=340, hovermode="closest", barmode="overlay",
                      bargap=0)
    fig.update_yaxes(type="log")
    return fig


# --- the decision function, animated in the browser -------------------------------------------

@dataclass(frozen=True)
class DecisionFrames:
    """One set-up's recorded decision function: values[k] on the grid ``xs`` × ``ys``
    (values[k][i, j] at (xs[j], ys[i])) at ``steps[k]``; the data points and their targets."""

    name: str
    colour: str
    xs: np.ndarray
    ys: np.ndarray
    steps: np.ndarray
    values: np.ndarray  # (snapshots, len(ys), len(xs))
    points: np.ndarray  # (n, 2)
    targets: np.ndarray  # (n,)
    value_range: tuple[float, float] = (0.0, 1.0)


#: Playground's palette: orange for one class, blue for the other, white in between.
DECISION_COLOURSCALE = [[0.0, "#f59322"], [0.5, "#e8eaeb"], [1.0, "#0877bd"]]
POINT_COLOURSCALE = [[0.0, "#c4580e"], [1.0, "#04538a"]]
FRAME_MS = 350


def _rounded(values: np.ndarray) -> np.ndarray:
    """Three decimals are finer than the colour scale shows, and keep the frames' JSON small."""
    return np.round(np.asarray(values, dtype=float), 3)


def _frame_index(run: DecisionFrames, step: int) -> int:
    """The last snapshot at or before ``step`` (a run stopped early keeps its last picture)."""
    earlier = np.flatnonzero(np.asarray(run.steps) <= step)
    return int(earlier[-1]) if earlier.size else 0


def decision_animation(runs: Sequence[DecisionFrames], tr: Translate,
                       columns: int = 2) -> go.Figure:
    """Each set-up's decision function over the plane with the data points, one panel per
    set-up, animated over the recorded steps by Plotly frames (a play button and a step slider,
    drawn in the browser: no server round trip per frame). All panels show the same step; a
    run that stopped early keeps its last snapshot."""
    rows, cols = _grid(len(runs), columns)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[run.name for run in runs] or None,
                        horizontal_spacing=0.06, vertical_spacing=0.12 if rows > 1 else 0.08)
    steps = sorted({int(s) for run in runs for s in run.steps})
    heatmaps: list[int] = []
    for position, run in enumerate(runs):
        row, col = divmod(position, cols)
        low, high = run.value_range
        heatmaps.append(len(fig.data))
        fig.add_trace(go.Heatmap(
            x=run.xs, y=run.ys,
            z=_rounded(run.values[_frame_index(run, steps[0])]) if steps else None,
            zmin=low, zmax=high, colorscale=DECISION_COLOURSCALE, showscale=position == 0,
            zsmooth="best", colorbar=dict(title=dict(text=tr("train.chart.output")), len=0.6),
            hovertemplate="(%{x:.2f}, %{y:.2f}): %{z:.2f}<extra>" + run.name + "</extra>"),
            row=row + 1, col=col + 1)
        fig.add_trace(go.Scatter(
            x=run.points[:, 0], y=run.points[:, 1], mode="markers", showlegend=False,
            marker=dict(size=5, color=run.targets, colorscale=POINT_COLOURSCALE, cmin=low,
                        cmax=high, line=dict(color="white", width=0.8)),
            hoverinfo="skip"), row=row + 1, col=col + 1)
    label = tr("train.chart.step")
    fig.frames = [go.Frame(
        name=str(step), traces=heatmaps,
        data=[go.Heatmap(z=_rounded(run.values[_frame_index(run, step)])) for run in runs])
        for step in steps]
    play = dict(label="▶ " + tr("train.chart.play"), method="animate",
                args=[None, dict(frame=dict(duration=FRAME_MS, redraw=True), fromcurrent=True,
                                 transition=dict(duration=0), mode="immediate")])
    pause = dict(label="❚❚ " + tr("train.chart.pause"), method="animate",
                 args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate",
                                    transition=dict(duration=0))])
    # Buttons top right beside the title, the slider full width below: nothing overlaps on a
    # phone's narrow screen.
    fig.update_layout(
        updatemenus=[dict(type="buttons", direction="left", x=1.0, xanchor="right", y=1.0,
                          yanchor="bottom", pad=dict(b=22), showactive=False,
                          buttons=[play, pause])],
        sliders=[dict(active=0, x=0.0, len=1.0, y=-0.02, yanchor="top", pad=dict(t=30),
                      currentvalue=dict(prefix=f"{label} ", font=dict(size=13)),
                      steps=[dict(label=str(step), method="animate",
                                  args=[[str(step)], dict(frame=dict(duration=0, redraw=True),
                                                          mode="immediate",
                                                          transition=dict(duration=0))])
                             for step in steps])])
    apply_base_layout(fig, tr("train.chart.decision_title"), "", "",
                      height=330 * rows + 150, hovermode="closest", showlegend=False,
                      margin=dict(l=10, r=10, t=60, b=90))
    fig.update_xaxes(showticklabels=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, scaleanchor="x", constrain="domain")
    for index in range(2, len(runs) + 1):
        fig.update_yaxes(scaleanchor=f"x{index}", row=(index - 1) // cols + 1,
                         col=(index - 1) % cols + 1)
    fig.update_annotations(font_size=12)
    return fig
