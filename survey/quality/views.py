"""The quality officer's pages: the organisation's units × scales for a wave, change since an
earlier wave, trends per unit, and exports. Admins and quality officers only; every figure goes
through the gate in ``survey.services.comparisons``."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from questionnaires import Instrument
from reports import figures
from reports.safe_export import safe_response_rows, shown_count
from survey.access import get_unit_or_404, get_wave_or_404, role_required
from survey.anonymity import Policy
from survey.errors import render_error
from survey.extensions import db
from survey.models import Role, Unit
from survey.quality.blueprint import bp
from survey.quality.exports import (
    FORMATS,
    breakdown_cells,
    cells_table,
    download,
    instrument_tables,
    trend_tables,
)
from survey.services import background_use, comparisons
from survey.services.comparisons import response_matrix
from survey.services.instrument_quality import ICC_FROM_TEAMS, instrument_quality
from survey.services.questionnaires import instrument_of
from survey.services.settings import wave_policy
from survey.services.team_pages import render_pdf
from survey.services.wave_tree import TreeUnit, tree_paths, wave_tree

QUALITY = (Role.ADMIN, Role.QUALITY)


def _policy(wave) -> Policy:
    """The gate's rules for ``wave``: never weaker than the promise it was answered under."""
    return wave_policy(wave)


def _lang() -> str:
    return str(get_locale())


def _ended_wave_or_404(wave_id: int):
    wave = get_wave_or_404(wave_id)
    if wave not in comparisons.ended_waves():  # ended and past its team-first period
        abort(404)
    return wave


def _frozen_tree(wave) -> list[TreeUnit]:
    """``wave``'s units as they stood when it ended; the first reader freezes them."""
    units = wave_tree(wave)
    db.session.commit()
    return units


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


def _scales(instrument: Instrument) -> list:
    return list(instrument.scales())


def _heatmap(wave_id: int) -> dict:
    """The template context of a wave's units × scales table (also used by its exports)."""
    wave = _ended_wave_or_404(wave_id)
    waves = comparisons.ended_waves()
    earlier = [w for w in waves if w.opens_on < wave.opens_on]
    compare_id = request.args.get("compare", type=int)
    compare = next((w for w in earlier if w.id == compare_id), earlier[-1] if earlier else None)
    # The earlier wave is aggregated only for the change view.
    changing = request.args.get("view") == "change" and compare is not None
    # Each wave's units grouped as they stood when it ended (class 10 of issue 14).
    units = _frozen_tree(wave)
    compare_units = _frozen_tree(compare) if changing else units
    policy = _policy(wave)
    compare_policy = _policy(compare) if changing else policy
    sums = comparisons.team_scale_sums([wave.id] + ([compare.id] if changing else []))
    scales = _scales(instrument_of(wave))
    under_slug = request.args.get("under")
    rows = comparisons.unit_tree_rows(units)
    if under_slug:
        focus = next((unit for unit, _ in rows if unit.slug == under_slug), None)
        if focus is None:
            abort(404)
        rows = [
            (unit, depth)
            for unit, depth in rows
            if unit.id == focus.id or unit.parent_id == focus.id
        ]
    else:
        focus = None
        rows = [(unit, depth) for unit, depth in rows if depth <= 1]
    shown = [unit for unit, _depth in rows]
    now = comparisons.gated_cells(sums, wave.id, units, policy, only=shown)
    shown_ids = {unit.id for unit in shown}
    before = (
        comparisons.gated_cells(
            sums,
            compare.id,
            compare_units,
            compare_policy,
            only=[unit for unit in compare_units if unit.id in shown_ids],
        )
        if changing
        else {}
    )
    table = []
    for unit, depth in rows:
        row = comparisons.UnitRow(unit, depth, now.get(unit.id, {}))
        for scale in scales if changing else ():
            row.changes[scale.code] = comparisons.change(
                before.get(unit.id, {}).get(scale.code),
                row.cells.get(scale.code),
                policy.stricter(compare_policy),
            )
        table.append(row)
    sort = request.args.get("sort", "")
    if sort in {scale.code for scale in scales}:
        # The first row (the organisation or the unit drilled into) stays on top; the rest go
        # from the highest mean down, hidden and empty cells last.
        means = [row.cells[sort].mean if sort in row.cells else None for row in table[1:]]
        ranked = sorted(
            zip(means, table[1:], strict=True), key=lambda p: (p[0] is None, -(p[0] or 0))
        )
        table = table[:1] + [row for _mean, row in ranked]
    view = "change" if changing else "scores"
    return {
        "wave": wave,
        "compare": compare,
        "earlier": earlier,
        "scales": scales,
        "table": table,
        "focus": focus,
        "sort": sort,
        "view": view,
        "asked_then": {s.code for s in instrument_of(compare).scales()} if changing else set(),
        "has_background": any(item.background for item in instrument_of(wave).all_items()),
    }


