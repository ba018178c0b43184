"""Subnormal values are kept, and where they start is reported (core/underflow.py)."""

import numpy as np
import pytest

from core import NetworkConfig, simulate
from core.underflow import first_subnormal_layers, smallest_normal, subnormal_rows


def test_smallest_normal_numbers():
    assert smallest_normal("float32") == 2.0 ** -126
    assert smallest_normal("float64") == 2.0 ** -1022


def _samples(rows, hits):
    """NaN-padded samples with a subnormal float32 entry in the given rows."""
    s = {q: np.full((rows, 6), np.nan) for q in ("preact", "act", "grad_out", "grad_preact")}
    for quantity, row in hits:
        s[quantity][row, :3] = (1.0, 0.0, 1e-40)
    return s


def test_rows_with_a_subnormal_entry_ignore_zeros_nans_and_normals():
    samples = np.array([[0.0, np.nan, 1.0], [1e-40, 1.0, 0.0], [-1e-39, 0.0, 0.0],
                        [1.2e-38, 0.0, 0.0]])
    assert subnormal_rows(samples, "float32").tolist() == [1, 2]
    assert subnormal_rows(samples, "float64").tolist() == []  # 1e-40 is normal in float64


def test_first_layer_forward_and_first_reached_backward():
    samples = _samples(8, [("act", 5), ("preact", 4), ("act", 6), ("act", 0),
                           ("grad_out", 2), ("grad_preact", 6)])
    # Row 0 is the input, not a layer; the backward pass meets layer 6 before layer 2.
    assert first_subnormal_layers(samples, "float32") == (4, 6)
    assert first_subnormal_layers(_samples(4, []), "float32") == (None, None)


def test_a_vanishing_linear_net_is_subnormal_from_the_layer_theory_says():
    # identity, W ~ N(0, σ²) with σ·√n = 1e-10: layer l has entries of order 1e-10^l, normal up
    # to layer 3 (1e-30), subnormal in float32 at layer 4 (1e-40), zero beyond.
    n = 64
    config = NetworkConfig(depth=6, width=n, batch_size=32, activation="identity",
                           init="normal", init_std=1e-10 / np.sqrt(n))
    result = simulate(config)
    assert result.first_subnormal_layer == 4
    # Backward from layer 6 the gradient shrinks by 1e-10 a layer: ∂L/∂out of layer 6 − k is
    # of order 1e-10^k, subnormal at k = 4, i.e. layer 2.
    assert result.first_subnormal_grad_layer == 2
    again = simulate(config)
    assert (again.first_subnormal_layer, again.first_subnormal_grad_layer) == (4, 2)
    assert again.layer_stats.equals(result.layer_stats)
    # The same net in float64 stays normal.
    wide = simulate(config.replace(dtype="float64"))
    assert (wide.first_subnormal_layer, wide.first_subnormal_grad_layer) == (None, None)


def test_subnormals_are_kept_not_flushed():
    # A single layer whose outputs are subnormal: they stay non-zero (no flush-to-zero).
    config = NetworkConfig(depth=1, width=64, batch_size=64, activation="identity",
                           init="normal", init_std=1e-41 / 8, dtype="float32")
    result = simulate(config)
    assert result.first_subnormal_layer == 1
    assert result.layer_stats.loc[1, "act_zero_frac"] < 0.5


@pytest.mark.parametrize("preset", [dict(), dict(init="zeros"), dict(activation="relu",
                                                                      init="kaiming_normal")])
def test_healthy_and_exactly_zero_nets_report_none(preset):
    result = simulate(NetworkConfig(depth=10, width=64, batch_size=64, **preset))
    assert (result.first_subnormal_layer, result.first_subnormal_grad_layer) == (None, None)
