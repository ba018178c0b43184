"""Chart builders of the Train page: training records in, ``plotly.graph_objects.Figure`` out.
No Streamlit here.

A *run* is anything with ``name``, ``colour`` (its set-up's colour from ui.chart_style.PALETTE, the
same on every chart), ``history`` and ``layer_history`` (core.train's DataFrames, columns as
that issue names them) and ``first_nonfinite`` (None or (step, layer, direction)).
``tr`` translates catalogue keys, so tests can pass a stub.

Every builder takes a ``Fit``: the screen it is laid out for (a laptop, a projector with
18 px text, a phone: panels one under the other, the colour bar under them). Panels are placed
by hand (axis domains, titles as annotations) rather than with ``make_subplots``: a figure is
then validated once, and the gaps between panels hold what is drawn in them (a panel title
wrapped to its panel's width, the axis labels of the panel above).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ui.chart_style import (HEALTHY_BAND, Translate, base_layout, log_axis, text_width,
                            wrap_title)

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


@dataclass(frozen=True)
class Fit:
    """The screen a chart is laid out for: its text size, the width (px, an estimate: the
    server does not know the screen) of one of the two main charts side by side and of a
    full-width chart, the main charts' height (a browser may stretch them to the screen's
    height), and whether panels go one under the other (a phone)."""

    font: int = 12
    main_px: int = 520
    full_px: int = 1050
    main_height: int = 560
    phone: bool = False

    @property
    def columns(self) -> int:
        """Panels per row of the detail charts (gradients, update ratios)."""
        return 1 if self.phone else 2

    def line(self) -> float:
        """The height of a line of text, px."""
        return 1.3 * self.font


LAPTOP = Fit()
#: 1280 px wide, text ≥ 18 px (ui.chart_style.PROJECTOR_FONT); the height is the screen's.
PROJECTOR = Fit(font=18, main_px=600, full_px=1200, main_height=480)
#: 390 px wide: the main charts one under the other, each the page's width.
PHONE = Fit(main_px=350, full_px=350, main_height=0, phone=True)


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


# --- shared layout -------------------------------------------------------------------------

def fit_text(text: str, px: float, size: float) -> str:
    """``text`` on at most two lines of at most ``px`` pixels at font ``size`` (broken with
    <br> where ui.chart_style.wrap_title breaks, the rest cut with an ellipsis)."""
    if text_width(text, size) <= px:
        return text
    lines = wrap_title(text, width=max(6, int(px / (0.5 * size)))).split("<br>")[:2]
    fitted = []
    for line in lines:
        if text_width(line, size) > px:
            while line and text_width(line + "…", size) > px:
                line = line[:-1]
            line = line.rstrip() + "…"
        fitted.append(line)
    return "<br>".join(fitted)


def _text_lines(text: str) -> int:
    return text.count("<br>") + 1


#: Streamlit's Plotly template is ≈ 7 KB of JSON in every figure, for default colours and
#: colour scales (the browser swaps its placeholders for the theme's); every trace here sets
#: its own, so the page sends an empty one (the browser's theme still styles the text, axes
#: and background).
LEAN_TEMPLATE: dict = {}


def values32(values) -> np.ndarray:
    """What a log axis can show as float32 (7 significant digits, 4 bytes a value in the
    page's JSON as a typed array, against ≈ 20 characters of a float's repr): zero, negative
    and non-finite values become NaN, a gap in the line."""
    array = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(array) & (array > 0), array, np.nan).astype(np.float32)


def _sized(layout: dict, fit: Fit) -> dict:
    """Every text of a layout at the fit's size (the title a little larger); the lean template
    (LEAN_TEMPLATE)."""
    layout["template"] = LEAN_TEMPLATE
    layout["font"] = dict(size=fit.font)
    layout["title"] = {**layout["title"], "font": dict(size=fit.font + 4)}
    layout["legend"] = {**layout.get("legend", {}), "font": dict(size=fit.font)}
    layout["hoverlabel"] = dict(font_size=fit.font)
    return layout


def _axis(fit: Fit, title: str = "", **more) -> dict:
    return dict(tickfont=dict(size=fit.font), title=dict(text=title, font=dict(size=fit.font)),
                **more)


def _grid(count: int, columns: int) -> tuple[int, int]:
    cols = min(columns, max(1, count))
    return math.ceil(max(1, count) / cols), cols


def _domains(count: int, columns: int, x_gap: float, y_gap: float
             ) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """(x domain, y domain) of ``count`` panels, row by row from the top, gaps in paper units."""
    rows, cols = _grid(count, columns)
    width = (1 - x_gap * (cols - 1)) / cols
    height = (1 - y_gap * (rows - 1)) / rows
    domains = []
    for index in range(max(1, count)):
        row, col = divmod(index, cols)
        x0 = col * (width + x_gap)
        y1 = 1 - row * (height + y_gap)
        domains.append(((x0, x0 + width), (max(0.0, y1 - height), y1)))
    return domains


def _suffix(index: int) -> str:
    return "" if index == 0 else str(index + 1)


def _panel_title(text: str, x: tuple[float, float], top: float, fit: Fit,
                 axes: str | None = None) -> dict:
    """A panel's title above it; with ``axes`` (the suffix of its x and y axes) placed on the
    axes' own domains, which follow a panel that a constraint shrank (a square map)."""
    if axes is not None:
        return dict(text=text, showarrow=False, xref=f"x{axes} domain", x=0.5,
                    xanchor="center", yref=f"y{axes} domain", y=1.0, yanchor="bottom",
                    yshift=2, font=dict(size=fit.font))
    return dict(text=text, showarrow=False, xref="paper", x=(x[0] + x[1]) / 2,
                xanchor="center", yref="paper", y=top, yanchor="bottom", yshift=2,
                font=dict(size=fit.font))


