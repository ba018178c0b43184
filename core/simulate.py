"""simulate(config): one forward and one backward pass through a deep MLP at initialisation,
with statistics of every layer.

Random streams: every draw comes from ``SeedSequence(seed, spawn_key=(stream, layer))``, so a
layer's weights depend only on the seed, the layer and its shape. Two set-ups that differ only
in, say, the init scale see the same Gaussian draws and the same input batch, and a deeper
network starts with the same first layers as a shallower one.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import pandas as pd

from . import block, ops, underflow
from .activations import ACTIVATIONS, Activation
from .block import Network, _lsuv_rescale, _update_running  # noqa: F401  (re-exported)
from .config import MAX_DEPTH, NetworkConfig
from .drawn import DrawnLayers
from .inits import INITS, InitParams, kaiming_gain, orthogonal
from .stats import (HISTOGRAM_SAMPLE, HistogramSet, Moments, count_where_abs_above,
                    dead_unit_count, histogram_rows, moments, ranges_from_moments,
                    sample_entries, zero_count)

Array = np.ndarray

# Stream ids of the spawn keys.
_WEIGHTS, _BIASES, _PROJECTIONS, _DROPOUT, _INPUT, _LOSS, _FEATURES = range(7)

#: The histogrammed quantities: pre-activation, activation, ∂L/∂(layer output), ∂L/∂preact.
HISTOGRAM_QUANTITIES = ("preact", "act", "grad_out", "grad_preact")

#: The columns of layer_stats, in order.
COLUMNS = (
    "layer", "fan_in", "fan_out", "weight_var", "preact_mean", "preact_var", "preact_unit_var",
    "act_mean", "act_var", "act_unit_var", "out_var", "act_saturated_frac", "act_zero_frac",
    "dead_unit_frac", "grad_preact_var", "grad_out_var", "grad_weight_var", "grad_weight_norm",
    "grad_to_weight_ratio", "nonfinite_frac", "grad_nonfinite_frac", "out_mean",
    "act_mean_square", "preact_mean_square", "grad_out_mean_square", "act_across_units_var",
)


def stream(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def _np_dtype(config: NetworkConfig):
    return np.float64 if config.dtype == "float64" else np.float32


def build_network(config: NetworkConfig, drawn: DrawnLayers | None = None) -> Network:
    """Draw weights, biases and residual projections from the config's seeded streams.

    ``drawn``: a memo of weight matrices drawn before (read-only entries; the same arrays a
    fresh draw gives, bit for bit). Not used for an init that rescales its weights in place
    (LSUV): build what you will write into without it.
    """
    dtype = _np_dtype(config)
    init = INITS[config.init]
    params = InitParams(std=config.init_std, bound=config.init_bound, value=config.init_value,
                        mode=config.init_mode, dtype=dtype)
    gain = config.init_gain
    if config.init.startswith("kaiming"):
        gain *= kaiming_gain(config.activation, config.leaky_slope)
    widths = config.layer_widths
    if init.calibrates:
        drawn = None
    use = drawn.new_use() if drawn is not None else 0
    family = (config.seed, config.init, params, gain)
    weights, biases, projections = [], [], []
    for layer, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        def draw(layer=layer, fan_in=fan_in, fan_out=fan_out) -> Array:
            return init.fn(fan_in, fan_out, gain, stream(config.seed, _WEIGHTS, layer), params)
        weights.append(draw() if drawn is None
                       else drawn.get((family, fan_in, fan_out), layer, draw, use))
        biases.append(_bias(config, fan_in, fan_out, stream(config.seed, _BIASES, layer), dtype))
        projections.append(_projection(config, fan_in, fan_out, layer, dtype))
    network = Network(weights, biases, projections)
    if config.input_dist == "raw":
        rng = stream(config.seed, _FEATURES)
        scale = 10.0 ** rng.uniform(-1.0, 3.0, size=widths[0])
        network.feature_scale = scale.astype(dtype)
        network.feature_shift = (scale * rng.uniform(0.0, 5.0, size=widths[0])).astype(dtype)
    return network


def _bias(config: NetworkConfig, fan_in: int, fan_out: int, rng: np.random.Generator,
          dtype) -> Array | None:
    """None for zero biases (skips a pass). An init that draws its own bias (torch_default:
    U(±1/√fan_in), as nn.Linear) overrides bias_init."""
    init = INITS[config.init]
    if init.bias is not None:
        return init.bias(fan_in, fan_out, rng, dtype)
    if config.bias_init == "constant" and config.bias_value != 0.0:
        return np.full(fan_out, config.bias_value, dtype=dtype)
    if config.bias_init == "normal" and config.bias_std > 0.0:
        return (rng.standard_normal(fan_out) * config.bias_std).astype(dtype)
    return None


def _projection(config: NetworkConfig, fan_in: int, fan_out: int, layer: int,
                dtype) -> Array | None:
    """The residual skip where widths differ: a fixed semi-orthogonal (fan_in, fan_out) matrix
    scaled by √(max(1, fan_out/fan_in)), so each output unit keeps the input's variance."""
    if not config.residual or fan_in == fan_out:
        return None
    gain = math.sqrt(max(1.0, fan_out / fan_in))
    return orthogonal(fan_in, fan_out, gain, stream(config.seed, _PROJECTIONS, layer),
                      InitParams(dtype=dtype))


