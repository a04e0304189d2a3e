"""Reading a unit tree's CSV file of ``path,name[,kind][,staff]`` rows: an upload's bytes as
text, the text as rows, and every row that breaks the file's own rules as a ``Problem``.
What the rows would change in the tree is ``survey.services.unit_import``.

Messages are translated when they are made, in the locale in force (see ``survey.services``).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from survey.models import UnitKind
from survey.services.units import (
    MAX_STAFF,
    NAME_LENGTH,
    SLUG,
    SLUG_LENGTH,
    UnitError,
)

#: More rows than this: split the file (the preview stays readable, the import quick).
MAX_ROWS = 5_000
#: Characters in one value of the CSV file.
MAX_FIELD_LENGTH = 1_000
#: Bytes of an uploaded file; the confirm step sends the text back, within MAX_CONTENT_LENGTH.
MAX_UPLOAD_BYTES = 500_000
#: Characters no text file has (a binary file decoded as Windows-1252 is full of them).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

#: Column names, in English or Dutch.
COLUMNS = {
    "path": "path",
    "pad": "path",
    "name": "name",
    "naam": "name",
    "kind": "kind",
    "soort": "kind",
    "staff": "staff",
    "medewerkers": "staff",
}
#: The kind column, in English or Dutch.
KINDS = {
    "organisation": UnitKind.ORGANISATION,
    "organization": UnitKind.ORGANISATION,
    "organisatie": UnitKind.ORGANISATION,
    "department": UnitKind.DEPARTMENT,
    "afdeling": UnitKind.DEPARTMENT,
    "team": UnitKind.TEAM,
}


@dataclass(frozen=True)
class Problem:
    """Why a row of a CSV file (or the whole file, line 1) was refused."""

    line: int
    message: str

    def __str__(self) -> str:
        return self.message


class UploadError(UnitError):
    """An uploaded file that cannot be read as CSV text at all."""

    def __init__(self, message: str, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


@dataclass
class UnitRow:
    line: int
    path: list[str]
    name: str
    kind: UnitKind | None
    #: A team's number of staff; None when the column is absent or the cell empty.
    staff: int | None = None

    @property
    def slug(self) -> str:
        return self.path[-1]

    @property
    def parent_slug(self) -> str | None:
        return self.path[-2] if len(self.path) > 1 else None


def _too_large() -> UploadError:
    return UploadError(
        _(
            "The file is larger than %(size)d kB. Split it into smaller files.",
            size=MAX_UPLOAD_BYTES // 1000,
        ),
        too_large=True,
    )


def decode_upload(data: bytes) -> tuple[str, str]:
    """The text of an uploaded CSV file and the encoding it was read in ("utf-8" or "cp1252").

    UTF-8 (with or without the byte order mark Excel writes) is what we ask for; an Excel
    export in Windows-1252 is read as such, and the page says so. Anything else is refused.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_large()
    if not data.strip(b" \t\r\n"):
        raise UploadError(_("The file is empty."))
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise UploadError(
            _(
                "This is a spreadsheet workbook, not a CSV file. In Excel, choose Save as, "
                "then CSV UTF-8, and upload that file."
            )
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UploadError(
            _("This file is saved as UTF-16 text. Save it as CSV UTF-8 and upload it again.")
        )
    if b"\x00" in data:
        raise UploadError(_("This is not a text file. Upload a CSV file (comma or semicolon)."))
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            raise UploadError(
                _(
                    "The file is neither UTF-8 nor Windows-1252 text. Save it as CSV UTF-8 and "
                    "upload it again."
                )
            ) from None
    return check_csv_text(text), encoding


def check_csv_text(text: str) -> str:
    """``text`` with its line ends made plain, if it can be a CSV file at all."""
    text = text.removeprefix("\ufeff")
    if len(text.encode("utf-8")) > MAX_UPLOAD_BYTES * 2:
        raise _too_large()
    if not text.strip():
        raise UploadError(_("The file is empty."))
    if CONTROL_CHARACTERS.search(text):
        raise UploadError(_("This is not a text file. Upload a CSV file (comma or semicolon)."))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def csv_reader(text: str) -> Any:
    """A strict ``csv.reader`` of ``text``; the separator (comma or semicolon) is the one the
    first line has most of. Staff lists (``survey.services.staff_file``) read theirs with it."""
    text = text.removeprefix("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    return csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)


def read_unit_csv(text: str) -> tuple[list[UnitRow], list[Problem]]:
    """Parse the CSV (comma or semicolon, a header row with path and name, optionally kind)."""
    reader = csv_reader(text)
    try:
        header = next(reader, None)
    except csv.Error as error:
        return [], [Problem(1, _("not a readable CSV file: %(error)s", error=str(error)))]
    problems = _header_problems(header)
    if problems:
        return [], problems
    columns = [COLUMNS.get(name.strip().lower()) for name in header or []]
    rows: list[UnitRow] = []
    count = 0
    try:
        for record in reader:
            line = reader.line_num
            if not any(value.strip() for value in record):
                continue
            count += 1
            if count > MAX_ROWS:  # the whole file is refused, not its first rows' details
                return [], [
                    Problem(line, _("more than %(max)d rows; split the file", max=MAX_ROWS))
                ]
            row = _read_row(line, record, columns)
            if isinstance(row, Problem):
                problems.append(row)
            else:
                rows.append(row)
    except csv.Error as error:
        problems.append(
            Problem(reader.line_num, _("not a readable CSV file: %(error)s", error=str(error)))
        )
    return rows, problems


def _header_problems(header: list[str] | None) -> list[Problem]:
    names = [name.strip().lower() for name in header or []]
    known = [COLUMNS[name] for name in names if name in COLUMNS]
    if "path" not in known or "name" not in known:
        return [
            Problem(
                1, _("the first row must name the columns: path,name (and optionally kind, staff)")
            )
        ]
    unknown = [name for name in names if name and name not in COLUMNS]
    if unknown:
        return [
            Problem(
                1,
                _(
                    "unknown column(s) %(columns)s: the columns are path, name and optionally "
                    "kind and staff",
                    columns=", ".join(unknown),
                ),
            )
        ]
    twice = sorted({column for column in known if known.count(column) > 1})
    if twice:
        return [Problem(1, _("the column %(column)s appears twice", column=twice[0]))]
    return []


def _read_row(line: int, record: list[str], columns: list[str | None]) -> UnitRow | Problem:
    if any(value.strip() for value in record[len(columns) :]):
        return Problem(line, _("this row has more values than the first row has columns"))
    if any(len(value) > MAX_FIELD_LENGTH for value in record):
        return Problem(line, _("a value is longer than %(max)d characters", max=MAX_FIELD_LENGTH))
    values = {column: value.strip() for column, value in zip(columns, record, strict=False)}
    path_text = values.get("path", "").strip("/")
    name = values.get("name", "")
    kind_text = values.get("kind", "").lower()
    path = [part.strip() for part in path_text.split("/")]
    if not path_text or any(not SLUG.match(part) or len(part) > SLUG_LENGTH for part in path):
        return Problem(
            line,
            _(
                "path '%(path)s': each part must be a slug of lower-case letters, digits and "
                "hyphens (e.g. org/zorg-noord/team-a)",
                path=path_text,
            ),
        )
    if not name or len(name) > NAME_LENGTH:
        return Problem(line, _("name must be between 1 and 200 characters"))
    if kind_text and kind_text not in KINDS:
        return Problem(
            line, _("kind '%(kind)s' is unknown (organisation, department or team)", kind=kind_text)
        )
    staff_text = values.get("staff", "")
    staff = None
    if staff_text:
        if not re.fullmatch(r"[0-9]{1,6}", staff_text) or not 1 <= int(staff_text) <= MAX_STAFF:
            return Problem(
                line,
                _(
                    "staff '%(staff)s' must be a whole number from 1 to %(max)d",
                    staff=staff_text,
                    max=MAX_STAFF,
                ),
            )
        staff = int(staff_text)
    return UnitRow(line, path, name, KINDS[kind_text] if kind_text else None, staff)
