"""diagnose(result): what went wrong (or right), as structured findings.

Each finding is a code, a severity, the first layer concerned and numbers; the UI turns codes
into sentences in any language. All thresholds are measured against the result, never assumed
from the config: zero init is reported as symmetry because every unit measured identical.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .simulate import SimulationResult

#: A signal that shrinks or grows by more than this factor from layer 1 to the last is
#: vanishing or exploding.
RATIO_LIMIT = 100.0
SATURATION_LIMIT = 0.5
DEAD_UNIT_LIMIT = 0.1
#: Units are 'identical' when their spread across a sample is below this fraction of E[a²].
SYMMETRY_TOLERANCE = 1e-10

CODES = ("forward_overflow", "backward_overflow", "forward_variance_overflow",
         "backward_variance_overflow", "forward_vanishing", "forward_exploding",
         "backward_vanishing", "backward_exploding", "saturation", "dead_units", "symmetry",
         "healthy")


@dataclass(frozen=True)
class Finding:
    """One diagnosis. ``layer``: first layer concerned. ``ratio``: the total factor (last/first
    for forward, first/last for backward). ``per_layer``: its geometric mean per layer."""

    code: str
    severity: str  # "problem", "warning" or "ok"
    layer: int | None = None
    ratio: float | None = None
    per_layer: float | None = None
    fraction: float | None = None
    extra: dict = field(default_factory=dict)


def _first_layer(mask: pd.Series) -> int | None:
    hits = mask.index[mask.fillna(False).astype(bool)]
    return int(hits[0]) if len(hits) else None


def _ratio(end: float, start: float) -> float:
    """end / start; +inf when end is beyond float64 (an +inf variance of finite entries)."""
    if not math.isfinite(start) or start <= 0 or math.isnan(end):
        return float("nan")
    if math.isinf(end):
        return end if end > 0 else float("nan")
    return end / start if end > 0 else 0.0


def _per_layer(ratio: float, steps: int) -> float:
    if steps <= 0 or not math.isfinite(ratio):
        return float("nan")
    return ratio ** (1.0 / steps) if ratio > 0 else 0.0


def forward_ratio(stats: pd.DataFrame) -> float:
    """out_var of the last layer over out_var of layer 1 (NaN once an entry is non-finite,
    +inf when the entries are finite but their variance is beyond float64)."""
    layers = stats[stats["layer"] >= 1]
    return _ratio(float(layers["out_var"].iloc[-1]), float(layers["out_var"].iloc[0]))


def backward_ratio(stats: pd.DataFrame) -> float:
    """grad_out_var at layer 1 over grad_out_var at the last layer: >1 grows going back
    (NaN and +inf as in forward_ratio)."""
    layers = stats[stats["layer"] >= 1]
    return _ratio(float(layers["grad_out_var"].iloc[0]), float(layers["grad_out_var"].iloc[-1]))


def _beyond_float64(variance: pd.Series, nonfinite_frac: pd.Series) -> pd.Series:
    """Layers whose entries are all finite but whose variance is not representable."""
    return np.isinf(variance) & (nonfinite_frac.fillna(1.0) == 0)


def _variance_overflow(code: str, variance: pd.Series, layer: int, start: int, end: int,
                       from_layer: int | None) -> Finding:
    """The variance leaves float64's range at ``layer``; its growth per layer is measured
    between ``start`` and ``end``, the representable layers."""
    ratio = _ratio(float(variance.loc[end]), float(variance.loc[start]))
    return Finding(code, "problem", layer, float("inf"), _per_layer(ratio, abs(end - start)),
                   extra={"from_layer": from_layer})


def diagnose(result: SimulationResult) -> list[Finding]:
    """Findings in order of importance; ``healthy`` alone when nothing is wrong."""
    stats = result.layer_stats.set_index("layer")
    layers = stats.loc[1:]
    depth = len(layers)
    findings: list[Finding] = []

    if result.first_nonfinite_layer is not None:
        findings.append(Finding("forward_overflow", "problem", result.first_nonfinite_layer))
    if result.first_nonfinite_grad_layer is not None:
        findings.append(Finding("backward_overflow", "problem", result.first_nonfinite_grad_layer))

    first_out = float(layers["out_var"].iloc[0])
    # Finite entries, variance beyond float64 (float64 runs only: float32 entries overflow
    # long before their squares leave float64).
    beyond = _first_layer(_beyond_float64(layers["out_var"], layers["nonfinite_frac"]))
    if depth > 1 and result.first_nonfinite_layer is None and first_out > 0:
        ratio = forward_ratio(result.layer_stats)
        relative = layers["out_var"] / first_out
        if beyond is not None and beyond > 1:
            findings.append(_variance_overflow(
                "forward_variance_overflow", layers["out_var"], beyond, 1, beyond - 1,
                _first_layer(relative > RATIO_LIMIT)))
        elif ratio < 1.0 / RATIO_LIMIT:
            findings.append(Finding("forward_vanishing", "problem",
                                    _first_layer(relative < 1.0 / RATIO_LIMIT), ratio,
                                    _per_layer(ratio, depth - 1)))
        elif ratio > RATIO_LIMIT:
            findings.append(Finding("forward_exploding", "problem",
                                    _first_layer(relative > RATIO_LIMIT), ratio,
                                    _per_layer(ratio, depth - 1)))

    last_grad = float(layers["grad_out_var"].iloc[-1])
    # Past a forward overflow the backward pass multiplies by undefined derivatives: no ratio.
    backward_meaningful = (result.first_nonfinite_grad_layer is None
                           and result.first_nonfinite_layer is None)
    if depth > 1 and backward_meaningful and last_grad > 0:
        ratio = backward_ratio(result.layer_stats)
        relative = layers["grad_out_var"] / last_grad
        # Going backwards: the first layer concerned is the highest index past the limit.
        beyond_hits = layers.index[_beyond_float64(layers["grad_out_var"],
                                                   layers["grad_nonfinite_frac"]).to_numpy()]
        exploding_hits = relative.index[(relative > RATIO_LIMIT).to_numpy()]
        if len(beyond_hits) and beyond_hits[-1] < depth:
            findings.append(_variance_overflow(
                "backward_variance_overflow", layers["grad_out_var"], int(beyond_hits[-1]),
                depth, int(beyond_hits[-1]) + 1,
                int(exploding_hits[-1]) if len(exploding_hits) else None))
        elif ratio < 1.0 / RATIO_LIMIT:
            hits = relative.index[(relative < 1.0 / RATIO_LIMIT).to_numpy()]
            findings.append(Finding("backward_vanishing", "problem",
                                    int(hits[-1]) if len(hits) else None, ratio,
                                    _per_layer(ratio, depth - 1)))
        elif ratio > RATIO_LIMIT:
            hits = relative.index[(relative > RATIO_LIMIT).to_numpy()]
            findings.append(Finding("backward_exploding", "problem",
                                    int(hits[-1]) if len(hits) else None, ratio,
                                    _per_layer(ratio, depth - 1)))

    saturated = layers["act_saturated_frac"]
    if saturated.notna().any() and float(saturated.max()) > SATURATION_LIMIT:
        findings.append(Finding("saturation", "warning", _first_layer(saturated > SATURATION_LIMIT),
                                fraction=float(saturated.max())))

    dead = layers["dead_unit_frac"]
    if dead.notna().any() and float(dead.max()) > DEAD_UNIT_LIMIT:
        findings.append(Finding("dead_units", "warning", _first_layer(dead > DEAD_UNIT_LIMIT),
                                fraction=float(dead.max())))

    across = layers["act_across_units_var"]
    scale = layers["act_mean_square"]
    identical = (across <= SYMMETRY_TOLERANCE * scale) & (layers["fan_out"] > 1) & np.isfinite(
        across)
    if bool(identical.any()):
        findings.append(Finding("symmetry", "problem", _first_layer(identical),
                                fraction=float(identical.mean())))

    if not findings:
        findings.append(Finding("healthy", "ok", ratio=forward_ratio(result.layer_stats),
                                extra={"backward_ratio": backward_ratio(result.layer_stats)}))
    return findings
