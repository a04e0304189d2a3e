"""Administration: a wave's personal invitations. The planned reminder rounds and when each
went, and per team how many were invited and used: counts only, a used count shown only when it
and the unused count beside it both reach k
(``survey.services.reminders.overview``). No address, and never who has or has not answered."""

from __future__ import annotations

from flask import render_template

from survey.admin.blueprint import bp
from survey.extensions import db
from survey.models import Wave
from survey.services import reminders
from survey.services.settings import wave_policy
from survey.services.wave_progress import wave_teams


@bp.get("/waves/<int:wave_id>/invitations")
def wave_invitations(wave_id: int) -> str:
    wave = db.get_or_404(Wave, wave_id)
    policy = wave_policy(wave)
    overview = reminders.overview(wave, wave_teams(wave), policy)
    return render_template(
        "admin/waves/invitations.html",
        wave=wave,
        overview=overview,
        k=policy.min_group_size,
    )