def make_input(config: NetworkConfig, network: Network, rng: np.random.Generator) -> Array:
    """A batch of inputs, then the chosen preprocessing (per feature, over the batch).

    normal: N(0, 1). uniform: U(−√3, √3) (variance 1). raw: feature j ~ N(μ_j, s_j²) with
    s_j = 10^U(−1, 3) and μ_j = s_j·U(0, 5): unscaled features, like prices next to ratios.
    zscore: (x − mean)/std per feature. minmax: (x − min)/(max − min) per feature, into [0, 1].
    """
    dtype = _np_dtype(config)
    shape = (config.batch_size, config.layer_widths[0])
    if config.input_dist == "uniform":
        x = rng.uniform(-math.sqrt(3.0), math.sqrt(3.0), size=shape).astype(dtype)
    else:
        x = rng.standard_normal(shape, dtype=np.float32).astype(dtype, copy=False)
        if config.input_dist == "raw":
            x = x * network.feature_scale + network.feature_shift
    if config.input_preprocess == "zscore":
        std = x.std(axis=0)
        x = (x - x.mean(axis=0)) / np.where(std > 0, std, 1).astype(dtype)
    elif config.input_preprocess == "minmax":
        low, high = x.min(axis=0), x.max(axis=0)
        x = (x - low) / np.where(high > low, high - low, 1).astype(dtype)
    return np.ascontiguousarray(x, dtype=dtype)


@dataclass(frozen=True)
class Histograms:
    """Histograms of each quantity in HISTOGRAM_QUANTITIES at two scales: ``std`` (each layer over
    its own mean ± 4 std, so a collapsed and an exploded layer are both readable) and ``shared``
    (one range for all layers). Row 0 is the input (activations only)."""

    sets: dict[tuple[str, str], HistogramSet]
    sample_size: int

    def get(self, quantity: str, scale: str = "std") -> HistogramSet:
        return self.sets[(quantity, scale)]


@dataclass(frozen=True)
class SimulationResult:
    config: NetworkConfig
    layer_stats: pd.DataFrame
    histograms: Histograms
    loss: float
    first_nonfinite_layer: int | None
    first_nonfinite_grad_layer: int | None
    # Subnormal entries (core/underflow.py): first forward layer, first layer reached backward.
    first_subnormal_layer: int | None = None
    first_subnormal_grad_layer: int | None = None


#: What the backward pass records: reset in a shallower network's copy of a forward pass.
_NAN_BACKWARD = dict.fromkeys(
    ("grad_preact_var", "grad_out_var", "grad_weight_var", "grad_weight_norm",
     "grad_to_weight_ratio", "grad_nonfinite_frac", "grad_out_mean_square"), float("nan"))
