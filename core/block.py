"""The layer block, defined once: the ordered ops of a config's layer, each with its forward,
its backward, its Jacobian-vector products and the moment rule of the mean-field theory.

``simulate`` (statistics at initialisation), ``jacobian`` (per-sample Jacobians), ``theory``
(predicted second moments) and the training engine all iterate the same ``block(config)``.

The block of layer l (row layout: a batch is (B, n), rows are samples)::

    branch ops, residual_form "post" (and every non-residual net):
        y = h W + b  →  Norm (norm_position "before")  →  φ  →  Norm ("after")  →  Drop
    branch ops, residual_form "pre" (He et al. 2016, "Identity mappings"):
        Norm ("before")  →  φ  →  Norm ("after")  →  y = a' W + b  →  Drop
    out = branch(h)                       without residual
    out = skip(h) + s·branch(h)           with residual; skip(h) = h, or h P (a fixed
                                          semi-orthogonal projection) where widths differ

Ops and their rules (x input, g = ∂L/∂output, x̂ = (x − μ)/√(σ² + ε)):

- Linear:   y = x W + b;  ∂L/∂x = g Wᵀ,  ∂L/∂W = xᵀ g,  ∂L/∂b = Σ_batch g.
- Norm:     BatchNorm (statistics over the batch, axis 0) or LayerNorm (over features, axis 1),
            no learnable scale or shift (γ = 1, β = 0), ε = 1e-5;
            ∂L/∂x = (g − mean(g) − x̂·mean(g·x̂))/√(σ² + ε) with batch statistics,
            g/√(running_var + ε) with running statistics (mode "eval").
- Act:      a = φ(x);  ∂L/∂x = g·φ'(x) (φ' from a where the activation allows it).
- Dropout:  inverted, y = x·m, m = 1[u ≥ p]/(1 − p), u ~ U(0, 1) drawn per layer from the
            caller's generator;  ∂L/∂x = g·m.

Parameters: ``network.weights[l]`` (n_l, n_{l+1}), ``network.biases[l]`` (n_{l+1},) or None for
a zero bias (no pass spent on it; its gradient is still returned, so a trainer can start
from ``np.zeros(n)``), ``network.projections[l]`` or None, ``network.running[l]`` =
(running_mean, running_var) of the layer's BatchNorm (float64, on the normalised width:
the output width in the post form, the input width in the pre form; see ``init_running``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np

from . import ops
from .activations import ACTIVATIONS, Activation
from .config import NetworkConfig

Array = np.ndarray


@dataclass
class Network:
    """The parameters. ``weights[l]`` is (n_l, n_{l+1}) for layer l + 1."""

    weights: list[Array]
    biases: list[Array | None]
    projections: list[Array | None]
    running: list[tuple[Array, Array] | None] = field(default_factory=list)
    feature_scale: Array | None = None
    feature_shift: Array | None = None


@dataclass
class ParamGrads:
    """∂L/∂W and ∂L/∂b of every layer, first layer first (a bias gradient even where the
    network's bias is None, i.e. zero)."""

    weights: list[Array]
    biases: list[Array]


class Recorder(Protocol):
    """Hooks a caller may pass to watch the passes (``simulate`` keeps its statistics so)."""

    def forward_layer(self, layer: int, z: Array, a: Array, out: Array) -> None: ...
    def backward_out(self, layer: int, g: Array) -> None: ...
    def backward_preact(self, layer: int, g: Array) -> None: ...
    def weight_grad(self, layer: int, w: Array, grad: Array) -> None: ...


@dataclass
class _Pass:
    """What the ops of one layer see during a pass."""

    index: int
    w: Array
    b: Array | None
    network: Network
    config: NetworkConfig
    stats: str = "batch"            # "batch" or "running" (BatchNorm)
    update_running: bool = False
    rng: np.random.Generator | None = None
    mask_batch: int | None = None
    calibrate: bool = False


# ------------------------------------------------------------------------------------------
# Theory: the moments the mean-field recursion carries through an op
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Moments:
    """What the theory knows about an array (batch × units): q = E[x²] and m = E[x] pooled,
    u = the mean over units of each unit's squared batch mean (what BatchNorm removes)."""

    q: float
    m: float
    u: float


@dataclass
class LayerTheory:
    """One layer's numbers for the moment rules: σ_w² = fan_in·Var(W), σ_b² = Var(b), c the
    constant bias, the widths and batch, ``expect(var, mean)`` → (E[φ], E[φ²], E[φ'], E[φ'²])
    at N(mean, var), and ``row``, the prediction table's row being filled."""

    sw: float
    sb: float
    c: float
    fan_in: int
    fan_out: int
    batch: int
    expect: Callable[[float, float], tuple[float, float, float, float]]
    row: dict
    saved: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------
# Ops
# ------------------------------------------------------------------------------------------

class Linear:
    """y = x W + b."""

    kind = "linear"

    def forward(self, x: Array, p: _Pass) -> tuple[Array, Array]:
        y = ops.linear_forward(x, p.w, p.b)
        if p.calibrate:
            y = _lsuv_rescale(y, p.w, p.b)
        return y, x

    def backward(self, g: Array, x: Array, p: _Pass, grads: "_Grads",
                 need_input: bool) -> Array | None:
        grads.weight(p.index, x, g, p.w)
        if grads.collect:
            grads.biases[p.index] = g.sum(axis=0)
        return ops.linear_backward_input(g, p.w) if need_input else None

    # Jacobian of one sample: v ↦ v W (rows), u ↦ W u (columns).
    def jvp(self, x: Array, p: _Pass, rows: int) -> "_Map":
        return _Map("matmul", p.w)

    def moments(self, s: Moments, t: LayerTheory, slot: int) -> Moments:
        """E[y²] = σ_w²·E[x²] + σ_b² + c², mean c; per-unit means Σ_i x̄_i W_ij + b_j."""
        return Moments(q=t.sw * s.q + t.sb + t.c * t.c, m=t.c, u=t.sw * s.u + t.sb + t.c * t.c)

    def grad_moments(self, g: float, t: LayerTheory, slot: int) -> float:
        """E[(g Wᵀ)²] = σ_w²·(fan_out/fan_in)·E[g²] (W independent of g)."""
        return t.sw * (t.fan_out / t.fan_in) * g


class Norm:
    """BatchNorm (axis 0) or LayerNorm (axis 1) without affine parameters; ``position`` is
    "before" or "after" φ."""

    kind = "norm"

    def __init__(self, norm: str, position: str):
        self.norm, self.position = norm, position
        self.axis = 0 if norm == "batchnorm" else 1

    def forward(self, x: Array, p: _Pass) -> tuple[Array, ops.NormCache]:
        if self.axis == 0 and p.stats == "running":
            mean, var = p.network.running[p.index]
            x, cache = ops.norm_forward_fixed(x, mean, var)
            return x, cache
        x, cache, mean, var = ops.norm_forward(x, self.axis)
        if self.axis == 0 and p.update_running:
            _update_running(p.network, p.index, mean, var, x.shape[0], p.config.bn_momentum)
        return x, cache

    def backward(self, g: Array, cache: ops.NormCache, p: _Pass, grads: "_Grads",
                 need_input: bool) -> Array | None:
        return ops.norm_backward(g, cache) if need_input else None

    def jvp(self, cache: ops.NormCache, p: _Pass, rows: int) -> "_Map":
        """Per sample: diag(1/σ) for BatchNorm (batch statistics held fixed: the O(1/batch)
        coupling between samples is dropped; exact in eval mode); LayerNorm exactly,
        (1/σ)(I − 11ᵀ/n − x̂x̂ᵀ/n)."""
        if self.axis == 0:
            return _Map("diag", cache.inv_std.reshape(1, -1), shared=True)
        return _Map("layer", cache.xhat[:rows].copy(), cache.inv_std[:rows])

    def moments(self, s: Moments, t: LayerTheory, slot: int) -> Moments:
        """Normalised entries ~ N(0, v/(v+ε)): v = q − u per unit (BatchNorm), q − m² per
        sample (LayerNorm)."""
        v = s.q - s.u if self.axis == 0 else s.q - s.m * s.m
        t.saved[slot] = v
        if self.position == "before":
            t.row["_v_in"] = v
        else:
            t.row["_v_a"] = v
        return Moments(q=v / (v + ops.EPS), m=0.0, u=0.0)

    def grad_moments(self, g: float, t: LayerTheory, slot: int) -> float:
        """g·(1 − 2/N)/(v + ε): the projection removes 2 of the N directions of the normalised
        axis (batch for BatchNorm, the width for LayerNorm)."""
        n = t.batch if self.axis == 0 else t.saved[("width", slot)]
        return g * (1.0 - 2.0 / n) / (t.saved[slot] + ops.EPS)


class Act:
    """a = φ(x)."""

    kind = "act"

    def __init__(self, act: Activation, slope: float):
        self.act, self.slope = act, slope
        # φ' from φ(x) where it can (no need to keep x); leaky ReLU only with a > 0.
        self.from_output = act.derivative_from_output
        self.identity = act is ACTIVATIONS["identity"]  # φ' = 1: nothing to multiply

    def forward(self, x: Array, p: _Pass) -> tuple[Array, tuple[Array | None, Array]]:
        a = self.act.fn(x, self.slope)
        return a, (None if self.from_output is not None else x, a)

    def derivative(self, cache: tuple[Array | None, Array]) -> Array:
        z, a = cache
        if self.from_output is not None:
            return self.from_output(a, self.slope)
        return self.act.derivative(z, self.slope)

    def backward(self, g: Array, cache, p: _Pass, grads: "_Grads",
                 need_input: bool) -> Array:
        if not self.identity:
            g *= self.derivative(cache)
        return g

    def jvp(self, cache, p: _Pass, rows: int) -> "_Map":
        return _Map("diag", self.derivative(cache)[:rows])

    def moments(self, s: Moments, t: LayerTheory, slot: int) -> Moments:
        """x pooled over units and samples ~ N(m, q − m²): E[φ], E[φ²]; each unit's mean
        shifts by E[φ']·(its input mean − m) to first order."""
        var = max(s.q - s.m * s.m, 0.0)
        e1, e2, d1, d2 = t.expect(var, s.m)
        t.row.update({"pred_preact_mean_square": var + s.m * s.m, "pred_preact_var": var,
                      "pred_act_mean": e1, "pred_act_mean_square": e2,
                      "pred_act_var": e2 - e1 * e1, "pred_chi1": t.sw * d2, "_d2": d2})
        spread = max(s.u - s.m * s.m, 0.0)
        return Moments(q=e2, m=e1, u=e1 * e1 + spread * d1 * d1)

    def grad_moments(self, g: float, t: LayerTheory, slot: int) -> float:
        g = g * t.row["_d2"]
        t.row["pred_grad_preact_var"] = g
        return g


class Dropout:
    """Inverted dropout with rate p."""

    kind = "dropout"

    def __init__(self, rate: float):
        self.rate = rate

    def forward(self, x: Array, p: _Pass) -> tuple[Array, Array | None]:
        if p.rng is None:
            return x, None
        rows = p.mask_batch or x.shape[0]
        mask = ops.dropout_mask((rows, x.shape[1]), self.rate, p.rng, x.dtype)
        if rows != x.shape[0]:
            mask = mask[: x.shape[0]]
        return ops.dropout_forward(x, mask), mask

    def backward(self, g: Array, mask: Array | None, p: _Pass, grads: "_Grads",
                 need_input: bool) -> Array:
        return g if mask is None else ops.dropout_backward(g, mask)

    def jvp(self, mask: Array | None, p: _Pass, rows: int) -> "_Map":
        return _Map("none") if mask is None else _Map("diag", mask[:rows])

    def moments(self, s: Moments, t: LayerTheory, slot: int) -> Moments:
        """E[(x·m)²] = E[x²]/(1 − p); means unchanged."""
        return Moments(q=s.q / (1.0 - self.rate), m=s.m, u=s.u)

    def grad_moments(self, g: float, t: LayerTheory, slot: int) -> float:
        return g / (1.0 - self.rate)


Op = Linear | Norm | Act | Dropout


@dataclass(frozen=True)
class Block:
    """A config's layer: the branch ops in order, and whether and how the skip is added."""

    ops: tuple
    residual: bool
    scale: float
    pre_form: bool

    @property
    def act(self) -> Act:
        return next(op for op in self.ops if isinstance(op, Act))


def block(config: NetworkConfig) -> Block:
    """The ordered branch ops of every layer of ``config`` (see the module docstring)."""
    norm_before = norm_after = None
    if config.norm != "none":
        norm = Norm(config.norm, config.norm_position)
        norm_before = norm if config.norm_position == "before" else None
        norm_after = norm if config.norm_position == "after" else None
    act = Act(ACTIVATIONS[config.activation], config.leaky_slope)
    pre_form = config.residual and config.residual_form == "pre"
    if pre_form:
        sequence = (norm_before, act, norm_after, Linear())
    else:
        sequence = (Linear(), norm_before, act, norm_after)
    if config.dropout > 0.0:
        sequence += (Dropout(config.dropout),)
    return Block(ops=tuple(op for op in sequence if op is not None), residual=config.residual,
                 scale=config.residual_scale if config.residual else 1.0, pre_form=pre_form)


def norm_widths(config: NetworkConfig) -> tuple[int, ...]:
    """The width each layer's norm acts on: its output (post) or its input (pre form)."""
    widths = config.layer_widths
    return widths[:-1] if block(config).pre_form else widths[1:]


def init_running(config: NetworkConfig, network: Network) -> None:
    """Running statistics at PyTorch's start: mean 0, variance 1 (float64), one per layer."""
    network.running = [(np.zeros(n), np.ones(n)) for n in norm_widths(config)]


# ------------------------------------------------------------------------------------------
# Forward and backward passes
# ------------------------------------------------------------------------------------------

@dataclass
class LayerCache:
    """What the backward pass of one layer needs: each op's cache, in block order."""

    caches: list


def forward(config: NetworkConfig, network: Network, x: Array, *, mode: str = "train",
            rngs: Sequence[np.random.Generator] | None = None, record: Recorder | None = None,
            update_running: bool = False, calibrate: bool = False, keep: bool = True,
            mask_batch: int | None = None, start: int = 0) -> tuple[Array, list[LayerCache]]:
    """Push the batch ``x`` (B, n_0) through every layer; return the output and the caches.

    - ``mode``: "train", BatchNorm with the batch's statistics (μ, biased σ² over axis 0);
      "eval", with ``network.running`` (x − running_mean)/√(running_var + ε).
    - ``update_running`` (train mode): also update the running statistics as PyTorch does,
      running = (1 − m)·running + m·batch with m = ``bn_momentum`` and the unbiased batch
      variance σ²·B/(B − 1). Initialise them with ``init_running``.
    - ``rngs``: one Generator per layer for the dropout masks (a trainer passes fresh ones
      every step); None: no dropout (evaluation). ``mask_batch``: draw masks for that many rows
      and use the first B (so a pass over a few rows sees the full batch's masks).
    - ``record``: a ``Recorder`` whose ``forward_layer(layer, z, a, out)`` sees φ's input, φ's
      output and the layer's output (layers numbered from 1).
    - ``calibrate``: LSUV; rescale each W in place until Var(linear output) = 1 on this batch.
    - ``keep``: False to drop the caches (a pass that is not back-propagated).
    - ``start``: ``x`` is the output of layer ``start`` (its first layers were pushed through
      before): the pass runs layers start + 1 … and returns their caches only.

    Arrays are not modified in place except the network's running statistics and (LSUV) its
    weights.
    """
    if mode not in ("train", "eval"):
        raise ValueError(f"mode={mode!r} is invalid: mode must be one of train, eval.")
    spec = block(config)
    act = spec.act
    dtype = x.dtype.type
    caches: list[LayerCache] = []
    h = x
    for index in range(start, len(network.weights)):
        w, b = network.weights[index], network.biases[index]
        p = _Pass(index, w, b, network, config, "running" if mode == "eval" else "batch",
                  update_running and mode == "train", None if rngs is None else rngs[index],
                  mask_batch, calibrate)
        v, layer_caches, z, a = h, [], None, None
        for op in spec.ops:
            if op is act:
                z = v
            v, cache = op.forward(v, p)
            if op is act:
                a = v
            layer_caches.append(cache)
        if spec.residual:
            projection = network.projections[index]
            skip = h if projection is None else h @ projection
            out = skip + dtype(spec.scale) * v
        else:
            out = v
        if record is not None:
            record.forward_layer(index + 1, z, a, out)
        if keep:
            caches.append(LayerCache(layer_caches))
        h = out
    return h, caches


class _Grads:
    """Where the weight gradients go: collected (new arrays) or into a reused buffer."""

    def __init__(self, depth: int, collect: bool, record: Recorder | None):
        self.collect, self.record = collect, record
        self.weights: list[Array | None] = [None] * depth
        self.biases: list[Array | None] = [None] * depth
        self._buffer: Array | None = None

    def weight(self, index: int, x: Array, g: Array, w: Array) -> None:
        if self.collect:
            grad = ops.linear_backward_weight(x, g)
            self.weights[index] = grad
        elif self.record is not None:
            if self._buffer is None or self._buffer.shape != w.shape:
                self._buffer = np.empty_like(w)
            grad = ops.linear_backward_weight(x, g, out=self._buffer)
        else:
            return
        if self.record is not None:
            self.record.weight_grad(index + 1, w, grad)


def backward(config: NetworkConfig, network: Network, caches: list[LayerCache],
             grad_out: Array, *, record: Recorder | None = None, params: bool = True,
             input_grad: bool = True, overwrite: bool = False
             ) -> tuple[Array | None, ParamGrads | None]:
    """Back-propagate ``grad_out`` = ∂L/∂out (B, n_L) through the layers of a ``forward``
    pass (its caches, the same ``network``); return (∂L/∂x, ParamGrads).

    Per layer, from the last: the skip passes g (or g Pᵀ) straight down; the branch gets s·g,
    then each op's backward in reverse block order (see the module docstring), and the two
    add. ParamGrads holds ∂L/∂W = xᵀ·∂L/∂y and ∂L/∂b = Σ_batch ∂L/∂y of every layer (batch
    sums, as autograd with a summed loss); BatchNorm and LayerNorm have no parameters.

    ``record``: ``backward_out(layer, g)`` (∂L/∂ layer output), ``backward_preact(layer, g)``
    (∂L/∂ φ's input), ``weight_grad(layer, W, ∂L/∂W)``. ``params=False`` returns None for the
    parameter gradients (∂L/∂W still reaches ``record``), ``input_grad=False`` None for ∂L/∂x
    (the first layer's input gradient is then not computed). ``overwrite``: the caller hands
    ``grad_out`` over and it may be overwritten (saves a copy).
    """
    spec = block(config)
    act = spec.act
    depth = len(caches)
    g = grad_out if overwrite else grad_out.copy()
    dtype = g.dtype.type
    grads = _Grads(depth, params, record)
    for index in range(depth - 1, -1, -1):
        layer = index + 1
        if record is not None:
            record.backward_out(layer, g)
        skip_grad = None
        if spec.residual:
            projection = network.projections[index]
            skip_grad = g if projection is None else g @ projection.T
            g = g * dtype(spec.scale)
        p = _Pass(index, network.weights[index], network.biases[index], network, config)
        layer_caches = caches[index].caches
        for position in range(len(spec.ops) - 1, -1, -1):
            op = spec.ops[position]
            need = index > 0 or input_grad or position > 0
            g = op.backward(g, layer_caches[position], p, grads, need)
            if op is act and record is not None:
                record.backward_preact(layer, g)
            if g is None:
                break
        if g is None:
            continue
        if skip_grad is not None:
            g += skip_grad
    param_grads = None
    if params:
        biases = [grads.biases[i] if grads.biases[i] is not None
                  else np.zeros(w.shape[1], dtype=w.dtype)
                  for i, w in enumerate(network.weights)]
        param_grads = ParamGrads(weights=list(grads.weights), biases=biases)
    return (g if input_grad else None), param_grads


# ------------------------------------------------------------------------------------------
# Jacobian of one sample
# ------------------------------------------------------------------------------------------

@dataclass
class _Map:
    """One op's Jacobian for the selected rows: "matmul" (by W), "diag" (a diagonal per row,
    or ``shared`` by all rows), "layer" (LayerNorm's rank-2 update) or "none" (identity)."""

    kind: str
    a: Array | None = None
    b: Array | None = None
    shared: bool = False

    def _diagonal(self, row: int) -> Array:
        return self.a[0] if self.shared else self.a[row]

    def push(self, v: Array | None, row: int) -> Array | None:
        """v·A for row vectors v (k, n); v None stands for the identity."""
        if self.kind == "matmul":
            return self.a.copy() if v is None else v @ self.a
        if self.kind == "none":
            return v
        if v is None:
            v = np.eye(self.a.shape[1])
        if self.kind == "diag":
            return v * self._diagonal(row)
        return _layer_apply(v, self.a[row], float(self.b[row, 0]), left=True)

    def pull(self, u: Array, row: int) -> Array:
        """A·u for columns u (n, k)."""
        if self.kind == "matmul":
            return self.a @ u
        if self.kind == "none":
            return u
        if self.kind == "diag":
            return u * self._diagonal(row)[:, None]
        return _layer_apply(u, self.a[row], float(self.b[row, 0]), left=False)


def _layer_apply(v: Array, xhat: Array, inv_std: float, left: bool) -> Array:
    """LayerNorm's per-sample Jacobian N = (1/σ)(I − 11ᵀ/n − x̂x̂ᵀ/n), symmetric."""
    n = xhat.size
    if left:
        return inv_std * (v - v.mean(axis=1, keepdims=True) - np.outer(v @ xhat / n, xhat))
    return inv_std * (v - v.mean(axis=0, keepdims=True) - np.outer(xhat, xhat @ v / n))


@dataclass
class LayerJacobian:
    """One layer's per-sample Jacobian: the branch maps in block order, the scale s, and the
    skip (None: no residual; "identity"; or the projection P)."""

    maps: list[_Map]
    scale: float
    residual: bool
    projection: Array | None
    width_in: int

    def push(self, v: Array | None, row: int) -> Array:
        y = v
        for m in self.maps:
            y = m.push(y, row)
        if self.scale != 1.0:
            y = y * self.scale
        if self.residual:
            if v is None:
                y = y + (np.eye(self.width_in) if self.projection is None else self.projection)
            else:
                y = y + (v if self.projection is None else v @ self.projection)
        return y

    def pull(self, u: Array, row: int) -> Array:
        g = u * self.scale if self.scale != 1.0 else u
        for m in reversed(self.maps):
            g = m.pull(g, row)
        if self.residual:
            g = g + (u if self.projection is None else self.projection @ u)
        return g


def jacobians(config: NetworkConfig, network: Network, caches: list[LayerCache],
              rows: int) -> list[LayerJacobian]:
    """Per-layer Jacobian data of the first ``rows`` samples of a ``forward`` pass."""
    spec = block(config)
    out = []
    for index, cache in enumerate(caches):
        w = network.weights[index]
        p = _Pass(index, w, network.biases[index], network, config)
        maps = [op.jvp(c, p, rows) for op, c in zip(spec.ops, cache.caches)]
        projection = network.projections[index] if spec.residual else None
        out.append(LayerJacobian(maps=maps, scale=float(spec.scale), residual=spec.residual,
                                 projection=projection, width_in=w.shape[0]))
    return out


# ------------------------------------------------------------------------------------------
# Theory: the block's moment recursion
# ------------------------------------------------------------------------------------------

def layer_moments(spec: Block, s: Moments, t: LayerTheory) -> Moments:
    """Carry (q, m, u) of the layer input through the branch ops and the residual add:
    E[out²] = E[skip²] + s²·E[branch²] + 2s·E[skip]·E[branch] (the zero-mean fluctuations are
    uncorrelated: W is independent of h); a projected skip keeps q and u, not the mean."""
    v = s
    width = t.fan_out if not spec.pre_form else t.fan_in
    for slot, op in enumerate(spec.ops):
        if isinstance(op, Linear):
            width = t.fan_out
        t.saved[("width", slot)] = width
        v = op.moments(v, t, slot)
    if not spec.residual:
        return v
    skip_mean = 0.0 if t.fan_in != t.fan_out else s.m
    a = spec.scale
    return Moments(q=s.q + a * a * v.q + 2.0 * a * skip_mean * v.m, m=skip_mean + a * v.m,
                   u=s.u + a * a * v.u + 2.0 * a * skip_mean * v.m)


def layer_grad_moments(spec: Block, g: float, t: LayerTheory) -> float:
    """E[(∂L/∂h)²] from E[(∂L/∂out)²] = g (gradient independence): the branch's ops in reverse
    on s²·g, plus the skip's g·fan_out/fan_in."""
    branch = g * spec.scale * spec.scale
    for slot in range(len(spec.ops) - 1, -1, -1):
        branch = spec.ops[slot].grad_moments(branch, t, slot)
    if spec.residual:
        branch += g * t.fan_out / t.fan_in
    return branch


# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------

def _lsuv_rescale(y: Array, w: Array, b: Array | None, tolerance: float = 1e-3) -> Array:
    """LSUV: scale W (in place, for every later pass) until Var(x W + b) = 1 on this batch."""
    for _ in range(10):
        var = float(y.var())
        if not math.isfinite(var) or var == 0.0 or abs(var - 1.0) < tolerance:
            break
        factor = y.dtype.type(1.0 / math.sqrt(var))
        w *= factor
        if b is None:
            y *= factor
        else:
            y -= b
            y *= factor
            y += b
    return y


def _update_running(network: Network, index: int, mean: Array, var: Array, batch: int,
                    momentum: float) -> None:
    running_mean, running_var = network.running[index]
    unbiased = var.reshape(-1).astype(np.float64) * batch / max(batch - 1, 1)
    running_mean *= 1.0 - momentum
    running_mean += momentum * mean.reshape(-1)
    running_var *= 1.0 - momentum
    running_var += momentum * unbiased
