"""How well the questionnaire measures in one wave: reliability per scale on the pooled
responses, and how much of each scale lies between teams (ICC), through the gate.

Every figure here is computed from the responses of the teams the gate shows (at least k
responses in the wave) and from nothing else: a team below k is left out entirely, so the page's
n is the sum of the shown teams' n and its α, ω and item–rest correlations cannot be compared
with a version computed on the export to enumerate a hidden team's rows. A scale whose complete
answers fall below the spread threshold is not shown (α and correlations describe spread)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import sqlalchemy as sa

from questionnaires import Scale
from reports.deferred import pd
from reports.reliability import (
    IccResult,
    alpha_flag,
    cronbach_alpha,
    icc_from_groups,
    item_rest_correlations,
    mcdonald_omega,
)
from reports.scores import reversed_value
from reports.statistics import Summary
from survey.anonymity import Policy
from survey.extensions import db
from survey.models import Answer, Response, Wave
from survey.services.comparisons import team_scale_sums
from survey.services.questionnaires import instrument_of

#: ICCs compare teams: below this many teams they say little, so they are not shown.
ICC_FROM_TEAMS = 10


@dataclass(frozen=True)
class ItemQuality:
    code: str
    item_rest: float
    pct_dont_know: float


@dataclass(frozen=True)
class ScaleQuality:
    scale: Scale
    #: Respondents who answered every item of the scale (the base of α, ω and item–rest).
    complete: int
    alpha: float
    omega: float
    items: list[ItemQuality]
    icc: IccResult | None

    @property
    def flagged(self) -> bool:
        return alpha_flag(self.alpha)


@dataclass(frozen=True)
class InstrumentQuality:
    #: The responses of the shown teams (0, or at least k).
    responses: int
    #: Teams with at least k scores on a scale (for the ICCs).
    teams: int
    scales: list[ScaleQuality]
    shown: bool
    #: Scales left out: fewer complete answers than the spread threshold.
    hidden_scales: list[Scale] = field(default_factory=list)
    policy: Policy = field(default_factory=Policy)


def shown_teams(wave: Wave, policy: Policy) -> dict[int, int]:
    """team id → responses, for the teams of the wave the gate shows (at least k responses)."""
    rows = db.session.execute(
        sa.select(Response.unit_id, sa.func.count(Response.id))
        .where(Response.wave_id == wave.id)
        .group_by(Response.unit_id)
    ).all()
    return {unit_id: count for unit_id, count in rows if count >= policy.min_group_size}


def _wave_answers(wave: Wave, item_codes: list[str], team_ids: list[int]) -> pd.DataFrame:
    rows = db.session.execute(
        sa.select(Answer.response_id, Answer.item_code, Answer.value, Answer.dont_know)
        .join(Response, Answer.response_id == Response.id)
        .where(
            Response.wave_id == wave.id,
            Response.unit_id.in_(team_ids),
            Answer.item_code.in_(item_codes),
            Answer.grid_row == "",
        )
    ).all()
    frame = pd.DataFrame(
        [tuple(row) for row in rows], columns=["response_id", "item_code", "value", "dont_know"]
    )
    return frame.astype({"value": float, "dont_know": bool})


def instrument_quality(
    wave: Wave, policy: Policy, icc_from: int = ICC_FROM_TEAMS
) -> InstrumentQuality:
    instrument = instrument_of(wave)
    scales = list(instrument.scales())
    codes = [item.code for scale in scales for item in scale.items]
    counts = shown_teams(wave, policy)
    answers = _wave_answers(wave, codes, list(counts))
    responses = sum(counts.values())
    sums = team_scale_sums([wave.id])
    # Only teams that may be shown take part in the ICCs, as everywhere else.
    teams = sums[(sums["n"] >= policy.min_group_size) & sums["unit_id"].isin(list(counts))]
    team_count = teams["unit_id"].nunique()
    if responses < policy.spread_threshold or answers.empty:
        return InstrumentQuality(responses, team_count, [], shown=False, policy=policy)
    wide = answers.pivot_table(index="response_id", columns="item_code", values="value")
    dont_know = answers.groupby("item_code")["dont_know"].mean() * 100
    results, hidden = [], []
    for scale in scales:
        item_codes = [item.code for item in scale.items]
        values = wide.reindex(columns=item_codes).copy()
        for item in scale.items:
            if item.reverse:
                values[item.code] = reversed_value(values[item.code])
        if not policy.shows_spread(int(values.dropna().shape[0])):
            hidden.append(scale)
            continue
        rest = item_rest_correlations(values)
        icc = None
        if team_count >= icc_from:
            rows = teams[teams["scale_code"] == scale.code]
            summaries = [Summary.from_sums(int(r.n), r.total, r.squares) for r in rows.itertuples()]
            icc = icc_from_groups(
                pd.DataFrame(
                    {
                        "n": [s.n for s in summaries],
                        "mean": [s.mean for s in summaries],
                        "var": [s.var for s in summaries],
                    }
                )
            )
        results.append(
            ScaleQuality(
                scale,
                int(values.dropna().shape[0]),
                cronbach_alpha(values),
                mcdonald_omega(values),
                [
                    ItemQuality(
                        code, float(rest.get(code, math.nan)), float(dont_know.get(code, 0))
                    )
                    for code in item_codes
                ],
                icc,
            )
        )
    return InstrumentQuality(
        responses, team_count, results, shown=True, hidden_scales=hidden, policy=policy
    )
