"""Train: up to four set-ups trained on the same data from the same seed, side by side.

The base is the sidebar's network with the training settings of this page; the set-ups are a
one-setting sweep or edited differences (ui.train.logic). State lives under ui.train.state's keys
(the share link's parameters); the training controls are keyed by those session keys directly, the
set-up controls write back through callbacks like Compare's.

The lesson comes first on every screen: its name, its question and choices (ui.quiz, the
questions in ui.train.lessons), then the decision maps and the loss chart side by side (one under
the other on a phone); the lesson picker, the training settings and the set-up editor follow,
folded; the charts of the networks' insides last. The lesson's notice (its facts) and the runs'
result sentences come with the answer; in predict mode (``predict=1``) the charts are covered
until then. A cold run is drawn while it trains (ui.cache.trainings), then replaced by the
animation.
"""

from __future__ import annotations

import streamlit as st

from core import TRAIN_FIELD_SPECS
from core.query import format_value
from ui import quiz as quizzes
from ui.chart_style import export_config
from ui.frame import url_state
from ui.frame.i18n import current_language, t, translate
from ui.frame.present import TRAIN_MAIN_KEY, TRAIN_STACK_PREFIX, is_present, on_phone
from ui.frame.shared_controls import KEEP
from ui.frame.text import markdown_literal
from ui.serving.cache import dataset, trainings
from ui.serving.figures import shared_figure
from ui.setups import EmptySweep, Sweep, sweep_from_widget
from ui.train import charts as train_charts
from ui.train import lessons as train_lessons
from ui.train import state as train_state
from ui.train.logic import (DEFAULT_SWEEP, MAX_SETUPS, SETUP_SPECS, SWEEP_DEFAULTS, SWEEP_FIELDS,
                            TRAIN_FIELDS_BY_KEY, TRAIN_KEYS, TRAIN_PRESETS, TrainPair, TrainRun,
                            build_setups, decision_frames, describe_training_error, final_weights,
                            format_setups, parse_names, parse_setups, parse_sweep, preset_matches,
                            result_sentence, value_text, within_page_budget)
from ui.train.watch import live_decision, live_loss
from ui.train.state import (LAST_GOOD_KEY, NAMES_KEY, PRESET_KEY, SETUPS_KEY, STEP_KEY,
                            SWEEP_KEY, field_key)

LANG = current_language()


def tr(key: str, **values) -> str:
    return translate(LANG, key, **values)


MODE_KEY = "train.w.mode"
FIELD_KEY = "train.w.field"
SETUPS_TEXT_KEY = "train.w.setups"
NAMES_TEXT_KEY = "train.w.names"
STEP_WIDGET_KEY = "train.w.step"
ERROR_KEY = "train.input_error"

#: Predict mode: the covered charts' place, about as tall as the charts on a laptop.
PREDICT_COVER_HEIGHT = 420

LOG_VALUES = tuple(float(f"{m * 10.0 ** e:.3g}") for e in range(-5, 2) for m in (1, 2, 5))
CHOICES = {
    "n_points": (50, 100, 200, 300, 500, 1000, 2000, 5000),
    "batch_size": (1, 2, 5, 10, 20, 30, 50, 100, 250, 500),
    "steps": (50, 100, 200, 300, 500, 1000, 2000, 5000),
    "record_every": (1, 2, 5, 10, 20, 50, 100),
    "lr": tuple(v for v in LOG_VALUES if v <= 10),
    "l1": (0.0,) + tuple(v for v in LOG_VALUES if v <= 1),
    "l2": (0.0,) + tuple(v for v in LOG_VALUES if v <= 1),
    "clip_threshold": tuple(v for v in LOG_VALUES if v <= 10) + (100.0, 1000.0),
    "feature_scale": (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0),
}


def _values_key(field: str) -> str:
    return f"train.w.values.{field}"


def _sweep() -> Sweep:
    return st.session_state.get(SWEEP_KEY, DEFAULT_SWEEP)


def _setups() -> tuple:
    return st.session_state.get(SETUPS_KEY, ())


# --- callbacks -----------------------------------------------------------------------------

def _apply_preset() -> None:
    quizzes.new_visit()  # every lesson change starts with its answer closed
    preset = TRAIN_PRESETS.get(st.session_state.get(PRESET_KEY, ""))
    if preset is None:
        return
    seed = st.session_state.get(url_state.config_key("seed"), 0)
    pair = preset.pair(seed=seed)
    url_state.set_config(pair.network)
    train_state.set_training(st.session_state, pair.training)
    st.session_state[SETUPS_KEY] = preset.setups
    st.session_state[SWEEP_KEY] = DEFAULT_SWEEP
    st.session_state[NAMES_KEY] = ()
    st.session_state[STEP_KEY] = None
    st.session_state.pop(ERROR_KEY, None)


