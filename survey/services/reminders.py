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

from survey.anonymity import Policy
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
    reminded: GatedCount


@dataclass(frozen=True)
class InvitationOverview:
    rounds: list[WaveReminder]
    #: Round id → the reminders it sent (the whole wave's), shown from k.
    round_sent: dict[int, GatedCount]
    teams: list[TeamInvitations]
    invited: GatedTotal
    used: GatedTotal
    reminded: GatedTotal
    #: Whether the wave's invitations were deleted at its end (only the rounds remain).
    forgotten: bool


def _counts(wave: Wave) -> dict[int, tuple[int, int]]:
    """Wave team id → (invited, reminded at least once)."""
    rows = db.session.execute(
        sa.select(
            Invitation.wave_team_id,
            sa.func.count(),
            sa.func.sum(sa.case((Invitation.reminders_sent > 0, 1), else_=0)),
        )
        .join(WaveTeam, WaveTeam.id == Invitation.wave_team_id)
        .where(WaveTeam.wave_id == wave.id)
        .group_by(Invitation.wave_team_id)
    ).all()
    return {team_id: (n, int(reminded or 0)) for team_id, n, reminded in rows}


def overview(wave: Wave, teams: list[WaveTeam], policy: Policy) -> InvitationOverview:
    """The planned rounds and, per team, invitations sent, used and reminded, each count
    shown only from k (``GatedCount``), totals through ``gate_total``. The used invitations
    are those the daily run counted (``WaveTeam.invitations_used``), never the live number:
    like the live counts, the figure moves once a day, not with each person who begins."""
    rounds = list(
        db.session.scalars(
            sa.select(WaveReminder)
            .where(WaveReminder.wave_id == wave.id)
            .order_by(WaveReminder.planned_on, WaveReminder.id)
        )
    )
    counts = _counts(wave)
    figures = {
        team.id: (*counts.get(team.id, (0, 0)), team.invitations_used or 0) for team in teams
    }  # invited, reminded, used
    rows = [
        TeamInvitations(
            team,
            invited=GatedCount.gated(figures[team.id][0], policy),
            used=GatedCount.gated(figures[team.id][2], policy),
            reminded=GatedCount.gated(figures[team.id][1], policy),
        )
        for team in teams
    ]

    def total(index: int) -> GatedTotal:
        return gate_total((figures[team.id][index] for team in teams), policy)

    return InvitationOverview(
        rounds=rounds,
        round_sent={reminder.id: GatedCount.gated(reminder.sent, policy) for reminder in rounds},
        teams=rows,
        invited=total(0),
        used=total(2),
        reminded=total(1),
        forgotten=not counts and wave.status is not WaveStatus.DRAFT,
    )
