"""Smoke test of the harness itself: independent of Variance Lab's own app.py."""
from __future__ import annotations

import textwrap
import time

from tests.browser import harness

TINY_APP = textwrap.dedent('''
    import plotly.graph_objects as go
    import streamlit as st

    n = st.slider("Smoke value", min_value=1, max_value=20, value=5)
    fig = go.Figure(go.Bar(x=list(range(n)), y=[i * i for i in range(n)]))
    fig.update_layout(title=f"value={n}", height=350)
    st.plotly_chart(fig)
''')


def test_slider_rerenders_plotly_chart(tmp_path, page):
    app = tmp_path / "smoke_app.py"
    app.write_text(TINY_APP)
    t0 = time.perf_counter()
    with harness.start_app(app, cwd=tmp_path) as url:
        t_server = time.perf_counter()
        page.goto(url)
        assert harness.wait_for_plotly(page, min_count=1) >= 1
        harness.wait_for_app_idle(page)
        t_loaded = time.perf_counter()
        assert harness.chart_title(page) == "value=5"

        harness.slider_handle(page, "Smoke value").focus()
        page.keyboard.press("ArrowRight")
        new_title = harness.wait_for_chart_title_change(page, "value=5")
        harness.wait_for_app_idle(page)
        t_updated = time.perf_counter()
        assert new_title == "value=6"
        assert harness.chart_title(page) == "value=6"
        shot = harness.screenshot(page, "harness_smoke")
    assert shot.is_file() and shot.stat().st_size > 1000
    print(f"server start {t_server - t0:.2f}s, first chart {t_loaded - t_server:.2f}s, "
          f"keypress->new title {t_updated - t_loaded:.2f}s, screenshot {shot}")
