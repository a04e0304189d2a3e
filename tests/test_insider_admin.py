"""Issue 14, the administrator's side: attacks an insider with an admin account would try,
performed through the pages (and the command line), each asserting that it no longer works.

- class 1 (padding a team), the admin part: each team's expected staff, entered with the wave
  from the units' number of staff, editable while the wave is a draft or open, and the teams
  that exceed it or answered in an implausible burst flagged at closing, without any time;
- class 7 (live counts): an open wave's counts move once a day, used codes only after the wave;
- class 12 (totals minus shown parts): no total on the wave page, the retention page or the
  audit log minus the teams' shown figures gives a team below k.

Dates are relative to the waves the tests make; nothing depends on which day it is.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEvent, Response, Role, Unit, Wave, WaveStatus, WaveTeam
from survey.services import wave_progress as progress_service
from survey.services import waves as wave_service
from survey.services.codes import claim_code, issue_codes
from survey.services.settings import wave_policy
from tests.conftest import csrf_token, login
from tests.test_retention import add_responses as add_scored_responses
from tests.test_retention import ended, likert, set_retention

TODAY = date.today()
K = 5


@pytest.fixture
def admin(client, make_account):
    account = make_account("admin@example.org", Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302
    client.get("/language/en")
    return account


def add_responses(wave: Wave, team: Unit, count: int, on: date) -> None:
    db.session.add_all(
        Response(id=uuid.uuid4(), wave_id=wave.id, unit_id=team.id, submitted_on=on, language="nl")
        for _ in range(count)
    )
    db.session.commit()


def cell(page: str, attribute: str) -> str:
    match = re.search(rf"<td {attribute}>(.*?)</td>", page, re.S)
    assert match, f"no cell {attribute}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip()


def number(text: str) -> int | None:
    """The number a cell states as such (``"12"``), else None (``"fewer than 5"``)."""
    return int(text) if text.isdigit() else None


def wave_team(wave: Wave, slug: str) -> WaveTeam:
    return next(team for team in wave.teams if team.unit.slug == slug)


def post(client, page_url: str, url: str, data: dict):
    return client.post(url, data={"csrf_token": csrf_token(client, page_url), **data})


# --- Class 7: counts that do not tick ---------------------------------------------------------


def admin_counts(client, wave: Wave) -> dict[str, str]:
    page = client.get(f"/admin/waves/{wave.id}").get_data(as_text=True)
    counts = {slug: cell(page, f'data-responses="{slug}"') for slug in ("team-a", "team-b")}
    counts["total"] = cell(page, "data-responses-total")
    return counts


def test_class07_an_open_waves_counts_do_not_move_with_one_submission(
    client, admin, tree, make_wave
):
    wave = make_wave([tree["north"]])  # open: from a week ago to two weeks ahead
    add_responses(wave, tree["team-a"], 6, TODAY - timedelta(days=2))
    add_responses(wave, tree["team-b"], 5, TODAY - timedelta(days=1))
    add_responses(wave, tree["team-a"], 1, TODAY)  # someone answered this morning
    before = admin_counts(client, wave)
    assert before == {"team-a": "6", "team-b": "5", "total": "11"}
    page = client.get(f"/admin/waves/{wave.id}").get_data(as_text=True)
    assert "As of the end of yesterday" in page

    # The insider watches the page while one more colleague submits: nothing moves.
    add_responses(wave, tree["team-a"], 1, TODAY)
    assert admin_counts(client, wave) == before

    # The next day, the day's answers count, all at once.
    tomorrow = progress_service.wave_progress(
        wave, wave_policy(wave), today=TODAY + timedelta(days=1)
    )
    by_team = {row.wave_team.unit.slug: row.responses.value for row in tomorrow.teams}
    assert by_team == {"team-a": 8, "team-b": 5} and tomorrow.total.whole.value == 13
    assert tomorrow.counted_before == TODAY + timedelta(days=1)
    # Once the period has ended, every response counts and no caption is needed.
    after = progress_service.wave_progress(
        wave, wave_policy(wave), today=wave.closes_on + timedelta(1)
    )
    assert after.counted_before is None and after.total.whole.value == 13


def test_class07_used_codes_do_not_show_who_just_began(client, admin, tree, make_wave):
    wave = make_wave([tree["north"]])
    codes = {team.unit.slug: issue_codes(team, 10) for team in wave.teams}
    for slug in ("team-a", "team-b"):
        for code in codes[slug][:6]:
            assert claim_code(code).status == "claimed"
    db.session.commit()

    def used() -> dict[str, str]:
        page = client.get(f"/admin/waves/{wave.id}/codes").get_data(as_text=True)
        return {slug: cell(page, f'data-used="{slug}"') for slug in ("team-a", "team-b")}

    before = used()
    assert claim_code(codes["team-a"][6]).status == "claimed"  # someone enters a code now
    db.session.commit()
    assert used() == before == {"team-a": "after the wave", "team-b": "after the wave"}
    # After the wave, the numbers (from k on).
    wave.status, wave.closed_on = WaveStatus.CLOSED, TODAY
    db.session.commit()
    assert used() == {"team-a": "7", "team-b": "6"}


# --- Class 12: totals minus shown parts -------------------------------------------------------


def team_page_answers(client, wave_team_: WaveTeam) -> int | None:
    """The number of answers a team's results page states (None: hidden)."""
    page = client.get(f"/team/{wave_team_.results_slug}").get_data(as_text=True)
    match = re.search(r'class="headline">(\d+) answers?', page)
    return int(match.group(1)) if match else None


