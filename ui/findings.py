"""core.diagnose findings → sentences in the reader's language."""

from __future__ import annotations

import math
from typing import Callable

from core import Finding


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.2g}" if (value == 0 or 1e-3 <= abs(value) < 1e4) else f"{value:.1e}"


def finding_values(finding: Finding) -> dict[str, str]:
    """A finding's numbers as the catalogue texts show them (layer, ratio, per_layer, percent,
    backward)."""
    return dict(layer=finding.layer if finding.layer is not None else "—",
                ratio=_number(finding.ratio), per_layer=_number(finding.per_layer),
                percent=f"{100 * finding.fraction:.0f}" if finding.fraction is not None else "—",
                backward=_number(finding.extra.get("backward_ratio")),
                from_layer=finding.extra.get("from_layer") or "—")


def finding_sentence(finding: Finding, tr: Callable[..., str]) -> str:
    return tr(f"finding.{finding.code}", **finding_values(finding))


#: Findings that start at a layer of the forward pass, most telling first when tied.
FORWARD_CODES = ("symmetry", "saturation", "forward_vanishing", "forward_exploding",
                 "dead_units")
#: Backward findings name the highest layer past the limit (counted going back): used only when
#: nothing is wrong going forward.
BACKWARD_CODES = ("backward_overflow", "backward_variance_overflow", "backward_vanishing",
                  "backward_exploding")


def headline_layer(findings: list[Finding]) -> tuple[int | None, str | None]:
    """The first layer that overflowed (or whose variance left float64); else the lowest layer
    at which any forward finding (symmetry, saturation, vanishing or exploding signal, dead
    units) starts; else the layer of the first backward finding."""
    by_code = {f.code: f for f in findings if f.layer is not None}
    for code in ("forward_overflow", "forward_variance_overflow"):
        if code in by_code:
            return by_code[code].layer, code
    forward = [(by_code[c].layer, FORWARD_CODES.index(c), c) for c in FORWARD_CODES
               if c in by_code]
    if forward:
        layer, _, code = min(forward)
        return layer, code
    for code in BACKWARD_CODES:
        if code in by_code:
            return by_code[code].layer, code
    return None, None


#: Warnings that are a side note, not an alarm, when nothing else is wrong: a few ReLU units
#: switched off for the whole batch in an otherwise healthy network (ReLU + He) would otherwise
#: make the lesson that shows the fix read "broken".
SIDE_NOTE_CODES = ("dead_units",)


def is_side_note(finding: Finding, findings: list[Finding]) -> bool:
    return finding.code in SIDE_NOTE_CODES and not any(f.severity == "problem" for f in findings)


def alarms(findings: list[Finding]) -> list[Finding]:
    """The findings that are not side notes (what "first layer in trouble" speaks about)."""
    return [f for f in findings if not is_side_note(f, findings)]
