"""Question, then answer, on the page: the Streamlit side of every lesson's question (the
Explorer's in ui.lessons, the Train page's in ui.train.lessons) and of the class poll (ui.poll).

One implementation for every page: a page hands ``ask`` the lesson's key (its poll key too: the
Explorer's lesson ids, the Train page's ``train.<id>``, so that the two never share a poll), the
choices' ids, the question's text and a label for each choice; once its runs are known it hands
``answer`` the right choice measured on them and the answer's text. Nothing here knows a page.

A lesson opens closed: its question and choices, no verdict, no measured numbers. The answer
opens

- on one's own (no ``class=`` in the link): when the reader chooses, or presses "Show the
  answer";
- in a class poll: when the teacher presses "Reveal" (students may change their choice until
  then; the answer cannot open on a student's screen first, or the poll would count answers
  read off the screen).

Every lesson change starts closed: the choice widget's key carries the lesson and a visit
counter that ``new_visit`` (called on every lesson change) advances, so no state of the previous
lesson (or of an earlier visit of the same lesson) carries over.

In predict mode (``predict=1``) the lesson's chart and everything measured stay covered while
the answer is closed. The teacher's screen (present mode with a class code) shows, instead of
the choices, the class's count for each, refreshed every second by an ``st.fragment``; a
student's screen waiting for the reveal checks every few seconds (a cheap fragment that reruns
the page once the answer is revealed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ui import poll
from ui.frame import url_state
from ui.frame.present import is_present

#: The question's container (present mode sizes its text for a projector: ui.frame.present).
QUESTION_KEY = "lesson_question"
VISIT_KEY = "lesson.visit"
SHOWN_KEY = "lesson.shown"
VOTER_KEY = "poll.voter"
OPENED_KEY = "poll.opened"
#: The teacher's counts are at most this old (the issue asks for 2 s).
TEACHER_REFRESH_S = 1.0
#: How often a waiting student's page asks whether the answer was revealed: 100 students at
#: 4 s are 25 small fragment runs a second, each a store read.
STUDENT_REFRESH_S = 4.0

Translate = Callable[..., str]


def new_visit() -> None:
    """The lesson changed (Previous, Next, a preset chosen): the next one starts closed."""
    st.session_state[VISIT_KEY] = st.session_state.get(VISIT_KEY, 0) + 1
    st.session_state.pop(SHOWN_KEY, None)


def _visit() -> int:
    return st.session_state.get(VISIT_KEY, 0)


def choice_key(lesson: str, voting_round: int = 0) -> str:
    """The choice widget's key: a new lesson visit or a new voting round is a fresh widget."""
    return f"lesson.choice.{lesson}.{_visit()}.{voting_round}"


def class_code() -> str:
    return st.session_state.get(url_state.CLASS_KEY, "") or ""


def predict_mode() -> bool:
    return bool(st.session_state.get(url_state.PREDICT_KEY, False))


def voter() -> str:
    """This reader's voter id: one per browser (all its tabs) where Streamlit's XSRF cookie is
    there, else one per session."""
    if VOTER_KEY not in st.session_state:
        try:
            cookie = st.context.cookies.get(poll.XSRF_COOKIE)
        except Exception:  # no request behind this session (AppTest)
            cookie = None
        st.session_state[VOTER_KEY] = poll.browser_voter(cookie) or poll.new_voter()
    return st.session_state[VOTER_KEY]


@dataclass
class Quiz:
    """One lesson's question on this screen, as this run found it."""

    lesson: str
    options: tuple[str, ...]
    label: Callable[[str], str]
    chosen: str | None = None
    code: str = ""
    teacher: bool = False
    shown: bool = False
    #: The poll's (revealed, round) when the page was drawn: a change redraws the page.
    status: tuple[bool, int] = (False, 0)
    #: Where the teacher's live counts go once the run's right answer is known.
    slot: DeltaGenerator | None = field(default=None, repr=False)
    #: Choices on one line, and the teacher's counts side by side (a page whose charts follow
    #: the question on a wide screen).
    horizontal: bool = False

    @property
    def covered(self) -> bool:
        """Predict mode hides the chart and every measured number until the answer opens."""
        return predict_mode() and not self.shown


def _show(lesson: str) -> None:
    st.session_state[SHOWN_KEY] = (lesson, _visit())


def _send_vote(code: str, lesson: str, choice: str) -> None:
    if st.session_state.get(OPENED_KEY) != code:  # a class is created on its first use
        poll.open_class(code)
        st.session_state[OPENED_KEY] = code
    poll.vote(code, lesson, voter(), choice)


