"""Switching the language works on every page in every state: arrive (a plain link, a lesson
link, a share link with page state), switch to the other language, then move a control.

The pages with a selectable chart (Phase) or a data editor (Compare's set-ups) hold widget
states that Streamlit refuses to have re-assigned; a language switch once re-assigned them."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.frame.i18n import LANGUAGE_KEY, translate

from .conftest import by_key

APP = str(Path(__file__).resolve().parents[2] / "app.py")

ARRIVALS = {
    "explorer": ("views/explorer.py", {"preset": "tanh_small"}),
    "compare": ("views/compare.py", {"cmp_setups": "base;init=zeros"}),
    "phase": ("views/phase.py", {}),
    "spectrum": ("views/spectrum.py", {"depth": "6"}),
    "train": ("views/train.py", {"steps": "20", "trn": "lr:0.1,0.5"}),
}


def open_page(page: str, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return at.switch_page(page).run()


def assert_no_exception(at):
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("name", list(ARRIVALS))
@pytest.mark.parametrize("first,second", [("en", "zh"), ("zh", "en")])
def test_switch_language_then_move_a_control(name, first, second):
    page, query = ARRIVALS[name]
    at = open_page(page, lang=first, **query)
    assert_no_exception(at)
    by_key(at.sidebar.selectbox, LANGUAGE_KEY).set_value(second).run()
    assert_no_exception(at)
    assert at.session_state[LANGUAGE_KEY] == second
    assert translate(second, "sidebar.share") in [h.value for h in at.sidebar.subheader]
    by_key(at.sidebar.slider, "cfg.depth").set_value(5).run()
    assert_no_exception(at)
    assert at.session_state["config"].depth == 5
    at.run()  # and the next rerun stays clean
    assert_no_exception(at)


# --- a link keeps the reader's language --------------------------------------------------------
# AppTest's browser has no locale, which reads as English (ui.i18n.language_from_locale).

def test_a_link_names_no_language_when_the_reader_kept_their_browsers():
    at = open_page("views/explorer.py", preset="relu_he")
    assert at.session_state[LANGUAGE_KEY] == "en"
    assert "lang" not in at.query_params
    by_key(at.sidebar.slider, "cfg.depth").set_value(5).run()
    assert "lang" not in at.query_params and at.query_params["depth"] == "5"


def test_a_link_names_the_language_the_reader_chose_over_their_browsers():
    at = open_page("views/explorer.py", preset="relu_he")
    by_key(at.sidebar.selectbox, LANGUAGE_KEY).set_value("zh").run()
    assert at.query_params["lang"] == "zh"
    by_key(at.sidebar.selectbox, LANGUAGE_KEY).set_value("en").run()
    assert "lang" not in at.query_params


def test_a_shared_link_in_the_browsers_language_drops_it_from_the_address():
    at = open_page("views/explorer.py", lang="en", depth="7")
    assert at.session_state[LANGUAGE_KEY] == "en"
    assert "lang" not in at.query_params and at.query_params["depth"] == "7"
