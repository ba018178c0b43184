"""The shared store on Redis (``VARIANCE_LAB_REDIS_URL``): what several replicas share.

``RedisStore`` implements ui.serving.store's ``Store`` protocol with the same meaning, each operation
one Redis command (or one small Lua script, so that it stays atomic):

- ``set(key, value, ttl)`` → ``SET key value PX ttl``; ``add`` → ``SET … NX PX`` (a lock with
  an expiry: a dead replica's lock frees itself);
- ``hset(key, field, value, ttl)`` → a script: ``HSET`` unless the hash already holds
  ``max_fields`` other fields (a flood of voters cannot grow one poll without bound), then
  ``PEXPIRE`` (each write renews the expiry); a key of the other kind is replaced, as the
  in-process store does;
- a value of the other kind reads as missing (``WRONGTYPE`` is a miss, not an error).

Faults never reach a page. Every command has short socket timeouts and no retries of its own;
a connection error or a timeout marks Redis down and the store answers from its in-process
``fallback`` (one ``InProcessStore``) with one log line, for ``retry_after`` seconds, doubling
after each failed retry up to ``max_retry_after``; the first command that succeeds afterwards
says so in the log and Redis is used again. What was written to the fallback meanwhile stays
there (a vote cast during an outage is seen by its replica only).

``remote`` is the same store without the fallback: its operations raise ``StoreUnavailable``
(down, in back-off, or an unexpected Redis error). The shared results (ui.serving.shared_results) use
it: a replica that cannot reach Redis computes on its own and keeps the result in its own
cache, rather than filling the in-process fallback with results.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

from ui.serving.memory_store import InProcessStore

URL_ENV = "VARIANCE_LAB_REDIS_URL"
#: Seconds a command may take (connect, then each read or write). A loopback or LAN Redis
#: answers in a millisecond; a result of ≈ 0.5 MB takes a few.
SOCKET_TIMEOUT = 0.5
CONNECT_TIMEOUT = 0.5
#: After a failure Redis is left alone this long, doubled after each failed retry up to the max.
RETRY_AFTER = 1.0
MAX_RETRY_AFTER = 8.0
#: Fields per hash, as InProcessStore's default.
MAX_FIELDS = 1_000

# KEYS[1] the hash; ARGV: field, value, ttl in ms, max fields.
_HSET_BOUNDED = """
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind ~= 'hash' and kind ~= 'none' then redis.call('DEL', KEYS[1]) end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
   or redis.call('HLEN', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""


class StoreUnavailable(RuntimeError):
    """Redis did not answer (down, slow, restarting) or is left alone after a failure."""


def _logger() -> logging.Logger:
    """Streamlit's logger setup (its format and level), so that the server log shows ours."""
    from streamlit.logger import get_logger

    return get_logger(__name__)


def redacted(url: str) -> str:
    """The URL with its password replaced, for the log."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        port = parts.port
    except ValueError:
        return "<an unparsable URL>"
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{port}" if port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _milliseconds(ttl: float) -> int:
    return max(1, int(round(ttl * 1000)))


class RemoteStore:
    """``Store`` on Redis that raises ``StoreUnavailable`` instead of falling back; it keeps
    the health state (down since, next try) and logs each change of it once."""

    def __init__(self, url: str, socket_timeout: float = SOCKET_TIMEOUT,
                 connect_timeout: float = CONNECT_TIMEOUT, retry_after: float = RETRY_AFTER,
                 max_retry_after: float = MAX_RETRY_AFTER, max_fields: int = MAX_FIELDS,
                 clock: Callable[[], float] = time.monotonic,
                 log: Callable[[], logging.Logger] = _logger) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.url = url
        self.max_fields = max_fields
        self.retry_after = retry_after
        self.max_retry_after = max_retry_after
        self.clock = clock
        self._log = log
        self._errors = (redis.ConnectionError, redis.TimeoutError)
        self._redis_error = redis.RedisError
        self._response_error = redis.ResponseError
        # No retries inside the client: a failure is handled here, once, by falling back.
        self.client = redis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=connect_timeout,
            retry=Retry(NoBackoff(), 0), health_check_interval=0)
        self._hset_bounded = self.client.register_script(_HSET_BOUNDED)
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._next_try = 0.0
        self._pause = retry_after

    # -- health -----------------------------------------------------------------------------

    def available(self) -> bool:
        """False while Redis is left alone after a failure (no command is sent then)."""
        with self._lock:
            return self._down_since is None or self.clock() >= self._next_try

    def _call(self, command: Callable[[Any], Any]) -> Any:
        with self._lock:
            if self._down_since is not None and self.clock() < self._next_try:
                raise StoreUnavailable(f"Redis at {redacted(self.url)} is down")
        try:
            value = command(self.client)
        except self._errors as error:
            self._failed(error)
            raise StoreUnavailable(str(error)) from error
        except self._redis_error as error:
            # Redis answered, with an error (out of memory with a noeviction policy, a
            # read-only replica): this command fails, Redis is not marked down.
            self._log().warning("Redis at %s refused a command: %s", redacted(self.url), error)
            raise StoreUnavailable(str(error)) from error
        self._answered()
        return value

    def _failed(self, error: Exception) -> None:
        with self._lock:
            now = self.clock()
            if self._down_since is None:
                self._down_since = now
                self._pause = self.retry_after
                self._log().warning(
                    "Redis at %s unreachable (%s: %s): this replica uses its own store and "
                    "computes on its own until Redis answers again (next try in %.0f s)",
                    redacted(self.url), type(error).__name__, error, self._pause)
            else:  # a retry failed: wait longer before the next one
                self._pause = min(self.max_retry_after, self._pause * 2)
            self._next_try = now + self._pause

    def _answered(self) -> None:
        if self._down_since is None:  # the common case, without the lock
            return
        with self._lock:
            if self._down_since is None:
                return
            down = self.clock() - self._down_since
            self._down_since = None
            self._pause = self.retry_after
        self._log().warning("Redis at %s answers again after %.0f s: the shared store is used "
                            "again", redacted(self.url), down)

    # -- Store ------------------------------------------------------------------------------

    def _wrong_type(self, error: Exception) -> bool:
        return isinstance(error, self._response_error) and str(error).startswith("WRONGTYPE")

    def get(self, key: str) -> bytes | None:
        def command(client):
            try:
                return client.get(key)
            except self._response_error as error:
                if self._wrong_type(error):
                    return None  # a hash under this key: not a value
                raise
        value = self._call(command)
        return bytes(value) if value is not None else None

    def set(self, key: str, value: bytes, ttl: float) -> None:
        self._call(lambda client: client.set(key, bytes(value), px=_milliseconds(ttl)))

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        return bool(self._call(
            lambda client: client.set(key, bytes(value), px=_milliseconds(ttl), nx=True)))

    def delete(self, key: str) -> None:
        self._call(lambda client: client.delete(key))

    def hset(self, key: str, field: str, value: str, ttl: float) -> None:
        self._call(lambda client: self._hset_bounded(
            keys=[key], args=[field, value, _milliseconds(ttl), self.max_fields],
            client=client))

    def hgetall(self, key: str) -> dict[str, str]:
        def command(client):
            try:
                return client.hgetall(key)
            except self._response_error as error:
                if self._wrong_type(error):
                    return {}
                raise
        fields = self._call(command)
        return {_text(name): _text(value) for name, value in fields.items()}


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class RedisStore:
    """``Store`` on Redis, answering from ``fallback`` (in-process) while Redis is unreachable;
    ``remote`` is the same without the fallback (see the module docstring)."""

    def __init__(self, url: str, fallback: InProcessStore | None = None,
                 **remote_options: Any) -> None:
        self.remote = RemoteStore(url, **remote_options)
        self.fallback = fallback if fallback is not None else InProcessStore()

    def get(self, key: str) -> bytes | None:
        try:
            return self.remote.get(key)
        except StoreUnavailable:
            return self.fallback.get(key)

    def set(self, key: str, value: bytes, ttl: float) -> None:
        try:
            self.remote.set(key, value, ttl)
        except StoreUnavailable:
            self.fallback.set(key, value, ttl)

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        try:
            return self.remote.add(key, value, ttl)
        except StoreUnavailable:
            return self.fallback.add(key, value, ttl)

    def delete(self, key: str) -> None:
        try:
            self.remote.delete(key)
        except StoreUnavailable:
            pass
        self.fallback.delete(key)

    def hset(self, key: str, field: str, value: str, ttl: float) -> None:
        try:
            self.remote.hset(key, field, value, ttl)
        except StoreUnavailable:
            self.fallback.hset(key, field, value, ttl)

    def hgetall(self, key: str) -> dict[str, str]:
        try:
            return self.remote.hgetall(key)
        except StoreUnavailable:
            return self.fallback.hgetall(key)


def configured_store(environ: dict[str, str] | None = None) -> RedisStore | None:
    """A ``RedisStore`` on ``VARIANCE_LAB_REDIS_URL``, or None when it is unset or not a Redis
    URL (logged: the app then runs on its in-process store, as one server does). Connecting
    happens at the first command."""
    import os

    environ = os.environ if environ is None else environ
    url = environ.get(URL_ENV, "").strip()
    if not url:
        return None
    try:
        return RedisStore(url)
    except ValueError as error:  # not redis://, rediss:// or unix://
        _logger().error("%s=%r is not a Redis URL (%s): the in-process store is used",
                        URL_ENV, redacted(url), error)
        return None
