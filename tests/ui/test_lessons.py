"""Every lesson's claims hold on the run it is shown with.

Each Explorer and Compare preset is simulated (seeds 0–9 for the Explorer, 0–2 for its deep
lessons: a class may draw another); the numbers of its answer are the run's, formatted into the
catalogue text in both languages, and each qualitative claim ("flat", "halves", "≈ 90 %
saturate", "every unit identical", "overflows at layer N", …) is checked here against the layer
statistics with a tolerance. Each lesson's question has exactly one right choice on every one
of those runs (and with one or two BLAS threads), the one the lesson teaches; its notice states
no measured number.
"""

from __future__ import annotations

import math
import string
from functools import lru_cache

import numpy as np
import pytest

from core import NetworkConfig, backward_ratio, diagnose, forward_ratio, simulate
from ui.chart_style import HEALTHY_BAND
from ui.compare.logic import COMPARE_PRESETS
from ui.frame.i18n import LANGUAGES, catalogue, translate
from ui.lessons import (ADDRESSED, COMPARE_FACTS, EXPLORER_FACTS, QUESTIONS, SEQUENCE,
                        SETUP_FACTS, choices, compare_notice, formatted, holding_choices,
                        neighbours, percent, preset_facts, preset_text, right_choice,
                        setup_text)
from ui.presets import PRESETS, preset_config
from ui.setups import apply_diff

SEEDS = (0, 1)
#: The Explorer's lessons: all ten seeds (≈ 0.1–1 s a run once warm), but three for the deep
#: ones (50–100 layers; 50 orthogonal matrices cost 5–60 s a draw on the shared machine).
EXPLORER_SEEDS = tuple(range(10))
DEEP_LESSONS = ("orthogonal_linear", "relu_overflow", "residual_relu", "selu_lecun")
EXPLORER_CASES = [(preset_id, seed) for preset_id in PRESETS
                  for seed in (EXPLORER_SEEDS[:3] if preset_id in DEEP_LESSONS
                               else EXPLORER_SEEDS)]


@lru_cache(maxsize=None)
def run(preset_id: str, seed: int = 0):
    return simulate(preset_config(preset_id, seed=seed))


@lru_cache(maxsize=None)
def compare_runs(preset_id: str, seed: int = 0):
    preset = COMPARE_PRESETS[preset_id]
    return tuple(simulate(apply_diff(preset.config(seed=seed), d)) for d in preset.diffs())


def layers(result):
    return result.layer_stats.set_index("layer").loc[1:]


def tr_for(lang):
    return lambda key, **values: translate(lang, key, **values)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# --- the claims, preset by preset ----------------------------------------------------------

def claim_zero_init(result, facts):
    stats = layers(result)
    assert (stats["act_across_units_var"] == 0).all()  # every unit identical
    assert (stats["act_var"] == 0).all() and facts["act_var"] == 0
    assert (stats["grad_weight_norm"] == 0).all() and facts["weight_grad"] == 0
    assert facts["spread"] == 0


def claim_tanh_small(result, facts):
    stats = layers(result)
    config = result.config
    assert facts["gain"] == pytest.approx(config.width * config.init_std ** 2, rel=0.05)
    assert facts["measured"] == pytest.approx(facts["gain"], rel=0.2)  # geometric, as predicted
    assert 1e-14 < facts["last_var"] < 1e-12  # the classic ~1e-13 at layer 10, width 500
    assert facts["last_var"] == stats["act_var"].iloc[-1]
    assert facts["grad_ratio"] == backward_ratio(result.layer_stats) < 1e-6


def claim_tanh_large(result, facts):
    stats = layers(result)
    assert 12 < facts["std"] < 20
    assert 0.8 < facts["saturated_percent"] < 0.95  # "≈ 90 %"
    assert (stats["act_saturated_frac"] > 0.8).all()
    assert facts["grad_ratio"] > 100  # the gradient explodes going back


def claim_tanh_xavier(result, facts):
    stats = layers(result)
    steps = (stats["act_var"].iloc[1:].to_numpy() / stats["act_var"].iloc[:-1].to_numpy())
    assert np.all(np.diff(steps) > -0.05)  # slower and slower: not geometric
    assert facts["last_step"] > 0.8 > facts["first_step"]
    assert facts["forward"] > 1e-2 and facts["backward"] > 1e-2
    assert facts["saturated_percent"] < 0.05
    assert [f.code for f in diagnose(result)] == ["healthy"]


