"""NetworkConfig: one experiment, every setting and the seed, validated on construction.

One declarative table (``FIELD_SPECS``, built from the dataclass fields' metadata) gives each
field's kind, range or choices and default. Validation, the query-string codec and the app's
controls all read that table, so a field added here is validated, shareable and shown at once.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

from . import budget
from .activations import ACTIVATION_NAMES
from .inits import INIT_NAMES

#: Estimated seconds of one core a simulation may take (core/budget.py counts them).
MAX_RUN_SECONDS = budget.MAX_RUN_SECONDS
#: Estimated peak bytes a simulation may hold: weights, kept arrays, temporaries.
MAX_MEMORY_BYTES = budget.MAX_RUN_BYTES


class ConfigError(ValueError):
    """A config value is invalid; ``fields`` names the field(s) at fault.

    For a page to say it in any language: ``code`` is "invalid" (``value`` is what was given;
    the field's FieldSpec has the valid values), "too_large" (``amount`` estimated seconds of
    one core against ``limit``) or "too_much_memory" (``amount`` bytes against ``limit``).
    """

    def __init__(self, message: str, fields: tuple[str, ...], code: str = "invalid",
                 value: str | None = None, amount: float | None = None,
                 limit: float | None = None):
        super().__init__(message)
        self.fields = fields
        self.code = code
        self.value = value
        self.amount = amount
        self.limit = limit


@dataclass(frozen=True)
class FieldSpec:
    """How one config field is typed, bounded and written in a URL."""

    name: str
    kind: str  # "int", "float", "choice", "bool" or "ints"
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""

    def describe(self) -> str:
        """The valid values, for error messages: 'an integer from 1 to 200', 'one of …'."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "int":
            return f"an integer from {self.low:g} to {self.high:g}"
        if self.kind == "ints":
            return (f"a comma-separated list of 2 to {MAX_DEPTH + 1} integers, "
                    f"each from {self.low:g} to {self.high:g}")
        return f"a number from {self.low:g} to {self.high:g}"

    def check(self, value: Any) -> Any:
        """Return the value in canonical type, or raise ConfigError naming field and range.

        Never another exception: a huge int (10**400 overflows float(), and past 4,300 digits
        even repr()), a float or Fraction out of float's range, a string, a very long or endless
        iterable are each refused by name, with the valid range."""
        def bad(reason: str = "") -> ConfigError:
            shown = _shown(value)
            return ConfigError(f"{self.name}={shown} is invalid{reason}: {self.name} must be "
                               f"{self.describe()}.", (self.name,), value=shown)

        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise bad()
            return value
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise bad()
            return value
        if self.kind == "ints":
            if isinstance(value, (str, bytes)):
                raise bad()
            try:
                # At most one more item than allowed is read: an endless iterable is refused.
                items = tuple(itertools.islice(iter(value), MAX_DEPTH + 2))
            except TypeError:
                raise bad() from None
            if items and not (2 <= len(items) <= MAX_DEPTH + 1):
                raise bad(" (too many widths)" if len(items) > MAX_DEPTH + 1
                          else f" ({len(items)} widths)")
            for item in items:
                if isinstance(item, bool) or not isinstance(item, numbers.Integral) or not (
                        self.low <= item <= self.high):
                    raise bad()
            return tuple(int(i) for i in items)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise bad()
        if isinstance(value, numbers.Integral):
            # Compared as an int: float() of a huge int overflows.
            number: float | int = int(value)
        else:
            try:
                number = float(value)
            except (OverflowError, ValueError, TypeError):  # a Fraction beyond float's range
                raise bad(" (out of range)") from None
            if not math.isfinite(number):
                raise bad()
        if self.kind == "int":
            if number != int(number):
                raise bad()
            number = int(number)
        if not (self.low <= number <= self.high):
            raise bad(" (out of range)")
        return int(number) if self.kind == "int" else float(number)


#: Digits of an int shown in full in an error message; a longer one is described by its size
#: (repr() of an int of more than 4,300 digits raises ValueError).
_SHOWN_DIGITS = 40


