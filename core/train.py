"""train(config, train_config): train the network and record what happens to it, step by step.

    from core import NetworkConfig, TrainConfig, train
    result = train(NetworkConfig(depth=10, width=64, activation="tanh", init="xavier_normal"),
                   TrainConfig(dataset="spiral", optimizer="sgd", lr=0.1, steps=1000))
    result.history, result.layer_history, result.snapshots, result.network, result.first_nonfinite

The network: layers 1 … L − 1 are NetworkConfig's layer block, iterated by ``core.block``'s
``forward`` / ``backward`` (the one definition simulate, jacobian and theory use: linear → norm
→ φ → norm → dropout → residual, or the residual pre form); layer L is the head, linear only,
whose output is the logit (classification) or the prediction (regression). Its widths are the dataset's 2 features,
``width`` × (L − 1), 1 output, unless ``widths`` is given; the initial parameters are
``build_network`` of that config, so every layer whose shape agrees with the Explorer's network
starts from the Explorer's weights. Zero biases become trainable zero arrays; residual
projections stay fixed. BatchNorm and LayerNorm have no learnable scale or shift (γ = 1, β = 0:
torch's ``affine=False`` / ``elementwise_affine=False``), like simulate's.

Semantics are PyTorch's (see core/optim.py for the update rules):
- loss: mean binary cross-entropy with logits (classification; labels 0/1) or mean squared
  error (regression), plus ``l1``·Σ|θ| over all parameters (biases included);
- training mode for the steps: dropout active (inverted, masks from the train seed), BatchNorm
  with batch statistics, running statistics updated as running = (1 − m)·running + m·batch
  (m = ``bn_momentum``, unbiased batch variance); evaluation mode for the recorded losses,
  accuracies, activation statistics and snapshots: no dropout, BatchNorm's running statistics;
- input preprocessing (NetworkConfig.input_preprocess): z-score (population std) or min-max with
  the statistics of the training split only, applied to both splits and to the snapshot grid.
  ``input_dist``, ``batch_size``, ``loss``, ``bn_mode`` and ``bn_passes`` of the NetworkConfig
  are simulate's and play no part here (the data, the loss and the modes are the training's).

Row ``step = t`` of ``history`` describes the parameters after t updates: train/test loss and
accuracy in evaluation mode; ``batch_loss`` (data loss, penalty excluded), ``grad_norm`` (total
2-norm of the gradient that clipping sees: data loss + l1 term) and ``clipped`` of the minibatch
drawn at that step. t = 0, record_every, 2·record_every, …, steps; at t = steps one more batch
gives the gradient columns without an update. ``layer_history`` has one row per recorded step
and layer 1 … L: ‖W‖ (Frobenius, weights only), ‖∂(data loss)/∂W‖ on the minibatch,
update_ratio ‖ΔW‖/‖W‖ of the update made at that step (NaN at t = steps), mean / std /
saturated fraction (bounded φ: within 1 % of its range's ends) / dead-unit fraction (zero on
every training point) of φ's output over the training split (the head: the output itself), and
the RMS of ∂L/∂(layer output) on the minibatch.

A non-finite value never raises: the step that meets it is recorded and training stops;
``first_nonfinite`` = (step, layer, "forward") for the first layer whose φ input is not finite
(L: the head's output or the loss), or (step, layer, "backward") for the highest layer whose
parameter gradient is not finite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from . import block, ops
from .activations import ACTIVATIONS
from .config import NetworkConfig
from .datasets import Dataset, make_dataset
from .optim import Optimizer, regularise_and_clip
from .block import Network, _lsuv_rescale
from .simulate import build_network
from .stats import count_where_abs_above, dead_unit_count, moments, zero_count
from .train_config import (MAX_SNAPSHOTS, SNAPSHOT_GRID, TrainConfig, check_budget,
                           training_network_config)

Array = np.ndarray

#: The contract columns (more may follow them).
HISTORY_COLUMNS = ("step", "batch_loss", "train_loss", "test_loss", "train_acc", "test_acc",
                   "grad_norm", "clipped")
LAYER_HISTORY_COLUMNS = ("step", "layer", "weight_norm", "grad_weight_norm", "update_ratio",
                         "act_mean", "act_std", "act_saturated_frac", "dead_unit_frac",
                         "grad_out_rms")

# Spawn keys of the training's own streams (the data's are in datasets.py).
_BATCH_STREAM, _DROPOUT_STREAM = 200, 201


@dataclass(frozen=True)
class Snapshots:
    """The decision function on a grid: ``values[k, i, j]`` is the network's output (the logit
    for classification, σ(logit) = P(label 1); the prediction for regression) at raw features
    (``grid_x[j]``, ``grid_y[i]``) after ``steps[k]`` updates, in evaluation mode."""

    steps: Array
    grid_x: Array
    grid_y: Array
    values: Array


@dataclass(frozen=True)
class TrainResult:
    config: NetworkConfig  # with the training widths
    train_config: TrainConfig
    history: pd.DataFrame
    layer_history: pd.DataFrame
    snapshots: Snapshots | None
    network: Network
    first_nonfinite: tuple[int, int, str] | None


# Parameters: one flat vector, each layer's weight and bias a view into it -----------------------

class _Parameters:
    def __init__(self, network: Network, dtype):
        shapes = [w.shape for w in network.weights]
        sizes = [a * b + b for a, b in shapes]
        self.theta = np.empty(sum(sizes), dtype=dtype)
        self.grad = np.zeros_like(self.theta)
        self.weights, self.biases, self.grad_weights, self.grad_biases = [], [], [], []
        self.weight_slices = []
        offset = 0
        for (fan_in, fan_out), w, b in zip(shapes, network.weights, network.biases):
            end_w = offset + fan_in * fan_out
            self.weight_slices.append(slice(offset, end_w))
            for flat, ws, bs in ((self.theta, self.weights, self.biases),
                                 (self.grad, self.grad_weights, self.grad_biases)):
                ws.append(flat[offset:end_w].reshape(fan_in, fan_out))
                bs.append(flat[end_w:end_w + fan_out])
            self.weights[-1][...] = w
            self.biases[-1][...] = 0 if b is None else b
            offset = end_w + fan_out

    def network(self, template: Network, running: list) -> Network:
        return Network(weights=[w.copy() for w in self.weights],
                       biases=[b.copy() for b in self.biases],
                       projections=template.projections, running=running,
                       feature_scale=template.feature_scale, feature_shift=template.feature_shift)


# The passes: the config's layer block (core.block) for layers 1 … L − 1, then the linear head --

class _ForwardWatch:
    """A core.block Recorder: the first layer whose φ input is not finite, and (when asked)
    each layer's φ output for the statistics."""

    def __init__(self, keep_acts: bool):
        self.bad: int | None = None
        self.acts: list[Array] | None = [] if keep_acts else None

    def forward_layer(self, layer: int, z: Array, a: Array, out: Array) -> None:
        if self.bad is None and not np.isfinite(z).all():
            self.bad = layer
        if self.acts is not None:
            self.acts.append(a)

    def backward_out(self, layer: int, g: Array) -> None:
        pass

    def backward_preact(self, layer: int, g: Array) -> None:
        pass

    def weight_grad(self, layer: int, w: Array, grad: Array) -> None:
        pass


