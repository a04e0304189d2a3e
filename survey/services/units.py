"""Building the unit tree, e.g. from a CSV file of ``path,name[,kind]`` rows."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Account, Unit, UnitKind
from survey.services import audit

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_ROWS = 10_000


@dataclass
class UnitRow:
    line: int
    path: list[str]
    name: str
    kind: UnitKind | None

    @property
    def slug(self) -> str:
        return self.path[-1]

    @property
    def parent_slug(self) -> str | None:
        return self.path[-2] if len(self.path) > 1 else None


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: (line number, message) for each refused row; when there is any, nothing was imported.
    rejected: list[tuple[int, str]] = field(default_factory=list)


def read_unit_csv(text: str) -> tuple[list[UnitRow], list[tuple[int, str]]]:
    """Parse the CSV (comma or semicolon, a header row with path and name, optionally kind)."""
    problems: list[tuple[int, str]] = []
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if "path" not in header or "name" not in header:
        return [], [(1, "the first row must name the columns: path,name (and optionally kind)")]
    reader.fieldnames = header
    rows: list[UnitRow] = []
    try:
        for record in reader:
            line = reader.line_num
            if len(rows) >= MAX_ROWS:
                problems.append((line, f"more than {MAX_ROWS} rows; split the file"))
                break
            path_text = (record.get("path") or "").strip().strip("/")
            name = (record.get("name") or "").strip()
            kind_text = (record.get("kind") or "").strip().lower()
            if not path_text and not name:
                continue
            path = [part.strip() for part in path_text.split("/")]
            bad = [part for part in path if not SLUG.match(part) or len(part) > 80]
            if not path_text or bad:
                problems.append(
                    (
                        line,
                        f"path {path_text!r}: each part must be a slug of lower-case letters, "
                        "digits and hyphens (e.g. org/zorg-noord/team-a)",
                    )
                )
                continue
            if not name or len(name) > 200:
                problems.append((line, "name must be between 1 and 200 characters"))
                continue
            kind = None
            if kind_text:
                try:
                    kind = UnitKind(kind_text)
                except ValueError:
                    problems.append(
                        (line, f"kind {kind_text!r} is unknown (organisation, department or team)")
                    )
                    continue
            rows.append(UnitRow(line, path, name, kind))
    except csv.Error as error:
        problems.append((reader.line_num, f"not a readable CSV file: {error}"))
    return rows, problems


def import_unit_tree(text: str, actor: Account | None = None) -> ImportReport:
    """Create and rename units as the CSV says; all rows or none."""
    rows, problems = read_unit_csv(text)
    report = ImportReport(rejected=problems)
    existing = {unit.slug: unit for unit in db.session.scalars(sa.select(Unit))}
    in_file: dict[str, UnitRow] = {}
    for row in rows:
        if row.slug in in_file:
            report.rejected.append(
                (row.line, f"{row.slug!r} appears twice (first on line {in_file[row.slug].line})")
            )
            continue
        in_file[row.slug] = row
    parents_in_file = {row.parent_slug for row in in_file.values() if row.parent_slug}

    def kind_of(row: UnitRow) -> UnitKind:
        if row.kind:
            return row.kind
        if row.parent_slug is None:
            return UnitKind.ORGANISATION
        if row.slug in existing:
            return existing[row.slug].kind
        return UnitKind.DEPARTMENT if row.slug in parents_in_file else UnitKind.TEAM

    def kind_of_slug(slug: str) -> UnitKind:
        return kind_of(in_file[slug]) if slug in in_file else existing[slug].kind

    for row in in_file.values():
        kind = kind_of(row)
        if (kind is UnitKind.ORGANISATION) != (row.parent_slug is None):
            report.rejected.append((row.line, "only a path of one part is an organisation"))
        elif row.slug in parents_in_file and kind is UnitKind.TEAM:
            report.rejected.append(
                (row.line, f"{row.slug!r} is a team; a team has no units below it")
            )
        elif row.parent_slug and row.parent_slug not in in_file and row.parent_slug not in existing:
            report.rejected.append((row.line, f"parent {row.parent_slug!r} does not exist"))
        elif row.slug in existing and _parent_slug(existing[row.slug]) != row.parent_slug:
            report.rejected.append(
                (
                    row.line,
                    f"{row.slug!r} already exists under "
                    f"{_parent_slug(existing[row.slug]) or 'no parent'}; "
                    "move units on the admin pages",
                )
            )
        elif row.parent_slug and kind_of_slug(row.parent_slug) is UnitKind.TEAM:
            report.rejected.append(
                (row.line, f"{row.parent_slug!r} is a team; a team has no units below it")
            )
    if report.rejected:
        report.rejected.sort()
        return report

    # Parents before children: shorter paths first.
    for row in sorted(in_file.values(), key=lambda r: len(r.path)):
        unit = existing.get(row.slug)
        if unit is None:
            unit = Unit(
                slug=row.slug,
                name=row.name,
                kind=kind_of(row),
                parent=existing.get(row.parent_slug) if row.parent_slug else None,
            )
            db.session.add(unit)
            existing[row.slug] = unit
            report.created.append(row.slug)
        elif unit.name != row.name:
            unit.name = row.name
            report.renamed.append(row.slug)
        else:
            report.unchanged.append(row.slug)
    db.session.flush()
    audit.record(
        actor,
        "units.import",
        f"{len(in_file)} rows",
        created=report.created,
        renamed=report.renamed,
    )
    return report


def _parent_slug(unit: Unit) -> str | None:
    return unit.parent.slug if unit.parent else None
