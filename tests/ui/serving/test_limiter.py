"""ui.serving.limiter: the limiter really bounds concurrent computations, a queued user is told
so, concurrent misses on one key compute once, one BLAS thread while computing.

No timing: every wait is for a condition, with a generous bound.
"""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
import streamlit as st

from ui.serving.limiter import Limiter, Served, computing, limit_blas_threads

BOUND = 30.0  # seconds: generous, only reached when something is broken


def wait_until(condition, what: str, bound: float = BOUND) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {bound} s: {what}")
        time.sleep(0.005)


class Probe:
    """Counts how many fake computations run at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.gate = threading.Event()

    def work(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        self.gate.wait(BOUND)
        with self.lock:
            self.now -= 1


def test_limiter_lets_at_most_k_run_and_queues_the_rest():
    limiter, probe = Limiter(2), Probe()

    def job():
        with limiter.slot():
            probe.work()

    threads = [threading.Thread(target=job) for _ in range(8)]
    for thread in threads:
        thread.start()
    wait_until(lambda: limiter.running == 2 and limiter.waiting == 6, "2 running, 6 queued")
    assert probe.most == 2
    probe.gate.set()
    for thread in threads:
        thread.join(BOUND)
    assert probe.most == 2 and limiter.peak == 2
    assert limiter.running == 0 and limiter.waiting == 0


def test_queued_runs_are_served_in_order_and_told_their_place():
    limiter = Limiter(1)
    limiter.acquire()  # this thread holds the only slot
    order, places = [], {}

    def job(name):
        def on_wait(ahead):
            places.setdefault(name, ahead)
        with limiter.slot(on_wait):
            order.append(name)

    threads = []
    for name in "abc":
        thread = threading.Thread(target=job, args=(name,))
        thread.start()
        threads.append(thread)
        wait_until(lambda: name in places, f"{name} queued")
    limiter.release()
    for thread in threads:
        thread.join(BOUND)
    assert order == ["a", "b", "c"]
    assert places == {"a": 0, "b": 1, "c": 2}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def serve_in_turn(limiter: Limiter, arrivals: list[tuple[str, float, float, bool]]) -> list[str]:
    """Queue jobs (name, arrival time on the fake clock, cost, background) while this thread
    holds the only slot, then release it: the order in which they ran."""
    limiter.acquire()
    order, threads = [], []
    for name, at, cost, background in arrivals:
        limiter.clock.now = at
        queued = limiter.waiting

        def job(name=name, cost=cost, background=background):
            with limiter.slot(cost=cost, background=background):
                order.append(name)

        thread = threading.Thread(target=job)
        thread.start()
        threads.append(thread)
        wait_until(lambda: limiter.waiting == queued + 1, f"{name} queued")
    limiter.release()
    for thread in threads:
        thread.join(BOUND)
    return order


@pytest.mark.parametrize("arrivals,order", [
    # due = arrival + 10 · cost: the long run (0.8 s) is due at 8 s, the short one (0.05 s)
    # that arrives 1 s later at 1.5 s.
    pytest.param([("long", 0.0, 0.8, False), ("short", 1.0, 0.05, False)], ["short", "long"],
                 id="a short run overtakes a long one that arrived shortly before"),
    pytest.param([("long", 0.0, 0.8, False), ("short", 9.0, 0.05, False)], ["long", "short"],
                 id="a long run is not overtaken by runs that arrive after it is due"),
    pytest.param([(name, float(i), 0.3, False) for i, name in enumerate("abc")],
                 ["a", "b", "c"], id="equal costs are served in arrival order"),
    pytest.param([("warm-up", 0.0, 0.0, True), ("user", 50.0, 1.0, False)],
                 ["user", "warm-up"], id="the warm-up waits behind every user"),
])
def test_the_queue_serves_the_ticket_due_first(arrivals, order):
    limiter = Limiter(1, stretch=10.0, clock=FakeClock())
    assert serve_in_turn(limiter, arrivals) == order


def test_served_queues_by_the_cost_it_is_given():
    limiter = Limiter(1, stretch=10.0, clock=FakeClock())
    seen = []
    served = Served(lambda n: n, limiter=limiter, display=FakeDisplay, cost=lambda n: n / 10)
    limiter.acquire()
    threads = []
    for n in (9, 1):  # a 0.9 s run, then a 0.1 s one
        queued = limiter.waiting
        threads.append(threading.Thread(target=lambda n=n: seen.append(served(n))))
        threads[-1].start()
        wait_until(lambda: limiter.waiting == queued + 1, f"{n} queued")
    limiter.release()
    for thread in threads:
        thread.join(BOUND)
    assert seen == [1, 9]


def test_a_stopped_waiter_leaves_the_queue():
    limiter = Limiter(1)
    limiter.acquire()
    stop = threading.Event()
    outcome = []

    def on_wait(ahead):
        if stop.is_set():
            raise RuntimeError("stopped")  # what Streamlit does to a run whose user moved on

    def job():
        try:
            with limiter.slot(lambda ahead: on_wait(ahead)):
                outcome.append("ran")
        except RuntimeError:
            outcome.append("stopped")

    thread = threading.Thread(target=job)
    thread.start()
    wait_until(lambda: limiter.waiting == 1, "one waiter")
    stop.set()
    thread.join(BOUND)
    assert outcome == ["stopped"] and limiter.waiting == 0
    limiter.release()
    assert limiter.try_acquire()  # the slot is free again, nobody left in line
    limiter.release()


def test_a_slot_is_reentrant_in_its_thread():
    limiter = Limiter(1)
    with limiter.slot():
        with limiter.slot():  # e.g. Served's slot, then computing() inside the cached function
            assert limiter.running == 1
    assert limiter.running == 0
    with pytest.raises(RuntimeError):
        limiter.release()


class FakeDisplay:
    log: list = []

    def queued(self, ahead):
        self.log.append(("queued", ahead))

    def computing(self):
        self.log.append(("computing",))
        return contextlib.nullcontext()

    def done(self):
        self.log.append(("done",))


def make_served(limiter: Limiter, probe: Probe, calls: list):
    # A fresh cached function per test (Streamlit keys the cache by the function's code).
    @st.cache_data(show_spinner=False)
    def fake_core(key: int) -> int:
        with computing(limiter):
            calls.append(key)
            probe.work()
            return key * 10

    FakeDisplay.log = []
    return Served(fake_core, limiter=limiter, display=FakeDisplay)


def test_thirty_sessions_on_one_link_compute_once():
    limiter, probe, calls = Limiter(2), Probe(), []
    served = make_served(limiter, probe, calls)
    served.clear()
    results = []
    threads = [threading.Thread(target=lambda: results.append(served(7))) for _ in range(30)]
    for thread in threads:
        thread.start()
    wait_until(lambda: probe.now == 1, "the computation started")
    probe.gate.set()
    for thread in threads:
        thread.join(BOUND)
    assert calls == [7] and results == [70] * 30
    assert limiter.peak == 1  # the other 29 waited for the result, not for a worker
    served.clear()


def test_different_links_compute_at_most_k_at_once_and_the_queue_is_shown():
    limiter, probe, calls = Limiter(2), Probe(), []
    served = make_served(limiter, probe, calls)
    served.clear()
    threads = [threading.Thread(target=served, args=(key,)) for key in range(6)]
    for thread in threads:
        thread.start()
    wait_until(lambda: probe.now == 2 and limiter.waiting == 4, "2 computing, 4 queued")
    probe.gate.set()
    for thread in threads:
        thread.join(BOUND)
    assert sorted(calls) == list(range(6)) and probe.most == 2
    assert {entry[1] for entry in FakeDisplay.log if entry[0] == "queued"} >= {0, 1, 2, 3}
    assert sum(entry == ("computing",) for entry in FakeDisplay.log) == 6
    # A second round is all hits: no slot taken, nothing shown.
    FakeDisplay.log = []
    assert [served(key) for key in range(6)] == [0, 10, 20, 30, 40, 50]
    assert FakeDisplay.log == [] and limiter.running == 0 and len(calls) == 6
    served.clear()


def test_a_started_computation_is_joined_by_the_callers_own_call():
    limiter, probe, calls = Limiter(2), Probe(), []
    served = make_served(limiter, probe, calls)
    served.clear()
    assert served.start(3) is True
    wait_until(lambda: probe.now == 1, "the started computation runs")
    assert served.start(3) is False  # already computing
    result = []
    page = threading.Thread(target=lambda: result.append(served(3)))
    page.start()
    wait_until(lambda: ("computing",) in FakeDisplay.log, "the page waits for it")
    assert limiter.running == 1  # the page holds no slot of its own while it waits
    probe.gate.set()
    page.join(BOUND)
    assert result == [30] and calls == [3]
    assert served.start(3) is False  # computed: nothing to begin
    served.clear()


def test_a_computation_is_started_only_when_a_slot_is_free_at_once():
    limiter, probe, calls = Limiter(1), Probe(), []
    served = make_served(limiter, probe, calls)
    served.clear()
    with limiter.slot():  # another session computes
        assert served.start(4) is False
    # The slot free at the check but taken before the thread asks for it: the thread gives
    # up, and the caller's own call computes it.
    original = limiter.try_acquire
    limiter.try_acquire = lambda: False
    try:
        assert served.start(5) is True
        wait_until(lambda: not served._in_flight, "the started thread gave up")
    finally:
        limiter.try_acquire = original
    probe.gate.set()
    assert served(5) == 50 and calls == [5]
    served.clear()


def test_a_started_computation_that_fails_is_computed_again_by_the_caller():
    limiter, attempts = Limiter(1), []

    @st.cache_data(show_spinner=False)
    def flaky(key: int) -> int:
        with computing(limiter):
            attempts.append(key)
            if len(attempts) == 1:
                raise RuntimeError("a worker died")
            return key

    served = Served(flaky, limiter=limiter, display=FakeDisplay)
    served.clear()
    assert served.start(6) is True
    wait_until(lambda: attempts and not served._in_flight, "the started run failed")
    assert served(6) == 6 and attempts == [6, 6] and limiter.running == 0
    served.clear()


def test_after_a_computation_blas_runs_one_thread_in_every_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return [i["num_threads"] for i in threadpoolctl.threadpool_info()
                if i["user_api"] == "blas"]

    limiter, seen = Limiter(1), {}

    def compute():
        with computing(limiter):
            seen["worker"] = blas_threads()

    thread = threading.Thread(target=compute)
    thread.start()
    thread.join(BOUND)
    seen["main"] = blas_threads()
    if not seen["main"]:
        pytest.skip("no BLAS library found by threadpoolctl")
    assert seen == {"worker": [1] * len(seen["main"]), "main": [1] * len(seen["main"])}
    assert limit_blas_threads() is True


def test_a_waiter_is_told_again_only_when_its_place_changes():
    limiter = Limiter(1)
    limiter.acquire()
    told = []

    def first():
        limiter.acquire(told.append, poll=BOUND)  # no timed reminder within the test
        limiter.release()

    thread = threading.Thread(target=first, daemon=True)
    thread.start()
    try:
        wait_until(lambda: told == [0], "the first waiter told its place once")
        for _ in range(20):  # others queue behind it and leave: every change wakes it
            with limiter._cond:
                limiter._cond.notify_all()
        time.sleep(0.1)  # time to wake: a waiter whose place did not change stays quiet
        assert told == [0]
    finally:
        limiter.release()
        thread.join(BOUND)
    assert told == [0]


def test_a_session_joining_a_computation_waits_outside_the_cache_until_it_is_done():
    """The joiner must not take the cache's per-key lock while the computing session holds
    the only slot: it could win that lock, compute itself and wait for the slot forever."""
    limiter, gate, inside = Limiter(1), threading.Event(), []

    def cached(n):
        inside.append(threading.current_thread().name)
        if len(inside) == 1:
            gate.wait(BOUND)  # the first computation is slow
        return n * 2

    served = Served(cached, limiter=limiter, display=FakeDisplay)
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", served(21)),
                             name="first")
    first.start()
    wait_until(lambda: inside == ["first"], "the first session computing")
    joiner = threading.Thread(target=lambda: results.setdefault("joiner", served(21)),
                              name="joiner")
    joiner.start()
    wait_until(lambda: served._in_flight and limiter.waiting == 0 and joiner.is_alive(),
               "the joiner waiting")
    time.sleep(0.05)  # time to (wrongly) call the cached function
    assert inside == ["first"]
    gate.set()
    first.join(BOUND)
    joiner.join(BOUND)
    assert results == {"first": 42, "joiner": 42}
    assert inside == ["first", "joiner"]  # the joiner read the cache (a hit in Streamlit's)
    assert limiter.peak == 1
