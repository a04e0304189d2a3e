"""The unit tree: importing it from a CSV file of ``path,name[,kind][,staff]`` rows, and the
administrator's acts on a single unit (create, rename, move, archive, restore).

The command line (``flask units import``) and the import page share one plan:
``plan_unit_import`` checks every row and says what would change, without writing anything;
``import_unit_tree`` makes the same plan and applies it only when no row was refused.

Messages are English with ``%(name)s`` values (what the command line prints); pages translate
them where they are shown (``Problem.translated``, ``UnitError.translated``).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext

from survey.extensions import db
from survey.models import Account, Unit, UnitKind, Wave, WaveStatus, WaveTeam
from survey.services import audit

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_LENGTH = 80
NAME_LENGTH = 200
#: More rows than this: split the file (the preview stays readable, the import quick).
MAX_ROWS = 5_000
#: Characters in one value of the CSV file.
MAX_FIELD_LENGTH = 1_000
#: Bytes of an uploaded file; the confirm step sends the text back, within MAX_CONTENT_LENGTH.
MAX_UPLOAD_BYTES = 500_000
#: The most staff a team can have; a larger number is a typing error.
MAX_STAFF = 10_000
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


def N_(message: str) -> str:
    """Marks ``message`` for the translation catalogue; it is translated where it is shown."""
    return message


class Translatable:
    """An English message with its values, printed as is or translated on a page."""

    message: str
    params: dict[str, Any]

    def __str__(self) -> str:
        return self.message % self.params if self.params else self.message

    def translated(self) -> str:
        return gettext(self.message, **self.params)


@dataclass(frozen=True, eq=False)
class Problem(Translatable):
    """Why a row of a CSV file (or the whole file, line 1) was refused."""

    line: int
    message: str
    params: dict[str, Any] = field(default_factory=dict)


class UnitError(Translatable, Exception):
    """An act on the unit tree that its rules do not allow."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class UploadError(UnitError):
    """An uploaded file that cannot be read as CSV text at all."""

    def __init__(self, message: str, too_large: bool = False, **params: Any) -> None:
        super().__init__(message, **params)
        self.too_large = too_large


# --- reading a CSV file ---------------------------------------------------------------------


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


