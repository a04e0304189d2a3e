"""The results read by the strengths model's principles in real Chromium: readable on a phone
(no sideways scrolling) and on a laptop, no WCAG 2.1 AA violation axe can find, and the
questionnaire preview's mapping. Screenshots (and the team's PDF report) go to
tests/e2e/screenshots/, which is not committed."""

import sqlalchemy as sa
from playwright.sync_api import expect

from survey.extensions import db
from survey.models import Wave, WaveStatus
from tests.e2e.conftest import keep, screenshot
from tests.e2e.test_accessibility import Audit
from tests.e2e.test_team_dashboard import PHONE

LAPTOP = {"viewport": {"width": 1366, "height": 900}}


def test_the_principles_view_on_a_phone_and_a_laptop(new_page, live_server, runner, client):
    assert runner.invoke(args=["demo", "--seed", "11"]).exit_code == 0
    wave = db.session.scalar(
        sa.select(Wave).where(Wave.status == WaveStatus.CLOSED).order_by(Wave.opens_on.desc())
    )
    team = next(team for team in wave.teams if team.unit.slug == "team-anker")
    audit = Audit()
    for name, device in (("360", PHONE), ("1366", LAPTOP)):
        page = new_page(**device)
        page.goto(f"{live_server}/team/{team.results_slug}")
        section = page.locator("section.principles")
        heading = section.get_by_role("heading", name="In de woorden van het krachtenmodel")
        heading.scroll_into_view_if_needed()
        expect(section.get_by_role("heading", level=4)).to_have_count(13)
        expect(section.get_by_role("heading", name="P1 Focus op krachten, niet op problemen"))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= device["viewport"]["width"], f"scrolls sideways at {name} px ({width})"
        screenshot(section, f"principles-{name}.png")
        audit(page, f"team link with the principles, {name} px")
    # The PDF straight from the app (WeasyPrint may take longer than a browser request waits).
    report = client.get(f"/team/{team.results_slug}/report.pdf")
    assert report.status_code == 200 and report.mimetype == "application/pdf"
    keep("principles-report.pdf", report.data)

    page = new_page(**LAPTOP)
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mailadres").fill("beheer@huisvankracht.example")
    page.get_by_label("Wachtwoord").fill("krachtspiegel-demo")
    page.get_by_role("button", name="Aanmelden").click()
    page.goto(f"{live_server}/admin/questionnaires/{wave.questionnaire_version_id}/preview")
    page.locator("details.principle-map summary").click()
    expect(page.get_by_role("row", name="U4")).to_contain_text("A7 Stapsgewijze doelen")
    screenshot(page.locator("details.principle-map"), "principles-preview.png")
    audit(page, "preview with the principles open")
    assert not audit.problems, f"accessibility violations:\n{audit.report()}"
