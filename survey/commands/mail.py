"""Command-line verbs for e-mail: ``flask --app wsgi mail send|status|announce``.

``mail send`` and ``mail announce`` are meant for cron (every minute and once a day: see
docs/mail.md); both are safe to run on several machines at once.
"""

from __future__ import annotations

import os
import socket
from datetime import date

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from survey.extensions import db
from survey.models import MailKind, MailStatus
from survey.models.base import now_utc
from survey.services import mail, mail_queue
from survey.web.mails import announce_results

mail_cli = AppGroup("mail", help="Send the queued e-mail, and see what is in the queue.")

#: A progress line every so many messages (and one at the end).
PROGRESS_EVERY = 25


def sender_id() -> str:
    """Who holds a claim: this machine and process (for the operator reading the queue)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


@mail_cli.command("send")
@click.option(
    "--batch",
    type=click.IntRange(min=1, max=10_000),
    default=mail_queue.DEFAULT_BATCH,
    show_default=True,
    help="Send at most this many messages in this run.",
)
def send_command(batch: int) -> None:
    """Send the queued messages that are due (run it every minute from cron)."""
    if not mail.mail_configured():
        click.echo("No mail server is set (SMTP_HOST): nothing is sent.")
        return
    try:
        mail.sender()
        with force_locale("en"):
            report = mail_queue.send_due(
                now_utc(), sender_id=sender_id(), batch=batch, progress=_progress
            )
    except mail.MailConfigError as error:
        raise click.ClickException(f"Mail is not set up correctly: {error}.") from error
    if report.due == 0 and not report.lost:
        click.echo("Nothing to send.")
    else:
        click.echo(report.line())


def _progress(report: mail_queue.SendReport) -> None:
    done = report.sent + report.retry + report.failed
    if done % PROGRESS_EVERY == 0 and done < report.due:
        click.echo(report.line())


@mail_cli.command("status")
def status_command() -> None:
    """Show how many messages are queued, being sent, sent and failed, per kind."""
    status = mail_queue.queue_status()
    if not status.counts:
        click.echo("The mail queue is empty.")
        return
    kinds = list(MailKind)
    click.echo(f"{'':<10}" + "".join(f"{kind.value:>15}" for kind in kinds) + f"{'total':>8}")
    for state in MailStatus:
        counts = [status.counts.get((state, kind), 0) for kind in kinds]
        click.echo(f"{state.value:<10}" + "".join(f"{n:>15}" for n in counts) + f"{sum(counts):>8}")
    if status.oldest_queued is not None:
        click.echo(
            f"Oldest queued message: queued at {status.oldest_queued:%Y-%m-%d %H:%M} UTC; "
            f"next attempt from {status.next_attempt:%Y-%m-%d %H:%M} UTC."
        )
    if not mail.mail_configured():
        click.echo("No mail server is set (SMTP_HOST): nothing is sent.")


@mail_cli.command("announce")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Take this day as today (YYYY-MM-DD); for trying it out.",
)
def announce_command(today: object) -> None:
    """Tell the managers who asked for it that a wave's results are ready (run it daily)."""
    day = today.date() if today is not None else date.today()
    announced = announce_results(day)
    db.session.commit()
    if not announced:
        click.echo(f"No wave's results became ready for management by {day.isoformat()}.")
    for announcement in announced:
        click.echo(
            f"Wave {announcement.wave.id}: {announcement.wave.name}: "
            f"{announcement.told} mail(s) queued."
        )
