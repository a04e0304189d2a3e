"""The quality officer's pages in real Chromium: no WCAG 2.1 AA violation axe can find, the
trend chart drawn under the CSP, and the heatmap usable without a mouse."""

from playwright.sync_api import expect

from survey.services.comparisons import ended_waves
from tests.e2e.test_accessibility import Audit


def test_the_quality_pages_are_accessible(new_page, live_server, runner):
    assert runner.invoke(args=["demo", "--seed", "11"]).exit_code == 0
    wave = ended_waves()[-1]
    audit = Audit()
    page = new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mailadres").fill("kwaliteit@huisvankracht.example")
    page.get_by_label("Wachtwoord").fill("krachtspiegel-demo")
    page.get_by_role("button", name="Aanmelden").click()
    page.get_by_role("link", name="Vergelijken").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Eenheden vergelijken")
    audit(page, "heatmap")
    page.get_by_role("link", name="Jeugdhulp", exact=True).click()
    expect(
        page.get_by_role("cell", name="Team Kompas").or_(page.get_by_text("Team Kompas")).first
    ).to_be_visible()
    audit(page, "heatmap, one department")
    page.get_by_label("Tonen").select_option("change")
    page.get_by_role("button", name="Tonen").click()
    audit(page, "change since an earlier wave")
    page.goto(f"{live_server}/quality/units/team-kompas")
    # Drawn by the server as SVG; plotly only draws the interactive chart when asked.
    chart = page.locator("#trend")
    expect(chart.locator("svg.line-chart")).to_be_visible()
    audit(page, "trend")
    page.get_by_role(
        "button", name="Interactieve grafiek (inzoomen, lijnen tonen of verbergen)"
    ).click()
    expect(chart.locator(".main-svg").first).to_be_attached()
    expect(chart).to_be_focused()
    expect(chart.locator("svg.line-chart")).to_have_count(0)
    audit(page, "trend, interactive")
    page.goto(f"{live_server}/quality/waves/{wave.id}/profile")
    audit(page, "profile, before the background answers' use is chosen")
    page.get_by_role("button", name="Gebruik voor uitsplitsingen").click()
    page.goto(f"{live_server}/quality/waves/{wave.id}/profile?background=BG2")
    audit(page, "profile with a background breakdown")
    page.goto(f"{live_server}/quality/waves/{wave.id}/instrument")
    audit(page, "instrument quality")
    assert not audit.problems, f"accessibility violations:\n{audit.report()}"
