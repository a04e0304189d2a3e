"""Restoring a backup, all or nothing: check the target database, insert every table's rows,
read every table back and compare it with the manifest, and only then commit."""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from survey.extensions import db
from survey.operations.backup.archive import (
    BATCH_ROWS,
    BackupError,
    Manifest,
    Progress,
    RowDigest,
    TableEntry,
    TableSummary,
    damaged,
    open_archive,
    read_lines,
    row_decoder,
    row_encoder,
)
from survey.operations.backup.database import (
    ALEMBIC_TABLE,
    code_revisions,
    database_errors,
    database_revision,
    driver_reason,
    portable_table,
    quote_name,
    select_all,
)


@dataclass(frozen=True)
class RestoreSummary:
    revision: str
    created_at: str
    source_database: str
    tables: list[TableSummary]
    #: The archive's schema is older than this code's: the database needs ``db upgrade``.
    behind_code: bool
    seconds: float

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


def restore_backup(
    path: Path, *, replace: bool = False, progress: Progress | None = None
) -> RestoreSummary:
    """Fill the app's database from the archive ``path``, all or nothing.

    The database must be at the archive's schema revision and hold no data, unless ``replace``,
    which deletes what it holds first (in the same transaction).
    """
    started = time.perf_counter()
    path = Path(path)
    progress = progress or (lambda step, table, done, total: None)
    if db.engine.dialect.name not in ("sqlite", "postgresql"):
        raise BackupError(f"Restoring into {db.engine.dialect.name} is not supported.")
    archive, manifest = open_archive(path)
    revisions = code_revisions()
    with archive:
        if manifest.revision not in revisions:
            raise BackupError(
                f"{path} was made at schema revision {manifest.revision}, which this version of "
                "Krachtspiegel does not know (is it newer?). Restore it with the version of "
                "Krachtspiegel that made it, or a later one."
            )
        with (
            database_errors(
                "The restore failed and nothing was restored (if the database is busy, stop the "
                "app first)"
            ),
            _restore_transaction(db.engine) as connection,
        ):
            _check_target(path, connection, manifest, revisions, replace)
            if replace:
                _empty_tables(connection, [table.name for table in manifest.tables])
            for entry in manifest.tables:
                _restore_table(path, archive, connection, entry, progress)
            for entry in manifest.tables:
                _verify_table(path, connection, entry, progress)
            _finish(connection, manifest)
    _tidy_up(db.engine, [entry.name for entry in manifest.tables])
    return RestoreSummary(
        revision=manifest.revision,
        created_at=manifest.created_at,
        source_database=manifest.source_database,
        tables=[TableSummary(entry.name, entry.rows) for entry in manifest.tables],
        behind_code=manifest.revision != revisions[-1],
        seconds=time.perf_counter() - started,
    )


