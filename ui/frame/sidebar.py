"""The sidebar: a control for every NetworkConfig field, grouped, the lesson presets, the
language, and the share link. Values live in ``st.session_state`` under ui.frame.url_state's keys;
controls that do not apply to the current choices are hidden but keep their values."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from core import FIELD_SPECS, INITS, ConfigError, NetworkConfig
from ui import poll, quiz
from ui.frame import url_state
from ui.frame.classroom import (CONTROL_GROUPS, GROUPS as GROUP_MEMBERS, LOCKABLE, Handout,
                                LinkTooLongForQR, format_hide, hidden, hide_for_lock, parse_hide,
                                qr_png)
from ui.frame.errors import describe_config_error
from ui.frame.i18n import LANGUAGE_KEY, LANGUAGES, labels, t
from ui.frame.present import loopback_notice, students_handout
from ui.frame.shared_controls import KEEP
from ui.frame.text import markdown_literal
from ui.frame.url_state import config_key
from ui.presets import PRESETS, preset_config

WIDTH_OPTIONS = (2, 4, 8, 16, 32, 64, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096)
BATCH_OPTIONS = (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
LOG_STEPS = tuple(float(f"{v:.3g}") for v in np.logspace(-4, 1, 26))  # 1e-4 … 10, 5 per decade
PRESET_KEY = "ui.preset"


def _with(options: tuple, value) -> list:
    """Options plus the current value (a shared link may hold any valid value)."""
    return sorted(set(options) | {value})


@dataclass(frozen=True)
class Control:
    """How one field is shown: the widget and when it applies (a predicate on the session)."""

    draw: Callable[[str, str, str], object]
    applies: Callable[[Callable[[str], object]], bool] = lambda get: True


def _label(field: str) -> str:
    return t(f"field.{field}.label")


def _help(field: str) -> str:
    return t(f"field.{field}.help")


def _choice_label(field: str) -> Callable[[str], str]:
    return labels(f"choice.{field}.")


def _select(field: str, key: str, container) -> object:
    spec = FIELD_SPECS[field]
    return container.selectbox(_label(field), spec.choices, key=key, help=_help(field),
                               format_func=_choice_label(field), **KEEP)


def _select_slider(options: tuple) -> Callable:
    def draw(field: str, key: str, container) -> object:
        value = st.session_state[key]
        return container.select_slider(_label(field), _with(options, value), key=key,
                                       help=_help(field), disabled=_size_locked(field), **KEEP)
    return draw


def _log_slider(field: str, key: str, container) -> object:
    value = st.session_state[key]
    return container.select_slider(_label(field), _with(LOG_STEPS + (0.0,), value), key=key,
                                   help=_help(field), format_func=lambda v: f"{v:g}", **KEEP)


def _int_slider(field: str, key: str, container) -> object:
    spec = FIELD_SPECS[field]
    return container.slider(_label(field), int(spec.low), int(spec.high), key=key,
                            help=_help(field), disabled=_size_locked(field), **KEEP)


def _float_slider(step: float) -> Callable:
    def draw(field: str, key: str, container) -> object:
        spec = FIELD_SPECS[field]
        return container.slider(_label(field), float(spec.low), float(spec.high), step=step,
                                key=key, help=_help(field), **KEEP)
    return draw


def _number(step: float) -> Callable:
    def draw(field: str, key: str, container) -> object:
        spec = FIELD_SPECS[field]
        return container.number_input(_label(field), float(spec.low), float(spec.high),
                                      step=step, key=key, help=_help(field), format="%.4g",
                                      **KEEP)
    return draw


def _toggle(field: str, key: str, container) -> object:
    return container.toggle(_label(field), key=key, help=_help(field), **KEEP)


def _size_locked(field: str) -> bool:
    """depth and width follow from widths when widths is set."""
    return field in ("depth", "width") and bool(st.session_state.get(config_key("widths")))


def _widths_text(field: str, key: str, container) -> None:
    """A text box for widths; parsed into the tuple the config wants, errors shown inline."""
    text_key = "ui.widths_text"
    if text_key not in st.session_state:
        st.session_state[text_key] = ",".join(map(str, st.session_state[key]))

    def parse() -> None:
        text = st.session_state[text_key].replace(" ", "")
        try:
            value = tuple(int(p) for p in text.split(",")) if text else ()
            FIELD_SPECS["widths"].check(value)
        except ConfigError as error:
            st.session_state["ui.widths_error"] = describe_config_error(error, t)
            return
        except ValueError:
            st.session_state["ui.widths_error"] = t("sidebar.widths_error")
            return
        st.session_state.pop("ui.widths_error", None)
        st.session_state[key] = value

    container.text_input(_label(field), key=text_key, help=_help(field), on_change=parse,
                         placeholder="784,256,256,10")
    if st.session_state.get("ui.widths_error"):
        container.error(markdown_literal(st.session_state["ui.widths_error"]))


def _init_uses(param: str) -> Callable:
    return lambda get: param in INITS[get("init")].params


CONTROLS: dict[str, Control] = {
    "depth": Control(_int_slider),
    "width": Control(_select_slider(WIDTH_OPTIONS)),
    "activation": Control(_select),
    "leaky_slope": Control(_float_slider(0.01), lambda get: get("activation") == "leaky_relu"),
    "widths": Control(_widths_text),
    "dtype": Control(_select),
    "init": Control(_select),
    "init_std": Control(_log_slider, _init_uses("init_std")),
    "init_bound": Control(_log_slider, _init_uses("init_bound")),
    "init_value": Control(_number(0.01), _init_uses("init_value")),
    "init_mode": Control(_select, _init_uses("init_mode")),
    "init_gain": Control(_float_slider(0.05), _init_uses("init_gain")),
    "bias_init": Control(_select, lambda get: get("init") != "torch_default"),
    "bias_value": Control(_number(0.01), lambda get: get("bias_init") == "constant"
                          and get("init") != "torch_default"),
    "bias_std": Control(_log_slider, lambda get: get("bias_init") == "normal"
                        and get("init") != "torch_default"),
    "norm": Control(_select),
    "norm_position": Control(_select, lambda get: get("norm") != "none"),
    "residual": Control(_toggle),
    "residual_form": Control(_select, lambda get: bool(get("residual"))),
    "residual_scale": Control(_float_slider(0.01), lambda get: bool(get("residual"))),
    "dropout": Control(_float_slider(0.05)),
    "bn_mode": Control(_select, lambda get: get("norm") == "batchnorm"),
    "bn_momentum": Control(_float_slider(0.01), lambda get: get("norm") == "batchnorm"
                           and get("bn_mode") == "eval"),
    "bn_passes": Control(_int_slider, lambda get: get("norm") == "batchnorm"
                         and get("bn_mode") == "eval"),
    "batch_size": Control(_select_slider(BATCH_OPTIONS)),
    "seed": Control(lambda f, k, c: c.number_input(_label(f), 0, 2**32 - 1, step=1, key=k,
                                                   help=_help(f), **KEEP)),
    "input_dist": Control(_select),
    "input_preprocess": Control(_select),
    "loss": Control(_select),
}

#: (group title key, fields shown, fields folded under "advanced"), from ui.frame.classroom's table.
GROUPS = tuple((f"sidebar.group.{name}", shown, folded)
               for name, (shown, folded) in CONTROL_GROUPS.items())

assert {f for _, shown, folded in GROUPS for f in shown + folded} == set(FIELD_SPECS) == set(
    CONTROLS), "every config field has exactly one control"


def _apply_preset() -> None:
    if st.session_state[PRESET_KEY]:
        choose_preset(st.session_state[PRESET_KEY])


def choose_preset(preset_id: str) -> None:
    """Select a lesson preset and put its config into the controls, keeping the seed (for a
    widget callback: the preset selectbox and the controls are drawn after it)."""
    st.session_state[PRESET_KEY] = preset_id
    quiz.new_visit()  # every lesson change starts with its answer closed
    seed = st.session_state.get(config_key("seed"), 0)
    url_state.set_config(preset_config(preset_id, seed=seed))


def _new_seed() -> None:
    st.session_state[config_key("seed")] = random.SystemRandom().randrange(2**32)


def _relabel() -> None:
    """Re-send every option widget's value after a language change: the browser otherwise
    keeps showing the option labels of the old language.

    Only plain values are re-sent. A chart's selection and a data editor's edits are
    dict-like states that Streamlit refuses to have assigned; the refusal comes when the
    widget is next created, not at the assignment, so it cannot be caught here."""
    for key in [k for k in st.session_state if isinstance(k, str) and k != LANGUAGE_KEY
                and k.startswith(("cfg.", "ui.", "cmp.", "phase.", "train."))]:
        if isinstance(st.session_state[key], Mapping):
            continue
        try:
            st.session_state[key] = st.session_state[key]
        except StreamlitAPIException:
            pass  # buttons keep their state and cannot be set: they have no option labels


def is_hidden(name: str) -> bool:
    """Whether the link's ``hide=`` hides this control (a field or a sidebar item)."""
    return name in hidden(st.session_state.get(url_state.HIDE_KEY, ()))


