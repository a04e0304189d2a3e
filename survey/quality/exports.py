"""The tables of the quality pages' downloads: aggregates only, hidden cells marked (and the
response-level export, made safe by ``reports.safe_export``).

A page builds its tables as (title, header, rows) with these functions and, when the request
asks for ``?format=csv`` or ``?format=xlsx``, hands them to ``survey.web.downloads.download``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask_babel import gettext as _

from reports.rounding import COEFFICIENT_DECIMALS, MEAN_DECIMALS, rounded, whole_percent
from survey.anonymity import Verdict
from survey.services.comparisons import HIDDEN_TOO_FEW, Breakdown, Cell
from survey.services.organisation_results import Heatmap, Profile, ResponseExport
from survey.web.downloads import Table


def hidden_marker(k: int | None) -> str:
    """What a hidden cell says: with the k of the wave it belongs to (never the settings' k of
    today, which may be lower than the promise the wave was answered under)."""
    if k is None:
        return _("not shown (too few answers)")
    return _("not shown (fewer than %(k)d)", k=k)


def mean_of(cell: Cell | None, k: int | None = None) -> object:
    """A cell's mean (rounded as the pages print it), the hidden marker, or empty when there
    were no answers. ``k``: the wave's k, when the cell does not carry the k it was gated with."""
    if cell is not None and cell.summary is not None:
        return rounded(cell.summary.mean)
    if cell is not None and cell.verdict.n:
        return hidden_marker(cell.min_group_size or k)
    return ""


def n_of(cell: Cell | None) -> object:
    return cell.summary.n if cell is not None and cell.summary is not None else ""


Column = tuple[object, str]  # (key in a row's cells, header)


def cells_table(
    title: str,
    corner: Sequence[str],
    rows: Sequence[tuple[Sequence[object], Mapping[object, Cell | None]]],
    columns: Sequence[Column],
    k: int | None = None,
) -> Table:
    """A table of gated cells: per row its leading values, then mean and n per column.
    ``k``: the wave's k for hidden cells that do not carry their own."""
    header = [*corner, *[h for _key, name in columns for h in (name, f"n {name}")]]
    body = [
        [
            *leading,
            *[
                v
                for key, _name in columns
                for v in (mean_of(cells.get(key), k), n_of(cells.get(key)))
            ],
        ]
        for leading, cells in rows
    ]
    return title, header, body


def _rounded(value: float | None, digits: int = MEAN_DECIMALS) -> object:
    """``value`` rounded as the pages print it (``reports.rounding``), or empty."""
    shown = rounded(value, digits)
    return "" if shown is None else shown


def _coefficient(value: float | None) -> object:
    return _rounded(value, COEFFICIENT_DECIMALS)


def breakdown_cells(
    breakdown: Breakdown, scale_code: str, options: Sequence[object], k: int | None = None
) -> dict[object, Cell]:
    """A background breakdown's figures of one scale as cells, all hidden when any is small.
    ``k``: the wave's k, for the hidden marker."""
    if scale_code in breakdown.hidden_scales:
        hidden = HIDDEN_TOO_FEW if k is None else Cell(HIDDEN_TOO_FEW.verdict, min_group_size=k)
        return dict.fromkeys(options, hidden)
    return {
        option: Cell(Verdict(summary.n), summary)
        for option, summary in breakdown.by_scale.get(scale_code, {}).items()
    }


def trend_tables(unit_name: str, waves, rows, first, last, core_waves, core_rows) -> list[Table]:
    """The trend page's tables: per scale mean, interval and n per wave and the chosen change;
    the questions shared by questionnaire versions, if any. An interval only where the cell may
    show spread (``Cell.interval``)."""
    low, high = _("low"), _("high")
    header = [_("Scale"), *[h for w in waves for h in (w.name, low, high, "n")]]
    header += [
        _("Change %(first)s–%(last)s", first=first.name, last=last.name),
        low,
        high,
        "d",
        _("clear change"),
    ]
    body = []
    for row in rows:
        values = [row.label]
        for cell in row.cells:
            interval = (cell.interval if cell else None) or (None, None)
            values += [mean_of(cell), _rounded(interval[0]), _rounded(interval[1]), n_of(cell)]
        change = row.change
        if change is None:
            values += ["", "", "", "", ""]
        else:
            values += [
                _rounded(change.difference),
                _rounded(change.low),
                _rounded(change.high),
                _coefficient(change.effect_size),
                _("yes") if change.clear else _("no"),
            ]
        body.append(values)
    tables = [(unit_name, header, body)]
    if core_rows:
        columns = [(index, w.name) for index, w in enumerate(core_waves)]
        tables.append(
            cells_table(
                _("Questions shared by the questionnaires"),
                [_("Question")],
                [([row.code], dict(enumerate(row.cells))) for row in core_rows],
                columns,
            )
        )
    return tables


