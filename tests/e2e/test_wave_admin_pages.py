"""The wave's administration pages in real Chromium: the guard rails as an administrator meets
them (a refused opening, the confirmation), short links typed into the address bar, the printed
team-link posters, and the team results link's copy button; axe on every page, at phone and
desktop widths, with screenshots kept under tests/e2e/screenshots/ (not committed)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from survey.extensions import db
from survey.models import Role, WaveStatus
from survey.services.short_links import display
from tests.conftest import PASSWORD
from tests.e2e.conftest import UNKNOWN_SHORT_LINK, screenshot
from tests.e2e.test_accessibility import Audit

WIDTHS = {"phone": 360, "desktop": 1366}


def viewport(width: int) -> dict:
    return {"viewport": {"width": width, "height": 800}, "is_mobile": width < 600}


def log_in(page: Page, live_server: str, email: str) -> None:
    page.goto(live_server + "/language/en")
    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def shoot(page: Page, name: str) -> None:
    screenshot(page, f"{name}.png", full_page=True)


def no_sideways_scroll(page: Page, width: int, name: str) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{name} scrolls sideways at {width} px ({scroll} px)"


@pytest.mark.parametrize("device", WIDTHS, ids=list(WIDTHS))
def test_the_wave_pages_guard_rails_and_posters(
    new_page, live_server, make_account, tree, make_wave, device
):
    width = WIDTHS[device]
    make_account("beheer@example.org", Role.ADMIN)
    running = make_wave([tree["north"]], name="Voorjaar 2026")
    draft = make_wave([tree["org"]], status=WaveStatus.DRAFT, name="Najaar 2026")
    other = make_wave([tree["south"]], status=WaveStatus.DRAFT, name="Zuid")
    audit = Audit()
    page = new_page(expected_statuses=(409, 422), **viewport(width))
    log_in(page, live_server, "beheer@example.org")

    # A draft whose teams are in the running wave: said before, refused after confirming.
    page.goto(f"{live_server}/admin/waves/{draft.id}")
    expect(page.locator("[data-overlaps]")).to_contain_text("Voorjaar 2026")
    no_sideways_scroll(page, width, "the draft wave page")
    audit(page, "draft wave page")
    shoot(page, f"admin-wave-draft-{device}")
    page.get_by_label(re.compile("Yes, open this wave")).check()
    page.get_by_role("button", name="Open the wave").click()
    refusal = 'Team A, Team B already take part in the open wave "Voorjaar 2026"'
    expect(page.get_by_role("alert")).to_contain_text(refusal)
    audit(page, "draft wave page, opening refused")
    shoot(page, f"admin-wave-refused-{device}")

    # A draft that may open: not without the tick, then with it.
    page.goto(f"{live_server}/admin/waves/{other.id}")
    page.get_by_role("button", name="Open the wave").click()
    expect(page.get_by_role("alert")).to_contain_text("Tick the box to confirm")
    expect(page.get_by_label(re.compile("Yes, open this wave"))).to_be_visible()
    audit(page, "draft wave page, opening not confirmed")
    page.get_by_label(re.compile("Yes, open this wave")).check()
    page.get_by_role("button", name="Open the wave").click()
    expect(page.get_by_text("The wave is open")).to_be_visible()

    # The running wave's page: a short code per team.
    page.goto(f"{live_server}/admin/waves/{running.id}")
    for team in running.teams:
        expect(page.locator(f'[data-short-code="{team.unit.slug}"]')).to_have_text(
            display(team.short_code)
        )
    no_sideways_scroll(page, width, "the open wave page")
    audit(page, "open wave page")
    shoot(page, f"admin-wave-open-{device}")

    # The posters: the short link under each QR code, on screen and on paper.
    page.get_by_role("link", name="Team links and QR codes to print").click()
    for team in running.teams:
        under = page.locator(f'[data-short-link="{team.unit.slug}"]')
        expect(under).to_contain_text(display(team.short_code))
        qr_box = page.locator(f'[data-qr="{team.unit.slug}"] svg').bounding_box()
        text_box = under.bounding_box()
        assert text_box["y"] >= qr_box["y"] + qr_box["height"] - 1, "not under the QR code"
    no_sideways_scroll(page, width, "the posters")
    audit(page, "team-link posters")
    shoot(page, f"posters-{device}")
    page.emulate_media(media="print")
    shoot(page, f"posters-print-{device}")
    assert len(audit.pages) == 5
    assert not audit.problems, f"accessibility violations:\n{audit.report()}"


def test_a_short_link_typed_in_lower_case_opens_the_questionnaire(new_page, live_server, full_wave):
    team = full_wave.teams[0]
    page = new_page(**viewport(WIDTHS["phone"]))
    page.goto(f"{live_server}/t/{display(team.short_code).lower().replace('-', '')}")
    assert page.url == f"{live_server}/t/{team.link_slug}"
    expect(page.get_by_role("button", name="Beginnen")).to_be_visible()

    page.goto(live_server + UNKNOWN_SHORT_LINK)  # axe: tests/e2e/test_accessibility.py
    expect(page.get_by_role("heading", level=1)).to_have_text("We kennen deze code niet")
    shoot(page, "unknown-short-link-phone")


@pytest.fixture
def released_wave(tree, make_wave):
    """An ended wave whose results are out for everyone (no team-first period left)."""
    wave = make_wave([tree["team-a"]], name="Voorjaar 2026")
    wave.status, wave.closed_on = WaveStatus.CLOSED, date.today() - timedelta(days=30)
    wave.opens_on = date.today() - timedelta(days=60)
    wave.closes_on = wave.closed_on
    wave.team_first_days = 0
    db.session.commit()
    return wave


def test_the_results_link_is_copied_with_one_click(
    new_page, live_server, make_account, tree, released_wave
):
    make_account("leiding@example.org", Role.MANAGER, [tree["team-a"]])
    url = f"{live_server}/dashboard/waves/{released_wave.id}/teams/team-a"
    expected = re.compile(r"/team/" + re.escape(released_wave.teams[0].results_slug) + "$")

    page = new_page(**viewport(WIDTHS["phone"]), permissions=["clipboard-read", "clipboard-write"])
    log_in(page, live_server, "leiding@example.org")
    page.goto(url)
    field = page.get_by_label("Results link for the team")
    expect(field).to_have_value(expected)
    page.get_by_role("button", name="Copy the link").click()
    expect(page.get_by_role("status").filter(has_text="Copied")).to_be_visible()
    assert expected.search(page.evaluate("navigator.clipboard.readText()"))
    no_sideways_scroll(page, WIDTHS["phone"], "the team page")
    shoot(page, "team-page-results-link-phone")

    # Without JavaScript the link is there to select; the button stays hidden.
    plain = new_page(java_script_enabled=False)
    log_in(plain, live_server, "leiding@example.org")
    plain.goto(url)
    expect(plain.get_by_label("Results link for the team")).to_have_value(expected)
    expect(plain.get_by_role("button", name="Copy the link")).to_be_hidden()