def ask(lesson: str, options: tuple[str, ...], question: str, label: Callable[[str], str],
        tr: Translate, container: DeltaGenerator, horizontal: bool = False) -> Quiz:
    """Draw ``question`` and the choices ``options`` (each shown as ``label(choice)``) in
    ``container`` — from what the page is before its runs, so that it is on the page while they
    compute — and return what this screen's reader has done so far. ``lesson`` keys the
    widgets and the class poll. ``label`` must speak the language of this run by itself:
    Streamlit may call a format_func later, outside the run (as ui.frame.i18n.labels does).
    ``horizontal``: the choices on one line (and the teacher's counts side by side)."""
    options = tuple(options)
    code = class_code()
    quiz = Quiz(lesson, options, label, code=code, teacher=bool(code) and is_present(),
                horizontal=horizontal)
    with container.container(key=QUESTION_KEY):
        st.markdown(f"**{tr('lesson.question')}** {question}")
        if code:
            quiz.status = poll.status(code, lesson)
            quiz.shown = quiz.status[0]
        if quiz.teacher:
            quiz.slot = st.container()
            return quiz
        stored = poll.my_vote(code, lesson, voter()) if code else None
        # On one line, the choices and "Show the answer" (or where the poll stands) side by side.
        row = st.container(horizontal=True, vertical_alignment="center", gap="medium") \
            if horizontal else st.container()
        with row:
            quiz.chosen = st.radio(tr("lesson.choose"), options,
                                   key=choice_key(lesson, quiz.status[1]),
                                   index=options.index(stored) if stored in options else None,
                                   format_func=quiz.label, label_visibility="collapsed",
                                   disabled=bool(code) and quiz.shown, horizontal=horizontal)
            if code:
                # One answer per voter, changeable until the reveal; a rerun does not rewrite it.
                if quiz.chosen is not None and quiz.chosen != stored and not quiz.shown:
                    _send_vote(code, lesson, quiz.chosen)
                _watch_poll(quiz, tr)
            else:
                quiz.shown = quiz.chosen is not None or \
                    st.session_state.get(SHOWN_KEY) == (lesson, _visit())
                if not quiz.shown:
                    st.button(tr("lesson.show_answer"), on_click=_show, args=(lesson,),
                              key=f"lesson.show.{lesson}", icon=":material/visibility:")
    return quiz


def _watch_poll(quiz: Quiz, tr: Translate) -> None:
    """A student's page in a class poll: says where they stand, and redraws the page when the
    teacher reveals the answer or starts a new round."""
    @st.fragment(run_every=STUDENT_REFRESH_S)
    def watching() -> None:
        if poll.status(quiz.code, quiz.lesson) != quiz.status:
            st.rerun()
        if not quiz.shown:
            st.caption(tr("poll.voted" if poll.my_vote(quiz.code, quiz.lesson, voter())
                          else "poll.waiting"))
    watching()


def _live_counts(quiz: Quiz, right: str | None, tr: Translate) -> None:
    """The teacher's screen: the class's count for each choice, refreshed every second, and the
    Reveal button (then the right answer is marked)."""
    @st.fragment(run_every=TEACHER_REFRESH_S)
    def counts() -> None:
        if poll.status(quiz.code, quiz.lesson) != quiz.status:  # changed elsewhere: redraw
            st.rerun()
        revealed = quiz.shown
        tally = poll.tally(quiz.code, quiz.lesson, quiz.options)
        shares = poll.share(tally)
        places = st.columns(len(quiz.options)) if quiz.horizontal else \
            [st.container() for _ in quiz.options]
        for place, choice in zip(places, quiz.options):
            text = tr("poll.count", choice=quiz.label(choice), count=tally[choice])
            place.progress(shares[choice], text=f"✓ **{text}**" if revealed and choice == right
                           else text)
        with st.container(horizontal=True, vertical_alignment="center"):
            if not revealed:
                if st.button(tr("poll.reveal"), type="primary", icon=":material/visibility:",
                             help=tr("poll.reveal_help"), key="poll.reveal"):
                    poll.reveal(quiz.code, quiz.lesson)
                    st.rerun()
            elif st.button(tr("poll.again"), icon=":material/replay:",
                           help=tr("poll.again_help"), key="poll.again"):
                poll.reset(quiz.code, quiz.lesson)
                st.rerun()
            st.caption(tr("poll.class", code=quiz.code) + " · " +
                       tr("poll.total", count=sum(tally.values())))
    counts()


def answer(quiz: Quiz, right: str | None, text: str, tr: Translate,
           container: DeltaGenerator) -> None:
    """Once the runs are known: the teacher's counts, and, if the answer is open, the right
    choice ``right`` (measured on the runs shown; None when they do not settle the question),
    the reader's own, and ``text``, the facts with their numbers."""
    if quiz.teacher and quiz.slot is not None:
        with quiz.slot:
            _live_counts(quiz, right, tr)
    if not quiz.shown:
        return
    with container:
        if right is None:
            st.warning(tr("lesson.no_verdict"))
        elif quiz.teacher:  # compact on the projector: the counts above mark it too
            st.markdown(f":green[:material/check_circle: **{tr('lesson.right', choice=quiz.label(right))}**]")
        else:
            verdict = tr("lesson.right", choice=quiz.label(right))
            if quiz.chosen is not None:  # Chinese sentences (。) are joined without a space
                verdict += ("" if verdict.endswith("。") else " ") + (
                    tr("lesson.you_right") if quiz.chosen == right
                    else tr("lesson.you_wrong", choice=quiz.label(quiz.chosen)))
            st.success(verdict, icon=":material/check_circle:")
        st.markdown(text)
