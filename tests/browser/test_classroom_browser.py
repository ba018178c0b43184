"""The classroom layouts in Debian's Chromium: every Explorer preset, in both languages, on a
1440×900 screen, on a projector in present mode (1280×720 and 1440×900) and on a 390×844
phone. One server and one page per viewport for the module; each case opens the preset's link
(a fresh session), asserts the layout and saves a first-screen screenshot under
artifacts/screenshots/classroom_<viewport>_<lang>_<preset>.png.

Asserted everywhere: no two text boxes of one chart (title, axis titles, legend, annotations,
colour-bar title, and Plotly's toolbar, laid out even while it is faded out) intersect. Present mode: the title is one line, title, notice and main chart
lie inside the viewport, tick labels are ≥ 18 px and the sidebar is collapsed. Phone: no
horizontal overflow and the first chart starts above the bottom of the first screen.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from core import encode_query
from tests.browser import harness
from ui.explorer.charts import PROJECTOR_FONT
from ui.frame.i18n import translate
from ui.presets import PRESETS, preset_config


Viewport = harness.Viewport


VIEWPORTS = {v.name: v for v in (
    Viewport("desktop", 1440, 900),
    Viewport("present", 1280, 720, present=True),
    Viewport("present1440", 1440, 900, present=True),
    Viewport("phone", 390, 844, phone=True),
)}
LANGS = ("en", "zh")

#: Which text boxes of one chart intersect (its colour bar's title besides the usual ones).
CHART_TEXT_COLLISIONS = harness.chart_text_collisions((*harness.CHART_TEXT, "text.cbtitle"))

LAYOUT = """() => {
  const box = el => { if (!el) return null; const r = el.getBoundingClientRect();
                      return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                              height: r.height}; };
  const main = document.querySelector("[data-testid='stMain']") || document;
  const h1 = main.querySelector("h1");
  const sidebar = document.querySelector("[data-testid='stSidebar']");
  const chart = document.querySelector("[data-testid='stPlotlyChart']");
  const tick = chart && chart.querySelector(".xtick text, .ytick text");
  return {
    innerWidth, innerHeight, scrollWidth: document.documentElement.scrollWidth,
    title: box(h1), titleLine: h1 ? parseFloat(getComputedStyle(h1).lineHeight) : 0,
    notice: box(main.querySelector("[data-testid='stAlert']")),
    chart: box(chart),
    tickPx: tick ? parseFloat(getComputedStyle(tick).fontSize) : 0,
    sidebar: box(sidebar),
  };
}"""


def preset_link(base_url: str, preset_id: str, lang: str, present: bool) -> str:
    query = encode_query(preset_config(preset_id))
    extra = {"preset": preset_id, "lang": lang, **({"present": "1"} if present else {})}
    return base_url.rstrip("/") + "/?" + "&".join(p for p in (query, urlencode(extra)) if p)



def open_link(page, link: str, lang: str) -> None:
    page.goto(link)
    # The lesson's chart: the variance chart, or (zero init) the spread across units.
    titles = [translate(lang, "chart.variance.title"), translate(lang, "chart.spread.title")]
    page.wait_for_function(
        """(titles) => [...document.querySelectorAll("[data-testid='stPlotlyChart'] .gtitle")]
                      .some(t => titles.includes(t.textContent.trim()))""", arg=titles)
    harness.wait_for_app_idle(page)
    harness.wait_for_plotly(page, min_count=2)
    # Plotly lays a chart out again once its container has its final width.
    page.wait_for_timeout(300)


#: The presets with the longest notices, for the larger projector (whatever fits 1280×720 with
#: a fixed chart height fits 1440×900, where a notice wraps less).
LONGEST_NOTICES = tuple(sorted(PRESETS, key=lambda p: len(translate("en",
                                                                    f"preset.{p}.notice"))))[-2:]
CASES = [pytest.param(v, lang, preset, id=f"{v}-{lang}-{preset}")
         for v in VIEWPORTS for lang in LANGS for preset in PRESETS
         if v != "present1440" or preset in LONGEST_NOTICES]


@pytest.mark.parametrize("viewport_name,lang,preset_id", CASES)
def test_preset_layout(pages, app_server, viewport_name, lang, preset_id):
    viewport = VIEWPORTS[viewport_name]
    page = pages(viewport)
    open_link(page, preset_link(app_server, preset_id, lang, viewport.present), lang)
    harness.screenshot(page, f"classroom_{viewport.name}_{lang}_{preset_id}", full_page=False)
    layout = page.evaluate(LAYOUT)

    assert page.evaluate(CHART_TEXT_COLLISIONS) == []
    assert "Traceback" not in page.content()
    if viewport.present:
        height, width = layout["innerHeight"], layout["innerWidth"]
        assert layout["title"]["height"] < 1.5 * layout["titleLine"], "title on one line"
        for part in ("title", "notice", "chart"):
            box = layout[part]
            assert box is not None, part
            assert 0 <= box["top"] and box["bottom"] <= height, (part, box, height)
            assert 0 <= box["left"] and box["right"] <= width, (part, box, width)
        assert layout["tickPx"] >= PROJECTOR_FONT
        assert layout["sidebar"] is None or layout["sidebar"]["right"] <= 1, "sidebar collapsed"
    if viewport.phone:
        assert layout["scrollWidth"] <= layout["innerWidth"]
        assert layout["chart"]["top"] < viewport.height


def test_present_mode_switch_and_the_way_out(browser, app_server):
    page = harness.new_page(browser, timeout_ms=60_000, width=1280, height=720)
    try:
        open_link(page, app_server.rstrip("/") + "/?lang=en", "en")
        sidebar = page.get_by_test_id("stSidebar")
        assert sidebar.bounding_box()["width"] > 100
        sidebar.get_by_text(translate("en", "classroom.present")).click()
        leave = page.get_by_role("button", name=translate("en", "classroom.leave_present"))
        leave.wait_for()
        page.wait_for_function("() => location.href.includes('present=1')")
        page.wait_for_function("""() => { const s = document.querySelector(
                                   "[data-testid='stSidebar']");
                                   return !s || s.getBoundingClientRect().right <= 1; }""")
        # The QR code of the students' link, big, in a dialog.
        page.get_by_role("button", name=translate("en", "classroom.qr_button")).click()
        qr = page.get_by_test_id("stDialog").get_by_role("img")
        qr.wait_for()
        box = qr.bounding_box()
        assert box["width"] >= 400 and box["height"] >= 400
        harness.screenshot(page, "classroom_present_qr_en", full_page=False)
        page.keyboard.press("Escape")
        page.get_by_test_id("stDialog").wait_for(state="detached")
        leave.click()
        page.wait_for_function("() => !location.href.includes('present=1')")
        page.wait_for_function("""() => { const s = document.querySelector(
                                   "[data-testid='stSidebar']");
                                   return s && s.getBoundingClientRect().width > 100; }""")
        assert page.get_by_role("button",
                                name=translate("en", "classroom.leave_present")).count() == 0
    finally:
        page.context.close()


def test_a_teacher_link_hiding_the_sidebar_shows_no_sidebar(browser, app_server):
    page = harness.new_page(browser, timeout_ms=60_000, width=1440, height=900)
    try:
        open_link(page, app_server.rstrip("/") + "/?hide=sidebar&lang=zh", "zh")
        assert page.get_by_test_id("stSidebar").count() == 0 or not page.get_by_test_id(
            "stSidebar").is_visible()
        assert page.get_by_test_id("stExpandSidebarButton").count() == 0 or not \
            page.get_by_test_id("stExpandSidebarButton").is_visible()
        harness.screenshot(page, "classroom_hide_sidebar_zh", full_page=False)
    finally:
        page.context.close()


#: Every page and Explorer section a phone reader may open (link, language).
PHONE_PAGES = {
    "explorer-heatmaps": ("?view=overview&lang=en", "en"),
    "explorer-layers": ("?view=layers&activation=tanh&init=normal&init_std=1&lang=zh", "zh"),
    "explorer-why": ("?view=why&lang=en", "en"),
    "explorer-table": ("?view=table&lang=zh", "zh"),
    "compare": ("compare?cmp_preset=relu_norm&activation=relu&depth=50&lang=en"
                "&cmp_setups=norm%3Dnone%3Bnorm%3Dbatchnorm%3Bnorm%3Dlayernorm%3B"
                "residual%3Dtrue%26residual_scale%3D0.141", "en"),
    "compare-zh": ("compare?lang=zh", "zh"),
    "phase": ("phase?lang=en", "en"),
    "spectrum": ("spectrum?activation=tanh&init=orthogonal&lang=zh", "zh"),
}


@pytest.mark.parametrize("name", list(PHONE_PAGES))
def test_phone_pages_fit_and_their_chart_text_does_not_collide(pages, app_server, name):
    query, lang = PHONE_PAGES[name]
    page = pages(VIEWPORTS["phone"])
    page.goto(app_server.rstrip("/") + "/" + query)
    harness.wait_for_plotly(page, min_count=1)
    harness.wait_for_app_idle(page)
    page.wait_for_timeout(500)
    layout = page.evaluate(LAYOUT)
    assert layout["scrollWidth"] <= layout["innerWidth"]
    assert page.evaluate(CHART_TEXT_COLLISIONS) == []
    assert "Traceback" not in page.content()
    # The whole page in one picture: Streamlit scrolls inside its own container, so the
    # viewport grows to the content's height (and back for the next case).
    height = page.evaluate("""() => { const m = document.querySelector(
                                  "[data-testid='stMain']"); return m ? m.scrollHeight : 844; }""")
    phone = VIEWPORTS["phone"]
    page.set_viewport_size({"width": phone.width, "height": min(int(height), 6000)})
    try:
        page.wait_for_timeout(500)
        harness.screenshot(page, f"classroom_phone_page_{name}", full_page=False)
        assert page.evaluate(CHART_TEXT_COLLISIONS) == []
    finally:
        page.set_viewport_size({"width": phone.width, "height": phone.height})
