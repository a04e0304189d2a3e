"""The managers' participation panel: per team in the reader's scope, its responses, expected
staff and percentage, as ``survey.services.participation`` computes them (from k, in steps).

A manager sees only the teams in their scope (``scoped_wave_teams``); the total passes the
gate over exactly those teams."""

from __future__ import annotations

from flask_login import current_user

from survey.access import scoped_wave_teams, scoped_waves
from survey.extensions import db
from survey.models import Unit, Wave, WaveStatus, WaveTeam
from survey.services.participation import Participation, wave_participation


def scoped_participation(wave: Wave) -> Participation | None:
    """The participation of the teams of ``wave`` the current reader may see."""
    teams = db.session.scalars(
        scoped_wave_teams(current_user)
        .join(Unit, WaveTeam.unit_id == Unit.id)
        .where(WaveTeam.wave_id == wave.id)
        .order_by(Unit.name, Unit.slug)
    ).all()
    return wave_participation(wave, teams) if teams else None


def open_waves_participation() -> list[Participation]:
    """The participation in every open wave the current reader sees a team of."""
    waves = db.session.scalars(
        scoped_waves(current_user)
        .where(Wave.status == WaveStatus.OPEN)
        .order_by(Wave.opens_on.desc(), Wave.id.desc())
    ).all()
    found = (scoped_participation(wave) for wave in waves)
    return [participation for participation in found if participation is not None]
