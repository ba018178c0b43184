"""Results shared by replicas through the store: each experiment computed once for everyone.

Each replica keeps its results in its own ``st.cache_data`` (ui.serving.cache, ui.serving.theory_cache); with
Redis configured (``VARIANCE_LAB_REDIS_URL``, ui.serving.redis_store) a second level sits under it,
one ``SharedComputation`` per computation (simulation, Jacobian spectrum, training run, phase
map):

- key ``vl:result:<name>:<version>:<query>``: the computation, the version of the code that
  computes it (a hash of core/*.py, plus the defining module for a computation done outside
  core: a changed core never serves an old result) and the config's canonical query string
  (``core.encode_query`` / ``core.query.encode_train_query``; hashed when longer than
  ``MAX_QUERY_CHARS``). Values are ui.serving.result_codec's bytes (no pickle), kept ``RESULT_TTL``;
  Redis's ``maxmemory`` with ``allkeys-lru`` bounds them, and an evicted, expired, damaged or
  foreign value is a miss (a foreign one is logged);
- one computation per key across replicas: the replica that computes holds
  ``vl:lock:<…>`` (``add`` with an expiry of ``LOCK_TTL``, renewed every ``LOCK_TTL / 4`` by a
  heartbeat while it computes: a dead replica's lock frees itself); a replica that finds the
  lock waits for the value (polling every ``POLL_SECONDS``), then reads it;
- ``through(*args, compute)`` is the level, called inside the cached function: the value if
  the store has it, else the lock, a second look (the previous holder may have published
  between the first look and the claim) and ``compute()`` (published before the lock is
  released), else the other replica's value. Called from ``ui.serving.limiter.Served`` (inside ``deferring()``), a
  lock held elsewhere raises ``ComputedElsewhere`` instead of waiting, so that the waiting
  session does not hold a worker slot; ``Served`` then waits slot-free with
  ``ready_or_wait``, showing the waiting student "computing …" as for a result another
  session of its own replica computes;
- faults: when the store is unreachable (ui.serving.redis_store's ``remote`` raises
  ``StoreUnavailable``) the replica computes on its own and keeps the result in its own cache;
  nothing reaches the page. Without Redis (``remote`` absent) ``through`` is ``compute()``.

Every computation is logged at INFO (``computed <key> in <s> s (<how>)``): the load benchmark
counts computations per key across replicas from the replicas' logs.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import secrets
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from ui.serving import result_codec
from ui.serving.store import DAY, Store, store

#: A result stays a week unless memory runs short first (allkeys-lru evicts it then).
RESULT_TTL = 7 * DAY
#: A lock expires this long after its holder's last heartbeat (every LOCK_TTL / 4).
LOCK_TTL = 20.0
#: How often a replica waiting for another's result looks again.
POLL_SECONDS = 0.1
#: A replica waits at most this long for another's result, then computes it itself.
MAX_WAIT = 300.0
#: Longer canonical query strings are replaced by their SHA-256 in the key.
MAX_QUERY_CHARS = 512
#: Values larger than this are not published (the largest result is ≈ 0.3 MB compressed).
MAX_VALUE_BYTES = 16 * 2**20

CORE_DIR = Path(__file__).resolve().parents[2] / "core"


class ComputedElsewhere(Exception):
    """Another process holds the key's lock (raised only inside ``deferring()``)."""


#: Served's ``_compute`` returns this when another replica computes the key.
ELSEWHERE = object()

_deferring = threading.local()


@contextlib.contextmanager
def deferring():
    """Inside this block (in this thread) a lock held elsewhere raises ``ComputedElsewhere``."""
    previous = getattr(_deferring, "on", False)
    _deferring.on = True
    try:
        yield
    finally:
        _deferring.on = previous


def _logger():
    from streamlit.logger import get_logger

    return get_logger(__name__)


