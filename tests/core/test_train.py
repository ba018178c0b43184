"""train(): the records' contract, determinism, no leaks, and the passes checked against finite
differences and against the same training in PyTorch."""

import math

import numpy as np
import pandas as pd
import pytest

from core import (HISTORY_COLUMNS, LAYER_HISTORY_COLUMNS, NetworkConfig, TrainConfig,
                  build_network, make_dataset, train)
from core.train import parameter_gradients, preprocessing
from core.train_config import training_network_config

# The block's residual forms, where the NetworkConfig has them.
RESIDUAL_FORMS = [{"residual_form": form} for form in ("post", "pre")] \
    if "residual_form" in NetworkConfig.__dataclass_fields__ else [{}]
SMALL = TrainConfig(dataset="circle", n_points=80, lr=0.1, batch_size=8, steps=30,
                    record_every=10)


def small_net(**changes):
    return NetworkConfig(**{"depth": 3, "width": 16, "activation": "tanh",
                            "init": "xavier_normal", **changes})


def test_records_have_the_contract_columns_and_one_row_per_recorded_step():
    result = train(small_net(), SMALL.replace(steps=25))
    assert tuple(result.history.columns[:8]) == HISTORY_COLUMNS
    assert tuple(result.layer_history.columns[:10]) == LAYER_HISTORY_COLUMNS
    assert result.history["step"].tolist() == [0, 10, 20, 25]
    assert result.layer_history["layer"].tolist() == [1, 2, 3] * 4
    assert result.history["clipped"].dtype == bool
    assert result.first_nonfinite is None
    assert result.config.layer_widths == (2, 16, 16, 1)
    first = result.history.iloc[0]
    assert first.train_loss == pytest.approx(first.train_loss)  # finite
    last = result.layer_history[result.layer_history.step == 25]
    assert last.update_ratio.isna().all()  # no update after the last step
    middle = result.layer_history[result.layer_history.step == 10]
    assert (middle.update_ratio > 0).all() and (middle.grad_out_rms > 0).all()
    # The head's output is not a φ output: no saturation or dead units there.
    assert np.isnan(middle.act_saturated_frac.iloc[-1]) and np.isnan(middle.dead_unit_frac.iloc[-1])
    assert middle.act_saturated_frac.iloc[:-1].between(0, 1).all()


def test_runs_are_deterministic_bit_for_bit():
    config = small_net(dropout=0.2, norm="batchnorm")
    first, second = train(config, SMALL), train(config, SMALL)
    pd.testing.assert_frame_equal(first.history, second.history, check_exact=True)
    pd.testing.assert_frame_equal(first.layer_history, second.layer_history, check_exact=True)
    for a, b in zip(first.network.weights + first.network.biases,
                    second.network.weights + second.network.biases):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first.snapshots.values, second.snapshots.values)


def test_full_batch_steps_do_not_depend_on_the_batch_order_seed():
    tc = SMALL.replace(batch_size=SMALL.n_train)
    data = make_dataset(tc)
    first = train(small_net(), tc, data=data)
    second = train(small_net(), tc.replace(seed=99), data=data)
    pd.testing.assert_frame_equal(first.history, second.history, check_exact=True)
    minibatch = train(small_net(), SMALL.replace(seed=99), data=data)
    assert not first.history.equals(minibatch.history)


def test_the_initial_weights_are_the_explorers_where_the_shapes_agree():
    config = NetworkConfig(depth=5, width=32, bias_init="normal", bias_std=0.1, seed=3)
    result = train(config, SMALL.replace(lr=0.0, steps=1))  # lr 0: nothing moves
    explorer = build_network(config)
    for layer in (1, 2, 3):  # the 32 × 32 layers (layer 0 is 2 → 32, the head 32 → 1)
        np.testing.assert_array_equal(result.network.weights[layer], explorer.weights[layer])
        np.testing.assert_array_equal(result.network.biases[layer], explorer.biases[layer])
    assert result.network.weights[0].shape == (2, 32) and result.network.weights[4].shape == (32, 1)


