"""Lessons whose numbers come from the data.

Every lesson preset (Explorer: ``ui.presets.PRESETS``; Compare: ``ui.compare.logic.COMPARE_PRESETS``)
has a *facts* function here: the result shown → a dict of named numbers. The catalogue texts
(``preset.<id>.notice``, ``lesson.<id>.question`` / ``.answer``, ``compare.preset.<id>.notice``)
hold placeholders with those names, so the text says what this run measured, in any language,
and cannot drift from the data; tests/ui/test_lessons.py checks each claim against the run.

Formatting (one rule for every fact): a name ending in ``_percent`` is a fraction shown as a
whole percentage; an ``int`` (a layer, a depth, a width) is written as is; any other number
with ``ui.frame.text.number`` (three significant digits).

Question, then answer (peer instruction): every Explorer lesson has a question with two to four
choices (``QUESTIONS``; texts ``lesson.<id>.question`` and ``lesson.<id>.choice.<choice>``). Each
choice is right when its predicate holds on the run's facts, so the right answer is measured like
every other number; the bands of the choices leave gaps between them, and tests/ui/test_lessons.py
checks that exactly one holds for every lesson and seeds 0–9. The notice above the question
(``preset.<id>.notice``) says only what the network is (``SETUP_FACTS``: its depth and width),
never what the run measured: the measured facts come with the answer.

The lesson sequence is the order of ``PRESETS`` (the notes' order); the current lesson is the
``preset`` link parameter. Pure: no Streamlit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from core import NetworkConfig, SimulationResult, backward_ratio, diagnose, forward_ratio
from ui.findings import finding_values
from ui.frame.text import number
from ui.presets import PRESETS

Facts = dict[str, float | int]
Translate = Callable[..., str]


# --- measurements shared by the lessons ----------------------------------------------------

def layers(result: SimulationResult) -> pd.DataFrame:
    """layer_stats of layers 1 … L, indexed by layer."""
    stats = result.layer_stats.set_index("layer")
    return stats.loc[1:]


def per_layer(first: float, last: float, steps: int) -> float:
    """The geometric mean factor per layer, (last / first)^(1/steps)."""
    if steps <= 0 or not (first > 0 and last > 0):
        return float("nan")
    return (last / first) ** (1.0 / steps)


def _finding(result: SimulationResult, code: str):
    return next((f for f in diagnose(result) if f.code == code), None)


def _gain(stats: pd.DataFrame, layer: int = 2) -> float:
    """n·Var[W] of a hidden layer: the factor the recursion multiplies E[h²] by."""
    row = stats.loc[min(layer, stats.index.max())]
    return float(row["fan_in"] * row["weight_var"])


def _depth(result: SimulationResult) -> int:
    return int(result.config.depth)


def _max_fraction(stats: pd.DataFrame, column: str) -> float:
    values = stats[column]
    return float(values.max()) if values.notna().any() else 0.0


def _act(stats: pd.DataFrame) -> Facts:
    """The activations' variance (the chart's orange line) from layer 1 to the last: the ratio
    last/first, the geometric factor per layer, and max/min over the layers."""
    act = stats["act_var"]
    first, last = float(act.iloc[0]), float(act.iloc[-1])
    return {"act_ratio": last / first if first > 0 else float("nan"),
            "act_step": per_layer(first, last, len(act) - 1),
            "act_spread": float(act.max() / act.min()) if act.min() > 0 else float("inf")}


def _dead(result: SimulationResult) -> Facts:
    """The dead-units finding the page shows beside the lesson (0 % and layer 0 if none)."""
    dead = _finding(result, "dead_units")
    return {"dead_percent": dead.fraction if dead else 0.0,
            "dead_layer": int(dead.layer) if dead and dead.layer else 0}


# --- Explorer lessons ----------------------------------------------------------------------

def _zero_init(result: SimulationResult) -> Facts:
    stats = layers(result)
    return {"depth": _depth(result),
            "spread": float(stats["act_across_units_var"].max()),
            "act_var": float(stats["act_var"].max()),
            "weight_grad": float(stats["grad_weight_norm"].max())}


def _tanh_small(result: SimulationResult) -> Facts:
    stats = layers(result)
    depth = _depth(result)
    return {"gain": _gain(stats), "depth": depth,
            "measured": per_layer(stats["act_var"].iloc[0], stats["act_var"].iloc[-1], depth - 1),
            "last_var": float(stats["act_var"].iloc[-1]),
            "grad_ratio": backward_ratio(result.layer_stats), **_act(stats)}


def _tanh_large(result: SimulationResult) -> Facts:
    stats = layers(result)
    return {"std": math.sqrt(float(stats["preact_var"].iloc[0])), "gain": _gain(stats),
            "saturated_percent": float(stats["act_saturated_frac"].mean()),
            "grad_ratio": backward_ratio(result.layer_stats), "depth": _depth(result)}


def _tanh_xavier(result: SimulationResult) -> Facts:
    stats = layers(result)
    act = stats["act_var"]
    return {"first_step": float(act.iloc[1] / act.iloc[0]),
            "last_step": float(act.iloc[-1] / act.iloc[-2]),
            "depth": _depth(result), "previous": _depth(result) - 1,
            "forward": forward_ratio(result.layer_stats),
            "backward": backward_ratio(result.layer_stats),
            "saturated_percent": _max_fraction(stats, "act_saturated_frac")}


def _relu_xavier(result: SimulationResult) -> Facts:
    stats = layers(result)
    depth = _depth(result)
    pre = stats["preact_var"]
    return {"measured": per_layer(pre.iloc[0], pre.iloc[-1], depth - 1), "depth": depth,
            "last_preact": float(pre.iloc[-1]), "first_preact": float(pre.iloc[0]),
            "grad_ratio": backward_ratio(result.layer_stats), **_act(stats), **_dead(result)}


def _relu_he(result: SimulationResult) -> Facts:
    stats = layers(result)
    pre = stats["preact_var"]
    return {"low": float(pre.min()), "high": float(pre.max()), "depth": _depth(result),
            "backward": backward_ratio(result.layer_stats), **_act(stats), **_dead(result)}


def _relu_overflow(result: SimulationResult) -> Facts:
    stats = layers(result)
    overflow = result.first_nonfinite_layer or _depth(result) + 1
    finite = stats.loc[: overflow - 1, "preact_var"]
    return {"measured": per_layer(finite.iloc[0], finite.iloc[-1], len(finite) - 1),
            "expected": _gain(stats) / 2, "overflow_layer": int(overflow),
            "last_finite": float(finite.iloc[-1]),
            "float_max": float(np.finfo(result.config.dtype).max), **_dead(result)}


def _sigmoid(result: SimulationResult) -> Facts:
    stats = layers(result)
    depth = _depth(result)
    ratio = backward_ratio(result.layer_stats)
    return {"mean": float(stats["act_mean"].mean()), "depth": depth,
            "grad_ratio": ratio,
            "grad_step": ratio ** (1.0 / (depth - 1)) if ratio > 0 else float("nan")}


def _ratios(result: SimulationResult) -> Facts:
    """The network's depth and its headline ratios (forward and backward variance)."""
    return {"depth": _depth(result), "forward": forward_ratio(result.layer_stats),
            "backward": backward_ratio(result.layer_stats)}


