"""The Train lessons' questions (peer instruction: ask, every student commits, then reveal).

Every Train lesson (``ui.train.logic.TRAIN_PRESETS``) asks a question about its set-ups with two
to four choices (texts ``train.lesson.<id>.question`` and ``train.lesson.<id>.choice.<choice>``);
its answer is the lesson's notice (``train.preset.<id>.notice``), shown only once the answer is
open. Each choice is right when its predicate holds on the facts of the runs shown
(``run_facts``: every number read from the runs, as ``outcome`` and the result sentences read
them), so the right answer is measured, never written down. The bands of the choices leave
gaps (a test accuracy between ``FAILS`` and ``LEARNS`` is neither "learns" nor "does not"), so a
run that settles nothing has no right choice rather than a wrong one;
tests/ui/train/test_lessons.py checks that exactly one choice holds for every lesson and seeds
0–9, with one and two BLAS threads.

In the class poll a Train lesson's key is ``train.<id>`` (``poll_key``): the Explorer's lessons
use their bare ids, so the two pages never share a poll. Pure: no Streamlit.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

from ui.lessons import Choice, Facts
from ui.train.logic import (TRAIN_PRESETS, TrainRun, eval_jump, hidden_unit_spread, outcome,
                            symmetry_round_off, zero_weight_share)

#: A set-up "learns" above this test accuracy and "does not" below FAILS (between: no verdict).
LEARNS = 0.9
FAILS = 0.85
#: Many weights at about 0 (L1's spike): more than this share below ZERO_WEIGHT; few: below FEW.
MANY_ZEROS = 0.2
FEW_ZEROS = 0.05
#: "Clearly more" is at least twice; "about the same" is within 25 %.
CLEARLY = 2.0
SAME = 1.25
#: A finished run's training loss "stays enormous" above this; it "learns" below LOW_LOSS.
ENORMOUS = 100.0
LOW_LOSS = 1.0


def poll_key(preset_id: str) -> str:
    """The lesson's key in the class poll and in its widgets' keys."""
    return f"train.{preset_id}"


def run_facts(runs: Sequence[TrainRun]) -> Facts:
    """Every set-up's numbers, ``<name>_<i>`` for set-up i in the lesson's order:

    - ``test_acc`` — test accuracy at the last finite record;
    - ``end_loss`` — training loss at the last record, +inf for a run stopped by a non-finite
      value (it did not end, it blew up);
    - ``nonfinite`` — 1 if the run met a non-finite value, else 0;
    - ``zero_share`` — share of the final weights with |w| < 10⁻³;
    - ``gap`` — final test loss − final training loss;
    - ``jump`` — mean |change| of the evaluated training loss between records (second half);
    - ``spread`` / ``round_off`` — the largest difference between two units of a hidden layer,
      and what round-off alone may make of it (``symmetry_round_off``).
    """
    facts: Facts = {}
    for index, run in enumerate(runs):
        o = outcome(run.result)
        stopped = o.nonfinite is not None
        facts.update({
            f"test_acc_{index}": o.test_acc,
            f"end_loss_{index}": math.inf if stopped else o.end_loss,
            f"nonfinite_{index}": int(stopped),
            f"zero_share_{index}": zero_weight_share(run.result),
            f"gap_{index}": o.end_test_loss - o.end_loss,
            f"jump_{index}": eval_jump(run.result),
            f"spread_{index}": hidden_unit_spread(run.result),
            f"round_off_{index}": symmetry_round_off(run.result),
        })
    return facts


def _count(facts: Facts) -> int:
    return sum(1 for name in facts if name.startswith("test_acc_"))


def learners(facts: Facts) -> frozenset[int] | None:
    """The set-ups that learn (test accuracy above LEARNS), or None if one of them is in the
    gap (neither learns nor fails: the question is not settled)."""
    learned = set()
    for index in range(_count(facts)):
        accuracy = facts[f"test_acc_{index}"]
        if accuracy > LEARNS:
            learned.add(index)
        elif not accuracy < FAILS:  # between the bands, or NaN
            return None
    return frozenset(learned)


def _learn(*indices: int) -> Callable[[Facts], bool]:
    return lambda facts: learners(facts) == frozenset(indices)


def _which_learns() -> tuple[Choice, ...]:
    """Only the first, only the second, both, neither (a lesson of two set-ups)."""
    return (Choice("first", _learn(0)), Choice("second", _learn(1)), Choice("both", _learn(0, 1)),
            Choice("neither", _learn()))


def _clearly_larger(name: str, index: int, other: int) -> Callable[[Facts], bool]:
    return lambda facts: facts[f"{name}_{index}"] > CLEARLY * facts[f"{name}_{other}"]


def _about_equal(name: str, first: int, second: int) -> Callable[[Facts], bool]:
    def holds(facts: Facts) -> bool:
        a, b = facts[f"{name}_{first}"], facts[f"{name}_{second}"]
        return a > 0 and b > 0 and 1 / SAME <= a / b <= SAME
    return holds


def _lowest_loss(index: int) -> Callable[[Facts], bool]:
    """Set-up ``index`` ends with a training loss under half of every other's."""
    def holds(facts: Facts) -> bool:
        mine = facts[f"end_loss_{index}"]
        others = [facts[f"end_loss_{i}"] for i in range(_count(facts)) if i != index]
        return math.isfinite(mine) and all(CLEARLY * mine < other for other in others)
    return holds


