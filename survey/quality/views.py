"""The quality officer's pages: the organisation's units × scales for a wave, change since an
earlier wave, trends per unit, and exports. Admins and quality officers only; every figure goes
through the gate in ``survey.services.comparisons``."""

from __future__ import annotations

import csv
import io

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from questionnaires import Instrument
from questionnaires.codebook import COLUMNS as CODEBOOK_COLUMNS
from questionnaires.codebook import codebook_rows
from reports import figures
from reports.xlsx import workbook_bytes
from survey.access import get_unit_or_404, get_wave_or_404, role_required
from survey.anonymity import Policy
from survey.extensions import db
from survey.models import Role, Unit
from survey.quality import bp
from survey.quality.exports import FORMATS, download, mean_of, n_of
from survey.services import comparisons
from survey.services.responding import WaveState, instrument_of, wave_state

QUALITY = (Role.ADMIN, Role.QUALITY)


def _policy() -> Policy:
    return Policy.from_config(current_app.config)


def _lang() -> str:
    return str(get_locale())


def _ended_wave_or_404(wave_id: int):
    wave = get_wave_or_404(wave_id)
    if wave_state(wave) is not WaveState.CLOSED:
        abort(404)
    return wave


@bp.get("/")
@role_required(*QUALITY)
def index() -> Response | str:
    waves = comparisons.ended_waves()
    if not waves:
        return render_template("quality/empty.html")
    return redirect(url_for("quality.wave", wave_id=waves[-1].id))


def _scales(instrument: Instrument) -> list:
    return list(instrument.scales())


def _heatmap(wave_id: int):
    """Everything the units × scales table of a wave needs (also for its exports)."""
    wave = _ended_wave_or_404(wave_id)
    waves = comparisons.ended_waves()
    earlier = [w for w in waves if w.opens_on < wave.opens_on]
    compare_id = request.args.get("compare", type=int)
    compare = next((w for w in earlier if w.id == compare_id), earlier[-1] if earlier else None)
    # The earlier wave is aggregated only for the change view.
    changing = request.args.get("view") == "change" and compare is not None
    units = db.session.scalars(
        db.select(Unit).where(Unit.archived_on.is_(None)).order_by(Unit.name)
    ).all()
    policy = _policy()
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
    before = (
        comparisons.gated_cells(sums, compare.id, units, policy, only=shown) if changing else {}
    )
    table = []
    for unit, depth in rows:
        row = comparisons.UnitRow(unit, depth, now.get(unit.id, {}))
        for scale in scales if changing else ():
            row.changes[scale.code] = comparisons.change(
                before.get(unit.id, {}).get(scale.code), row.cells.get(scale.code), policy
            )
        table.append(row)
    sort = request.args.get("sort", "")
    if sort in {scale.code for scale in scales}:
        head, rest = table[:1], table[1:]
        rest.sort(
            key=lambda row: (
                row.cells.get(sort) is None or row.cells[sort].mean is None,
                -(row.cells[sort].mean or 0) if row.cells.get(sort) else 0,
            )
        )
        table = head + rest
    return wave, compare, earlier, scales, table, focus, sort


@bp.get("/waves/<int:wave_id>")
@role_required(*QUALITY)
def wave(wave_id: int) -> str:
    wave, compare, earlier, scales, table, focus, sort = _heatmap(wave_id)
    view = "change" if request.args.get("view") == "change" and compare else "scores"
    asked_then = {scale.code for scale in instrument_of(compare).scales()} if compare else set()
    return render_template(
        "quality/wave.html",
        asked_then=asked_then,
        wave=wave,
        compare=compare,
        earlier=earlier,
        scales=scales,
        table=table,
        focus=focus,
        sort=sort,
        view=view,
        waves=comparisons.ended_waves(),
    )


