"""Serving a class from one process: at most K computations at once, one BLAS thread each, a
visible queue, one computation per distinct experiment, and the lessons warmed on first visit.

A Streamlit server is one process and every session's script run is a thread. Without a limit,
thirty students moving sliders start thirty simulations that share two cores (and, with
OpenBLAS's default of one thread per core, sixty BLAS threads that thrash): every rerun waits
for all of them, and their memory adds up. Here

- ``LIMITER`` grants ``worker_count()`` slots (ui.serving.host: ``VARIANCE_LAB_WORKERS``, else
  the CPU count); a computation holds one slot while it runs, in one of as many worker
  processes (ui.serving.workers: out of the pages' GIL); a queued one is served by arrival plus STRETCH
  times its estimated cost (short runs first, long ones after a bounded wait), the warm-up
  only when no user waits;
- ``limit_blas_threads()`` sets OpenBLAS to one thread at the first computation, for good: its
  pool is process-wide, not per thread, and threadpoolctl lets one live thread at a time change
  it, so per-call save/restore pairs in concurrent script threads would be ignored or race;
- ``limit_malloc_arenas()`` (when this module is first imported) caps glibc's malloc arenas
  at two, so that freed simulation arrays are not kept once per thread;
- ``Served`` wraps an ``st.cache_data`` function: a result known to be cached is returned without
  a slot; a result another session is computing right now is waited for without a slot (on
  this wrapper's own event, then read from the cache: concurrent misses on one key compute
  once); any other call takes a slot first, showing "waiting for a free worker (n ahead)"
  while it waits, then "computing …";
- ``start_warmup`` computes the lesson presets once per process in a background thread, through
  the same limiter (one slot at a time), when the app runs under ``streamlit run``.
"""

from __future__ import annotations

import bisect
import collections
import contextlib
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable, Iterator, Protocol

from ui.serving import shared_results, workers
from ui.serving.host import on_real_server, worker_count

WARMUP_ENV = "VARIANCE_LAB_WARMUP"
#: How often a queued run refreshes its "n ahead" message (each refresh also lets Streamlit
#: stop a run whose user has moved on).
POLL_SECONDS = 0.5
#: Keys remembered as computed; Streamlit's own caches hold at most a few hundred entries.
READY_KEYS = 1024
#: The warm-up gives up after this long (it never holds more than one slot).
WARMUP_SECONDS = 300.0


def _logger() -> logging.Logger:
    """Streamlit's logger setup (its format and level), so that the server log shows ours."""
    from streamlit.logger import get_logger

    return get_logger(__name__)


#: A queued computation's place: ``arrival + STRETCH · estimated seconds``. A run may be
#: overtaken by any run that arrives less than STRETCH times its own cost after it, so a short
#: run does not wait behind a long one (shortest first) and a long one waits a bounded time
#: (it is never overtaken by a run that arrives more than STRETCH · its cost later: ≤ 24 s for
#: the largest, 0.8 s). 30 students moving to random depths 1–200 (bench/load_client.py, a
#: quiet 2-core machine, worker processes): p90 of a move 1.50 s with STRETCH 10, 0.74 and
#: 0.93 s with 30 (max 9.7 s against 14.5 s: the long runs pay); arrival order gave 7.4 s
#: before the worker processes.
STRETCH = 30.0


@dataclass(order=True)
class _Ticket:
    background: bool      # the warm-up: only when no user waits
    due: float            # arrival + STRETCH · estimated seconds
    number: int           # arrival order, the tie-break


