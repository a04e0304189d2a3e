"""A bar chart and a heatmap drawn by the partial plotly bundle in real Chromium, under the
site's Content-Security-Policy (moved here from tests/test_assets.py: it shares the session's
browser, as two Playwright sync sessions cannot run in one process)."""

from flask import render_template_string

from tests.test_assets import BUNDLE, CHART_PAGE


def test_charts_draw_under_the_content_security_policy(app, live_server, browser):
    """A bar chart and a heatmap from the gzipped partial bundle, with no console error."""
    bars = {
        "data": [{"type": "bar", "x": ["Strengths", "Hope"], "y": [3.8, 4.1]}],
        "layout": {"yaxis": {"range": [1, 5]}},
    }
    heat = {
        "data": [{"type": "heatmap", "z": [[1, 2], [3, 4]], "x": ["A", "B"], "y": ["P", "Q"]}],
        "layout": {"height": 300},
    }
    figures = {"bars": bars, "heat": heat}
    app.add_url_rule(
        "/chart-test", "chart_test", lambda: render_template_string(CHART_PAGE, **figures)
    )
    errors: list[str] = []
    encodings: dict[str, str | None] = {}
    context = browser.new_context()
    try:
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "response",
            lambda r: encodings.update({r.url: r.headers.get("content-encoding")}),
        )
        page.goto(live_server + "/chart-test")
        page.wait_for_selector("#bars .main-svg")
        page.wait_for_selector("#heat .main-svg")
        assert page.locator("#bars .bars .point").count() == 2
        assert page.locator("#heat .hm image").count() == 1
        # The space kept free before drawing is the space the chart takes (no layout shift).
        assert page.locator("#bars").bounding_box()["height"] == 450
        assert page.locator("#heat").bounding_box()["height"] == 300
        assert page.locator(".modebar-btn[data-title='Lasso Select']").count() == 0
        assert page.locator(".modebar-btn[data-title='Box Select']").count() == 0
        assert page.locator("a.modebar-btn[href*='plotly']").count() == 0
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    assert errors == []
    bundle = next(url for url in encodings if BUNDLE in url)
    assert encodings[bundle] == "gzip"
