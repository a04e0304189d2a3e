"""The organisation's participation over the ended waves (quality officers and admins): per
wave the responses and expected staff of the teams shown, and their percentage
(``survey.services.participation.organisation_participation``)."""

from __future__ import annotations

from flask import render_template

from survey.access import role_required
from survey.models import Role
from survey.quality.blueprint import bp
from survey.services import comparisons
from survey.services.participation import organisation_participation

QUALITY = (Role.ADMIN, Role.QUALITY)


@bp.get("/participation")
@role_required(*QUALITY)
def participation() -> str:
    # Only waves past their team-first period, as on every quality page.
    summaries = organisation_participation(comparisons.ended_waves())
    return render_template("quality/participation.html", summaries=list(reversed(summaries)))
