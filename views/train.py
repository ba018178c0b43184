"""Train: up to four set-ups trained on the same data from the same seed, side by side.

The base is the sidebar's network with the training settings of this page; the set-ups are a
one-setting sweep or edited differences (ui.train.logic). State lives under ui.train.state's keys
(the share link's parameters); the training controls are keyed by those session keys directly, the
set-up controls write back through callbacks like Compare's.
"""

from __future__ import annotations

import streamlit as st

from core import TRAIN_FIELD_SPECS
from core.query import format_value
from ui.frame import url_state
from ui.frame.i18n import current_language, t, translate
from ui.frame.shared_controls import KEEP
from ui.frame.text import markdown_literal
from ui.serving.cache import dataset, training_with_progress
from ui.setups import EmptySweep, Sweep, sweep_from_widget
from ui.train import charts as train_charts
from ui.train import state as train_state
from ui.train.logic import (DEFAULT_SWEEP, MAX_SETUPS, SETUP_SPECS, SWEEP_DEFAULTS, SWEEP_FIELDS,
                            TRAIN_FIELDS_BY_KEY, TRAIN_KEYS, TRAIN_PRESETS, TrainPair, TrainRun,
                            build_setups, decision_frames, describe_training_error, final_weights,
                            format_setups, parse_names, parse_setups, parse_sweep, preset_matches,
                            result_sentence, value_text)
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
    with st.expander(t("train.controls"), expanded=False):
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

st.title(t("train.title"))
st.caption(t("train.intro", max=MAX_SETUPS))

preset_id = st.session_state.get(PRESET_KEY, "")
if preset_id and not preset_matches(preset_id, base, _setups()):
    st.session_state[PRESET_KEY] = preset_id = ""
st.selectbox(t("train.preset"), ("",) + tuple(TRAIN_PRESETS), key=PRESET_KEY,
             on_change=_apply_preset, help=t("train.preset_help"),
             format_func=lambda p: tr(f"train.preset.{p}.name") if p else "—", **KEEP)
if preset_id:
    st.info(f"**{t(f'train.preset.{preset_id}.name')}** — "
            f"{t(f'train.preset.{preset_id}.notice')}")

_training_controls()
if training_error is not None:
    st.error(t("train.training_error",
               message=markdown_literal(describe_training_error(training_error, t))))

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

setups = build_setups(base, _setups() or _sweep().diffs(), st.session_state.get(NAMES_KEY, ()),
                      t)
for setup in setups:
    if setup.config is None:
        st.warning(t("train.skipped", name=markdown_literal(setup.name),
                     message=markdown_literal(describe_training_error(setup.error, t))))
ready = [setup for setup in setups if setup.config is not None]

# One cached run per set-up; while one computes, the bar counts its steps (a hit is instant).
total = sum(setup.config.training.steps for setup in ready)
progress = st.progress(0.0, text=t("train.progress", done=0, total=total)) if ready else None
runs, done = [], 0
for setup in ready:
    pair = setup.config

    def report(step: int, before: int = done) -> None:
        progress.progress(min(1.0, (before + step) / total),
                          text=t("train.progress", done=before + step, total=total))

    runs.append(TrainRun(setup, training_with_progress(pair.network, pair.training, report),
                         dataset(pair.training)))
    done += pair.training.steps
    report(0)
if progress is not None:
    progress.empty()


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
    st.plotly_chart(train_charts.activation_chart(runs, step, t), key="train.chart.activations")


def draw_runs(runs: list[TrainRun]) -> None:
    """Everything below the controls (a function: the page never stops the script)."""
    for run in runs:
        st.markdown(f"<span style='color:{run.colour}'>■</span> "
                    f"{result_sentence(run, t, markdown_literal)}", unsafe_allow_html=True)

    frames = [f for f in (decision_frames(run) for run in runs) if f is not None]
    if frames:
        # No toolbar: it would sit on the play button (top right).
        st.plotly_chart(train_charts.decision_animation(frames, t), key="train.chart.decision",
                        config={"displayModeBar": False})
        st.caption(t("train.decision_caption"))
    st.plotly_chart(train_charts.loss_chart(runs, t), key="train.chart.loss")
    st.plotly_chart(train_charts.gradient_heatmaps(runs, t), key="train.chart.gradients")
    st.caption(t("train.gradients_caption"))
    st.plotly_chart(train_charts.update_ratio_chart(runs, t), key="train.chart.updates")
    st.caption(t("train.updates_caption"))

    activations_at_step(runs)
    st.plotly_chart(train_charts.weight_histograms(
        [(run.name, run.colour, final_weights(run.result)) for run in runs], t),
        key="train.chart.weights")
    st.caption(t("train.share_hint"))


if runs:
    draw_runs(runs)
else:
    st.info(t("train.nothing"))
