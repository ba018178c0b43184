"""Chart styling every page's charts share: the palette, the layout a figure starts from, log
axes that read as numbers, the healthy gradient band. No Streamlit here.

Chart builders live in their page's package (ui/<page>/charts.py) and start from
``base_layout`` (a layout dict, for ``go.Figure(data, layout)``) or ``apply_base_layout`` (a
figure built trace by trace); every builder takes ``tr``, a function from a catalogue key to the
text to show, so the same figure is drawn in any language and tests can pass a stub.
"""

from __future__ import annotations

import math
import sys
from typing import Callable, Iterable

import numpy as np
import plotly.graph_objects as go

Translate = Callable[..., str]

#: The seed notes' healthy band for gradient variances.
HEALTHY_BAND = (1e-6, 1e3)
#: Distinct colours for set-ups compared side by side.
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf")


def positive(values: Iterable[float]) -> list[float | None]:
    """Values a log axis can show; zero, negative and non-finite become gaps."""
    return [float(v) if np.isfinite(v) and v > 0 else None for v in values]


#: Room above a chart's title for Plotly's toolbar (it appears over the top right of a chart
#: and, on a phone, would cover a title that starts under it).
TOOLBAR_ROOM = 34
#: The height of one more line of a (wrapped) title.
TITLE_LINE = 22


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
    shared by every session (ui.serving.figures.shared_figure) gives the dict it made the first
    time. Changing it afterwards is not seen by ``to_dict``."""

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


def apply_base_layout(fig: go.Figure, title: str, x_title: str, y_title: str,
                      **more) -> go.Figure:
    """``base_layout`` applied to a figure built trace by trace, its axis titles on every
    subplot."""
    layout = base_layout(title, x_title, y_title, **more)
    x_axis, y_axis = layout.pop("xaxis"), layout.pop("yaxis")
    fig.update_layout(**layout)
    fig.update_xaxes(x_axis)
    fig.update_yaxes(y_axis)
    return fig


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


#: The camera button's PNG: 1920×1080 pixels, laid out at half that size and drawn at scale 2,
#: so every text is twice its on-screen size (≥ 24 px: readable on a projected slide). The PNG
#: is drawn from the chart's SVG as an image, where the page's web font is missing: the
#: fallback font is wider than the one Plotly measured, so the legend's last entry can lose its
#: last characters (seen in Chromium, at any export size).
EXPORT_SIZE = (1920, 1080)
EXPORT_SCALE = 2


def export_name(text: str) -> str:
    """A file name for a chart's PNG: the lesson's (or page's) name, letters, digits and CJK
    kept, everything else a dash."""
    import re

    name = re.sub(r"[^\w\u2e80-\u9fff]+", "-", str(text)).strip("-")
    return (name or "variance-lab")[:80]


def export_config(name: str) -> dict:
    """The ``config=`` of st.plotly_chart: the camera button saves a 1920×1080 PNG named after
    ``name`` (Plotly's toImageButtonOptions; no logo link in the toolbar)."""
    width, height = EXPORT_SIZE
    return {"toImageButtonOptions": {"format": "png", "filename": export_name(name),
                                     "width": round(width / EXPORT_SCALE),
                                     "height": round(height / EXPORT_SCALE),
                                     "scale": EXPORT_SCALE},
            "displaylogo": False}


#: Projector text: ticks, legends and annotations at least this many pixels.
PROJECTOR_FONT = 18

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
