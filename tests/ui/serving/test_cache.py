"""The cached core: one computation per distinct experiment, shared by every session."""

import threading
import time

import ui.serving.cache
import ui.serving.worker_tasks
from core import NetworkConfig, simulate
from core.config import MAX_DEPTH
from ui.serving.cache import DepthNeighbourhood

#: Generous bound for a thread to reach a point (never a timing assertion).
BOUND = 60.0


def test_equal_configs_compute_once(monkeypatch):
    calls = []
    real = ui.serving.worker_tasks.simulate_drawn

    def counting(config):
        calls.append(config)
        return real(config)

    monkeypatch.setattr(ui.serving.worker_tasks, "simulate_drawn", counting)
    ui.serving.cache.simulation.clear()
    first = ui.serving.cache.simulation(NetworkConfig(depth=3, width=16, batch_size=8, seed=1))
    again = ui.serving.cache.simulation(NetworkConfig(depth=3, width=16, batch_size=8, seed=1))
    other = ui.serving.cache.simulation(NetworkConfig(depth=3, width=16, batch_size=8, seed=2))
    assert len(calls) == 2
    assert again.layer_stats.equals(first.layer_stats)
    assert not other.layer_stats.equals(first.layer_stats)
    ui.serving.cache.simulation.clear()


def test_what_the_explorer_derives_is_computed_once_per_config(monkeypatch):
    from core import diagnose
    from core.theory import agreement, predict

    calls = []
    real_diagnose, real_agreement = ui.serving.cache.diagnose, ui.serving.cache.agreement
    monkeypatch.setattr(ui.serving.cache, "diagnose",
                        lambda result: calls.append("diagnose") or real_diagnose(result))
    monkeypatch.setattr(ui.serving.cache, "agreement",
                        lambda stats, table: calls.append("agreement") or real_agreement(stats,
                                                                                          table))
    ui.serving.cache.findings.clear()
    ui.serving.cache.theory_agreement.clear()
    config = NetworkConfig(depth=4, width=32, batch_size=16, activation="relu", seed=3)
    result = simulate(config)
    prediction = predict(config)
    for _ in range(3):
        assert ui.serving.cache.findings(config, result) == diagnose(result)
        assert ui.serving.cache.theory_agreement(config, result, prediction) == agreement(
            result.layer_stats, prediction.table)
    assert calls == ["diagnose", "agreement"]
    other = NetworkConfig(depth=4, width=32, batch_size=16, activation="relu", seed=4)
    ui.serving.cache.findings(other, simulate(other))
    assert calls == ["diagnose", "agreement", "diagnose"]
    ui.serving.cache.findings.clear()
    ui.serving.cache.theory_agreement.clear()


def test_trainings_run_together_and_are_shown_while_they_train(monkeypatch):
    from core import TrainConfig, train

    ui.serving.cache.training.clear()
    network = NetworkConfig(depth=3, width=16, activation="tanh", init="xavier_normal")
    pairs = [(network, TrainConfig(n_points=100, batch_size=10, steps=steps, record_every=5,
                                   lr=lr)) for steps, lr in ((400, 0.1), (300, 0.03))]
    # A report whenever a row is recorded, so that a short run is seen while it trains.
    monkeypatch.setattr(ui.serving.train_live, "REPORT_SECONDS", 0.0)
    # A run's first report is held until the page has drawn a run while it trains: a quick
    # run could otherwise end between two looks (never race the clock).
    drawn = threading.Event()
    update = ui.serving.cache.LIVE.update

    def held_update(key, payload):
        update(key, payload)
        drawn.wait(BOUND)

    monkeypatch.setattr(ui.serving.cache.LIVE, "update", held_update)
    seen = []

    def show(states):
        seen.append(states)
        if any(kind == "training" and partial for kind, partial in states):
            drawn.set()

    results = ui.serving.cache.trainings(pairs, show, poll_s=0.001, show_s=0.0)
    for (network, config), result in zip(pairs, results):
        assert result.history.equals(train(network, config).history)
    partial = [(kind, p) for states in seen for kind, p in states if kind == "training" and p]
    assert partial, "no run was shown while it trained"
    assert all(0 <= p.step <= p.steps and len(p.history) >= 1 for _, p in partial)
    assert all(len(states) == 2 for states in seen)
    # cached now: nothing to show, the same results
    again = []
    assert [r.history.equals(s.history) for r, s in zip(
        ui.serving.cache.trainings(pairs, again.append), results)] == [True, True]
    assert again == []
    ui.serving.cache.training.clear()


