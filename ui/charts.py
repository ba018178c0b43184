"""Chart builders: statistics in, ``plotly.graph_objects.Figure`` out. No Streamlit here.

Every builder takes ``tr``, a function from a catalogue key to the text to show, so the same
figure is drawn in any language and tests can pass a stub.
"""

from __future__ import annotations

import math
import sys
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.stats import HistogramSet

Translate = Callable[..., str]

#: The seed notes' healthy band for gradient variances.
HEALTHY_BAND = (1e-6, 1e3)
#: Colours by quantity, fixed so a reader learns them once.
COLOURS = {"preact": "#1f77b4", "act": "#ff7f0e", "grad_out": "#2ca02c", "grad_preact": "#9467bd",
           "theory": "#555555", "saturated": "#d62728", "dead": "#7f7f7f", "zero": "#bcbd22"}
#: Distinct colours for set-ups compared side by side.
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf")

# (column, quantity colour, dashed per-unit variant?, catalogue key)
VARIANCE_SERIES = (
    ("preact_var", "preact", "solid", "chart.series.preact_var"),
    ("preact_unit_var", "preact", "dot", "chart.series.preact_unit_var"),
    ("act_var", "act", "solid", "chart.series.act_var"),
    ("act_unit_var", "act", "dot", "chart.series.act_unit_var"),
    ("grad_out_var", "grad_out", "solid", "chart.series.grad_out_var"),
    ("grad_preact_var", "grad_preact", "solid", "chart.series.grad_preact_var"),
)


def positive(values: Iterable[float]) -> list[float | None]:
    """Values a log axis can show; zero, negative and non-finite become gaps."""
    return [float(v) if np.isfinite(v) and v > 0 else None for v in values]


#: Room above a chart's title for Plotly's toolbar (it appears over the top right of a chart
#: and, on a phone, would cover a title that starts under it).
TOOLBAR_ROOM = 34
#: The height of one more line of a (wrapped) title.
TITLE_LINE = 22
#: Projector text: ticks, legends and annotations at least this many pixels.
PROJECTOR_FONT = 18


#: A title longer than this (a CJK character counts twice) is broken onto two lines: Plotly
#: does not wrap titles, and a 390 px phone shows about this many.
TITLE_WIDTH = 44


def wrap_title(text: str, width: int = TITLE_WIDTH) -> str:
    """Break ``text`` once, with Plotly's <br>, at the last space or after the last CJK
    character or punctuation that keeps the first line within ``width`` (CJK counted double);
    short texts are returned as they are."""
    def cost(part: str) -> int:
        return sum(2 if ord(c) > 0x2E80 else 1 for c in part)

    if cost(text) <= width or "<br>" in text:
        return text
    best = None
    used = 0
    for index, char in enumerate(text):
        used += cost(char)
        if used > width:
            break
        if char == " ":
            best = (index, index + 1)
        elif ord(char) > 0x2E80 or char in ":：,，;；":
            best = (index + 1, index + 1)
    if best is None:
        return text
    return text[:best[0]].rstrip() + "<br>" + text[best[1]:].lstrip()


class FrozenFigure(go.Figure):
    """A figure that no longer changes, serialized once. Streamlit reads a figure through
    ``to_dict()``, which copies it and converts every NumPy array to a typed array each time
    (≈ 10 ms for the Train page's animation, 60 % of a cached Train page's charts): a figure
    shared by every session (ui.serving.shared_figure) gives the dict it made the first time.
    Changing it afterwards is not seen by ``to_dict``."""

    def to_dict(self) -> dict:
        made = self.__dict__.get("_frozen_dict")
        if made is None:
            made = self.__dict__["_frozen_dict"] = super().to_dict()
        return made


def frozen(figure):
    """``figure`` as a FrozenFigure (the same object; anything else is returned as it is)."""
    if type(figure) is go.Figure:
        figure.__class__ = FrozenFigure
    return figure


