"""Figures built once per process and shared by every session (``shared_figure``)."""

from __future__ import annotations

import collections
import threading
from typing import Any, Callable, Hashable

#: Figures kept by ``shared_figure``: a 200-layer figure is a few hundred KB of Python objects.
FIGURES = 128
_figures: collections.OrderedDict[Hashable, Any] = collections.OrderedDict()
_building: dict[Hashable, threading.Lock] = {}  # keys being built now
_figures_lock = threading.Lock()


def shared_figure(key: Hashable, build: Callable[[], Any]) -> Any:
    """The figure for ``key``, built once per process and shared by every session.

    Building a Plotly figure object costs 80–100 ms (validation of every property); Streamlit
    only reads the figure it is given (``to_dict`` then JSON), so one object serves every
    session. ``key`` must name everything the figure depends on (the config, the language,
    the page's options). Not ``st.cache_data``: that would pickle and unpickle the figure on
    every hit, which costs as much as building it. A Plotly figure is frozen
    (ui.chart_style.FrozenFigure): it is serialized once, not at every session's rerun."""
    with _figures_lock:
        figure = _figures.get(key)
        if figure is not None:
            _figures.move_to_end(key)
            return figure
        building = _building.setdefault(key, threading.Lock())
    # One session builds it, the others wait for it: a class whose cold lesson finishes at
    # once would otherwise build each figure thirty times (measured: every page finished
    # 3.5 s after the runs, the server's one GIL busy building the same figures).
    with building:
        with _figures_lock:
            figure = _figures.get(key)
        if figure is None:
            from ui.chart_style import frozen  # Plotly: not in the workers' imports

            figure = frozen(build())
            with _figures_lock:
                _figures[key] = figure
                while len(_figures) > FIGURES:
                    _figures.popitem(last=False)
    with _figures_lock:
        _building.pop(key, None)
    return figure
