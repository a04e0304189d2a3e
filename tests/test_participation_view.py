"""Issue 18, participation shown honestly: a team's responses as a share of its expected staff,
for the team's manager, the department manager, the quality officer and the admin, during and
after the wave, only from k and in the same daily steps as the live counts
(``survey.services.participation``; docs/anonymity.md, "Participation").

Dates are relative to the waves the tests make; nothing depends on which day it is.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Response, Role, Unit, Wave, WaveStatus
from survey.services.participation import organisation_participation, wave_participation
from tests.conftest import login, logout
from tests.test_retention import ended

TODAY = date.today()
YESTERDAY = TODAY - timedelta(days=1)

#: Who reads, and the page they read a wave's participation on.
READERS = {
    "team-manager": "/dashboard/waves/{wave}",
    "department-manager": "/dashboard/waves/{wave}",
    "quality": "/dashboard/waves/{wave}",
    "admin": "/admin/waves/{wave}",
}


@pytest.fixture
def accounts(tree, make_account):
    make_account("team-manager@example.org", Role.MANAGER, [tree["team-a"]])
    make_account("department-manager@example.org", Role.MANAGER, [tree["north"]])
    make_account("quality@example.org", Role.QUALITY)
    make_account("admin@example.org", Role.ADMIN)


def sign_in(client, who: str) -> None:
    assert login(client, f"{who}@example.org").status_code == 302
    client.get("/language/en")


def add_responses(wave: Wave, team: Unit, count: int, on: date) -> None:
    db.session.add_all(
        Response(id=uuid.uuid4(), wave_id=wave.id, unit_id=team.id, submitted_on=on, language="nl")
        for _ in range(count)
    )
    db.session.commit()


def cell(page: str, attribute: str) -> str | None:
    """The text of the cell marked ``attribute``, or None when the page has none."""
    match = re.search(rf"<td {re.escape(attribute)}>(.*?)</td>", page, re.S)
    if not match:
        return None
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip()


def figures(client, url: str, slug: str = "team-a") -> tuple[str | None, str | None]:
    page = client.get(url).get_data(as_text=True)
    answered = cell(page, f'data-answered="{slug}"') or cell(page, f'data-responses="{slug}"')
    return answered, cell(page, f'data-participation-team="{slug}"')


@pytest.mark.parametrize("who", READERS)
def test_each_reader_sees_participation_only_from_k_and_in_steps(
    client, tree, make_wave, accounts, who
):
    wave = make_wave([tree["north"]])  # open: a week ago to two weeks ahead; 12 expected
    url = READERS[who].format(wave=wave.id)
    sign_in(client, who)

    add_responses(wave, tree["team-a"], 4, YESTERDAY)
    answered, percent = figures(client, url)
    assert answered == "fewer than 5" and percent == "–"  # below k: nothing, not even 33%

    # A fifth colleague answers today: nothing moves until tomorrow.
    add_responses(wave, tree["team-a"], 1, TODAY)
    assert figures(client, url) == (answered, percent)

    # A day later (today's answers now count as yesterday's), from k: 6 of 12.
    add_responses(wave, tree["team-a"], 1, YESTERDAY)
    db.session.query(Response).filter(Response.submitted_on == TODAY).update(
        {Response.submitted_on: YESTERDAY}
    )
    db.session.commit()
    assert figures(client, url) == ("6", "50%")
    page = client.get(url).get_data(as_text=True)
    assert "As of the end of yesterday" in page

    # Between steps one more submission moves neither the count nor the percentage.
    add_responses(wave, tree["team-a"], 1, TODAY)
    assert figures(client, url) == ("6", "50%")


def test_the_percentage_moves_only_once_a_day(tree, make_wave, accounts):
    wave = make_wave([tree["north"]])
    add_responses(wave, tree["team-a"], 6, YESTERDAY)
    seen = []
    for _ in range(3):  # three colleagues submit today, one after another
        add_responses(wave, tree["team-a"], 1, TODAY)
        row = wave_participation(wave, today=TODAY).by_team[wave.teams[0].id]
        seen.append((row.responses.value, row.percent))
    assert seen == [(6, 50)] * 3
    tomorrow = wave_participation(wave, today=TODAY + timedelta(days=1))
    assert (tomorrow.teams[0].responses.value, tomorrow.teams[0].percent) == (9, 75)
    # After the period every response counts, and the figure stays.
    after = wave_participation(wave, today=wave.closes_on + timedelta(days=1))
    assert after.counted_before is None and after.teams[0].percent == 75


def test_a_manager_sees_nothing_of_another_team(client, tree, make_wave, accounts):
    shared = make_wave([tree["org"]], name="Everyone")
    other = make_wave([tree["team-c"]], name="Only C")
    for team in ("team-a", "team-b", "team-c"):
        add_responses(shared, tree[team], 7, YESTERDAY)
    sign_in(client, "team-manager")

    page = client.get("/dashboard/").get_data(as_text=True)
    assert "Participation in the open waves" in page
    assert cell(page, 'data-participation-team="team-a"') == "58%"
    assert "team-b" not in page and "team-c" not in page and "Only C" not in page

    page = client.get(f"/dashboard/waves/{shared.id}").get_data(as_text=True)
    assert cell(page, 'data-answered="team-a"') == "7"
    assert 'data-answered="team-c"' not in page and "data-answered-total" not in page
    assert client.get(f"/dashboard/waves/{other.id}").status_code == 404
    assert client.get(f"/dashboard/waves/{shared.id}/teams/team-c").status_code == 404

    team_page = client.get(f"/dashboard/waves/{shared.id}/teams/team-a").get_data(as_text=True)
    assert "7 of 12 expected staff answered (58%)" in team_page


def test_a_department_total_never_gives_away_a_team_below_k(client, tree, make_wave, accounts):
    wave = make_wave([tree["org"]])
    add_responses(wave, tree["team-a"], 6, YESTERDAY)
    add_responses(wave, tree["team-b"], 2, YESTERDAY)  # hidden
    add_responses(wave, tree["team-c"], 9, YESTERDAY)  # outside the department
    sign_in(client, "department-manager")
    page = client.get(f"/dashboard/waves/{wave.id}").get_data(as_text=True)
    assert cell(page, 'data-answered="team-a"') == "6"
    assert cell(page, 'data-answered="team-b"') == "fewer than 5"
    assert "team-c" not in page
    # 8 together would give team B's 2: the total says only what the shown teams hold.
    total = cell(page, "data-answered-total")
    assert "8" not in total and "6 in the teams shown" in total
    assert cell(page, "data-participation-total") == "–"

    add_responses(wave, tree["team-b"], 3, YESTERDAY)  # now 5: shown, and the total too
    page = client.get(f"/dashboard/waves/{wave.id}").get_data(as_text=True)
    assert cell(page, "data-answered-total") == "11"
    assert cell(page, "data-participation-total") == "46%"  # 11 of 24


def test_a_department_total_and_the_wave_total_never_give_a_team_below_k_together(
    client, tree, make_unit, make_wave, accounts
):
    """The attack of two insiders, the administrator and North's manager: the wave's total
    minus North's total minus the other shown teams would be team C's 2 answers."""
    make_unit("team-d", parent=tree["north"])
    db.session.commit()
    wave = make_wave([tree["org"]])
    counts = {"team-a": 6, "team-b": 3, "team-d": 3, "team-c": 2}  # North holds 6 below k
    for slug, count in counts.items():
        add_responses(
            wave, db.session.scalars(sa.select(Unit).filter_by(slug=slug)).one(), count, YESTERDAY
        )

    sign_in(client, "admin")
    admin_page = client.get(f"/admin/waves/{wave.id}").get_data(as_text=True)
    whole = cell(admin_page, "data-responses-total")
    assert whole == "14"  # 8 below k together: the whole wave's total may show
    logout(client)

    sign_in(client, "department-manager")
    page = client.get(f"/dashboard/waves/{wave.id}").get_data(as_text=True)
    north = cell(page, "data-answered-total")
    assert north.startswith("6 in the teams shown")  # not 12: 14 − 12 would be team C's 2
    assert cell(page, "data-participation-total") == "–"
    page = client.get("/dashboard/").get_data(as_text=True)
    assert cell(page, "data-answered-total").startswith("6 in the teams shown")


def test_a_team_without_expected_staff_shows_its_count_only(client, tree, make_wave, accounts):
    wave = make_wave([tree["north"]])
    wave.teams[0].invited = None
    db.session.commit()
    add_responses(wave, tree["team-a"], 5, YESTERDAY)
    sign_in(client, "team-manager")
    assert figures(client, f"/dashboard/waves/{wave.id}") == ("5", "–")


def test_a_draft_shows_no_participation(client, tree, make_wave, accounts):
    wave = make_wave([tree["north"]], status=WaveStatus.DRAFT)
    sign_in(client, "admin")
    page = client.get(f"/admin/waves/{wave.id}").get_data(as_text=True)
    assert "data-participation-team" not in page
    assert wave_participation(wave) is None


def test_the_organisations_participation_over_the_waves(client, tree, make_wave, accounts):
    old = ended(make_wave([tree["org"]], name="Najaar"), TODAY - timedelta(days=60))
    add_responses(old, tree["team-a"], 5, old.closes_on)
    add_responses(old, tree["team-b"], 7, old.closes_on)
    add_responses(old, tree["team-c"], 2, old.closes_on)  # below k: left out of both sums
    recent = ended(make_wave([tree["org"]], name="Voorjaar"), TODAY - timedelta(days=2))
    add_responses(recent, tree["team-a"], 12, recent.closes_on)  # still in team-first period

    [summary] = organisation_participation([old])
    assert (summary.teams_counted, summary.responses, summary.expected) == (2, 12, 24)
    assert summary.percent == 50

    sign_in(client, "quality")
    page = client.get("/quality/participation").get_data(as_text=True)
    assert cell(page, "data-answered") == "12" and cell(page, "data-expected") == "24"
    assert cell(page, "data-percent") == "50%" and cell(page, "data-teams") == "2 of 3"
    assert "Voorjaar" not in page  # only after its team-first period, as every quality page
    assert "data-participation-line" not in page  # one wave: no line to draw

    later = ended(make_wave([tree["org"]], name="Zomer"), TODAY - timedelta(days=30))
    add_responses(later, tree["team-a"], 9, later.closes_on)  # 9 of 12
    page = client.get("/quality/participation").get_data(as_text=True)
    assert "Participation per wave (%), oldest first" in page
    assert re.search(r"<desc[^>]*>Najaar: 50%; Zomer: 75%</desc>", page)
    logout(client)
    sign_in(client, "team-manager")
    assert client.get("/quality/participation").status_code == 403


@pytest.mark.parametrize("b_expected", [12, None])
def test_the_organisations_figure_and_the_wave_page_never_give_a_team_below_k_together(
    client, tree, make_wave, accounts, b_expected
):
    """An administrator reads both the wave's page (its teams and their total) and the quality
    page's sum over the teams shown: whatever the second leaves out (teams below k, teams without
    expected staff), the first's total minus every count shown never gives team C's 2 answers."""
    wave = ended(make_wave([tree["org"]], name="Najaar"), TODAY - timedelta(days=60))
    for slug, count in {"team-a": 6, "team-b": 6, "team-c": 2}.items():
        add_responses(
            wave,
            db.session.scalars(sa.select(Unit).filter_by(slug=slug)).one(),
            count,
            wave.closes_on,
        )
    team_b = next(team for team in wave.teams if team.unit.slug == "team-b")
    team_b.invited = b_expected
    db.session.commit()

    sign_in(client, "admin")
    wave_page = client.get(f"/admin/waves/{wave.id}").get_data(as_text=True)
    quality_page = client.get("/quality/participation").get_data(as_text=True)
    shown = {
        slug: cell(wave_page, f'data-responses="{slug}"') for slug in ("team-a", "team-b", "team-c")
    }
    assert shown["team-a"] == "6" and shown["team-b"] == "6" and shown["team-c"] != "2"
    organisation = cell(quality_page, "data-answered")
    assert organisation == ("12" if b_expected else "6")
    whole = cell(wave_page, "data-responses-total")
    assert whole is not None and not whole.isdigit()  # 14 − 6 − 6 would be team C's 2
    assert whole.startswith("12")  # the sum of the shown teams, said as such
