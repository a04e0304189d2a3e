"""The unit tree as a whole (its queries) and the administrator's acts on a single unit
(create, rename, move, archive, restore). Importing a tree from a CSV file is
``survey.services.unit_import``.

Messages are translated when they are made, in the locale in force (see ``survey.services``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from survey.extensions import db
from survey.models import Account, Unit, UnitKind, Wave, WaveStatus, WaveTeam
from survey.services import audit

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_LENGTH = 80
NAME_LENGTH = 200
#: The most staff a team can have; a larger number is a typing error.
MAX_STAFF = 10_000


class UnitError(Exception):
    """An act on the unit tree that its rules do not allow; its text is translated."""


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
            _(
                "Use only lower-case letters, digits and single hyphens, at most %(max)d "
                "characters (e.g. team-noord).",
                max=SLUG_LENGTH,
            )
        )
    if slug_taken(slug):
        raise UnitError(
            _("The short name %(slug)s is already used (perhaps by an archived unit).", slug=slug)
        )


def check_parent(kind: UnitKind, parent: Unit | None) -> None:
    """The tree's rules for a unit of ``kind`` placed under ``parent``."""
    if kind is UnitKind.ORGANISATION:
        if parent is not None:
            raise UnitError(_("An organisation is the top of its tree: it has no parent."))
        return
    if parent is None:
        raise UnitError(_("Choose the unit this one is part of."))
    if parent.kind is UnitKind.TEAM:
        raise UnitError(_("%(name)s is a team: a team has no units below it.", name=parent.name))
    if parent.archived_on is not None:
        raise UnitError(
            _("%(name)s is archived: restore it first, or choose another unit.", name=parent.name)
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
        raise UnitError(_("Only a team has a number of staff."))
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
        raise UnitError(_("Only a team has a number of staff."))
    if staff is not None and not 1 <= staff <= MAX_STAFF:
        raise UnitError(_("Enter a number from %(min)d to %(max)d.", min=1, max=MAX_STAFF))
    return _change(unit, "staff", staff, actor, "unit.staff")


def rename_unit(unit: Unit, name: str, actor: Account | None) -> bool:
    """Give ``unit`` a new name; False when it already had it."""
    return _change(unit, "name", name.strip(), actor, "unit.rename")


def _change(unit: Unit, attribute: str, value: Any, actor: Account | None, action: str) -> bool:
    """Set one attribute of ``unit`` and audit it as ``action``; False when it had the value."""
    old = getattr(unit, attribute)
    if value == old:
        return False
    setattr(unit, attribute, value)
    db.session.flush()
    audit.record(actor, action, unit.slug, old=old, new=value)
    return True


def move_unit(unit: Unit, parent: Unit | None, actor: Account | None) -> bool:
    """Put ``unit`` (and everything below it) under ``parent``; False when it already was."""
    if unit.kind is UnitKind.ORGANISATION:
        raise UnitError(_("An organisation is the top of its tree: it cannot move."))
    if unit.archived_on is not None:
        raise UnitError(_("An archived unit cannot move: restore it first."))
    if parent is not None and (parent.id == unit.id or parent in descendants(unit)):
        raise UnitError(
            _(
                "%(parent)s is part of %(unit)s: a unit cannot move below itself.",
                parent=parent.name,
                unit=unit.name,
            )
        )
    check_parent(unit.kind, parent)
    if parent is None or parent.id == unit.parent_id:
        return False
    if organisation_of(parent).id != organisation_of(unit).id:
        raise UnitError(_("A unit stays within its own organisation."))
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
        raise UnitError(_("%(name)s is already archived.", name=unit.name))
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
        raise UnitError(_("%(name)s is not archived.", name=unit.name))
    if unit.parent is not None and unit.parent.archived_on is not None:
        raise UnitError(
            _(
                "%(parent)s, which %(name)s is part of, is archived: restore it first.",
                parent=unit.parent.name,
                name=unit.name,
            )
        )
    restored = units_to_restore(unit)
    for each in restored:
        each.archived_on = None
    db.session.flush()
    audit.record(actor, "unit.restore", unit.slug, below=[each.slug for each in restored[1:]])
    return restored
