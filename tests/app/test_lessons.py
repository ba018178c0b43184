"""The lesson sequence on the Explorer (AppTest): previous / next, the question, the folded
answer, the numbers measured on the run shown; and the page's small fixes."""

from __future__ import annotations

import pytest

from ui.lessons import SEQUENCE
from ui.presets import PRESETS, preset_config

from .conftest import by_key, shown


def lesson_link(preset_id: str, **extra) -> dict:
    from core import encode_query

    query = dict(pair.split("=") for pair in encode_query(preset_config(preset_id)).split("&")
                 if pair)
    return {**query, "preset": preset_id, **extra}


def button(at, key):
    return next(b for b in at.button if b.key == key)


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


def test_a_lesson_link_shows_title_notice_question_and_a_folded_answer(app):
    at = app(**lesson_link("tanh_small", lang="en"))
    assert not at.exception
    assert any("Lesson 2/" in m.value and "collapse" in m.value for m in at.markdown)
    notice = shown(at.info)[0]
    assert "n·σ² = 0.05" in notice and "{" not in notice
    assert any(m.value.startswith("**What do you notice?**") for m in at.markdown)
    answer = at.expander[0]
    assert answer.label == "Answer" and not answer.proto.expanded
    assert "Geometrically" in answer.markdown[0].value


def test_the_last_lesson_has_no_next(app):
    at = app(**lesson_link(SEQUENCE[-1], lang="en"))
    assert button(at, "lesson.next").disabled and not button(at, "lesson.previous").disabled


def test_lessons_speak_chinese(app):
    at = app(**lesson_link("relu_he", lang="zh"))
    assert any("第 6/" in m.value for m in at.markdown)
    assert any(m.value.startswith("**你注意到了什么？**") for m in at.markdown)
    assert at.expander[0].label == "答案"
    assert "同屏还有死亡单元" in shown(at.info)[0]


@pytest.mark.parametrize("preset_id", ["zero_init", "tanh_large"])
def test_first_layer_in_trouble_agrees_with_the_alerts(app, preset_id):
    at = app(**lesson_link(preset_id, lang="en"))
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