_FORWARD_QUANTITIES = ("preact", "act")

#: The layer_stats columns of each prefix's mean, pooled and per-unit variance, E[x²].
_MOMENT_COLUMNS = {prefix: (f"{prefix}_mean", f"{prefix}_var", f"{prefix}_unit_var",
                            f"{prefix}_mean_square") for prefix in ("preact", "act")}


class _Recorder:
    """Collects statistics row by row, and the histogram samples."""

    def __init__(self, depth: int, act: Activation | None = None, dtype=np.float64):
        self.act = act
        self.rows = [dict.fromkeys(COLUMNS, float("nan")) for _ in range(depth + 1)]
        for layer, row in enumerate(self.rows):
            row["layer"] = layer
        # In the run's dtype: the entries are copied exactly, in half the bytes for float32.
        self.samples = {q: np.full((depth + 1, HISTOGRAM_SAMPLE), np.nan, dtype=dtype)
                        for q in HISTOGRAM_QUANTITIES}
        # Each quantity's whole-layer mean and pooled variance: the histograms' ranges.
        self.means = {q: np.full(depth + 1, np.nan) for q in HISTOGRAM_QUANTITIES}
        self.variances = {q: np.full(depth + 1, np.nan) for q in HISTOGRAM_QUANTITIES}
        self.saturation = act.saturation_threshold() if act is not None else None
        self.filled = 0  # leading sample columns that some layer filled
        self.outputs: dict[int, Array] = {}  # layer → its output, for the layers in keep_outputs
        self.keep_outputs: frozenset[int] = frozenset()

    def prefix(self, depth: int, size: int | None = None) -> "_Recorder":
        """A recorder of layers 0..``size`` (default ``depth``) holding copies of this one's
        forward statistics of layers 0..depth and nothing else: what a network of that size
        records before its backward pass, or before its layers after ``depth``."""
        size = depth if size is None else size
        other = _Recorder(size, self.act, self.samples["act"].dtype)
        for layer, row in enumerate(self.rows[:depth + 1]):
            other.rows[layer] = {**row, **_NAN_BACKWARD}
        for q in _FORWARD_QUANTITIES:
            other.samples[q][:depth + 1] = self.samples[q][:depth + 1]
            other.means[q][:depth + 1] = self.means[q][:depth + 1]
            other.variances[q][:depth + 1] = self.variances[q][:depth + 1]
        other.filled = self.filled  # the forward pass fills as many columns at every depth
        return other

    def keep_range(self, layer: int, quantity: str, m: Moments) -> None:
        self.means[quantity][layer], self.variances[quantity][layer] = m.mean, m.var

    def put_moments(self, layer: int, prefix: str, x: Array, known: Moments | None = None) -> Moments:
        m = known if known is not None else moments(x, across_units=prefix == "act",
                                                    per_unit=prefix != "out")
        if prefix in self.means:
            self.keep_range(layer, prefix, m)
        row = self.rows[layer]
        if prefix == "out":
            row["out_var"], row["out_mean"], row["nonfinite_frac"] = m.var, m.mean, m.nonfinite_frac
            return
        mean, var, unit_var, mean_square = _MOMENT_COLUMNS[prefix]
        row[mean], row[var], row[unit_var], row[mean_square] = (m.mean, m.var, m.unit_var,
                                                                m.mean_square)
        if prefix == "act":
            row["act_across_units_var"] = m.across_units_var
        return m

    def sample(self, layer: int, quantity: str, x: Array) -> None:
        sample_entries(x, self.samples[quantity][layer])
        self.filled = max(self.filled, min(x.size, HISTOGRAM_SAMPLE))

    def filled_samples(self) -> dict[str, Array]:
        """The samples without the columns no layer reached (all absent: B·n < 4096 for
        every layer), which the histograms and the subnormal search need not read."""
        return {q: samples[:, :self.filled] for q, samples in self.samples.items()}

    # block.Recorder hooks ------------------------------------------------------------------

    def forward_layer(self, layer: int, z: Array, a: Array, out: Array) -> None:
        if layer in self.keep_outputs:
            self.outputs[layer] = out
        act_moments = self.put_moments(layer, "act", a)
        self.put_moments(layer, "preact", z, act_moments if z is a else None)  # φ = identity
        self.put_moments(layer, "out", out, act_moments if out is a else None)
        _activation_stats(self.rows[layer], a, self.saturation)
        self.sample(layer, "preact", z)
        self.sample(layer, "act", a)

    def backward_out(self, layer: int, g: Array) -> None:
        row = self.rows[layer]
        grad_moments = moments(g, per_unit=False)
        self.keep_range(layer, "grad_out", grad_moments)
        row["grad_out_var"], row["grad_out_mean_square"] = grad_moments.var, grad_moments.mean_square
        row["grad_nonfinite_frac"] = grad_moments.nonfinite_frac
        self.sample(layer, "grad_out", g)

    def backward_preact(self, layer: int, g: Array) -> None:
        preact_grad_moments = moments(g, per_unit=False)
        self.keep_range(layer, "grad_preact", preact_grad_moments)
        self.rows[layer]["grad_preact_var"] = preact_grad_moments.var
        self.sample(layer, "grad_preact", g)

    def weight_grad(self, layer: int, w: Array, grad: Array) -> None:
        _weight_stats(self.rows[layer], w, grad)


