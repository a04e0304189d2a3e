"""Command-line verbs for waves: ``flask --app wsgi wave links|schedule``."""

from __future__ import annotations

from datetime import date, datetime

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy.orm import contains_eager

from survey.extensions import db
from survey.models import Account, Unit, Wave, WaveSchedule, WaveStatus, WaveTeam
from survey.services import recurrence
from survey.services.recurrence import ScheduledWave
from survey.web.schedule_mail import queue_schedule_mail

wave_cli = AppGroup("wave", help="Look at waves and the team links staff answer through.")


def _public_url() -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/")


def find_wave(wave_id: int) -> Wave:
    wave = db.session.get(Wave, wave_id)
    if wave is None:
        raise click.UsageError(f"There is no wave {wave_id}.")
    return wave


def _wave_heading(wave: Wave) -> str:
    return (
        f"Wave {wave.id}: {wave.name} "
        f"({wave.opens_on.isoformat()} to {wave.closes_on.isoformat()}, {wave.status})"
    )


def teams_of(wave: Wave) -> list[WaveTeam]:
    return db.session.scalars(
        sa.select(WaveTeam)
        .join(WaveTeam.unit)
        .where(WaveTeam.wave_id == wave.id)
        .order_by(Unit.name, Unit.slug)
        .options(contains_eager(WaveTeam.unit))
    ).all()


@wave_cli.command("links")
@click.option(
    "--wave", "wave_id", type=int, metavar="ID", help="Only this wave (default: every open wave)."
)
def links_command(wave_id: int | None) -> None:
    """Print the team links staff open to answer: team name, slug and link, one team a line.

    A wave set to access codes only has no working links; it says so instead.
    """
    if wave_id is not None:
        waves = [find_wave(wave_id)]
    else:
        waves = db.session.scalars(
            sa.select(Wave).where(Wave.status == WaveStatus.OPEN).order_by(Wave.opens_on, Wave.id)
        ).all()
        if not waves:
            click.echo("There are no open waves.")
            return
    for number, wave in enumerate(waves):
        if number:
            click.echo()
        click.echo(_wave_heading(wave))
        if wave.codes_only or wave.invitations:
            how = "personal invitations" if wave.invitations else "access codes only"
            click.echo(
                f"  This wave is set to {how}: its team links do not let anyone in.\n"
                f"  Issue codes with: flask --app wsgi codes issue --wave {wave.id} --team SLUG ..."
            )
            continue
        teams = teams_of(wave)
        if not teams:
            click.echo("  (no teams)")
            continue
        name_width = max(len(team.unit.name) for team in teams)
        slug_width = max(len(team.unit.slug) for team in teams)
        for team in teams:
            link = f"{_public_url()}/t/{team.link_slug}"
            click.echo(f"  {team.unit.name:<{name_width}}  {team.unit.slug:<{slug_width}}  {link}")


@wave_cli.command("schedule")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Run as on this day (default: today).",
)
def schedule_command(today: datetime | None) -> None:
    """Create and open the next wave of every schedule that is due, and tell its administrator
    by mail. Run it daily from cron; running it again, or on two machines, creates no wave twice.

    A wave whose teams are still in another open wave stays a draft; the output and the mail
    say which teams and waves.
    """
    day = today.date() if today else date.today()
    due = [
        (schedule.id, schedule.next_opens_on, recurrence.following_date(schedule, day))
        for schedule in recurrence.due_schedules(day)
    ]
    db.session.commit()  # each schedule is claimed in a transaction of its own
    if not due:
        click.echo(f"No schedule is due on {day.isoformat()}.")
        return
    for number, (schedule_id, due_on, following) in enumerate(due, start=1):
        prefix = f"[{number}/{len(due)}] Schedule {schedule_id}:"
        if not recurrence.claim(schedule_id, due_on, following):
            db.session.rollback()
            click.echo(f"{prefix} already done by another run.")
            continue
        schedule = db.session.get_one(WaveSchedule, schedule_id)
        with force_locale("en"):  # the command line speaks English
            outcome = recurrence.run_schedule(schedule, day)
        told = _tell_the_administrator(outcome)
        db.session.commit()
        click.echo(f"{prefix} {_said(outcome)}" + ("" if told else " (No administrator to tell.)"))


def _said(outcome: ScheduledWave) -> str:
    wave = outcome.wave
    if wave is not None and outcome.opened:
        return f"opened wave {wave.id} ({wave.name}) for {len(wave.teams)} teams."
    if wave is not None:
        return f"created wave {wave.id} ({wave.name}) but left it a draft: {outcome.problem}"
    return f"stopped: {outcome.problem}"


def _tell_the_administrator(outcome: ScheduledWave) -> bool:
    """Queue the mail to the schedule's administrator; False when there is none (any more)."""
    account_id = outcome.schedule.account_id
    account = db.session.get(Account, account_id) if account_id is not None else None
    if account is None or not account.active:
        return False
    queue_schedule_mail(outcome, account.email)
    return True
