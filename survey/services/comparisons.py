"""Comparing units and waves for the quality officer, aggregated in SQL, through the gate.

The database does the heavy part: from the scale scores stored as responses arrived
(``survey.services.scale_scores``), per wave, team and scale the count, sum and sum of squares.
Only those sums reach Python: from them come means, intervals and changes between waves
(``reports.statistics.Summary``).

Departments and the organisation pool only the teams that may be shown for that scale (n ≥ k):
a team below k is left out rather than hidden inside a total, so no total minus shown teams can
describe fewer than k people (the rule of ``survey.anonymity.pooled_over_shown_groups``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from reports.deferred import pd
from reports.statistics import Change, Summary, change_from_summaries
from survey.anonymity import Policy, Reason, Verdict
from survey.extensions import db
from survey.models import (
    Answer,
    Response,
    ScaleScore,
    Unit,
    UnitKind,
    Wave,
    WaveState,
    management_release_date,
)
from survey.services.settings import current_settings, wave_team_first_days

SUM_COLUMNS = ["wave_id", "unit_id", "scale_code", "n", "total", "squares"]


def _respondent_scores(wave_ids: list[int]) -> sa.Subquery:
    """Per response and scored scale of the waves: the stored scale score (``ScaleScore``)."""
    return (
        sa.select(
            Response.wave_id,
            Response.unit_id,
            ScaleScore.response_id,
            ScaleScore.scale_code,
            ScaleScore.score,
        )
        .join(Response, ScaleScore.response_id == Response.id)
        .where(Response.wave_id.in_(wave_ids))
        .subquery()
    )


def _sums(score: sa.ColumnElement) -> tuple[sa.ColumnElement, ...]:
    """n, Σ and Σ² of a score: enough for means, variances and intervals (``Summary``)."""
    return sa.func.count(), sa.func.sum(score), sa.func.sum(score * score)


def team_scale_sums(wave_ids: Iterable[int], unit_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """Per wave, team and scored scale: n scale scores, their sum and their sum of squares;
    of every team, or of the teams ``unit_ids`` only (a team page needs its own team).

    Scales are matched by code, so waves on different versions of a questionnaire line up.
    The sums of every team are kept per wave (``_per_wave``): a team's page reads them too.
    """
    wave_ids = list(wave_ids)
    if not wave_ids:
        return pd.DataFrame(columns=SUM_COLUMNS)
    every_team = _per_wave("scales", wave_ids, _scale_sums, SUM_COLUMNS)
    if unit_ids is None:
        return every_team
    return every_team[every_team["unit_id"].isin(list(unit_ids))].reset_index(drop=True)


def _scale_sums(wave_ids: list[int]) -> pd.DataFrame:
    scores = _respondent_scores(wave_ids)
    keys = (scores.c.wave_id, scores.c.unit_id, scores.c.scale_code)
    rows = db.session.execute(sa.select(*keys, *_sums(scores.c.score)).group_by(*keys)).all()
    return pd.DataFrame([tuple(row) for row in rows], columns=SUM_COLUMNS)


#: Sums of every team per wave, by (kind, wave id, its response count, its smallest response id);
#: the organisation's pages and trends read the same ended waves again and again.
_WAVE_SUMS: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
_CACHED_WAVE_SUMS = 128


def _per_wave(
    kind: object,
    wave_ids: list[int],
    compute: Callable[[list[int]], pd.DataFrame],
    columns: list[str],
) -> pd.DataFrame:
    """``compute(wave_ids)``, kept per wave in this process. A wave's key carries its response
    count and smallest response id (random UUIDs): a wave that takes an answer, or whose answers
    are deleted under retention, is summed afresh (scores are stored with their response)."""
    rows = db.session.execute(
        sa.select(
            Response.wave_id,
            sa.func.count(Response.id),
            sa.func.min(sa.cast(Response.id, sa.String)),
        )
        .where(Response.wave_id.in_(wave_ids))
        .group_by(Response.wave_id)
    ).all()
    found = {wave_id: (count, str(first)) for wave_id, count, first in rows}
    keys = {wave_id: (kind, wave_id, *found.get(wave_id, (0, ""))) for wave_id in wave_ids}
    missing = [wave_id for wave_id in wave_ids if keys[wave_id] not in _WAVE_SUMS]
    if missing:
        fresh = compute(missing)
        for wave_id in missing:
            _WAVE_SUMS[keys[wave_id]] = fresh[fresh["wave_id"] == wave_id].reset_index(drop=True)
    frames = []
    for wave_id in dict.fromkeys(wave_ids):
        _WAVE_SUMS.move_to_end(keys[wave_id])
        frames.append(_WAVE_SUMS[keys[wave_id]])
    while len(_WAVE_SUMS) > _CACHED_WAVE_SUMS:
        _WAVE_SUMS.popitem(last=False)
    shown = [frame for frame in frames if not frame.empty]
    return pd.concat(shown, ignore_index=True) if shown else pd.DataFrame(columns=columns)


BACKGROUND_COLUMNS = ["unit_id", "scale_code", "option", "n", "total", "squares"]


def background_scale_sums(wave_id: int, item_code: str) -> pd.DataFrame:
    """Per team, scale and answer to a background question (None: not answered) in one wave."""
    scores = _respondent_scores([wave_id])
    background = (
        sa.select(Answer.response_id, Answer.value)
        .where(Answer.item_code == item_code, Answer.grid_row == "")
        .subquery()
    )
    keys = (scores.c.unit_id, scores.c.scale_code, background.c.value)
    rows = db.session.execute(
        sa.select(*keys, *_sums(scores.c.score))
        .select_from(scores)
        .outerjoin(background, background.c.response_id == scores.c.response_id)
        .group_by(*keys)
    ).all()
    return pd.DataFrame([tuple(row) for row in rows], columns=BACKGROUND_COLUMNS)


@dataclass(frozen=True)
class Breakdown:
    """The organisation's scale means per answer to a background question, or why not."""

    #: option code (None: not answered) → summary, per scale code; a scale is missing when any
    #: of its cells has fewer than k scores.
    by_scale: dict[str, dict[int | None, Summary]]
    hidden_scales: list[str]