def render_language() -> None:
    if is_hidden("language"):
        return
    st.sidebar.selectbox("Language / 语言", tuple(LANGUAGES), key=LANGUAGE_KEY,
                         format_func=LANGUAGES.get, on_change=_relabel)


def _preset_label() -> Callable[[str], str]:
    name = labels("preset.")
    return lambda preset_id: name(f"{preset_id}.name") if preset_id else "—"


def keep_preset() -> None:
    """Keep the Explorer's lesson (and its ``preset=`` in the link) on a page that does not
    draw its picker: a widget's value not drawn in a run is dropped, one set in it is not."""
    st.session_state[PRESET_KEY] = st.session_state.get(PRESET_KEY, "")


def render_presets() -> None:
    if is_hidden("presets"):
        return
    options = ("",) + tuple(PRESETS)
    st.sidebar.selectbox(t("sidebar.preset"), options, key=PRESET_KEY, on_change=_apply_preset,
                         format_func=_preset_label(),
                         help=t("sidebar.preset_help"))


def render_controls() -> None:
    def get(field: str):
        return st.session_state.get(config_key(field), FIELD_SPECS[field].default)

    for title, shown, folded in GROUPS:
        shown = tuple(f for f in shown if not is_hidden(f))
        folded = tuple(f for f in folded if not is_hidden(f))
        if not shown and not folded:
            continue
        st.sidebar.subheader(t(title))
        for field in shown:
            control = CONTROLS[field]
            if control.applies(get):
                control.draw(field, config_key(field), st.sidebar)
            if field == "seed":
                st.sidebar.button(t("sidebar.new_seed"), on_click=_new_seed,
                                  icon=":material/casino:", help=t("sidebar.new_seed_help"))
        if not any(CONTROLS[f].applies(get) for f in folded):
            continue
        expander = st.sidebar.expander(t("sidebar.advanced"))
        for field in folded:
            control = CONTROLS[field]
            if control.applies(get):
                control.draw(field, config_key(field), expander)


