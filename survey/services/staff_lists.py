"""The staff lists of teams: the addresses a wave in invitation mode invites.

An administrator imports them from a file (``plan_staff_import`` says what would change,
without writing; ``apply_staff_import`` makes the change) or edits one team's list
(``add_member``, ``remove_member``, ``remove_all``). Reading the file is
``survey.services.staff_file``.

Addresses are personal data: the audit log gets the team and counts, never an address; only
the administration shows them. ``list_fingerprint`` lets a confirmation be refused when the
lists it would change have changed since they were previewed.

Messages are translated when they are made, in the locale in force (see ``survey.services``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _

from survey.extensions import db
from survey.models import Account, StaffMember, Unit, UnitKind
from survey.services import audit
from survey.services.settings import current_settings
from survey.services.staff_file import StaffError, StaffRow, language_of, normalise_email
from survey.services.unit_csv import Problem

__all__ = [
    "StaffError",
    "StaffImport",
    "TeamChange",
    "add_member",
    "apply_staff_import",
    "counts_by_unit",
    "default_language",
    "list_fingerprint",
    "members_of",
    "plan_staff_import",
    "remove_all",
    "remove_member",
]


def default_language() -> str:
    """The organisation's first language, when it is one staff mails are written in."""
    first = current_settings().languages[0]
    return first if first in ("nl", "en") else "nl"


def members_of(unit: Unit) -> list[StaffMember]:
    return list(
        db.session.scalars(
            sa.select(StaffMember).where(StaffMember.unit_id == unit.id).order_by(StaffMember.email)
        )
    )


def counts_by_unit() -> dict[int, int]:
    """unit id → the number of addresses on its list (teams with none are absent)."""
    rows = db.session.execute(
        sa.select(StaffMember.unit_id, sa.func.count(StaffMember.id)).group_by(StaffMember.unit_id)
    )
    return dict(rows.all())


def list_fingerprint(unit_ids: Iterable[int]) -> str:
    """A digest of the lists of these units (addresses and languages): it changes with them."""
    ids = sorted(set(unit_ids))
    rows = db.session.execute(
        sa.select(StaffMember.unit_id, StaffMember.email, StaffMember.language)
        .where(StaffMember.unit_id.in_(ids))
        .order_by(StaffMember.unit_id, StaffMember.email)
    )
    digest = hashlib.sha256(repr(ids).encode())
    for unit_id, email, language in rows:
        digest.update(f"\n{unit_id}\t{email}\t{language}".encode())
    return digest.hexdigest()


# --- import -----------------------------------------------------------------------------------


@dataclass
class TeamChange:
    """What an import changes in one team's list."""

    unit: Unit
    #: New addresses, with their language.
    added: dict[str, str] = field(default_factory=dict)
    #: Addresses already on the list whose language the file changes.
    relanguaged: dict[str, str] = field(default_factory=dict)
    #: Addresses on the list but not in the file (removed only when replacing the lists).
    missing: list[str] = field(default_factory=list)
    kept: int = 0
    replace: bool = False

    @property
    def removed(self) -> list[str]:
        return self.missing if self.replace else []

    @property
    def changes(self) -> bool:
        return bool(self.added or self.relanguaged or self.removed)


@dataclass
class StaffImport:
    """The plan of an import: per team what changes, and every refused row."""

    replace: bool
    teams: list[TeamChange] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    #: ``list_fingerprint`` of the teams in the file when the plan was made.
    fingerprint: str = ""

    @property
    def changes(self) -> bool:
        return any(team.changes for team in self.teams)

    def total(self, what: str) -> int:
        return sum(len(getattr(team, what)) for team in self.teams)


class _Teams:
    """The file's team column: a unit's short name, else its exact name."""

    def __init__(self) -> None:
        units = list(db.session.scalars(sa.select(Unit)))
        self.by_slug = {unit.slug: unit for unit in units}
        self.by_name: dict[str, list[Unit]] = {}
        for unit in units:
            self.by_name.setdefault(unit.name, []).append(unit)

    def find(self, row: StaffRow) -> Unit | Problem:
        unit = self.by_slug.get(row.team)
        named = self.by_name.get(row.team, [])
        if unit is None and len(named) > 1:
            return Problem(
                row.line,
                _(
                    "several units are called '%(team)s'; use the short name instead",
                    team=row.team[:200],
                ),
            )
        unit = unit or (named[0] if named else None)
        if unit is None:
            return Problem(row.line, _("unknown team '%(team)s'", team=row.team[:200]))
        if unit.kind is not UnitKind.TEAM:
            return Problem(
                row.line,
                _("'%(team)s' is not a team; only teams have staff lists", team=unit.slug),
            )
        if unit.archived_on is not None:
            return Problem(
                row.line,
                _(
                    "team '%(team)s' is archived; restore it first or leave it out",
                    team=unit.slug,
                ),
            )
        return unit


