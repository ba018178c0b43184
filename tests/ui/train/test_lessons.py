"""Every Train lesson's claim, checked for seeds 0–9 with one and with two BLAS threads.

A lesson (ui.train.logic.TRAIN_PRESETS, its notice in the catalogues) claims something of its set-ups'
runs; ``CLAIMS[preset_id](runs)`` states each claim as a number read from the runs and the bound
the text promises, and the test asserts every one for each seed. Seed ``s`` is the lesson's
weights (the network's seed, the sidebar's) and its data (the training seed: points, split,
batches, dropout masks) together. A claim that held at one seed only, or that flipped with the
BLAS kernel's summation order (a chaotic regime), is not a lesson: these tests fail on it.

Each lesson's question (ui.train.lessons) is checked on the same runs: exactly one choice holds,
and it is the one the notice teaches (``TAUGHT``).

``python -m tests.ui.train.test_lessons`` prints each claim's smallest and largest margin over
the seeds (how far from its bound the claim is), for choosing a lesson's setting.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from core import make_dataset, train
from ui.frame.i18n import LANGUAGES, translate
from ui.train.lessons import (QUESTIONS, choices, holding_choices, learners, poll_key,
                              right_choice, run_facts)
from ui.train.logic import (HEALTHY_BAND, STUCK, TRAIN_PRESETS, TrainPair, TrainRun,
                            build_setups, eval_jump, hidden_unit_spread, outcome,
                            result_sentence, symmetry_round_off, zero_weight_share)

SEEDS = range(10)
LN2 = math.log(2)


def en(key, **values):
    return translate("en", key, **values)


@dataclass(frozen=True)
class Claim:
    """``value`` (read from the runs) ``relation`` ``bound``: '>', '<' or '≤'."""

    what: str
    value: float
    relation: str
    bound: float

    @property
    def holds(self) -> bool:
        return {">": self.value > self.bound, "<": self.value < self.bound,
                "≤": self.value <= self.bound}[self.relation]

    def __str__(self) -> str:
        return f"{self.what}: {self.value:.4g} {self.relation} {self.bound:.4g}"


def above(what: str, value: float, bound: float) -> Claim:
    return Claim(what, float(value), ">", float(bound))


def below(what: str, value: float, bound: float) -> Claim:
    return Claim(what, float(value), "<", float(bound))


def at_most(what: str, value: float, bound: float) -> Claim:
    return Claim(what, float(value), "≤", float(bound))


SENTENCE = "the result sentence of "


def says(run: TrainRun, *texts: str) -> Claim:
    """The set-up's result sentence (what the student reads beside the charts) says these."""
    sentence = result_sentence(run, en)
    missing = [text for text in texts if text not in sentence]
    return Claim(f"{SENTENCE}{run.name!r}: missing {missing} in {sentence!r}", len(missing),
                 "≤", 0)


def stopped_at(run: TrainRun) -> str:
    step, layer, direction = run.result.first_nonfinite
    return f"at step {step} layer {layer} became non-finite ({direction}) and training stopped"


def lesson_runs(preset_id: str, seed: int) -> list[TrainRun]:
    """The lesson's set-ups at ``seed`` (weights and data), trained as the page trains them."""
    preset = TRAIN_PRESETS[preset_id]
    pair = preset.pair(seed=seed)
    base = TrainPair(pair.network, pair.training.replace(seed=seed))
    setups = build_setups(base, preset.setups, (), en)
    assert all(s.config is not None for s in setups), [s.error for s in setups]
    return [TrainRun(s, train(s.config.network, s.config.training),
                     make_dataset(s.config.training)) for s in setups]


def hidden_saturation(run: TrainRun, step: int = 0) -> float:
    """The mean saturated fraction of the hidden layers at ``step``."""
    layers = run.result.layer_history
    at = layers[(layers.step == step) & (layers.layer < run.result.config.depth)]
    return float(at.act_saturated_frac.mean())


def first_layer_saturation(run: TrainRun, step: int = 0) -> float:
    layers = run.result.layer_history
    return float(layers[(layers.step == step) & (layers.layer == 1)].act_saturated_frac.iloc[0])