def step_ticks(steps: Sequence[int]) -> dict:
    """A step axis: whole steps only (a run of one or two steps gets its records as ticks)."""
    steps = sorted({int(s) for s in steps})
    if steps and steps[-1] <= 10:
        return dict(tickmode="array", tickvals=steps)
    return dict(tickformat="d")


# --- loss ----------------------------------------------------------------------------------

def loss_chart(runs: Sequence[TrainedRun], tr: Translate, fit: Fit = LAPTOP,
               steps: int | None = None, title: str | None = None) -> go.Figure:
    """Full train loss (solid) and test loss (dashed) against step, log y, one colour per
    set-up; where a run went non-finite, a dotted vertical line labelled with step and layer.
    ``steps`` fixes the step axis at 0 … steps (a run drawn while it trains grows into it)."""
    traces, shapes, notes = [], [], []
    for position, run in enumerate(runs):
        history = run.history
        for column, dash, key in (("train_loss", TRAIN_DASH, "train.chart.train"),
                                  ("test_loss", TEST_DASH, "train.chart.test")):
            traces.append(dict(
                type="scatter", x=history["step"].to_numpy(), y=values32(history[column]),
                mode="lines", name=run.name, legendgroup=run.name,
                showlegend=column == "train_loss",
                line=dict(color=run.colour, dash=dash, width=2),
                hovertemplate=f"{tr(key)}: %{{y:.4g}}<extra>{run.name}</extra>"))
        if run.first_nonfinite is not None:
            step = run.first_nonfinite[0]
            shapes.append(dict(type="line", x0=step, x1=step, xref="x", y0=0, y1=1,
                               yref="paper", line=dict(color=run.colour, dash="dot", width=2)))
            # Annotations placed by hand: several runs may stop at nearby steps.
            notes.append(dict(x=step, xref="x", y=1.0 - 0.08 * position, yref="paper",
                              text=_nonfinite_text(run, tr), showarrow=False, xanchor="left",
                              font=dict(size=max(11, fit.font - 1), color=run.colour),
                              bgcolor="rgba(255,255,255,0.7)"))
    # Two grey legend entries say which line style is which.
    for dash, key in ((TRAIN_DASH, "train.chart.train"), (TEST_DASH, "train.chart.test")):
        traces.append(dict(type="scatter", x=[None], y=[None], mode="lines", name=tr(key),
                           line=dict(color=NEUTRAL, dash=dash), hoverinfo="skip"))
    last = steps if steps is not None else max(
        (int(run.history["step"].max()) for run in runs if len(run.history)), default=1)
    layout = base_layout(title or tr("train.chart.loss_title"), tr("train.chart.step"),
                         tr("train.chart.loss"), height=fit.main_height or 420,
                         shapes=shapes, annotations=notes)
    layout["xaxis"] = _axis(fit, tr("train.chart.step"), range=[0, max(1, last)],
                            **step_ticks([0, last]))
    losses = [float(v) for trace in traces[:-2] for v in trace["y"] if np.isfinite(v)]
    layout["yaxis"] = _axis(fit, tr("train.chart.loss"), type="log", **log_axis(losses))
    return go.Figure(data=traces, layout=_sized(layout, fit))