def test_many_pages_watching_share_a_bounded_number_of_redraws():
    live = ui.serving.cache.LiveTrainings()
    assert live.show_seconds(0.25) == 0.25
    with live.watching(), live.watching():
        assert live.watchers == 2 and live.show_seconds(0.25) == 0.25
    assert live.watchers == 0
    many = [live.watching() for _ in range(32)]
    for watch in many:
        watch.__enter__()
    # 32 pages: each redraws every 2 s, 16 pictures a second in all
    assert live.show_seconds(0.25) == 32 / ui.serving.cache.LIVE_DRAWS_PER_SECOND == 2.0
    for watch in many:
        watch.__exit__(None, None, None)
    assert live.watchers == 0


# -- the depth slider's neighbourhood -----------------------------------------------------------



def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + BOUND
    while not condition():
        assert time.monotonic() < deadline, f"not within {BOUND} s: {what}"
        time.sleep(0.01)


def test_the_neighbourhood_is_the_slider_nearest_first_and_bounded():
    around = DepthNeighbourhood(lambda c: None, lambda c: False, limit=MAX_DEPTH - 1)
    assert around.order(10)[:6] == [11, 9, 12, 8, 13, 7]
    assert sorted(around.order(10)) == [d for d in range(1, MAX_DEPTH + 1) if d != 10]
    assert around.order(MAX_DEPTH)[:3] == [MAX_DEPTH - 1, MAX_DEPTH - 2, MAX_DEPTH - 3]
    assert DepthNeighbourhood(lambda c: None, lambda c: False, limit=4).order(1) == [2, 3, 4, 5]


class Warming:
    """A warm function that records each config and waits for the test's go."""

    def __init__(self, ready=()):
        self.seen, self.go, self.ready = [], threading.Semaphore(0), set(ready)

    def warm(self, config):
        self.seen.append(config.depth)
        assert self.go.acquire(timeout=BOUND)
        self.ready.add(config.depth)


def test_it_computes_what_is_not_ready_and_follows_the_newest_network():
    warming = Warming(ready={6})
    around = DepthNeighbourhood(warming.warm, lambda c: c.depth in warming.ready, limit=6)
    config = NetworkConfig(depth=5, width=8, batch_size=4)
    around.follow(config)
    for _ in range(3):
        warming.go.release()
    wait_until(lambda: len(warming.seen) == 4, "three computed, the fourth begun")
    assert warming.seen == [4, 7, 3, 8]  # 6 was ready: skipped
    around.follow(config.replace(depth=50))  # a user opened another network
    warming.go.release()  # the fourth (depth 8) ends; the old neighbourhood is left
    wait_until(lambda: len(warming.seen) == 5, "the new neighbourhood begun")
    assert warming.seen[4] == 51
    for _ in range(6):
        warming.go.release()
    wait_until(lambda: len(warming.seen) == 10, "the new neighbourhood computed")
    assert warming.seen[4:] == [51, 49, 52, 48, 53, 47]


def test_networks_given_by_their_widths_and_configs_over_budget_are_left_alone():
    warming = Warming()
    around = DepthNeighbourhood(warming.warm, lambda c: False, limit=3)
    around.follow(NetworkConfig(widths=(8, 8, 8)))
    assert around._thread is None  # no slider to move
    # Width 4096 at batch 512: depths 1 and 2 are within the budget, 3 and 4 are not.
    wide = NetworkConfig(depth=2, width=4096, batch_size=512)
    assert [c.depth for c in around.neighbours(wide)] == [1]


