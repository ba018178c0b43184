"""User-given text stays text."""

import re

from ui.frame.text import markdown_literal, plotly_literal


def shown(markdown: str) -> str:
    """What CommonMark displays for backslash escapes."""
    return re.sub(r"\\(.)", r"\1", markdown)


def test_markdown_links_emphasis_and_html_are_escaped():
    text = "activation='[click](http://example.com) **bold** <b>x</b> `code` $x$'"
    escaped = markdown_literal(text)
    assert "[click](" not in escaped and "**" not in escaped and "<b>" not in escaped
    assert shown(escaped).replace("\u200b", "") == text


def test_bare_urls_do_not_become_links():
    for text in ("see http://example.com", "www.example.com", "a@example.com"):
        escaped = markdown_literal(text)
        assert "://" not in escaped and "www" not in escaped and "@e" not in escaped
        assert shown(escaped).replace("\u200b", "") == text


def test_plotly_text_loses_its_tags():
    assert plotly_literal('<a href="http://x">y</a>') == '‹a href="http://x"›y‹/a›'
