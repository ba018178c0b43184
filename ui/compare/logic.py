"""The Compare page's logic: comparison presets, set-ups built from the base config, their names,
the URL codec of a comparison, and the summary table. Pure: no Streamlit here.

A comparison is up to ``MAX_SETUPS`` set-ups, each a *difference* from the base config (the
sidebar's config). Either a one-parameter sweep (``Sweep``: one field, several values) or a list
of freely edited differences (``Diff``). Set-up ``i`` keeps colour ``PALETTE[i]`` on every chart,
whether or not the set-ups before it could run.

Share link (all parameters optional; the base config is the usual config parameters):

``cmp=<field>:<v1>,<v2>,…``
    the sweep: a field of ``SWEEP_FIELDS`` and 1 to 6 values, each written and validated as in
    core's codec (``cmp=init_std:0.01,0.1,1``). Default ``init:xavier_normal,kaiming_normal``.
``cmp_setups=<s1>;<s2>;…``
    edited set-ups (they win over ``cmp``): up to 6, separated by ``;``, each a core query
    string of its differences from the base (``init=normal&init_std=0.01``) or ``base`` for
    the base itself. In the address bar it is percent-encoded (``%3D``, ``%26``, ``%3B``).
``cmp_names=<n1>;<n2>;…``
    custom names by position, up to 6, each at most 40 characters; empty = automatic name.
``cmp_preset=<id>``
    the comparison preset in use (a key of ``COMPARE_PRESETS``).
``cmp_layer=<n>``
    the layer whose histograms are shown (default: each set-up's last layer).

Example: ``/compare?activation=relu&depth=30&width=512&cmp=init:xavier_normal,kaiming_normal``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any, Mapping, Sequence

import pandas as pd

from core import (FIELD_SPECS, ConfigError, NetworkConfig, backward_ratio, diagnose,
                  forward_ratio)
from core.config import MAX_DEPTH
from core.query import format_value, parse_value
from ui import setups
from ui.findings import finding_sentence
from ui.frame.errors import InvalidChoice
from ui.setups import MAX_SETUPS, Diff, Run, Sweep, Translate, format_diff

#: The fields a one-parameter sweep may vary, in the order the page offers them.
SWEEP_FIELDS = ("init", "activation", "init_std", "init_gain", "norm", "norm_position",
                "residual", "residual_form", "residual_scale", "dropout", "batch_size", "depth",
                "width")

#: Values a sweep starts with when its field is chosen.
SWEEP_DEFAULTS: dict[str, tuple] = {
    "init": ("xavier_normal", "kaiming_normal"),
    "activation": ("tanh", "relu", "sigmoid"),
    "init_std": (0.01, 0.1, 1.0),
    "init_gain": (0.5, 1.0, 2.0),
    "norm": ("none", "batchnorm", "layernorm"),
    "norm_position": ("before", "after"),
    "residual": (False, True),
    "residual_form": ("pre", "post"),
    "residual_scale": (0.1, 0.5, 1.0),
    "dropout": (0.0, 0.2, 0.5),
    "batch_size": (2, 32, 512),
    "depth": (5, 20, 50),
    "width": (64, 256, 512),
}
assert set(SWEEP_DEFAULTS) == set(SWEEP_FIELDS)

#: Column order of the set-up editor: the fields a lesson varies first, then the rest.
EDITOR_FIELDS = SWEEP_FIELDS + tuple(f for f in FIELD_SPECS if f not in SWEEP_FIELDS)

DEFAULT_SWEEP = Sweep("init", SWEEP_DEFAULTS["init"])


#: Compare's sweep parser (its sweepable fields) and the values widget read with it.
parse_sweep = partial(setups.parse_sweep, fields=SWEEP_FIELDS)
sweep_from_widget = partial(setups.sweep_from_widget, parse=parse_sweep)


def parse_layer(text: str) -> int:
    """The histogram layer: an integer from 0 (the input) to MAX_DEPTH."""
    # str.isdigit() also accepts '²' or '٣', which int() refuses or reads: ASCII digits only.
    if not (0 < len(text) <= 4 and text.isascii() and text.isdigit()) or int(text) > MAX_DEPTH:
        raise ValueError(f"an integer from 0 to {MAX_DEPTH}")
    return int(text)


def parse_preset(text: str) -> str:
    if text not in COMPARE_PRESETS:
        raise InvalidChoice(COMPARE_PRESETS)
    return text


# --- presets -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ComparePreset:
    """A lesson: a base config (fields; seed kept from the session) and either a sweep or
    edited set-ups. Names and notices are in the catalogues: compare.preset.<id>.name/.notice."""

    base: Mapping[str, Any]
    sweep: Sweep | None = None
    setups: tuple[Diff, ...] = ()

    def config(self, seed: int = 0) -> NetworkConfig:
        return NetworkConfig(seed=seed, **self.base)

    def diffs(self) -> tuple[Diff, ...]:
        return self.sweep.diffs() if self.sweep is not None else self.setups



COMPARE_PRESETS: dict[str, ComparePreset] = {
    "tanh_init": ComparePreset(
        dict(activation="tanh", depth=10, width=512, init="xavier_normal"),
        setups=((("init", "normal"), ("init_std", 0.01)), (("init", "normal"), ("init_std", 1.0)),
                (("init", "xavier_normal"),))),
    "relu_init": ComparePreset(
        dict(activation="relu", depth=30, width=512),
        sweep=Sweep("init", ("xavier_normal", "kaiming_normal"))),
    "relu_norm": ComparePreset(
        dict(activation="relu", depth=50, width=256, init="xavier_normal"),
        # Products against sums: each norm alone, then a residual connection around a
        # normalised branch (pre-activation form, s = 1).
        setups=((("norm", "none"),), (("norm", "batchnorm"),), (("norm", "layernorm"),),
                (("norm", "batchnorm"), ("residual", True)),
                (("norm", "layernorm"), ("residual", True)))),
    "sigmoid_tanh": ComparePreset(
        dict(activation="tanh", depth=20, width=256, init="xavier_normal"),
        sweep=Sweep("activation", ("sigmoid", "tanh", "scaled_sigmoid"))),
    "bn_position": ComparePreset(
        dict(activation="relu", depth=20, width=256, init="kaiming_normal", norm="batchnorm"),
        sweep=Sweep("norm_position", ("before", "after"))),
    "bn_batch": ComparePreset(
        dict(activation="tanh", depth=20, width=256, init="xavier_normal", norm="batchnorm"),
        sweep=Sweep("batch_size", (2, 256))),
}


def preset_matches(preset_id: str, base: NetworkConfig, sweep: Sweep,
                   setups: Sequence[Diff]) -> bool:
    """Whether the page still shows the preset (its base, with any seed, and its set-ups)."""
    preset = COMPARE_PRESETS.get(preset_id)
    if preset is None or preset.config(seed=base.seed) != base:
        return False
    if preset.sweep is not None:
        return not setups and sweep == preset.sweep
    return tuple(setups) == preset.setups


# --- the set-up editor (a table, one row per set-up, one column per field) ----------------

def editor_frame(base: NetworkConfig, setups: Sequence[Diff]) -> pd.DataFrame:
    """Each set-up's full values (base + its differences); widths as text."""
    rows = []
    for diff in setups:
        values = {name: getattr(base, name) for name in EDITOR_FIELDS}
        values.update(dict(diff))
        values["widths"] = ",".join(str(v) for v in values["widths"])
        rows.append(values)
    return pd.DataFrame(rows, columns=list(EDITOR_FIELDS))


