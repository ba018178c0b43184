"""make_dataset(train_config): TensorFlow Playground's 2-D data sets, seeded, split, scaled.

The generators follow Playground's src/dataset.ts (n = n_points; U = uniform, N = normal;
labels 1 / 0 stand for Playground's +1 / −1; the first class gets the extra point of an odd n):

- circle: n/2 points at radius U(0, 2.5), n/2 at U(3.5, 5), angle U(0, 2π), (x, y) = r·(sin, cos);
  the label is 1 when the point moved by noise·U(−5, 5)² (each coordinate) lies within 2.5
  of the origin, but the clean point is stored (as Playground does, so noise flips labels near
  the boundary instead of blurring the picture).
- xor: x, y ~ U(−5, 5), each pushed 0.3 away from 0; label 1 when (x + εx)(y + εy) ≥ 0 with
  ε ~ noise·U(−5, 5); the clean point is stored.
- gauss: n/2 points ~ N((2, 2), v·I) labelled 1, n/2 ~ N((−2, −2), v·I) labelled 0,
  v = 0.5 + 7·noise (Playground's scale from noise [0, 0.5] to variance [0.5, 4]).
- spiral: class 1 for i < n/2: r = 5i/(n/2), t = 1.75·2π·i/(n/2), (x, y) = r·(sin t, cos t)
  + noise·U(−1, 1)²; class 0 is the same spiral turned by π.
- reg_plane (regression): x, y ~ U(−6, 6), target (x + εx + y + εy)/10, ε ~ noise·U(−6, 6).
- reg_gauss (regression): x, y ~ U(−6, 6) and ε as above; the target is, over six bumps at
  (±4 or 0, ±2.5) with alternating signs s, the s·max(0, 1 − d/2) of largest magnitude, d the
  distance from (x + εx, y + εy) to the bump's centre.

Then, as Playground does, the points are shuffled and the first round(train_fraction·n) are the
training split; every feature becomes feature_scale·x + feature_shift (so that a network sees
badly scaled raw inputs). Everything is drawn from ``SeedSequence(seed, spawn_key=(stream,))``:
the same seed gives the same data bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .train_config import TrainConfig

Array = np.ndarray

# Stream ids of the spawn keys (the training's own streams are in train.py).
DATA_STREAM, SPLIT_STREAM = 100, 101


@dataclass(frozen=True)
class Dataset:
    """Features (n, 2) float64 and targets (n, 1) float64: 0/1 labels or regression values."""

    x_train: Array
    y_train: Array
    x_test: Array
    y_test: Array
    task: str  # "classification" or "regression"
    domain: tuple[float, float, float, float]  # x0 min, x0 max, x1 min, x1 max (raw features)

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.y_train.shape[1]


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream,)))


def _halves(n: int) -> tuple[int, int]:
    return n - n // 2, n // 2


def _circle(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    radius = 5.0
    inner, outer = _halves(n)
    r = np.concatenate([rng.uniform(0.0, radius * 0.5, inner),
                        rng.uniform(radius * 0.7, radius, outer)])
    angle = rng.uniform(0.0, 2.0 * math.pi, n)
    points = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    moved = points + rng.uniform(-radius, radius, (n, 2)) * noise
    labels = (np.hypot(moved[:, 0], moved[:, 1]) < radius * 0.5).astype(float)
    return points, labels


def _xor(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    points = rng.uniform(-5.0, 5.0, (n, 2))
    points += np.where(points > 0, 0.3, -0.3)
    moved = points + rng.uniform(-5.0, 5.0, (n, 2)) * noise
    labels = (moved[:, 0] * moved[:, 1] >= 0).astype(float)
    return points, labels


def _gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    variance = 0.5 + noise * (4.0 - 0.5) / 0.5
    positive, negative = _halves(n)
    centres = np.concatenate([np.full((positive, 2), 2.0), np.full((negative, 2), -2.0)])
    points = centres + math.sqrt(variance) * rng.standard_normal((n, 2))
    labels = np.concatenate([np.ones(positive), np.zeros(negative)])
    return points, labels


def _spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    positive, negative = _halves(n)
    half = n / 2.0
    parts = []
    for count, delta in ((positive, 0.0), (negative, math.pi)):
        i = np.arange(count)
        r = i / half * 5.0
        t = 1.75 * i / half * 2.0 * math.pi + delta
        parts.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
    points = np.concatenate(parts) + rng.uniform(-1.0, 1.0, (n, 2)) * noise
    labels = np.concatenate([np.ones(positive), np.zeros(negative)])
    return points, labels


_BUMPS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1],
                   [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]], dtype=float)


def _reg_plane(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    points = rng.uniform(-6.0, 6.0, (n, 2))
    moved = points + rng.uniform(-6.0, 6.0, (n, 2)) * noise
    return points, moved.sum(axis=1) / 10.0


def _reg_gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    points = rng.uniform(-6.0, 6.0, (n, 2))
    moved = points + rng.uniform(-6.0, 6.0, (n, 2)) * noise
    distance = np.hypot(moved[:, None, 0] - _BUMPS[None, :, 0],
                        moved[:, None, 1] - _BUMPS[None, :, 1])
    signed = _BUMPS[None, :, 2] * np.clip(1.0 - distance / 2.0, 0.0, 1.0)
    # Playground keeps the first bump of strictly largest magnitude (ties: the earlier one).
    pick = np.argmax(np.abs(signed), axis=1)
    return points, signed[np.arange(n), pick]


GENERATORS = {"circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral,
              "reg_plane": _reg_plane, "reg_gauss": _reg_gauss}
#: Playground's view of the plane: the square [−6, 6]² (before feature_scale / feature_shift).
DOMAIN = (-6.0, 6.0)


def make_dataset(train_config: TrainConfig) -> Dataset:
    """The dataset of ``train_config``: generated, shuffled, split, then scaled and shifted."""
    c = train_config
    points, targets = GENERATORS[c.dataset](c.n_points, c.noise, _rng(c.seed, DATA_STREAM))
    order = _rng(c.seed, SPLIT_STREAM).permutation(c.n_points)
    x = points[order] * c.feature_scale + c.feature_shift
    y = targets[order].reshape(-1, 1)
    low, high = (v * c.feature_scale + c.feature_shift for v in DOMAIN)
    n = c.n_train
    return Dataset(x_train=np.ascontiguousarray(x[:n]), y_train=np.ascontiguousarray(y[:n]),
                   x_test=np.ascontiguousarray(x[n:]), y_test=np.ascontiguousarray(y[n:]),
                   task=c.task, domain=(low, high, low, high))