class Limiter:
    """At most ``slots`` holders at once; re-entrant per thread.

    A free slot goes to the queued ticket that is due first: ``arrival + STRETCH · cost``
    (``cost``: the run's estimated seconds; 0 when unknown, which is arrival order). Background
    tickets (the warm-up) come after every user's. ``running`` and ``peak`` are for tests and
    the load benchmark; ``waiting`` is the queue.
    """

    def __init__(self, slots: int, stretch: float = STRETCH,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if slots < 1:
            raise ValueError(f"slots must be ≥ 1, got {slots}")
        self.slots = slots
        self.stretch = stretch
        self.clock = clock
        self.running = 0
        self.peak = 0
        self._queue: list[_Ticket] = []  # kept sorted: the first is served next
        self._tickets = 0
        self._cond = threading.Condition()
        self._local = threading.local()

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def holding(self) -> bool:
        return getattr(self._local, "depth", 0) > 0

    def try_acquire(self) -> bool:
        """Take a slot now if one is free and nobody is queued for it."""
        if self.holding():
            self._local.depth += 1
            return True
        with self._cond:
            if self.running < self.slots and not self._queue:
                self._grant()
                return True
        return False

    def acquire(self, on_wait: Callable[[int], None] | None = None,
                poll: float = POLL_SECONDS, cost: float = 0.0,
                background: bool = False) -> None:
        """Take a slot, waiting in line. ``on_wait(ahead)`` is called right away and then every
        ``poll`` seconds while waiting (``ahead``: tickets served before this one as the line
        stands); if it raises (a stopped run), the place in line is given up and the exception
        propagates. ``cost``: estimated seconds of the run; ``background``: after every user."""
        if self.holding():  # re-entrant: the slot this thread holds already
            self._local.depth += 1
            return
        if not background and self.try_acquire():
            return
        with self._cond:
            self._tickets += 1
            ticket = _Ticket(background, self.clock() + self.stretch * max(0.0, cost),
                             self._tickets)
            bisect.insort(self._queue, ticket)
        told, told_at = None, 0.0
        try:
            while True:
                with self._cond:
                    if self.running < self.slots and self._queue[0] is ticket:
                        self._queue.pop(0)
                        self._grant()
                        self._cond.notify_all()
                        return
                    ahead = self._queue.index(ticket)
                # Every release wakes every waiter: the page is told only when its place
                # changed (or each ``poll`` seconds, where a stopped run learns it is stopped).
                now = time.monotonic()
                if on_wait is not None and (ahead != told or now - told_at >= poll):
                    on_wait(ahead)
                    told, told_at = ahead, now
                with self._cond:
                    if not (self.running < self.slots and self._queue[0] is ticket):
                        self._cond.wait(poll)
        except BaseException:
            with self._cond:
                if ticket in self._queue:
                    self._queue.remove(ticket)
                self._cond.notify_all()
            raise

    def release(self) -> None:
        depth = getattr(self._local, "depth", 0)
        if depth <= 0:
            raise RuntimeError("release() without a slot")
        self._local.depth = depth - 1
        if depth == 1:
            with self._cond:
                self.running -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def slot(self, on_wait: Callable[[int], None] | None = None, cost: float = 0.0,
             background: bool = False) -> Iterator[None]:
        self.acquire(on_wait, cost=cost, background=background)
        try:
            yield
        finally:
            self.release()

    def _grant(self) -> None:  # called with the condition held
        self.running += 1
        self.peak = max(self.peak, self.running)
        self._local.depth = 1


LIMITER = Limiter(worker_count())


#: glibc's mallopt parameter number for the arena limit (malloc.h: M_ARENA_MAX = -8).
_M_ARENA_MAX = -8
ARENAS_ENV = "MALLOC_ARENA_MAX"
SERVED_ARENAS = 2


def limit_malloc_arenas(arenas: int = SERVED_ARENAS) -> bool:
    """At most ``arenas`` glibc malloc arenas from now on (unless MALLOC_ARENA_MAX is set).

    Streamlit runs every rerun in a new thread and glibc gives contending threads arenas of
    their own (up to 8 per core); each keeps the freed arrays of the simulations it ran (core
    raises the trim threshold so that a run reuses its pages). Measured with the load client,
    30 sessions for 60 s: peak RSS 1.5–1.6 GB with the default, 1.2 GB with this call (some
    arenas exist before the app's first import), 0.7 GB with MALLOC_ARENA_MAX=2 in the
    server's environment (the Dockerfile and bench/run_replicas.py set it)."""
    if os.environ.get(ARENAS_ENV) or not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        import ctypes.util

        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
        mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        return bool(mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # not glibc
        return False


#: As early as the app can: the first script run imports this module.
ARENAS_LIMITED = limit_malloc_arenas()

_blas_lock = threading.Lock()
_blas_limited: bool | None = None


def limit_blas_threads() -> bool:
    """OpenBLAS (and any other BLAS/OpenMP pool threadpoolctl finds) at one thread, for the
    rest of the process; True when every pool found reports one thread.

    Set once, not around each call: OpenBLAS's pool is process-wide, and threadpoolctl lets only
    one live thread at a time change it (a save/restore pair in each of several script threads
    would be ignored or would race). Parallelism comes from the K concurrent computations."""
    global _blas_limited
    with _blas_lock:
        if _blas_limited is None:
            import numpy  # noqa: F401  (threadpoolctl finds only libraries already loaded)
            from threadpoolctl import threadpool_info, threadpool_limits

            threadpool_limits(limits=1)
            _blas_limited = all(info["num_threads"] == 1 for info in threadpool_info())
            if not _blas_limited:
                _logger().warning("BLAS still runs %s threads",
                                  [info["num_threads"] for info in threadpool_info()])
        return _blas_limited


@contextlib.contextmanager
def computing(limiter: Limiter | None = None, cost: float = 0.0,
              background: bool = False) -> Iterator[None]:
    """Inside a cached function, around the core call: a slot (already held when the call came
    through ``Served``; taken here otherwise, e.g. by the warm-up or after an eviction, queued
    by ``cost``, the estimated seconds, after every user's when ``background``), with BLAS at
    one thread."""
    limit_blas_threads()
    with (limiter or LIMITER).slot(cost=cost, background=background):
        yield


class Display(Protocol):
    """What a user sees while a result is prepared."""

    def queued(self, ahead: int) -> None: ...

    def computing(self) -> contextlib.AbstractContextManager: ...

    def done(self) -> None: ...


class StreamlitDisplay:
    """A placeholder created only if the run has to wait (its text refreshed while waiting),
    then a spinner while computing; texts from the catalogues (ui/serving/locales/serving.*.json)."""

    def __init__(self) -> None:
        self._placeholder = None

    def queued(self, ahead: int) -> None:
        import streamlit as st

        from ui.frame.i18n import t

        if self._placeholder is None:
            self._placeholder = st.empty()
        self._placeholder.info(t("serving.queued", ahead=ahead + 1),
                               icon=":material/hourglass_top:")

    def computing(self) -> contextlib.AbstractContextManager:
        import streamlit as st

        from ui.frame.i18n import t

        if self._placeholder is not None:
            self._placeholder.info(t("serving.computing"), icon=":material/progress_activity:")
            return contextlib.nullcontext()
        return st.spinner(t("serving.computing"))

    def done(self) -> None:
        if self._placeholder is not None:
            self._placeholder.empty()


class Served:
    """A ``st.cache_data`` function behind the limiter (see the module docstring). With
    ``shared`` (ui.serving.shared_results), a result the replicas' shared store holds is read, and one
    another replica computes is waited for, without a slot.

    ``cached`` must itself wrap its core call in ``computing()`` so that every computation,
    however it is reached, holds a slot. ``clear()`` clears the Streamlit cache and what this
    wrapper remembers.
    """

    def __init__(self, cached: Callable[..., Any], limiter: Limiter | None = None,
                 display: Callable[[], Display] = StreamlitDisplay,
                 cost: Callable[..., float] | None = None, shared: Any = None) -> None:
        self.cached = cached
        # ui.serving.shared_results.SharedComputation of ``cached``: a result another replica has or
        # computes is read or waited for without a slot.
        self.shared = shared
        self.cost = cost  # estimated seconds of a computation, for its place in line
        self.limiter = limiter or LIMITER
        self.display = display
        self._lock = threading.Lock()
        self._ready: collections.OrderedDict[Hashable, None] = collections.OrderedDict()
        self._in_flight: dict[Hashable, threading.Event] = {}  # computing now, by key
        self.__name__ = getattr(cached, "__name__", "served")
        self.__doc__ = getattr(cached, "__doc__", None)

    def __call__(self, *args: Hashable) -> Any:
        key = args
        while True:
            with self._lock:
                ready = key in self._ready
                if ready:
                    self._ready.move_to_end(key)
                flight = self._in_flight.get(key)
            if ready:
                return self.cached(*args)
            display = self.display()
            if flight is not None:
                # Another session computes it: wait for it to finish, with no slot, then read
                # the cache. Not on Streamlit's per-key lock: a joiner that took that lock
                # before the computing session would compute itself and wait for a slot that
                # the computing session holds while it waits for the lock (a deadlock).
                with display.computing():
                    flight.wait()
                display.done()
                continue  # ready now, or that computation failed: try again
            if self.shared is not None and self.shared.ready_or_wait(*args, display=display):
                display.done()
                value = self.cached(*args)  # read from the shared store: no slot
                self._remember(key)
                return value
            cost = self.cost(*args) if self.cost is not None else 0.0
            with self.limiter.slot(on_wait=display.queued, cost=cost):
                with self._lock:
                    flight = self._claim(key)  # None: done or started while this one waited
                if flight is not None:
                    with display.computing():
                        value = self._compute(key, args, flight)
            display.done()
            if flight is not None and value is not shared_results.ELSEWHERE:
                return value

    def start(self, *args: Hashable) -> bool:
        """Begin computing ``args`` now in a thread of its own, if a slot is free at once and
        nobody waits for one; the caller's own ``self(*args)`` later joins it as a session
        joins another's computation. True if it began. The Explorer's first act is its
        simulation: begun before the sidebar is drawn, the two overlap (≈ 15 ms of a cold
        rerun). It never queues: with a class on the server, each page asks in its turn.
        A failure is left to that later call, which computes (and reports) it itself."""
        key = args
        with self._lock:
            if self.limiter.running >= self.limiter.slots or self.limiter.waiting:
                return False  # a hint only: the thread's try_acquire decides
            flight = self._claim(key)
        if flight is None:
            return False

        def compute() -> None:
            if not self.limiter.try_acquire():  # taken meanwhile: the caller's call queues
                self._release(key, flight)
                return
            try:
                self._compute(key, args, flight)
            except Exception:  # the caller's own call computes it again and shows the error
                _logger().debug("a started computation failed", exc_info=True)
            finally:
                self.limiter.release()

        threading.Thread(target=compute, name="served-start", daemon=True).start()
        return True

    def _claim(self, key: Hashable) -> threading.Event | None:
        """With ``self._lock`` held: mark ``key`` as computing now and return the event its
        joiners wait on, or None when it is computed or computing already."""
        if key in self._ready or key in self._in_flight:
            return None
        flight = self._in_flight[key] = threading.Event()
        return flight

    def _compute(self, key: Hashable, args: tuple, flight: threading.Event) -> Any:
        """``cached(*args)`` for a claimed key: remembered if it succeeds, the claim released
        (its joiners woken) however it ends."""
        try:
            with shared_results.deferring():
                value = self.cached(*args)
            self._remember(key)
            return value
        except shared_results.ComputedElsewhere:  # waited for without a slot, in __call__
            return shared_results.ELSEWHERE
        finally:
            self._release(key, flight)

    def _release(self, key: Hashable, flight: threading.Event) -> None:
        with self._lock:
            del self._in_flight[key]
        flight.set()

    def ready(self, *args: Hashable) -> bool:
        """Whether ``args`` was computed here and is still remembered (a cache read)."""
        with self._lock:
            return args in self._ready

    def warm(self, *args: Hashable) -> None:
        """Fill the cache for ``args`` from a thread with no script run (the warm-up), in a
        background slot: after every user in line."""
        with self.limiter.slot(background=True):
            try:
                with shared_results.deferring():
                    self.cached(*args)
            except shared_results.ComputedElsewhere:
                return  # another replica computes it; a page reads it from the store
        self._remember(args)

    def clear(self) -> None:
        self.cached.clear()
        with self._lock:
            self._ready.clear()

    def _remember(self, key: Hashable) -> None:
        with self._lock:
            self._ready[key] = None
            self._ready.move_to_end(key)
            while len(self._ready) > READY_KEYS:
                self._ready.popitem(last=False)


_warmup_lock = threading.Lock()
_warmup_thread: threading.Thread | None = None


def warmup_wanted(environ: dict[str, str] | None = None) -> bool:
    """``VARIANCE_LAB_WARMUP=1``/``0`` forces it on/off; by default it runs under the real
    server (``streamlit run``), never under AppTest."""
    return on_real_server(WARMUP_ENV, environ)


def start_warmup(jobs: Callable[[], Iterable[Callable[[], object]]],
                 seconds: float = WARMUP_SECONDS) -> threading.Thread | None:
    """Run the jobs (each fills a cache entry) once per process in a daemon thread, one after
    the other, for at most ``seconds``; later calls return the same thread. A failing job is
    logged and skipped."""
    global _warmup_thread
    with _warmup_lock:
        if _warmup_thread is not None:
            return _warmup_thread

        def run() -> None:
            started = time.monotonic()
            deadline = started + seconds
            done = 0
            for job in jobs():
                if time.monotonic() > deadline:
                    break
                try:
                    job()
                    done += 1
                except workers.WorkersStopped:  # the server is shutting down
                    break
                except Exception:  # a broken preset must not kill the server
                    _logger().exception("warm-up job failed")
            _logger().info("warm-up: %d results cached in %.1f s", done,
                           time.monotonic() - started)

        _warmup_thread = threading.Thread(target=run, name="variance-lab-warmup", daemon=True)
        _warmup_thread.start()
        return _warmup_thread
