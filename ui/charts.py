"""Chart builders: statistics in, ``plotly.graph_objects.Figure`` out. No Streamlit here.

Every builder takes ``tr``, a function from a catalogue key to the text to show, so the same
figure is drawn in any language and tests can pass a stub.
"""

from __future__ import annotations

import math
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


def _base_layout(fig: go.Figure, title: str, x_title: str, y_title: str, **more) -> go.Figure:
    """Title under the toolbar's strip; legend horizontal at the figure's bottom edge, in
    container coordinates, so that Plotly widens the bottom margin for it instead of laying it
    over the x axis title at any width (the rows it needs depend on the width)."""
    title = wrap_title(title)
    # Plotly raises a title's first line by the height of the lines under it: keep them all
    # below the toolbar's strip.
    extra = TITLE_LINE * title.count("<br>")
    layout = dict(title=dict(text=title, x=0.0, xanchor="left", yref="container", y=1.0,
                             yanchor="top", pad=dict(t=TOOLBAR_ROOM + extra)),
                  height=420 + extra, margin=dict(l=10, r=10, t=TOOLBAR_ROOM + 44 + extra, b=10),
                  legend=dict(orientation="h", yref="container", y=0.0, yanchor="bottom",
                              x=0.0, xanchor="left", tracegroupgap=0),
                  hovermode="x unified")
    if "height" in more:
        more = {**more, "height": more["height"] + extra}
    fig.update_layout(**{**layout, **more})
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return fig


def mark_nonfinite(fig: go.Figure, first_layer: int | None, last_layer: int, tr: Translate,
                   colour: str = "rgba(214,39,40,0.12)",
                   label_key: str = "chart.nonfinite_from") -> None:
    """Shade the layers from the first non-finite one to the end, with a label."""
    if first_layer is None:
        return
    fig.add_vrect(x0=first_layer - 0.5, x1=last_layer + 0.5, fillcolor=colour, line_width=0,
                  annotation_text=tr(label_key, layer=first_layer),
                  annotation_position="top left")


BAND_FILL = "rgba(44,160,44,0.07)"


def shade_healthy_band(fig: go.Figure, tr: Translate) -> None:
    """Shade the gradient band on the log y axis, named in the legend (a label inside the plot
    would lie under the data lines that cross it)."""
    fig.add_hrect(y0=HEALTHY_BAND[0], y1=HEALTHY_BAND[1], fillcolor=BAND_FILL,
                  line_width=0, layer="below")
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=tr("chart.healthy_band"),
                             marker=dict(symbol="square", size=14, color="rgba(44,160,44,0.3)"),
                             hoverinfo="skip", legendrank=2000))


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
        return dict(dtick=max(1, math.ceil(span / 8)), exponentformat="power", tickvals=None,
                    ticktext=None)
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


