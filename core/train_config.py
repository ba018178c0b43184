"""TrainConfig: how a network is trained (data, optimizer, regularisation, steps), validated on
construction, and the joint checks of a (NetworkConfig, TrainConfig) pair.

Like NetworkConfig, one declarative table (``TRAIN_FIELD_SPECS``, built from the dataclass
fields' metadata) gives each field's kind, range or choices and default; validation and the
query-string codec read it.

A TrainConfig alone does not know the network, so the budget is checked on the pair:
``check_budget(config, train_config)`` (called by ``train`` before any work, and by pages before
they start a run) refuses a run whose estimated seconds (core.budget's one model, the unit of
every budget) or memory are over the limits, with a ConfigError like NetworkConfig's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from . import budget
from .config import MAX_MEMORY_BYTES, ConfigError, FieldSpec, NetworkConfig, _spec

#: Estimated seconds of one core a training run may take: core.budget's one model and unit
#: (``MAX_TRAIN_SECONDS``, see there why it is larger than a simulation's).
MAX_TRAIN_SECONDS = budget.MAX_TRAIN_SECONDS

#: Name → (task, what it is). The 2-D sets are TensorFlow Playground's generators
#: (src/dataset.ts): labels 1 / 0 for Playground's +1 / −1; regression targets in about [−1, 1].
DATASETS: dict[str, tuple[str, str]] = {
    "circle": ("classification", "a disc of radius 2.5 inside a ring 3.5–5"),
    "xor": ("classification", "the four quadrants, label = sign(x·y)"),
    "gauss": ("classification", "two Gaussians around (2, 2) and (−2, −2)"),
    "spiral": ("classification", "two interleaved spirals, 1.75 turns"),
    "reg_plane": ("regression", "target (x + y)/10 on the square [−6, 6]²"),
    "reg_gauss": ("regression", "six signed bumps, target in [−1, 1]"),
}
DATASET_NAMES: tuple[str, ...] = tuple(DATASETS)
#: Features of every dataset (the Playground sets are 2-D) and outputs (one logit or value).
N_FEATURES = 2
N_OUTPUTS = 1

#: Decision-function snapshots: at most this many, on a GRID × GRID grid (2-D datasets).
MAX_SNAPSHOTS = 26
SNAPSHOT_GRID = 32


@dataclass(frozen=True)
class TrainConfig:
    """How the network is trained.

    Data: ``n_points`` points of ``dataset`` with Playground's ``noise`` (0–0.5), shuffled with
    ``seed`` and split into the first ``round(train_fraction·n_points)`` (training) and the rest
    (test); every raw feature x_j becomes ``feature_scale``·x_j + ``feature_shift`` (badly scaled
    inputs; NetworkConfig.input_preprocess fixes them with training-split statistics).

    Steps: ``steps`` updates of ``optimizer`` with learning rate ``lr`` on minibatches of
    ``batch_size`` (an epoch is a ``seed``-ed permutation of the training split cut into whole
    batches, the remainder dropped; ``batch_size`` equal to the split's size is full-batch, in the
    split's order). ``l1``·Σ|w| is added to the loss, ``l2`` is the coupled weight decay, ``clip``
    rescales (``norm``) or clamps (``value``) the gradient at ``clip_threshold``. Statistics are
    recorded every ``record_every`` steps and at the last.
    """

    dataset: str = _spec("choice", "circle", choices=DATASET_NAMES)
    n_points: int = _spec("int", 500, 10, 50000, help="points generated, train and test together")
    noise: float = _spec("float", 0.0, 0.0, 0.5, help="Playground's noise level (0–50 %)")
    train_fraction: float = _spec("float", 0.5, 0.1, 0.9, help="share of points for training")
    feature_scale: float = _spec("float", 1.0, 0.001, 10000.0,
                                 help="raw feature = scale·x + shift (badly scaled inputs)")
    feature_shift: float = _spec("float", 0.0, -10000.0, 10000.0,
                                 help="raw feature = scale·x + shift (badly scaled inputs)")
    optimizer: str = _spec("choice", "sgd", choices=("sgd", "momentum", "adam"))
    lr: float = _spec("float", 0.03, 0.0, 10.0, help="learning rate η")
    momentum: float = _spec("float", 0.9, 0.0, 0.999, help="μ of SGD with momentum")
    batch_size: int = _spec("int", 10, 1, 50000, help="samples per step (≤ training split)")
    steps: int = _spec("int", 500, 1, 100000, help="optimizer steps")
    l1: float = _spec("float", 0.0, 0.0, 1.0, help="λ₁ in loss + λ₁·Σ|w|")
    l2: float = _spec("float", 0.0, 0.0, 1.0, help="λ₂, coupled weight decay: g + λ₂·w")
    clip: str = _spec("choice", "none", choices=("none", "norm", "value"))
    clip_threshold: float = _spec("float", 1.0, 1e-6, 1e6, help="max total norm, or max |g|")
    record_every: int = _spec("int", 10, 1, 100000, help="record statistics every k steps")
    seed: int = _spec("int", 0, 0, 2**32 - 1, help="data, split, batch order and dropout masks")

    def __post_init__(self) -> None:
        for spec in TRAIN_FIELD_SPECS.values():
            object.__setattr__(self, spec.name, spec.check(getattr(self, spec.name)))
        if self.batch_size > self.n_train:
            raise ConfigError(
                f"batch_size={self.batch_size} is invalid: batch_size must be at most the "
                f"training split's {self.n_train} points (n_points × train_fraction).",
                ("batch_size", "n_points", "train_fraction"), value=str(self.batch_size),
                code="batch_too_large", amount=float(self.batch_size), limit=float(self.n_train))

    @property
    def n_train(self) -> int:
        """Training points: round(n_points·train_fraction), at least 1 and leaving 1 for test."""
        return min(max(round(self.n_points * self.train_fraction), 1), self.n_points - 1)

    @property
    def n_test(self) -> int:
        return self.n_points - self.n_train

    @property
    def task(self) -> str:
        """"classification" (BCE with logits, accuracy) or "regression" (MSE)."""
        return DATASETS[self.dataset][0]

    @property
    def full_batch(self) -> bool:
        return self.batch_size == self.n_train

    def replace(self, **changes: Any) -> "TrainConfig":
        """A copy with some fields changed (validated like a new config)."""
        return dataclasses.replace(self, **changes)


TRAIN_FIELD_SPECS: dict[str, FieldSpec] = {
    f.name: FieldSpec(name=f.name, default=f.default, **f.metadata)
    for f in dataclasses.fields(TrainConfig)
}


def training_widths(config: NetworkConfig, train_config: TrainConfig) -> tuple[int, ...]:
    """n_0 … n_L of the trained network: ``config.widths`` when given (its ends must be the
    dataset's features and outputs), else features, width × (depth − 1), outputs."""
    if config.widths:
        if config.widths[0] != N_FEATURES or config.widths[-1] != N_OUTPUTS:
            raise ConfigError(
                f"widths={','.join(map(str, config.widths))} is invalid for training on "
                f"{train_config.dataset}: the first width must be its {N_FEATURES} features and "
                f"the last its {N_OUTPUTS} output.", ("widths",),
                value=",".join(map(str, config.widths)), code="widths_mismatch")
        return config.widths
    return (N_FEATURES,) + (config.width,) * (config.depth - 1) + (N_OUTPUTS,)


def training_network_config(config: NetworkConfig, train_config: TrainConfig) -> NetworkConfig:
    """The NetworkConfig whose ``build_network`` gives the initial parameters: ``config`` with
    the training widths (so layers whose shape agrees with the Explorer's get its weights)."""
    widths = training_widths(config, train_config)
    return config if config.widths == widths else config.replace(widths=widths)


def estimated_training_cost(config: NetworkConfig, train_config: TrainConfig) -> budget.Cost:
    """Seconds of one core and peak bytes of ``train(config, train_config)``
    (core.budget.training_cost: per step, layer, parameter, record and evaluated entry)."""
    return budget.training_cost(training_network_config(config, train_config), train_config)


def estimated_training_seconds(config: NetworkConfig, train_config: TrainConfig) -> float:
    """Estimated seconds of one core for ``train(config, train_config)``; the budget is
    MAX_TRAIN_SECONDS."""
    return estimated_training_cost(config, train_config).seconds


def estimated_training_memory(config: NetworkConfig, train_config: TrainConfig) -> float:
    """Estimated peak bytes of ``train(config, train_config)`` (core.budget.training_memory);
    the budget is MAX_MEMORY_BYTES."""
    return estimated_training_cost(config, train_config).peak_bytes


def check_budget(config: NetworkConfig, train_config: TrainConfig) -> None:
    """Raise ConfigError (code "too_large" / "too_much_memory", or "widths_mismatch",
    "batchnorm_batch") before any work when this pair cannot be trained here. "too_large"
    carries ``amount`` (the estimated seconds of one core) and ``limit`` (MAX_TRAIN_SECONDS)."""
    if config.norm == "batchnorm" and train_config.batch_size < 2:
        raise ConfigError(
            "batch_size=1 is invalid with BatchNorm: the batch statistics need at least 2 "
            "samples (as torch.nn.BatchNorm1d in training).", ("batch_size", "norm"),
            value="1", code="batchnorm_batch")
    cost = estimated_training_cost(config, train_config)
    fields = ("steps", "batch_size", "n_points", "record_every", "depth", "width", "widths")
    if cost.seconds > MAX_TRAIN_SECONDS:
        raise ConfigError(
            f"This training run is too large: it would take about {cost.seconds:.2g} s of "
            f"computing (the steps, and the evaluation of every point at each record), the "
            f"limit is {MAX_TRAIN_SECONDS:.2g} s. Reduce steps, batch_size, n_points, depth or "
            f"width, or record less often.",
            fields, code="too_large", amount=cost.seconds, limit=MAX_TRAIN_SECONDS)
    if cost.peak_bytes > MAX_MEMORY_BYTES:
        raise ConfigError(
            f"This training run needs about {cost.peak_bytes / 2**20:.0f} MiB, the limit is "
            f"{MAX_MEMORY_BYTES / 2**20:.0f} MiB. Reduce batch_size, n_points, depth or width.",
            fields, code="too_much_memory", amount=cost.peak_bytes, limit=MAX_MEMORY_BYTES)
