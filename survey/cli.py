"""Command-line verbs: ``flask --app wsgi demo|questionnaires|users|units|drafts ...``.

Each has --help; the wave and codes commands live in ``survey.commands.waves``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup
from flask_babel import force_locale

import questionnaires
from questionnaires import QuestionnaireError
from questionnaires.codebook import COLUMNS, codebook_rows, render_markdown
from reports.xlsx import workbook_bytes
from survey.commands.anonymity import anonymity_cli
from survey.commands.backup import backup_command, restore_command
from survey.commands.retention import retention_cli
from survey.commands.waves import codes_cli, wave_cli
from survey.extensions import db
from survey.models import Account, Role, Unit
from survey.services.accounts import AccountError, create_account
from survey.services.demo import ACCOUNTS as DEMO_ACCOUNTS
from survey.services.demo import (
    DEMO_PASSWORD,
    build_demo,
    database_is_empty,
    delete_everything,
    demo_organisation,
)
from survey.services.questionnaires import VersionInUse, store_instrument
from survey.services.responding import purge_expired_drafts
from survey.services.unit_import import import_unit_tree

INSTRUMENT_DIR = Path(questionnaires.__file__).parent

questionnaires_cli = AppGroup("questionnaires", help="Validate and load questionnaire files.")
users_cli = AppGroup("users", help="Manage accounts.")
units_cli = AppGroup("units", help="Manage the unit tree.")
drafts_cli = AppGroup("drafts", help="Unfinished answers of respondents.")


def register(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(questionnaires_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(units_cli)
    app.cli.add_command(drafts_cli)
    app.cli.add_command(wave_cli)
    app.cli.add_command(codes_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(anonymity_cli)


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
        rows = [row.values() for row in codebook_rows(instruments)]
        content = workbook_bytes([("codebook", COLUMNS, rows)])
        if output is None and sys.stdout.isatty():
            raise click.UsageError("an XLSX codebook is binary: give -o FILE.xlsx")
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(content)
        click.echo(f"Wrote the codebook of {len(instruments)} instrument(s) to {output}.")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@users_cli.command("create")
@click.option("--email", required=True, help="The log-in e-mail address.")
@click.option(
    "--role", required=True, type=click.Choice([role.value for role in Role]), help="What they do."
)
@click.option(
    "--unit",
    "unit_slugs",
    multiple=True,
    metavar="SLUG",
    help="For a manager: a unit they may see, with everything below it (repeatable).",
)
def create_user_command(email: str, role: str, unit_slugs: tuple[str, ...]) -> None:
    """Create an account. The password is asked for, or read from standard input.

    It needs at least 12 characters, may not be one of the 20,000 most common passwords and may
    not contain the e-mail address's name (survey/passwords.py). To let someone choose their
    own password instead, invite them under Administration → Accounts.
    """
    units = db.session.scalars(sa.select(Unit).where(Unit.slug.in_(unit_slugs))).all()
    missing = sorted(set(unit_slugs) - {unit.slug for unit in units})
    if missing:
        raise click.UsageError(f"Unknown unit(s): {', '.join(missing)}.")
    password = _read_password()
    try:
        with force_locale("en"):  # the command line speaks English
            account = create_account(email, password, Role(role), units)
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Created {account.role} account {account.email}.")


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


@users_cli.command("list")
def list_users_command() -> None:
    """List the accounts with their role and, for managers, the units they see."""
    accounts = db.session.scalars(sa.select(Account).order_by(Account.role, Account.email)).all()
    if not accounts:
        click.echo(
            "There are no accounts yet. Create one with:\n"
            "  flask --app wsgi users create --email you@example.org --role admin"
        )
        return
    for account in accounts:
        scope = f"  sees: {', '.join(unit.slug for unit in account.scope)}" if account.scope else ""
        state = "" if account.active else "  (deactivated)"
        click.echo(f"{account.role.value:8} {account.email}{scope}{state}")


@click.command("demo")
@click.option("--seed", type=int, default=2026, show_default=True, help="Same seed, same answers.")
@click.option("--reset", is_flag=True, help="Delete EVERYTHING in the database first.")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Build only in an empty database; otherwise just print the demo log-ins (for make run).",
)
def demo_command(seed: int, reset: bool, if_empty: bool) -> None:
    """Build the demo organisation "Huis van Kracht vzw" with made-up responses."""
    if reset and if_empty:
        raise click.UsageError("--reset and --if-empty contradict each other.")
    if reset:
        delete_everything()
        db.session.commit()
    elif not database_is_empty():
        if if_empty:
            if demo_organisation() is not None:
                _print_demo_logins()
            return
        raise click.ClickException(
            "The database already holds data, so the demo was not built. "
            "Use --reset to delete everything and build the demo."
        )
    with click.progressbar(length=1, label="Building the demo organisation") as bar:

        def progress(steps):
            steps = list(steps)
            bar.length = len(steps)
            for step in steps:
                yield step
                bar.update(1)

        started = time.perf_counter()
        summary = build_demo(seed=seed, progress=progress)
        db.session.commit()
    click.echo(
        f"Built Huis van Kracht vzw: {summary.teams} teams, {summary.waves} waves, "
        f"{summary.responses} responses, {summary.answers} answers (seed {seed}) "
        f"in {time.perf_counter() - started:.1f} s."
    )
    _print_demo_logins()


def _print_demo_logins() -> None:
    click.echo("Demo log-ins (password for all: " + DEMO_PASSWORD + "):")
    for email, role, scope in DEMO_ACCOUNTS:
        sees = f" (sees {', '.join(scope)})" if scope else ""
        click.echo(f"  {role.value:8} {email}{sees}")


@drafts_cli.command("purge")
def purge_drafts_command() -> None:
    """Delete the unfinished answers of waves that have closed (run it daily, e.g. from cron)."""
    deleted = purge_expired_drafts()
    db.session.commit()
    click.echo(f"Deleted {deleted} unfinished response(s) of closed waves.")
