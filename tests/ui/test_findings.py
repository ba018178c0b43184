"""Findings in words, and the headline "first layer in trouble"."""

from __future__ import annotations

from core import Finding, NetworkConfig, diagnose, simulate
from ui.findings import finding_sentence, headline_layer
from ui.frame.i18n import translate
from ui.presets import preset_config


def en(key, **values):
    return translate("en", key, **values)


def test_zero_init_is_in_trouble_from_layer_1_by_symmetry():
    findings = diagnose(simulate(preset_config("zero_init")))
    assert headline_layer(findings) == (1, "symmetry")


def test_saturating_tanh_is_in_trouble_from_layer_1():
    findings = diagnose(simulate(preset_config("tanh_large")))
    assert headline_layer(findings) == (1, "saturation")


def test_overflow_wins_and_a_backward_finding_is_used_only_alone():
    overflow = Finding("forward_overflow", "problem", 36)
    dead = Finding("dead_units", "warning", 9, fraction=0.4)
    assert headline_layer([dead, overflow]) == (36, "forward_overflow")
    back = Finding("backward_exploding", "problem", 8, ratio=3e4)
    assert headline_layer([back]) == (8, "backward_exploding")
    assert headline_layer([back, Finding("forward_vanishing", "problem", 3, ratio=1e-5)]) == \
        (3, "forward_vanishing")
    assert headline_layer([Finding("healthy", "ok")]) == (None, None)


def test_collapse_headline_is_where_the_signal_vanishes():
    findings = diagnose(simulate(NetworkConfig(activation="tanh", init="normal",
                                               init_std=0.01)))
    layer, kind = headline_layer(findings)
    assert kind == "forward_vanishing" and layer == next(
        f.layer for f in findings if f.code == "forward_vanishing")


def test_english_says_ratios_as_ratios_not_amounts():
    vanishing = Finding("forward_vanishing", "problem", 3, ratio=4.6e-15, per_layer=0.026)
    sentence = finding_sentence(vanishing, en)
    assert "falls by" not in sentence and "shrinks to 4.6e-15 of layer 1's" in sentence
    exploding = Finding("forward_exploding", "problem", 3, ratio=2.2e14, per_layer=40)
    assert "grows 2.2e+14-fold" in finding_sentence(exploding, en)
    healthy = Finding("healthy", "ok", ratio=0.13, extra={"backward_ratio": 0.15})
    assert "changes by" not in finding_sentence(healthy, en)
