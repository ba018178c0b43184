"""The share link: the only module that reads or writes ``st.query_params``.

One declarative table drives it (as tensorflow/playground's state.ts does): every
``NetworkConfig`` field (through core's codec) plus the ``EXTRAS`` below. On the first run of a
session the URL is decoded into ``st.session_state`` (the widgets' keys), with a problem noted for
every bad value; on every run the URL is rewritten from the session, defaults omitted, so the
address bar always holds the whole experiment.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Callable

import streamlit as st

from core import (FIELD_SPECS, ConfigError, NetworkConfig, QueryProblem, config_from_params,
                  params_from_pairs)
from core.query import MAX_FIELDS, config_to_params
from ui.compare import state as compare_state
from ui.explorer.charts import MORE_SERIES
from ui.frame.classroom import format_hide, parse_hide, public_link
from ui.frame.errors import InvalidChoice
from ui.frame.i18n import LANGUAGE_KEY, LANGUAGES, language_from_locale
from ui.poll import parse_code
from ui.presets import PRESETS, preset_config
from ui.theory import state as theory_state
from ui.train import state as train_state

CONFIG_PREFIX = "cfg."
PROBLEMS_KEY = "url.problems"
LOADED_KEY = "url.loaded"
LAST_GOOD_KEY = "url.last_good_config"
PRESENT_KEY = "ui.present"
HIDE_KEY = "ui.hide"
SERIES_KEY = "ui.series"
CLASS_KEY = "ui.class"
PREDICT_KEY = "ui.predict"
OPENED_KEY = "url.opened_config"
#: The Explorer's sections; only the chosen one is drawn, so a rerun stays cheap.
EXPLORER_SECTIONS = ("overview", "layers", "why", "table")


def config_key(field: str) -> str:
    """The session-state (and widget) key of a config field."""
    return CONFIG_PREFIX + field


def _choice(valid: Callable[[], tuple[str, ...]] | tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        choices = valid() if callable(valid) else valid
        if text not in choices:
            raise InvalidChoice(choices)
        return text
    return parse


def _choices(valid: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
    """A comma-separated subset of ``valid``, in ``valid``'s order."""
    def parse(text: str) -> tuple[str, ...]:
        names = {part.strip() for part in text.split(",") if part.strip()}
        if not names <= set(valid):
            raise InvalidChoice(valid)
        return tuple(name for name in valid if name in names)
    return parse


def _preset(text: str) -> str:
    """A lesson id, or "" (none chosen)."""
    if text and text not in PRESETS:
        raise InvalidChoice(tuple(PRESETS))
    return text


def _flag(text: str) -> bool:
    if text not in ("0", "1"):
        raise InvalidChoice(("0", "1"))
    return text == "1"


@dataclass(frozen=True)
class Extra:
    """A URL parameter that is not a config field: its session key, default and parser (which
    raises ValueError naming the valid values)."""

    session_key: str
    default: object
    parse: Callable[[str], object]
    format: Callable[[object], str] = str


EXTRAS: dict[str, Extra] = {
    "lang": Extra(LANGUAGE_KEY, None, _choice(tuple(LANGUAGES))),
    "preset": Extra("ui.preset", "", _preset),
    "theory": Extra("ui.theory", True, _flag, lambda v: "1" if v else "0"),
    "hist_scale": Extra("ui.hist_scale", "std", _choice(("std", "shared"))),
    "view": Extra("ui.section", "overview", _choice(EXPLORER_SECTIONS)),
    # Classroom: present mode for the projector, controls a teacher's link hides
    # (ui.frame.classroom).
    "present": Extra(PRESENT_KEY, False, _flag, lambda v: "1" if v else "0"),
    "hide": Extra(HIDE_KEY, (), parse_hide, format_hide),
    # The Explorer's variance chart: series drawn besides the story
    # (ui.explorer.charts.MORE_SERIES).
    "series": Extra(SERIES_KEY, (), _choices(MORE_SERIES), ",".join),
    # The live class poll (ui.poll): the class's code, and predict mode (each lesson's chart
    # covered until an answer is chosen).
    "class": Extra(CLASS_KEY, "", parse_code),
    "predict": Extra(PREDICT_KEY, False, _flag, lambda v: "1" if v else "0"),
    **{name: Extra(key, default, parse, fmt)
       for table in (compare_state.URL_PARAMS, theory_state.URL_PARAMS, train_state.URL_PARAMS)
       for name, (key, default, parse, fmt) in table.items()},
}