def _change_mode() -> None:
    if st.session_state[MODE_KEY] == "setups":
        st.session_state[SETUPS_KEY] = _sweep().diffs()
        st.session_state[SWEEP_KEY] = DEFAULT_SWEEP
    else:
        st.session_state[SETUPS_KEY] = ()
    st.session_state.pop(ERROR_KEY, None)


def _change_field() -> None:
    field = st.session_state[FIELD_KEY]
    st.session_state[SWEEP_KEY] = Sweep(field, SWEEP_DEFAULTS[field])
    st.session_state.pop(ERROR_KEY, None)


def _change_values(field: str) -> None:
    try:
        sweep = sweep_from_widget(field, st.session_state[_values_key(field)], parse_sweep)
    except EmptySweep:
        st.session_state[ERROR_KEY] = t("train.values_empty")
        return
    except ValueError as error:
        st.session_state[ERROR_KEY] = t("train.values_error", field=field, valid=str(error))
        return
    st.session_state[SWEEP_KEY] = sweep
    st.session_state.pop(ERROR_KEY, None)


def _change_setups() -> None:
    lines = [line.strip() for line in st.session_state[SETUPS_TEXT_KEY].splitlines()]
    try:
        setups = parse_setups(";".join(line for line in lines if line))
    except ValueError as error:
        st.session_state[ERROR_KEY] = t("train.setups_error", valid=str(error))
        return
    if not setups:
        st.session_state[ERROR_KEY] = t("train.values_empty")
        return
    st.session_state[SETUPS_KEY] = setups
    st.session_state.pop(ERROR_KEY, None)


def _change_names() -> None:
    try:
        st.session_state[NAMES_KEY] = parse_names(st.session_state[NAMES_TEXT_KEY])
        st.session_state.pop(ERROR_KEY, None)
    except ValueError as error:
        st.session_state[ERROR_KEY] = t("train.names_error", valid=str(error))


def _change_step() -> None:
    st.session_state[STEP_KEY] = st.session_state[STEP_WIDGET_KEY]
    # The step's section reruns alone (a fragment), without the entry point's link rewrite.
    url_state.sync(st.session_state["config"])


# --- controls ------------------------------------------------------------------------------

def _label(name: str) -> str:
    return tr(f"field.{TRAIN_KEYS[name]}.label")


def _help(name: str) -> str:
    return tr(f"field.{TRAIN_KEYS[name]}.help")


def _control(name: str, container) -> None:
    spec = TRAIN_FIELD_SPECS[name]
    key = field_key(name)
    if key not in st.session_state:
        st.session_state[key] = spec.default
    value = st.session_state[key]
    common = dict(key=key, help=_help(name), **KEEP)
    if spec.kind == "choice":
        container.selectbox(_label(name), spec.choices,
                            format_func=lambda v, k=TRAIN_KEYS[name]: tr(f"choice.{k}.{v}"),
                            **common)
    elif name in CHOICES:
        options = sorted(set(CHOICES[name]) | {value})
        container.select_slider(_label(name), options, format_func=lambda v: f"{v:g}", **common)
    elif name in ("noise", "train_fraction", "momentum"):
        step = {"noise": 0.05, "train_fraction": 0.05, "momentum": 0.01}[name]
        container.slider(_label(name), float(spec.low), float(spec.high), step=step, **common)
    else:
        container.number_input(_label(name), spec.low, spec.high, **common)


GROUPS = (("data", ("dataset", "noise", "n_points", "train_fraction", "feature_scale",
                    "feature_shift", "seed")),
          ("optimizer", ("optimizer", "lr", "momentum", "batch_size", "steps", "record_every")),
          ("regularisation", ("l1", "l2", "clip", "clip_threshold")))


def _training_controls() -> None:
    with st.expander(t("train.controls"), expanded=False, icon=":material/tune:"):
        columns = st.columns(len(GROUPS))
        for column, (group, names) in zip(columns, GROUPS):
            column.markdown(f"**{t(f'train.group.{group}')}**")
            for name in names:
                _control(name, column)


