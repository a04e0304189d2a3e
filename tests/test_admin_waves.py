"""Administration of waves: create, open, extend, close, edit; team links; access codes."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import (
    AccessCode,
    AuditEvent,
    Response,
    Role,
    Unit,
    Wave,
    WaveState,
    WaveStatus,
    WaveTeam,
)
from survey.services import wave_progress as progress_service
from survey.services import waves as wave_service
from survey.services.codes import claim_code, issue_codes
from tests.conftest import DaysFromToday, csrf_token, login

TODAY = date.today()


@pytest.fixture
def admin(client, make_account):
    account = make_account("admin@example.org", Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302
    client.get("/language/en")
    return account


def day(offset: int) -> str:
    return DaysFromToday(offset)


def audit_actions() -> list[str]:
    """The audited acts on waves and codes, in order (loading the questionnaire is one too)."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.action.like("wave.%") | AuditEvent.action.like("codes.%"))
            .order_by(AuditEvent.id)
        )
    )


def fresh(wave: Wave) -> Wave:
    db.session.expire_all()
    return db.session.get(Wave, wave.id)


def post_form(client, page_url: str, action_url: str, data: dict):
    """Post ``data`` to ``action_url`` with the CSRF token of the form on ``page_url``."""
    token = csrf_token(client, page_url)
    return client.post(action_url, data={"csrf_token": token, **data})


def new_wave_data(version_id: int, chosen: list[Unit], **overrides) -> dict:
    data = {
        "name": "Voorjaar 2026",
        "version": str(version_id),
        "units": [str(unit.id) for unit in chosen],
        "opens_on": day(0),
        "closes_on": day(21),
    }
    return {**data, **overrides}


def create(client, questionnaire_version, chosen, **overrides):
    data = new_wave_data(questionnaire_version.id, chosen, **overrides)
    return post_form(client, "/admin/waves/new", "/admin/waves/new", data)


def add_responses(wave: Wave, team: Unit, count: int) -> None:
    """Responses of yesterday: an open wave's page counts only those (test_insider_admin)."""
    db.session.add_all(
        Response(
            wave_id=wave.id, unit_id=team.id, submitted_on=TODAY - timedelta(days=1), language="nl"
        )
        for _ in range(count)
    )
    db.session.commit()


def cell(page: str, attribute: str) -> str:
    """The text of the table cell marked with ``attribute`` (tags stripped)."""
    match = re.search(rf"<td {attribute}>(.*?)</td>", page, re.S)
    assert match, f"no cell {attribute}"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


# --- The list and a new wave ------------------------------------------------------------------


def test_the_list_shows_every_wave_with_status_period_version_and_teams(
    client, admin, tree, make_wave
):
    make_wave([tree["north"]], name="Najaar 2025", status=WaveStatus.CLOSED)
    make_wave([tree["org"]], name="Voorjaar 2026", status=WaveStatus.DRAFT)
    page = client.get("/admin/waves").get_data(as_text=True)
    assert "Najaar 2025" in page and "Voorjaar 2026" in page
    rows = re.findall(r"<tr>\s*<th scope=\"row\">.*?</tr>", page, re.S)
    teams = {re.search(r">([^<]+)</a>", row).group(1): row for row in rows}
    assert re.search(r"<td>2</td>\s*</tr>", teams["Najaar 2025"])
    assert re.search(r"<td>3</td>\s*</tr>", teams["Voorjaar 2026"])
    assert "status-closed" in teams["Najaar 2025"] and "status-draft" in teams["Voorjaar 2026"]
    assert "mini-krachtspiegel 2" in teams["Voorjaar 2026"]


def test_a_new_wave_is_a_draft_with_every_active_team_below_the_chosen_units(
    client, admin, tree, questionnaire_version, make_unit
):
    tree["team-b"].archived_on = TODAY - timedelta(days=30)
    db.session.commit()
    form = client.get("/admin/waves/new").get_data(as_text=True)
    assert 'type="date"' in form
    assert f'value="{tree["team-a"].id}"' in form
    assert f'value="{tree["team-b"].id}"' not in form, "archived units are not offered"

    response = create(client, questionnaire_version, [tree["north"], tree["team-c"]])
    assert response.status_code == 302
    wave = db.session.scalar(sa.select(Wave))
    assert response.headers["Location"].endswith(f"/admin/waves/{wave.id}")
    assert wave.status is WaveStatus.DRAFT
    assert wave.closed_on is None and wave.codes_only is False
    assert {unit.slug for unit in wave.units} == {"north", "team-c"}
    assert sorted(team.unit.slug for team in wave.teams) == ["team-a", "team-c"]
    assert audit_actions() == ["wave.create"]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "wave.create"))
    assert event.actor == "admin@example.org" and event.details["teams"] == 2


