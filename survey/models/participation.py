"""Participation: the staff lists of teams, personal invitations to a wave, their reminders,
the mail queue that sends them, and the schedules that repeat a wave.

Who has been invited, and whether their invitation was used, is known here (to remind only
those who have not answered); what anyone answered is not. Nothing in these tables refers to a
response or a draft, and nothing in ``responses``/``answers``/``drafts`` refers to them: an
invitation is marked used when its link is used to start, in a transaction of its own, without
a time (``tests/test_models.py`` and ``docs/anonymity.md``, "Personal invitations").

Addresses are personal data: shown only to administrators, never in an export; a wave's
invitations (and the mails that carry them) are deleted when it ends.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import Base, now_utc, str_enum
from survey.models.units import Unit
from survey.models.waves import Wave, WaveTeam

#: The longest address RFC 5321 lets through (a path of 256 octets less the angle brackets).
EMAIL_LENGTH = 254


class StaffMember(Base):
    """One address on a team's staff list: whom a wave in invitation mode invites."""

    __tablename__ = "staff_members"
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "email"),
        sa.CheckConstraint("email = lower(email)", name="email_lower_case"),
        sa.CheckConstraint("language IN ('nl', 'en')", name="known_language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(EMAIL_LENGTH))
    #: The language of the mails this person gets (the questionnaire offers both anyway).
    language: Mapped[str] = mapped_column(sa.String(2), default="nl")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)

    unit: Mapped[Unit] = relationship()


class Invitation(Base):
    """A personal invitation of one address to one team's part of a wave.

    ``used`` turns true, once and atomically, when one of its links starts a questionnaire; no
    time is kept, and nothing here names the draft or the response it started. Deleted with
    its wave team, and by the wave's end (the addresses are not needed any more)."""

    __tablename__ = "invitations"
    __table_args__ = (
        sa.UniqueConstraint("wave_team_id", "email"),
        sa.CheckConstraint("language IN ('nl', 'en')", name="known_language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_team_id: Mapped[int] = mapped_column(
        sa.ForeignKey("wave_teams.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(sa.String(EMAIL_LENGTH))
    language: Mapped[str] = mapped_column(sa.String(2), default="nl")
    used: Mapped[bool] = mapped_column(default=False)
    #: Asked for no more reminders (the one-click List-Unsubscribe of a mail).
    opted_out: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: How many reminders went to this address (the invitation page shows the planned ones).
    reminders_sent: Mapped[int] = mapped_column(default=0, server_default="0")

    wave_team: Mapped[WaveTeam] = relationship()
    tokens: Mapped[list[InvitationToken]] = relationship(
        back_populates="invitation", cascade="all, delete-orphan", passive_deletes=True
    )


class InvitationToken(Base):
    """One personal link of an invitation: only the SHA-256 of its random token is kept.

    The first mail and every reminder carry a link of their own (the plain token exists only
    in the queued mail until it is sent); any of them opens the questionnaire until one has
    been used."""

    __tablename__ = "invitation_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invitations.id", ondelete="CASCADE"), index=True
    )
    token_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)

    invitation: Mapped[Invitation] = relationship(back_populates="tokens")


class ReminderKind(enum.StrEnum):
    #: A number of days after the wave opened (``Wave.reminder_days``).
    AFTER_DAYS = "after_days"
    #: On the wave's last day (``Wave.last_day_reminder``).
    LAST_DAY = "last_day"


class WaveReminder(Base):
    """A reminder round of a wave: planned when the wave opens, stamped when it went out.

    ``sent`` counts the reminders of the whole wave (every team together), which the admin's
    invitation page shows; counts per team are shown only from k."""

    __tablename__ = "wave_reminders"
    __table_args__ = (sa.UniqueConstraint("wave_id", "planned_on", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(sa.ForeignKey("waves.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ReminderKind] = mapped_column(str_enum(ReminderKind, "kind"))
    planned_on: Mapped[date]
    sent_on: Mapped[date | None]
    sent: Mapped[int] = mapped_column(default=0, server_default="0")


class MailStatus(enum.StrEnum):
    #: Waiting to be sent (again, after ``next_attempt_at``).
    QUEUED = "queued"
    #: Claimed by a sender until ``claimed_until``; a sender that died leaves it here.
    SENDING = "sending"
    SENT = "sent"
    #: Given up: refused for good, too many attempts, or a sender died while it was being sent
    #: (it may have gone out; it is never sent a second time).
    FAILED = "failed"


class MailKind(enum.StrEnum):
    INVITATION = "invitation"
    REMINDER = "reminder"
    RESULTS_READY = "results_ready"
    SCHEDULE = "schedule"


class OutgoingMail(Base):
    """A message in the queue that ``flask --app wsgi mail send`` works through.

    The body of an invitation or reminder holds its personal link; once the message is sent,
    its bodies are emptied, and a wave's messages go with its invitations when it ends."""

    __tablename__ = "outgoing_mails"
    __table_args__ = (sa.Index(None, "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MailKind] = mapped_column(str_enum(MailKind, "kind"))
    #: The wave the message belongs to, if any: deleted with it (and at its end).
    wave_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("waves.id", ondelete="CASCADE"), index=True
    )
    recipient: Mapped[str] = mapped_column(sa.String(EMAIL_LENGTH))
    subject: Mapped[str] = mapped_column(sa.String(300))
    text_body: Mapped[str] = mapped_column(sa.Text)
    html_body: Mapped[str | None] = mapped_column(sa.Text)
    #: The one-click unsubscribe address (RFC 8058) of an invitation or reminder, if any.
    unsubscribe_url: Mapped[str | None] = mapped_column(sa.String(500))
    #: Set when queued, so a message sent again by hand is recognisably the same one.
    message_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    status: Mapped[MailStatus] = mapped_column(
        str_enum(MailStatus, "status"), default=MailStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    #: Which sender holds it, and until when (a lease: a sender that died lets it go).
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class WaveSchedule(Base):
    """A wave that repeats: every ``every_months`` a new wave like the last one (same units,
    questionnaire, context, mode and reminders) is created and opened on ``next_opens_on``,
    ``open_days`` long, and the administrator who set it up is told by mail."""

    __tablename__ = "wave_schedules"
    __table_args__ = (
        sa.CheckConstraint("every_months BETWEEN 1 AND 24", name="sensible_interval"),
        sa.CheckConstraint("open_days BETWEEN 1 AND 366", name="sensible_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    every_months: Mapped[int]
    open_days: Mapped[int]
    next_opens_on: Mapped[date]
    active: Mapped[bool] = mapped_column(default=True)
    #: The wave the next one copies: the one the schedule was set up from, then the last one it
    #: created. A schedule whose wave was deleted stops (None).
    last_wave_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("waves.id", ondelete="SET NULL"), index=True
    )
    last_wave: Mapped[Wave | None] = relationship(viewonly=True)
    #: Told by mail when a wave is created; None once that account is gone.
    account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