# --- per-layer maps and lines, one panel per set-up -----------------------------------------

def _panel_layout(runs: Sequence, tr: Translate, fit: Fit, title_key: str,
                  panel_height: int, x_title: str, y_title: str, right: int = 10,
                  bottom_extra: int = 0, shared_y: dict | None = None
                  ) -> tuple[dict, list[tuple[tuple[float, float], tuple[float, float]]]]:
    """base_layout for a grid of panels (``fit.columns`` per row), one per run, titled with
    the run's name wrapped to the panel's width; x axis titles under the bottom row, y axis
    titles left of the first column. Returns the layout (its axes set) and the domains."""
    count = max(1, len(runs))
    rows, cols = _grid(count, fit.columns)
    panel_height = round(panel_height * max(1.0, fit.font / 12))  # room for bigger ticks
    panel_px = (fit.full_px - 80 - right) / cols
    titles = [fit_text(run.name, panel_px - 8, fit.font) for run in runs]
    title_lines = max((_text_lines(t) for t in titles), default=1)
    title_room = title_lines * fit.line() + 6
    # Between rows: the x tick labels of the panel above and the title of the one below.
    gap_px = fit.font + 24 + title_room
    x_gap_px = 70 if shared_y is None else 36
    plot_height = rows * panel_height + (rows - 1) * gap_px
    domains = _domains(count, cols, x_gap_px / max(1.0, fit.full_px - 80 - right),
                       gap_px / plot_height)
    # The bottom row's step axis (tick labels and title) under the plot.
    layout = base_layout(tr(title_key), "", "", hovermode="closest",
                         margin=dict(l=10, r=right, b=math.ceil(2 * fit.line() + 24)
                                     + bottom_extra))
    layout["margin"]["t"] += math.ceil(title_room)
    layout["height"] = math.ceil(plot_height + layout["margin"]["t"] + layout["margin"]["b"])
    layout.pop("xaxis"), layout.pop("yaxis")
    annotations = []
    for index, (x, y) in enumerate(domains[:len(runs)]):
        suffix = _suffix(index)
        row, col = divmod(index, cols)
        x_axis = _axis(fit, domain=list(x), anchor=f"y{suffix}")
        y_axis = _axis(fit, domain=list(y), anchor=f"x{suffix}", **(shared_y or {}))
        if row == rows - 1 or index + cols >= len(runs):
            x_axis["title"]["text"] = x_title
        if col == 0:
            y_axis["title"]["text"] = y_title
        elif shared_y is not None:
            y_axis["showticklabels"] = False
        layout[f"xaxis{suffix}"], layout[f"yaxis{suffix}"] = x_axis, y_axis
        annotations.append(_panel_title(titles[index], x, y[1], fit))
    layout["annotations"] = annotations
    return _sized(layout, fit), domains


def _cell_edges(steps: np.ndarray) -> np.ndarray:
    """Edges of the step cells of a heatmap: halfway between records, the first at 0 and the
    last at the last step (a run stopped at step 1 spans 0 … 1, not −0.5 … 1.5)."""
    steps = np.asarray(steps, dtype=float)
    if len(steps) == 1:
        return np.array([steps[0], steps[0] + 1.0])
    middle = (steps[:-1] + steps[1:]) / 2
    return np.concatenate([[steps[0]], middle, [steps[-1]]])


