"""Property-based fuzzing of share links through the running app, on every page.

Random links (config fields and the pages' own parameters with valid or garbage values,
unknown keys, repeats, unicode, huge numbers) must never show an exception, and every bad
value, unknown key and repeated key must be named in a warning. Bounded and reproducible:
a few examples per page, derandomized, no deadline (AppTest runs take about a second).
"""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from core import FIELD_SPECS, ConfigError
from core import TRAIN_FIELD_SPECS
from core.query import TRAIN_QUERY_KEYS, format_value, parse_value
from ui.compare.logic import COMPARE_PRESETS
from ui.presets import PRESETS
from ui.train.logic import TRAIN_PRESETS
from ui.frame.url_state import EXPLORER_SECTIONS, EXTRAS
from tests.strategies import GARBAGE_TEXT, last_values, pairs, repeated_keys

from .conftest import shown

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGES = ("views/explorer.py", "views/compare.py", "views/phase.py", "views/spectrum.py")

VALID_EXTRAS = {
    "lang": st.sampled_from(["en", "zh"]),
    "preset": st.sampled_from(list(PRESETS)),
    "theory": st.sampled_from(["0", "1"]),
    "hist_scale": st.sampled_from(["std", "shared"]),
    "view": st.sampled_from(EXPLORER_SECTIONS),
    "cmp": st.sampled_from(["init:xavier_normal,kaiming_normal", "depth:3,5", "norm:none"]),
    "cmp_setups": st.sampled_from(["base;init=kaiming_normal", "depth=3;depth=4&width=16"]),
    "cmp_names": st.sampled_from(["a;b", "plain;He"]),
    "cmp_preset": st.sampled_from(list(COMPARE_PRESETS)),
    "cmp_layer": st.integers(0, 8).map(str),
    "phase_metric": st.sampled_from(["chi1", "xi_c"]),
    "present": st.sampled_from(["0", "1"]),
    "hide": st.sampled_from(["init,depth", "sidebar", "network,presets", "seed"]),
    "series": st.sampled_from(["preact_var", "act_unit_var,grad_preact_var"]),
    "class": st.text("abcdefghjkmnpqrstuvwxyz23456789", min_size=4, max_size=12),
    "predict": st.sampled_from(["0", "1"]),
    # The Train page: every TrainConfig field under its link name, the set-ups and the step.
    **{TRAIN_QUERY_KEYS[name]: st.sampled_from(
        list(spec.choices) if spec.kind == "choice" else
        [format_value(spec, v) for v in (spec.default, spec.low, spec.high)])
       for name, spec in TRAIN_FIELD_SPECS.items()},
    "trn": st.sampled_from(["init:xavier_normal,kaiming_normal", "lr:0.01,1", "clip:none,norm"]),
    "trn_setups": st.sampled_from(["base;init=zeros", "lr=0.5;train_batch_size=20&clip=norm"]),
    "trn_names": st.sampled_from(["a;b", "slow;fast"]),
    "trn_preset": st.sampled_from(list(TRAIN_PRESETS)),
    "trn_step": st.integers(0, 500).map(str),
}
assert set(VALID_EXTRAS) == set(EXTRAS), "a new page parameter needs its valid values here"
EXTRA_VALUES = {name: st.one_of(valid, GARBAGE_TEXT) for name, valid in VALID_EXTRAS.items()}


def is_bad(key: str, text: str) -> bool:
    """Would the app refuse this value (or not know the key)?"""
    if key in FIELD_SPECS:
        try:
            parse_value(FIELD_SPECS[key], text)
        except ConfigError:
            return True
        return False
    if key in EXTRAS:
        try:
            EXTRAS[key].parse(text)
        except ValueError:
            return True
        return False
    return True  # unknown


def open_link(page: str, link: list[tuple[str, str]]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    grouped: dict[str, list[str]] = {}
    for key, value in link:
        grouped.setdefault(key, []).append(value)
    for key, values in grouped.items():
        at.query_params[key] = values if len(values) > 1 else values[0]
    if page == PAGES[0]:
        return at.run()
    return at.switch_page(page).run()


@pytest.mark.parametrize("page", PAGES)
def test_random_links_never_crash_and_every_bad_value_is_named(page):
    @settings(max_examples=12, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(pairs(EXTRA_VALUES, max_size=6))
    def check(link):
        at = open_link(page, link)
        assert not at.exception, (link, [e.value for e in at.exception])
        warnings = " ".join(shown(at.warning))
        expected = {k for k, v in last_values(link).items() if is_bad(k, v)}
        expected |= repeated_keys(link)
        for key in expected:
            assert key in warnings, (key, link, warnings)

    check()
