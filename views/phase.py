"""Phase diagram: where the sidebar's network sits between the ordered and the chaotic phase,
for its activation — and a click on the map that moves it there."""

from __future__ import annotations

import math

import streamlit as st

from core.theory import MIN_WIDTH, Prediction, layer_variances
from ui.chart_style import export_config
from ui.frame import text
from ui.frame.i18n import labels, t
from ui.frame.shared_controls import KEEP
from ui.serving import theory_cache
from ui.serving.cache import prediction
from ui.theory import charts as theory_charts
from ui.theory.click import apply_selection
from ui.theory.state import (APPLIED_KEY, CHART_KEY, METRIC_KEY, METRICS, applied_matches,
                             hidden_fan_in, reference_layer)

#: Inits whose weights have no variance the mean-field theory could use.
OUTSIDE = {"zeros": "constant_init", "constant": "constant_init", "lsuv": "lsuv"}


def number(value: float) -> str:
    return text.number(value, show_infinity=True)


def power_text(base: float, exponent: int) -> str:
    """base^exponent to 3 significant digits, computed in logs: it may be beyond a float
    (ReLU at width 256 with N(0, 1) weights: χ1 = 128, and 128^147 ≈ 5.4e309)."""
    log10 = exponent * math.log10(base)
    if abs(log10) < 300:
        return f"{base ** exponent:.3g}"
    power = math.floor(log10)
    mantissa = 10 ** (log10 - power)
    if f"{mantissa:.3g}" == "10":  # 9.9996… rounds up
        mantissa, power = 1.0, power + 1
    return f"{mantissa:.3g}e{power:+d}"


def approach_sentence(chi1: float, predicted: Prediction, depth: int) -> str | None:
    """Why χ1 (the slope at the fixed point) and the Explorer's gradient ratio over the network
    (×0.153 for the default tanh + Xavier, where χ1 = 1) are both right: the gradient is
    multiplied at layer l by χ_l = σ_w²·E[φ'(z_l)²] at that layer's own q^l, and the
    Explorer's ratio is their product over layers 2…L. A network that starts away from its
    fixed point q* (tanh + Xavier: q¹ = 1, q* = 0, approached like 1/l) has χ_l ≠ χ1 all the
    way. Numbers from the mean-field table of this network (core.theory.predict)."""
    if not predicted.supported or depth < 2 or not math.isfinite(chi1):
        return None
    table = predicted.table
    chi = table["pred_chi1"].loc[2:]
    grad = table["pred_grad_out_var"]
    ratio = float(grad.iloc[0] / grad.iloc[-1]) if grad.iloc[-1] > 0 else float("nan")
    if not (chi > 0).all() or not math.isfinite(ratio):
        return None
    values = dict(chi1=number(chi1), ratio=number(ratio), depth=depth,
                  chi_first=number(float(chi.iloc[0])), chi_last=number(float(chi.iloc[-1])))
    if float((chi / chi1).apply(math.log).abs().max()) <= math.log(1.05):
        return t("phase.at_fixed_point", **values)
    square = table["pred_preact_mean_square"]
    return t("phase.approach", q_first=number(float(square.iloc[0])),
             q_last=number(float(square.iloc[-1])), **values)


config = st.session_state["config"]
activation = config.activation
slope = theory_cache.theory_slope(activation, config.leaky_slope)
activation_name = t(f"choice.activation.{activation}")

st.title(t("phase.title"))
st.markdown(t("phase.intro"))
approach_slot = st.empty()  # why χ1 and the Explorer's ratio differ: once χ1 is known

metric = st.radio(t("phase.metric"), METRICS, key=METRIC_KEY, horizontal=True,
                  format_func=labels("phase.metric."), help=t("phase.metric_help"), **KEEP)

with st.spinner(t("phase.computing")):
    pm = theory_cache.phase_map(activation, slope)

