"""The cached core: one computation per distinct experiment, shared by every session."""

import ui.serving.cache
from core import NetworkConfig


def test_equal_configs_compute_once(monkeypatch):
    calls = []
    real = ui.serving.cache.simulate

    def counting(config):
        calls.append(config)
        return real(config)

    monkeypatch.setattr(ui.serving.cache, "simulate", counting)
    ui.serving.cache.simulation.clear()
    first = ui.serving.cache.simulation(NetworkConfig(depth=3, width=16, batch_size=8, seed=1))
    again = ui.serving.cache.simulation(NetworkConfig(depth=3, width=16, batch_size=8, seed=1))
    other = ui.serving.cache.simulation(NetworkConfig(depth=3, width=16, batch_size=8, seed=2))
    assert len(calls) == 2
    assert again.layer_stats.equals(first.layer_stats)
    assert not other.layer_stats.equals(first.layer_stats)
    ui.serving.cache.simulation.clear()


def test_what_the_explorer_derives_is_computed_once_per_config(monkeypatch):
    from core import diagnose
    from core.theory import agreement, predict

    calls = []
    real_diagnose, real_agreement = ui.serving.cache.diagnose, ui.serving.cache.agreement
    monkeypatch.setattr(ui.serving.cache, "diagnose",
                        lambda result: calls.append("diagnose") or real_diagnose(result))
    monkeypatch.setattr(ui.serving.cache, "agreement",
                        lambda stats, table: calls.append("agreement") or real_agreement(stats,
                                                                                          table))
    ui.serving.cache.findings.clear()
    ui.serving.cache.theory_agreement.clear()
    config = NetworkConfig(depth=4, width=32, batch_size=16, activation="relu", seed=3)
    result = ui.serving.cache.simulate(config)
    prediction = predict(config)
    for _ in range(3):
        assert ui.serving.cache.findings(config, result) == diagnose(result)
        assert ui.serving.cache.theory_agreement(config, result, prediction) == agreement(
            result.layer_stats, prediction.table)
    assert calls == ["diagnose", "agreement"]
    other = NetworkConfig(depth=4, width=32, batch_size=16, activation="relu", seed=4)
    ui.serving.cache.findings(other, ui.serving.cache.simulate(other))
    assert calls == ["diagnose", "agreement", "diagnose"]
    ui.serving.cache.findings.clear()
    ui.serving.cache.theory_agreement.clear()
