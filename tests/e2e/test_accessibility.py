"""axe-core (bundled with axe-playwright-python, nothing fetched) on every page a respondent can
see, and on the login page: no WCAG 2.1 A or AA violation that axe can detect."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from survey.extensions import db
from survey.models import WaveStatus
from survey.services.codes import claim_code, issue_codes
from tests.e2e.conftest import UNKNOWN_LINK, UNKNOWN_SHORT_LINK

AXE = Axe()
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


class Audit:
    """Runs axe on pages one after another and reports every violation of every page at once."""

    def __init__(self) -> None:
        self.problems: dict[str, list[str]] = {}
        self.pages: list[str] = []

    def __call__(self, page: Page, name: str) -> None:
        # page.evaluate runs through the DevTools protocol: the site's CSP (no inline script)
        # does not apply to it, so no context needs bypass_csp.
        page.wait_for_load_state()
        results = AXE.run(page, options=AXE_OPTIONS)
        self.pages.append(name)
        for violation in results.response["violations"]:
            node = violation["nodes"][0]
            self.problems.setdefault(name, []).append(
                f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])} nodes): "
                f"{violation['help']}\n      first: {node['target']} {node['html']}"
            )

    def report(self) -> str:
        return "\n".join(
            f"  {name}:\n" + "\n".join(f"    - {line}" for line in lines)
            for name, lines in self.problems.items()
        )


@pytest.fixture
def audit():
    return Audit()


def heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def test_every_page_of_the_questionnaire_is_accessible(new_page, live_server, full_wave, audit):
    page = new_page()
    link = f"{live_server}/t/{full_wave.teams[0].link_slug}"
    page.goto(link)
    heading(page, "Krachtspiegel — krachtgericht werken in ons team")
    audit(page, "landing")
    page.get_by_role("button", name="Beginnen").click()

    for number in (1, 2, 3):
        expect(page.get_by_text(f"Pagina {number} van 9", exact=False)).to_be_visible()
        audit(page, f"page {number}")
        if number < 3:
            page.get_by_role("button", name="Volgende").click()

    page.get_by_role("button", name="Pauzeren en later verdergaan").click()
    heading(page, "Je antwoorden zijn bewaard")
    audit(page, "paused")
    code = page.locator(".resume-code").inner_text().strip()
    page.get_by_role("link", name="Nu verdergaan").click()
    heading(page, "Verdergaan waar je gestopt bent")
    audit(page, "resume")
    page.get_by_label("Hervatcode").fill("AAAA-BBBB-CCCC")
    page.get_by_role("button", name="Verdergaan").click()
    expect(page.get_by_role("alert")).to_contain_text("We kennen deze hervatcode niet")
    audit(page, "resume with an error")
    page.get_by_label("Hervatcode").fill(code)
    page.get_by_role("button", name="Verdergaan").click()

    expect(page.get_by_text("Pagina 3 van 9", exact=False)).to_be_visible()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_text("Page 3 of 9", exact=False)).to_be_visible()
    audit(page, "page 3 in English")
    page.get_by_role("button", name="Nederlands").click()
    page.get_by_role("button", name="Volgende").click()
    for number in (4, 5, 6, 7):
        expect(page.get_by_text(f"Pagina {number} van 9", exact=False)).to_be_visible()
        audit(page, f"page {number}")
        page.get_by_role("button", name="Volgende").click()

    # Page 8 (the grid), sent with a grid cell that does not exist: it comes back with errors.
    expect(page.get_by_text("Pagina 8 van 9", exact=False)).to_be_visible()
    audit(page, "page 8")
    page.locator("#item-C4-aspirations-living").evaluate(
        "(box) => { box.value = 'nowhere:never'; box.checked = true; }"
    )
    page.get_by_role("button", name="Volgende").click()
    expect(page.get_by_role("alert")).to_contain_text("is een ongeldige keuze voor dit veld")
    audit(page, "page 8 with an error summary")
    page.get_by_role("button", name="Volgende").click()

    # Page 9, sent with a text that is too long and an option that does not exist.
    expect(page.get_by_text("Pagina 9 van 9", exact=False)).to_be_visible()
    audit(page, "page 9")
    page.locator("#item-O1").evaluate("(box) => box.removeAttribute('maxlength')")
    page.locator("#item-O1").fill("x" * 1001)
    page.locator("#item-BG1-1").evaluate("(radio) => { radio.value = '7'; radio.checked = true; }")
    page.get_by_role("button", name="Mijn antwoorden nakijken").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Houd dit antwoord bij maximaal 1000 tekens.")
    expect(summary).to_contain_text("Ongeldige keuze.")
    audit(page, "page 9 with an error summary")
    page.locator("#item-O1").fill("Samen sterk.")
    page.get_by_role("button", name="Mijn antwoorden nakijken").click()

    heading(page, "Kijk je antwoorden na")
    audit(page, "review")
    page.get_by_role("button", name="Mijn antwoorden versturen").click()
    heading(page, "Bedankt voor je antwoorden")
    audit(page, "thanks")

    page.goto(link)
    expect(page.get_by_role("status")).to_contain_text("Op dit toestel is deze vragenlijst al")
    audit(page, "landing, answered before")
    # A second questionnaire from this browser is a colleague's deliberate step.
    page.get_by_label("Ik ben een collega die hetzelfde toestel gebruikt", exact=False).check()
    page.get_by_role("button", name="Beginnen").click()
    page.get_by_role("link", name="Mijn antwoorden wissen").click()
    heading(page, "Je antwoorden wissen?")
    audit(page, "confirm clearing")
    page.get_by_role("button", name="Ja, mijn antwoorden wissen").click()
    heading(page, "Je antwoorden zijn gewist")
    audit(page, "answers cleared")

    assert len(audit.pages) == 21
    assert not audit.problems, f"accessibility violations:\n{audit.report()}"


def test_every_entry_and_message_page_is_accessible(new_page, live_server, tree, make_wave, audit):
    codes_wave = make_wave([tree["team-a"]])
    codes_wave.codes_only = True
    closed_wave = make_wave([tree["team-b"]], status=WaveStatus.CLOSED, name="Voorjaar 2025")
    future_wave = make_wave([tree["team-c"]], status=WaveStatus.DRAFT, name="Najaar 2027")
    (code,) = issue_codes(codes_wave.teams[0], 1)
    assert claim_code(code).status == "claimed"
    db.session.commit()

    page = new_page()
    for path, title, name in [
        ("/", None, "front page"),
        ("/privacy", None, "privacy"),
        ("/login", "Aanmelden", "login"),
        ("/code", "Typ je toegangscode", "code"),
        ("/resume", "Verdergaan waar je gestopt bent", "resume"),
        (UNKNOWN_LINK, "We kennen deze link niet", "unknown link"),
        (UNKNOWN_SHORT_LINK, "We kennen deze code niet", "unknown short link"),
        (f"/t/{codes_wave.teams[0].link_slug}", "Deze vragenlijst werkt met toegangscodes",
         "codes only"),
        (f"/t/{closed_wave.teams[0].link_slug}", "Deze vragenlijst is gesloten", "closed"),
        (f"/t/{future_wave.teams[0].link_slug}", "Deze vragenlijst is nog niet open",
         "not open yet"),
        ("/respond/1", "Geen vragenlijst bezig", "no questionnaire in progress"),
    ]:  # fmt: skip
        page.goto(live_server + path)
        if title:
            heading(page, title)
        audit(page, name)

    page.goto(live_server + "/code")
    page.get_by_label("Toegangscode").fill("ZZZZZ-ZZZZZ")
    page.get_by_role("button", name="Beginnen").click()
    expect(page.get_by_role("alert")).to_contain_text("We kennen deze code niet")
    audit(page, "code with an error")
    page.get_by_label("Toegangscode").fill(code)
    page.get_by_role("button", name="Beginnen").click()
    heading(page, "Deze code is al gebruikt")
    audit(page, "used code")

    page.goto(live_server + "/login")
    page.get_by_label("E-mailadres").fill("nobody@example.org")
    page.get_by_label("Wachtwoord").fill("not the password")
    page.get_by_role("button", name="Aanmelden").click()
    expect(page.get_by_role("alert")).to_contain_text("Het e-mailadres of wachtwoord klopt niet.")
    audit(page, "login with an error")

    assert len(audit.pages) == 14
    assert not audit.problems, f"accessibility violations:\n{audit.report()}"