def claim_relu_xavier(result, facts):
    stats = layers(result)
    pre = stats["preact_var"].to_numpy()
    assert facts["measured"] == pytest.approx(0.5, abs=0.1)  # halves
    assert np.all((pre[1:] / pre[:-1] > 0.3) & (pre[1:] / pre[:-1] < 0.8))  # at every layer
    assert facts["grad_ratio"] < 1e-2


def claim_relu_he(result, facts):
    pre = layers(result)["preact_var"]
    assert pre.max() / pre.min() < 2  # flat
    assert 0.5 < facts["backward"] < 2


def claim_relu_overflow(result, facts):
    stats = result.layer_stats.set_index("layer")
    layer = facts["overflow_layer"]
    assert layer == result.first_nonfinite_layer
    assert stats.loc[layer, "nonfinite_frac"] > 0 and stats.loc[layer - 1, "nonfinite_frac"] == 0
    assert facts["expected"] == pytest.approx(128, rel=0.01)  # n/2, from the drawn weights
    assert facts["measured"] == pytest.approx(128, rel=0.15)
    assert facts["float_max"] == pytest.approx(3.4e38, rel=0.01)


def claim_orthogonal(result, facts):
    out = layers(result)["out_var"]
    np.testing.assert_allclose(out / out.iloc[0], 1.0, atol=1e-3)  # exactly where it started
    assert facts["forward"] == pytest.approx(1, abs=1e-3)
    assert facts["backward"] == pytest.approx(1, abs=1e-3)


def claim_bn_rescue(result, facts):
    unit = layers(result)["preact_unit_var"]
    assert unit.between(0.99, 1.01).all()  # re-standardised at every layer
    assert 0.5 < facts["forward"] < 2  # nothing collapses


def claim_bn_batch2(result, facts):
    stats = layers(result)
    # E[z²] = 1 and E[tanh(z)²] = tanh(1)²: tanh² is concave in z², so |z| = 1 everywhere
    # (within BatchNorm's ε: x̂ = (d/2)/√((d/2)² + ε) is a little under 1 where d is tiny).
    np.testing.assert_allclose(stats["preact_mean_square"], 1.0, rtol=2e-2)
    np.testing.assert_allclose(stats["act_mean_square"], math.tanh(1) ** 2, rtol=2e-2)
    assert facts["size"] == pytest.approx(math.tanh(1), rel=1e-2)
    exploding = next(f for f in diagnose(result) if f.code == "backward_exploding")
    assert facts["backward"] > 100 and facts["from_layer"] == exploding.layer


def claim_layernorm(result, facts):
    square = layers(result)["preact_mean_square"]
    assert square.between(0.99, 1.01).all()
    assert 0.5 < facts["forward"] < 2
    # No batch needed: the same with two samples.
    small = simulate(result.config.replace(batch_size=2))
    assert layers(small)["preact_mean_square"].between(0.98, 1.02).all()


def linear_fit(values):
    """(slope, R²) of the least-squares line through (layer, value)."""
    x = np.arange(len(values), dtype=float)
    slope, intercept = np.polyfit(x, values, 1)
    return slope, 1.0 - (values - (slope * x + intercept)).var() / values.var()


def assert_sums_not_products(result, step):
    """Linear in depth (R² > 0.99, slope = the notice's step) and not geometric: the growth
    factor per layer falls towards 1 instead of staying constant."""
    out = layers(result)["out_var"].to_numpy()
    slope, r_squared = linear_fit(out)
    assert r_squared > 0.99 and slope == pytest.approx(step, rel=0.1)
    factors = out[1:] / out[:-1]
    assert factors[-5:].mean() < 1.1 < factors[:3].mean()


def claim_residual(result, facts):
    assert_sums_not_products(result, facts["step"])
    grad = layers(result)["grad_out_var"]
    assert HEALTHY_BAND[0] <= grad.iloc[0] <= HEALTHY_BAND[1]  # the gradient reaching layer 1
    assert facts["backward"] == pytest.approx(grad.iloc[0] / grad.iloc[-1])
    assert result.config.residual_form == "pre"


