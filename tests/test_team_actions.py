"""Actions that are followed up: the team records them and updates their status through its own
results link, managers read them, the audit log keeps every change without the visitor, and the
next waves' pages follow them up (open ones carry over) beside the change in their scale."""

import json
import re
from datetime import date
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import render_template
from flask_migrate import downgrade, upgrade

from survey.extensions import db
from survey.models import (
    ActionKind,
    ActionStatus,
    AuditEvent,
    Role,
    TeamAction,
    Wave,
    WaveStatus,
    WaveTeam,
)
from survey.services.audit import TEAM_LINK_ACTOR
from survey.services.team_actions import ActionCapReached, actions_of_teams, add_action
from tests.conftest import app_on, csrf_token, login
from tests.test_fuzz_forms import forms_on, fuzz
from tests.test_team_results import add_responses

#: Three ended waves with fixed dates (closed, so the day the tests run does not matter).
WAVES = {
    "spring": ("Voorjaar 2025", date(2025, 3, 3), date(2025, 3, 24)),
    "autumn": ("Najaar 2025", date(2025, 9, 1), date(2025, 9, 22)),
    "next": ("Voorjaar 2026", date(2026, 3, 2), date(2026, 3, 23)),
}


def answers(count: int, level: int) -> list[dict[str, object]]:
    """``count`` colleagues with A1 around ``level`` (A1.3 is reversed) and B1 around 4."""
    return [
        {
            "A1.1": level + number % 2,
            "A1.2": level,
            "A1.3": 6 - level,
            "B1.1": 4,
            "B1.2": 4,
            "B1.3": 4 + number % 2,
            "B1.4": 4,
        }
        for number in range(count)
    ]


def closed_wave(make_wave, units, key: str) -> Wave:
    """A closed wave of ``units`` with the fixed name and dates of ``WAVES[key]``."""
    name, opens_on, closes_on = WAVES[key]
    wave = make_wave(units, status=WaveStatus.CLOSED, name=name)
    wave.opens_on, wave.closes_on = opens_on, closes_on
    db.session.commit()
    return wave


def team_of(wave: Wave, slug: str) -> WaveTeam:
    return next(team for team in wave.teams if team.unit.slug == slug)


@pytest.fixture
def waves(tree, make_wave) -> dict[str, Wave]:
    """Team A and team C in spring and autumn 2025; team A's A1 rises clearly (8 answers
    each, past the spread threshold), team C stays below k in autumn."""
    units = [tree["team-a"], tree["team-c"]]
    made = {key: closed_wave(make_wave, units, key) for key in ("spring", "autumn")}
    add_responses(team_of(made["spring"], "team-a"), answers(8, 2))
    add_responses(team_of(made["autumn"], "team-a"), answers(8, 4))
    add_responses(team_of(made["spring"], "team-c"), answers(6, 3))
    add_responses(team_of(made["autumn"], "team-c"), answers(3, 3))
    return made


def link(team: WaveTeam) -> str:
    return f"/team/{team.results_slug}"


NEW_ACTION = {
    "new-scale_code": "A1",
    "new-kind": "try",
    "new-description": "Elk overleg begint met een krachtenverhaal.",
    "new-owner": "Teamcoach",
    "new-review_on": "2025-06-30",
}


#: The team page's forms have prefixes ("new-", "action-<id>-"), their CSRF fields too.
TOKEN = re.compile(r'<input[^>]*name="[^"]*csrf_token"[^>]*value="([^"]+)"')


def token_on(client, url: str) -> str:
    match = TOKEN.search(client.get(url).get_data(as_text=True))
    assert match, f"no form on {url}"
    return match.group(1)


def add(client, team: WaveTeam, **changes):
    token = token_on(client, link(team))
    data = {**NEW_ACTION, **changes}
    return client.post(f"{link(team)}/actions", data={"new-csrf_token": token, **data})


def update(client, team: WaveTeam, action_id: int, **fields):
    token = token_on(client, link(team))
    prefix = f"action-{action_id}-"
    data = {
        f"{prefix}csrf_token": token,
        **{f"{prefix}{name}": value for name, value in fields.items()},
    }
    return client.post(f"{link(team)}/actions/{action_id}", data=data)


