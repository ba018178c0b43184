"""What a computation costs: seconds of one core and peak bytes, counted from what it does.

One model prices every request a page makes — a simulation (``simulation_cost``), a training
run (``training_cost``) and a Jacobian spectrum (``jacobian_cost``) — in one unit, estimated
seconds of one core, as a sum of terms, each a count of work times a coefficient measured on
the reference machine (one core, one BLAS thread)::

    seconds = Σ_k  COEFFICIENTS[k] · feature_k

with one table of coefficients: the counts a computation shares with another (multiply-adds,
an activation's entries, the weights drawn) have one coefficient; training and the spectrum add
their own counts (``training_features``, ``jacobian_features``: per step, layer, parameter,
record and evaluated point; the chain, SVD and QR). The limits are ``MAX_RUN_SECONDS`` (a
simulation, a spectrum) and ``MAX_TRAIN_SECONDS`` (a training run), in the same unit.

A simulation (``simulate``) draws the weights, pushes a batch forward, sends the loss gradient
back and summarises every layer; its features (``features(config)``):

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
relative error; ``--kind training`` / ``--kind jacobian`` fit only that computation's own
features, the shared ones held). ``python bench/bench_budget.py`` checks them on fresh random
computations of every kind. A
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
#: Estimated seconds of one core a training run (one set-up of the Train page) may take: the
#: same model and unit as MAX_RUN_SECONDS. Larger, because a simulation answers a slider move
#: (the class waits for it) while a training run is started once, on purpose, and shows its
#: progress. The lessons cost 0.05–0.6 s a set-up and the default pair (depth 10 × 256, 500
#: steps) ≈ 1.3 s; at 10 s the default network trains ≈ 5,000 steps, depth 10 × 64 ≈ 25,000,
#: and a page of 4 set-ups at the limit holds a core ≤ 80 s (measured/estimated ≤ 2), where
#: the multiply-add budget it replaces let one set-up run for 10 minutes.
MAX_TRAIN_SECONDS = 10.0
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

#: What training adds (``training_features``): per step, per layer and step, per parameter and
#: step, per record, per evaluated entry. Fitted on timed ``train`` runs, the simulation's
#: coefficients held (``bench/fit_budget.py --kind training``).
TRAIN_FEATURES: tuple[str, ...] = (
    "train_constant", "train_points", "train_steps", "train_layer_steps",
    "train_batchnorm_layer_steps", "train_layernorm_layer_steps", "train_dropout_layer_steps",
    "train_residual_layer_steps", "train_entries", "train_entries_float64", "train_batchnorm",
    "train_layernorm", "train_dropout", "train_residual", "train_params",
    "train_params_float64", "train_params_momentum", "train_params_adam", "train_params_l1",
    "train_params_l2", "train_params_clip", "train_records", "train_record_layers",
    "train_record_params", "train_eval_entries", "train_eval_norm", "train_stat_entries",
    "train_rows", "train_eval_rows", "train_batch_points", "train_eval_points",
    "train_act_float64", "train_act_calls", "train_snapshots", "train_step_calls",
    "train_block_passes",
)
#: What a Jacobian spectrum adds (``jacobian_features``), fitted likewise
#: (``bench/fit_budget.py --kind jacobian``).
JACOBIAN_FEATURES: tuple[str, ...] = (
    "jac_constant", "jac_weights", "jac_entries", "jac_mask_entries", "jac_layers",
    "jac_chain_entries", "jac_layernorm_entries", "jac_layer_samples", "jac_svd", "jac_qr",
    "jac_inputs", "jac_act_calls",
)

FEATURE_NAMES: tuple[str, ...] = (
    ("gemm_float32", "gemm_float64", "weights")
    + tuple(f"weights_{name}" for name in INIT_FEATURES)
    + ("weights_float64", "qr", "projections", "elements")
    + tuple(f"act_{name}" for name in ACTIVATION_FEATURES)
    + ("elements_float64", "batchnorm", "layernorm", "dropout", "residual", "bias", "lsuv",
       "warmup", "warmup_exp", "inputs", "inputs_processed", "layers", "norm_layers",
       "dropout_layers", "lsuv_layers", "warmup_layers", "constant")
    + TRAIN_FEATURES + JACOBIAN_FEATURES
)

#: Seconds per unit of each feature, one core of the reference machine (2-core AMD EPYC,
#: NumPy 2.4 with OpenBLAS 0.3.31 limited to one thread). Written by bench/fit_budget.py.
# BEGIN FITTED (bench/fit_budget.py)
# FIT jacobian: 100 runs, refit from budget_fit_jacobian.csv, expectile 0.8, 2026-12-07
# FIT simulation: 300 configs, refit from budget_fit_data.csv, 2026-11-30
# FIT training: 357 runs, refit from budget_fit_training.csv, expectile 0.8, 2026-12-07
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
    'train_constant': 0.001752,
    'train_points': 2.371e-07,
    'train_steps': 1.931e-05,
    'train_layer_steps': 1.564e-05,
    'train_batchnorm_layer_steps': 6.069e-05,
    'train_layernorm_layer_steps': 5.886e-05,
    'train_dropout_layer_steps': 5.193e-06,
    'train_residual_layer_steps': 0,
    'train_entries': 6.757e-10,
    'train_entries_float64': 1.484e-09,
    'train_batchnorm': 1.631e-08,
    'train_layernorm': 0,
    'train_dropout': 7.681e-09,
    'train_residual': 6.279e-09,
    'train_params': 5.731e-10,
    'train_params_float64': 3.208e-09,
    'train_params_momentum': 0,
    'train_params_adam': 2.683e-09,
    'train_params_l1': 3.406e-09,
    'train_params_l2': 0,
    'train_params_clip': 0,
    'train_records': 4.213e-05,
    'train_record_layers': 5.262e-05,
    'train_record_params': 8.9e-09,
    'train_eval_entries': 0,
    'train_eval_norm': 2.289e-09,
    'train_stat_entries': 2.851e-09,
    'train_rows': 3.573e-08,
    'train_eval_rows': 0,
    'train_batch_points': 5.016e-08,
    'train_eval_points': 2.544e-08,
    'train_act_float64': 0,
    'train_act_calls': 1.958e-07,
    'train_snapshots': 0,
    'train_step_calls': 0,
    'train_block_passes': 2.154e-05,
    'jac_constant': 0.0004896,
    'jac_weights': 9.617e-09,
    'jac_entries': 5.831e-09,
    'jac_mask_entries': 4.605e-09,
    'jac_layers': 5.305e-05,
    'jac_chain_entries': 0,
    'jac_layernorm_entries': 7.26e-09,
    'jac_layer_samples': 6.064e-06,
    'jac_svd': 1.233e-10,
    'jac_qr': 3.096e-10,
    'jac_inputs': 7.673e-09,
    'jac_act_calls': 5.448e-07,
}
# END FITTED

#: Microseconds of φ and φ' on a tiny array (4 × 8, float32; one core of the reference machine):
#: the fixed cost of their NumPy calls, which a narrow layer pays whatever its size (GELU's erf
#: polynomial is ≈ 20 calls). Measured once; ``train_act_calls`` counts layer-steps × this.
_ACTIVATION_CALL_US = {"identity": 1.3, "sigmoid": 25.2, "tanh": 1.7, "relu": 8.1,
                       "leaky_relu": 17.2, "elu": 25.9, "selu": 28.8, "gelu": 169.4,
                       "silu": 53.7, "softplus": 22.3, "scaled_sigmoid": 22.3}
#: NumPy calls a step's update makes on the whole parameter vector, by part (core/optim.py):
#: the fixed cost of a step, whatever its size.
_STEP_CALLS = {"sgd": 2, "momentum": 4, "adam": 13, "l1": 3, "l2": 2, "norm": 1, "value": 4}
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


def _pre_form(config: Any) -> bool:
    return bool(config.residual) and getattr(config, "residual_form", "post") == "pre"


def _branch_widths(config: Any) -> tuple[int, ...]:
    """The width φ and the norm act on in each layer: its output (no residual, or the post
    form), or its input (the pre form, φ(Norm(h)) W + b: the linear map ends the branch)."""
    n = config.layer_widths
    return tuple(n[:-1]) if _pre_form(config) else tuple(n[1:])


def _projection_products(config: Any) -> int:
    """Σ n_{l−1}·n_l over the residual projections (the layers whose width changes)."""
    return sum(a * b for a, b in _pairs(config) if a != b) if config.residual else 0


def _step_features(config: Any, batch: int) -> dict[str, float]:
    """Features of one forward and backward pass with its per-layer statistics (no weights
    drawn, no BatchNorm warm-up)."""
    n = config.layer_widths
    pairs = _pairs(config)
    products = sum(a * b for a, b in pairs)
    # Forward h·W and ∂W = hᵀ·g for every layer, ∂h = g·Wᵀ for all but the first.
    macs = batch * (3.0 * products - n[0] * n[1])
    # The projections where widths change, forward and backward.
    macs += 2.0 * batch * _projection_products(config)
    elements = float(batch) * sum(n[1:])
    branch = float(batch) * sum(_branch_widths(config))
    f = dict.fromkeys(FEATURE_NAMES, 0.0)
    f[f"gemm_{config.dtype}"] = macs
    f["elements"] = elements + float(batch) * n[0]  # the input's statistics are a layer's
    f[f"act_{config.activation}"] = branch
    if config.dtype == "float64":
        f["elements_float64"] = elements
    if config.norm != "none":
        f[config.norm] = branch
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
    branch = float(config.batch_size) * sum(_branch_widths(config))
    if config.init == "lsuv":
        f["lsuv"] = elements
        f["lsuv_layers"] = float(len(pairs))
    passes = _warmup_passes(config)
    if passes:
        f[f"gemm_{config.dtype}"] += passes * config.batch_size * products
        f["warmup"] = passes * elements
        if config.activation in _EXP_ACTIVATIONS:
            f["warmup_exp"] = passes * branch
        f["warmup_layers"] = float(passes * len(pairs))
        f["inputs"] += passes * float(config.batch_size) * config.layer_widths[0]
        f["inputs_processed"] *= 1 + passes
    f["constant"] = 1.0
    return f


#: Features that are a computation's fixed costs (Python and NumPy calls), whatever the sizes.
_OVERHEAD = frozenset({"constant", "train_constant", "jac_constant", "train_steps",
                       "train_records", "jac_layer_samples"})


def _seconds(f: Mapping[str, float]) -> dict[str, float]:
    """Seconds by part: "weights" (drawing them), "matrix products", "element-wise",
    "parameters" (training's per-parameter passes: optimizer, clipping, norms), "evaluation"
    (training's recorded evaluations and statistics), "decompositions" (the Jacobian's SVD and
    QR) and "overhead" (per run, step, layer and record)."""
    parts = {"weights": 0.0, "matrix products": 0.0, "element-wise": 0.0, "parameters": 0.0,
             "evaluation": 0.0, "decompositions": 0.0, "overhead": 0.0}
    for name, count in f.items():
        if not count:
            continue
        seconds = COEFFICIENTS[name] * count
        if name.startswith("gemm_"):
            parts["matrix products"] += seconds
        elif name == "weights" or name.startswith("weights_") or name in ("qr", "projections"):
            parts["weights"] += seconds
        elif name in _OVERHEAD or name.endswith(("layers", "layer_steps")):
            parts["overhead"] += seconds
        elif name.startswith(("train_params", "train_record_params")):
            parts["parameters"] += seconds
        elif name.startswith(("train_eval", "train_stat")):
            parts["evaluation"] += seconds
        elif name in ("jac_svd", "jac_qr"):
            parts["decompositions"] += seconds
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
    per-layer statistics, no weight drawing, no BatchNorm warm-up: the simulation's pass, with
    its statistics (the training engine's steps are priced by ``training_cost``, which counts
    what a training step does). ``peak_bytes`` counts the weights, one set of gradients and
    the kept arrays."""
    batch = config.batch_size if batch_size is None else batch_size
    parts = _seconds(_step_features(config, batch))
    return Cost(seconds=sum(parts.values()), peak_bytes=peak_bytes(config, batch,
                                                                   statistics=False),
                parts=parts)


def matrix_product_seconds(multiply_adds: float, dtype: str = "float32") -> float:
    """Seconds for ``multiply_adds`` of matrix products (the fitted GEMM rate)."""
    return COEFFICIENTS[f"gemm_{dtype}"] * multiply_adds


# Training ---------------------------------------------------------------------------------

def _weight_features(config: Any) -> dict[str, float]:
    """The simulation's features of drawing the network (``build_network``) alone."""
    f = features(config)
    kept = ("weights", "weights_float64", "qr", "projections",
            *(f"weights_{name}" for name in INIT_FEATURES))
    return {name: (f[name] if name in kept else 0.0) for name in FEATURE_NAMES}


def training_records(train_config: Any) -> int:
    """Recorded steps of a run: 0, k, 2k, … below ``steps``, and ``steps`` itself."""
    steps, every = train_config.steps, train_config.record_every
    return -(-steps // every) + 1


def training_features(config: Any, train_config: Any, *, snapshots: int,
                      snapshot_points: int) -> dict[str, float]:
    """The counts of ``train(config, train_config)``; ``config`` has the training widths
    (n_0 = the data's features … n_L = 1 output): layers 1 … L − 1 are the config's block,
    layer L the linear head.

    With P = Σ n_{l−1}·n_l (+ biases Σ n_l: the parameters), S = steps + 1 passes (the last
    computes the gradient without an update), B = batch, R = records (``training_records``),
    E = R·n_points + snapshots·grid points (+ n_train for LSUV's calibration), the rows of the
    evaluation passes (forward only)::

        gemm        S·B·(3·Σ n_{l−1}n_l − n_0 n_1 + 2·proj) + E·(Σ n_{l−1}n_l + proj)
        act_φ       S·B·Σ b_l + E·Σ b_l / 2         (b: φ's widths; forward alone ≈ half)
        entries     S·B·Σ n_l, norm / dropout / residual entries likewise, per layer part
        steps       S, S·L per layer, S·(L − 1) per norm / dropout / residual layer
        params      S·P, and per optimizer, l1, l2, clipping
        records     R, R·L, R·P (norms, update ratios), E·Σ n_l (evaluation),
                    R·n_train·Σ n_l (the activation statistics)

    plus drawing the weights (the simulation's per-init weight features) and the data set.
    """
    n = config.layer_widths
    pairs = _pairs(config)
    depth = len(pairs)
    hidden = depth - 1
    products = float(sum(a * b for a, b in pairs))
    parameters = products + float(sum(n[1:]))
    # The block runs over layers 1 … L − 1 (widths n_0 … n_{L−1}); the head is linear only.
    hidden_widths = tuple(n[:-1])
    hidden_out = float(sum(hidden_widths[1:]))
    branch = float(sum(hidden_widths[:-1] if _pre_form(config) else hidden_widths[1:]))
    projections = 0.0
    if config.residual:
        projections = float(sum(a * b for a, b in zip(hidden_widths[:-1], hidden_widths[1:])
                                if a != b))
    units = float(sum(n[1:]))
    tc = train_config
    passes = float(tc.steps + 1)
    updates = float(tc.steps)
    batch = float(tc.batch_size)
    records = float(training_records(tc))
    n_train = float(tc.n_train)
    evaluated = records * tc.n_points + min(records, snapshots) * snapshot_points
    if config.init == "lsuv":
        evaluated += n_train

    f = _weight_features(config)
    f[f"gemm_{config.dtype}"] = (passes * batch * (3.0 * products - n[0] * n[1]
                                                    + 2.0 * projections)
                                 + evaluated * (products + projections))
    f[f"act_{config.activation}"] = (passes * batch + 0.5 * evaluated) * branch
    f["train_constant"] = 1.0
    f["train_points"] = float(tc.n_points)
    f["train_steps"] = passes
    f["train_layer_steps"] = passes * depth
    f["train_entries"] = passes * batch * units
    if config.dtype == "float64":
        f["train_entries_float64"] = (passes * batch + evaluated) * units
        f["train_params_float64"] = passes * parameters
    if hidden and config.norm != "none":
        f[f"train_{config.norm}_layer_steps"] = passes * hidden
        f[f"train_{config.norm}"] = passes * batch * branch
        f["train_eval_norm"] = evaluated * branch
    if hidden and config.dropout > 0.0:
        f["train_dropout_layer_steps"] = passes * hidden
        f["train_dropout"] = passes * batch * hidden_out
    if hidden and config.residual:
        f["train_residual_layer_steps"] = passes * hidden
        f["train_residual"] = passes * batch * hidden_out
    f["train_params"] = passes * parameters
    if tc.optimizer != "sgd":
        f[f"train_params_{tc.optimizer}"] = updates * parameters
    if tc.l1 > 0.0:
        f["train_params_l1"] = passes * parameters
    if tc.l2 > 0.0:
        f["train_params_l2"] = updates * parameters
    if tc.clip != "none":
        f["train_params_clip"] = passes * parameters
    f["train_records"] = records
    f["train_snapshots"] = min(records, snapshots)
    f["train_record_layers"] = (records + min(records, snapshots)) * depth
    # Per row and layer: reductions over the batch axis and narrow arrays cost by the row,
    # not by the entry (a width-2 layer's bias gradient reads 2 entries a row).
    f["train_rows"] = passes * batch * depth
    f["train_eval_rows"] = evaluated * depth
    # Per point: drawing the batch (a new epoch's permutation), the loss and its gradient;
    # the evaluations' losses and accuracies.
    f["train_batch_points"] = passes * batch
    f["train_eval_points"] = evaluated
    if config.dtype == "float64":
        f["train_act_float64"] = (passes * batch + 0.5 * evaluated) * branch
    # φ and φ' of every hidden layer and step, φ alone in the evaluations.
    f["train_act_calls"] = ((passes + 0.5 * (records + min(records, snapshots))) * hidden
                            * _ACTIVATION_CALL_US[config.activation])
    f["train_record_params"] = records * parameters
    f["train_eval_entries"] = evaluated * units
    f["train_stat_entries"] = records * n_train * units
    calls = _STEP_CALLS[tc.optimizer] + (_STEP_CALLS["l1"] if tc.l1 > 0.0 else 0) + (
        _STEP_CALLS["l2"] if tc.l2 > 0.0 else 0) + _STEP_CALLS.get(tc.clip, 0)
    f["train_step_calls"] = passes * calls
    if hidden:
        # A pass through core.block (its op list built, the recorders, the caches): the
        # training step's forward and backward, and each evaluation's two forwards and the
        # snapshot's; a depth-1 network (the head alone) skips it.
        f["train_block_passes"] = 2.0 * passes + 2.0 * records + min(records, snapshots)
    if config.init == "lsuv":  # the calibration pass over the training split
        f["lsuv"] = n_train * units
        f["lsuv_layers"] = float(depth)
    return f


def training_memory(config: Any, train_config: Any, *, snapshots: int,
                    snapshot_points: int) -> float:
    """Bytes: parameters × 5 (values, gradient, two optimizer buffers, the update), ≈ 6 kept
    arrays of batch × width a layer, the evaluation pass over the larger split and the grid, and
    the recorded rows (≈ 16 float64 numbers per layer and record) and snapshots."""
    n = config.layer_widths
    parameters = sum(a * b for a, b in _pairs(config)) + sum(n[1:])
    kept = 6.0 * train_config.batch_size * sum(n)
    evaluation = 4.0 * max(train_config.n_points, snapshot_points) * max(n)
    records = training_records(train_config)
    recorded = 16.0 * 8 * records * len(n) + 8.0 * snapshots * snapshot_points
    return (5.0 * parameters + kept + evaluation) * _itemsize(config) + recorded


def training_cost(config: Any, train_config: Any) -> Cost:
    """The estimated cost of ``train(config, train_config)``, ``config`` with the training
    widths (core.train_config.training_network_config): seconds of one core from
    ``training_features`` and the one table of COEFFICIENTS, and peak bytes."""
    from .train_config import MAX_SNAPSHOTS, SNAPSHOT_GRID  # (imports this module)
    counts = dict(snapshots=MAX_SNAPSHOTS, snapshot_points=SNAPSHOT_GRID ** 2)
    parts = _seconds(training_features(config, train_config, **counts))
    return Cost(seconds=sum(parts.values()),
                peak_bytes=training_memory(config, train_config, **counts), parts=parts)


# The Jacobian spectrum ----------------------------------------------------------------------

def _needs_simulation(config: Any) -> bool:
    """LSUV's calibration and BatchNorm's eval-mode running statistics come from a simulate
    run (core.jacobian._prepare)."""
    return config.init == "lsuv" or _warmup_passes(config) > 0


def jacobian_features(config: Any, samples: int, method: str, sketch: int) -> dict[str, float]:
    """The counts of a Jacobian spectrum (core.jacobian): drawing the network (or a whole
    simulation, for LSUV or BatchNorm in eval mode), the float64 copy of the weights and the
    forward pass of the rows it needs (the whole batch for BatchNorm in train mode), then per
    sample either the exact chain J = A_1 ⋯ A_L (n_0 rows through every layer: n_0·Σ n_{l−1}n_l
    multiply-adds, an element-wise pass per map) and its SVD (n_0·n_L·min(n_0, n_L)), or the
    estimate: 4 passes of k' = min(sketch + 8, n_0, n_L) vectors, three QRs and a k' × n_L
    SVD."""
    n = config.layer_widths
    pairs = _pairs(config)
    depth = len(pairs)
    products = float(sum(a * b for a, b in pairs) + _projection_products(config))
    units = float(sum(n[1:]))
    passes = _warmup_passes(config)
    if _needs_simulation(config):
        f = features(config)
    else:
        f = _weight_features(config)
        f["inputs"] = float(config.batch_size) * n[0]
    f["inputs"] += (passes + 1.0) * config.batch_size * n[0] if passes else 0.0
    batch_norm_train = config.norm == "batchnorm" and not passes
    rows = float(config.batch_size if batch_norm_train else samples)
    branch = float(sum(_branch_widths(config)))
    f["jac_constant"] = 1.0
    f["jac_weights"] = products
    f["gemm_float64"] += rows * products
    f[f"act_{config.activation}"] += 0.5 * rows * branch
    f["jac_entries"] = rows * units
    if config.dropout > 0.0:
        f["jac_mask_entries"] = float(config.batch_size) * units * (1 + passes)
    f["jac_layers"] = float(depth)
    f["jac_inputs"] = float(config.batch_size) * n[0]  # the input batch, copied to float64
    # φ on the forward rows and φ' for the per-sample maps, each layer: their fixed calls.
    f["jac_act_calls"] = depth * _ACTIVATION_CALL_US[config.activation]
    # Element-wise maps per layer besides the product by W: φ', the norm, the dropout mask,
    # the residual sum.
    maps = 1.0 + (config.dropout > 0.0) + bool(config.residual)
    if config.norm == "batchnorm":
        maps += 1.0
    n0, n_last = n[0], n[-1]
    if method == "exact":
        vectors, chains = float(n0), 1.0
        f["jac_svd"] = samples * float(n0) * n_last * min(n0, n_last)
    else:
        kept = float(min(sketch + 8, n0, n_last))
        vectors, chains = kept, 4.0
        f["jac_qr"] = samples * kept * kept * (2.0 * n0 + n_last)
        f["jac_svd"] = samples * kept * kept * n_last
    f["gemm_float64"] += samples * chains * vectors * products
    f["jac_chain_entries"] = samples * chains * vectors * units * maps
    if config.norm == "layernorm":
        f["jac_layernorm_entries"] = samples * chains * vectors * branch
    f["jac_layer_samples"] = samples * chains * depth
    return f


def jacobian_cost(config: Any, samples: int, method: str, sketch: int) -> Cost:
    """The estimated cost of a Jacobian spectrum by ``method`` ("exact" or "estimate" with
    ``sketch`` values), from ``jacobian_features`` and the one table of COEFFICIENTS; peak
    bytes: the weights and their float64 copies."""
    parts = _seconds(jacobian_features(config, samples, method, sketch))
    n = config.layer_widths
    weights = float(sum(a * b for a, b in _pairs(config)) + _projection_products(config))
    return Cost(seconds=sum(parts.values()), peak_bytes=weights * (_itemsize(config) + 8),
                parts=parts)