def _scaled_sigmoid(result: SimulationResult) -> Facts:
    stats = layers(result)
    return {"mean": float(stats["act_mean"].abs().max()), **_ratios(result)}


def _orthogonal(result: SimulationResult) -> Facts:
    return _ratios(result)


def _standardised(result: SimulationResult) -> Facts:
    stats = layers(result)
    unit = stats["preact_unit_var"]
    return {"low": float(unit.min()), "high": float(unit.max()), **_ratios(result)}


def _layernorm(result: SimulationResult) -> Facts:
    stats = layers(result)
    square = stats["preact_mean_square"]
    return {"low": float(square.min()), "high": float(square.max()), **_ratios(result)}


def _bn_batch2(result: SimulationResult) -> Facts:
    stats = layers(result)
    exploding = _finding(result, "backward_exploding")
    return {"size": math.sqrt(float(stats["act_mean_square"].mean())),
            "backward": backward_ratio(result.layer_stats),
            "from_layer": int(exploding.layer) if exploding and exploding.layer else 0}


def linear_fit(values: np.ndarray) -> tuple[float, float]:
    """(slope, R²) of the least-squares line through (index, value)."""
    x = np.arange(len(values), dtype=float)
    slope, intercept = np.polyfit(x, values, 1)
    return float(slope), float(1.0 - (values - (slope * x + intercept)).var() / values.var())