def decode_upload(data: bytes) -> tuple[str, str]:
    """The text of an uploaded CSV file and the encoding it was read in ("utf-8" or "cp1252").

    UTF-8 (with or without the byte order mark Excel writes) is what we ask for; an Excel
    export in Windows-1252 is read as such, and the page says so. Anything else is refused.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(
            N_("The file is larger than %(size)d kB. Split it into smaller files."),
            too_large=True,
            size=MAX_UPLOAD_BYTES // 1000,
        )
    if not data.strip(b" \t\r\n"):
        raise UploadError(N_("The file is empty."))
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise UploadError(
            N_(
                "This is a spreadsheet workbook, not a CSV file. In Excel, choose Save as, "
                "then CSV UTF-8, and upload that file."
            )
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UploadError(
            N_("This file is saved as UTF-16 text. Save it as CSV UTF-8 and upload it again.")
        )
    if b"\x00" in data:
        raise UploadError(N_("This is not a text file. Upload a CSV file (comma or semicolon)."))
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            raise UploadError(
                N_(
                    "The file is neither UTF-8 nor Windows-1252 text. Save it as CSV UTF-8 and "
                    "upload it again."
                )
            ) from None
    return check_csv_text(text), encoding


def check_csv_text(text: str) -> str:
    """``text`` with its line ends made plain, if it can be a CSV file at all."""
    text = text.removeprefix("\ufeff")
    if len(text.encode("utf-8")) > MAX_UPLOAD_BYTES * 2:
        raise UploadError(
            N_("The file is larger than %(size)d kB. Split it into smaller files."),
            too_large=True,
            size=MAX_UPLOAD_BYTES // 1000,
        )
    if not text.strip():
        raise UploadError(N_("The file is empty."))
    if CONTROL_CHARACTERS.search(text):
        raise UploadError(N_("This is not a text file. Upload a CSV file (comma or semicolon)."))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_unit_csv(text: str) -> tuple[list[UnitRow], list[Problem]]:
    """Parse the CSV (comma or semicolon, a header row with path and name, optionally kind)."""
    text = text.removeprefix("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        return [], [Problem(1, N_("not a readable CSV file: %(error)s"), {"error": str(error)})]
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
                    Problem(line, N_("more than %(max)d rows; split the file"), {"max": MAX_ROWS})
                ]
            row = _read_row(line, record, columns)
            if isinstance(row, Problem):
                problems.append(row)
            else:
                rows.append(row)
    except csv.Error as error:
        problems.append(
            Problem(
                reader.line_num, N_("not a readable CSV file: %(error)s"), {"error": str(error)}
            )
        )
    return rows, problems


def _header_problems(header: list[str] | None) -> list[Problem]:
    names = [name.strip().lower() for name in header or []]
    known = [COLUMNS[name] for name in names if name in COLUMNS]
    if "path" not in known or "name" not in known:
        return [
            Problem(
                1,
                N_("the first row must name the columns: path,name (and optionally kind, staff)"),
            )
        ]
    unknown = [name for name in names if name and name not in COLUMNS]
    if unknown:
        return [
            Problem(
                1,
                N_(
                    "unknown column(s) %(columns)s: the columns are path, name and optionally "
                    "kind and staff"
                ),
                {"columns": ", ".join(unknown)},
            )
        ]
    twice = sorted({column for column in known if known.count(column) > 1})
    if twice:
        return [Problem(1, N_("the column %(column)s appears twice"), {"column": twice[0]})]
    return []


def _read_row(line: int, record: list[str], columns: list[str | None]) -> UnitRow | Problem:
    if any(value.strip() for value in record[len(columns) :]):
        return Problem(line, N_("this row has more values than the first row has columns"))
    if any(len(value) > MAX_FIELD_LENGTH for value in record):
        return Problem(
            line, N_("a value is longer than %(max)d characters"), {"max": MAX_FIELD_LENGTH}
        )
    values = {column: value.strip() for column, value in zip(columns, record, strict=False)}
    path_text = values.get("path", "").strip("/")
    name = values.get("name", "")
    kind_text = values.get("kind", "").lower()
    path = [part.strip() for part in path_text.split("/")]
    if not path_text or any(not SLUG.match(part) or len(part) > SLUG_LENGTH for part in path):
        return Problem(
            line,
            N_(
                "path '%(path)s': each part must be a slug of lower-case letters, digits and "
                "hyphens (e.g. org/zorg-noord/team-a)"
            ),
            {"path": path_text},
        )
    if not name or len(name) > NAME_LENGTH:
        return Problem(line, N_("name must be between 1 and 200 characters"))
    if kind_text and kind_text not in KINDS:
        return Problem(
            line,
            N_("kind '%(kind)s' is unknown (organisation, department or team)"),
            {"kind": kind_text},
        )
    staff_text = values.get("staff", "")
    staff = None
    if staff_text:
        if not re.fullmatch(r"[0-9]{1,6}", staff_text) or not 1 <= int(staff_text) <= MAX_STAFF:
            return Problem(
                line,
                N_("staff '%(staff)s' must be a whole number from 1 to %(max)d"),
                {"staff": staff_text, "max": MAX_STAFF},
            )
        staff = int(staff_text)
    return UnitRow(line, path, name, KINDS[kind_text] if kind_text else None, staff)


# --- planning and applying an import --------------------------------------------------------


@dataclass
class PlannedUnit:
    """A unit an import creates or renames."""

    line: int
    slug: str
    name: str
    kind: UnitKind
    parent_slug: str | None
    #: For a rename: the name the unit has now.
    old_name: str | None = None
    #: A team's number of staff from the file (None: not given, an existing value stays).
    staff: int | None = None
    #: For a change of staff: the number the unit has now.
    old_staff: int | None = None


@dataclass
class ImportReport:
    to_create: list[PlannedUnit] = field(default_factory=list)
    to_rename: list[PlannedUnit] = field(default_factory=list)
    #: Existing teams whose number of staff changes (a rename may be in ``to_rename`` too).
    to_restaff: list[PlannedUnit] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: Every refused row; when there is any, nothing is imported.
    problems: list[Problem] = field(default_factory=list)
    #: Whether the changes were made (False for a plan, or when a row was refused).
    applied: bool = False

    @property
    def created(self) -> list[str]:
        return [unit.slug for unit in self.to_create]

    @property
    def renamed(self) -> list[str]:
        return [unit.slug for unit in self.to_rename]

    @property
    def restaffed(self) -> list[str]:
        return [unit.slug for unit in self.to_restaff]

    @property
    def rejected(self) -> list[tuple[int, str]]:
        """(line number, message) for each refused row, in English."""
        return [(problem.line, str(problem)) for problem in self.problems]

    @property
    def rows(self) -> int:
        return len(self.to_create) + len(self.to_rename) + len(self.unchanged)


def plan_unit_import(text: str) -> ImportReport:
    """What importing ``text`` would create and rename, and every row it refuses; no writes."""
    rows, problems = read_unit_csv(text)
    report = ImportReport(problems=problems)
    existing = {unit.slug: unit for unit in db.session.scalars(sa.select(Unit))}
    in_file: dict[str, UnitRow] = {}
    for row in rows:
        if row.slug in in_file:
            report.problems.append(
                Problem(
                    row.line,
                    N_("'%(slug)s' appears twice (first on line %(line)d)"),
                    {"slug": row.slug, "line": in_file[row.slug].line},
                )
            )
            continue
        in_file[row.slug] = row
    plan = _Plan(existing, in_file)
    for row in in_file.values():
        problem = plan.problem(row)
        if problem is not None:
            report.problems.append(problem)
    report.problems.sort(key=lambda problem: (problem.line, str(problem)))
    if report.problems:
        return report
    for row in sorted(in_file.values(), key=lambda r: (len(r.path), r.line)):
        unit = existing.get(row.slug)
        planned = PlannedUnit(
            row.line, row.slug, row.name, plan.kind_of(row), row.parent_slug, staff=row.staff
        )
        if unit is None:
            report.to_create.append(planned)
            continue
        renamed = unit.name != row.name
        restaffed = row.staff is not None and unit.staff != row.staff
        if renamed:
            planned.old_name = unit.name
            report.to_rename.append(planned)
        if restaffed:
            planned.old_staff = unit.staff
            report.to_restaff.append(planned)
        if not renamed and not restaffed:
            report.unchanged.append(row.slug)
    return report


class _Plan:
    """The tree as it would be after an import: the database's units and the file's rows."""

    def __init__(self, existing: dict[str, Unit], in_file: dict[str, UnitRow]) -> None:
        self.existing = existing
        self.in_file = in_file
        self.parents_in_file = {row.parent_slug for row in in_file.values() if row.parent_slug}
        self.by_id = {unit.id: unit for unit in existing.values()}

    def kind_of(self, row: UnitRow) -> UnitKind:
        if row.slug in self.existing:
            return self.existing[row.slug].kind
        if row.kind:
            return row.kind
        if row.parent_slug is None:
            return UnitKind.ORGANISATION
        return UnitKind.DEPARTMENT if row.slug in self.parents_in_file else UnitKind.TEAM

    def kind_of_slug(self, slug: str) -> UnitKind:
        return (
            self.kind_of(self.in_file[slug]) if slug in self.in_file else self.existing[slug].kind
        )

    def path_of(self, slug: str) -> list[str]:
        if slug in self.in_file:
            return self.in_file[slug].path
        chain = [self.existing[slug]]
        while chain[-1].parent_id is not None:
            chain.append(self.by_id[chain[-1].parent_id])
        return [unit.slug for unit in reversed(chain)]

    def problem(self, row: UnitRow) -> Problem | None:
        """The first rule ``row`` breaks, if any."""
        unit = self.existing.get(row.slug)
        parent = row.parent_slug
        kind = self.kind_of(row)
        if unit is not None and row.kind and row.kind is not unit.kind:
            return Problem(
                row.line,
                N_("'%(slug)s' exists as a %(kind)s; an import cannot change the kind of a unit"),
                {"slug": row.slug, "kind": unit.kind.value},
            )
        if (kind is UnitKind.ORGANISATION) != (parent is None):
            return Problem(row.line, N_("only a path of one part is an organisation"))
        if row.staff is not None and kind is not UnitKind.TEAM:
            return Problem(
                row.line,
                N_("'%(slug)s' is not a team; only a team has a number of staff"),
                {"slug": row.slug},
            )
        if row.slug in self.parents_in_file and kind is UnitKind.TEAM:
            return Problem(
                row.line,
                N_("'%(slug)s' is a team; a team has no units below it"),
                {"slug": row.slug},
            )
        if parent and parent not in self.in_file and parent not in self.existing:
            return Problem(row.line, N_("parent '%(slug)s' does not exist"), {"slug": parent})
        if unit is not None and _parent_slug(unit) != parent:
            if unit.parent is None:
                return Problem(
                    row.line,
                    N_("'%(slug)s' already exists as an organisation; it cannot move"),
                    {"slug": row.slug},
                )
            return Problem(
                row.line,
                N_("'%(slug)s' already exists under %(parent)s; move units on the admin pages"),
                {"slug": row.slug, "parent": _parent_slug(unit)},
            )
        if parent and self.kind_of_slug(parent) is UnitKind.TEAM:
            return Problem(
                row.line, N_("'%(slug)s' is a team; a team has no units below it"), {"slug": parent}
            )
        if parent and self.path_of(parent) != row.path[:-1]:
            return Problem(
                row.line,
                N_("path '%(path)s' does not match the tree: %(parent)s is at %(actual)s"),
                {
                    "path": "/".join(row.path),
                    "parent": parent,
                    "actual": "/".join(self.path_of(parent)),
                },
            )
        if (
            unit is None
            and parent in self.existing
            and self.existing[parent].archived_on is not None
        ):
            return Problem(
                row.line,
                N_("parent '%(slug)s' is archived; restore it on the units page first"),
                {"slug": parent},
            )
        return None


def import_unit_tree(
    text: str, actor: Account | None = None, file_name: str | None = None
) -> ImportReport:
    """Create and rename units as the CSV says; all rows or none (see ``plan_unit_import``)."""
    report = plan_unit_import(text)
    if report.problems:
        return report
    units = {unit.slug: unit for unit in db.session.scalars(sa.select(Unit))}
    for planned in report.to_create:  # parents before children: shorter paths first
        unit = Unit(
            slug=planned.slug,
            name=planned.name,
            kind=planned.kind,
            parent=units[planned.parent_slug] if planned.parent_slug else None,
            staff=planned.staff,
        )
        db.session.add(unit)
        units[planned.slug] = unit
    for planned in report.to_rename:
        units[planned.slug].name = planned.name
    for planned in report.to_restaff:
        units[planned.slug].staff = planned.staff
    db.session.flush()
    details: dict[str, Any] = {"created": report.created, "renamed": report.renamed}
    if report.to_restaff:
        details["staff"] = {planned.slug: planned.staff for planned in report.to_restaff}
    if file_name:
        details["file"] = file_name
    audit.record(actor, "units.import", f"{report.rows} rows", **details)
    report.applied = True
    return report


def _parent_slug(unit: Unit) -> str | None:
    return unit.parent.slug if unit.parent else None


# --- the tree as a whole --------------------------------------------------------------------


@dataclass
class TreeNode:
    unit: Unit
    children: list[TreeNode]
    depth: int


def all_units() -> list[Unit]:
    return list(db.session.scalars(sa.select(Unit).order_by(Unit.name, Unit.slug)))


def unit_tree(units: list[Unit] | None = None) -> list[TreeNode]:
    """The whole tree from one query: on each level the active units by name, then the
    archived ones."""
    units = all_units() if units is None else units
    below: dict[int | None, list[Unit]] = {}
    for unit in units:
        below.setdefault(unit.parent_id, []).append(unit)

    def nodes(parent_id: int | None, depth: int) -> list[TreeNode]:
        level = sorted(
            below.get(parent_id, []), key=lambda u: (u.archived_on is not None, u.name.lower())
        )
        return [TreeNode(unit, nodes(unit.id, depth + 1), depth) for unit in level]

    return nodes(None, 0)


def descendants(unit: Unit) -> list[Unit]:
    """Every unit below ``unit``, parents before their children."""
    below: dict[int | None, list[Unit]] = {}
    for other in all_units():
        below.setdefault(other.parent_id, []).append(other)
    found: list[Unit] = []
    stack = list(reversed(below.get(unit.id, [])))
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(reversed(below.get(current.id, [])))
    return found


def organisation_of(unit: Unit) -> Unit:
    while unit.parent is not None:
        unit = unit.parent
    return unit


def path_label(unit: Unit) -> str:
    """``Organisation › Department › Team``."""
    return " › ".join([*(ancestor.name for ancestor in unit.ancestors()), unit.name])


def possible_parents(unit: Unit | None = None) -> list[Unit]:
    """Where a unit may be created or moved to: active organisations and departments, for a
    move only within the unit's own organisation and not below the unit itself."""
    candidates = [
        other
        for other in all_units()
        if other.kind is not UnitKind.TEAM and other.archived_on is None
    ]
    if unit is None:
        return sorted(candidates, key=path_label)
    excluded = {unit.id, *(other.id for other in descendants(unit))}
    organisation = organisation_of(unit)
    return sorted(
        (
            other
            for other in candidates
            if other.id not in excluded and organisation_of(other).id == organisation.id
        ),
        key=path_label,
    )


