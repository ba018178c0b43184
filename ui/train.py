"""The Train page's logic: training set-ups, lesson presets and result sentences. Pure: no
Streamlit here.

A set-up is a (network, training) pair, ``TrainPair``. Like Compare's (ui.compare, whose Sweep,
Diff, parsers and ``build_setups`` are reused), set-ups are differences from a base: the
sidebar's network with the page's training settings. A difference may name a NetworkConfig
field (``init=normal``) or a TrainConfig field under its key in core's link codec
(``core.query.TRAIN_QUERY_KEYS``: ``lr=0.5``, and ``train_batch_size`` / ``train_seed`` where
NetworkConfig has a field of the same name); the page's link uses the same names.
At most ``MAX_SETUPS`` set-ups; set-up ``i`` keeps colour ``PALETTE[i]`` on every chart.

Share link (all optional; the base network is the usual config parameters):

``<training field>=<value>``
    a TrainConfig field of the base training, keyed as core's codec does
    (``dataset=spiral&lr=0.1&steps=300&train_batch_size=50``).
``trn=<field>:<v1>,<v2>,…``
    the sweep: a field of ``SWEEP_FIELDS`` (network or training) and 1 to 4 values.
``trn_setups=<s1>;<s2>;…``
    edited set-ups (they win over ``trn``): up to 4, each ``base`` or a query string of its
    differences (``init=normal&init_std=0.01``, ``clip=norm``), percent-encoded in the bar.
``trn_names=<n1>;…``, ``trn_preset=<id>``, ``trn_step=<n>``
    custom names, the lesson preset in use, the step whose activations are shown.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from core.query import (TRAIN_QUERY_KEYS, config_to_params, format_value, parse_value,
                        train_config_to_params)
from core import (FIELD_SPECS, TRAIN_FIELD_SPECS, ConfigError, Dataset, NetworkConfig,
                  TrainConfig, TrainResult, check_budget)
from ui import compare
from ui.charts import HEALTHY_BAND
from ui.compare import Diff, Setup, Sweep
from ui.errors import InvalidChoice, describe_config_error
from ui.train_charts import DecisionFrames
from core.train_config import (MAX_TRAIN_MULTIPLY_ADDS, MULTIPLY_ADDS_PER_SECOND,
                               estimated_training_work)

Translate = Callable[..., str]

MAX_SETUPS = 4
#: TrainConfig field → its key in a link (core's codec), and back.
TRAIN_KEYS = TRAIN_QUERY_KEYS
TRAIN_FIELDS_BY_KEY = {key: name for name, key in TRAIN_KEYS.items()}
#: TrainConfig's fields under their link names, validated by core's specs.
TRAIN_SPECS = {TRAIN_KEYS[name]: dataclasses.replace(spec, name=TRAIN_KEYS[name])
               for name, spec in TRAIN_FIELD_SPECS.items()}
#: Everything a set-up may change: the network's fields, then the training's.
SETUP_SPECS = {**FIELD_SPECS, **TRAIN_SPECS}

#: The settings a one-parameter sweep may vary, in the order the page offers them.
SWEEP_DEFAULTS: dict[str, tuple] = {
    "init": ("normal", "xavier_normal", "kaiming_normal"),
    "activation": ("tanh", "relu"),
    "init_std": (0.01, 0.1, 1.0),
    "norm": ("none", "batchnorm"),
    "residual": (False, True),
    "dropout": (0.0, 0.5),
    "bn_momentum": (0.1, 0.9),
    "input_preprocess": ("none", "zscore"),
    "depth": (3, 10, 30),
    "width": (8, 32, 128),
    "lr": (0.01, 0.1, 1.0),
    "optimizer": ("sgd", "momentum", "adam"),
    "train_batch_size": (10, 50),
    "clip": ("none", "norm"),
    "l1": (0.0, 0.001),
    "l2": (0.0, 0.001),
    "feature_scale": (1.0, 100.0),
    "noise": (0.0, 0.3),
}
SWEEP_FIELDS = tuple(SWEEP_DEFAULTS)
DEFAULT_SWEEP = Sweep("init", SWEEP_DEFAULTS["init"])
#: Column order of the set-up editor: the sweepable settings, then the other training ones.
EDITOR_FIELDS = SWEEP_FIELDS + tuple(f for f in TRAIN_SPECS if f not in SWEEP_FIELDS)


@dataclass(frozen=True)
class TrainPair:
    """One set-up's network and training (hashable: the cache key of its run)."""

    network: NetworkConfig
    training: TrainConfig


