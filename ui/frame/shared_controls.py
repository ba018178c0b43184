"""Controls that several pages show for one shared setting.

A widget belongs to the page that draws it, so each page gets its own widget key; the setting
itself lives under one session key (the one ui.frame.url_state writes to the link), copied into the
widget before it is drawn and back from it when the reader changes it.
"""

from __future__ import annotations

import streamlit as st

from ui.frame.i18n import t

THEORY_KEY = "ui.theory"
#: Keyword for keyed widgets that keep their value while hidden and across pages.
KEEP = {"persist_state": "session"}


def theory_toggle(page: str) -> bool:
    """'Theory lines' on/off, the same setting on every page that draws theory."""
    widget_key = f"{THEORY_KEY}@{page}"
    st.session_state[widget_key] = bool(st.session_state.get(THEORY_KEY, True))

    def copy_back() -> None:
        st.session_state[THEORY_KEY] = st.session_state[widget_key]

    return st.toggle(t("explorer.theory_toggle"), key=widget_key, on_change=copy_back,
                     help=t("explorer.theory_toggle_help"))
