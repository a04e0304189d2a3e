"""The quality officer's heatmap in real Chromium: a colour key, one colour for one printed
figure whatever its column, scale names beside the codes, n per row; no violation axe can find,
at 360 and 1366 pixels wide. Screenshots go to tests/e2e/screenshots/ (not committed)."""

from collections import defaultdict

import pytest
from playwright.sync_api import expect

from reports.colours import MEAN_BANDS, mean_band
from survey.services.comparisons import ended_waves
from tests.e2e.conftest import screenshot
from tests.e2e.test_accessibility import Audit


def rgb(colour: str) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def shown_cells(page) -> list[dict]:
    """Every heatmap cell with a figure: its column, printed text and computed colours."""
    return page.locator("table.heatmap td.heat").evaluate_all(
        """cells => cells.map(cell => ({
            column: cell.cellIndex,
            text: cell.textContent.trim(),
            background: getComputedStyle(cell).backgroundColor,
            color: getComputedStyle(cell).color,
        }))"""
    )


@pytest.mark.parametrize("width", [360, 1366])
def test_the_heatmap_has_a_key_and_one_colour_per_printed_figure(
    new_page, live_server, runner, width
):
    assert runner.invoke(args=["demo", "--seed", "11"]).exit_code == 0
    wave = ended_waves()[-1]
    page = new_page(viewport={"width": width, "height": 900})
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mailadres").fill("kwaliteit@huisvankracht.example")
    page.get_by_label("Wachtwoord").fill("krachtspiegel-demo")
    page.get_by_role("button", name="Aanmelden").click()
    page.goto(f"{live_server}/quality/waves/{wave.id}?under=ggz")  # Team De Brug is below k

    key = page.locator(".heat-legend")
    expect(key).to_be_visible()
    swatches = key.locator(".swatch")
    expect(swatches).to_have_count(len(MEAN_BANDS) + 1)  # the bands and the suppressed pattern
    for index, band in enumerate(MEAN_BANDS):
        swatch = swatches.nth(index)
        assert swatch.evaluate("s => getComputedStyle(s).backgroundColor") == rgb(band.fill)
        expect(key.locator("li").nth(index)).to_contain_text(
            f"{band.low:.1f}–{band.high:.1f}".replace(".", ",")
        )
    expect(page.get_by_role("columnheader", name="A1 Focus op krachten")).to_be_visible()
    expect(page.get_by_role("columnheader", name="n", exact=True)).to_be_visible()

    cells = shown_cells(page)
    columns_by_text: dict[str, set[int]] = defaultdict(set)
    for cell in cells:
        value = float(cell["text"].replace(",", "."))
        band = mean_band(value)
        assert (cell["background"], cell["color"]) == (rgb(band.fill), rgb(band.ink)), cell
        columns_by_text[cell["text"]].add(cell["column"])
    repeated = {text: columns for text, columns in columns_by_text.items() if len(columns) > 1}
    assert repeated, "no figure printed in two columns"
    for text in repeated:
        colours = {(c["background"], c["color"]) for c in cells if c["text"] == text}
        assert len(colours) == 1, (text, colours)

    suppressed = page.locator("td.suppressed-cell").first
    expect(suppressed).to_contain_text("<5")
    assert "repeating-linear-gradient" in suppressed.evaluate(
        "cell => getComputedStyle(cell).backgroundImage"
    )

    screenshot(page, f"heatmap-{width}.png", full_page=True)
    audit = Audit()
    audit(page, f"heatmap at {width} px")
    page.goto(f"{live_server}/quality/waves/{wave.id}/profile")
    expect(page.locator(".heat-legend")).to_be_visible()
    screenshot(page, f"profile-{width}.png", full_page=True)
    audit(page, f"profile at {width} px")
    assert not audit.problems, f"accessibility violations:\n{audit.report()}"
