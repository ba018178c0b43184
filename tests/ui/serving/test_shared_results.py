"""ui.serving.shared_results: replicas compute each key once and read each other's results.

First with the logic on an in-process store standing for Redis (threads as replicas: the
lock, the wait, a failed or dead holder, the heartbeat, Served waiting without a slot), then
on a real redis-server with two plain Python processes (tests/ui/serving/shared_replica.py): one
computation per key across them, Redis stopped mid-run without an error and used again when
it is back, an evicted key read as a miss, a foreign value rejected, not unpickled.
No timing: every wait is for a condition, with a generous bound.
"""

import json
import os
import pickle
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import numpy as np
import pytest
import streamlit as st

from core import NetworkConfig, encode_query
from ui.serving import limiter as serving, result_codec, shared_results
from ui.serving.limiter import Limiter, Served
from ui.serving.shared_results import ComputedElsewhere, SharedComputation, deferring
from ui.serving.store import InProcessStore

REPO_ROOT = Path(__file__).resolve().parents[3]
BOUND = 60.0


def wait_until(condition, what: str, bound: float = BOUND) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {bound} s: {what}")
        time.sleep(0.01)


def replicas_on_one_store(count: int = 2):
    """``count`` replicas' computations sharing one store that stands for Redis."""
    redis_like = InProcessStore()
    shared = types.SimpleNamespace(remote=redis_like)
    return redis_like, [SharedComputation("square", str, shared_store=lambda: shared)
                        for _ in range(count)]


class Gate:
    """A computation that runs until the test opens the gate, counting its calls."""

    def __init__(self):
        self.calls = []
        self.open = threading.Event()

    def compute(self, n, who="?"):
        def run():
            self.calls.append((who, n))
            self.open.wait(BOUND)
            return np.full(3, n * n)
        return run


def test_without_a_shared_store_it_is_the_computation():
    computation = SharedComputation("square", str, shared_store=InProcessStore)
    assert computation.through(3, compute=lambda: 9) == 9


def test_two_replicas_compute_a_key_once_and_the_second_waits_for_it():
    redis_like, (a, b) = replicas_on_one_store()
    gate, results = Gate(), {}
    first = threading.Thread(target=lambda: results.setdefault(
        "a", a.through(7, compute=gate.compute(7, "a"))))
    first.start()
    wait_until(lambda: gate.calls == [("a", 7)], "replica a computing")
    second = threading.Thread(target=lambda: results.setdefault(
        "b", b.through(7, compute=gate.compute(7, "b"))))
    second.start()
    # b finds a's lock and waits; inside Served it would not wait but say so:
    with deferring(), pytest.raises(ComputedElsewhere):
        b.through(7, compute=gate.compute(7, "c"))
    gate.open.set()
    first.join(BOUND)
    second.join(BOUND)
    assert gate.calls == [("a", 7)]
    assert results["a"].tolist() == results["b"].tolist() == [49, 49, 49]
    # Published under its key, and the lock released.
    assert redis_like.get(a.key(7)) is not None and redis_like.get(a.lock_key(a.key(7))) is None
    assert b.through(7, compute=gate.compute(7, "d")).tolist() == [49] * 3 and len(gate.calls) == 1


def test_a_failed_computation_releases_the_key_and_the_waiter_computes_it():
    redis_like, (a, b) = replicas_on_one_store()
    started, fail = threading.Event(), threading.Event()

    def failing():
        started.set()
        fail.wait(BOUND)
        raise RuntimeError("worker lost")

    errors, results = [], []

    def run_a():
        try:
            a.through(5, compute=failing)
        except RuntimeError as error:
            errors.append(error)

    first = threading.Thread(target=run_a)
    first.start()
    started.wait(BOUND)
    second = threading.Thread(target=lambda: results.append(
        b.through(5, compute=lambda: np.full(3, 25))))
    second.start()
    wait_until(lambda: second.is_alive(), "b waiting")
    fail.set()
    first.join(BOUND)
    second.join(BOUND)
    assert len(errors) == 1 and results[0].tolist() == [25] * 3


