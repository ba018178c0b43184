"""The Train page in a real browser: a lesson link on a laptop, a projector (present mode at
1280×720 and 1920×1080) and a phone, in both languages — the lesson first (its title, its
question and choices, then the decision maps and the loss chart), no chart text
overlapping other text, projector text ≥ 18 px, no sideways scroll on a phone; play animates the
decision function in the browser; a cold run is drawn while it trains. Screenshots under
artifacts/screenshots/train_*.png."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.browser import harness
from ui.chart_style import PROJECTOR_FONT
from ui.frame.i18n import translate
from ui.train.lessons import choices
from ui.train.logic import preset_params

#: The four-set-up lesson: the fullest layout. The server computes every lesson at start-up.
LESSON = "init"
CHARTS = 6  # decision, loss, gradients, updates, activations, weights
TRAIN_TIMEOUT_MS = 300_000


Viewport = harness.Viewport

VIEWPORTS = {v.name: v for v in (
    Viewport("laptop", 1440, 900),
    Viewport("present", 1280, 720, present=True),
    Viewport("present1080", 1920, 1080, present=True),
    Viewport("phone", 390, 844, phone=True),
)}

#: Which text boxes of one chart intersect: tick labels, colour bars, play/pause and the step too.
CHART_TEXT_COLLISIONS = harness.chart_text_collisions((
    *harness.CHART_TEXT, "g.colorbar", "g.updatemenu-button", ".slider-group > text.slider-label",
    "g.xtick > text", "g.ytick > text"))

LAYOUT = """() => {
  const box = el => { if (!el) return null; const r = el.getBoundingClientRect();
                      return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                              height: r.height}; };
  const main = document.querySelector("[data-testid='stMain']");
  const h1 = main.querySelector("h1");
  const charts = [...document.querySelectorAll("[data-testid='stPlotlyChart']")];
  // The smallest text a reader sees in the two main charts (hidden slider ticks aside).
  const sizes = charts.slice(0, 2).flatMap(c => [...c.querySelectorAll("text")])
    .filter(t => t.getBoundingClientRect().width > 0 && (t.textContent || "").trim()
                 && getComputedStyle(t).fill !== "rgba(0, 0, 0, 0)")
    .map(t => parseFloat(getComputedStyle(t).fontSize));
  const widgets = [...main.querySelectorAll(
      "[data-testid='stSelectbox'], [data-testid='stExpander'], [data-testid='stSlider']")];
  return {
    innerWidth, innerHeight, scrollWidth: document.documentElement.scrollWidth,
    title: box(h1), titleLine: h1 ? parseFloat(getComputedStyle(h1).lineHeight) : 0,
    question: box(main.querySelector(".st-key-lesson_question")),
    decision: box(charts[0]), loss: box(charts[1]),
    firstWidget: widgets.length ? box(widgets[0]) : null,
    smallestText: sizes.length ? Math.min(...sizes) : 0,
    sidebar: box(document.querySelector("[data-testid='stSidebar']")),
  };
}"""


def lesson_link(base_url: str, lang: str, present: bool = False, **more) -> str:
    query = {**preset_params(LESSON), "lang": lang, **({"present": "1"} if present else {}),
             **more}
    return f"{base_url.rstrip('/')}/train?{urlencode(query, safe=',')}"


def open_page(page, link: str, charts: int = CHARTS) -> None:
    page.goto(link)
    assert harness.wait_for_plotly(page, min_count=charts,
                                   timeout_ms=TRAIN_TIMEOUT_MS) >= charts
    harness.wait_for_app_idle(page, timeout_ms=TRAIN_TIMEOUT_MS)
    page.wait_for_timeout(500)  # Plotly lays a chart out again at its container's final size


def inside(box: dict, width: int, height: int) -> bool:
    return 0 <= box["top"] and box["bottom"] <= height and 0 <= box["left"] \
        and box["right"] <= width


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("viewport_name", list(VIEWPORTS))
def test_the_lesson_first_on_every_screen(pages, app_server, viewport_name, lang):
    viewport = VIEWPORTS[viewport_name]
    page = pages(viewport)
    open_page(page, lesson_link(app_server, lang, viewport.present))
    harness.screenshot(page, f"train_{viewport.name}_{lang}", full_page=False)
    layout = page.evaluate(LAYOUT)
    width, height = layout["innerWidth"], layout["innerHeight"]

    assert page.evaluate(CHART_TEXT_COLLISIONS) == []
    assert "Traceback" not in page.content()
    # the question and its choices right under the title, before the charts
    assert layout["title"]["bottom"] <= layout["question"]["top"]
    assert layout["question"]["bottom"] <= layout["decision"]["top"]
    assert layout["decision"]["bottom"] <= layout["firstWidget"]["top"], "charts before controls"
    assert page.get_by_role("heading", name=translate(lang, f"train.preset.{LESSON}.name")) \
        .count() == 1
    for choice in choices(LESSON):
        label = translate(lang, f"train.lesson.{LESSON}.choice.{choice}")
        assert page.get_by_text(label, exact=True).count() == 1, label
    # title, question, the maps and the loss chart on the first screen (the question on a phone)
    for part in ("title", "question") + (() if viewport.phone else ("decision", "loss")):
        assert inside(layout[part], width, height), (part, layout[part], width, height)
    if viewport.present:
        assert layout["title"]["height"] < 1.5 * layout["titleLine"], "title on one line"
        assert layout["smallestText"] >= PROJECTOR_FONT, layout["smallestText"]
        assert layout["sidebar"] is None or layout["sidebar"]["right"] <= 1, "sidebar folded"
        assert page.get_by_role("button", name=translate(lang, "classroom.leave_present")) \
            .count() == 1
        assert page.get_by_role("button", name=translate(lang, "classroom.qr_button")) \
            .count() == 1
        # the charts take the screen's height: most of what is left under the question
        room = height - layout["question"]["bottom"]
        assert layout["decision"]["height"] >= 0.75 * room, (layout["decision"], room)
    if viewport.phone:
        assert layout["scrollWidth"] <= width
        assert layout["decision"]["top"] < height, "the first chart starts on the first screen"
        # one column: the loss chart under the maps
        assert layout["loss"]["top"] >= layout["decision"]["bottom"] - 1


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_choice_opens_the_verdict_and_the_notice_under_the_question(app_server, page, lang):
    page.set_viewport_size({"width": 1440, "height": 900})
    open_page(page, lesson_link(app_server, lang))
    notice = translate(lang, f"train.preset.{LESSON}.notice")
    assert page.get_by_text(notice[:30]).count() == 0  # asked first
    page.get_by_text(translate(lang, f"train.lesson.{LESSON}.choice.xavier_he"),
                     exact=True).click()
    page.get_by_test_id("stAlertContentSuccess").wait_for(timeout=60_000)
    harness.wait_for_app_idle(page, timeout_ms=TRAIN_TIMEOUT_MS)
    page.wait_for_timeout(500)
    harness.screenshot(page, f"train_answered_{lang}", full_page=False)
    assert translate(lang, "lesson.you_right") in page.get_by_test_id(
        "stAlertContentSuccess").first.text_content()
    assert page.get_by_text(notice[:30]).count() == 1
    layout = page.evaluate(LAYOUT)
    assert layout["question"]["bottom"] <= layout["decision"]["top"]
    assert layout["decision"]["top"] < layout["innerHeight"], "the maps start on the screen"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_teachers_projector_shows_the_class_counts_and_reveal(pages, app_server, lang):
    from ui import poll

    page = pages(VIEWPORTS["present"])
    open_page(page, lesson_link(app_server, lang, present=True, **{"class": poll.new_code()}))
    harness.screenshot(page, f"train_teacher_{lang}", full_page=False)
    reveal = page.get_by_role("button", name=translate(lang, "poll.reveal"))
    assert reveal.count() == 1
    box = reveal.bounding_box()
    assert box["y"] + box["height"] <= 720, "Reveal on the first screen"
    assert page.get_by_test_id("stProgress").count() == len(choices(LESSON))
    layout = page.evaluate(LAYOUT)
    assert layout["question"]["bottom"] <= layout["decision"]["top"]
    for part in ("decision", "loss"):  # the charts still fit under the counts
        assert inside(layout[part], 1280, 720), (part, layout[part])


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("viewport_name", ["laptop", "phone"])
def test_every_chart_of_the_page_in_one_picture(pages, app_server, viewport_name, lang):
    """The whole page (Streamlit scrolls inside its own container, so the viewport grows to
    the content): every chart's text boxes apart, the update ratios' panel titles included."""
    viewport = VIEWPORTS[viewport_name]
    page = pages(viewport)
    open_page(page, lesson_link(app_server, lang))
    tall = page.evaluate("() => document.querySelector(\"[data-testid='stMain']\").scrollHeight")
    page.set_viewport_size({"width": viewport.width, "height": min(int(tall), 9000)})
    try:
        page.wait_for_timeout(1000)
        harness.screenshot(page, f"train_{viewport.name}_{lang}_tall", full_page=False)
        assert page.evaluate(CHART_TEXT_COLLISIONS) == []
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport.width
    finally:
        page.set_viewport_size({"width": viewport.width, "height": viewport.height})


#: Plotly draws the slider's current value as the one text directly in its group (the ticks'
#: labels sit in groups of their own).
CURRENT_VALUE = ".slider-group > text.slider-label"


def decision_chart(page):
    return page.locator(harness.PLOTLY_CHART).filter(has=page.locator(CURRENT_VALUE)).first


def current_step_label(page) -> str:
    return (decision_chart(page).locator(CURRENT_VALUE).first.text_content() or "").strip()


def test_play_animates_the_decision_function_in_the_browser(app_server, page):
    page.set_viewport_size({"width": 1440, "height": 900})
    open_page(page, lesson_link(app_server, "en"))
    first = current_step_label(page)
    assert first == "step 0"
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
    # (the sidebar's share box warns that a 127.0.0.1 link is this computer's own: not the page)
    assert page.locator("[data-testid='stMain'] [data-testid='stAlertContentWarning']") \
        .count() == 0
    assert f"trn_preset={LESSON}" in page.url


def test_a_cold_run_is_drawn_while_it_trains_then_animated(app_server, page):
    """A run nobody computed yet (a training seed of its own): the page shows the steps done so
    far (the live titles, with the maps drawn) before the finished page replaces them."""
    page.set_viewport_size({"width": 1440, "height": 900})
    live = translate("en", "train.live.decision_title", done="", total="").split(",")[0] + ","
    page.goto(lesson_link(app_server, "en", train_seed="4242", steps="5000"))
    # The title of a live picture whose maps are drawn (Plotly draws a heatmap as an image),
    # read in the same moment: the finished page may replace it right after.
    seen = page.wait_for_function(
        """([sel, live]) => {
               for (const c of document.querySelectorAll(sel)) {
                   const title = c.querySelector('.gtitle');
                   if (title && title.textContent.startsWith(live) &&
                       c.querySelector('.hm image')) return title.textContent;
               }
               return false;
           }""",
        arg=[harness.PLOTLY_CHART, live], timeout=TRAIN_TIMEOUT_MS, polling=50).json_value()
    harness.screenshot(page, "train_live_en", full_page=False)
    done, total = (int(part) for part in seen.split(",")[1].split("steps")[0].split("/"))
    assert 0 <= done < total == 4 * 5000
    final = translate("en", "train.chart.decision_title")
    page.wait_for_function(
        """([sel, title]) => [...document.querySelectorAll(sel + ' .gtitle')]
                             .some(t => t.textContent === title)""",
        arg=[harness.PLOTLY_CHART, final], timeout=TRAIN_TIMEOUT_MS)
    harness.wait_for_app_idle(page, timeout_ms=TRAIN_TIMEOUT_MS)
    assert current_step_label(page) == "step 0"
