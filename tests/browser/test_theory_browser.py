"""The Phase and Spectrum pages in a real browser: a click on the phase map changes the config
(sidebar, link, marker), the Explorer link, and the spectrum of an orthogonal linear network;
screenshots in English and Chinese."""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qs, urlparse

from tests.browser import harness

#: Page coordinates of the data point (σ_w², σ_b²) on the first Plotly chart.
CELL_XY = """([sw, sb]) => {
    const plot = document.querySelector("[data-testid='stPlotlyChart'] .js-plotly-plot");
    const xa = plot._fullLayout.xaxis, ya = plot._fullLayout.yaxis;
    const box = plot.getBoundingClientRect();
    return [box.x + xa._offset + xa.l2p(sw), box.y + ya._offset + ya.l2p(sb)];
}"""
#: (x, y) of the star (the current config) on the first chart, or null.
STAR = """() => {
    const plot = document.querySelector("[data-testid='stPlotlyChart'] .js-plotly-plot");
    if (!plot || !plot._fullData) return null;
    const star = plot._fullData.find(d => d.marker && d.marker.symbol === 'star');
    return star ? [star.x[0], star.y[0]] : null;
}"""
TALL = {"width": 1400, "height": 1900}


def open_page(page, base_url: str, path: str, query: str) -> None:
    page.goto(base_url.rstrip("/") + f"/{path}?" + query)
    harness.wait_for_plotly(page, min_count=1)
    harness.wait_for_app_idle(page)


def click_cell(page, sigma_w2: float, sigma_b2: float) -> None:
    chart = page.locator(harness.PLOTLY_CHART).first
    chart.scroll_into_view_if_needed()
    x, y = page.evaluate(CELL_XY, [sigma_w2, sigma_b2])
    page.mouse.move(x, y)
    page.wait_for_selector(".hoverlayer .hovertext")  # the invisible cell marker answers
    page.mouse.click(x, y)


def query(page) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}



def tall_screenshot(page, name: str) -> None:
    """The whole page in one picture: Streamlit scrolls inside its own container, so grow the
    viewport rather than ask for a full-page shot."""
    page.set_viewport_size(TALL)
    harness.wait_for_plotly(page)
    harness.screenshot(page, name, full_page=False)

def test_clicking_the_phase_map_sets_the_explorer_config(page, app_server):
    open_page(page, app_server, "phase", "lang=en&activation=relu&init=kaiming_normal")
    assert "Gradient growth per layer χ1 for ReLU" in harness.chart_title(page)
    start_w, start_b = page.evaluate(STAR)
    assert math.isclose(start_w, 2.0) and start_b == 0
    click_cell(page, 3.0, 0.2)
    page.wait_for_url(re.compile(r"init=normal&init_std=[0-9.]+&bias_init=normal&bias_std="))
    success = page.get_by_test_id("stAlertContentSuccess")
    success.wait_for()
    assert success.inner_text().startswith("Applied: σ_w² = ")
    harness.wait_for_app_idle(page)
    params = query(page)
    init_std, bias_std = float(params["init_std"]), float(params["bias_std"])
    assert params["activation"] == "relu" and len(params["init_std"]) <= 6
    # The star moved to the clicked cell (ReLU's map: 60 cells over σ_w² 0.1–4, σ_b² 0–0.5).
    page.wait_for_function(f"() => {{ const s = ({STAR})(); return s && Math.abs(s[0] - 2) > 1e-6; }}")
    star_w, star_b = page.evaluate(STAR)
    assert abs(star_w - 3.0) < 0.07 and abs(star_b - 0.2) < 0.01
    assert math.isclose(star_w, 256 * init_std ** 2, rel_tol=1e-9)
    assert math.isclose(star_b, bias_std ** 2, rel_tol=1e-9)
    # The sidebar and the share link hold it.
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.get_by_test_id("stSelectbox").filter(has_text="Weight init") \
        .locator("input").input_value() == "normal N(0, σ²)"
    assert f"init_std={params['init_std']}" in sidebar.get_by_test_id("stCode").first.inner_text()
    tall_screenshot(page, "phase_after_click_en")
    # The link goes to the Explorer (the default page, served at /) with that network.
    page.get_by_test_id("stPageLink").filter(has_text="See this network in the Explorer").click()
    page.wait_for_url(re.compile(r":\d+/\?.*init_std=" + re.escape(params["init_std"])))
    harness.wait_for_plotly(page, min_count=2)
    harness.wait_for_app_idle(page)
    assert harness.chart_title(page) == "Variance versus depth (log scale)"


def test_phase_map_in_chinese(page, app_server):
    open_page(page, app_server, "phase", "lang=zh&activation=tanh&init=xavier_normal")
    assert "点击任一格子" in harness.chart_title(page)
    click_cell(page, 0.5, 0.1)
    success = page.get_by_test_id("stAlertContentSuccess")
    success.wait_for()
    assert success.inner_text().startswith("已应用")
    page.wait_for_url(re.compile(r"init=normal"))
    harness.wait_for_app_idle(page)
    assert "有序：梯度消失" in page.locator(harness.PLOTLY_CHART).first.text_content()
    tall_screenshot(page, "phase_after_click_zh")


def test_an_orthogonal_linear_network_is_an_isometry(page, app_server):
    open_page(page, app_server, "spectrum", "lang=en&activation=identity&init=orthogonal")
    # A long title is broken onto two lines (SVG text has no space at the break).
    assert harness.chart_title(page).startswith("Singular values of ∂out/∂x: identity")
    metrics = page.get_by_test_id("stMetric").all_inner_texts()
    assert any("mean s²" in m and m.strip().endswith("1") for m in metrics)
    assert any("smallest … largest s" in m and "1 … 1" in m for m in metrics)
    captions = page.get_by_test_id("stMain").get_by_test_id("stCaptionContainer")
    assert "Exact: the full 256 × 256 Jacobian" in " ".join(captions.all_inner_texts())
    tall_screenshot(page, "spectrum_orthogonal_linear_en")


def test_gaussian_relu_spectrum_in_chinese(page, app_server):
    open_page(page, app_server, "spectrum", "lang=zh&activation=relu&init=kaiming_normal")
    assert harness.chart_title(page).startswith("∂out/∂x 的奇异值：ReLU")
    assert "动力学等距" in page.get_by_test_id("stAlert").last.inner_text()
    assert "Traceback" not in page.content()
    tall_screenshot(page, "spectrum_relu_zh")