class _BackwardWatch(_ForwardWatch):
    """A core.block Recorder: the RMS of ∂L/∂(layer output), first layer first."""

    def __init__(self, rms: list[float]):
        super().__init__(False)
        self.rms = rms

    def backward_out(self, layer: int, g: Array) -> None:
        self.rms.insert(0, math.sqrt(float(np.vdot(g, g)) / g.size))


class _Net:
    """The trained network: ``block.forward`` / ``block.backward`` of the config's layer block
    over layers 1 … L − 1 (the hidden network, its parameters views into the flat vector), then
    the linear head y = h W_L + b_L."""

    def __init__(self, config: NetworkConfig, params: _Parameters, network: Network,
                 dropout_rngs: list[np.random.Generator] | None = None):
        self.config = config
        self.act = ACTIVATIONS[config.activation]
        self.params = params
        self.depth = config.depth
        self.dropout_rngs = dropout_rngs if config.dropout > 0.0 else None
        self.hidden_config = (config.replace(widths=config.layer_widths[:-1])
                              if self.depth > 1 else None)
        self.hidden = None
        self.running: list = []
        if self.hidden_config is not None:
            self.hidden = Network(weights=params.weights[:-1], biases=params.biases[:-1],
                                  projections=list(network.projections[:-1]))
            if config.norm == "batchnorm":
                block.init_running(self.hidden_config, self.hidden)
                self.running = self.hidden.running

    def forward(self, x: Array, *, train: bool, update_running: bool = True,
                calibrate: bool = False, keep_acts: bool = False):
        """(logits, caches, the first layer whose φ input is not finite (L: the logits) or None,
        each layer's φ output (the head: its output) if ``keep_acts``)."""
        watch = _ForwardWatch(keep_acts)
        h, caches = x, None
        if self.hidden is not None:
            h, caches = block.forward(
                self.hidden_config, self.hidden, x, mode="train" if train else "eval",
                rngs=self.dropout_rngs if train else None, record=watch,
                update_running=train and update_running, calibrate=calibrate, keep=train)
        w, b = self.params.weights[-1], self.params.biases[-1]
        y = ops.linear_forward(h, w, b)
        if calibrate:
            y = _lsuv_rescale(y, w, b)
        bad = watch.bad
        if bad is None and not np.isfinite(y).all():
            bad = self.depth
        if watch.acts is not None:
            watch.acts.append(y)
        return y, (caches, h), bad, watch.acts

    def backward(self, caches, g: Array, grad_out_rms: list | None) -> None:
        """∂L/∂logits → every parameter's gradient, into params.grad; with ``grad_out_rms``
        (a list) also the RMS of ∂L/∂(layer output) of every layer, first layer first."""
        hidden_caches, h = caches
        p = self.params
        if grad_out_rms is not None:
            grad_out_rms.insert(0, math.sqrt(float(np.vdot(g, g)) / g.size))
        ops.linear_backward_weight(h, g, out=p.grad_weights[-1])
        np.add.reduce(g, axis=0, out=p.grad_biases[-1])
        if self.hidden is None:
            return
        g_h = ops.linear_backward_input(g, p.weights[-1])
        watch = _BackwardWatch(grad_out_rms) if grad_out_rms is not None else None
        _, grads = block.backward(self.hidden_config, self.hidden, hidden_caches, g_h,
                                  record=watch, input_grad=False, overwrite=True)
        for index in range(self.depth - 1):
            p.grad_weights[index][...] = grads.weights[index]
            p.grad_biases[index][...] = grads.biases[index]


