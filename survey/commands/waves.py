"""Command-line verbs for waves: ``flask --app wsgi wave links``."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import contains_eager

from survey.extensions import db
from survey.models import Unit, Wave, WaveStatus, WaveTeam

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