def gradient_heatmaps(runs: Sequence[TrainedRun], tr: Translate,
                      fit: Fit = LAPTOP) -> go.Figure:
    """Per set-up, a layer × step map of log10 ‖∂L/∂W‖ on one fixed diverging colour scale
    (gradient_colourscale: blue below 1e-6, green inside the band, red above 1e3); the
    colourbar's ticks are powers of ten. A zero gradient takes the lowest colour, a
    non-finite one is left blank. A record's cell spans from halfway after the previous record
    to halfway before the next (the first from step 0, the last to the last step)."""
    low, high = LOG_GRAD_RANGE
    ticks = list(range(int(low), int(high) + 1, 3))
    right = 10 if fit.phone else 96 + 3 * fit.font
    colour_bar = dict(title=dict(text="‖∂L/∂W‖", font=dict(size=fit.font)), tickvals=ticks,
                      ticktext=[power_of_ten(v) for v in ticks], tickfont=dict(size=fit.font))
    bottom = 0
    if fit.phone:  # the width is for the panels: the colour bar goes under them
        colour_bar.update(orientation="h", thickness=12, x=0.0, xanchor="left", len=0.9,
                          yref="container", y=0.0, yanchor="bottom",
                          title=dict(colour_bar["title"], side="top"))
        bottom = 70
    else:
        colour_bar.update(x=1.0, xanchor="left", xpad=16)
    layout, domains = _panel_layout(runs, tr, fit, "train.chart.grad_title", 230,
                                    tr("train.chart.step"), tr("train.chart.layer"),
                                    right=right, bottom_extra=bottom)
    traces = []
    for position, run in enumerate(runs):
        table = run.layer_history.pivot(index="layer", columns="step",
                                        values="grad_weight_norm").sort_index()
        values = table.to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(values == 0, low, np.log10(values))
        z = np.where(np.isfinite(z), np.clip(z, low, high), np.nan)
        steps = table.columns.to_numpy()
        suffix = _suffix(position)
        traces.append(dict(
            type="heatmap", z=z.astype(np.float32), x=_cell_edges(steps),
            y=table.index.to_numpy(), customdata=values.astype(np.float32), colorscale=gradient_colourscale(), zmin=low, zmax=high,
            showscale=position == 0, name=run.name, colorbar=colour_bar,
            xaxis=f"x{suffix}", yaxis=f"y{suffix}",
            hovertemplate=(f"{tr('train.chart.layer')} %{{y}}<br>‖∂L/∂W‖ = %{{customdata:.3e}}"
                           f"<extra>{run.name}</extra>")))
        layout[f"yaxis{suffix}"]["autorange"] = "reversed"
        layout[f"xaxis{suffix}"].update(step_ticks(steps))
    return go.Figure(data=traces, layout=layout)