# The current config: σ_w², σ_b² of the first layer whose fan-in is the hidden width.
marker = None
layer_index = reference_layer(config)
sigma_w2 = sigma_b2 = bias_mean = float("nan")
outside_reason = OUTSIDE.get(config.init)
if outside_reason is None:
    sigma_w2, sigma_b2, bias_mean = layer_variances(config)[layer_index]
    (w_lo, w_hi), (b_lo, b_hi) = pm.w_range, pm.b_range
    if w_lo <= sigma_w2 <= w_hi and b_lo <= sigma_b2 <= b_hi:
        marker = (sigma_w2, sigma_b2)

applied = st.session_state.get(APPLIED_KEY)
if applied_matches(applied, config):
    st.success(t("phase.applied", sigma_w2=number(applied["sigma_w2"]),
                 sigma_b2=number(applied["sigma_b2"]), init_std=f"{applied['init_std']:g}",
                 bias_std=f"{applied['bias_std']:g}", fan_in=applied["fan_in"]))
    st.page_link("views/explorer.py", label=t("phase.go_explorer"), icon=":material/insights:")
elif applied:
    st.session_state.pop(APPLIED_KEY, None)

figure = theory_charts.phase_figure(
    pm.sigma_w2, pm.sigma_b2, pm.log_chi1, pm.xi_c, pm.line_b2, pm.line_w2, metric, t,
    title=t(f"phase.chart_title.{metric}", activation=activation_name), marker=marker)
st.plotly_chart(figure, on_select=apply_selection, selection_mode="points", key=CHART_KEY,
                config=export_config(t(f"phase.chart_title.{metric}",
                                              activation=activation_name)))
st.caption(t("phase.click_help", fan_in=hidden_fan_in(config)))
if metric == "xi_c":
    st.caption(t("phase.xi_c_note"))

if outside_reason is not None:
    st.warning(t(f"phase.outside.{outside_reason}",
                 init=t(f"choice.init.{config.init}")))
else:
    where = t("phase.marker_where", layer=layer_index + 1, fan_in=hidden_fan_in(config),
              sigma_w2=number(sigma_w2), sigma_b2=number(sigma_b2))
    if marker is None:
        st.warning(where + " " + t("phase.marker_off_map"))
    else:
        st.caption("★ " + where)
    mf = theory_cache.point(activation, slope, float(sigma_w2), float(sigma_b2))
    cols = st.columns(4)
    cols[0].metric(t("phase.metric_chi1"), number(mf.chi1), help=t("phase.metric_chi1_help"))
    cols[1].metric(t("phase.metric_q_star"), number(mf.q_star),
                   help=t("phase.metric_q_star_help"))
    cols[2].metric(t("phase.metric_xi_c"), number(mf.xi_c), help=t("phase.metric_xi_c_help"))
    cols[3].metric(t("phase.metric_phase"), t(f"phase.phase_name.{mf.phase}"),
                   help=t("phase.metric_phase_help"))
    if math.isfinite(mf.chi1) and mf.chi1 > 0:
        st.caption(t("phase.depth_sentence", depth=config.depth, chi1=number(mf.chi1),
                     growth=power_text(mf.chi1, config.depth)))
    if config.norm == "none" and not config.residual:
        sentence = approach_sentence(mf.chi1, prediction(config), config.depth)
        if sentence:
            approach_slot.info(sentence, icon=":material/timeline:")
    notes = []
    if bias_mean:  # layer_variances gives a mean only to constant biases
        notes.append(t("phase.note.constant_bias"))
    if config.norm != "none":
        notes.append(t("phase.note.norm"))
    if config.residual:
        notes.append(t("phase.note.residual"))
    if config.dropout > 0:
        notes.append(t("phase.note.dropout"))
    if min(config.layer_widths[:-1]) < MIN_WIDTH:
        notes.append(t("phase.note.narrow"))
    if config.init == "orthogonal":
        notes.append(t("phase.note.orthogonal"))
    for note in notes:
        st.info(note)
