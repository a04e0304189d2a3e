"""A team's results for one wave, through the anonymity gate.

Everything a team or manager page shows comes from ``team_results``: scale scores with spread,
agreement, answer distributions, item detail and change since the previous wave; the
strength sources, life domains and time perspectives item by item; the deep-dive grid; the
comments; and the organisation's average per scale as a comparison. Every number passes the gate
(``survey.anonymity``) before it gets here; hidden places carry the verdict that says why.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from questionnaires import Group, Instrument, Item, Scale
from reports.counts import ValueCounts, item_figures, scale_answer_figures, scale_rwg
from reports.statistics import Change, Summary, change_from_summaries
from reports.summary import DESCRIBED, TeamSummary
from survey.access import manages_team
from survey.anonymity import (
    Policy,
    Pooled,
    Verdict,
    gate_group,
    pooled_over_shown_groups,
    visible_comments,
)
from survey.extensions import db
from survey.models import (
    Account,
    Response,
    Wave,
    WaveState,
    WaveTeam,
    management_release_date,
)
from survey.services.comparisons import team_scale_sums
from survey.services.participation import percent_of
from survey.services.questionnaires import instrument_of
from survey.services.settings import wave_team_first_days
from survey.services.summary import earlier_closed, team_summary
from survey.services.team_figures import TeamFigures, ended_scale_summaries, team_figures
from survey.services.wave_progress import GatedCount


@dataclass(frozen=True)
class ItemResult:
    item: Item
    verdict: Verdict
    mean: float | None = None
    pct_favourable: float | None = None
    pct_dont_know: float | None = None
    #: Answers 1–5 as given; only from the spread threshold up.
    counts: tuple[int, ...] | None = None


@dataclass(frozen=True)
class ScaleResult:
    scale: Scale
    verdict: Verdict
    mean: float | None = None
    pct_favourable: float | None = None
    pct_dont_know: float | None = None
    #: Only from the spread threshold up: SD, agreement (rwg(J)) and the answers describe
    #: differences. The summary says where opinions differ (``reports.summary.DIFFER_BELOW``).
    sd: float | None = None
    rwg: float | None = None
    counts: tuple[int, ...] | None = None
    #: Since the team's previous closed wave; None when either wave may not show this scale's
    #: spread (its interval comes from the scores' spread).
    change: Change | None = None
    #: The organisation's pooled mean (teams of the wave that meet k), when it may be shown.
    organisation: Pooled | None = None
    #: The scale's questions; empty when ``items_shown`` is False.
    items: tuple[ItemResult, ...] = ()
    #: False when one of the scale's questions has fewer than k answers in this group: then the
    #: scale shows only its mean and n. Its answer spread, shares, SD and per-question figures
    #: minus those of the other questions would give away the small question.
    items_shown: bool = True


@dataclass(frozen=True)
class GroupResult:
    group: Group
    items: tuple[ItemResult, ...]


@dataclass(frozen=True)
class GridResult:
    item: Item
    #: The respondents who ticked at least one cell (the grid is optional).
    verdict: Verdict
    shares: dict[tuple[str, str], float] = field(default_factory=dict)

    def share(self, row: str, column: str) -> float:
        return self.shares.get((row, column), 0.0)


@dataclass(frozen=True)
class Comments:
    item: Item
    #: In random order, without dates; None when they may not be shown.
    texts: list[str] | None


@dataclass(frozen=True)
class TeamResults:
    responses: Verdict
    invited: int | None
    scales: list[ScaleResult]
    instrument: Instrument | None = None
    previous_wave: Wave | None = None
    #: The same team in its previous closed wave (for its actions), if any.
    previous_team: WaveTeam | None = None
    groups: list[GroupResult] = field(default_factory=list)
    grids: list[GridResult] = field(default_factory=list)
    comments: list[Comments] = field(default_factory=list)
    comments_enabled: bool = True
    #: The gate's rules these results were shown under (the wave's promise, never weaker).
    policy: Policy = field(default_factory=Policy)
    #: Strengths, growth points, clear rises and disagreement (``reports.summary``).
    summary: TeamSummary = field(default_factory=TeamSummary)

    @property
    def response_rate(self) -> int | None:
        """Participation, by the one rule of every page (``participation.percent_of``)."""
        return percent_of(GatedCount.of(self.responses), self.invited)

    def shown_scales(self) -> list[ScaleResult]:
        return [result for result in self.scales if result.verdict.shown]

    def result_of(self, code: str) -> ScaleResult:
        return next(result for result in self.scales if result.scale.code == code)

    def strengths(self, count: int = DESCRIBED) -> list[ScaleResult]:
        """The summary's first strengths (its rule, not the raw means: ``reports.summary``)."""
        return [self.result_of(named.code) for named in self.summary.strengths[:count]]

    def growth_points(self, count: int = DESCRIBED) -> list[ScaleResult]:
        return [self.result_of(named.code) for named in self.summary.growth_points[:count]]

    def sections(self) -> list[tuple[str, dict, list[ScaleResult]]]:
        """(code, title, scale results) per section of the instrument that has scales."""
        if self.instrument is None:
            return []
        by_section = []
        for section in self.instrument.sections:
            codes = {scale.code for scale in section.scales}
            results = [result for result in self.scales if result.scale.code in codes]
            if results:
                by_section.append((section.code, section.title, results))
        return by_section

    def has_comparison(self) -> bool:
        return any(result.organisation for result in self.scales)


