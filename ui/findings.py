"""core.diagnose findings → sentences in the reader's language."""

from __future__ import annotations

import math
from typing import Callable

from core import Finding


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.2g}" if (value == 0 or 1e-3 <= abs(value) < 1e4) else f"{value:.1e}"


def finding_sentence(finding: Finding, tr: Callable[..., str]) -> str:
    return tr(f"finding.{finding.code}", layer=finding.layer if finding.layer is not None else "—",
              ratio=_number(finding.ratio), per_layer=_number(finding.per_layer),
              percent=f"{100 * finding.fraction:.0f}" if finding.fraction is not None else "—",
              backward=_number(finding.extra.get("backward_ratio")),
              from_layer=finding.extra.get("from_layer") or "—")


def headline_layer(findings: list[Finding]) -> tuple[int | None, str | None]:
    """The first layer that overflowed, else the first that vanished or exploded."""
    order = ("forward_overflow", "forward_variance_overflow", "forward_vanishing",
             "forward_exploding", "backward_overflow", "backward_variance_overflow",
             "backward_vanishing", "backward_exploding")
    by_code = {f.code: f for f in findings}
    for code in order:
        if code in by_code and by_code[code].layer is not None:
            return by_code[code].layer, code
    return None, None
