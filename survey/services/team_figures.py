"""A wave team's answers aggregated in SQL, for its results page (``survey.services.results``).

Two GROUP BY queries do the work, whatever the team's size: per item and value the number of
answers (split by whether the respondent has a score on the item's scale, for rwg(J)), and per
scale the stored scale scores' n, sum and sum of squares (``ScaleScore``, written at
submission). Tick grids and comments are read for their own few items. Only counts and sums
reach Python (``reports.counts``); the gate decides afterwards what may be shown.

Results are shown for ended waves, which take no more answers: their figures are counted once,
when the wave ends (``store_wave_figures``: ``survey.services.waves.close_wave``, and the daily
``flask anonymity shuffle`` for waves that ended by date), and kept in ``StoredTeamFigures``; a
page reads them with one query whatever the team's size, and counts live only while they are
missing or count a different number of responses than the team holds (a wave ended today before
the daily run; a response that arrived as the wave ended; answers deleted under retention).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import sqlalchemy as sa

from questionnaires import Instrument
from reports.counts import ValueCounts
from reports.statistics import Summary
from survey.extensions import db
from survey.models import (
    Answer,
    Response,
    ScaleScore,
    StoredTeamFigures,
    Wave,
    WaveState,
    WaveTeam,
)

#: Scale scores lie between 1 and 5: sums are taken around the midpoint, so that the variance
#: from Σ and Σ² loses no digits to cancellation.
_CENTRE = 3.0


#: Per scale: the number of scores, and the sum and sum of squares of (score − ``_CENTRE``).
ScaleSums = dict[str, tuple[int, float, float]]


@dataclass
class TeamFigures:
    """Everything a team page counts, for one wave team."""

    #: item code → its answers counted (items with an answer outside a tick grid).
    items: dict[str, ValueCounts] = field(default_factory=dict)
    #: scale code → n, Σ and Σ² of its stored scores (scales with at least one score).
    sums: ScaleSums = field(default_factory=dict)
    #: grid item code → (respondents who ticked a cell, (row, column) → ticks).
    grids: dict[str, tuple[int, dict[tuple[str, str], int]]] = field(default_factory=dict)
    #: text item code → its non-empty comments.
    comments: dict[str, list[str]] = field(default_factory=dict)

    @cached_property
    def scores(self) -> dict[str, Summary]:
        """scale code → n, mean and variance of its stored scores."""
        return _summaries(self.sums)


def _of(wave_id: int, unit_id: int | None) -> sa.ColumnElement[bool]:
    """The responses of one team of a wave, or of all its teams (``unit_id`` None)."""
    if unit_id is None:
        return Response.wave_id == wave_id
    return (Response.wave_id == wave_id) & (Response.unit_id == unit_id)


def _summaries(sums: ScaleSums) -> dict[str, Summary]:
    return {code: _summary(n, total, squares) for code, (n, total, squares) in sums.items()}


def _summary(n: int, total: float, squares: float) -> Summary:
    mean = total / n
    var = max((squares - total * mean) / (n - 1), 0.0) if n > 1 else float("nan")
    return Summary(n, _CENTRE + mean, var)


def scale_sums(wave_id: int, unit_id: int | None = None) -> dict[int, ScaleSums]:
    """team → scale code → n, Σ and Σ² of its stored scale scores around ``_CENTRE``."""
    centred = ScaleScore.score - _CENTRE
    rows = db.session.execute(
        sa.select(
            Response.unit_id,
            ScaleScore.scale_code,
            sa.func.count(),
            sa.func.sum(centred),
            sa.func.sum(centred * centred),
        )
        .join(Response, ScaleScore.response_id == Response.id)
        .where(_of(wave_id, unit_id))
        .group_by(Response.unit_id, ScaleScore.scale_code)
    ).all()
    sums: dict[int, ScaleSums] = {}
    for unit, code, n, total, squares in rows:
        sums.setdefault(unit, {})[code] = (int(n), float(total), float(squares))
    return sums


def item_counts(
    wave_id: int, unit_id: int | None, instrument: Instrument
) -> dict[int, dict[str, ValueCounts]]:
    """team → item code → its answers outside tick grids counted by value, "don't know" and
    rows; for scored items also by value among the respondents who have a score on the item's
    scale."""
    scale_of = {item.code: scale.code for scale in instrument.scales() for item in scale.items}
    scale_code = sa.case(scale_of, value=Answer.item_code) if scale_of else sa.null()
    keys = (Response.unit_id, Answer.item_code, Answer.value, Answer.dont_know)
    rows = db.session.execute(
        sa.select(*keys, ScaleScore.scale_code, sa.func.count())
        .join(Response, Answer.response_id == Response.id)
        .outerjoin(
            ScaleScore,
            (ScaleScore.response_id == Answer.response_id) & (ScaleScore.scale_code == scale_code),
        )
        .where(_of(wave_id, unit_id), Answer.grid_row == "")
        .group_by(*keys, ScaleScore.scale_code)
    ).all()
    counts: dict[int, dict[str, ValueCounts]] = {}
    for unit, code, value, dont_know, scored, count in rows:
        item = counts.setdefault(unit, {}).setdefault(code, ValueCounts())
        item.rows += count
        if dont_know:
            item.dont_know += count
        if value is not None:
            item.values[value] = item.values.get(value, 0) + count
            if scored is not None:
                item.scored[value] = item.scored.get(value, 0) + count
    return counts


Grids = dict[str, tuple[int, dict[tuple[str, str], int]]]


def grid_counts(wave_id: int, unit_id: int | None, codes: list[str]) -> dict[int, Grids]:
    """team → grid item code → (respondents who ticked at least one cell, ticks per cell)."""
    if not codes:
        return {}
    of_grids = _of(wave_id, unit_id) & Answer.item_code.in_(codes) & (Answer.grid_row != "")
    base = sa.select(Response.unit_id, Answer.item_code).join(
        Response, Answer.response_id == Response.id
    )
    respondents = db.session.execute(
        base.add_columns(sa.func.count(sa.distinct(Answer.response_id)))
        .where(of_grids)
        .group_by(Response.unit_id, Answer.item_code)
    ).all()
    grids: dict[int, Grids] = {}
    for unit, code, n in respondents:
        grids.setdefault(unit, {})[code] = (int(n), {})
    cells = db.session.execute(
        base.add_columns(Answer.grid_row, Answer.grid_column, sa.func.count())
        .where(of_grids)
        .group_by(Response.unit_id, Answer.item_code, Answer.grid_row, Answer.grid_column)
    ).all()
    for unit, code, row, column, count in cells:
        grids[unit][code][1][(row, column)] = int(count)
    return grids


def comment_texts(
    wave_id: int, unit_id: int | None, codes: list[str]
) -> dict[int, dict[str, list[str]]]:
    """team → text item code → the team's comments on it that are not blank."""
    texts: dict[int, dict[str, list[str]]] = {}
    if codes:
        rows = db.session.execute(
            sa.select(Response.unit_id, Answer.item_code, Answer.text)
            .join(Response, Answer.response_id == Response.id)
            .where(_of(wave_id, unit_id), Answer.item_code.in_(codes), Answer.text.is_not(None))
        ).all()
        for unit, code, text in rows:
            if text.strip():
                texts.setdefault(unit, {}).setdefault(code, []).append(text)
    return texts


