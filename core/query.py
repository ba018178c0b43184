"""NetworkConfig ⇄ query string: the share-link and command-line codec.

Only fields that differ from their default are written, in the table's order, so a link is as
short as the experiment allows and stays valid when new fields (with defaults) are added.
Decoding never raises on user input: each bad value is reported as a ``QueryProblem`` and that
field falls back to its default; keys that are not config fields are left to the caller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlencode

from .config import FIELD_SPECS, ConfigError, FieldSpec, NetworkConfig

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
#: Longer values are refused unread: a share link is user input.
MAX_VALUE_LENGTH = 2000


@dataclass(frozen=True)
class QueryProblem:
    """One value that could not be used: the field, what was given, and the reason in English;
    ``code``, ``amount`` and ``limit`` as in ConfigError, for saying it in other languages
    ("too_many_fields" when the query had more than 1000 fields)."""

    field: str
    value: str
    message: str
    code: str = "invalid"
    amount: float | None = None
    limit: float | None = None


def format_value(spec: FieldSpec, value: Any) -> str:
    if spec.kind == "bool":
        return "true" if value else "false"
    if spec.kind == "ints":
        return ",".join(str(v) for v in value)
    if spec.kind == "float":
        return repr(float(value)) if not float(value).is_integer() else str(int(value))
    return str(value)


def parse_value(spec: FieldSpec, text: str) -> Any:
    """Text → canonical value of the field; raises ConfigError with the valid range."""
    text = text.strip()
    if len(text) > MAX_VALUE_LENGTH:
        raise ConfigError(f"{spec.name} is too long: {spec.name} must be {spec.describe()}.",
                          (spec.name,), value=text[:60] + "…")
    try:
        if spec.kind == "bool":
            lowered = text.lower()
            if lowered not in _TRUE | _FALSE:
                raise ValueError
            value: Any = lowered in _TRUE
        elif spec.kind == "ints":
            value = tuple(int(part) for part in text.split(",")) if text else ()
        elif spec.kind == "int":
            number = float(text)
            if not math.isfinite(number) or number != int(number):
                raise ValueError
            value = int(number)
        elif spec.kind == "float":
            value = float(text)
        else:
            value = text
    except (ValueError, OverflowError):
        shown = text[:60]
        raise ConfigError(f"{spec.name}={shown!r} is invalid: {spec.name} must be "
                          f"{spec.describe()}.", (spec.name,), value=repr(shown)) from None
    return spec.check(value)


def config_to_params(config: NetworkConfig) -> dict[str, str]:
    """The fields that differ from their defaults, as strings, in table order."""
    params = {}
    for name, spec in FIELD_SPECS.items():
        value = getattr(config, name)
        if name in ("depth", "width") and config.widths:
            continue  # implied by widths
        if value != spec.default:
            params[name] = format_value(spec, value)
    return params


def config_from_params(params: Mapping[str, str],
                       base: NetworkConfig | None = None) -> tuple[NetworkConfig, list[QueryProblem]]:
    """Decode what it can; every unusable value is reported and replaced by the base's value.

    ``base`` (default: the defaults) supplies every field the params do not set. Unknown keys
    are ignored here. A combination over the size budget reports its size fields and falls back
    to the base for those.
    """
    base = base or NetworkConfig()
    problems: list[QueryProblem] = []
    values: dict[str, Any] = {}
    for name, raw in params.items():
        spec = FIELD_SPECS.get(name)
        if spec is None:
            continue
        try:
            values[name] = parse_value(spec, str(raw))
        except ConfigError as error:
            problems.append(QueryProblem(name, str(raw)[:60], str(error)))
    if values.get("widths"):
        values.pop("depth", None)
    while True:
        try:
            return base.replace(**values), problems
        except ConfigError as error:
            culprits = [f for f in error.fields if f in values]
            if not culprits:  # the base itself is invalid: cannot happen for a valid base
                raise
            shown = "&".join(f"{f}={format_value(FIELD_SPECS[f], values[f])}" for f in culprits)
            problems.append(QueryProblem(culprits[0], shown[:120], str(error), error.code,
                                         error.amount, error.limit))
            for name in culprits:
                values.pop(name)


def encode_query(config: NetworkConfig) -> str:
    """'depth=50&activation=relu…' (defaults omitted)."""
    return urlencode(config_to_params(config), safe=",")


def decode_query(query: str, base: NetworkConfig | None = None
                 ) -> tuple[NetworkConfig, list[QueryProblem]]:
    """The inverse of encode_query; a leading '?' is allowed. Later repeats of a key win."""
    try:
        pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True, max_num_fields=1000)
    except ValueError as error:  # more than 1000 fields
        return base or NetworkConfig(), [QueryProblem("query", query[:60], str(error),
                                                      "too_many_fields")]
    return config_from_params(dict(pairs), base)
