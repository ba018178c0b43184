"""A lesson link of the Train page in a real browser: the runs are drawn, play animates the
decision function in the browser (the step label advances), screenshots in both languages on a
laptop and a phone."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.browser import harness
from ui.train.logic import preset_params

#: The cheapest lesson (two small set-ups): the page's behaviour, not the engine, is tested here.
LESSON = "zero_init"
CHARTS = 6  # decision, loss, gradients, updates, activations, weights
TRAIN_TIMEOUT_MS = 300_000
SIZES = {"laptop": (1440, 900), "phone": (390, 844)}
TALL = {"laptop": 4600, "phone": 9000}


def open_lesson(page, base_url: str, lang: str) -> None:
    query = urlencode({**preset_params(LESSON), "lang": lang}, safe=",")
    page.goto(f"{base_url.rstrip('/')}/train?{query}")
    assert harness.wait_for_plotly(page, min_count=CHARTS, timeout_ms=TRAIN_TIMEOUT_MS) >= CHARTS
    harness.wait_for_app_idle(page, timeout_ms=TRAIN_TIMEOUT_MS)


#: Plotly draws the slider's current value as the one text directly in its group (the ticks'
#: labels sit in groups of their own).
CURRENT_VALUE = ".slider-group > text.slider-label"


def decision_chart(page):
    return page.locator(harness.PLOTLY_CHART).filter(has=page.locator(CURRENT_VALUE)).first


def current_step_label(page) -> str:
    return (decision_chart(page).locator(CURRENT_VALUE).first.text_content() or "").strip()


def test_play_animates_the_decision_function_in_the_browser(app_server, page):
    page.set_viewport_size({"width": 1440, "height": 900})
    open_lesson(page, app_server, "en")
    first = current_step_label(page)
    assert first == "step 0"
    decision_chart(page).scroll_into_view_if_needed()
    decision_chart(page).locator(".updatemenu-button").first.click()  # ▶ play
    page.wait_for_function(
        """([sel, current, old]) => {
               const label = [...document.querySelectorAll(sel)]
                   .map(c => c.querySelector(current)).find(Boolean);
               return label && label.textContent.trim() !== old;
           }""",
        arg=[harness.PLOTLY_CHART, CURRENT_VALUE, first], timeout=30_000)
    later = current_step_label(page)
    assert later.startswith("step ") and int(later.split()[-1]) > 0
    # the frames came with the figure: no rerun was needed to animate
    assert page.locator(harness.APP_NOT_RUNNING).count() == 1
    assert page.get_by_test_id("stAlertContentWarning").count() == 0
    assert "trn_preset=zero_init" in page.url


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", list(SIZES))
def test_screenshots(app_server, page, lang, size):
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    open_lesson(page, app_server, lang)
    heading = {"en": "Train set-ups side by side", "zh": "并排训练多个设置"}[lang]
    assert page.get_by_role("heading", name=heading).count() == 1
    top = harness.screenshot(page, f"train_{LESSON}_{lang}_{size}", full_page=False)
    # Streamlit scrolls inside its own container: grow the viewport to see every chart.
    page.set_viewport_size({"width": width, "height": TALL[size]})
    harness.wait_for_plotly(page, min_count=CHARTS)
    page.wait_for_timeout(1000)  # Plotly re-lays out to the new size
    whole = harness.screenshot(page, f"train_{LESSON}_{lang}_{size}_tall", full_page=False)
    assert top.stat().st_size > 10_000 and whole.stat().st_size > top.stat().st_size
