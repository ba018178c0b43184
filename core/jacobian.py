"""The input–output Jacobian of the network at initialisation, and its singular values.

For one input sample x (a row), layer l maps its input row h to

    out = skip(h) + s·m ⊙ Norm_a(φ(Norm_z(h W + b)))          (residual_form "post", or no
                                                              residual: skip = 0, s = 1)
    out = skip(h) + s·m ⊙ (Norm_a(φ(Norm_z(h))) W + b)        (residual_form "pre")

so, with row vectors (d out = d h · A_l), its Jacobian is the (n_{l−1}, n_l) matrix

    A_l = W · N_z · diag(φ'(z)) · N_a · diag(s·m) + (I or P)      (post)
    A_l = N_z · diag(φ'(z)) · N_a · W · diag(s·m) + (I or P)      (pre; N on the input width)

and J = A_1 A_2 ⋯ A_L, of shape (n_0, n_L). Here m is the inverted-dropout mask of that sample
(entries 0 or 1/(1 − p)), s the residual scale (1 without residual), P the residual projection
where widths differ, and N the normalisation's Jacobian for this sample:

- LayerNorm (exact, per sample): N = (1/σ)(I − 11ᵀ/n − x̂x̂ᵀ/n), applied as a rank-2 update.
- BatchNorm in eval mode (exact): diag(1/√(running_var + ε)).
- BatchNorm in train mode: the output of one sample depends on the whole batch; we keep the
  batch mean and variance fixed (as if they were constants), giving diag(1/√(batch_var + ε)).
  This drops the O(1/batch) coupling terms and is an approximation.

Weights, biases, projections, dropout masks and inputs are those of ``simulate(config)``:
``build_network(config)`` and the seeded streams of ``core.simulate`` (the first ``samples``
rows of its batch, the masks of its final pass; LSUV's calibration and BatchNorm's eval-mode
running statistics are obtained by running ``simulate`` once on the network). The Jacobian is
computed in float64 from those (possibly float32) parameters.

Exact path: J is formed for each sample (≈ Σ_l n_0·n_{l−1}·n_l multiply-adds) and its singular
values taken with ``np.linalg.svd``, when the widths are at most ``MAX_EXACT_WIDTH`` and the
total cost stays within ``max_exact`` multiply-adds. Otherwise an estimate: a randomized SVD
(Halko, Martinsson & Tropp 2011) with one power iteration, k + 8 Gaussian test vectors pushed
through J and Jᵀ without forming them; it returns the k largest singular values only, while
``mean_squared`` is the Hutchinson estimate ‖JΩ‖²_F/k of the whole spectrum's mean of s².
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import block, budget, ops
from .config import MAX_RUN_SECONDS, ConfigError, NetworkConfig
from .inits import INITS
from .simulate import Network, build_network, make_input, simulate, stream
# The simulator's stream ids of dropout masks and inputs: the same draws as its own pass.
from .simulate import _DROPOUT, _INPUT

Array = np.ndarray

#: Widest layer for the exact path.
MAX_EXACT_WIDTH = 1024
#: Largest exact path, in multiply-adds over all samples: the method's switch (both methods are
#: priced in seconds by core.budget and held to MAX_RUN_SECONDS).
DEFAULT_MAX_EXACT = 4e9
#: Largest estimate: (k + 8) test vectors × 4 passes × Σ n_{l−1}·n_l × samples.
ESTIMATE_BUDGET = 2e10
#: Bytes the weights may take here: the network's own and their float64 copies (12 bytes per
#: float32 weight). 512 MiB ≈ 44 M weights, e.g. 10 layers of 2048 × 2048.
MAX_JACOBIAN_BYTES = 512 * 2**20


def jacobian_memory(config: NetworkConfig) -> float:
    """Bytes of the weights this module holds: the network's and their float64 copies."""
    n = config.layer_widths
    itemsize = 8 if config.dtype == "float64" else 4
    return float(sum(a * b for a, b in zip(n[:-1], n[1:]))) * (itemsize + 8)
