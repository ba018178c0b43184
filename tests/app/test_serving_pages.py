"""Every page still runs with the computations behind ui.serving.limiter, a page whose
computation must wait for a free worker finishes once one is free, and the queued message
speaks the reader's language."""

import threading
import time

import pytest
from streamlit.testing.v1 import AppTest

from ui.serving import theory_cache
from ui.serving.limiter import LIMITER
from ui.frame.i18n import translate

BOUND = 60.0


@pytest.mark.parametrize("page", ["views/explorer.py", "views/compare.py", "views/phase.py",
                                  "views/spectrum.py"])
def test_every_page_runs_through_the_limiter(app, page):
    theory_cache.phase_map.clear()
    theory_cache.spectrum.clear()
    at = app(depth="7", width="64", activation="relu", init="kaiming_normal")
    at.switch_page(page).run()
    assert not at.exception
    assert LIMITER.running == 0 and LIMITER.waiting == 0
    assert LIMITER.peak >= 1


def test_a_page_waits_for_a_free_worker_then_computes(app):
    limiter = LIMITER
    free, holding = threading.Event(), []
    seen_waiting = []

    def occupy():
        with limiter.slot():
            holding.append(1)
            free.wait(BOUND)

    occupants = [threading.Thread(target=occupy) for _ in range(limiter.slots)]
    for thread in occupants:
        thread.start()

    def watch():
        deadline = time.monotonic() + BOUND
        while limiter.waiting == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        seen_waiting.append(limiter.waiting)
        free.set()

    deadline = time.monotonic() + BOUND
    while len(holding) < limiter.slots and time.monotonic() < deadline:
        time.sleep(0.01)
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        at = app(depth="9", width="48", seed="123")
    finally:
        free.set()
        watcher.join(BOUND)
        for thread in occupants:
            thread.join(BOUND)
    assert seen_waiting and seen_waiting[0] >= 1  # the page's run queued for a worker
    assert not at.exception
    assert at.get("plotly_chart")  # and computed once a worker was free
    assert limiter.running == 0 and limiter.waiting == 0


def queued_message():
    from ui.serving.limiter import StreamlitDisplay

    StreamlitDisplay().queued(2)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_queued_message_says_the_place_in_line(lang):
    at = AppTest.from_function(queued_message, default_timeout=30)
    at.session_state["ui.lang"] = lang
    at.run()
    assert [info.value for info in at.info] == [translate(lang, "serving.queued", ahead=3)]


def test_a_lost_worker_is_said_in_words_and_the_next_move_computes(app, monkeypatch):
    from ui.serving import workers

    real_run = workers.run

    def lost(fn, *args):
        raise workers.WorkerLost("the worker process computing this run stopped")

    monkeypatch.setattr(workers, "run", lost)
    at = app(depth="9", width="32", lang="en")
    assert not at.exception
    assert any(translate("en", "serving.worker_lost") == e.value for e in at.error)
    monkeypatch.setattr(workers, "run", real_run)
    at.sidebar.slider(key="cfg.depth").set_value(8).run()
    assert not at.exception
    assert not any(translate("en", "serving.worker_lost") == e.value for e in at.error)
    assert at.get("plotly_chart")