def claim_sigmoid(result, facts):
    assert 0.45 < facts["mean"] < 0.55
    assert 1 / 32 < facts["grad_step"] < 1 / 8  # about 1/16
    assert facts["grad_ratio"] < 1e-6


def claim_scaled_sigmoid(result, facts):
    tanh = simulate(result.config.replace(activation="tanh"))
    assert facts["mean"] < 0.02
    assert facts["forward"] == pytest.approx(forward_ratio(tanh.layer_stats), rel=1.5)
    assert facts["backward"] == pytest.approx(backward_ratio(tanh.layer_stats), rel=1.5)
    assert facts["backward"] > 1e-2


def claim_selu(result, facts):
    stats = layers(result)
    assert stats["act_mean"].abs().max() < 0.05
    assert stats["act_var"].between(0.9, 1.1).all()  # at every layer, on their own
    assert abs(facts["mean"]) < 0.05 and facts["var"] == pytest.approx(1, abs=0.1)


def claim_raw_features(result, facts):
    assert facts["input_var"] > 1e3
    assert facts["saturated_percent"] > 0.9


def claim_raw_zscore(result, facts):
    assert facts["input_var"] == pytest.approx(1, abs=0.01)
    assert 0.5 < facts["preact"] < 2
    assert facts["saturated_percent"] < 0.05


CLAIMS = {
    "zero_init": claim_zero_init, "tanh_small": claim_tanh_small,
    "tanh_large": claim_tanh_large, "tanh_xavier": claim_tanh_xavier,
    "relu_xavier": claim_relu_xavier, "relu_he": claim_relu_he,
    "relu_overflow": claim_relu_overflow, "orthogonal_linear": claim_orthogonal,
    "bn_rescue": claim_bn_rescue, "bn_batch2": claim_bn_batch2, "layernorm": claim_layernorm,
    "residual_relu": claim_residual, "sigmoid": claim_sigmoid,
    "scaled_sigmoid": claim_scaled_sigmoid, "selu_lecun": claim_selu,
    "raw_features": claim_raw_features, "raw_zscore": claim_raw_zscore,
}


def test_every_preset_has_claims_checked():
    assert set(CLAIMS) == set(PRESETS) == set(EXPLORER_FACTS)


@pytest.mark.parametrize("preset_id,seed", EXPLORER_CASES)
def test_every_notice_claim_holds_on_the_run(preset_id, seed):
    result = run(preset_id, seed)
    CLAIMS[preset_id](result, preset_facts(preset_id, result))


@pytest.mark.parametrize("lang", list(LANGUAGES))
@pytest.mark.parametrize("preset_id", list(PRESETS))
def test_notice_question_and_answer_carry_the_runs_numbers(preset_id, lang):
    result = run(preset_id)
    shown = formatted(preset_facts(preset_id, result))
    before = [f"preset.{preset_id}.notice", f"lesson.{preset_id}.question"] + [
        f"lesson.{preset_id}.choice.{choice}" for choice in choices(preset_id)]
    for key in before + [f"lesson.{preset_id}.answer"]:
        template = catalogue(lang)[key]
        assert placeholders(template) <= set(shown), (key, placeholders(template) - set(shown))
    # Before the answer, only what the network is: no measured number gives the answer away.
    for key in before:
        assert placeholders(catalogue(lang)[key]) <= set(SETUP_FACTS), key
    for kind in ("notice", "question"):
        text = setup_text(kind, preset_id, result.config, tr_for(lang))
        assert "{" not in text and text == preset_text(kind, preset_id, result, tr_for(lang))
    text = preset_text("answer", preset_id, result, tr_for(lang))
    assert "{" not in text
    template = catalogue(lang)[f"lesson.{preset_id}.answer"]
    for name in placeholders(template):
        assert shown[name] in text, name
    # The answer has measured numbers: a claim without one is not a lesson here.
    assert placeholders(template) - set(SETUP_FACTS)


# --- the questions -------------------------------------------------------------------------

