"""The process's shared store (ui.serving.memory_store's ``Store`` protocol): Redis when
``VARIANCE_LAB_REDIS_URL`` is set (ui.serving.redis_store), else in this process's memory."""

from __future__ import annotations

import threading

from ui.serving.memory_store import DAY, InProcessStore, Store
from ui.serving.redis_store import configured_store

__all__ = ["DAY", "InProcessStore", "Store", "store"]

_store: Store | None = None
_store_lock = threading.Lock()


def store() -> Store:
    """The process's store: made once, on first use; on Redis when ``VARIANCE_LAB_REDIS_URL``
    is set (ui.serving.redis_store; it answers from an in-process store while Redis is down)."""
    global _store
    with _store_lock:
        if _store is None:
            _store = configured_store() or InProcessStore()
        return _store