def action(team: WaveTeam, description: str, status=ActionStatus.PLANNED, scale="A1") -> TeamAction:
    made = TeamAction(
        wave_team=team,
        kind=ActionKind.TRY,
        scale_code=scale,
        description=description,
        owner="Teamcoach",
        status=status,
    )
    db.session.add(made)
    db.session.commit()
    return made


def audit_rows() -> list[AuditEvent]:
    """The audit events about actions."""
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action.startswith("team_action."))
            .order_by(AuditEvent.id)
        )
    )


def test_the_team_records_an_action_through_its_link(client, waves):
    spring = team_of(waves["spring"], "team-a")
    assert "Actie vastleggen" in client.get(link(spring)).get_data(as_text=True)
    reply = add(client, spring)
    recorded = db.session.scalar(sa.select(TeamAction))
    assert reply.status_code == 302
    assert reply.headers["Location"].endswith(f"{link(spring)}#action-{recorded.id}")
    assert (recorded.scale_code, recorded.kind, recorded.owner) == (
        "A1",
        ActionKind.TRY,
        "Teamcoach",
    )
    assert recorded.review_on == date(2025, 6, 30) and recorded.status is ActionStatus.PLANNED
    assert recorded.created_by_id is None
    page = client.get(link(spring)).get_data(as_text=True)
    assert (
        "Elk overleg begint met een krachtenverhaal." in page and "De actie is vastgelegd." in page
    )
    assert "Gepland" in page and "A1 Focus op krachten" in page and "30 juni 2025" in page


def test_the_audit_log_records_every_change_without_the_visitor(app, waves):
    spring = team_of(waves["spring"], "team-a")
    visitor = app.test_client()
    visitor.environ_base["REMOTE_ADDR"] = "192.0.2.44"
    add(visitor, spring)
    recorded = db.session.scalar(sa.select(TeamAction))
    update(visitor, spring, recorded.id, status="under_way", status_note="Gestart", owner="Anna",
           review_on="2025-06-30")  # fmt: skip
    rows = audit_rows()
    assert [row.action for row in rows] == ["team_action.add", "team_action.update"]
    assert {(row.actor, row.account_id, row.target) for row in rows} == {
        (TEAM_LINK_ACTOR, None, f"team-a@{spring.wave_id}")
    }
    assert rows[1].details == {
        "action_id": recorded.id,
        "changes": {
            "status": ["planned", "under_way"],
            "status_note": [None, "Gestart"],
            "owner": ["Teamcoach", "Anna"],
        },
    }
    # Nothing of the visitor: no address, no link, no session cookie in any column.
    session_cookie = visitor.get_cookie("session")
    for row in rows:
        stored = json.dumps([row.actor, row.target, row.details], ensure_ascii=False)
        assert "192.0.2.44" not in stored and "127.0.0.1" not in stored
        assert spring.results_slug not in stored and spring.link_slug not in stored
        assert session_cookie is None or session_cookie.value not in stored
    # Sending the same values again changes nothing and records nothing.
    again = update(visitor, spring, recorded.id, status="under_way", status_note="Gestart",
                   owner="Anna", review_on="2025-06-30")  # fmt: skip
    assert again.status_code == 302 and len(audit_rows()) == 2


def test_bad_input_gets_clear_messages_and_records_nothing(client, waves):
    spring = team_of(waves["spring"], "team-a")
    empty = add(client, spring, **dict.fromkeys(NEW_ACTION, ""))
    assert empty.status_code == 422
    page = empty.get_data(as_text=True)
    for message in (
        "Kies de schaal waarover de actie gaat.",
        "Kies of het team dit blijft doen of het gaat proberen.",
        "Beschrijf de actie.",
        "Zeg wie het opneemt: een rol of een naam.",
        "Kies de dag waarop het team het opnieuw bekijkt.",
    ):
        assert message in page, message
    kept = add(client, spring, **{"new-owner": ""}).get_data(as_text=True)
    assert "Elk overleg begint met een krachtenverhaal." in kept  # what was typed stays
    for field, value, message in (
        ("new-scale_code", "Z9", "Ongeldige keuze."),
        ("new-kind", "stop", "Ongeldige keuze."),
        ("new-description", "x" * 501, "hoogstens 500 tekens"),
        ("new-owner", "x" * 121, "hoogstens 120 tekens"),
        ("new-review_on", "30-06-2025", "Typ een datum als jaar-maand-dag"),
        ("new-review_on", "2024-12-31", "Kies een datum van 3 maart 2025 tot 26 maart 2028."),
        ("new-review_on", "2031-01-01", "Kies een datum van 3 maart 2025 tot 26 maart 2028."),
    ):
        reply = add(client, spring, **{field: value})
        assert reply.status_code == 422, (field, value)
        assert message in reply.get_data(as_text=True), (field, value)
    recorded = action(spring, "Bestaat al")
    for fields in (
        {"status": "finished"},
        {"status": "done", "status_note": "x" * 301},
        {"status": "done", "review_on": "morgen"},
    ):
        reply = update(client, spring, recorded.id, **fields)
        assert reply.status_code == 422, fields
    assert "hoogstens 300 tekens" in update(
        client, spring, recorded.id, status="done", status_note="x" * 301
    ).get_data(as_text=True)
    db.session.refresh(recorded)
    assert recorded.status is ActionStatus.PLANNED
    assert db.session.scalar(sa.select(sa.func.count(TeamAction.id))) == 1 and audit_rows() == []


