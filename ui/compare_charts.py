"""Chart builders of the Compare page: runs in, ``plotly.graph_objects.Figure`` out. No Streamlit.

Every set-up is drawn in its own colour (``Run.colour``, from ui.charts.PALETTE by position) on
every chart, with its name in the legend or the subplot title. ``tr`` translates catalogue keys.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.charts import Translate, _base_layout, positive, shade_healthy_band
from ui.compare import Run, layer_for

#: (column, catalogue key of the subplot title): forward then backward.
OVERLAY_SERIES = (("out_var", "compare.chart.forward"), ("grad_out_var", "compare.chart.backward"))


def variance_overlay(runs: Sequence[Run], tr: Translate, *,
                     theory: Mapping[str, pd.DataFrame] | None = None) -> go.Figure:
    """Forward (out_var) and backward (grad_out_var) variance versus layer, one line per
    set-up in its colour, log axes, the healthy band shaded, a dotted line where a set-up first
    overflowed.

    ``theory`` (optional, by set-up name): a DataFrame indexed by layer with columns
    ``pred_out_var`` and/or ``pred_grad_out_var``, drawn dashed in the set-up's colour.
    """
    fig = make_subplots(rows=1, cols=len(OVERLAY_SERIES), horizontal_spacing=0.08,
                        subplot_titles=[tr(key) for _, key in OVERLAY_SERIES])
    for run in runs:
        layers = run.result.layer_stats
        layers = layers[layers["layer"] >= 1]
        for col, (column, _) in enumerate(OVERLAY_SERIES, start=1):
            fig.add_trace(go.Scatter(
                x=layers["layer"], y=positive(layers[column]), name=run.name,
                legendgroup=run.name, showlegend=col == 1, mode="lines+markers",
                line=dict(color=run.colour, width=2), marker=dict(size=4),
                hovertemplate="%{y:.3e}"), row=1, col=col)
            predicted = (theory or {}).get(run.name)
            if predicted is not None and f"pred_{column}" in predicted.columns:
                fig.add_trace(go.Scatter(
                    x=predicted.index, y=positive(predicted[f"pred_{column}"]), mode="lines",
                    name=tr("chart.series.theory", series=run.name), legendgroup=run.name,
                    showlegend=False, line=dict(color=run.colour, dash="dash", width=1.5),
                    hovertemplate="%{y:.3e}"), row=1, col=col)
        first = run.result.first_nonfinite_layer
        if first is not None:
            fig.add_vline(x=first, line=dict(color=run.colour, dash="dot", width=1.5),
                          row=1, col=1)
    if runs:
        # The band is about gradients: the backward panel only.
        shade_healthy_band(fig, tr, col=2)
    _base_layout(fig, tr("compare.chart.variance_title"), tr("chart.layer"),
                 tr("chart.variance.y"), height=460)
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def histogram_grid(runs: Sequence[Run], layer: int | None, tr: Translate, *,
                   quantity: str = "act", scale: str = "std", columns: int = 3) -> go.Figure:
    """Small multiples: the chosen layer's histogram (default each set-up's last layer) per
    set-up, each on its own value axis, bars in the set-up's colour."""
    count = max(1, len(runs))
    cols = min(columns, count)
    rows = math.ceil(count / cols)
    titles = [f"{run.name} · {tr('chart.layer_n', layer=layer_for(run, layer))}" for run in runs]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles or None,
                        horizontal_spacing=0.05, vertical_spacing=0.18 if rows > 1 else 0.1)
    for position, run in enumerate(runs):
        row, col = divmod(position, cols)
        hist = run.result.histograms.get(quantity, scale)
        chosen = layer_for(run, layer)
        edges = hist.edges(chosen)
        if not np.isfinite(edges).all() or hist.counts[chosen].sum() == 0:
            axis = "" if position == 0 else str(position + 1)
            fig.add_annotation(text=tr("chart.no_finite_values"), showarrow=False,
                               xref=f"x{axis} domain", yref=f"y{axis} domain", x=0.5, y=0.5)
            continue
        centres = (edges[:-1] + edges[1:]) / 2
        fig.add_trace(go.Bar(x=centres, y=hist.counts[chosen], width=np.diff(edges),
                             marker_color=run.colour, name=run.name, showlegend=False,
                             hovertemplate="%{x:.3g}: %{y}<extra></extra>"),
                      row=row + 1, col=col + 1)
    _base_layout(fig, tr(f"compare.chart.histograms.{quantity}"), "", "",
                 height=260 * rows + 60, hovermode="closest", bargap=0)
    fig.update_xaxes(exponentformat="e", nticks=5)
    fig.update_annotations(font_size=12)
    return fig


def units_chart(runs: Sequence[Run], tr: Translate) -> go.Figure:
    """Per set-up, the worst layer's % of saturated activations and of dead units (grouped
    bars, one colour per set-up). A quantity an activation does not have is left out."""
    categories = [tr("compare.chart.saturated"), tr("compare.chart.dead")]
    fig = go.Figure()
    for run in runs:
        stats = run.result.layer_stats
        layers = stats[stats["layer"] >= 1]
        values = []
        for column in ("act_saturated_frac", "dead_unit_frac"):
            series = layers[column]
            values.append(float(100 * series.max()) if series.notna().any() else None)
        fig.add_trace(go.Bar(x=categories, y=values, name=run.name, marker_color=run.colour,
                             text=[f"{v:.0f}%" if v is not None else "—" for v in values],
                             textposition="outside", hovertemplate="%{y:.1f}%"))
    _base_layout(fig, tr("compare.chart.units_title"), "", "%", height=360,
                 hovermode="closest", barmode="group")
    fig.update_yaxes(range=[0, 110])
    return fig