def _residual(result: SimulationResult) -> Facts:
    """Besides the sum's numbers, what tells a sum from a product: R² of a straight line through
    the output variances, and the mean growth factor per layer over the first 3 and last 5
    layers (a product keeps its factor, a sum's falls towards 1)."""
    stats = layers(result)
    depth = _depth(result)
    out = stats["out_var"]
    values = out.to_numpy(dtype=float)
    factors = values[1:] / values[:-1]
    return {"depth": depth, "first": float(out.iloc[0]), "last": float(out.iloc[-1]),
            "step": float((out.iloc[-1] - out.iloc[0]) / (depth - 1)),
            "growth": float(out.iloc[-1] / out.iloc[0]),
            "linear_r2": linear_fit(values)[1],
            "early_factor": float(factors[:3].mean()), "late_factor": float(factors[-5:].mean()),
            "backward": backward_ratio(result.layer_stats), **_dead(result)}


def _selu(result: SimulationResult) -> Facts:
    stats = layers(result)
    return {"depth": _depth(result), "mean": float(stats["act_mean"].iloc[-1]),
            "var": float(stats["act_var"].iloc[-1]),
            "backward": backward_ratio(result.layer_stats)}


def _raw(result: SimulationResult) -> Facts:
    stats = result.layer_stats.set_index("layer")
    return {"input_var": float(stats.loc[0, "act_var"]),
            "preact": float(stats.loc[1, "preact_var"]),
            "saturated_percent": float(stats.loc[1, "act_saturated_frac"])}


EXPLORER_FACTS: dict[str, Callable[[SimulationResult], Facts]] = {
    "zero_init": _zero_init,
    "tanh_small": _tanh_small,
    "tanh_large": _tanh_large,
    "tanh_xavier": _tanh_xavier,
    "relu_xavier": _relu_xavier,
    "relu_he": _relu_he,
    "relu_overflow": _relu_overflow,
    "orthogonal_linear": _orthogonal,
    "bn_rescue": _standardised,
    "bn_batch2": _bn_batch2,
    "layernorm": _layernorm,
    "residual_relu": _residual,
    "sigmoid": _sigmoid,
    "scaled_sigmoid": _scaled_sigmoid,
    "selu_lecun": _selu,
    "raw_features": _raw,
    "raw_zscore": _raw,
}
assert set(EXPLORER_FACTS) == set(PRESETS), "every Explorer preset has its facts"


#: The alerts each notice speaks about itself. Any other alert the page shows beside the lesson
#: gets its own sentence after the notice (``lesson.also.<code>``): one screen, one message.
ADDRESSED: dict[str, frozenset[str]] = {
    "zero_init": frozenset({"symmetry", "dead_units", "backward_vanishing"}),
    "tanh_small": frozenset({"forward_vanishing", "backward_vanishing"}),
    "tanh_large": frozenset({"saturation", "backward_exploding"}),
    "relu_xavier": frozenset({"forward_vanishing", "backward_vanishing"}),
    "relu_overflow": frozenset({"forward_overflow"}),
    "bn_batch2": frozenset({"backward_exploding"}),
    "sigmoid": frozenset({"backward_vanishing"}),
    "raw_features": frozenset({"saturation"}),
}


def also_on_screen(preset_id: str, result: SimulationResult) -> list:
    """The alerts (problems and warnings) shown with the lesson that its notice does not name."""
    own = ADDRESSED.get(preset_id, frozenset())
    return [f for f in diagnose(result) if f.severity != "ok" and f.code not in own]


# --- Compare lessons (results in the preset's set-up order) --------------------------------

def _compare_tanh_init(results: Sequence[SimulationResult]) -> Facts:
    small, large, xavier = results
    return {"small_forward": forward_ratio(small.layer_stats),
            "large_saturated_percent": float(layers(large)["act_saturated_frac"].mean()),
            "large_backward": backward_ratio(large.layer_stats),
            "xavier_forward": forward_ratio(xavier.layer_stats),
            "xavier_backward": backward_ratio(xavier.layer_stats),
            "depth": _depth(small)}


