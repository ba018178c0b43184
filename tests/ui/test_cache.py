"""The cached core: one computation per distinct experiment, shared by every session."""

import ui.cache
from core import NetworkConfig


def test_equal_configs_compute_once(monkeypatch):
    calls = []
    real = ui.cache.simulate

    def counting(config):
        calls.append(config)
        return real(config)

    monkeypatch.setattr(ui.cache, "simulate", counting)
    ui.cache.simulation.clear()
    first = ui.cache.simulation(NetworkConfig(depth=3, width=16, batch_size=8, seed=1))
    again = ui.cache.simulation(NetworkConfig(depth=3, width=16, batch_size=8, seed=1))
    other = ui.cache.simulation(NetworkConfig(depth=3, width=16, batch_size=8, seed=2))
    assert len(calls) == 2
    assert again.layer_stats.equals(first.layer_stats)
    assert not other.layer_stats.equals(first.layer_stats)
    ui.cache.simulation.clear()
