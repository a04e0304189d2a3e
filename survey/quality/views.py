"""The quality officer's pages: the organisation's units × scales for a wave, change since an
earlier wave, trends per unit, the organisation profile and report, and exports. Admins and
quality officers only. The figures come from ``survey.services.organisation_results``; a view
parses the request, checks access, and renders the page or hands its tables to ``download``."""

from __future__ import annotations

import dataclasses

from flask import abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from reports import figures, line_svg
from survey.access import get_unit_or_404, get_wave_or_404, role_required
from survey.errors import render_error
from survey.extensions import db
from survey.models import Role, Wave
from survey.quality.blueprint import bp
from survey.quality.exports import (
    heatmap_table,
    instrument_tables,
    profile_tables,
    response_table_titles,
    response_tables,
    trend_tables,
)
from survey.services import background_use, comparisons, organisation_results
from survey.services.instrument_quality import ICC_FROM_TEAMS, instrument_quality
from survey.services.organisation_results import Heatmap, ScaleTrend, SharedItemTrend
from survey.services.questionnaires import instrument_of
from survey.services.settings import wave_policy
from survey.web.downloads import FORMATS, Table, TableChoice, download, table_choices
from survey.web.pdf import render_pdf

QUALITY = (Role.ADMIN, Role.QUALITY)


def _lang() -> str:
    return str(get_locale())


def _choices(tables: list[Table]) -> list[TableChoice]:
    """The page's tables as CSV links (``survey.web.downloads``)."""
    return table_choices([title for title, _header, _rows in tables])


def _ended_wave_or_404(wave_id: int) -> Wave:
    wave = get_wave_or_404(wave_id)
    if wave not in comparisons.ended_waves():  # ended and past its team-first period
        abort(404)
    return wave


def _fields(result: object) -> dict:
    """A result's fields as template variables (shallow: its cells stay cells)."""
    return {field.name: getattr(result, field.name) for field in dataclasses.fields(result)}


def _background_use_refused(wave) -> tuple[str, int]:
    """409 for a use of ``wave``'s background answers that is gone, or not yet chosen."""
    if wave.background_use == background_use.BREAKDOWN:
        message = _(
            "The response-level export is not available for this wave: its background answers "
            "are used for the breakdowns of the organisation profile. The two could be combined "
            "to find a person's answers, so a wave offers only one of them."
        )
    elif wave.background_use == background_use.ROWS:
        message = _(
            "Breakdowns by background are not available for this wave: its background answers "
            "are used for the response-level export. The two could be combined to find a "
            "person's answers, so a wave offers only one of them."
        )
    else:
        message = _(
            "First choose what this wave's background answers are used for: breakdowns on the "
            "organisation profile, or the response-level export. The two could be combined to "
            "find a person's answers, so a wave offers only one of them."
        )
    return render_error(409, message)


@bp.get("/")
@role_required(*QUALITY)
def index() -> Response | str:
    waves = comparisons.ended_waves()
    if not waves:
        return render_template("quality/empty.html")
    return redirect(url_for("quality.wave", wave_id=waves[-1].id))


def _heatmap(wave_id: int) -> Heatmap:
    """A wave's units × scales table as the request asks for it (also for its exports)."""
    wave = _ended_wave_or_404(wave_id)
    try:
        heatmap = organisation_results.heatmap(
            wave,
            comparisons.ended_waves(),
            compare_id=request.args.get("compare", type=int),
            change=request.args.get("view") == "change",
            under=request.args.get("under"),
            sort=request.args.get("sort", ""),
        )
    except organisation_results.UnitNotInTree:
        abort(404)
    db.session.commit()  # the first reader of an ended wave froze its tree
    return heatmap


@bp.get("/waves/<int:wave_id>")
@role_required(*QUALITY)
def wave(wave_id: int) -> str:
    return render_template(
        "quality/wave.html",
        **_fields(_heatmap(wave_id)),
        response_csvs=table_choices(response_table_titles()),
    )


def _heatmap_download(wave_id: int, fmt: str) -> Response:
    heatmap = _heatmap(wave_id)
    name = f"krachtspiegel-wave-{heatmap.wave.id}-scores"
    return download([heatmap_table(heatmap, _lang())], fmt, name, heatmap.instrument)


@bp.get("/waves/<int:wave_id>/scores.csv")
@role_required(*QUALITY)
def wave_csv(wave_id: int) -> Response:
    return _heatmap_download(wave_id, "csv")


@bp.get("/waves/<int:wave_id>/scores.xlsx")
@role_required(*QUALITY)
def wave_xlsx(wave_id: int) -> Response:
    return _heatmap_download(wave_id, "xlsx")


def _trend_chart(
    waves: list[Wave], rows: list[ScaleTrend] | list[SharedItemTrend], lang: str
) -> figures.Figure:
    """A line per row across ``waves``, with its intervals where they may be shown."""
    return figures.trend_lines(
        [w.name for w in waves],
        [(row.label, row.means, row.intervals) for row in rows],
        decimal_comma=lang == "nl",
    )