def open_waves_of(units: list[Unit]) -> list[Wave]:
    """The open waves that still ask one of ``units`` (teams)."""
    ids = [unit.id for unit in units]
    if not ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Wave)
            .where(
                Wave.status == WaveStatus.OPEN,
                Wave.id.in_(sa.select(WaveTeam.wave_id).where(WaveTeam.unit_id.in_(ids))),
            )
            .order_by(Wave.opens_on, Wave.id)
        )
    )


# --- acts on one unit -----------------------------------------------------------------------


def slug_from_name(name: str) -> str:
    """A slug made from a name: ``Team Zuid-Oost (Gent)`` → ``team-zuid-oost-gent``."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return slug[:SLUG_LENGTH].rstrip("-") or "unit"


def slug_taken(slug: str) -> bool:
    """Whether any unit, archived ones included, has ``slug``: slugs are never reused."""
    return db.session.scalar(sa.select(Unit.id).where(Unit.slug == slug)) is not None


def free_slug(base: str) -> str:
    """``base``, or ``base-2``, ``base-3`` ... when it is taken."""
    slug, number = base, 1
    while slug_taken(slug):
        number += 1
        suffix = f"-{number}"
        slug = base[: SLUG_LENGTH - len(suffix)].rstrip("-") + suffix
    return slug


def check_slug(slug: str) -> None:
    if not SLUG.match(slug) or len(slug) > SLUG_LENGTH:
        raise UnitError(
            N_(
                "Use only lower-case letters, digits and single hyphens, at most %(max)d "
                "characters (e.g. team-noord)."
            ),
            max=SLUG_LENGTH,
        )
    if slug_taken(slug):
        raise UnitError(
            N_("The short name %(slug)s is already used (perhaps by an archived unit)."),
            slug=slug,
        )


def check_parent(kind: UnitKind, parent: Unit | None) -> None:
    """The tree's rules for a unit of ``kind`` placed under ``parent``."""
    if kind is UnitKind.ORGANISATION:
        if parent is not None:
            raise UnitError(N_("An organisation is the top of its tree: it has no parent."))
        return
    if parent is None:
        raise UnitError(N_("Choose the unit this one is part of."))
    if parent.kind is UnitKind.TEAM:
        raise UnitError(N_("%(name)s is a team: a team has no units below it."), name=parent.name)
    if parent.archived_on is not None:
        raise UnitError(
            N_("%(name)s is archived: restore it first, or choose another unit."), name=parent.name
        )