def _compare_relu_init(results: Sequence[SimulationResult]) -> Facts:
    xavier, he = results
    depth = _depth(xavier)
    pre_x, pre_h = layers(xavier)["preact_var"], layers(he)["preact_var"]
    return {"xavier_step": per_layer(pre_x.iloc[0], pre_x.iloc[-1], depth - 1),
            "he_step": per_layer(pre_h.iloc[0], pre_h.iloc[-1], depth - 1), "depth": depth}


def _compare_relu_norm(results: Sequence[SimulationResult]) -> Facts:
    plain, batchnorm, layernorm, residual, residual_ln = results
    return {"depth": _depth(plain),
            "plain_forward": forward_ratio(plain.layer_stats),
            "plain_backward": backward_ratio(plain.layer_stats),
            "bn_forward": forward_ratio(batchnorm.layer_stats),
            "bn_backward": backward_ratio(batchnorm.layer_stats),
            "ln_forward": forward_ratio(layernorm.layer_stats),
            "ln_backward": backward_ratio(layernorm.layer_stats),
            **{f"residual_{k}": v for k, v in _residual(residual).items() if k != "depth"},
            "residual_ln_backward": backward_ratio(residual_ln.layer_stats)}


def _compare_sigmoid_tanh(results: Sequence[SimulationResult]) -> Facts:
    sigmoid, tanh, scaled = results
    return {"sigmoid_backward": backward_ratio(sigmoid.layer_stats),
            "tanh_backward": backward_ratio(tanh.layer_stats),
            "scaled_backward": backward_ratio(scaled.layer_stats),
            "sigmoid_mean": float(layers(sigmoid)["act_mean"].mean())}


def _compare_bn_position(results: Sequence[SimulationResult]) -> Facts:
    before, after = results
    return {"before_unit": float(layers(before)["preact_unit_var"].mean()),
            "after_unit": float(layers(after)["preact_unit_var"].mean()),
            "before_backward": backward_ratio(before.layer_stats),
            "after_backward": backward_ratio(after.layer_stats)}


def _compare_bn_batch(results: Sequence[SimulationResult]) -> Facts:
    two, many = results
    return {"two_backward": backward_ratio(two.layer_stats),
            "many_backward": backward_ratio(many.layer_stats)}


COMPARE_FACTS: dict[str, Callable[[Sequence[SimulationResult]], Facts]] = {
    "tanh_init": _compare_tanh_init,
    "relu_init": _compare_relu_init,
    "relu_norm": _compare_relu_norm,
    "sigmoid_tanh": _compare_sigmoid_tanh,
    "bn_position": _compare_bn_position,
    "bn_batch": _compare_bn_batch,
}


# --- text ----------------------------------------------------------------------------------

def percent(fraction: float) -> str:
    """A whole percentage, with one decimal where rounding would say 0 or 100 but it is not."""
    if not math.isfinite(fraction):
        return "—"
    text = f"{100 * fraction:.0f}"
    if (text == "100" and fraction < 1) or (text == "0" and fraction > 0):
        text = f"{100 * fraction:.1f}"
    return text


def formatted(facts: Mapping[str, float | int]) -> dict[str, str]:
    """Each fact as the text shows it (see the module docstring)."""
    shown = {}
    for name, value in facts.items():
        if name.endswith("_percent"):
            shown[name] = percent(value)
        elif isinstance(value, int):
            shown[name] = str(value)
        else:
            shown[name] = number(float(value))
    return shown


#: The facts a notice and a question may state before the answer: what the network is.
SETUP_FACTS = ("depth", "width")


def setup_facts(config: NetworkConfig) -> Facts:
    return {"depth": int(config.depth), "width": int(config.width)}


def preset_facts(preset_id: str, result: SimulationResult) -> Facts:
    return {**setup_facts(result.config), **EXPLORER_FACTS[preset_id](result)}


