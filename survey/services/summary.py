"""The facts a team's summary is chosen from, all through the anonymity gate.

``reports.summary`` holds the rule; this module gathers what it compares, and only what the
page may show: the team's shown scales (mean and n; SD and rwg only from the spread threshold),
the organisation's pooled mean for each scale, and the team's means in its earlier closed waves
(each gated under that wave's own policy) with the change's interval only where both waves show
spread (``comparisons.change``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import sqlalchemy as sa

from questionnaires import Scale
from reports.summary import Movement, ScaleFacts, TeamSummary, summarise
from survey.anonymity import Policy, Pooled, Verdict
from survey.extensions import db
from survey.models import Wave, WaveStatus, WaveTeam
from survey.services import comparisons
from survey.services.comparisons import Cell
from survey.services.settings import wave_policy


class ShownScale(Protocol):
    """What the summary reads of a scale result (``survey.services.results.ScaleResult``)."""

    scale: Scale
    verdict: Verdict
    mean: float | None
    sd: float | None
    rwg: float | None
    organisation: Pooled | None
    items_shown: bool


def earlier_closed(wave_team: WaveTeam) -> sa.ColumnElement[bool]:
    """The same team in a closed wave before ``wave_team``'s (a query joining WaveTeam and
    Wave): its previous wave (``results.previous_wave_team``) and its trend."""
    return sa.and_(
        WaveTeam.unit_id == wave_team.unit_id,
        Wave.status == WaveStatus.CLOSED,
        Wave.opens_on < wave_team.wave.opens_on,
    )


def earlier_waves(wave_team: WaveTeam) -> list[Wave]:
    """The team's closed waves before this one, oldest first."""
    query = sa.select(Wave).join(WaveTeam, WaveTeam.wave_id == Wave.id)
    return list(
        db.session.scalars(query.where(earlier_closed(wave_team)).order_by(Wave.opens_on, Wave.id))
    )


def _team_cells(wave_team: WaveTeam, waves: Sequence[Wave]) -> dict[int, dict[str, Cell]]:
    """wave id → scale code → the team's gated cell, each wave under its own policy."""
    unit = wave_team.unit
    sums = comparisons.team_scale_sums([w.id for w in waves], unit_ids=[unit.id])
    return {
        w.id: comparisons.gated_cells(sums, w.id, [unit], wave_policy(w), only=[unit]).get(
            unit.id, {}
        )
        for w in waves
    }


def _movements(
    scale: ShownScale,
    now_wave: int,
    earlier: Sequence[Wave],
    cells: dict[int, dict[str, Cell]],
    policies: dict[int, Policy],
) -> tuple[Movement, ...]:
    """Since the first and the previous earlier wave that showed this scale's mean; with an
    interval only where the page shows the scale's spread now (not when one of its questions
    is withheld: then it shows only the mean) and both waves may show spread."""
    code = scale.scale.code
    now = cells[now_wave].get(code)
    if now is None or now.summary is None:
        return ()
    shown = [w for w in earlier if (cell := cells[w.id].get(code)) and cell.summary]
    chosen = shown[:1] + shown[-1:] if len(shown) > 1 else shown
    movements = []
    for wave in chosen:
        before = cells[wave.id][code]
        policy = policies[wave.id].stricter(policies[now_wave])
        movements.append(
            Movement(
                since=wave.name,
                before=before.summary.mean,
                difference=now.summary.mean - before.summary.mean,
                change=comparisons.change(before, now, policy) if scale.items_shown else None,
            )
        )
    return tuple(movements)


def team_summary(wave_team: WaveTeam, scales: Iterable[ShownScale], policy: Policy) -> TeamSummary:
    """The summary of ``scales`` (the team's results for ``wave_team``'s wave under ``policy``):
    hidden scales are left out, so nothing is named from a figure the page does not show."""
    shown = [scale for scale in scales if scale.verdict.shown and scale.mean is not None]
    if not shown:
        return TeamSummary()
    earlier = earlier_waves(wave_team)
    cells = _team_cells(wave_team, [*earlier, wave_team.wave])
    now = wave_team.wave_id
    policies = {w.id: wave_policy(w) for w in earlier} | {now: policy}
    return summarise(
        ScaleFacts(
            code=scale.scale.code,
            mean=scale.mean,
            n=scale.verdict.n,
            sd=scale.sd,
            rwg=scale.rwg,
            organisation=scale.organisation.mean if scale.organisation else None,
            movements=_movements(scale, now, earlier, cells, policies),
        )
        for scale in shown
    )
