"""NetworkConfig ⇄ query string: the share-link and command-line codec.

Only fields that differ from their default are written, in the table's order, so a link is as
short as the experiment allows and stays valid when new fields (with defaults) are added.
Decoding never raises on user input: each bad value is reported as a ``QueryProblem`` and that
field falls back to its default; keys that are not config fields are left to the caller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence
from urllib.parse import parse_qsl, urlencode

from .config import FIELD_SPECS, ConfigError, FieldSpec, NetworkConfig
from .train_config import TRAIN_FIELD_SPECS, TrainConfig, check_budget

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
#: Longer values are refused unread: a share link is user input.
MAX_VALUE_LENGTH = 2000
#: A query with more fields is refused whole (Streamlit's own limit for the address).
MAX_FIELDS = 1000


@dataclass(frozen=True)
class QueryProblem:
    """One value that could not be used: the field, what was given, and the reason in English;
    ``code``, ``amount`` and ``limit`` as in ConfigError, for saying it in other languages
    ("too_many_fields" when the query had more than 1000 fields; "repeated" when a key came
    ``amount`` times with different values and ``value`` is the last, the one used)."""

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


def _too_many(count: int) -> str:
    return f"The query has {count} fields, more than {MAX_FIELDS}; none of them is used."


def params_from_pairs(pairs: Sequence[tuple[str, str]]
                      ) -> tuple[dict[str, str], list[QueryProblem]]:
    """(key, value) pairs in query order → one value per key, the last (as browsers and
    Streamlit read a repeated key), with a "repeated" problem for each key given more than one
    different value; more than MAX_FIELDS pairs → none used, one "too_many_fields" problem."""
    if len(pairs) > MAX_FIELDS:
        shown = "&".join(f"{k}={v}" for k, v in pairs[:3])
        return {}, [QueryProblem("query", shown[:60], _too_many(len(pairs)), "too_many_fields",
                                 float(len(pairs)), float(MAX_FIELDS))]
    given: dict[str, list[str]] = {}
    for key, value in pairs:
        given.setdefault(key, []).append(value)
    problems = [QueryProblem(key, values[-1][:60],
                             f"{key} is given {len(values)} times; the last value, "
                             f"{values[-1][:60]!r}, is used.",
                             "repeated", float(len(values)))
                for key, values in given.items() if len(set(values)) > 1]
    return {key: values[-1] for key, values in given.items()}, problems


def config_from_params(params: Mapping[str, str],
                       base: NetworkConfig | None = None) -> tuple[NetworkConfig, list[QueryProblem]]:
    """Decode what it can; every unusable value is reported and replaced by the base's value.

    ``base`` (default: the defaults) supplies every field the params do not set. Unknown keys
    are ignored here. A combination over the size budget is reported and falls back to the
    base for the fields the error names, or, when it names none of the given ones (a base
    near the budget, pushed over by, say, dtype), for the last given field, until it fits.
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
            culprits = [f for f in error.fields if f in values] or _one_culprit(base, values)
            if not culprits:  # the base itself is invalid: cannot happen for a valid base
                raise
            shown = "&".join(f"{f}={format_value(FIELD_SPECS[f], values[f])}" for f in culprits)
            problems.append(QueryProblem(culprits[0], shown[:120], str(error), error.code,
                                         error.amount, error.limit))
            for name in culprits:
                values.pop(name)


def _one_culprit(base: NetworkConfig, values: dict[str, Any]) -> list[str]:
    def fits_without(name: str) -> bool:
        try:
            base.replace(**{k: v for k, v in values.items() if k != name})
        except ConfigError:
            return False
        return True

    return next(([name] for name in reversed(values) if fits_without(name)), list(values)[-1:])


def encode_query(config: NetworkConfig) -> str:
    """'depth=50&activation=relu…' (defaults omitted)."""
    return urlencode(config_to_params(config), safe=",")


def decode_query(query: str, base: NetworkConfig | None = None
                 ) -> tuple[NetworkConfig, list[QueryProblem]]:
    """The inverse of encode_query; a leading '?' is allowed. Later repeats of a key win (and
    are reported when they differ); keys that are not config fields are ignored."""
    text = query.lstrip("?")
    if text.count("&") + 1 > MAX_FIELDS:  # refused before parsing, however long
        return base or NetworkConfig(), [QueryProblem(
            "query", text[:60], _too_many(text.count("&") + 1), "too_many_fields",
            float(text.count("&") + 1), float(MAX_FIELDS))]
    params, problems = params_from_pairs(parse_qsl(text, keep_blank_values=True))
    config, more = config_from_params(params, base)
    return config, problems + more


