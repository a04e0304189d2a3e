"""The backup archive's format: its constants, the column kinds and how a row becomes a line,
the digests that prove a table whole, and reading an archive's manifest and table files.

The format is described in ``survey.operations.backup``.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

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

#: (step, table, rows done, rows in the table); step is "backed up", "restored" or "verified".
Progress = Callable[[str, str, int, int], None]


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class TableSummary:
    name: str
    rows: int


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


def damaged(path: Path, why: str) -> BackupError:
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
        raise damaged(
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
        raise damaged(path, f"it has no {MANIFEST}") from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise damaged(path, f"its {MANIFEST} is implausibly large")
    try:
        data = json.loads(archive.read(MANIFEST))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
        raise damaged(path, f"its {MANIFEST} cannot be read") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise damaged(path, f"its {MANIFEST} does not describe a Krachtspiegel backup")
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise damaged(path, "its format version is missing")
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
        raise damaged(path, f"its {MANIFEST} is incomplete ({error})") from None
    names = [table.name for table in manifest.tables]
    if len(set(names)) != len(names):
        raise damaged(path, f"its {MANIFEST} names a table twice")
    for table in manifest.tables:
        if table.file not in archive.NameToInfo:
            raise damaged(path, f"the file of table {table.name} ({table.file}) is missing")
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


def read_lines(path: Path, archive: zipfile.ZipFile, entry: TableEntry) -> Iterator[bytes]:
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
                    raise damaged(path, f"table {entry.name} has an implausibly long row")
                yield from lines
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise damaged(path, f"the file of table {entry.name} is damaged ({error})") from None
    if pending:
        raise damaged(path, f"the file of table {entry.name} ends in the middle of a row")
    if checksum.hexdigest() != entry.sha256:
        raise damaged(
            path, f"the file of table {entry.name} does not match its checksum (changed?)"
        )
