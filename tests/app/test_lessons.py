"""The lesson sequence on the Explorer (AppTest): previous / next, the question and its
choices, the answer (closed at every lesson change), the right choice measured on the run shown,
predict mode; and the page's small fixes."""

from __future__ import annotations

import json
from functools import lru_cache

import pytest

from core import simulate
from ui.frame.i18n import LANGUAGES, translate
from ui.lessons import SEQUENCE, choices, preset_text, right_choice
from ui.presets import PRESETS, preset_config

from .conftest import by_key, shown


def lesson_link(preset_id: str, **extra) -> dict:
    from core import encode_query

    query = dict(pair.split("=") for pair in encode_query(preset_config(preset_id)).split("&")
                 if pair)
    return {**query, "preset": preset_id, **extra}


def button(at, key):
    return next(b for b in at.button if b.key == key)


@lru_cache(maxsize=None)
def run(preset_id: str):
    return simulate(preset_config(preset_id))


def choice_radio(at):
    return next(r for r in at.radio if r.key.startswith("lesson.choice."))


def answer_open(at, lang: str) -> bool:
    """The verdict is on screen (the answer opened): a success box, or on the teacher's
    projector one bold line under the counts."""
    verdict = translate(lang, "lesson.right", choice="").rstrip(".。")
    return any(s.value.startswith(verdict) for s in at.success) or any(
        f"**{verdict}" in m.value for m in at.markdown)


def assert_closed(at, preset_id: str, lang: str) -> None:
    """A lesson as it opens: the question and its choices, nothing chosen, no verdict, no
    measured number (the answer's text, the headline metrics and the alerts wait)."""
    assert not at.exception
    radio = choice_radio(at)
    assert radio.key.startswith(f"lesson.choice.{preset_id}.") and radio.value is None
    assert not answer_open(at, lang)
    answer = preset_text("answer", preset_id, run(preset_id), lambda k, **v: translate(
        lang, k, **v))
    assert not any(answer[:40] in m.value for m in at.markdown)
    assert not at.metric and not at.error
    assert any(c.value == translate(lang, "lesson.numbers_later") for c in at.caption)


def test_start_then_next_then_previous_walks_the_sequence_and_the_link_follows(app):
    at = app(lang="en")
    button(at, "lesson.start").click().run()
    assert at.session_state["ui.preset"] == SEQUENCE[0]
    assert at.session_state["config"] == preset_config(SEQUENCE[0])
    button(at, "lesson.next").click().run()
    assert not at.exception
    assert at.query_params["preset"] == SEQUENCE[1]
    assert at.session_state["config"] == preset_config(SEQUENCE[1])
    assert at.query_params["width"] == "500"  # tanh_small is the width-500 classic
    button(at, "lesson.previous").click().run()
    assert at.query_params["preset"] == SEQUENCE[0]
    assert button(at, "lesson.previous").disabled


def test_a_lesson_link_shows_title_notice_question_and_choices_with_the_answer_closed(app):
    at = app(**lesson_link("tanh_small", lang="en"))
    assert_closed(at, "tanh_small", "en")
    assert any("Lesson 2/" in m.value and "collapse" in m.value for m in at.markdown)
    notice = shown(at.info)[0]
    assert "N(0, 0.01²)" in notice and "{" not in notice
    assert "0.05" not in notice and "e-1" not in notice  # no measured number before the answer
    assert any(m.value.startswith("**Question:** At layer 10") for m in at.markdown)
    assert choice_radio(at).options == [translate("en", f"lesson.tanh_small.choice.{c}")
                                        for c in choices("tanh_small")]
    assert not at.main.expander  # no folded answer: it opens by choosing


def walk(app, lang: str, opener: str) -> None:
    """Every lesson, in order: it opens closed (also after the previous one's answer was
    opened), the answer opens by ``opener`` ("right": choosing the choice measured right on
    the run shown, "wrong": another choice, "show": the button), with the verdict and the run's
    numbers; then Next. At the end, Previous opens the one before closed too."""
    at = app(**lesson_link(SEQUENCE[0], lang=lang))
    for index, preset_id in enumerate(SEQUENCE):
        assert at.session_state["ui.preset"] == preset_id
        assert_closed(at, preset_id, lang)
        right = right_choice(preset_id, run(preset_id))
        assert right is not None  # the run shown settles the question
        if opener == "show":
            button(at, f"lesson.show.{preset_id}").click().run()
        else:
            pick = right if opener == "right" else next(c for c in choices(preset_id)
                                                        if c != right)
            choice_radio(at).set_value(pick).run()
        assert not at.exception
        verdict = next(s.value for s in at.success if answer_open(at, lang))
        assert translate(lang, f"lesson.{preset_id}.choice.{right}",
                         depth=at.session_state["config"].depth,
                         width=at.session_state["config"].width) in verdict
        if opener == "right":
            assert translate(lang, "lesson.you_right") in verdict
        answer = preset_text("answer", preset_id, run(preset_id),
                             lambda k, **v: translate(lang, k, **v))
        assert any(m.value == answer for m in at.markdown)
        assert at.metric  # the measured numbers come with the answer
        if index + 1 < len(SEQUENCE):
            button(at, "lesson.next").click().run()
    button(at, "lesson.previous").click().run()
    assert_closed(at, SEQUENCE[-2], lang)


@pytest.mark.parametrize("lang,opener", [("en", "right"), ("zh", "show"), ("en", "wrong")])
def test_every_lesson_opens_closed_and_its_answer_is_the_one_measured(app, lang, opener):
    walk(app, lang, opener)


