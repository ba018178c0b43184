"""Chart styling every page shares: log axes that read as numbers, titles that fit a phone."""

import math

import numpy as np
import pytest

from ui import chart_style


def test_positive_drops_what_a_log_axis_cannot_show():
    assert chart_style.positive([1.0, 0.0, -1.0, math.nan, math.inf]) == [1.0, None, None, None, None]


@pytest.mark.parametrize("low,high", [(0.07, 0.6), (2.0, 9.0), (0.3, 30.0), (0.95, 1.05),
                                      (1e-3, 2e-2)])
def test_log_axis_over_few_decades_labels_every_tick_with_its_own_value(low, high):
    axis = chart_style.log_axis(np.geomspace(low, high, 20))
    ticks, labels = axis["tickvals"], axis["ticktext"]
    assert len(ticks) >= 2
    span = math.log10(high / low)
    assert all(low * 10 ** (-0.1 * span - 0.03) <= v <= high * 10 ** (0.1 * span + 0.03)
               for v in ticks)
    for value, label in zip(ticks, labels):
        # The label is the value (within its printed digits), never a bare mantissa.
        text = label.replace("×10", "e").translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789"))
        if text.startswith("e"):
            text = "1" + text
        assert float(text) == pytest.approx(value, rel=0.01), (value, label)


def test_log_axis_over_many_decades_labels_powers_of_ten_only():
    axis = chart_style.log_axis([1e-20, 1.0, 1e15])
    assert axis["tickvals"] is None and axis["exponentformat"] == "power"
    assert axis["dtick"] == math.ceil(35 / 8)
    assert chart_style.log_axis([1e-3, 1e3])["dtick"] == 1
    assert chart_style.log_axis([0.0, -1.0, math.nan]) == {"exponentformat": "power"}


def test_tick_text_reads_as_the_number():
    assert [chart_style.tick_text(v) for v in (0.002, 0.5, 1.0, 50.0, 3e-5, 1e8)] == [
        "0.002", "0.5", "1", "50", "3×10⁻⁵", "10⁸"]


def test_long_titles_break_once_within_a_phones_width():
    text = "Gradient growth per layer χ1 for tanh: click a cell to try it"
    wrapped = chart_style.wrap_title(text)
    first, second = wrapped.split("<br>")
    assert len(first) <= chart_style.TITLE_WIDTH and f"{first} {second}" == text
    chinese = "激活函数 tanh 的每层梯度增长 χ1 与深度尺度：点击任一格子试试看会发生什么"
    first, second = chart_style.wrap_title(chinese).split("<br>")
    assert first + second == chinese
    assert sum(2 if ord(c) > 0x2E80 else 1 for c in first) <= chart_style.TITLE_WIDTH
    assert chart_style.wrap_title("Variance versus depth (log scale)") == "Variance versus depth (log scale)"
