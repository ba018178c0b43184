"""Chart builders of the Phase and Spectrum pages: arrays in, ``go.Figure`` out. No Streamlit.

Every builder takes ``tr`` (catalogue key → text) like ui.chart_style, so a figure is drawn in any
language and tests can pass a stub.

The phase map is a heatmap with an invisible scatter on top, one marker per grid cell: Plotly
heatmaps do not emit point selections in Streamlit, markers do, so a click on any cell selects
that cell's marker and its (x, y) is the (σ_w², σ_b²) the page applies.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import plotly.graph_objects as go

from ui.chart_style import apply_base_layout, log_axis, trace_values
from ui.frame.text import number

Translate = Callable[..., str]

#: Colour range of ln χ1 (χ1 from e⁻³ ≈ 0.05 to e³ ≈ 20) and of log10 ξ_c (0.1 to 1000 layers).
CHI1_LIMIT = 3.0
XI_RANGE = (-1.0, 3.0)
CHI1_TICKS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)
#: A singular value below this fraction of the largest is zero to machine precision.
ZERO_FRACTION = 1e-10
CLICK_TRACE = "cells"
COLOURS = {"line": "#111111", "marker": "#ffd400", "isometry": "#2ca02c",
           "rms": "#d62728", "histogram": "#1f77b4"}


def phase_colour(log_chi1: np.ndarray, xi_c: np.ndarray, metric: str) -> np.ndarray:
    """The heatmap's z: ln χ1 clipped to ±CHI1_LIMIT, or log10 ξ_c clipped to XI_RANGE (∞ on
    the critical line → the top; NaN, the chaotic side where ξ_c is not tabulated, stays NaN)."""
    with np.errstate(all="ignore"):
        if metric == "chi1":
            return np.clip(log_chi1, -CHI1_LIMIT, CHI1_LIMIT)
        z = np.log10(np.where(np.isinf(xi_c), 10.0 ** XI_RANGE[1], xi_c))
        return np.clip(z, *XI_RANGE)


def _colorbar(metric: str, tr: Translate) -> dict:
    if metric == "chi1":
        return dict(title=dict(text=tr("phase.colorbar.chi1")),
                    tickvals=[math.log(v) for v in CHI1_TICKS],
                    ticktext=[f"{v:g}" for v in CHI1_TICKS])
    ticks = list(range(int(XI_RANGE[0]), int(XI_RANGE[1]) + 1))
    text = [f"{10.0 ** k:g}" for k in ticks]
    text[-1] = "≥ " + text[-1]
    return dict(title=dict(text=tr("phase.colorbar.xi_c")), tickvals=ticks, ticktext=text)


def phase_figure(sigma_w2: np.ndarray, sigma_b2: np.ndarray, log_chi1: np.ndarray,
                 xi_c: np.ndarray, line_b2: np.ndarray, line_w2: np.ndarray, metric: str,
                 tr: Translate, *, title: str, marker: tuple[float, float] | None = None,
                 selected: tuple[float, float] | None = None) -> go.Figure:
    """The phase diagram over (σ_w², σ_b²): colour ``metric`` ("chi1" or "xi_c"), the critical
    line χ1 = 1, the ordered (left) and chaotic (right) sides labelled, the current config as a
    star (``marker``; None draws none) and a clickable invisible marker per cell."""
    sigma_w2, sigma_b2 = np.asarray(sigma_w2, float), np.asarray(sigma_b2, float)
    z = phase_colour(log_chi1, xi_c, metric)
    fig = go.Figure()
    heat = dict(x=sigma_w2, y=sigma_b2, z=z.astype(np.float32), hoverinfo="skip", colorbar=_colorbar(metric, tr),
                name=tr(f"phase.metric.{metric}"))
    if metric == "chi1":
        heat.update(colorscale="RdBu_r", zmid=0.0, zmin=-CHI1_LIMIT, zmax=CHI1_LIMIT)
    else:
        heat.update(colorscale="Viridis", zmin=XI_RANGE[0], zmax=XI_RANGE[1])
    fig.add_trace(go.Heatmap(**heat))

    fig.add_trace(go.Scatter(x=line_w2, y=line_b2, mode="lines", hoverinfo="skip",
                             line=dict(color=COLOURS["line"], width=3),
                             name=tr("phase.critical_line")))
    if marker is not None:
        fig.add_trace(go.Scatter(x=[marker[0]], y=[marker[1]], mode="markers", hoverinfo="skip",
                                 marker=dict(symbol="star", size=20, color=COLOURS["marker"],
                                             line=dict(color="#000000", width=1.5)),
                                 name=tr("phase.marker")))

    # The clickable layer: one invisible square per cell, last so that it is on top. Sent as
    # float32 (≈ 75 KiB for 60 × 60 cells instead of 250): the figure goes out on every rerun.
    xs, ys = np.meshgrid(sigma_w2, sigma_b2)
    with np.errstate(all="ignore"):
        chi = np.exp(np.asarray(log_chi1, float)).ravel().astype(np.float32)
    hover = f"σ_w² = %{{x:.3g}}<br>σ_b² = %{{y:.3g}}<br>χ1 = %{{customdata:.3g}}"
    extra = {}
    if metric == "xi_c":
        extra["text"] = [number(v, show_infinity=True) for v in np.asarray(xi_c, float).ravel()]
        hover += "<br>ξ_c = %{text}"
    fig.add_trace(go.Scatter(
        x=xs.ravel().astype(np.float32), y=ys.ravel().astype(np.float32), mode="markers",
        name=CLICK_TRACE, showlegend=False,
        marker=dict(symbol="square", size=11, color="#000000", opacity=0.0),
        selected=dict(marker=dict(opacity=0.0)), unselected=dict(marker=dict(opacity=0.0)),
        customdata=chi, hovertemplate=hover + f"<br>{tr('phase.hover_click')}<extra></extra>",
        **extra))

    # Opposite corners inside the map (ordered: small σ_w², bottom left; chaotic: top right):
    # side by side above it, the two labels overlapped on a phone.
    label = dict(xref="paper", yref="paper", showarrow=False, bgcolor="rgba(255,255,255,0.85)")
    fig.add_annotation(x=0.0, xanchor="left", y=0.0, yanchor="bottom",
                       text="← " + tr("phase.side.ordered"),
                       font=dict(size=13, color="#1f4e99"), **label)
    fig.add_annotation(x=1.0, xanchor="right", y=1.0, yanchor="top",
                       text=tr("phase.side.chaotic") + " →",
                       font=dict(size=13, color="#a31515"), **label)
    w_pad = (sigma_w2[-1] - sigma_w2[0]) / max(len(sigma_w2) - 1, 1) / 2
    b_pad = (sigma_b2[-1] - sigma_b2[0]) / max(len(sigma_b2) - 1, 1) / 2
    apply_base_layout(fig, title, tr("phase.axis.sigma_w2"), tr("phase.axis.sigma_b2"), height=560,
                      hovermode="closest", clickmode="event+select", dragmode=False)
    fig.update_xaxes(range=[sigma_w2[0] - w_pad, sigma_w2[-1] + w_pad])
    fig.update_yaxes(range=[sigma_b2[0] - b_pad, sigma_b2[-1] + b_pad])
    return fig


# ------------------------------------------------------------------------------------------
# Jacobian spectrum
# ------------------------------------------------------------------------------------------

def split_zeros(values: np.ndarray) -> tuple[np.ndarray, int]:
    """(the singular values a log axis can show, how many are zero to machine precision: at or
    below ZERO_FRACTION × the largest, or non-positive)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return values, 0
    largest = float(values.max())
    keep = values > max(largest * ZERO_FRACTION, 0.0)
    if largest <= 0:
        keep = np.zeros(values.shape, bool)
    return values[keep], int((~keep).sum())


