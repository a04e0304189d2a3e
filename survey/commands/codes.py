"""Command-line verbs for access codes: ``flask --app wsgi codes issue``."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from survey.commands.waves import find_wave, teams_of
from survey.extensions import db
from survey.models import Unit, Wave, WaveTeam
from survey.services.codes import MAX_CODES_PER_BATCH, CodeError, issue_codes
from survey.web.code_slips import SLIPS_PER_PAGE, codes_csv, slips_pdf

codes_cli = AppGroup("codes", help="Issue single-use access codes for a team in a wave.")

#: Above this many codes, issuing shows a progress bar.
PROGRESS_BAR_FROM = 50


@codes_cli.command("issue")
@click.option(
    "--wave", "wave_id", type=int, required=True, metavar="ID", help="The wave the codes open."
)
@click.option(
    "--team",
    "team_slug",
    required=True,
    metavar="SLUG",
    help="The team (its unit slug) whose staff get the codes.",
)
@click.option(
    "--count",
    type=click.IntRange(1, MAX_CODES_PER_BATCH),
    required=True,
    help=f"How many codes, 1 to {MAX_CODES_PER_BATCH}.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["csv", "pdf"]),
    required=True,
    help=f"csv: a column 'code'; pdf: A4 slips to cut out, {SLIPS_PER_PAGE} a page.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of standard output (a PDF needs it on a terminal).",
)
def issue_command(
    wave_id: int, team_slug: str, count: int, output_format: str, output: Path | None
) -> None:
    """Issue single-use access codes for one team in a wave.

    Only a hash of each code is stored, so the codes in this output can never be shown again:
    keep it safe until the codes are handed out, then delete it. A code is not linked to the
    answers given with it.
    """
    if output_format == "pdf" and output is None and sys.stdout.isatty():
        raise click.UsageError("A PDF is binary: give -o FILE.pdf.")
    wave = find_wave(wave_id)
    wave_team = _find_wave_team(wave, team_slug)
    with_bar = count > PROGRESS_BAR_FROM
    try:
        with _progress(with_bar, count, "Issuing codes") as progress:
            codes = issue_codes(wave_team, count, progress=progress)
    except CodeError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    if output_format == "csv":
        content = codes_csv(codes)
    else:
        pages = -(-count // SLIPS_PER_PAGE)
        with _progress(with_bar, pages, "Laying out the slips") as progress:
            content = slips_pdf(codes, wave_team, progress=progress)
    try:
        if output is None:
            sys.stdout.flush()
            sys.stdout.buffer.write(content)
            sys.stdout.buffer.flush()
        else:
            _write_for_owner_only(output, content)
    except OSError as error:
        db.session.rollback()
        raise click.ClickException(f"Could not write {output or 'the codes'}: {error}") from None
    db.session.commit()
    click.echo(
        f"Issued {count} code(s) for {wave_team.unit.name} in wave {wave.id} ({wave.name})"
        + (f", written to {output}." if output else "."),
        err=output is None,
    )


def _find_wave_team(wave: Wave, team_slug: str) -> WaveTeam:
    wave_team = db.session.scalar(
        sa.select(WaveTeam)
        .join(WaveTeam.unit)
        .where(WaveTeam.wave_id == wave.id, Unit.slug == team_slug)
    )
    if wave_team is not None:
        return wave_team
    slugs = ", ".join(team.unit.slug for team in teams_of(wave)) or "none"
    if db.session.scalar(sa.select(Unit.id).where(Unit.slug == team_slug)) is None:
        raise click.UsageError(
            f"There is no unit {team_slug!r}. The teams of wave {wave.id}: {slugs}."
        )
    raise click.UsageError(
        f"Team {team_slug!r} does not take part in wave {wave.id}. Its teams: {slugs}."
    )


@contextmanager
def _progress(shown: bool, length: int, label: str) -> Iterator[Callable[[Iterable], Iterator]]:
    """A ``progress`` wrapper for a service: a bar on standard error when ``shown``, else
    nothing (standard output may carry the codes themselves)."""
    if not shown:
        yield iter
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:

        def advancing(steps: Iterable) -> Iterator:
            for step in steps:
                yield step
                bar.update(1)

        yield advancing


def _write_for_owner_only(path: Path, content: bytes) -> None:
    """Unused codes let anyone answer: a new file is readable by its owner only."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
        file.write(content)