@bp.get("/units/<slug>")
@role_required(*QUALITY)
def trends(slug: str) -> Response | str:
    unit = get_unit_or_404(slug)
    lang = _lang()
    trend = organisation_results.unit_trend(unit, comparisons.ended_waves(), lang)
    if not trend.waves:
        return render_template("quality/trends.html", unit=unit, waves=[], scales=[], rows=[])
    try:
        span = organisation_results.scale_trends(
            trend, request.args.get("from", type=int), request.args.get("to", type=int)
        )
    except organisation_results.WaveNotInTrend:
        abort(400)
    waves, core_waves, core_rows = trend.waves, trend.core_waves, trend.core_rows
    tables = trend_tables(unit.name, waves, span.rows, span.first, span.last, core_waves, core_rows)
    if (fmt := request.args.get("format")) in FORMATS:
        name = f"krachtspiegel {unit.name} {_('trend')}"
        return download(tables, fmt, name, instrument_of(waves[-1]), request.args.get("table"))
    drawn = {"trend": _trend_chart(waves, span.rows, lang)}
    if core_rows:
        drawn["core"] = _trend_chart(core_waves, core_rows, lang)
    return render_template(
        "quality/trends.html",
        unit=unit,
        waves=waves,
        scales=trend.scales,
        rows=span.rows,
        first=span.first,
        last=span.last,
        chart=drawn["trend"],
        figures=drawn,
        drawings={name: line_svg.line_chart(figure) for name, figure in drawn.items()},
        core_rows=core_rows,
        core_waves=core_waves,
        csv_tables=_choices(tables),
    )


@bp.get("/waves/<int:wave_id>/report.pdf")
@role_required(*QUALITY)
def report(wave_id: int) -> Response:
    """The organisation's report of a wave, for print: profile, every unit, the organisation's
    trend and how well the questionnaire measured."""
    wave = _ended_wave_or_404(wave_id)
    result = organisation_results.organisation_report(wave, comparisons.ended_waves(), _lang())
    db.session.commit()  # the first reader of an ended wave froze its tree
    html = render_template(
        "quality/report.html",
        tree=result.tree,
        trend=result.trend,
        quality=result.quality,
        icc_from=ICC_FROM_TEAMS,
        organisation=result.organisation,
        **_fields(result.profile),
    )
    name = f"krachtspiegel-organisation-{wave.opens_on.isoformat()}.pdf"
    return render_pdf(html, name, landscape=True)


@bp.get("/waves/<int:wave_id>/profile")
@role_required(*QUALITY)
def profile(wave_id: int) -> Response | str | tuple[str, int]:
    """Modules A, B and C for the organisation and per department, and a background filter
    (only when this wave's background answers are used for breakdowns: ``background_use``)."""
    wave = _ended_wave_or_404(wave_id)
    try:
        result = organisation_results.organisation_profile(wave, request.args.get("background"))
    except organisation_results.UnknownBackground:
        abort(404)
    except background_use.BackgroundUseNotChosen:
        return _background_use_refused(wave)
    db.session.commit()  # the first reader of an ended wave froze its tree
    tables = profile_tables(result, _lang())
    if (fmt := request.args.get("format")) in FORMATS:
        name = f"krachtspiegel {wave.name} {_('Organisation profile')}"
        return download(tables, fmt, name, result.instrument, request.args.get("table"))
    return render_template("quality/profile.html", **_fields(result), csv_tables=_choices(tables))


@bp.post("/waves/<int:wave_id>/background-use")
@role_required(*QUALITY)
def choose_background_use(wave_id: int) -> Response | tuple[str, int]:
    """Dedicate the wave's background answers to breakdowns or to the response-level export,
    once and for all (``survey.services.background_use``)."""
    wave = _ended_wave_or_404(wave_id)
    use = request.form.get("use")
    if use not in background_use.USES:
        abort(400)
    try:
        background_use.choose(wave, use, current_user)
    except background_use.BackgroundUseTaken:
        db.session.rollback()
        return _background_use_refused(wave)
    db.session.commit()
    if use == background_use.BREAKDOWN:
        return redirect(url_for("quality.profile", wave_id=wave.id, _anchor="background-title"))
    return redirect(url_for("quality.wave", wave_id=wave.id, _anchor="background-use"))


@bp.get("/waves/<int:wave_id>/instrument")
@role_required(*QUALITY)
def instrument(wave_id: int) -> str:
    wave = _ended_wave_or_404(wave_id)
    quality = instrument_quality(wave, wave_policy(wave))
    tables = instrument_tables(quality, quality.teams >= ICC_FROM_TEAMS, _lang())
    if (fmt := request.args.get("format")) in FORMATS:
        name = f"krachtspiegel {wave.name} {_('instrument quality')}"
        return download(tables, fmt, name, instrument_of(wave), request.args.get("table"))
    return render_template(
        "quality/instrument.html",
        wave=wave,
        quality=quality,
        icc_from=ICC_FROM_TEAMS,
        csv_tables=_choices(tables),
    )


@bp.get("/waves/<int:wave_id>/responses.<any(csv, xlsx):fmt>")
@role_required(*QUALITY)
def responses(wave_id: int, fmt: str) -> Response | tuple[str, int]:
    """One row per response, made safe (``reports.safe_export``): team names replaced by the
    smallest unit of at least k responses in the wave's own tree, rare background answers
    dropped, rows shuffled, no ids, no dates, no free text. Only when the wave's background
    answers are used for this export, never for breakdowns (``background_use``)."""
    wave = _ended_wave_or_404(wave_id)
    try:
        export = organisation_results.response_export(wave)
    except background_use.BackgroundUseNotChosen as refused:
        if refused.chosen is None:
            return redirect(url_for("quality.wave", wave_id=wave.id, _anchor="background-use"))
        return _background_use_refused(wave)
    db.session.commit()  # the first reader of an ended wave froze its tree
    name = f"krachtspiegel {wave.name} responses"
    return download(
        response_tables(export), fmt, name, export.instrument, request.args.get("table")
    )
