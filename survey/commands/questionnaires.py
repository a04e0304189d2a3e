"""Command-line verbs for questionnaire files:
``flask --app wsgi questionnaires validate|load|codebook``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

import questionnaires
from questionnaires import QuestionnaireError
from questionnaires.codebook import codebook_sheets, render_markdown
from reports.xlsx import workbook_bytes
from survey.extensions import db
from survey.services.questionnaires import VersionInUse, store_instrument

INSTRUMENT_DIR = Path(questionnaires.__file__).parent

questionnaires_cli = AppGroup("questionnaires", help="Validate and load questionnaire files.")


def _instrument_files(paths: tuple[Path, ...]) -> list[Path]:
    if not paths:
        paths = (INSTRUMENT_DIR,)
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    return files


PATHS = click.argument(
    "paths", nargs=-1, type=click.Path(exists=True, dir_okay=True, path_type=Path)
)


@questionnaires_cli.command("validate")
@PATHS
def validate_command(paths: tuple[Path, ...]) -> None:
    """Check questionnaire files (default: the instruments shipped in questionnaires/)."""
    files = _instrument_files(paths)
    failed = 0
    for file in files:
        problems = questionnaires.validate_file(file)
        if problems:
            failed += 1
            click.echo(f"{file}: {len(problems)} problem(s)", err=True)
            for problem in problems:
                click.echo(f"  {problem}", err=True)
        else:
            click.echo(f"{file}: valid")
    click.echo(f"{len(files) - failed} of {len(files)} file(s) valid.")
    if failed:
        sys.exit(1)


@questionnaires_cli.command("load")
@PATHS
def load_command(paths: tuple[Path, ...]) -> None:
    """Load questionnaire files into the database; unchanged files are left alone."""
    files = _instrument_files(paths)
    failed = 0
    for file in files:
        try:
            instrument = questionnaires.load_file(file)
            outcome = store_instrument(instrument, file.name)
        except QuestionnaireError as error:
            db.session.rollback()
            failed += 1
            click.echo(f"{file}: not loaded", err=True)
            for problem in error.problems:
                click.echo(f"  {problem}", err=True)
            continue
        except VersionInUse as error:
            db.session.rollback()
            failed += 1
            click.echo(f"refused: {error}", err=True)
            continue
        db.session.commit()
        click.echo(f"{file}: {outcome.status} ({outcome.version.label})")
    if not files:
        click.echo("No questionnaire files found.")
    if failed:
        sys.exit(1)


@questionnaires_cli.command("codebook")
@click.option(
    "--format", "output_format", type=click.Choice(["md", "xlsx"]), default="md", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of standard output.",
)
@PATHS
def codebook_command(output_format: str, output: Path | None, paths: tuple[Path, ...]) -> None:
    """Print the codebook of questionnaire files (default: the shipped instruments)."""
    try:
        instruments = [questionnaires.load_file(file) for file in _instrument_files(paths)]
    except QuestionnaireError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException("fix these problems first (see above)") from None
    if not instruments:
        raise click.ClickException("no questionnaire files found")
    if output_format == "md":
        content = render_markdown(instruments).encode()
    else:
        content = workbook_bytes(codebook_sheets(instruments))
        if output is None and sys.stdout.isatty():
            raise click.UsageError("an XLSX codebook is binary: give -o FILE.xlsx")
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(content)
        click.echo(f"Wrote the codebook of {len(instruments)} instrument(s) to {output}.")
