"""The one layer block: its public forward/backward pair (what the training engine iterates),
checked against finite differences, PyTorch's BatchNorm conventions and its own contract."""

import numpy as np
import pytest

from core import NetworkConfig, block
from core.block import Network, ParamGrads, backward, forward, init_running
from core.simulate import _DROPOUT, _INPUT, build_network, make_input, simulate, stream


def _loss(config, network, x, upstream, rngs_seed=4):
    out, _ = forward(config, network, x, rngs=_rngs(config, rngs_seed))
    return float(np.vdot(upstream, out))


def _rngs(config, seed):
    return [np.random.default_rng([seed, layer]) for layer in range(config.depth)]


def _central(array, direction, loss, eps=1e-6):
    original = array.copy()
    array[...] = original + eps * direction
    plus = loss()
    array[...] = original - eps * direction
    minus = loss()
    array[...] = original
    return (plus - minus) / (2 * eps)


@pytest.mark.parametrize("changes", [
    dict(activation="tanh", dropout=0.3, bias_init="normal"),
    dict(activation="relu", norm="batchnorm", residual=True, widths=(5, 7, 7, 4)),
    dict(activation="silu", norm="layernorm", norm_position="after", residual=True,
         residual_form="post", dropout=0.2, bias_init="constant", bias_value=0.3),
    dict(activation="gelu", norm="layernorm", residual=True, dropout=0.2),
])
def test_weight_and_bias_gradients_match_finite_differences(changes):
    """Every layer's ∂L/∂W and ∂L/∂b, L = Σ r⊙out with r random; zero (None) biases get a
    gradient too, checked by giving the layer an explicit zero bias."""
    config = NetworkConfig(**{"widths": (5, 7, 6, 4), "batch_size": 8, "dtype": "float64",
                              "init": "normal", "init_std": 0.5, "seed": 3, **changes})
    network = build_network(config)
    rng = np.random.default_rng(0)
    x = make_input(config, network, rng)
    upstream = rng.standard_normal((8, config.layer_widths[-1]))
    out, caches = forward(config, network, x, rngs=_rngs(config, 4))
    grad_x, grads = backward(config, network, caches, upstream)
    assert isinstance(grads, ParamGrads)
    assert len(grads.weights) == len(grads.biases) == config.depth
    explicit = Network(network.weights,
                       [np.zeros(w.shape[1]) if b is None else b
                        for w, b in zip(network.weights, network.biases)],
                       network.projections)
    loss = lambda: _loss(config, explicit, x, upstream)  # noqa: E731
    for layer, (w, b) in enumerate(zip(explicit.weights, explicit.biases)):
        direction = rng.standard_normal(w.shape)
        assert float(np.vdot(grads.weights[layer], direction)) == pytest.approx(
            _central(w, direction, loss), rel=1e-5, abs=1e-8)
        direction = rng.standard_normal(b.shape)
        assert float(np.vdot(grads.biases[layer], direction)) == pytest.approx(
            _central(b, direction, loss), rel=1e-5, abs=1e-8)
    direction = rng.standard_normal(x.shape)
    assert float(np.vdot(grad_x, direction)) == pytest.approx(_central(x, direction, loss),
                                                              rel=1e-5, abs=1e-8)


def test_backward_leaves_the_callers_gradient_alone():
    config = NetworkConfig(depth=3, width=8, batch_size=6, dropout=0.5, dtype="float64")
    network = build_network(config)
    x = make_input(config, network, np.random.default_rng(1))
    _, caches = forward(config, network, x, rngs=_rngs(config, 2))
    upstream = np.random.default_rng(3).standard_normal((6, 8))
    kept = upstream.copy()
    backward(config, network, caches, upstream)
    np.testing.assert_array_equal(upstream, kept)


