"""Set-ups, the machinery the Compare and Train pages share: each set-up is a *difference* from
a base (the sidebar's config, or the Train page's network and training), either a one-parameter
sweep (``Sweep``: one field, several values) or a list of freely edited differences (``Diff``),
their names, their text forms in a link and the set-up editor, and ``build_setups``, which gives
set-up ``i`` colour ``PALETTE[i]`` on every chart whether or not the set-ups before it could run.
Pure: no Streamlit here.

Text forms (a page's link parameters use them; each value is written and validated as in core's
codec):

``<field>:<v1>,<v2>,…``
    a sweep: one of the page's sweepable fields and 1 to ``max_setups`` values
    (``init_std:0.01,0.1,1``).
``<s1>;<s2>;…``
    edited set-ups, each a query string of its differences from the base
    (``init=normal&init_std=0.01``) or ``base`` for the base itself.
``<n1>;<n2>;…``
    custom names by position, each at most ``MAX_NAME_LENGTH`` characters; empty = automatic.

A page binds its own sweepable fields, field specs and set-up limit (``functools.partial``:
ui/compare/logic.py, ui/train/logic.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import parse_qsl, urlencode

from core import FIELD_SPECS, ConfigError, FieldSpec, NetworkConfig, SimulationResult
from core.query import format_value, parse_value
from ui.chart_style import PALETTE
from ui.frame.text import plotly_literal

Translate = Callable[..., str]

#: The most set-ups a page shows side by side (Compare's limit; a page may pass a smaller one:
#: the Train page allows 4).
MAX_SETUPS = 6
MAX_NAME_LENGTH = 40
#: Longer URL values are refused unread (a share link is user input).
MAX_TEXT_LENGTH = 4000

Diff = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Sweep:
    """One field and the values it takes, one set-up per value."""

    field: str
    values: tuple

    def diffs(self) -> tuple[Diff, ...]:
        return tuple(((self.field, value),) for value in self.values)


def _describe_sweep(fields: Sequence[str], max_setups: int) -> str:
    return (f"<field>:<v1>,<v2>,… with <field> one of {', '.join(fields)} and 1 to "
            f"{max_setups} values valid for it")


def parse_sweep(text: str, fields: Sequence[str],
                specs: Mapping[str, FieldSpec] = FIELD_SPECS,
                max_setups: int = MAX_SETUPS) -> Sweep:
    """'init_std:0.01,0.1,1' → Sweep; raises ValueError naming what is valid. A page passes
    its sweepable ``fields`` and, for fields beyond the network's, their ``specs``, and its
    set-up limit."""
    if len(text) > MAX_TEXT_LENGTH or ":" not in text:
        raise ValueError(_describe_sweep(fields, max_setups))
    field, _, rest = text.partition(":")
    field = field.strip()
    if field not in fields:
        raise ValueError(_describe_sweep(fields, max_setups))
    parts = [p for p in rest.split(",")]
    if not rest.strip() or len(parts) > max_setups:
        raise ValueError(_describe_sweep(fields, max_setups))
    spec = specs[field]
    values = []
    for part in parts:
        try:
            value = parse_value(spec, part)
        except ConfigError:
            raise ValueError(f"{field}:<values> with up to {max_setups} values, each "
                             f"{spec.describe()}") from None
        if value not in values:
            values.append(value)
    return Sweep(field, tuple(values))


class EmptySweep(ValueError):
    """The values widget holds no value."""


def sweep_from_widget(field: str, chosen: Any, parse: Callable[[str], Sweep]) -> Sweep:
    """The sweep the values widget describes: numbers typed as text (parsed by ``parse``, whose
    ValueError names what is valid) or the options chosen (EmptySweep when there are none)."""
    if isinstance(chosen, str):
        return parse(f"{field}:{chosen}")
    if not chosen:
        raise EmptySweep(field)
    return Sweep(field, tuple(chosen))


def format_sweep(sweep: Sweep, specs: Mapping[str, FieldSpec] = FIELD_SPECS) -> str:
    spec = specs[sweep.field]
    return sweep.field + ":" + ",".join(format_value(spec, v) for v in sweep.values)


def _describe_setups(detail: str = "", max_setups: int = MAX_SETUPS) -> str:
    text = (f"up to {max_setups} set-ups separated by ';', each 'base' or a query string of "
            f"config fields such as init=normal&init_std=0.01")
    return f"{text} ({detail})" if detail else text


def parse_diff(text: str, specs: Mapping[str, FieldSpec] = FIELD_SPECS) -> Diff:
    """'init=normal&init_std=0.01' (or 'base') → canonical diff in ``specs`` order."""
    text = text.strip()
    if text in ("", "base"):
        return ()
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True,
                          max_num_fields=len(specs))
    except ValueError:
        raise ValueError(_describe_setups()) from None
    values: dict[str, Any] = {}
    for name, raw in pairs:
        spec = specs.get(name)
        if spec is None:
            raise ValueError(_describe_setups(f"{name[:40]!r} is not a config field; the fields "
                                              f"are {', '.join(specs)}"))
        try:
            values[name] = parse_value(spec, raw)
        except ConfigError:
            raise ValueError(_describe_setups(f"{name} must be {spec.describe()}")) from None
    return tuple((name, values[name]) for name in specs if name in values)


def format_diff(diff: Diff, specs: Mapping[str, FieldSpec] = FIELD_SPECS) -> str:
    if not diff:
        return "base"
    return urlencode([(name, format_value(specs[name], value)) for name, value in diff],
                     safe=",")


def parse_setups(text: str, specs: Mapping[str, FieldSpec] = FIELD_SPECS,
                 max_setups: int = MAX_SETUPS) -> tuple[Diff, ...]:
    if len(text) > MAX_TEXT_LENGTH:
        raise ValueError(_describe_setups("too long", max_setups))
    if not text.strip():
        return ()
    parts = text.split(";")
    if len(parts) > max_setups:
        raise ValueError(_describe_setups(f"{len(parts)} given", max_setups))
    return tuple(parse_diff(part, specs) for part in parts)


def format_setups(setups: Sequence[Diff], specs: Mapping[str, FieldSpec] = FIELD_SPECS) -> str:
    return ";".join(format_diff(diff, specs) for diff in setups)


def parse_names(text: str, max_setups: int = MAX_SETUPS) -> tuple[str, ...]:
    """'a;b;;d' → ('a', 'b', '', 'd'); at most 6 names of at most 40 characters."""
    if len(text) > MAX_TEXT_LENGTH:
        raise ValueError(f"up to {max_setups} names separated by ';'")
    names = tuple(part.strip() for part in text.split(";")) if text.strip() else ()
    if len(names) > max_setups or any(len(n) > MAX_NAME_LENGTH for n in names):
        raise ValueError(f"up to {max_setups} names separated by ';', each at most "
                         f"{MAX_NAME_LENGTH} characters")
    while names and not names[-1]:
        names = names[:-1]
    return names


def format_names(names: Sequence[str]) -> str:
    return ";".join(names)


# --- set-ups -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Setup:
    """Set-up number ``index``: its name, colour, difference from the base and config (None,
    with ``error``, when the combination is invalid, e.g. over the size budget). The config is
    what the page's ``apply`` returns: a NetworkConfig on the Compare page, a network and
    training pair on the Train page."""

    index: int
    name: str
    colour: str
    diff: Diff
    config: Any
    error: ConfigError | None = None


@dataclass(frozen=True)
class Run:
    """A set-up that ran, and its result."""

    setup: Setup
    result: SimulationResult

    @property
    def name(self) -> str:
        return self.setup.name

    @property
    def colour(self) -> str:
        return self.setup.colour


def value_text(field: str, value: Any, tr: Translate,
               specs: Mapping[str, FieldSpec] = FIELD_SPECS) -> str:
    spec = specs[field]
    if spec.kind == "choice":
        return tr(f"choice.{field}.{value}")
    if spec.kind == "bool":
        return tr("compare.on") if value else tr("compare.off")
    if spec.kind == "float":
        return f"{value:g}"
    return format_value(spec, value)


def auto_name(diff: Diff, tr: Translate, specs: Mapping[str, FieldSpec] = FIELD_SPECS) -> str:
    """'Weight init = Xavier (Glorot) normal', several joined by ', '; the base alone: 'base'."""
    if not diff:
        return tr("compare.base_name")
    return ", ".join(f"{tr(f'field.{field}.label')} = {value_text(field, value, tr, specs)}"
                     for field, value in diff)


def apply_diff(base: NetworkConfig, diff: Diff) -> NetworkConfig:
    """The base with the differences; raises ConfigError. Setting depth or width clears the
    base's explicit widths (which would otherwise override them)."""
    changes = dict(diff)
    if ("depth" in changes or "width" in changes) and "widths" not in changes:
        changes["widths"] = ()
    return base.replace(**changes)


