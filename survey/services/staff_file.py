"""Reading a staff list file: ``team,email[,language]`` rows from an uploaded CSV or XLSX file,
each address checked, every row that breaks the file's own rules a ``Problem``.
What the rows would change in the teams' lists is ``survey.services.staff_lists``.

A CSV file is decoded and split as the unit import does (``survey.services.unit_csv``); an
XLSX workbook is read with openpyxl after its zip archive has been checked (a bounded
uncompressed size, no DTD), so no file can exhaust memory or time.

Messages are translated when they are made, in the locale in force (see ``survey.services``).
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

import email_validator
from flask_babel import gettext as _

from reports.deferred import openpyxl
from survey.models.participation import EMAIL_LENGTH
from survey.services.unit_csv import (
    MAX_FIELD_LENGTH,
    MAX_UPLOAD_BYTES,
    Problem,
    UploadError,
    csv_reader,
    decode_upload,
)

#: More rows than this: split the file (one address a row: a large organisation fits).
MAX_ROWS = 10_000
#: The uncompressed bytes of an XLSX archive; the largest list allowed takes a few MB.
MAX_XLSX_UNCOMPRESSED = 25_000_000
#: Empty rows in a row after which the rest of a sheet is not read.
MAX_EMPTY_ROWS = 10_000
#: Files in an XLSX archive (a workbook of one sheet has about a dozen).
MAX_XLSX_MEMBERS = 200
#: The languages of staff mails, as the column may name them.
LANGUAGES = {
    "nl": "nl",
    "nederlands": "nl",
    "dutch": "nl",
    "en": "en",
    "engels": "en",
    "english": "en",
}
#: Column names, in English or Dutch.
COLUMNS = {
    "team": "team",
    "email": "email",
    "e-mail": "email",
    "mail": "email",
    "address": "email",
    "adres": "email",
    "e-mailadres": "email",
    "language": "language",
    "taal": "language",
}

ZIP_SIGNATURE = b"PK\x03\x04"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0"


@dataclass(frozen=True)
class StaffRow:
    """One address of the file: for ``team`` (a unit's short name or exact name)."""

    line: int
    team: str
    email: str
    #: "nl" or "en"; None when the file gives none (a new address gets the default).
    language: str | None


class StaffError(ValueError):
    """A staff list change that cannot be made, with the reason for the admin."""


def normalise_email(text: str) -> str:
    """The address as stored (lower case, its domain in ASCII), or ``StaffError`` why not.

    Only the form is checked: no DNS lookup (a test, an intranet and an offline server work)."""
    text = text.strip()
    if not text:
        raise StaffError(_("the address is empty"))
    if len(text) > EMAIL_LENGTH:
        raise StaffError(_("an address has at most %(max)d characters", max=EMAIL_LENGTH))
    try:
        checked = email_validator.validate_email(
            text, check_deliverability=False, allow_smtputf8=False
        )
    except email_validator.EmailNotValidError as error:
        raise StaffError(
            _("'%(email)s' is not a valid e-mail address: %(reason)s", email=text, reason=error)
        ) from None
    address = (checked.ascii_email or checked.normalized).lower()
    if len(address) > EMAIL_LENGTH:
        raise StaffError(_("an address has at most %(max)d characters", max=EMAIL_LENGTH))
    return address


def language_of(text: str) -> str | None:
    """The language code for the column's value (None: empty), or ``StaffError``."""
    text = text.strip().lower()
    if not text:
        return None
    if text not in LANGUAGES:
        raise StaffError(_("language '%(language)s' is unknown (nl or en)", language=text[:20]))
    return LANGUAGES[text]


def read_staff_upload(data: bytes) -> tuple[list[StaffRow], list[Problem], str]:
    """The rows and refused rows of an uploaded file, and how it was read ("utf-8", "cp1252"
    or "xlsx"); ``UploadError`` when the file cannot be read at all."""
    if len(data) > MAX_UPLOAD_BYTES:
        decode_upload(data)  # raises the unit import's "too large" message
    if data.startswith(OLE_SIGNATURE):
        raise UploadError(
            _(
                "This is an old Excel workbook (.xls). Save it as an Excel workbook (.xlsx) or "
                "as CSV UTF-8, and upload that file."
            )
        )
    if data.startswith(ZIP_SIGNATURE):
        return *read_records(_xlsx_records(data)), "xlsx"
    text, encoding = decode_upload(data)
    return *read_records(_csv_records(text)), encoding


class _Unreadable(Exception):
    """The rest of the file cannot be read; the problem says where."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv_reader(text)
    try:
        for record in reader:
            yield reader.line_num, record
    except csv.Error as error:
        raise _Unreadable(
            Problem(reader.line_num, _("not a readable CSV file: %(error)s", error=str(error)))
        ) from None


def _unreadable_workbook() -> UploadError:
    return UploadError(
        _(
            "This file cannot be read as an Excel workbook (.xlsx). Save it again in Excel, or "
            "as CSV UTF-8, and upload that file."
        )
    )


def _check_archive(data: bytes) -> None:
    """Refuse an archive that would unpack to too much, or whose XML declares entities."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_XLSX_MEMBERS or (
                sum(member.file_size for member in members) > MAX_XLSX_UNCOMPRESSED
            ):
                raise UploadError(_("This workbook unpacks to too much data. Save it as CSV."))
            for member in members:  # zipfile never unpacks more than the size it declares
                if b"<!DOCTYPE" in archive.read(member).upper():
                    raise _unreadable_workbook()
    except UploadError:
        raise
    except Exception:  # zipfile raises many kinds on a broken archive; all mean "unreadable"
        raise _unreadable_workbook() from None


