"""What backing up and restoring need of the database: its schema revision and the code's,
tables read by column kind (without the model classes), and driver errors as messages."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy.engine import Connection

from survey.operations.backup.archive import BATCH_ROWS, KINDS, BackupError

ALEMBIC_TABLE = "alembic_version"


def portable_table(name: str, columns: list[tuple[str, str]]) -> sa.Table:
    """A table described by kinds only, so that reading needs no model classes (a restore
    works from the manifest alone, whatever revision the code is at)."""
    sql_columns = [sa.Column(column, KINDS[kind].sql_type()) for column, kind in columns]
    return sa.Table(name, sa.MetaData(), *sql_columns)


def select_all(table: sa.Table, kinds: list[str], order_by: Sequence[str] = ()) -> sa.Select:
    """Every row, as ``row_encoder`` expects it, streamed in batches (a server-side cursor on
    PostgreSQL; SQLite's cursor fetches as it goes anyway), sorted by the ``order_by`` columns."""
    columns = [
        sa.cast(column, sa.Text) if KINDS[kind].as_text else column
        for column, kind in zip(table.columns, kinds, strict=True)
    ]
    query = sa.select(*columns).order_by(*(table.c[name] for name in order_by))
    return query.execution_options(yield_per=BATCH_ROWS)


def code_revisions() -> list[str]:
    """The Alembic revisions this code knows, oldest first."""
    config = Config()
    config.set_main_option("script_location", str(current_app.extensions["migrate"].directory))
    script = ScriptDirectory.from_config(config)
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def database_revision(connection: Connection) -> str | None:
    """The revision the database was migrated to; None when it was never migrated."""
    if not sa.inspect(connection).has_table(ALEMBIC_TABLE):
        return None
    revisions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
    found = list(revisions)
    return found[0] if len(found) == 1 else None


def driver_reason(error: BaseException) -> str:
    """The first line of a driver's error message (the rest repeats the SQL)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


@contextmanager
def database_errors(what: str) -> Iterator[None]:
    """A database that is down, locked or refusing becomes a message, not a traceback."""
    try:
        yield
    except sa.exc.DBAPIError as error:
        raise BackupError(f"{what}: {driver_reason(error.orig or error)}") from None


def quote_name(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)
