"""Present mode (for the projector) and the page-wide layout rules, Streamlit side.

Present mode is ``present=1`` in the link or the sidebar's switch: the sidebar collapsed, the
page's padding reduced, a one-line title, the main chart drawn with projector-sized text
(ui.explorer.charts.projector), and a small bar in the page header to leave it or show the link's QR
code big. ``st.set_page_config`` may be called again in a run (1.67): a changed
``initial_sidebar_state`` collapses or opens the sidebar at once; an unchanged one leaves the
reader's own choice alone.

CSS is scoped to Streamlit's test ids and to containers keyed here; the phone rules sit behind a
media query (the server cannot know the viewport). tests/browser/test_classroom_browser.py
checks the result at 1440×900, 1280×720 and 390×844.
"""

from __future__ import annotations

import streamlit as st

from ui.frame import url_state
from ui.frame.classroom import Handout, LinkTooLongForQR, handout, interface_addresses, qr_png
from ui.frame.i18n import t

BAR_KEY = "present_bar"
#: The main chart's height in present mode: with the title, a two-line notice and the page header
#: it fits a 1280×720 screen (tests/browser/test_classroom_browser.py measures it).
PRESENT_CHART_HEIGHT = 400

#: Both modes: what a 390 px phone needs (Streamlit stacks st.columns below 640 px by itself).
_PHONE_CSS = """
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] { padding: 3.5rem 0.75rem 2rem 0.75rem; }
  [data-testid="stMainBlockContainer"] h1 { font-size: 1.6rem; }
  .st-key-headline [data-testid="stHorizontalBlock"] { flex-wrap: wrap; gap: 0.25rem 0.75rem; }
  .st-key-headline [data-testid="stColumn"] { min-width: calc(50% - 0.75rem); flex: 1 1 40%; }
  .st-key-headline [data-testid="stMetricValue"] { font-size: 1.4rem; }
  [data-testid="stMarkdownContainer"] .katex-display { overflow-x: auto; overflow-y: hidden; }
}
"""

#: Present mode only: less padding, a one-line title, the bar in the header.
_PRESENT_CSS = f"""
[data-testid="stMainBlockContainer"] {{ padding: 3.75rem 2rem 1rem 2rem; max-width: none; }}
[data-testid="stMainBlockContainer"] h1 {{
  font-size: 1.9rem; padding: 0 0 0.25rem 0; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }}
[data-testid="stMainBlockContainer"] [data-testid="stAlert"] p {{ font-size: 1.15rem; }}
.st-key-{BAR_KEY} {{ position: fixed; top: 0.55rem; right: 4.5rem; z-index: 999990;
  width: auto !important; }}
.st-key-lesson_question [data-testid="stMarkdownContainer"] p,
.st-key-lesson_question [data-testid="stRadio"] label p {{ font-size: 1.2rem; }}
.st-key-lesson_question [data-testid="stProgress"] p {{ font-size: 1.15rem; }}
.st-key-lesson_question [data-testid="stProgress"] {{ margin-bottom: -0.5rem; }}
[data-testid="stColumn"]:has(.st-key-lesson_question) {{
  max-height: calc(100vh - 240px); overflow-y: auto; }}
"""
#: (The question column beside the chart scrolls on its own: a revealed answer's facts, longer in
#: some lessons and languages, stay readable without scrolling the chart off the projector.)

#: The Train page's two main charts (its container ``train-main``, charts drawn with
#: height="stretch") fill the first screen under the lesson's title and notice: Plotly lays
#: them out at the height the browser gives them. A phone's charts keep their own heights
#: (the server knows a phone by its User-Agent and lays them out for it).
TRAIN_MAIN_KEY = "train-main"
_CHARTS = (f".st-key-{TRAIN_MAIN_KEY} [data-testid='stElementContainer']"
           ":has([data-testid='stPlotlyChart'])")
#: Its two places for a chart redrawn while it trains (views/train.py's Place): two slots in
#: one grid cell, the one raised (z-index) on top.
TRAIN_STACK_PREFIX = "train-stack-"
_TRAIN_CSS = f"""
{_CHARTS} {{ height: clamp(420px, calc(100vh - 340px), 820px) !important; }}
[class*="st-key-{TRAIN_STACK_PREFIX}"] {{ display: grid !important;
  grid-template-columns: minmax(0, 1fr); }}
[class*="st-key-{TRAIN_STACK_PREFIX}"] > * {{ grid-area: 1 / 1; position: relative;
  width: 100%; min-width: 0; }}
@media (max-width: 640px) {{ {_CHARTS} {{ height: auto !important; }} }}
"""
_TRAIN_PRESENT_CSS = f"""
{_CHARTS} {{ height: max(380px, calc(100vh - 236px)) !important; }}
[data-testid="stMain"]:has(.st-key-lesson_question [data-testid="stProgress"]) {_CHARTS} {{
  height: max(380px, calc(100vh - 300px)) !important; }}
"""
#: (The teacher's screen in a class poll has the counts and Reveal above the charts: ≈ 60 px
#: more than a reader's choices on one line.)