def setup_text(kind: str, preset_id: str, config: NetworkConfig, tr: Translate) -> str:
    """What is said before the answer, from the config alone (so it is on the page while the
    run computes): ``kind`` "notice" → preset.<id>.notice, "question" → lesson.<id>.question,
    "choice.<choice>" → lesson.<id>.choice.<choice>."""
    facts = formatted(setup_facts(config))
    key = f"preset.{preset_id}.notice" if kind == "notice" else f"lesson.{preset_id}.{kind}"
    return tr(key, **facts)


def preset_text(kind: str, preset_id: str, result: SimulationResult, tr: Translate) -> str:
    """``kind`` "answer" → lesson.<id>.answer with the run's numbers, followed by a sentence for
    each other alert on the screen; "notice", "question" → setup_text."""
    if kind != "answer":
        return setup_text(kind, preset_id, result.config, tr)
    sentences = [tr(f"lesson.{preset_id}.answer", **formatted(preset_facts(preset_id, result)))]
    sentences += [tr(f"lesson.also.{f.code}", **finding_values(f))
                  for f in also_on_screen(preset_id, result)]
    # Sentences ending in a Latin full stop are spaced; Chinese ones (。) are not.
    return "".join(s + (" " if s.endswith(".") else "") for s in sentences).rstrip()


# --- questions -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    """One answer to a lesson's question: its id (``lesson.<lesson>.choice.<id>`` in the
    catalogues) and when it is right, a predicate on the lesson's facts."""

    id: str
    holds: Callable[[Facts], bool]


def _between(name: str, low: float, high: float) -> Callable[[Facts], bool]:
    return lambda facts: low <= facts[name] <= high


def _below(name: str, limit: float) -> Callable[[Facts], bool]:
    return lambda facts: facts[name] < limit


def _above(name: str, limit: float) -> Callable[[Facts], bool]:
    return lambda facts: facts[name] > limit


#: "About the same" is within a factor of 10; "far" is beyond a factor of 1,000 (the gap
#: between is no answer: a run there would make the question unfair, and the test would say so).
SAME = (0.1, 10.0)
FAR = 1e3


def _ratio_choices(name: str) -> tuple[Choice, ...]:
    """Smaller / about the same / larger, for a ratio of the run (last to first layer, or the
    gradient at layer 1 to the last layer's)."""
    return (Choice("smaller", _below(name, 1 / FAR)), Choice("same", _between(name, *SAME)),
            Choice("larger", _above(name, FAR)))


def _per_layer_choices(name: str) -> tuple[Choice, ...]:
    """About 1/2, 1 or 2 per layer."""
    return (Choice("half", _between(name, 0.35, 0.65)), Choice("one", _between(name, 0.8, 1.25)),
            Choice("two", _between(name, 1.6, 2.4)))


def _saturation_choices(facts_name: str = "saturated_percent") -> tuple[Choice, ...]:
    return (Choice("none", _below(facts_name, 0.05)), Choice("half", _between(facts_name, 0.3, 0.7)),
            Choice("most", _above(facts_name, 0.9)))


