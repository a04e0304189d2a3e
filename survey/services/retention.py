"""Data retention: deleting the response-level data of old waves, keeping safe aggregates.

The organisation sets how many years after a wave ended its answers are kept
(``Settings.retention_years``; None keeps everything). ``retention_plan`` says, before anything
happens, which waves are due and what goes and what stays; ``purge_wave`` does it for one wave:

- deleted: its responses with their answers, written comments and stored scale scores, its
  unfinished drafts and its access codes (used or not);
- kept: per team and scored scale the number of scale scores, their mean and SD
  (``RetainedScaleResult``), only where the team has at least k scores for the scale. Smaller
  teams keep nothing: a stored figure must be one that may be shown.

The aggregates are computed in SQL (count, Σ and Σ² per team and scale over the stored scale
scores, ``HAVING count >= k``); only those sums reach Python. Each wave uses its own k
(``wave_policy``): the promise it was answered under.

What the page, the command line and the audit log say about what goes passes the same gate as
every figure: the number of responses through ``gate_total`` (the teams of at least k show
their own numbers on their results pages, so the wave's total is given only when it minus
those leaves nought or at least k), unfinished drafts only from k on, and neither answers nor
written comments are counted at all (comments of the teams shown can be counted on their
pages, so a total would give the smaller teams' comments; docs/anonymity.md, "Totals minus
shown parts").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from questionnaires import Text
from reports.statistics import Summary
from survey.anonymity import Policy
from survey.extensions import db
from survey.models import (
    AccessCode,
    Account,
    Answer,
    Draft,
    Response,
    RetainedScaleResult,
    ScaleScore,
    Unit,
    Wave,
    WaveState,
    WaveTeam,
)
from survey.services import audit
from survey.services.questionnaires import instrument_of
from survey.services.settings import current_settings, wave_policy
from survey.services.team_figures import forget_wave_figures
from survey.services.wave_progress import GatedCount, GatedTotal, gate_total

#: Responses deleted per statement: large waves go in several rounds of this many.
BATCH_SIZE = 500


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def ended_on(wave: Wave) -> date:
    """The day a wave ended: when it was closed early, else its planned closing day."""
    return wave.closed_on or wave.closes_on


@dataclass(frozen=True)
class KeptScale:
    """One team's figure for one scored scale, kept after the answers are deleted."""

    unit_id: int
    team: str
    scale_code: str
    n: int
    mean: float
    sd: float | None


@dataclass(frozen=True)
class DeletedCounts:
    """What goes, counted (never shown as such: see ``WavePlan``)."""

    #: Team (unit) id → its responses.
    responses_per_team: dict[int, int] = field(default_factory=dict)
    access_codes: int = 0
    drafts: int = 0

    @property
    def responses(self) -> int:
        return sum(self.responses_per_team.values())


@dataclass(frozen=True)
class WavePlan:
    wave: Wave
    ended_on: date
    deleted: DeletedCounts
    #: Per team (by name) and scale; only teams with at least k scores for the scale.
    kept: list[KeptScale]
    #: Names of the wave's teams for which nothing is kept.
    teams_without_figures: list[str]
    #: The wave's own k and spread threshold (``wave_policy``).
    min_group_size: int
    spread_threshold: int

    @property
    def responses(self) -> GatedTotal:
        """The responses that go, as they may be shown (``gate_total`` over the teams)."""
        return gate_total(self.deleted.responses_per_team.values(), self._policy)

    @property
    def drafts(self) -> GatedCount:
        """Unfinished questionnaires: each is someone who began, so only from k on."""
        return GatedCount.gated(self.deleted.drafts, self._policy)

    @property
    def _policy(self) -> Policy:
        return Policy(min_group_size=self.min_group_size, spread_threshold=self.spread_threshold)

    def responses_text(self) -> str:
        """The responses that go, in English (the command line and the audit log)."""
        total = self.responses
        k = self.min_group_size
        if total.whole.shown:
            return f"{total.whole.value} response(s)"
        if total.shown_groups:
            return (
                f"{total.shown_parts} response(s) in the teams of at least {k}, "
                f"fewer than {k} in the others together"
            )
        return f"fewer than {k} responses"

    def drafts_text(self) -> str:
        drafts = self.drafts
        if drafts.shown:
            return f"{drafts.value} unfinished draft(s)"
        return f"fewer than {self.min_group_size} unfinished drafts"

    def audit_details(self) -> dict:
        """What the audit log records of the deletion, through the same gate as the page."""
        responses = self.responses
        drafts = self.drafts
        return {
            "wave": self.wave.name,
            "ended_on": self.ended_on.isoformat(),
            "responses": (
                responses.whole.value if responses.whole.shown else self.responses_text()
            ),
            "access_codes": self.deleted.access_codes,
            "drafts": drafts.value if drafts.shown else self.drafts_text(),
            "kept_figures": len(self.kept),
            "kept_teams": len({row.unit_id for row in self.kept}),
        }


