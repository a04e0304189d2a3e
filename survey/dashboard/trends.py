"""The managers' pages over time: a unit's trend across the ended waves, and a department's
teams side by side. Every reader sees only units in their scope (``get_unit_or_404``); the
figures are the quality officer's, through the same gate (``survey.services.team_trends``)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from survey.access import get_unit_or_404, role_required, scoped_units, subtree_ids
from survey.dashboard.blueprint import bp
from survey.extensions import db
from survey.models import Role, Unit, UnitKind, WaveTeam
from survey.services import comparisons, team_trends
from survey.services.results import results_are_released, team_first_days_for
from survey.services.team_actions import TeamActionList, actions_of_teams
from survey.services.team_trends import UnitStory
from survey.web.sparklines import sparkline

READERS = (Role.ADMIN, Role.QUALITY, Role.MANAGER)


def _lang() -> str:
    return str(get_locale())


def team_story_context(wave_team: WaveTeam) -> dict:
    """The team's story up to and including ``wave_team``'s wave, for its results page."""
    opens_on = wave_team.wave.opens_on
    waves = [wave for wave in comparisons.ended_waves() if wave.opens_on <= opens_on]
    story = team_trends.unit_story(wave_team.unit, waves, _lang())
    return story_context(story, url_for("dashboard.unit_trend", slug=wave_team.unit.slug))


def story_context(story: UnitStory, trend_url: str | None = None) -> dict:
    """What ``dashboard/_story.html`` needs besides the story (``trend_url``: a link to the
    unit's whole trend page, from a page that shows only part of it)."""
    return {"story": story, "sparkline": sparkline, "trend_url": trend_url}


@bp.get("/units/<slug>/trend")
@role_required(*READERS)
def unit_trend(slug: str) -> str:
    unit = get_unit_or_404(slug)
    story = team_trends.unit_story(unit, comparisons.ended_waves(), _lang())
    return render_template("dashboard/trend.html", unit=unit, **story_context(story))


@bp.get("/departments/<slug>")
@role_required(*READERS)
def department(slug: str) -> str:
    """A department's teams side by side per scale in one ended wave (``?wave=``, by default
    the latest), and the department's trend."""
    unit = get_unit_or_404(slug)
    if unit.kind is not UnitKind.DEPARTMENT:
        abort(404)
    try:
        view = team_trends.department_view(
            unit, comparisons.ended_waves(), _lang(), request.args.get("wave", type=int)
        )
    except team_trends.WaveNotForDepartment:
        abort(404)
    db.session.commit()  # the first reader of an ended wave froze its tree
    visible = set(db.session.scalars(scoped_units(current_user).with_only_columns(Unit.id)))
    # A team that has since left the reader's scope keeps its part in the department's pooled
    # figure (it met k), but gets no column of its own.
    rows = [row for row in view.heatmap.table if row.unit.id in visible] if view.heatmap else []
    team_action_lists, action_scales = _teams_actions(unit, visible)
    return render_template(
        "dashboard/department.html",
        unit=unit,
        view=view,
        rows=rows,
        team_action_lists=team_action_lists,
        action_scales=action_scales,
        **story_context(view.story),
    )


def _teams_actions(department: Unit, visible: set[int]) -> tuple[list[TeamActionList], dict]:
    """The actions of the department's teams in the reader's scope, of the waves whose results
    the reader may already see: during the team-first period a team's plan is the team's own,
    like its figures."""
    team_ids = db.session.scalars(
        sa.select(Unit.id).where(
            Unit.id.in_(subtree_ids(sa.select(sa.literal(department.id)))),
            Unit.kind == UnitKind.TEAM,
        )
    )
    lists, scales = actions_of_teams([team for team in team_ids if team in visible])
    released = [
        TeamActionList(
            item.unit,
            [
                action
                for action in item.actions
                if results_are_released(
                    action.wave_team,
                    team_first_days=team_first_days_for(action.wave_team, current_user),
                )
            ],
        )
        for item in lists
    ]
    return [item for item in released if item.actions], scales
