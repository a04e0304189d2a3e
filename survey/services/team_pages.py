"""What the team's results pages need, for the manager's view and the team's own link alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import render_template
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from questionnaires import Text
from survey.access import manages_team
from survey.models import Account, WaveState, WaveTeam, management_release_date
from survey.services.charts import page_figures
from survey.services.questionnaires import instrument_of
from survey.services.results import previous_wave_team, results_are_released, team_results
from survey.services.retention import retained_results
from survey.services.settings import wave_policy, wave_team_first_days

#: A team agrees on one to three actions per wave: few enough to actually do.
MAX_ACTIONS = 3
PDF_STYLESHEET = Path(__file__).parents[1] / "static" / "css" / "report.css"


def results_ended(wave_team: WaveTeam) -> bool:
    return wave_team.wave.state() is WaveState.CLOSED


def team_first_days_for(wave_team: WaveTeam, reader: Account) -> int:
    """How long after the wave ended ``reader`` waits for the team's results: not at all for
    the team's own manager (``manages_team``), who discusses them with the team; the
    organisation's team-first period for everyone else: department managers, quality officers
    and administrators. (The team's own link waits for nothing: ``survey.team.views``.)"""
    if manages_team(reader, wave_team.unit_id):
        return 0
    return wave_team_first_days(wave_team.wave)


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


@dataclass(frozen=True)
class KeptFigure:
    scale_code: str
    title: Text | None
    n: int
    mean: float
    sd: float | None


@dataclass(frozen=True)
class Purged:
    """What a team's page shows of a wave whose answers were deleted under retention."""

    on: date
    kept: list[KeptFigure]


def _purged(wave_team: WaveTeam) -> Purged:
    """The team's kept scale means, in the questionnaire's order, through the gate again (k may
    have been raised since they were kept)."""
    wave = wave_team.wave
    k = wave_policy(wave).min_group_size
    rows = {row.scale_code: row for row in retained_results(wave.id, wave_team.unit_id)}
    titles = {scale.code: scale.title for scale in instrument_of(wave).scales()}
    order = list(titles) + sorted(set(rows) - set(titles))
    return Purged(
        on=wave.purged_on,
        kept=[
            KeptFigure(code, titles.get(code), rows[code].n, rows[code].mean, rows[code].sd)
            for code in order
            if code in rows and rows[code].n >= k
        ],
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
            "purged": _purged(wave_team),
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


def _fetch_nothing(url: str, *args: object, **kwargs: object) -> dict:
    """The report is self-contained (inline SVG, one stylesheet): it never fetches a URL."""
    raise ValueError(f"the PDF report does not load external resources ({url[:80]})")


def render_pdf(html: str, filename: str, *, landscape: bool = False) -> Response:
    """HTML to a PDF response (WeasyPrint) with the report stylesheet; nothing is fetched."""
    from weasyprint import CSS, HTML  # imported here: only the PDF needs it

    stylesheets = [CSS(filename=str(PDF_STYLESHEET))]
    if landscape:
        stylesheets.append(CSS(string="@page { size: A4 landscape; }"))
    pdf = HTML(string=html, url_fetcher=_fetch_nothing).write_pdf(stylesheets=stylesheets)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def pdf_response(wave_team: WaveTeam, context: dict) -> Response:
    """The team's results as a PDF for the meeting, in the reader's language (WeasyPrint)."""
    html = render_template(
        "results/report.html", wave_team=wave_team, wave=wave_team.wave, **context
    )
    name = f"krachtspiegel-{wave_team.unit.slug}-{wave_team.wave.opens_on.isoformat()}.pdf"
    return render_pdf(html, name)
