"""The team's own read-only results link: the same results without the management parts.

Anyone with the link sees the team's results once the wave has ended; everything on it passed
the anonymity gate, and a team-first period never holds it back (it exists for the team).
"""

import sqlalchemy as sa
from flask import abort, render_template, url_for
from werkzeug.wrappers import Response

from survey.extensions import db
from survey.models import WaveTeam
from survey.team.blueprint import bp
from survey.web.team_pages import pdf_response, results_context


def _wave_team_or_404(results_slug: str) -> WaveTeam:
    wave_team = db.session.scalar(sa.select(WaveTeam).where(WaveTeam.results_slug == results_slug))
    if wave_team is None:
        abort(404)
    return wave_team


@bp.get("/<results_slug>")
def results(results_slug: str) -> str:
    wave_team = _wave_team_or_404(results_slug)
    context = results_context(wave_team, team_first_days=0)
    return render_template(
        "team/results.html",
        wave_team=wave_team,
        wave=wave_team.wave,
        guide_url=url_for("team.meeting_guide", results_slug=results_slug),
        report_url=url_for("team.report", results_slug=results_slug),
        **context,
    )


@bp.get("/<results_slug>/guide")
def meeting_guide(results_slug: str) -> str:
    wave_team = _wave_team_or_404(results_slug)
    context = results_context(wave_team, team_first_days=0)
    return render_template(
        "results/guide.html", wave_team=wave_team, wave=wave_team.wave, **context
    )


@bp.get("/<results_slug>/report.pdf")
def report(results_slug: str) -> Response:
    wave_team = _wave_team_or_404(results_slug)
    context = results_context(wave_team, team_first_days=0)
    if context["results"] is None:
        abort(404)
    return pdf_response(wave_team, context)
