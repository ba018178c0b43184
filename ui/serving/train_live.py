"""A training run watched while it trains: what a worker reports and the page draws.

``train_reporting(network, train_config, report)`` is ``core.train`` with its ``on_record``
hook turned into ``report(payload)`` calls (ui.serving.workers carries the bytes from the worker
process): the history rows so far and the latest decision-function snapshot, at most every
``REPORT_SECONDS`` (and at step 0 and the last record, so the first picture comes at once and
the last is complete). ``decode`` gives the page a ``Partial``.

The payload is a small header and raw float64 arrays, never a pickle: a worker's bytes are
read by the server. Pure: NumPy and pandas only (it runs in the worker, which has no
Streamlit).
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from core import HISTORY_COLUMNS, NetworkConfig, TrainConfig, TrainResult, train

#: A watched run reports at most this often: a page redraws ≈ 4 times a second at most, so
#: more would only cost the worker's time.
REPORT_SECONDS = 0.1
#: (step, steps, rows, snapshot step or −1, snapshot rows, snapshot columns)
_HEADER = struct.Struct("<qqqqqq")
_COLUMNS = len(HISTORY_COLUMNS)


@dataclass(frozen=True)
class Partial:
    """A run so far: its ``history`` (core.train's columns) up to ``step`` of ``steps``, and
    the decision-function values of the latest snapshot (raw output: the logit or the
    prediction; None before the first or without 2-D data) and its step."""

    step: int
    steps: int
    history: pd.DataFrame
    snapshot_step: int | None
    snapshot: np.ndarray | None

    @classmethod
    def of_result(cls, result: TrainResult) -> "Partial":
        """A finished run in the same form (its last snapshot)."""
        snapshots = result.snapshots
        has = snapshots is not None and len(snapshots.steps) > 0
        history = result.history
        return cls(int(history["step"].iloc[-1]) if len(history) else 0,
                   result.train_config.steps, history,
                   int(snapshots.steps[-1]) if has else None,
                   snapshots.values[-1] if has else None)


def encode(step: int, steps: int, rows: list[tuple], snapshot_step: int | None,
           snapshot: np.ndarray | None) -> bytes:
    table = np.asarray(rows, dtype=np.float64).reshape(len(rows), _COLUMNS)
    grid = np.empty((0, 0)) if snapshot is None else np.asarray(snapshot, dtype=np.float64)
    header = _HEADER.pack(step, steps, len(rows), -1 if snapshot_step is None else snapshot_step,
                          *grid.shape)
    return header + table.tobytes() + grid.tobytes()


def decode(payload: bytes) -> Partial:
    """The ``Partial`` a payload describes (ValueError if it is not one)."""
    if len(payload) < _HEADER.size:
        raise ValueError("a training report shorter than its header")
    step, steps, count, snapshot_step, height, width = _HEADER.unpack_from(payload)
    table_bytes = 8 * count * _COLUMNS
    if min(count, height, width) < 0 or len(payload) != (_HEADER.size + table_bytes
                                                         + 8 * height * width):
        raise ValueError("a training report whose size does not match its header")
    table = np.frombuffer(payload, np.float64, count * _COLUMNS, _HEADER.size)
    history = pd.DataFrame(table.reshape(count, _COLUMNS), columns=list(HISTORY_COLUMNS))
    history["step"] = history["step"].astype(int)
    history["clipped"] = history["clipped"].astype(bool)
    grid = np.frombuffer(payload, np.float64, height * width, _HEADER.size + table_bytes)
    return Partial(step, steps, history, None if snapshot_step < 0 else snapshot_step,
                   grid.reshape(height, width) if height else None)


class Reporter:
    """core.train's ``on_record`` hook: keeps the rows and the latest snapshot and reports them
    (step 0, then at most every ``seconds``, and the last record)."""

    def __init__(self, report: Callable[[bytes], None], seconds: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.report, self.clock = report, clock
        self.seconds = REPORT_SECONDS if seconds is None else seconds
        self.rows: list[tuple] = []
        self.snapshot_step: int | None = None
        self.snapshot: np.ndarray | None = None
        self.last = -float("inf")

    def __call__(self, step: int, steps: int, row: tuple, snapshot: np.ndarray | None) -> None:
        self.rows.append(row)
        if snapshot is not None:
            self.snapshot_step, self.snapshot = step, snapshot
        now = self.clock()
        if now - self.last >= self.seconds or step == steps:
            self.last = now
            self.report(encode(step, steps, self.rows, self.snapshot_step, self.snapshot))


def train_reporting(network: NetworkConfig, train_config: TrainConfig,
                    report: Callable[[bytes], None]) -> TrainResult:
    """``core.train`` reporting as it goes (see the module docstring); picklable for
    ui.serving.workers."""
    return train(network, train_config, on_record=Reporter(report))
