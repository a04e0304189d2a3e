"""Actions followed up, in real Chromium: the team adds an action through its results link and
updates its status, and the next wave's page shows it again beside the change in its scale and
lets the team update it there; without JavaScript too, on a phone without sideways scrolling,
with no violation axe can find. Screenshots go to tests/e2e/screenshots/ (not committed)."""

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from survey.extensions import db
from survey.models import ActionStatus, TeamAction
from tests.e2e.conftest import screenshot
from tests.e2e.test_accessibility import Audit
from tests.test_team_actions import answers, closed_wave, team_of
from tests.test_team_results import add_responses

PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}


def record_action(
    page: Page,
    description: str = "Elk overleg begint met een krachtenverhaal.",
    review_on: str = "2025-06-30",
) -> None:
    form = page.locator("form.new-action")
    form.get_by_label("Over welke schaal gaat het?").select_option("A1")
    form.get_by_label("Iets nieuws wat we gaan proberen").check()
    form.get_by_label("De actie").fill(description)
    form.get_by_label("Wie neemt het op?").fill("Teamcoach")
    form.get_by_label("Wanneer bekijken we het opnieuw?").fill(review_on)
    form.get_by_role("button", name="Actie vastleggen").click()


def update_status(page: Page, status: str, note: str) -> None:
    card = page.locator(".action-card").filter(has_text="krachtenverhaal")
    if not card.get_by_label("Status").is_visible():
        card.locator("summary").click()
    card.get_by_label("Status").select_option(label=status)
    card.get_by_label("Een korte notitie (niet verplicht)").fill(note)
    card.get_by_role("button", name="Bewaren").click()


def test_an_action_is_added_updated_and_followed_up_on_the_next_wave(
    new_page, live_server, tree, make_wave
):
    units = [tree["team-a"]]
    spring = team_of(closed_wave(make_wave, units, "spring"), "team-a")
    autumn = team_of(closed_wave(make_wave, units, "autumn"), "team-a")
    add_responses(spring, answers(8, 2))
    add_responses(autumn, answers(8, 4))
    audit = Audit()

    page = new_page(**DESKTOP)
    page.goto(f"{live_server}/team/{spring.results_slug}")
    audit(page, "team link with the new action form")
    record_action(page)
    expect(page.get_by_text("De actie is vastgelegd.")).to_be_visible()
    card = page.locator(".action-card").filter(has_text="krachtenverhaal")
    expect(card).to_contain_text("Gepland")
    expect(card).to_contain_text("A1 Focus op krachten")
    update_status(page, "Bezig", "Gestart in april")
    expect(page.get_by_text("De actie is bijgewerkt.")).to_be_visible()
    expect(card).to_contain_text("Bezig")
    expect(card).to_contain_text("Gestart in april")

    page.goto(f"{live_server}/team/{autumn.results_slug}")
    followed = page.locator(".action-card").filter(has_text="krachtenverhaal")
    expect(followed).to_contain_text("Afgesproken na")
    expect(followed).to_contain_text("Voorjaar 2025")
    expect(followed).to_contain_text("Bezig")
    expect(followed).to_contain_text("+2,0 (duidelijke stijging)")
    followed.locator("summary").click()
    audit(page, "next wave's page, an update form open")
    page.locator("#actions-title").scroll_into_view_if_needed()
    screenshot(page, "team-actions-1366.png", full_page=True)
    screenshot(page.locator("section.team-actions"), "team-actions-1366-part.png")
    update_status(page, "Klaar", "Staat in de werking")
    expect(followed).to_contain_text("Klaar")
    action = db.session.scalar(sa.select(TeamAction))
    db.session.refresh(action)
    assert action.status is ActionStatus.DONE and action.status_note == "Staat in de werking"

    phone = new_page(**PHONE)
    phone.goto(f"{live_server}/team/{autumn.results_slug}")
    record_action(phone, "Samen huisbezoeken plannen.", "2025-12-01")
    expect(phone.get_by_text("De actie is vastgelegd.")).to_be_visible()
    phone.locator(".action-card summary").first.click()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the team page scrolls sideways on a phone ({width} px)"
    audit(phone, "next wave's page on a phone")
    phone.locator("#actions-title").scroll_into_view_if_needed()
    screenshot(phone, "team-actions-360.png", full_page=True)
    screenshot(phone.locator("section.team-actions"), "team-actions-360-part.png")
    assert not audit.problems, f"accessibility violations:\n{audit.report()}"


def test_the_team_records_an_action_without_javascript(new_page, live_server, tree, make_wave):
    spring = team_of(closed_wave(make_wave, [tree["team-a"]], "spring"), "team-a")
    page = new_page(java_script_enabled=False, **PHONE)
    page.goto(f"{live_server}/team/{spring.results_slug}")
    record_action(page)
    expect(page.get_by_text("De actie is vastgelegd.")).to_be_visible()
    update_status(page, "Gestopt", "Past niet meer")
    expect(page.locator(".action-card")).to_contain_text("Gestopt")
