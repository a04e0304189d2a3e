"""Importing the unit tree from a CSV file: plan what the file's rows change, and apply the
plan. Reading the file is ``survey.services.unit_csv``.

The command line (``flask units import``) and the import page share one plan:
``plan_unit_import`` checks every row and says what would change, without writing anything;
``import_unit_tree`` makes the same plan and applies it only when no row was refused.

Messages are translated when they are made, in the locale in force (see ``survey.services``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from survey.extensions import db
from survey.models import Account, Unit, UnitKind
from survey.services import audit
from survey.services.unit_csv import Problem, UnitRow, read_unit_csv


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
                    _(
                        "'%(slug)s' appears twice (first on line %(line)d)",
                        slug=row.slug,
                        line=in_file[row.slug].line,
                    ),
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
        problem = self._shape_problem(row, unit)
        if problem is not None:
            return problem
        return self._place_problem(row, unit)

    def _shape_problem(self, row: UnitRow, unit: Unit | None) -> Problem | None:
        """A rule about the unit itself: its kind, and what a unit of that kind may have."""
        parent = row.parent_slug
        kind = self.kind_of(row)
        if unit is not None and row.kind and row.kind is not unit.kind:
            return Problem(
                row.line,
                _(
                    "'%(slug)s' exists as a %(kind)s; an import cannot change the kind of a unit",
                    slug=row.slug,
                    kind=unit.kind.value,
                ),
            )
        if (kind is UnitKind.ORGANISATION) != (parent is None):
            return Problem(row.line, _("only a path of one part is an organisation"))
        if row.staff is not None and kind is not UnitKind.TEAM:
            return Problem(
                row.line,
                _("'%(slug)s' is not a team; only a team has a number of staff", slug=row.slug),
            )
        if row.slug in self.parents_in_file and kind is UnitKind.TEAM:
            return Problem(
                row.line, _("'%(slug)s' is a team; a team has no units below it", slug=row.slug)
            )
        return None

    def _place_problem(self, row: UnitRow, unit: Unit | None) -> Problem | None:
        """A rule about where the unit sits: its parent exists, is no team, is not archived
        for a new unit, and the path matches the tree."""
        parent = row.parent_slug
        if parent and parent not in self.in_file and parent not in self.existing:
            return Problem(row.line, _("parent '%(slug)s' does not exist", slug=parent))
        if unit is not None and _parent_slug(unit) != parent:
            if unit.parent is None:
                return Problem(
                    row.line,
                    _(
                        "'%(slug)s' already exists as an organisation; it cannot move",
                        slug=row.slug,
                    ),
                )
            return Problem(
                row.line,
                _(
                    "'%(slug)s' already exists under %(parent)s; move units on the admin pages",
                    slug=row.slug,
                    parent=_parent_slug(unit),
                ),
            )
        if parent and self.kind_of_slug(parent) is UnitKind.TEAM:
            return Problem(
                row.line, _("'%(slug)s' is a team; a team has no units below it", slug=parent)
            )
        if parent and self.path_of(parent) != row.path[:-1]:
            return Problem(
                row.line,
                _(
                    "path '%(path)s' does not match the tree: %(parent)s is at %(actual)s",
                    path="/".join(row.path),
                    parent=parent,
                    actual="/".join(self.path_of(parent)),
                ),
            )
        if (
            unit is None
            and parent in self.existing
            and self.existing[parent].archived_on is not None
        ):
            return Problem(
                row.line,
                _("parent '%(slug)s' is archived; restore it on the units page first", slug=parent),
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
