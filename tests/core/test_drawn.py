"""DrawnLayers: a memo of drawn weights that changes no result, and keeps what is used most."""

import threading
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core import NetworkConfig, simulate
from core.drawn import DrawnLayers
from core.simulate import build_network, simulate_depths

from .same_result import assert_same_result

#: Every way a network is drawn or run that could differ: each init family, biases an init
#: draws itself, residual projections between differing widths, norms, dropout, BN eval.
CONFIGS = [
    NetworkConfig(depth=6, width=24, batch_size=16, activation="relu", init="kaiming_normal"),
    NetworkConfig(depth=5, width=24, batch_size=16, activation="tanh", init="xavier_uniform",
                  norm="batchnorm", bn_mode="eval", bn_passes=2),
    NetworkConfig(depth=5, width=24, batch_size=16, init="orthogonal", norm="layernorm"),
    NetworkConfig(depth=5, width=24, batch_size=16, init="torch_default", dropout=0.3),
    NetworkConfig(widths=(24, 32, 16, 16, 8), batch_size=16, activation="relu",
                  init="kaiming_uniform", residual=True, norm="batchnorm"),
    NetworkConfig(depth=4, width=24, batch_size=16, init="truncated_normal", init_std=0.5,
                  bias_init="normal", bias_std=0.1, dtype="float64"),
]


def _weights_equal(a, b):
    return len(a.weights) == len(b.weights) and all(
        x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(a.weights, b.weights))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.init}-{c.norm}")
def test_a_memo_changes_no_result(config):
    memo = DrawnLayers(2**24)
    fresh = simulate(config)
    for _ in range(2):  # the second run takes every matrix from the memo
        result = simulate(config, build_network(config, memo))
        pd.testing.assert_frame_equal(result.layer_stats, fresh.layer_stats)
        assert result.loss == fresh.loss
    assert memo.hits == config.depth and memo.misses == config.depth


def test_a_deeper_network_takes_the_shallower_ones_layers():
    memo = DrawnLayers(2**24)
    shallow = NetworkConfig(depth=7, width=32, batch_size=8, seed=3)
    deep = NetworkConfig(depth=12, width=32, batch_size=8, seed=3)
    build_network(shallow, memo)
    network = build_network(deep, memo)
    assert (memo.hits, memo.misses) == (0 + 7, 7 + 5)
    assert _weights_equal(network, build_network(deep))
    other_seed = build_network(NetworkConfig(depth=7, width=32, batch_size=8, seed=4), memo)
    assert memo.hits == 7  # another seed is another family
    assert not np.array_equal(other_seed.weights[0], network.weights[0])


def test_the_init_scale_is_part_of_the_family():
    memo = DrawnLayers(2**24)
    small = build_network(NetworkConfig(depth=3, width=16, init="normal", init_std=0.01), memo)
    large = build_network(NetworkConfig(depth=3, width=16, init="normal", init_std=1.0), memo)
    assert memo.hits == 0
    np.testing.assert_allclose(large.weights[0], small.weights[0] * 100, rtol=1e-5)


def test_memo_entries_are_read_only_and_lsuv_is_built_without_them():
    memo = DrawnLayers(2**24)
    network = build_network(NetworkConfig(depth=3, width=16), memo)
    with pytest.raises(ValueError):
        network.weights[0][0, 0] = 1.0
    lsuv = NetworkConfig(depth=3, width=16, init="lsuv")
    calibrated = build_network(lsuv, memo)
    assert len(memo) == 3  # only the first network's layers
    simulate(lsuv, calibrated)  # rescales its weights in place
    assert all(w.flags.writeable for w in calibrated.weights)


