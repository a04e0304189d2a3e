import re

import pytest
from playwright.sync_api import expect

from survey.models import Role
from tests.conftest import PASSWORD


@pytest.fixture
def manager(tree, make_wave, make_account):
    make_wave([tree["team-a"]], name="Najaar 2026")
    return make_account("lg@example.org", Role.MANAGER, [tree["north"]])


def test_a_manager_logs_in_sees_their_units_and_logs_out(page, live_server, manager):
    page.goto(live_server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    page.get_by_role("link", name="Aanmelden").click()
    page.get_by_label("E-mailadres").fill("lg@example.org")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()

    expect(page.get_by_role("heading", name="Overzicht", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="North")).to_be_visible()
    expect(page.get_by_role("link", name="Team C")).to_have_count(0)
    # The open wave is both in the participation panel and in the list of waves.
    expect(page.get_by_role("link", name="Najaar 2026")).to_have_count(2)
    page.get_by_role("region", name="Bevragingen", exact=True).get_by_role(
        "link", name="Najaar 2026"
    ).click()
    expect(page.get_by_role("link", name="Team A")).to_be_visible()

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Teams")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.goto(live_server + "/dashboard/")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_a_failed_login_moves_focus_to_the_error_summary(page, live_server, manager):
    page.goto(live_server + "/login")
    page.get_by_label("E-mailadres").fill("lg@example.org")
    page.get_by_label("Wachtwoord").fill("not the password")
    page.get_by_role("button", name="Aanmelden").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Het e-mailadres of wachtwoord klopt niet.")
    expect(summary).to_be_focused()


def test_keyboard_users_can_skip_to_the_content(page, live_server):
    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Naar de inhoud")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))


def test_logging_in_works_without_javascript(browser, live_server, manager):
    context = browser.new_context(java_script_enabled=False, locale="nl-BE")
    page = context.new_page()
    page.goto(live_server + "/login")
    page.get_by_label("E-mailadres").fill("lg@example.org")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    expect(page.get_by_role("heading", name="Overzicht", level=1)).to_be_visible()
    context.close()


def test_the_pages_fit_a_phone_screen(browser, live_server, manager):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="nl-BE")
    page = context.new_page()
    for path in ["/", "/login"]:
        page.goto(live_server + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways on a phone ({overflow}px)"
    context.close()
