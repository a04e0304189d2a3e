"""What a signed-in reader sees: the units and waves within their scope."""

import sqlalchemy as sa
from flask import abort, render_template, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from survey.access import (
    get_unit_or_404,
    get_wave_or_404,
    get_wave_team_or_404,
    role_required,
    scoped_units,
    scoped_wave_teams,
    scoped_waves,
    subtree_ids,
)
from survey.dashboard.blueprint import bp
from survey.dashboard.participation import open_waves_participation, scoped_participation
from survey.dashboard.trends import team_story_context
from survey.extensions import db
from survey.models import Role, Unit, Wave, WaveTeam
from survey.services.participation import wave_participation
from survey.services.results import team_first_days_for
from survey.services.team_actions import wave_actions
from survey.web.team_pages import pdf_response, results_context

READERS = (Role.ADMIN, Role.QUALITY, Role.MANAGER)


@bp.get("/")
@role_required(*READERS)
def index() -> str:
    units = db.session.scalars(
        scoped_units(current_user).options(selectinload(Unit.children)).order_by(Unit.name)
    ).all()
    visible = {unit.id for unit in units}
    # The tops of the visible forest: units whose parent the reader cannot see.
    roots = [unit for unit in units if unit.parent_id not in visible]
    waves = db.session.scalars(
        scoped_waves(current_user).order_by(Wave.opens_on.desc(), Wave.id.desc())
    ).all()
    return render_template(
        "dashboard/index.html",
        roots=roots,
        visible=visible,
        waves=waves,
        open_participation=open_waves_participation(),
    )


@bp.get("/units/<slug>")
@role_required(*READERS)
def unit(slug: str) -> str:
    unit = get_unit_or_404(slug)
    ancestor_ids = [ancestor.id for ancestor in unit.ancestors()]
    breadcrumbs = db.session.scalars(
        scoped_units(current_user).where(Unit.id.in_(ancestor_ids))
    ).all()
    breadcrumbs.sort(key=lambda ancestor: ancestor_ids.index(ancestor.id))
    teams_below = sa.select(WaveTeam.wave_id).where(
        WaveTeam.unit_id.in_(subtree_ids(sa.select(sa.literal(unit.id))))
    )
    waves = db.session.scalars(
        scoped_waves(current_user)
        .where(Wave.id.in_(teams_below))
        .order_by(Wave.opens_on.desc(), Wave.id.desc())
    ).all()
    return render_template("dashboard/unit.html", unit=unit, breadcrumbs=breadcrumbs, waves=waves)


@bp.get("/waves/<int:wave_id>")
@role_required(*READERS)
def wave(wave_id: int) -> str:
    wave = get_wave_or_404(wave_id)
    teams = db.session.scalars(
        scoped_wave_teams(current_user)
        .join(Unit, WaveTeam.unit_id == Unit.id)
        .where(WaveTeam.wave_id == wave.id)
        .order_by(Unit.name)
    ).all()
    return render_template(
        "dashboard/wave.html", wave=wave, teams=teams, participation=scoped_participation(wave)
    )


def _team_first_days(wave_team: WaveTeam) -> int:
    return team_first_days_for(wave_team, current_user)


@bp.get("/waves/<int:wave_id>/teams/<slug>")
@role_required(*READERS)
def wave_team(wave_id: int, slug: str) -> str:
    wave_team = get_wave_team_or_404(wave_id, slug)
    context = results_context(wave_team, team_first_days=_team_first_days(wave_team))
    links = {"wave_id": wave_team.wave_id, "slug": wave_team.unit.slug}
    # The team's actions, read-only: the team records them through its own link.
    actions = wave_actions(wave_team, context["results"]) if context["released"] else None
    return render_template(
        "dashboard/wave_team.html",
        wave_team=wave_team,
        wave=wave_team.wave,
        actions=actions,
        participation=wave_participation(wave_team.wave, [wave_team]),
        guide_url=url_for("dashboard.meeting_guide", **links),
        report_url=url_for("dashboard.team_report", **links),
        team_link=url_for("team.results", results_slug=wave_team.results_slug, _external=False),
        **team_story_context(wave_team),
        **context,
    )


@bp.get("/waves/<int:wave_id>/teams/<slug>/guide")
@role_required(*READERS)
def meeting_guide(wave_id: int, slug: str) -> str:
    wave_team = get_wave_team_or_404(wave_id, slug)
    context = results_context(wave_team, team_first_days=_team_first_days(wave_team))
    return render_template(
        "results/guide.html", wave_team=wave_team, wave=wave_team.wave, **context
    )


@bp.get("/waves/<int:wave_id>/teams/<slug>/report.pdf")
@role_required(*READERS)
def team_report(wave_id: int, slug: str) -> Response:
    wave_team = get_wave_team_or_404(wave_id, slug)
    context = results_context(wave_team, team_first_days=_team_first_days(wave_team))
    if context["results"] is None:
        abort(404)
    # The manager's PDF tells the team's story too (not the team link's: that is the team's own).
    return pdf_response(wave_team, {**context, **team_story_context(wave_team), "trend_url": None})
