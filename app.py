"""Variance Lab: the entry point. It owns what every page shares — the sidebar with the whole
NetworkConfig, the language, the presets and the share link — then runs the chosen page."""

from __future__ import annotations

import streamlit as st

from ui.frame import present, sidebar, url_state
from ui.frame.errors import describe_config_error, describe_problem, problem_heading
from ui.frame.i18n import t
from ui.frame.text import markdown_literal
from ui.serving import cache, workers
from ui.train.logic import lesson_pairs

st.set_page_config(page_title="Variance Lab", page_icon="📉", layout="wide")

cache.start_warmup(lesson_pairs)  # once per process, only under `streamlit run`
first_run = url_state.load_once()
present.page_config()
sidebar.render_language()

explorer = st.Page("views/explorer.py", title=t("nav.explorer"), icon=":material/insights:",
                   url_path="explorer", default=True)
pages = [
    explorer,
    st.Page("views/compare.py", title=t("nav.compare"), icon="⚖️", url_path="compare"),
    st.Page("views/phase.py", title=t("nav.phase"), icon=":material/grid_on:", url_path="phase"),
    st.Page("views/spectrum.py", title=t("nav.spectrum"), icon=":material/equalizer:",
            url_path="spectrum"),
]
train_page = st.Page("views/train.py", title=t("nav.train"), icon=":material/model_training:",
                     url_path="train")
pages.append(train_page)
navigation = st.navigation(pages, position="top")
if navigation is explorer:  # its first act is the simulation: begun now, it overlaps the sidebar
    cache.begin_simulation(url_state.controls_config)

sidebar.clear_stale_preset()
if navigation is train_page:  # its own lessons are picked on the page: one picker
    sidebar.keep_preset()
else:
    sidebar.render_presets()
if not sidebar.is_hidden("present"):
    present.present_toggle(st.sidebar)
sidebar.render_controls()
present.styles(sidebar_hidden=sidebar.is_hidden("sidebar"))
config, size_error = url_state.session_config()
st.session_state["config"] = config

for problem in url_state.problems(config):
    st.warning(t(problem_heading(problem),
                 message=markdown_literal(describe_problem(problem, t))))
if first_run:
    url_state.check_dropped_query(t("url.ignored", message=t("error.too_many_fields")))
if size_error is not None:
    st.error(t("sidebar.size_error",
               message=markdown_literal(describe_config_error(size_error, t))))

# Pages end by returning, never by st.stop(): what follows must run after every page (a page
# may change its own link parameters).
try:
    navigation.run()
except workers.WorkerLost:  # a server fault, not the user's: say so, keep the link in sync
    st.error(t("serving.worker_lost"), icon=":material/error:")

url_state.sync(config)
present.present_bar(sidebar.render_share(config))
