"""Property-based fuzzing of share links through decode_query → NetworkConfig → simulate.

Whatever a link holds, decoding never raises, every unusable value of a config field is
reported (and the default used), repeated keys are reported, a usable value is used unless a
size problem is reported, and the config it gives simulates without an exception.
"""

from urllib.parse import urlencode

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core import FIELD_SPECS, ConfigError, NetworkConfig, decode_query, diagnose, simulate
from core.query import MAX_FIELDS, parse_value
from tests.strategies import last_values, pairs, repeated_keys

#: Simulating a decoded config is cheap below this many estimated seconds (core/budget.py; a
#: link may hold a large valid width such as 1000 drawn as garbage; its validity is checked,
#: its run skipped).
CHEAP_SECONDS = 0.05
SIZE_CODES = {"too_large", "too_much_memory"}

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow], database=None)


def check(config: NetworkConfig, problems) -> None:
    assert isinstance(config, NetworkConfig)
    if config.estimated_seconds() <= CHEAP_SECONDS:
        diagnose(simulate(config))


def assert_every_problem_reported(link, config, problems, base=NetworkConfig()):
    reported = {p.field for p in problems}
    sized = any(p.code in SIZE_CODES for p in problems)
    widths_set = bool(config.widths)
    for key, text in last_values(link).items():
        spec = FIELD_SPECS.get(key)
        if spec is None:
            continue  # not a config field: the caller's (ui.frame.url_state warns about it)
        try:
            value = parse_value(spec, text)
        except ConfigError:
            assert key in reported, (key, text, problems)
            assert getattr(config, key) == getattr(base, key) or (
                key in ("depth", "width") and widths_set)
            continue
        if key in ("depth", "width") and widths_set:
            continue  # widths decides them
        if key == "residual_form" and not config.residual:
            continue  # meaningless without residual: the config keeps its canonical default
        assert getattr(config, key) == value or sized, (key, text, problems)
    assert repeated_keys(link) <= {p.field for p in problems if p.code == "repeated"}


@FUZZ
@given(pairs(max_size=12))
@example([("depth", "abc"), ("depth", "5")])
@example([("widths", "8,4"), ("depth", "3"), ("dtype", "float64"), ("dpeth", "2")])
def test_any_link_decodes_reports_every_bad_value_and_simulates(link):
    config, problems = decode_query(urlencode(link))
    assert_every_problem_reported(link, config, problems)
    check(config, problems)


@FUZZ
@given(st.text(max_size=200))
def test_any_raw_text_decodes_without_an_exception(text):
    check(*decode_query(text))


@settings(max_examples=10, deadline=None, derandomize=True, database=None)
@given(st.integers(MAX_FIELDS - 2, MAX_FIELDS + 5), pairs(max_size=3))
def test_more_than_1000_fields_are_refused_whole_and_said(count, link):
    query = "&".join(f"k{i}=1" for i in range(count - len(link) - 1)) + "&depth=5"
    if link:
        query += "&" + urlencode(link)
    fields = query.count("&") + 1
    config, problems = decode_query(query)
    too_many = [p for p in problems if p.code == "too_many_fields"]
    if fields > MAX_FIELDS:
        assert too_many and config == NetworkConfig()
        assert too_many[0].amount == fields
    else:
        assert not too_many
    check(config, problems)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(pairs(max_size=6))
@example([("dtype", "float64"), ("activation", "relu")])
def test_a_base_near_the_budget_reports_instead_of_raising(link):
    """A base using ~2/3 of the memory budget: dtype=float64 alone pushes it over."""
    base = NetworkConfig(depth=100, width=32, batch_size=16384)
    config, problems = decode_query(urlencode(link), base)
    assert_every_problem_reported(link, config, problems, base)
    if last_values(link).get("dtype") == "float64" and config.dtype != "float64":
        assert any(p.code == "too_much_memory" for p in problems)