def apply_editor_state(frame: pd.DataFrame, state: Mapping[str, Any]) -> pd.DataFrame:
    """Apply st.data_editor's edit record ({edited_rows, added_rows, deleted_rows}) to the
    frame it was shown; new rows start from the first row (or are left as given)."""
    frame = frame.copy()
    for row, changes in (state.get("edited_rows") or {}).items():
        for column, value in changes.items():
            if column in frame.columns and int(row) < len(frame):
                frame.at[int(row), column] = value
    deleted = {int(r) for r in state.get("deleted_rows") or ()}
    frame = frame.drop(index=[r for r in deleted if r < len(frame)]).reset_index(drop=True)
    for added in state.get("added_rows") or ():
        row = frame.iloc[0].to_dict() if len(frame) else {}
        row.update({k: v for k, v in added.items() if k in EDITOR_FIELDS and v is not None})
        frame = pd.concat([frame, pd.DataFrame([row])], ignore_index=True)
    return frame


def diffs_from_editor(base: NetworkConfig, frame: pd.DataFrame
                      ) -> tuple[tuple[Diff, ...], list[str]]:
    """Each row → its differences from the base; unusable cells are reported and left at the
    base's value. At most MAX_SETUPS rows are kept."""
    diffs, problems = [], []
    for index, row in frame.head(MAX_SETUPS).iterrows():
        diff = []
        for name in EDITOR_FIELDS:
            spec = FIELD_SPECS[name]
            cell = row.get(name)
            if cell is None or (isinstance(cell, float) and math.isnan(cell)):
                continue
            try:
                value = parse_value(spec, format_value(spec, cell) if not isinstance(cell, str)
                                    else cell)
            except (ConfigError, TypeError, ValueError) as error:
                problems.append(f"{int(index) + 1}: {error}")
                continue
            if value != getattr(base, name):
                diff.append((name, value))
        if any(n == "widths" for n, _ in diff):
            diff = [(n, v) for n, v in diff if n not in ("depth", "width")]
        order = list(FIELD_SPECS)
        diffs.append(tuple(sorted(diff, key=lambda item: order.index(item[0]))))
    return tuple(diffs), problems


# --- summary --------------------------------------------------------------------------------

def layer_for(run: Run, chosen: int | None) -> int:
    """The chosen layer, or the set-up's last layer if none is chosen or it is shallower."""
    depth = run.result.config.depth
    return depth if chosen is None else min(chosen, depth)


def _max_percent(stats: pd.DataFrame, column: str) -> float:
    values = stats.loc[stats["layer"] >= 1, column]
    return float(100 * values.max()) if values.notna().any() else float("nan")


def summary_frame(runs: Sequence[Run], tr: Translate) -> pd.DataFrame:
    """One row per set-up: ratios, first non-finite layer, worst saturation and dead units,
    the diagnosis in words and the set-up's differences as a query string."""
    rows = []
    for run in runs:
        stats = run.result.layer_stats
        rows.append({
            tr("compare.col.setup"): run.name,
            tr("compare.col.forward"): forward_ratio(stats),
            tr("compare.col.backward"): backward_ratio(stats),
            tr("compare.col.nonfinite"): run.result.first_nonfinite_layer,
            tr("compare.col.saturated"): _max_percent(stats, "act_saturated_frac"),
            tr("compare.col.dead"): _max_percent(stats, "dead_unit_frac"),
            tr("compare.col.diagnosis"): " ".join(finding_sentence(f, tr)
                                                  for f in diagnose(run.result)),
            tr("compare.col.query"): format_diff(run.setup.diff),
        })
    frame = pd.DataFrame(rows)
    if len(frame):
        column = tr("compare.col.nonfinite")
        frame[column] = frame[column].astype("Int64")
    return frame