def _activation_stats(row: dict, a: Array, threshold: tuple[float, float] | None) -> None:
    """Zero and dead-unit fractions; the saturated fraction for a bounded φ (``threshold``:
    Activation.saturation_threshold())."""
    size = a.size
    zeros = zero_count(a)
    row["act_zero_frac"] = zeros / size
    row["dead_unit_frac"] = dead_unit_count(a) / a.shape[1] if zeros else 0.0
    if threshold is not None:
        row["act_saturated_frac"] = count_where_abs_above(a, *threshold) / size


def _weight_stats(row: dict, w: Array, grad_weight: Array) -> None:
    gm = moments(grad_weight, per_unit=False)
    row["grad_weight_var"] = gm.var
    row["grad_weight_norm"] = math.sqrt(gm.mean_square * grad_weight.size) \
        if math.isfinite(gm.mean_square) else float("nan")
    weight_var = row["weight_var"]
    row["grad_to_weight_ratio"] = (math.sqrt(gm.var / weight_var)
                                   if weight_var > 0 and math.isfinite(gm.var) else float("nan"))


@dataclass(frozen=True)
class _ForwardState:
    """The forward pass of ``family``'s first ``depth`` layers: their caches, outputs and
    forward statistics (rows 0..depth; never written to: a run takes a ``prefix`` copy)."""

    family: NetworkConfig
    depth: int
    caches: list
    outputs: dict[int, Array]
    record: "_Recorder"


def _nbytes(obj, seen: set[int]) -> int:
    """Bytes of the arrays inside a cache (tuples, lists, dataclasses), each array once."""
    if isinstance(obj, np.ndarray):
        base = obj if obj.base is None else obj.base
        if id(base) in seen or not isinstance(base, np.ndarray):
            return 0
        seen.add(id(base))
        return base.nbytes
    if isinstance(obj, (tuple, list)):
        return sum(_nbytes(item, seen) for item in obj)
    if hasattr(obj, "__dataclass_fields__"):
        return sum(_nbytes(getattr(obj, name), seen) for name in obj.__dataclass_fields__)
    return 0


