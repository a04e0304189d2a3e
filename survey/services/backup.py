"""Backups that any Krachtspiegel database can restore: one zip file, a manifest and one
JSON-lines file per table.

Why not ``pg_dump`` or a copy of the SQLite file: the archive does not depend on the database
that wrote it, so an organisation that began on the embedded SQLite database moves to
PostgreSQL by a backup and a restore; and a restore checks every row against the archive
before it commits, so a damaged or tampered file never half-replaces the data.

The archive (``FORMAT_VERSION`` 1)::

    manifest.json            format, format_version, created_at (UTC), alembic_revision,
                             source_database, and per table: name, file, columns
                             ([name, kind] in file order), rows, sha256 of the file,
                             row_digest (see ``RowDigest``)
    tables/01-accounts.jsonl one JSON array per line: a row's values in column order
    ...                      (tables in foreign-key order: parents before children)

Values are written by column *kind* (``KINDS``), so that they read back the same from SQLite and
PostgreSQL: uuids as text with hyphens, dates as ``YYYY-MM-DD``, times with a time zone as UTC
ISO 8601, JSON columns as the exact text the database holds (which also keeps SQL NULL apart
from JSON ``null``), floats as the shortest text that reads back as the same double.

A backup reads every table in one read-only transaction (a snapshot on PostgreSQL, a WAL
read transaction on SQLite), so responses that arrive meanwhile are either wholly in it or not
at all; it streams rows in batches, so memory stays flat however many answers there are. Rows
are written sorted by primary key, never in stored order (which follows the order of
submission: ``survey.services.shuffle``). It is
written to a hidden temporary file beside the target and renamed only when complete.

A restore needs a database migrated to the archive's Alembic revision; it works from the
manifest alone (no model classes), so an archive from an older schema is restored into a
database migrated to that revision, and ``db upgrade`` brings it up to date. It runs in one
transaction: check the revision and that the database is empty (or empty it, with
``replace``), insert the rows, compare every table's row count, file checksum and row digest
with the manifest (the digest recomputed from what the database now holds), reset the
PostgreSQL sequences, and only then commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy.engine import Connection, Engine

from survey.extensions import db
from survey.models.base import Base

FORMAT = "krachtspiegel-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: Rows fetched, written or inserted at a time: large enough to be fast, small enough that
#: memory stays flat whatever the size of the database.
BATCH_ROWS = 5_000
#: Bytes read from an archive member at a time.
CHUNK_BYTES = 1 << 20
#: A guard against hostile archives: no row line (nor the manifest) may be longer.
MAX_LINE_BYTES = 64 << 20
MAX_MANIFEST_BYTES = 16 << 20
ALEMBIC_TABLE = "alembic_version"

#: (step, table, rows done, rows in the table); step is "backed up", "restored" or "verified".
Progress = Callable[[str, str, int, int], None]


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


# --- column kinds -------------------------------------------------------------------------------


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive times (stored as UTC by the app), PostgreSQL aware ones."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Kind:
    """How values of one kind of column are read and written into the archive."""

    #: The SQLAlchemy type the portable table reads such a column with.
    sql_type: Callable[[], sa.types.TypeEngine]
    #: Value as read → JSON value (never called with None).
    encode: Callable[[Any], Any] | None = None
    #: Read as text (``CAST(... AS TEXT)``): exact, and much faster than parsing the value in
    #: Python only to write it out as text again.
    as_text: bool = False
    #: JSON value → the value SQLite holds, as SQLAlchemy's type would have written it
    #: (PostgreSQL parses the archive's text itself, see ``_copy_rows``).
    to_sqlite: Callable[[Any], Any] | None = None


def _hyphenated(value: str) -> str:
    """SQLite holds uuids as 32 hex digits, PostgreSQL shows them with hyphens."""
    if len(value) == 32:
        value = f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return value.lower()


def _sqlite_datetime(value: str) -> str:
    """SQLAlchemy's storage format for times on SQLite (UTC, always with microseconds)."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond:06d}"


def _sqlite_date(value: str) -> str:
    return date.fromisoformat(value).isoformat()