def clear_stale_preset() -> None:
    """A preset stays selected only while the controls still match it.

    Call before the preset widget is drawn: the session then already holds this run's control
    values (a moved slider's new value, a chosen preset's fields from its callback), and a
    widget's value can be set only before the widget exists in the run."""
    preset_id = st.session_state.get(PRESET_KEY, "")
    if not preset_id:
        return
    values = url_state.control_values()
    if preset_id not in PRESETS or url_state.config_values(
            preset_config(preset_id, seed=values["seed"])) != values:
        st.session_state[PRESET_KEY] = ""


MAY_CHANGE_KEY = "ui.may_change"
#: The share box's QR expander: drawn only while open (a new link's QR code costs ≈ 10 ms of
#: every rerun that changes the link, and an image for the browser to fetch).
QR_KEY = "ui.share_qr"


def _current_may_change() -> list[str]:
    """What the link this session opened lets students change (the lockable names it does
    not hide)."""
    hidden_now = hidden(st.session_state.get(url_state.HIDE_KEY, ()))
    return [name for name in LOCKABLE if not set(GROUP_MEMBERS.get(name, (name,))) <= hidden_now]


def students_link(config: NetworkConfig) -> str:
    """The link to hand out: this experiment, not in present mode, hiding what the share box's
    "students may change" leaves out (plus single controls the opened link already hid)."""
    may_change = st.session_state.get(MAY_CHANGE_KEY, _current_may_change())
    current = st.session_state.get(url_state.HIDE_KEY, ())
    singles = [name for name in current if name not in LOCKABLE and name != "sidebar"]
    hide = parse_hide(format_hide((*hide_for_lock(may_change), *singles)))
    return url_state.share_link(config, present=False, hide=hide)


def _start_poll() -> None:
    st.session_state[url_state.CLASS_KEY] = poll.new_code()


def _stop_poll() -> None:
    st.session_state[url_state.CLASS_KEY] = ""


def _render_poll_controls() -> None:
    """The class poll: a button that makes a class code (or ends the poll), and predict mode.
    Both are link parameters (class=, predict=), so the students' link carries them."""
    code = st.session_state.get(url_state.CLASS_KEY, "")
    if code:
        st.caption(t("poll.class", code=code))
        st.button(t("poll.stop"), on_click=_stop_poll, icon=":material/stop_circle:",
                  key="poll.stop")
    else:
        st.button(t("poll.start"), on_click=_start_poll, icon=":material/how_to_vote:",
                  help=t("poll.start_help"), key="poll.start")
    st.toggle(t("poll.predict"), key=url_state.PREDICT_KEY, help=t("poll.predict_help"), **KEEP)


def render_share(config: NetworkConfig) -> Handout:
    """The share box (link, "students may change", the class poll, QR code); returns the link
    and what students get (a loopback address is named, and this machine's network address
    offered)."""
    if MAY_CHANGE_KEY not in st.session_state:
        st.session_state[MAY_CHANGE_KEY] = _current_may_change()
    given = students_handout(students_link(config))
    if is_hidden("share"):
        return given
    with st.sidebar:
        st.subheader(t("sidebar.share"))
        st.code(given.link, language=None, wrap_lines=True)
        loopback_notice(given, st)
        st.caption(t("sidebar.share_help"))
        st.multiselect(t("classroom.may_change"), LOCKABLE, key=MAY_CHANGE_KEY,
                       format_func=labels("classroom.lockable."),
                       help=t("classroom.may_change_help"), **KEEP)
        _render_poll_controls()
        qr_box = st.expander(t("classroom.qr_title"), icon=":material/qr_code_2:", key=QR_KEY,
                             on_change="rerun")
        if qr_box.open:
            try:
                qr_box.image(qr_png(given.for_students), width="stretch")
            except LinkTooLongForQR:
                qr_box.warning(t("classroom.qr_too_long"))
    return given