def create_unit(
    name: str,
    kind: UnitKind,
    parent: Unit | None,
    slug: str | None,
    actor: Account | None,
    staff: int | None = None,
) -> Unit:
    """A new unit; without ``slug`` one is made from the name (and made unique); ``staff``
    only for a team."""
    name = name.strip()
    check_parent(kind, parent)
    if slug:
        check_slug(slug)
    else:
        slug = free_slug(slug_from_name(name))
    if staff is not None and kind is not UnitKind.TEAM:
        raise UnitError(N_("Only a team has a number of staff."))
    unit = Unit(name=name, kind=kind, parent=parent, slug=slug, staff=staff)
    db.session.add(unit)
    db.session.flush()
    details: dict[str, Any] = {"staff": staff} if staff is not None else {}
    audit.record(
        actor,
        "unit.create",
        slug,
        name=name,
        kind=kind.value,
        parent=parent.slug if parent else None,
        **details,
    )
    return unit


def set_staff(unit: Unit, staff: int | None, actor: Account | None) -> bool:
    """Set a team's usual number of staff (None: unknown); False when it already had it.
    New waves start each team's expected staff from it."""
    if unit.kind is not UnitKind.TEAM:
        raise UnitError(N_("Only a team has a number of staff."))
    if staff is not None and not 1 <= staff <= MAX_STAFF:
        raise UnitError(N_("Enter a number from %(min)d to %(max)d."), min=1, max=MAX_STAFF)
    if staff == unit.staff:
        return False
    old, unit.staff = unit.staff, staff
    db.session.flush()
    audit.record(actor, "unit.staff", unit.slug, old=old, new=staff)
    return True