def instrument_tables(quality, with_icc: bool, lang: str) -> list[Table]:
    """The instrument-quality page's tables: per scale, and per question."""
    icc_header = ["ICC(1)", "ICC(2)"] if with_icc else []
    scales = [
        [
            f"{r.scale.code} {r.scale.title.in_language(lang)}",
            r.complete,
            _coefficient(r.alpha),
            _coefficient(r.omega),
            *(
                [
                    _rounded(r.icc.icc1, COEFFICIENT_DECIMALS),
                    _rounded(r.icc.icc2, COEFFICIENT_DECIMALS),
                ]
                if with_icc and r.icc
                else []
            ),
            _("yes") if r.flagged else "",
        ]
        for r in quality.scales
    ]
    k = quality.policy.spread_threshold
    scales += [
        [f"{scale.code} {scale.title.in_language(lang)}", hidden_marker(k), "", ""]
        + (["", ""] if with_icc else [])
        + [""]
        for scale in quality.hidden_scales
    ]
    items = [
        [
            r.scale.code,
            item.code,
            _coefficient(item.item_rest),
            whole_percent(item.pct_dont_know),
        ]
        for r in quality.scales
        for item in r.items
    ]
    return [
        (
            _("Reliability per scale"),
            [_("Scale"), "n", "α", "ω", *icc_header, _("below .70")],
            scales,
        ),
        (
            _("Per question"),
            [_("Scale"), _("Question"), _("Item–rest correlation"), _("Don't know") + " (%)"],
            items,
        ),
    ]


def heatmap_table(heatmap: Heatmap, lang: str) -> Table:
    """The units × scales table as shown (drill-down and sort), mean and n per scale."""
    return cells_table(
        _("scores"),
        [_("Unit"), _("Level")],
        [([row.unit.name, row.depth], row.cells) for row in heatmap.table],
        [(s.code, f"{s.code} {s.title.in_language(lang)}") for s in heatmap.scales],
    )


def _cells_of(cells_by_unit: dict[int, dict[str, Cell]], key: str) -> dict:
    """unit id → the cell of ``key`` (a scale or a question) for that unit."""
    return {unit_id: cells.get(key) for unit_id, cells in cells_by_unit.items()}


def profile_tables(profile: Profile, lang: str) -> list[Table]:
    """The organisation profile's tables: per section its scales, per group its questions, for
    the organisation and each department; and the breakdown by background, if any."""
    units = [(unit.id, unit.name) for unit in profile.columns]
    blocks = [
        (
            section.title,
            _("Scale"),
            [(s.code, s.title) for s in section.scales],
            profile.scale_cells,
        )
        for section in profile.instrument.sections
        if section.scales
    ] + [
        (group.title, _("Question"), [(i.code, i.text) for i in group.items], profile.item_cells)
        for group in profile.groups
    ]
    tables = [
        cells_table(
            title.in_language(lang),
            [header],
            [([f"{code} {text.in_language(lang)}"], _cells_of(cells, code)) for code, text in rows],
            units,
        )
        for title, header, rows, cells in blocks
    ]
    if profile.breakdown is not None:
        tables.append(_breakdown_table(profile, lang))
    return tables


def _breakdown_table(profile: Profile, lang: str) -> Table:
    """Per scale the organisation's mean per answer to the background question."""
    background = profile.background
    options = [(o.code, o.label.in_language(lang)) for o in background.options]
    options.append((None, _("not answered")))
    return cells_table(
        background.text.in_language(lang),
        [_("Scale")],
        [
            (
                [f"{s.code} {s.title.in_language(lang)}"],
                breakdown_cells(
                    profile.breakdown,
                    s.code,
                    [code for code, _label in options],
                    profile.policy.min_group_size,
                ),
            )
            for s in profile.instrument.scales()
        ],
        options,
    )


def response_table_titles() -> list[str]:
    """The titles of ``response_tables``, for the page's links to each as CSV."""
    return [_("responses"), _("units"), _("notes")]


def response_tables(export: ResponseExport) -> list[Table]:
    """The response-level export: the rows, what each unit label holds, and what was left out."""
    k = export.min_group_size
    notes = [
        [
            _("Background questions left out (a group would be smaller than %(k)d)", k=k),
            ", ".join(export.dropped_background) or "–",
        ],
        [
            _("Responses withheld (no group of %(k)d to hide in)", k=k),
            _("fewer than %(k)d", k=k) if export.withheld is None else export.withheld,
        ],
    ]
    responses, units, notes_title = response_table_titles()
    return [
        (responses, export.header, export.rows),
        (units, [_("Unit in the export"), _("Holds the responses of")], export.labels),
        (notes_title, [_("Note"), _("Value")], notes),
    ]
