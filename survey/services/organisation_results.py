"""The organisation's results for the quality officer, through the anonymity gate.

Everything the quality pages show comes from here, as the team pages' figures come from
``survey.services.results``: the units × scales table of a wave (``heatmap``: scores or change
since an earlier wave, drill-down, sort), the trend of a unit across waves (``unit_trend`` and
``scale_trends``: scales, and the questions that questionnaire versions share), the organisation
profile (``organisation_profile``: modules A, B and C per department, and a breakdown by
background), the organisation report (``organisation_report``) and the response-level export
(``response_export``).

Every figure passes the gate of ``survey.services.comparisons`` under the rules of the wave it
belongs to (``wave_policy``), and a wave's units are grouped as they stood when it ended
(``wave_tree``: its first reader freezes the tree; that flushes, the caller commits). A wave's
background answers serve one use only (``background_use.require``).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from questionnaires import Group, Instrument, Item, Scale, Text
from reports.safe_export import safe_response_rows, shown_count
from reports.statistics import Change
from survey.anonymity import Policy
from survey.extensions import db
from survey.models import Unit, Wave
from survey.services import background_use, comparisons
from survey.services.comparisons import Breakdown, Cell, UnitRow
from survey.services.instrument_quality import InstrumentQuality, instrument_quality
from survey.services.questionnaires import instrument_of
from survey.services.settings import wave_policy
from survey.services.wave_tree import TreeUnit, tree_paths, wave_tree

TreeRow = tuple[TreeUnit, int]  # a unit of a wave's tree and its depth


class UnitNotInTree(LookupError):
    """The unit to drill into is not in the wave's tree."""


class WaveNotInTrend(LookupError):
    """A wave to compare has no figures for the unit (or is not an ended wave)."""


class UnknownBackground(LookupError):
    """The wave's questionnaire has no background question of that code."""


# The units × scales table -----------------------------------------------------------------------


@dataclass(frozen=True)
class Heatmap:
    wave: Wave
    #: Every ended wave, oldest first; ``earlier``: those that opened before ``wave``.
    waves: list[Wave]
    earlier: list[Wave]
    #: The earlier wave chosen to compare with (the latest one unless another was asked for).
    compare: Wave | None
    instrument: Instrument
    scales: list[Scale]
    #: The organisation and its departments, or the unit drilled into (``focus``) and its
    #: children; the first row is always the organisation or the focus.
    table: list[UnitRow]
    focus: TreeUnit | None
    #: The scale code the rows are sorted by, or "" (as asked: it may be no scale's code).
    sort: str
    #: "change" (since ``compare``) or "scores".
    view: str
    #: The scales ``compare``'s questionnaire asked (in the change view).
    asked_then: set[str]
    has_background: bool


def heatmap(
    wave: Wave,
    waves: list[Wave],
    *,
    compare_id: int | None = None,
    change: bool = False,
    under: str | None = None,
    sort: str = "",
) -> Heatmap:
    """``wave``'s units × scales: the organisation and its departments, or (``under``: a unit's
    slug in the wave's tree) that unit and its children; with ``change``, the change per scale
    since an earlier wave (``compare_id``, by default the latest); sorted by the scale ``sort``.

    ``waves``: the ended waves, oldest first. Raises ``UnitNotInTree`` for an unknown ``under``.
    """
    earlier = [w for w in waves if w.opens_on < wave.opens_on]
    compare = next((w for w in earlier if w.id == compare_id), earlier[-1] if earlier else None)
    # The earlier wave is aggregated only for the change view.
    changing = change and compare is not None
    # Each wave's units grouped as they stood when it ended (class 10 of issue 14).
    units = wave_tree(wave)
    compare_units = wave_tree(compare) if changing else units
    policy = wave_policy(wave)
    compare_policy = wave_policy(compare) if changing else policy
    sums = comparisons.team_scale_sums([wave.id] + ([compare.id] if changing else []))
    instrument = instrument_of(wave)
    scales = list(instrument.scales())
    rows, focus = drill_down(comparisons.unit_tree_rows(units), under)
    shown = [unit for unit, _depth in rows]
    now = comparisons.gated_cells(sums, wave.id, units, policy, only=shown)
    table = [UnitRow(unit, depth, now.get(unit.id, {})) for unit, depth in rows]
    if changing:
        shown_ids = {unit.id for unit in shown}
        before = comparisons.gated_cells(
            sums,
            compare.id,
            compare_units,
            compare_policy,
            only=[unit for unit in compare_units if unit.id in shown_ids],
        )
        _add_changes(table, before, scales, policy.stricter(compare_policy))
    if sort in {scale.code for scale in scales}:
        table = sorted_by_scale(table, sort)
    return Heatmap(
        wave=wave,
        waves=waves,
        earlier=earlier,
        compare=compare,
        instrument=instrument,
        scales=scales,
        table=table,
        focus=focus,
        sort=sort,
        view="change" if changing else "scores",
        asked_then={s.code for s in instrument_of(compare).scales()} if changing else set(),
        has_background=any(item.background for item in instrument.all_items()),
    )


