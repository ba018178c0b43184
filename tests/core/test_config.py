"""NetworkConfig validates itself and names the field, the value and the valid choices."""

import numpy as np
import pytest

from core import FIELD_SPECS, ConfigError, NetworkConfig


@pytest.mark.parametrize("field,value,expected", [
    ("depth", 0, "depth must be an integer from 1 to 200"),
    ("depth", 10 ** 9, "depth must be an integer from 1 to 200"),
    ("width", -3, "width must be an integer from 1 to 4096"),
    ("depth", 2.5, "depth must be an integer"),
    ("activation", "swish", "one of identity, sigmoid, tanh, relu"),
    ("init", "he", "one of zeros, constant, normal"),
    ("init_std", float("nan"), "init_std must be a number from 0 to 100"),
    ("dropout", 1.0, "dropout must be a number from 0 to 0.95"),
    ("batch_size", 1, "batch_size must be an integer from 2"),
    ("residual", "yes", "residual must be true or false"),
    ("widths", (10,), "widths must be a comma-separated list"),
    ("widths", (10, 0, 5), "each from 1 to 4096"),
])
def test_invalid_values_name_the_field_and_the_valid_range(field, value, expected):
    with pytest.raises(ConfigError) as error:
        NetworkConfig(**{field: value})
    assert expected in str(error.value)
    assert field in error.value.fields


def test_error_is_a_value_error():
    with pytest.raises(ValueError):
        NetworkConfig(norm="groupnorm")


def test_config_is_frozen_and_hashable():
    config = NetworkConfig()
    with pytest.raises(Exception):
        config.depth = 3  # type: ignore[misc]
    assert hash(config) == hash(NetworkConfig())
    assert config == NetworkConfig()


def test_widths_override_depth_and_width():
    config = NetworkConfig(widths=(784, 256, 256, 10), depth=50)
    assert config.depth == 3
    assert config.layer_widths == (784, 256, 256, 10)
    assert NetworkConfig(depth=4, width=7).layer_widths == (7,) * 5


def test_numpy_numbers_are_accepted():
    config = NetworkConfig(depth=np.int64(12), init_std=np.float32(0.5), widths=())
    assert config.depth == 12 and isinstance(config.depth, int)
    assert isinstance(config.init_std, float)


def test_work_over_budget_is_refused_up_front():
    NetworkConfig(depth=50, width=512, batch_size=1024)  # the largest benchmark size fits
    with pytest.raises(ConfigError) as error:
        NetworkConfig(depth=200, width=4096, batch_size=16384)
    assert "too large" in str(error.value)
    assert {"depth", "width", "batch_size"} <= set(error.value.fields)


def test_memory_over_budget_is_refused():
    # Narrow and long, with a big batch: little work (2.5e9 multiply-adds), much memory.
    config = dict(depth=200, width=16, batch_size=16384, dtype="float64")
    with pytest.raises(ConfigError) as error:
        NetworkConfig(**config)
    assert error.value.code == "too_much_memory" and "MiB" in str(error.value)
    assert error.value.amount > error.value.limit
    NetworkConfig(**{**config, "dtype": "float32", "batch_size": 8192})  # half as much fits


def test_work_over_budget_carries_its_numbers():
    with pytest.raises(ConfigError) as error:
        NetworkConfig(depth=200, width=4096, batch_size=16384)
    assert error.value.code == "too_large" and error.value.amount > error.value.limit


def test_every_field_has_a_spec_and_a_valid_default():
    assert set(FIELD_SPECS) == set(NetworkConfig.__dataclass_fields__)
    for spec in FIELD_SPECS.values():
        assert spec.check(spec.default) == spec.default
