"""The phase map's click, Streamlit side: the clicked (σ_w², σ_b²) becomes the sidebar's config
(through ui.frame.url_state, the one module that touches the URL) and is remembered for the page's
confirmation. The pure parts (point → config, reading Plotly's selection payload) are in
ui.theory.state.
"""

from __future__ import annotations

import streamlit as st

from core import NetworkConfig
from ui.frame import url_state
from ui.theory.state import (APPLIED_KEY, CHART_KEY, config_for_point, hidden_fan_in,
                             point_from_selection)


def apply_point(config: NetworkConfig, sigma_w2: float, sigma_b2: float) -> None:
    """Put the point into the sidebar controls (through url_state.set_config; they take it on
    the next run) and remember it for the confirmation. Call from a callback."""
    new = config_for_point(config, sigma_w2, sigma_b2)
    url_state.set_config(new)
    st.session_state[APPLIED_KEY] = {"sigma_w2": sigma_w2, "sigma_b2": sigma_b2,
                          "init_std": new.init_std, "bias_std": new.bias_std,
                          "fan_in": hidden_fan_in(new)}


def apply_selection() -> None:
    """on_select callback of the phase map: the clicked cell becomes the config."""
    point = point_from_selection(st.session_state.get(CHART_KEY))
    config = st.session_state.get("config")
    if point is None or not isinstance(config, NetworkConfig):
        return
    apply_point(config, *point)