def second_half_loss(run: TrainRun, column: str = "train_loss") -> float:
    losses = run.result.history[column].to_numpy(dtype=float)
    return float(np.mean(losses[len(losses) // 2:]))


def weight_norm(run: TrainRun) -> float:
    return float(np.sqrt(sum(float((w.astype(np.float64) ** 2).sum())
                             for w in run.result.network.weights)))


def stays_at_ln2(name: str, run: TrainRun) -> list[Claim]:
    """'the training loss never leaves ln 2': it starts there and moves by less than STUCK, and
    the set-up's sentence says so."""
    o = outcome(run.result)
    return [below(f"{name}: |start − ln 2|", abs(o.start_loss - LN2), 0.01),
            below(f"{name}: |end − start| / start", abs(o.end_loss - o.start_loss) / o.start_loss,
                  STUCK),
            says(run, "the training loss never moves from 0.693 (ln 2")]


# --- the claims, one function per lesson (the words are the notice's) ---------------------------

def init_claims(runs: Sequence[TrainRun]) -> list[Claim]:
    tiny, large, xavier, he = runs
    t = outcome(tiny.result)
    return [
        below("N(0, 0.01²): first layer's gradient at step 0 (below the healthy band)",
              t.first_grad, HEALTHY_BAND[0]),
        *stays_at_ln2("N(0, 0.01²)", tiny),
        says(tiny, f"the gradient of layer {t.smallest_layer} is {t.smallest_grad:.0e} at the "
             "start — below the healthy band", "the training loss never moves from 0.693 (ln 2"),
        above("N(0, 1²): hidden units saturated at step 0", hidden_saturation(large), 0.5),
        above("N(0, 1²): end training loss / Xavier's (learns poorly)",
              outcome(large.result).end_loss / outcome(xavier.result).end_loss, 10),
        above("Xavier: test accuracy", outcome(xavier.result).test_acc, 0.9),
        above("He: test accuracy", outcome(he.result).test_acc, 0.9),
    ]


def zero_init_claims(runs: Sequence[TrainRun]) -> list[Claim]:
    zeros, xavier = runs
    return [
        at_most("zeros: hidden units' spread (round-off at most)",
                hidden_unit_spread(zeros.result), symmetry_round_off(zeros.result)),
        *stays_at_ln2("zeros", zeros),
        above("Xavier: hidden units' spread", hidden_unit_spread(xavier.result), 0.1),
        above("Xavier: test accuracy", outcome(xavier.result).test_acc, 0.9),
    ]


def clipping_claims(runs: Sequence[TrainRun]) -> list[Claim]:
    plain, clipped, he = runs
    nonfinite = plain.result.first_nonfinite
    c = outcome(clipped.result)
    return [
        below("N(0, 1²): step of the first non-finite value (the run stops)",
              math.inf if nonfinite is None else nonfinite[0], plain.result.train_config.steps),
        below("clipped: runs that met a non-finite value", clipped.result.first_nonfinite
              is not None, 1),
        *([says(plain, stopped_at(plain))] if nonfinite is not None else []),
        above("clipped: share of recorded steps clipped", c.clipped_share, 0.9),
        above("clipped: end training loss (enormous)", c.end_loss, 100),
        above("He: test accuracy", outcome(he.result).test_acc, 0.9),
    ]


def learning_rate_claims(runs: Sequence[TrainRun]) -> list[Claim]:
    slow, right, large = runs
    s, r = outcome(slow.result), outcome(right.result)
    nonfinite = large.result.first_nonfinite
    return [
        above("too small: end / start training loss (falls by less than a quarter)",
              s.end_loss / s.start_loss, 0.75),
        below("right: end / start training loss", r.end_loss / r.start_loss, 0.1),
        above("right: test accuracy", r.test_acc, 0.9),
        below("too large: step of the first non-finite value (within 20 steps)",
              math.inf if nonfinite is None else nonfinite[0], 20),
        *([says(large, stopped_at(large))] if nonfinite is not None else []),
        says(slow, "the training loss goes from"),
    ]


def l1_l2_claims(runs: Sequence[TrainRun]) -> list[Claim]:
    plain, l1, l2 = runs
    return [
        above("L1: share of weights below 1e-3", zero_weight_share(l1.result), 0.2),
        above("L1: that share / the plain network's",
              zero_weight_share(l1.result) / max(zero_weight_share(plain.result), 1e-9), 5),
        below("L2: share of weights below 1e-3 (no spike)", zero_weight_share(l2.result), 0.05),
        below("L2: weight norm / the plain network's", weight_norm(l2) / weight_norm(plain), 0.7),
    ]


def loss_gap(run: TrainRun) -> float:
    """Test loss − training loss at the end."""
    o = outcome(run.result)
    return o.end_test_loss - o.end_loss


def dropout_claims(runs: Sequence[TrainRun]) -> list[Claim]:
    plain, dropped = runs
    return [
        above("no dropout: end test − training loss", loss_gap(plain), 0.5),
        below("dropout's gap / no dropout's (less than half)",
              loss_gap(dropped) / loss_gap(plain), 0.5),
        *(says(run, f"the test loss ends at {outcome(run.result).end_test_loss:.3g}")
          for run in runs),
    ]


def plain_vanishes_and_the_fix_learns(fix: str) -> Callable[[Sequence[TrainRun]], list[Claim]]:
    """A plain deep stack's gradient starts below the healthy band and its loss stays at ln 2;
    the fix (BatchNorm, a residual path) learns."""
    def claims(runs: Sequence[TrainRun]) -> list[Claim]:
        plain, fixed = runs
        return [
            below("plain: smallest layer gradient at step 0",
                  outcome(plain.result).smallest_grad, HEALTHY_BAND[0]),
            *stays_at_ln2("plain", plain),
            above(f"{fix}: test accuracy", outcome(fixed.result).test_acc, 0.9),
        ]
    return claims


def bn_momentum_claims(runs: Sequence[TrainRun]) -> list[Claim]:
    slow, fast = runs
    return [
        above("m = 0.9's jump between records / m = 0.1's",
              eval_jump(fast.result) / eval_jump(slow.result), 2),
        above("m = 0.9's mean training loss over the second half / m = 0.1's",
              second_half_loss(fast) / second_half_loss(slow), 1),
        *(says(run, "the training loss evaluated with the running statistics moves by "
               f"{eval_jump(run.result):.3f}") for run in runs),
    ]


def feature_scale_claims(runs: Sequence[TrainRun]) -> list[Claim]:
    raw, zscored = runs
    return [
        above("raw: first layer's units saturated at step 0", first_layer_saturation(raw), 0.5),
        below("raw: test accuracy", outcome(raw.result).test_acc, 0.8),
        above("z-scored: test accuracy", outcome(zscored.result).test_acc, 0.9),
    ]


CLAIMS: dict[str, Callable[[Sequence[TrainRun]], list[Claim]]] = {
    "init": init_claims,
    "zero_init": zero_init_claims,
    "clipping": clipping_claims,
    "learning_rate": learning_rate_claims,
    "l1_l2": l1_l2_claims,
    "dropout": dropout_claims,
    "batchnorm": plain_vanishes_and_the_fix_learns("BatchNorm"),
    "bn_momentum": bn_momentum_claims,
    "feature_scale": feature_scale_claims,
    "residual": plain_vanishes_and_the_fix_learns("residual"),
}


#: The choice each lesson's notice teaches: the one that must hold, alone, on its runs.
TAUGHT = {"init": "xavier_he", "zero_init": "identical", "clipping": "finite_bad",
          "learning_rate": "middle", "l1_l2": "l1", "dropout": "plain", "batchnorm": "second",
          "bn_momentum": "fast", "feature_scale": "second", "residual": "second"}


def test_every_lesson_has_its_claims_and_its_question():
    assert set(CLAIMS) == set(TRAIN_PRESETS) == set(QUESTIONS) == set(TAUGHT)
    for preset_id, taught in TAUGHT.items():
        assert taught in choices(preset_id) and 2 <= len(choices(preset_id)) <= 4


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_question_and_choice_is_written(lang):
    for preset_id in TRAIN_PRESETS:
        texts = [translate(lang, f"train.lesson.{preset_id}.question")] + [
            translate(lang, f"train.lesson.{preset_id}.choice.{c}") for c in choices(preset_id)]
        assert all(text and not text.startswith("train.lesson.") for text in texts), texts
        assert len(set(texts)) == len(texts), texts  # every choice reads differently


def test_the_poll_key_is_namespaced_apart_from_the_explorers_lessons():
    from ui.presets import PRESETS

    keys = {poll_key(preset_id) for preset_id in TRAIN_PRESETS}
    assert not keys & set(PRESETS) and all(k.startswith("train.") for k in keys)


def test_an_accuracy_between_the_bands_settles_nothing():
    facts = {"test_acc_0": 0.95, "test_acc_1": 0.3}
    assert learners(facts) == frozenset({0})
    assert learners({**facts, "test_acc_1": 0.87}) is None  # neither learns nor fails
    assert learners({**facts, "test_acc_1": float("nan")}) is None


@pytest.mark.parametrize("preset_id", list(TRAIN_PRESETS))
def test_the_right_choice_on_the_runs_of_seeds_0_and_1(preset_id):
    """The quick check (the robustness test below covers seeds 0–9 with 1 and 2 threads)."""
    for seed in (0, 1):
        runs = lesson_runs(preset_id, seed)
        assert holding_choices(preset_id, runs) == (TAUGHT[preset_id],)
        assert right_choice(preset_id, runs) == TAUGHT[preset_id]
        # The facts are the runs' own numbers, as the result sentences read them.
        facts = run_facts(runs)
        assert facts["test_acc_0"] == outcome(runs[0].result).test_acc


def test_runs_that_are_not_the_lessons_setups_have_no_right_choice():
    runs = lesson_runs("zero_init", 0)
    assert right_choice("zero_init", runs[:1]) is None


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("preset_id", list(CLAIMS))
def test_the_lesson_holds_for_every_seed(preset_id, threads):
    """Its notice's claims, and its question: exactly one choice holds, the taught one."""
    failed = []
    with threadpool_limits(limits=threads, user_api="blas"):
        # whatever OPENBLAS_NUM_THREADS said, the BLAS now runs with ``threads`` threads
        assert {pool["num_threads"] for pool in threadpool_info()
                if pool["user_api"] == "blas"} == {threads}
        for seed in SEEDS:
            runs = lesson_runs(preset_id, seed)
            failed += [(seed, c) for c in CLAIMS[preset_id](runs) if not c.holds]
            holding = holding_choices(preset_id, runs)
            if holding != (TAUGHT[preset_id],):
                failed.append((seed, f"question: the choices holding are {holding}, "
                                     f"not ({TAUGHT[preset_id]!r},)"))
    assert not failed, "\n".join(f"seed {seed}: {c}" for seed, c in failed)


def margins(preset_ids: Sequence[str], seeds=SEEDS) -> None:
    """Print each claim's value range over the seeds against its bound."""
    for preset_id in preset_ids:
        table: dict[str, list[tuple[int, Claim]]] = {}
        for seed in seeds:
            for claim in CLAIMS[preset_id](lesson_runs(preset_id, seed)):
                what = "sentences: missing texts" if claim.what.startswith(SENTENCE) \
                    else claim.what
                table.setdefault(what, []).append((seed, claim))
        print(f"== {preset_id}")
        for what, seeded in table.items():
            values = [c.value for _, c in seeded]
            bad = sorted({seed for seed, c in seeded if not c.holds})
            bounds = sorted({c.bound for _, c in seeded})
            bound = f"{bounds[0]:.3g}" if len(bounds) == 1 else \
                f"{bounds[0]:.3g}…{bounds[-1]:.3g}"
            print(f"  {what}: {seeded[0][1].relation} {bound}; "
                  f"min {min(values):.3g}, max {max(values):.3g}"
                  + (f"  FAILS at seeds {bad}" if bad else ""))


if __name__ == "__main__":
    margins(sys.argv[1].split(",") if len(sys.argv) > 1 else list(CLAIMS))