def test_the_team_link_keeps_three_actions_a_wave(client, waves):
    spring = team_of(waves["spring"], "team-a")
    for number in range(3):
        assert add(client, spring, **{"new-description": f"Actie {number}"}).status_code == 302
    page = client.get(link(spring)).get_data(as_text=True)
    assert "Actie 0" in page and "Actie 2" in page and "Actie vastleggen" not in page
    fourth = add(client, spring, **{"new-description": "Nog een"})
    assert fourth.status_code == 409
    assert "Het team heeft al 3 acties voor deze bevraging" in fourth.get_data(as_text=True)
    # the service counts again under the team's lock, for two last additions at once
    with pytest.raises(ActionCapReached):
        add_action(spring, scale_code="A1", kind=ActionKind.KEEP, description="x", owner="y",
                   review_on=None)  # fmt: skip
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(TeamAction.id))) == 3


def test_an_action_is_reached_only_through_its_own_teams_link(client, waves, tree, make_wave):
    spring_a, spring_c = team_of(waves["spring"], "team-a"), team_of(waves["spring"], "team-c")
    autumn_a = team_of(waves["autumn"], "team-a")
    ours, theirs = action(spring_a, "Van ons"), action(spring_c, "Van team C")
    later = action(autumn_a, "Van het najaar")
    # another team's action, an unknown one, a later wave's one through an earlier link
    for team, action_id in ((spring_a, theirs.id), (spring_a, 999_999), (spring_a, later.id)):
        assert update(client, team, action_id, status="done").status_code == 404
    token = token_on(client, link(spring_a))
    unknown = client.post("/team/not-a-real-link/actions", data={"new-csrf_token": token})
    assert unknown.status_code == 404
    assert update(client, spring_a, ours.id, status="done").status_code == 302
    # a wave that has not ended shows no form and takes no actions
    open_team = make_wave([tree["team-b"]]).teams[0]
    assert "Actie vastleggen" not in client.get(link(open_team)).get_data(as_text=True)
    early = client.post(f"{link(open_team)}/actions", data={"new-csrf_token": token, **NEW_ACTION})
    assert early.status_code == 409
    db.session.refresh(theirs)
    assert theirs.status is ActionStatus.PLANNED


def test_managers_read_the_actions_but_cannot_edit_them(client, waves, make_account, tree):
    autumn = team_of(waves["autumn"], "team-a")
    action(team_of(waves["spring"], "team-a"), "Uit het voorjaar", ActionStatus.UNDER_WAY)
    action(autumn, "Uit het najaar")
    make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    login(client, "lg@example.org")
    url = f"/dashboard/waves/{autumn.wave_id}/teams/team-a"
    page = client.get(url).get_data(as_text=True)
    assert "Uit het voorjaar" in page and "Uit het najaar" in page and "Bezig" in page
    assert "Teamcoach" in page and "via zijn eigen resultatenlink" in page
    assert "Actie vastleggen" not in page and "Status bijwerken" not in page
    assert f"{link(autumn)}/actions" not in page
    token = csrf_token(client, url)
    data = {"csrf_token": token, "kind": "keep", "description": "x"}
    assert client.post(f"{url}/actions", data=data).status_code in (404, 405)
    assert db.session.scalar(sa.select(sa.func.count(TeamAction.id))) == 2 and audit_rows() == []