def split_diff(diff: Diff) -> tuple[Diff, dict[str, Any]]:
    """A set-up's differences → (network diff, TrainConfig changes by field name)."""
    network = tuple((f, v) for f, v in diff if f not in TRAIN_FIELDS_BY_KEY)
    training = {TRAIN_FIELDS_BY_KEY[f]: v for f, v in diff if f in TRAIN_FIELDS_BY_KEY}
    return network, training


def apply_train_diff(base: TrainPair, diff: Diff) -> TrainPair:
    """The base pair with the differences; raises ConfigError when a config is invalid or the
    run is over the budget (refused here, before any work)."""
    network_diff, training_changes = split_diff(diff)
    network = compare.apply_diff(base.network, network_diff)
    training = base.training.replace(**training_changes) if training_changes else base.training
    check_budget(network, training)
    return TrainPair(network, training)


# --- the link's codec (the page's parameters; ui.train_state binds them to session keys) -------

parse_sweep = partial(compare.parse_sweep, fields=SWEEP_FIELDS, specs=SETUP_SPECS,
                      max_setups=MAX_SETUPS)
format_sweep = partial(compare.format_sweep, specs=SETUP_SPECS)
parse_setups = partial(compare.parse_setups, specs=SETUP_SPECS, max_setups=MAX_SETUPS)
format_setups = partial(compare.format_setups, specs=SETUP_SPECS)
format_diff = partial(compare.format_diff, specs=SETUP_SPECS)
parse_names = partial(compare.parse_names, max_setups=MAX_SETUPS)
format_names = compare.format_names
value_text = partial(compare.value_text, specs=SETUP_SPECS)


def train_field_parser(name: str) -> Callable[[str], Any]:
    """The link parser of TrainConfig field ``name``: ValueError naming what is valid."""
    spec = TRAIN_FIELD_SPECS[name]

    def parse(text: str) -> Any:
        try:
            return parse_value(spec, text)
        except ConfigError:
            if spec.kind == "choice":
                raise InvalidChoice(spec.choices) from None
            raise ValueError(spec.describe()) from None
    return parse


def train_field_formatter(name: str) -> Callable[[Any], str]:
    spec = TRAIN_FIELD_SPECS[name]
    return lambda value: format_value(spec, value)


def parse_step(text: str) -> int:
    if len(text) > 6 or not text.isdigit():
        raise ValueError(f"an integer from 0 to {int(TRAIN_FIELD_SPECS['steps'].high)}")
    return int(text)


def parse_preset(text: str) -> str:
    if text not in TRAIN_PRESETS:
        raise InvalidChoice(TRAIN_PRESETS)
    return text


def build_setups(base: TrainPair, diffs: Sequence[Diff], names: Sequence[str],
                 tr: Translate) -> list[Setup]:
    return compare.build_setups(base, diffs, names, tr, apply=apply_train_diff,
                                specs=SETUP_SPECS, max_setups=MAX_SETUPS)


#: A page's set-ups together may cost at most this much of core's work estimate
#: (``estimated_training_work`` summed here: one run's limit, ≈ 20 s of one core, ≈ 10 s on
#: two workers), so that four set-ups each just under one run's limit are not 80 s of work.
PAGE_TRAIN_MULTIPLY_ADDS = MAX_TRAIN_MULTIPLY_ADDS


def within_page_budget(setups: Sequence[Setup]) -> list[Setup]:
    """The set-ups in order, each one that would take the page's total work over
    PAGE_TRAIN_MULTIPLY_ADDS refused (config None, a ConfigError with code "page_too_large",
    its ``amount`` the total with it and ``limit`` the page's) before any work starts."""
    total, kept = 0.0, []
    for setup in setups:
        if setup.config is not None:
            work = estimated_training_work(setup.config.network, setup.config.training)
            if total + work > PAGE_TRAIN_MULTIPLY_ADDS:
                setup = dataclasses.replace(setup, config=None, error=ConfigError(
                    f"The set-ups together are too large for one page: about "
                    f"{total + work:.2g} multiply-adds with this one, the page's limit is "
                    f"{PAGE_TRAIN_MULTIPLY_ADDS:.2g}.",
                    ("steps", "batch_size", "n_points", "depth", "width"),
                    code="page_too_large", amount=total + work,
                    limit=PAGE_TRAIN_MULTIPLY_ADDS))
            else:
                total += work
        kept.append(setup)
    return kept


