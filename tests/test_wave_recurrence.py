"""Issue 18, recurrence: "repeat this wave" (a new draft like it, with new dates), schedules
that create and open the next wave by themselves (``flask --app wsgi wave schedule``), and a
team never in two open waves at once.

The schedule runs with a fixed clock (``--today``); the waves it makes lie in 2031–2032 and
nothing compares them with the real date.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import click
import pytest
import sqlalchemy as sa

from survey.commands.waves import schedule_command
from survey.extensions import db
from survey.models import (
    AuditEvent,
    MailKind,
    OutgoingMail,
    Role,
    StaffMember,
    Wave,
    WaveSchedule,
    WaveStatus,
)
from survey.services import recurrence
from tests.conftest import csrf_token, login

TODAY = date.today()
DAY = date(2031, 1, 31)


@pytest.fixture
def admin(client, make_account):
    account = make_account("admin@example.org", Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302
    client.get("/language/en")
    return account


@pytest.fixture
def source(tree, make_wave) -> Wave:
    """A closed wave of department North (teams A and B) in invitation mode with reminders,
    team A expecting 9 staff, both teams with two addresses on their staff lists."""
    wave = make_wave([tree["north"]], status=WaveStatus.CLOSED, name="Pulse")
    wave.invitations = True
    wave.reminder_days = [7, 12]
    wave.last_day_reminder = True
    wave.teams[0].invited = 9
    for team in ("team-a", "team-b"):
        db.session.add_all(
            StaffMember(unit=tree[team], email=f"{person}@{team}.example.org")
            for person in ("an", "bo")
        )
    db.session.commit()
    return wave


def schedule_mails() -> sa.Select:
    return sa.select(OutgoingMail).where(OutgoingMail.kind == MailKind.SCHEDULE)


def invitation_mails() -> list[OutgoingMail]:
    query = sa.select(OutgoingMail).where(OutgoingMail.kind == MailKind.INVITATION)
    return db.session.scalars(query).all()


def make_schedule(source: Wave, admin, every_months: int = 3, open_days: int = 14):
    schedule = recurrence.create_schedule(
        source,
        name="Pulse",
        every_months=every_months,
        open_days=open_days,
        first_opens_on=DAY,
        actor=admin,
        today=DAY - timedelta(days=10),
    )
    db.session.commit()
    return schedule


def run(runner, day: date):
    result = runner.invoke(args=["wave", "schedule", "--today", day.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def waves_named(prefix: str) -> list[Wave]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(Wave).where(Wave.name.startswith(prefix)).order_by(Wave.id))
    )


def like_source(wave: Wave, source: Wave) -> None:
    assert wave.questionnaire_version_id == source.questionnaire_version_id
    assert wave.context == source.context
    assert [unit.slug for unit in wave.units] == [unit.slug for unit in source.units]
    assert (wave.codes_only, wave.invitations, wave.reminder_days, wave.last_day_reminder) == (
        False,
        True,
        [7, 12],
        True,
    )
    assert {team.unit.slug: team.invited for team in wave.teams} == {"team-a": 9, "team-b": 12}


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2031, 1, 31), 1, date(2031, 2, 28)),
        (date(2032, 1, 31), 1, date(2032, 2, 29)),
        (date(2031, 3, 31), 1, date(2031, 4, 30)),
        (date(2031, 11, 15), 3, date(2032, 2, 15)),
        (date(2031, 8, 31), 24, date(2033, 8, 31)),
    ],
)
def test_months_on_with_month_end_days_clamped(day, months, expected):
    assert recurrence.add_months(day, months) == expected


def test_a_pulse_every_three_months_opens_on_its_day_and_not_the_day_before(runner, admin, source):
    schedule = make_schedule(source, admin)
    assert "No schedule is due" in run(runner, DAY - timedelta(days=1))
    assert waves_named("Pulse (") == []

    output = run(runner, DAY)
    [wave] = waves_named("Pulse (")
    assert f"opened wave {wave.id}" in output
    assert wave.status is WaveStatus.OPEN and wave.state(DAY).value == "open"
    assert (wave.opens_on, wave.closes_on) == (DAY, date(2031, 2, 13))  # 14 days, 31 Jan counts
    like_source(wave, source)
    db.session.refresh(schedule)
    assert schedule.last_wave_id == wave.id
    assert schedule.next_opens_on == date(2031, 4, 30)  # 31 January + 3 months
    [mail] = db.session.scalars(schedule_mails()).all()
    assert (mail.kind, mail.recipient) == (MailKind.SCHEDULE, "admin@example.org")
    assert wave.name in mail.subject and wave.name in mail.text_body
    assert f"/admin/waves/{wave.id}" in mail.text_body
    # Opened in invitation mode like its source: each address on the staff lists is invited.
    assert sorted(mail.recipient for mail in invitation_mails()) == [
        "an@team-a.example.org",
        "an@team-b.example.org",
        "bo@team-a.example.org",
        "bo@team-b.example.org",
    ]


def test_running_twice_on_the_same_day_creates_one_wave(runner, admin, source):
    make_schedule(source, admin)
    run(runner, DAY)
    assert "No schedule is due" in run(runner, DAY)
    assert len(waves_named("Pulse (")) == 1
    # A second machine that read the schedule before the first moved its date claims nothing.
    schedule = db.session.scalars(sa.select(WaveSchedule)).one()
    assert not recurrence.claim(schedule.id, DAY, recurrence.add_months(DAY, 3))
    db.session.rollback()


def test_two_runs_at_once_create_one_wave(app, admin, source):
    """Two machines run the cron job at the same moment: one claims the schedule, the other
    finds its date already moved (on PostgreSQL it waits for the first to commit)."""
    make_schedule(source, admin)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run_once() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                with click.Context(schedule_command):
                    schedule_command.callback(today=datetime(2031, 1, 31))
            except BaseException as error:  # reported below, in the test's own thread
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and not any(thread.is_alive() for thread in threads)
    assert len(waves_named("Pulse (")) == 1
    assert len(db.session.scalars(schedule_mails()).all()) == 1


def test_a_team_still_in_an_open_wave_leaves_the_new_wave_a_draft(
    runner, admin, source, tree, make_wave
):
    make_schedule(source, admin)
    running = make_wave([tree["team-a"]], name="Still running")
    running.opens_on, running.closes_on = DAY - timedelta(days=10), DAY + timedelta(days=5)
    db.session.commit()

    output = run(runner, DAY)
    [wave] = waves_named("Pulse (")
    assert wave.status is WaveStatus.DRAFT
    assert "left it a draft" in output and "Still running" in output
    [mail] = db.session.scalars(schedule_mails()).all()
    assert "Still running" in mail.text_body and "Team A" in mail.text_body
    assert "draft" in mail.subject or "concept" in mail.subject
    # Its next date still moves on: the next run makes the next wave.
    assert db.session.scalars(sa.select(WaveSchedule)).one().next_opens_on == date(2031, 4, 30)


def test_a_monthly_schedule_from_31_january_next_opens_on_the_last_day_of_february(
    runner, admin, source
):
    schedule = make_schedule(source, admin, every_months=1, open_days=7)
    run(runner, DAY)
    db.session.refresh(schedule)
    assert schedule.next_opens_on == date(2031, 2, 28)
    # A run missed for months does not make up the waves it missed: one wave, then the future.
    run(runner, date(2031, 6, 3))
    db.session.refresh(schedule)
    assert [wave.opens_on for wave in waves_named("Pulse (")] == [DAY, date(2031, 6, 3)]
    assert schedule.next_opens_on == date(2031, 6, 28)


def test_a_schedule_with_the_longest_name_still_names_its_waves(runner, admin, source):
    schedule = make_schedule(source, admin)
    schedule.name = "P" * 200
    db.session.commit()
    assert "opened wave" in run(runner, DAY)
    [wave] = waves_named("PPP")
    assert len(wave.name) == 200 and wave.name.endswith(" (2031-01-31)")


def test_a_stopped_schedule_makes_no_wave(runner, admin, source):
    schedule = make_schedule(source, admin)
    recurrence.stop_schedule(schedule, admin)
    db.session.commit()
    assert "No schedule is due" in run(runner, DAY)


def test_the_command_refuses_a_date_it_cannot_read(runner):
    result = runner.invoke(args=["wave", "schedule", "--today", "31-01-2031"])
    assert result.exit_code != 0 and "Invalid value for '--today'" in result.output


# --- The administrator's pages ----------------------------------------------------------------


def test_repeat_this_wave_creates_a_draft_like_it(client, admin, source):
    url = f"/admin/waves/{source.id}/repeat"
    page = client.get(url).get_data(as_text=True)
    assert 'value="Pulse (repeat)"' in page
    opens = TODAY + timedelta(days=30)
    data = {
        "csrf_token": csrf_token(client, url),
        "name": "Pulse again",
        "opens_on": opens.isoformat(),
        "closes_on": (opens + timedelta(days=13)).isoformat(),
    }
    response = client.post(url, data=data)
    [wave] = waves_named("Pulse again")
    assert response.status_code == 302 and response.location.endswith(f"/admin/waves/{wave.id}")
    assert wave.status is WaveStatus.DRAFT and wave.opens_on == opens
    like_source(wave, source)
    assert db.session.scalars(sa.select(AuditEvent.action)).all()[-1] == "wave.repeat"

    bad = client.post(url, data={**data, "closes_on": (opens - timedelta(days=1)).isoformat()})
    assert bad.status_code == 422
    assert "The closing date cannot be before the opening date." in bad.get_data(as_text=True)


def test_repeat_on_a_schedule_then_stop_it(client, admin, source):
    url = f"/admin/waves/{source.id}/schedule"
    assert client.get(url).status_code == 200
    first = TODAY + timedelta(days=20)
    data = {
        "csrf_token": csrf_token(client, url),
        "name": "Quarterly pulse",
        "every_months": "3",
        "open_days": "14",
        "first_opens_on": first.isoformat(),
    }
    assert client.post(url, data={**data, "every_months": "0"}).status_code == 422
    past = {**data, "first_opens_on": (TODAY - timedelta(days=1)).isoformat()}
    refused = client.post(url, data=past)
    assert refused.status_code == 422
    assert "The first opening date has already passed." in refused.get_data(as_text=True)
    assert client.post(url, data=data).status_code == 302

    schedule = db.session.scalars(sa.select(WaveSchedule)).one()
    assert (schedule.last_wave_id, schedule.account_id) == (source.id, admin.id)
    assert (schedule.every_months, schedule.open_days, schedule.next_opens_on) == (3, 14, first)
    page = client.get("/admin/schedules").get_data(as_text=True)
    assert "Quarterly pulse" in page and 'data-schedule="' in page

    stop_url = f"/admin/schedules/{schedule.id}/stop"
    assert client.post(stop_url).status_code == 400  # no CSRF token
    token = csrf_token(client, "/admin/schedules")
    assert client.post(stop_url, data={"csrf_token": token}).status_code == 302
    db.session.refresh(schedule)
    assert not schedule.active
    assert "stopped" in client.get("/admin/schedules").get_data(as_text=True)