@bp.get("/waves/<int:wave_id>")
@role_required(*QUALITY)
def wave(wave_id: int) -> str:
    return render_template(
        "quality/wave.html", waves=comparisons.ended_waves(), **_heatmap(wave_id)
    )


def _heatmap_download(wave_id: int, fmt: str) -> Response:
    heatmap = _heatmap(wave_id)
    wave, scales, table = heatmap["wave"], heatmap["scales"], heatmap["table"]
    lang = _lang()
    tables = [
        cells_table(
            _("scores"),
            [_("Unit"), _("Level")],
            [([row.unit.name, row.depth], row.cells) for row in table],
            [(s.code, f"{s.code} {s.title.in_language(lang)}") for s in scales],
        )
    ]
    return download(tables, fmt, f"krachtspiegel-wave-{wave.id}-scores", instrument_of(wave))


@bp.get("/waves/<int:wave_id>/scores.csv")
@role_required(*QUALITY)
def wave_csv(wave_id: int) -> Response:
    return _heatmap_download(wave_id, "csv")


@bp.get("/waves/<int:wave_id>/scores.xlsx")
@role_required(*QUALITY)
def wave_xlsx(wave_id: int) -> Response:
    return _heatmap_download(wave_id, "xlsx")


def _trend_data(unit: Unit) -> dict:
    """Everything the trend page of ``unit`` shows (also for its exports)."""
    all_waves = comparisons.ended_waves()
    units = db.session.scalars(db.select(Unit)).all()
    policies = {w.id: _policy(w) for w in all_waves}
    lang = _lang()
    instruments = {w.id: instrument_of(w) for w in all_waves}
    sums = comparisons.team_scale_sums([w.id for w in all_waves])
    per_wave = {
        w.id: comparisons.gated_cells(sums, w.id, units, policies[w.id], only=[unit]).get(
            unit.id, {}
        )
        for w in all_waves
    }
    waves = [w for w in all_waves if per_wave[w.id]]
    asked = {w.id: {scale.code for scale in instruments[w.id].scales()} for w in all_waves}
    scales = list(instruments[waves[-1].id].scales()) if waves else []
    # Items asked in more than one version (e.g. the core items a pulse shares with the full
    # questionnaire) put the waves of every version on one axis.
    versions_of: dict[str, set[int]] = {}
    for w in all_waves:
        for item in instruments[w.id].all_items():
            if item.item_type.is_likert:
                versions_of.setdefault(item.code, set()).add(w.questionnaire_version_id)
    shared = sorted(code for code, versions in versions_of.items() if len(versions) > 1)
    core_rows, core_waves = [], []
    if shared:
        item_sums = comparisons.team_item_sums([w.id for w in all_waves], shared)
        item_cells = {
            w.id: comparisons.pooled_cells(
                item_sums, "item_code", w.id, units, policies[w.id], only=[unit]
            ).get(unit.id, {})
            for w in all_waves
        }
        core_waves = [w for w in all_waves if item_cells[w.id]]
        texts = {}
        for w in all_waves:
            for item in instruments[w.id].all_items():
                texts.setdefault(item.code, item.text)
        core_rows = [
            {
                "code": code,
                "text": texts[code],
                "cells": [item_cells[w.id].get(code) for w in core_waves],
                "asked": [
                    code in {i.code for i in instruments[w.id].all_items()} for w in core_waves
                ],
            }
            for code in shared
        ]
    return {
        "waves": waves,
        "scales": scales,
        "per_wave": per_wave,
        "asked": asked,
        "core_rows": core_rows,
        "core_waves": core_waves,
        "policies": policies,
        "lang": lang,
    }


