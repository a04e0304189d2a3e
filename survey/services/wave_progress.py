"""What a wave's page shows of it: its teams, how far answering has come, the teams to check
with at closing, and the links to print. The lifecycle verbs are ``survey.services.waves``.

Every count about respondents passes the anonymity gate (``GatedCount``, ``GatedTotal``),
and none ticks with a single submission (``counted_before``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from reports.rounding import whole_percent
from survey import anonymity
from survey.anonymity import Policy, Reason, Verdict, gate_group
from survey.extensions import db
from survey.models import AccessCode, Response, Unit, Wave, WaveState, WaveStatus, WaveTeam
from survey.services import short_links


def wave_teams(wave: Wave) -> list[WaveTeam]:
    """The wave's teams by name."""
    return list(
        db.session.scalars(
            sa.select(WaveTeam)
            .join(Unit, WaveTeam.unit_id == Unit.id)
            .where(WaveTeam.wave_id == wave.id)
            .order_by(Unit.name, Unit.slug)
        )
    )


# --- Progress, behind the minimum group size --------------------------------------------------


@dataclass(frozen=True)
class GatedCount:
    """A count about respondents as a page may show it: ``value`` is None when it is hidden,
    and then ``reason`` says why. The hidden number itself is not kept."""

    value: int | None
    reason: Reason | None = None

    @classmethod
    def of(cls, verdict: Verdict) -> GatedCount:
        return cls(verdict.n) if verdict.shown else cls(None, verdict.reason)

    @classmethod
    def gated(cls, n: int, policy: Policy) -> GatedCount:
        """A group with nothing to subtract it from: shown from k on (nought is hidden too)."""
        return cls.of(gate_group(n, policy))

    @property
    def shown(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class GatedTotal:
    """A total over groups (e.g. the teams of a wave) whose own counts are shown elsewhere.

    Every group of at least k shows its own count on some page (the team's results, the
    wave's page), so the total is shown only when what those shown groups leave over is nought
    or at least k: otherwise the total minus the shown groups would be the count of the
    groups below k (docs/anonymity.md, "Totals minus shown parts")."""

    #: The whole total, or hidden.
    whole: GatedCount
    #: The sum of the groups shown on their own (each with at least k): a sum of shown figures.
    shown_parts: int
    #: How many groups that sum pools.
    shown_groups: int


def gate_total(parts: Iterable[int], policy: Policy) -> GatedTotal:
    """``parts`` are the groups' counts; the rule is ``survey.anonymity.gate_total``."""
    counts = list(parts)
    shown = [n for n in counts if n >= policy.min_group_size]
    verdict = anonymity.gate_total(counts, policy)
    return GatedTotal(GatedCount.of(verdict), sum(shown), len(shown))


@dataclass(frozen=True)
class TeamProgress:
    wave_team: WaveTeam
    responses: GatedCount
    codes_issued: int
    #: Hidden while the wave runs (``WaveProgress.codes_used_shown``).
    codes_used: GatedCount


@dataclass(frozen=True)
class WaveProgress:
    teams: list[TeamProgress]
    #: All the wave's responses counted, through ``gate_total``.
    total: GatedTotal
    #: While staff can still answer, responses count only up to the end of the day before
    #: this day (so the counts move once a day, not with each submission); None: every one.
    counted_before: date | None
    #: Whether used codes are shown: only once the wave's period has ended, since a code is
    #: marked used when it is entered, and a count that moves then would say who just began.
    codes_used_shown: bool


def counted_before(wave: Wave, today: date) -> date | None:
    """The day from which an open wave's responses are not yet counted (``WaveProgress``)."""
    if wave.status is WaveStatus.CLOSED or wave.state(today) is WaveState.CLOSED:
        return None
    return today


def response_counts(wave: Wave, before: date | None = None) -> dict[int, int]:
    """Team (unit) id → the wave's responses, only those submitted before ``before`` if given."""
    query = (
        sa.select(Response.unit_id, sa.func.count())
        .where(Response.wave_id == wave.id)
        .group_by(Response.unit_id)
    )
    if before is not None:
        query = query.where(Response.submitted_on < before)
    return dict(db.session.execute(query).all())


def wave_progress(wave: Wave, policy: Policy, today: date | None = None) -> WaveProgress:
    """Per team how many have answered and how many codes were issued and used, every count
    about respondents through the anonymity gate, and none that ticks with one submission.

    - A team's count is shown from k on (nought included in what is hidden, so nobody can
      watch the first answers arrive), as on the team's own results page.
    - The wave's total through ``gate_total``: never one that minus the shown teams gives the
      teams below k.
    - While staff can answer, only responses submitted before today count: the figures move
      once a day ("as of the end of yesterday"), so watching them says nothing about who
      answered when. Used codes are shown only once the period has ended.
    """
    today = today or date.today()
    before = counted_before(wave, today)
    teams = wave_teams(wave)
    responses = response_counts(wave, before)
    issued: dict[int, int] = {}
    used: dict[int, int] = {}
    for wave_team_id, is_used, count in db.session.execute(
        sa.select(AccessCode.wave_team_id, AccessCode.used, sa.func.count())
        .join(WaveTeam, AccessCode.wave_team_id == WaveTeam.id)
        .where(WaveTeam.wave_id == wave.id)
        .group_by(AccessCode.wave_team_id, AccessCode.used)
    ):
        issued[wave_team_id] = issued.get(wave_team_id, 0) + count
        if is_used:
            used[wave_team_id] = count
    codes_used_shown = before is None and wave.status is not WaveStatus.DRAFT
    hidden_until_the_end = GatedCount(None, None)
    return WaveProgress(
        teams=[
            TeamProgress(
                wave_team=team,
                responses=GatedCount.gated(responses.get(team.unit_id, 0), policy),
                codes_issued=issued.get(team.id, 0),
                codes_used=(
                    GatedCount.gated(used.get(team.id, 0), policy)
                    if codes_used_shown
                    else hidden_until_the_end
                ),
            )
            for team in teams
        ],
        total=gate_total((responses.get(team.unit_id, 0) for team in teams), policy),
        counted_before=before,
        codes_used_shown=codes_used_shown,
    )


# --- Expected staff and the checks at closing -------------------------------------------------


def small_for_team_links(expected: int | None, policy: Policy) -> bool:
    """Whether a team is one for which access codes stay the recommended way: fewer than 2k
    expected staff (a team link can be passed on, and a few made-up answers weigh heavily in
    a small team)."""
    return expected is not None and expected < 2 * policy.min_group_size


def implausible_burst(peak_burst: int, expected: int | None, policy: Policy) -> bool:
    """Whether the most completed questionnaires of a team within one ten-minute window are
    worth a check: at least k, and at least half its expected staff (at least k when that is
    unknown). A whole team answering together in a meeting is legitimate; the admin is asked
    to check with the team, not told that something is wrong."""
    k = policy.min_group_size
    threshold = max(k, -(-expected // 2)) if expected else k
    return peak_burst >= threshold


@dataclass(frozen=True)
class TeamFlag:
    """A team to check with at closing. No time is kept or shown, and counts only from k."""

    wave_team: WaveTeam
    #: More completed questionnaires than the team's expected staff.
    over_expected: bool
    #: The team's responses (shown from k on) and, when shown, their share of the expected staff.
    responses: GatedCount
    percent: int | None
    #: The most completed questionnaires within ten minutes, when that is implausible (≥ k).
    burst: int | None


def closing_flags(wave: Wave, policy: Policy) -> list[TeamFlag]:
    """The teams of a wave whose responses exceed their expected staff or arrived in an
    implausible burst (``implausible_burst``), by team name."""
    responses = response_counts(wave)
    flags = []
    for team in wave_teams(wave):
        n = responses.get(team.unit_id, 0)
        over = team.invited is not None and n > team.invited
        burst = (
            team.peak_burst if implausible_burst(team.peak_burst, team.invited, policy) else None
        )
        if not over and burst is None:
            continue
        count = GatedCount.gated(n, policy)
        percent = whole_percent(100 * n / team.invited) if count.shown and team.invited else None
        flags.append(TeamFlag(team, over, count, percent, burst))
    return flags


# --- Links to print ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamLinks:
    wave_team: WaveTeam
    #: The answering link, or None for a codes-only or invitation wave (no team link works).
    answer_url: str | None
    #: The answering link as an inline SVG QR code (``<svg>…</svg>``), or None.
    answer_qr_svg: str | None
    #: The answering link's short code as printed (``ABCD-EFGH``), or None with answer_url;
    #: typed after ``short_prefix`` (``PUBLIC_URL/t/``).
    short_code: str | None
    short_prefix: str
    results_url: str

    @property
    def short_url(self) -> str | None:
        return f"{self.short_prefix}{self.short_code}" if self.short_code else None


def team_links(wave: Wave, public_url: str) -> list[TeamLinks]:
    """Per team the link to answer (with its QR code) and the team's own results link."""
    base = public_url.rstrip("/")
    sheets = []
    for wave_team in wave_teams(wave):
        closed = wave.codes_only or wave.invitations
        answer_url = None if closed else f"{base}/t/{wave_team.link_slug}"
        sheets.append(
            TeamLinks(
                wave_team=wave_team,
                answer_url=answer_url,
                answer_qr_svg=qr_svg(answer_url) if answer_url else None,
                short_code=short_links.display(wave_team.short_code) if answer_url else None,
                short_prefix=f"{base}/t/",
                results_url=f"{base}/team/{wave_team.results_slug}",
            )
        )
    return sheets


def qr_svg(text: str) -> str:
    """A QR code of ``text`` as inline SVG: black on white, a quiet zone of four modules,
    medium error correction (survives a crease or a smudge on paper)."""
    import segno  # imported here: only the links page draws QR codes

    svg = segno.make(text, error="m").svg_inline(
        border=4, dark="#000", light="#fff", svgclass="qr", lineclass=None, omitsize=True
    )
    # Decorative for assistive technology: the page gives the link itself in text beside it.
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
