"""What a signed-in reader sees: the units and waves within their scope."""

import sqlalchemy as sa
from flask import current_app, render_template
from flask_login import current_user
from sqlalchemy.orm import selectinload

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
from survey.anonymity import Policy
from survey.dashboard import bp
from survey.extensions import db
from survey.models import Role, Unit, Wave, WaveTeam
from survey.services.results import results_are_released, team_results

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
    return render_template("dashboard/index.html", roots=roots, visible=visible, waves=waves)


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
    return render_template("dashboard/wave.html", wave=wave, teams=teams)


@bp.get("/waves/<int:wave_id>/teams/<slug>")
@role_required(*READERS)
def wave_team(wave_id: int, slug: str) -> str:
    wave_team = get_wave_team_or_404(wave_id, slug)
    results = None
    if results_are_released(wave_team):
        results = team_results(wave_team, Policy.from_config(current_app.config))
    return render_template(
        "dashboard/wave_team.html", wave_team=wave_team, wave=wave_team.wave, results=results
    )