def test_a_key_published_between_the_look_and_the_claim_is_not_computed_again():
    """Seen with two replicas behind nginx: b looked (a miss), a published and released, b
    took the free lock. With the lock held, b looks again."""
    redis_like, (a, b) = replicas_on_one_store()
    a_done = []

    class ReplicaAFinishesFirst:
        def __getattr__(self, name):
            return getattr(redis_like, name)

        def add(self, key, value, ttl):
            if not a_done:  # a's computation ends right before b's claim
                a_done.append(a.through(1, compute=lambda: np.full(3, 1)))
            return redis_like.add(key, value, ttl)

    b.shared_store = lambda: types.SimpleNamespace(remote=ReplicaAFinishesFirst())
    calls = []
    value = b.through(1, compute=lambda: calls.append("b") or np.full(3, -1))
    assert a_done and calls == [] and value.tolist() == [1, 1, 1]
    assert redis_like.get(b.lock_key(b.key(1))) is None  # b released the lock it took


def test_a_dead_replicas_lock_frees_itself():
    redis_like, (a,) = replicas_on_one_store(1)
    # A replica took the key and died: nobody releases or renews its lock.
    redis_like.add(a.lock_key(a.key(4)), b"dead", ttl=0.5)
    value = a.through(4, compute=lambda: np.full(3, 16))
    assert value.tolist() == [16] * 3


def test_a_long_computation_keeps_its_lock(monkeypatch):
    monkeypatch.setattr(shared_results, "LOCK_TTL", 2.0)  # renewed every 0.5 s
    redis_like, (a, b) = replicas_on_one_store()
    gate = Gate()
    thread = threading.Thread(target=a.through, args=(9,), kwargs={"compute": gate.compute(9)})
    thread.start()
    wait_until(lambda: gate.calls, "computing")
    lock = a.lock_key(a.key(9))
    held_since = time.monotonic()
    # Two and a half times the lock's expiry: without the heartbeat it would be gone.
    while time.monotonic() - held_since < 5.0:
        assert redis_like.get(lock) is not None
        time.sleep(0.05)
    gate.open.set()
    thread.join(BOUND)
    assert redis_like.get(lock) is None


def test_a_foreign_value_is_a_miss_and_is_replaced():
    redis_like, (a,) = replicas_on_one_store(1)
    key = a.key(3)
    redis_like.set(key, pickle.dumps(np.full(3, -1)), ttl=60)
    assert a.through(3, compute=lambda: np.full(3, 9)).tolist() == [9] * 3
    assert result_codec.decode(redis_like.get(key), key).tolist() == [9] * 3


def test_keys_name_the_computation_the_config_and_the_code(monkeypatch, tmp_path):
    simulation = SharedComputation("simulation", encode_query)
    spectrum = SharedComputation("spectrum", encode_query)
    config = NetworkConfig(depth=50, activation="relu")
    key = simulation.key(config)
    assert key == f"vl:result:simulation:{shared_results.core_version()}:{encode_query(config)}"
    assert spectrum.key(config) != key and simulation.key(NetworkConfig(depth=51)) != key
    long = SharedComputation("long", lambda n: "x" * n)
    assert len(long.key(10_000)) < 200 and long.key(10_000) != long.key(10_001)
    # A changed core is another version: its results are other keys.
    copy = tmp_path / "core"
    copy.mkdir()
    for source in (REPO_ROOT / "core").glob("*.py"):
        (copy / source.name).write_bytes(source.read_bytes())
    monkeypatch.setattr(shared_results, "CORE_DIR", copy)
    shared_results.core_version.cache_clear()
    try:
        same = shared_results.core_version()
        (copy / "simulate.py").write_text((copy / "simulate.py").read_text() + "\n# changed\n")
        shared_results.core_version.cache_clear()
        assert shared_results.core_version() != same
    finally:
        shared_results.core_version.cache_clear()


class FakeDisplay:
    def __init__(self):
        self.log = []

    def queued(self, ahead):
        self.log.append(("queued", ahead))

    def computing(self):
        self.log.append(("computing",))
        return serving.contextlib.nullcontext()

    def done(self):
        self.log.append(("done",))