@dataclass(frozen=True)
class RetentionPlan:
    #: None: retention is off and the plan is empty.
    retention_years: int | None
    today: date
    #: Waves that ended before this day are due.
    cutoff: date | None
    min_group_size: int
    waves: list[WavePlan] = field(default_factory=list)

    @property
    def off(self) -> bool:
        return self.retention_years is None

    @property
    def wave_ids(self) -> list[int]:
        return [wave_plan.wave.id for wave_plan in self.waves]


def retention_plan(today: date | None = None) -> RetentionPlan:
    """The waves whose response-level data are due for deletion today, with what goes and what
    is kept; nothing is changed. Empty when retention is off."""
    today = today or date.today()
    settings = current_settings()
    k = settings.min_group_size
    years = settings.retention_years
    if years is None:
        return RetentionPlan(None, today, None, k)
    cutoff = years_before(today, years)
    candidates = db.session.scalars(
        sa.select(Wave)
        .where(Wave.purged_on.is_(None), sa.func.coalesce(Wave.closed_on, Wave.closes_on) < cutoff)
        .order_by(sa.func.coalesce(Wave.closed_on, Wave.closes_on), Wave.id)
    ).all()
    waves = [wave for wave in candidates if wave.state(today) is WaveState.CLOSED]
    ids = [wave.id for wave in waves]
    policies = {wave.id: wave_policy(wave, settings) for wave in waves}
    counts = _deleted_counts(ids)
    kept = _kept_figures(
        ids, {wave_id: policy.min_group_size for wave_id, policy in policies.items()}
    )
    team_names = _team_names(ids)
    plans = []
    for wave in waves:
        policy = policies[wave.id]
        kept_here = kept.get(wave.id, [])
        with_figures = {row.unit_id for row in kept_here}
        plans.append(
            WavePlan(
                wave=wave,
                ended_on=ended_on(wave),
                deleted=counts.get(wave.id, DeletedCounts()),
                kept=kept_here,
                teams_without_figures=[
                    name
                    for unit_id, name in team_names.get(wave.id, [])
                    if unit_id not in with_figures
                ],
                min_group_size=policy.min_group_size,
                spread_threshold=policy.spread_threshold,
            )
        )
    return RetentionPlan(years, today, cutoff, k, plans)


def _per_wave(statement: sa.Select) -> dict[int, int]:
    return {row[0]: row[1] for row in db.session.execute(statement).all()}


def _deleted_counts(wave_ids: list[int]) -> dict[int, DeletedCounts]:
    if not wave_ids:
        return {}
    responses: dict[int, dict[int, int]] = {}
    for wave_id, unit_id, count in db.session.execute(
        sa.select(Response.wave_id, Response.unit_id, sa.func.count())
        .where(Response.wave_id.in_(wave_ids))
        .group_by(Response.wave_id, Response.unit_id)
    ):
        responses.setdefault(wave_id, {})[unit_id] = count
    access_codes = _per_wave(
        sa.select(WaveTeam.wave_id, sa.func.count())
        .join(AccessCode, AccessCode.wave_team_id == WaveTeam.id)
        .where(WaveTeam.wave_id.in_(wave_ids))
        .group_by(WaveTeam.wave_id)
    )
    drafts = _per_wave(
        sa.select(Draft.wave_id, sa.func.count())
        .where(Draft.wave_id.in_(wave_ids))
        .group_by(Draft.wave_id)
    )
    return {
        wave_id: DeletedCounts(
            responses_per_team=responses.get(wave_id, {}),
            access_codes=access_codes.get(wave_id, 0),
            drafts=drafts.get(wave_id, 0),
        )
        for wave_id in wave_ids
    }


def _kept_figures(wave_ids: list[int], ks: dict[int, int]) -> dict[int, list[KeptScale]]:
    """wave id → the figures kept: n, mean and SD per team and scale, where n ≥ the wave's k
    (``ks``: wave id → k)."""
    if not wave_ids:
        return {}
    k = min(ks.values())
    score = ScaleScore.score
    rows = db.session.execute(
        sa.select(
            Response.wave_id,
            Response.unit_id,
            Unit.name,
            ScaleScore.scale_code,
            sa.func.count(),
            sa.func.sum(score),
            sa.func.sum(score * score),
        )
        .join(Response, ScaleScore.response_id == Response.id)
        .join(Unit, Unit.id == Response.unit_id)
        .where(Response.wave_id.in_(wave_ids))
        .group_by(Response.wave_id, Response.unit_id, Unit.name, ScaleScore.scale_code)
        .having(sa.func.count() >= k)
        .order_by(Response.wave_id, Unit.name, Response.unit_id, ScaleScore.scale_code)
    ).all()
    kept: dict[int, list[KeptScale]] = {}
    for wave_id, unit_id, name, scale_code, n, total, squares in rows:
        if n < ks[wave_id]:
            continue
        summary = Summary.from_sums(int(n), float(total), float(squares))
        sd = math.sqrt(summary.var) if not math.isnan(summary.var) else None
        kept.setdefault(wave_id, []).append(
            KeptScale(unit_id, name, scale_code, int(n), summary.mean, sd)
        )
    return kept