#: A teacher link that hides the whole sidebar leaves no sidebar and no button to open it.
_NO_SIDEBAR_CSS = """
[data-testid="stSidebar"], [data-testid="stExpandSidebarButton"] { display: none; }
"""


def phone_user_agent(agent: str) -> bool:
    """A phone's browser: its User-Agent says "Mobi" (iOS Safari "Mobile/…", Android Chrome
    "Mobile Safari"; a tablet's does not)."""
    return "Mobi" in agent


def on_phone() -> bool:
    """The reader is on a phone, by the request's User-Agent: the one thing the server knows of
    the screen before drawing (a chart that must lay itself out differently on a 390 px screen
    asks this; CSS handles the rest)."""
    try:
        agent = st.context.headers.get("User-Agent", "")
    except Exception:  # no request behind this run (AppTest): not a phone
        return False
    return phone_user_agent(agent or "")


def is_present() -> bool:
    return bool(st.session_state.get(url_state.PRESENT_KEY, False))


def page_config() -> None:
    """Collapse the sidebar in present mode (the first call in app.py set the rest)."""
    st.set_page_config(initial_sidebar_state="collapsed" if is_present() else "auto")


def styles(sidebar_hidden: bool) -> None:
    css = (_PHONE_CSS + _TRAIN_CSS + (_PRESENT_CSS + _TRAIN_PRESENT_CSS if is_present() else "")
           + (_NO_SIDEBAR_CSS if sidebar_hidden else ""))
    st.html(f"<style>{css}</style>")


def _leave() -> None:
    st.session_state[url_state.PRESENT_KEY] = False


#: The QR code's size on the page in present mode: ≈ 15 cm on a 2 m projected image.
QR_PIXELS = 480


def students_handout(link: str) -> Handout:
    """The link students get for ``link``: on this machine's network address when the browser
    used a loopback one (ui.classroom.handout; the server's ``--server.address`` tells whether
    that address is served)."""
    return handout(link, interface_addresses(), st.get_option("server.address"))


def loopback_notice(given: Handout, container) -> None:
    """Why the browser's address will not open on students' devices, and what to hand out
    (the same link on this machine's network addresses)."""
    if not given.loopback_host:
        return
    container.warning(t("classroom.loopback", host=given.loopback_host),
                      icon=":material/wifi_off:")
    if not given.room_links:
        container.caption(t("classroom.loopback_none"))
        return
    container.caption(t("classroom.loopback_use" if given.reachable else "classroom.loopback_bind"))
    for room_link in given.room_links[:3]:
        container.code(room_link, language=None, wrap_lines=True)


def _qr_body(given: Handout) -> None:
    loopback_notice(given, st)
    code, text = st.columns([3, 2], vertical_alignment="center")
    try:
        code.image(qr_png(given.for_students), width=QR_PIXELS)
    except LinkTooLongForQR:
        code.warning(t("classroom.qr_too_long"))
    text.code(given.for_students, language=None, wrap_lines=True)
    text.caption(t("classroom.qr_caption"))


def present_bar(given: Handout) -> None:
    """In present mode, two small buttons in the page header: leave present mode, and the QR
    code of the students' link shown big."""
    if not is_present():
        return
    with st.container(key=BAR_KEY, horizontal=True, gap="small"):
        if st.button(t("classroom.qr_button"), icon=":material/qr_code_2:", type="secondary",
                     help=t("classroom.qr_help")):
            # The dialog's title is in the reader's language, so it is made in the run.
            st.dialog(t("classroom.qr_title"), width="large")(_qr_body)(given)
        st.button(t("classroom.leave_present"), icon=":material/close_fullscreen:",
                  on_click=_leave, type="secondary")


def present_toggle(container) -> None:
    container.toggle(t("classroom.present"), key=url_state.PRESENT_KEY,
                     help=t("classroom.present_help"), persist_state="session")