def test_an_archived_unit_posted_anyway_is_refused(client, admin, tree, questionnaire_version):
    tree["team-b"].archived_on = TODAY
    db.session.commit()
    response = create(client, questionnaire_version, [tree["team-b"]])
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(Wave.id))) == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "  "}, "Give the wave a name."),
        ({"units": []}, "Choose at least one unit."),
        ({"opens_on": day(10), "closes_on": day(3)}, "cannot be before the opening date"),
        ({"opens_on": "31-12-2026"}, "Enter a date as year-month-day"),
        ({"closes_on": ""}, "Enter the day the wave closes."),
        ({"opens_on": day(-30), "closes_on": day(-2)}, "The closing date has already passed."),
        ({"version": "999999"}, "Not a valid choice"),
    ],
)
def test_creating_refuses_bad_input_with_422_and_keeps_what_was_typed(
    client, admin, tree, questionnaire_version, overrides, message
):
    data = {"name": "Najaar 2026", **overrides}
    response = create(client, questionnaire_version, [tree["north"]], **data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="error-summary"' in page
    assert message in page
    if overrides.get("name", "x").strip():
        assert 'value="Najaar 2026"' in page
    if "units" not in overrides:
        assert re.search(rf'value="{tree["north"].id}"\s+checked', page)
    assert db.session.scalar(sa.select(sa.func.count(Wave.id))) == 0
    assert audit_actions() == []


def test_a_unit_without_active_teams_is_refused(client, admin, tree, questionnaire_version):
    for slug in ("team-a", "team-b"):
        tree[slug].archived_on = TODAY
    db.session.commit()
    # "north" itself is active but has no active team left.
    response = create(client, questionnaire_version, [tree["north"]])
    assert response.status_code == 422
    assert "No active team is in or below the chosen units." in response.get_data(as_text=True)


def test_codes_only_is_stored(client, admin, tree, questionnaire_version):
    response = create(client, questionnaire_version, [tree["team-a"]], codes_only="y")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Wave)).codes_only is True


# --- Open, extend, close ----------------------------------------------------------------------


def test_create_open_extend_close(client, admin, tree, questionnaire_version):
    create(client, questionnaire_version, [tree["org"]])
    wave = db.session.scalar(sa.select(Wave))
    url = f"/admin/waves/{wave.id}"

    response = post_form(client, url, f"{url}/open", {"open-confirm": "y"})
    assert response.status_code == 302
    assert fresh(wave).status is WaveStatus.OPEN
    assert fresh(wave).state() is WaveState.OPEN
    assert "staff can answer now" in client.get(url).get_data(as_text=True)

    response = post_form(client, url, f"{url}/extend", {"extend-closes_on": day(35)})
    assert response.status_code == 302
    assert fresh(wave).closes_on == TODAY + timedelta(days=35)

    response = post_form(client, url, f"{url}/close", {"close-confirm": "y"})
    assert response.status_code == 302
    wave = fresh(wave)
    assert wave.status is WaveStatus.CLOSED
    assert wave.closed_on == TODAY
    assert wave.state() is WaveState.CLOSED
    assert audit_actions() == ["wave.create", "wave.open", "wave.extend", "wave.close"]
    details = db.session.scalars(
        sa.select(AuditEvent.details)
        .where(AuditEvent.action.like("wave.%"))
        .order_by(AuditEvent.id)
    ).all()
    assert details[2] == {"closes_on": day(35), "previous": day(21)}
    assert details[3] == {"closed_on": TODAY.isoformat()}


def test_opening_before_the_opening_day_keeps_the_wave_waiting(
    client, admin, tree, questionnaire_version
):
    create(client, questionnaire_version, [tree["team-a"]], opens_on=day(5), closes_on=day(20))
    wave = db.session.scalar(sa.select(Wave))
    url = f"/admin/waves/{wave.id}"
    post_form(client, url, f"{url}/open", {"open-confirm": "y"})
    wave = fresh(wave)
    assert wave.status is WaveStatus.OPEN
    assert wave.state() is WaveState.NOT_YET_OPEN
    assert "Waiting for its opening day" in client.get(url).get_data(as_text=True)
    landing = client.get(f"/t/{wave.teams[0].link_slug}").get_data(as_text=True)
    assert "This questionnaire is not open yet" in landing


