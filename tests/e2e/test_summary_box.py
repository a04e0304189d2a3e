"""A team manager reads the team summary in real Chromium, on a phone and on a laptop: the
growth points name the clear declines (docs/summary.md), nothing is cut off, and axe finds no
violation. Screenshots of the box go to tests/e2e/screenshots/ (not committed) to be looked at."""

import sqlalchemy as sa
from playwright.sync_api import expect

from survey.extensions import db
from survey.models import Wave, WaveStatus
from tests.e2e.conftest import screenshot
from tests.e2e.test_accessibility import Audit

SCREENS = {
    "360": {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True},
    "1366": {"viewport": {"width": 1366, "height": 768}},
}


def test_a_team_manager_reads_the_summary_on_a_phone_and_a_laptop(new_page, live_server, runner):
    assert runner.invoke(args=["demo", "--seed", "11"]).exit_code == 0
    waves = db.session.scalars(
        sa.select(Wave).where(Wave.status == WaveStatus.CLOSED).order_by(Wave.opens_on)
    ).all()
    first, last = waves[0], waves[-1]
    audit = Audit()
    for width, screen in SCREENS.items():
        page = new_page(**screen)
        page.goto(f"{live_server}/login")
        page.get_by_label("E-mailadres").fill("leiding.anker@huisvankracht.example")
        page.get_by_label("Wachtwoord").fill("krachtspiegel-demo")
        page.get_by_role("button", name="Aanmelden").click()
        page.goto(f"{live_server}/dashboard/waves/{last.id}/teams/team-anker")
        box = page.locator("#summary")
        expect(box).to_be_visible()
        growth = box.locator(".summary-lists > div").nth(1)
        expect(growth.get_by_role("heading")).to_have_text("Waar het team kan groeien")
        expect(growth).to_contain_text(f"duidelijk gedaald sinds {first.name}")
        expect(growth).to_contain_text("Focus op krachten")
        expect(box).not_to_contain_text("het team is het eens")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= int(width), f"the page scrolls sideways at {width} px ({scroll} px)"
        inside = box.evaluate("box => box.scrollWidth <= box.clientWidth")
        assert inside, f"the summary box is cut off at {width} px"
        screenshot(page, f"team-page-top-{width}.png")
        screenshot(box, f"team-summary-{width}.png")
        audit(page, f"team page with its summary at {width} px")
    assert not audit.problems, f"accessibility violations:\n{audit.report()}"
