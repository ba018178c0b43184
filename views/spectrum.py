"""Jacobian spectrum: the singular values of ∂out/∂x of the sidebar's network at init — how
evenly it passes every direction of a signal (and of the gradient) through its depth."""

from __future__ import annotations

import math

import streamlit as st

from core import ConfigError
from core.jacobian import DEFAULT_MAX_EXACT, MAX_EXACT_WIDTH
from ui.chart_style import export_config
from ui.frame.errors import describe_config_error
from ui.frame.i18n import t
from ui.frame.text import number
from ui.serving import theory_cache
from ui.theory import charts as theory_charts

config = st.session_state["config"]

st.title(t("spectrum.title"))
st.markdown(t("spectrum.intro"))

def draw_spectrum(result) -> None:
    """The metrics, the histogram and the notes. A function, so that the page never stops the
    script: the entry point still writes the link after the page."""
    values = result.singular_values
    shown, zeros = theory_charts.split_zeros(values)
    spread = theory_charts.log_spread(values)


    cols = st.columns(4)
    cols[0].metric(t("spectrum.metric.mean_squared"), number(result.mean_squared),
                   help=t("spectrum.metric.mean_squared_help"))
    cols[1].metric(t("spectrum.metric.spread"), f"{spread:.2f}" if math.isfinite(spread) else "—",
                   help=t("spectrum.metric.spread_help"))
    if shown.size:
        cols[2].metric(t("spectrum.metric.range"), f"{shown.min():.2g} … {shown.max():.2g}",
                       help=t("spectrum.metric.range_help"))
    else:
        cols[2].metric(t("spectrum.metric.range"), "—", help=t("spectrum.metric.range_help"))
    cols[3].metric(t("spectrum.metric.zeros"), f"{zeros} / {values.size}",
                   help=t("spectrum.metric.zeros_help"))

    title = t("spectrum.chart_title", activation=t(f"choice.activation.{config.activation}"),
              init=t(f"choice.init.{config.init}"), depth=config.depth)
    st.plotly_chart(theory_charts.spectrum_figure(values, result.mean_squared, t, title=title),
                    key="spectrum.chart", config=export_config(title))

    n0, n_last = config.layer_widths[0], config.layer_widths[-1]
    if result.method == "exact":
        st.caption(t("spectrum.method.exact", samples=result.samples, rows=n0, cols=n_last,
                     count=values.size))
    else:
        st.caption(t("spectrum.method.estimate", samples=result.samples, sketch=result.sketch,
                     max_width=MAX_EXACT_WIDTH, budget=f"{DEFAULT_MAX_EXACT:.0e}"))
    if zeros:
        st.caption(t("spectrum.zeros_note", zeros=zeros, count=values.size))
    if config.norm == "batchnorm" and config.bn_mode == "train":
        st.caption(t("spectrum.batchnorm_note"))
    st.info(t("spectrum.isometry"))


try:
    with st.spinner(t("spectrum.computing")):
        spectrum = theory_cache.spectrum(config)
except ConfigError as error:  # too large for the Jacobian, refused before any work
    st.warning(describe_config_error(error, t))
else:
    if spectrum.nonfinite:
        st.error(t("spectrum.overflow"))
        st.caption(t("spectrum.isometry"))
    else:
        draw_spectrum(spectrum)