def _shown(value: Any) -> str:
    """A short, always computable text of a given value, for error messages."""
    if isinstance(value, str):
        return repr(value[:60])
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        digits = int(abs(int(value)).bit_length() * math.log10(2)) + 1
        if digits > _SHOWN_DIGITS:
            sign = "-" if value < 0 else ""
            return f"{sign}<an integer of about {digits} digits>"
    if isinstance(value, (tuple, list)):
        items = [_shown(item) for item in value[:8]]
        more = ", …" if len(value) > 8 else ""
        ends = "()" if isinstance(value, tuple) else "[]"
        return ends[0] + ", ".join(items) + more + ("," if len(value) == 1 else "") + ends[1]
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__, or an int past Python's digit limit inside it
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "…"


MAX_DEPTH = 200
MAX_WIDTH = 4096


def _spec(kind: str, default: Any, low: float | None = None, high: float | None = None,
          choices: tuple[str, ...] = (), help: str = "") -> Any:
    meta = {"kind": kind, "low": low, "high": high, "choices": choices, "help": help}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class NetworkConfig:
    """A deep MLP at initialisation, the data pushed through it and the loss that sends the
    gradient back. Layer l computes (norm position "before"):

        y = h^{l-1} W^l + b^l,  z = Norm(y),  a = φ(z),  out^l = skip(h^{l-1}) + s·Drop(a)

    with skip only when ``residual`` (a fixed semi-orthogonal projection where widths differ) and
    Norm moved after φ when ``norm_position`` is "after". With ``residual`` the block has two
    forms (``residual_form``):

    - "post" (the block above, φ ends the branch): out = skip(h) + s·Drop(Norm?(φ(Norm?(hW + b))));
    - "pre" (the default; He et al. 2016, "Identity mappings", the pre-activation form of the
      mean-field residual papers): z = Norm(h), a = φ(z), y = a W + b,
      out = skip(h) + s·Drop(y). The norm and φ come first in the branch and the branch ends
      in the linear map, so it adds a zero-mean term every layer. ``norm_position`` keeps its
      meaning, the norm's place around φ: "before" is φ(Norm(h)) W + b, "after" is
      Norm(φ(h)) W + b. Dropout masks the branch's output (as x + Dropout(F(LN(x))) in a
      pre-LN transformer), so its masks have the output's shape in both forms. The first
      block's branch sees the raw input: φ(x) (ReLU keeps only its positive half), while the
      skip carries x unchanged.

    Without ``residual`` there is one block and ``residual_form`` is meaningless: it is set to
    its default (canonical form), so the config, its link and its cache key do not depend on it.
    Every layer, the last included, has the same block; the loss is applied to the last layer's
    output.
    """

    depth: int = _spec("int", 10, 1, MAX_DEPTH, help="number of weight layers")
    width: int = _spec("int", 256, 1, MAX_WIDTH, help="units per layer (input included)")
    widths: tuple[int, ...] = _spec(
        "ints", (), 1, MAX_WIDTH,
        help="all widths from input to output (784,256,256,10 is 3 layers); overrides depth, width")
    batch_size: int = _spec("int", 512, 2, 16384, help="samples pushed through together")
    seed: int = _spec("int", 0, 0, 2**32 - 1, help="random seed of weights, data and masks")
    dtype: str = _spec("choice", "float32", choices=("float32", "float64"))
    activation: str = _spec("choice", "tanh", choices=ACTIVATION_NAMES)
    leaky_slope: float = _spec("float", 0.01, 0.0, 1.0, help="a in leaky_relu: φ(z) = a·z, z < 0")
    init: str = _spec("choice", "xavier_normal", choices=INIT_NAMES)
    init_std: float = _spec("float", 0.01, 0.0, 100.0, help="σ of normal / truncated_normal")
    init_bound: float = _spec("float", 0.05, 0.0, 100.0, help="b of uniform U(−b, b)")
    init_value: float = _spec("float", 0.1, -10.0, 10.0, help="c of constant init")
    init_mode: str = _spec("choice", "fan_in", choices=("fan_in", "fan_out"))
    init_gain: float = _spec("float", 1.0, 0.0, 10.0, help="extra gain on top of the scheme's")
    bias_init: str = _spec("choice", "zeros", choices=("zeros", "constant", "normal"))
    bias_value: float = _spec("float", 0.1, -10.0, 10.0, help="b of constant bias")
    bias_std: float = _spec("float", 0.1, 0.0, 10.0, help="σ_b of normal bias")
    norm: str = _spec("choice", "none", choices=("none", "batchnorm", "layernorm"))
    norm_position: str = _spec("choice", "before", choices=("before", "after"))
    bn_mode: str = _spec("choice", "train", choices=("train", "eval"))
    bn_momentum: float = _spec("float", 0.1, 0.001, 1.0,
                               help="PyTorch convention: running = (1−m)·running + m·batch")
    bn_passes: int = _spec("int", 10, 1, 50, help="warm-up passes that fill the running stats")
    residual: bool = _spec("bool", False)
    residual_form: str = _spec(
        "choice", "pre", choices=("pre", "post"),
        help="pre: out = h + s·(φ(Norm(h)) W + b); post: out = h + s·φ(Norm(h W + b))")
    residual_scale: float = _spec("float", 1.0, 0.0, 10.0, help="s in out = h + s·branch")
    dropout: float = _spec("float", 0.0, 0.0, 0.95, help="inverted dropout rate p")
    input_dist: str = _spec("choice", "normal", choices=("normal", "uniform", "raw"))
    input_preprocess: str = _spec("choice", "none", choices=("none", "zscore", "minmax"))
    loss: str = _spec("choice", "random_projection",
                      choices=("random_projection", "mse", "cross_entropy"))

    def __post_init__(self) -> None:
        for spec in FIELD_SPECS.values():
            checked = spec.check(getattr(self, spec.name))
            object.__setattr__(self, spec.name, checked)
        if not self.residual:
            object.__setattr__(self, "residual_form", FIELD_SPECS["residual_form"].default)
        if self.widths:
            # widths is the whole truth: depth and width follow from it (canonical form, so
            # that equal networks compare, hash and cache as equal).
            object.__setattr__(self, "depth", len(self.widths) - 1)
            object.__setattr__(self, "width", self.widths[1])
        # Priced before anything is drawn: an over-budget network never starts.
        cost = self.estimated_cost()
        size_fields = ("depth", "width", "widths", "batch_size", "bn_passes")
        if cost.seconds > MAX_RUN_SECONDS:
            raise ConfigError(
                f"This network is too large to compute here: it would take about "
                f"{cost.seconds:.2g} s of computing, the limit is {MAX_RUN_SECONDS:.2g} s. "
                f"Reduce depth, width or batch_size.",
                size_fields, code="too_large", amount=cost.seconds, limit=MAX_RUN_SECONDS)
        if cost.peak_bytes > MAX_MEMORY_BYTES:
            raise ConfigError(
                f"This network needs about {cost.peak_bytes / 2**20:.0f} MiB of memory, the "
                f"limit is {MAX_MEMORY_BYTES / 2**20:.0f} MiB. Reduce depth, width or batch_size.",
                size_fields, code="too_much_memory", amount=cost.peak_bytes,
                limit=MAX_MEMORY_BYTES)

    @property
    def layer_widths(self) -> tuple[int, ...]:
        """n_0 (input) … n_L (output)."""
        return self.widths if self.widths else (self.width,) * (self.depth + 1)

    def estimated_cost(self) -> "budget.Cost":
        """Seconds of one core and peak bytes of ``simulate(self)`` (core.budget.simulation_cost:
        weight drawing per init, matrix products, element-wise passes, statistics, memory)."""
        return budget.simulation_cost(self)

    def estimated_seconds(self) -> float:
        """Estimated seconds of one core for ``simulate(self)``; the budget is MAX_RUN_SECONDS."""
        return self.estimated_cost().seconds

    def estimated_memory(self) -> float:
        """Estimated peak bytes of ``simulate(self)``; the budget is MAX_MEMORY_BYTES."""
        return self.estimated_cost().peak_bytes

    def replace(self, **changes: Any) -> "NetworkConfig":
        """A copy with some fields changed (validated like a new config)."""
        return dataclasses.replace(self, **changes)


FIELD_SPECS: dict[str, FieldSpec] = {
    f.name: FieldSpec(name=f.name, default=f.default, **f.metadata)
    for f in dataclasses.fields(NetworkConfig)
}