def background_breakdown(wave_id: int, item_code: str, policy: Policy) -> Breakdown:
    """Scale means per background answer, over the teams that may be shown for the scale, and
    only for scales where EVERY answer group has at least k scores: otherwise the total minus
    the other groups would describe a small group."""
    sums = background_scale_sums(wave_id, item_code)
    k = policy.min_group_size
    by_scale: dict[str, dict[int | None, Summary]] = {}
    hidden: list[str] = []
    for scale_code, rows in sums.groupby("scale_code"):
        team_n = rows.groupby("unit_id")["n"].sum()
        shown_teams = set(team_n[team_n >= k].index)
        kept = rows[rows["unit_id"].isin(shown_teams)]
        options = kept.assign(
            option=kept["option"].astype(object).where(kept["option"].notna(), None)
        )
        cells = {}
        for option, group in options.groupby("option", dropna=False):
            n = int(group["n"].sum())
            cells[None if pd.isna(option) else int(option)] = Summary.from_sums(
                n, float(group["total"].sum()), float(group["squares"].sum())
            )
        if cells and all(summary.n >= k for summary in cells.values()):
            by_scale[scale_code] = cells
        else:
            hidden.append(scale_code)
    return Breakdown(by_scale, hidden)


@dataclass(frozen=True)
class Cell:
    """One unit's figure for one scale in one wave.

    Only the mean and n are public by default: the spread (SD, the 95% interval, an effect
    size) only when ``spread`` says so, through ``interval``; the ``summary``'s variance is
    for computing, never for showing.
    """

    verdict: Verdict
    summary: Summary | None = None
    #: For departments and the organisation: how many teams the figure pools.
    teams: int = 1
    #: Whether spread may be shown: EVERY team pooled in the figure reaches the spread
    #: threshold (a pooled spread minus the large teams' shown spreads gives a small one's).
    spread: bool = False
    #: The k the cell was gated with (the wave's promise), for "fewer than k" markers.
    min_group_size: int | None = None

    @property
    def mean(self) -> float | None:
        return self.summary.mean if self.summary else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% interval of the mean, or None where spread may not be shown."""
        if self.summary is None or not self.spread or self.summary.n < 2:
            return None
        return self.summary.interval()


HIDDEN_EMPTY = Cell(Verdict(0, Reason.NO_ANSWERS))
#: A stand-in for "some answers, but fewer than k" where no count may be given.
HIDDEN_TOO_FEW = Cell(Verdict(1, Reason.TOO_FEW))


@dataclass
class UnitRow:
    unit: Unit
    depth: int
    cells: dict[str, Cell] = field(default_factory=dict)
    #: Changes since the comparison wave, per scale, where both figures may be shown.
    changes: dict[str, Change | None] = field(default_factory=dict)

    @property
    def n(self) -> int | None:
        """The most answers behind any shown figure of the row (each is already shown with its
        cell), or None when the row shows none: the row's n on the heatmap."""
        shown = [cell.summary.n for cell in self.cells.values() if cell.summary is not None]
        return max(shown, default=None)