def drill_down(rows: list[TreeRow], under: str | None) -> tuple[list[TreeRow], TreeUnit | None]:
    """The rows of the tree a heatmap shows, and the unit drilled into: without ``under``, the
    organisation and its departments; with it (a slug), that unit and its children.

    Raises ``UnitNotInTree`` when no unit of ``rows`` has the slug ``under``."""
    if not under:
        return [(unit, depth) for unit, depth in rows if depth <= 1], None
    focus = next((unit for unit, _depth in rows if unit.slug == under), None)
    if focus is None:
        raise UnitNotInTree(under)
    return [
        (unit, depth) for unit, depth in rows if unit.id == focus.id or unit.parent_id == focus.id
    ], focus


def sorted_by_scale(table: list[UnitRow], scale_code: str) -> list[UnitRow]:
    """The rows by their mean on ``scale_code``, highest first, hidden and empty cells last
    (in their order); the first row (the organisation or the unit drilled into) stays on top."""

    def key(row: UnitRow) -> tuple[bool, float]:
        cell = row.cells.get(scale_code)
        mean = cell.mean if cell is not None else None
        return mean is None, -(mean or 0)

    return table[:1] + sorted(table[1:], key=key)


def _add_changes(
    table: list[UnitRow],
    before: dict[int, dict[str, Cell]],
    scales: list[Scale],
    policy: Policy,
) -> None:
    """Each row's change per scale since the earlier wave (``before``), where both may show."""
    for row in table:
        for scale in scales:
            row.changes[scale.code] = comparisons.change(
                before.get(row.unit.id, {}).get(scale.code), row.cells.get(scale.code), policy
            )


# A unit's trend across waves --------------------------------------------------------------------


class _AcrossWaves:
    """A row of cells, one per wave: what a trend chart draws of it."""

    cells: list[Cell | None]

    @property
    def means(self) -> list[float | None]:
        return [cell.summary.mean if cell and cell.summary else None for cell in self.cells]

    @property
    def intervals(self) -> list[tuple[float, float] | None]:
        return [cell.interval if cell else None for cell in self.cells]


@dataclass(frozen=True)
class SharedItemTrend(_AcrossWaves):
    """A question asked in more than one questionnaire version, per wave of ``core_waves``."""

    code: str
    text: Text
    cells: list[Cell | None]
    #: Per wave: whether its questionnaire asked the question.
    asked: list[bool]

    @property
    def label(self) -> str:
        return self.code


@dataclass(frozen=True)
class UnitTrend:
    """What the trend page of a unit shows, and the organisation report's trend."""

    unit: Unit
    #: The ended waves with figures for the unit, oldest first.
    waves: list[Wave]
    #: The scales of the latest of those waves.
    scales: list[Scale]
    #: wave id → scale code → cell, for every ended wave (empty where the unit has none).
    per_wave: dict[int, dict[str, Cell]]
    #: wave id → the scale codes its questionnaire asked.
    asked: dict[int, set[str]]
    policies: dict[int, Policy]
    #: The waves with figures on the questions shared by questionnaire versions, and those.
    core_waves: list[Wave]
    core_rows: list[SharedItemTrend]
    #: The language of the labels.
    lang: str


@dataclass(frozen=True)
class ScaleTrend(_AcrossWaves):
    scale: Scale
    #: "code title" in the trend's language.
    label: str
    #: Per wave of the trend: the cell, and whether its questionnaire asked the scale.
    cells: list[Cell | None]
    asked: list[bool]
    #: Between the two waves compared, where both may show spread.
    change: Change | None


@dataclass(frozen=True)
class ScaleTrends:
    """A unit's scales across its waves, with the change from ``first`` to ``last``."""

    first: Wave
    last: Wave
    rows: list[ScaleTrend]