def _zeros(index: int, many: bool) -> Callable[[Facts], bool]:
    def holds(facts: Facts) -> bool:
        share = facts[f"zero_share_{index}"]
        return share > MANY_ZEROS if many else share < FEW_ZEROS
    return holds


def _both(*predicates: Callable[[Facts], bool]) -> Callable[[Facts], bool]:
    return lambda facts: all(predicate(facts) for predicate in predicates)


#: Set-up indices in each lesson's order (TRAIN_PRESETS' set-ups).
QUESTIONS: dict[str, tuple[Choice, ...]] = {
    # N(0, 0.01²), N(0, 1²), Xavier (tanh), He (ReLU).
    "init": (Choice("all", _learn(0, 1, 2, 3)), Choice("all_but_tiny", _learn(1, 2, 3)),
             Choice("xavier_he", _learn(2, 3)), Choice("he", _learn(3))),
    # zeros, Xavier: the zero network's units after training.
    "zero_init": (Choice("identical", lambda f: f["spread_0"] <= f["round_off_0"]),
                  Choice("slightly", lambda f: f["round_off_0"] < f["spread_0"] < 1e-2),
                  Choice("fully", lambda f: f["spread_0"] > 0.1)),
    # N(0, 1²), the same clipped, He: what clipping does.
    "clipping": (Choice("still_nan", lambda f: f["nonfinite_1"] == 1),
                 Choice("finite_bad", lambda f: f["nonfinite_1"] == 0
                        and f["end_loss_1"] > ENORMOUS),
                 Choice("learns", lambda f: f["nonfinite_1"] == 0
                        and f["end_loss_1"] < LOW_LOSS)),
    # lr 0.001, 0.3, 10: the lowest final training loss.
    "learning_rate": (Choice("small", _lowest_loss(0)), Choice("middle", _lowest_loss(1)),
                      Choice("large", _lowest_loss(2))),
    # plain, L1, L2: which drives many weights to about 0.
    "l1_l2": (Choice("l1", _both(_zeros(1, True), _zeros(2, False))),
              Choice("l2", _both(_zeros(1, False), _zeros(2, True))),
              Choice("both", _both(_zeros(1, True), _zeros(2, True))),
              Choice("neither", _both(_zeros(1, False), _zeros(2, False)))),
    # no dropout, dropout: whose test loss ends further above its training loss.
    "dropout": (Choice("plain", _clearly_larger("gap", 0, 1)),
                Choice("dropout", _clearly_larger("gap", 1, 0)),
                Choice("same", _about_equal("gap", 0, 1))),
    "batchnorm": _which_learns(),
    # m = 0.1, m = 0.9: whose evaluated loss jumps more between records.
    "bn_momentum": (Choice("slow", _clearly_larger("jump", 0, 1)),
                    Choice("fast", _clearly_larger("jump", 1, 0)),
                    Choice("same", _about_equal("jump", 0, 1))),
    "feature_scale": _which_learns(),
    "residual": _which_learns(),
}
assert set(QUESTIONS) == set(TRAIN_PRESETS), "every Train lesson asks its question"
assert all(2 <= len(c) <= 4 for c in QUESTIONS.values()), "two to four choices"


def choices(preset_id: str) -> tuple[str, ...]:
    """The ids of the lesson's choices, in the order they are offered."""
    return tuple(choice.id for choice in QUESTIONS[preset_id])


def holding_choices(preset_id: str, runs: Sequence[TrainRun]) -> tuple[str, ...]:
    """The choices whose predicate holds on these runs (exactly one for a fair question).
    Runs that are not the lesson's set-ups (one refused, say) hold none."""
    if len(runs) != len(TRAIN_PRESETS[preset_id].setups):
        return ()
    facts = run_facts(runs)
    return tuple(choice.id for choice in QUESTIONS[preset_id] if choice.holds(facts))


def right_choice(preset_id: str, runs: Sequence[TrainRun]) -> str | None:
    """The right answer measured on these runs, or None if not exactly one choice holds (the
    page then shows the notice without a verdict)."""
    holding = holding_choices(preset_id, runs)
    return holding[0] if len(holding) == 1 else None
