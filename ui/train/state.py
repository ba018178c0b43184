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
from ui.train.logic import (DEFAULT_SWEEP, TRAIN_KEYS, format_names, format_setups, format_sweep,
                            parse_names, parse_preset, parse_setups, parse_step, parse_sweep,
                            train_field_formatter, train_field_parser)

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
    valid one (or the default) and the error."""
    try:
        config = TrainConfig(**training_values(state))
    except ConfigError as error:
        return state.get(LAST_GOOD_KEY, TrainConfig()), error
    return config, None


def set_training(state: Any, config: TrainConfig) -> None:
    """Put a TrainConfig into the controls (they show it on the next run)."""
    for name in TRAIN_FIELD_SPECS:
        state[field_key(name)] = getattr(config, name)