#: Stream id of the estimate's Gaussian test vectors (the simulator uses 0–6).
_SKETCH = 64


@dataclass(frozen=True)
class JacobianSpectrum:
    """Singular values of the input–output Jacobian, pooled over ``samples`` inputs.

    ``method`` is "exact" (all min(n_0, n_L) values per sample) or "estimate" (the ``sketch``
    largest per sample). ``mean_squared``: mean of s² (= ‖J‖²_F / min(n_0, n_L), averaged over
    samples; for "estimate" the Hutchinson estimate of that). ``spread``: std of log10 s over
    the returned positive values (0: all equal, i.e. dynamical isometry). ``condition``: max/min
    of the returned values. ``nonfinite``: the forward pass or J overflowed (values then empty,
    statistics NaN).
    """

    singular_values: Array
    method: str
    mean_squared: float
    spread: float
    condition: float
    samples: int
    sketch: int
    nonfinite: bool


def _layers(config: NetworkConfig, network: Network, x: Array,
            rows: int) -> list[block.LayerJacobian]:
    """Forward the batch (float64) through the block as the simulator does, keeping what the
    Jacobians of its first ``rows`` samples need. Only BatchNorm in train mode needs the whole
    batch; otherwise only those rows are pushed (their dropout masks drawn for the full batch,
    as the simulator's)."""
    batch_norm = config.norm == "batchnorm"
    eval_mode = batch_norm and config.bn_mode == "eval"
    dropout_rngs = [stream(config.seed, _DROPOUT, layer) for layer in range(1, config.depth + 1)]
    if eval_mode:
        # simulate's warm-up passes drew one mask per layer each; skip to its final pass.
        for _ in range(config.bn_passes):
            for layer, rng in enumerate(dropout_rngs):
                if config.dropout > 0.0:
                    ops.dropout_mask((config.batch_size, config.layer_widths[layer + 1]),
                                     config.dropout, rng, np.dtype(np.float64))
    keep_all = batch_norm and not eval_mode
    h = x if keep_all else x[:rows]
    network64 = Network(
        weights=[w.astype(np.float64) for w in network.weights],
        biases=[None if b is None else b.astype(np.float64) for b in network.biases],
        projections=[None if p is None else p.astype(np.float64) for p in network.projections],
        running=network.running)
    _, caches = block.forward(config, network64, h, mode="eval" if eval_mode else "train",
                              rngs=dropout_rngs, mask_batch=config.batch_size)
    return block.jacobians(config, network64, caches, rows)


def _push(layers: list[block.LayerJacobian], row: int, start: Array | None) -> Array:
    """start · J (rows of start are vectors of the input space); start None: J itself."""
    v = start
    for layer in layers:
        v = layer.push(v, row)
    return v


def _pull(layers: list[block.LayerJacobian], row: int, u: Array) -> Array:
    """J · u (columns of u are vectors of the output space)."""
    for layer in reversed(layers):
        u = layer.pull(u, row)
    return u


def _cost(widths: tuple[int, ...]) -> float:
    """Multiply-adds of one exact Jacobian: the chain product and the SVD (≈ 10·m·n·min)."""
    n0 = widths[0]
    chain = sum(n0 * a * b for a, b in zip(widths[:-1], widths[1:]))
    return chain + 10.0 * n0 * widths[-1] * min(n0, widths[-1])


def _summary(values: Array) -> tuple[float, float]:
    positive = values[values > 0]
    if positive.size == 0:
        return float("nan"), float("nan")
    logs = np.log10(positive)
    return float(np.std(logs)), float(positive.max() / positive.min())


