"""Both catalogues say everything, and every key the code asks for exists."""

import re
from pathlib import Path

import pytest

from core import ACTIVATION_NAMES, COLUMNS, FIELD_SPECS
from core.diagnose import CODES
from core.theory import NOTES, PREDICTION_COLUMNS, REASONS
from ui.frame.i18n import LANGUAGES, catalogue, language_from_locale, translate
from ui.frame.classroom import LOCKABLE
from ui.presets import PRESETS

ROOT = Path(__file__).resolve().parents[3]
#: Strings that are the same in both languages because they are names or symbols.
SAME_IN_BOTH = re.compile(r"^[\sA-Za-z0-9_().,:;+·×−\-–—=/²σφ√²⁻¹³…{}]*$")
ALLOWED_SAME_PREFIXES = ("choice.",)
ALLOWED_SAME_KEYS = {"preset.tanh_xavier.name", "preset.relu_he.name", "preset.sigmoid.name",
                     "preset.layernorm.name", "nav.explorer_icon", "preset.sigmoid.name",
                     # the Train page's set-up names that are formulas: N(0, σ²), U(−b, b), g×
                     "train.name.init.normal", "train.name.init.uniform", "train.name.init_gain"}


def test_catalogues_have_the_same_keys():
    english, chinese = catalogue("en"), catalogue("zh")
    assert set(english) == set(chinese)
    assert set(LANGUAGES) == {"en", "zh"}


def test_no_string_is_empty_or_left_in_english():
    english, chinese = catalogue("en"), catalogue("zh")
    untranslated = []
    for key, text in chinese.items():
        assert text.strip(), key
        if text == english[key] and not key.startswith(ALLOWED_SAME_PREFIXES) \
                and key not in ALLOWED_SAME_KEYS and re.search(r"[A-Za-z]{4,}", text):
            untranslated.append(key)
    assert untranslated == []


def test_placeholders_match():
    english, chinese = catalogue("en"), catalogue("zh")
    for key in english:
        assert set(re.findall(r"{(\w+)}", english[key])) == set(
            re.findall(r"{(\w+)}", chinese[key])), key


def test_every_key_the_code_uses_exists():
    english = catalogue("en")
    used = set()
    for path in [ROOT / "app.py", *(ROOT / "ui").rglob("*.py"), *(ROOT / "views").glob("*.py")]:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_.]+)["']""", path.read_text("utf-8")))
    dynamic = {f"field.{f}.{part}" for f in FIELD_SPECS for part in ("label", "help")}
    dynamic |= {f"choice.{f}.{c}" for f, spec in FIELD_SPECS.items() for c in spec.choices}
    dynamic |= {f"preset.{p}.{part}" for p in PRESETS for part in ("name", "notice")}
    dynamic |= {f"finding.{code}" for code in CODES}
    dynamic |= {f"column.{name}" for name in (*COLUMNS, *PREDICTION_COLUMNS)}
    dynamic |= {f"explorer.theory_reason.{code}" for code in REASONS}
    dynamic |= {f"explorer.theory_note.{code}" for code in NOTES}
    dynamic |= {f"classroom.lockable.{name}" for name in LOCKABLE}
    dynamic |= {f"valid.{kind}" for kind in ("choice", "bool", "int", "float", "ints")}
    dynamic |= {f"error.{code}" for code in ("invalid", "too_large", "too_much_memory",
                                             "jacobian_memory", "too_many_fields")}
    missing = sorted(k for k in used | dynamic if k not in english)
    assert missing == []
    assert {f"choice.activation.{a}" for a in ACTIVATION_NAMES} <= set(english)


def test_translate_formats_and_falls_back():
    assert translate("zh", "chart.layer_n", layer=3) == "第 3 层"
    assert translate("zh", "no.such.key") == "no.such.key"


@pytest.mark.parametrize("locale,lang", [("zh-CN", "zh"), ("zh-Hant-TW", "zh"), ("en-US", "en"),
                                         ("fr", "en"), (None, "en")])
def test_browser_locale_picks_the_language(locale, lang):
    assert language_from_locale(locale) == lang