def _xlsx_records(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """The rows of the workbook's first sheet as text, numbered as Excel numbers them."""
    _check_archive(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it does not know
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a file that is no workbook
        raise _unreadable_workbook() from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise _unreadable_workbook()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                records = _sheet_records(sheet)
        except Exception:
            raise _unreadable_workbook() from None
    finally:
        workbook.close()
    if not records:
        raise UploadError(_("The file is empty."))
    yield from records


def _sheet_records(sheet) -> list[tuple[int, list[str]]]:
    """The rows that are not empty, until one more than ``read_records`` accepts (it refuses
    the file then), or until a gap of ``MAX_EMPTY_ROWS`` empty rows (a sheet formatted down
    to its millionth row ends there)."""
    records: list[tuple[int, list[str]]] = []
    last = 0
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        record = [_cell_text(value) for value in values]
        if any(value.strip() for value in record):
            records.append((number, record))
            last = number
            if len(records) > MAX_ROWS + 1:  # the header, MAX_ROWS rows and one too many
                break
        elif number - last > MAX_EMPTY_ROWS:
            break
    return records


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def read_records(
    records: Iterable[tuple[int, list[str]]],
) -> tuple[list[StaffRow], list[Problem]]:
    """The file's rows below its header row (the first row that is not empty)."""
    rows: list[StaffRow] = []
    problems: list[Problem] = []
    columns: list[str | None] | None = None
    count = 0
    try:
        for line, record in records:
            if not any(value.strip() for value in record):
                continue
            if columns is None:
                header_problem = _header_problem(line, record)
                if header_problem:
                    return [], [header_problem]
                columns = [COLUMNS.get(name.strip().lower()) for name in record]
                continue
            count += 1
            if count > MAX_ROWS:  # the whole file is refused, not its first rows' details
                return [], [
                    Problem(line, _("more than %(max)d rows; split the file", max=MAX_ROWS))
                ]
            row = _read_row(line, record, columns)
            (problems if isinstance(row, Problem) else rows).append(row)
    except _Unreadable as error:
        problems.append(error.problem)
    return rows, problems


def _header_problem(line: int, header: list[str]) -> Problem | None:
    names = [name.strip().lower() for name in header]
    known = [COLUMNS[name] for name in names if name in COLUMNS]
    if "team" not in known or "email" not in known:
        return Problem(
            line, _("the first row must name the columns: team,email (and optionally language)")
        )
    unknown = [name[:40] for name in names if name and name not in COLUMNS]
    if unknown:
        return Problem(
            line,
            _(
                "unknown column(s) %(columns)s: the columns are team, email and optionally "
                "language",
                columns=", ".join(unknown),
            ),
        )
    twice = sorted({column for column in known if known.count(column) > 1})
    if twice:
        return Problem(line, _("the column %(column)s appears twice", column=twice[0]))
    return None


def _read_row(line: int, record: list[str], columns: list[str | None]) -> StaffRow | Problem:
    if any(value.strip() for value in record[len(columns) :]):
        return Problem(line, _("this row has more values than the first row has columns"))
    if any(len(value) > MAX_FIELD_LENGTH for value in record):
        return Problem(line, _("a value is longer than %(max)d characters", max=MAX_FIELD_LENGTH))
    values = {column: value.strip() for column, value in zip(columns, record, strict=False)}
    team = values.get("team", "")
    if not team:
        return Problem(line, _("the team is empty"))
    try:
        email = normalise_email(values.get("email", ""))
        language = language_of(values.get("language", ""))
    except StaffError as error:
        return Problem(line, str(error))
    return StaffRow(line, team, email, language)