KINDS: dict[str, Kind] = {
    "integer": Kind(sa.BigInteger),
    "string": Kind(sa.Text),
    "boolean": Kind(sa.Boolean),
    "float": Kind(sa.Float),
    "uuid": Kind(
        sa.Text, encode=_hyphenated, as_text=True, to_sqlite=lambda value: value.replace("-", "")
    ),
    "date": Kind(sa.Date, encode=date.isoformat, to_sqlite=_sqlite_date),
    "datetime": Kind(sa.DateTime, encode=datetime.isoformat, to_sqlite=_sqlite_datetime),
    "datetime_tz": Kind(
        lambda: sa.DateTime(timezone=True),
        encode=lambda value: _utc(value).isoformat(),
        to_sqlite=_sqlite_datetime,
    ),
    "json": Kind(sa.Text, as_text=True),
}


def column_kind(column: sa.Column) -> str:
    """The kind of a model column; a type without one stops the backup (add it to KINDS)."""
    column_type = column.type
    checks: list[tuple[type, str]] = [
        (sa.Uuid, "uuid"),
        (sa.Boolean, "boolean"),
        (sa.JSON, "json"),
        (sa.Float, "float"),
        (sa.Integer, "integer"),
        (sa.Enum, "string"),
        (sa.String, "string"),
        (sa.Date, "date"),
    ]
    if isinstance(column_type, sa.DateTime):
        return "datetime_tz" if column_type.timezone else "datetime"
    for sql_type, kind in checks:
        if isinstance(column_type, sql_type):
            return kind
    raise BackupError(
        f"Column {column.table.name}.{column.name} has a type ({column_type!r}) that backups "
        "cannot write yet."
    )


def portable_table(name: str, columns: list[tuple[str, str]]) -> sa.Table:
    """A table described by kinds only, so that reading needs no model classes (a restore
    works from the manifest alone, whatever revision the code is at)."""
    sql_columns = [sa.Column(column, KINDS[kind].sql_type()) for column, kind in columns]
    return sa.Table(name, sa.MetaData(), *sql_columns)


def _select_all(table: sa.Table, kinds: list[str], order_by: Sequence[str] = ()) -> sa.Select:
    """Every row, as ``row_encoder`` expects it, streamed in batches (a server-side cursor on
    PostgreSQL; SQLite's cursor fetches as it goes anyway), sorted by the ``order_by`` columns."""
    columns = [
        sa.cast(column, sa.Text) if KINDS[kind].as_text else column
        for column, kind in zip(table.columns, kinds, strict=True)
    ]
    query = sa.select(*columns).order_by(*(table.c[name] for name in order_by))
    return query.execution_options(yield_per=BATCH_ROWS)


_JSON_LINE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_JSON_VALUES = json.JSONDecoder().decode


def row_encoder(kinds: list[str]) -> Callable[[Any], bytes]:
    """Row → one line of a table file (without its newline).

    Written for speed, since it runs once per answer: only the columns that need it are touched.
    """
    steps = [(index, KINDS[kind].encode) for index, kind in enumerate(kinds) if KINDS[kind].encode]

    def encode(row: Any) -> bytes:
        values = list(row)
        for index, encode_value in steps:
            value = values[index]
            if value is not None:
                values[index] = encode_value(value)
        return _JSON_LINE(values).encode()

    return encode


def row_decoder(kinds: list[str], dialect: str) -> Callable[[bytes], list]:
    """One line → the values to insert, in column order.

    Only the shape is checked here: the database parses the values (PostgreSQL) or the
    restore reads every table back and compares it with the manifest (both).
    """
    steps = []
    if dialect == "sqlite":
        steps = [
            (index, KINDS[kind].to_sqlite)
            for index, kind in enumerate(kinds)
            if KINDS[kind].to_sqlite
        ]
    width = len(kinds)

    def decode(line: bytes) -> list:
        values = _JSON_VALUES(line.decode())
        if type(values) is not list or len(values) != width:
            raise ValueError(f"expected a list of {width} values")
        for index, convert in steps:
            value = values[index]
            if value is not None:
                values[index] = convert(value)
        return values

    return decode


class RowDigest:
    """The sum of the rows' SHA-256 (of each line) modulo 2²⁵⁶: the same whatever order the
    rows come in, so a restore can recompute it from the tables it filled."""

    def __init__(self) -> None:
        self.total = 0
        self.rows = 0

    def add(self, line: bytes) -> None:
        self.total += int.from_bytes(hashlib.sha256(line).digest(), "big")
        self.rows += 1

    def hexdigest(self) -> str:
        return f"{self.total % (1 << 256):064x}"


# --- schema revisions ---------------------------------------------------------------------------


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


