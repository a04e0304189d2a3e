"""A real server on a free port and a real Chromium (Debian's, never a downloaded one)."""

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page

import questionnaires
from survey.extensions import db
from survey.models import Unit, Wave, WaveStatus, WaveTeam
from survey.services.questionnaires import store_instrument

CHROMIUM = Path("/usr/bin/chromium")
FULL = Path(questionnaires.__file__).parent / "krachtspiegel-team-1.yaml"
FULL_2 = Path(questionnaires.__file__).parent / "krachtspiegel-team-2.yaml"
#: An unknown team link: its friendly page is a 404 on purpose, which Chromium logs.
UNKNOWN_LINK = "/t/not-a-real-link"
#: An unknown short code: the same, for a team link's short form.
UNKNOWN_SHORT_LINK = "/t/ACDE-2345"
#: Where ``screenshot`` puts its pictures (not committed), to be looked at.
SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(
                    pytest.mark.skip(reason="no /usr/bin/chromium (apt-get install chromium)")
                )


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(new_page) -> Page:
    """One page in a fresh browser context (see ``new_page``)."""
    page = new_page()
    yield page
    page.wait_for_load_state("networkidle")


@pytest.fixture
def new_page(browser, live_server):
    """Open pages in fresh browser contexts ("devices"); console errors fail the test, except
    the statuses a page is opened to expect (``expected_statuses``: Chromium logs a document
    answered with 409 or 422 as an error, though a refused step is what the test is after).

    Depends on ``live_server`` so that the server stops only after the contexts have closed."""
    contexts = []
    errors: list[str] = []

    def on_console(message, expected_statuses: tuple[int, ...]) -> None:
        # The friendly page of an unknown link is a 404 on purpose, which Chromium logs.
        expected_404 = message.location.get("url", "").endswith((UNKNOWN_LINK, UNKNOWN_SHORT_LINK))
        expected = any(f"status of {status} " in message.text for status in expected_statuses)
        if (
            message.type == "error"
            and not (expected_404 and "404" in message.text)
            and not expected
        ):
            errors.append(message.text)

    def open_page(expected_statuses: tuple[int, ...] = (), **options) -> Page:
        context = browser.new_context(**{"locale": "nl-BE", **options})
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: on_console(message, expected_statuses))
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert errors == [], f"browser console errors: {errors}"


def _asked_for() -> bool:
    if os.environ.get("E2E_SCREENSHOTS") != "1":
        return False
    SCREENSHOTS.mkdir(exist_ok=True)
    return True


def screenshot(target, name: str, **options) -> None:
    """A screenshot of a page or an element into ``SCREENSHOTS``, taken only when asked for
    (``make screenshots``, which sets ``E2E_SCREENSHOTS=1``): a full-page picture of a long
    page costs Chromium about a second, which the everyday suite has no use for."""
    if _asked_for():
        target.screenshot(path=SCREENSHOTS / name, **options)


def keep(name: str, content: bytes | str) -> None:
    """A file a test made (a PDF, measured figures) into ``SCREENSHOTS``, when asked for."""
    if _asked_for():
        path = SCREENSHOTS / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)


def open_wave_of(instrument: Path, team: Unit) -> Wave:
    """An open wave of the instrument file for one team of 12."""
    version = store_instrument(questionnaires.load_file(instrument), instrument.name).version
    db.session.commit()
    today = date.today()
    wave = Wave(
        questionnaire_version=version,
        name="Najaar 2026",
        opens_on=today - timedelta(days=7),
        closes_on=today + timedelta(days=14),
        status=WaveStatus.OPEN,
        units=[team],
    )
    wave.teams = [WaveTeam(unit=team, invited=12)]
    db.session.add(wave)
    db.session.commit()
    return wave


@pytest.fixture
def full_wave(tree) -> Wave:
    """An open wave of the full shipped instrument (1.3) for Team A."""
    return open_wave_of(FULL, tree["team-a"])