def rename_unit(unit: Unit, name: str, actor: Account | None) -> bool:
    """Give ``unit`` a new name; False when it already had it."""
    name = name.strip()
    if name == unit.name:
        return False
    old, unit.name = unit.name, name
    db.session.flush()
    audit.record(actor, "unit.rename", unit.slug, old=old, new=name)
    return True


def move_unit(unit: Unit, parent: Unit | None, actor: Account | None) -> bool:
    """Put ``unit`` (and everything below it) under ``parent``; False when it already was."""
    if unit.kind is UnitKind.ORGANISATION:
        raise UnitError(N_("An organisation is the top of its tree: it cannot move."))
    if unit.archived_on is not None:
        raise UnitError(N_("An archived unit cannot move: restore it first."))
    if parent is not None and (parent.id == unit.id or parent in descendants(unit)):
        raise UnitError(
            N_("%(parent)s is part of %(unit)s: a unit cannot move below itself."),
            parent=parent.name,
            unit=unit.name,
        )
    check_parent(unit.kind, parent)
    if parent is None or parent.id == unit.parent_id:
        return False
    if organisation_of(parent).id != organisation_of(unit).id:
        raise UnitError(N_("A unit stays within its own organisation."))
    old = unit.parent.slug if unit.parent else None
    unit.parent = parent
    db.session.flush()
    audit.record(actor, "unit.move", unit.slug, **{"from": old, "to": parent.slug})
    return True