def served_replica(computation, gate, who):
    """One replica's Served: its own limiter (one worker) and its own Streamlit cache."""

    def body(n):
        with serving.computing(limiter):
            return gate.compute(n, who)()

    # Streamlit keys its cache by the function's name and code: one cache per replica.
    body.__qualname__ = f"body_{who}"
    cached = st.cache_data(show_spinner=False)(computation(body))
    limiter, display = Limiter(1), FakeDisplay()
    return Served(cached, limiter=limiter, display=lambda: display, shared=computation), display


def test_served_waits_for_another_replica_without_a_slot():
    _, (a, b) = replicas_on_one_store()
    gate = Gate()
    served_a, _ = served_replica(a, gate, "a")
    served_b, display_b = served_replica(b, gate, "b")
    served_a.clear()
    served_b.clear()
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("a", served_a(6)))
    first.start()
    wait_until(lambda: gate.calls == [("a", 6)], "replica a computing")
    second = threading.Thread(target=lambda: results.setdefault("b", served_b(6)))
    second.start()
    wait_until(lambda: ("computing",) in display_b.log, "replica b told it is computing")
    assert served_b.limiter.running == 0  # b waits holding no worker slot
    gate.open.set()
    first.join(BOUND)
    second.join(BOUND)
    assert gate.calls == [("a", 6)]
    assert results["a"].tolist() == results["b"].tolist() == [36] * 3
    # b's own cache holds it now: no store, no slot, nothing shown.
    display_b.log.clear()
    assert served_b(6).tolist() == [36] * 3 and display_b.log == []
    # A key another replica computed long ago is read without a slot or a queue.
    served_a(8)
    assert served_b(8).tolist() == [64] * 3 and gate.calls == [("a", 6), ("a", 8)]
    assert ("queued", 0) not in display_b.log and served_b.limiter.peak == 0
    served_a.clear()
    served_b.clear()


def test_a_replica_that_lost_the_race_after_its_slot_waits_without_it():
    """Both replicas found the key free; b got its slot after a claimed the key: b gives the
    slot back and waits (ComputedElsewhere inside Served), rather than holding it."""
    redis_like, (a, b) = replicas_on_one_store()
    gate = Gate()
    served_b, display_b = served_replica(b, gate, "b")
    served_b.clear()
    original, looks = b.ready_or_wait, []

    def looked_before_a_claimed(*args, display=None):
        # b's first look found the key free (a had not claimed it yet); its next looks are
        # real: b waits for a's result there, holding no slot.
        looks.append(args)
        return False if len(looks) == 1 else original(*args, display=display)

    b.ready_or_wait = looked_before_a_claimed
    holder = threading.Thread(target=a.through, args=(2,), kwargs={"compute": gate.compute(2, "a")})
    holder.start()
    wait_until(lambda: gate.calls == [("a", 2)], "replica a computing")
    result = []
    second = threading.Thread(target=lambda: result.append(served_b(2)))
    second.start()
    wait_until(lambda: served_b.limiter.peak == 1 and served_b.limiter.running == 0
               and len(looks) == 2 and second.is_alive(), "b gave its slot back and waits")
    gate.open.set()
    holder.join(BOUND)
    second.join(BOUND)
    assert result[0].tolist() == [4] * 3 and gate.calls == [("a", 2)]
    served_b.clear()


# -- on a real redis-server, replicas as processes ---------------------------------------------

def start_replica(redis, folder: Path, name: str, *args: str) -> tuple[subprocess.Popen, Path]:
    out = folder / f"{name}.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.ui.serving.shared_replica", redis.url, str(out),
         str(folder / "go"), *args],
        cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.DEVNULL, stderr=(folder / f"{name}.log").open("wb"),
        start_new_session=True)
    return proc, out


def events(out: Path) -> list[dict]:
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines() if line.endswith("}")]


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
    proc.wait(BOUND)


