"""A team's results for one wave, through the anonymity gate.

Everything a team or manager page shows comes from ``team_results``: scale scores with spread,
agreement, answer distributions, item detail and change since the previous wave; the
strength sources, life domains and time perspectives item by item; the deep-dive grid; the
comments; and the organisation's average per scale as a comparison. Every number passes the gate
(``survey.anonymity``) before it gets here; hidden places carry the verdict that says why.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from questionnaires import Group, Instrument, Item, Scale
from reports.deferred import pd
from reports.scores import respondent_scale_scores
from reports.statistics import (
    Change,
    answer_counts,
    change_between,
    item_statistics,
    scale_statistics,
    tick_shares,
)
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
    Answer,
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


def _scored_items(instrument: Instrument) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (item.code, scale.code, item.reverse)
            for scale in instrument.scales()
            for item in scale.items
        ],
        columns=["item_code", "scale_code", "reverse"],
    )


def _team_answers(wave_team: WaveTeam) -> pd.DataFrame:
    """Every answer of the team in the wave, one row per answer (or ticked grid cell)."""
    rows = db.session.execute(
        sa.select(
            Answer.response_id,
            Answer.item_code,
            Answer.grid_row,
            Answer.grid_column,
            Answer.value,
            Answer.dont_know,
            Answer.text,
        )
        .join(Response, Answer.response_id == Response.id)
        .where(Response.wave_id == wave_team.wave_id, Response.unit_id == wave_team.unit_id)
    ).all()
    frame = pd.DataFrame(
        _plain(rows),
        columns=[
            "response_id",
            "item_code",
            "grid_row",
            "grid_column",
            "value",
            "dont_know",
            "text",
        ],
    )
    return frame.astype({"value": float, "dont_know": bool})


def _plain(rows: list) -> list[tuple]:
    """pandas builds a frame from plain tuples about ten times faster than from Row objects."""
    return [tuple(row) for row in rows]


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


def _likert(answers: pd.DataFrame) -> pd.DataFrame:
    return answers[answers["grid_row"] == ""][["response_id", "item_code", "value", "dont_know"]]


def _scores(wave_team: WaveTeam, policy: Policy) -> pd.DataFrame | None:
    """Respondents × scales of a wave team, or None when the team is below k."""
    if not gate_group(_response_count(wave_team), policy).shown:
        return None
    items = _scored_items(instrument_of(wave_team.wave))
    answers = _likert(_team_answers(wave_team))
    return respondent_scale_scores(answers[~answers["dont_know"]], items)


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
    answers = _team_answers(wave_team)
    likert = _likert(answers)
    items = _scored_items(instrument)
    current = respondent_scale_scores(likert[~likert["dont_know"]], items)
    scored = likert[likert["item_code"].isin(items["item_code"])]
    statistics = scale_statistics(scored, items, scores=current)
    counts = answer_counts(likert, items)
    per_item = item_statistics(likert)
    previous = previous_wave_team(wave_team)
    before = _scores(previous, policy) if previous else None
    organisation = organisation_means(wave_team.wave, instrument, policy)
    by_scale = statistics.to_dict("index")
    counts_by_scale = counts.to_dict("index")
    by_item = per_item.to_dict("index")
    scales = [
        _scale_result(
            scale,
            by_scale[scale.code],
            counts_by_scale[scale.code],
            by_item,
            policy,
            _change(scale.code, current, before, policy),
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
            GroupResult(group, tuple(_item_result(item, by_item, policy) for item in group.items))
            for group in instrument.groups()
            if any(item.item_type.is_likert for item in group.items)
        ],
        grids=[_grid_result(item, answers, policy) for item in _items_of(instrument, "grid")],
        comments=[
            Comments(item, _comments(item, answers, team_verdict.n, policy))
            for item in _items_of(instrument, "text")
        ],
        comments_enabled=policy.comments_enabled,
        policy=policy,
        summary=team_summary(wave_team, scales, policy),
    )


def _items_of(instrument: Instrument, item_type: str) -> list[Item]:
    return [item for item in instrument.all_items() if item.type == item_type]


def _change(
    code: str, current: pd.DataFrame, before: pd.DataFrame | None, policy: Policy
) -> Change | None:
    """The change since the previous wave, when both waves show this scale's spread (n at the
    spread threshold each): its interval and effect size come from the two spreads, so one
    shown spread and the interval would give the other."""
    if before is None or code not in before or code not in current:
        return None
    earlier, now = before[code].dropna(), current[code].dropna()
    if not policy.shows_spread(len(earlier)) or not policy.shows_spread(len(now)):
        return None
    return change_between(earlier, now)


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _item_result(item: Item, by_item: dict[str, dict], policy: Policy) -> ItemResult:
    row = by_item.get(item.code)
    verdict = gate_group(int(row["n"]) if row else 0, policy)
    if not verdict.shown:
        return ItemResult(item, verdict)
    return ItemResult(
        item,
        verdict,
        mean=_number(row["mean"]),
        pct_favourable=_number(row["pct_favourable"]),
        pct_dont_know=_number(row["pct_dont_know"]),
        counts=tuple(int(row[value]) for value in range(1, 6))
        if policy.shows_spread(verdict.n)
        else None,
    )


def _scale_result(
    scale: Scale,
    row: dict,
    counts: dict,
    by_item: dict[str, dict],
    policy: Policy,
    change: Change | None,
    organisation: Pooled | None,
) -> ScaleResult:
    verdict = gate_group(int(row["n"]), policy)
    if not verdict.shown:
        return ScaleResult(scale, verdict, organisation=organisation)
    items = tuple(_item_result(item, by_item, policy) for item in scale.items)
    if not all(item.verdict.shown for item in items):
        return ScaleResult(
            scale,
            verdict,
            mean=float(row["mean"]),
            organisation=organisation,
            items_shown=False,
        )
    spread = policy.shows_spread(verdict.n)
    rwg = row["rwg"]
    return ScaleResult(
        scale,
        verdict,
        mean=float(row["mean"]),
        pct_favourable=_number(row["pct_favourable"]),
        pct_dont_know=_number(row["pct_dont_know"]),
        sd=_number(row["sd"]) if spread else None,
        rwg=float(rwg) if spread and not pd.isna(rwg) else None,
        counts=tuple(int(counts[value]) for value in range(1, 6)) if spread else None,
        change=change,
        organisation=organisation,
        items=items,
    )


def _grid_result(item: Item, answers: pd.DataFrame, policy: Policy) -> GridResult:
    ticks = answers[(answers["item_code"] == item.code) & (answers["grid_row"] != "")]
    verdict = gate_group(ticks["response_id"].nunique(), policy)
    if not verdict.shown:
        return GridResult(item, verdict)
    shares = tick_shares(ticks[["response_id", "grid_row", "grid_column"]], verdict.n)
    return GridResult(item, verdict, {cell: float(share) for cell, share in shares.items()})


def _comments(item: Item, answers: pd.DataFrame, respondents: int, policy: Policy) -> list | None:
    texts = answers.loc[(answers["item_code"] == item.code) & answers["text"].notna(), "text"]
    return visible_comments([text for text in texts if text.strip()], respondents, policy)