#: What each lesson teaches, as its right choice (the page computes it from the run shown).
TAUGHT = {
    "zero_init": "identical", "tanh_small": "smaller", "tanh_large": "larger",
    "tanh_xavier": "slowing", "relu_xavier": "half", "relu_he": "flat",
    "relu_overflow": "middle", "orthogonal_linear": "all", "bn_rescue": "same",
    "bn_batch2": "sign", "layernorm": "one", "residual_relu": "sum", "sigmoid": "smaller",
    "scaled_sigmoid": "same", "selu_lecun": "kept", "raw_features": "most", "raw_zscore": "none",
}


def test_every_lesson_asks_two_to_four_choices_each_with_a_text():
    assert set(TAUGHT) == set(QUESTIONS) == set(PRESETS)
    for preset_id in PRESETS:
        ids = choices(preset_id)
        assert 2 <= len(ids) <= 4 and len(set(ids)) == len(ids) and TAUGHT[preset_id] in ids
        for lang in LANGUAGES:
            texts = [catalogue(lang).get(f"lesson.{preset_id}.choice.{c}") for c in ids]
            assert all(texts) and len(set(texts)) == len(texts), (preset_id, lang)


@pytest.mark.parametrize("preset_id,seed", EXPLORER_CASES)
def test_exactly_one_choice_is_right_and_it_is_what_the_lesson_teaches(preset_id, seed):
    result = run(preset_id, seed)
    assert holding_choices(preset_id, result) == (TAUGHT[preset_id],)
    assert right_choice(preset_id, result) == TAUGHT[preset_id]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("preset_id", list(PRESETS))