def _sweep_controls(base: TrainPair) -> None:
    sweep = _sweep()
    st.session_state[FIELD_KEY] = sweep.field
    left, right = st.columns([1, 2])
    left.selectbox(t("train.field"), SWEEP_FIELDS, key=FIELD_KEY, on_change=_change_field,
                   format_func=lambda f: tr(f"field.{f}.label"), help=t("train.field_help"),
                   **KEEP)
    spec = SETUP_SPECS[sweep.field]
    key = _values_key(sweep.field)
    current = (getattr(base.training, TRAIN_FIELDS_BY_KEY[sweep.field])
               if sweep.field in TRAIN_FIELDS_BY_KEY else getattr(base.network, sweep.field))
    help_text = t("train.values_help", base=value_text(sweep.field, current, t))
    if spec.kind in ("choice", "bool"):
        options = spec.choices if spec.kind == "choice" else (False, True)
        st.session_state[key] = list(sweep.values)
        right.multiselect(t("train.values"), options, key=key, max_selections=MAX_SETUPS,
                          on_change=_change_values, args=(sweep.field,),
                          format_func=lambda v, f=sweep.field: value_text(f, v, tr),
                          help=help_text, **KEEP)
    else:
        if st.session_state.get(ERROR_KEY) is None:
            st.session_state[key] = ", ".join(format_value(spec, v) for v in sweep.values)
        right.text_input(t("train.values_numbers", valid=spec.describe()), key=key,
                         on_change=_change_values, args=(sweep.field,), help=help_text, **KEEP)


def _setups_editor() -> None:
    if st.session_state.get(ERROR_KEY) is None:
        st.session_state[SETUPS_TEXT_KEY] = format_setups(_setups()).replace(";", "\n")
    st.text_area(t("train.setups"), key=SETUPS_TEXT_KEY, on_change=_change_setups,
                 help=t("train.setups_help", max=MAX_SETUPS), height=120, **KEEP)


# --- the page ------------------------------------------------------------------------------

network = st.session_state["config"]
base_training, training_error = train_state.session_training(st.session_state)
if training_error is None:
    st.session_state[LAST_GOOD_KEY] = base_training
base = TrainPair(network, base_training)
present, phone = is_present(), on_phone()
fit = train_charts.PROJECTOR if present else train_charts.PHONE if phone else train_charts.LAPTOP

preset_id = st.session_state.get(PRESET_KEY, "")
if preset_id and not preset_matches(preset_id, base, _setups()):
    st.session_state[PRESET_KEY] = preset_id = ""
setups = within_page_budget(build_setups(base, _setups() or _sweep().diffs(),
                                         st.session_state.get(NAMES_KEY, ()), t))
ready = [setup for setup in setups if setup.config is not None]


def ask_lesson(preset_id: str) -> quizzes.Quiz:
    """The lesson's question and its choices, right under the title, from the lesson alone
    (drawn while its runs train); its answer opens under them."""
    return quizzes.ask(train_lessons.poll_key(preset_id), train_lessons.choices(preset_id),
                       t(f"train.lesson.{preset_id}.question"),
                       lambda choice: tr(f"train.lesson.{preset_id}.choice.{choice}"), t,
                       st.container(), horizontal=not phone)


# The lesson: its name as the page's title, its question (the notice comes with the answer),
# and why anything is not trained.
quiz = None
if preset_id:
    st.title(t(f"train.preset.{preset_id}.name"))
    quiz = ask_lesson(preset_id)
    answer_area = st.container()
else:
    st.title(t("train.title"))
    st.caption(t("train.intro", max=MAX_SETUPS))
covered = quiz is not None and quiz.covered
answer_open = quiz is None or quiz.shown
#: The camera button saves a chart for a slide, named after the lesson (or the page).
export_title = t(f"train.preset.{preset_id}.name") if preset_id else t("train.title")
if training_error is not None:
    message = markdown_literal(describe_training_error(training_error, t))
    replaced = train_state.replaced_fields(st.session_state, base_training)
    if LAST_GOOD_KEY in st.session_state or not replaced:
        st.error(t("train.training_error", message=message))
    else:  # a link's first load: its other values are kept
        used = ", ".join(f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}"
                         for name, value in replaced.items())
        st.error(t("train.training_repaired", message=message, used=markdown_literal(used)))
for setup in setups:
    if setup.config is None:
        st.warning(t("train.skipped", name=markdown_literal(setup.name),
                     message=markdown_literal(describe_training_error(setup.error, t))))

# Its two charts, side by side (stacked by Streamlit on a narrow screen); a browser stretches
# them to the screen's height (ui.present's CSS) except on a phone. A picture drawn while its run
# trains has no toolbar (nothing to save yet); the finished charts' camera saves a slide.
MAIN = dict(height="content" if phone else "stretch")
LIVE = dict(MAIN, config={"displayModeBar": False})


