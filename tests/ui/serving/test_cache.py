"""The cached core: one computation per distinct experiment, shared by every session."""

from ui.serving import cache
from core import NetworkConfig


def test_equal_configs_compute_once(monkeypatch):
    calls = []
    real = cache.simulate

    def counting(config):
        calls.append(config)
        return real(config)

    monkeypatch.setattr(cache, "simulate", counting)
    cache.simulation.clear()
    first = cache.simulation(NetworkConfig(depth=3, width=16, batch_size=8, seed=1))
    again = cache.simulation(NetworkConfig(depth=3, width=16, batch_size=8, seed=1))
    other = cache.simulation(NetworkConfig(depth=3, width=16, batch_size=8, seed=2))
    assert len(calls) == 2
    assert again.layer_stats.equals(first.layer_stats)
    assert not other.layer_stats.equals(first.layer_stats)
    cache.simulation.clear()


def test_what_the_explorer_derives_is_computed_once_per_config(monkeypatch):
    from core import diagnose
    from core.theory import agreement, predict

    calls = []
    real_diagnose, real_agreement = cache.diagnose, cache.agreement
    monkeypatch.setattr(cache, "diagnose",
                        lambda result: calls.append("diagnose") or real_diagnose(result))
    monkeypatch.setattr(cache, "agreement",
                        lambda stats, table: calls.append("agreement") or real_agreement(stats,
                                                                                          table))
    cache.findings.clear()
    cache.theory_agreement.clear()
    config = NetworkConfig(depth=4, width=32, batch_size=16, activation="relu", seed=3)
    result = cache.simulate(config)
    prediction = predict(config)
    for _ in range(3):
        assert cache.findings(config, result) == diagnose(result)
        assert cache.theory_agreement(config, result, prediction) == agreement(
            result.layer_stats, prediction.table)
    assert calls == ["diagnose", "agreement"]
    other = NetworkConfig(depth=4, width=32, batch_size=16, activation="relu", seed=4)
    cache.findings(other, cache.simulate(other))
    assert calls == ["diagnose", "agreement", "diagnose"]
    cache.findings.clear()
    cache.theory_agreement.clear()
