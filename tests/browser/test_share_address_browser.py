"""The share box's address in Chromium: a server on 127.0.0.2 (standing for a room's network
address) opened as http://127.0.0.2:PORT/ shares http://127.0.0.2:PORT/…; opened by a loopback
name, the share box says students cannot open it, in both languages. Screenshots of the
sidebar: artifacts/screenshots/share_loopback_<lang>.png."""

from __future__ import annotations

import re

import pytest

from tests.browser import harness
from ui.frame.i18n import translate


@pytest.fixture(scope="module")
def alias_server():
    with harness.start_app("app.py", cwd=harness.REPO_ROOT, host="127.0.0.2") as url:
        yield url


def share_box_link(page) -> str:
    codes = page.get_by_test_id("stSidebar").get_by_test_id("stCode")
    codes.first.wait_for()
    return codes.first.inner_text().strip()


def test_the_link_carries_the_address_the_browser_used(page, alias_server):
    base = alias_server.rstrip("/")
    page.goto(f"{base}/?depth=7&lang=en")
    harness.wait_for_plotly(page, min_count=1)
    harness.wait_for_app_idle(page)
    link = share_box_link(page)
    assert re.match(re.escape(base) + r"/?\?", link), link
    assert "depth=7" in link


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_loopback_address_is_named_in_the_share_box(browser, app_server, lang):
    page = harness.new_page(browser, width=1440, height=900)
    try:
        port = app_server.rstrip("/").rsplit(":", 1)[1]
        page.goto(f"http://localhost:{port}/?depth=7&lang={lang}")
        harness.wait_for_plotly(page, min_count=1)
        harness.wait_for_app_idle(page)
        sidebar = page.get_by_test_id("stSidebar")
        warning = sidebar.get_by_test_id("stAlert").filter(
            has_text=re.compile(re.escape(translate(lang, "classroom.loopback", host="localhost")
                                          .split("**")[1])))
        warning.first.wait_for()
        # This server listens on a loopback address only: the page says to listen on the room's.
        assert "--server.address 0.0.0.0" in sidebar.inner_text()
        warning.first.scroll_into_view_if_needed()
        harness.screenshot(page, f"share_loopback_{lang}", full_page=False)
    finally:
        page.context.close()