def _teams_below(unit: Unit, children: dict[int | None, list[Unit]]) -> list[Unit]:
    if unit.kind is UnitKind.TEAM:
        return [unit]
    return [team for child in children.get(unit.id, []) for team in _teams_below(child, children)]


def gated_cells(
    sums: pd.DataFrame,
    wave_id: int,
    units: list[Unit],
    policy: Policy,
    only: Iterable[Unit] | None = None,
) -> dict[int, dict[str, Cell]]:
    """unit id → scale code → Cell for one wave, teams gated and larger units pooled.

    ``units`` is the whole tree (to find the teams below a unit); ``only`` limits the result to
    some of them (a trend needs one unit, not the whole organisation).
    """
    k = policy.min_group_size
    by_team: dict[int, dict[str, tuple[int, float, float]]] = {}
    columns = ["unit_id", "scale_code", "n", "total", "squares"]
    wave = sums.loc[sums["wave_id"] == wave_id, columns]
    # plain lists: iterating pandas rows costs more than all the gating below
    for unit_id, code, n, total, squares in zip(
        *(wave[column].tolist() for column in columns), strict=True
    ):
        by_team.setdefault(unit_id, {})[code] = (int(n), float(total), float(squares))
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    scales = sorted({code for team in by_team.values() for code in team})
    cells: dict[int, dict[str, Cell]] = {}
    for unit in units if only is None else list(only):
        teams = [by_team.get(team.id, {}) for team in _teams_below(unit, children)]
        cells[unit.id] = {}
        for code in scales:
            figures = [team.get(code) for team in teams]
            present = [figure for figure in figures if figure and figure[0] > 0]
            shown = [figure for figure in present if figure[0] >= k]
            if not present:
                cells[unit.id][code] = HIDDEN_EMPTY
                continue
            if not shown:
                total_n = sum(figure[0] for figure in present)
                cells[unit.id][code] = Cell(Verdict(total_n, Reason.TOO_FEW), min_group_size=k)
                continue
            n = sum(figure[0] for figure in shown)
            summary = Summary.from_sums(
                n, sum(figure[1] for figure in shown), sum(figure[2] for figure in shown)
            )
            cells[unit.id][code] = Cell(
                Verdict(n),
                summary,
                teams=len(shown),
                spread=all(policy.shows_spread(figure[0]) for figure in shown),
                min_group_size=k,
            )
    return cells


def ended_waves(today: date | None = None) -> list[Wave]:
    """The waves whose results may be compared, oldest first: ended, and past their team-first
    period (until then only the team and its own manager see a wave's results)."""
    today = today or date.today()
    settings = current_settings()
    waves = db.session.scalars(sa.select(Wave).order_by(Wave.opens_on, Wave.id)).all()
    ended = [wave for wave in waves if wave.state(today) is WaveState.CLOSED]
    days = {wave.id: wave_team_first_days(wave, settings) for wave in ended}
    return [
        wave
        for wave in ended
        if days[wave.id] <= 0 or today >= management_release_date(wave, days[wave.id])
    ]


def unit_tree_rows(units: list[Unit]) -> list[tuple[Unit, int]]:
    """Units in tree order (organisation, its departments, their teams) with their depth.

    ``units`` may also be a wave's frozen tree (``survey.services.wave_tree.TreeUnit``):
    anything with an ``id``, a ``parent_id`` and a ``name`` will do."""
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    ids = {unit.id for unit in units}
    ordered: list[tuple[Unit, int]] = []

    def walk(unit: Unit, depth: int) -> None:
        ordered.append((unit, depth))
        for child in sorted(children.get(unit.id, []), key=lambda u: u.name):
            walk(child, depth + 1)

    for root in sorted((u for u in units if u.parent_id not in ids), key=lambda u: u.name):
        walk(root, 0)
    return ordered