class ForwardMemo:
    """The forward pass of the last network simulated, kept (its first layers, up to
    ``max_bytes`` of arrays) for the next depth of the same network.

    A network of depth d is the first d layers of a deeper one of the same settings (module
    docstring), so a depth slider's next move needs no forward pass through the layers kept:
    a deeper one resumes after the last of them, a shallower one starts its backward pass at
    once. Results are bit for bit those of a fresh run. One network at a time (a class moves
    the sliders of one lesson); for one width throughout, BatchNorm in train mode and an init
    that does not calibrate (``fits``); the owner keeps one per process.
    """

    def __init__(self, max_bytes: int):
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be ≥ 0, got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self.hits = 0      # layers whose forward pass was found
        self.misses = 0    # layers pushed through
        self._state: _ForwardState | None = None
        self._lock = threading.Lock()

    @staticmethod
    def fits(config: NetworkConfig) -> bool:
        return not config.widths and not INITS[config.init].calibrates and not (
            config.norm == "batchnorm" and config.bn_mode == "eval")

    def get(self, family: NetworkConfig) -> _ForwardState | None:
        with self._lock:
            state = self._state
        return state if state is not None and state.family == family else None

    def offer(self, state: _ForwardState) -> None:
        """Keep ``state``'s layers up to the byte bound, if that is more than is kept."""
        seen: set[int] = set()
        total, keep = 0, 0
        for layer, cache in enumerate(state.caches, start=1):
            total += _nbytes(cache, seen) + _nbytes(state.outputs[layer], seen)
            if total > self.max_bytes:
                break
            keep = layer
        with self._lock:
            kept = self._state
            if kept is not None and kept.family == state.family and kept.depth >= keep:
                return
            if keep == 0:
                return
        trimmed = _ForwardState(state.family, keep, state.caches[:keep],
                                {layer: state.outputs[layer] for layer in range(1, keep + 1)},
                                state.record.prefix(keep))
        with self._lock:
            self._state = trimmed


def _record_weights(record: _Recorder, config: NetworkConfig, network: Network,
                    first: int = 1) -> None:
    """Each layer's fan-in, fan-out and weight variance, from layer ``first`` on."""
    widths = config.layer_widths
    for layer in range(first, len(network.weights) + 1):
        row = record.rows[layer]
        row["fan_in"], row["fan_out"] = widths[layer - 1], widths[layer]
        row["weight_var"] = moments(network.weights[layer - 1], per_unit=False).var


def _record_input(record: _Recorder, x: Array) -> None:
    record.put_moments(0, "out", x, record.put_moments(0, "act", x))
    record.sample(0, "act", x)


def _dropout_streams(config: NetworkConfig, first: int = 1) -> list | None:
    """One generator per layer for the dropout masks (None before layer ``first``, whose
    masks are not drawn again), or None without dropout. A generator costs ≈ 25 µs to seed:
    drawn only where there are masks to draw."""
    if config.dropout <= 0.0:
        return None
    return [None] * (first - 1) + [stream(config.seed, _DROPOUT, layer)
                                   for layer in range(first, config.depth + 1)]


def simulate(config: NetworkConfig, network: Network | None = None,
             forward: ForwardMemo | None = None) -> SimulationResult:
    """Forward a random batch through the network, back-propagate the loss, measure each layer.

    Overflow is a result, not an error: exploded layers get NaN statistics, a positive
    ``nonfinite_frac``, and ``first_nonfinite_layer`` names the first of them.

    ``forward``: the forward pass of an earlier depth of the same network, taken where it
    applies and extended (``ForwardMemo``); ``network`` must then be ``build_network(config)``'s.
    """
    if network is None:
        network = build_network(config)
    if forward is not None and ForwardMemo.fits(config):
        return _simulate_from_memo(config, network, forward)
    return _simulate_prefixes(config, network, (config.depth,))[0]