# --- presets -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrainPreset:
    """A lesson: the network (fields; seed kept from the session), the training (TrainConfig
    fields) and the set-ups (differences). Name and notice in the catalogues:
    train.preset.<id>.name / .notice; ``tests/ui/test_train.py`` checks each notice's claim
    against the run."""

    network: Mapping[str, Any]
    training: Mapping[str, Any]
    setups: tuple[Diff, ...]

    def pair(self, seed: int = 0) -> TrainPair:
        return TrainPair(NetworkConfig(seed=seed, **self.network), TrainConfig(**self.training))


#: Small data and few steps: every lesson shows within a few seconds here.
_QUICK = dict(dataset="circle", n_points=300, noise=0.0, lr=0.1, batch_size=30, steps=300,
              record_every=10)
#: Few noisy points and a wide network: it overfits without dropout.
_SMALL_NOISY = dict(dataset="xor", n_points=100, noise=0.5, optimizer="adam", lr=0.01,
                    batch_size=10, steps=400, record_every=10)
_N001 = (("init", "normal"), ("init_std", 0.01))
_N1 = (("init", "normal"), ("init_std", 1.0))

TRAIN_PRESETS: dict[str, TrainPreset] = {
    "init": TrainPreset(
        dict(activation="tanh", depth=10, width=64, init="xavier_normal"), _QUICK,
        setups=(_N001, _N1, (("init", "xavier_normal"),),
                (("activation", "relu"), ("init", "kaiming_normal")))),
    "zero_init": TrainPreset(
        dict(activation="tanh", depth=6, width=32, init="xavier_normal"), _QUICK,
        setups=((("init", "zeros"),), ())),
    "clipping": TrainPreset(
        dict(activation="relu", depth=10, width=64, init="normal", init_std=1.0), _QUICK,
        setups=((), (("clip", "norm"),), (("init", "kaiming_normal"),))),
    "learning_rate": TrainPreset(
        dict(activation="tanh", depth=4, width=32, init="xavier_normal"), _QUICK,
        setups=((("lr", 0.01),), (("lr", 0.3),), (("lr", 5.0),))),
    "l1_l2": TrainPreset(
        dict(activation="tanh", depth=4, width=32, init="xavier_normal"), _QUICK,
        setups=((), (("l1", 0.003),), (("l2", 0.03),))),
    "dropout": TrainPreset(
        dict(activation="relu", depth=3, width=256, init="kaiming_normal"), _SMALL_NOISY,
        setups=((), (("dropout", 0.5),))),
    "batchnorm": TrainPreset(
        dict(activation="tanh", depth=20, width=32, init="normal", init_std=0.05),
        dict(_QUICK, dataset="gauss"), setups=((), (("norm", "batchnorm"),))),
    "bn_momentum": TrainPreset(
        dict(activation="relu", depth=4, width=32, init="kaiming_normal", norm="batchnorm"),
        dict(_QUICK, batch_size=5),
        setups=((("bn_momentum", 0.1),), (("bn_momentum", 0.9),))),
    "feature_scale": TrainPreset(
        dict(activation="tanh", depth=4, width=32, init="xavier_normal"),
        dict(_QUICK, feature_scale=100.0, feature_shift=50.0),
        setups=((), (("input_preprocess", "zscore"),))),
    "residual": TrainPreset(
        dict(activation="relu", depth=30, width=32, init="kaiming_normal"), _QUICK,
        setups=((), (("residual", True), ("residual_scale", 0.2)))),
}
DEFAULT_PRESET = "init"


def preset_matches(preset_id: str, base: TrainPair, setups: Sequence[Diff]) -> bool:
    """Whether the page still shows the preset (its base, with any network seed, and set-ups)."""
    preset = TRAIN_PRESETS.get(preset_id)
    if preset is None:
        return False
    return preset.pair(seed=base.network.seed) == base and tuple(setups) == preset.setups


# --- runs and what they say ------------------------------------------------------------------