def test_a_preset_chosen_from_the_sidebar_opens_closed(app):
    at = app(**lesson_link("sigmoid", lang="en"))
    button(at, "lesson.show.sigmoid").click().run()
    assert answer_open(at, "en")
    by_key(at.sidebar.selectbox, "ui.preset").set_value("scaled_sigmoid").run()
    assert_closed(at, "scaled_sigmoid", "en")
    choice_radio(at).set_value("same").run()
    assert answer_open(at, "en")
    # The same lesson chosen again from the sidebar: a new visit, closed again.
    by_key(at.sidebar.selectbox, "ui.preset").set_value("sigmoid").run()
    by_key(at.sidebar.selectbox, "ui.preset").set_value("scaled_sigmoid").run()
    assert_closed(at, "scaled_sigmoid", "en")


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_predict_mode_covers_the_chart_until_a_choice(app, lang):
    at = app(**lesson_link("relu_xavier", lang=lang, predict="1"))
    assert not at.exception
    assert not at.get("plotly_chart")  # neither the lesson's chart nor the heatmaps
    assert translate(lang, "lesson.covered") in shown(at.info)
    assert_closed(at, "relu_xavier", lang)
    choice_radio(at).set_value("one").run()
    charts = at.get("plotly_chart")
    assert len(charts) == 2 and answer_open(at, lang)
    assert translate(lang, "lesson.covered") not in shown(at.info)
    # The next lesson is covered again.
    button(at, "lesson.next").click().run()
    assert not at.get("plotly_chart")
    button(at, "lesson.show.relu_he").click().run()
    assert len(at.get("plotly_chart")) == 2


def test_zero_init_draws_what_is_identical(app):
    at = app(**lesson_link("zero_init", lang="en"))
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert figure["layout"]["title"]["text"] == translate("en", "chart.spread.title")
    bars = figure["data"][0]
    assert bars["type"] == "bar" and bars["y"][0] > 0.5 and set(bars["y"][1:]) == {0}
    assert "computes the same value" in str(
        figure["layout"]["annotations"])


def test_relu_he_reads_healthy_first_with_dead_units_as_a_side_note(app):
    at = app(**lesson_link("relu_he", lang="en"))
    button(at, "lesson.show.relu_he").click().run()
    metric = next(m for m in at.metric if m.label == "First layer in trouble")
    assert metric.value == "—"
    assert not at.warning and not at.error
    assert any(s.value.startswith("Healthy:") for s in at.success)
    assert any(c.value.startswith("Side note: up to") for c in at.caption)


@pytest.mark.parametrize("preset_id", ["tanh_small", "zero_init"])
def test_the_camera_button_saves_a_1920_by_1080_png_named_after_the_lesson(app, preset_id):
    at = app(**lesson_link(preset_id, lang="en"))
    config = json.loads(at.get("plotly_chart")[0].proto.config)
    options = config["toImageButtonOptions"]
    assert options["format"] == "png"
    assert (options["width"] * options["scale"], options["height"] * options["scale"]) == (
        1920, 1080)
    assert options["scale"] >= 2  # every text twice its size on screen
    name = translate("en", f"preset.{preset_id}.name")
    assert options["filename"].split("-")[0] == name.split(" ")[0].strip(":")


def test_the_last_lesson_has_no_next(app):
    at = app(**lesson_link(SEQUENCE[-1], lang="en"))
    assert button(at, "lesson.next").disabled and not button(at, "lesson.previous").disabled


def test_lessons_speak_chinese(app):
    at = app(**lesson_link("relu_he", lang="zh"))
    assert any("第 6/" in m.value for m in at.markdown)
    assert any(m.value.startswith("**问题：**") for m in at.markdown)
    assert button(at, "lesson.show.relu_he").label == "显示答案"
    button(at, "lesson.show.relu_he").click().run()
    assert any("附注" in m.value for m in at.markdown)


@pytest.mark.parametrize("preset_id", ["zero_init", "tanh_large"])
def test_first_layer_in_trouble_agrees_with_the_alerts(app, preset_id):
    at = app(**lesson_link(preset_id, lang="en"))
    button(at, f"lesson.show.{preset_id}").click().run()
    metric = next(m for m in at.metric if m.label == "First layer in trouble")
    assert metric.value == "1"


def test_the_table_shows_a_dash_not_none_for_the_input_row(app):
    import pyarrow as pa

    at = app(view="table", lang="en")
    assert not at.exception
    data = at.dataframe[0].proto.arrow_data
    assert data.HasField("styler")  # the browser shows these display values
    shown_values = pa.ipc.open_stream(data.styler.display_values).read_all().to_pandas()
    assert shown_values.iloc[0, 0] == "0" and (shown_values.iloc[0, 1:4] == "—").all()
    assert shown_values.iloc[1, 1] == "256"
    # The data itself (and the CSV) keep NaN.
    assert at.dataframe[0].value.iloc[0].isna().sum() > 10


def test_compare_value_label_speaks_chinese():
    from streamlit.testing.v1 import AppTest

    from .conftest import APP

    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "zh"
    at.query_params["cmp"] = "init_std:0.01,1"
    at.run()
    at.switch_page("views/compare.py").run()
    labels = [w.label for w in at.text_input]
    assert any(label.startswith("取值") and "0 到" in label for label in labels), labels
    assert not any("an integer" in label or "a number" in label for label in labels)


def test_a_chosen_answer_survives_a_language_switch_and_speaks_the_new_language(app):
    at = app(**lesson_link("relu_he", lang="en"))
    choice_radio(at).set_value("flat").run()
    at.sidebar.selectbox(key="ui.lang").set_value("zh").run()
    assert not at.exception and choice_radio(at).value == "flat"
    verdict = next(s.value for s in at.success if answer_open(at, "zh"))
    assert verdict.endswith(translate("zh", "lesson.you_right")) and "。 " not in verdict