def _simulate_from_memo(config: NetworkConfig, network: Network,
                        memo: ForwardMemo) -> SimulationResult:
    """``simulate`` with the forward pass of the memo's layers taken, the rest pushed through
    from the last of them (the same arrays and statistics as a fresh pass, layer by layer)."""
    depth = config.depth
    family = replace(config, depth=1)
    state = memo.get(family)
    if state is not None and state.depth >= depth:
        memo.hits += depth
        record = state.record.prefix(depth)
        return _backward_and_result(config, network, state.caches[:depth], record,
                                    state.outputs[depth])
    start = state.depth if state is not None else 0
    memo.hits += start
    memo.misses += depth - start
    record = (state.record.prefix(start, depth) if state is not None else
              _Recorder(depth, ACTIVATIONS[config.activation], _np_dtype(config)))
    _record_weights(record, config, network, first=start + 1)
    record.keep_outputs = frozenset(range(start + 1, depth + 1))
    with np.errstate(all="ignore"):
        if state is None:
            h = make_input(config, network, stream(config.seed, _INPUT))
            _record_input(record, h)
        else:
            h = state.outputs[start]
        _, new_caches = block.forward(config, network, h, mode="train",
                                      rngs=_dropout_streams(config, first=start + 1),
                                      record=record, start=start)
        caches = (state.caches if state is not None else []) + new_caches
        outputs = {**(state.outputs if state is not None else {}), **record.outputs}
        memo.offer(_ForwardState(family, depth, caches, outputs, record))
        return _backward_and_result(config, network, caches, record, outputs[depth])


def simulate_depths(config: NetworkConfig, depths: Sequence[int],
                    drawn: DrawnLayers | None = None) -> list[SimulationResult]:
    """``simulate(replace(config, depth=d))`` for each d of ``depths``, bit for bit, from one
    forward pass: a network of depth d is the first d layers of a deeper one (the same weights,
    input, dropout masks, BatchNorm statistics), so the deepest network's forward pass serves
    them all and only the backward passes (two of a layer's three matrix products) are one per
    depth. For d_1 < … < d_k this costs the forward of d_k and the backward of each, instead of
    both for each: a sweep over depths from a notebook.

    Needs one width throughout (``widths`` unset). ``drawn``: see ``build_network``.
    """
    depths = [int(d) for d in depths]
    if not depths:
        return []
    if config.widths:
        raise ValueError("simulate_depths needs one width throughout (widths is set)")
    if any(not 1 <= d <= MAX_DEPTH for d in depths):
        raise ValueError(f"depths must lie in 1..{MAX_DEPTH}, got {sorted(set(depths))}")
    deepest = replace(config, depth=max(depths))
    return _simulate_prefixes(deepest, build_network(deepest, drawn), depths)


def _simulate_prefixes(config: NetworkConfig, network: Network,
                       depths: Sequence[int]) -> list[SimulationResult]:
    """One forward pass of ``config``'s network (its full depth), then one backward pass per
    depth of ``depths`` through that many first layers; results in the order of ``depths``."""
    depth = config.depth
    record = _Recorder(depth, ACTIVATIONS[config.activation], _np_dtype(config))
    record.keep_outputs = frozenset(depths)
    _record_weights(record, config, network)
    dropout_rngs = _dropout_streams(config)
    input_rng = stream(config.seed, _INPUT)
    calibrate = INITS[config.init].calibrates
    results: dict[int, SimulationResult] = {}
    with np.errstate(all="ignore"):
        mode = "train"
        if config.norm == "batchnorm" and config.bn_mode == "eval":
            block.init_running(config, network)
            for _ in range(config.bn_passes):
                block.forward(config, network, make_input(config, network, input_rng),
                              mode="train", update_running=True, rngs=dropout_rngs,
                              calibrate=calibrate, keep=False)
                calibrate = False
            mode = "eval"
        x = make_input(config, network, input_rng)
        _record_input(record, x)
        _, caches = block.forward(config, network, x, mode=mode, rngs=dropout_rngs,
                                  record=record, calibrate=calibrate)
        if calibrate:  # LSUV changed the weights during the pass.
            for layer, w in enumerate(network.weights, start=1):
                record.rows[layer]["weight_var"] = moments(w, per_unit=False).var
        # Deepest first: a backward pass may overwrite its network's output, which is the
        # cached input of the next layer, used only by deeper networks.
        for d in sorted(set(depths), reverse=True):
            config_d = config if d == depth else replace(config, depth=d)
            record_d = record if len(depths) == 1 else record.prefix(d)
            network_d = network if d == depth else Network(
                network.weights[:d], network.biases[:d], network.projections[:d],
                network.running[:d], network.feature_scale, network.feature_shift)
            results[d] = _backward_and_result(config_d, network_d, caches[:d], record_d,
                                              record.outputs[d])
    return [results[d] for d in depths]