def test_input_statistics_come_from_the_training_split_only():
    tc = SMALL.replace(feature_scale=30.0, feature_shift=-7.0)
    data = make_dataset(tc)
    config = small_net(input_preprocess="zscore")
    shift, scale = preprocessing(config, data.x_train)
    z = (data.x_train - shift) / scale
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1.0)
    # Change the test split wildly: training must not notice (only the test columns change).
    moved = type(data)(x_train=data.x_train, y_train=data.y_train, x_test=data.x_test * 1000.0,
                       y_test=data.y_test, task=data.task, domain=data.domain)
    for preprocess in ("zscore", "minmax"):
        config = small_net(input_preprocess=preprocess)
        a, b = train(config, tc, data=data), train(config, tc, data=moved)
        for column in ("batch_loss", "train_loss", "train_acc", "grad_norm"):
            np.testing.assert_array_equal(a.history[column], b.history[column])
        np.testing.assert_array_equal(a.network.weights[0], b.network.weights[0])
        assert not np.array_equal(a.history.test_loss, b.history.test_loss)
    mins = preprocessing(small_net(input_preprocess="minmax"), data.x_train)
    np.testing.assert_allclose(((data.x_train - mins[0]) / mins[1]).min(axis=0), 0.0)
    np.testing.assert_allclose(((data.x_train - mins[0]) / mins[1]).max(axis=0), 1.0)


@pytest.mark.parametrize("changes", [
    {},
    {"activation": "relu", "init": "kaiming_normal", "bias_init": "normal"},
    {"activation": "gelu"},
    {"activation": "elu", "norm": "batchnorm"},
    {"norm": "batchnorm", "norm_position": "after"},
    {"norm": "layernorm", "activation": "silu"},
    *[{"residual": True, "residual_scale": 0.5, **form} for form in RESIDUAL_FORMS],
    *[{"residual": True, "norm": "batchnorm", "dropout": 0.2, **form}
      for form in RESIDUAL_FORMS],
    {"dropout": 0.3, "activation": "sigmoid"},
])
def test_gradients_agree_with_finite_differences(changes):
    config = training_network_config(small_net(dtype="float64", width=6, **changes), SMALL)
    network = build_network(config)
    if network.biases[0] is None:
        network.biases = [np.zeros(w.shape[1]) for w in network.weights]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 2))
    upstream = rng.standard_normal((7, 1))
    _, grad_w, grad_b = parameter_gradients(config, network, x, upstream)

    def loss():
        out, _, _ = parameter_gradients(config, network, x, upstream)
        return float((out * upstream).sum())

    h = 1e-6
    for arrays, grads in ((network.weights, grad_w), (network.biases, grad_b)):
        for array, grad in zip(arrays, grads):
            numeric = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                original = array[index]
                array[index] = original + h
                plus = loss()
                array[index] = original - h
                minus = loss()
                array[index] = original
                numeric[index] = (plus - minus) / (2 * h)
            np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def test_a_backward_overflow_is_named_not_raised():
    # Tiny first layer, huge later ones: the forward stays finite (tanh is not saturated), the
    # gradient reaching layer 1 is ≈ 1e20 · 1e20 > float32's 3.4e38.
    config = NetworkConfig(widths=(2, 4, 4, 1))
    network = build_network(config)
    network.weights = [np.full((2, 4), 1e-25, np.float32), np.full((4, 4), 1e20, np.float32),
                       np.full((4, 1), 1e20, np.float32)]
    result = train(config, SMALL, network=network)
    assert result.first_nonfinite == (0, 1, "backward")
    assert result.history["step"].tolist() == [0]
    assert math.isnan(result.history.grad_norm.iloc[0])


def test_regression_trains_with_mse_and_has_no_accuracy():
    tc = TrainConfig(dataset="reg_plane", n_points=200, lr=0.05, batch_size=20, steps=200,
                     record_every=50)
    result = train(small_net(), tc)
    h = result.history
    assert h.train_acc.isna().all() and h.test_acc.isna().all()
    assert h.test_loss.iloc[-1] < 0.1 * h.test_loss.iloc[0]
    data = make_dataset(tc)
    # Step 0's loss is the mean squared error of the initial network's predictions.
    assert h.train_loss.iloc[0] > 0