# Loss ---------------------------------------------------------------------------------------

def _loss(task: str, out: Array, target: Array) -> float:
    """Mean BCE with logits, log(1 + e^o) − y·o, or mean squared error (float64)."""
    o = out.astype(np.float64, copy=False)
    if task == "classification":
        return float(np.mean(np.logaddexp(0.0, o) - target * o))
    return float(np.mean((o - target) ** 2))


def _loss_gradient(task: str, out: Array, target: Array) -> Array:
    """∂L/∂o: (σ(o) − y)/N for BCE with logits, 2(o − y)/N for MSE (N entries)."""
    if task == "classification":
        g = ACTIVATIONS["sigmoid"].fn(out, 0.0) - target
    else:
        g = (out - target) * out.dtype.type(2.0)
    g *= out.dtype.type(1.0 / out.size)
    return g


def _accuracy(task: str, out: Array, target: Array) -> float:
    if task != "classification":
        return float("nan")
    return float(np.mean((out > 0) == (target > 0.5)))


# Preprocessing --------------------------------------------------------------------------------

def preprocessing(config: NetworkConfig, x_train: Array) -> tuple[Array, Array]:
    """(shift, scale) with x' = (x − shift)/scale, from the training split only: z-score
    (mean, population std) or min-max (min, max − min); (0, 1) for none; 1 where a feature is
    constant."""
    n = x_train.shape[1]
    if config.input_preprocess == "zscore":
        shift, scale = x_train.mean(axis=0), x_train.std(axis=0)
    elif config.input_preprocess == "minmax":
        shift, scale = x_train.min(axis=0), x_train.max(axis=0) - x_train.min(axis=0)
    else:
        return np.zeros(n), np.ones(n)
    return shift, np.where(scale > 0, scale, 1.0)


