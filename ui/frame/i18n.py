"""One translation helper for every visible string.

Catalogues are JSON files ``ui/<package>/locales/<section>.<lang>.json``: the strings every page
shares beside this module (ui/frame/locales: common, classroom, lessons), each page's own in its
package (ui/train/locales/train.*.json, …). All sections of a language are merged into one flat
dict of dotted keys. ``translate`` is pure (tests and chart builders use
it); ``t`` reads the current language from the session.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Callable

LANGUAGES = {"en": "English", "zh": "简体中文"}
DEFAULT_LANGUAGE = "en"
#: The folder of ui's packages, each of which may hold a ``locales/`` folder of catalogues.
PACKAGES = Path(__file__).resolve().parents[1]
LANGUAGE_KEY = "ui.lang"


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted(PACKAGES.glob(f"*/locales/*.{lang}.json")):
        merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def translate(lang: str, key: str, **values: object) -> str:
    """The string for ``key`` in ``lang`` (English, then the key itself, if missing)."""
    text = catalogue(lang).get(key)
    if text is None:
        text = catalogue(DEFAULT_LANGUAGE).get(key, key)
    return text.format(**values) if values else text


def language_from_locale(locale: str | None) -> str:
    """'zh-CN', 'zh-Hans-TW', 'zh' → 'zh'; anything else → 'en'."""
    if locale and locale.lower().startswith("zh"):
        return "zh"
    return DEFAULT_LANGUAGE


def current_language() -> str:
    import streamlit as st

    lang = st.session_state.get(LANGUAGE_KEY, DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, **values: object) -> str:
    return translate(current_language(), key, **values)


def labels(prefix: str) -> Callable[[object], str]:
    """A format_func for options: ``prefix + value`` translated in the language of *this* run
    (Streamlit may call a format_func later, outside the run)."""
    lang = current_language()
    return lambda value: translate(lang, f"{prefix}{value}")
