"""The in-process shared store: expiry, bounds (a flood of keys or of fields cannot grow it),
set-if-absent as a lock, and the LRU order of eviction. A fake clock: no waiting."""

import threading

from ui.serving.store import InProcessStore, store


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_get_set_and_expiry():
    clock = Clock()
    s = InProcessStore(clock=clock)
    s.set("a", b"1", ttl=10)
    assert s.get("a") == b"1"
    clock.now += 9.9
    assert s.get("a") == b"1"
    clock.now += 0.2
    assert s.get("a") is None and len(s) == 0


def test_add_is_a_lock_with_an_expiry():
    clock = Clock()
    s = InProcessStore(clock=clock)
    assert s.add("lock", b"me", ttl=5)
    assert not s.add("lock", b"you", ttl=5)
    assert s.get("lock") == b"me"
    clock.now += 5  # the holder died: the lock expires
    assert s.add("lock", b"you", ttl=5)
    s.delete("lock")
    assert s.add("lock", b"again", ttl=5)


def test_hash_fields_are_replaced_and_bounded():
    s = InProcessStore(max_fields=3, clock=Clock())
    for voter, choice in [("v1", "a"), ("v2", "b"), ("v1", "c")]:
        s.hset("poll", voter, choice, ttl=60)
    assert s.hgetall("poll") == {"v1": "c", "v2": "b"}
    for voter in ("v3", "v4", "v5"):
        s.hset("poll", voter, "a", ttl=60)
    assert len(s.hgetall("poll")) == 3  # full: new voters are not stored
    s.hset("poll", "v1", "a", ttl=60)  # a voter already in may change their choice
    assert s.hgetall("poll")["v1"] == "a"


def test_a_flood_of_keys_keeps_the_bound_and_evicts_the_least_recently_used():
    s = InProcessStore(max_keys=100, clock=Clock())
    s.set("kept", b"x", ttl=60)
    for i in range(10_000):
        s.hset(f"poll:{i}", "voter", "a", ttl=60)
        if i % 50 == 0:
            assert s.get("kept") == b"x"  # used often: never the least recently used
    assert len(s) == 100
    assert s.get("kept") == b"x"
    assert s.hgetall("poll:0") == {} and s.hgetall("poll:9999") == {"voter": "a"}


def test_a_value_of_the_other_kind_reads_as_missing():
    s = InProcessStore(clock=Clock())
    s.set("bytes", b"1", ttl=60)
    s.hset("map", "f", "v", ttl=60)
    assert s.hgetall("bytes") == {} and s.get("map") is None


def test_concurrent_voters_are_all_counted():
    s = InProcessStore()

    def vote(start):
        for i in range(start, start + 200):
            s.hset("poll", f"v{i}", "a", ttl=60)

    threads = [threading.Thread(target=vote, args=(k * 200,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(s.hgetall("poll")) == 800


def test_the_process_store_is_one_object():
    assert store() is store()