def unit_trend(unit: Unit, waves: list[Wave], lang: str) -> UnitTrend:
    """``unit``'s figures in each of ``waves`` (the ended waves, oldest first), grouped by the
    current tree: a trend follows the unit as it is now."""
    units = db.session.scalars(sa.select(Unit)).all()
    policies = {w.id: wave_policy(w) for w in waves}
    instruments = {w.id: instrument_of(w) for w in waves}
    sums = comparisons.team_scale_sums([w.id for w in waves])
    per_wave = {
        w.id: comparisons.gated_cells(sums, w.id, units, policies[w.id], only=[unit]).get(
            unit.id, {}
        )
        for w in waves
    }
    shown = [w for w in waves if per_wave[w.id]]
    core_waves, core_rows = _shared_item_trends(unit, waves, units, instruments, policies)
    return UnitTrend(
        unit=unit,
        waves=shown,
        scales=list(instruments[shown[-1].id].scales()) if shown else [],
        per_wave=per_wave,
        asked={w.id: {scale.code for scale in instruments[w.id].scales()} for w in waves},
        policies=policies,
        core_waves=core_waves,
        core_rows=core_rows,
        lang=lang,
    )


def shared_item_codes(waves: list[Wave], instruments: dict[int, Instrument]) -> list[str]:
    """The 1–5 questions asked in more than one questionnaire version among ``waves`` (e.g. the
    core questions a pulse shares with the full questionnaire), by code."""
    versions_of: dict[str, set[int]] = {}
    for w in waves:
        for item in instruments[w.id].all_items():
            if item.item_type.is_likert:
                versions_of.setdefault(item.code, set()).add(w.questionnaire_version_id)
    return sorted(code for code, versions in versions_of.items() if len(versions) > 1)


def _shared_item_trends(
    unit: Unit,
    waves: list[Wave],
    units: list[Unit],
    instruments: dict[int, Instrument],
    policies: dict[int, Policy],
) -> tuple[list[Wave], list[SharedItemTrend]]:
    """The shared questions put the waves of every version on one axis."""
    shared = shared_item_codes(waves, instruments)
    if not shared:
        return [], []
    item_sums = comparisons.team_item_sums([w.id for w in waves], shared)
    item_cells = {
        w.id: comparisons.pooled_cells(
            item_sums, "item_code", w.id, units, policies[w.id], only=[unit]
        ).get(unit.id, {})
        for w in waves
    }
    core_waves = [w for w in waves if item_cells[w.id]]
    texts: dict[str, Text] = {}
    for w in waves:
        for item in instruments[w.id].all_items():
            texts.setdefault(item.code, item.text)
    asked = {w.id: {item.code for item in instruments[w.id].all_items()} for w in core_waves}
    rows = [
        SharedItemTrend(
            code=code,
            text=texts[code],
            cells=[item_cells[w.id].get(code) for w in core_waves],
            asked=[code in asked[w.id] for w in core_waves],
        )
        for code in shared
    ]
    return core_waves, rows


def scale_trends(trend: UnitTrend, first_id: int | None, last_id: int | None) -> ScaleTrends:
    """Each scale of ``trend`` per wave, with its change from the wave ``first_id`` to the wave
    ``last_id`` (by default the trend's first and last). The trend must have waves.

    Raises ``WaveNotInTrend`` when either is not one of the trend's waves."""
    by_id = {w.id: w for w in trend.waves}
    first_id = first_id or trend.waves[0].id
    last_id = last_id or trend.waves[-1].id
    if first_id not in by_id or last_id not in by_id:
        raise WaveNotInTrend(first_id if first_id not in by_id else last_id)
    first, last = trend.per_wave[first_id], trend.per_wave[last_id]
    policy = trend.policies[first_id].stricter(trend.policies[last_id])
    rows = [
        ScaleTrend(
            scale=scale,
            label=f"{scale.code} {scale.title.in_language(trend.lang)}",
            cells=[trend.per_wave[w.id].get(scale.code) for w in trend.waves],
            asked=[scale.code in trend.asked[w.id] for w in trend.waves],
            change=comparisons.change(first.get(scale.code), last.get(scale.code), policy),
        )
        for scale in trend.scales
    ]
    return ScaleTrends(by_id[first_id], by_id[last_id], rows)


# The organisation profile and report ------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """Modules A and B per scale, and module C per question, for the organisation and each
    department (the columns), pooled over the teams that meet k; and, when asked for, the
    organisation's scale means per answer to a background question."""

    wave: Wave
    policy: Policy
    instrument: Instrument
    #: The wave's tree as it stood when the wave ended.
    units: list[TreeUnit]
    columns: list[TreeUnit]
    #: unit id → scale code → cell; unit id → question code → cell.
    scale_cells: dict[int, dict[str, Cell]]
    item_cells: dict[int, dict[str, Cell]]
    #: The groups of questions with 1–5 answers (module C).
    groups: list[Group]
    background_items: list[Item]
    background: Item | None = None
    breakdown: Breakdown | None = None