def projector(fig: go.Figure, height: int | None = None) -> go.Figure:
    """The same figure for a projector: every text at least PROJECTOR_FONT px, the legend
    beside the plot (a projected screen is wide; a legend under it would cost height)."""
    big = PROJECTOR_FONT
    # A projected page is wide: the toolbar sits far right of the title, no room kept above it.
    fig.update_layout(font=dict(size=big), title=dict(font_size=big + 6, pad_t=6),
                      margin=dict(t=big + 6 + 24),
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
    for trace in fig.data:
        if isinstance(trace, go.Heatmap) and trace.colorbar is not None:
            trace.colorbar.tickfont = dict(size=big)
            trace.colorbar.title.font = dict(size=big)
    return fig


#: The variance chart's one story: the forward signal, the gradient and (dashed) their theory.
#: The other series are one click away (a control beside the chart adds them).
STORY_SERIES = ("act_var", "out_var", "grad_out_var")
MORE_SERIES = tuple(c for c, *_ in VARIANCE_SERIES if c not in STORY_SERIES)


#: The layer's output h (what the next layer receives) where it is not φ(z): the residual
#: stream h + s·branch, or φ(z) after dropout or a norm after φ.
OUT_SERIES = ("out_var", "#8c564b", "chart.series.out_var")


def draw_residual_stream(fig: go.Figure, layers: pd.DataFrame, series: Sequence[str] | None,
                         tr: Translate) -> None:
    """Add the layer output's variance when it differs from the activation's (the residual
    lessons are about it: the sum of the branches grows linearly)."""
    column, colour, key = OUT_SERIES
    if series is not None and column not in series:
        return
    out, act = layers[column].to_numpy(), layers["act_var"].to_numpy()
    with np.errstate(invalid="ignore"):
        differs = np.abs(out - act) > 1e-6 * np.maximum(np.abs(act), 1e-30)
    if not bool(np.nan_to_num(differs).any()):
        return
    fig.add_trace(go.Scatter(x=layers["layer"], y=positive(layers[column]), name=tr(key),
                             mode="lines+markers", line=dict(color=colour, width=2.5),
                             marker=dict(size=4), hovertemplate="%{y:.3e}"))


def layer_ranges(layers: Sequence[int]) -> str:
    """[1, 2, 3, 7, 9, 10] → '1–3, 7, 9–10'."""
    runs: list[list[int]] = []
    for layer in sorted(layers):
        if runs and layer == runs[-1][1] + 1:
            runs[-1][1] = layer
        else:
            runs.append([layer, layer])
    return ", ".join(f"{a}–{b}" if b > a else f"{a}" for a, b in runs)


def note_exact_zeros(fig: go.Figure, layers: pd.DataFrame, series: Sequence[str] | None,
                     first_nonfinite: int | None, tr: Translate) -> None:
    """Say on the chart which series are exactly 0 where (a log axis draws nothing there, so an
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
    if items:
        fig.add_annotation(text=tr("chart.zero_values", items=tr("chart.zero_values.item_sep").join(items)),
                           showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                           xanchor="center", yanchor="middle", align="left",
                           font=dict(size=13), bgcolor="rgba(255,255,255,0.85)")


def variance_vs_depth(stats: pd.DataFrame, tr: Translate, *, first_nonfinite: int | None = None,
                      theory: pd.DataFrame | None = None,
                      series: Sequence[str] = STORY_SERIES,
                      beyond_float64: int | None = None) -> go.Figure:
    """Variances per layer on a log axis, only the columns in ``series`` (the story by default):
    per-unit variants dotted, and dashed theory lines of those columns (columns pred_<column>
    of ``theory``, indexed by layer) under one legend entry. A short legend leaves the plot its
    height on a phone and on a projector. ``beyond_float64``: the first layer whose (finite)
    entries have a variance too large for float64, shaded and labelled since the lines stop
    there."""
    layers = stats[stats["layer"] >= 1]
    fig = go.Figure()
    for column, quantity, dash, key in VARIANCE_SERIES:
        if column not in series:
            continue
        story = column in STORY_SERIES
        fig.add_trace(go.Scatter(
            x=layers["layer"], y=positive(layers[column]), name=tr(key), mode="lines+markers",
            line=dict(color=COLOURS[quantity], dash=dash, width=2.5 if story else 1.5),
            marker=dict(size=5 if story else 4), hovertemplate="%{y:.3e}"))
    draw_residual_stream(fig, layers, series, tr)
    if theory is not None:
        first = True
        for column in theory.columns:
            base = column.removeprefix("pred_")
            quantity = next((q for c, q, _, _ in VARIANCE_SERIES if c == base), None)
            if quantity is None or base not in series:
                continue
            # One legend entry for all theory lines: each is dashed in its series' colour.
            fig.add_trace(go.Scatter(
                x=theory.index, y=positive(theory[column]), mode="lines",
                name=tr("chart.series.theory", series=tr(f"chart.series.{base}")),
                legendgroup="theory", showlegend=first,
                line=dict(color=COLOURS[quantity], dash="dash", width=1.5),
                hovertemplate="%{y:.3e}"))
            if first:
                fig.data[-1].update(name=tr("chart.series.theory_all"))
                first = False
    shade_healthy_band(fig, tr)
    mark_nonfinite(fig, first_nonfinite, int(layers["layer"].max()), tr)
    if first_nonfinite is None:
        mark_nonfinite(fig, beyond_float64, int(layers["layer"].max()), tr,
                       colour="rgba(255,127,14,0.12)", label_key="chart.beyond_float64_from")
    note_exact_zeros(fig, layers, series, first_nonfinite, tr)
    _base_layout(fig, tr("chart.variance.title"), tr("chart.layer"), tr("chart.variance.y"),
                 height=460)
    fig.update_yaxes(type="log", **log_axis([*trace_values(fig), *HEALTHY_BAND]))
    return fig


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


def distribution_heatmaps(panels: Sequence[tuple[HistogramSet, int, str]], scale: str,
                          tr: Translate) -> list[go.Figure]:
    """Layer × value maps of the share of entries in each bin, one figure per panel (the page
    puts them in columns, which a phone stacks), on one colour scale. Each panel: (histograms,
    first layer, title)."""
    fractions = [_row_fractions(hist, first) for hist, first, _ in panels]
    finite = [f[np.isfinite(f)] for f in fractions]
    top = max((float(f.max()) for f in finite if f.size), default=1.0)
    x_title = tr("chart.heatmap.x_std") if scale == "std" else tr("chart.heatmap.x_shared")
    figures = []
    for (hist, first_layer, title), fraction in zip(panels, fractions):
        fig = go.Figure(go.Heatmap(
            z=fraction, x=bin_centres(hist, scale, layer=first_layer),
            y=np.arange(first_layer, first_layer + fraction.shape[0]), colorscale="Viridis",
            zmin=0, zmax=top, colorbar=dict(title=dict(text=tr("chart.heatmap.fraction"))),
            hovertemplate=tr("chart.layer") + " %{y}<br>%{x:.3g}<br>%{z:.1%}<extra></extra>"))
        _base_layout(fig, title, x_title, tr("chart.layer"), height=380, hovermode="closest")
        fig.update_yaxes(autorange="reversed")
        figures.append(fig)
    return figures


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