@contextmanager
def _restore_transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction for the whole restore.

    SQLite enforces foreign keys row by row (ON DELETE RESTRICT even within one statement), so
    they are switched off for this connection, which is only allowed outside a transaction, and
    checked as a whole (``PRAGMA foreign_key_check``) before the commit. ``BEGIN IMMEDIATE``
    takes the write lock at once, so no other writer slips in between the checks and the rows.
    """
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            yield connection
        return
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        dbapi_connection = connection.connection.dbapi_connection
        connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                if dbapi_connection.in_transaction:
                    connection.exec_driver_sql("ROLLBACK")
                raise
            connection.exec_driver_sql("COMMIT")
        finally:
            connection.exec_driver_sql("PRAGMA foreign_keys = ON")


def _check_target(
    path: Path,
    connection: Connection,
    manifest: Manifest,
    revisions: list[str],
    replace: bool,
) -> None:
    revision = database_revision(connection)
    wanted = manifest.revision
    upgrade = "flask --app wsgi db upgrade" + ("" if wanted == revisions[-1] else f" {wanted}")
    if revision is None:
        raise BackupError(
            f"The database has no Krachtspiegel schema yet. Create it at the backup's schema "
            f"revision ({wanted}) first: {upgrade}"
        )
    if revision != wanted:
        if revision in revisions and revisions.index(revision) > revisions.index(wanted):
            command = f"flask --app wsgi db downgrade {wanted}"
        else:
            command = upgrade
        raise BackupError(
            f"The backup was made at schema revision {wanted}, but the database is at "
            f"{revision}. Restore into an empty database at revision {wanted}: {command}"
        )
    inspector = sa.inspect(connection)
    present = set(inspector.get_table_names()) - {ALEMBIC_TABLE}
    named = {entry.name for entry in manifest.tables}
    if present != named:
        differences = sorted(present ^ named)
        raise BackupError(
            f"The database's tables differ from the backup's ({', '.join(differences)}) although "
            f"both are at revision {wanted}; restore into a database made by "
            "flask --app wsgi db upgrade."
        )
    for entry in manifest.tables:
        columns = {column["name"] for column in inspector.get_columns(entry.name)}
        archived = {name for name, _ in entry.columns}
        if columns != archived:
            raise BackupError(
                f"The columns of table {entry.name} differ between the database and the backup "
                f"({', '.join(sorted(columns ^ archived))})."
            )
    if not replace:
        holding = [entry.name for entry in manifest.tables if _has_rows(connection, entry.name)]
        if holding:
            example = ", ".join(holding[:3]) + (", ..." if len(holding) > 3 else "")
            raise BackupError(
                f"The database already holds data ({len(holding)} tables have rows: {example}); "
                "nothing was restored. Use --replace to delete everything in it and restore the "
                "backup."
            )


def _has_rows(connection: Connection, name: str) -> bool:
    # The name is a table the database itself listed (checked in ``_check_target``), quoted.
    query = f"SELECT 1 FROM {quote_name(connection, name)} LIMIT 1"  # noqa: S608
    return connection.exec_driver_sql(query).first() is not None


def _empty_tables(connection: Connection, names: list[str]) -> None:
    """Delete every row, children first (SQLite's foreign keys are off for the restore)."""
    quoted = [quote_name(connection, name) for name in reversed(names)]
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"TRUNCATE {', '.join(quoted)}")
        return
    for name in quoted:
        connection.exec_driver_sql(f"DELETE FROM {name}")  # noqa: S608 (quoted, checked table)


def _restore_table(
    path: Path,
    archive: zipfile.ZipFile,
    connection: Connection,
    entry: TableEntry,
    progress: Progress,
) -> None:
    """Insert a table's rows as they are read (``_insert_rows``), checked against the
    manifest as they come (``_archived_rows``)."""
    progress("restored", entry.name, 0, entry.rows)
    rows = _archived_rows(path, archive, entry, connection.dialect.name, progress)
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        _insert_rows(connection, entry, rows)
    except driver_error as error:
        raise BackupError(
            f"The database refused a row of table {entry.name}: {driver_reason(error)}. "
            "Nothing was restored."
        ) from None
    progress("restored", entry.name, entry.rows, entry.rows)


def _archived_rows(
    path: Path, archive: zipfile.ZipFile, entry: TableEntry, dialect: str, progress: Progress
) -> Iterator[list]:
    """The values of a table's rows, in column order; a row that cannot be read, or a count
    that differs from the manifest, stops the restore."""
    decode = row_decoder([kind for _, kind in entry.columns], dialect)
    rows = 0
    for line in read_lines(path, archive, entry):
        rows += 1
        if rows > entry.rows:
            raise damaged(path, f"table {entry.name} has more rows than its manifest says")
        try:
            yield decode(line)
        except (ValueError, TypeError, OverflowError) as error:
            raise damaged(
                path, f"row {rows} of table {entry.name} cannot be read ({error})"
            ) from None
        if rows % BATCH_ROWS == 0:
            progress("restored", entry.name, rows, entry.rows)
    if rows != entry.rows:  # before the database checks what the missing rows leave behind
        raise damaged(path, f"table {entry.name} has fewer rows than its manifest says")