def _export_rows(scales, table) -> tuple[list[str], list[list[object]]]:
    lang = _lang()
    header = [_("Unit"), _("Level"), *[f"{s.code} {s.title.in_language(lang)}" for s in scales]]
    header += [f"n {s.code}" for s in scales]
    suppressed = _("not shown (fewer than %(k)d)", k=_policy().min_group_size)
    body = []
    for row in table:
        means = []
        counts = []
        for scale in scales:
            cell = row.cells.get(scale.code)
            if cell and cell.summary:
                means.append(round(cell.summary.mean, 2))
                counts.append(cell.summary.n)
            else:
                means.append(suppressed if cell and cell.verdict.n else "")
                counts.append("")
        body.append([row.unit.name, row.depth, *means, *counts])
    return header, body


@bp.get("/waves/<int:wave_id>/scores.csv")
@role_required(*QUALITY)
def wave_csv(wave_id: int) -> Response:
    wave, _compare, _earlier, scales, table, _focus, _sort = _heatmap(wave_id)
    header, body = _export_rows(scales, table)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(header)
    writer.writerows(body)
    name = f"krachtspiegel-wave-{wave.id}-scores.csv"
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/waves/<int:wave_id>/scores.xlsx")
@role_required(*QUALITY)
def wave_xlsx(wave_id: int) -> Response:
    wave, _compare, _earlier, scales, table, _focus, _sort = _heatmap(wave_id)
    header, body = _export_rows(scales, table)
    codebook = [row.values() for row in codebook_rows([instrument_of(wave)])]
    content = workbook_bytes(
        [(_("scores"), header, body), ("codebook", CODEBOOK_COLUMNS, codebook)]
    )
    name = f"krachtspiegel-wave-{wave.id}-scores.xlsx"
    return Response(
        content,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _trend_data(unit: Unit) -> dict:
    """Everything the trend page of ``unit`` shows (also for its exports)."""
    all_waves = comparisons.ended_waves()
    units = db.session.scalars(db.select(Unit)).all()
    policy = _policy()
    lang = _lang()
    instruments = {w.id: instrument_of(w) for w in all_waves}
    sums = comparisons.team_scale_sums([w.id for w in all_waves])
    per_wave = {
        w.id: comparisons.gated_cells(sums, w.id, units, policy, only=[unit]).get(unit.id, {})
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
                item_sums, "item_code", w.id, units, policy, only=[unit]
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
        "policy": policy,
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
                "cells": cells,
                "asked": [scale.code in data["asked"][w.id] for w in waves],
                "change": comparisons.change(
                    per_wave[first].get(scale.code), per_wave[last].get(scale.code), data["policy"]
                ),
            }
        )
    chart = figures.trend_lines(
        [w.name for w in waves],
        [
            (
                f"{row['scale'].code} {row['scale'].title.in_language(lang)}",
                [cell.summary.mean if cell and cell.summary else None for cell in row["cells"]],
                [
                    cell.summary.interval() if cell and cell.summary else None
                    for cell in row["cells"]
                ],
            )
            for row in rows
        ],
        decimal_comma=lang == "nl",
    )
    if (fmt := request.args.get("format")) in FORMATS:
        wave_header = [h for w in waves for h in (w.name, "low", "high", "n")]
        table = [
            [
                f"{row['scale'].code} {row['scale'].title.in_language(lang)}",
                *[
                    value
                    for cell in row["cells"]
                    for value in (
                        (mean_of(cell), *(round(x, 2) for x in cell.summary.interval()), n_of(cell))
                        if cell and cell.summary
                        else (mean_of(cell), "", "", "")
                    )
                ],
                *(
                    (
                        round(row["change"].difference, 2),
                        round(row["change"].low, 2),
                        round(row["change"].high, 2),
                        round(row["change"].effect_size, 2),
                        _("yes") if row["change"].clear else _("no"),
                    )
                    if row["change"]
                    else ("", "", "", "", "")
                ),
            ]
            for row in rows
        ]
        change_header = [
            _("Change %(first)s–%(last)s", first=by_id[first].name, last=by_id[last].name),
            "low",
            "high",
            "d",
            _("clear change"),
        ]
        tables = [(unit.name, [_("Scale"), *wave_header, *change_header], table)]
        if data["core_rows"]:
            tables.append(
                (
                    _("Questions shared by the questionnaires"),
                    [
                        _("Question"),
                        *[h for w in data["core_waves"] for h in (w.name, f"n {w.name}")],
                    ],
                    [
                        [row["code"], *[v for c in row["cells"] for v in (mean_of(c), n_of(c))]]
                        for row in data["core_rows"]
                    ],
                )
            )
        return download(
            tables, fmt, f"krachtspiegel {unit.name} {_('trend')}", instrument_of(waves[-1])
        )
    drawn = {"trend": chart}
    if data["core_rows"]:
        drawn["core"] = figures.trend_lines(
            [w.name for w in data["core_waves"]],
            [
                (
                    row["code"],
                    [c.summary.mean if c and c.summary else None for c in row["cells"]],
                    [c.summary.interval() if c and c.summary else None for c in row["cells"]],
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
    units = db.session.scalars(db.select(Unit).where(Unit.archived_on.is_(None))).all()
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
    from survey.services.instrument_quality import ICC_FROM_TEAMS, instrument_quality
    from survey.services.team_pages import render_pdf

    wave = _ended_wave_or_404(wave_id)
    policy = _policy()
    data = _profile_data(wave, policy)
    units = data["units"]
    tree = comparisons.unit_tree_rows(units)
    organisation = tree[0][0]
    trend = _trend_data(organisation)
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


@bp.get("/waves/<int:wave_id>/profile")
@role_required(*QUALITY)
def profile(wave_id: int) -> str:
    """Modules A, B and C for the organisation and per department, and a background filter."""
    wave = _ended_wave_or_404(wave_id)
    policy = _policy()
    data = _profile_data(wave, policy)
    instrument, columns, groups = data["instrument"], data["columns"], data["groups"]
    scale_cells, item_cells = data["scale_cells"], data["item_cells"]
    background_items = [item for item in instrument.all_items() if item.background]
    chosen = request.args.get("background")
    background = next((item for item in background_items if item.code == chosen), None)
    if chosen and background is None:
        abort(404)
    breakdown = (
        comparisons.background_breakdown(wave.id, background.code, policy) if background else None
    )
    if (fmt := request.args.get("format")) in FORMATS:
        lang = _lang()
        unit_header = [h for unit in columns for h in (unit.name, f"n {unit.name}")]
        tables = []
        for section in instrument.sections:
            if section.scales:
                tables.append(
                    (
                        section.title.in_language(lang),
                        [_("Scale"), *unit_header],
                        [
                            [
                                f"{scale.code} {scale.title.in_language(lang)}",
                                *[
                                    value
                                    for unit in columns
                                    for cell in [scale_cells.get(unit.id, {}).get(scale.code)]
                                    for value in (mean_of(cell), n_of(cell))
                                ],
                            ]
                            for scale in section.scales
                        ],
                    )
                )
        for group in groups:
            tables.append(
                (
                    group.title.in_language(lang),
                    [_("Question"), *unit_header],
                    [
                        [
                            f"{item.code} {item.text.in_language(lang)}",
                            *[
                                value
                                for unit in columns
                                for cell in [item_cells.get(unit.id, {}).get(item.code)]
                                for value in (mean_of(cell), n_of(cell))
                            ],
                        ]
                        for item in group.items
                    ],
                )
            )
        if breakdown is not None:
            options = [(o.code, o.label.in_language(lang)) for o in background.options]
            options.append((None, _("not answered")))
            rows = [
                [
                    f"{scale.code} {scale.title.in_language(lang)}",
                    *[
                        value
                        for code, _label in options
                        for summary in [breakdown.by_scale.get(scale.code, {}).get(code)]
                        for value in (
                            (round(summary.mean, 2), summary.n)
                            if summary
                            else (
                                (mean_of(comparisons.HIDDEN_TOO_FEW), "")
                                if scale.code in breakdown.hidden_scales
                                else ("", "")
                            )
                        )
                    ],
                ]
                for scale in instrument.scales()
            ]
            tables.append(
                (
                    background.text.in_language(lang),
                    [_("Scale"), *[h for _code, label in options for h in (label, f"n {label}")]],
                    rows,
                )
            )
        return download(
            tables, fmt, f"krachtspiegel {wave.name} {_('Organisation profile')}", instrument
        )
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


@bp.get("/waves/<int:wave_id>/instrument")
@role_required(*QUALITY)
def instrument(wave_id: int) -> str:
    from survey.services.instrument_quality import ICC_FROM_TEAMS, instrument_quality

    wave = _ended_wave_or_404(wave_id)
    quality = instrument_quality(wave, _policy())
    if (fmt := request.args.get("format")) in FORMATS:
        lang = _lang()

        def rounded(value: float | None) -> object:
            return "" if value is None or value != value else round(value, 3)

        with_icc = quality.teams >= ICC_FROM_TEAMS
        scales = [
            [
                f"{r.scale.code} {r.scale.title.in_language(lang)}",
                r.complete,
                rounded(r.alpha),
                rounded(r.omega),
                *([rounded(r.icc.icc1), rounded(r.icc.icc2)] if with_icc and r.icc else []),
                _("yes") if r.flagged else "",
            ]
            for r in quality.scales
        ]
        items = [
            [r.scale.code, item.code, rounded(item.item_rest), round(item.pct_dont_know, 1)]
            for r in quality.scales
            for item in r.items
        ]
        header = ["Scale", "n", "alpha", "omega", *(["ICC1", "ICC2"] if with_icc else [])]
        tables = [
            (_("Reliability per scale"), [*header, _("below .70")], scales),
            (_("Per question"), ["scale", "item", "item_rest", "pct_dont_know"], items),
        ]
        title = _("instrument quality")
        name = f"krachtspiegel {wave.name} {title}"
        return download(tables, fmt, name, instrument_of(wave))
    return render_template(
        "quality/instrument.html",
        wave=wave,
        quality=quality,
        icc_from=ICC_FROM_TEAMS,
    )


@bp.get("/waves/<int:wave_id>/responses.<any(csv, xlsx):fmt>")
@role_required(*QUALITY)
def responses(wave_id: int, fmt: str) -> Response:
    """One row per response, made safe (``reports.safe_export``): team names replaced by the
    smallest unit of at least k responses, rare background answers dropped, rows shuffled, no
    ids, no dates, no free text."""
    from reports.safe_export import safe_response_rows
    from survey.services.comparisons import response_matrix

    wave = _ended_wave_or_404(wave_id)
    instrument = instrument_of(wave)
    units = db.session.scalars(db.select(Unit)).all()
    by_id = {unit.id: unit for unit in units}

    def path(unit: Unit) -> str:
        names = []
        while unit is not None:
            names.append(unit.name)
            unit = by_id.get(unit.parent_id)
        return " › ".join(reversed(names))

    background = [item.code for item in instrument.all_items() if item.background]
    matrix = response_matrix(wave, instrument)
    export = safe_response_rows(
        matrix,
        {unit.id: unit.parent_id for unit in units},
        {unit.id: path(unit) for unit in units},
        _policy().min_group_size,
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
    notes = [
        [
            _(
                "Background questions left out (a group would be smaller than %(k)d)",
                k=_policy().min_group_size,
            ),
            ", ".join(export.dropped_background) or "–",
        ],
        [
            _("Responses withheld (no group of %(k)d to hide in)", k=_policy().min_group_size),
            export.withheld,
        ],
    ]
    tables = [
        (_("responses"), header, body),
        (_("units"), [_("Unit in the export"), _("Holds the responses of")], labels),
        (_("notes"), ["", ""], notes),
    ]
    return download(tables, fmt, f"krachtspiegel {wave.name} responses", instrument)
