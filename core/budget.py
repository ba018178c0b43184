"""What one run costs: seconds of one core and peak bytes, counted from what the run does.

A run (``simulate``) draws the weights, pushes a batch forward, sends the loss gradient back and
summarises every layer. Its time is modelled as a sum of terms, each a count of work times a
coefficient measured on the reference machine (one core, one BLAS thread)::

    seconds = Σ_k  COEFFICIENTS[k] · feature_k(config)

with the features (``features(config)``):

- ``gemm_float32`` / ``gemm_float64``: multiply-adds of the matrix products — forward h·W
  (L layers), ∂W = hᵀ·g (L), ∂h = g·Wᵀ (L − 1), the BatchNorm warm-up forwards in eval mode,
  and the residual projections where widths change (forward and backward);
- ``weights``: Σ fan_in·fan_out, the per-weight passes every run makes (the moments of W and
  ∂W, the products' reads of W); ``weights_<init>``: the same count, for what that init's
  drawing adds (truncated_normal's rejection loop in float64, uniform's float64 draw and cast,
  …); ``weights_float64`` adds what float64 costs more;
- ``qr``: Σ max(m, n)·min(m, n)² over the matrices made orthogonal by a QR (orthogonal and
  lsuv inits, residual projections), ``projections``: the entries of those projections;
- ``elements``: B·Σ n_l, the entries of every layer's output and of the input, for the
  element-wise passes every layer makes (moments of the pre-activation, activation, output and both gradients,
  zero counts, histogram samples); ``act_<activation>``: the same count, for what the run's
  activation adds (its forward and its derivative); ``elements_float64`` adds the float64
  surcharge;
- ``batchnorm``, ``layernorm``, ``dropout``, ``residual``, ``bias``, ``lsuv``: B·Σ n_l again
  for the layers that have that part (normalisation forward and backward, mask drawing and
  both multiplications, the skip sum, the bias add, LSUV's variance passes);
- ``warmup``: bn_passes · B·Σ n_l, the element-wise work of the BatchNorm warm-up forwards,
  ``warmup_exp`` the same for the exp-based activations' extra forward cost;
- ``inputs``: B·(n_0 + n_L), drawing the input batch and the loss target;
  ``inputs_processed``: B·n_0 again for raw features or a z-score / min-max preprocessing;
- ``layers``: L, the fixed Python and NumPy overhead of a layer (≈ 60 calls) and its share of
  the histograms; ``norm_layers``, ``dropout_layers``, ``lsuv_layers``: L again where a layer
  has that part, ``warmup_layers``: bn_passes · L (small networks are all overhead);
  ``constant``: 1.

The coefficients come from ``python bench/fit_budget.py`` (random legal configs, each timed in
one process with one BLAS thread, min of a few repeats; non-negative least squares on the
relative error). ``python bench/bench_budget.py`` checks them on fresh random configs. A
coefficient fitted to 0 (the residual sum, input preprocessing, the zeros init) means that
part's extra cost was lost in the measurement noise next to the shared terms.

Memory (``peak_bytes``) is counted from the arrays a run holds at its peak, not fitted: all
weights, the per-layer arrays the forward pass keeps for the backward pass (the layer output,
the activation, the pre-activation where φ' needs it, the normalised values, the dropout mask),
the histogram samples, and the largest transient (the element-wise temporaries of the widest
layer, one ∂W, a weight draw's float64 scratch). ``tests/core/test_budget.py`` checks it
against tracemalloc's peak in a fresh process.

The functions take any object with NetworkConfig's fields (``layer_widths``, ``batch_size``,
``dtype``, ``activation``, ``init``, ``norm``, ``norm_position``, ``bn_mode``, ``bn_passes``,
``dropout``, ``residual``, ``bias_init``, ``bias_value``, ``bias_std``), so other engines
(training) can price their own steps with ``step_cost``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .activations import ACTIVATIONS

#: Estimated seconds of one core a run may take. A class shares a small server (1–2 cores):
#: at this bound a run that really costs the estimate holds one core for 1.5 s; most lessons
#: cost 0.01–0.4 s (see README, "Budget").
MAX_RUN_SECONDS = 1.5
#: Peak bytes one run may hold: ~2.5 GB for a whole class, two runs at a time and the server
#: itself (≈ 0.3 GB) leave ≈ 0.35 GiB a run; 384 MiB admits the float64 overflow lesson
#: (depth 200, width 256, batch 512: 354 MiB).
MAX_RUN_BYTES = 384 * 2**20

#: Entries per layer and quantity kept for the histograms (core.stats.HISTOGRAM_SAMPLE).
_HISTOGRAM_SAMPLE = 4096
_HISTOGRAM_QUANTITIES = 4

ACTIVATION_FEATURES = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu",
                       "silu", "softplus", "scaled_sigmoid")
INIT_FEATURES = ("zeros", "constant", "normal", "uniform", "truncated_normal", "xavier_uniform",
                 "xavier_normal", "kaiming_uniform", "kaiming_normal", "lecun_normal",
                 "lecun_uniform", "orthogonal", "torch_default", "lsuv")

FEATURE_NAMES: tuple[str, ...] = (
    ("gemm_float32", "gemm_float64", "weights")
    + tuple(f"weights_{name}" for name in INIT_FEATURES)
    + ("weights_float64", "qr", "projections", "elements")
    + tuple(f"act_{name}" for name in ACTIVATION_FEATURES)
    + ("elements_float64", "batchnorm", "layernorm", "dropout", "residual", "bias", "lsuv",
       "warmup", "warmup_exp", "inputs", "inputs_processed", "layers", "norm_layers",
       "dropout_layers", "lsuv_layers", "warmup_layers", "constant")
)

#: Seconds per unit of each feature, one core of the reference machine (2-core AMD EPYC,
#: NumPy 2.4 with OpenBLAS 0.3.31 limited to one thread). Written by bench/fit_budget.py.
# BEGIN FITTED (bench/fit_budget.py: 300 configs, refit from budget_fit_data.csv, 2026-11-30)
COEFFICIENTS: dict[str, float] = {
    'gemm_float32': 1.653e-11,
    'gemm_float64': 4.005e-11,
    'weights': 2.402e-09,
    'weights_zeros': 0,
    'weights_constant': 8.618e-10,
    'weights_normal': 8.949e-09,
    'weights_uniform': 3.293e-09,
    'weights_truncated_normal': 1.817e-08,
    'weights_xavier_uniform': 3.317e-09,
    'weights_xavier_normal': 1.061e-08,
    'weights_kaiming_uniform': 4.407e-09,
    'weights_kaiming_normal': 9.335e-09,
    'weights_lecun_normal': 9.051e-09,
    'weights_lecun_uniform': 5.293e-09,
    'weights_orthogonal': 3.431e-08,
    'weights_torch_default': 3.407e-09,
    'weights_lsuv': 2.377e-08,
    'weights_float64': 1.024e-09,
    'qr': 7.553e-11,
    'projections': 4.062e-08,
    'elements': 4.607e-09,
    'act_identity': 0,
    'act_sigmoid': 3.294e-09,
    'act_tanh': 2.189e-09,
    'act_relu': 5.262e-09,
    'act_leaky_relu': 7.272e-09,
    'act_elu': 6.941e-09,
    'act_selu': 8.067e-09,
    'act_gelu': 1.867e-08,
    'act_silu': 1.363e-08,
    'act_softplus': 6.674e-09,
    'act_scaled_sigmoid': 5.763e-09,
    'elements_float64': 6.512e-09,
    'batchnorm': 7.83e-09,
    'layernorm': 6.239e-09,
    'dropout': 3.729e-09,
    'residual': 0,
    'bias': 1.521e-09,
    'lsuv': 9.1e-09,
    'warmup': 7.136e-09,
    'warmup_exp': 5.597e-09,
    'inputs': 4.339e-09,
    'inputs_processed': 0,
    'layers': 0.0002932,
    'norm_layers': 3.672e-05,
    'dropout_layers': 1.755e-05,
    'lsuv_layers': 0.0001586,
    'warmup_layers': 3.078e-05,
    'constant': 0.002215,
}
# END FITTED

#: Activations whose derivative needs the pre-activation (no derivative_from_output): the
#: forward pass keeps z as well as φ(z).
_KEEPS_PREACTIVATION = frozenset(name for name, activation in ACTIVATIONS.items()
                                 if activation.derivative_from_output is None)
#: Activations computed through exp/erf polynomials: their forward costs ≈ 3× tanh's, which
#: matters in the BatchNorm warm-up passes (forward only).
_EXP_ACTIVATIONS = frozenset({"elu", "selu", "gelu", "silu", "softplus"})
#: Element-wise temporaries alive at once, in arrays of the widest layer (batch × n), by
#: activation: measured with tracemalloc (GELU's erf polynomial and its derivative make the
#: most), rounded up by ≈ 0.5.
_TRANSIENTS = {"identity": 3.5, "relu": 4.0, "sigmoid": 4.5, "tanh": 4.5, "scaled_sigmoid": 4.5,
               "leaky_relu": 5.5, "elu": 5.0, "selu": 5.0, "softplus": 7.0, "silu": 8.0,
               "gelu": 10.0}
#: Scratch bytes per weight while one matrix is drawn, beyond the matrix itself (tracemalloc):
#: float64 draws cast down, truncated_normal's float64 rejection buffers, the QR's factors.
_UNIFORMS = ("uniform", "xavier_uniform", "kaiming_uniform", "lecun_uniform", "torch_default")
_DRAW_SCRATCH = {**{("float32", name): 8 for name in _UNIFORMS},
                 ("float32", "truncated_normal"): 18, ("float64", "truncated_normal"): 18,
                 ("float32", "orthogonal"): 28, ("float64", "orthogonal"): 32,
                 ("float32", "lsuv"): 28, ("float64", "lsuv"): 32}
#: Bytes a layer holds besides its arrays (its statistics row, caches, running statistics),
#: and a run besides its layers (the result's DataFrame, histogram counts), rounded up.
_LAYER_BYTES = 48 * 2**10
_RUN_BYTES = 2**20


@dataclass(frozen=True)
class Cost:
    """An estimate: ``seconds`` of one core, ``peak_bytes`` held at once, and the seconds by
    part (``parts``: "weights", "matrix products", "element-wise", "overhead")."""

    seconds: float
    peak_bytes: float
    parts: Mapping[str, float] = field(default_factory=dict)


def _itemsize(config: Any) -> int:
    return 8 if config.dtype == "float64" else 4


def _pairs(config: Any) -> list[tuple[int, int]]:
    n = config.layer_widths
    return list(zip(n[:-1], n[1:]))


def _has_bias(config: Any) -> bool:
    return (config.init == "torch_default"
            or (config.bias_init == "constant" and config.bias_value != 0.0)
            or (config.bias_init == "normal" and config.bias_std > 0.0))


def _processed_inputs(config: Any) -> bool:
    return config.input_dist == "raw" or config.input_preprocess != "none"


def _warmup_passes(config: Any) -> int:
    return config.bn_passes if config.norm == "batchnorm" and config.bn_mode == "eval" else 0


def _step_features(config: Any, batch: int) -> dict[str, float]:
    """Features of one forward and backward pass with its per-layer statistics (no weights
    drawn, no BatchNorm warm-up)."""
    n = config.layer_widths
    pairs = _pairs(config)
    products = sum(a * b for a, b in pairs)
    # Forward h·W and ∂W = hᵀ·g for every layer, ∂h = g·Wᵀ for all but the first.
    macs = batch * (3.0 * products - n[0] * n[1])
    if config.residual:  # the projections where widths change, forward and backward
        macs += 2.0 * batch * sum(a * b for a, b in pairs if a != b)
    elements = float(batch) * sum(n[1:])
    f = dict.fromkeys(FEATURE_NAMES, 0.0)
    f[f"gemm_{config.dtype}"] = macs
    f["elements"] = elements + float(batch) * n[0]  # the input's statistics are a layer's
    f[f"act_{config.activation}"] = elements
    if config.dtype == "float64":
        f["elements_float64"] = elements
    if config.norm != "none":
        f[config.norm] = elements
    if config.dropout > 0.0:
        f["dropout"] = elements
    if config.residual:
        f["residual"] = elements
    if _has_bias(config):
        f["bias"] = elements
    f["inputs"] = float(batch) * (n[0] + n[-1])
    if _processed_inputs(config):
        f["inputs_processed"] = float(batch) * n[0]
    f["layers"] = float(len(pairs))
    if config.norm != "none":
        f["norm_layers"] = float(len(pairs))
    if config.dropout > 0.0:
        f["dropout_layers"] = float(len(pairs))
    return f


def features(config: Any) -> dict[str, float]:
    """The counts the time model multiplies by COEFFICIENTS (see the module docstring)."""
    f = _step_features(config, config.batch_size)
    pairs = _pairs(config)
    products = float(sum(a * b for a, b in pairs))
    f["weights"] = products
    f[f"weights_{config.init}"] = products
    if config.dtype == "float64":
        f["weights_float64"] = products
    qr = 0.0
    if config.init in ("orthogonal", "lsuv"):
        qr += sum(max(a, b) * min(a, b) ** 2 for a, b in pairs)
    if config.residual:
        changed = [(a, b) for a, b in pairs if a != b]
        qr += sum(max(a, b) * min(a, b) ** 2 for a, b in changed)
        f["projections"] = float(sum(a * b for a, b in changed))
    f["qr"] = float(qr)
    elements = float(config.batch_size) * sum(config.layer_widths[1:])
    if config.init == "lsuv":
        f["lsuv"] = elements
        f["lsuv_layers"] = float(len(pairs))
    passes = _warmup_passes(config)
    if passes:
        f[f"gemm_{config.dtype}"] += passes * config.batch_size * products
        f["warmup"] = passes * elements
        if config.activation in _EXP_ACTIVATIONS:
            f["warmup_exp"] = passes * elements
        f["warmup_layers"] = float(passes * len(pairs))
        f["inputs"] += passes * float(config.batch_size) * config.layer_widths[0]
        f["inputs_processed"] *= 1 + passes
    f["constant"] = 1.0
    return f


def _seconds(f: Mapping[str, float]) -> dict[str, float]:
    parts = {"weights": 0.0, "matrix products": 0.0, "element-wise": 0.0, "overhead": 0.0}
    for name, count in f.items():
        if not count:
            continue
        seconds = COEFFICIENTS[name] * count
        if name.startswith("gemm_"):
            parts["matrix products"] += seconds
        elif name.startswith("weights_") or name in ("qr", "projections"):
            parts["weights"] += seconds
        elif name == "constant" or name.endswith("layers"):
            parts["overhead"] += seconds
        else:
            parts["element-wise"] += seconds
    return parts


def kept_arrays(config: Any) -> int:
    """Batch × n_l arrays a layer keeps for the backward pass: its output, plus z where φ'
    needs it (unless z is the normalised array, kept anyway), the normalised values, the dropout
    mask and masked branch, the residual sum (one fewer with dropout: the masked branch is then
    a temporary)."""
    kept = 1
    if config.norm != "none":
        kept += 1
    if config.activation in _KEEPS_PREACTIVATION and not (
            config.norm != "none" and config.norm_position == "before"):
        kept += 1
    if config.dropout > 0.0:
        kept += 2
    if config.residual:
        kept += 0 if config.dropout > 0.0 else 1
    return kept


def peak_bytes(config: Any, batch: int | None = None, *, statistics: bool = True) -> float:
    """Bytes a run holds at its peak (module docstring); ``batch`` overrides batch_size.

    peak = Σ W + max(scratch of the largest draw,
                     2·∂W + kept·B·Σ_{l≥1} n_l + B·n_0 + transients·B·max n + samples)
           + bytes per layer · L + bytes per run
    """
    batch = config.batch_size if batch is None else batch
    size = _itemsize(config)
    n = config.layer_widths
    pairs = _pairs(config)
    largest = max(a * b for a, b in pairs)
    weights = sum(a * b for a, b in pairs)
    scratch = _DRAW_SCRATCH.get((config.dtype, config.init), 0) * largest
    if config.residual:
        projections = [a * b for a, b in pairs if a != b]
        weights += sum(projections)
        scratch = max([scratch] + [_DRAW_SCRATCH[(config.dtype, "orthogonal")] * p
                                   for p in projections])
    transients = (_TRANSIENTS[config.activation] + (1.0 if config.residual else 0.0)
                  + (1.0 if config.dropout > 0.0 else 0.0))
    run = (2 * size * largest                               # one ∂W and its centred copy
           + size * batch * (kept_arrays(config) * sum(n[1:]) + n[0])
           + size * transients * batch * max(n))
    if statistics:
        # Histogram samples (float64, 4 quantities) and the positions computed from them.
        total_samples = _HISTOGRAM_QUANTITIES * len(n) * _HISTOGRAM_SAMPLE
        run += 8 * 1.5 * total_samples
    return float(size * weights + max(scratch, run) + _LAYER_BYTES * len(pairs) + _RUN_BYTES)


def simulation_cost(config: Any) -> Cost:
    """The estimated cost of ``simulate(config)``: drawing the weights, the BatchNorm warm-up,
    one forward and one backward pass, every statistic and histogram."""
    parts = _seconds(features(config))
    return Cost(seconds=sum(parts.values()), peak_bytes=peak_bytes(config), parts=parts)


def step_cost(config: Any, batch_size: int | None = None) -> Cost:
    """The estimated cost of one forward + backward step of the config's network on a batch
    of ``batch_size`` (default: the config's): matrix products and element-wise passes with
    per-layer statistics, no weight drawing, no BatchNorm warm-up. A training engine
    multiplies ``seconds`` by its number of steps and adds ``simulation_cost``'s "weights"
    part once; ``peak_bytes`` counts the weights, one set of gradients and the kept arrays."""
    batch = config.batch_size if batch_size is None else batch_size
    parts = _seconds(_step_features(config, batch))
    return Cost(seconds=sum(parts.values()), peak_bytes=peak_bytes(config, batch,
                                                                   statistics=False),
                parts=parts)


def matrix_product_seconds(multiply_adds: float, dtype: str = "float32") -> float:
    """Seconds for ``multiply_adds`` of matrix products (the fitted GEMM rate)."""
    return COEFFICIENTS[f"gemm_{dtype}"] * multiply_adds