def _shade(colour: str, fraction: float) -> str:
    """The colour mixed with white: fraction 0 → pale, 1 → the colour itself."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    mix = 0.25 + 0.75 * fraction
    return "#" + "".join(f"{round(255 - (255 - c) * mix):02x}" for c in (r, g, b))


def update_ratio_chart(runs: Sequence[TrainedRun], tr: Translate,
                       fit: Fit = LAPTOP) -> go.Figure:
    """Per set-up (a panel each, two to a row, one on a phone), ‖ΔW‖/‖W‖ of every layer against
    step on one log axis range, the set-up's colour from pale (first layer) to full (last
    layer), and the 1e-3 reference line."""
    ratios = [values32(run.layer_history["update_ratio"]) for run in runs]
    finite = [float(v) for r in ratios for v in r[np.isfinite(r)]] + [UPDATE_RATIO_REFERENCE]
    y_range = [math.floor(math.log10(min(finite))), math.ceil(math.log10(max(finite)))]
    layout, _ = _panel_layout(runs, tr, fit, "train.chart.update_title", 200,
                              tr("train.chart.step"), tr("train.chart.update_y"),
                              shared_y=dict(type="log", exponentformat="power",
                                            range=y_range))
    traces, shapes = [], []
    for position, run in enumerate(runs):
        suffix = _suffix(position)
        table = run.layer_history
        layers = sorted(table["layer"].unique())
        for index, layer in enumerate(layers):
            rows = table[table["layer"] == layer]
            fraction = index / max(1, len(layers) - 1)
            traces.append(dict(
                type="scatter", x=rows["step"].to_numpy(), y=values32(rows["update_ratio"]),
                mode="lines", name=f"{run.name} · {tr('train.chart.layer_n', layer=layer)}",
                legendgroup=run.name, showlegend=False, xaxis=f"x{suffix}", yaxis=f"y{suffix}",
                line=dict(color=_shade(run.colour, fraction), width=1.5),
                hovertemplate=(f"{tr('train.chart.layer_n', layer=layer)}: %{{y:.2e}}"
                               f"<extra>{run.name}</extra>")))
        shapes.append(dict(type="line", xref=f"x{suffix} domain", x0=0, x1=1,
                           yref=f"y{suffix}", y0=UPDATE_RATIO_REFERENCE,
                           y1=UPDATE_RATIO_REFERENCE,
                           line=dict(color=NEUTRAL, dash="dash", width=1)))
        layout[f"xaxis{suffix}"].update(step_ticks(table["step"].unique()))
    layout["shapes"] = shapes
    layout["annotations"].append(dict(
        text=tr("train.chart.update_reference"), showarrow=False, xref="x domain", x=0.0,
        xanchor="left", yref="y", y=math.log10(UPDATE_RATIO_REFERENCE), yanchor="bottom",
        font=dict(size=max(10, fit.font - 2), color=NEUTRAL)))
    return go.Figure(data=traces, layout=layout)


def activation_chart(runs: Sequence[TrainedRun], step: int, tr: Translate,
                     fit: Fit = LAPTOP) -> go.Figure:
    """At the recorded step nearest ``step`` (at most it), per layer: the activations' std
    (left, log axis; on a phone above) and the % of saturated (solid) and dead (dotted) units
    (right; on a phone below), one colour per set-up."""
    stacked = fit.phone
    gap_px = 2 * fit.line() + fit.font + 30
    if stacked:
        domains = [((0.0, 1.0), (0.5 + gap_px / 700, 1.0)), ((0.0, 1.0), (0.0, 0.5 - gap_px / 700))]
    else:
        domains = [((0.0, 0.44), (0.0, 1.0)), ((0.56, 1.0), (0.0, 1.0))]
    traces = []
    for run in runs:
        table = run.layer_history
        steps = table["step"].unique()
        shown = steps[steps <= step]
        at = int(shown.max()) if len(shown) else int(steps.min())
        rows = table[table["step"] == at].sort_values("layer")
        traces.append(dict(
            type="scatter", x=rows["layer"].to_numpy(), y=values32(rows["act_std"]),
            mode="lines+markers", name=run.name, legendgroup=run.name,
            line=dict(color=run.colour, width=2), marker=dict(size=4),
            hovertemplate=f"%{{y:.3g}}<extra>{run.name} · {tr('train.chart.step')} {at}</extra>"))
        for column, dash, key in (("act_saturated_frac", "solid", "train.chart.saturated"),
                                  ("dead_unit_frac", "dot", "train.chart.dead")):
            if rows[column].notna().any():
                traces.append(dict(
                    type="scatter", x=rows["layer"].to_numpy(),
                    y=(100 * rows[column]).to_numpy(np.float32), mode="lines+markers",
                    name=f"{run.name} · {tr(key)}", legendgroup=run.name, showlegend=False,
                    xaxis="x2", yaxis="y2", line=dict(color=run.colour, dash=dash, width=2),
                    marker=dict(size=4),
                    hovertemplate=f"{tr(key)}: %{{y:.1f}}%<extra>{run.name}</extra>"))
    for dash, key in (("solid", "train.chart.saturated"), ("dot", "train.chart.dead")):
        traces.append(dict(type="scatter", x=[None], y=[None], mode="lines", name=tr(key),
                           xaxis="x2", yaxis="y2", line=dict(color=NEUTRAL, dash=dash),
                           hoverinfo="skip"))
    layout = base_layout(tr("train.chart.activations_title", step=step), "", "",
                         height=round((700 if stacked else 380) * max(1.0, fit.font / 12)),
                         hovermode="closest")
    layout["margin"]["t"] += math.ceil(fit.line() + 6)
    layout.pop("xaxis"), layout.pop("yaxis")
    titles = (tr("train.chart.act_std"), tr("train.chart.units"))
    panel_px = fit.full_px if stacked else 0.44 * fit.full_px
    layout["annotations"] = []
    for index, ((x, y), title) in enumerate(zip(domains, titles)):
        suffix = _suffix(index)
        layout[f"xaxis{suffix}"] = _axis(fit, tr("train.chart.layer"), domain=list(x),
                                         anchor=f"y{suffix}")
        layout[f"yaxis{suffix}"] = _axis(fit, domain=list(y), anchor=f"x{suffix}")
        layout["annotations"].append(_panel_title(fit_text(title, panel_px, fit.font), x, y[1],
                                                  fit))
    layout["yaxis"].update(type="log", exponentformat="power")
    layout["yaxis2"].update(range=[-2, 102], title=dict(text="%", font=dict(size=fit.font)))
    return go.Figure(data=traces, layout=_sized(layout, fit))


def weight_histograms(weights: Sequence[tuple[str, str, np.ndarray]], tr: Translate,
                      bins: int = 61, fit: Fit = LAPTOP) -> go.Figure:
    """Final weights of each set-up ((name, colour, values)), overlaid on shared bins centred
    on 0 (so a spike at 0, L1's signature, has a bin of its own), log count axis."""
    finite = [np.asarray(v, dtype=float)[np.isfinite(v)] for _, _, v in weights]
    top = max((float(np.abs(v).max()) for v in finite if v.size), default=1.0) or 1.0
    edges = np.linspace(-top, top, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    traces = []
    for (name, colour, _), values in zip(weights, finite):
        counts, _ = np.histogram(values, bins=edges)
        traces.append(dict(type="bar", x=centres.astype(np.float32),
                           y=np.where(counts > 0, counts, np.nan).astype(np.float32),
                           width=np.diff(edges).astype(np.float32), name=name, marker_color=colour, opacity=0.55,
                           hovertemplate="%{x:.3g}: %{y}<extra>" + name + "</extra>"))
    layout = base_layout(tr("train.chart.weights_title"), tr("train.chart.weight"),
                         tr("train.chart.count"), height=340, hovermode="closest",
                         barmode="overlay", bargap=0)
    layout["yaxis"] = {**layout["yaxis"], "type": "log"}
    return go.Figure(data=traces, layout=_sized(layout, fit))


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


def percent(values: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """A decision map in whole percent of its range's ends (0 … 100 for a probability,
    −100 … 100 for a prediction in −1 … 1), one byte a cell: finer than the colour scale shows,
    and sent as a typed array (≈ 1.4 bytes a cell in the page's JSON, against ≈ 10 for a
    float64)."""
    low, high = value_range
    scaled = np.clip(np.nan_to_num(np.asarray(values, dtype=float), nan=(low + high) / 2),
                     low, high) * 100
    return np.rint(scaled).astype(np.uint8 if low >= 0 else np.int8)


#: The plane of a decision map in the page: 0 … PLANE across the data's domain, so that a
#: point's coordinates are one byte each (a 1/250 of the domain: finer than a marker).
PLANE = 250


def _plane(values: np.ndarray, low: float, high: float, dtype=np.uint8) -> np.ndarray:
    scaled = (np.asarray(values, dtype=float) - low) / ((high - low) or 1.0) * PLANE
    return np.clip(np.rint(scaled) if dtype == np.uint8 else scaled, 0, PLANE).astype(dtype)


def _frame_index(run: DecisionFrames, step: int) -> int:
    """The last snapshot at or before ``step`` (a run stopped early keeps its last picture)."""
    earlier = np.flatnonzero(np.asarray(run.steps) <= step)
    return int(earlier[-1]) if earlier.size else 0


def _decision_layout(runs: Sequence[DecisionFrames], titles: Sequence[str], title: str,
                     tr: Translate, fit: Fit) -> tuple[dict, list[dict]]:
    """The layout of the decision maps (panels two to a row, square, titled) and their traces
    (a heatmap of the first snapshot, then the points, per run). Room under the panels for
    the play buttons and the step slider."""
    count = max(1, len(runs))
    rows, cols = _grid(count, 2)
    bar = not fit.phone
    right = (60 + 2 * fit.font) if bar else 8
    panel_px = (fit.main_px - 16 - right) / cols
    titles = [fit_text(t, panel_px - 6, fit.font) for t in titles]
    title_room = max((_text_lines(t) for t in titles), default=1) * fit.line() + 4
    bottom = math.ceil(4 * fit.font + 40)  # the buttons and the slider's value, its rail
    if fit.phone:  # square panels as wide as the page allows
        plot_height = rows * (panel_px + title_room) - title_room
        height = None
    else:
        height = fit.main_height
        plot_height = height - 120 - title_room - bottom
    domains = _domains(count, cols, 0.04, (title_room + 6) / max(120.0, plot_height))
    layout = base_layout(title, "", "", hovermode="closest", showlegend=False,
                         margin=dict(l=8, r=right, b=bottom))
    layout["margin"]["t"] += math.ceil(title_room)
    layout["height"] = height or math.ceil(plot_height + layout["margin"]["t"] + bottom)
    layout.pop("xaxis"), layout.pop("yaxis")
    low, high = runs[0].value_range if runs else (0.0, 1.0)
    ticks = [round(100 * low), round(50 * (low + high)), round(100 * high)]
    traces, annotations = [], []
    for index, (run, (x, y)) in enumerate(zip(runs, domains)):
        suffix = _suffix(index)
        # Square panels: the axis with room to spare shrinks, its title follows it.
        axis = dict(showticklabels=False, showgrid=False, zeroline=False, ticks="",
                    showline=False, constrain="domain")
        layout[f"xaxis{suffix}"] = dict(axis, domain=list(x), anchor=f"y{suffix}",
                                        range=[0, PLANE])
        layout[f"yaxis{suffix}"] = dict(axis, domain=list(y), anchor=f"x{suffix}",
                                        scaleanchor=f"x{suffix}", range=[0, PLANE])
        (x0, x1), (y0, y1) = (run.xs[0], run.xs[-1]), (run.ys[0], run.ys[-1])
        annotations.append(_panel_title(titles[index], x, y[1], fit, axes=suffix))
        z = percent(run.values[0], run.value_range) if len(run.values) else None
        hover = ("P = %{z} %" if run.value_range[0] >= 0 else "ŷ × 100 = %{z}")
        traces.append(dict(
            type="heatmap", x=_plane(run.xs, x0, x1, np.float32),
            y=_plane(run.ys, y0, y1, np.float32), z=z, zmin=ticks[0], zmax=ticks[2],
            colorscale=DECISION_COLOURSCALE, showscale=bar and index == 0, zsmooth="best",
            xaxis=f"x{suffix}", yaxis=f"y{suffix}",
            colorbar=dict(title=dict(text=tr("train.chart.output"), font=dict(size=fit.font)),
                          len=0.7, thickness=12, tickvals=ticks,
                          ticktext=[f"{v / 100:g}".replace("-", "−") for v in ticks],
                          tickfont=dict(size=fit.font)),
            hovertemplate=f"{hover}<extra>{run.name}</extra>"))
        traces.append(dict(
            type="scatter", x=_plane(run.points[:, 0], x0, x1),
            y=_plane(run.points[:, 1], y0, y1), mode="markers", showlegend=False,
            xaxis=f"x{suffix}", yaxis=f"y{suffix}",
            marker=dict(size=5 if fit.font < 16 else 6,
                        color=percent(run.targets, run.value_range), cmin=ticks[0], cmax=ticks[2],
                        colorscale=POINT_COLOURSCALE, line=dict(color="white", width=0.8)),
            hoverinfo="skip"))
    layout["annotations"] = annotations
    return _sized(layout, fit), traces


def decision_animation(runs: Sequence[DecisionFrames], tr: Translate, columns: int = 2,
                       fit: Fit = LAPTOP) -> go.Figure:
    """Each set-up's decision function over the plane with the data points, one panel per
    set-up (two to a row), animated over the recorded steps by Plotly frames (a play button and
    a step slider under the panels, drawn in the browser: no server round trip per frame). All
    panels show the same step; a run that stopped early keeps its last snapshot. The maps are
    whole percents (``percent``)."""
    steps = sorted({int(s) for run in runs for s in run.steps})
    first = [DecisionFrames(**{**run.__dict__, "values": run.values[
        [_frame_index(run, steps[0])]] if len(run.values) else run.values}) for run in runs]
    layout, traces = _decision_layout(first, [run.name for run in runs],
                                      tr("train.chart.decision_title"), tr, fit)
    # A map that never changes (a run that never learns, at a percent's resolution) is left
    # out of the frames: it keeps its first picture.
    maps = [[percent(run.values[_frame_index(run, step)], run.value_range) for step in steps]
            for run in runs]
    moving = [index for index, frames in enumerate(maps)
              if any(not np.array_equal(frame, frames[0]) for frame in frames)]
    frames = [dict(name=str(step), traces=[2 * index for index in moving],
                   data=[dict(type="heatmap", z=maps[index][k]) for index in moving])
              for k, step in enumerate(steps)]
    label = tr("train.chart.step")
    play = dict(label="▶ " + tr("train.chart.play"), method="animate",
                args=[None, dict(frame=dict(duration=FRAME_MS, redraw=True), fromcurrent=True,
                                 transition=dict(duration=0), mode="immediate")])
    pause = dict(label="❚❚ " + tr("train.chart.pause"), method="animate",
                 args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate",
                                    transition=dict(duration=0))])
    # Under the panels, nothing on the title: the buttons at the left and the step the slider
    # is at on the right, on one line above the slider's rail, which is as wide as the chart
    # (its tick labels hidden: 26 of them overlap on a phone).
    ink = "#31333f"
    layout["updatemenus"] = [dict(
        type="buttons", direction="left", x=0.0, xanchor="left", y=0.0, yanchor="top",
        pad=dict(t=4, r=0), showactive=False, font=dict(size=fit.font), buttons=[play, pause])]
    layout["sliders"] = [dict(
        active=0, x=0.0, len=1.0, y=0.0, yanchor="top", pad=dict(t=8, b=0),
        currentvalue=dict(prefix=f"{label} ", xanchor="right", offset=math.ceil(fit.font),
                          font=dict(size=fit.font, color=ink)),
        font=dict(size=fit.font, color="rgba(0,0,0,0)"), ticklen=3, minorticklen=2,
        steps=[dict(label=str(step), method="animate",
                    args=[[str(step)], dict(frame=dict(duration=0, redraw=True),
                                            mode="immediate", transition=dict(duration=0))])
               for step in steps])]
    return go.Figure(data=traces, layout=layout, frames=frames)


def decision_maps(runs: Sequence[DecisionFrames], notes: Sequence[str], title: str,
                  tr: Translate, fit: Fit = LAPTOP) -> go.Figure:
    """The decision maps of runs as they train: each run's one snapshot (``values`` of length
    0 or 1; none yet: the points alone), its panel titled with its name and its ``note`` (the
    step it is at, or that it waits for a worker). Laid out as ``decision_animation`` is, so
    the page does not jump when the animation replaces it; ``title`` says how far it is."""
    layout, traces = _decision_layout(runs, [f"{run.name} · {note}" for run, note in
                                             zip(runs, notes)], title, tr, fit)
    return go.Figure(data=traces, layout=layout)