def count_figures(
    wave_id: int, unit_id: int | None, instrument: Instrument
) -> dict[int, TeamFigures]:
    """team → its counts and sums, counted now from the answers and stored scale scores of one
    team of the wave (``unit_id``) or of all its teams (None); teams without responses absent."""
    kinds = {
        kind: [item.code for item in instrument.all_items() if item.type == kind]
        for kind in ("grid", "text")
    }
    items = item_counts(wave_id, unit_id, instrument)
    sums = scale_sums(wave_id, unit_id)
    grids = grid_counts(wave_id, unit_id, kinds["grid"])
    comments = comment_texts(wave_id, unit_id, kinds["text"])
    units = items.keys() | sums.keys() | grids.keys() | comments.keys()
    return {
        unit: TeamFigures(
            items.get(unit, {}),
            sums.get(unit, {}),
            grids.get(unit, {}),
            {code: comments.get(unit, {}).get(code, []) for code in kinds["text"]},
        )
        for unit in units
    }


def count_team_figures(wave_team: WaveTeam, instrument: Instrument) -> TeamFigures:
    """One team's ``count_figures``."""
    counted = count_figures(wave_team.wave_id, wave_team.unit_id, instrument)
    return counted.get(wave_team.unit_id) or _no_figures(instrument)


def _no_figures(instrument: Instrument) -> TeamFigures:
    """The figures of a team without responses."""
    return TeamFigures(comments={i.code: [] for i in instrument.all_items() if i.type == "text"})


def team_figures(
    wave_team: WaveTeam, instrument: Instrument, *, ended: bool, responses: int
) -> TeamFigures:
    """The team's figures: for an ended wave (``ended``) as stored when it ended, when they
    count the ``responses`` the team holds now; otherwise counted now."""
    if ended and (stored := _stored(wave_team, instrument, responses)) is not None:
        return _from_json(stored)
    return count_team_figures(wave_team, instrument)


def ended_scale_summaries(wave_team: WaveTeam, responses: int) -> dict[str, Summary]:
    """``scale_summaries`` of a wave team whose wave has ended (stored when it ended)."""
    row = db.session.get(StoredTeamFigures, (wave_team.wave_id, wave_team.unit_id))
    if row is not None and row.responses == responses:
        return _summaries(_sums_from_json(row.figures["sums"]))
    return _summaries(scale_sums(wave_team.wave_id, wave_team.unit_id).get(wave_team.unit_id, {}))