def organisation_profile(wave: Wave, background: str | None = None) -> Profile:
    """The organisation profile of ``wave``, broken down by the background question of code
    ``background`` if given.

    Raises ``UnknownBackground`` for a code that is no background question of the wave, and
    ``background_use.BackgroundUseNotChosen`` when the wave's background answers do not serve
    breakdowns (docs/anonymity.md, class 2)."""
    policy = wave_policy(wave)
    instrument = instrument_of(wave)
    background_items = [item for item in instrument.all_items() if item.background]
    chosen = next((item for item in background_items if item.code == background), None)
    if background and chosen is None:
        raise UnknownBackground(background)
    if chosen is not None:
        background_use.require(wave, background_use.BREAKDOWN)
    units = wave_tree(wave)
    groups = [
        group for group in instrument.groups() if any(i.item_type.is_likert for i in group.items)
    ]
    item_codes = [item.code for group in groups for item in group.items]
    return Profile(
        wave=wave,
        policy=policy,
        instrument=instrument,
        units=units,
        columns=[unit for unit, depth in comparisons.unit_tree_rows(units) if depth <= 1],
        scale_cells=comparisons.gated_cells(
            comparisons.team_scale_sums([wave.id]), wave.id, units, policy
        ),
        item_cells=comparisons.pooled_cells(
            comparisons.team_item_sums([wave.id], item_codes), "item_code", wave.id, units, policy
        ),
        groups=groups,
        background_items=background_items,
        background=chosen,
        breakdown=comparisons.background_breakdown(wave.id, chosen.code, policy)
        if chosen
        else None,
    )


@dataclass(frozen=True)
class OrganisationReport:
    """The organisation's report of a wave: its profile, every unit, the organisation's trend
    and how well the questionnaire measured."""

    profile: Profile
    #: Every unit of the wave's tree, in tree order, with its depth.
    tree: list[TreeRow]
    organisation: TreeUnit
    trend: UnitTrend
    quality: InstrumentQuality


def organisation_report(wave: Wave, waves: list[Wave], lang: str) -> OrganisationReport:
    """``waves``: the ended waves, oldest first (for the trend)."""
    profile = organisation_profile(wave)
    tree = comparisons.unit_tree_rows(profile.units)
    organisation = tree[0][0]
    # The trend spans waves: it follows the organisation as it is now.
    trend = unit_trend(db.session.get(Unit, organisation.id), waves, lang)
    return OrganisationReport(
        profile, tree, organisation, trend, instrument_quality(wave, profile.policy)
    )


# The response-level export ----------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseExport:
    """One row per response, made safe (``reports.safe_export``)."""

    instrument: Instrument
    header: list[str]
    #: In random order; an empty string where a question was not answered.
    rows: list[list[object]]
    #: Per unit label of the export: [label, the names of the units whose responses it holds].
    labels: list[list[str]]
    #: Background questions left out: a group would have been smaller than k.
    dropped_background: list[str]
    #: Responses withheld (no group of k to hide in); None: fewer than k (``shown_count``).
    withheld: int | None
    #: The wave's k.
    min_group_size: int


def response_export(wave: Wave) -> ResponseExport:
    """``wave``'s responses, team names replaced by the smallest unit of at least k responses
    in the wave's own tree, rare background answers dropped, rows shuffled, no ids, no dates,
    no free text; with the wave's name as a column.

    Raises ``background_use.BackgroundUseNotChosen`` when the questionnaire has background
    questions and the wave's background answers do not serve this export (docs/anonymity.md,
    class 2)."""
    instrument = instrument_of(wave)
    background = [item.code for item in instrument.all_items() if item.background]
    if background:
        background_use.require(wave, background_use.ROWS)
    units = wave_tree(wave)
    k = wave_policy(wave).min_group_size
    export = safe_response_rows(
        comparisons.response_matrix(wave, instrument),
        {unit.id: unit.parent_id for unit in units},
        tree_paths(units),
        k,
        background,
    )
    rows = export.rows.copy()
    rows.insert(1, "wave", wave.name)
    return ResponseExport(
        instrument=instrument,
        header=[str(column) for column in rows.columns],
        rows=[
            ["" if value != value else value for value in record]
            for record in rows.itertuples(index=False, name=None)
        ],
        labels=[[label, "; ".join(names)] for label, names in export.labels.items()],
        dropped_background=list(export.dropped_background),
        withheld=shown_count(export.withheld, k),
        min_group_size=k,
    )
