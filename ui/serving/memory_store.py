"""The one store for state that sessions share (class poll votes; results when replicas share
them): a few key–value operations with an expiry, in this process by default, on Redis when
``VARIANCE_LAB_REDIS_URL`` is set (``store()`` picks; the Redis backend implements the same
``Store`` protocol).

Everything is bounded, because keys come from links (a class code is user input): a key lives
at most its ``ttl`` seconds, and the in-process store keeps at most ``max_keys`` keys and
``max_fields`` fields per hash, evicting the least recently used key first. An evicted or
expired key reads as missing; callers treat that as "not there yet", never as an error.

Operations (Redis's names, so each backend maps them one to one):

- ``get(key)`` / ``set(key, value, ttl)`` — bytes;
- ``add(key, value, ttl)`` — set only if absent (a lock with an expiry); True if it was set;
- ``delete(key)``;
- ``hset(key, field, value, ttl)`` / ``hgetall(key)`` — a small map of str to str (a poll's
  votes: voter → choice), its expiry renewed by each write.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Callable, Protocol

#: A class's votes live a day (issue: "a class's votes expire after a day").
DAY = 24 * 3600.0


class Store(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl: float) -> None: ...

    def add(self, key: str, value: bytes, ttl: float) -> bool: ...

    def delete(self, key: str) -> None: ...

    def hset(self, key: str, field: str, value: str, ttl: float) -> None: ...

    def hgetall(self, key: str) -> dict[str, str]: ...


class InProcessStore:
    """``Store`` in this process's memory: what one server needs (thread-safe; every session
    of a Streamlit server is a thread of one process)."""

    def __init__(self, max_keys: int = 10_000, max_fields: int = 1_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_keys = max_keys
        self.max_fields = max_fields
        self.clock = clock
        self._lock = threading.Lock()
        # key → (expiry, bytes or dict): least recently used first.
        self._items: collections.OrderedDict[str, tuple[float, object]] = (
            collections.OrderedDict())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def _live(self, key: str) -> object | None:
        """The value of ``key`` if present and not expired (with the lock held)."""
        item = self._items.get(key)
        if item is None:
            return None
        expiry, value = item
        if expiry <= self.clock():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    def _put(self, key: str, value: object, ttl: float) -> None:
        """Store with the lock held, then evict expired keys, then the least recently used."""
        self._items[key] = (self.clock() + ttl, value)
        self._items.move_to_end(key)
        if len(self._items) > self.max_keys:
            now = self.clock()
            for stale in [k for k, (expiry, _) in self._items.items() if expiry <= now]:
                del self._items[stale]
            while len(self._items) > self.max_keys:
                self._items.popitem(last=False)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._live(key)
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl: float) -> None:
        with self._lock:
            self._put(key, bytes(value), ttl)

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._put(key, bytes(value), ttl)
            return True

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def hset(self, key: str, field: str, value: str, ttl: float) -> None:
        with self._lock:
            fields = self._live(key)
            fields = dict(fields) if isinstance(fields, dict) else {}
            if field not in fields and len(fields) >= self.max_fields:
                return  # full: a flood of voters cannot grow one poll without bound
            fields[field] = value
            self._put(key, fields, ttl)

    def hgetall(self, key: str) -> dict[str, str]:
        with self._lock:
            fields = self._live(key)
        return dict(fields) if isinstance(fields, dict) else {}
