"""One optimizer step equals a hand-computed step and torch.optim's, for every optimizer ×
l1/l2 × clip (three steps, so that momentum buffers and Adam's bias corrections are exercised)."""

import itertools
import math

import numpy as np
import pytest

from core.optim import Optimizer, regularise_and_clip, total_norm

OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARISERS = ((0.0, 0.0), (0.01, 0.0), (0.0, 0.05), (0.01, 0.05))  # (l1, l2)
CLIPS = (("none", 1.0), ("norm", 0.5), ("norm", 100.0), ("value", 0.3))
CASES = list(itertools.product(OPTIMIZERS, REGULARISERS, CLIPS))
LR, MOMENTUM, STEPS = 0.1, 0.9, 3
SHAPES = ((3, 2), (2,))  # one weight and one bias


def problem():
    """Initial parameters (one exactly zero, where sign(0) = 0 matters) and the data-loss
    gradients of three steps."""
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(shape) for shape in SHAPES]
    params[0][1, 1] = 0.0
    grads = [[rng.standard_normal(shape) * 2.0 for shape in SHAPES] for _ in range(STEPS)]
    return params, grads


def reference(name, l1, l2, clip_mode, threshold):
    """The documented formulas, parameter by parameter, written out independently."""
    params, grads = problem()
    params = [p.copy() for p in params]
    state = [{} for _ in params]
    for t, step_grads in enumerate(grads, start=1):
        g = [gi + l1 * np.sign(p) for gi, p in zip(step_grads, params)]
        total = math.sqrt(sum(float((gi ** 2).sum()) for gi in g))
        if clip_mode == "norm":
            coefficient = min(1.0, threshold / (total + 1e-6))
            g = [gi * coefficient for gi in g]
        elif clip_mode == "value":
            g = [np.minimum(np.maximum(gi, -threshold), threshold) for gi in g]
        for p, gi, s in zip(params, g, state):
            gi = gi + l2 * p
            if name == "sgd":
                p -= LR * gi
            elif name == "momentum":
                s["b"] = gi.copy() if t == 1 else MOMENTUM * s["b"] + gi
                p -= LR * s["b"]
            else:
                s["m"] = 0.9 * s.get("m", 0.0) + 0.1 * gi
                s["v"] = 0.999 * s.get("v", 0.0) + 0.001 * gi * gi
                m_hat = s["m"] / (1 - 0.9 ** t)
                v_hat = s["v"] / (1 - 0.999 ** t)
                p -= LR * m_hat / (np.sqrt(v_hat) + 1e-8)
    return params


def ours(name, l1, l2, clip_mode, threshold, dtype=np.float64):
    params, grads = problem()
    theta = np.concatenate([p.ravel() for p in params]).astype(dtype)
    optimizer = Optimizer(name, LR, MOMENTUM, l2)
    clipped = []
    for step_grads in grads:
        g = np.concatenate([gi.ravel() for gi in step_grads]).astype(dtype)
        norm, was_clipped = regularise_and_clip(g, theta, l1, clip_mode, threshold)
        clipped.append(was_clipped)
        optimizer.step(theta, g)
    split = np.cumsum([int(np.prod(s)) for s in SHAPES])[:-1]
    return [part.reshape(shape) for part, shape in zip(np.split(theta, split), SHAPES)], clipped


@pytest.mark.parametrize("name,regularisers,clip", CASES)
def test_a_step_equals_the_hand_computed_step(name, regularisers, clip):
    expected = reference(name, *regularisers, *clip)
    got, clipped = ours(name, *regularisers, *clip)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)
    # The problem is built so that the tight thresholds clip and the loose ones do not.
    assert all(clipped) == (clip in (("norm", 0.5), ("value", 0.3))) and (
        any(clipped) == all(clipped))


def test_adam_follows_torchs_rounding_of_the_denominator():
    # torch: denom = √v/√(1 − β₂ᵗ) + ε (ε added after the correction), step η/(1 − β₁ᵗ).
    theta, g = np.array([1.0]), np.array([1e-9])
    Optimizer("adam", 1.0).step(theta, g.copy())
    m, v = 0.1 * 1e-9, 0.001 * 1e-18
    expected = 1.0 - (1.0 / 0.1) * m / (math.sqrt(v) / math.sqrt(0.001) + 1e-8)
    assert theta[0] == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("name,regularisers,clip", CASES)
def test_a_step_equals_torch_optim(name, regularisers, clip):
    torch = pytest.importorskip("torch")
    l1, l2 = regularisers
    clip_mode, threshold = clip
    params, grads = problem()
    tensors = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
    if name == "adam":
        optimizer = torch.optim.Adam(tensors, lr=LR, weight_decay=l2)
    else:
        optimizer = torch.optim.SGD(tensors, lr=LR, weight_decay=l2,
                                    momentum=MOMENTUM if name == "momentum" else 0.0)
    for step_grads in grads:
        optimizer.zero_grad()
        # A loss whose gradient is the given data gradient, plus the L1 penalty.
        loss = sum((t * torch.tensor(g)).sum() for t, g in zip(tensors, step_grads))
        loss = loss + l1 * sum(t.abs().sum() for t in tensors)
        loss.backward()
        if clip_mode == "norm":
            torch.nn.utils.clip_grad_norm_(tensors, threshold)
        elif clip_mode == "value":
            torch.nn.utils.clip_grad_value_(tensors, threshold)
        optimizer.step()
    got, _ = ours(name, l1, l2, clip_mode, threshold)
    for t, g in zip(tensors, got):
        np.testing.assert_allclose(g, t.detach().numpy(), rtol=1e-12, atol=1e-13)


def test_float32_steps_stay_float32():
    got, _ = ours("adam", 0.01, 0.05, "norm", 0.5, dtype=np.float32)
    assert all(part.dtype == np.float32 for part in got)
    expected = reference("adam", 0.01, 0.05, "norm", 0.5)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def test_total_norm_does_not_overflow_in_float32():
    g = np.full(4, 1e20, dtype=np.float32)  # the squares overflow float32
    assert total_norm(g) == pytest.approx(2e20, rel=1e-6)
    assert math.isinf(total_norm(np.array([np.inf, 1.0], dtype=np.float32)))
    assert math.isnan(total_norm(np.array([np.nan, 1.0], dtype=np.float32)))