def change(before: Cell | None, after: Cell | None, policy: Policy) -> Change | None:
    """The change between two shown figures of a unit, or None.

    Its interval and effect size come from both figures' spread, so both must be allowed to
    show spread (one shown spread and the interval would give the other)."""
    if not before or not after or not before.summary or not after.summary:
        return None
    if not before.spread or not after.spread:
        return None
    if min(before.summary.n, after.summary.n) < max(policy.spread_threshold, 2):
        return None
    return change_from_summaries(before.summary, after.summary)


ITEM_SUM_COLUMNS = ["wave_id", "unit_id", "item_code", "n", "total", "squares", "dont_know"]


def team_item_sums(wave_ids: Iterable[int], item_codes: Iterable[str]) -> pd.DataFrame:
    """Per wave, team and item: n answers on the 1–5 scale, their sum and sum of squares, and the
    number of "don't know" answers. Items are matched by code across questionnaire versions.
    Kept per wave (``_per_wave``)."""
    wave_ids, item_codes = list(wave_ids), list(item_codes)
    if not wave_ids or not item_codes:
        return pd.DataFrame(columns=ITEM_SUM_COLUMNS)
    kind = ("items", tuple(sorted(item_codes)))
    return _per_wave(kind, wave_ids, lambda waves: _item_sums(waves, item_codes), ITEM_SUM_COLUMNS)


def _item_sums(wave_ids: list[int], item_codes: list[str]) -> pd.DataFrame:
    value = sa.cast(Answer.value, sa.Float)
    rows = db.session.execute(
        sa.select(
            Response.wave_id,
            Response.unit_id,
            Answer.item_code,
            sa.func.count(Answer.value),
            sa.func.sum(value),
            sa.func.sum(value * value),
            sa.func.sum(sa.case((Answer.dont_know, 1), else_=0)),
        )
        .select_from(Answer)
        .join(Response, Answer.response_id == Response.id)
        .where(
            Response.wave_id.in_(wave_ids),
            Answer.item_code.in_(item_codes),
            Answer.grid_row == "",
        )
        .group_by(Response.wave_id, Response.unit_id, Answer.item_code)
    ).all()
    frame = pd.DataFrame([tuple(row) for row in rows], columns=ITEM_SUM_COLUMNS)
    return frame.fillna({"total": 0.0, "squares": 0.0})


def pooled_cells(
    sums: pd.DataFrame,
    key: str,
    wave_id: int,
    units: list[Unit],
    policy: Policy,
    only: Iterable[Unit] | None = None,
) -> dict[int, dict[str, Cell]]:
    """Like ``gated_cells`` for any per-team sums keyed by ``key`` (a scale or an item code)."""
    renamed = sums.rename(columns={key: "scale_code"})
    return gated_cells(renamed, wave_id, units, policy, only)


def response_matrix(wave: Wave, instrument) -> pd.DataFrame:
    """One row per response of the wave: ``response_id``, ``unit_id``, then a column per 1–5
    question (NaN for "don't know" or not answered) and per background question (the option
    code). Free text and grid ticks are left out: they could name or single out a person."""
    codes = [
        item.code for item in instrument.all_items() if item.item_type.is_likert or item.background
    ]
    rows = db.session.execute(
        sa.select(Response.id, Response.unit_id, Answer.item_code, Answer.value)
        .join(Answer, Answer.response_id == Response.id)
        .where(Response.wave_id == wave.id, Answer.item_code.in_(codes), Answer.grid_row == "")
    ).all()
    long = pd.DataFrame(
        [tuple(row) for row in rows], columns=["response_id", "unit_id", "item_code", "value"]
    )
    if long.empty:
        return pd.DataFrame(columns=["response_id", "unit_id", *codes])
    wide = long.pivot_table(
        index=["response_id", "unit_id"], columns="item_code", values="value", aggfunc="first"
    )
    wide = wide.reindex(columns=codes).astype(float).reset_index()
    wide["response_id"] = wide["response_id"].astype(str)
    wide.columns.name = None
    return wide
