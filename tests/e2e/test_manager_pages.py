"""Managers over time in real Chromium: a team manager reads the team's trend, a department
manager compares their teams; no WCAG 2.1 AA violation axe can find, nothing wider than a 360 px
phone, and screenshots at 360 and 1366 px kept under tests/e2e/screenshots/ to look at."""

from collections.abc import Iterator

from playwright.sync_api import Page, expect

from survey.services.comparisons import ended_waves
from tests.e2e.conftest import screenshot
from tests.e2e.test_accessibility import Audit
from tests.e2e.test_team_dashboard import PHONE

DESKTOP = {"viewport": {"width": 1366, "height": 900}}
PASSWORD = "krachtspiegel-demo"


def log_in(page: Page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overzicht")


def on_each_screen(new_page, live_server: str, email: str) -> Iterator[Page]:
    """A page at 1366 px and one at 360 px (a phone), each logged in as ``email``."""
    for device in (DESKTOP, PHONE):
        page = new_page(**device)
        log_in(page, live_server, email)
        yield page


def look(page: Page, name: str, audit: Audit) -> None:
    """axe, no sideways scrolling of the page, no chart wider than the screen, a screenshot."""
    audit(page, name)
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, name
    for box in page.locator("svg.sparkline").evaluate_all(
        "svgs => svgs.map(svg => svg.getBoundingClientRect().right)"
    ):
        assert box <= width, f"{name}: a chart is cut off at {box} px"
    screenshot(page, f"{name.replace(' ', '-')}-{width}.png", full_page=True)


def test_a_team_manager_reads_the_teams_trend(new_page, live_server, runner):
    assert runner.invoke(args=["demo", "--seed", "11"]).exit_code == 0
    audit = Audit()
    for page in on_each_screen(new_page, live_server, "leiding.anker@huisvankracht.example"):
        page.get_by_role("link", name="Team Anker").first.click()
        page.get_by_role("link", name="Verloop over de bevragingen").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Team Anker")
        charts = page.get_by_role("img")
        expect(charts).to_have_count(13)
        a1 = page.locator("li.spark").filter(has_text="A1 Focus op krachten")
        expect(a1.get_by_role("img")).to_be_visible()
        expect(a1).to_contain_text("(duidelijke daling)")
        # the text alternative gives every wave's figure
        expect(a1.locator("desc")).to_contain_text("(n ")
        look(page, "team trend", audit)
        page.get_by_text("De cijfers: Krachtgerichte praktijk").click()
        expect(page.get_by_role("table").first).to_be_visible()
        audit(page, f"team trend, numbers open ({page.viewport_size['width']} px)")
    # the team's results page carries the same story, with a link to the whole trend
    page.goto(f"{live_server}/dashboard/waves/{ended_waves()[-1].id}/teams/team-anker")
    expect(page.get_by_role("heading", name="Team Anker over de bevragingen")).to_be_visible()
    expect(page.get_by_role("link", name="Het volledige verloop van Team Anker")).to_be_visible()
    assert not audit.problems, f"accessibility violations:\n{audit.report()}"


def test_a_department_manager_compares_teams(new_page, live_server, runner):
    assert runner.invoke(args=["demo", "--seed", "11"]).exit_code == 0
    audit = Audit()
    for page in on_each_screen(new_page, live_server, "leiding.jeugdhulp@huisvankracht.example"):
        page.get_by_role("link", name="teams naast elkaar").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Jeugdhulp")
        table = page.get_by_role("table", name="Krachtgerichte praktijk: gemiddelde per team")
        for team in ("Team Horizon", "Team Kompas", "Team Vlinder"):
            expect(table.get_by_role("columnheader", name=team)).to_be_visible()
        expect(table.get_by_role("row", name="A1 Focus op krachten")).to_contain_text("(n ")
        look(page, "department", audit)
        # an earlier wave, chosen without JavaScript's help: a plain GET form
        choice = page.get_by_label("Bevraging", exact=True)
        earliest = choice.locator("option").last.inner_text()
        choice.select_option(label=earliest)
        page.get_by_role("button", name="Tonen").click()
        expect(page.get_by_role("table").first).to_contain_text(earliest)
        # the department's own trend below the teams
        expect(page.get_by_role("heading", name="Jeugdhulp over de bevragingen")).to_be_visible()
        audit(page, f"department, earliest wave ({page.viewport_size['width']} px)")
    assert not audit.problems, f"accessibility violations:\n{audit.report()}"