def test_snapshots_show_the_learned_decision_function():
    result = train(NetworkConfig(depth=4, width=32), TrainConfig(
        dataset="circle", lr=0.1, batch_size=25, steps=300, record_every=10))
    s = result.snapshots
    assert s.steps[0] == 0 and s.steps[-1] == 300 and len(s.steps) <= 26
    assert s.values.shape == (len(s.steps), len(s.grid_y), len(s.grid_x))
    assert (s.grid_x[0], s.grid_x[-1]) == (-6.0, 6.0)
    centre = s.values[-1][len(s.grid_y) // 2, len(s.grid_x) // 2]
    corner = s.values[-1][0, 0]
    assert centre > 0 > corner  # inside the disc → label 1, the corner → 0


def torch_model(torch, config, network):
    """The same network in torch: Linear (weight = our Wᵀ), BatchNorm1d / LayerNorm without
    affine parameters, φ, residual (post form: h + s·Norm(φ(Norm(hW + b))); pre form:
    h + s·(φ(Norm(h))W + b), the norm on the layer's input); the last layer linear."""
    activation = {"tanh": torch.tanh, "relu": torch.relu, "gelu": torch.nn.functional.gelu}[
        config.activation]
    pre = config.residual and getattr(config, "residual_form", "post") == "pre"
    linears = []
    for w, b in zip(network.weights, network.biases):
        linear = torch.nn.Linear(w.shape[0], w.shape[1]).double()
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(w.T))
            linear.bias.copy_(torch.tensor(b) if b is not None else torch.zeros(w.shape[1]))
        linears.append(linear)
    norms = []
    for w in network.weights[:-1]:
        width = w.shape[0] if pre else w.shape[1]
        if config.norm == "batchnorm":
            norms.append(torch.nn.BatchNorm1d(width, affine=False,
                                              momentum=config.bn_momentum).double())
        elif config.norm == "layernorm":
            norms.append(torch.nn.LayerNorm(width, elementwise_affine=False).double())
        else:
            norms.append(None)

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linears = torch.nn.ModuleList(linears)
            self.norms = torch.nn.ModuleList([n for n in norms if n is not None])

        def forward(self, h):
            for index, linear in enumerate(self.linears[:-1]):
                norm = norms[index]
                branch = h if pre else linear(h)
                if norm is not None and config.norm_position == "before":
                    branch = norm(branch)
                branch = activation(branch)
                if norm is not None and config.norm_position == "after":
                    branch = norm(branch)
                if pre:
                    branch = linear(branch)
                if config.residual:
                    projection = network.projections[index]
                    skip = h if projection is None else h @ torch.tensor(projection)
                    h = skip + config.residual_scale * branch
                else:
                    h = branch
            return self.linears[-1](h)

    return Model()


@pytest.mark.parametrize("net_changes,train_changes", [
    ({}, {"optimizer": "sgd"}),
    ({"activation": "relu", "init": "kaiming_normal"},
     {"optimizer": "momentum", "l2": 0.01, "l1": 0.001}),
    # Not with l1: a bias before BatchNorm has a zero gradient computed as rounding noise,
    # whose sign l1·sign(b) then turns into real steps (and moves the running mean).
    ({"norm": "batchnorm"}, {"optimizer": "adam", "lr": 0.01}),
    ({"norm": "batchnorm", "norm_position": "after", "bn_momentum": 0.3},
     {"optimizer": "sgd", "clip": "norm", "clip_threshold": 0.05}),
    ({"norm": "layernorm", "activation": "gelu"},
     {"optimizer": "momentum", "clip": "value", "clip_threshold": 0.01}),
    *[({"residual": True, "residual_scale": 0.5, **form},
       {"optimizer": "adam", "lr": 0.01, "l2": 0.1}) for form in RESIDUAL_FORMS],
    *[({"residual": True, "norm": "batchnorm", "activation": "relu", **form},
       {"optimizer": "sgd"}) for form in RESIDUAL_FORMS],
])
def test_a_run_equals_the_same_training_in_torch(net_changes, train_changes):
    torch = pytest.importorskip("torch")
    config = small_net(dtype="float64", **net_changes)
    tc = TrainConfig(dataset="circle", n_points=40, batch_size=20, steps=6, record_every=1,
                     lr=0.1, **{k: v for k, v in train_changes.items() if k != "lr"}).replace(
        lr=train_changes.get("lr", 0.1))
    result = train(config, tc)
    data = make_dataset(tc)
    network = build_network(result.config)
    model = torch_model(torch, result.config, network)
    if tc.optimizer == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=tc.lr, weight_decay=tc.l2)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=tc.lr, weight_decay=tc.l2,
                                    momentum=tc.momentum if tc.optimizer == "momentum" else 0)
    x, y = torch.tensor(data.x_train), torch.tensor(data.y_train)
    bce = torch.nn.BCEWithLogitsLoss()
    losses = []
    for _ in range(tc.steps):
        model.eval()
        with torch.no_grad():
            losses.append(float(bce(model(x), y)))
        model.train()
        optimizer.zero_grad()
        loss = bce(model(x), y) + tc.l1 * sum(p.abs().sum() for p in model.parameters())
        loss.backward()
        if tc.clip == "norm":
            torch.nn.utils.clip_grad_norm_(model.parameters(), tc.clip_threshold)
        elif tc.clip == "value":
            torch.nn.utils.clip_grad_value_(model.parameters(), tc.clip_threshold)
        optimizer.step()
    # Our GELU's erf is a fit with |error| < 1.2e-7 (core/activations.py); the rest is exact.
    tol = 1e-6 if config.activation == "gelu" else 1e-9
    np.testing.assert_allclose(result.history.train_loss.iloc[:tc.steps], losses, rtol=tol)
    for ours, linear in zip(zip(result.network.weights, result.network.biases), model.linears):
        np.testing.assert_allclose(ours[0], linear.weight.detach().numpy().T,
                                   rtol=max(tol, 1e-8),
                                   atol=1e-8 if config.activation == "gelu" else 1e-12)
        # A bias right before BatchNorm has a zero gradient, computed as rounding noise
        # (≈ 1e-17) that Adam scales to steps of ≈ lr·1e-9: equal up to that.
        np.testing.assert_allclose(ours[1], linear.bias.detach().numpy(), rtol=max(tol, 1e-8),
                                   atol=1e-8 if config.activation == "gelu" else 1e-9)
    if config.norm == "batchnorm":
        for (mean, var), norm in zip(result.network.running, model.norms):
            np.testing.assert_allclose(mean, norm.running_mean.numpy(), rtol=1e-8, atol=1e-12)
            np.testing.assert_allclose(var, norm.running_var.numpy(), rtol=1e-8)