def _unknown(key: str, value: str) -> QueryProblem:
    """A key no table knows (a typo?), with the nearest known one if any is close."""
    near = difflib.get_close_matches(key, list(FIELD_SPECS) + list(EXTRAS), n=1, cutoff=0.6)
    return QueryProblem(key[:60], value[:60], near[0] if near else "", "unknown_key")


def _read_params() -> tuple[dict[str, str], list[QueryProblem]]:
    """The address's parameters, one value a key (the last), and what was wrong with them."""
    pairs = [(key, value) for key in st.query_params for value in st.query_params.get_all(key)]
    return params_from_pairs(pairs)


def load_once() -> bool:
    """Decode the URL into the session on the session's first run (then return True); later
    runs keep the session.

    A valid ``preset`` is the base the other config fields change (a lesson's link holds its
    id), and so is a Train lesson's ``trn_preset`` (of the network, the training and the
    set-ups); every value that cannot be used, every unknown key and every repeated key is
    noted for the page to warn about."""
    if st.session_state.get(LOADED_KEY):
        return False
    params, problems = _read_params()
    values = {}
    for name, extra in EXTRAS.items():
        value = extra.default
        if name in params:
            try:
                value = extra.parse(params[name])
            except InvalidChoice as error:
                problems.append(QueryProblem(name, params[name][:60], ", ".join(error.choices),
                                             "invalid_choice"))
            except ValueError as error:
                problems.append(QueryProblem(name, params[name][:60], str(error),
                                             "invalid_format"))
        if name == "lang" and value is None:
            value = language_from_locale(st.context.locale)
        values[extra.session_key] = value
    preset_id = values[EXTRAS["preset"].session_key]
    base = preset_config(preset_id) if preset_id else None
    lesson_id = values[EXTRAS["trn_preset"].session_key]
    if lesson_id:  # a Train lesson's link: the lesson is the base of what the link says
        base, lesson_values = train_state.lesson_link_values(lesson_id)
        values.update({key: value for name, (key, value) in lesson_values.items()
                       if name not in params})
    config, config_problems = config_from_params(params, base)
    problems = config_problems + problems + [
        _unknown(key, value) for key, value in params.items()
        if key not in FIELD_SPECS and key not in EXTRAS]
    set_config(config)
    st.session_state.update(values)
    st.session_state[PROBLEMS_KEY] = problems
    st.session_state[LAST_GOOD_KEY] = config
    st.session_state[OPENED_KEY] = config
    st.session_state[LOADED_KEY] = True
    return True


#: Runs in the browser: counts the fields of the address the page was loaded with (the
#: navigation entry keeps it even after the address is rewritten) and, past the limit, shows
#: the message in its own box.
_DROPPED_QUERY_SCRIPT = """
<div class="vl-dropped-query" style="display:none; padding:0.75rem 1rem; border-radius:0.5rem;
     background:rgba(255,189,69,0.2); color:rgb(146,108,5)"></div>
<script>
(() => {
  const entry = performance.getEntriesByType("navigation")[0];
  const search = new URL(entry ? entry.name : window.location.href).search.slice(1);
  const fields = search ? search.split("&").length : 0;
  if (fields <= LIMIT) return;
  for (const box of document.querySelectorAll(".vl-dropped-query")) {
    box.textContent = MESSAGE;
    box.style.display = "block";
  }
})();
</script>
"""


