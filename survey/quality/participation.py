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
from survey.web.sparklines import percent_line

QUALITY = (Role.ADMIN, Role.QUALITY)


@bp.get("/participation")
@role_required(*QUALITY)
def participation() -> str:
    # Only waves past their team-first period, as on every quality page.
    summaries = organisation_participation(comparisons.ended_waves())
    rates = [summary.percent for summary in summaries]
    # A line needs two rates to join; the table beside it says the same in words.
    line = percent_line(rates) if sum(rate is not None for rate in rates) > 1 else None
    return render_template(
        "quality/participation.html",
        summaries=list(reversed(summaries)),
        oldest_first=summaries,
        line=line,
    )
