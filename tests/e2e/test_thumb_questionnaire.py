"""The whole team questionnaire (1.3 and 2.0) answered with a thumb: Chromium at 390 × 844, touch.
Counts the taps (every check, tick, text field and button) and the screen heights scrolled (each
page's document height over the viewport's) and prints them, with axe on every page of 2.0 (1.3's
pages are audited by test_accessibility.py); ``make screenshots`` keeps the figures and
screenshots of two pages on the phone and on a desktop in tests/e2e/screenshots/ (not
committed)."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import stored_answers
from tests.e2e.conftest import FULL, FULL_2, keep, open_wave_of, screenshot
from tests.e2e.test_accessibility import Audit

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "locale": "nl-BE",
}
DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "nl-BE"}
#: Upper bounds somewhat above what was measured on 9 pages (89 taps, 43.8 screens, the longest
#: page 6.4). One page per section, as before issue 17, measured the same way: 85 taps, 46.1
#: screens, the longest page 17.5 (the issue counted 79 taps and about 46 screens by hand).
MAX_TAPS = 95
MAX_SCREENS = 46
MAX_SCREENS_PER_PAGE = 7
GRID_TICKS = 3


class Thumb:
    """Counts what a respondent does: taps, and screens scrolled through per page."""

    def __init__(self, page: Page, audit: Audit | None) -> None:
        self.page, self.audit = page, audit
        self.taps = self.questions = 0
        self.screens: dict[str, float] = {}

    def look(self, name: str) -> None:
        self.page.wait_for_load_state()
        height, viewport = self.page.evaluate(
            "[document.documentElement.scrollHeight, window.innerHeight]"
        )
        self.screens[name] = round(height / viewport, 2)
        if self.audit is not None:
            self.audit(self.page, name)

    def tap(self, locator) -> None:
        locator.click()
        self.taps += 1

    def answer_page(self, index: int) -> int:
        """Answer every item on the page (a Likert point in turn, a choice, three grid cells,
        a sentence); returns how many items there were."""
        page, items = self.page, 0
        for fieldset in page.locator("fieldset.item.choice").all():
            options = fieldset.locator(".options input[type=radio]")
            self.tap(options.nth((index + items) % options.count()))
            items += 1
        for grid in page.locator("fieldset.item.grid").all():
            cells = grid.locator("input[type=checkbox]")
            count = cells.count()  # 1.3's C4: 7 x 9; 2.0's C5 rows: 1 x 3
            for cell in range(min(GRID_TICKS, count)):
                self.tap(cells.nth(cell * count // GRID_TICKS))
            items += 1
        for text in page.locator(".item.text textarea").all():
            self.tap(text)
            text.fill("Wij vieren kleine stappen.")
            items += 1
        return items


def measure_the_whole_questionnaire(page: Page, link: str, audit: Audit | None) -> Thumb:
    thumb = Thumb(page, audit)
    page.goto(link)
    thumb.look("landing")
    thumb.tap(page.locator("main form button[type=submit]").first)
    questions = number = 0
    while re.search(r"/respond/\d+$", page.url):
        number += 1
        thumb.look(f"page {number}")
        questions += thumb.answer_page(questions)
        thumb.tap(page.locator("button[name=action][value=next]"))
    assert page.url.endswith("/respond/review"), page.url
    thumb.look("review")
    thumb.tap(page.locator("form[action$='/respond/submit'] button"))
    expect(page).to_have_url(re.compile(r"/respond/thanks$"))
    thumb.questions = questions
    return thumb


@dataclass(frozen=True)
class Bounds:
    """What a version's walk may cost at most: somewhat above what was measured."""

    questions: int
    taps: int
    screens: float
    screens_per_page: float = MAX_SCREENS_PER_PAGE
    #: Whether axe audits every page here (1.3's are audited by test_accessibility.py).
    audited: bool = True


#: 1.3 on 9 pages: 89 taps, 43.8 screens (one page per section before issue 17: 85 taps, 46.1
#: screens, the longest page 17.5). 2.0 (112 questions, 13 of them the optional schema part): 14
#: pages, 154 taps, 62.1 screens, the longest page 5.9.
BOUNDS = {
    "1.3": (FULL, Bounds(76, MAX_TAPS, MAX_SCREENS, audited=False)),
    "2.0": (FULL_2, Bounds(112, 160, 66)),
}


@pytest.mark.parametrize("version", list(BOUNDS))
def test_a_thumb_answers_the_whole_team_questionnaire(new_page, live_server, tree, version):
    instrument, bounds = BOUNDS[version]
    wave = open_wave_of(instrument, tree["team-a"])
    audit = Audit() if bounds.audited else None
    page = new_page(**PHONE)
    link = f"{live_server}/t/{wave.teams[0].link_slug}"
    thumb = measure_the_whole_questionnaire(page, link, audit)
    pages = {name: screens for name, screens in thumb.screens.items() if name.startswith("page")}
    figures = {
        "version": version,
        "questions": thumb.questions,
        "taps": thumb.taps,
        "question_pages": len(pages),
        "screens_question_pages": round(sum(pages.values()), 1),
        "screens_with_landing_and_review": round(sum(thumb.screens.values()), 1),
        "screens_per_page": thumb.screens,
    }
    keep(f"thumb-questionnaire-{version}.json", json.dumps(figures, indent=2))
    print(f"\nthumb questionnaire: {json.dumps(figures)}", file=sys.stderr)

    assert audit is None or not audit.problems, "axe found problems:\n" + audit.report()
    assert thumb.questions == bounds.questions == len(stored_answers())
    assert thumb.taps <= bounds.taps
    assert sum(pages.values()) <= bounds.screens
    assert max(pages.values()) <= bounds.screens_per_page, pages


def test_screenshots_of_two_pages_on_a_phone_and_a_desktop(new_page, live_server, full_wave):
    """Page 1 (Likert items, a section in parts) and the review with open questions."""
    link = f"{live_server}/t/{full_wave.teams[0].link_slug}"
    for name, device in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_page(**device)
        page.goto(link)
        page.locator("main form button[type=submit]").first.click()
        expect(page.get_by_text("Pagina 1 van 9 · vraag 1–12 van 76")).to_be_visible()
        page.locator("#item-A1-1-4").check()
        page.locator("#item-A1-2-dk").check()
        screenshot(page, f"thumb-page-1-{name}.png", full_page=True)
        page.locator("button[name=action][value=next]").click()
        page.goto(f"{live_server}/respond/review")
        expect(page.get_by_text("Nog 74 vragen open")).to_be_visible()
        screenshot(page, f"thumb-review-{name}.png")
