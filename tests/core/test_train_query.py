"""TrainConfig in the link codec and the `python -m core train` command line."""

import io
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core import ConfigError, HISTORY_COLUMNS, NetworkConfig, TrainConfig
from core.query import (TRAIN_QUERY_KEYS, decode_query, decode_train_query, encode_query,
                        encode_train_query, train_config_from_params)
from core.train_config import TRAIN_FIELD_SPECS

ROOT = Path(__file__).resolve().parents[2]


def random_train_config(rng: random.Random) -> TrainConfig:
    while True:
        values = {}
        for name, spec in TRAIN_FIELD_SPECS.items():
            if spec.kind == "choice":
                values[name] = rng.choice(spec.choices)
            elif spec.kind == "int":
                values[name] = rng.randint(int(spec.low), min(int(spec.high), 400))
            else:
                values[name] = rng.choice([spec.low, spec.high, rng.uniform(spec.low, spec.high)])
        try:
            return TrainConfig(**values)
        except ConfigError:
            continue


def test_every_random_valid_train_config_round_trips():
    rng = random.Random(0)
    network = NetworkConfig(depth=3, width=8, seed=5, batch_size=64)
    for _ in range(300):
        train_config = random_train_config(rng)
        config, decoded, problems = decode_train_query(encode_train_query(network, train_config))
        assert problems == []
        assert decoded == train_config and config == network


def test_defaults_are_omitted_and_shared_names_get_the_train_prefix():
    assert encode_train_query(NetworkConfig(), TrainConfig()) == ""
    query = encode_train_query(NetworkConfig(seed=4, batch_size=64),
                               TrainConfig(seed=9, batch_size=32, dataset="spiral"))
    assert query == "batch_size=64&seed=4&dataset=spiral&train_batch_size=32&train_seed=9"
    assert TRAIN_QUERY_KEYS["lr"] == "lr" and TRAIN_QUERY_KEYS["seed"] == "train_seed"
    # The network's codec ignores the training keys (the Explorer keeps working on such links).
    config, problems = decode_query(query)
    assert problems == [] and encode_query(config) == "batch_size=64&seed=4"


@pytest.mark.parametrize("query,key,fragment", [
    ("dataset=moons", "dataset", "one of circle, xor"),
    ("lr=<b>1</b>", "lr", "a number from 0 to 10"),
    ("steps=1e9", "steps", "from 1 to 100000"),
    ("train_seed=-1", "train_seed", "an integer from 0"),
    ("clip=maybe", "clip", "one of none, norm, value"),
    ("n_points=20&train_batch_size=15", "train_batch_size", "at most the training split's 10"),
])
def test_bad_values_are_reported_and_fall_back(query, key, fragment):
    config, train_config, problems = decode_train_query(query + "&optimizer=adam")
    assert [p.field for p in problems] == [key]
    assert fragment in problems[0].message
    assert train_config.optimizer == "adam"  # the good values still apply


def test_a_pair_over_the_training_budget_falls_back_on_the_training_fields():
    config, train_config, problems = decode_train_query(
        "depth=10&width=128&batch_size=2&steps=100000&train_batch_size=200&n_points=5000"
        "&activation=relu")
    assert len(problems) == 1 and problems[0].code == "too_large"
    assert train_config.steps == TrainConfig().steps
    assert (config.depth, config.width, config.activation) == (10, 128, "relu")


def test_widths_that_do_not_fit_the_data_fall_back():
    config, train_config, problems = decode_train_query("widths=3,8,1&steps=20")
    assert [p.code for p in problems] == ["widths_mismatch"]
    assert config.widths == () and train_config.steps == 20


def test_keys_of_the_other_config_are_ignored():
    train_config, problems = train_config_from_params({"depth": "3", "lr": "0.5"})
    assert problems == [] and train_config.lr == 0.5


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_cli_train_prints_the_history_as_csv():
    done = run_cli("train", "depth=3&width=8&steps=20&record_every=10&lr=oops&bogus=1")
    assert done.returncode == 0, done.stderr
    history = pd.read_csv(io.StringIO(done.stdout))
    assert tuple(history.columns[:8]) == HISTORY_COLUMNS
    assert history.step.tolist() == [0, 10, 20]
    assert "lr='oops' is invalid" in done.stderr and "unknown field 'bogus'" in done.stderr
    layers = pd.read_csv(io.StringIO(run_cli("train", "depth=3&width=8&steps=5", "--layers")
                                     .stdout))
    assert layers.layer.tolist()[:3] == [1, 2, 3]


def test_cli_without_train_still_simulates():
    done = run_cli("depth=3&width=8")
    assert done.returncode == 0 and done.stdout.startswith("layer,fan_in")


def test_cli_names_a_nonfinite_step():
    done = run_cli("train", "depth=10&width=64&activation=relu&init=normal&init_std=1&steps=50")
    assert done.returncode == 0
    assert "stopped: non-finite value at step" in done.stderr


def test_a_repeated_training_key_uses_the_last_value_and_says_so():
    _, train_config, problems = decode_train_query("lr=0.1&steps=20&lr=0.2")
    assert train_config.lr == 0.2 and train_config.steps == 20
    assert [(p.field, p.code) for p in problems] == [("lr", "repeated")]


def test_bases_over_the_training_budget_fall_back_to_the_defaults_without_raising():
    base = NetworkConfig(depth=20, width=512, batch_size=2)
    train_base = TrainConfig(steps=100000)  # each fine alone, too much together
    config, train_config, problems = decode_train_query("", base=base, train_base=train_base)
    assert (config, train_config) == (NetworkConfig(), TrainConfig())
    assert [p.code for p in problems] == ["too_large"]
