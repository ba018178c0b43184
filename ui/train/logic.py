"""The Train page's logic: training set-ups, lesson presets and result sentences. Pure: no
Streamlit here.

A set-up is a (network, training) pair, ``TrainPair``. Like Compare's (ui.setups, whose Sweep,
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
from core import (FIELD_SPECS, INITS, TRAIN_FIELD_SPECS, ConfigError, Dataset, NetworkConfig,
                  TrainConfig, TrainResult, check_budget)
from core.train_config import MAX_TRAIN_SECONDS, estimated_training_seconds
from ui import setups
from ui.chart_style import HEALTHY_BAND
from ui.setups import Diff, Setup, Sweep
from ui.frame.errors import InvalidChoice, describe_config_error
from ui.train.charts import DecisionFrames

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
    network = setups.apply_diff(base.network, network_diff)
    training = base.training.replace(**training_changes) if training_changes else base.training
    check_budget(network, training)
    return TrainPair(network, training)


# --- the link's codec (the page's parameters; ui.train.state binds them to session keys) -------

parse_sweep = partial(setups.parse_sweep, fields=SWEEP_FIELDS, specs=SETUP_SPECS,
                      max_setups=MAX_SETUPS)
format_sweep = partial(setups.format_sweep, specs=SETUP_SPECS)
parse_setups = partial(setups.parse_setups, specs=SETUP_SPECS, max_setups=MAX_SETUPS)
format_setups = partial(setups.format_setups, specs=SETUP_SPECS)
format_diff = partial(setups.format_diff, specs=SETUP_SPECS)
parse_names = partial(setups.parse_names, max_setups=MAX_SETUPS)
format_names = setups.format_names
value_text = partial(setups.value_text, specs=SETUP_SPECS)


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
    """The set-ups, each named by ``names`` or else for what it is (``setup_names``)."""
    diffs = list(diffs)[:MAX_SETUPS]
    automatic = setup_names(base, diffs, tr)
    names = [names[i] if i < len(names) and names[i] else automatic[i]
             for i in range(len(diffs))]
    return setups.build_setups(base, diffs, names, tr, apply=apply_train_diff,
                               specs=SETUP_SPECS, max_setups=MAX_SETUPS)


# --- set-up names: what a set-up is, from the settings that differ between the set-ups ----------

#: Settings named together: a setting's name reads the others of its group (σ of N(0, σ²),
#: the residual scale s, the clipping threshold).
NAME_GROUPS = {"init": ("init", "init_std", "init_bound", "init_value", "init_gain",
                        "init_mode"),
               "residual": ("residual", "residual_scale", "residual_form"),
               "clip": ("clip", "clip_threshold")}
_GROUP_OF = {field: group for group, fields in NAME_GROUPS.items() for field in fields}
#: The order of a name's parts; other settings follow in the editor's order.
NAME_ORDER = ("init", "activation", "norm", "residual", "dropout", "bn_momentum",
              "input_preprocess", "optimizer", "lr", "l1", "l2", "clip")
#: Settings whose value here means "without it": left out of a name that says something else.
OFF_VALUES = {"l1": 0.0, "l2": 0.0, "dropout": 0.0, "clip": "none", "norm": "none",
              "residual": False, "input_preprocess": "none"}
#: A set-up that differs in nothing is named by these.
UNVARIED_NAME = ("init", "activation")


def setup_values(base: TrainPair, diff: Diff) -> dict[str, Any]:
    """Every setting of a set-up by its link name: the base's values with the differences."""
    values = {f: getattr(base.network, f) for f in FIELD_SPECS}
    values.update({key: getattr(base.training, name) for name, key in TRAIN_KEYS.items()})
    values.update(dict(diff))
    return values


def _number(value: float) -> str:
    return f"{value:g}"


def name_part(group: str, values: Mapping[str, Any], tr: Translate) -> str:
    """One setting of a set-up as its name says it: 'N(0, 0.01²)', 'He', 'lr = 5', 'BatchNorm',
    'no dropout'; a setting without words of its own: 'Label = value'."""
    value = values[group]
    if group == "init":
        text = tr(f"train.name.init.{value}", std=_number(values["init_std"]),
                  bound=_number(values["init_bound"]), value=_number(values["init_value"]))
        if value in INITS and "init_mode" in INITS[value].params \
                and values["init_mode"] != "fan_in":
            text = tr("train.name.init_mode", name=text, mode=values["init_mode"])
        if value in INITS and INITS[value].uses_gain and values["init_gain"] != 1.0:
            text = tr("train.name.init_gain", name=text, gain=_number(values["init_gain"]))
        return text
    if group == "residual":
        if not value:
            return tr("train.name.residual.off")
        return tr("train.name.residual.on", scale=_number(values["residual_scale"]))
    if group == "clip":
        return tr(f"train.name.clip.{value}", threshold=_number(values["clip_threshold"]))
    if group in ("activation", "optimizer"):
        return tr(f"choice.{group}.{value}")
    if group in ("norm", "input_preprocess"):
        return tr(f"train.name.{group}.{value}")
    if group in ("dropout", "l1", "l2") and value == OFF_VALUES[group]:
        return tr(f"train.name.{group}.off")
    if group in ("dropout", "l1", "l2", "lr", "bn_momentum"):
        return tr(f"train.name.{group}", value=_number(value))
    return setups.auto_name(((group, value),), tr, SETUP_SPECS)