def test_a_network_whose_every_depth_is_computed_is_not_scanned_again():
    warming, looked, computed = Warming(), [], set()

    def warm(config):
        warming.warm(config)
        computed.add(config)

    def ready(config):
        looked.append(config.width)
        return config in computed

    around = DepthNeighbourhood(warm, ready, limit=MAX_DEPTH - 1)
    config = NetworkConfig(depth=3, width=8, batch_size=4)
    for _ in range(MAX_DEPTH - 1):
        warming.go.release()
    around.follow(config)
    wait_until(lambda: len(warming.seen) == MAX_DEPTH - 1, "every other depth computed")
    wait_until(lambda: config.replace(depth=1) in around._done, "the network remembered")
    looked.clear()
    around.follow(config.replace(depth=120))  # a student moves the slider: nothing to scan
    around.follow(config.replace(depth=7))
    another = config.replace(width=9)
    warming.go.release()
    around.follow(another)  # another network is followed as before
    wait_until(lambda: len(warming.seen) >= MAX_DEPTH, "the other network's first neighbour")
    assert warming.seen[MAX_DEPTH - 1] == 4 and set(looked) == {9}  # width 8 never looked at


def test_nothing_is_looked_at_while_users_compute_or_wait():
    warming, busy, looked = Warming(), threading.Event(), []
    busy.set()
    around = DepthNeighbourhood(warming.warm, lambda c: looked.append(c) or False, limit=3,
                                idle=lambda own: not busy.is_set(), idle_poll_s=0.01)
    around.follow(NetworkConfig(depth=5, width=8, batch_size=4))
    time.sleep(0.3)  # not a timing assertion: nothing may happen while busy, however long
    assert looked == [] and warming.seen == []
    busy.clear()  # the users are served: the neighbourhood goes on
    for _ in range(3):
        warming.go.release()
    wait_until(lambda: len(warming.seen) == 3, "the neighbours computed once idle")
    assert warming.seen == [6, 4, 7]


def test_nothing_is_computed_until_the_explorer_pages_have_been_quiet():
    warming = Warming()
    around = DepthNeighbourhood(warming.warm, lambda c: False, limit=2, idle_poll_s=0.01,
                                quiet_s=3600.0)  # a class that never stops moving sliders
    around.follow(NetworkConfig(depth=5, width=8, batch_size=4))
    time.sleep(0.3)  # not a timing assertion: nothing may happen within the hour
    assert warming.seen == []
    around.quiet_s = 0.0  # the class went quiet
    for _ in range(2):
        warming.go.release()
    wait_until(lambda: len(warming.seen) == 2, "the neighbours computed once quiet")


def test_every_idle_worker_computes_a_neighbour_and_users_come_first():
    warming, users = Warming(), []
    around = DepthNeighbourhood(warming.warm, lambda c: False, limit=4, parallel=2,
                                idle=lambda own: not users, idle_poll_s=0.01)
    around.follow(NetworkConfig(depth=5, width=8, batch_size=4))
    wait_until(lambda: len(warming.seen) == 2, "two neighbours at once")
    assert sorted(warming.seen) == [4, 6]
    users.append("a student's computation")
    warming.go.release()
    warming.go.release()
    wait_until(lambda: around.busy == 0, "the two neighbours done")
    time.sleep(0.3)  # not a timing assertion: nothing may begin while a user computes
    assert len(warming.seen) == 2
    users.clear()
    warming.go.release()
    warming.go.release()
    wait_until(lambda: len(warming.seen) == 4, "the rest once idle")
    assert sorted(warming.seen[2:]) == [3, 7]


def test_idle_is_told_how_many_computations_are_the_neighbourhoods_own():
    warming, told = Warming(), []

    def idle(own):
        told.append(own)
        return own == 0  # as if every other slot held a user: one neighbour at a time

    around = DepthNeighbourhood(warming.warm, lambda c: False, limit=3, parallel=2,
                                idle=idle, idle_poll_s=0.01)
    around.follow(NetworkConfig(depth=5, width=8, batch_size=4))
    wait_until(lambda: len(warming.seen) == 1 and 1 in told, "one begun, the other waiting")
    time.sleep(0.3)  # not a timing assertion: the second may not begin beside the first
    assert len(warming.seen) == 1
    for _ in range(3):
        warming.go.release()
    wait_until(lambda: len(warming.seen) == 3, "all three, one after the other")
