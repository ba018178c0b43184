"""The share-link codec: round trips, and bad input reported, never raised."""

import random
import subprocess
import sys
from pathlib import Path

import pytest

from core import (COLUMNS, FIELD_SPECS, ConfigError, NetworkConfig, decode_query, encode_query)

ROOT = Path(__file__).resolve().parents[2]


def random_config(rng: random.Random) -> NetworkConfig:
    """A random valid config, every field drawn from its own spec."""
    while True:
        values = {}
        for name, spec in FIELD_SPECS.items():
            if spec.kind == "choice":
                values[name] = rng.choice(spec.choices)
            elif spec.kind == "bool":
                values[name] = rng.random() < 0.5
            elif spec.kind == "int":
                values[name] = rng.randint(int(spec.low), min(int(spec.high), 40))
            elif spec.kind == "float":
                values[name] = rng.choice([spec.low, spec.high, rng.uniform(spec.low, spec.high)])
            else:
                values[name] = tuple(rng.randint(1, 64) for _ in range(rng.randint(2, 6))) \
                    if rng.random() < 0.3 else ()
        try:
            return NetworkConfig(**values)
        except ConfigError:
            continue


def test_every_random_valid_config_round_trips():
    rng = random.Random(0)
    for _ in range(500):
        config = random_config(rng)
        decoded, problems = decode_query(encode_query(config))
        assert problems == []
        assert decoded == config


def test_defaults_encode_to_an_empty_query():
    assert encode_query(NetworkConfig()) == ""


def test_the_issue_example():
    config, problems = decode_query("depth=50&activation=tanh&init=normal&init_std=0.01")
    assert problems == []
    assert (config.depth, config.activation, config.init, config.init_std) == (50, "tanh",
                                                                               "normal", 0.01)
    assert encode_query(config) == "depth=50&init=normal"  # tanh and 0.01 are the defaults


@pytest.mark.parametrize("query,field,fragment", [
    ("activation=swish", "activation", "one of identity"),
    ("depth=1000000000", "depth", "from 1 to 200"),
    ("width=-3", "width", "from 1 to 4096"),
    ("depth=ten", "depth", "an integer"),
    ("init_std=<script>alert(1)</script>", "init_std", "a number from 0 to 100"),
    ("dropout=nan", "dropout", "a number"),
    ("depth=1e400", "depth", "an integer"),
    ("widths=3,a,4", "widths", "comma-separated"),
    ("residual=maybe", "residual", "true or false"),
])
def test_bad_values_are_reported_and_fall_back_to_the_default(query, field, fragment):
    config, problems = decode_query(query + "&seed=7")
    assert [p.field for p in problems] == [field]
    assert fragment in problems[0].message
    assert getattr(config, field) == FIELD_SPECS[field].default
    assert config.seed == 7  # the good values still apply


def test_an_over_budget_combination_falls_back_on_its_size_fields():
    config, problems = decode_query("depth=200&width=4096&batch_size=16384&activation=relu")
    assert len(problems) == 1 and "too large" in problems[0].message
    assert config.activation == "relu"
    assert config.depth == FIELD_SPECS["depth"].default


def test_unknown_keys_are_left_to_the_caller_and_repeats_take_the_last():
    config, problems = decode_query("?lang=zh&page=compare&depth=3&depth=4")
    assert [(p.field, p.code) for p in problems] == [("depth", "repeated")]
    assert config.depth == 4


def test_long_or_huge_input_is_bounded():
    config, problems = decode_query("depth=" + "9" * 100000)
    assert problems and config.depth == FIELD_SPECS["depth"].default
    config, problems = decode_query("&".join(f"k{i}=1" for i in range(5000)))
    assert problems and config == NetworkConfig()


def test_command_line_prints_layer_stats_as_csv():
    completed = subprocess.run(
        [sys.executable, "-m", "core", "depth=5&width=32&batch_size=16&activation=relu"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    lines = completed.stdout.strip().splitlines()
    assert lines[0].split(",") == list(COLUMNS)
    assert len(lines) == 1 + 6
    assert lines[3].startswith("2,32,32,")


def test_command_line_reports_bad_values_without_a_traceback():
    completed = subprocess.run([sys.executable, "-m", "core", "depth=abc&width=16&foo=1"],
                               cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0
    assert "depth='abc' is invalid" in completed.stderr
    assert "unknown field 'foo'" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_command_line_says_a_repeated_key_uses_its_last_value():
    completed = subprocess.run([sys.executable, "-m", "core", "depth=abc&depth=3&width=16"],
                               cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0
    assert completed.stderr.strip() == (
        "warning: depth is given 2 times; the last value, '3', is used.")
    assert len(completed.stdout.strip().splitlines()) == 1 + 4


def test_a_repeated_key_is_reported_and_the_last_value_wins():
    config, problems = decode_query("depth=abc&depth=5")
    assert config.depth == 5
    assert [(p.field, p.code, p.value) for p in problems] == [("depth", "repeated", "5")]
    assert problems[0].amount == 2
    # The same value twice says nothing new.
    assert decode_query("depth=5&depth=5") == (NetworkConfig(depth=5), [])


def test_a_base_near_the_budget_reports_what_would_pass_it_and_falls_back():
    """dtype doubles the memory without being a size field: the error names no param given."""
    base = NetworkConfig(depth=100, width=32, batch_size=16384)
    config, problems = decode_query("dtype=float64&activation=relu", base)
    assert config == base.replace(activation="relu")
    assert [(p.field, p.code) for p in problems] == [("dtype", "too_much_memory")]
    assert problems[0].amount > problems[0].limit