def setup_names(base: TrainPair, diffs: Sequence[Diff], tr: Translate) -> list[str]:
    """Each set-up named for what it is: its value of every setting that differs between the
    set-ups ('N(0, 0.01²), tanh' … 'He, ReLU'; 'lr = 0.001', 'lr = 10'), a setting at its "off"
    value left out when the name says something else ('N(0, 1²)' beside 'N(0, 1²), clipped to
    norm ≤ 1'). A lone set-up is named by its init and activation."""
    all_values = [setup_values(base, diff) for diff in diffs]
    varied = {_GROUP_OF.get(field, field) for field in SETUP_SPECS
              if len({repr(values[field]) for values in all_values}) > 1}
    groups = [g for g in NAME_ORDER if g in varied] + sorted(
        (g for g in varied if g not in NAME_ORDER), key=list(SETUP_SPECS).index)
    if not groups:
        groups = list(UNVARIED_NAME)
    names = []
    for values in all_values:
        parts = [(group, name_part(group, values, tr)) for group in groups]
        said = [text for group, text in parts
                if group not in OFF_VALUES or values[group] != OFF_VALUES[group]]
        names.append(tr("train.name.join").join(said or [text for _, text in parts]))
    return names


#: A page's set-ups together may cost at most this many estimated seconds of one core
#: (core.budget's model, ``estimated_training_seconds`` summed here: one run's limit, ≈ 5 s on
#: two workers), so that four set-ups each just under one run's limit are not 40 s of work.
PAGE_TRAIN_SECONDS = MAX_TRAIN_SECONDS


def within_page_budget(setups: Sequence[Setup]) -> list[Setup]:
    """The set-ups in order, each one that would take the page's total work over
    PAGE_TRAIN_SECONDS refused (config None, a ConfigError with code "page_too_large",
    its ``amount`` the total with it and ``limit`` the page's) before any work starts."""
    total, kept = 0.0, []
    for setup in setups:
        if setup.config is not None:
            work = estimated_training_seconds(setup.config.network, setup.config.training)
            if total + work > PAGE_TRAIN_SECONDS:
                setup = dataclasses.replace(setup, config=None, error=ConfigError(
                    f"The set-ups together are too large for one page: about "
                    f"{total + work:.2g} s of one core with this one, the page's limit is "
                    f"{PAGE_TRAIN_SECONDS:.2g} s.",
                    ("steps", "batch_size", "n_points", "depth", "width"),
                    code="page_too_large", amount=total + work,
                    limit=PAGE_TRAIN_SECONDS))
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
_SMALL_NOISY = dict(dataset="circle", n_points=100, noise=0.5, optimizer="adam", lr=0.01,
                    batch_size=10, steps=400, record_every=10)
_N001 = (("init", "normal"), ("init_std", 0.01))
_N1 = (("init", "normal"), ("init_std", 1.0))

