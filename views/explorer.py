"""Explorer: one network, layer by layer — what it does to the variance, and why."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core import Finding, NetworkConfig, SimulationResult, backward_ratio, forward_ratio
from core.theory import layer_variances
from ui import quiz as quizzes
from ui.chart_style import export_config
from ui.explorer import charts
from ui.findings import alarms, finding_sentence, finding_values, headline_layer, is_side_note
from ui.frame import url_state
from ui.frame.i18n import current_language, labels, t, translate
from ui.frame.present import PRESENT_CHART_HEIGHT, is_present, on_phone
from ui.frame.shared_controls import theory_toggle
from ui.frame.sidebar import choose_preset
from ui.frame.text import number
from ui.frame.url_state import EXPLORER_SECTIONS, SERIES_KEY
from ui.lessons import SEQUENCE, choices, neighbours, preset_text, right_choice, setup_text
from ui.presets import PRESETS
from ui.serving.cache import findings as findings_for
from ui.serving.cache import prediction as prediction_for
from ui.serving.cache import follow_depths, simulation, theory_agreement
from ui.serving.figures import shared_figure

config = st.session_state["config"]


def work_text(config) -> str:
    """What a cold run is doing, for a spinner shown after half a second (st.spinner's delay)."""
    width = max(config.layer_widths)
    key = "explorer.simulating_orthogonal" if config.init == "orthogonal" else \
        "explorer.simulating"
    return t(key, depth=config.depth, width=width, batch=config.batch_size)


present = is_present()
lesson_id = st.session_state.get("ui.preset", "")
# The page is laid out — title, the lesson's buttons, every control — while the simulation
# computes (begun before the sidebar was drawn: app.py, cache.begin_simulation); its results
# then fill their places, the charts first: a changed chart is the slowest thing a browser
# draws in a rerun (≈ 60 ms each, bench/browser_latency.py).
# On a projector the lesson's name is the page's one-line title.
st.title(t(f"preset.{lesson_id}.name") if present and lesson_id in PRESETS
         else t("explorer.title"))
if not present:  # the projector's screen is for the lesson and its chart
    st.page_link("views/train.py", label=t("train.link"), icon=":material/model_training:",
                 help=t("train.link_help"), query_params=url_state.share_params(config))


def lesson_bar(preset_id: str) -> DeltaGenerator | None:
    """The lesson sequence, compact enough for a projector: one line of previous · title ·
    next, then the place of the notice, returned; None outside a lesson."""
    if preset_id not in PRESETS:
        st.button(t("lesson.start"), on_click=choose_preset, args=(SEQUENCE[0],),
                  icon=":material/school:", help=t("lesson.start_help"), key="lesson.start")
        return None
    previous, following = neighbours(preset_id)
    left, middle, right = st.columns([1, 6, 1], vertical_alignment="center")
    left.button(t("lesson.previous"), on_click=choose_preset, args=(previous,),
                disabled=previous is None, icon=":material/arrow_back:", key="lesson.previous",
                width="stretch")
    progress = t("lesson.progress", index=SEQUENCE.index(preset_id) + 1, count=len(SEQUENCE))
    middle.markdown(f"**{progress}**" if present else
                    f"**{progress} · {t(f'preset.{preset_id}.name')}**")
    right.button(t("lesson.next"), on_click=choose_preset, args=(following,),
                 disabled=following is None, icon=":material/arrow_forward:", key="lesson.next",
                 icon_position="right",
                 width="stretch")
    return st.empty()


notice_slot = lesson_bar(lesson_id)
in_lesson = notice_slot is not None
if in_lesson:  # what the network is, never what it measured: that comes with the answer
    notice_slot.info(setup_text("notice", lesson_id, config, t))
# Question, then answer: in a lesson the question and its choices come first (drawn from the
# config alone, while the run computes), then the chart. On a projector the question sits
# beside the chart, so that title, notice, chart and question fill one 1280×720 screen; the
# teacher's poll counts and Reveal button are there too.
if in_lesson and present:
    chart_column, question_area = st.columns([2, 1], gap="medium")
    main_chart = chart_column.container()
else:
    question_area = st.container() if in_lesson else None
    main_chart = st.container()


def ask_lesson():
    """The lesson's question and choices, from the config alone (the run is computing)."""
    lang = current_language()  # the labels' language fixed now: Streamlit may call them later
    in_lang = lambda key, **values: translate(lang, key, **values)  # noqa: E731
    question = setup_text("question", lesson_id, config, t)
    return quizzes.ask(lesson_id, choices(lesson_id), question,
                       lambda choice: setup_text(f"choice.{choice}", lesson_id, config, in_lang),
                       t, question_area)


quiz = ask_lesson() if in_lesson else None
answer_area = question_area.container() if in_lesson else None
covered = quiz is not None and quiz.covered
answer_open = quiz is None or quiz.shown
chart_slot = main_chart.empty()
# The chart tells one story; the other series are one click away, under it (not while the
# chart is covered: predict mode).
more = st.session_state.get(SERIES_KEY) if covered else main_chart.pills(
    t("explorer.more_series"), charts.MORE_SERIES, selection_mode="multi", key=SERIES_KEY,
    format_func=labels("chart.series."), help=t("explorer.more_series_help"),
    persist_state="session")
series = charts.STORY_SERIES + tuple(more or ())
headline = st.container(key="headline")
findings_area = st.container()
show_theory = theory_toggle("explorer")
theory_area = st.container()
section = st.segmented_control(t("explorer.section"), EXPLORER_SECTIONS, key="ui.section",
                               format_func=labels("explorer.section."),
                               selection_mode="single", required=True,
                               persist_state="session")
section_area = st.container()
depth = config.depth
THEORY_SERIES = ("pred_preact_var", "pred_act_var", "pred_grad_out_var", "pred_grad_preact_var")
prediction = prediction_for(config)  # the config alone: while the simulation computes
theory = None
if show_theory and prediction.supported:
    theory = prediction.table.set_index("layer")[list(THEORY_SERIES)]

# A long run's spinner (or its place in the queue) shows where its chart will be.
with chart_slot.container(), st.spinner(work_text(config), show_time=True):
    result = simulation(config)
follow_depths(config)  # the depth slider's other values, computed while the server is idle
stats = result.layer_stats
findings = findings_for(config, result)


@st.cache_data(max_entries=256, show_spinner=False)
def lesson_answer(lesson_id: str, config: NetworkConfig, lang: str,
                  _result: SimulationResult) -> tuple[str | None, str]:
    """The lesson's right choice and its answer with the run's numbers, once per (lesson,
    config, language) for every session (≈ 11 ms of pandas for relu_he otherwise, at every
    rerun of every session, the answer open or not)."""
    return (right_choice(lesson_id, _result),
            preset_text("answer", lesson_id, _result,
                        lambda key, **values: translate(lang, key, **values)))


def ratio_text(ratio: float, denominator: float) -> str:
    """A headline ratio; +inf means its numerator is beyond float64, so the ratio exceeds
    (largest float64) / denominator: say that bound (or the largest float64, when the bound
    itself is beyond it)."""
    if math.isinf(ratio) and ratio > 0 and denominator > 0:
        return "> " + number(min(sys.float_info.max / denominator, sys.float_info.max))
    return number(ratio)


def numbers_and_findings() -> None:
    """The headline numbers, then the diagnosis: problems as errors, warnings as warnings; a
    warning that is only a side note when nothing else is wrong (a few dead ReLU units) comes
    after a "healthy" line, in small print, and is not the "first layer in trouble"."""
    layer_rows = stats[stats["layer"] >= 1]
    cols = headline.columns(4)
    cols[0].metric(t("explorer.metric.forward"),
                   ratio_text(forward_ratio(stats), float(layer_rows["out_var"].iloc[0])),
                   help=t("explorer.metric.forward_help"))
    cols[1].metric(t("explorer.metric.backward"),
                   ratio_text(backward_ratio(stats), float(layer_rows["grad_out_var"].iloc[-1])),
                   help=t("explorer.metric.backward_help"))
    layer, kind = headline_layer(alarms(findings))
    cols[2].metric(t("explorer.metric.first_layer"), str(layer) if layer else "—",
                   help=t("explorer.metric.first_layer_help"))
    cols[3].metric(t("explorer.metric.depth"), f"{config.depth} × {max(config.layer_widths)}",
                   help=t("explorer.metric.depth_help"))
    if kind:
        headline.caption(t(f"explorer.first_layer_kind.{kind}"))
    notes = [f for f in findings if is_side_note(f, findings)]
    if notes and not any(f.severity != "ok" for f in alarms(findings)):
        healthy = Finding("healthy", "ok", ratio=forward_ratio(stats),
                          extra={"backward_ratio": backward_ratio(stats)})
        findings_area.success(t("finding.no_alarm", **finding_values(healthy)))
    for finding in findings:
        if finding in notes:
            findings_area.caption(t(f"finding.side_note.{finding.code}",
                                    **finding_values(finding)))
            continue
        sentence = finding_sentence(finding, t)
        show = {"problem": findings_area.error, "warning": findings_area.warning}
        show.get(finding.severity, findings_area.success)(sentence)


beyond = next((f.layer for f in findings if f.code == "forward_variance_overflow"), None)


#: Identical units (zero init): the variance chart would be nearly empty (a log axis cannot
#: draw 0); what there is to see, every unit of a layer the same, is drawn instead.
identical_units = any(f.code == "symmetry" for f in findings)


def build_variance_figure():
    # Built once per key and shared by every session: the projector sizing happens inside.
    if identical_units:
        figure = charts.unit_spread_chart(stats, t)
    else:
        figure = charts.variance_vs_depth(stats, t, first_nonfinite=result.first_nonfinite_layer,
                                          theory=theory, beyond_float64=beyond, series=series)
    return charts.projector(figure, height=PRESENT_CHART_HEIGHT) if present else figure


#: The camera button saves the chart for a slide, named after the lesson (or the page).
export_title = t(f"preset.{lesson_id}.name") if in_lesson else t("explorer.title")
if covered:
    with chart_slot.container(height=PRESENT_CHART_HEIGHT if present else 460, border=True):
        st.info(t("lesson.covered_teacher" if quiz.teacher else
                  "lesson.covered_poll" if quiz.code else "lesson.covered"),
                icon=":material/visibility_off:")
else:
    chart_slot.plotly_chart(shared_figure(
        ("variance", config, current_language(), show_theory, series, present,
         identical_units), build_variance_figure), key="chart.variance",
        config=export_config(export_title))


def theory_captions() -> None:
    if not show_theory:
        return
    if prediction.supported:
        scores = theory_agreement(config, result, prediction)
        theory_area.caption(t("explorer.theory_agreement",
                              forward=number(scores["pred_preact_var"]),
                              backward=number(scores["pred_grad_out_var"])))
        for note in prediction.notes:
            theory_area.caption(t(f"explorer.theory_note.{note}"))
    else:
        theory_area.caption(t(f"explorer.theory_reason.{prediction.reason_code}"))


def distributions() -> None:
    scale = st.radio(t("explorer.hist_scale"), ("std", "shared"), key="ui.hist_scale",
                     format_func=labels("explorer.hist_scale."), horizontal=True,
                     help=t("explorer.hist_scale_help"), persist_state="session")
    stacked = on_phone()  # one panel above the other on a phone, else side by side
    st.plotly_chart(shared_figure(
        ("heatmaps", config, current_language(), scale, stacked),
        lambda: charts.distribution_heatmaps(
            [(result.histograms.get("act", scale), 0, t("chart.heatmap.act")),
             (result.histograms.get("grad_out", scale), 1, t("chart.heatmap.grad"))],
            scale, t, stacked=stacked)), key="chart.heatmaps",
        config=export_config(f"{export_title} {t('chart.heatmap.title')}"))


def layers_section() -> None:
    scale = st.session_state.get("ui.hist_scale", "std")
    default_layers = sorted({1, max(1, (depth + 1) // 2), depth})
    chosen = st.multiselect(t("explorer.layers"), list(range(0, depth + 1)),
                            default=default_layers, max_selections=6)
    st.plotly_chart(charts.layer_histograms(result.histograms.get("act", scale), sorted(chosen),
                                            t, t("chart.histograms.act")), key="chart.hist_act",
                    config=export_config(f"{export_title} {t('chart.histograms.act')}"))
    st.plotly_chart(charts.saturation_chart(stats, t), key="chart.saturation",
                    config=export_config(f"{export_title} {t('chart.saturation.title')}"))


def why_section() -> None:
    st.markdown(t("explorer.why_intro"))
    # Inline math: KaTeX may break it after = and +, so it wraps on a phone.
    st.markdown(r"$\operatorname{E}[(y^{l})^2] = n_{l-1}\,\operatorname{Var}[W^{l}]\,"
                r"\operatorname{E}[(h^{l-1})^2] + \operatorname{E}[b^2]$")
    why_layer = st.slider(t("explorer.why_layer"), 1, depth, min(depth, max(1, depth // 2))) \
        if depth > 1 else 1
    row, previous = stats.loc[why_layer], stats.loc[why_layer - 1]
    h_square = previous["out_var"] + previous["out_mean"] ** 2
    _, bias_var, bias_mean = layer_variances(config)[why_layer - 1]
    bias_square = bias_var + bias_mean ** 2
    predicted = row["fan_in"] * row["weight_var"] * h_square + bias_square
    st.markdown(rf"${predicted:.4g} \approx {int(row['fan_in'])} \times {row['weight_var']:.4g}"
                rf" \times {h_square:.4g} + {bias_square:.3g}$")
    cols = st.columns(3)
    cols[0].metric(t("explorer.why_predicted"), f"{predicted:.4g}")
    if config.norm != "none" and config.norm_position == "before":
        cols[1].metric(t("explorer.why_measured"), "—")
        st.caption(t("explorer.why_norm_note"))
    else:
        cols[1].metric(t("explorer.why_measured"), f"{row['preact_mean_square']:.4g}")
    square = row["preact_mean_square"]
    factor = row["fan_in"] * row["weight_var"] * row["act_mean_square"] / square \
        if square and square == square else float("nan")
    cols[2].metric(t("explorer.why_factor"), f"{factor:.4g}", help=t("explorer.why_factor_help"))
    st.caption(t("explorer.why_fluctuation",
                 percent=f"{100 * math.sqrt(2 / max(1, row['fan_out'])):.0f}"))


def table_section() -> None:
    table = stats
    if prediction.supported:
        predicted = [c for c in prediction.table.columns if c.startswith("pred_")]
        table = stats.merge(prediction.table[["layer", *predicted]], on="layer", how="left")
    # Headers in the reader's language; the help (and the CSV) keep the API's column names.
    # The layer column stays in view while the table scrolls sideways (a phone shows ~3 columns).
    columns = {name: st.column_config.NumberColumn(t(f"column.{name}"), help=f"`{name}`",
                                                   format="%.4g", pinned=name == "layer")
               for name in table.columns}
    # Row 0 (the input) has no weights and no gradient: an empty cell reads "—", not "None".
    shown = table.style.format(lambda v: "—" if v != v else (f"{v:.4g}" if isinstance(v, float)
                                                             else str(v)))
    st.dataframe(shown, hide_index=True, height=420, column_config=columns)
    st.caption(t("explorer.table_help"))
    downloads = st.columns(2)
    downloads[0].download_button(t("explorer.download_csv"), table.to_csv(index=False),
                                 file_name="layer_stats.csv", mime="text/csv")
    downloads[1].download_button(t("explorer.download_json"),
                                 json.dumps(asdict(config), indent=2, default=list),
                                 file_name="config.json", mime="application/json")


if not covered:  # predict mode: nothing measured shows before the answer
    with section_area:
        {"overview": distributions, "layers": layers_section, "why": why_section,
         "table": table_section}[section or "overview"]()
if quiz is not None:
    quizzes.answer(quiz, *lesson_answer(lesson_id, config, current_language(), result), t,
                   answer_area)
if answer_open:
    numbers_and_findings()
else:  # the measured numbers and the diagnosis are the answer's facts
    headline.caption(t("lesson.numbers_later"))
theory_captions()