def units_to_archive(unit: Unit) -> list[Unit]:
    """``unit`` and the active units below it: archiving a unit archives its branch."""
    return [unit, *(other for other in descendants(unit) if other.archived_on is None)]


def archive_unit(unit: Unit, actor: Account | None, on: date | None = None) -> list[Unit]:
    """Archive ``unit`` and every active unit below it; their history stays."""
    if unit.archived_on is not None:
        raise UnitError(N_("%(name)s is already archived."), name=unit.name)
    archived = units_to_archive(unit)
    on = on or date.today()
    for each in archived:
        each.archived_on = on
    db.session.flush()
    audit.record(
        actor, "unit.archive", unit.slug, below=[each.slug for each in archived[1:]], on=str(on)
    )
    return archived


def units_to_restore(unit: Unit) -> list[Unit]:
    """``unit`` and the units below it that were archived with it (on the same day, through
    archived parents); units archived on their own stay archived."""
    if unit.archived_on is None:
        return []
    below: dict[int | None, list[Unit]] = {}
    for other in all_units():
        below.setdefault(other.parent_id, []).append(other)
    found, stack = [unit], [unit]
    while stack:
        for child in below.get(stack.pop().id, []):
            if child.archived_on == unit.archived_on:
                found.append(child)
                stack.append(child)
    return found


def restore_unit(unit: Unit, actor: Account | None) -> list[Unit]:
    """Take ``unit`` (and what was archived with it) out of the archive."""
    if unit.archived_on is None:
        raise UnitError(N_("%(name)s is not archived."), name=unit.name)
    if unit.parent is not None and unit.parent.archived_on is not None:
        raise UnitError(
            N_("%(parent)s, which %(name)s is part of, is archived: restore it first."),
            parent=unit.parent.name,
            name=unit.name,
        )
    restored = units_to_restore(unit)
    for each in restored:
        each.archived_on = None
    db.session.flush()
    audit.record(actor, "unit.restore", unit.slug, below=[each.slug for each in restored[1:]])
    return restored