#: Each lesson's notice claims what its runs show for every seed (weights and data), with one or
#: two BLAS threads, away from chaotic regimes: tests/ui/test_train_lessons.py checks seeds 0–9.
TRAIN_PRESETS: dict[str, TrainPreset] = {
    "init": TrainPreset(
        dict(activation="tanh", depth=10, width=32, init="xavier_normal"), _QUICK,
        setups=(_N001, _N1, (("init", "xavier_normal"),),
                (("activation", "relu"), ("init", "kaiming_normal")))),
    "zero_init": TrainPreset(
        dict(activation="tanh", depth=6, width=32, init="xavier_normal"), _QUICK,
        setups=((("init", "zeros"),), ())),
    "clipping": TrainPreset(
        dict(activation="relu", depth=10, width=32, init="normal", init_std=1.0), _QUICK,
        setups=((), (("clip", "norm"),), (("init", "kaiming_normal"),))),
    # Too large must diverge on every seed, not land anywhere in a chaotic regime: with an
    # unbounded activation the weights blow up and the loss overflows within a few steps
    # (tanh's bounded units only make the loss wander, 0.4 to 27 by seed and by round-off).
    "learning_rate": TrainPreset(
        dict(activation="leaky_relu", depth=4, width=32, init="xavier_normal"), _QUICK,
        setups=((("lr", 0.001),), (("lr", 0.3),), (("lr", 10.0),))),
    "l1_l2": TrainPreset(
        dict(activation="tanh", depth=4, width=32, init="xavier_normal"), _QUICK,
        setups=((), (("l1", 0.003),), (("l2", 0.03),))),
    "dropout": TrainPreset(
        dict(activation="relu", depth=3, width=128, init="kaiming_normal"), _SMALL_NOISY,
        setups=((), (("dropout", 0.5),))),
    "batchnorm": TrainPreset(
        dict(activation="tanh", depth=10, width=32, init="normal", init_std=0.02),
        dict(_QUICK, dataset="gauss"), setups=((), (("norm", "batchnorm"),))),
    "bn_momentum": TrainPreset(
        dict(activation="relu", depth=4, width=32, init="kaiming_normal", norm="batchnorm"),
        dict(_QUICK, batch_size=5),
        setups=((("bn_momentum", 0.1),), (("bn_momentum", 0.9),))),
    "feature_scale": TrainPreset(
        dict(activation="tanh", depth=4, width=32, init="xavier_normal"),
        dict(_QUICK, feature_scale=100.0, feature_shift=50.0),
        setups=((), (("input_preprocess", "zscore"),))),
    # A slightly small init (gain 0.1·√(32/2) = 0.4 a layer): the plain stack's gradient
    # vanishes on every seed; the residual stack's identity path carries it. (With He init a
    # plain 20–30 layer stack does train here, at a smaller learning rate.)
    "residual": TrainPreset(
        dict(activation="relu", depth=20, width=32, init="normal", init_std=0.1), _QUICK,
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
class TrainRun(setups.Run):
    """A set-up that trained (its name and colour as a compared run's): the chart protocol of
    ui.train.charts plus the data it saw."""

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
    network: max over layers of max |W[:, j] − W[:, 0]| and |b_j − b_0| (a unit's incoming
    weights and its bias). 0 means symmetry never broke (see ``symmetry_round_off``)."""
    spread = 0.0
    for weights, bias in zip(result.network.weights[:-1], result.network.biases[:-1]):
        spread = max(spread, float(np.max(np.abs(weights - weights[:, :1]))),
                     float(np.max(np.abs(bias - bias[0]))))
    return spread


def symmetry_round_off(result: TrainResult) -> float:
    """The spread ``hidden_unit_spread`` may show from round-off alone, for units that start
    identical (zero or constant init): eps · √n · max|W|, with eps the dtype's machine epsilon,
    n the largest fan-in or batch size (the longest sum of the products) and max|W| the largest
    weight of the whole network (the scale the products work at, not the near-zero weights of a
    layer that barely moved).

    In exact arithmetic such units get the same gradient at every step and stay identical. In
    floating point, BLAS may add the same terms in a different order for different columns of
    a product (vector lanes, edge tiles: it depends on the CPU's kernel and the thread count),
    so a column can differ from another by the rounding of a length-n sum, about √n·(eps/2)
    times its terms' size when the roundings are independent (Higham & Mary, SIAM J. Sci.
    Comput. 41(5), 2019); the terms of every product that builds the weights (activations,
    back-propagated gradients and the weights themselves) are at the network's weight scale or
    below it. A unit that broke away (a symmetry-breaking init, or a bug treating one unit
    differently) is off by a sizeable fraction of max|W| instead: a million times more."""
    weights = result.network.weights
    eps = float(np.finfo(weights[0].dtype).eps)
    n = max(max(w.shape[0] for w in weights), result.train_config.batch_size)
    scale = max(float(np.max(np.abs(w))) for w in weights)
    return eps * math.sqrt(n) * scale


def eval_jump(result: TrainResult) -> float:
    """Mean |change| of the evaluation-mode training loss between consecutive records over the
    second half of training: how much the running statistics shake the evaluated network."""
    losses = result.history["train_loss"].to_numpy(dtype=float)
    tail = losses[len(losses) // 2:]
    return float(np.mean(np.abs(np.diff(tail)))) if len(tail) > 1 else math.nan


@dataclass(frozen=True)
class Outcome:
    """The numbers a set-up's result sentence speaks of, all read from its run."""

    start_loss: float       # the training loss (evaluation mode), first and last finite record
    end_loss: float
    end_test_loss: float    # the test loss at that last record
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
        start_loss=start, end_loss=end, end_test_loss=float(last["test_loss"]),
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
    training loss never moves from 0.693 (ln 2)', every number from the run, each loss named
    (training or test). ``literal`` escapes the
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
                        end=f"{o.end_loss:.3g}", steps=o.stopped_at,
                        test=f"{o.end_test_loss:.3g}"))
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
                  limit=f"{error.limit:.2g}")
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
    the server computes at start-up (ui.serving.cache.start_warmup)."""
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