def close_it(client, wave):
    url = f"/admin/waves/{wave.id}"
    return post_form(client, url, f"{url}/close", {"close-confirm": "y"})


@pytest.mark.parametrize(
    ("status", "action", "data", "message"),
    [
        (WaveStatus.OPEN, "open", {}, "Only a draft wave can be opened"),
        (WaveStatus.CLOSED, "open", {}, "Only a draft wave can be opened"),
        (WaveStatus.CLOSED, "close", {"close-confirm": "y"}, "This wave is already closed."),
        (WaveStatus.DRAFT, "close", {"close-confirm": "y"}, "nothing to close"),
        (WaveStatus.CLOSED, "extend", {"extend-closes_on": day(60)}, "it cannot be extended"),
        (WaveStatus.DRAFT, "extend", {"extend-closes_on": day(60)}, "change its dates instead"),
    ],
)
def test_illegal_transitions_are_refused_with_409(
    client, admin, tree, make_wave, status, action, data, message
):
    wave = make_wave([tree["team-a"]], status=status)
    closes_on = wave.closes_on
    url = f"/admin/waves/{wave.id}"
    response = post_form(client, url, f"{url}/{action}", data)
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    wave = fresh(wave)
    assert wave.status is status and wave.closes_on == closes_on and wave.closed_on is None
    assert audit_actions() == []


def test_a_wave_whose_period_has_ended_is_not_reopened_by_extending(client, admin, tree, make_wave):
    wave = make_wave([tree["team-a"]])
    wave.opens_on, wave.closes_on = TODAY - timedelta(days=20), TODAY - timedelta(days=1)
    db.session.commit()
    url = f"/admin/waves/{wave.id}"
    response = post_form(client, url, f"{url}/extend", {"extend-closes_on": day(10)})
    assert response.status_code == 409
    assert "cannot be reopened" in response.get_data(as_text=True)
    # Closing it records the day answering stopped, not the later day of the click.
    assert close_it(client, wave).status_code == 302
    assert fresh(wave).closed_on == TODAY - timedelta(days=1)


def test_opening_a_wave_whose_closing_day_has_passed_is_refused(client, admin, tree, make_wave):
    wave = make_wave([tree["team-a"]], status=WaveStatus.DRAFT)
    wave.opens_on, wave.closes_on = TODAY - timedelta(days=20), TODAY - timedelta(days=1)
    db.session.commit()
    url = f"/admin/waves/{wave.id}"
    assert post_form(client, url, f"{url}/open", {}).status_code == 409
    assert fresh(wave).status is WaveStatus.DRAFT


@pytest.mark.parametrize(
    ("closes_on", "message"),
    [
        (day(14), "must be later than the current one"),
        (day(3), "must be later than the current one"),
        ("", "Enter the new closing date."),
        ("next week", "Enter a date as year-month-day"),
    ],
)
def test_extending_needs_a_later_closing_date(client, admin, tree, make_wave, closes_on, message):
    wave = make_wave([tree["team-a"]])
    url = f"/admin/waves/{wave.id}"
    response = post_form(client, url, f"{url}/extend", {"extend-closes_on": closes_on})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'href="#extend-closes_on"' in page
    assert fresh(wave).closes_on == TODAY + timedelta(days=14)


def test_closing_needs_a_confirmation(client, admin, tree, make_wave):
    wave = make_wave([tree["team-a"]])
    url = f"/admin/waves/{wave.id}"
    response = post_form(client, url, f"{url}/close", {})
    assert response.status_code == 422
    assert "Tick the box to confirm" in response.get_data(as_text=True)
    assert fresh(wave).status is WaveStatus.OPEN


def test_an_unknown_wave_is_404(client, admin):
    assert client.get("/admin/waves/999999").status_code == 404
    assert client.get("/admin/waves/999999/links").status_code == 404
    assert client.get("/admin/waves/999999/codes").status_code == 404


# --- Editing ----------------------------------------------------------------------------------