def base_layout(title: str, x_title: str, y_title: str, **more) -> dict:
    """The layout every chart starts from, as a dict (for ``go.Figure(data, layout)``, which
    validates it once): title under the toolbar's strip; legend horizontal at the figure's
    bottom edge, in container coordinates, so that Plotly widens the bottom margin for it
    instead of laying it over the x axis title at any width (the rows it needs depend on the
    width). ``margin`` in ``more`` sets the room for the axes (left, right, bottom)."""
    title = wrap_title(title)
    # Plotly raises a title's first line by the height of the lines under it: keep them all
    # below the toolbar's strip.
    extra = TITLE_LINE * title.count("<br>")
    layout = dict(title=dict(text=title, x=0.0, xanchor="left", yref="container", y=1.0,
                             yanchor="top", pad=dict(t=TOOLBAR_ROOM + extra)),
                  height=420 + extra,
                  margin={"l": 10, "r": 10, "b": 10, **more.pop("margin", {}),
                          "t": TOOLBAR_ROOM + 44 + extra},
                  legend=dict(orientation="h", yref="container", y=0.0, yanchor="bottom",
                              x=0.0, xanchor="left", tracegroupgap=0),
                  hovermode="x unified",
                  xaxis=dict(title=dict(text=x_title)), yaxis=dict(title=dict(text=y_title)))
    if "height" in more:
        more = {**more, "height": more["height"] + extra}
    for axis in ("xaxis", "yaxis"):
        if axis in more:
            more[axis] = {**layout[axis], **more[axis]}
    return {**layout, **more}


def _base_layout(fig: go.Figure, title: str, x_title: str, y_title: str, **more) -> go.Figure:
    """``base_layout`` applied to a figure built trace by trace, its axis titles on every
    subplot."""
    layout = base_layout(title, x_title, y_title, **more)
    x_axis, y_axis = layout.pop("xaxis"), layout.pop("yaxis")
    fig.update_layout(**layout)
    fig.update_xaxes(x_axis)
    fig.update_yaxes(y_axis)
    return fig


# A chart whose figure changes is drawn afresh in the browser (Streamlit 1.67 remounts it: the
# element's id hashes the figure). If Plotly's automargin then finds the margins too small for
# the tick labels, the axis titles, a colour bar or the legend, it grows them and draws the
# whole chart a second time: 40 % of a chart's drawing time, measured in Chromium
# (bench/browser_latency.py). So the Explorer's charts ask for the room their axes need up
# front; automargin stays on and still grows a margin where an estimate falls short (a
# legend in several rows on a phone).
#: Measured under Streamlit's chart theme (tick labels at 12 px, axis titles at 14 px, 24 px
#: from the y tick labels and 20 px under the x tick labels) in Chromium, and fitted over font
#: sizes 12 and 18 (the projector): the room beside a y axis beyond its widest tick label, the
#: room under an x axis, and one row of a legend under the plot.
Y_AXIS_ROOM = (46.0, 1.4)  # px = a + b · font size
X_AXIS_ROOM = (46.0, 1.8)
LEGEND_ROW = 30
#: The room a heatmap's colour bar needs right of the plot (ticks like 0.08 and its title), and
#: what a heatmap's x axis needs beyond X_AXIS_ROOM.
COLORBAR_ROOM = 108
HEATMAP_X_EXTRA = 10
#: Text width in ems (Streamlit's sans, a little generous): a digit, another letter, a narrow
#: one or a superscript (Plotly draws ⁻⁶ smaller), a CJK character.
_EM = {"digit": 0.58, "latin": 0.53, "narrow": 0.4, "cjk": 1.0}
_NARROW = set("⁻⁰¹²³⁴⁵⁶⁷⁸⁹.,:;|!iljtfr ()")


def text_width(text: str, size: float = 12) -> float:
    """An estimate of ``text``'s width in px at font ``size``, rather too wide than too narrow."""
    def em(char: str) -> float:
        if ord(char) > 0x2E80:
            return _EM["cjk"]
        if char in _NARROW:
            return _EM["narrow"]
        return _EM["digit"] if char.isdigit() else _EM["latin"]

    return size * sum(em(c) for c in text)


def y_axis_room(labels: Iterable[str], size: float = 12) -> int:
    """The left margin a y axis with these tick labels and a title needs (see Y_AXIS_ROOM)."""
    widest = max((text_width(label, size) for label in labels), default=0.0)
    return math.ceil(Y_AXIS_ROOM[0] + Y_AXIS_ROOM[1] * size + widest)