@bp.get("/units/<slug>")
@role_required(*QUALITY)
def trends(slug: str) -> str:
    unit = get_unit_or_404(slug)
    data = _trend_data(unit)
    waves, scales, per_wave = data["waves"], data["scales"], data["per_wave"]
    if not waves:
        return render_template("quality/trends.html", unit=unit, waves=[], scales=[], rows=[])
    first = request.args.get("from", type=int) or waves[0].id
    last = request.args.get("to", type=int) or waves[-1].id
    by_id = {w.id: w for w in waves}
    if first not in by_id or last not in by_id:
        abort(400)
    rows = []
    lang = data["lang"]
    for scale in scales:
        cells = [per_wave[w.id].get(scale.code) for w in waves]
        rows.append(
            {
                "scale": scale,
                "label": f"{scale.code} {scale.title.in_language(lang)}",
                "cells": cells,
                "asked": [scale.code in data["asked"][w.id] for w in waves],
                "change": comparisons.change(
                    per_wave[first].get(scale.code),
                    per_wave[last].get(scale.code),
                    data["policies"][first].stricter(data["policies"][last]),
                ),
            }
        )
    chart = figures.trend_lines(
        [w.name for w in waves],
        [
            (
                f"{row['scale'].code} {row['scale'].title.in_language(lang)}",
                [cell.summary.mean if cell and cell.summary else None for cell in row["cells"]],
                [cell.interval if cell else None for cell in row["cells"]],
            )
            for row in rows
        ],
        decimal_comma=lang == "nl",
    )
    if (fmt := request.args.get("format")) in FORMATS:
        tables = trend_tables(
            unit.name, waves, rows, by_id[first], by_id[last], data["core_waves"], data["core_rows"]
        )
        title = _("trend")
        return download(tables, fmt, f"krachtspiegel {unit.name} {title}", instrument_of(waves[-1]))
    drawn = {"trend": chart}
    if data["core_rows"]:
        drawn["core"] = figures.trend_lines(
            [w.name for w in data["core_waves"]],
            [
                (
                    row["code"],
                    [c.summary.mean if c and c.summary else None for c in row["cells"]],
                    [c.interval if c else None for c in row["cells"]],
                )
                for row in data["core_rows"]
            ],
            decimal_comma=lang == "nl",
        )
    return render_template(
        "quality/trends.html",
        unit=unit,
        waves=waves,
        scales=scales,
        rows=rows,
        first=by_id[first],
        last=by_id[last],
        chart=chart,
        figures=drawn,
        core_rows=data["core_rows"],
        core_waves=data["core_waves"],
    )


def _profile_data(wave, policy: Policy) -> dict:
    """Modules A and B per scale, and module C per question, for the organisation and each
    department (the columns), pooled over the teams that meet k."""
    instrument = instrument_of(wave)
    units = _frozen_tree(wave)
    columns = [unit for unit, depth in comparisons.unit_tree_rows(units) if depth <= 1]
    sums = comparisons.team_scale_sums([wave.id])
    scale_cells = comparisons.gated_cells(sums, wave.id, units, policy)
    groups = [
        group for group in instrument.groups() if any(i.item_type.is_likert for i in group.items)
    ]
    item_codes = [item.code for group in groups for item in group.items]
    item_cells = comparisons.pooled_cells(
        comparisons.team_item_sums([wave.id], item_codes), "item_code", wave.id, units, policy
    )
    return {
        "instrument": instrument,
        "units": units,
        "columns": columns,
        "scale_cells": scale_cells,
        "groups": groups,
        "item_cells": item_cells,
    }


@bp.get("/waves/<int:wave_id>/report.pdf")
@role_required(*QUALITY)
def report(wave_id: int) -> Response:
    """The organisation's report of a wave, for print: profile, every unit, the organisation's
    trend and how well the questionnaire measured."""
    wave = _ended_wave_or_404(wave_id)
    policy = _policy(wave)
    data = _profile_data(wave, policy)
    units = data["units"]
    tree = comparisons.unit_tree_rows(units)
    organisation = tree[0][0]
    # The trend spans waves: it follows the organisation as it is now.
    trend = _trend_data(db.session.get(Unit, organisation.id))
    html = render_template(
        "quality/report.html",
        wave=wave,
        tree=tree,
        trend=trend,
        quality=instrument_quality(wave, policy),
        icc_from=ICC_FROM_TEAMS,
        organisation=organisation,
        **data,
    )
    name = f"krachtspiegel-organisation-{wave.opens_on.isoformat()}.pdf"
    return render_pdf(html, name, landscape=True)


def _cells_of(cells_by_unit: dict[int, dict[str, comparisons.Cell]], key: str) -> dict:
    """unit id → the cell of ``key`` (a scale or a question) for that unit."""
    return {unit_id: cells.get(key) for unit_id, cells in cells_by_unit.items()}


