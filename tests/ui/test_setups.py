"""The set-up machinery the Compare and Train pages share (ui.setups): edited set-ups in a link,
names and colours by position, a set-up's differences applied to the base."""

import pytest

from core import NetworkConfig
from ui.chart_style import PALETTE
from ui.frame.i18n import translate
from ui.setups import apply_diff, auto_name, build_setups, format_setups, parse_setups


def en(key, **values):
    return translate("en", key, **values)


def zh(key, **values):
    return translate("zh", key, **values)


SMALL = NetworkConfig(depth=6, width=32, batch_size=64)


def test_setups_round_trip():
    text = "init=normal&init_std=0.01;base;residual=1&residual_scale=0.141;widths=16,8,4"
    setups = parse_setups(text)
    assert setups[0] == (("init", "normal"), ("init_std", 0.01))
    assert setups[1] == ()
    assert setups[2] == (("residual", True), ("residual_scale", 0.141))
    assert setups[3] == (("widths", (16, 8, 4)),)
    assert parse_setups(format_setups(setups)) == setups
    assert parse_setups("") == ()


@pytest.mark.parametrize("text,named", [
    ("init=bogus", "xavier_normal"),
    ("nofield=1", "batch_size"),
    (";".join(["base"] * 7), "7 given"),
    ("depth=1e9", "from 1 to 200"),
    ("depth", "init=normal"),
    ("x" * 5000, "too long"),
])
def test_bad_setups_raise_value_error(text, named):
    with pytest.raises(ValueError) as info:
        parse_setups(text)
    assert named in str(info.value)


def test_names_colours_and_over_budget_setups():
    diffs = ((("init", "kaiming_normal"),), (("width", 4096), ("depth", 200)), (),
             (("init", "kaiming_normal"),))
    setups = build_setups(SMALL, diffs, ("", "huge"), en)
    assert [s.name for s in setups] == ["Weight init = He (Kaiming) normal", "huge",
                                        "sidebar network", "Weight init = He (Kaiming) normal (2)"]
    assert [s.colour for s in setups] == list(PALETTE[:4])  # colour by position, skipped or not
    assert setups[1].config is None and "too large" in str(setups[1].error)
    assert setups[2].config == SMALL
    assert auto_name((("residual", True), ("init_std", 0.5)), zh) == "残差连接 = 开, 权重标准差 σ = 0.5"


def test_depth_in_a_setup_overrides_the_base_widths():
    base = NetworkConfig(widths=(16, 8, 8, 4), batch_size=32)
    assert apply_diff(base, (("depth", 5),)).layer_widths == (base.width,) * 6
    assert apply_diff(base, (("init", "zeros"),)).widths == (16, 8, 8, 4)