def _prepare(config: NetworkConfig, network: Network | None, samples: int
             ) -> list[block.LayerJacobian]:
    if network is None:
        network = build_network(config)
    if INITS[config.init].calibrates or (config.norm == "batchnorm" and config.bn_mode == "eval"):
        simulate(config, network)  # calibrates LSUV weights, fills the running statistics
    input_rng = stream(config.seed, _INPUT)
    if config.norm == "batchnorm" and config.bn_mode == "eval":
        for _ in range(config.bn_passes):
            make_input(config, network, input_rng)
    x = make_input(config, network, input_rng).astype(np.float64)
    return _layers(config, network, x, samples)


def jacobian_matrix(config: NetworkConfig, sample: int = 0, *,
                    network: Network | None = None) -> Array:
    """The exact (n_0, n_L) Jacobian ∂out/∂x of the simulator's input row ``sample``, in the
    row layout of the network (out = x·J to first order). Non-finite entries when it overflows."""
    if not 0 <= sample < config.batch_size:
        raise ValueError(f"sample={sample} is invalid: sample must be from 0 to "
                         f"{config.batch_size - 1}.")
    with np.errstate(all="ignore"):
        layers = _prepare(config, network, sample + 1)
        return _push(layers, sample, None)


@dataclass(frozen=True)
class SpectrumPlan:
    """How ``jacobian_spectrum`` will compute: ``method`` ("exact" or "estimate"), ``samples``,
    ``sketch`` (the values kept per sample by the estimate; 0 for exact) and the estimated
    ``cost`` (core.budget.jacobian_cost)."""

    method: str
    samples: int
    sketch: int
    cost: budget.Cost