def _stored(wave_team: WaveTeam, instrument: Instrument, responses: int) -> dict | None:
    row = db.session.get(StoredTeamFigures, (wave_team.wave_id, wave_team.unit_id))
    if row is None or row.responses != responses or row.instrument_sha256 != instrument.sha256:
        return None
    return row.figures


# --- storing an ended wave's figures --------------------------------------------------------

_RANDOM = random.SystemRandom()


def store_wave_figures(wave: Wave, instrument: Instrument, today: date | None = None) -> int:
    """Count the figures of every team of ``wave`` once it has ended (else nothing) and keep them,
    replacing any kept before, in the session's transaction; the number of teams kept. A wave
    is counted in one query per kind, whatever its number of teams. The comments are kept in
    random order (no order at rest: ``survey.services.shuffle``)."""
    if wave.state(today) is not WaveState.CLOSED or wave.purged_on is not None:
        return 0
    # Two servers' daily runs at once: the second waits here, then replaces the first's rows.
    db.session.execute(
        sa.select(WaveTeam.id).where(WaveTeam.wave_id == wave.id).with_for_update()
    ).all()
    responses = dict(
        db.session.execute(
            sa.select(Response.unit_id, sa.func.count())
            .where(Response.wave_id == wave.id)
            .group_by(Response.unit_id)
        ).all()
    )
    counted = count_figures(wave.id, None, instrument)
    empty = _no_figures(instrument)
    rows = []
    for wave_team in wave.teams:
        figures = counted.get(wave_team.unit_id, empty)
        for texts in figures.comments.values():
            _RANDOM.shuffle(texts)
        rows.append(
            {
                "wave_id": wave.id,
                "unit_id": wave_team.unit_id,
                "responses": responses.get(wave_team.unit_id, 0),
                "instrument_sha256": instrument.sha256,
                "figures": _to_json(figures),
            }
        )
    forget_wave_figures([wave.id])
    if rows:
        db.session.execute(sa.insert(StoredTeamFigures), rows)
    return len(rows)


def waves_to_count(today: date | None = None) -> list[Wave]:
    """Ended waves with a team whose figures are not kept, or count another number of responses
    than it holds (the daily run counts them: ``flask anonymity shuffle``)."""
    held = (
        sa.select(Response.wave_id, Response.unit_id, sa.func.count().label("n"))
        .group_by(Response.wave_id, Response.unit_id)
        .subquery()
    )
    stored = StoredTeamFigures
    differing = (
        sa.select(WaveTeam.wave_id)
        .outerjoin(
            held, (held.c.wave_id == WaveTeam.wave_id) & (held.c.unit_id == WaveTeam.unit_id)
        )
        .outerjoin(
            stored, (stored.wave_id == WaveTeam.wave_id) & (stored.unit_id == WaveTeam.unit_id)
        )
        .where(stored.responses.is_(None) | (stored.responses != sa.func.coalesce(held.c.n, 0)))
    )
    waves = db.session.scalars(
        sa.select(Wave)
        .where(Wave.id.in_(differing), Wave.purged_on.is_(None))
        .order_by(Wave.opens_on, Wave.id)
    ).all()
    return [wave for wave in waves if wave.state(today) is WaveState.CLOSED]


def forget_wave_figures(wave_ids: sa.Select | list[int]) -> None:
    """Delete the kept figures of these waves (their answers are deleted or rescored)."""
    db.session.execute(sa.delete(StoredTeamFigures).where(StoredTeamFigures.wave_id.in_(wave_ids)))


def _to_json(figures: TeamFigures) -> dict:
    return {
        "items": {
            code: [counts.rows, counts.dont_know, _pairs(counts.values), _pairs(counts.scored)]
            for code, counts in figures.items.items()
        },
        "sums": {code: list(sums) for code, sums in figures.sums.items()},
        "grids": {
            code: [respondents, [[row, column, ticks] for (row, column), ticks in cells.items()]]
            for code, (respondents, cells) in figures.grids.items()
        },
        "comments": figures.comments,
    }


def _pairs(counts: dict[int, int]) -> list[list[int]]:
    return [[value, count] for value, count in counts.items()]


def _sums_from_json(sums: dict) -> ScaleSums:
    return {
        code: (int(n), float(total), float(squares)) for code, (n, total, squares) in sums.items()
    }


def _from_json(figures: dict) -> TeamFigures:
    return TeamFigures(
        {
            code: ValueCounts(dict(values), dont_know, rows, dict(scored))
            for code, (rows, dont_know, values, scored) in figures["items"].items()
        },
        _sums_from_json(figures["sums"]),
        {
            code: (respondents, {(row, column): ticks for row, column, ticks in cells})
            for code, (respondents, cells) in figures["grids"].items()
        },
        {code: list(texts) for code, texts in figures["comments"].items()},
    )
