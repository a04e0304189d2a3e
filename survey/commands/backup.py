"""Command-line verbs for backups: ``flask --app wsgi backup FILE`` and ``restore FILE``.

The archive format, and why it is not a database dump, is described in
``survey.operations.backup``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from survey.operations.backup.archive import BackupError
from survey.operations.backup.restoring import restore_backup
from survey.operations.backup.writing import write_backup


class TableProgress:
    """``answers: backed up 120000/1924550 rows`` on stderr: rewritten in place on a terminal
    (one line left per table), otherwise a line per table and per tenth of a large one (so logs
    stay short). The style of ``tests/benchmarks/generate.StderrProgress``."""

    def __init__(self, every: float = 0.25):
        self.every = every
        self.terminal = sys.stderr.isatty()
        self.shown_at = 0.0
        self.shown: tuple[str, str, int] | None = None

    def __call__(self, step: str, table: str, done: int, total: int) -> None:
        finished = done >= total
        line = f"{table}: {step} {done}/{total} rows"
        if self.terminal:
            now = time.monotonic()
            if finished and self.shown == (step, table, 10):
                return  # already shown as done
            if finished:
                self.shown = (step, table, 10)
            if finished or now - self.shown_at >= self.every:
                self.shown_at = now
                sys.stderr.write(f"\r\x1b[K{line}" + ("\n" if finished else ""))
                sys.stderr.flush()
            return
        # Off a terminal: one line per table when it is done, and each tenth of a large one.
        tenth = 10 if finished else done * 10 // max(total, 1)
        if (step, table, tenth) != self.shown and (finished or total >= 10_000):
            self.shown = (step, table, tenth)
            print(line, file=sys.stderr, flush=True)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite FILE when it exists.")
@with_appcontext
def backup_command(file: Path, force: bool) -> None:
    """Write every table of the database to FILE (a zip archive; e.g. krachtspiegel.zip).

    The backup is one consistent snapshot, taken while the app keeps running. It holds
    everything, password hashes included: keep it as safe as the database. Restore it with
    "flask --app wsgi restore FILE", into SQLite or PostgreSQL.
    """
    try:
        summary = write_backup(file, force=force, progress=TableProgress())
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Backed up {summary.rows} rows of {len(summary.tables)} tables (schema revision "
        f"{summary.revision}) to {summary.path} ({_megabytes(summary.size_bytes)}) "
        f"in {summary.seconds:.1f} s."
    )


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--replace",
    is_flag=True,
    help=(
        "Delete EVERYTHING in the database and put the backup in its place (one transaction: "
        "when the backup turns out bad, nothing is deleted)."
    ),
)
@with_appcontext
def restore_command(file: Path, replace: bool) -> None:
    """Fill the database from a backup FILE made by "flask --app wsgi backup".

    The database must be migrated to the backup's schema revision ("flask --app wsgi db
    upgrade") and empty, unless --replace. Every row is checked against the backup before
    anything is committed: when something is wrong, the database is left as it was. Stop the
    app while restoring.
    """
    try:
        summary = restore_backup(file, replace=replace, progress=TableProgress())
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Restored {summary.rows} rows of {len(summary.tables)} tables from {file} (made "
        f"{summary.created_at} from {summary.source_database}, schema revision "
        f"{summary.revision}) in {summary.seconds:.1f} s."
    )
    if summary.behind_code:
        click.echo(
            "The backup's schema is older than this version of Krachtspiegel: now run "
            "flask --app wsgi db upgrade"
        )