def test_a_draft_can_change_everything(client, admin, tree, make_wave):
    wave = make_wave([tree["north"]], status=WaveStatus.DRAFT)
    team_a, team_b = sorted(wave.teams, key=lambda team: team.unit.slug)
    url = f"/admin/waves/{wave.id}"
    data = {
        "edit-name": "Najaar 2026",
        "edit-opens_on": day(30),
        "edit-closes_on": day(50),
        "edit-codes_only": "y",
        f"edit-invited_{team_a.id}": "9",
        f"edit-invited_{team_b.id}": "",
    }
    response = post_form(client, url, f"{url}/edit", data)
    assert response.status_code == 302
    wave = fresh(wave)
    assert (wave.name, wave.opens_on, wave.closes_on, wave.codes_only) == (
        "Najaar 2026",
        TODAY + timedelta(days=30),
        TODAY + timedelta(days=50),
        True,
    )
    assert {team.unit.slug: team.invited for team in wave.teams} == {"team-a": 9, "team-b": None}
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "wave.edit"))
    assert event.details["name"] == "Najaar 2026"
    assert event.details["invited"] == {"team-a": 9, "team-b": None}


def test_an_open_wave_changes_only_its_name_and_the_number_invited(client, admin, tree, make_wave):
    wave = make_wave([tree["team-a"]])
    team = wave.teams[0]
    url = f"/admin/waves/{wave.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'name="edit-opens_on"' not in page and 'name="edit-codes_only"' not in page
    data = {
        "edit-name": "Voorjaar 2026 (verlengd)",
        "edit-opens_on": day(30),
        "edit-closes_on": day(2),
        "edit-codes_only": "y",
        f"edit-invited_{team.id}": "15",
    }
    assert post_form(client, url, f"{url}/edit", data).status_code == 302
    wave = fresh(wave)
    assert wave.name == "Voorjaar 2026 (verlengd)" and wave.teams[0].invited == 15
    assert wave.opens_on == TODAY - timedelta(days=7)
    assert wave.closes_on == TODAY + timedelta(days=14)
    assert wave.codes_only is False


