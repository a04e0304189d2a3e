"""Command-line verbs for the unit tree: ``flask --app wsgi units import``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from survey.extensions import db
from survey.services.unit_import import import_unit_tree

units_cli = AppGroup("units", help="Manage the unit tree.")


@units_cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_units_command(csv_file: Path) -> None:
    """Create or rename units from a CSV file with the columns path,name[,kind][,staff].

    path is the chain of slugs from the organisation down, e.g. ``org/zorg-noord/team-a``.
    Nothing is imported when any row is refused.
    """
    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{csv_file} is not a UTF-8 text file.") from None
    with force_locale("en"):  # the command line speaks English
        report = import_unit_tree(text)
    if report.rejected:
        db.session.rollback()
        for line, message in report.rejected:
            click.echo(f"{csv_file}:{line}: {message}", err=True)
        raise click.ClickException(f"{len(report.rejected)} row(s) refused; nothing was imported.")
    db.session.commit()
    click.echo(
        f"{len(report.created)} created, {len(report.renamed)} renamed, "
        f"{len(report.unchanged)} unchanged."
    )
    if report.restaffed:
        click.echo(f"{len(report.restaffed)} team(s) with a new number of staff.")