def test_the_right_choice_does_not_depend_on_the_blas_threads(preset_id, threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
        result = simulate(preset_config(preset_id, seed=1))
    assert holding_choices(preset_id, result) == (TAUGHT[preset_id],)


def test_a_run_that_settles_nothing_has_no_right_choice():
    """Between the bands there is no answer, and the page then shows no verdict: tanh with
    N(0, 0.035²) at width 500 multiplies the variance by n·σ² ≈ 0.61 a layer, ≈ 0.01 over the
    nine steps — neither "about the same" (≥ 0.1) nor "1,000× smaller" (< 0.001)."""
    result = simulate(preset_config("tanh_small").replace(init_std=0.035))
    assert 1e-3 < preset_facts("tanh_small", result)["act_ratio"] < 0.1
    assert holding_choices("tanh_small", result) == ()
    assert right_choice("tanh_small", result) is None


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("preset_id", list(PRESETS))
def test_the_answer_names_every_other_alert_on_screen(preset_id, seed):
    result = run(preset_id, seed)
    text = preset_text("answer", preset_id, result, tr_for("en"))
    for finding in diagnose(result):
        if finding.severity == "ok":
            continue
        if finding.code in ADDRESSED.get(preset_id, ()):
            continue
        opening = translate("en", f"lesson.also.{finding.code}").split(":")[0]
        assert opening in text, (preset_id, finding.code)


def test_relu_he_says_flat_first_and_names_dead_units_as_a_side_note():
    he = run("relu_he")
    assert any(f.code == "dead_units" for f in diagnose(he))
    text = preset_text("answer", "relu_he", he, tr_for("en"))
    assert text.startswith("It stays flat") and "healthy band" in text
    assert text.index("Side note:") > text.index("healthy band")
    zero = run("zero_init")
    assert "Side note" not in preset_text("answer", "zero_init", zero, tr_for("en"))


def test_the_tanh_collapse_is_the_classic_width_500_figure():
    config = preset_config("tanh_small")
    assert config.width == 500 and config.depth == 10 and config.init_std == 0.01


def test_a_chinese_answer_joins_sentences_without_spaces():
    result = run("relu_he")
    text = preset_text("answer", "relu_he", result, tr_for("zh"))
    assert "。 " not in text and "附注" in text


def test_percentages_never_round_to_a_false_0_or_100():
    assert percent(0.9975) == "99.8" and percent(1.0) == "100"
    assert percent(0.004) == "0.4" and percent(0.0) == "0" and percent(0.87) == "87"
    assert percent(float("nan")) == "—"


# --- the sequence --------------------------------------------------------------------------

def test_the_sequence_follows_the_notes_order():
    order = list(SEQUENCE)
    notes = ["zero_init", "tanh_small", "tanh_large", "tanh_xavier", "relu_xavier", "relu_he",
             "orthogonal_linear", "bn_rescue", "layernorm", "residual_relu", "scaled_sigmoid"]
    assert [p for p in order if p in notes] == notes
    assert order == list(PRESETS)


def test_previous_and_next_walk_the_whole_sequence():
    assert neighbours(SEQUENCE[0])[0] is None and neighbours(SEQUENCE[-1])[1] is None
    walked = [SEQUENCE[0]]
    while (following := neighbours(walked[-1])[1]) is not None:
        assert neighbours(following)[0] == walked[-1]
        walked.append(following)
    assert walked == list(SEQUENCE)


# --- Compare presets -----------------------------------------------------------------------

def compare_claim_tanh_init(facts):
    assert facts["small_forward"] < 1e-6
    assert facts["large_saturated_percent"] > 0.8 and facts["large_backward"] > 100
    for name in ("xavier_forward", "xavier_backward"):
        assert 1e-2 < facts[name] < 1e2


def compare_claim_relu_init(facts):
    assert facts["xavier_step"] == pytest.approx(0.5, abs=0.1)
    assert facts["he_step"] == pytest.approx(1, abs=0.05)


def compare_claim_relu_norm(facts):
    assert facts["plain_forward"] < 1e-6 and facts["plain_backward"] < 1e-6
    for name in ("bn_forward", "ln_forward", "ln_backward"):
        assert 0.5 < facts[name] < 2
    assert facts["bn_backward"] > 1e3  # BatchNorm's gradient multiplies up
    assert facts["residual_last"] > facts["residual_first"]
    for name in ("residual_backward", "residual_ln_backward"):  # last layer's ≈ 1
        assert HEALTHY_BAND[0] < facts[name] < HEALTHY_BAND[1]


def compare_claim_sigmoid_tanh(facts):
    assert facts["sigmoid_backward"] < 1e-6 and 0.45 < facts["sigmoid_mean"] < 0.55
    assert facts["scaled_backward"] == pytest.approx(facts["tanh_backward"], rel=2)
    assert facts["scaled_backward"] > 1e-2


def compare_claim_bn_position(facts):
    assert facts["before_unit"] == pytest.approx(1, abs=0.02)
    assert facts["before_backward"] > 10 and facts["after_backward"] > 10


def compare_claim_bn_batch(facts):
    assert facts["two_backward"] > 1e3
    assert facts["many_backward"] < 100


COMPARE_CLAIMS = {
    "tanh_init": compare_claim_tanh_init, "relu_init": compare_claim_relu_init,
    "relu_norm": compare_claim_relu_norm, "sigmoid_tanh": compare_claim_sigmoid_tanh,
    "bn_position": compare_claim_bn_position, "bn_batch": compare_claim_bn_batch,
}


def test_every_compare_preset_has_facts_and_claims():
    assert set(COMPARE_CLAIMS) == set(COMPARE_FACTS) == set(COMPARE_PRESETS)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("preset_id", list(COMPARE_PRESETS))
def test_every_compare_notice_claim_holds(preset_id, seed):
    COMPARE_CLAIMS[preset_id](COMPARE_FACTS[preset_id](compare_runs(preset_id, seed)))


@pytest.mark.parametrize("setup", [3, 4])
def test_compare_residual_set_ups_add_instead_of_multiplying(setup):
    result = compare_runs("relu_norm")[setup]
    out = layers(result)["out_var"].to_numpy()
    assert_sums_not_products(result, (out[-1] - out[0]) / (len(out) - 1))


@pytest.mark.parametrize("lang", list(LANGUAGES))
@pytest.mark.parametrize("preset_id", list(COMPARE_PRESETS))
def test_compare_notices_carry_the_runs_numbers(preset_id, lang):
    results = compare_runs(preset_id)
    shown = formatted(COMPARE_FACTS[preset_id](results))
    template = catalogue(lang)[f"compare.preset.{preset_id}.notice"]
    assert placeholders(template) and placeholders(template) <= set(shown)
    text = compare_notice(preset_id, results, tr_for(lang))
    for name in placeholders(template):
        assert shown[name] in text