def test_the_service_refuses_date_changes_in_an_open_wave(app, tree, make_wave):
    wave = make_wave([tree["team-a"]])
    with pytest.raises(wave_service.WaveConflict):
        wave_service.edit_wave(wave, {"closes_on": TODAY}, actor=None)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("edit-name", "", "Give the wave a name."),
        ("edit-closes_on", day(-10), "cannot be before the opening date"),
        ("invited", "0", "Enter a number from 1 to 10000."),
        ("invited", "twelve", "Not a valid integer value"),
    ],
)
def test_editing_refuses_bad_input_with_422(client, admin, tree, make_wave, field, value, message):
    wave = make_wave([tree["team-a"]], status=WaveStatus.DRAFT)
    team = wave.teams[0]
    url = f"/admin/waves/{wave.id}"
    data = {
        "edit-name": "Voorjaar 2026",
        "edit-opens_on": day(-7),
        "edit-closes_on": day(14),
        f"edit-invited_{team.id}": "12",
    }
    data[f"edit-invited_{team.id}" if field == "invited" else field] = value
    response = post_form(client, url, f"{url}/edit", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'class="error-summary"' in page
    assert fresh(wave).teams[0].invited == 12
    assert audit_actions() == []


# --- Counts behind the minimum group size -----------------------------------------------------


@pytest.mark.parametrize(
    ("answered", "shown", "total"),
    [
        # Nobody yet, or a few: never the number, not even nought.
        ({"team-a": 0, "team-b": 0}, {"team-a": None, "team-b": None}, None),
        ({"team-a": 4, "team-b": 0}, {"team-a": None, "team-b": None}, None),
        # From k on.
        ({"team-a": 5, "team-b": 6}, {"team-a": "5", "team-b": "6"}, "11"),
        # Team A's 5 is on its own results page too, so the total 7 would give team B's 2: the
        # total says only what the teams shown hold.
        (
            {"team-a": 5, "team-b": 2},
            {"team-a": "5", "team-b": None},
            "5 in the teams shown; fewer than 5 in the others together",
        ),
    ],
)
def test_response_counts_are_hidden_below_k_and_shown_from_k(
    client, admin, tree, make_wave, answered, shown, total
):
    wave = make_wave([tree["north"]])
    for slug, count in answered.items():
        add_responses(wave, tree[slug], count)
    page = client.get(f"/admin/waves/{wave.id}").get_data(as_text=True)
    for slug, expected in shown.items():
        text = cell(page, f'data-responses="{slug}"')
        assert text == (expected or "fewer than 5"), slug
    assert cell(page, "data-responses-total") == (total or "fewer than 5")


def test_the_minimum_group_size_setting_applies(app, client, admin, tree, make_wave):
    from survey.models import OrganisationSettings

    db.session.add(
        OrganisationSettings(
            id=1,
            min_group_size=3,
            spread_threshold=7,
            comments_enabled=True,
            team_first_days=0,
            languages=["nl", "en"],
            life_domains=None,
            retention_years=None,
        )
    )
    db.session.commit()
    wave = make_wave([tree["team-a"]])
    add_responses(wave, tree["team-a"], 3)
    page = client.get(f"/admin/waves/{wave.id}").get_data(as_text=True)
    assert cell(page, 'data-responses="team-a"') == "3"


def test_a_draft_shows_no_counts(client, admin, tree, make_wave):
    wave = make_wave([tree["team-a"]], status=WaveStatus.DRAFT)
    page = client.get(f"/admin/waves/{wave.id}").get_data(as_text=True)
    assert "data-responses" not in page
    assert "Team A" in page


# --- Team links -------------------------------------------------------------------------------


def test_the_links_page_has_a_link_and_a_qr_code_per_team(app, client, admin, tree, make_wave):
    wave = make_wave([tree["org"]])
    page = client.get(f"/admin/waves/{wave.id}/links").get_data(as_text=True)
    public_url = app.config["PUBLIC_URL"]
    for team in wave.teams:
        assert f"{public_url}/t/{team.link_slug}" in page
        # never the results link: it shows the results to anyone (tests/test_insider_storage.py)
        assert team.results_slug not in page
        qr = re.search(rf'data-qr="{team.unit.slug}">\s*(<svg.*?</svg>)', page, re.S)
        assert qr, team.unit.slug
        assert 'class="qr"' in qr.group(1) and "<path" in qr.group(1)
    assert page.count('class="team-sheet"') == 3
    assert "<script" not in page.split("</head>")[1]


def test_the_qr_code_encodes_the_team_link():
    svg = progress_service.qr_svg("https://krachtspiegel.example/t/abc")
    assert svg.startswith('<svg aria-hidden="true"') and svg.endswith("</svg>")
    assert svg != progress_service.qr_svg("https://krachtspiegel.example/t/abd")


def test_a_codes_only_wave_prints_no_answering_links(client, admin, tree, make_wave):
    wave = make_wave([tree["north"]])
    wave.codes_only = True
    db.session.commit()
    page = client.get(f"/admin/waves/{wave.id}/links").get_data(as_text=True)
    for team in wave.teams:
        assert team.link_slug not in page
        assert team.results_slug not in page
    assert "<svg" not in page
    assert "access codes only" in page
    assert f"/admin/waves/{wave.id}/codes" in page


# --- Access codes -----------------------------------------------------------------------------


def codes_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(AccessCode.id)))


def test_issuing_codes_answers_with_the_slips_pdf(client, admin, tree, make_wave):
    wave = make_wave([tree["north"]])
    url = f"/admin/waves/{wave.id}/codes"
    page = client.get(url).get_data(as_text=True)
    assert "Codes cannot be shown again." in page
    response = post_form(client, url, url, {"team": "team-b", "count": "12", "output": "pdf"})
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    assert codes_count() == 12
    team_b = db.session.scalar(sa.select(WaveTeam).join(WaveTeam.unit).where(Unit.slug == "team-b"))
    assert {code.wave_team_id for code in db.session.scalars(sa.select(AccessCode))} == {team_b.id}
    assert audit_actions() == ["codes.issue"]
    page = client.get(url).get_data(as_text=True)
    assert cell(page, 'data-issued="team-b"') == "12"
    assert cell(page, 'data-issued="team-a"') == "0"


def test_issued_codes_as_csv_can_be_claimed_once(client, admin, tree, make_wave):
    wave = make_wave([tree["team-a"]])
    url = f"/admin/waves/{wave.id}/codes"
    response = post_form(client, url, url, {"team": "team-a", "count": "3", "output": "csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # so that a spreadsheet reads it as UTF-8
    codes = [row["code"] for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))]
    assert len(codes) == 3 == codes_count()
    assert claim_code(codes[0]).status == "claimed"
    assert claim_code(codes[0]).status == "used"