def test_a_passed_network_is_left_as_it_was():
    config = training_network_config(small_net(norm="batchnorm"), SMALL)
    network = build_network(config)
    before = [w.copy() for w in network.weights]
    result = train(config, SMALL, network=network)
    for w, b in zip(network.weights, before):
        np.testing.assert_array_equal(w, b)
    assert network.running == [] and len(result.network.running) == 2
    assert not np.array_equal(result.network.weights[0], before[0])


def test_lsuv_calibrates_on_the_training_split_then_trains():
    config = small_net(init="lsuv", activation="relu")
    result = train(config, SMALL)
    assert result.first_nonfinite is None
    orthogonal = build_network(training_network_config(config, SMALL)).weights[1]
    calibrated = train(config, SMALL.replace(lr=0.0)).network.weights[1]
    ratio = calibrated / orthogonal  # one scale per layer
    assert np.allclose(ratio, ratio.flat[0]) and not np.isclose(ratio.flat[0], 1.0)


def test_on_record_is_given_each_recorded_row_and_snapshot_and_changes_nothing():
    seen = []
    config = SMALL.replace(steps=25)
    told = train(small_net(), config,
                 on_record=lambda step, steps, row, snapshot: seen.append(
                     (step, steps, row, None if snapshot is None else snapshot.copy())))
    plain = train(small_net(), config)
    pd.testing.assert_frame_equal(told.history, plain.history)
    assert [s for s, *_ in seen] == [0, 10, 20, 25] and {n for _, n, *_ in seen} == {25}
    rows = pd.DataFrame([row for *_, row, _ in seen], columns=list(HISTORY_COLUMNS))
    rows["clipped"] = rows["clipped"].astype(bool)
    pd.testing.assert_frame_equal(rows, plain.history[list(HISTORY_COLUMNS)])
    snapshots = [(step, values) for step, _, _, values in seen if values is not None]
    assert [step for step, _ in snapshots] == list(plain.snapshots.steps)
    for (_, values), expected in zip(snapshots, plain.snapshots.values):
        np.testing.assert_array_equal(values, expected)


def test_a_run_that_stops_early_is_told_its_last_row():
    config = NetworkConfig(widths=(2, 4, 4, 1))  # as in the backward-overflow test above
    network = build_network(config)
    network.weights = [np.full((2, 4), 1e-25, np.float32), np.full((4, 4), 1e20, np.float32),
                       np.full((4, 1), 1e20, np.float32)]
    seen = []
    result = train(config, SMALL, network=network,
                   on_record=lambda step, steps, row, snapshot: seen.append((step, row)))
    assert result.first_nonfinite == (0, 1, "backward")
    assert [step for step, _ in seen] == [0] and math.isnan(seen[0][1][6])  # grad_norm
