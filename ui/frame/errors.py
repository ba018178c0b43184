"""Invalid values and over-budget networks, said in the reader's language.

core raises ConfigError and reports QueryProblem with an English message and, beside it, a
code and the numbers; this module turns those into sentences from the catalogues, with the
valid values taken from core's FIELD_SPECS.
"""

from __future__ import annotations

from typing import Callable

from core import FIELD_SPECS, ConfigError, QueryProblem
from core.config import MAX_DEPTH

Translate = Callable[..., str]


class InvalidChoice(ValueError):
    """A link parameter that is not one of ``choices`` (raised by the pages' parsers)."""

    def __init__(self, choices):
        self.choices = tuple(choices)
        super().__init__("one of " + ", ".join(self.choices))


def valid_values(field: str, tr: Translate) -> str:
    """'one of …', 'a whole number from 1 to 200', … for a config field."""
    spec = FIELD_SPECS[field]
    if spec.kind == "choice":
        return tr("valid.choice", choices=", ".join(spec.choices))
    if spec.kind == "bool":
        return tr("valid.bool")
    if spec.kind == "ints":
        return tr("valid.ints", count=MAX_DEPTH + 1, low=f"{spec.low:g}", high=f"{spec.high:g}")
    kind = "valid.int" if spec.kind == "int" else "valid.float"
    return tr(kind, low=f"{spec.low:g}", high=f"{spec.high:g}")


BUDGET_CODES = ("too_large", "too_much_memory", "jacobian_memory")


def _budget(code: str, amount: float | None, limit: float | None, tr: Translate) -> str:
    if code == "too_large":
        return tr("error.too_large", amount=f"{amount:.2g}", limit=f"{limit:.2g}")
    return tr(f"error.{code}", amount=f"{(amount or 0) / 2**20:.0f}",
              limit=f"{(limit or 0) / 2**20:.0f}")


def describe_config_error(error: ConfigError, tr: Translate) -> str:
    if error.code in BUDGET_CODES:
        return _budget(error.code, error.amount, error.limit, tr)
    field = error.fields[0]
    if field not in FIELD_SPECS:
        return str(error)
    return tr("error.invalid", field=field, value=error.value if error.value is not None else "",
              valid=valid_values(field, tr))


#: Link problems where nothing falls back to a default: a part of the link was left out.
IGNORED_CODES = ("too_many_fields", "unknown_key", "repeated")


def problem_heading(problem: QueryProblem) -> str:
    """The catalogue key of the sentence that introduces a link problem."""
    return "url.ignored" if problem.code in IGNORED_CODES else "url.problem"


def describe_problem(problem: QueryProblem, tr: Translate) -> str:
    if problem.code in BUDGET_CODES:
        return _budget(problem.code, problem.amount, problem.limit, tr)
    if problem.code == "too_many_fields":
        return tr("error.too_many_fields")
    if problem.code == "unknown_key":
        if problem.message:
            return tr("error.unknown_key_near", field=problem.field, value=repr(problem.value),
                      near=problem.message)
        return tr("error.unknown_key", field=problem.field, value=repr(problem.value))
    if problem.code == "repeated":
        return tr("error.repeated", field=problem.field, count=int(problem.amount or 2),
                  value=repr(problem.value))
    if problem.field in FIELD_SPECS:
        return tr("error.invalid", field=problem.field, value=repr(problem.value),
                  valid=valid_values(problem.field, tr))
    if problem.code == "invalid_choice":
        return tr("error.invalid", field=problem.field, value=repr(problem.value),
                  valid=tr("valid.choice", choices=problem.message))
    # A page's own parameter with a format of its own: its parser said what is valid.
    return tr("error.invalid", field=problem.field, value=repr(problem.value),
              valid=problem.message)