def spectrum_plan(config: NetworkConfig, max_exact: float = DEFAULT_MAX_EXACT, *,
                  samples: int = 4, sketch: int = 64) -> SpectrumPlan:
    """The method and sketch ``jacobian_spectrum`` uses, priced, or ConfigError before any
    work: "jacobian_memory" above MAX_JACOBIAN_BYTES, "too_large" when even the smallest
    estimate (8 values a sample) would take more than MAX_RUN_SECONDS of one core.

    Exact when every width ≤ MAX_EXACT_WIDTH, samples × (Σ n_0·n_{l−1}·n_l +
    10·n_0·n_L·min(n_0, n_L)) ≤ ``max_exact`` multiply-adds and it fits the time limit;
    otherwise the estimate with the largest sketch ≤ ``sketch`` (halved down to 8) that fits
    ESTIMATE_BUDGET multiply-adds and the time limit."""
    samples = max(1, min(int(samples), config.batch_size))
    widths = config.layer_widths
    memory = jacobian_memory(config)
    if memory > MAX_JACOBIAN_BYTES:
        raise ConfigError(
            f"The Jacobian of this network needs about {memory / 2**20:.0f} MiB for its weights, "
            f"the limit is {MAX_JACOBIAN_BYTES / 2**20:.0f} MiB. Reduce depth or width.",
            ("depth", "width", "widths"), code="jacobian_memory", amount=memory,
            limit=MAX_JACOBIAN_BYTES)
    if max(widths) <= MAX_EXACT_WIDTH and samples * _cost(widths) <= max_exact:
        cost = budget.jacobian_cost(config, samples, "exact", 0)
        if cost.seconds <= MAX_RUN_SECONDS:
            return SpectrumPlan("exact", samples, 0, cost)
    n0, n_last = widths[0], widths[-1]
    pass_cost = sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    k = int(min(sketch, ESTIMATE_BUDGET / (4.0 * samples * pass_cost) - 8))
    smallest = min(8, n0, n_last)
    k = max(min(k, n0, n_last), smallest)
    cost = budget.jacobian_cost(config, samples, "estimate", k)
    while cost.seconds > MAX_RUN_SECONDS and k > smallest:
        k = max(k // 2, smallest)
        cost = budget.jacobian_cost(config, samples, "estimate", k)
    if cost.seconds > MAX_RUN_SECONDS:
        raise ConfigError(
            f"The Jacobian spectrum of this network is too large to compute here: it would "
            f"take about {cost.seconds:.2g} s of computing, the limit is "
            f"{MAX_RUN_SECONDS:.2g} s. Reduce depth, width or batch_size.",
            ("depth", "width", "widths", "batch_size"), code="too_large",
            amount=cost.seconds, limit=MAX_RUN_SECONDS)
    return SpectrumPlan("estimate", samples, k, cost)


def jacobian_spectrum(config: NetworkConfig, max_exact: float = DEFAULT_MAX_EXACT, *,
                      samples: int = 4, sketch: int = 64,
                      network: Network | None = None) -> JacobianSpectrum:
    """Singular values of ∂out/∂x at the first ``samples`` inputs of the simulator's batch.

    Exact (SVD of the formed J) or a randomized-SVD estimate of the ``sketch`` largest values
    per sample (fewer, down to 8, when ESTIMATE_BUDGET or the time limit requires): see
    ``spectrum_plan``, which prices the run and refuses it (ConfigError, codes
    "jacobian_memory" and "too_large") before any work. Deterministic for a config: the test
    vectors come from the config's seed. ``network`` may be passed to reuse one from
    ``build_network``; it must be fresh (``simulate`` is run on it for LSUV and BatchNorm eval).
    """
    plan = spectrum_plan(config, max_exact, samples=samples, sketch=sketch)
    with np.errstate(all="ignore"):
        layers = _prepare(config, network, plan.samples)
        if plan.method == "exact":
            return _exact(layers, plan.samples)
        return _estimate(config, layers, plan.samples, plan.sketch)


def _nonfinite(samples: int, method: str, sketch: int) -> JacobianSpectrum:
    nan = float("nan")
    return JacobianSpectrum(np.empty(0), method, nan, nan, nan, samples, sketch, True)


def _exact(layers: list[block.LayerJacobian], samples: int) -> JacobianSpectrum:
    values, mean_squares = [], []
    for row in range(samples):
        j = _push(layers, row, None)
        if not np.isfinite(j).all():
            return _nonfinite(samples, "exact", 0)
        s = np.linalg.svd(j, compute_uv=False)
        values.append(s)
        mean_squares.append(float(np.mean(s * s)))
    pooled = np.concatenate(values)
    spread, condition = _summary(pooled)
    return JacobianSpectrum(pooled, "exact", float(np.mean(mean_squares)), spread, condition,
                            samples, 0, not math.isfinite(float(np.mean(mean_squares))))


def _estimate(config: NetworkConfig, layers: list[block.LayerJacobian], samples: int,
              sketch: int) -> JacobianSpectrum:
    widths = config.layer_widths
    n0, n_last = widths[0], widths[-1]
    k = sketch
    # Oversampling (Halko et al.: a few extra vectors) sharpens the k values kept.
    kp = min(k + 8, n0, n_last)
    rng = stream(config.seed, _SKETCH)
    values, mean_squares = [], []
    for row in range(samples):
        omega = rng.standard_normal((n_last, kp))
        y = _pull(layers, row, omega)                    # J Ω (n0, k)
        if not np.isfinite(y).all():
            return _nonfinite(samples, "estimate", k)
        mean_squares.append(float(np.sum(y * y)) / kp / min(n0, n_last))
        q, _ = np.linalg.qr(y)
        z = _push(layers, row, q.T).T                    # Jᵀ Q (n_last, k): power iteration
        q2, _ = np.linalg.qr(z)
        q, _ = np.linalg.qr(_pull(layers, row, q2))      # range of J Jᵀ J Ω
        b = _push(layers, row, q.T)                      # Qᵀ J (k, n_last)
        if not np.isfinite(b).all():
            return _nonfinite(samples, "estimate", k)
        values.append(np.linalg.svd(b, compute_uv=False)[:k])
    pooled = np.concatenate(values)
    spread, condition = _summary(pooled)
    mean_squared = float(np.mean(mean_squares))
    return JacobianSpectrum(pooled, "estimate", mean_squared, spread, condition, samples, k,
                            not math.isfinite(mean_squared))
