"""What the team's results pages render, for the manager's view and the team's own link alike:
the template context and the PDF for the meeting. The numbers come from
``survey.services.results`` (and ``survey.services.retention`` for a purged wave)."""

from __future__ import annotations

from flask import render_template
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from survey.models import WaveTeam, management_release_date
from survey.services.results import (
    previous_wave_team,
    results_are_released,
    results_ended,
    team_results,
)
from survey.services.retention import purged_team_results
from survey.services.settings import wave_policy
from survey.web.charts import page_figures
from survey.web.pdf import render_pdf


def _not_released_message(wave_team: WaveTeam, team_first_days: int) -> str:
    wave = wave_team.wave
    if not results_ended(wave_team):
        return _(
            "Results appear when the wave has closed (on %(date)s), so that nobody can watch "
            "who answered when.",
            date=format_date(wave.closes_on, "long"),
        )
    return _(
        "The team sees its results first, to discuss them together: they appear here on %(date)s.",
        date=format_date(management_release_date(wave, team_first_days), "long"),
    )


def results_context(wave_team: WaveTeam, *, team_first_days: int) -> dict:
    """The template context of a team's results: the gated results, their figures, the
    reflection prompts, the team's actions of the previous wave, or why nothing is shown yet.
    For a wave whose answers were deleted under retention: only the kept scale means
    (``purged``).

    ``team_first_days`` is the reader's wait after the wave ended (``team_first_days_for``),
    0 for the team's own link. ``released`` says whether the reader may see the results now:
    only then may a page show the team's results link, which shows them to anyone.
    """
    if wave_team.wave.purged_on is not None:
        return {
            "results": None,
            "not_released_message": None,
            "purged": purged_team_results(wave_team),
            "previous_team": previous_wave_team(wave_team),
            "ended": True,
            "released": results_are_released(wave_team, team_first_days=team_first_days),
            **page_figures(None, str(get_locale())),
        }
    released = results_are_released(wave_team, team_first_days=team_first_days)
    results = team_results(wave_team, wave_policy(wave_team.wave)) if released else None
    if results is not None and results.responses.shown:
        previous = results.previous_team
    else:
        previous = previous_wave_team(wave_team) if released else None
    return {
        "results": results,
        "not_released_message": None
        if released
        else _not_released_message(wave_team, team_first_days),
        "previous_team": previous,
        "ended": results_ended(wave_team),
        "released": released,
        "management_release_date": management_release_date(wave_team.wave, team_first_days)
        if results_ended(wave_team) and not released
        else None,
        "purged": None,
        **page_figures(results, str(get_locale())),
    }


def pdf_response(wave_team: WaveTeam, context: dict) -> Response:
    """The team's results as a PDF for the meeting, in the reader's language (WeasyPrint)."""
    html = render_template(
        "results/report.html", wave_team=wave_team, wave=wave_team.wave, **context
    )
    name = f"krachtspiegel-{wave_team.unit.slug}-{wave_team.wave.opens_on.isoformat()}.pdf"
    return render_pdf(html, name)
