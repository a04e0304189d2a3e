"""The team dashboard in real Chromium: charts drawn by plotly under the CSP (any console error
fails), the strengths model, and no WCAG 2.1 AA violation axe can find; the same for the
team's own link and the meeting guide, on a phone-sized screen too."""

import sqlalchemy as sa
from playwright.sync_api import expect

from survey.extensions import db
from survey.models import Wave, WaveStatus
from tests.e2e.test_accessibility import Audit

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True}


def test_the_team_dashboard_draws_its_charts_and_is_accessible(new_page, live_server, runner):
    assert runner.invoke(args=["demo", "--seed", "11"]).exit_code == 0
    wave = db.session.scalar(
        sa.select(Wave).where(Wave.status == WaveStatus.CLOSED).order_by(Wave.opens_on.desc())
    )
    team = next(team for team in wave.teams if team.unit.slug == "team-kompas")
    audit = Audit()

    page = new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mailadres").fill("leiding.jeugdhulp@huisvankracht.example")
    page.get_by_label("Wachtwoord").fill("krachtspiegel-demo")
    page.get_by_role("button", name="Aanmelden").click()
    page.goto(f"{live_server}/dashboard/waves/{wave.id}/teams/team-kompas")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Team Kompas")
    # every chart container gets a drawn plotly figure once it comes near the screen
    charts = page.locator(".chart-plot")
    assert charts.count() >= 5
    for index in range(charts.count()):
        charts.nth(index).scroll_into_view_if_needed()
        expect(charts.nth(index).locator(".main-svg").first).to_be_attached()
    expect(page.locator("svg.strengths-model")).to_be_visible()
    audit(page, "team dashboard")
    page.locator("details.items summary").first.click()
    audit(page, "team dashboard, one scale's questions open")
    page.goto(f"{live_server}/dashboard/waves/{wave.id}/teams/team-kompas/guide")
    audit(page, "meeting guide")

    phone = new_page(**PHONE)
    phone.goto(f"{live_server}/team/{team.results_slug}")
    first_chart = phone.locator(".chart-plot").first
    # nothing of plotly is fetched until a chart comes near the screen
    assert phone.evaluate("typeof window.Plotly") == "undefined"
    first_chart.scroll_into_view_if_needed()
    expect(first_chart.locator(".main-svg").first).to_be_attached()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the team page scrolls sideways on a phone ({width} px)"
    audit(phone, "team link on a phone")
    assert not audit.problems, f"accessibility violations:\n{audit.report()}"
