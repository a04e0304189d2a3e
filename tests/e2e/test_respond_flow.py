"""A respondent's whole journey in a real Chromium: on a phone, across two devices, in two
languages, without JavaScript, and what the browser keeps (and forgets) along the way."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

import questionnaires
from questionnaires.paging import instrument_pages
from survey.extensions import db
from survey.models import Draft, Response, Wave, WaveStatus
from survey.services.codes import claim_code, issue_codes
from tests.conftest import stored_answers
from tests.e2e.conftest import FULL, UNKNOWN_LINK

INSTRUMENT = questionnaires.load_file(FULL)
PAGES = instrument_pages(INSTRUMENT)
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "locale": "nl-BE",
}
#: A mix of every Likert point and "don't know", given in turn to the items of the instrument.
VALUES = ["4", "5", "3", "dk", "2", "1", "5", "4", "3"]
GRID = [("aspirations", "living"), ("relations", "network"), ("opportunities", "participation")]
TEXT = "  Wij vieren kleine stappen, samen met de cliënt.  "


def field_id(code: str) -> str:
    return "item-" + code.replace(".", "-")


def likert_answers(items) -> dict[str, str]:
    answers = {}
    for index, item in enumerate(items):
        value = VALUES[index % len(VALUES)]
        answers[item.code] = "3" if value == "dk" and not item.dont_know else value
    return answers


def expected(answers: dict[str, str]) -> dict[str, object]:
    return {code: value if value == "dk" else int(value) for code, value in answers.items()}


def tick(page: Page, answers: dict[str, str]) -> None:
    for code, value in answers.items():
        page.locator(f"#{field_id(code)}-{value}").check()


def expect_ticked(page: Page, answers: dict[str, str]) -> None:
    for code, value in answers.items():
        expect(page.locator(f"#{field_id(code)}-{value}")).to_be_checked()


def assert_fits(page: Page) -> None:
    page.wait_for_load_state()
    width, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert viewport == 360, f"{page.url}: the phone shows {viewport}px, not 360"
    assert width <= viewport, f"{page.url} scrolls sideways on a phone ({width}px wide)"


def tab_keys(page: Page) -> list[str]:
    """The keys of this tab's copies of answers (once the page's scripts have run)."""
    page.wait_for_load_state()
    return page.evaluate("Object.keys(sessionStorage).filter((key) => key.startsWith('ks-'))")


@pytest.fixture
def mini_wave(tree, make_wave) -> Wave:
    return make_wave([tree["team-a"]])


def test_the_full_questionnaire_on_a_phone_across_two_devices_and_two_languages(
    new_page, live_server, full_wave
):
    likert = likert_answers([item for item in INSTRUMENT.all_items() if item.item_type.is_likert])
    part = {
        page.number: {
            item.code: likert[item.code] for item in page.all_items() if item.code in likert
        }
        for page in PAGES
    }
    assert len(likert) == 70 and set(likert.values()) == {"1", "2", "3", "4", "5", "dk"}
    assert len(PAGES) == 9 and len(part[7]) == 12  # page 7: section C, part 2 of 2
    first_half_c = dict(list(part[7].items())[:6])
    second_half_c = dict(list(part[7].items())[6:])

    phone = new_page(**PHONE)
    phone.goto(f"{live_server}/t/{full_wave.teams[0].link_slug}")
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Krachtspiegel — krachtgericht werken in ons team"
    )
    assert_fits(phone)
    phone.get_by_role("button", name="Beginnen").click()

    for number in range(1, 7):
        expect(phone).to_have_url(f"{live_server}/respond/{number}")
        expect(phone.get_by_text(f"Pagina {number} van 9", exact=False)).to_be_visible()
        tick(phone, part[number])
        assert_fits(phone)
        phone.get_by_role("button", name="Volgende").click()

    # Halfway through part C's second page the respondent pauses: the session forgets the draft.
    expect(phone).to_have_url(f"{live_server}/respond/7")
    tick(phone, first_half_c)
    assert_fits(phone)
    phone.get_by_role("button", name="Pauzeren en later verdergaan").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Je antwoorden zijn bewaard")
    code = phone.locator(".resume-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code), code
    assert_fits(phone)
    phone.goto(f"{live_server}/respond/7")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Geen vragenlijst bezig")

    # Another device: resume with the code, on the page where the respondent paused.
    other = new_page(**PHONE)
    other.goto(f"{live_server}/resume")
    expect(other.get_by_role("heading", level=1)).to_have_text("Verdergaan waar je gestopt bent")
    assert_fits(other)
    other.get_by_label("Hervatcode").fill(code)
    other.get_by_role("button", name="Verdergaan").click()
    expect(other).to_have_url(f"{live_server}/respond/7")
    expect_ticked(other, first_half_c)
    expect(other.locator(f"#{field_id(next(iter(second_half_c)))} input:checked")).to_have_count(0)

    # The language switch in the form saves the page and shows it again in English.
    other.get_by_role("button", name="English").click()
    expect(other.locator("html")).to_have_attribute("lang", "en")
    expect(other.get_by_role("heading", level=1)).to_have_text(
        "The strengths model in our practice (part 2 of 2)"
    )
    expect(other.get_by_text("Page 7 of 9 · questions 59–70 of 76")).to_be_visible()
    expect(other.get_by_role("button", name="Next")).to_be_visible()
    expect_ticked(other, first_half_c)
    expect(other.get_by_label("don't know / not applicable").first).to_be_visible()
    tick(other, second_half_c)
    assert_fits(other)
    other.get_by_role("button", name="Next").click()

    expect(other).to_have_url(f"{live_server}/respond/8")
    for row, column in GRID:
        other.locator(f"#item-C4-{row}-{column}").check()
    assert_fits(other)
    other.get_by_role("button", name="Next").click()

    expect(other).to_have_url(f"{live_server}/respond/9")
    text_box = other.locator("#item-O1")
    counter = other.locator("#item-O1-count")
    expect(counter).to_have_text("0 of 1000 characters used")
    text_box.fill(TEXT)
    expect(counter).to_have_text(f"{len(TEXT)} of 1000 characters used")
    other.locator("#item-BG1-2").check()
    other.get_by_role("button", name="Nederlands").click()
    expect(other.locator("html")).to_have_attribute("lang", "nl")
    expect(other.get_by_role("heading", level=1)).to_have_text("Tot slot")
    expect(text_box).to_have_value(TEXT.strip())
    expect(counter).to_have_text(f"{len(TEXT.strip())} van 1000 tekens gebruikt")
    expect(other.locator("#item-BG1-2")).to_be_checked()
    assert_fits(other)
    other.get_by_role("button", name="Mijn antwoorden nakijken").click()

    expect(other.get_by_role("heading", level=1)).to_have_text("Kijk je antwoorden na")
    expect(other.get_by_text("3 vakjes aangevinkt")).to_be_visible()
    expect(other.get_by_text(TEXT.strip())).to_be_visible()
    expect(other.get_by_text("weet ik niet / n.v.t.").first).to_be_visible()
    expect(other.get_by_text("niet beantwoord")).to_have_count(3)  # O2, O3, BG2
    expect(other.get_by_role("heading", name="Nog 3 vragen open")).to_be_visible()
    assert_fits(other)
    other.get_by_role("button", name="Mijn antwoorden versturen").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("Bedankt voor je antwoorden")
    assert_fits(other)

    (response,) = db.session.scalars(sa.select(Response)).all()
    assert (response.language, response.submitted_on) == ("nl", date.today())
    assert response.unit_id == full_wave.teams[0].unit_id
    stored = stored_answers()
    dont_know = next(code for code, value in likert.items() if value == "dk")
    assert stored[dont_know] == "dk"
    assert stored["A1.1"] == int(likert["A1.1"])
    assert stored["C3.3"] == int(likert["C3.3"])  # answered after the pause, in English
    assert stored["C4"] == sorted(GRID)
    assert stored["O1"] == TEXT.strip()
    assert stored["BG1"] == 2
    assert stored == {
        **expected(likert),
        "C4": sorted(GRID),
        "O1": TEXT.strip(),
        "BG1": 2,
    }
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0


MINI_STEP_1 = {"A1.1": "4", "A1.3": "dk", "C1.1": "3"}
MINI_STEP_2 = {"B1.1": "4", "B1.2": "2", "B1.3": "5", "B1.4": "dk", "BG1": "9"}


def test_the_whole_flow_works_without_javascript(new_page, live_server, mini_wave):
    page = new_page(java_script_enabled=False)
    page.goto(f"{live_server}/t/{mini_wave.teams[0].link_slug}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mini-Krachtspiegel")
    page.get_by_role("button", name="Beginnen").click()

    expect(page).to_have_url(f"{live_server}/respond/1")
    tick(page, MINI_STEP_1)
    page.get_by_role("button", name="Volgende").click()  # A1.2 is required
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Er is een probleem")
    expect(summary.get_by_role("link", name="Kies een antwoord op deze vraag.")).to_have_attribute(
        "href", "#item-A1-2"
    )
    expect_ticked(page, MINI_STEP_1)
    tick(page, {"A1.2": "5"})
    page.get_by_role("button", name="Volgende").click()

    expect(page).to_have_url(f"{live_server}/respond/2")
    tick(page, MINI_STEP_2)
    page.locator("#item-C4-aspirations-living").check()
    page.locator("#item-C4-resources-work").check()
    page.get_by_label("Wat doen wij al goed?").fill("Samen sterk.")
    expect(page.locator("#item-O1-count")).to_have_text("Maximaal 500 tekens.")
    page.get_by_role("button", name="Vorige").click()
    expect(page).to_have_url(f"{live_server}/respond/1")
    expect_ticked(page, {**MINI_STEP_1, "A1.2": "5"})
    page.get_by_role("button", name="Volgende").click()
    expect_ticked(page, MINI_STEP_2)
    expect(page.get_by_label("Wat doen wij al goed?")).to_have_value("Samen sterk.")
    page.get_by_role("button", name="Mijn antwoorden nakijken").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Kijk je antwoorden na")
    page.get_by_role("button", name="Mijn antwoorden versturen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bedankt voor je antwoorden")

    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1
    assert stored_answers() == {
        **expected({**MINI_STEP_1, "A1.2": "5", **MINI_STEP_2}),
        "C4": [("aspirations", "living"), ("resources", "work")],
        "O1": "Samen sterk.",
    }


def test_the_tab_keeps_a_copy_of_unsent_answers_and_forgets_it(
    app, new_page, live_server, mini_wave
):
    page = new_page()
    link = f"{live_server}/t/{mini_wave.teams[0].link_slug}"
    page.goto(link)
    page.get_by_role("button", name="Beginnen").click()
    expect(page).to_have_url(f"{live_server}/respond/1")
    tick(page, {"A1.1": "2", "A1.3": "dk"})

    # Not sent: the server has nothing, the tab has a copy and puts it back after a reload.
    (key,) = tab_keys(page)
    assert json.loads(page.evaluate(f"sessionStorage.getItem('{key}')")) == {
        "item-A1-1": ["2"],
        "item-A1-3": ["dk"],
    }
    page.reload()
    expect_ticked(page, {"A1.1": "2", "A1.3": "dk"})
    # A new visit of the address, where Chromium's own form restoring plays no part, too.
    page.goto(page.url)
    expect_ticked(page, {"A1.1": "2", "A1.3": "dk"})
    assert db.session.scalar(sa.select(Draft.answers)) == {}

    # Move on and type a text answer without sending it.
    tick(page, {"A1.2": "5"})
    page.get_by_role("button", name="Volgende").click()
    expect(page).to_have_url(f"{live_server}/respond/2")
    secret = "Een geheim antwoord"
    page.get_by_label("Wat doen wij al goed?").fill(secret)
    expect(page.locator("#item-O1-count")).to_have_text(f"{len(secret)} van 500 tekens gebruikt")
    assert page.evaluate("localStorage.length") == 0
    serializer = app.session_interface.get_signing_serializer(app)
    for cookie in page.context.cookies():
        assert secret not in cookie["value"] and "item-" not in cookie["value"], cookie["name"]
        if cookie["name"] == app.config["SESSION_COOKIE_NAME"]:
            session = json.dumps(serializer.loads(cookie["value"]))
            assert not re.search(f"{secret}|item-|A1\\.|B1\\.", session), session
    assert any(secret in page.evaluate(f"sessionStorage.getItem('{k}')") for k in tab_keys(page))

    # "Clear my answers" asks first; "no" goes back to the page, the tab's copy kept.
    page.get_by_role("link", name="Mijn antwoorden wissen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Je antwoorden wissen?")
    page.get_by_role("link", name="Nee, terug").click()
    expect(page).to_have_url(f"{live_server}/respond/2")
    assert any(secret in page.evaluate(f"sessionStorage.getItem('{k}')") for k in tab_keys(page))
    # "Yes" wipes the tab's copy as well as the draft.
    page.get_by_role("link", name="Mijn antwoorden wissen").click()
    page.get_by_role("button", name="Ja, mijn antwoorden wissen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Je antwoorden zijn gewist")
    assert tab_keys(page) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0

    # Answer again and send: the tab keeps nothing afterwards.
    page.goto(link)
    page.get_by_role("button", name="Beginnen").click()
    tick(page, {"A1.1": "3", "A1.2": "4"})
    page.get_by_role("button", name="Volgende").click()
    expect(page).to_have_url(f"{live_server}/respond/2")
    tick(page, {"B1.1": "5"})
    page.get_by_role("button", name="Mijn antwoorden nakijken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kijk je antwoorden na")
    assert tab_keys(page) != []
    page.get_by_role("button", name="Mijn antwoorden versturen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bedankt voor je antwoorden")
    assert tab_keys(page) == []
    assert page.evaluate("localStorage.length") == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1


def test_links_and_codes_that_cannot_be_used_get_a_friendly_page(
    new_page, live_server, tree, make_wave
):
    open_wave = make_wave([tree["team-a"]])
    closed_wave = make_wave([tree["team-b"]], status=WaveStatus.CLOSED, name="Voorjaar 2025")
    (code,) = issue_codes(open_wave.teams[0], 1)
    assert claim_code(code).status == "claimed"
    db.session.commit()

    page = new_page()
    page.goto(f"{live_server}/t/{closed_wave.teams[0].link_slug}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Deze vragenlijst is gesloten")
    expect(page.get_by_text("Voorjaar 2025")).to_be_visible()

    page.goto(live_server + UNKNOWN_LINK)
    expect(page.get_by_role("heading", level=1)).to_have_text("We kennen deze link niet")

    page.goto(f"{live_server}/code")
    page.get_by_label("Toegangscode").fill(code)
    page.get_by_role("button", name="Beginnen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deze code is al gebruikt")
