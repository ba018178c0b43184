"""Fixtures for real-browser tests (Streamlit server + Debian Chromium through Playwright).

Every test under tests/browser/ gets the ``browser`` marker. When Playwright or
/usr/bin/chromium is missing the tests SKIP with the reason -- except in CI (CI=true), where
they FAIL, so that a missing browser can never pass silently.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import harness

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def skip_or_fail(reason: str) -> None:
    """Skip locally; fail in CI."""
    if harness.in_ci():
        pytest.fail(f"[CI=true, so not skipping] {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def playwright_instance():
    reason = harness.browser_unavailable_reason()
    if reason:
        skip_or_fail(f"real-browser tests need Playwright and Chromium: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance):
    b = harness.launch_browser(playwright_instance)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def page(browser):
    pg = harness.new_page(browser, timeout_ms=30_000, width=1400, height=1000)
    try:
        yield pg
    finally:
        pg.context.close()


@pytest.fixture(scope="session")
def app_server():
    """Base URL (``http://127.0.0.1:PORT/``) of the real app.py at the repo root."""
    app = harness.REPO_ROOT / "app.py"
    if not app.is_file():
        skip_or_fail(f"{app} does not exist yet")
    with harness.start_app("app.py", cwd=harness.REPO_ROOT) as url:
        yield url


@pytest.fixture(scope="module")
def pages(browser):
    """One page per viewport (a harness.Viewport) for the module, a phone with touch, created
    when first used."""
    made = {}

    def get(viewport: harness.Viewport):
        if viewport.name not in made:
            extra = dict(is_mobile=True, has_touch=True) if viewport.phone else {}
            made[viewport.name] = harness.new_page(browser, timeout_ms=60_000,
                                                   width=viewport.width,
                                                   height=viewport.height, **extra)
        return made[viewport.name]
    yield get
    for page in made.values():
        page.context.close()