def assert_no_difference_below_k(total: int | None, shown_parts: list[int]) -> None:
    if total is not None:
        remainder = total - sum(shown_parts)
        assert not 0 < remainder < K, f"{total} − {shown_parts} = {remainder}: a team below k"


@pytest.fixture
def closed_wave(tree, make_wave) -> Wave:
    """Closed, with team A 5 and team B 7 responses (shown) and team C 2 (hidden)."""
    wave = ended(make_wave([tree["org"]], name="Najaar"), TODAY - timedelta(days=3))
    add_scored_responses(wave_team(wave, "team-a"), [likert((4, 4, 2))] * 5)
    add_scored_responses(wave_team(wave, "team-b"), [likert((3, 3, 3))] * 7)
    add_scored_responses(wave_team(wave, "team-c"), [likert((1, 1, 5))] * 2)
    return wave


def test_class12_the_wave_total_minus_the_shown_teams_is_never_a_team_below_k(
    client, admin, closed_wave
):
    page = client.get(f"/admin/waves/{closed_wave.id}").get_data(as_text=True)
    admin_page = {
        slug: number(cell(page, f'data-responses="{slug}"'))
        for slug in ("team-a", "team-b", "team-c")
    }
    team_pages = {team.unit.slug: team_page_answers(client, team) for team in closed_wave.teams}
    assert team_pages == {"team-a": 5, "team-b": 7, "team-c": None}
    total = number(cell(page, "data-responses-total"))
    # Every combination of what the admin can read: the wave page and the team pages.
    shown = {
        **{s: n for s, n in admin_page.items() if n},
        **{s: n for s, n in team_pages.items() if n},
    }
    assert_no_difference_below_k(total, list(shown.values()))
    assert total is None
    assert cell(page, "data-responses-total") == (
        "12 in the teams shown; fewer than 5 in the others together"
    )
    # With team C at k, the whole total is shown again.
    add_scored_responses(wave_team(closed_wave, "team-c"), [likert((1, 1, 5))] * 3)
    page = client.get(f"/admin/waves/{closed_wave.id}").get_data(as_text=True)
    assert cell(page, "data-responses-total") == "17"


def retention_columns(page: str, wave: Wave) -> dict[str, str]:
    """The retention table's row of ``wave``: column header → cell text."""
    table = re.search(r'<table class="results">(.*?)</table>', page, re.S).group(1)
    headers = [
        re.sub(r"<[^>]+>", "", header).strip()
        for header in re.findall(r"<th scope=\"col\">(.*?)</th>", table, re.S)
    ]
    row = next(row for row in re.findall(r"<tr>(.*?)</tr>", table, re.S) if wave.name in row)
    cells = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip()
        for text in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    ]
    return dict(zip(headers, cells, strict=True))