@dataclass(frozen=True)
class TrainRun(compare.Run):
    """A set-up that trained (its name and colour as a compared run's): the chart protocol of
    ui.train_charts plus the data it saw."""

    result: TrainResult
    data: Dataset

    @property
    def history(self):
        return self.result.history

    @property
    def layer_history(self):
        return self.result.layer_history

    @property
    def first_nonfinite(self):
        return self.result.first_nonfinite


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def decision_values(values: np.ndarray, task: str) -> tuple[np.ndarray, tuple[float, float]]:
    """Snapshot values as drawn, and their range: P(label 1) = σ(logit) for classification
    (0…1), the prediction clipped to −1…1 for regression."""
    if task == "classification":
        return _sigmoid(values), (0.0, 1.0)
    return np.clip(values, -1, 1), (-1.0, 1.0)


def decision_frames(run: TrainRun) -> DecisionFrames | None:
    """The run's snapshots for the animation (``decision_values``) with the training points
    and their targets."""
    snapshots = run.result.snapshots
    if snapshots is None or len(snapshots.steps) == 0:
        return None
    values, value_range = decision_values(snapshots.values, run.data.task)
    return DecisionFrames(run.name, run.colour, snapshots.grid_x, snapshots.grid_y,
                          snapshots.steps, values, run.data.x_train, run.data.y_train[:, 0],
                          value_range)


def final_weights(result: TrainResult) -> np.ndarray:
    """Every weight of the trained network, flattened (biases excluded)."""
    return np.concatenate([np.ravel(w) for w in result.network.weights])


#: |w| below this counts as "driven to zero" (L1's lesson).
ZERO_WEIGHT = 1e-3


def zero_weight_share(result: TrainResult) -> float:
    weights = final_weights(result)
    return float(np.mean(np.abs(weights) < ZERO_WEIGHT))


def hidden_unit_spread(result: TrainResult) -> float:
    """The largest difference between two units of the same hidden layer in the trained
    weights (max over layers of max |W[:, j] − W[:, 0]|): 0 means symmetry never broke."""
    spread = 0.0
    for weights in result.network.weights[:-1]:
        spread = max(spread, float(np.max(np.abs(weights - weights[:, :1]))))
    return spread