# --- backup -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableSummary:
    name: str
    rows: int


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    revision: str
    tables: list[TableSummary]
    size_bytes: int
    seconds: float

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


def _reason(error: BaseException) -> str:
    """The first line of a driver's error message (the rest repeats the SQL)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


@contextmanager
def _database_errors(what: str) -> Iterator[None]:
    """A database that is down, locked or refusing becomes a message, not a traceback."""
    try:
        yield
    except sa.exc.DBAPIError as error:
        raise BackupError(f"{what}: {_reason(error.orig or error)}") from None


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """One read-only transaction that sees the database as it was when it began.

    PostgreSQL: REPEATABLE READ takes its snapshot at the first query and keeps it. SQLite
    (WAL mode, see ``survey.extensions``): Python's sqlite3 begins no transaction for a SELECT,
    so each query would see the latest data; an explicit BEGIN holds one read snapshot while the
    app goes on writing.
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("BEGIN")
            try:
                yield connection
            finally:
                if connection.connection.dbapi_connection.in_transaction:
                    connection.exec_driver_sql("ROLLBACK")
        return
    with engine.connect() as connection:
        connection = connection.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        with connection.begin() as transaction:
            yield connection
            transaction.rollback()


def write_backup(
    path: Path, *, force: bool = False, progress: Progress | None = None
) -> BackupSummary:
    """Write every table of the app's database to the archive ``path``.

    Refuses to overwrite an existing file unless ``force``; a backup that fails leaves no file
    under ``path`` (it is written to a temporary file beside it and renamed when complete).
    """
    started = time.perf_counter()
    path = Path(path)
    if path.is_dir():
        raise BackupError(f"{path} is a directory; give the name of the backup file to write.")
    if path.exists() and not force:
        raise BackupError(f"{path} already exists; choose another name or use --force.")
    if not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist.")
    progress = progress or (lambda step, table, done, total: None)
    expected = code_revisions()[-1]

    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept open past this block, renamed)
        dir=path.parent, prefix=f".{path.name}.", suffix=".partial", delete=False
    )
    temporary = Path(handle.name)
    try:
        with (
            handle,
            _database_errors("The database could not be read"),
            read_snapshot(db.engine) as connection,
        ):
            revision = database_revision(connection)
            if revision != expected:
                raise BackupError(_backup_revision_problem(revision, expected))
            with zipfile.ZipFile(
                handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6
            ) as archive:
                tables = [
                    _write_table(archive, connection, number, table, progress)
                    for number, table in enumerate(Base.metadata.sorted_tables, start=1)
                ]
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "alembic_revision": revision,
                    "source_database": connection.dialect.name,
                    "tables": tables,
                }
                archive.writestr(MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))
            handle.flush()
            os.fsync(handle.fileno())
        _move_into_place(temporary, path, force)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return BackupSummary(
        path=path,
        revision=revision,
        tables=[TableSummary(table["name"], table["rows"]) for table in tables],
        size_bytes=path.stat().st_size,
        seconds=time.perf_counter() - started,
    )


def _backup_revision_problem(revision: str | None, expected: str) -> str:
    if revision is None:
        return (
            "The database has no Krachtspiegel schema (no Alembic revision): there is nothing to "
            "back up. Is DATABASE_URL right?"
        )
    return (
        f"The database is at schema revision {revision}, but this version of Krachtspiegel "
        f"expects {expected}. Back it up with the version of Krachtspiegel that matches it, or "
        "migrate it first: flask --app wsgi db upgrade"
    )


