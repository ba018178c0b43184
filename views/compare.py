"""Compare: the same network under several set-ups, side by side, one colour per set-up.

State lives in the session under ui.compare.state's keys (the share link's parameters, see
ui.compare.logic): the sweep, the edited set-ups, the names, the preset and the histogram layer. The
widgets below have keys of their own, rewritten from that state on every run, and write back
through their callbacks, so a preset, a link and the widgets can never disagree.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import FIELD_SPECS
from core.query import format_value
from ui.chart_style import export_config
from ui.compare import charts as compare_charts
from ui.compare.logic import (COMPARE_PRESETS, DEFAULT_SWEEP, EDITOR_FIELDS, SWEEP_DEFAULTS,
                              SWEEP_FIELDS, apply_editor_state, diffs_from_editor, editor_frame,
                              preset_matches, summary_frame, sweep_from_widget)
from ui.compare.state import LAYER_KEY, NAMES_KEY, PRESET_KEY, SETUPS_KEY, SWEEP_KEY
from ui.frame import url_state
from ui.frame.errors import describe_config_error, valid_values
from ui.frame.i18n import current_language, t, translate
from ui.frame.shared_controls import KEEP, theory_toggle
from ui.frame.text import markdown_literal
from ui.lessons import compare_notice
from ui.serving.cache import prediction, simulation
from ui.setups import (MAX_SETUPS, EmptySweep, Run, Sweep, apply_diff, build_setups,
                       parse_names, value_text)

#: format_funcs use the language of *this* run (Streamlit may call them later, outside it).
LANG = current_language()


def tr(key: str, **values) -> str:
    return translate(LANG, key, **values)


MODE_KEY = "cmp.w.mode"
FIELD_KEY = "cmp.w.field"
NAMES_TEXT_KEY = "cmp.w.names"
EDITOR_VERSION_KEY = "cmp.editor_version"
ERROR_KEY = "cmp.input_error"
SAVED_SWEEP_KEY = "cmp.saved_sweep"
LAYER_WIDGET_KEY = "cmp.w.layer"
LAST = "last"


def _values_key(field: str) -> str:
    return f"cmp.w.values.{field}"


def _editor_key() -> str:
    return f"cmp.w.editor.{st.session_state.get(EDITOR_VERSION_KEY, 0)}"


def _sweep() -> Sweep:
    return st.session_state.get(SWEEP_KEY, DEFAULT_SWEEP)


def _setups() -> tuple:
    return st.session_state.get(SETUPS_KEY, ())


def _new_editor() -> None:
    st.session_state[EDITOR_VERSION_KEY] = st.session_state.get(EDITOR_VERSION_KEY, 0) + 1


# --- callbacks (run before the next script run) --------------------------------------------

def _apply_preset() -> None:
    preset_id = st.session_state.get(PRESET_KEY, "")
    preset = COMPARE_PRESETS.get(preset_id)
    if preset is None:
        return
    seed = st.session_state.get(url_state.config_key("seed"), 0)
    url_state.set_config(preset.config(seed=seed))
    st.session_state[SWEEP_KEY] = preset.sweep or DEFAULT_SWEEP
    st.session_state[SETUPS_KEY] = preset.setups
    st.session_state[NAMES_KEY] = ()
    st.session_state[LAYER_KEY] = None
    st.session_state.pop(ERROR_KEY, None)
    _new_editor()


def _change_mode() -> None:
    if st.session_state[MODE_KEY] == "setups":
        sweep = _sweep()
        st.session_state[SAVED_SWEEP_KEY] = sweep
        st.session_state[SETUPS_KEY] = sweep.diffs()
        st.session_state[SWEEP_KEY] = DEFAULT_SWEEP  # the link then carries only the set-ups
        _new_editor()
    else:
        st.session_state[SETUPS_KEY] = ()
        st.session_state[SWEEP_KEY] = st.session_state.pop(SAVED_SWEEP_KEY, DEFAULT_SWEEP)
    st.session_state.pop(ERROR_KEY, None)


def _change_field() -> None:
    field = st.session_state[FIELD_KEY]
    st.session_state[SWEEP_KEY] = Sweep(field, SWEEP_DEFAULTS[field])
    st.session_state.pop(ERROR_KEY, None)


def _change_values(field: str) -> None:
    try:
        sweep = sweep_from_widget(field, st.session_state[_values_key(field)])
    except EmptySweep:
        st.session_state[ERROR_KEY] = t("compare.values_empty")
        return
    except ValueError as error:
        st.session_state[ERROR_KEY] = t("compare.values_error", field=field, valid=str(error))
        return
    st.session_state[SWEEP_KEY] = sweep
    st.session_state.pop(ERROR_KEY, None)


def _change_layer() -> None:
    value = st.session_state[LAYER_WIDGET_KEY]
    st.session_state[LAYER_KEY] = None if value == LAST else int(value)


def _change_names() -> None:
    try:
        st.session_state[NAMES_KEY] = parse_names(st.session_state[NAMES_TEXT_KEY])
        st.session_state.pop(ERROR_KEY, None)
    except ValueError as error:
        st.session_state[ERROR_KEY] = t("compare.names_error", valid=str(error))


def _change_editor(key: str) -> None:
    base = st.session_state["config"]
    frame = editor_frame(base, _setups())
    edited = apply_editor_state(frame, st.session_state.get(key) or {})
    if len(edited) > MAX_SETUPS:
        st.session_state[ERROR_KEY] = t("compare.too_many", max=MAX_SETUPS)
    elif len(edited) == 0:
        st.session_state[ERROR_KEY] = t("compare.values_empty")
        _new_editor()
        return
    else:
        st.session_state.pop(ERROR_KEY, None)
    diffs, problems = diffs_from_editor(base, edited)
    if problems:
        st.session_state[ERROR_KEY] = t("compare.editor_error", message="; ".join(problems))
    st.session_state[SETUPS_KEY] = diffs
    _new_editor()


# --- controls -------------------------------------------------------------------------------

def _field_label(field: str) -> str:
    return tr(f"field.{field}.label")


def _sweep_controls(base) -> None:
    sweep = _sweep()
    st.session_state[FIELD_KEY] = sweep.field
    left, right = st.columns([1, 2])
    left.selectbox(t("compare.field"), SWEEP_FIELDS, key=FIELD_KEY, on_change=_change_field,
                   format_func=_field_label, help=t("compare.field_help"), **KEEP)
    spec = FIELD_SPECS[sweep.field]
    key = _values_key(sweep.field)
    if spec.kind in ("choice", "bool"):
        options = spec.choices if spec.kind == "choice" else (False, True)
        st.session_state[key] = list(sweep.values)
        right.multiselect(t("compare.values"), options, key=key, max_selections=MAX_SETUPS,
                          on_change=_change_values, args=(sweep.field,),
                          format_func=lambda v, f=sweep.field: value_text(f, v, tr),
                          help=t("compare.values_help", base=value_text(
                              sweep.field, getattr(base, sweep.field), t)), **KEEP)
    else:
        if st.session_state.get(ERROR_KEY) is None:
            st.session_state[key] = ", ".join(format_value(spec, v) for v in sweep.values)
        right.text_input(t("compare.values_numbers", valid=valid_values(sweep.field, t)), key=key,
                         on_change=_change_values, args=(sweep.field,),
                         help=t("compare.values_help", base=value_text(
                             sweep.field, getattr(base, sweep.field), t)), **KEEP)


def _column_config(field: str, base):
    """A column per field, typed and bounded by FIELD_SPECS; a new row starts at the base."""
    spec = FIELD_SPECS[field]
    label, help_text = _field_label(field), tr(f"field.{field}.help")
    default = getattr(base, field)
    if spec.kind == "choice":
        return st.column_config.SelectboxColumn(label, options=list(spec.choices), help=help_text,
                                                default=default,
                                                format_func=lambda v: tr(f"choice.{field}.{v}"))
    if spec.kind == "bool":
        return st.column_config.CheckboxColumn(label, help=help_text, default=default)
    if spec.kind == "int":
        return st.column_config.NumberColumn(label, min_value=int(spec.low),
                                             max_value=int(spec.high), step=1, help=help_text,
                                             default=default)
    if spec.kind == "float":
        return st.column_config.NumberColumn(label, min_value=spec.low, max_value=spec.high,
                                             format="%g", help=help_text, default=default)
    return st.column_config.TextColumn(label, help=help_text,
                                       default=",".join(str(v) for v in default))


def _setup_editor(base) -> None:
    key = _editor_key()
    st.data_editor(editor_frame(base, _setups()), key=key, num_rows="dynamic", hide_index=False,
                   column_config={f: _column_config(f, base) for f in EDITOR_FIELDS},
                   on_change=_change_editor, args=(key,))
    st.caption(t("compare.editor_help", max=MAX_SETUPS))


# --- the page -------------------------------------------------------------------------------

base = st.session_state["config"]
st.title(t("compare.title"))
st.page_link("views/train.py", label=t("train.link"), icon=":material/model_training:",
             help=t("train.link_help"), query_params=url_state.share_params(base))
st.caption(t("compare.intro"))

preset_id = st.session_state.get(PRESET_KEY, "")
if preset_id and not preset_matches(preset_id, base, _sweep(), _setups()):
    st.session_state[PRESET_KEY] = preset_id = ""
st.selectbox(t("compare.preset"), ("",) + tuple(COMPARE_PRESETS), key=PRESET_KEY,
             on_change=_apply_preset, help=t("compare.preset_help"),
             format_func=lambda p: tr(f"compare.preset.{p}.name") if p else "—", **KEEP)
if preset_id:
    # The notice's numbers are measured on the preset's set-ups: the runs drawn below (cached).
    preset_configs = [apply_diff(base, diff) for diff in COMPARE_PRESETS[preset_id].diffs()]
    with st.spinner(t("compare.computing", count=len(preset_configs),
                      depth=max(c.depth for c in preset_configs)), show_time=True):
        preset_results = [simulation(config) for config in preset_configs]
    st.info(f"**{t(f'compare.preset.{preset_id}.name')}** — "
            f"{compare_notice(preset_id, preset_results, t)}")

st.session_state[MODE_KEY] = "setups" if _setups() else "sweep"
st.radio(t("compare.mode"), ("sweep", "setups"), key=MODE_KEY, horizontal=True,
         on_change=_change_mode, format_func=lambda m: tr(f"compare.mode.{m}"), **KEEP)
if _setups():
    _setup_editor(base)
else:
    _sweep_controls(base)

if st.session_state.get(ERROR_KEY) is None:
    st.session_state[NAMES_TEXT_KEY] = "; ".join(st.session_state.get(NAMES_KEY, ()))
st.text_input(t("compare.names"), key=NAMES_TEXT_KEY, on_change=_change_names,
              placeholder=t("compare.names_placeholder"), help=t("compare.names_help"), **KEEP)
if st.session_state.get(ERROR_KEY):
    st.warning(markdown_literal(st.session_state[ERROR_KEY]))

diffs = _setups() or _sweep().diffs()
setups = build_setups(base, diffs, st.session_state.get(NAMES_KEY, ()), t)
for setup in setups:
    if setup.config is None:
        st.warning(t("compare.skipped", name=markdown_literal(setup.name),
                     message=markdown_literal(describe_config_error(setup.error, t))))
with st.spinner(t("compare.computing", count=len(setups), depth=max(
        [s.config.depth for s in setups if s.config is not None], default=0)), show_time=True):
    runs = [Run(setup, simulation(setup.config)) for setup in setups if setup.config is not None]



def draw_comparison(runs: list[Run]) -> None:
    """Everything below the controls. A function, so that the page never stops the script:
    the entry point still writes the link and the share box after the page."""
    show_theory = theory_toggle("compare")
    theory = {}
    if show_theory:
        for run in runs:
            predicted = prediction(run.result.config)
            if predicted.supported:
                theory[run.name] = predicted.table.set_index("layer")[["pred_out_var",
                                                                      "pred_grad_out_var"]]
    # The camera button saves each chart for a slide, named after the lesson (or the page).
    preset_id = st.session_state.get(PRESET_KEY, "")
    name = t(f"compare.preset.{preset_id}.name") if preset_id in COMPARE_PRESETS else \
        t("nav.compare")

    def export(part: str) -> dict:
        return export_config(f"{name} {part}")

    # Columns: the two panels side by side on a wide screen, stacked on a phone.
    for column, (series, _) in zip(st.columns(2), compare_charts.OVERLAY_SERIES):
        column.plotly_chart(compare_charts.variance_overlay(runs, t, theory=theory,
                                                            column=series),
                            key=f"cmp.chart.variance.{series}", config=export(series))
    st.caption(t("compare.variance_caption"))

    max_depth = max(run.result.config.depth for run in runs)
    chosen_layer = st.session_state.get(LAYER_KEY)
    if chosen_layer is not None and chosen_layer > max_depth:
        st.session_state[LAYER_KEY] = chosen_layer = None
    # The widget shows "last" for None (a selectbox at None would show an empty placeholder).
    st.session_state[LAYER_WIDGET_KEY] = LAST if chosen_layer is None else chosen_layer
    st.selectbox(t("compare.layer"), [LAST] + list(range(0, max_depth + 1)), key=LAYER_WIDGET_KEY,
                 format_func=lambda v: tr("compare.layer_last") if v == LAST else str(v),
                 on_change=_change_layer, help=t("compare.layer_help"), **KEEP)
    histograms = compare_charts.histogram_grid(runs, st.session_state[LAYER_KEY], t)
    for start in range(0, len(histograms), 3):
        for position, (column, figure) in enumerate(zip(st.columns(3), histograms[start:start + 3])):
            column.plotly_chart(figure, key=f"cmp.chart.histogram.{start + position}",
                                config=export(f"histogram {start + position + 1}"))
    st.plotly_chart(compare_charts.units_chart(runs, t), key="cmp.chart.units",
                    config=export("units"))

    st.subheader(t("compare.summary"))
    summary = summary_frame(runs, t)
    colours = {run.name: run.colour for run in runs}
    shown = summary.copy()  # numbers as text for the screen; the CSV keeps them as numbers
    formats = {"forward": "{:.3g}", "backward": "{:.3g}", "nonfinite": "{:.0f}",
               "saturated": "{:.0f}", "dead": "{:.0f}"}
    for column, pattern in formats.items():
        name = t(f"compare.col.{column}")
        shown[name] = [pattern.format(v) if v is not None and not pd.isna(v) else "—"
                       for v in summary[name]]
    styled = shown.style.map(lambda name: f"color: {colours.get(name, 'inherit')}; font-weight: bold",
                             subset=[t("compare.col.setup")])
    st.dataframe(styled, hide_index=True, column_config={
        t("compare.col.diagnosis"): st.column_config.TextColumn(width="large"),
        t("compare.col.setup"): st.column_config.TextColumn(width="large", pinned=True)})
    st.download_button(t("compare.download_csv"), summary.to_csv(index=False),
                       file_name="comparison.csv", mime="text/csv")
    st.caption(t("compare.share_hint"))


if runs:
    draw_comparison(runs)
else:
    st.info(t("compare.nothing"))