def _team_names(wave_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    rows = db.session.execute(
        sa.select(WaveTeam.wave_id, Unit.id, Unit.name)
        .join(Unit, Unit.id == WaveTeam.unit_id)
        .where(WaveTeam.wave_id.in_(wave_ids))
        .order_by(Unit.name, Unit.id)
    ).all()
    names: dict[int, list[tuple[int, str]]] = {}
    for wave_id, unit_id, name in rows:
        names.setdefault(wave_id, []).append((unit_id, name))
    return names


def purge_wave(wave_plan: WavePlan, actor: Account | None, today: date | None = None) -> None:
    """Keep the wave's figures, delete its response-level data and mark it purged, audited.

    Responses go ``BATCH_SIZE`` at a time with their answers and scale scores. Flushes only:
    the caller commits (after each wave, so that each wave is done wholly or not at all) or
    rolls back.
    """
    wave = wave_plan.wave
    db.session.execute(sa.delete(RetainedScaleResult).where(RetainedScaleResult.wave_id == wave.id))
    db.session.add_all(
        RetainedScaleResult(
            wave_id=wave.id,
            unit_id=row.unit_id,
            scale_code=row.scale_code,
            n=row.n,
            mean=row.mean,
            sd=row.sd,
        )
        for row in wave_plan.kept
    )
    db.session.flush()
    forget_wave_figures([wave.id])  # they hold its comments
    _delete_responses(wave.id)
    db.session.execute(
        sa.delete(AccessCode)
        .where(
            AccessCode.wave_team_id.in_(sa.select(WaveTeam.id).where(WaveTeam.wave_id == wave.id))
        )
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.delete(Draft)
        .where(Draft.wave_id == wave.id)
        .execution_options(synchronize_session=False)
    )
    wave.purged_on = today or date.today()
    audit.record(actor, "retention.apply", f"wave {wave.id}", **wave_plan.audit_details())


def _delete_responses(wave_id: int) -> None:
    while True:
        ids = db.session.scalars(
            sa.select(Response.id).where(Response.wave_id == wave_id).limit(BATCH_SIZE)
        ).all()
        if not ids:
            return
        for model, column in (
            (ScaleScore, ScaleScore.response_id),
            (Answer, Answer.response_id),
            (Response, Response.id),
        ):
            db.session.execute(
                sa.delete(model).where(column.in_(ids)).execution_options(synchronize_session=False)
            )


def apply_retention(
    plan: RetentionPlan,
    actor: Account | None,
    progress: Callable[[WavePlan], None] | None = None,
) -> list[WavePlan]:
    """Purge every wave of the plan (``purge_wave``); returns the waves done. Flushes."""
    for wave_plan in plan.waves:
        purge_wave(wave_plan, actor, plan.today)
        if progress is not None:
            progress(wave_plan)
    return plan.waves


def retained_results(wave_id: int, unit_id: int) -> list[RetainedScaleResult]:
    """A team's kept figures of a purged wave, by scale code."""
    return list(
        db.session.scalars(
            sa.select(RetainedScaleResult)
            .where(RetainedScaleResult.wave_id == wave_id, RetainedScaleResult.unit_id == unit_id)
            .order_by(RetainedScaleResult.scale_code)
        )
    )


@dataclass(frozen=True)
class KeptMean:
    """One kept scale mean as a team's page shows it."""

    scale_code: str
    title: Text | None
    n: int
    mean: float
    sd: float | None


@dataclass(frozen=True)
class PurgedTeamResults:
    """What a team's page shows of a wave whose answers were deleted under retention."""

    on: date
    kept: list[KeptMean]


def purged_team_results(wave_team: WaveTeam) -> PurgedTeamResults:
    """The team's kept scale means, in the questionnaire's order, through the gate again (k may
    have been raised since they were kept)."""
    wave = wave_team.wave
    k = wave_policy(wave).min_group_size
    rows = {row.scale_code: row for row in retained_results(wave.id, wave_team.unit_id)}
    titles = {scale.code: scale.title for scale in instrument_of(wave).scales()}
    order = list(titles) + sorted(set(rows) - set(titles))
    return PurgedTeamResults(
        on=wave.purged_on,
        kept=[
            KeptMean(code, titles.get(code), rows[code].n, rows[code].mean, rows[code].sd)
            for code in order
            if code in rows and rows[code].n >= k
        ],
    )
