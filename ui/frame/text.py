"""User-given text (a shared link is user input) shown as literal text, never as markup.

Streamlit renders messages as Markdown and Plotly renders a subset of HTML in titles and
legends: a link's value such as ``[click](http://…)`` or ``<a href=…>`` must not become a link.
"""

from __future__ import annotations

import math
import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:])")


_AUTOLINK = re.compile(r"(?i)(://|www\.|@)")
_ZERO_WIDTH_SPACE = "\u200b"


def markdown_literal(text: str) -> str:
    """Backslash-escape every character Markdown (and Streamlit's extensions) would act on, and
    break what GitHub-flavoured Markdown turns into links by itself (http://…, www.…, a@b)
    with an invisible zero-width space."""
    text = _AUTOLINK.sub(lambda m: m.group(1)[0] + _ZERO_WIDTH_SPACE + m.group(1)[1:], str(text))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def plotly_literal(text: str) -> str:
    """Plotly's text understands <b>, <a href>, <br> …: show angle brackets as look-alikes."""
    return str(text).replace("<", "‹").replace(">", "›")


def number(value: float, show_infinity: bool = False) -> str:
    """Three significant digits; "—" for NaN (and for ±inf unless ``show_infinity``: "∞")."""
    if math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞" if show_infinity else "—"
    return f"{value:.3g}"