def slide(chart_title: str) -> dict:
    """The ``config=`` of a finished chart: its camera saves a 1920×1080 PNG named after the
    lesson and the chart."""
    return export_config(f"{export_title} {chart_title}")


class Place:
    """Where one of the lesson's two charts goes: two slots on top of each other (ui.present's
    CSS), so that a chart redrawn while its run trains never blinks. A browser draws a changed
    chart afresh and shows nothing there until it is drawn (≈ 60 ms, much more on a busy
    machine); each drawing goes to the slot not showing the last one and is raised above it
    once sent, so the last picture shows through until the new one covers it."""

    def __init__(self, column, name: str) -> None:
        self.name = name
        with column.container(key=f"{TRAIN_STACK_PREFIX}{name}"):
            self.slots = (st.empty(), st.empty())
        self.raised = column.empty()
        self.count = 0

    def live(self, figure) -> None:
        self.count += 1
        key = f"train-live-{self.name}-{self.count}"
        self.slots[self.count % 2].plotly_chart(figure, key=key, **LIVE)
        # Rising numbers: the newest is on top even where an older rule is still in force.
        self.raised.html(f"<style>.st-key-{key} {{ z-index: {self.count}; }}</style>")

    def final(self, figure, key: str, chart_title: str) -> None:
        self.slots[0].plotly_chart(figure, key=key, config=slide(chart_title), **MAIN)
        self.slots[1].empty()
        self.raised.empty()


if covered:  # predict mode: the charts wait for the answer
    with st.container(height=PREDICT_COVER_HEIGHT, border=True):
        st.info(t("lesson.covered_teacher" if quiz.teacher else
                  "lesson.covered_poll" if quiz.code else "lesson.covered"),
                icon=":material/visibility_off:")
else:
    with st.container(key=TRAIN_MAIN_KEY):
        decision_column, loss_column = st.columns(2)
        decision_place = Place(decision_column, "decision")
        loss_place = Place(loss_column, "loss")
        caption_slot = decision_column.empty()
sentences = st.container()

# What a teacher changes, folded under the lesson.
st.selectbox(t("train.preset"), ("",) + tuple(TRAIN_PRESETS), key=PRESET_KEY,
             on_change=_apply_preset, help=t("train.preset_help"),
             format_func=lambda p: tr(f"train.preset.{p}.name") if p else "—", **KEEP)
_training_controls()
with st.expander(t("train.setups_section"), expanded=bool(st.session_state.get(ERROR_KEY)),
                 icon=":material/stacks:"):
    st.session_state[MODE_KEY] = "setups" if _setups() else "sweep"
    st.radio(t("train.mode"), ("sweep", "setups"), key=MODE_KEY, horizontal=True,
             on_change=_change_mode, format_func=lambda m: tr(f"train.mode.{m}"), **KEEP)
    if _setups():
        _setups_editor()
    else:
        _sweep_controls(base)
    if st.session_state.get(ERROR_KEY) is None:
        st.session_state[NAMES_TEXT_KEY] = "; ".join(st.session_state.get(NAMES_KEY, ()))
    st.text_input(t("train.names"), key=NAMES_TEXT_KEY, on_change=_change_names,
                  placeholder=t("train.names_placeholder"), **KEEP)
if st.session_state.get(ERROR_KEY):
    st.warning(markdown_literal(st.session_state[ERROR_KEY]))
details = st.container()

data = [dataset(setup.config.training) for setup in ready]
total_steps = max((setup.config.training.steps for setup in ready), default=1)


def draw_live(states) -> None:
    """A cold run as it trains: each set-up's latest decision map and its loss so far (not
    while the charts are covered)."""
    if covered:
        return
    done = sum(partial.step if partial is not None else 0 for _, partial in states)
    total = sum(setup.config.training.steps for setup in ready)
    decision = live_decision(ready, data, states, t, fit, done, total)
    if decision is not None:
        decision_place.live(decision)
    loss_place.live(live_loss(ready, states, t, fit, total_steps, done, total))


tick = st.empty()
results = trainings([(setup.config.network, setup.config.training) for setup in ready],
                    draw_live, idle=tick.empty)
runs = [TrainRun(setup, result, data[index])
        for index, (setup, result) in enumerate(zip(ready, results))]


