"""URL parameters and session keys of the Train page: name → (session key, default, parser,
formatter).

Read by ui.frame.url_state, the one module that touches the URL. Every TrainConfig field is a
parameter named as in core's codec (``lr``, ``train_batch_size``; session key
``train.cfg.<field>``); the set-ups, names, preset and the
activation step follow ui.train.logic's formats. Parsers raise only ValueError naming the valid
values.
``session_training`` combines the fields (which may be invalid together, e.g. a batch larger than
the training split) into the TrainConfig the page uses.
"""

from __future__ import annotations

from typing import Any, Mapping

from core import TRAIN_FIELD_SPECS, ConfigError, TrainConfig
from core import NetworkConfig
from ui.train.logic import (DEFAULT_SWEEP, TRAIN_KEYS, TRAIN_PRESETS, format_names, format_setups,
                            format_sweep, parse_names, parse_preset, parse_setups, parse_step,
                            parse_sweep, train_field_formatter, train_field_parser)

FIELD_PREFIX = "train.cfg."
SWEEP_KEY = "train.sweep"
SETUPS_KEY = "train.setups"
NAMES_KEY = "train.names"
PRESET_KEY = "train.preset"
STEP_KEY = "train.step"
LAST_GOOD_KEY = "train.last_good"


def field_key(name: str) -> str:
    """The session (and widget) key of TrainConfig field ``name``."""
    return FIELD_PREFIX + name


URL_PARAMS: dict[str, tuple] = {
    **{TRAIN_KEYS[name]: (field_key(name), spec.default, train_field_parser(name),
                       train_field_formatter(name))
       for name, spec in TRAIN_FIELD_SPECS.items()},
    "trn": (SWEEP_KEY, DEFAULT_SWEEP, parse_sweep, format_sweep),
    "trn_setups": (SETUPS_KEY, (), parse_setups, format_setups),
    "trn_names": (NAMES_KEY, (), parse_names, format_names),
    "trn_preset": (PRESET_KEY, "", parse_preset, str),
    "trn_step": (STEP_KEY, None, parse_step, str),
}


def training_values(state: Mapping[str, Any]) -> dict[str, Any]:
    return {name: state.get(field_key(name), spec.default)
            for name, spec in TRAIN_FIELD_SPECS.items()}


def session_training(state: Mapping[str, Any]) -> tuple[TrainConfig, ConfigError | None]:
    """The TrainConfig the controls describe; if their values do not fit together, the last
    valid one and the error — or, before there is one (a link's first load), the values with
    the fewest of the fields the error names back at their defaults (``repaired``)."""
    values = training_values(state)
    try:
        config = TrainConfig(**values)
    except ConfigError as error:
        last = state.get(LAST_GOOD_KEY)
        return (last if last is not None else repaired(values, error)), error
    return config, None


def repaired(values: Mapping[str, Any], error: ConfigError) -> TrainConfig:
    """A valid TrainConfig from values that do not fit together: one field the error names at
    its default (in the error's order: a too large batch before the points), else all of them,
    else the default config. The link's other values are kept."""
    named = [name for name in error.fields if name in TRAIN_FIELD_SPECS]
    for fields in [[name] for name in named] + [named]:
        try:
            return TrainConfig(**{**values, **{f: TRAIN_FIELD_SPECS[f].default for f in fields}})
        except ConfigError:
            continue
    return TrainConfig()


def replaced_fields(state: Mapping[str, Any], config: TrainConfig) -> dict[str, Any]:
    """The link names and values of the fields ``config`` holds other than the controls
    (what a refused combination is trained with instead)."""
    values = training_values(state)
    return {TRAIN_KEYS[name]: getattr(config, name) for name in TRAIN_FIELD_SPECS
            if getattr(config, name) != values[name]}


def set_training(state: Any, config: TrainConfig) -> None:
    """Put a TrainConfig into the controls (they show it on the next run)."""
    for name in TRAIN_FIELD_SPECS:
        state[field_key(name)] = getattr(config, name)


def lesson_link_values(preset_id: str) -> tuple[NetworkConfig, dict[str, Any]]:
    """What a link with ``trn_preset=<id>`` opens where it says nothing else: the lesson's
    network (the base the link's config parameters change, as an Explorer ``preset`` is) and,
    by link parameter, the session values of its training fields and set-ups."""
    pair = TRAIN_PRESETS[preset_id].pair()
    values = {TRAIN_KEYS[name]: (field_key(name), getattr(pair.training, name))
              for name in TRAIN_FIELD_SPECS}
    values["trn_setups"] = (SETUPS_KEY, TRAIN_PRESETS[preset_id].setups)
    return pair.network, values
