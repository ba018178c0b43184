"""URL parameters of the Compare page: name → (session key, default, parser, formatter).

Read by ui.frame.url_state, the one module that touches the URL. Parsers raise only ValueError
(whose text names the valid values) and bound their input: at most 6 set-ups, values checked
against core's FIELD_SPECS. The format of each parameter is documented in ui.compare.logic.
"""

from __future__ import annotations

from ui.compare.logic import DEFAULT_SWEEP, parse_layer, parse_preset, parse_sweep
from ui.setups import format_names, format_setups, format_sweep, parse_names, parse_setups

SWEEP_KEY = "cmp.sweep"
SETUPS_KEY = "cmp.setups"
NAMES_KEY = "cmp.names"
PRESET_KEY = "cmp.preset"
LAYER_KEY = "cmp.layer"

URL_PARAMS: dict[str, tuple] = {
    "cmp": (SWEEP_KEY, DEFAULT_SWEEP, parse_sweep, format_sweep),
    "cmp_setups": (SETUPS_KEY, (), parse_setups, format_setups),
    "cmp_names": (NAMES_KEY, (), parse_names, format_names),
    "cmp_preset": (PRESET_KEY, "", parse_preset, str),
    "cmp_layer": (LAYER_KEY, None, parse_layer, str),
}