def test_class12_the_retention_page_and_the_audit_log_give_no_team_below_k(
    client, admin, tree, make_wave
):
    old = ended(make_wave([tree["org"]], name="Voorjaar oud"), TODAY - timedelta(days=800))
    add_scored_responses(wave_team(old, "team-a"), [{**likert((4, 4, 2)), "O1": "Goed."}] * 5)
    add_scored_responses(wave_team(old, "team-b"), [{**likert((3, 3, 3)), "O1": "Ok."}] * 7)
    # Team C: 3 people, 4 comments between them would be the issue's example; 3 of 3 here.
    add_scored_responses(wave_team(old, "team-c"), [{**likert((1, 1, 5)), "O1": "Zwaar."}] * 3)
    set_retention(1)
    shown_answers = [n for n in (team_page_answers(client, team) for team in old.teams) if n]
    shown_comments = 5 + 7  # what the team pages of teams A and B list
    assert sorted(shown_answers) == [5, 7]

    page = client.get("/admin/retention").get_data(as_text=True)
    row = retention_columns(page, old)
    for header, text in row.items():
        if header.startswith("Responses"):
            assert_no_difference_below_k(number(text), shown_answers)
        if "comment" in header.lower():
            assert_no_difference_below_k(number(text), [shown_comments])
    assert not any(header == "Written comments" for header in row)

    token = csrf_token(client, "/admin/retention")
    done = client.post(
        "/admin/retention/apply",
        data={"csrf_token": token, "waves": str(old.id), "understood": "y"},
    )
    assert done.status_code == 200
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "retention.apply"))
    for key, value in event.details.items():
        if key in {"responses", "answers"} and isinstance(value, int):
            assert_no_difference_below_k(value, shown_answers)
        if key == "comments" and isinstance(value, int):
            assert_no_difference_below_k(value, [shown_comments])
    assert "comments" not in event.details and "answers" not in event.details


def test_class12_the_retention_page_uses_the_waves_own_k(client, admin, tree, make_wave):
    old = ended(make_wave([tree["org"]], name="Voorjaar oud"), TODAY - timedelta(days=800))
    old.min_group_size, old.spread_threshold = 6, 7  # answered under a promise of 6
    add_scored_responses(wave_team(old, "team-a"), [likert((4, 4, 2))] * 5)
    add_scored_responses(wave_team(old, "team-b"), [likert((3, 3, 3))] * 7)
    set_retention(1)
    page = client.get("/admin/retention").get_data(as_text=True)
    row = retention_columns(page, old)
    responses = next(text for header, text in row.items() if header.startswith("Responses"))
    assert responses == "7 in the teams shown; fewer than 6 in the others together"
    assert "Team A" in page.split("Nothing is kept for these teams")[1]


# --- Class 1 (the admin part): expected staff ------------------------------------------------


def test_class01_expected_staff_comes_from_the_units_and_is_shown(
    client, admin, tree, questionnaire_version
):
    for slug, staff in (("team-a", "12"), ("team-b", "8")):
        url = f"/admin/units/{slug}/edit"
        assert post(client, url, f"/admin/units/{slug}/staff", {"staff": staff}).status_code == 302
    assert db.session.get(Unit, tree["team-a"].id).staff == 12
    page = client.get("/admin/units/team-a/edit").get_data(as_text=True)
    assert "<dd data-staff>12</dd>" in page
    # The new-wave form names the teams under 2k for which codes stay the recommendation.
    form = client.get("/admin/waves/new").get_data(as_text=True)
    assert "Access codes stay the recommended way for teams of fewer than 10 staff" in form
    assert "Teams of fewer than 10: Team B." in form
    response = post(
        client,
        "/admin/waves/new",
        "/admin/waves/new",
        {
            "name": "Voorjaar",
            "version": str(questionnaire_version.id),
            "units": [str(tree["org"].id)],
            "opens_on": TODAY.isoformat(),
            "closes_on": (TODAY + timedelta(days=21)).isoformat(),
        },
    )
    assert response.status_code == 302
    wave = db.session.scalar(sa.select(Wave).where(Wave.name == "Voorjaar"))
    assert {team.unit.slug: team.invited for team in wave.teams} == {
        "team-a": 12,
        "team-b": 8,
        "team-c": None,
    }
    page = client.get(f"/admin/waves/{wave.id}").get_data(as_text=True)
    assert cell(page, 'data-expected="team-a"') == "12"
    assert cell(page, 'data-expected="team-c"') == "–"
    assert "Teams of fewer than 10: Team B." in page