def _insert_rows(connection: Connection, entry: TableEntry, rows: Iterator[list]) -> None:
    """One COPY on PostgreSQL, executemany by batches on SQLite; both below SQLAlchemy's
    statement layer, which would cost more than the insert.

    One COPY also settles rows that refer to rows of their own table further on (units whose
    parent comes later): PostgreSQL checks foreign keys at the end of the statement.
    """
    columns = ", ".join(quote_name(connection, name) for name, _ in entry.columns)
    table = quote_name(connection, entry.name)
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for values in rows:
                copy.write_row(values)
        return
    marks = ", ".join("?" for _ in entry.columns)
    insert = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 (quoted)
    cursor = connection.connection.driver_connection.cursor()
    batch: list[list] = []
    for values in rows:
        batch.append(values)
        if len(batch) >= BATCH_ROWS:
            cursor.executemany(insert, batch)
            batch.clear()
    cursor.executemany(insert, batch)
    cursor.close()


def _verify_table(
    path: Path, connection: Connection, entry: TableEntry, progress: Progress
) -> None:
    """Read the table back and compare it with the manifest, before anything is committed:
    this proves that every value went in and reads back as it was written (a value SQLite took
    without complaint but that does not read back the same fails here)."""
    kinds = [kind for _, kind in entry.columns]
    table = portable_table(entry.name, entry.columns)
    encode = row_encoder(kinds)
    digest = RowDigest()
    progress("verified", entry.name, 0, entry.rows)
    try:
        with connection.execute(select_all(table, kinds)) as result:
            for batch in result.partitions():
                for row in batch:
                    digest.add(encode(row))
                progress("verified", entry.name, digest.rows, entry.rows)
    except (ValueError, TypeError, OverflowError) as error:
        raise BackupError(
            f"Table {entry.name} does not read back as it is in {path} ({error}). Nothing was "
            "restored."
        ) from None
    if digest.rows != entry.rows or digest.hexdigest() != entry.row_digest:
        raise BackupError(
            f"Table {entry.name} does not read back as it is in {path} ({digest.rows} of "
            f"{entry.rows} rows; the values differ). Nothing was restored."
        )
    progress("verified", entry.name, entry.rows, entry.rows)


def _finish(connection: Connection, manifest: Manifest) -> None:
    """PostgreSQL: move each serial/identity sequence past the restored ids, so that new rows do
    not collide. SQLite: check every foreign key, since they were off while rows went in."""
    if connection.dialect.name == "sqlite":
        problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if problems:
            table, _, parent, _ = problems[0]
            raise BackupError(
                f"{len(problems)} row(s) refer to rows that are missing (e.g. {table} → "
                f"{parent}). Nothing was restored."
            )
        return
    if connection.dialect.name != "postgresql":
        return
    for entry in manifest.tables:
        for name, kind in entry.columns:
            if kind != "integer":
                continue
            sequence = connection.execute(
                sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": quote_name(connection, entry.name), "column": name},
            ).scalar()
            if sequence is None:
                continue
            column = quote_name(connection, name)
            query = (
                f"SELECT setval(CAST(:sequence AS regclass), COALESCE(MAX({column}), 1), "  # noqa: S608
                f"MAX({column}) IS NOT NULL) FROM {quote_name(connection, entry.name)}"
            )
            connection.execute(sa.text(query), {"sequence": sequence})


def _tidy_up(engine: Engine, names: list[str]) -> None:
    """After the commit, what the database would otherwise do later by itself: PostgreSQL
    gathers planner statistics (autovacuum would, some time); SQLite moves the restored rows
    from its write-ahead log into the database file (the log would otherwise stay as large as
    the database until the next checkpoint). Should either fail, the restore stands."""
    with suppress(sa.exc.DBAPIError), engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if connection.dialect.name == "postgresql":
            quoted = ", ".join(quote_name(connection, name) for name in names)
            connection.exec_driver_sql(f"ANALYZE {quoted}")
        elif connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