def check_dropped_query(message: str) -> None:
    """Streamlit drops a query of more than 1000 fields before the script runs (the app then
    sees no parameter, and no header holds the address): when a session opens with none,
    let the browser, which still has the address, say ``message`` if that happened."""
    if len(st.query_params):
        return
    script = (_DROPPED_QUERY_SCRIPT.replace("LIMIT", str(MAX_FIELDS))
              .replace("MESSAGE", json.dumps(message)))
    st.html(script, unsafe_allow_javascript=True)


def problems(config: NetworkConfig) -> list[QueryProblem]:
    """What was wrong with the link this session opened, while the reader has not changed the
    experiment since (then the warnings have done their job)."""
    if config != st.session_state.get(OPENED_KEY):
        st.session_state[PROBLEMS_KEY] = []
    return st.session_state.get(PROBLEMS_KEY, [])


def control_values() -> dict[str, object]:
    """Every config field's value as the controls hold it (defaults where never set)."""
    return {name: st.session_state.get(config_key(name), spec.default)
            for name, spec in FIELD_SPECS.items()}


def config_values(config: NetworkConfig) -> dict[str, object]:
    """``config`` in the form of control_values, to compare the two."""
    return {name: getattr(config, name) for name in FIELD_SPECS}


def controls_config() -> NetworkConfig:
    """The config the controls hold (``ConfigError`` if they combine into an invalid one)."""
    values = control_values()
    if values["widths"]:
        values.pop("depth")
        values.pop("width")
    return NetworkConfig(**values)


def session_config() -> tuple[NetworkConfig, ConfigError | None]:
    """The config the controls describe; if they combine into an invalid one (over the size
    budget), the last valid config and the error, so nothing over budget ever starts."""
    try:
        config = controls_config()
    except ConfigError as error:
        return st.session_state.get(LAST_GOOD_KEY, NetworkConfig()), error
    st.session_state[LAST_GOOD_KEY] = config
    return config, None


def set_config(config: NetworkConfig) -> None:
    """Put a config into the controls (takes effect on the next run's widgets); the widths text
    box and any error under it are redrawn from the new config."""
    for name in FIELD_SPECS:
        st.session_state[config_key(name)] = getattr(config, name)
    st.session_state.pop("ui.widths_text", None)
    st.session_state.pop("ui.widths_error", None)


def share_params(config: NetworkConfig, **overrides: object) -> dict[str, str]:
    """The link's parameters: the config's differences from the defaults, then every extra that
    differs from its default (``overrides``, by parameter name, replace the session's value)."""
    params = config_to_params(config)
    for name, extra in EXTRAS.items():
        value = overrides[name] if name in overrides else st.session_state.get(
            extra.session_key, extra.default)
        if isinstance(value, list):  # a multi-choice widget's value
            value = tuple(value)
        if name == "lang":
            # A link keeps the reader's language: it names one only when this person chose
            # another than their browser's, so a student's own browser decides otherwise.
            if value is not None and value != language_from_locale(st.context.locale):
                params[name] = extra.format(value)
        elif value != extra.default:
            params[name] = extra.format(value)
    return params


def sync(config: NetworkConfig) -> None:
    """Rewrite the address bar from the session when it differs (a repeated key counts as a
    difference: the address keeps one value a key)."""
    wanted = share_params(config)
    repeated = any(len(st.query_params.get_all(key)) > 1 for key in st.query_params)
    if repeated or st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def page_address() -> str:
    """The address the browser used for this page (no query), or the host a reverse proxy
    forwarded when the browser's is loopback (ui.classroom.public_link)."""
    try:
        headers = dict(st.context.headers or {})
    except Exception:  # no request behind this run (AppTest)
        headers = {}
    return public_link(st.context.url or "", headers)


def share_link(config: NetworkConfig, **overrides: object) -> str:
    from urllib.parse import urlencode

    base = page_address()
    return f"{base}?{urlencode(share_params(config, **overrides), safe=',')}"


__all__ = ["EXTRAS", "check_dropped_query", "config_key", "config_values", "control_values", "load_once", "problems",
           "session_config", "set_config", "share_link", "sync"]
