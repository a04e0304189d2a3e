"""Participation: a team's responses as a share of its expected staff (``WaveTeam.invited``),
the one rule every page that shows it uses (the managers' dashboard, the administrator's wave
page, the quality pages' participation over waves).

The percentage is computed from the count as the live counts show it, never from the raw one
(docs/anonymity.md, "Live counts" and "Participation"):

- only from k responses (``GatedCount``): below k neither the count nor the percentage shows;
- in the same steps: while staff can answer, only responses submitted before today count
  (``wave_progress.counted_before``), so the figure moves once a day, never with one submission;
- a total over several teams passes ``gate_total``: never one that minus the shown teams gives
  the teams below k; a total over part of a wave's teams (a manager's scope) counts no team
  below k at all (``_total``). Over ended waves the organisation's figure sums only the shown
  teams.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from reports.rounding import whole_percent
from survey.anonymity import Policy, Reason
from survey.models import Wave, WaveStatus, WaveTeam
from survey.services.settings import wave_policy
from survey.services.wave_progress import (
    GatedCount,
    GatedTotal,
    counted_before,
    gate_total,
    response_counts,
    wave_teams,
)


def percent_of(responses: GatedCount, expected: int | None) -> int | None:
    """A shown count as a whole percentage of the expected staff; None when the count is hidden
    or no expected number is known."""
    if not responses.shown or not expected or responses.value is None:
        return None
    return whole_percent(100 * responses.value / expected)


@dataclass(frozen=True)
class TeamParticipation:
    wave_team: WaveTeam
    #: The team's responses as the live counts show them (from k, in steps).
    responses: GatedCount
    #: The team's expected staff, or None when nobody entered it.
    expected: int | None
    #: ``responses`` of ``expected`` as a whole percentage, or None (hidden or no expected).
    percent: int | None


@dataclass(frozen=True)
class Participation:
    """A wave's participation over the teams a reader may see."""

    wave: Wave
    teams: list[TeamParticipation]
    #: The teams' responses together, through ``gate_total``.
    total: GatedTotal
    #: The teams' expected staff together, or None when a team has none (a percentage of a
    #: part of the teams would mislead).
    expected: int | None
    #: ``total`` of ``expected``, when both are known and the total is shown.
    percent: int | None
    #: As ``WaveProgress.counted_before``: responses from this day on are not yet counted.
    counted_before: date | None
    k: int

    @property
    def by_team(self) -> dict[int, TeamParticipation]:
        """Wave-team id → its participation."""
        return {row.wave_team.id: row for row in self.teams}


def wave_participation(
    wave: Wave,
    teams: Sequence[WaveTeam] | None = None,
    *,
    policy: Policy | None = None,
    today: date | None = None,
) -> Participation | None:
    """The participation of ``teams`` (default: all the wave's teams) in ``wave``; None for a
    draft, which nobody can answer yet, and for a wave whose answers were deleted (retention).
    The caller passes only the teams its reader may see."""
    if wave.status is WaveStatus.DRAFT or wave.purged_on is not None:
        return None
    policy = policy or wave_policy(wave)
    before = counted_before(wave, today or date.today())
    counts = response_counts(wave, before)
    teams = list(wave_teams(wave) if teams is None else teams)
    rows = []
    for team in teams:
        responses = GatedCount.gated(counts.get(team.unit_id, 0), policy)
        percent = percent_of(responses, team.invited)
        rows.append(TeamParticipation(team, responses, team.invited, percent))
    total = _total(wave, teams, counts, policy)
    expected = (
        sum(team.invited for team in teams if team.invited)
        if teams and all(team.invited for team in teams)
        else None
    )
    return Participation(
        wave=wave,
        teams=rows,
        total=total,
        expected=expected,
        percent=percent_of(total.whole, expected),
        counted_before=before,
        k=policy.min_group_size,
    )


def _total(wave: Wave, teams: list[WaveTeam], counts: dict[int, int], policy: Policy) -> GatedTotal:
    """The teams' responses together, through ``gate_total``. A total over only part of the
    wave's teams (a manager's scope) also hides what its teams below k hold, even at k or more:
    the wave's own total (the administrator's) minus it and the other shown teams would
    otherwise give the teams below k outside that part. So it is the whole wave's total, or a
    sum of shown teams."""
    parts = [counts.get(team.unit_id, 0) for team in teams]
    total = gate_total(parts, policy)
    whole_wave = {team.id for team in teams} == {team.id for team in wave.teams}
    below_k = sum(n for n in parts if n < policy.min_group_size)
    if whole_wave or below_k == 0 or not total.whole.shown:
        return total
    return GatedTotal(GatedCount(None, Reason.DIFFERENCING), total.shown_parts, total.shown_groups)


@dataclass(frozen=True)
class WaveSummary:
    """One ended wave on the quality pages: the teams shown (at least k responses each) and
    what they add up to. Teams below k, and teams without expected staff, are left out of
    both sums, so the figure is a sum of shown figures and nothing can be subtracted from it."""

    wave: Wave
    #: Teams with at least k responses and an expected number of staff.
    teams_counted: int
    teams_in_wave: int
    responses: int
    expected: int
    percent: int | None
    #: Its answers were deleted under the retention setting: nothing left to count.
    purged: bool


def organisation_participation(waves: Sequence[Wave]) -> list[WaveSummary]:
    """Per ended wave (``comparisons.ended_waves``, oldest first) the organisation's
    participation over the teams shown."""
    summaries = []
    for wave in waves:
        policy = wave_policy(wave)
        counts = response_counts(wave)
        teams = wave_teams(wave)
        counted = [
            (counts.get(team.unit_id, 0), team.invited)
            for team in teams
            if team.invited and counts.get(team.unit_id, 0) >= policy.min_group_size
        ]
        responses = sum(n for n, _ in counted)
        expected = sum(invited for _, invited in counted if invited)
        summaries.append(
            WaveSummary(
                wave=wave,
                teams_counted=len(counted),
                teams_in_wave=len(teams),
                responses=responses,
                expected=expected,
                percent=whole_percent(100 * responses / expected) if expected else None,
                purged=wave.purged_on is not None,
            )
        )
    return summaries