def test_class01_expected_staff_is_editable_while_open_and_says_nothing_about_answers(
    client, admin, tree, make_wave
):
    wave = make_wave([tree["north"]])
    add_responses(wave, tree["team-a"], 3, TODAY - timedelta(days=1))
    a, b = wave_team(wave, "team-a"), wave_team(wave, "team-b")
    url = f"/admin/waves/{wave.id}"

    def set_expected(value: str) -> str:
        reply = post(
            client,
            url,
            f"{url}/edit",
            {"edit-name": wave.name, f"edit-invited_{a.id}": value, f"edit-invited_{b.id}": "9"},
        )
        assert reply.status_code == 302
        return client.get(url).get_data(as_text=True)

    # Lowering below what was answered is allowed, and the page reads the same either way:
    # probing with the expected number would otherwise reveal a count below k.
    def without_the_number(page: str) -> str:
        page = re.sub(r'value="[^"]*"', "", page)  # the form's values and its CSRF token
        return page.replace('data-expected="team-a">2<', "").replace(
            'data-expected="team-a">4<', ""
        )

    below = set_expected("2")
    above = set_expected("4")
    assert without_the_number(below) == without_the_number(above)
    assert "You may lower it below the number who have already answered" in below
    db.session.expire_all()
    assert db.session.get(WaveTeam, a.id).invited == 4

    # Closed: the expected staff stay what participation was measured against.
    wave.status, wave.closed_on = WaveStatus.CLOSED, TODAY
    db.session.commit()
    refused = post(
        client, url, f"{url}/edit", {"edit-name": wave.name, f"edit-invited_{a.id}": "50"}
    )
    assert refused.status_code == 302  # the field is not offered: only the name can change
    db.session.expire_all()
    assert db.session.get(WaveTeam, a.id).invited == 4
    with pytest.raises(wave_service.WaveConflict):
        wave_service.edit_wave(wave, {"invited": {a.id: 50}}, None)


def test_class01_expected_staff_teams_over_100_percent_or_in_a_burst_are_flagged_at_closing(
    client, admin, tree, make_wave
):
    wave = make_wave([tree["org"]])
    a, b, c = (wave_team(wave, slug) for slug in ("team-a", "team-b", "team-c"))
    a.invited, b.invited, c.invited = 4, 3, 20
    add_responses(wave, tree["team-a"], 6, TODAY - timedelta(days=1))  # 150 %
    add_responses(wave, tree["team-b"], 4, TODAY - timedelta(days=1))  # over, but below k
    add_responses(wave, tree["team-c"], 12, TODAY - timedelta(days=1))
    c.peak_burst, c.burst_bucket, c.burst_count = 10, 2_950_000, 3  # half of 20 in ten minutes
    b.peak_burst = 4  # below k: not a burst
    db.session.commit()
    url = f"/admin/waves/{wave.id}"
    closed = post(client, url, f"{url}/close", {"close-confirm": "y"})
    assert closed.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Some teams need a check" in page
    flags = {
        slug: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip()
        for slug, text in re.findall(r'<li data-flag="([^"]+)">(.*?)</li>', page, re.S)
    }
    assert flags["team-a"] == "Team A: 6 completed questionnaires for 4 expected staff (150%)."
    # Team B's 4 is below k: flagged, but its number is not shown.
    assert flags["team-b"] == "Team B: more completed questionnaires than its 3 expected staff."
    assert flags["team-c"] == (
        "Team C: Up to 10 questionnaires were completed within ten minutes of each other."
    )
    assert "check with the team that the answers came from real colleagues" in page
    assert not re.search(r"\b\d{1,2}:\d{2}\b", page)  # no time of day anywhere
    db.session.expire_all()
    team_c = db.session.get(WaveTeam, c.id)
    assert (team_c.burst_bucket, team_c.burst_count, team_c.peak_burst) == (None, 0, 10)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "wave.close"))
    assert event.details["to_check"] == ["team-a", "team-b", "team-c"]