@st.fragment
def activations_at_step(runs: list[TrainRun]) -> None:
    """The step control and its chart: moving the step reruns this alone, so the other charts
    (the animation's frames above all) are not sent again."""
    steps = sorted({int(s) for run in runs for s in run.layer_history["step"].unique()})
    chosen = st.session_state.get(STEP_KEY)
    if chosen not in steps:
        st.session_state[STEP_KEY] = chosen = None
    st.session_state[STEP_WIDGET_KEY] = steps[-1] if chosen is None else chosen
    step = st.select_slider(t("train.step"), steps, key=STEP_WIDGET_KEY,
                            on_change=_change_step, help=t("train.step_help"), **KEEP) \
        if len(steps) > 1 else steps[0]
    st.plotly_chart(shared_figure(
        ("train.activations", _figure_key(runs), step, LANG, fit),
        lambda: train_charts.activation_chart(runs, step, t, fit)),
        key="train.chart.activations",
        config=slide(t("train.chart.activations_title", step=step)))


@st.cache_data(max_entries=256, show_spinner=False)
def sentence(pair: TrainPair, name: str, lang: str, _run: TrainRun) -> str:
    """A run's result sentence, once per (set-up, name, language) for every session (≈ 4 ms
    of pandas a run otherwise, at every rerun of every session)."""
    return result_sentence(_run, lambda key, **values: translate(lang, key, **values),
                           markdown_literal)


@st.cache_data(max_entries=256, show_spinner=False)
def right_choice(preset_id: str, pairs: tuple[TrainPair, ...], _runs: list[TrainRun]) -> str | None:
    """The lesson's right choice measured on the runs of these (network, training) pairs, once
    for every session (≈ 5–11 ms of pandas a lesson otherwise, at every rerun)."""
    return train_lessons.right_choice(preset_id, _runs)


def _figure_key(runs: list[TrainRun]) -> tuple:
    """What the page's figures depend on besides the language and the screen: each run's
    pair, name and colour."""
    return tuple((run.setup.config, run.name, run.colour) for run in runs)


def draw_runs(runs: list[TrainRun]) -> None:
    """The finished runs: the animation and the loss chart in their places, the sentences,
    then the insides (a function: the page never stops the script). Figures are built once
    per (runs, language, screen) for every session (ui.serving.shared_figure)."""
    key = (_figure_key(runs), LANG, fit)
    frames = [f for f in (decision_frames(run) for run in runs) if f is not None]
    if frames:
        decision_place.final(shared_figure(
            ("train.decision", *key), lambda: train_charts.decision_animation(frames, t,
                                                                              fit=fit)),
            "train.chart.decision", t("train.chart.decision_title"))
        caption_slot.caption(t("train.decision_caption"))
    loss_place.final(shared_figure(
        ("train.loss", *key), lambda: train_charts.loss_chart(runs, t, fit, steps=total_steps)),
        "train.chart.loss", t("train.chart.loss_title"))
    if answer_open:  # the measured sentences are the answer's facts
        for run in runs:
            sentences.markdown(f"<span style='color:{run.colour}'>■</span> "
                               f"{sentence(run.setup.config, run.name, LANG, run)}",
                               unsafe_allow_html=True)
    else:
        sentences.caption(t("train.results_later"))
    with details:
        st.subheader(t("train.more_charts"), divider="gray")
        st.plotly_chart(shared_figure(
            ("train.gradients", *key), lambda: train_charts.gradient_heatmaps(runs, t, fit)),
            key="train.chart.gradients", config=slide(t("train.chart.grad_title")))
        st.caption(t("train.gradients_caption"))
        st.plotly_chart(shared_figure(
            ("train.updates", *key), lambda: train_charts.update_ratio_chart(runs, t, fit)),
            key="train.chart.updates", config=slide(t("train.chart.update_title")))
        st.caption(t("train.updates_caption"))
        activations_at_step(runs)
        st.plotly_chart(shared_figure(
            ("train.weights", *key), lambda: train_charts.weight_histograms(
                [(run.name, run.colour, final_weights(run.result)) for run in runs], t,
                fit=fit)), key="train.chart.weights", config=slide(t("train.chart.weights_title")))
        st.caption(t("train.share_hint"))


if quiz is not None:
    quizzes.answer(quiz, right_choice(preset_id, tuple(run.setup.config for run in runs), runs),
                   t(f"train.preset.{preset_id}.notice"), t, answer_area)
if covered:
    pass  # nothing measured shows before the answer
elif runs:
    draw_runs(runs)
else:
    caption_slot.info(t("train.nothing"))
