"""URL parameters of the Phase and Spectrum pages, and what a click on the phase map means.

``URL_PARAMS`` (name → (session key, default, parser, formatter)) is read by ui.frame.url_state, the
one module that touches the URL. Parsers raise only ValueError, whose text names the valid
values.

A click on the phase map gives a point (σ_w², σ_b²); ``config_for_point`` turns it into the
config the Explorer then shows: init="normal" with init_std = √(σ_w²/fan_in) (fan_in: the hidden
width, ``layer_widths[1]``) and bias_init="normal" with bias_std = √σ_b², clipped to
FIELD_SPECS' ranges and snapped to 3 significant digits so that the share link stays readable.
``point_from_selection`` reads the point out of Streamlit's Plotly selection payload; the chart's
on_select callback that applies it is ui.theory.click.apply_selection.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from core import FIELD_SPECS, NetworkConfig
from ui.frame.errors import InvalidChoice

METRIC_KEY = "phase.metric"
#: The phase map's colour: log χ1 or the correlation depth scale ξ_c.
METRICS = ("chi1", "xi_c")
CHART_KEY = "phase.chart"
#: The last point applied by a click (a dict, see ui.theory.click.apply_point) for the
#: confirmation.
APPLIED_KEY = "phase.applied"
SIGNIFICANT = 3


def parse_metric(text: str) -> str:
    if text not in METRICS:
        raise InvalidChoice(METRICS)
    return text


URL_PARAMS: dict[str, tuple] = {
    "phase_metric": (METRIC_KEY, "chi1", parse_metric, str),
}


def snap(value: float, digits: int = SIGNIFICANT) -> float:
    """``value`` rounded to ``digits`` significant digits (0 stays 0)."""
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.{digits}g}")


def _clip(field: str, value: float) -> float:
    spec = FIELD_SPECS[field]
    return min(max(value, spec.low), spec.high)


def reference_layer(config: NetworkConfig) -> int:
    """Index of the weight layer the phase map speaks of: the second (its fan-in is the hidden
    width), or the only one of a one-layer network."""
    return 1 if config.depth >= 2 else 0


def hidden_fan_in(config: NetworkConfig) -> int:
    """The fan-in of the reference layer (= width for a uniform net)."""
    return config.layer_widths[reference_layer(config)]


def config_for_point(config: NetworkConfig, sigma_w2: float, sigma_b2: float) -> NetworkConfig:
    """``config`` with normal weights and biases placed at (σ_w², σ_b²) for its hidden layers.
    Raises ValueError for a non-finite or negative point."""
    sigma_w2, sigma_b2 = float(sigma_w2), float(sigma_b2)
    if not (math.isfinite(sigma_w2) and math.isfinite(sigma_b2)) or sigma_w2 < 0 or sigma_b2 < 0:
        raise ValueError(f"not a point of the phase map: σ_w²={sigma_w2!r}, σ_b²={sigma_b2!r}")
    fan_in = hidden_fan_in(config)
    init_std = snap(_clip("init_std", math.sqrt(sigma_w2 / fan_in)))
    bias_std = snap(_clip("bias_std", math.sqrt(sigma_b2)))
    return config.replace(init="normal", init_std=init_std, bias_init="normal",
                          bias_std=bias_std)


def point_from_selection(payload: Any) -> tuple[float, float] | None:
    """(σ_w², σ_b²) of the first selected point of a Plotly selection payload
    (``{"selection": {"points": [{"x": …, "y": …}, …]}}``), or None when nothing usable is
    selected (a deselection, a box without points, garbage)."""
    try:
        points = payload["selection"]["points"]
    except (KeyError, TypeError, IndexError):
        return None
    if not points:
        return None
    point = points[0]
    try:
        x, y = float(point["x"]), float(point["y"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(x) and math.isfinite(y)) or x < 0 or y < 0:
        return None
    return x, y


def applied_matches(applied: Mapping | None, config: NetworkConfig) -> bool:
    """The remembered click still describes the config (no control moved since)."""
    return bool(applied) and config.init == "normal" and config.bias_init == "normal" \
        and config.init_std == applied.get("init_std") \
        and config.bias_std == applied.get("bias_std")
