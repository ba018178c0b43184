"""The Explorer in a real browser: a share link, a slider, the language."""

from __future__ import annotations

import re

from tests.browser import harness

POINTS_OF_FIRST_TRACE = """() => {
    const plot = document.querySelector("[data-testid='stPlotlyChart'] .js-plotly-plot");
    // _fullData holds decoded arrays (the figure JSON ships them base64-packed).
    return plot && plot._fullData && plot._fullData.length ? plot._fullData[0].x.length : -1;
}"""


def open_app(page, base_url: str, query: str) -> None:
    page.goto(base_url.rstrip("/") + "/?" + query)
    harness.wait_for_plotly(page, min_count=2)
    harness.wait_for_app_idle(page)


def test_share_link_restores_controls_and_draws(page, app_server):
    open_app(page, app_server, "depth=12&width=128&activation=relu&init=kaiming_normal&lang=en")
    sidebar = page.get_by_test_id("stSidebar")
    depth = sidebar.get_by_test_id("stSlider").filter(has_text="Depth")
    assert "12" in depth.inner_text()
    activation = sidebar.get_by_test_id("stSelectbox").filter(has_text="Activation")
    assert activation.locator("input").input_value() == "ReLU"
    assert harness.chart_title(page, 0) == "Variance versus depth (log scale)"
    assert page.evaluate(POINTS_OF_FIRST_TRACE) == 12
    harness.screenshot(page, "explorer_share_link_en")


def test_moving_the_depth_slider_redraws_and_updates_the_link(page, app_server):
    open_app(page, app_server, "depth=12&lang=en")
    handle = harness.slider_handle(page, "Depth", within="[data-testid='stSidebar']")
    handle.focus()
    handle.press("ArrowRight")
    page.wait_for_function(f"() => ({POINTS_OF_FIRST_TRACE})() === 13")
    page.wait_for_url(re.compile(r"depth=13"))
    harness.wait_for_app_idle(page)
    assert "depth=13" in page.get_by_test_id("stSidebar").get_by_test_id("stCode").first.inner_text()
    harness.screenshot(page, "explorer_after_slider")


def test_switching_to_chinese_translates_the_page(page, app_server):
    open_app(page, app_server, "preset=tanh_small&init=normal&lang=en")
    language = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first
    language.click()
    page.get_by_role("option", name="简体中文").click()
    page.wait_for_function("""() => [...document.querySelectorAll('h1')]
                               .some(h => h.textContent.includes('方差实验室'))""")
    harness.wait_for_plotly(page, min_count=2)
    harness.wait_for_app_idle(page)
    page.wait_for_url(re.compile(r"lang=zh"))
    assert "深度" in page.get_by_test_id("stSidebar").inner_text()
    assert "方差随深度的变化" in harness.chart_title(page, 0)
    harness.screenshot(page, "explorer_zh")


def test_a_bad_link_warns_and_still_draws(page, app_server):
    open_app(page, app_server, "depth=1000000000&activation=<b>x</b>&lang=en")
    warnings = page.get_by_test_id("stAlert").all_inner_texts()
    text = " ".join(warnings)
    assert "depth must be an integer from 1 to 200" in text
    assert "activation must be one of" in text
    assert "Traceback" not in page.content()
    harness.screenshot(page, "explorer_bad_link")


def test_page_navigation_keeps_the_experiment_in_the_link(page, app_server):
    open_app(page, app_server, "depth=12&activation=relu&lang=en")
    page.get_by_role("link", name="Compare").click()
    page.wait_for_url(re.compile(r"/compare\?.*depth=12"))
    harness.wait_for_plotly(page, min_count=1)
    harness.wait_for_app_idle(page)
    page.wait_for_function("() => location.href.includes('activation=relu')")
    assert "theory" not in page.url
    page.get_by_role("link", name="Explorer").click()
    page.wait_for_function(f"() => ({POINTS_OF_FIRST_TRACE})() === 12")
    # The link is rewritten at the end of the rerun, after the chart: wait for it.
    page.wait_for_function("""() => location.href.includes('depth=12')
                                    && location.href.includes('activation=relu')""")


def press_depth_right(page) -> None:
    handle = harness.slider_handle(page, "Depth", within="[data-testid='stSidebar']")
    handle.focus()
    handle.press("ArrowRight")


def test_a_preset_chosen_then_the_depth_slider_redraws_without_an_exception(page, app_server):
    open_app(page, app_server, "lang=en")
    preset = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(
        has_text="Lesson preset")
    preset.click()
    page.get_by_role("option", name="ReLU + He").click()
    page.wait_for_url(re.compile(r"preset=relu_he"))
    harness.wait_for_app_idle(page)
    press_depth_right(page)
    page.wait_for_function(f"() => ({POINTS_OF_FIRST_TRACE})() === 11")
    page.wait_for_function("() => !location.href.includes('preset=')")
    harness.wait_for_app_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert preset.locator("input").input_value() == "—"
    assert harness.chart_title(page, 0) == "Variance versus depth (log scale)"
    harness.screenshot(page, "explorer_preset_then_slider")


def test_a_preset_link_then_the_depth_slider_redraws_without_an_exception(page, app_server):
    open_app(page, app_server, "preset=zero_init&lang=en")
    assert page.locator("[data-testid='stException']").count() == 0
    press_depth_right(page)
    page.wait_for_function(f"() => ({POINTS_OF_FIRST_TRACE})() === 11")
    harness.wait_for_app_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    harness.screenshot(page, "explorer_preset_link_then_slider")


def test_a_link_with_more_than_1000_parameters_is_said_not_silently_dropped(page, app_server):
    """Streamlit drops such a query before the app runs; the browser still knows the address."""
    open_app(page, app_server, "&".join(f"k{i}=1" for i in range(1001)) + "&depth=5")
    page.get_by_text("more than 1000 parameters").wait_for()
    assert "Part of the link was ignored" in page.locator(".vl-dropped-query").inner_text()
    assert page.evaluate(POINTS_OF_FIRST_TRACE) == 10  # the defaults, as the warning says
    harness.screenshot(page, "explorer_too_many_parameters")


def test_a_plain_link_shows_no_dropped_query_box(page, app_server):
    open_app(page, app_server, "")
    assert not page.locator(".vl-dropped-query").is_visible()


# Plotly's margins after drawing (fullLayout._size) against the ones the figure asked for
# (fullLayout.margin): a chart whose margins automargin had to grow was drawn twice.
GROWN_MARGINS = """() => [...document.querySelectorAll("[data-testid='stPlotlyChart'] .js-plotly-plot")]
    .map(plot => {
        const asked = plot._fullLayout.margin, drawn = plot._fullLayout._size;
        return ['l', 'r', 'b'].filter(side => Math.round(drawn[side]) > asked[side])
            .map(side => `${plot._fullLayout.title.text} ${side}: ${asked[side]} → ${drawn[side]}`);
    }).flat()"""


def test_the_explorers_charts_are_drawn_once_with_the_room_they_asked_for(page, app_server):
    for query in ("depth=20&lang=en", "depth=20&lang=zh",
                  "depth=150&activation=relu&init=normal&init_std=1&lang=en"):
        open_app(page, app_server, query)
        harness.wait_for_plotly(page, min_count=2)
        assert page.evaluate(GROWN_MARGINS) == [], query
