"""Optimizers, regularisation and gradient clipping with PyTorch's semantics, on one flat buffer.

All parameters live in one contiguous vector θ (each layer's weight and bias are views into it)
and so does the gradient g, which makes every rule one or two whole-vector operations. The order
of a step is torch's usual loop:

    loss = data_loss + l1·Σ|θ|             g = ∇data_loss + l1·sign(θ)      (sign(0) = 0)
    clip_grad_norm_(θ, c)  or  clip_grad_value_(θ, c)                       (on g, before step)
    optimizer.step()  with weight_decay = l2 (coupled: g ← g + l2·θ, biases included, one
                      parameter group)

- ``clip_norm``: total = ‖g‖₂ over all parameters; g ← g·min(1, c/(total + 1e-6))
  (torch.nn.utils.clip_grad_norm_); clipped when c/(total + 1e-6) < 1.
- ``clip_value``: g ← clamp(g, −c, c) (torch.nn.utils.clip_grad_value_).
- ``sgd``: θ ← θ − η·g (torch.optim.SGD, momentum 0).
- ``momentum``: b ← g on the first step, then b ← μ·b + g; θ ← θ − η·b
  (torch.optim.SGD with momentum μ, dampening 0, nesterov False).
- ``adam``: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², t ← t + 1,
  θ ← θ − (η/(1 − β₁ᵗ))·m/(√v/√(1 − β₂ᵗ) + ε), β₁ = 0.9, β₂ = 0.999, ε = 1e-8
  (torch.optim.Adam, amsgrad False).
"""

from __future__ import annotations

import math

import numpy as np

Array = np.ndarray

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
#: torch's clip_grad_norm_ adds this to the total norm before dividing.
CLIP_NORM_EPS = 1e-6


def total_norm(g: Array) -> float:
    """‖g‖₂, without a spurious overflow: float32 squares overflow above ≈ 1.8e19."""
    with np.errstate(over="ignore", invalid="ignore"):
        squared = float(np.dot(g, g))
    if math.isfinite(squared):
        return math.sqrt(squared)
    if not np.isfinite(g).all():
        return float("nan") if np.isnan(g).any() else float("inf")
    big = g.astype(np.float64)
    return float(np.sqrt(np.dot(big, big)))


def add_l1(g: Array, theta: Array, l1: float) -> None:
    """g += l1·sign(θ): the gradient of l1·Σ|θ| (sign(0) = 0, as torch's abs backward)."""
    if l1 > 0.0:
        g += np.sign(theta) * g.dtype.type(l1)


def clip(g: Array, mode: str, threshold: float, norm: float) -> bool:
    """Clip g in place (``norm`` = its total norm, already computed); True when it changed."""
    if mode == "norm":
        coefficient = threshold / (norm + CLIP_NORM_EPS)
        if coefficient < 1.0:
            g *= g.dtype.type(coefficient)
            return True
        return False
    if mode == "value":
        changed = bool(np.abs(g).max() > threshold) if g.size else False
        if changed:
            np.clip(g, -threshold, threshold, out=g)
        return changed
    return False


def regularise_and_clip(g: Array, theta: Array, l1: float, mode: str,
                        threshold: float) -> tuple[float, bool]:
    """The part of a step before the optimizer: g += l1·sign(θ), then the total norm (returned,
    whether clipping is on or not) and the clipping. A non-finite norm leaves g unclipped."""
    add_l1(g, theta, l1)
    norm = total_norm(g)
    if not math.isfinite(norm):
        return norm, False
    return norm, clip(g, mode, threshold, norm)


class Optimizer:
    """One of sgd, momentum, adam over the flat parameter vector, with coupled weight decay."""

    def __init__(self, name: str, lr: float, momentum: float = 0.9, weight_decay: float = 0.0):
        if name not in ("sgd", "momentum", "adam"):
            raise ValueError(f"optimizer={name!r} is invalid: optimizer must be one of sgd, "
                             f"momentum, adam.")
        self.name, self.lr, self.momentum, self.weight_decay = name, lr, momentum, weight_decay
        self.t = 0
        self.buffer: Array | None = None  # momentum buffer, or Adam's first moment
        self.second: Array | None = None  # Adam's second moment

    def step(self, theta: Array, g: Array) -> None:
        """θ ← θ − update, in place. ``g`` may be overwritten (it receives the weight decay)."""
        dtype = theta.dtype.type
        if self.weight_decay > 0.0:
            g += theta * dtype(self.weight_decay)
        self.t += 1
        if self.name == "sgd":
            g *= dtype(self.lr)
            theta -= g
            return
        if self.name == "momentum":
            if self.buffer is None:
                self.buffer = g.copy()
            else:
                self.buffer *= dtype(self.momentum)
                self.buffer += g
            np.multiply(self.buffer, dtype(self.lr), out=g)
            theta -= g
            return
        beta1, beta2 = ADAM_BETAS
        if self.buffer is None:
            self.buffer = np.zeros_like(theta)
            self.second = np.zeros_like(theta)
        m, v = self.buffer, self.second
        m *= dtype(beta1)
        m += g * dtype(1.0 - beta1)
        v *= dtype(beta2)
        g *= g
        g *= dtype(1.0 - beta2)
        v += g
        step_size = self.lr / (1.0 - beta1 ** self.t)
        denominator = np.sqrt(v)
        denominator /= dtype(math.sqrt(1.0 - beta2 ** self.t))
        denominator += dtype(ADAM_EPS)
        np.divide(m, denominator, out=denominator)
        denominator *= dtype(step_size)
        theta -= denominator