def x_axis_room(size: float = 12) -> int:
    """The bottom margin an x axis with tick labels and a title needs (see X_AXIS_ROOM)."""
    return math.ceil(X_AXIS_ROOM[0] + X_AXIS_ROOM[1] * size)


def nonfinite_parts(first_layer: int | None, last_layer: int, tr: Translate,
                    colour: str = "rgba(214,39,40,0.12)",
                    label_key: str = "chart.nonfinite_from") -> tuple[list[dict], list[dict]]:
    """(shapes, annotations) that shade the layers from the first non-finite one to the end,
    with a label at the top left of the shaded strip."""
    if first_layer is None:
        return [], []
    x0 = first_layer - 0.5
    shape = dict(type="rect", xref="x", x0=x0, x1=last_layer + 0.5, yref="y domain", y0=0, y1=1,
                 fillcolor=colour, line=dict(width=0))
    label = dict(text=tr(label_key, layer=first_layer), showarrow=False, xref="x", x=x0,
                 xanchor="left", yref="y domain", y=1, yanchor="top")
    return [shape], [label]


def mark_nonfinite(fig: go.Figure, first_layer: int | None, last_layer: int, tr: Translate,
                   colour: str = "rgba(214,39,40,0.12)",
                   label_key: str = "chart.nonfinite_from") -> None:
    """Shade the layers from the first non-finite one to the end, with a label."""
    shapes, labels = nonfinite_parts(first_layer, last_layer, tr, colour, label_key)
    for shape in shapes:
        fig.add_shape(shape)
    for label in labels:
        fig.add_annotation(label)


BAND_FILL = "rgba(44,160,44,0.07)"


def healthy_band_parts(tr: Translate) -> tuple[dict, dict]:
    """(shape, legend entry) of the gradient band on a log y axis: shaded under the data and
    named in the legend (a label inside the plot would lie under the data lines that cross it)."""
    shape = dict(type="rect", xref="x domain", x0=0, x1=1, yref="y", y0=HEALTHY_BAND[0],
                 y1=HEALTHY_BAND[1], fillcolor=BAND_FILL, line=dict(width=0), layer="below")
    entry = dict(type="scatter", x=[None], y=[None], mode="markers", name=tr("chart.healthy_band"),
                 marker=dict(symbol="square", size=14, color="rgba(44,160,44,0.3)"),
                 hoverinfo="skip", legendrank=2000)
    return shape, entry


def shade_healthy_band(fig: go.Figure, tr: Translate) -> None:
    """Shade the gradient band on the log y axis, named in the legend."""
    shape, entry = healthy_band_parts(tr)
    fig.add_shape(shape)
    fig.add_trace(entry)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def tick_text(value: float) -> str:
    """A log-axis tick label that reads as the number it is: 0.002, 50, 3×10⁻⁵, 10⁸."""
    exponent = math.floor(math.log10(value) + 1e-9)
    if -3 <= exponent <= 3:
        return f"{value:.4g}"
    mantissa = value / 10.0 ** exponent
    power = "10" + str(exponent).translate(_SUPERSCRIPT)
    return power if abs(mantissa - 1) < 1e-6 else f"{mantissa:.2g}×{power}"


#: Below this many decades Plotly labels log ticks with bare mantissas ("2 3 4 5 10⁻¹"), which
#: read as wrong numbers; there we give the ticks ourselves.
FEW_DECADES = 3.0


#: log10 of the largest float64.
FLOAT64_DECADES = math.log10(sys.float_info.max)


