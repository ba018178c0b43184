"""The live class poll with several AppTest sessions on one class code: students answer, the
teacher's present-mode screen counts them and reveals; the share box makes the code; bad codes
are reported and ignored. The sessions share this process's store, as a server's do."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from ui import poll
from ui.frame.i18n import translate
from ui.lessons import choices

from .conftest import APP, shown
from .test_lessons import answer_open, button, choice_radio, lesson_link


def session(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def counts_on_screen(at) -> list[str]:
    """The teacher's count lines (the progress bars' texts)."""
    return [bar.proto.text for bar in at.get("progress")]


@pytest.fixture
def code():
    return poll.new_code()


def test_students_vote_and_the_teacher_sees_the_counts_then_reveals(app, code):
    link = lesson_link("relu_xavier", lang="en", **{"class": code})
    students = [app(**link) for _ in range(4)]
    for student, choice in zip(students, ["half", "half", "one", "two"]):
        assert not student.exception
        choice_radio(student).set_value(choice).run()
        # Counted, not answered: the answer opens only when the teacher reveals.
        assert not answer_open(student, "en") and not student.metric
        assert translate("en", "poll.voted") in [c.value for c in student.caption]
    # One student changes their mind: still one vote each.
    choice_radio(students[3]).set_value("half").run()

    teacher = session(**link, present="1")
    assert not teacher.exception
    assert not teacher.radio or all(not r.key.startswith("lesson.choice.") for r in teacher.radio)
    label = {c: translate("en", f"lesson.relu_xavier.choice.{c}") for c in choices("relu_xavier")}
    assert counts_on_screen(teacher) == [f"{label['half']} — 3", f"{label['one']} — 1",
                                         f"{label['two']} — 0"]
    assert any("answers: 4" in c.value and code in c.value for c in teacher.caption)
    assert not answer_open(teacher, "en")

    # A fifth student arrives; the teacher's screen counts them on its next refresh.
    late = app(**link)
    choice_radio(late).set_value("two").run()
    teacher.run()
    assert counts_on_screen(teacher)[2] == f"{label['two']} — 1"

    button(teacher, "poll.reveal").click().run()
    assert not teacher.exception and answer_open(teacher, "en")
    assert counts_on_screen(teacher)[0].startswith("✓ **")
    assert teacher.metric  # the facts, on the projector

    for student, right in ((students[0], True), (students[2], False)):
        student.run()
        assert answer_open(student, "en")
        verdict = next(s.value for s in student.success)
        assert (translate("en", "lesson.you_right") in verdict) is right
        assert choice_radio(student).disabled  # no change after the reveal


def test_vote_again_clears_the_votes_and_gives_every_student_a_fresh_choice(app, code):
    link = lesson_link("sigmoid", lang="en", **{"class": code})
    student = app(**link)
    choice_radio(student).set_value("same").run()
    teacher = session(**link, present="1")
    button(teacher, "poll.reveal").click().run()
    button(teacher, "poll.again").click().run()
    assert not answer_open(teacher, "en")
    assert all(line.endswith("— 0") for line in counts_on_screen(teacher))
    student.run()
    assert choice_radio(student).value is None and not answer_open(student, "en")
    choice_radio(student).set_value("smaller").run()
    teacher.run()
    assert counts_on_screen(teacher)[0].endswith("— 1")


def test_each_lesson_has_its_own_poll_and_the_next_lesson_opens_closed(app, code):
    link = lesson_link("tanh_small", lang="zh", **{"class": code})
    student = app(**link)
    choice_radio(student).set_value("smaller").run()
    teacher = session(**link, present="1")
    button(teacher, "poll.reveal").click().run()
    student.run()
    assert answer_open(student, "zh")
    button(student, "lesson.next").click().run()
    assert choice_radio(student).value is None and not answer_open(student, "zh")
    assert poll.tally(code, "tanh_large", choices("tanh_large")) == dict.fromkeys(
        choices("tanh_large"), 0)
    # Back to the revealed lesson: its own vote is kept and its answer is open.
    button(student, "lesson.previous").click().run()
    assert choice_radio(student).value == "smaller" and answer_open(student, "zh")


def test_the_share_box_makes_a_class_code_that_both_links_carry(app):
    at = app(lang="en")
    button(at, "poll.start").click().run()
    code = at.session_state["ui.class"]
    assert poll.parse_code(code) == code and len(code) == poll.CODE_LENGTH
    assert at.query_params["class"] == code
    students_link = at.sidebar.code[0].value
    assert f"class={code}" in students_link and "present" not in students_link
    assert translate("en", "poll.class", code=code) in [c.value for c in at.sidebar.caption]
    at.sidebar.toggle(key="ui.predict").set_value(True).run()
    assert "predict=1" in at.sidebar.code[0].value
    button(at, "poll.stop").click().run()
    assert "class" not in at.query_params


@pytest.mark.parametrize("value", ["ab", "<b>x</b>", "a" * 40, "ab cd"])
def test_a_malformed_class_code_is_reported_and_ignored(app, value):
    at = app(**lesson_link("relu_he", lang="en", **{"class": value}))
    assert not at.exception
    warning = " ".join(shown(at.warning))
    assert "class" in warning and "4 to 12 letters or digits" in warning
    assert at.session_state["ui.class"] == ""
    # No poll: the reader answers on their own.
    choice_radio(at).set_value("flat").run()
    assert answer_open(at, "en")


def test_an_unknown_well_formed_code_is_created_on_first_vote(app):
    code = poll.new_code()
    at = app(**lesson_link("relu_he", lang="en", **{"class": code.upper()}))
    assert at.session_state["ui.class"] == code
    assert poll.open_class(code) is True  # nobody used it yet
    poll.store().delete(f"vl:class:{code}")
    choice_radio(at).set_value("flat").run()
    assert poll.open_class(code) is False  # the first vote created it
    assert poll.tally(code, "relu_he", choices("relu_he"))["flat"] == 1


def test_predict_mode_in_a_poll_keeps_the_chart_covered_until_the_reveal(app, code):
    link = lesson_link("orthogonal_linear", lang="en", predict="1", **{"class": code})
    student = app(**link)
    choice_radio(student).set_value("all").run()
    assert not student.get("plotly_chart")
    assert translate("en", "lesson.covered_poll") in shown(student.info)
    teacher = session(**link, present="1")
    assert not teacher.get("plotly_chart")
    button(teacher, "poll.reveal").click().run()
    assert len(teacher.get("plotly_chart")) == 2
    student.run()
    assert len(student.get("plotly_chart")) == 2 and answer_open(student, "en")
