"""Command-line verbs for the unit tree: ``flask --app wsgi units import`` and the teams'
staff lists, ``flask --app wsgi units staff-import``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from survey.extensions import db
from survey.services import staff_lists
from survey.services.staff_file import read_staff_upload
from survey.services.unit_csv import MAX_UPLOAD_BYTES, UploadError
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


@units_cli.command("staff-import")
@click.argument("staff_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Remove addresses of the file's teams not in it.")
@click.option("--yes", is_flag=True, help="Apply without asking.")
def staff_import_command(staff_file: Path, replace: bool, yes: bool) -> None:
    """Import teams' staff lists from a CSV or XLSX file with the columns team,email[,language].

    Shows per team what would change (counts only) and applies it after confirmation; nothing
    is imported when any row is refused.
    """
    with staff_file.open("rb") as file, force_locale("en"):  # the command line speaks English
        try:
            rows, problems, _read_as = read_staff_upload(file.read(MAX_UPLOAD_BYTES + 1))
        except UploadError as error:
            raise click.ClickException(f"{staff_file}: {error}") from None
        plan = staff_lists.plan_staff_import(rows, replace=replace)
        problems = sorted(problems + plan.problems, key=lambda problem: problem.line)
    for problem in problems:
        click.echo(f"{staff_file}:{problem.line}: {problem.message}", err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} row(s) refused; nothing was imported.")
    if not plan.rows:
        raise click.ClickException(f"{staff_file} has no addresses below its first row.")
    for change in plan.teams:
        click.echo(
            f"{change.unit.slug}: {len(change.added)} to add, {len(change.removed)} to remove, "
            f"{change.kept} kept, {len(change.relanguaged)} new language"
        )
    if not plan.changes:
        click.echo("Nothing to change: the lists already are as in the file.")
        return
    if not yes and not click.confirm("Apply these changes?"):
        raise click.ClickException("Nothing was imported.")
    staff_lists.apply_staff_import(
        plan, None, lambda done, total: click.echo(f"\rTeams: {done}/{total}", nl=False)
    )
    db.session.commit()
    click.echo(
        f"\n{plan.total('added')} address(es) added, {plan.total('removed')} removed, "
        f"for {len(plan.teams)} team(s)."
    )
