"""AppTest helpers: a fresh app run per test, the cache cleared so tests stay independent."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def app():
    from ui.serving.cache import simulation

    simulation.clear()

    def make(**query) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        for key, value in query.items():
            at.query_params[key] = value
        return at.run()
    return make


def by_key(elements, key):
    return next(e for e in elements if e.key == key)


def shown(elements) -> list[str]:
    """The texts of alert elements as a reader sees them (Markdown backslash escapes undone,
    zero-width spaces invisible)."""
    import re

    return [re.sub(r"\\(.)", r"\1", element.value).replace("\u200b", "")
            for element in elements]
