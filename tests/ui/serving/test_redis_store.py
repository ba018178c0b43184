"""ui.serving.redis_store on a real redis-server: the Store protocol's meaning (expiry, a lock with an
expiry, bounded hashes, the other kind read as missing), and the faults: Redis stopped, paused
(slow) or restarted never raises, the store answers from its in-process fallback with one log
line and uses Redis again when it answers. Waits are for conditions, with generous bounds."""

import logging
import threading
import time

import pytest

from ui.serving import store as store_module
from ui.serving.redis_store import RedisStore, StoreUnavailable, configured_store, redacted

BOUND = 30.0


def wait_until(condition, what: str, bound: float = BOUND) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {bound} s: {what}")
        time.sleep(0.02)


class Log:
    """Collects what the store logs (it logs through Streamlit's logger setup)."""

    def __init__(self):
        self.lines = []

    def __call__(self):
        log = self

        class Sink(logging.Logger):
            def warning(self, message, *args, **kwargs):
                log.lines.append(message % args)

            def error(self, message, *args, **kwargs):
                log.lines.append(message % args)

        return Sink("test")


def test_values_locks_and_expiry(redis):
    s = RedisStore(redis.url)
    s.set("a", b"1", ttl=60)
    assert s.get("a") == b"1" and s.get("missing") is None
    assert s.add("lock", b"me", ttl=0.3) is True
    assert s.add("lock", b"you", ttl=60) is False and s.get("lock") == b"me"
    # The lock of a holder that never comes back frees itself.
    wait_until(lambda: s.get("lock") is None, "the lock expired")
    assert s.add("lock", b"you", ttl=60) is True
    s.delete("a")
    assert s.get("a") is None
    s.delete("never-there")  # no error


def test_hash_fields_are_replaced_bounded_and_their_expiry_renewed(redis):
    s = RedisStore(redis.url, max_fields=3)
    for voter, choice in [("v1", "a"), ("v2", "b"), ("v1", "c"), ("v3", "a"), ("v4", "a")]:
        s.hset("poll:x:1", voter, choice, ttl=60)
    # v1 changed its vote; v4 came when three voters were there: not stored.
    assert s.hgetall("poll:x:1") == {"v1": "c", "v2": "b", "v3": "a"}
    assert 50_000 < redis.command("PTTL", "poll:x:1") <= 60_000
    s.hset("poll:x:1", "v2", "a", ttl=600)
    assert redis.command("PTTL", "poll:x:1") > 500_000
    s.hset("short", "v", "a", ttl=0.2)
    wait_until(lambda: s.hgetall("short") == {}, "the hash expired")


def test_a_value_of_the_other_kind_reads_as_missing(redis):
    s = RedisStore(redis.url)
    s.set("k", b"bytes", ttl=60)
    s.hset("h", "f", "v", ttl=60)
    assert s.hgetall("k") == {} and s.get("h") is None
    s.hset("k", "f", "v", ttl=60)  # replaces the value, as the in-process store does
    assert s.hgetall("k") == {"f": "v"}


def test_concurrent_voters_are_all_counted(redis):
    s = RedisStore(redis.url)
    threads = [threading.Thread(target=s.hset, args=("poll", f"v{i}", str(i % 3), 60))
               for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BOUND)
    assert len(s.hgetall("poll")) == 40


def test_redis_stopped_then_back_falls_back_and_returns(redis):
    log = Log()
    s = RedisStore(redis.url, retry_after=0.2, max_retry_after=0.4, log=log)
    s.set("shared", b"1", ttl=60)
    redis.stop()
    # Nothing raises: the replica's own store answers, and says so once.
    assert s.get("shared") is None
    s.set("during", b"2", ttl=60)
    s.hset("poll", "v1", "a", ttl=60)
    assert s.get("during") == b"2" and s.hgetall("poll") == {"v1": "a"}
    assert s.add("lock", b"x", ttl=60) is True
    with pytest.raises(StoreUnavailable):
        s.remote.get("shared")
    down = [line for line in log.lines if "unreachable" in line]
    assert len(down) == 1 and "next try" in down[0]
    redis.start()  # restarted empty (nothing is saved)
    wait_until(lambda: s.remote.available(), "the back-off ended")
    s.set("after", b"3", ttl=60)
    assert redis.command("GET", "after") == b"3"  # written to Redis again
    assert any("answers again" in line for line in log.lines)


def test_a_paused_redis_costs_one_timeout_then_the_fallback_answers_at_once(redis):
    log = Log()
    s = RedisStore(redis.url, socket_timeout=0.3, retry_after=60, log=log)
    s.set("k", b"1", ttl=60)  # a connection exists
    redis.pause()
    try:
        started = time.monotonic()
        assert s.get("k") is None  # timed out: the fallback's answer
        assert time.monotonic() - started < BOUND
        assert not s.remote.available()
        # In back-off: no command is sent, the fallback answers.
        s.set("k", b"local", ttl=60)
        assert s.get("k") == b"local"
    finally:
        redis.resume()
    assert sum("unreachable" in line for line in log.lines) == 1


def test_store_is_redis_when_configured(monkeypatch, redis):
    assert configured_store({}) is None
    assert configured_store({"VARIANCE_LAB_REDIS_URL": "not a url"}) is None
    monkeypatch.setenv("VARIANCE_LAB_REDIS_URL", redis.url)
    monkeypatch.setattr(store_module, "_store", None)
    try:
        shared = store_module.store()
        assert isinstance(shared, RedisStore) and store_module.store() is shared
        shared.set("via-store", b"1", ttl=60)
        assert redis.command("GET", "via-store") == b"1"
    finally:
        monkeypatch.setattr(store_module, "_store", None)


def test_the_log_hides_a_password():
    assert redacted("redis://user:secret@host:6380/0") == "redis://user:***@host:6380/0"
    assert redacted("redis://host:6379/0") == "redis://host:6379/0"
