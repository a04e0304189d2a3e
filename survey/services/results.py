"""A team's results for one wave: its own figures, through the anonymity gate.

Only the team's own numbers are computed here; comparisons with departments or the organisation
need the whole unit tree through ``anonymity.gate_tree`` and are not part of this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from reports.scores import respondent_scale_scores
from reports.statistics import Change, change_between, scale_statistics
from survey.anonymity import Policy, Verdict, gate_group
from survey.extensions import db
from survey.models import Answer, Item, Response, Scale, Wave, WaveStatus, WaveTeam

#: rwg(J) from which a team is said to agree (LeBreton & Senter, 2008: .70 is strong agreement).
AGREEMENT_FROM = 0.70


@dataclass(frozen=True)
class ScaleResult:
    scale: Scale
    verdict: Verdict
    mean: float | None = None
    pct_favourable: float | None = None
    pct_dont_know: float | None = None
    #: Only from the spread threshold up: SD and agreement describe individual differences.
    sd: float | None = None
    agrees: bool | None = None
    #: Since the team's previous closed wave; None when either wave may not show this scale.
    change: Change | None = None


@dataclass(frozen=True)
class TeamResults:
    responses: Verdict
    invited: int | None
    scales: list[ScaleResult]
    previous_wave: Wave | None = None

    @property
    def response_rate(self) -> float | None:
        if not self.responses.shown or not self.invited:
            return None
        return 100 * self.responses.n / self.invited

    def shown_scales(self) -> list[ScaleResult]:
        return [result for result in self.scales if result.verdict.shown]

    def strengths(self, count: int = 3) -> list[ScaleResult]:
        return sorted(self.shown_scales(), key=lambda result: -result.mean)[:count]

    def growth_points(self, count: int = 2) -> list[ScaleResult]:
        strengths = {result.scale.code for result in self.strengths()}
        rest = [result for result in self.shown_scales() if result.scale.code not in strengths]
        return sorted(rest, key=lambda result: result.mean)[:count]


def results_are_released(wave_team: WaveTeam) -> bool:
    """Results appear only after the wave closes: watching them grow would show who answered."""
    return wave_team.wave.status is WaveStatus.CLOSED


def _scored_items(wave_team: WaveTeam) -> pd.DataFrame:
    return pd.DataFrame(
        db.session.execute(
            sa.select(Item.code.label("item_code"), Scale.code.label("scale_code"), Item.reverse)
            .join(Scale, Item.scale_id == Scale.id)
            .where(Item.version_id == wave_team.wave.questionnaire_version_id, Scale.scored)
        ).all(),
        columns=["item_code", "scale_code", "reverse"],
    )


def _team_answers(wave_team: WaveTeam, item_codes: list[str]) -> pd.DataFrame:
    answers = pd.DataFrame(
        db.session.execute(
            sa.select(Answer.response_id, Answer.item_code, Answer.value, Answer.dont_know)
            .join(Response, Answer.response_id == Response.id)
            .where(
                Response.wave_id == wave_team.wave_id,
                Response.unit_id == wave_team.unit_id,
                Answer.item_code.in_(item_codes),
            )
        ).all(),
        columns=["response_id", "item_code", "value", "dont_know"],
    )
    return answers.astype({"value": float, "dont_know": bool})


def _response_count(wave_team: WaveTeam) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Response.id)).where(
            Response.wave_id == wave_team.wave_id, Response.unit_id == wave_team.unit_id
        )
    )


def previous_wave_team(wave_team: WaveTeam) -> WaveTeam | None:
    """The same team in the latest closed wave before this one."""
    return db.session.scalar(
        sa.select(WaveTeam)
        .join(Wave, WaveTeam.wave_id == Wave.id)
        .where(
            WaveTeam.unit_id == wave_team.unit_id,
            Wave.status == WaveStatus.CLOSED,
            Wave.opens_on < wave_team.wave.opens_on,
        )
        .order_by(Wave.opens_on.desc())
        .limit(1)
    )


def _scores(wave_team: WaveTeam, policy: Policy) -> pd.DataFrame | None:
    """Respondents × scales of a wave team, or None when the team is below k."""
    if not gate_group(_response_count(wave_team), policy).shown:
        return None
    items = _scored_items(wave_team)
    answers = _team_answers(wave_team, items["item_code"].tolist())
    return respondent_scale_scores(answers[~answers["dont_know"]], items)


def team_results(wave_team: WaveTeam, policy: Policy) -> TeamResults:
    version = wave_team.wave.questionnaire_version
    scales = [scale for scale in version.scales if scale.scored]
    team_verdict = gate_group(_response_count(wave_team), policy)
    if not team_verdict.shown:
        return TeamResults(
            team_verdict, wave_team.invited, [ScaleResult(scale, team_verdict) for scale in scales]
        )
    items = _scored_items(wave_team)
    answers = _team_answers(wave_team, items["item_code"].tolist())
    statistics = scale_statistics(answers, items)
    current = respondent_scale_scores(answers[~answers["dont_know"]], items)
    previous = previous_wave_team(wave_team)
    before = _scores(previous, policy) if previous else None
    return TeamResults(
        team_verdict,
        wave_team.invited,
        [
            _scale_result(scale, statistics.loc[scale.code], policy, current, before)
            for scale in scales
        ],
        previous.wave if previous else None,
    )


def _change(
    code: str, current: pd.DataFrame, before: pd.DataFrame | None, policy: Policy
) -> Change | None:
    """The change since the previous wave, when both waves show this scale (n ≥ k each)."""
    if before is None or code not in before or code not in current:
        return None
    earlier, now = before[code].dropna(), current[code].dropna()
    if len(earlier) < policy.min_group_size or len(now) < policy.min_group_size:
        return None
    return change_between(earlier, now)


def _scale_result(
    scale: Scale,
    row: pd.Series,
    policy: Policy,
    current: pd.DataFrame,
    before: pd.DataFrame | None,
) -> ScaleResult:
    verdict = gate_group(int(row["n"]), policy)
    if not verdict.shown:
        return ScaleResult(scale, verdict)
    spread = policy.shows_spread(verdict.n)
    return ScaleResult(
        scale,
        verdict,
        mean=float(row["mean"]),
        pct_favourable=float(row["pct_favourable"]),
        pct_dont_know=float(row["pct_dont_know"]),
        sd=float(row["sd"]) if spread else None,
        agrees=bool(row["rwg"] >= AGREEMENT_FROM) if spread and pd.notna(row["rwg"]) else None,
        change=_change(scale.code, current, before, policy),
    )