# TrainConfig ⇄ query string ------------------------------------------------------------------
# A training link holds both configs. TrainConfig fields keep their names as keys, except those
# that NetworkConfig also has (batch_size, seed): they are written train_batch_size, train_seed.

TRAIN_QUERY_KEYS: dict[str, str] = {
    name: f"train_{name}" if name in FIELD_SPECS else name for name in TRAIN_FIELD_SPECS}
_TRAIN_FIELDS_BY_KEY = {key: name for name, key in TRAIN_QUERY_KEYS.items()}


def train_config_to_params(train_config: TrainConfig) -> dict[str, str]:
    """The TrainConfig fields that differ from their defaults, keyed as in a link, in order."""
    params = {}
    for name, spec in TRAIN_FIELD_SPECS.items():
        value = getattr(train_config, name)
        if value != spec.default:
            params[TRAIN_QUERY_KEYS[name]] = format_value(spec, value)
    return params


def train_config_from_params(params: Mapping[str, str], base: TrainConfig | None = None
                             ) -> tuple[TrainConfig, list[QueryProblem]]:
    """Decode the TrainConfig keys of ``params`` (others are ignored); every unusable value is
    reported (``field`` = its key in the link) and replaced by the base's value."""
    base = base or TrainConfig()
    problems: list[QueryProblem] = []
    values: dict[str, Any] = {}
    for key, raw in params.items():
        name = _TRAIN_FIELDS_BY_KEY.get(key)
        if name is None:
            continue
        try:
            values[name] = parse_value(TRAIN_FIELD_SPECS[name], str(raw))
        except ConfigError as error:
            problems.append(QueryProblem(key, str(raw)[:60], str(error)))
    while True:
        try:
            return base.replace(**values), problems
        except ConfigError as error:
            culprits = [f for f in error.fields if f in values]
            if not culprits:
                raise
            shown = "&".join(f"{TRAIN_QUERY_KEYS[f]}="
                             f"{format_value(TRAIN_FIELD_SPECS[f], values[f])}" for f in culprits)
            problems.append(QueryProblem(TRAIN_QUERY_KEYS[culprits[0]], shown[:120], str(error),
                                         error.code, error.amount, error.limit))
            for name in culprits:
                values.pop(name)


def encode_train_query(config: NetworkConfig, train_config: TrainConfig) -> str:
    """'depth=10&dataset=spiral&lr=0.1…': the network's then the training's non-defaults."""
    return urlencode({**config_to_params(config), **train_config_to_params(train_config)},
                     safe=",")


def decode_train_query(query: str, base: NetworkConfig | None = None,
                       train_base: TrainConfig | None = None
                       ) -> tuple[NetworkConfig, TrainConfig, list[QueryProblem]]:
    """The inverse of encode_train_query. A pair over the training budget (check_budget) is
    reported, and the link's values of the fields at fault fall back to the bases' (training
    fields first, then the network's)."""
    text = query.lstrip("?")
    if text.count("&") + 1 > MAX_FIELDS:  # refused before parsing, however long
        return base or NetworkConfig(), train_base or TrainConfig(), [QueryProblem(
            "query", text[:60], _too_many(text.count("&") + 1), "too_many_fields",
            float(text.count("&") + 1), float(MAX_FIELDS))]
    pairs, problems = params_from_pairs(parse_qsl(text, keep_blank_values=True))
    config, network_problems = config_from_params(pairs, base)
    train_config, train_problems = train_config_from_params(pairs, train_base)
    problems += network_problems + train_problems
    while True:
        try:
            check_budget(config, train_config)
            return config, train_config, problems
        except ConfigError as error:
            train_keys = [TRAIN_QUERY_KEYS[f] for f in error.fields
                          if f in TRAIN_FIELD_SPECS and TRAIN_QUERY_KEYS[f] in pairs]
            network_keys = [f for f in error.fields if f not in TRAIN_FIELD_SPECS and f in pairs]
            culprits = train_keys or network_keys
            if not culprits:  # the bases themselves are over: the defaults always fit
                problems.append(QueryProblem("query", text[:60], str(error), error.code,
                                             error.amount, error.limit))
                return NetworkConfig(), TrainConfig(), problems
            shown = "&".join(f"{key}={pairs[key]}" for key in culprits)
            problems.append(QueryProblem(culprits[0], shown[:120], str(error), error.code,
                                         error.amount, error.limit))
            for key in culprits:
                pairs.pop(key)
            if train_keys:
                train_config, _ = train_config_from_params(pairs, train_base)
            else:
                config, _ = config_from_params(pairs, base)
