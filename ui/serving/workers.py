"""Computations in worker processes: a simulation runs at full speed whatever the pages do.

A Streamlit server is one process; every session's script run is a thread, and they share one
GIL. A simulation makes ~30 NumPy calls per layer and needs the GIL back after each; while
page threads run Python, each hand-back waits for the GIL's switch interval (5 ms). Measured
here (``python bench/gil_contention.py``): a depth-100 simulation that takes 0.24 s alone took
2.1 s beside one busy Python thread and 6.3 s beside two, so with a class on the server the
computations crawled while the cores were half idle. In a worker process a computation has a
GIL of its own.

- ``run(fn, *args)`` calls a picklable top-level ``fn`` (``core.simulate``) in one of
  ``ui.serving.host.worker_count()`` processes and returns its result; the caller holds a
  ``ui.serving.limiter`` slot, so the pool never queues work of its own and the queue a user
  sees is the limiter's.
- ``run_reporting`` does the same for a run that reports as it goes (``core.train`` through
  ui.serving.train_live): the worker hands ``report(payload)`` the latest partial result as
  bytes, written to a small file (replaced whole, so never read half-written) that the calling
  thread polls.
- The processes come from a fork server that has imported ``core`` (NumPy, pandas) and nothing
  of Streamlit: a worker starts in milliseconds, small, with one BLAS thread, and runs at a
  lower CPU priority than the server (a page rerun is interactive, a simulation is not).
- A worker that dies (killed, out of memory) fails only the runs it held: the pool is replaced
  and the caller gets ``WorkerLost``.
- Processes are used under ``streamlit run``; under AppTest (the unit tests) and wherever
  ``VARIANCE_LAB_PROCESSES=0``, ``run`` calls ``fn`` in the calling thread.
  ``VARIANCE_LAB_PROCESSES=1`` forces processes (the tests of this module).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import pickle
import signal
import tempfile
import threading
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

from ui.serving.host import on_real_server, worker_count

PROCESSES_ENV = "VARIANCE_LAB_PROCESSES"
#: Added to the workers' nice value: the scheduler gives the server's threads a core first.
WORKER_NICENESS = 10
#: What a worker imports before it forks: the pure core, not Streamlit.
PRELOAD = ("core", "ui.serving.worker_tasks")


class WorkerLost(RuntimeError):
    """The process computing a run died before it answered (killed or out of memory)."""


class WorkersStopped(WorkerLost):
    """The worker processes are shut down: the server is stopping."""


def processes_wanted(environ: dict[str, str] | None = None) -> bool:
    """``VARIANCE_LAB_PROCESSES=1``/``0`` forces processes on/off; by default they are used
    under the real server (``streamlit run``), never under AppTest."""
    return on_real_server(PROCESSES_ENV, environ)


def _worker_started() -> None:
    """In each worker, once: one BLAS thread (the limiter counts one core per computation),
    and a lower CPU priority than the server, whose page reruns are the interactive work:
    a cached rerun (≈ 40 ms) should not wait behind a simulation (up to 1.5 s) for a core."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    # Ctrl-C in the server's terminal reaches the whole process group: the server shuts the
    # pool down; a worker interrupted on its own would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _call(fn: Callable[..., Any], args: tuple, **kwargs: Any) -> Any:
    """Run in the worker. An exception that would not survive pickling (one whose __init__
    takes other arguments than its message) is sent back as a RuntimeError that names it."""
    try:
        return fn(*args, **kwargs)
    except Exception as error:
        try:
            pickle.loads(pickle.dumps(error))
        except Exception:
            raise RuntimeError(f"{type(error).__name__}: {error}") from None
        raise


def _call_reporting(fn: Callable[..., Any], args: tuple, report_path: str) -> Any:
    """Run in the worker: ``fn(*args, report=…)``; each payload (bytes) replaces the file at
    ``report_path`` whole (written beside it, then renamed: a reader never sees half of one).
    A file, not shared memory: nothing to track or leak if a worker dies."""
    partial = report_path + ".part"

    def report(payload: bytes) -> None:
        with open(partial, "wb") as file:
            file.write(payload)
        os.replace(partial, report_path)

    return _call(fn, args, report=report)


class Pool:
    """``size`` worker processes, started on first use and replaced if one dies."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None

    def _get(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(list(PRELOAD))
                self._executor = concurrent.futures.ProcessPoolExecutor(
                    max_workers=self.size, mp_context=context, initializer=_worker_started)
            return self._executor

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in a worker. If the worker dies, once more in a new one (another
        run's memory may have been what killed it); ``WorkerLost`` if that dies too."""
        try:
            return self.wait(*self.submit(_call, fn, args))
        except WorkerLost:
            return self.wait(*self.submit(_call, fn, args))

    def submit(self, fn: Callable[..., Any], *args: Any
               ) -> tuple[concurrent.futures.ProcessPoolExecutor, concurrent.futures.Future]:
        executor = self._get()
        try:
            return executor, executor.submit(fn, *args)
        except BrokenProcessPool as error:
            raise self._lost(executor) from error
        except RuntimeError as error:  # "cannot schedule new futures after shutdown"
            raise WorkersStopped(str(error)) from error

    def wait(self, executor: concurrent.futures.ProcessPoolExecutor,
             future: concurrent.futures.Future, timeout: float | None = None) -> Any:
        """The future's result (``concurrent.futures.TimeoutError`` after ``timeout``)."""
        try:
            return future.result(timeout)
        except BrokenProcessPool as error:
            raise self._lost(executor) from error

    def _lost(self, executor: concurrent.futures.ProcessPoolExecutor) -> WorkerLost:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)
        return WorkerLost("the worker process computing this run stopped "
                          "(killed or out of memory)")

    def pids(self) -> list[int]:
        """The live workers' process ids (for tests and benchmarks)."""
        with self._lock:
            executor = self._executor
        if executor is None:
            return []
        return [p.pid for p in list(getattr(executor, "_processes", {}).values()) if p.pid]

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


_pool: Pool | None = None
_pool_lock = threading.Lock()


def pool() -> Pool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = Pool(worker_count())
        return _pool


def _ready() -> bool:
    return True


def start() -> None:
    """Start the fork server and a worker now (≈ 2 s: they import NumPy and pandas) rather than
    at the first user's computation, when processes are wanted."""
    if processes_wanted():
        pool().run(_ready)


def run(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a worker process (see the module docstring), or here when processes are
    not wanted."""
    if not processes_wanted():
        return fn(*args)
    return pool().run(fn, *args)


def run_reporting(fn: Callable[..., Any], args: tuple,
                  on_report: Callable[[bytes], None] | None,
                  poll_s: float = 0.05) -> Any:
    """``fn(*args, report=…)`` in a worker process (or here, see ``run``); each payload the run
    hands ``report`` reaches ``on_report`` — the latest one, at most every ``poll_s`` seconds,
    in this thread (here: in the thread that computes; keep it short)."""
    if not processes_wanted():
        return fn(*args, report=on_report or (lambda payload: None))
    workers = pool()
    with tempfile.TemporaryDirectory(prefix="variance-lab-report-") as folder:
        path = os.path.join(folder, "latest")
        executor, future = workers.submit(_call_reporting, fn, args, path)
        seen = None
        while True:
            try:
                return workers.wait(executor, future, timeout=poll_s)
            except concurrent.futures.TimeoutError:
                if on_report is None:
                    continue
                try:
                    with open(path, "rb") as file:
                        payload = file.read()  # a few KB
                except FileNotFoundError:  # nothing reported yet
                    continue
                if payload != seen:
                    seen = payload
                    on_report(payload)