def log_axis(values: Iterable[float]) -> dict:
    """Tick settings for a log axis that shows ``values`` (non-positive and non-finite ignored):
    over more than FEW_DECADES, one labelled power of ten every ``dtick`` decades (at most ~8);
    below, explicit ticks at 1-2-5 (or 1…9 when those are too few) × 10^k labelled in full."""
    finite = np.asarray([v for v in values if v is not None], dtype=float)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if finite.size == 0:
        return dict(exponentformat="power")
    low, high = math.log10(finite.min()), math.log10(finite.max())
    span = high - low
    if span > FEW_DECADES:
        axis = dict(dtick=max(1, math.ceil(span / 8)), exponentformat="power", tickvals=None,
                    ticktext=None)
        if high > FLOAT64_DECADES - 10:
            # Autorange pads beyond the largest float64, where Plotly labels a tick
            # "Infinity−NaN": stop the axis there.
            axis["autorangeoptions"] = dict(maxallowed=FLOAT64_DECADES)
        return axis
    # Autorange pads the data by a few per cent: ticks a little beyond it may still show.
    pad = max(0.05 * span, 0.02)
    first, last = math.floor(low - pad), math.ceil(high + pad)
    for mantissas in ((1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [m * 10.0 ** e for e in range(first, last + 1) for m in mantissas
                 if low - pad <= math.log10(m * 10.0 ** e) <= high + pad]
        if len(ticks) >= 3:
            break
    if len(ticks) < 2:  # under a tenth of a decade: a few evenly spaced values, 3 digits
        ticks = [float(f"{v:.3g}") for v in np.geomspace(10 ** (low - pad), 10 ** (high + pad),
                                                          4)]
        return dict(tickvals=ticks, ticktext=[f"{v:.3g}" for v in ticks])
    return dict(tickvals=ticks, ticktext=[tick_text(v) for v in ticks])


def log_tick_labels(values: Iterable[float]) -> list[str]:
    """The tick labels a log axis set by ``log_axis(values)`` shows (for its margin): the
    explicit ones, or the powers of ten (10ᵏ) around the values' range."""
    values = list(values)
    axis = log_axis(values)
    if axis.get("ticktext"):
        return list(axis["ticktext"])
    finite = [v for v in values if v is not None and math.isfinite(v) and v > 0]
    if not finite:
        return ["1"]
    low = math.floor(math.log10(min(finite))) - 1
    high = min(math.ceil(math.log10(max(finite))) + 1, math.floor(FLOAT64_DECADES))
    return ["1" if k == 0 else "10" + str(k).translate(_SUPERSCRIPT) for k in range(low, high + 1)]


def trace_values(fig: go.Figure, axis: str = "y", axis_id: str = "y") -> list[float]:
    """Every number the traces of ``fig`` on axis ``axis_id`` plot along ``axis`` ("x"/"y")."""
    out: list[float] = []
    for trace in fig.data:
        if (getattr(trace, f"{axis}axis") or axis) != axis_id:
            continue
        values = getattr(trace, axis)
        if values is not None:
            out.extend(float(v) for v in values if v is not None)
    return out


def _y_tick_labels(fig: go.Figure) -> list[str]:
    """The y tick labels ``fig`` will show, near enough to size its left margin."""
    axis = fig.layout.yaxis
    if axis.ticktext:
        return list(axis.ticktext)
    values = trace_values(fig)
    if axis.type == "log":
        return log_tick_labels([*values, *HEALTHY_BAND])
    finite = [v for v in values if math.isfinite(v)]
    return [f"{v:g}" for v in (min(finite), max(finite))] if finite else []


def legend_room(names: Iterable[str], size: float) -> int:
    """The right margin a vertical legend of ``names`` beside the plot needs at font ``size``:
    the symbol, the widest name, the 2 % gap to the plot."""
    widest = max((text_width(name, size) for name in names), default=0.0)
    return math.ceil(40 + widest + 20)


def projector(fig: go.Figure, height: int | None = None) -> go.Figure:
    """The same figure for a projector: every text at least PROJECTOR_FONT px, the legend
    beside the plot (a projected screen is wide; a legend under it would cost height), the
    margins sized for the bigger text."""
    big = PROJECTOR_FONT
    heatmap = any(isinstance(trace, go.Heatmap) for trace in fig.data)
    legend = [trace.name for trace in fig.data
              if trace.name and trace.showlegend is not False and not heatmap]
    # A projected page is wide: the toolbar sits far right of the title, no room kept above it.
    panel_titles = HEATMAP_TITLE_ROOM * big / 12 if heatmap else 0
    margin = dict(t=math.ceil(big + 6 + 24 + panel_titles),
                  b=x_axis_room(big) + (HEATMAP_X_EXTRA if heatmap else 0),
                  l=y_axis_room(_y_tick_labels(fig), big))
    if heatmap:
        margin["r"] = math.ceil(COLORBAR_ROOM * big / 12)
    elif legend:
        margin["r"] = legend_room(legend, big)
    fig.update_layout(font=dict(size=big), title=dict(font_size=big + 6, pad_t=6),
                      margin=margin,
                      legend=dict(font=dict(size=big), orientation="v", yref="paper", y=1.0,
                                  yanchor="top", x=1.02, xanchor="left"),
                      hoverlabel=dict(font_size=big))
    if height is not None:
        fig.update_layout(height=height)
    fig.update_xaxes(tickfont_size=big, title_font_size=big)
    fig.update_yaxes(tickfont_size=big, title_font_size=big)
    for annotation in fig.layout.annotations:
        size = annotation.font.size if annotation.font and annotation.font.size else 0
        annotation.font.size = max(size, big)
    colour_bars = [trace.colorbar for trace in fig.data
                   if isinstance(trace, go.Heatmap) and trace.colorbar is not None]
    if fig.layout.coloraxis.colorbar is not None:
        colour_bars.append(fig.layout.coloraxis.colorbar)
    for colour_bar in colour_bars:
        colour_bar.tickfont = dict(size=big)
        colour_bar.title.font = dict(size=big)
    return fig


#: The variance chart's one story: the forward signal, the gradient and (dashed) their theory.
#: The other series are one click away (a control beside the chart adds them).
STORY_SERIES = ("act_var", "out_var", "grad_out_var")
MORE_SERIES = tuple(c for c, *_ in VARIANCE_SERIES if c not in STORY_SERIES)


#: The layer's output h (what the next layer receives) where it is not φ(z): the residual
#: stream h + s·branch, or φ(z) after dropout or a norm after φ.
OUT_SERIES = ("out_var", "#8c564b", "chart.series.out_var")


def residual_stream_trace(layers: pd.DataFrame, series: Sequence[str] | None,
                          tr: Translate) -> dict | None:
    """The layer output's variance where it differs from the activation's (the residual
    lessons are about it: the sum of the branches grows linearly), else None."""
    column, colour, key = OUT_SERIES
    if series is not None and column not in series:
        return None
    out, act = layers[column].to_numpy(), layers["act_var"].to_numpy()
    with np.errstate(invalid="ignore"):
        differs = np.abs(out - act) > 1e-6 * np.maximum(np.abs(act), 1e-30)
    if not bool(np.nan_to_num(differs).any()):
        return None
    return dict(type="scatter", x=layers["layer"].to_numpy(), y=positive(layers[column]),
                name=tr(key), mode="lines+markers", line=dict(color=colour, width=2.5),
                marker=dict(size=4), hovertemplate="%{y:.3e}")


def layer_ranges(layers: Sequence[int]) -> str:
    """[1, 2, 3, 7, 9, 10] → '1–3, 7, 9–10'."""
    runs: list[list[int]] = []
    for layer in sorted(layers):
        if runs and layer == runs[-1][1] + 1:
            runs[-1][1] = layer
        else:
            runs.append([layer, layer])
    return ", ".join(f"{a}–{b}" if b > a else f"{a}" for a, b in runs)


def zero_values_note(layers: pd.DataFrame, series: Sequence[str] | None,
                     first_nonfinite: int | None, tr: Translate) -> dict | None:
    """The annotation that says which series are exactly 0 where (None if none is) (a log axis draws nothing there, so an
    all-zero network would otherwise show an empty chart). Layers past an overflow are
    undefined, not zero: they are left out, and so is the gradient when anything overflowed."""
    # Grouped by quantity (pooled and per-unit share their zeros) and by the layers concerned.
    groups: dict[tuple[int, ...], list[str]] = {}
    shown = layers if first_nonfinite is None else layers[layers["layer"] < first_nonfinite]
    for column, quantity, _, _ in VARIANCE_SERIES:
        if (series is not None and column not in series) or \
                (column.startswith("grad") and first_nonfinite is not None):
            continue
        zero = tuple(shown.loc[shown[column] == 0, "layer"].astype(int))
        name = tr(f"chart.zero_values.{quantity}")
        if zero and name not in groups.setdefault(zero, []):
            groups[zero].append(name)
    items = [tr("chart.zero_values.every_layer" if len(zero) == len(layers)
                else "chart.zero_values.some_layers", series=tr("chart.zero_values.list_sep").join(names),
                layers=layer_ranges(zero))
             for zero, names in groups.items() if names]
    if not items:
        return None
    return dict(text=tr("chart.zero_values", items=tr("chart.zero_values.item_sep").join(items)),
                showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, xanchor="center",
                yanchor="middle", align="left", font=dict(size=13),
                bgcolor="rgba(255,255,255,0.85)")


def variance_vs_depth(stats: pd.DataFrame, tr: Translate, *, first_nonfinite: int | None = None,
                      theory: pd.DataFrame | None = None,
                      series: Sequence[str] = STORY_SERIES,
                      beyond_float64: int | None = None) -> go.Figure:
    """Variances per layer on a log axis, only the columns in ``series`` (the story by default):
    per-unit variants dotted, and dashed theory lines of those columns (columns pred_<column>
    of ``theory``, indexed by layer) under one legend entry. A short legend leaves the plot its
    height on a phone and on a projector. ``beyond_float64``: the first layer whose (finite)
    entries have a variance too large for float64, shaded and labelled since the lines stop
    there. Built as one dict, validated once by ``go.Figure`` (7× cheaper than adding trace
    after trace and updating the layout path by path)."""
    layers = stats[stats["layer"] >= 1]
    x = layers["layer"].to_numpy()
    traces: list[dict] = []
    for column, quantity, dash, key in VARIANCE_SERIES:
        if column not in series:
            continue
        story = column in STORY_SERIES
        traces.append(dict(
            type="scatter", x=x, y=positive(layers[column]), name=tr(key), mode="lines+markers",
            line=dict(color=COLOURS[quantity], dash=dash, width=2.5 if story else 1.5),
            marker=dict(size=5 if story else 4), hovertemplate="%{y:.3e}"))
    stream = residual_stream_trace(layers, series, tr)
    if stream is not None:
        traces.append(stream)
    if theory is not None:
        first = True
        for column in theory.columns:
            base = column.removeprefix("pred_")
            quantity = next((q for c, q, _, _ in VARIANCE_SERIES if c == base), None)
            if quantity is None or base not in series:
                continue
            # One legend entry for all theory lines: each is dashed in its series' colour.
            traces.append(dict(
                type="scatter", x=theory.index.to_numpy(), y=positive(theory[column]),
                mode="lines",
                name=tr("chart.series.theory_all") if first else
                tr("chart.series.theory", series=tr(f"chart.series.{base}")),
                legendgroup="theory", showlegend=first,
                line=dict(color=COLOURS[quantity], dash="dash", width=1.5),
                hovertemplate="%{y:.3e}"))
            first = False
    band, band_entry = healthy_band_parts(tr)
    traces.append(band_entry)
    last = int(layers["layer"].max())
    shapes, annotations = nonfinite_parts(first_nonfinite, last, tr)
    if first_nonfinite is None:
        shapes, annotations = nonfinite_parts(beyond_float64, last, tr,
                                              colour="rgba(255,127,14,0.12)",
                                              label_key="chart.beyond_float64_from")
    note = zero_values_note(layers, series, first_nonfinite, tr)
    plotted = [v for trace in traces for v in trace["y"] if v is not None]
    scale = [*plotted, *HEALTHY_BAND]
    layout = base_layout(tr("chart.variance.title"), tr("chart.layer"), tr("chart.variance.y"),
                         height=460, shapes=[band, *shapes],
                         annotations=annotations + ([note] if note else []),
                         margin=dict(l=y_axis_room(log_tick_labels(scale)),
                                     b=x_axis_room() + LEGEND_ROW),
                         yaxis=dict(type="log", **log_axis(scale)))
    return go.Figure(data=traces, layout=layout)


def bin_centres(hist: HistogramSet, scale: str, layer: int = 0) -> np.ndarray:
    """Std scale: bins in units of each layer's std around its mean (−4 … 4); shared: values."""
    bins = hist.counts.shape[1]
    if scale == "std":
        edges = np.linspace(-4.0, 4.0, bins + 1)
    else:
        edges = hist.edges(layer)
    return (edges[:-1] + edges[1:]) / 2


def _row_fractions(hist: HistogramSet, first_layer: int) -> np.ndarray:
    counts = hist.counts[first_layer:].astype(float)
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, counts / totals, np.nan)


#: The distributions figure: a panel's plot height side by side and stacked (a phone), and
#: the room between stacked panels for the upper one's x axis and the lower one's title.
HEATMAP_PANEL_HEIGHT = 260
HEATMAP_STACK_GAP = 110
#: Between side-by-side panels: the second one's layer labels are hidden (its rows are the
#: first one's layers), so only a sliver.
HEATMAP_SIDE_GAP = 0.06
#: A panel title's line above the plot, under the figure's title.
HEATMAP_TITLE_ROOM = 24
#: A horizontal colour bar under stacked panels: its title, bar and tick labels.
HEATMAP_HORIZONTAL_BAR_ROOM = 64


def distribution_heatmaps(panels: Sequence[tuple[HistogramSet, int, str]], scale: str,
                          tr: Translate, stacked: bool = False) -> go.Figure:
    """Layer × value maps of the share of entries in each bin, one panel per (histograms, first
    layer, panel title), in one figure on one colour scale (``layout.coloraxis``): side by side
    with one layer axis (a layer's activations and gradients on one row), or one above the
    other (``stacked``, for a phone). One figure rather than one per panel: a browser draws a
    changed chart afresh, and each chart costs it about 60 ms (bench/browser_latency.py)."""
    fractions = [_row_fractions(hist, first) for hist, first, _ in panels]
    finite = [f[np.isfinite(f)] for f in fractions]
    top = max((float(f.max()) for f in finite if f.size), default=1.0)
    x_title = tr("chart.heatmap.x_std") if scale == "std" else tr("chart.heatmap.x_shared")
    count = max(1, len(panels))
    last_layer = max((first + f.shape[0] - 1 for (_, first, _), f in zip(panels, fractions)),
                     default=0)
    first_layer = min((first for _, first, _ in panels), default=0)
    # Every panel shows the same layers, top to bottom, so rows line up across panels.
    layers_axis = dict(autorange=False, range=[last_layer + 0.5, first_layer - 0.5])
    if stacked:
        plot_height = count * HEATMAP_PANEL_HEIGHT + (count - 1) * HEATMAP_STACK_GAP
        step = (HEATMAP_PANEL_HEIGHT + HEATMAP_STACK_GAP) / plot_height
        size = HEATMAP_PANEL_HEIGHT / plot_height
        domains = [(1 - i * step - size, 1 - i * step) for i in range(count)]
    else:
        plot_height = HEATMAP_PANEL_HEIGHT
        width = (1 - HEATMAP_SIDE_GAP * (count - 1)) / count
        domains = [(i * (width + HEATMAP_SIDE_GAP), i * (width + HEATMAP_SIDE_GAP) + width)
                   for i in range(count)]
    traces, axes, titles = [], {}, []
    for index, ((hist, first, title), fraction) in enumerate(zip(panels, fractions)):
        suffix = "" if index == 0 else str(index + 1)
        traces.append(dict(
            type="heatmap", z=fraction, x=bin_centres(hist, scale, layer=first),
            y=np.arange(first, first + fraction.shape[0]), coloraxis="coloraxis",
            xaxis=f"x{suffix}", yaxis=f"y{suffix}",
            hovertemplate=f"{title}<br>" + tr("chart.layer")
            + " %{y}<br>%{x:.3g}<br>%{z:.1%}<extra></extra>"))
        low, high = domains[index]
        x_axis = dict(title=dict(text=x_title), anchor=f"y{suffix}")
        y_axis = dict(layers_axis, anchor=f"x{suffix}")
        if stacked or index == 0:
            y_axis["title"] = dict(text=tr("chart.layer"))
        else:  # beside the first panel: its rows are the first panel's layers
            y_axis["showticklabels"] = False
        (y_axis if stacked else x_axis)["domain"] = [low, high]
        axes[f"xaxis{suffix}"], axes[f"yaxis{suffix}"] = x_axis, y_axis
        titles.append(dict(text=f"<b>{title}</b>", showarrow=False, xref="paper",
                           x=0.0 if stacked else low, xanchor="left", yref="paper",
                           y=high if stacked else 1.0, yanchor="bottom"))
    colour_title = dict(text=tr("chart.heatmap.fraction"))
    margin = dict(l=y_axis_room([str(last_layer)]), r=COLORBAR_ROOM,
                  b=x_axis_room() + HEATMAP_X_EXTRA)
    if stacked:  # a phone's width is for the panels: the colour bar goes under them
        colour_bar = dict(title=dict(colour_title, side="right"), orientation="h",
                          thickness=14, x=0.0, xanchor="left", len=0.8, yref="container",
                          y=0.0, yanchor="bottom")
        margin.update(r=10, b=margin["b"] + HEATMAP_HORIZONTAL_BAR_ROOM)
    else:  # at the plot's right edge: the room it needs does not grow with the width
        colour_bar = dict(title=colour_title, x=1.0, xanchor="left", len=1.0)
    layout = base_layout(tr("chart.heatmap.title"), "", "", hovermode="closest",
                         annotations=titles, margin=margin,
                         coloraxis=dict(colorscale="Viridis", cmin=0, cmax=top,
                                        colorbar=colour_bar))
    # Room above the panels for their titles: base_layout's top margin holds the figure's.
    margin = layout["margin"]
    margin["t"] += HEATMAP_TITLE_ROOM
    layout["height"] = plot_height + margin["t"] + margin["b"]
    # The panels' own axes (xaxis, yaxis, xaxis2, …) replace base_layout's single pair.
    return go.Figure(data=traces, layout={**layout, **axes})


def layer_histograms(hist: HistogramSet, layers: Sequence[int], tr: Translate,
                     title: str) -> go.Figure:
    """Detailed histograms of chosen layers, each on its own value axis (exact values)."""
    layers = list(layers) or [0]
    fig = make_subplots(rows=1, cols=len(layers), subplot_titles=[
        tr("chart.layer_n", layer=layer) for layer in layers], horizontal_spacing=0.06)
    for col, layer in enumerate(layers, start=1):
        edges = hist.edges(layer)
        if not np.isfinite(edges).all():
            fig.add_annotation(text=tr("chart.no_finite_values"), showarrow=False,
                               xref=f"x{col} domain" if col > 1 else "x domain",
                               yref=f"y{col} domain" if col > 1 else "y domain", x=0.5, y=0.5)
            continue
        centres = (edges[:-1] + edges[1:]) / 2
        fig.add_trace(go.Bar(x=centres, y=hist.counts[layer], width=np.diff(edges),
                             marker_color=COLOURS["act"], showlegend=False,
                             hovertemplate="%{x:.3g}: %{y}<extra></extra>"), row=1, col=col)
    _base_layout(fig, title, "", "", height=300, hovermode="closest", bargap=0)
    fig.update_xaxes(exponentformat="e", nticks=5)
    return fig


def saturation_chart(stats: pd.DataFrame, tr: Translate) -> go.Figure:
    """Per-layer % of saturated activations, of zero activations and of dead units."""
    layers = stats[stats["layer"] >= 1]
    fig = go.Figure()
    for column, colour, key in (("act_saturated_frac", "saturated", "chart.series.saturated"),
                                ("act_zero_frac", "zero", "chart.series.zero"),
                                ("dead_unit_frac", "dead", "chart.series.dead")):
        values = layers[column]
        if values.isna().all():
            continue
        fig.add_trace(go.Scatter(x=layers["layer"], y=100 * values, name=tr(key),
                                 mode="lines+markers", line=dict(color=COLOURS[colour]),
                                 hovertemplate="%{y:.1f}%"))
    _base_layout(fig, tr("chart.saturation.title"), tr("chart.layer"), "%", height=320)
    fig.update_yaxes(range=[-2, 102])
    return fig