def _prepared(x: Array, shift: Array, scale: Array, dtype) -> Array:
    return np.ascontiguousarray((x - shift) / scale, dtype=dtype)


# The training loop ----------------------------------------------------------------------------

def _stream(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


class _Batches:
    """Epochs of a seeded permutation cut into whole batches (the remainder dropped, so every
    step sees batch_size points); full-batch steps use the split in its order."""

    def __init__(self, x: Array, y: Array, batch_size: int, rng: np.random.Generator):
        self.x, self.y, self.size, self.rng = x, y, batch_size, rng
        self.full = batch_size == x.shape[0]
        self.per_epoch = x.shape[0] // batch_size
        self.position = self.per_epoch
        self.xp, self.yp = x, y

    def next(self) -> tuple[Array, Array]:
        if self.full:
            return self.x, self.y
        if self.position == self.per_epoch:
            order = self.rng.permutation(self.x.shape[0])
            self.xp, self.yp = self.x[order], self.y[order]
            self.position = 0
        start = self.position * self.size
        self.position += 1
        return self.xp[start:start + self.size], self.yp[start:start + self.size]


def _activation_stats(act, a: Array, hidden: bool) -> tuple[float, float, float, float]:
    """Mean, std (pooled), saturated fraction (bounded φ), dead-unit fraction (zero on every
    row): simulate's definitions (core.stats)."""
    m = moments(a)
    saturated = dead = float("nan")
    if hidden:
        threshold = act.saturation_threshold()
        if threshold is not None:
            saturated = count_where_abs_above(a, *threshold) / a.size
        dead = dead_unit_count(a) / a.shape[1] if zero_count(a) else 0.0
    return m.mean, math.sqrt(m.var) if m.var == m.var else m.var, saturated, dead


#: ``on_record(step, steps, row, snapshot)``: a recorded step's ``history`` row (a tuple in
#: HISTORY_COLUMNS order) and, at a snapshot step, its decision-function values (the array
#: that becomes ``snapshots.values[k]``; the grid is ``snapshot_grid``'s), else None.
RecordHook = Callable[[int, int, tuple, "np.ndarray | None"], None]


def snapshot_grid(data: Dataset) -> tuple[Array, Array]:
    """(grid_x, grid_y) of the decision-function snapshots: SNAPSHOT_GRID points across the
    data's domain on each axis."""
    low0, high0, low1, high1 = data.domain
    return np.linspace(low0, high0, SNAPSHOT_GRID), np.linspace(low1, high1, SNAPSHOT_GRID)


def train(config: NetworkConfig, train_config: TrainConfig, network: Network | None = None,
          data: Dataset | None = None,
          progress: Callable[[int, int], None] | None = None,
          on_record: RecordHook | None = None) -> TrainResult:
    """Train ``network`` (default: ``build_network`` of the config with the training widths) on
    ``data`` (default: ``make_dataset(train_config)``); deterministic bit for bit.

    ``progress(step, steps)``, if given, is called at every recorded step (a page's progress
    bar); ``on_record`` (``RecordHook``) is given what was recorded there (a page that draws
    the run while it trains). Neither changes the run.

    Raises ConfigError before any work when the pair is over budget or the widths do not fit.
    """
    check_budget(config, train_config)
    config = training_network_config(config, train_config)
    tc = train_config
    if data is None:
        data = make_dataset(tc)
    if network is None:
        network = build_network(config)
    dtype = np.float64 if config.dtype == "float64" else np.float32
    shift, scale = preprocessing(config, data.x_train)
    x_train = _prepared(data.x_train, shift, scale, dtype)
    x_test = _prepared(data.x_test, shift, scale, dtype)
    y_train = np.ascontiguousarray(data.y_train, dtype=dtype)
    y_test = np.ascontiguousarray(data.y_test, dtype=dtype)
    task = data.task

    params = _Parameters(network, dtype)
    net = _Net(config, params, network,
               [_stream(tc.seed, _DROPOUT_STREAM, layer) for layer in range(1, config.depth + 1)])
    act = net.act
    optimizer = Optimizer(tc.optimizer, tc.lr, tc.momentum, tc.l2)
    batches = _Batches(x_train, y_train, tc.batch_size, _stream(tc.seed, _BATCH_STREAM))
    depth = config.depth

    record_steps = sorted(set(range(0, tc.steps, tc.record_every)) | {tc.steps})
    chosen = np.unique(np.round(np.linspace(0, len(record_steps) - 1,
                                            min(len(record_steps), MAX_SNAPSHOTS))).astype(int))
    snapshot_steps = {record_steps[i] for i in chosen}
    grid_x, grid_y = snapshot_grid(data)
    gx, gy = np.meshgrid(grid_x, grid_y)
    grid = _prepared(np.stack([gx.ravel(), gy.ravel()], axis=1), shift, scale, dtype) \
        if data.n_features == 2 else None
    snap_steps, snap_values = [], []

    history: list[tuple] = []
    layer_rows: list[tuple] = []
    first_nonfinite = None
    previous = np.empty_like(params.theta)

    with np.errstate(all="ignore"):
        if config.init == "lsuv":
            net.forward(x_train, train=False, calibrate=True)

        for step in range(tc.steps + 1):
            record = step % tc.record_every == 0 or step == tc.steps
            last = step == tc.steps
            evaluation = None
            snapshot = None
            if record:
                evaluation = _evaluate(net, task, x_train, y_train, x_test, y_test)
                if step in snapshot_steps and grid is not None:
                    out = net.forward(grid, train=False)[0]
                    snap_steps.append(step)
                    snap_values.append(out[:, 0].astype(np.float64).reshape(gy.shape))
                    snapshot = snap_values[-1]
            xb, yb = batches.next()
            out, caches, bad, _ = net.forward(xb, train=True, update_running=not last)
            batch_loss = _loss(task, out, yb) if bad is None else float("nan")
            if bad is None and not math.isfinite(batch_loss):
                bad = depth
            grad_out_rms: list[float] | None = [] if record else None
            norm, clipped = float("nan"), False
            if bad is not None:
                first_nonfinite = (step, bad, "forward")
            else:
                net.backward(caches, _loss_gradient(task, out, yb), grad_out_rms)
                data_grad_norms = _layer_norms(params.grad_weights) if record else None
                norm, clipped = regularise_and_clip(params.grad, params.theta, tc.l1, tc.clip,
                                                    tc.clip_threshold)
                if not math.isfinite(norm):
                    first_nonfinite = (step, _highest_nonfinite(params), "backward")
            stop = first_nonfinite is not None
            ratios = [float("nan")] * depth
            if not stop and not last:
                if record:
                    previous[...] = params.theta
                optimizer.step(params.theta, params.grad)
                if record:
                    ratios = _update_ratios(params, previous)
            if record or stop:
                if evaluation is None:
                    evaluation = _evaluate(net, task, x_train, y_train, x_test, y_test)
                train_loss, test_loss, train_acc, test_acc, layer_acts = evaluation
                row = (step, batch_loss, train_loss, test_loss, train_acc, test_acc, norm,
                       clipped)
                history.append(row)
                if on_record is not None:
                    on_record(step, tc.steps, row, snapshot)
                weight_norms = _layer_norms([params.theta[s] for s in params.weight_slices])
                if stop or not grad_out_rms:
                    grad_out_rms = [float("nan")] * depth
                    data_grad_norms = [float("nan")] * depth
                for index in range(depth):
                    stats = _activation_stats(act, layer_acts[index], index < depth - 1) \
                        if index < len(layer_acts) else (float("nan"),) * 4
                    layer_rows.append((step, index + 1, weight_norms[index],
                                       data_grad_norms[index], ratios[index], *stats,
                                       grad_out_rms[index]))
            if progress is not None and (record or stop):
                progress(step, tc.steps)
            if stop:
                break

    history_frame = pd.DataFrame(history, columns=list(HISTORY_COLUMNS))
    history_frame["clipped"] = history_frame["clipped"].astype(bool)
    layer_frame = pd.DataFrame(layer_rows, columns=list(LAYER_HISTORY_COLUMNS))
    snapshots = None
    if grid is not None:
        values = np.stack(snap_values) if snap_values else np.empty((0,) + gy.shape)
        snapshots = Snapshots(steps=np.array(snap_steps, dtype=int), grid_x=grid_x,
                              grid_y=grid_y, values=values)
    return TrainResult(config=config, train_config=tc, history=history_frame,
                       layer_history=layer_frame, snapshots=snapshots,
                       network=params.network(network, net.running),
                       first_nonfinite=first_nonfinite)


def parameter_gradients(config: NetworkConfig, network: Network, x: Array, upstream: Array,
                        dropout_seed: int = 0) -> tuple[Array, list[Array], list[Array]]:
    """The training-mode forward of ``x`` (dropout masks from ``dropout_seed``, BatchNorm with
    batch statistics, running statistics untouched) and the gradients of L = Σ upstream ⊙ out:
    (out, ∂L/∂W per layer, ∂L/∂b per layer). ``config`` has the network's widths. For checking
    the passes against finite differences and other implementations."""
    dtype = np.float64 if config.dtype == "float64" else np.float32
    params = _Parameters(network, dtype)
    net = _Net(config, params, network, [_stream(dropout_seed, _DROPOUT_STREAM, layer)
                                         for layer in range(1, config.depth + 1)])
    with np.errstate(all="ignore"):
        out, caches, _, _ = net.forward(np.ascontiguousarray(x, dtype=dtype), train=True,
                                        update_running=False)
        net.backward(caches, np.array(upstream, dtype=dtype), None)
    return (out.copy(), [g.copy() for g in params.grad_weights],
            [g.copy() for g in params.grad_biases])


def _evaluate(net: _Net, task: str, x_train, y_train, x_test, y_test):
    """Evaluation mode over both splits: losses, accuracies, and each layer's φ output on the
    training split (the head: its output)."""
    out, _, _, layer_acts = net.forward(x_train, train=False, keep_acts=True)
    out_test = net.forward(x_test, train=False)[0]
    return (_loss(task, out, y_train), _loss(task, out_test, y_test),
            _accuracy(task, out, y_train), _accuracy(task, out_test, y_test), layer_acts)


def _layer_norms(arrays: list[Array]) -> list[float]:
    return [math.sqrt(float(np.vdot(a, a))) for a in arrays]


def _update_ratios(params: _Parameters, previous: Array) -> list[float]:
    """‖W_after − W_before‖/‖W_before‖ of every layer's weights."""
    ratios = []
    for s in params.weight_slices:
        before = previous[s]
        delta = params.theta[s] - before
        denominator = math.sqrt(float(np.vdot(before, before)))
        ratios.append(math.sqrt(float(np.vdot(delta, delta))) / denominator
                      if denominator > 0 else float("inf") if delta.any() else float("nan"))
    return ratios


def _highest_nonfinite(params: _Parameters) -> int:
    for index in range(len(params.weights) - 1, -1, -1):
        if not (np.isfinite(params.grad_weights[index]).all()
                and np.isfinite(params.grad_biases[index]).all()):
            return index + 1
    return len(params.weights)
