"""A team's actions: what it agreed, after a wave's results, to keep doing or to try, for which
scale, who takes it up, when it looks again and how far it got.

The team's own results link writes them (it is the team's plan; managers only read them), so
the audit log names the team link as the actor and keeps nothing of the visitor. A wave's page
follows up the actions of the team's previous wave, with their status beside the change in
their scale; an open action (planned, under way) carries over to every later wave until it is
done or stopped, and can be updated there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from questionnaires import Scale
from survey.extensions import db
from survey.models import ActionKind, ActionStatus, TeamAction, Unit, Wave, WaveTeam
from survey.models.base import now_utc
from survey.services import audit
from survey.services.questionnaires import instrument_of
from survey.services.results import (
    ScaleResult,
    TeamResults,
    previous_wave_team,
    results_ended,
)

OPEN_STATUSES = tuple(status for status in ActionStatus if status.is_open)


class ActionCapReached(Exception):
    """The wave already has ``TeamAction.MAX_PER_WAVE`` actions of this team."""


@dataclass(frozen=True)
class FollowedUp:
    """An action of an earlier wave on a later wave's page."""

    action: TeamAction
    #: The later wave's result for the action's scale (its change since the previous wave);
    #: None when the scale is unknown or the results are not shown.
    result: ScaleResult | None

    @property
    def updatable(self) -> bool:
        """Only an open action carries over, so only an open one is updated from here."""
        return self.action.status.is_open


@dataclass(frozen=True)
class WaveActions:
    """The actions a wave's page shows: those it follows up and the wave's own."""

    followed: list[FollowedUp]
    own: list[TeamAction]
    #: The wave has ended and the team has room for another action.
    can_add: bool
    #: Every scale an action names, by code (titles from the action's own wave first).
    scales: dict[str, Scale]

    def updatable(self) -> list[TeamAction]:
        """The actions this page may update: its own, and the open ones it carries over."""
        return [item.action for item in self.followed if item.updatable] + self.own


def _target(wave_team: WaveTeam) -> str:
    """The audit row's target: the team and wave, never the results link."""
    return f"{wave_team.unit.slug}@{wave_team.wave_id}"


def _scales(waves: Iterable[Wave]) -> dict[str, Scale]:
    scales: dict[str, Scale] = {}
    for wave in waves:
        for scale in instrument_of(wave).scales():
            scales.setdefault(scale.code, scale)
    return scales


def earlier_actions(wave_team: WaveTeam) -> list[TeamAction]:
    """The team's actions of earlier waves that this wave follows up: every action of its
    previous wave, and the open ones of older waves; oldest first."""
    previous = previous_wave_team(wave_team)
    of_previous = TeamAction.wave_team_id == previous.id if previous else sa.false()
    return list(
        db.session.scalars(
            sa.select(TeamAction)
            .join(WaveTeam, TeamAction.wave_team_id == WaveTeam.id)
            .join(Wave, WaveTeam.wave_id == Wave.id)
            .where(
                WaveTeam.unit_id == wave_team.unit_id,
                Wave.opens_on < wave_team.wave.opens_on,
                sa.or_(of_previous, TeamAction.status.in_(OPEN_STATUSES)),
            )
            .order_by(Wave.opens_on, TeamAction.created_at, TeamAction.id)
        )
    )


def wave_actions(wave_team: WaveTeam, results: TeamResults | None) -> WaveActions:
    """What the page of ``wave_team`` shows of the team's actions. ``results`` are the wave's
    gated results (their scale changes sit beside the followed-up actions), or None."""
    shown = {}
    if results is not None and results.responses.shown:
        shown = {result.scale.code: result for result in results.scales}
    earlier = earlier_actions(wave_team)
    waves = [wave_team.wave, *(action.wave_team.wave for action in earlier)]
    return WaveActions(
        followed=[FollowedUp(action, shown.get(action.scale_code or "")) for action in earlier],
        own=list(wave_team.actions),
        can_add=results_ended(wave_team) and len(wave_team.actions) < TeamAction.MAX_PER_WAVE,
        scales=_scales(waves),
    )


