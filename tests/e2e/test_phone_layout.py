"""Results on a phone: at 360 px no table is clipped and the page never scrolls sideways.

A table that is wider than the screen sits in a scroll region (``.table-scroll``) that a
keyboard can reach (tabindex, a label) and that shows a cue; every other table fits. Measured
in Chromium (scrollWidth against clientWidth) on the team, dashboard and quality pages of the
demo, with every ``<details>`` opened so the tables folded into them are measured too; axe
checks each page at that width as well. Screenshots land in tests/e2e/screenshots/ (not
committed) to be looked at.
"""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from survey.extensions import db
from survey.models import Wave, WaveStatus
from survey.services.demo import DEMO_DOMAIN, DEMO_PASSWORD
from tests.e2e.conftest import screenshot
from tests.e2e.test_accessibility import Audit

PHONE = {"width": 360, "height": 740}

#: What is wrong with the tables of the page, as sentences (empty when all is well).
MEASURE = """() => {
  document.querySelectorAll("details").forEach((details) => { details.open = true; });
  const problems = [];
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth) {
    problems.push(`the page is ${page.scrollWidth}px wide in ${page.clientWidth}px`);
  }
  const name = (table) => (table.caption ? table.caption.textContent : table.id || "table")
    .trim().slice(0, 60);
  for (const table of document.querySelectorAll("main table")) {
    const region = table.closest(".table-scroll");
    if (!region) {
      if (table.scrollWidth > table.clientWidth
          || table.getBoundingClientRect().width > table.parentElement.clientWidth + 1) {
        problems.push(`"${name(table)}" is wider than its container and has no scroll region`);
      }
      continue;
    }
    if (table.scrollWidth > table.clientWidth + 1) {
      problems.push(`"${name(table)}" scrolls inside itself, not in its region`);
    }
    if (region.scrollWidth <= region.clientWidth) {
      continue;
    }
    const style = getComputedStyle(region);
    const labelled = region.getAttribute("aria-label") || region.getAttribute("aria-labelledby");
    if (!["auto", "scroll"].includes(style.overflowX)) {
      problems.push(`the region of "${name(table)}" clips it`);
    }
    if (region.tabIndex < 0 || !labelled || region.getAttribute("role") !== "region") {
      problems.push(`the region of "${name(table)}" is not a focusable, labelled region`);
    }
    if (style.backgroundImage === "none") {
      problems.push(`the region of "${name(table)}" shows no cue that it scrolls`);
    }
  }
  return problems;
}"""


def phone_problems(page: Page, url: str, shot: str, audit: Audit) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    problems = page.evaluate(MEASURE)
    audit(page, shot)
    screenshot(page, f"phone-{shot}.png", full_page=True)
    return [f"{url}: {problem}" for problem in problems]


def log_in(page: Page, live_server: str, account: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mailadres").fill(f"{account}@{DEMO_DOMAIN}")
    page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url("**/dashboard/")


def test_no_table_is_clipped_on_a_phone(new_page, live_server, demo):
    wave = db.session.scalar(
        sa.select(Wave).where(Wave.status == WaveStatus.CLOSED).order_by(Wave.opens_on.desc())
    )
    anker = next(team for team in wave.teams if team.unit.slug == "team-anker")
    pages = {
        None: [(f"/team/{anker.results_slug}", "team-link")],
        "leiding.anker": [
            ("/dashboard/", "dashboard"),
            ("/dashboard/units/team-anker", "dashboard-unit"),
            (f"/dashboard/waves/{wave.id}", "dashboard-wave"),
            (f"/dashboard/waves/{wave.id}/teams/team-anker", "team"),
        ],
        "kwaliteit": [
            ("/quality/", "quality-heatmap"),
            (f"/quality/waves/{wave.id}?view=change", "quality-change"),
            ("/quality/units/team-anker", "quality-trend"),
            (f"/quality/waves/{wave.id}/profile", "quality-profile"),
            (f"/quality/waves/{wave.id}/instrument", "quality-instrument"),
        ],
        "leiding.jeugdhulp": [
            ("/dashboard/departments/jeugdhulp", "department"),
            ("/dashboard/units/jeugdhulp/trend", "department-trend"),
            ("/dashboard/units/team-kompas/trend", "team-trend"),
        ],
    }
    problems, audit = [], Audit()
    for account, urls in pages.items():
        page = new_page(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
        if account:
            log_in(page, live_server, account)
        for path, shot in urls:
            problems += phone_problems(page, live_server + path, shot, audit)
    assert not problems, "tables on a 360 px screen:\n  " + "\n  ".join(problems)
    assert len(audit.pages) == 13
    assert not audit.problems, f"accessibility violations at 360 px:\n{audit.report()}"


#: Category labels that begin left of their chart (plotly cuts them off there).
CUT_LABELS = """(chart) => {
  const left = chart.getBoundingClientRect().left;
  return Array.from(chart.querySelectorAll(".ytick text"))
    .filter((label) => label.getBoundingClientRect().left < left - 1)
    .map((label) => label.textContent);
}"""


def test_chart_labels_are_whole_on_a_phone(new_page, live_server, demo):
    wave = db.session.scalar(
        sa.select(Wave).where(Wave.status == WaveStatus.CLOSED).order_by(Wave.opens_on.desc())
    )
    anker = next(team for team in wave.teams if team.unit.slug == "team-anker")
    page = new_page(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    page.goto(f"{live_server}/team/{anker.results_slug}")
    # The life domains: the longest labels ("School, opleiding, werk en dagbesteding").
    chart = page.locator("#chart-group-C2")
    chart.scroll_into_view_if_needed()
    labels = chart.locator(".ytick text")
    expect(labels.first).to_be_attached()
    assert labels.count() == 9
    assert chart.evaluate(CUT_LABELS) == []
    screenshot(page, "phone-team-link-chart.png")