QUESTIONS: dict[str, tuple[Choice, ...]] = {
    # Identical units: the spread across a layer's units is exactly 0 (a random network's is
    # of order 0.1 and more).
    "zero_init": (Choice("identical", lambda f: f["spread"] == 0),
                  Choice("slightly", lambda f: 0 < f["spread"] < 1e-2),
                  Choice("fully", _above("spread", 0.1))),
    "tanh_small": _ratio_choices("act_ratio"),
    "tanh_large": _ratio_choices("grad_ratio"),
    # Geometric: the last step is the first one's factor again; slowing: the factor rises
    # towards 1 (by more than 30 %); growing: the first step is above 1.
    "tanh_xavier": (Choice("geometric", lambda f: f["first_step"] < 1
                           and f["last_step"] < 1.15 * f["first_step"]),
                    Choice("slowing", lambda f: f["first_step"] < 1
                           and 1.3 * f["first_step"] < f["last_step"] <= 1.05),
                    Choice("grows", _above("first_step", 1.05))),
    "relu_xavier": _per_layer_choices("act_step"),
    "relu_he": (Choice("flat", lambda f: f["act_spread"] < 2 and 0.8 <= f["act_step"] <= 1.25),
                Choice("halves", _between("act_step", 0.35, 0.65)),
                Choice("doubles", _between("act_step", 1.6, 2.4))),
    # overflow_layer is depth + 1 when nothing overflowed.
    "relu_overflow": (Choice("all", lambda f: f["overflow_layer"] > f["depth"]),
                      Choice("middle", _between("overflow_layer", 20, 50)),
                      Choice("few", _below("overflow_layer", 10))),
    "orthogonal_linear": (Choice("all", lambda f: abs(f["forward"] - 1) < 0.01
                                 and abs(f["backward"] - 1) < 0.01),
                          Choice("half", _between("forward", 0.3, 0.7)),
                          Choice("none", _below("forward", 0.01))),
    "bn_rescue": _ratio_choices("forward"),
    # Two samples: every normalised value is ±1, so every tanh output is ±tanh(1); a standard
    # normal input would give E[tanh(z)²] ≈ 0.394, an rms size ≈ 0.63.
    "bn_batch2": (Choice("sign", lambda f: abs(f["size"] - math.tanh(1)) < 0.01),
                  Choice("normal", _between("size", 0.55, 0.7)),
                  Choice("zero", _below("size", 0.1))),
    "layernorm": (Choice("one", lambda f: f["low"] > 0.9 and f["high"] < 1.1),
                  Choice("collapsed", _below("forward", 1 / FAR)),
                  Choice("grown", _above("forward", FAR))),
    # A sum: a straight line fits (R² > 0.99) and the growth factor falls towards 1; a
    # product keeps its factor (> 1.1) from the first layers to the last.
    "residual_relu": (Choice("product", lambda f: f["late_factor"] > 1.1
                             and abs(f["late_factor"] / f["early_factor"] - 1) < 0.2),
                      Choice("sum", lambda f: f["linear_r2"] > 0.99
                             and f["late_factor"] < 1.1 < f["early_factor"]),
                      Choice("flat", _between("growth", 0.67, 1.5))),
    "sigmoid": _ratio_choices("grad_ratio"),
    "scaled_sigmoid": _ratio_choices("backward"),
    "selu_lecun": (Choice("kept", lambda f: abs(f["mean"]) < 0.1 and 0.8 < f["var"] < 1.25),
                   Choice("collapsed", _below("var", 0.1)),
                   Choice("exploded", _above("var", 10))),
    "raw_features": _saturation_choices(),
    "raw_zscore": _saturation_choices(),
}
assert set(QUESTIONS) == set(PRESETS), "every Explorer lesson asks its question"
assert all(2 <= len(c) <= 4 for c in QUESTIONS.values()), "two to four choices"


def choices(preset_id: str) -> tuple[str, ...]:
    """The ids of the lesson's choices, in the order they are offered."""
    return tuple(choice.id for choice in QUESTIONS[preset_id])


def holding_choices(preset_id: str, result: SimulationResult) -> tuple[str, ...]:
    """The choices whose predicate holds on this run (exactly one for a fair question)."""
    facts = preset_facts(preset_id, result)
    return tuple(choice.id for choice in QUESTIONS[preset_id] if choice.holds(facts))


def right_choice(preset_id: str, result: SimulationResult) -> str | None:
    """The right answer measured on this run, or None if not exactly one choice holds (a draw
    that does not settle the question: the page then shows the numbers without a verdict)."""
    holding = holding_choices(preset_id, result)
    return holding[0] if len(holding) == 1 else None


def compare_notice(preset_id: str, results: Sequence[SimulationResult], tr: Translate) -> str:
    return tr(f"compare.preset.{preset_id}.notice",
              **formatted(COMPARE_FACTS[preset_id](results)))


# --- the sequence --------------------------------------------------------------------------

#: The lessons in the notes' order: the order of PRESETS.
SEQUENCE: tuple[str, ...] = tuple(PRESETS)


def neighbours(preset_id: str) -> tuple[str | None, str | None]:
    """The previous and next lesson (None at either end)."""
    index = SEQUENCE.index(preset_id)
    return (SEQUENCE[index - 1] if index > 0 else None,
            SEQUENCE[index + 1] if index + 1 < len(SEQUENCE) else None)
