"""Command-line verbs for respondents' unfinished answers: ``flask --app wsgi drafts purge``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from survey.extensions import db
from survey.services.responding import purge_expired_drafts

drafts_cli = AppGroup("drafts", help="Unfinished answers of respondents.")


@drafts_cli.command("purge")
def purge_drafts_command() -> None:
    """Delete the unfinished answers of waves that have closed (run it daily, e.g. from cron)."""
    deleted = purge_expired_drafts()
    db.session.commit()
    click.echo(f"Deleted {deleted} unfinished response(s) of closed waves.")