def test_dropout_masks_come_from_the_callers_generators_and_are_off_without_them():
    config = NetworkConfig(depth=2, width=64, batch_size=32, dropout=0.5, activation="identity",
                           init="orthogonal", dtype="float64")
    network = build_network(config)
    x = make_input(config, network, np.random.default_rng(0))
    plain, _ = forward(config, network, x)  # no generators: no dropout (evaluation)
    np.testing.assert_allclose(plain, x @ network.weights[0] @ network.weights[1])
    first, _ = forward(config, network, x, rngs=_rngs(config, 1))
    again, _ = forward(config, network, x, rngs=_rngs(config, 1))
    other, _ = forward(config, network, x, rngs=_rngs(config, 2))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_batchnorm_running_statistics_follow_pytorch_and_eval_uses_them():
    """running = (1 − m)·running + m·batch with the unbiased batch variance (torch.nn.BatchNorm1d);
    eval normalises with the running statistics, train with the batch's."""
    for form in ("pre", "post"):
        config = NetworkConfig(widths=(6, 5, 4), batch_size=10, norm="batchnorm",
                               activation="identity", dtype="float64", bn_momentum=0.3,
                               residual=True, residual_form=form)
        network = build_network(config)
        init_running(config, network)
        assert [m.shape for m, _ in network.running] == [(n,) for n in block.norm_widths(config)]
        x = make_input(config, network, np.random.default_rng(0))
        forward(config, network, x, mode="train", update_running=True)
        normed = x if form == "pre" else x @ network.weights[0]
        mean, var = network.running[0]
        np.testing.assert_allclose(mean, 0.3 * normed.mean(axis=0))
        np.testing.assert_allclose(var, 0.7 + 0.3 * normed.var(axis=0, ddof=1))
        before = [(m.copy(), v.copy()) for m, v in network.running]
        forward(config, network, x, mode="eval")
        forward(config, network, x, mode="train")  # no update asked
        for (m0, v0), (m1, v1) in zip(before, network.running):
            np.testing.assert_array_equal(m0, m1)
            np.testing.assert_array_equal(v0, v1)
    with pytest.raises(ValueError, match="train, eval"):
        forward(config, network, x, mode="test")


def test_recorder_sees_every_layer_in_both_directions():
    config = NetworkConfig(depth=4, width=16, batch_size=8, residual=True, norm="layernorm")
    network = build_network(config)
    x = make_input(config, network, np.random.default_rng(0))
    seen = []

    class Watch:
        def forward_layer(self, layer, z, a, out):
            seen.append(("forward", layer))

        def backward_out(self, layer, g):
            seen.append(("out", layer))

        def backward_preact(self, layer, g):
            seen.append(("preact", layer))

        def weight_grad(self, layer, w, grad):
            seen.append(("weight", layer))

    _, caches = forward(config, network, x, record=Watch())
    backward(config, network, caches, np.ones((8, 16), np.float32), record=Watch())
    assert [layer for kind, layer in seen if kind == "forward"] == [1, 2, 3, 4]
    for kind in ("out", "preact", "weight"):
        assert [layer for k, layer in seen if k == kind] == [4, 3, 2, 1]


def test_block_lists_the_ops_in_order_for_each_form():
    kinds = lambda **c: [op.kind for op in block.block(NetworkConfig(**c)).ops]  # noqa: E731
    assert kinds() == ["linear", "act"]
    assert kinds(norm="batchnorm", dropout=0.1) == ["linear", "norm", "act", "dropout"]
    assert kinds(norm="layernorm", norm_position="after", residual=True,
                 residual_form="post") == ["linear", "act", "norm"]
    assert kinds(norm="batchnorm", residual=True) == ["norm", "act", "linear"]
    assert kinds(norm="layernorm", norm_position="after", residual=True, dropout=0.2) == [
        "act", "norm", "linear", "dropout"]


def test_simulate_is_the_blocks_forward_and_backward():
    """simulate's output gradient statistics come from the same pass as block.forward."""
    config = NetworkConfig(depth=3, width=32, batch_size=16, residual=True, dropout=0.2,
                           norm="batchnorm", dtype="float64")
    network = build_network(config)
    stats = simulate(config, build_network(config)).layer_stats
    input_rng = stream(config.seed, _INPUT)
    x = make_input(config, network, input_rng)
    rngs = [stream(config.seed, _DROPOUT, layer) for layer in range(1, 4)]
    out, _ = forward(config, network, x, rngs=rngs)
    assert stats["out_var"].iloc[-1] == pytest.approx(float(out.var()), rel=1e-12)


