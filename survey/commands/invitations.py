"""Command-line verbs for personal invitations: ``flask --app wsgi invitations remind``."""

from __future__ import annotations

import sys
from datetime import date, datetime

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from survey.extensions import db
from survey.services import invitations, reminders

invitations_cli = AppGroup("invitations", help="Personal invitations and their reminders.")


def _day(_context: click.Context, _param: click.Parameter, value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 (a calendar day)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a day written as YYYY-MM-DD.") from None


def _progress(heading: str):
    """``heading: 120/300 reminders``, rewritten in place on a terminal only."""
    terminal = sys.stderr.isatty()

    def show(done: int, total: int) -> None:
        if terminal and done < total:
            sys.stderr.write(f"\r\x1b[K{heading}: {done}/{total} reminders")
            sys.stderr.flush()
        elif terminal:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()

    return show


@invitations_cli.command("remind")
@click.option(
    "--today",
    callback=_day,
    metavar="YYYY-MM-DD",
    help="The day to act for (default: today).",
)
def remind_command(today: date) -> None:
    """Send the reminder rounds that are due, and delete the invitations of ended waves.

    Run it daily (cron). Safe to run twice, and on two machines at once: each round is sent
    once. Reminders go only to invitations that have not been used and did not ask to stop;
    each gets a new personal link and a mail in the mail queue (``mail send`` sends it). Then
    every open wave's invitations are rewritten in random order, so that nothing stored follows
    the order in which people began.
    """
    with force_locale("en"):
        for wave in invitations.ended_waves_with_invitations(today):
            deleted, mails = invitations.forget_wave(wave)
            db.session.commit()
            click.echo(
                f"Wave {wave.id}: {wave.name}: ended; {deleted} invitation(s) and "
                f"{mails} queued mail(s) deleted"
            )
        _send_due_rounds(today)
        for wave in invitations.open_waves_with_invitations():
            count = invitations.rewrite_in_random_order(wave)
            db.session.commit()
            invitations.erase_deleted_rows()
            click.echo(f"Wave {wave.id}: {count} invitation(s) rewritten in random order")


def _send_due_rounds(today: date) -> None:
    due = reminders.due_rounds(today)
    if not due:
        click.echo("No reminder round is due.")
        return
    sent = 0
    for reminder in due:
        heading = f"Wave {reminder.wave_id}, round of {reminder.planned_on.isoformat()}"
        result = reminders.send_round(reminder, today, progress=_progress(heading))
        db.session.commit()
        if result is None:
            click.echo(f"{heading}: sent by another run")
        elif result.sent is None:
            click.echo(f"{heading}: skipped, the wave takes no answers any more")
        else:
            sent += result.sent
            click.echo(f"{heading}: {result.sent} reminder(s) queued")
    click.echo(f"{sent} reminder(s) queued in all.")