def updatable_action(wave_team: WaveTeam, action_id: int) -> TeamAction | None:
    """The action ``action_id`` if the page of ``wave_team`` may update it (the wave's own, or
    an open one it carries over), else None: another team's action is unknown here."""
    action = db.session.get(TeamAction, action_id)
    if action is None:
        return None
    if action.wave_team_id == wave_team.id:
        return action
    carried = action.status.is_open and action in earlier_actions(wave_team)
    return action if carried else None


def add_action(
    wave_team: WaveTeam,
    *,
    scale_code: str,
    kind: ActionKind,
    description: str,
    owner: str,
    review_on: date | None,
) -> TeamAction:
    """Record a new, planned action of the team for the wave; refused over the cap.

    The team's row is locked first (on PostgreSQL), so two last additions cannot both pass."""
    db.session.execute(sa.select(WaveTeam.id).where(WaveTeam.id == wave_team.id).with_for_update())
    count = db.session.scalar(
        sa.select(sa.func.count(TeamAction.id)).where(TeamAction.wave_team_id == wave_team.id)
    )
    if count >= TeamAction.MAX_PER_WAVE:
        raise ActionCapReached
    action = TeamAction(
        wave_team=wave_team,
        scale_code=scale_code,
        kind=kind,
        description=description.strip(),
        owner=owner.strip() or None,
        review_on=review_on,
        status=ActionStatus.PLANNED,
    )
    db.session.add(action)
    db.session.flush()
    audit.record_by_team(
        "team_action.add",
        _target(wave_team),
        action_id=action.id,
        scale=scale_code,
        kind=kind.value,
        description=action.description,
        owner=action.owner,
        review_on=_plain(review_on),
    )
    return action


def update_action(
    action: TeamAction,
    *,
    status: ActionStatus,
    status_note: str,
    owner: str,
    review_on: date | None,
) -> bool:
    """Change an action's status, note, owner and review date; audited when anything changed
    (the old and new value of each field). Returns whether anything changed."""
    wanted = {
        "status": status,
        "status_note": status_note.strip() or None,
        "owner": owner.strip() or None,
        "review_on": review_on,
    }
    changes = {
        name: [_plain(getattr(action, name)), _plain(value)]
        for name, value in wanted.items()
        if getattr(action, name) != value
    }
    if not changes:
        return False
    for name, value in wanted.items():
        setattr(action, name, value)
    action.updated_at = now_utc()
    audit.record_by_team(
        "team_action.update", _target(action.wave_team), action_id=action.id, changes=changes
    )
    return True


def _plain(value: Any) -> Any:
    """A value as the audit row's JSON keeps it."""
    if isinstance(value, ActionStatus):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class TeamActionList:
    """One team's actions across waves, for a department's overview."""

    unit: Unit
    #: Newest wave first, then in the order they were recorded.
    actions: list[TeamAction]


def actions_of_teams(
    unit_ids: Iterable[int], *, open_only: bool = False
) -> tuple[list[TeamActionList], dict[str, Scale]]:
    """The actions of a set of teams (a department manager's teams: the caller chooses them
    within the reader's scope), by team name, with every scale they name. Actions are the
    teams' own words, no respondent's figure, so they need no gate."""
    query = (
        sa.select(TeamAction)
        .join(WaveTeam, TeamAction.wave_team_id == WaveTeam.id)
        .join(Wave, WaveTeam.wave_id == Wave.id)
        .join(Unit, WaveTeam.unit_id == Unit.id)
        .where(WaveTeam.unit_id.in_(list(unit_ids)))
        .options(selectinload(TeamAction.wave_team).selectinload(WaveTeam.wave))
        .order_by(Unit.name, Unit.id, Wave.opens_on.desc(), TeamAction.created_at, TeamAction.id)
    )
    if open_only:
        query = query.where(TeamAction.status.in_(OPEN_STATUSES))
    lists: list[TeamActionList] = []
    for action in db.session.scalars(query):
        if not lists or lists[-1].unit.id != action.wave_team.unit_id:
            lists.append(TeamActionList(action.wave_team.unit, []))
        lists[-1].actions.append(action)
    waves = {
        action.wave_team.wave_id: action.wave_team.wave for item in lists for action in item.actions
    }
    return lists, _scales(waves.values())
