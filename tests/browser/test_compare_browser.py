"""A shared comparison link opens in a real browser with every curve drawn, in both languages."""
from __future__ import annotations

from tests.browser import harness
from ui.frame.i18n import translate

#: The deep-ReLU lesson as a teacher would share it: 5 set-ups (forward + backward each).
SHARED = ("activation=relu&depth=50&cmp_preset=relu_norm&cmp_setups="
          "norm%3Dnone%3Bnorm%3Dbatchnorm%3Bnorm%3Dlayernorm%3B"
          "norm%3Dbatchnorm%26residual%3Dtrue%3Bnorm%3Dlayernorm%26residual%3Dtrue")
SETUPS = 5
#: The first chart is the forward panel (the backward one stands beside it, or under it on a
#: phone): one curve per set-up.
SERIES = 1


def overlay_trace_count(page, expected: int = SETUPS * SERIES,
                        timeout_ms: float = harness.COLD_COMPUTE_TIMEOUT_MS) -> int:
    """Wait until the overlay chart (the first Plotly chart) has ``expected`` curves or more,
    and count them."""
    handle = page.wait_for_function(
        """([sel, n]) => {
               const chart = document.querySelectorAll(sel)[0];
               const k = chart ? chart.querySelectorAll('.scatterlayer .trace').length : 0;
               return k >= n ? k : false;
           }""",
        arg=[harness.PLOTLY_CHART, expected], timeout=timeout_ms)
    return int(handle.json_value())


def open_shared(page, base_url: str, lang: str) -> None:
    page.set_viewport_size({"width": 1400, "height": 3400})  # the whole page in one screenshot
    # theory=0: count the measured curves alone (theory lines are checked by AppTest).
    # A cold comparison of 5 × 50 layers: wait for the charts themselves, with a generous bound.
    page.goto(f"{base_url.rstrip('/')}/compare?{SHARED}&lang={lang}&theory=0",
              timeout=harness.COLD_COMPUTE_TIMEOUT_MS)
    assert harness.wait_for_plotly(page, min_count=3,
                                   timeout_ms=harness.COLD_COMPUTE_TIMEOUT_MS) >= 3
    harness.wait_for_app_idle(page, timeout_ms=harness.COLD_COMPUTE_TIMEOUT_MS)


def test_shared_comparison_link_draws_every_curve_in_english(app_server, page):
    open_shared(page, app_server, "en")
    assert overlay_trace_count(page) == SETUPS * SERIES
    assert harness.chart_title(page, 0) == translate("en", "compare.chart.forward")
    assert harness.chart_title(page, 1) == translate("en", "compare.chart.backward")
    legend = page.locator(harness.PLOTLY_CHART).first.locator(".legendtext").all_text_contents()
    assert legend == ["Normalisation = none", "Normalisation = BatchNorm",
                      "Normalisation = LayerNorm",
                      "Normalisation = BatchNorm, Residual connections = on",
                      "Normalisation = LayerNorm, Residual connections = on"]
    notice = page.get_by_test_id("stAlertContentInfo").first.inner_text()
    assert "adds instead of multiplying" in notice and "{" not in notice
    # the main page only: the sidebar says a loopback address (these servers') is not for students
    assert page.get_by_test_id("stMain").get_by_test_id("stAlertContentWarning").count() == 0
    shot = harness.screenshot(page, "compare_relu_norm_en")
    assert shot.stat().st_size > 10_000


def test_shared_comparison_link_draws_every_curve_in_chinese(app_server, page):
    open_shared(page, app_server, "zh")
    assert overlay_trace_count(page) == SETUPS * SERIES
    assert harness.chart_title(page, 0) == translate("zh", "compare.chart.forward")
    assert page.get_by_role("heading", name="并排对比多个设置").count() == 1
    shot = harness.screenshot(page, "compare_relu_norm_zh")
    assert shot.stat().st_size > 10_000


def test_adding_a_row_in_the_setup_editor_adds_a_setup_to_the_link(app_server, page):
    page.goto(f"{app_server.rstrip('/')}/compare?cmp_setups=base%3Binit%3Dkaiming_normal&lang=en&theory=0")
    assert harness.wait_for_plotly(page, min_count=3,
                                   timeout_ms=harness.COLD_COMPUTE_TIMEOUT_MS) >= 3
    harness.wait_for_app_idle(page, timeout_ms=harness.COLD_COMPUTE_TIMEOUT_MS)
    assert overlay_trace_count(page, 2) == 2
    page.get_by_test_id("stDataFrame").first.hover()
    page.get_by_role("button", name="Add row").first.click()
    page.wait_for_function(
        """(sel) => document.querySelectorAll(sel)[0]
                        .querySelectorAll('.scatterlayer .trace').length === 3""",
        arg=harness.PLOTLY_CHART)
    harness.wait_for_app_idle(page)
    legend = page.locator(harness.PLOTLY_CHART).first.locator(".legendtext").all_text_contents()
    assert legend == ["sidebar network", "Weight init = He (Kaiming) normal",
                      "sidebar network (2)"]  # a new row starts at the sidebar's values
    assert "cmp_setups=base%3Binit%3Dkaiming_normal%3Bbase" in page.url
