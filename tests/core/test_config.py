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


# Numbers no float holds: every numeric field of both configs refuses them by name ------------

import math  # noqa: E402
from decimal import Decimal  # noqa: E402
from fractions import Fraction  # noqa: E402

from hypothesis import given, settings, strategies as st  # noqa: E402

from core import TRAIN_FIELD_SPECS, TrainConfig  # noqa: E402

NUMERIC_FIELDS = ([(NetworkConfig, name) for name, spec in FIELD_SPECS.items()
                   if spec.kind in ("int", "float")]
                  + [(TrainConfig, name) for name, spec in TRAIN_FIELD_SPECS.items()
                     if spec.kind in ("int", "float")])

#: Values beyond every field's range that once escaped as OverflowError (float() of a huge
#: int or Fraction) or ValueError (repr() of an int past 4,300 digits), and their kin.
HUGE = st.one_of(
    st.integers(20, 6000).flatmap(lambda digits: st.sampled_from([10 ** digits, -10 ** digits,
                                                                  7 * 10 ** digits + 3])),
    st.sampled_from([float("inf"), -float("inf"), float("nan"), 1e308, -1e308]),
    st.integers(310, 2000).map(lambda digits: Fraction(10 ** digits, 3)),
    st.sampled_from([Decimal("1e400"), Decimal("-1e400"), Decimal("NaN")]),
    st.integers(1, 5000).map(lambda digits: "9" * digits),
    st.sampled_from(["1e400", "inf", "", None, [], {}, object(), complex(1e400, 0)]),
)


def _spec(cls, name):
    return (FIELD_SPECS if cls is NetworkConfig else TRAIN_FIELD_SPECS)[name]


@pytest.mark.parametrize("cls,name", NUMERIC_FIELDS)
def test_the_issues_huge_ints_are_config_errors(cls, name):
    spec = _spec(cls, name)
    for value in (10 ** 400, -10 ** 400, 10 ** 5000):
        with pytest.raises(ConfigError) as error:
            cls(**{name: value})
        assert error.value.fields == (name,)
        assert f"{name} must be {spec.describe()}" in str(error.value)
        assert "digits" in str(error.value)  # described by its size, not printed whole


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(NUMERIC_FIELDS), value=HUGE)
def test_any_number_out_of_floats_reach_is_refused_by_name(field, value):
    cls, name = field
    with pytest.raises(ConfigError) as error:
        cls(**{name: value})
    assert error.value.fields == (name,)
    assert f"{name} must be {_spec(cls, name).describe()}" in str(error.value)
    assert len(str(error.value)) < 400


def test_widths_refuse_huge_and_endless_values_without_reading_them_all():
    for value in [(10 ** 5000, 4), (4, -10 ** 400), range(10 ** 12), iter(int, 1), "1,2", 7]:
        with pytest.raises(ConfigError) as error:
            NetworkConfig(widths=value)
        assert error.value.fields == ("widths",)
        assert len(str(error.value)) < 400


def test_every_numeric_field_still_accepts_its_bounds():
    for cls, name in NUMERIC_FIELDS:
        spec = _spec(cls, name)
        for value in (spec.low, spec.high):
            typed = int(value) if spec.kind == "int" else float(value)
            try:
                config = cls(**{name: typed})
            except ConfigError as error:  # a size at its bound may be over the run budget
                assert error.code in ("too_large", "too_much_memory", "batch_too_large"), error
                continue
            assert getattr(config, name) == typed and math.isfinite(getattr(config, name))