def build_setups(base: Any, diffs: Sequence[Diff], names: Sequence[str],
                 tr: Translate, *, apply: Callable[[Any, Diff], Any] = apply_diff,
                 specs: Mapping[str, FieldSpec] = FIELD_SPECS,
                 max_setups: int = MAX_SETUPS) -> list[Setup]:
    """At most ``max_setups`` set-ups, named (custom names win, duplicates get ' (2)'), coloured
    by position; invalid ones carry their error instead of a config. A page whose set-ups are
    not NetworkConfigs passes its own base, ``apply`` (base, diff → config, raising
    ConfigError) and field ``specs``."""
    setups: list[Setup] = []
    used: set[str] = set()
    for index, diff in enumerate(list(diffs)[:max_setups]):
        # Names reach Plotly legends and titles, which read HTML: keep them literal.
        name = plotly_literal(names[index]) if index < len(names) and names[index] else \
            auto_name(diff, tr, specs)
        unique, n = name, 2
        while unique in used:
            unique, n = f"{name} ({n})", n + 1
        used.add(unique)
        colour = PALETTE[index % len(PALETTE)]
        try:
            config, error = apply(base, diff), None
        except ConfigError as exc:
            config, error = None, exc
        setups.append(Setup(index, unique, colour, tuple(diff), config, error))
    return setups