def files_digest(paths: Iterable[Path]) -> str:
    """SHA-256 over the files' names and bytes, in name order."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.cache
def core_version() -> str:
    """The version of the code that computes every result: a hash of core/*.py, computed
    once per process."""
    return files_digest(CORE_DIR.glob("*.py"))[:16]


def _remote_of(shared_store: Store) -> Store | None:
    """The store's Redis side, which raises instead of falling back (None in-process)."""
    return getattr(shared_store, "remote", None)


class _Heartbeat:
    """Renews the locks this process holds, every LOCK_TTL / 4, in one daemon thread."""

    def __init__(self) -> None:
        self._held: dict[tuple[int, str], tuple[Store, bytes, float]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()  # a new lock may need an earlier renewal
        self._thread: threading.Thread | None = None

    def hold(self, remote: Store, key: str, token: bytes, ttl: float) -> None:
        with self._lock:
            self._held[(id(remote), key)] = (remote, token, ttl)
            self._wake.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="shared-results-locks",
                                                daemon=True)
                self._thread.start()

    def drop(self, remote: Store, key: str) -> None:
        with self._lock:
            self._held.pop((id(remote), key), None)

    def _run(self) -> None:
        while True:
            with self._lock:
                held = list(self._held.items())
                if not held:
                    self._thread = None
                    return
                pause = min(ttl for _, (_, _, ttl) in held) / 4
                self._wake.clear()
            if self._wake.wait(pause):
                continue  # a lock was added: its pause may be shorter
            for (_, key), (remote, token, ttl) in held:
                with self._lock:
                    if self._held.get((id(remote), key), (None, None))[1] != token:
                        continue  # released meanwhile
                renew(remote, key, token, ttl)


def renew(remote: Store, key: str, token: bytes, ttl: float) -> bool:
    """Extend the lock if it is still ours (re-take it if it was lost: evicted, or Redis
    restarted); False when another process holds it now or the store is unreachable."""
    from ui.serving.redis_store import StoreUnavailable

    try:
        current = remote.get(key)
        if current == token:
            remote.set(key, token, ttl)
            return True
        if current is None:
            return remote.add(key, token, ttl)
    except StoreUnavailable:
        pass
    return False


_HEARTBEAT = _Heartbeat()


class SharedComputation:
    """The shared level of one cached computation (see the module docstring).

    ``query(*args)`` is the arguments' canonical query string; ``types`` the classes beyond
    core's result classes that its result holds (ui.serving.result_codec); ``sources`` the files whose
    code computes it besides core/*.py (part of the version); ``shared_store`` returns the
    store (``ui.serving.store.store`` by default; tests give each "replica" its own).
    """

    def __init__(self, name: str, query: Callable[..., str], types: Iterable[type] = (),
                 sources: Iterable[Path | str] = (),
                 shared_store: Callable[[], Store] = store) -> None:
        self.name = name
        self.query = query
        self.types = tuple(types)
        self.sources = tuple(Path(p) for p in sources)
        self.shared_store = shared_store
        self._foreign_logged: set[str] = set()

    @functools.cached_property
    def version(self) -> str:
        if not self.sources:
            return core_version()
        return hashlib.sha256((core_version() + files_digest(self.sources)).encode()
                              ).hexdigest()[:16]

    def key(self, *args: Any) -> str:
        query = self.query(*args)
        if len(query) > MAX_QUERY_CHARS:
            query = "sha256-" + hashlib.sha256(query.encode()).hexdigest()
        return f"vl:result:{self.name}:{self.version}:{query}"

    @staticmethod
    def lock_key(key: str) -> str:
        return "vl:lock:" + key.removeprefix("vl:result:")

    # -- the level --------------------------------------------------------------------------

    def through(self, *args: Any, compute: Callable[[], Any]) -> Any:
        """The result for ``args``: from the store, or computed here (and published), or
        computed by another replica (waited for). Never raises a store error."""
        from ui.serving.redis_store import StoreUnavailable

        key = self.key(*args)
        remote = _remote_of(self.shared_store())
        if remote is None:
            return self._computed(key, compute, "no shared store")
        deadline = time.monotonic() + MAX_WAIT
        while True:
            token = secrets.token_hex(8).encode()
            try:
                value = self._fetch(remote, key)
                if value is not _MISSING:
                    return value
                claimed = remote.add(self.lock_key(key), token, LOCK_TTL)
                if not claimed:
                    if getattr(_deferring, "on", False):
                        raise ComputedElsewhere(key)
                    value = self._wait(remote, key, deadline)
                    if value is not _MISSING:
                        return value
            except StoreUnavailable:
                unavailable = True
            else:
                unavailable = False
            if unavailable:  # outside the handler: the computation's errors are its own
                return self._computed(key, compute, "shared store unavailable")
            if claimed:
                return self._compute_and_publish(remote, key, token, compute)
            if time.monotonic() >= deadline:
                return self._computed(key, compute, f"waited {MAX_WAIT:.0f} s for another")
            # The lock went away without a value (its holder failed): claim it again.

    def ready_or_wait(self, *args: Any, display: Any = None) -> bool:
        """True when the store holds the result for ``args`` now, after waiting (slot-free,
        ``display.computing()`` shown) while another process holds its lock. False when it
        does not (then the caller computes), or without a reachable shared store."""
        from ui.serving.redis_store import StoreUnavailable

        remote = _remote_of(self.shared_store())
        if remote is None:
            return False
        key = self.key(*args)
        lock = self.lock_key(key)
        try:
            if remote.get(key) is not None:
                return True
            if remote.get(lock) is None:
                return False
            with display.computing() if display is not None else contextlib.nullcontext():
                deadline = time.monotonic() + MAX_WAIT
                while remote.get(lock) is not None and time.monotonic() < deadline:
                    time.sleep(POLL_SECONDS)
                return remote.get(key) is not None
        except StoreUnavailable:
            return False

    # -- parts ------------------------------------------------------------------------------

    def _fetch(self, remote: Store, key: str) -> Any:
        data = remote.get(key)
        if data is None:
            return _MISSING
        try:
            return result_codec.decode(data, key, self.types)
        except result_codec.NotOurs as error:
            if key not in self._foreign_logged:  # once per key: a foreign value is a miss
                self._foreign_logged.add(key)
                _logger().warning("shared store: the value under %s is not ours (%s); it is "
                                  "computed again and replaced", key, error)
            return _MISSING

    def _wait(self, remote: Store, key: str, deadline: float) -> Any:
        """Wait while another process holds the key's lock; its value, or _MISSING when the
        lock went away without one (or at the deadline)."""
        lock = self.lock_key(key)
        while time.monotonic() < deadline:
            if remote.get(lock) is None:
                return self._fetch(remote, key)
            time.sleep(POLL_SECONDS)
        return _MISSING

    def _compute_and_publish(self, remote: Store, key: str, token: bytes,
                             compute: Callable[[], Any]) -> Any:
        from ui.serving.redis_store import StoreUnavailable

        lock = self.lock_key(key)
        _HEARTBEAT.hold(remote, lock, token, LOCK_TTL)
        try:
            # Another replica may have published and released the key between this one's look
            # and its claim (it publishes before it releases): with the lock held, look again.
            with contextlib.suppress(StoreUnavailable):
                found = self._fetch(remote, key)
                if found is not _MISSING:
                    return found
            value = self._computed(key, compute, "claimed")
            try:
                data = result_codec.encode(value, key, self.types)
                if len(data) <= MAX_VALUE_BYTES:
                    remote.set(key, data, RESULT_TTL)
                else:
                    _logger().warning("shared store: %s is %d bytes, not shared", key,
                                      len(data))
            except result_codec.EncodeError as error:
                _logger().warning("shared store: %s not shared: %s", key, error)
            except StoreUnavailable:
                pass  # logged by the store; the replica keeps its own copy
            return value
        finally:
            _HEARTBEAT.drop(remote, lock)
            with contextlib.suppress(StoreUnavailable):
                if remote.get(lock) == token:  # not a lock another took after ours expired
                    remote.delete(lock)

    def _computed(self, key: str, compute: Callable[[], Any], how: str) -> Any:
        started = time.monotonic()
        value = compute()
        _logger().info("computed %s in %.2f s (%s)", key, time.monotonic() - started, how)
        return value

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """Decorate the body of a cached function: ``through`` its arguments."""

        signature = inspect.signature(function)

        @functools.wraps(function)
        def shared(*args: Any, **kwargs: Any) -> Any:
            named = signature.bind(*args, **kwargs)
            named.apply_defaults()
            return self.through(*named.args, compute=lambda: function(*args, **kwargs))

        shared.shared_computation = self  # type: ignore[attr-defined]
        return shared


_MISSING = object()


def source_of(obj: Any) -> Path:
    """The file that defines ``obj`` (a computation's own module, for its version)."""
    return Path(inspect.getsourcefile(obj) or "")