@bp.get("/waves/<int:wave_id>/profile")
@role_required(*QUALITY)
def profile(wave_id: int) -> Response | str | tuple[str, int]:
    """Modules A, B and C for the organisation and per department, and a background filter
    (only when this wave's background answers are used for breakdowns: ``background_use``)."""
    wave = _ended_wave_or_404(wave_id)
    policy = _policy(wave)
    data = _profile_data(wave, policy)
    instrument, columns, groups = data["instrument"], data["columns"], data["groups"]
    scale_cells, item_cells = data["scale_cells"], data["item_cells"]
    background_items = [item for item in instrument.all_items() if item.background]
    chosen = request.args.get("background")
    background = next((item for item in background_items if item.code == chosen), None)
    if chosen and background is None:
        abort(404)
    if background is not None and not background_use.allows(wave, background_use.BREAKDOWN):
        return _background_use_refused(wave)
    breakdown = (
        comparisons.background_breakdown(wave.id, background.code, policy) if background else None
    )
    if (fmt := request.args.get("format")) in FORMATS:
        lang = _lang()
        units = [(unit.id, unit.name) for unit in columns]
        tables = [
            cells_table(
                section.title.in_language(lang),
                [_("Scale")],
                [
                    ([f"{s.code} {s.title.in_language(lang)}"], _cells_of(scale_cells, s.code))
                    for s in section.scales
                ],
                units,
            )
            for section in instrument.sections
            if section.scales
        ]
        tables += [
            cells_table(
                group.title.in_language(lang),
                [_("Question")],
                [
                    ([f"{i.code} {i.text.in_language(lang)}"], _cells_of(item_cells, i.code))
                    for i in group.items
                ],
                units,
            )
            for group in groups
        ]
        if breakdown is not None:
            options = [(o.code, o.label.in_language(lang)) for o in background.options]
            options.append((None, _("not answered")))
            tables.append(
                cells_table(
                    background.text.in_language(lang),
                    [_("Scale")],
                    [
                        (
                            [f"{s.code} {s.title.in_language(lang)}"],
                            breakdown_cells(
                                breakdown,
                                s.code,
                                [code for code, _label in options],
                                policy.min_group_size,
                            ),
                        )
                        for s in instrument.scales()
                    ],
                    options,
                )
            )
        title = _("Organisation profile")
        return download(tables, fmt, f"krachtspiegel {wave.name} {title}", instrument)
    return render_template(
        "quality/profile.html",
        wave=wave,
        instrument=instrument,
        columns=columns,
        scale_cells=scale_cells,
        groups=groups,
        item_cells=item_cells,
        background_items=background_items,
        background=background,
        breakdown=breakdown,
    )


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
    quality = instrument_quality(wave, _policy(wave))
    if (fmt := request.args.get("format")) in FORMATS:
        tables = instrument_tables(quality, quality.teams >= ICC_FROM_TEAMS, _lang())
        title = _("instrument quality")
        return download(tables, fmt, f"krachtspiegel {wave.name} {title}", instrument_of(wave))
    return render_template(
        "quality/instrument.html",
        wave=wave,
        quality=quality,
        icc_from=ICC_FROM_TEAMS,
    )


@bp.get("/waves/<int:wave_id>/responses.<any(csv, xlsx):fmt>")
@role_required(*QUALITY)
def responses(wave_id: int, fmt: str) -> Response | tuple[str, int]:
    """One row per response, made safe (``reports.safe_export``): team names replaced by the
    smallest unit of at least k responses in the wave's own tree, rare background answers
    dropped, rows shuffled, no ids, no dates, no free text. Only when the wave's background
    answers are used for this export, never for breakdowns (``background_use``)."""
    wave = _ended_wave_or_404(wave_id)
    instrument = instrument_of(wave)
    background = [item.code for item in instrument.all_items() if item.background]
    if background and wave.background_use is None:
        return redirect(url_for("quality.wave", wave_id=wave.id, _anchor="background-use"))
    if background and not background_use.allows(wave, background_use.ROWS):
        return _background_use_refused(wave)
    units = _frozen_tree(wave)
    k = _policy(wave).min_group_size
    export = safe_response_rows(
        response_matrix(wave, instrument),
        {unit.id: unit.parent_id for unit in units},
        tree_paths(units),
        k,
        background,
    )
    rows = export.rows.copy()
    rows.insert(1, "wave", wave.name)
    header = [str(column) for column in rows.columns]
    body = [
        ["" if value != value else value for value in record]
        for record in rows.itertuples(index=False, name=None)
    ]
    labels = [[label, "; ".join(names)] for label, names in export.labels.items()]
    withheld = shown_count(export.withheld, k)
    notes = [
        [
            _("Background questions left out (a group would be smaller than %(k)d)", k=k),
            ", ".join(export.dropped_background) or "–",
        ],
        [
            _("Responses withheld (no group of %(k)d to hide in)", k=k),
            _("fewer than %(k)d", k=k) if withheld is None else withheld,
        ],
    ]
    tables = [
        (_("responses"), header, body),
        (_("units"), [_("Unit in the export"), _("Holds the responses of")], labels),
        (_("notes"), ["", ""], notes),
    ]
    return download(tables, fmt, f"krachtspiegel {wave.name} responses", instrument)