def test_two_processes_compute_each_key_once(redis, tmp_path):
    # Both ask for the same configs in the same order, at the same time: every key is asked
    # for by both while one of them computes it.
    procs = [start_replica(redis, tmp_path, name, "--configs", "10") for name in "ab"]
    try:
        (tmp_path / "go").touch()
        for proc, _ in procs:
            assert proc.wait(BOUND * 3) == 0
    finally:
        for proc, _ in procs:
            stop(proc)
    got = [events(out) for _, out in procs]
    computed = [e["computed"] for log in got for e in log if "computed" in e]
    results = [{e["i"]: e for e in log if "i" in e} for log in got]
    assert not [e for log in got for e in log if "error" in e]
    assert sorted(computed) == sorted(set(computed)) and len(computed) == 10
    for i in range(10):  # both processes have every result, and the same one
        assert results[0][i]["digest"] == results[1][i]["digest"]


def test_redis_stopped_mid_run_is_no_error_and_used_again_when_back(redis, tmp_path):
    stop_file = tmp_path / "stop"
    procs = [start_replica(redis, tmp_path, name, "--until", str(stop_file), "--pause", "0.05")
             for name in "ab"]
    results = lambda: sum(1 for _, out in procs for e in events(out) if "i" in e)  # noqa: E731
    try:
        (tmp_path / "go").touch()
        wait_until(lambda: results() >= 10, "results with Redis")
        redis.stop()
        before = results()
        wait_until(lambda: results() >= before + 10, "results while Redis is down")
        redis.start()  # restarted, empty
        wait_until(lambda: redis.command("DBSIZE") > 0, "results shared again", BOUND)
        stop_file.touch()
        for proc, _ in procs:
            assert proc.wait(BOUND) == 0
    finally:
        stop_file.touch()
        for proc, _ in procs:
            stop(proc)
    got = [e for _, out in procs for e in events(out)]
    assert [e for e in got if "error" in e] == []
    by_i = {}
    for e in got:
        if "i" in e:
            by_i.setdefault(e["i"], set()).add(tuple(e["digest"]))
    assert all(len(digests) == 1 for digests in by_i.values())  # one answer per config
    logs = "".join((tmp_path / f"{name}.log").read_text() for name in "ab")
    assert "unreachable" in logs and "answers again" in logs


def test_an_evicted_result_is_a_miss(tiny_redis):
    from ui.serving.redis_store import RedisStore

    shared_store = RedisStore(tiny_redis.url)
    computation = SharedComputation("noise", str, shared_store=lambda: shared_store)
    calls = []

    def noise(n):  # ≈ 320 KB that do not compress: a few fill the 3 MB
        def compute():
            calls.append(n)
            return np.random.default_rng(n).standard_normal(40_000)
        return compute

    for n in range(12):
        assert np.array_equal(computation.through(n, compute=noise(n)), noise(n)())
    assert int(tiny_redis.info("stats")["evicted_keys"]) > 0
    calls.clear()
    # The first keys were evicted: computed again, correctly, without an error.
    assert np.array_equal(computation.through(0, compute=noise(0)), noise(0)())
    assert calls[0] == 0
    calls.clear()
    assert np.array_equal(computation.through(11, compute=noise(11)), noise(11)())
    assert calls == [11]  # the last one is still there: read, not computed


class Marker:
    ran = []

    def __reduce__(self):
        return (Marker.ran.append, ("unpickled",))


def test_a_foreign_value_in_redis_is_rejected_not_unpickled(redis):
    from ui.serving.redis_store import RedisStore

    shared_store = RedisStore(redis.url)
    computation = SharedComputation("simulation", encode_query, shared_store=lambda: shared_store)
    config = NetworkConfig(depth=3, width=16, batch_size=8)
    key = computation.key(config)
    redis.command("SET", key, pickle.dumps(Marker()))
    calls = []
    value = computation.through(config, compute=lambda: calls.append(1) or np.arange(3))
    assert Marker.ran == [] and calls == [1] and value.tolist() == [0, 1, 2]
    assert redis.command("GET", key).startswith(result_codec.MAGIC)  # replaced by ours