@pytest.mark.parametrize("form,norm,position,mode", [
    ("pre", "batchnorm", "before", "train"), ("pre", "layernorm", "after", "train"),
    ("post", "batchnorm", "after", "train"), ("post", "layernorm", "before", "train"),
    ("pre", "batchnorm", "before", "eval"), ("post", "batchnorm", "before", "eval")])
def test_forward_and_gradients_match_pytorch(form, norm, position, mode):
    """The same block written with torch.nn (BatchNorm1d / LayerNorm without affine parameters,
    eps 1e-5, momentum = bn_momentum) and autograd: outputs, running statistics, ∂L/∂x, ∂L/∂W
    and ∂L/∂b agree in float64."""
    torch = pytest.importorskip("torch")
    config = NetworkConfig(widths=(6, 8, 5, 4), batch_size=12, dtype="float64", activation="silu",
                           init="normal", init_std=0.4, bias_init="normal", bias_std=0.2,
                           norm=norm, norm_position=position, residual=True, residual_form=form,
                           residual_scale=0.6, bn_momentum=0.2, seed=5)
    network = build_network(config)
    init_running(config, network)
    rng = np.random.default_rng(7)
    x = make_input(config, network, rng)
    upstream = rng.standard_normal((12, 4))
    if mode == "eval":  # some running statistics first, from another batch
        forward(config, network, rng.standard_normal(x.shape), update_running=True)
    running_before = [(m.copy(), v.copy()) for m, v in network.running]
    out, caches = forward(config, network, x, mode=mode, update_running=True)
    grad_x, grads = backward(config, network, caches, upstream)

    weights = [torch.tensor(w, requires_grad=True) for w in network.weights]
    biases = [torch.tensor(b, requires_grad=True) for b in network.biases]
    xt = torch.tensor(x, requires_grad=True)
    h = xt
    norms = []
    for index, (w, b) in enumerate(zip(weights, biases)):
        width = (w.shape[0] if form == "pre" else w.shape[1])
        if norm == "batchnorm":
            layer_norm = torch.nn.BatchNorm1d(width, eps=1e-5, momentum=0.2, affine=False,
                                              dtype=torch.float64)
            layer_norm.running_mean.copy_(torch.tensor(running_before[index][0]))
            layer_norm.running_var.copy_(torch.tensor(running_before[index][1]))
            layer_norm.train(mode == "train")
        else:
            layer_norm = torch.nn.LayerNorm(width, eps=1e-5, elementwise_affine=False,
                                            dtype=torch.float64)
        norms.append(layer_norm)
        before = layer_norm if position == "before" else (lambda v: v)
        after = layer_norm if position == "after" else (lambda v: v)
        if form == "pre":
            branch = after(torch.nn.functional.silu(before(h))) @ w + b
        else:
            branch = after(torch.nn.functional.silu(before(h @ w + b)))
        projection = network.projections[index]
        skip = h if projection is None else h @ torch.tensor(projection)
        h = skip + 0.6 * branch
    (h * torch.tensor(upstream)).sum().backward()

    np.testing.assert_allclose(out, h.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=1e-8, atol=1e-10)
    for layer in range(config.depth):
        np.testing.assert_allclose(grads.weights[layer], weights[layer].grad.numpy(),
                                   rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(grads.biases[layer], biases[layer].grad.numpy(),
                                   rtol=1e-8, atol=1e-10)
        if norm == "batchnorm":
            np.testing.assert_allclose(network.running[layer][0],
                                       norms[layer].running_mean.numpy(), rtol=1e-10)
            np.testing.assert_allclose(network.running[layer][1],
                                       norms[layer].running_var.numpy(), rtol=1e-10)