def test_the_next_wave_follows_up_the_actions_beside_their_scales_change(client, waves):
    spring, autumn = team_of(waves["spring"], "team-a"), team_of(waves["autumn"], "team-a")
    kept = action(spring, "Krachtenanalyse bij elke intake", ActionStatus.UNDER_WAY)
    done = action(spring, "Supervisie plannen", ActionStatus.DONE, scale="B1")
    page = client.get(link(autumn)).get_data(as_text=True)
    followed = page[page.index("Opvolging") : page.index("Afgesproken voor deze bevraging")]
    assert "Krachtenanalyse bij elke intake" in followed and "Supervisie plannen" in followed
    assert "Bezig" in followed and "Klaar" in followed and "Afgesproken na" in followed
    assert "Deze schaal sinds Voorjaar 2025" in followed
    card = followed[followed.index("Krachtenanalyse") : followed.index("Supervisie")]
    assert "+2,0 (duidelijke stijging)" in card  # A1 rose from 2.17 to 4.17
    # the meeting guide looks back on them with their status
    guide = client.get(f"{link(autumn)}/guide").get_data(as_text=True)
    looking_back = guide[guide.index("Krachtenanalyse") - 300 : guide.index("Supervisie")]
    assert "Bezig" in looking_back and "(Teamcoach)" in looking_back
    # the open action is updated on the next wave's page; the done one is not offered
    assert f'action="/team/{autumn.results_slug}/actions/{kept.id}"' in page
    assert f"/actions/{done.id}" not in page
    assert update(client, autumn, done.id, status="planned").status_code == 404
    assert update(client, autumn, kept.id, status="done", status_note="Loopt").status_code == 302
    db.session.refresh(kept)
    assert kept.status is ActionStatus.DONE and kept.status_note == "Loopt"


def test_open_actions_carry_over_until_done_or_stopped(client, waves, tree, make_wave):
    spring, autumn = team_of(waves["spring"], "team-a"), team_of(waves["autumn"], "team-a")
    third = closed_wave(make_wave, [tree["team-a"]], "next").teams[0]
    still_open = action(spring, "Nog open", ActionStatus.PLANNED)
    finished = action(spring, "Afgerond", ActionStatus.DONE)
    stopped = action(spring, "Gestopt ermee", ActionStatus.STOPPED)
    of_autumn = action(autumn, "Van het najaar", ActionStatus.DONE)
    page = client.get(link(third)).get_data(as_text=True)
    # the previous wave's actions whatever their status; older ones only while open
    assert "Van het najaar" in page and "Nog open" in page
    assert "Afgerond" not in page and "Gestopt ermee" not in page
    assert update(client, third, finished.id, status="planned").status_code == 404
    assert update(client, third, stopped.id, status="planned").status_code == 404
    assert update(client, third, of_autumn.id, status="planned").status_code == 404
    assert update(client, third, still_open.id, status="stopped").status_code == 302
    assert "Nog open" not in client.get(link(third)).get_data(as_text=True)
    # its own wave still shows it, with its status
    assert "Gestopt" in client.get(link(spring)).get_data(as_text=True)


def test_a_team_below_k_sees_its_actions_but_no_figure(client, waves):
    action(team_of(waves["spring"], "team-c"), "Samen naar de vorming", ActionStatus.UNDER_WAY)
    autumn_c = team_of(waves["autumn"], "team-c")  # 3 answers: below k
    page = client.get(link(autumn_c)).get_data(as_text=True)
    assert "Minder dan 5 antwoorden" in page
    assert "Samen naar de vorming" in page and "niet getoond" in page
    assert not re.search(r"\d,\d", page)  # no mean and no change anywhere
    assert "duidelijke" not in page and "geen duidelijke verandering" not in page
    # the team can still plan
    assert add(client, autumn_c, **{"new-review_on": "2025-12-01"}).status_code == 302