def results_ended(wave_team: WaveTeam) -> bool:
    return wave_team.wave.state() is WaveState.CLOSED


def team_first_days_for(wave_team: WaveTeam, reader: Account) -> int:
    """How long after the wave ended ``reader`` waits for the team's results: not at all for
    the team's own manager (``manages_team``), who discusses them with the team; the
    organisation's team-first period for everyone else: department managers, quality officers
    and administrators. (The team's own link waits for nothing: ``survey.team.views``.)"""
    if manages_team(reader, wave_team.unit_id):
        return 0
    return wave_team_first_days(wave_team.wave)


def results_are_released(
    wave_team: WaveTeam, *, team_first_days: int = 0, today: date | None = None
) -> bool:
    """Results appear only once the wave has ended: watching them grow would show who answered.

    With a team-first period, management waits ``team_first_days`` after the wave closed; the
    team's own results link passes 0.
    """
    wave = wave_team.wave
    if wave.state(today) is not WaveState.CLOSED:
        return False
    if team_first_days <= 0:
        return True
    return (today or date.today()) >= management_release_date(wave, team_first_days)


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
        .where(earlier_closed(wave_team))
        .order_by(Wave.opens_on.desc())
        .limit(1)
    )


#: Organisation means of ended waves, whose answers no longer change: computed once per process.
_ORGANISATION_MEANS: OrderedDict[tuple, dict[str, Pooled]] = OrderedDict()
_CACHED_WAVES = 256


def organisation_means(wave: Wave, instrument: Instrument, policy: Policy) -> dict[str, Pooled]:
    """The organisation's mean per scale, pooled over the teams that may be shown (the gate).

    Results are shown only for ended waves, which take no more answers; the cache key still
    carries the wave's response count and smallest response id (random UUIDs), so a wave that
    somehow changes is computed afresh.
    """
    count, first = db.session.execute(
        sa.select(sa.func.count(Response.id), sa.func.min(sa.cast(Response.id, sa.String))).where(
            Response.wave_id == wave.id
        )
    ).one()
    key = (wave.id, wave.questionnaire_version_id, count, str(first), policy)
    if key in _ORGANISATION_MEANS:
        _ORGANISATION_MEANS.move_to_end(key)
        return _ORGANISATION_MEANS[key]
    means = _organisation_means(wave, instrument, policy)
    _ORGANISATION_MEANS[key] = means
    if len(_ORGANISATION_MEANS) > _CACHED_WAVES:
        _ORGANISATION_MEANS.popitem(last=False)
    return means


def _organisation_means(wave: Wave, instrument: Instrument, policy: Policy) -> dict[str, Pooled]:
    totals = team_scale_sums([wave.id])
    means = {}
    for scale_code, rows in totals.groupby("scale_code"):
        groups = {
            row.unit_id: (int(row.n), float(row.total)) for row in rows.itertuples(index=False)
        }
        if pooled := pooled_over_shown_groups(groups, policy):
            means[scale_code] = pooled
    return means