def test_the_service_returns_codes_that_claim_code_accepts(app, tree, make_wave):
    wave = make_wave([tree["team-a"]], status=WaveStatus.DRAFT)
    codes = issue_codes(wave.teams[0], 4)
    db.session.commit()
    assert codes_count() == 4
    results = [claim_code(code) for code in codes]
    assert {result.status for result in results} == {"claimed"}
    assert {result.wave_team.id for result in results} == {wave.teams[0].id}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"team": "team-a", "count": "0"}, "Enter a number from 1 to 500."),
        ({"team": "team-a", "count": "501"}, "Enter a number from 1 to 500."),
        ({"team": "team-a", "count": "many"}, "Not a valid integer value"),
        ({"team": "team-a", "count": ""}, "Enter how many codes to issue."),
        ({"team": "team-c", "count": "5"}, "Not a valid choice"),
    ],
)
def test_issuing_codes_refuses_bad_input_with_422(client, admin, tree, make_wave, data, message):
    wave = make_wave([tree["north"]])
    url = f"/admin/waves/{wave.id}/codes"
    response = post_form(client, url, url, {"output": "pdf", **data})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert codes_count() == 0


def test_a_closed_wave_takes_no_codes(client, admin, tree, make_wave):
    wave = make_wave([tree["team-a"]])
    url = f"/admin/waves/{wave.id}/codes"
    token = csrf_token(client, url)
    close_it(client, wave)
    response = client.post(
        url, data={"csrf_token": token, "team": "team-a", "count": "5", "output": "pdf"}
    )
    assert response.status_code == 409
    assert "it takes no new codes" in response.get_data(as_text=True)
    assert codes_count() == 0


@pytest.mark.parametrize(
    ("used", "shown"),
    [
        ({"team-a": 6, "team-b": 5}, {"team-a": "6", "team-b": "5"}),
        ({"team-a": 0, "team-b": 0}, {"team-a": "fewer than 5", "team-b": "fewer than 5"}),
        # No total of used codes is shown anywhere, so team A's 8 gives nothing away.
        ({"team-a": 8, "team-b": 1}, {"team-a": "8", "team-b": "fewer than 5"}),
    ],
)
def test_used_codes_are_counted_only_from_k(client, admin, tree, make_wave, used, shown):
    wave = make_wave([tree["north"]])
    for team in wave.teams:
        for code in issue_codes(team, 8)[: used[team.unit.slug]]:
            assert claim_code(code).status == "claimed"
    db.session.commit()
    page = client.get(f"/admin/waves/{wave.id}/codes").get_data(as_text=True)
    for slug in shown:  # while the wave runs, not at all (tests/test_insider_admin.py)
        assert cell(page, f'data-used="{slug}"') == "after the wave"
    wave.status, wave.closed_on = WaveStatus.CLOSED, TODAY
    db.session.commit()
    page = client.get(f"/admin/waves/{wave.id}/codes").get_data(as_text=True)
    for slug, expected in shown.items():
        assert cell(page, f'data-issued="{slug}"') == "8"
        assert cell(page, f'data-used="{slug}"') == expected


# --- Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.QUALITY, Role.MANAGER])
def test_other_roles_are_refused(client, tree, make_wave, make_account, role):
    wave = make_wave([tree["team-a"]])
    make_account("someone@example.org", role, [tree["team-a"]] if role is Role.MANAGER else [])
    login(client, "someone@example.org")
    token = csrf_token(client, "/dashboard/")
    for url in (
        "/admin/waves",
        "/admin/waves/new",
        f"/admin/waves/{wave.id}",
        f"/admin/waves/{wave.id}/links",
        f"/admin/waves/{wave.id}/codes",
    ):
        assert client.get(url).status_code == 403, url
    for action in ("open", "extend", "close", "edit", "codes"):
        response = client.post(
            f"/admin/waves/{wave.id}/{action}",
            data={"csrf_token": token, "close-confirm": "y", "team": "team-a", "count": "5"},
        )
        assert response.status_code == 403, action
    assert fresh(wave).status is WaveStatus.OPEN
    assert codes_count() == 0


def test_anonymous_visitors_are_sent_to_log_in(client, tree, make_wave):
    wave = make_wave([tree["team-a"]])
    response = client.get(f"/admin/waves/{wave.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
