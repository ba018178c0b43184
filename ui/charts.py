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


def _base_layout(fig: go.Figure, title: str, x_title: str, y_title: str, **more) -> go.Figure:
    layout = dict(title=dict(text=title, x=0.0, xanchor="left"), height=420,
                  margin=dict(l=10, r=10, t=60, b=10), legend=dict(orientation="h", y=-0.18),
                  hovermode="x unified")
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


def shade_healthy_band(fig: go.Figure, tr: Translate, col: int | None = None) -> None:
    """Shade the gradient band on a log y axis (of subplot ``col`` in a one-row figure), labelled
    under its top edge. The label is placed by hand: on log axes an annotation's y is log10."""
    where = {} if col is None else {"row": 1, "col": col}
    fig.add_hrect(y0=HEALTHY_BAND[0], y1=HEALTHY_BAND[1], fillcolor="rgba(44,160,44,0.07)",
                  line_width=0, layer="below", **where)
    suffix = "" if col in (None, 1) else str(col)
    fig.add_annotation(text=tr("chart.healthy_band"), showarrow=False, xref=f"x{suffix} domain",
                       x=1.0, xanchor="right", yref=f"y{suffix}",
                       y=math.log10(HEALTHY_BAND[1]), yanchor="top",
                       font=dict(size=10, color="#2ca02c"))


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
                      series: Sequence[str] | None = None,
                      beyond_float64: int | None = None) -> go.Figure:
    """Forward and backward variances per layer on a log axis; per-unit variants dotted;
    optional dashed theory lines (columns pred_<column> of ``theory``, indexed by layer).
    ``beyond_float64``: the first layer whose (finite) entries have a variance too large for
    float64, shaded and labelled since the lines stop there."""
    layers = stats[stats["layer"] >= 1]
    fig = go.Figure()
    shade_healthy_band(fig, tr)
    for column, quantity, dash, key in VARIANCE_SERIES:
        if series is not None and column not in series:
            continue
        fig.add_trace(go.Scatter(
            x=layers["layer"], y=positive(layers[column]), name=tr(key), mode="lines+markers",
            line=dict(color=COLOURS[quantity], dash=dash, width=2 if dash == "solid" else 1.5),
            marker=dict(size=4), hovertemplate="%{y:.3e}"))
    draw_residual_stream(fig, layers, series, tr)
    if theory is not None:
        first = True
        for column in theory.columns:
            base = column.removeprefix("pred_")
            quantity = next((q for c, q, _, _ in VARIANCE_SERIES if c == base), None)
            if quantity is None:
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
    mark_nonfinite(fig, first_nonfinite, int(layers["layer"].max()), tr)
    if first_nonfinite is None:
        mark_nonfinite(fig, beyond_float64, int(layers["layer"].max()), tr,
                       colour="rgba(255,127,14,0.12)", label_key="chart.beyond_float64_from")
    note_exact_zeros(fig, layers, series, first_nonfinite, tr)
    _base_layout(fig, tr("chart.variance.title"), tr("chart.layer"), tr("chart.variance.y"))
    fig.update_yaxes(type="log", exponentformat="power")
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
                          tr: Translate, title: str) -> go.Figure:
    """Layer × value maps of the share of entries in each bin, side by side in one figure (one
    Plotly chart draws faster than several). Each panel: (histograms, first layer, title)."""
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[p[2] for p in panels],
                        horizontal_spacing=0.08)
    fractions = [_row_fractions(hist, first) for hist, first, _ in panels]
    finite = [f[np.isfinite(f)] for f in fractions]
    top = max((float(f.max()) for f in finite if f.size), default=1.0)
    for col, ((hist, first_layer, _), fraction) in enumerate(zip(panels, fractions), start=1):
        fig.add_trace(go.Heatmap(
            z=fraction, x=bin_centres(hist, scale, layer=first_layer),
            y=np.arange(first_layer, first_layer + fraction.shape[0]), colorscale="Viridis",
            zmin=0, zmax=top, showscale=col == len(panels),
            colorbar=dict(title=dict(text=tr("chart.heatmap.fraction"))),
            hovertemplate=tr("chart.layer") + " %{y}<br>%{x:.3g}<br>%{z:.1%}<extra></extra>"),
            row=1, col=col)
    x_title = tr("chart.heatmap.x_std") if scale == "std" else tr("chart.heatmap.x_shared")
    _base_layout(fig, title, x_title, tr("chart.layer"), height=380, hovermode="closest")
    fig.update_yaxes(autorange="reversed")
    return fig


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