def team_results(wave_team: WaveTeam, policy: Policy) -> TeamResults:
    instrument = instrument_of(wave_team.wave)
    team_verdict = gate_group(_response_count(wave_team), policy)
    if not team_verdict.shown:
        return TeamResults(
            team_verdict,
            wave_team.invited,
            [ScaleResult(scale, team_verdict) for scale in instrument.scales()],
            instrument,
            comments_enabled=policy.comments_enabled,
            policy=policy,
        )
    figures = team_figures(
        wave_team, instrument, ended=results_ended(wave_team), responses=team_verdict.n
    )
    previous = previous_wave_team(wave_team)
    before = _summaries(previous, policy) if previous else None
    organisation = organisation_means(wave_team.wave, instrument, policy)
    scales = [
        _scale_result(
            scale,
            figures,
            policy,
            _change(figures.scores.get(scale.code), (before or {}).get(scale.code), policy),
            organisation.get(scale.code),
        )
        for scale in instrument.scales()
    ]
    return TeamResults(
        team_verdict,
        wave_team.invited,
        scales,
        instrument,
        previous.wave if previous else None,
        previous_team=previous,
        groups=[
            GroupResult(group, tuple(_item_result(item, figures, policy) for item in group.items))
            for group in instrument.groups()
            if any(item.item_type.is_likert for item in group.items)
        ],
        grids=[_grid_result(item, figures, policy) for item in _items_of(instrument, "grid")],
        comments=[
            Comments(
                item,
                visible_comments(figures.comments.get(item.code, []), team_verdict.n, policy),
            )
            for item in _items_of(instrument, "text")
        ],
        comments_enabled=policy.comments_enabled,
        policy=policy,
        summary=team_summary(wave_team, scales, policy),
    )


def _summaries(wave_team: WaveTeam, policy: Policy) -> dict[str, Summary] | None:
    """The stored scale scores of a wave team, summarised, or None when the team is below k."""
    verdict = gate_group(_response_count(wave_team), policy)
    if not verdict.shown:
        return None
    return ended_scale_summaries(wave_team, verdict.n)  # the previous wave has ended


def _items_of(instrument: Instrument, item_type: str) -> list[Item]:
    return [item for item in instrument.all_items() if item.type == item_type]


def _change(now: Summary | None, earlier: Summary | None, policy: Policy) -> Change | None:
    """The change since the previous wave, when both waves show this scale's spread (n at the
    spread threshold each): its interval and effect size come from the two spreads, so one
    shown spread and the interval would give the other."""
    if now is None or earlier is None:
        return None
    if not policy.shows_spread(earlier.n) or not policy.shows_spread(now.n):
        return None
    return change_from_summaries(earlier, now)


def _item_result(item: Item, figures: TeamFigures, policy: Policy) -> ItemResult:
    counts = figures.items.get(item.code)
    shown = item_figures(counts) if counts else None
    verdict = gate_group(shown.n if shown else 0, policy)
    if not verdict.shown:
        return ItemResult(item, verdict)
    return ItemResult(
        item,
        verdict,
        mean=shown.mean,
        pct_favourable=shown.pct_favourable,
        pct_dont_know=shown.pct_dont_know,
        counts=shown.counts if policy.shows_spread(verdict.n) else None,
    )


def _scale_result(
    scale: Scale,
    figures: TeamFigures,
    policy: Policy,
    change: Change | None,
    organisation: Pooled | None,
) -> ScaleResult:
    scores = figures.scores.get(scale.code)
    verdict = gate_group(scores.n if scores else 0, policy)
    if not verdict.shown:
        return ScaleResult(scale, verdict, organisation=organisation)
    items = tuple(_item_result(item, figures, policy) for item in scale.items)
    if not all(item.verdict.shown for item in items):
        return ScaleResult(
            scale, verdict, mean=scores.mean, organisation=organisation, items_shown=False
        )
    counted = [figures.items.get(item.code, ValueCounts()) for item in scale.items]
    answers = scale_answer_figures(
        zip(counted, [item.reverse for item in scale.items], strict=True)
    )
    spread = policy.shows_spread(verdict.n)
    sd = math.sqrt(scores.var) if scores.n > 1 else None
    return ScaleResult(
        scale,
        verdict,
        mean=scores.mean,
        pct_favourable=answers.pct_favourable,
        pct_dont_know=answers.pct_dont_know,
        sd=sd if spread else None,
        rwg=scale_rwg(counted, scores.n) if spread else None,
        counts=answers.counts if spread else None,
        change=change,
        organisation=organisation,
        items=items,
    )


def _grid_result(item: Item, figures: TeamFigures, policy: Policy) -> GridResult:
    respondents, cells = figures.grids.get(item.code, (0, {}))
    verdict = gate_group(respondents, policy)
    if not verdict.shown:
        return GridResult(item, verdict)
    return GridResult(
        item, verdict, {cell: 100 * count / verdict.n for cell, count in cells.items()}
    )
