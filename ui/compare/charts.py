"""Chart builders of the Compare page: runs in, ``plotly.graph_objects.Figure`` out. No Streamlit.

Every set-up is drawn in its own colour (``Run.colour``, from ui.chart_style.PALETTE by position) on
every chart, with its name in the legend or the subplot title. ``tr`` translates catalogue keys.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ui.chart_style import (HEALTHY_BAND, Translate, apply_base_layout, log_axis, positive,
                            shade_healthy_band, trace_values)
from ui.compare.logic import layer_for
from ui.setups import Run

#: (column, catalogue key of the subplot title): forward then backward.
OVERLAY_SERIES = (("out_var", "compare.chart.forward"), ("grad_out_var", "compare.chart.backward"))


def variance_overlay(runs: Sequence[Run], tr: Translate, *,
                     theory: Mapping[str, pd.DataFrame] | None = None,
                     column: str = "out_var") -> go.Figure:
    """One panel of the overlay: the forward (``column="out_var"``) or backward
    (``"grad_out_var"``) variance versus layer, one line per set-up in its colour, a log axis,
    a dotted line where a set-up first overflowed; the healthy band on the backward panel. The
    page draws the two panels in columns (side by side; stacked on a phone).

    ``theory`` (optional, by set-up name): a DataFrame indexed by layer with columns
    ``pred_out_var`` and/or ``pred_grad_out_var``, drawn dashed in the set-up's colour.
    """
    title_key = dict(OVERLAY_SERIES)[column]
    fig = go.Figure()
    for run in runs:
        layers = run.result.layer_stats
        layers = layers[layers["layer"] >= 1]
        fig.add_trace(go.Scatter(
            x=layers["layer"], y=positive(layers[column]), name=run.name,
            legendgroup=run.name, mode="lines+markers",
            line=dict(color=run.colour, width=2), marker=dict(size=4),
            hovertemplate="%{y:.3e}"))
        predicted = (theory or {}).get(run.name)
        if predicted is not None and f"pred_{column}" in predicted.columns:
            fig.add_trace(go.Scatter(
                x=predicted.index, y=positive(predicted[f"pred_{column}"]), mode="lines",
                name=tr("chart.series.theory", series=run.name), legendgroup=run.name,
                showlegend=False, line=dict(color=run.colour, dash="dash", width=1.5),
                hovertemplate="%{y:.3e}"))
        first = run.result.first_nonfinite_layer
        if first is not None:
            fig.add_vline(x=first, line=dict(color=run.colour, dash="dot", width=1.5))
    if runs and column == "grad_out_var":
        # The band is about gradients: the backward panel only.
        shade_healthy_band(fig, tr)
    apply_base_layout(fig, tr(title_key), tr("chart.layer"), tr("chart.variance.y"), height=440)
    values = trace_values(fig)
    if column == "grad_out_var" and runs:
        values += list(HEALTHY_BAND)
    fig.update_yaxes(type="log", **log_axis(values))
    return fig


def histogram_grid(runs: Sequence[Run], layer: int | None, tr: Translate, *,
                   quantity: str = "act", scale: str = "std") -> list[go.Figure]:
    """Small multiples, one figure per set-up (the page lays them out in columns, which a phone
    stacks): the chosen layer's histogram (default each set-up's last layer) on its own value
    axis, bars in the set-up's colour, titled with the set-up's name and the layer."""
    figures = []
    for run in runs:
        hist = run.result.histograms.get(quantity, scale)
        chosen = layer_for(run, layer)
        fig = go.Figure()
        edges = hist.edges(chosen)
        if not np.isfinite(edges).all() or hist.counts[chosen].sum() == 0:
            fig.add_annotation(text=tr("chart.no_finite_values"), showarrow=False,
                               xref="x domain", yref="y domain", x=0.5, y=0.5)
        else:
            centres = (edges[:-1] + edges[1:]) / 2
            fig.add_trace(go.Bar(x=centres, y=hist.counts[chosen], width=np.diff(edges),
                                 marker_color=run.colour, name=run.name, showlegend=False,
                                 hovertemplate="%{x:.3g}: %{y}<extra></extra>"))
        title = f"{run.name} · {tr('chart.layer_n', layer=chosen)}"
        apply_base_layout(fig, title, "", "", height=260, hovermode="closest", bargap=0)
        fig.update_layout(title_font_size=14)
        fig.update_xaxes(exponentformat="e", nticks=5)
        figures.append(fig)
    return figures


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
    apply_base_layout(fig, tr("compare.chart.units_title"), "", "%", height=360,
                      hovermode="closest", barmode="group")
    fig.update_yaxes(range=[0, 110])
    return fig
