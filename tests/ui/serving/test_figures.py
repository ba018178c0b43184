"""ui.serving.figures: a figure is built once per key and shared."""

import threading

import numpy as np
import plotly.graph_objects as go

from ui.chart_style import FrozenFigure
from ui.serving.figures import shared_figure

#: Generous bound for a thread to reach a point (never a timing assertion).
BOUND = 30


def test_shared_figure_is_built_once_per_key():
    built = []

    def build(name):
        built.append(name)
        return {"figure": name}

    key = ("test_shared_figure", object())
    first = shared_figure(key, lambda: build("a"))
    again = shared_figure(key, lambda: build("b"))
    assert first is again and built == ["a"]


def test_a_shared_plotly_figure_is_serialized_once():
    figure = shared_figure(("test_frozen_figure", object()),
                           lambda: go.Figure(go.Scatter(y=np.arange(5.0))))
    assert isinstance(figure, FrozenFigure)
    first = figure.to_dict()
    assert figure.to_dict() is first  # made once
    assert first == go.Figure(go.Scatter(y=np.arange(5.0))).to_dict()


def test_sessions_asking_for_a_figure_being_built_wait_for_it():
    started, release, built = threading.Event(), threading.Event(), []

    def slow():
        built.append(1)
        started.set()
        release.wait(BOUND)
        return {"figure": len(built)}

    key = ("test_shared_figure_once", object())
    results = []
    threads = [threading.Thread(target=lambda: results.append(shared_figure(key, slow)))
               for _ in range(5)]
    threads[0].start()
    assert started.wait(BOUND)
    for thread in threads[1:]:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(BOUND)
    assert built == [1] and len(results) == 5 and all(r is results[0] for r in results)