def _write_table(
    archive: zipfile.ZipFile,
    connection: Connection,
    number: int,
    model_table: sa.Table,
    progress: Progress,
) -> dict[str, Any]:
    name = model_table.name
    columns = [(column.name, column_kind(column)) for column in model_table.columns]
    kinds = [kind for _, kind in columns]
    table = portable_table(name, columns)
    total = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    encode = row_encoder(kinds)
    member = f"tables/{number:02d}-{name}.jsonl"
    checksum = hashlib.sha256()
    digest = RowDigest()
    progress("backed up", name, 0, total)
    info = zipfile.ZipInfo(member, date_time=time.localtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    # Rows sorted by their primary key, never in the order the database stores them: that
    # order follows the order of submission (rowid, ctid), and responses and answers are
    # rewritten under random ids precisely so that nothing does (survey.services.shuffle).
    key = [column.name for column in model_table.primary_key.columns]
    with (
        archive.open(info, "w", force_zip64=True) as output,
        connection.execute(_select_all(table, kinds, key)) as result,
    ):
        for batch in result.partitions():
            lines = [encode(row) for row in batch]
            for line in lines:
                digest.add(line)
            chunk = b"\n".join(lines) + b"\n"
            checksum.update(chunk)
            output.write(chunk)
            progress("backed up", name, digest.rows, total)
    if digest.rows != total:  # cannot happen inside one snapshot; a guard all the same
        raise BackupError(f"Table {name} changed while it was read; try again.")
    progress("backed up", name, total, total)
    return {
        "name": name,
        "file": member,
        "columns": [list(column) for column in columns],
        "rows": digest.rows,
        "sha256": checksum.hexdigest(),
        "row_digest": digest.hexdigest(),
    }


def _move_into_place(temporary: Path, path: Path, force: bool) -> None:
    """Rename the finished file; without ``force`` never replace a file that appeared since."""
    if force:
        os.replace(temporary, path)
        return
    try:
        os.link(temporary, path)  # fails if ``path`` exists, unlike a rename
    except FileExistsError:
        raise BackupError(f"{path} already exists; choose another name or use --force.") from None
    except OSError:  # a file system without hard links
        if path.exists():
            raise BackupError(
                f"{path} already exists; choose another name or use --force."
            ) from None
        os.replace(temporary, path)
        return
    temporary.unlink()


# --- reading an archive -------------------------------------------------------------------------


@dataclass
class TableEntry:
    name: str
    file: str
    columns: list[tuple[str, str]]
    rows: int
    sha256: str
    row_digest: str


@dataclass
class Manifest:
    created_at: str
    revision: str
    source_database: str
    tables: list[TableEntry] = field(default_factory=list)


def _damaged(path: Path, why: str) -> BackupError:
    return BackupError(f"{path} is not a usable Krachtspiegel backup: {why}.")


def open_archive(path: Path) -> tuple[zipfile.ZipFile, Manifest]:
    """Open ``path`` and check its manifest; the caller closes the zip file."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BackupError(f"{path} does not exist.") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a directory, not a backup file.") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise _damaged(
            path, "it is not a zip archive, or it is truncated (an incomplete copy?)"
        ) from None
    try:
        manifest = _read_manifest(path, archive)
    except BaseException:
        archive.close()
        raise
    return archive, manifest


def _read_manifest(path: Path, archive: zipfile.ZipFile) -> Manifest:
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        raise _damaged(path, f"it has no {MANIFEST}") from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise _damaged(path, f"its {MANIFEST} is implausibly large")
    try:
        data = json.loads(archive.read(MANIFEST))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
        raise _damaged(path, f"its {MANIFEST} cannot be read") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _damaged(path, f"its {MANIFEST} does not describe a Krachtspiegel backup")
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _damaged(path, "its format version is missing")
    if version != FORMAT_VERSION:
        raise BackupError(
            f"{path} has backup format version {version}; this version of Krachtspiegel reads "
            f"version {FORMAT_VERSION} only. Restore it with the version of Krachtspiegel that "
            "made it."
        )
    try:
        manifest = Manifest(
            created_at=str(data["created_at"]),
            revision=_text(data["alembic_revision"]),
            source_database=str(data.get("source_database", "")),
            tables=[_table_entry(entry) for entry in data["tables"]],
        )
    except (KeyError, TypeError, ValueError) as error:
        raise _damaged(path, f"its {MANIFEST} is incomplete ({error})") from None
    names = [table.name for table in manifest.tables]
    if len(set(names)) != len(names):
        raise _damaged(path, f"its {MANIFEST} names a table twice")
    for table in manifest.tables:
        if table.file not in archive.NameToInfo:
            raise _damaged(path, f"the file of table {table.name} ({table.file}) is missing")
    return manifest


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected text, got {value!r}")
    return value


def _table_entry(entry: dict[str, Any]) -> TableEntry:
    columns = [(_text(name), _text(kind)) for name, kind in entry["columns"]]
    unknown = sorted({kind for _, kind in columns} - set(KINDS))
    if unknown:
        raise ValueError(f"unknown column kind(s) {', '.join(unknown)}")
    rows = entry["rows"]
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        raise ValueError(f"bad row count {rows!r}")
    return TableEntry(
        name=_text(entry["name"]),
        file=_text(entry["file"]),
        columns=columns,
        rows=rows,
        sha256=_text(entry["sha256"]),
        row_digest=_text(entry["row_digest"]),
    )


def _read_lines(path: Path, archive: zipfile.ZipFile, entry: TableEntry) -> Iterator[bytes]:
    """The lines of a table's file, checked against the manifest's SHA-256 once all are read."""
    checksum = hashlib.sha256()
    pending = b""
    try:
        with archive.open(entry.file) as member:
            while chunk := member.read(CHUNK_BYTES):
                checksum.update(chunk)
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                if len(pending) > MAX_LINE_BYTES:
                    raise _damaged(path, f"table {entry.name} has an implausibly long row")
                yield from lines
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise _damaged(path, f"the file of table {entry.name} is damaged ({error})") from None
    if pending:
        raise _damaged(path, f"the file of table {entry.name} ends in the middle of a row")
    if checksum.hexdigest() != entry.sha256:
        raise _damaged(
            path, f"the file of table {entry.name} does not match its checksum (changed?)"
        )


# --- restore ------------------------------------------------------------------------------------


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
            _database_errors(
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


def _quoted(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def _has_rows(connection: Connection, name: str) -> bool:
    # The name is a table the database itself listed (checked in ``_check_target``), quoted.
    query = f"SELECT 1 FROM {_quoted(connection, name)} LIMIT 1"  # noqa: S608
    return connection.exec_driver_sql(query).first() is not None


def _empty_tables(connection: Connection, names: list[str]) -> None:
    """Delete every row, children first (SQLite's foreign keys are off for the restore)."""
    quoted = [_quoted(connection, name) for name in reversed(names)]
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
    """Insert a table's rows as they are read: one COPY on PostgreSQL, executemany by batches
    on SQLite; both below SQLAlchemy's statement layer, which would cost more than the insert.

    One COPY also settles rows that refer to rows of their own table further on (units whose
    parent comes later): PostgreSQL checks foreign keys at the end of the statement.
    """
    decode = row_decoder([kind for _, kind in entry.columns], connection.dialect.name)
    rows = 0

    def decoded() -> Iterator[list]:
        nonlocal rows
        for line in _read_lines(path, archive, entry):
            rows += 1
            if rows > entry.rows:
                raise _damaged(path, f"table {entry.name} has more rows than its manifest says")
            try:
                yield decode(line)
            except (ValueError, TypeError, OverflowError) as error:
                raise _damaged(
                    path, f"row {rows} of table {entry.name} cannot be read ({error})"
                ) from None
            if rows % BATCH_ROWS == 0:
                progress("restored", entry.name, rows, entry.rows)
        if rows != entry.rows:  # before the database checks what the missing rows leave behind
            raise _damaged(path, f"table {entry.name} has fewer rows than its manifest says")

    progress("restored", entry.name, 0, entry.rows)
    columns = ", ".join(_quoted(connection, name) for name, _ in entry.columns)
    table = _quoted(connection, entry.name)
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        if connection.dialect.name == "postgresql":
            cursor = connection.connection.driver_connection.cursor()
            with cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for values in decoded():
                    copy.write_row(values)
        else:
            marks = ", ".join("?" for _ in entry.columns)
            insert = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 (quoted)
            cursor = connection.connection.driver_connection.cursor()
            batch: list[list] = []
            for values in decoded():
                batch.append(values)
                if len(batch) >= BATCH_ROWS:
                    cursor.executemany(insert, batch)
                    batch.clear()
            cursor.executemany(insert, batch)
            cursor.close()
    except driver_error as error:
        raise BackupError(
            f"The database refused a row of table {entry.name}: {_reason(error)}. Nothing was "
            "restored."
        ) from None
    progress("restored", entry.name, entry.rows, entry.rows)


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
        with connection.execute(_select_all(table, kinds)) as result:
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
                {"table": _quoted(connection, entry.name), "column": name},
            ).scalar()
            if sequence is None:
                continue
            column = _quoted(connection, name)
            query = (
                f"SELECT setval(CAST(:sequence AS regclass), COALESCE(MAX({column}), 1), "  # noqa: S608
                f"MAX({column}) IS NOT NULL) FROM {_quoted(connection, entry.name)}"
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
            quoted = ", ".join(_quoted(connection, name) for name in names)
            connection.exec_driver_sql(f"ANALYZE {quoted}")
        elif connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
