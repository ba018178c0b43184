"""User-given text (a shared link is user input) shown as literal text, never as markup.

Streamlit renders messages as Markdown and Plotly renders a subset of HTML in titles and
legends: a link's value such as ``[click](http://…)`` or ``<a href=…>`` must not become a link.
"""

from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:])")


def markdown_literal(text: str) -> str:
    """Backslash-escape every character Markdown (and Streamlit's extensions) would act on."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def plotly_literal(text: str) -> str:
    """Plotly's text understands <b>, <a href>, <br> …: show angle brackets as look-alikes."""
    return str(text).replace("<", "‹").replace(">", "›")