def eval_jump(result: TrainResult) -> float:
    """Mean |change| of the evaluation-mode training loss between consecutive records over the
    second half of training: how much the running statistics shake the evaluated network."""
    losses = result.history["train_loss"].to_numpy(dtype=float)
    tail = losses[len(losses) // 2:]
    return float(np.mean(np.abs(np.diff(tail)))) if len(tail) > 1 else math.nan


@dataclass(frozen=True)
class Outcome:
    """The numbers a set-up's result sentence speaks of, all read from its run."""

    start_loss: float
    end_loss: float
    train_acc: float
    test_acc: float
    first_grad: float       # ‖∂L/∂W‖ of layer 1 at step 0
    smallest_grad: float    # the smallest layer gradient at step 0, and its layer
    smallest_layer: int
    largest_grad: float
    largest_layer: int
    nonfinite: tuple[int, int, str] | None
    clipped_share: float
    stopped_at: int


def outcome(result: TrainResult) -> Outcome:
    history = result.history
    finite = history.dropna(subset=["train_loss"])
    finite = finite[np.isfinite(finite["train_loss"])]
    start = float(finite["train_loss"].iloc[0]) if len(finite) else math.nan
    end = float(finite["train_loss"].iloc[-1]) if len(finite) else math.nan
    last = finite.iloc[-1] if len(finite) else history.iloc[-1]
    layers = result.layer_history
    first = layers[layers["step"] == layers["step"].min()].set_index("layer")["grad_weight_norm"]
    first = first[np.isfinite(first)]
    smallest_layer = int(first.idxmin()) if len(first) else 0
    largest_layer = int(first.idxmax()) if len(first) else 0
    return Outcome(
        start_loss=start, end_loss=end,
        train_acc=float(last["train_acc"]), test_acc=float(last["test_acc"]),
        first_grad=float(first.get(1, math.nan)),
        smallest_grad=float(first.min()) if len(first) else math.nan,
        smallest_layer=smallest_layer,
        largest_grad=float(first.max()) if len(first) else math.nan,
        largest_layer=largest_layer,
        nonfinite=result.first_nonfinite,
        clipped_share=float(history["clipped"].mean()) if len(history) else 0.0,
        stopped_at=int(history["step"].iloc[-1]) if len(history) else 0)


#: The loss "never moves" when it ends within this fraction of where it started.
STUCK = 0.02


def _sci(value: float) -> str:
    return f"{value:.0e}" if value and math.isfinite(value) and (
        abs(value) < 1e-3 or abs(value) >= 1e4) else f"{value:.3g}"


def result_sentence(run: TrainRun, tr: Translate,
                    literal: Callable[[str], str] = lambda text: text) -> str:
    """'N(0, 0.01²): the first layer's gradient is 3e-14 — below the healthy band — and the
    loss never moves from 0.693 (ln 2)', every number from the run. ``literal`` escapes the
    name and the text for the page's Markdown (the sentence's own bold stays)."""
    o = outcome(run.result)
    classification = run.data.task == "classification"
    parts = []
    if o.smallest_grad < HEALTHY_BAND[0]:
        parts.append(tr("train.result.grad_below", layer=o.smallest_layer,
                        value=_sci(o.smallest_grad)))
    elif o.largest_grad > HEALTHY_BAND[1]:
        parts.append(tr("train.result.grad_above", layer=o.largest_layer,
                        value=_sci(o.largest_grad)))
    if o.nonfinite is not None:
        step, layer, direction = o.nonfinite
        parts.append(tr("train.result.nonfinite", step=step, layer=layer,
                        direction=tr(f"train.direction.{direction}")))
    elif math.isfinite(o.start_loss) and abs(o.end_loss - o.start_loss) <= STUCK * o.start_loss:
        key = "train.result.stuck_ln2" if classification and abs(
            o.start_loss - math.log(2)) < 0.01 else "train.result.stuck"
        parts.append(tr(key, loss=f"{o.start_loss:.3f}", steps=o.stopped_at))
    else:
        parts.append(tr("train.result.loss", start=f"{o.start_loss:.3g}",
                        end=f"{o.end_loss:.3g}", steps=o.stopped_at))
    if classification and math.isfinite(o.test_acc):
        parts.append(tr("train.result.accuracy", train=f"{100 * o.train_acc:.0f}",
                        test=f"{100 * o.test_acc:.0f}"))
    if run.result.train_config.clip != "none":
        parts.append(tr("train.result.clipped", percent=f"{100 * o.clipped_share:.0f}"))
    if run.result.config.norm == "batchnorm" and o.nonfinite is None:
        parts.append(tr("train.result.eval_jump", jump=f"{eval_jump(run.result):.3f}"))
    return tr("train.result.sentence", name=literal(run.name),
              text=literal(tr("train.result.join").join(parts)))


#: TrainConfig's own refusals (core/train_config.py), said from the catalogues.
TRAINING_ERROR_CODES = ("batch_too_large", "widths_mismatch", "batchnorm_batch")


def describe_training_error(error: ConfigError, tr: Translate) -> str:
    """A set-up's refusal in the reader's language: the training budget (work or memory),
    the training-specific checks, or an invalid value."""
    if error.code in ("too_large", "page_too_large"):
        return tr(f"train.error.{error.code}", amount=f"{error.amount:.2g}",
                  limit=f"{error.limit:.2g}",
                  seconds=f"{error.limit / MULTIPLY_ADDS_PER_SECOND:.0f}")
    if error.code == "too_much_memory":
        return tr("train.error.too_much_memory", amount=f"{(error.amount or 0) / 2**20:.0f}",
                  limit=f"{(error.limit or 0) / 2**20:.0f}")
    if error.code in TRAINING_ERROR_CODES:
        limit = "" if error.limit is None else f"{error.limit:.0f}"
        return tr(f"train.error.{error.code}", value=error.value or "", limit=limit)
    return describe_config_error(error, tr)


def preset_params(preset_id: str, seed: int = 0) -> dict[str, str]:
    """The link parameters of a lesson (what the address bar holds once it is chosen)."""
    preset = TRAIN_PRESETS[preset_id]
    pair = preset.pair(seed=seed)
    params = {**config_to_params(pair.network), **train_config_to_params(pair.training)}
    params["trn_setups"] = format_setups(preset.setups)
    params["trn_preset"] = preset_id
    return params


def lesson_pairs() -> list[tuple[NetworkConfig, TrainConfig]]:
    """Every lesson's set-ups (network, training) at the default seed, lesson by lesson: what
    the server computes at start-up (ui.cache.start_warmup)."""
    pairs: list[tuple[NetworkConfig, TrainConfig]] = []
    for preset in TRAIN_PRESETS.values():
        base = preset.pair()
        for diff in preset.setups:
            try:
                pair = apply_train_diff(base, diff)
            except ConfigError:
                continue
            if (pair.network, pair.training) not in pairs:
                pairs.append((pair.network, pair.training))
    return pairs
