"""The Train page's runs as they train: ui.serving.cache.trainings' states (ui.serving.train_live.Partial) into
the page's two main charts, laid out as the finished ones are (so nothing jumps when the
animation replaces them). Pure: no Streamlit here.

A state is ("waiting", None) for a run queued for a worker, ("training", partial or None) and
("done", partial) — a finished run in the same form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core import Dataset
from core.train import snapshot_grid
from ui.serving.train_live import Partial
from ui.setups import Setup
from ui.train.charts import DecisionFrames, Fit, decision_maps, loss_chart
from ui.train.logic import decision_values

Translate = Callable[..., str]
State = tuple[str, "Partial | None"]


@dataclass(frozen=True)
class LiveRun:
    """A run so far, as ui.train.charts.loss_chart reads one."""

    name: str
    colour: str
    history: pd.DataFrame
    layer_history: pd.DataFrame | None = None
    first_nonfinite: tuple[int, int, str] | None = None


def note(state: State, tr: Translate) -> str:
    """Where a run is: the step its picture shows, or that it waits."""
    kind, partial = state
    if partial is not None and partial.snapshot_step is not None:
        return tr("train.live.step", step=partial.step)
    return tr("train.live.waiting") if kind == "waiting" else tr("train.live.starting")


def live_decision(setups: Sequence[Setup], data: Sequence[Dataset], states: Sequence[State],
                  tr: Translate, fit: Fit, done: int, total: int) -> go.Figure | None:
    """Each set-up's latest decision map over its data (the points alone before its first
    snapshot); None when the data are not 2-D (no maps)."""
    frames = []
    for setup, points, (kind, partial) in zip(setups, data, states):
        if points.n_features != 2:
            return None
        xs, ys = snapshot_grid(points)
        snapshot = None if partial is None else partial.snapshot
        empty = np.empty((0, len(ys), len(xs)))
        values, value_range = decision_values(empty if snapshot is None else snapshot[None],
                                              points.task)
        steps = np.array([] if snapshot is None else [partial.snapshot_step], dtype=int)
        frames.append(DecisionFrames(setup.name, setup.colour, xs, ys, steps, values,
                                     points.x_train, points.y_train[:, 0], value_range))
    return decision_maps(frames, [note(state, tr) for state in states],
                         tr("train.live.decision_title", done=done, total=total), tr, fit)


def live_loss(setups: Sequence[Setup], states: Sequence[State], tr: Translate, fit: Fit,
              steps: int, done: int, total: int) -> go.Figure:
    """The loss curves so far on the finished chart's step axis (0 … ``steps``)."""
    runs = [LiveRun(setup.name, setup.colour, partial.history)
            for setup, (_, partial) in zip(setups, states) if partial is not None]
    return loss_chart(runs, tr, fit, steps=steps,
                      title=tr("train.live.loss_title", done=done, total=total))
