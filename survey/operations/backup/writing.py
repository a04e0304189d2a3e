"""Writing a backup: every table, read in one snapshot, into a zip file that appears only
when it is complete."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from survey.extensions import db
from survey.models.base import Base
from survey.operations.backup.archive import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    BackupError,
    Progress,
    RowDigest,
    TableSummary,
    column_kind,
    row_encoder,
)
from survey.operations.backup.database import (
    code_revisions,
    database_errors,
    database_revision,
    portable_table,
    select_all,
)


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
    _check_target_file(path, force)
    progress = progress or (lambda step, table, done, total: None)
    expected = code_revisions()[-1]

    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept open past this block, renamed)
        dir=path.parent, prefix=f".{path.name}.", suffix=".partial", delete=False
    )
    temporary = Path(handle.name)
    try:
        with (
            handle,
            database_errors("The database could not be read"),
            read_snapshot(db.engine) as connection,
        ):
            revision = database_revision(connection)
            if revision != expected:
                raise BackupError(_backup_revision_problem(revision, expected))
            tables = _write_archive(handle, connection, revision, progress)
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


def _check_target_file(path: Path, force: bool) -> None:
    if path.is_dir():
        raise BackupError(f"{path} is a directory; give the name of the backup file to write.")
    if path.exists() and not force:
        raise BackupError(f"{path} already exists; choose another name or use --force.")
    if not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist.")


def _write_archive(
    handle: IO[bytes], connection: Connection, revision: str, progress: Progress
) -> list[dict[str, Any]]:
    """Every table's file, then the manifest that describes them; returns the tables' entries."""
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
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
    return tables


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
        connection.execute(select_all(table, kinds, key)) as result,
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