def plan_staff_import(rows: list[StaffRow], replace: bool = False) -> StaffImport:
    """What the rows would change in the lists of their teams; refused rows; no writes.

    ``replace``: an address on a team's list but not in the file is removed (only for the
    teams in the file); otherwise the file only adds addresses and sets their language."""
    plan = StaffImport(replace=replace, rows=len(rows))
    teams = _Teams()
    wanted: dict[int, dict[str, StaffRow]] = {}
    units: dict[int, Unit] = {}
    for row in rows:
        unit = teams.find(row)
        if isinstance(unit, Problem):
            plan.problems.append(unit)
            continue
        seen = wanted.setdefault(unit.id, {})
        if row.email in seen:
            plan.problems.append(
                Problem(
                    row.line,
                    _(
                        "this address is already in the file for team '%(team)s' (line %(line)d)",
                        team=unit.slug,
                        line=seen[row.email].line,
                    ),
                )
            )
            continue
        seen[row.email] = row
        units[unit.id] = unit
    plan.problems.sort(key=lambda problem: (problem.line, str(problem)))
    plan.fingerprint = list_fingerprint(units)
    if plan.problems:
        return plan
    for unit_id, in_file in wanted.items():
        plan.teams.append(_team_change(units[unit_id], in_file, replace))
    plan.teams.sort(key=lambda change: change.unit.name)
    return plan


def _team_change(unit: Unit, in_file: dict[str, StaffRow], replace: bool) -> TeamChange:
    change = TeamChange(unit, replace=replace)
    current = {member.email: member.language for member in members_of(unit)}
    for email, row in in_file.items():
        if email not in current:
            change.added[email] = row.language or default_language()
        elif row.language and row.language != current[email]:
            change.relanguaged[email] = row.language
        else:
            change.kept += 1
    change.missing = sorted(set(current) - set(in_file))
    if not replace:
        change.kept += len(change.missing)
    return change


def apply_staff_import(
    plan: StaffImport,
    actor: Account | None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Make the changes of a plan without refused rows; audited with counts per team.
    ``progress(done, total)`` is called after each team (the command line shows it)."""
    if plan.problems:
        raise StaffError(_("The file has refused rows; nothing was imported."))
    counts = {}
    for done, change in enumerate(plan.teams, start=1):
        if change.changes:
            _apply_team_change(change)
            counts[change.unit.slug] = {
                "added": len(change.added),
                "removed": len(change.removed),
                "language": len(change.relanguaged),
            }
        if progress:
            progress(done, len(plan.teams))
    audit.record(
        actor,
        "staff.import",
        f"{len(plan.teams)} teams",
        replace=plan.replace,
        rows=plan.rows,
        teams=counts,
    )


def _apply_team_change(change: TeamChange) -> None:
    members = {member.email: member for member in members_of(change.unit)}
    for email in change.removed:
        db.session.delete(members[email])
    for email, language in change.relanguaged.items():
        members[email].language = language
    for email, language in change.added.items():
        db.session.add(StaffMember(unit_id=change.unit.id, email=email, language=language))
    db.session.flush()


# --- one team's list --------------------------------------------------------------------------


def _check_team(unit: Unit) -> None:
    if unit.kind is not UnitKind.TEAM:
        raise StaffError(_("Only a team has a staff list."))


def add_member(unit: Unit, email: str, language: str, actor: Account | None) -> StaffMember:
    """Put an address on a team's list (``StaffError`` when it is invalid or already there)."""
    _check_team(unit)
    if unit.archived_on is not None:
        raise StaffError(_("This team is archived: restore it before adding addresses."))
    address = normalise_email(email)
    language = language_of(language) or default_language()
    exists = db.session.scalar(
        sa.select(StaffMember.id).where(
            StaffMember.unit_id == unit.id, StaffMember.email == address
        )
    )
    if exists is not None:
        raise StaffError(_("This address is already on the team's list."))
    member = StaffMember(unit_id=unit.id, email=address, language=language)
    db.session.add(member)
    db.session.flush()
    audit.record(actor, "staff.add", unit.slug, count=_count(unit))
    return member


def remove_member(unit: Unit, member_id: int, actor: Account | None) -> bool:
    """Take one address off a team's list; False when it is not (or no longer) on it."""
    member = db.session.scalar(
        sa.select(StaffMember).where(StaffMember.id == member_id, StaffMember.unit_id == unit.id)
    )
    if member is None:
        return False
    db.session.delete(member)
    db.session.flush()
    audit.record(actor, "staff.remove", unit.slug, removed=1, count=_count(unit))
    return True


def remove_all(unit: Unit, actor: Account | None) -> int:
    """Empty a team's list; how many addresses were on it."""
    members = members_of(unit)
    for member in members:
        db.session.delete(member)
    db.session.flush()
    removed = len(members)
    if removed:
        audit.record(actor, "staff.remove", unit.slug, removed=removed, count=0)
    return removed


def _count(unit: Unit) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(StaffMember.id)).where(StaffMember.unit_id == unit.id)
    )
