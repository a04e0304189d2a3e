"""A wave team's answers aggregated in SQL, for its results page (``survey.services.results``).

Two GROUP BY queries do the work, whatever the team's size: per item and value the number of
answers (split by whether the respondent has a score on the item's scale, for rwg(J)), and per
scale the stored scale scores' n, sum and sum of squares (``ScaleScore``, written at
submission). Tick grids and comments are read for their own few items. Only counts and sums
reach Python (``reports.counts``); the gate decides afterwards what may be shown.

Results are shown for ended waves, which take no more answers: the aggregates are kept per
process, keyed by the team's response count and smallest response id (random UUIDs), so a team
whose answers somehow change is counted afresh.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from questionnaires import Instrument
from reports.counts import ValueCounts
from reports.statistics import Summary
from survey.extensions import db
from survey.models import Answer, Response, ScaleScore, WaveTeam

#: Scale scores lie between 1 and 5: sums are taken around the midpoint, so that the variance
#: from Σ and Σ² loses no digits to cancellation.
_CENTRE = 3.0


@dataclass
class TeamFigures:
    """Everything a team page counts, for one wave team."""

    #: item code → its answers counted (items with an answer outside a tick grid).
    items: dict[str, ValueCounts] = field(default_factory=dict)
    #: scale code → the summary of its stored scores (scales with at least one score).
    scores: dict[str, Summary] = field(default_factory=dict)
    #: grid item code → (respondents who ticked a cell, (row, column) → ticks).
    grids: dict[str, tuple[int, dict[tuple[str, str], int]]] = field(default_factory=dict)
    #: text item code → its non-empty comments.
    comments: dict[str, list[str]] = field(default_factory=dict)


def _of_team(wave_team: WaveTeam):
    return (Response.wave_id == wave_team.wave_id) & (Response.unit_id == wave_team.unit_id)


def scale_summaries(wave_team: WaveTeam) -> dict[str, Summary]:
    """scale code → n, mean and variance of the team's stored scale scores."""
    centred = ScaleScore.score - _CENTRE
    rows = db.session.execute(
        sa.select(
            ScaleScore.scale_code,
            sa.func.count(),
            sa.func.sum(centred),
            sa.func.sum(centred * centred),
        )
        .join(Response, ScaleScore.response_id == Response.id)
        .where(_of_team(wave_team))
        .group_by(ScaleScore.scale_code)
    ).all()
    return {
        code: _summary(int(n), float(total), float(squares)) for code, n, total, squares in rows
    }


def _summary(n: int, total: float, squares: float) -> Summary:
    mean = total / n
    var = max((squares - total * mean) / (n - 1), 0.0) if n > 1 else float("nan")
    return Summary(n, _CENTRE + mean, var)


def item_counts(wave_team: WaveTeam, instrument: Instrument) -> dict[str, ValueCounts]:
    """item code → its answers outside tick grids counted by value, "don't know" and rows; for
    scored items also by value among the respondents who have a score on the item's scale."""
    scale_of = {item.code: scale.code for scale in instrument.scales() for item in scale.items}
    scale_code = sa.case(scale_of, value=Answer.item_code) if scale_of else sa.null()
    rows = db.session.execute(
        sa.select(
            Answer.item_code, Answer.value, Answer.dont_know, ScaleScore.scale_code, sa.func.count()
        )
        .join(Response, Answer.response_id == Response.id)
        .outerjoin(
            ScaleScore,
            (ScaleScore.response_id == Answer.response_id) & (ScaleScore.scale_code == scale_code),
        )
        .where(_of_team(wave_team), Answer.grid_row == "")
        .group_by(Answer.item_code, Answer.value, Answer.dont_know, ScaleScore.scale_code)
    ).all()
    counts: dict[str, ValueCounts] = {}
    for code, value, dont_know, scored, count in rows:
        item = counts.setdefault(code, ValueCounts())
        item.rows += count
        if dont_know:
            item.dont_know += count
        if value is not None:
            item.values[value] = item.values.get(value, 0) + count
            if scored is not None:
                item.scored[value] = item.scored.get(value, 0) + count
    return counts


def grid_counts(
    wave_team: WaveTeam, codes: list[str]
) -> dict[str, tuple[int, dict[tuple[str, str], int]]]:
    """grid item code → (respondents who ticked at least one cell, ticks per cell)."""
    if not codes:
        return {}
    of_grids = _of_team(wave_team) & Answer.item_code.in_(codes) & (Answer.grid_row != "")
    base = sa.select(Answer.item_code).join(Response, Answer.response_id == Response.id)
    respondents = db.session.execute(
        base.add_columns(sa.func.count(sa.distinct(Answer.response_id)))
        .where(of_grids)
        .group_by(Answer.item_code)
    ).all()
    grids = {code: (int(n), {}) for code, n in respondents}
    cells = db.session.execute(
        base.add_columns(Answer.grid_row, Answer.grid_column, sa.func.count())
        .where(of_grids)
        .group_by(Answer.item_code, Answer.grid_row, Answer.grid_column)
    ).all()
    for code, row, column, count in cells:
        grids[code][1][(row, column)] = int(count)
    return grids


def comment_texts(wave_team: WaveTeam, codes: list[str]) -> dict[str, list[str]]:
    """text item code → the team's comments on it that are not blank."""
    texts: dict[str, list[str]] = {code: [] for code in codes}
    if codes:
        rows = db.session.execute(
            sa.select(Answer.item_code, Answer.text)
            .join(Response, Answer.response_id == Response.id)
            .where(_of_team(wave_team), Answer.item_code.in_(codes), Answer.text.is_not(None))
        ).all()
        for code, text in rows:
            if text.strip():
                texts[code].append(text)
    return texts


_CACHE: OrderedDict[tuple, object] = OrderedDict()
_CACHED = 128


def _kept(kind: tuple, wave_team: WaveTeam, compute: Callable[[], object]) -> object:
    """``compute()``, kept in this process under ``kind`` and the team's response count and
    smallest response id (random UUIDs): a team whose responses change is computed afresh."""
    count, first = db.session.execute(
        sa.select(sa.func.count(Response.id), sa.func.min(sa.cast(Response.id, sa.String))).where(
            _of_team(wave_team)
        )
    ).one()
    key = (*kind, wave_team.wave_id, wave_team.unit_id, count, str(first))
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    _CACHE[key] = value = compute()
    if len(_CACHE) > _CACHED:
        _CACHE.popitem(last=False)
    return value


def team_figures(wave_team: WaveTeam, instrument: Instrument, *, ended: bool) -> TeamFigures:
    """The team's counts and sums; kept per process for an ended wave (``ended``)."""

    def compute() -> TeamFigures:
        kinds = {
            kind: [i.code for i in instrument.all_items() if i.type == kind]
            for kind in ("grid", "text")
        }
        return TeamFigures(
            item_counts(wave_team, instrument),
            scale_summaries(wave_team),
            grid_counts(wave_team, kinds["grid"]),
            comment_texts(wave_team, kinds["text"]),
        )

    if not ended:
        return compute()
    return _kept(("figures", instrument.id, instrument.sha256), wave_team, compute)


def ended_scale_summaries(wave_team: WaveTeam) -> dict[str, Summary]:
    """``scale_summaries`` of a wave team whose wave has ended, kept per process."""
    return _kept(("scales",), wave_team, lambda: scale_summaries(wave_team))


def forget() -> None:
    """Empties this process's aggregates (the benchmark times the uncached page with it)."""
    _CACHE.clear()