def _backward_and_result(config: NetworkConfig, network: Network, caches: list,
                         record: _Recorder, out: Array) -> SimulationResult:
    with np.errstate(all="ignore"):
        loss, g = ops.loss_gradient(config.loss, out, stream(config.seed, _LOSS))
        block.backward(config, network, caches, g, record=record, params=False,
                       input_grad=False, overwrite=True)
        samples = record.filled_samples()
        histograms = _histograms(record, samples, config)
        subnormal = underflow.first_subnormal_layers(samples, config.dtype)  # underflow
    table = np.array([[row[column] for column in COLUMNS] for row in record.rows])
    stats = pd.DataFrame(table, columns=list(COLUMNS))  # one block: ≈ 2× faster to build
    stats["layer"] = stats["layer"].astype(int)
    return SimulationResult(
        config=config, layer_stats=stats, histograms=histograms, loss=loss,
        first_nonfinite_layer=_first_positive(table[:, COLUMNS.index("nonfinite_frac")]),
        first_nonfinite_grad_layer=_last_positive(
            table[:, COLUMNS.index("grad_nonfinite_frac")]),
        first_subnormal_layer=subnormal[0], first_subnormal_grad_layer=subnormal[1],  # underflow
    )


def _first_positive(column: Array) -> int | None:
    """The first layer (row) with a positive value; NaN is not positive."""
    hits = np.flatnonzero(column > 0)
    return int(hits[0]) if len(hits) else None


def _last_positive(column: Array) -> int | None:
    """The backward pass runs from the last layer down, so its 'first' is the highest index."""
    hits = np.flatnonzero(column > 0)
    return int(hits[-1]) if len(hits) else None


def _histograms(record: _Recorder, samples: dict[str, Array],
                config: NetworkConfig) -> Histograms:
    bounds = ACTIVATIONS[config.activation].bounds
    sets = {}
    for quantity, rows in samples.items():
        low, high = ranges_from_moments(record.means[quantity], record.variances[quantity])
        sets[(quantity, "std")] = histogram_rows(rows, low, high)
        finite = np.isfinite(low) & np.isfinite(high)
        if finite.any():
            shared = (float(low[finite].min()), float(high[finite].max()))
            if quantity == "act" and bounds is not None:
                # φ's own range for the layers; the input (row 0) may reach beyond it.
                shared = (min(bounds[0], float(low[0])) if finite[0] else bounds[0],
                          max(bounds[1], float(high[0])) if finite[0] else bounds[1])
        else:
            shared = (float("nan"), float("nan"))
        n = rows.shape[0]
        sets[(quantity, "shared")] = histogram_rows(rows, np.full(n, shared[0]),
                                                    np.full(n, shared[1]))
    return Histograms(sets=sets, sample_size=HISTOGRAM_SAMPLE)



@dataclass(frozen=True)
class Gradients:
    """The exact gradients of L = Σ upstream ⊙ out(x), for checking the backward pass."""

    out: Array
    weights: list[Array]
    input: Array
    biases: list[Array] | None = None


def gradients(config: NetworkConfig, network: Network, x: Array, upstream: Array) -> Gradients:
    """Forward x (BatchNorm with batch statistics, the config's dropout masks), then
    back-propagate ``upstream`` = ∂L/∂out. Deterministic: masks come from the seeded streams."""
    dropout_rngs = [stream(config.seed, _DROPOUT, layer) for layer in range(1, config.depth + 1)]
    with np.errstate(all="ignore"):
        out, caches = block.forward(config, network, x, mode="train", rngs=dropout_rngs)
        grad_input, params = block.backward(config, network, caches, upstream)
    return Gradients(out=out.copy(), weights=params.weights, input=grad_input,
                     biases=params.biases)
