"""An administrator sets up a new organisation from nothing to an open wave with printed access
codes, in the browser alone: the issue's definition of done for the administration."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from survey.extensions import db
from survey.models import AccessCode, Account, AuditEvent, Role, Unit, Wave, WaveStatus
from tests.conftest import PASSWORD
from tests.e2e.conftest import FULL


@pytest.fixture
def administrator(make_account):
    """The only thing in the database: one administrator's account."""
    return make_account("beheer@example.org", Role.ADMIN)


def create_unit(page: Page, kind: str, name: str, parent: str | None = None) -> None:
    page.get_by_role("link", name="New unit").click()
    page.get_by_role("radio", name=re.compile(f"^{kind}:")).check()
    if parent:
        select = page.get_by_label("Part of")
        select.select_option(select.locator("option", has_text=parent).first.get_attribute("value"))
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Create the unit").click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Units").click()


def test_an_administrator_sets_up_an_organisation_in_the_browser_alone(
    page, live_server, administrator, tmp_path
):
    page.goto(live_server + "/language/en")
    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill("beheer@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Administration").first.click()
    expect(page.get_by_role("heading", name="Administration", level=1)).to_be_visible()

    # The unit tree: an organisation, a department, two teams.
    page.get_by_role("link", name="Units", exact=True).click()
    create_unit(page, "Organisation", "Zorgnet Zuid")
    create_unit(page, "Department", "Jeugdhulp", parent="Zorgnet Zuid")
    create_unit(page, "Team", "Team Horizon", parent="Jeugdhulp")
    create_unit(page, "Team", "Team Brug", parent="Jeugdhulp")

    # A questionnaire, uploaded and previewed as a respondent sees it.
    page.get_by_role("link", name="Administration").first.click()
    page.get_by_role("link", name="Questionnaires").first.click()
    page.get_by_role("link", name="Upload a questionnaire file").click()
    page.locator("input[type=file]").set_input_files(str(FULL))
    page.get_by_role("button", name="Check and save").click()
    expect(page.get_by_text("krachtspiegel-team-1.yaml").first).to_be_visible()
    page.get_by_role("link", name="Preview").first.click()
    expect(page.get_by_text(re.compile("answers are not stored", re.I)).first).to_be_visible()

    # Settings: a minimum group size of 4.
    page.get_by_role("link", name="Administration").first.click()
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_label(re.compile("Minimum group size")).fill("4")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.get_by_label(re.compile("Minimum group size"))).to_have_value("4")

    # A wave for the department: both teams take part.
    page.get_by_role("link", name="Administration").first.click()
    page.get_by_role("link", name="Waves", exact=True).first.click()
    page.get_by_role("link", name="New wave").click()
    page.get_by_label("Name", exact=True).fill("Najaar 2026")
    page.get_by_label(re.compile("Jeugdhulp")).check()
    page.get_by_label("Opens on").fill(date.today().isoformat())
    page.get_by_label("Closes on").fill((date.today() + timedelta(days=21)).isoformat())
    page.get_by_role("button", name="Create the draft wave").click()
    page.get_by_label(re.compile("Yes, open this wave")).check()
    page.get_by_role("button", name="Open the wave").click()
    expect(page.get_by_text("The wave is open")).to_be_visible()

    # Team links with QR codes to print.
    page.get_by_role("link", name="Team links and QR codes to print").click()
    expect(page.locator("svg").first).to_be_visible()
    expect(page.get_by_text("Team Horizon").first).to_be_visible()
    page.go_back()

    # Access codes for Team Horizon, downloaded as printable slips.
    page.get_by_role("link", name="Access codes", exact=True).click()
    page.get_by_label("Team", exact=True).select_option(label="Team Horizon")
    page.get_by_label("Number of codes").fill("12")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Issue the codes and download them").click()
    slips = tmp_path / "slips.pdf"
    download_info.value.save_as(slips)
    assert slips.read_bytes().startswith(b"%PDF")

    db.session.expire_all()
    (wave,) = db.session.scalars(sa.select(Wave)).all()
    assert wave.status is WaveStatus.OPEN and wave.name == "Najaar 2026"
    assert sorted(team.unit.name for team in wave.teams) == ["Team Brug", "Team Horizon"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessCode)) == 12
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 4
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"unit.create", "questionnaire.load", "wave.create", "wave.open", "codes.issue"} <= (
        actions
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Account)) == 1

    # Staff can answer: the team link opens the questionnaire.
    horizon = next(team for team in wave.teams if team.unit.name == "Team Horizon")
    page.goto(f"{live_server}/t/{horizon.link_slug}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Krachtspiegel")