def test_actions_of_a_set_of_teams_for_a_departments_overview(app, waves):
    spring_a, spring_c = team_of(waves["spring"], "team-a"), team_of(waves["spring"], "team-c")
    action(spring_a, "A: klaar", ActionStatus.DONE)
    action(team_of(waves["autumn"], "team-a"), "A: open")
    action(spring_c, "C: open", ActionStatus.UNDER_WAY, scale="B1")
    lists, scales = actions_of_teams([spring_a.unit_id, spring_c.unit_id])
    assert [(item.unit.slug, [a.description for a in item.actions]) for item in lists] == [
        ("team-a", ["A: open", "A: klaar"]),  # newest wave first
        ("team-c", ["C: open"]),
    ]
    assert {"A1", "B1"} <= set(scales)
    open_lists, _ = actions_of_teams([spring_a.unit_id], open_only=True)
    assert [a.description for item in open_lists for a in item.actions] == ["A: open"]
    with app.test_request_context():
        html = render_template(
            "results/_actions_overview.html", team_action_lists=lists, action_scales=scales
        )
        empty = render_template(
            "results/_actions_overview.html", team_action_lists=[], action_scales={}
        )
    assert "Team A" in html and "Team C" in html and "Klaar" in html and "Bezig" in html
    assert "B1 Psychologische veiligheid" in html and "Voorjaar 2025" in html
    assert "Geen van deze teams heeft al acties vastgelegd." in empty


class TestThrottle:
    @pytest.fixture
    def app(self, database_url):
        yield from app_on(
            database_url, RATELIMIT_ENABLED=True, TEAM_ACTION_LIMIT_PER_LINK="3 per hour"
        )

    def test_changes_through_one_team_link_are_throttled(self, app, waves):
        spring, autumn = team_of(waves["spring"], "team-a"), team_of(waves["autumn"], "team-a")
        recorded = action(spring, "Vaak bijgewerkt")
        client = app.test_client()
        statuses = ["under_way", "done", "planned", "stopped"]
        replies = [update(client, spring, recorded.id, status=status) for status in statuses]
        assert [reply.status_code for reply in replies] == [302, 302, 302, 429]
        assert len(audit_rows()) == 3
        # another team link is not affected
        assert add(client, autumn, **{"new-review_on": "2025-12-01"}).status_code == 302


def test_no_action_form_answers_500_to_hostile_input(client, waves):
    spring = team_of(waves["spring"], "team-a")
    action(spring, "Bestaat al")
    forms = {urlsplit(form.action).path: form for form in forms_on(client, link(spring))}
    assert len(forms) == 2  # the new action and the update of the one there is
    fuzz(client, forms, "/login", relogin=lambda: None)


def test_actions_recorded_before_the_follow_up_are_planned(app, waves):
    """Migration 0009 gives the actions that exist a status: planned."""
    spring = team_of(waves["spring"], "team-a")
    db.session.remove()
    downgrade(revision="0008")
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO team_actions (wave_team_id, kind, description, created_at) "
                "VALUES (:team, 'keep', 'Van voor de opvolging', :at)"
            ),
            {"team": spring.id, "at": date(2025, 4, 1)},
        )
    upgrade()
    old = db.session.scalar(sa.select(TeamAction))
    assert old.status is ActionStatus.PLANNED and old.description == "Van voor de opvolging"
    assert (old.scale_code, old.owner, old.review_on, old.status_note) == (None, None, None, None)


def test_a_wave_whose_answers_were_deleted_only_reads_its_actions(client, waves):
    spring, autumn = team_of(waves["spring"], "team-a"), team_of(waves["autumn"], "team-a")
    old = action(spring, "Uit een oude bevraging")
    waves["spring"].purged_on = date(2026, 1, 1)
    db.session.commit()
    page = client.get(link(spring)).get_data(as_text=True)
    assert "Uit een oude bevraging" in page
    assert "Actie vastleggen" not in page and "Status bijwerken" not in page
    assert "via zijn eigen resultatenlink" not in page  # that sentence is for managers
    token = token_on(client, link(autumn))
    data = {"new-csrf_token": token, **NEW_ACTION}
    assert client.post(f"{link(spring)}/actions", data=data).status_code == 409
    changes = {f"action-{old.id}-csrf_token": token, f"action-{old.id}-status": "done"}
    assert client.post(f"{link(spring)}/actions/{old.id}", data=changes).status_code == 409
    # still open, it is followed up on the next wave's page, and updated there
    assert update(client, autumn, old.id, status="done").status_code == 302
