"""Who may reach what: the role decorator and the one scoped way to fetch units, waves and teams.

Every view that shows a unit, a wave or a team fetches it through a ``*_or_404`` helper below,
so a manager can only ever reach the units in their scope (and everything below them); anything
else answers 404, as if it did not exist. Admins and quality officers see the whole organisation.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required

from survey.extensions import db
from survey.models import Account, Role, Unit, Wave, WaveTeam, manager_scopes

P = ParamSpec("P")
R = TypeVar("R")


def role_required(*roles: Role) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Log-in required, and 403 for an account whose role is not one of ``roles``."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        @login_required
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def sees_everything(account: Account) -> bool:
    return account.role in (Role.ADMIN, Role.QUALITY)


def subtree_ids(roots: sa.Select) -> sa.Select:
    """A SELECT of the ids of the units in ``roots`` (a one-column SELECT) and all below them."""
    tree = roots.cte(recursive=True)
    tree = tree.union(sa.select(Unit.id).join(tree, Unit.parent_id == tree.c[0]))
    return sa.select(tree.c[0])


def visible_unit_ids(account: Account) -> sa.Select | None:
    """A SELECT of the ids of the units ``account`` may see, or None when it sees them all."""
    if sees_everything(account):
        return None
    return subtree_ids(
        sa.select(manager_scopes.c.unit_id).where(manager_scopes.c.account_id == account.id)
    )


def scoped_units(account: Account) -> sa.Select:
    """``SELECT units`` limited to what ``account`` may see."""
    query = sa.select(Unit)
    if (ids := visible_unit_ids(account)) is not None:
        query = query.where(Unit.id.in_(ids))
    return query


def scoped_waves(account: Account) -> sa.Select:
    """``SELECT waves`` in which at least one team that ``account`` may see takes part."""
    query = sa.select(Wave)
    if (ids := visible_unit_ids(account)) is not None:
        query = query.where(
            Wave.id.in_(sa.select(WaveTeam.wave_id).where(WaveTeam.unit_id.in_(ids)))
        )
    return query


def scoped_wave_teams(account: Account) -> sa.Select:
    """``SELECT wave_teams`` (a team's part in a wave) of the teams ``account`` may see."""
    query = sa.select(WaveTeam)
    if (ids := visible_unit_ids(account)) is not None:
        query = query.where(WaveTeam.unit_id.in_(ids))
    return query


def manages_team(account: Account, team_id: int) -> bool:
    """Whether ``account`` is the team's own manager: a manager whose scope holds the team
    itself, not only a department above it. During the team-first period only they see the
    team's results besides the team (``survey.services.results.team_first_days_for``)."""
    return account.role is Role.MANAGER and any(unit.id == team_id for unit in account.scope)


def get_unit_or_404(slug: str) -> Unit:
    return db.first_or_404(scoped_units(current_user).where(Unit.slug == slug))


def get_wave_or_404(wave_id: int) -> Wave:
    return db.first_or_404(scoped_waves(current_user).where(Wave.id == wave_id))


def get_wave_team_or_404(wave_id: int, team_slug: str) -> WaveTeam:
    """A team's part in a wave (the place its results live), within the current scope."""
    return db.first_or_404(
        scoped_wave_teams(current_user)
        .join(Unit, WaveTeam.unit_id == Unit.id)
        .where(WaveTeam.wave_id == wave_id, Unit.slug == team_slug)
    )
