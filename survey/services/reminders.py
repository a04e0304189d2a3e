"""Reminders to non-respondents only, and what the invitation page shows of a wave.

A reminder round (``WaveReminder``) is claimed with a conditional UPDATE of its ``sent_on``,
so the daily command is safe to run twice, and on two machines: only one run sends a round.
Each unused invitation that did not opt out gets a new link (all of its links work until one
is used) and a reminder mail. Counts per team are shown only from k, in the live counts' steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from survey.anonymity import Policy, Reason
from survey.extensions import db
from survey.models import Invitation, MailKind, Wave, WaveReminder, WaveState, WaveStatus, WaveTeam
from survey.services import audit
from survey.services.invitations import queue_mail
from survey.services.wave_progress import GatedCount, GatedTotal, gate_total


@dataclass(frozen=True)
class RoundResult:
    wave: Wave
    reminder: WaveReminder
    #: Reminders queued; None when the round was skipped (past the wave's end).
    sent: int | None


def due_rounds(today: date) -> list[WaveReminder]:
    """The unsent rounds planned for today or earlier, of waves with status open."""
    return list(
        db.session.scalars(
            sa.select(WaveReminder)
            .join(Wave, Wave.id == WaveReminder.wave_id)
            .where(
                WaveReminder.sent_on.is_(None),
                WaveReminder.planned_on <= today,
                Wave.status == WaveStatus.OPEN,
            )
            .order_by(WaveReminder.planned_on, WaveReminder.id)
        )
    )


def _claim_round(reminder: WaveReminder, today: date) -> bool:
    """Stamp the round as sent today unless another run did: True for the one that did."""
    claimed = db.session.execute(
        sa.update(WaveReminder)
        .where(WaveReminder.id == reminder.id, WaveReminder.sent_on.is_(None))
        .values(sent_on=today)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def send_round(
    reminder: WaveReminder, today: date, progress: Callable[[int, int], None] | None = None
) -> RoundResult | None:
    """Send one due round; None when another run claimed it first. A round of a wave whose
    answering has ended is stamped and skipped (``sent`` stays 0). Flushes; the caller commits."""
    wave = db.session.get_one(Wave, reminder.wave_id)
    if not _claim_round(reminder, today):
        return None
    db.session.refresh(reminder)
    if wave.state(today) is not WaveState.OPEN:
        return RoundResult(wave, reminder, None)
    pending = list(
        db.session.scalars(
            sa.select(Invitation)
            .join(WaveTeam, WaveTeam.id == Invitation.wave_team_id)
            .where(
                WaveTeam.wave_id == wave.id,
                Invitation.used.is_(False),
                Invitation.opted_out.is_(False),
            )
            .order_by(Invitation.id)
        )
    )
    for number, invitation in enumerate(pending, start=1):
        queue_mail(MailKind.REMINDER, invitation, wave)
        invitation.reminders_sent += 1
        if progress:
            progress(number, len(pending))
    reminder.sent = len(pending)
    db.session.flush()
    audit.record(
        None,
        "invitations.remind",
        f"wave {wave.id} ({wave.name})",
        planned_on=reminder.planned_on.isoformat(),
        reminders=len(pending),
    )
    return RoundResult(wave, reminder, len(pending))


# --- The invitation page -----------------------------------------------------------------------


@dataclass(frozen=True)
class TeamInvitations:
    wave_team: WaveTeam
    invited: GatedCount
    used: GatedCount


@dataclass(frozen=True)
class InvitationOverview:
    rounds: list[WaveReminder]
    teams: list[TeamInvitations]
    invited: GatedTotal
    used: GatedTotal
    #: Whether the wave's invitations were deleted at its end (only the rounds remain).
    forgotten: bool


def _invited(wave: Wave) -> dict[int, int]:
    """Wave team id → its invitations."""
    rows = db.session.execute(
        sa.select(Invitation.wave_team_id, sa.func.count())
        .join(WaveTeam, WaveTeam.id == Invitation.wave_team_id)
        .where(WaveTeam.wave_id == wave.id)
        .group_by(Invitation.wave_team_id)
    ).all()
    return dict(rows)


def _hidden_unless_both(used: GatedCount, unused: GatedCount) -> GatedCount:
    """The used count, shown only when the unused count beside it is shown as well: the
    invited count is known (the staff list), so either one gives the other."""
    return used if unused.shown or not used.shown else GatedCount(None, Reason.DIFFERENCING)


def overview(wave: Wave, teams: list[WaveTeam], policy: Policy) -> InvitationOverview:
    """The planned rounds and when they went, and per team the invitations and how many were
    used. The used invitations are those the daily run counted (``WaveTeam.invitations_used``),
    never the live number: like the live counts, the figure moves once a day. The used count
    and its complement (the invitations not used, which the invited count and any count of
    reminders would give) are both groups: the used count is shown only when both reach k, per
    team (``GatedCount``) and for the wave (``gate_total`` of both). No count of reminders is
    shown: reminders go to the unused invitations, so it would be that complement again."""
    rounds = list(
        db.session.scalars(
            sa.select(WaveReminder)
            .where(WaveReminder.wave_id == wave.id)
            .order_by(WaveReminder.planned_on, WaveReminder.id)
        )
    )
    invited = _invited(wave)
    used = {team.id: team.invitations_used or 0 for team in teams}
    unused = {team.id: invited.get(team.id, 0) - used[team.id] for team in teams}
    rows = [
        TeamInvitations(
            team,
            invited=GatedCount.gated(invited.get(team.id, 0), policy),
            used=_hidden_unless_both(
                GatedCount.gated(used[team.id], policy), GatedCount.gated(unused[team.id], policy)
            ),
        )
        for team in teams
    ]
    shown = [row.used.shown for row in rows]
    both = [gate_total(used.values(), policy), gate_total(unused.values(), policy)]
    if all(total.whole.shown for total in both) and (all(shown) or not any(shown)):
        used_total = both[0]
    else:  # too few, or a shown team beside a hidden one: the total could be subtracted
        reason = both[0].whole.reason or Reason.DIFFERENCING
        used_total = GatedTotal(GatedCount(None, reason), 0, 0)
    return InvitationOverview(
        rounds=rounds,
        teams=rows,
        invited=gate_total((invited.get(team.id, 0) for team in teams), policy),
        used=used_total,
        forgotten=not invited and wave.status is not WaveStatus.DRAFT,
    )