def log_spread(values: np.ndarray) -> float:
    """Standard deviation of log10 s over the non-zero values (0: all equal)."""
    shown, _ = split_zeros(values)
    return float(np.std(np.log10(shown))) if shown.size else float("nan")


def log_bins(values: np.ndarray, bins: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """(bin edges, counts) on a log scale; at least one decade wide, centred on the values when
    they are (nearly) all equal."""
    logs = np.log10(values)
    lo, hi = float(logs.min()), float(logs.max())
    if hi - lo < 1.0:
        centre = 0.5 * (lo + hi)
        lo, hi = centre - 0.5, centre + 0.5
    pad = 0.02 * (hi - lo)
    edges = np.linspace(lo - pad, hi + pad, bins + 1)
    counts, _ = np.histogram(logs, bins=edges)
    return 10.0 ** edges, counts


def spectrum_figure(values: np.ndarray, mean_squared: float, tr: Translate, *,
                    title: str) -> go.Figure:
    """Histogram of the singular values on a log x axis (a step outline with fill, exact on a
    log axis where bars are not), with s = 1 (isometry) and the root mean square marked."""
    shown, _ = split_zeros(values)
    fig = go.Figure()
    if shown.size:
        edges, counts = log_bins(shown)
        x = np.repeat(edges, 2)[1:-1]
        y = np.repeat(counts, 2)
        x = np.concatenate([[edges[0]], x, [edges[-1]]])
        y = np.concatenate([[0], y, [0]])
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", fill="tozeroy", showlegend=False,
                                 line=dict(color=COLOURS["histogram"], width=1.5),
                                 name=tr("spectrum.series.count"),
                                 hovertemplate="s ≈ %{x:.3g}<br>%{y}<extra></extra>"))
        # The two reference lines are traces named in the legend: labels beside them at the
        # top would overlap whenever √(mean s²) is near 1.
        lines = [(1.0, "isometry", "dash")]
        if math.isfinite(mean_squared) and mean_squared > 0:
            lines.append((math.sqrt(mean_squared), "rms", "dot"))
        top = float(counts.max()) * 1.05 if counts.size else 1.0
        for at, name, dash in lines:
            fig.add_trace(go.Scatter(x=[at, at], y=[0, top], mode="lines", hoverinfo="skip",
                                     name=tr(f"spectrum.line.{name}"),
                                     line=dict(color=COLOURS[name], dash=dash, width=2)))
    else:
        fig.add_annotation(text=tr("spectrum.no_values"), showarrow=False, xref="paper",
                           yref="paper", x=0.5, y=0.5)
    apply_base_layout(fig, title, tr("spectrum.axis.s"), tr("spectrum.axis.count"))
    ticks = log_axis([*trace_values(fig, "x", "x"), 1.0]) if shown.size else {}
    fig.update_xaxes(type="log", **ticks)
    fig.update_yaxes(rangemode="tozero")
    return fig
