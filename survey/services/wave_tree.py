"""The unit tree as it stood when a wave ended, kept with the wave (``WaveTreeUnit``).

Every grouping of a wave's figures (the response-level export's labels, the units × scales
table, the organisation profile and report) uses this tree, not the current one. Otherwise an
insider could download the export, move a small team to another department (or rename or
archive a unit), download again and intersect the labels of identical rows to isolate the small
team (docs/anonymity.md, "Reorganising between downloads").

The snapshot is taken once, when the wave has ended: by ``close_wave``, or by the first reader of
a wave that ended by passing its closing day. It holds the units that stood in the tree when the
wave ended (not archived before its last day), every unit that holds a response of the wave and
their ancestors, with the parent, kind, name and slug they had then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from survey.extensions import db
from survey.models import Response, Unit, UnitKind, Wave, WaveState, WaveTreeUnit


@dataclass(frozen=True)
class TreeUnit:
    """A unit as it stood in a wave's tree: what ``comparisons.gated_cells``,
    ``comparisons.unit_tree_rows`` and the quality pages need of a unit."""

    id: int
    parent_id: int | None
    kind: UnitKind
    name: str
    slug: str

    @property
    def is_team(self) -> bool:
        return self.kind is UnitKind.TEAM


def wave_tree(wave: Wave, today: date | None = None) -> list[TreeUnit]:
    """The units of ``wave``'s tree as they stood when it ended, by name.

    The first call for an ended wave freezes the tree (``freeze_tree``: it flushes, the caller
    commits). A wave that has not ended yet has no tree of its own: the current one is returned
    and nothing is stored.
    """
    if wave.state(today) is not WaveState.CLOSED:
        return _current_tree(wave)
    return freeze_tree(wave)


def tree_paths(units: list[TreeUnit]) -> dict[int, str]:
    """unit id → its path from the organisation down, e.g. "Org › Department › Team"."""
    by_id = {unit.id: unit for unit in units}

    def path(unit: TreeUnit | None) -> list[str]:
        names: list[str] = []
        while unit is not None:
            names.append(unit.name)
            unit = by_id.get(unit.parent_id) if unit.parent_id is not None else None
        return list(reversed(names))

    return {unit.id: " › ".join(path(unit)) for unit in units}


def freeze_tree(wave: Wave) -> list[TreeUnit]:
    """Store ``wave``'s tree if it has none yet, and return it (flushes; the caller commits).

    Idempotent, and safe when two requests freeze the same wave at once (the second insert does
    nothing). A unit that holds responses of the wave but is missing from a stored tree (the wave
    was extended and answered again after it had ended) is added, with its missing ancestors,
    as it stands now: the rest of the stored tree does not change.
    """
    stored = _stored(wave.id)
    wanted = {unit.id for unit in stored}
    missing = _units_with_responses(wave.id) - wanted
    if stored and not missing:
        return stored
    additions = _with_ancestors(missing, known=wanted) if stored else _standing_units(wave)
    if additions:
        _insert(wave.id, additions)
    return _stored(wave.id)


def _stored(wave_id: int) -> list[TreeUnit]:
    rows = db.session.scalars(
        sa.select(WaveTreeUnit)
        .where(WaveTreeUnit.wave_id == wave_id)
        .order_by(WaveTreeUnit.name, WaveTreeUnit.unit_id)
    ).all()
    return [
        TreeUnit(row.unit_id, row.parent_id, UnitKind(row.kind), row.name, row.slug) for row in rows
    ]


def _as_tree_unit(unit: Unit) -> TreeUnit:
    return TreeUnit(unit.id, unit.parent_id, unit.kind, unit.name, unit.slug)


def _current_tree(wave: Wave) -> list[TreeUnit]:
    return sorted(
        (_as_tree_unit(unit) for unit in _standing_units(wave)), key=lambda u: (u.name, u.id)
    )


def _units_with_responses(wave_id: int) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(Response.unit_id).where(Response.wave_id == wave_id).distinct()
        )
    )


def _standing_units(wave: Wave) -> list[Unit]:
    """The units not archived before ``wave`` ended, those holding its responses, and their
    ancestors."""
    last_day = wave.closed_on or wave.closes_on
    everyone = db.session.scalars(sa.select(Unit)).all()
    standing = {
        unit.id for unit in everyone if unit.archived_on is None or unit.archived_on >= last_day
    }
    standing |= _units_with_responses(wave.id)
    by_id = {unit.id: unit for unit in everyone}
    return [by_id[unit_id] for unit_id in _close_upwards(standing, by_id)]


def _with_ancestors(unit_ids: set[int], known: set[int]) -> list[Unit]:
    by_id = {unit.id: unit for unit in db.session.scalars(sa.select(Unit))}
    return [by_id[unit_id] for unit_id in _close_upwards(unit_ids, by_id) - known]


def _close_upwards(unit_ids: set[int], by_id: dict[int, Unit]) -> set[int]:
    """``unit_ids`` and every ancestor of them."""
    closed: set[int] = set()
    for unit_id in unit_ids:
        while unit_id is not None and unit_id not in closed:
            closed.add(unit_id)
            unit_id = by_id[unit_id].parent_id
    return closed


def _insert(wave_id: int, units: list[Unit]) -> None:
    rows = [
        {
            "wave_id": wave_id,
            "unit_id": unit.id,
            "parent_id": unit.parent_id,
            "kind": unit.kind.value,
            "name": unit.name,
            "slug": unit.slug,
        }
        for unit in units
    ]
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(WaveTreeUnit).values(rows).on_conflict_do_nothing())
    db.session.flush()
