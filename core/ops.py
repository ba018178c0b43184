"""The network's operations, each forward beside its backward.

Shapes: a batch is (B, n), rows are samples. ``backward`` functions take the upstream gradient
∂L/∂output and return ∂L/∂input; they may overwrite the upstream array (the caller hands over
arrays it no longer needs), which saves a pass and a copy per layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Array = np.ndarray
EPS = 1e-5  # BatchNorm / LayerNorm epsilon, PyTorch's default.


# Linear: y = h W + b ------------------------------------------------------------------------

def linear_forward(h: Array, w: Array, b: Array | None) -> Array:
    y = h @ w
    if b is not None:
        y += b
    return y


def linear_backward_input(gy: Array, w: Array) -> Array:
    """∂L/∂h = ∂L/∂y · Wᵀ."""
    return gy @ w.T


def linear_backward_weight(h: Array, gy: Array, out: Array | None = None) -> Array:
    """∂L/∂W = hᵀ · ∂L/∂y (summed over the batch, as autograd does)."""
    return np.matmul(h.T, gy, out=out)


# Normalisation: BatchNorm over the batch (axis 0), LayerNorm over features (axis 1) ------------

@dataclass
class NormCache:
    """What the backward pass needs: x̂ and 1/√(σ² + ε) (None when the statistics are fixed)."""

    xhat: Array | None
    inv_std: Array
    axis: int


def norm_forward(x: Array, axis: int) -> tuple[Array, NormCache, Array, Array]:
    """x̂ = (x − μ)/√(σ² + ε), μ and σ² (biased) over ``axis``; γ = 1, β = 0.

    Returns x̂, the cache, and the batch mean and biased variance (for running statistics).
    """
    mean = x.mean(axis=axis, keepdims=True)
    xhat = x - mean
    var = np.einsum("ij,ij->j", xhat, xhat) / x.shape[0] if axis == 0 else \
        np.einsum("ij,ij->i", xhat, xhat)[:, None] / x.shape[1]
    var = var.reshape(mean.shape).astype(x.dtype, copy=False)
    inv_std = 1.0 / np.sqrt(var + x.dtype.type(EPS))
    xhat *= inv_std
    return xhat, NormCache(xhat, inv_std, axis), mean, var


def norm_backward(g: Array, cache: NormCache) -> Array:
    """∂L/∂x = (1/√(σ²+ε))·(g − mean(g) − x̂·mean(g·x̂)), means over the normalised axis.

    Sums to zero over that axis: shifting every x along it changes nothing downstream.
    With fixed statistics (BatchNorm in eval mode) it is just g/√(σ²+ε).
    """
    if cache.xhat is None:
        g *= cache.inv_std
        return g
    axis, n = cache.axis, g.shape[cache.axis]
    if axis == 0:
        proj = np.einsum("ij,ij->j", g, cache.xhat) / n
        g -= g.mean(axis=0, keepdims=True)
        g -= cache.xhat * proj.astype(g.dtype, copy=False)
    else:
        proj = np.einsum("ij,ij->i", g, cache.xhat)[:, None] / n
        g -= g.mean(axis=1, keepdims=True)
        g -= cache.xhat * proj.astype(g.dtype, copy=False)
    g *= cache.inv_std
    return g


def norm_forward_fixed(x: Array, mean: Array, var: Array) -> tuple[Array, NormCache]:
    """BatchNorm in eval mode: x̂ = (x − running_mean)/√(running_var + ε)."""
    inv_std = (1.0 / np.sqrt(var + EPS)).astype(x.dtype)
    return (x - mean.astype(x.dtype)) * inv_std, NormCache(None, inv_std, 0)


# Inverted dropout: keep with probability 1 − p, scale the kept by 1/(1 − p) -----------------

def dropout_mask(shape: tuple[int, int], p: float, rng: np.random.Generator, dtype) -> Array:
    keep = rng.random(shape, dtype=np.float32) >= p
    return keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))


def dropout_forward(x: Array, mask: Array) -> Array:
    return x * mask


def dropout_backward(g: Array, mask: Array) -> Array:
    g *= mask
    return g


# Losses: the gradient ∂L/∂output that starts the backward pass -------------------------------

def loss_gradient(name: str, out: Array, rng: np.random.Generator) -> tuple[float, Array]:
    """(L, ∂L/∂out) for a random target drawn from ``rng``.

    - random_projection: L = Σ r⊙out, r ~ N(0, 1) ⇒ ∂L/∂out = r (unit variance, the cleanest case
      for theory);
    - mse: L = mean((out − t)²), t ~ N(0, 1) (torch's MSELoss, mean over all entries)
      ⇒ ∂L/∂out = 2(out − t)/(B·n);
    - cross_entropy: L = mean_b −log softmax(out)_y, y uniform over the n classes
      ⇒ ∂L/∂out = (softmax(out) − onehot(y))/B.
    """
    batch, n = out.shape
    if name == "random_projection":
        r = rng.standard_normal(out.shape, dtype=np.float32).astype(out.dtype, copy=False)
        return float(np.vdot(r, out)), r
    if name == "mse":
        t = rng.standard_normal(out.shape, dtype=np.float32).astype(out.dtype, copy=False)
        diff = out - t
        return float(np.mean(diff * diff)), diff * out.dtype.type(2.0 / diff.size)
    if name == "cross_entropy":
        labels = rng.integers(0, n, size=batch)
        shifted = out - out.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        log_p = shifted[np.arange(batch), labels] - np.log(total[:, 0])
        grad = exp / total
        grad[np.arange(batch), labels] -= 1.0
        grad *= out.dtype.type(1.0 / batch)
        return float(-np.mean(log_p)), grad
    raise ValueError(f"loss={name!r} is invalid: loss must be one of random_projection, mse, "
                     f"cross_entropy.")
