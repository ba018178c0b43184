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


def test_trainings_run_together_and_are_shown_while_they_train(monkeypatch):
    from core import TrainConfig, train

    ui.serving.cache.training.clear()
    network = NetworkConfig(depth=3, width=16, activation="tanh", init="xavier_normal")
    pairs = [(network, TrainConfig(n_points=100, batch_size=10, steps=steps, record_every=5,
                                   lr=lr)) for steps, lr in ((400, 0.1), (300, 0.03))]
    # A report whenever a row is recorded, so that a short run is seen while it trains.
    monkeypatch.setattr(ui.serving.train_live, "REPORT_SECONDS", 0.0)
    seen = []
    results = ui.serving.cache.trainings(pairs, seen.append, poll_s=0.001, show_s=0.0)
    for (network, config), result in zip(pairs, results):
        assert result.history.equals(train(network, config).history)
    partial = [(kind, p) for states in seen for kind, p in states if kind == "training" and p]
    assert partial, "no run was shown while it trained"
    assert all(0 <= p.step <= p.steps and len(p.history) >= 1 for _, p in partial)
    assert all(len(states) == 2 for states in seen)
    # cached now: nothing to show, the same results
    again = []
    assert [r.history.equals(s.history) for r, s in zip(
        ui.serving.cache.trainings(pairs, again.append), results)] == [True, True]
    assert again == []
    ui.serving.cache.training.clear()


def test_many_pages_watching_share_a_bounded_number_of_redraws():
    live = ui.serving.cache.LiveTrainings()
    assert live.show_seconds(0.25) == 0.25
    with live.watching(), live.watching():
        assert live.watchers == 2 and live.show_seconds(0.25) == 0.25
    assert live.watchers == 0
    many = [live.watching() for _ in range(32)]
    for watch in many:
        watch.__enter__()
    # 32 pages: each redraws every 2 s, 16 pictures a second in all
    assert live.show_seconds(0.25) == 32 / ui.serving.cache.LIVE_DRAWS_PER_SECOND == 2.0
    for watch in many:
        watch.__exit__(None, None, None)
    assert live.watchers == 0