def test_class01_expected_staff_a_meeting_of_a_large_team_is_not_flagged(tree, make_wave):
    policy = wave_policy(make_wave([tree["team-a"]]))
    assert not progress_service.implausible_burst(4, 20, policy)  # below k
    assert not progress_service.implausible_burst(9, 20, policy)  # below half of 20
    assert progress_service.implausible_burst(10, 20, policy)
    assert progress_service.implausible_burst(5, 6, policy)  # k, and half of 6 is 3
    assert progress_service.implausible_burst(5, None, policy)  # unknown size: from k
    assert progress_service.small_for_team_links(9, policy)
    assert not progress_service.small_for_team_links(10, policy)
    assert not progress_service.small_for_team_links(None, policy)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [("12", True), ("1", True), ("10000", True), ("", True)]
    + [(bad, False) for bad in ("0", "10001", "abc", "1.5", "-3", "²", "1e3", "9" * 40)],
)
def test_class01_expected_staff_in_the_units_csv(
    client, admin, tree, runner, tmp_path, value, accepted
):
    text = (
        f"pad;naam;medewerkers\norg/north/team-a;Team A;{value}\norg/north/team-n;Team N;{value}\n"
    )
    page = client.post(
        "/admin/units/import",
        data={
            "csrf_token": csrf_token(client, "/admin/units/import"),
            "file": (__import__("io").BytesIO(text.encode()), "units.csv"),
        },
        content_type="multipart/form-data",
    )
    body = page.get_data(as_text=True)
    path = tmp_path / "units.csv"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["units", "import", str(path)])
    if not accepted:
        assert page.status_code == 422 and "must be a whole number from 1 to 10000" in body
        assert result.exit_code == 1 and "must be a whole number from 1 to 10000" in result.output
        assert db.session.scalar(sa.select(Unit).where(Unit.slug == "team-n")) is None
        return
    assert page.status_code == 200 and result.exit_code == 0, result.output
    db.session.expire_all()
    expected = int(value) if value else None
    assert db.session.scalar(sa.select(Unit.staff).where(Unit.slug == "team-n")) == expected
    assert db.session.scalar(sa.select(Unit.staff).where(Unit.slug == "team-a")) == expected


def test_class01_expected_staff_only_for_teams_in_the_csv(client, admin, tree, runner, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("path,name,staff\norg/north,North,40\n", encoding="utf-8")
    result = runner.invoke(args=["units", "import", str(path)])
    assert result.exit_code == 1 and "only a team has a number of staff" in result.output


@pytest.mark.parametrize("value", ["0", "10001", "abc", "1.5", "9" * 30, "²"])
def test_class01_expected_staff_bad_numbers_on_the_unit_form_are_422(client, admin, tree, value):
    url = "/admin/units/team-a/edit"
    reply = post(client, url, "/admin/units/team-a/staff", {"staff": value})
    assert reply.status_code == 422
    db.session.expire_all()
    assert db.session.get(Unit, tree["team-a"].id).staff is None
    department = post(client, "/admin/units/north/edit", "/admin/units/north/staff", {"staff": "5"})
    assert department.status_code == 409 and "Only a team has a number of staff" in (
        department.get_data(as_text=True)
    )
    new = post(
        client,
        "/admin/units/new",
        "/admin/units/new",
        {"kind": "department", "parent": "org", "name": "West", "staff": "5"},
    )
    assert new.status_code == 422 and "Only a team has a number of staff" in new.get_data(
        as_text=True
    )