def _matrix(nbytes_each=1024):
    return lambda: np.zeros(nbytes_each // 4, dtype=np.float32)


def test_the_bound_holds_and_the_deepest_layer_of_the_oldest_use_goes_first():
    memo = DrawnLayers(4 * 1024)  # four 1 KiB matrices
    first = memo.new_use()
    for layer in (1, 2, 3):
        memo.get("a", layer, _matrix(), first)
    second = memo.new_use()
    for layer in (1, 2):
        memo.get("b", layer, _matrix(), second)
    assert memo.nbytes <= memo.max_bytes
    # Room for b2 was made by a3, the deepest of the oldest use.
    assert {key for key in memo._entries} == {("a", 1), ("a", 2), ("b", 1), ("b", 2)}


def test_a_cycle_of_depths_beyond_the_bound_keeps_the_first_layers():
    memo = DrawnLayers(4 * 1024)
    for _ in range(3):
        use = memo.new_use()
        for layer in range(1, 9):  # a network of 8 layers, room for 4
            memo.get("net", layer, _matrix(), use)
    assert sorted(layer for _, layer in memo._entries) == [1, 2, 3, 4]
    assert memo.hits == 2 * 4  # the second and third build found layers 1–4


def test_a_matrix_larger_than_the_bound_is_returned_and_not_kept():
    memo = DrawnLayers(100)
    array = memo.get("net", 1, _matrix(1024), memo.new_use())
    assert array.shape == (256,) and len(memo) == 0 and memo.nbytes == 0
    with pytest.raises(ValueError, match="max_bytes"):
        DrawnLayers(-1)


def test_threads_building_the_same_network_get_the_same_weights():
    memo = DrawnLayers(2**24)
    config = NetworkConfig(depth=8, width=32, batch_size=8)
    reference = build_network(config)
    results, barrier = [], threading.Barrier(4)

    def build():
        barrier.wait()
        results.append(build_network(config, memo))

    threads = [threading.Thread(target=build) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 4 and all(_weights_equal(n, reference) for n in results)
    assert memo.nbytes == sum(w.nbytes for w in reference.weights)


# simulate_depths: one forward pass for a slider's depths -----------------------------------

#: One width throughout (simulate_depths' condition), every op, every loss, and the regimes
#: where a slip would show: overflow (NaN rows), underflow (subnormal rows), LSUV, BN eval.
DEPTH_CONFIGS = [
    NetworkConfig(depth=1, width=24, batch_size=16, activation="relu", init="kaiming_normal"),
    NetworkConfig(depth=1, width=24, batch_size=16, activation="tanh", norm="batchnorm",
                  bn_mode="eval", bn_passes=2, dropout=0.2),
    NetworkConfig(depth=1, width=24, batch_size=16, init="lsuv", loss="mse"),
    NetworkConfig(depth=1, width=24, batch_size=16, residual=True, norm="layernorm",
                  residual_form="pre", loss="cross_entropy", init="torch_default"),
    NetworkConfig(depth=1, width=24, batch_size=16, activation="relu", init="normal",
                  init_std=3.0, bias_init="constant", bias_value=0.1),  # overflows
    NetworkConfig(depth=1, width=24, batch_size=16, activation="tanh", init="normal",
                  init_std=0.01),  # underflows
    NetworkConfig(depth=1, width=24, batch_size=16, activation="gelu", dtype="float64"),
]


@pytest.mark.parametrize("config", DEPTH_CONFIGS,
                         ids=lambda c: f"{c.activation}-{c.init}-{c.norm}-{c.loss}")
def test_simulate_depths_is_simulate_at_each_depth_bit_for_bit(config):
    depths = [7, 1, 60, 12, 60]
    results = simulate_depths(config, depths, DrawnLayers(2**24))
    assert [r.config.depth for r in results] == depths
    for depth, result in zip(depths, results):
        want = simulate(replace(config, depth=depth))
        assert result.config == want.config
        assert_same_result(result, want)


def test_the_overflow_and_underflow_configs_reach_their_regime():
    """So that the bit-for-bit test above covers NaN rows and subnormal rows."""
    exploded = simulate(replace(DEPTH_CONFIGS[4], depth=60))
    assert exploded.first_nonfinite_layer is not None
    vanished = simulate(replace(DEPTH_CONFIGS[5], depth=60))
    assert vanished.first_subnormal_layer is not None


def test_simulate_depths_refuses_what_it_cannot_share():
    with pytest.raises(ValueError, match="one width"):
        simulate_depths(NetworkConfig(widths=(8, 16, 8)), [1, 2])
    with pytest.raises(ValueError, match="depths must lie"):
        simulate_depths(NetworkConfig(width=8), [0, 3])
    assert simulate_depths(NetworkConfig(width=8), []) == []
