"""Personal invitations: one per address on a team's staff list when a wave in invitation mode
opens, each with single-use links (a random token, only its SHA-256 kept), claimed atomically
when someone begins; reminders (``survey.services.reminders``) go only to unused ones.

The design is the access codes' (``survey.services.codes``): claiming marks the invitation used
in a conditional UPDATE, in a transaction of its own (the draft starts in the next one), with
no time and nothing that names the draft or the response. A wave's invitations and their
queued mails are deleted when it ends (``forget_wave``); only counts stay.

The mails are rendered by the web layer: ``current_app.extensions[RENDERER]`` holds a
``MailRenderer`` (registered by ``survey.respond.invitations``), so services render nothing.
"""

from __future__ import annotations

import hashlib
import random
import re
import secrets
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from survey.extensions import db
from survey.models import (
    Account,
    Invitation,
    InvitationToken,
    MailKind,
    OutgoingMail,
    ReminderKind,
    StaffMember,
    Wave,
    WaveReminder,
    WaveStatus,
    WaveTeam,
)
from survey.services import audit, mail_queue

#: The key of ``app.extensions`` that holds the ``MailRenderer``.
RENDERER = "invitation_mails"
#: A wave's invitation fields when it sends none.
NO_INVITATIONS = {"invitations": False, "reminder_days": None, "last_day_reminder": False}
#: At most this many reminder days per wave.
MAX_REMINDER_DAYS = 5
#: ``secrets.token_urlsafe(24)``: 32 characters of the URL-safe base64 alphabet.
_WELL_FORMED = re.compile(r"[A-Za-z0-9_-]{32}")


@dataclass(frozen=True)
class MailContent:
    subject: str
    text_body: str
    html_body: str


#: (kind, invitation, its personal link, its one-click stop link) → the mail in its language.
MailRenderer = Callable[[MailKind, Invitation, str, str], MailContent]

ClaimStatus = Literal["claimed", "used", "unknown"]
#: The order the daily rewrite puts a wave's invitations in.
_RANDOM = random.SystemRandom()


@dataclass(frozen=True)
class ClaimResult:
    """As ``codes.ClaimResult``: ``wave_team`` is set unless the token is unknown."""

    status: ClaimStatus
    wave_team: WaveTeam | None = None


# --- Tokens -----------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    return bool(_WELL_FORMED.fullmatch(token))


def new_token(invitation: Invitation) -> str:
    """A new link of ``invitation``: returns the plain token (only its hash is stored)."""
    token = secrets.token_urlsafe(24)
    db.session.add(InvitationToken(invitation=invitation, token_sha256=hash_token(token)))
    return token


def invitation_by_token(token: str) -> Invitation | None:
    if not well_formed(token):
        return None
    return db.session.scalar(
        sa.select(Invitation)
        .join(Invitation.tokens)
        .where(InvitationToken.token_sha256 == hash_token(token))
    )


def claim(token: str) -> ClaimResult:
    """Mark the token's invitation used, atomically: of concurrent claims exactly one is
    ``claimed``. Flushes only; the caller commits it on its own (before starting the draft)."""
    invitation = invitation_by_token(token)
    if invitation is None:
        return ClaimResult("unknown")
    wave_team, status = invitation.wave_team, "used"
    for _attempt in range(2):
        claimed = db.session.execute(
            sa.update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.used.is_(False))
            .values(used=True)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:
            status = "claimed"
            break
        # The daily rewrite (``rewrite_in_random_order``) may have replaced the row while this
        # waited for its lock: look again, once, in a statement that sees the new row.
        used = db.session.scalar(sa.select(Invitation.used).where(Invitation.id == invitation.id))
        if used is not False:
            break
    db.session.expire(invitation)
    return ClaimResult(status, wave_team)


def opt_out(token: str) -> bool:
    """No more reminders for the token's invitation (idempotent); False for an unknown token."""
    invitation = invitation_by_token(token)
    if invitation is None:
        return False
    invitation.opted_out = True
    db.session.flush()
    return True


# --- Opening a wave in invitation mode ---------------------------------------------------------


def public_url() -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/")


def links(token: str) -> tuple[str, str]:
    """The personal link and its one-click stop link."""
    link = f"{public_url()}/i/{token}"
    return link, f"{link}/stop"


def queue_mail(kind: MailKind, invitation: Invitation, wave: Wave) -> None:
    """A new token for ``invitation`` and a mail of ``kind`` carrying it."""
    link, stop_url = links(new_token(invitation))
    render: MailRenderer = current_app.extensions[RENDERER]
    content = render(kind, invitation, link, stop_url)
    mail_queue.enqueue(
        kind,
        invitation.email,
        content.subject,
        content.text_body,
        html_body=content.html_body,
        wave_id=wave.id,
        unsubscribe_url=stop_url,
    )


def staff_lists(wave: Wave) -> dict[int, list[StaffMember]]:
    """Wave team id → the addresses on its team's staff list, by address."""
    rows = db.session.execute(
        sa.select(WaveTeam.id, StaffMember)
        .join(StaffMember, StaffMember.unit_id == WaveTeam.unit_id)
        .where(WaveTeam.wave_id == wave.id)
        .order_by(StaffMember.email)
    ).all()
    lists: dict[int, list[StaffMember]] = {team.id: [] for team in wave.teams}
    for wave_team_id, member in rows:
        lists[wave_team_id].append(member)
    return lists


def teams_without_addresses(wave: Wave) -> list[WaveTeam]:
    lists = staff_lists(wave)
    return [team for team in wave.teams if not lists[team.id]]


def check_invitable(wave: Wave) -> str | None:
    """Why a wave in invitation mode cannot open (a team without addresses), or None."""
    if not wave.invitations:
        return None
    missing = teams_without_addresses(wave)
    if not missing:
        return None
    return _(
        "This wave sends personal invitations, but these teams have no addresses on their "
        "staff list: %(teams)s. Add their addresses under Units first, or choose another way "
        "for staff to answer.",
        teams=", ".join(sorted(team.unit.name for team in missing)),
    )


def invite(wave: Wave, actor: Account | None) -> int:
    """One invitation, with one link and one queued mail, per address on each team's staff
    list; a team without expected staff expects its number of addresses; the reminder rounds
    are planned. Returns how many were invited (the audit log gets counts only)."""
    lists = staff_lists(wave)
    invited = 0
    for wave_team in wave.teams:
        members = lists[wave_team.id]
        if wave_team.invited is None:
            wave_team.invited = len(members)
        for member in members:
            invitation = Invitation(
                wave_team=wave_team, email=member.email, language=member.language
            )
            db.session.add(invitation)
            queue_mail(MailKind.INVITATION, invitation, wave)
            invited += 1
    rounds = plan_reminders(wave)
    db.session.flush()
    audit.record(
        actor,
        "invitations.send",
        f"wave {wave.id} ({wave.name})",
        invitations=invited,
        teams=len(wave.teams),
        reminder_rounds=len(rounds),
    )
    return invited


def reminder_dates(wave: Wave) -> list[tuple[ReminderKind, date]]:
    """The days reminders go out: ``opens_on`` + each reminder day, and the last day."""
    planned = [
        (ReminderKind.AFTER_DAYS, wave.opens_on + timedelta(days=days))
        for days in sorted(set(wave.reminder_days or []))
    ]
    if wave.last_day_reminder:
        planned.append((ReminderKind.LAST_DAY, wave.closes_on))
    return planned


def plan_reminders(wave: Wave) -> list[WaveReminder]:
    rounds = [
        WaveReminder(wave_id=wave.id, kind=kind, planned_on=day)
        for kind, day in reminder_dates(wave)
    ]
    db.session.add_all(rounds)
    return rounds


def move_last_day_reminder(wave: Wave) -> None:
    """An extended wave's last-day reminder, not sent yet, moves to its new last day."""
    db.session.execute(
        sa.update(WaveReminder)
        .where(
            WaveReminder.wave_id == wave.id,
            WaveReminder.kind == ReminderKind.LAST_DAY,
            WaveReminder.sent_on.is_(None),
        )
        .values(planned_on=wave.closes_on)
        .execution_options(synchronize_session=False)
    )


def parse_reminder_days(text: str) -> list[int]:
    """ "7, 12" → [7, 12]; raises ``ValueError`` with a message for anything else."""
    parts = [part for part in re.split(r"[,;\s]+", text.strip()) if part]
    if not all(part.isdigit() for part in parts):
        raise ValueError(_("Give whole numbers of days, separated by commas, such as 7, 12."))
    return sorted({int(part) for part in parts})


def check_reminder_days(days: list[int], opens_on: date, closes_on: date) -> str | None:
    """Why these reminder days do not fit the wave's period, or None."""
    if len(days) > MAX_REMINDER_DAYS:
        return _("Plan at most %(n)d reminders.", n=MAX_REMINDER_DAYS)
    last = (closes_on - opens_on).days
    if any(day < 1 or day > last for day in days):
        return _(
            "Each reminder day must fall within the wave's period: from 1 to %(last)d days "
            "after it opens.",
            last=last,
        )
    return None


def check_mode(wave: Mapping[str, Any]) -> tuple[str, str] | None:
    """(field, message) for invitations together with codes only, or reminder days that do
    not fit the period (at most ``MAX_REMINDER_DAYS``, whole days in it); None when fine.
    ``wave``: a wave's codes_only, opens_on, closes_on and invitation fields."""
    if not wave["invitations"]:
        return None
    if wave["codes_only"]:
        return "invitations", _(
            "Choose one way for staff to answer: access codes only, or personal invitations."
        )
    days = wave["reminder_days"] or []
    problem = check_reminder_days(days, wave["opens_on"], wave["closes_on"])
    return ("reminder_days", problem) if problem else None


# --- No order at rest --------------------------------------------------------------------------


def open_waves_with_invitations() -> list[Wave]:
    return list(
        db.session.scalars(
            sa.select(Wave)
            .where(Wave.status == WaveStatus.OPEN, Wave.invitations.is_(True))
            .order_by(Wave.id)
        )
    )


def rewrite_in_random_order(wave: Wave) -> int:
    """Rewrite the wave's invitations and their tokens, unchanged, in a random order (the daily
    run; docs/anonymity.md, "Personal invitations"). On PostgreSQL an UPDATE writes a new row
    version, so until then the physical order (ctid) and the transaction ids (xmin) of the used
    invitations follow the order in which people began. Ids stay: they follow the addresses at
    opening. Flushes; the caller commits (then ``erase_deleted_rows``). Returns how many."""
    db.session.flush()  # what the session holds is written before it expires everything
    invitations_table, tokens_table = Invitation.__table__, InvitationToken.__table__
    team_ids = sa.select(WaveTeam.id).where(WaveTeam.wave_id == wave.id)
    of_wave = invitations_table.c.wave_team_id.in_(team_ids)
    query = sa.select(invitations_table).where(of_wave)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update()  # a claim waits, then finds the new row (``claim``)
    rows = [row._asdict() for row in db.session.execute(query)]
    if not rows:  # none, or another run rewrote them while this one waited for the lock
        return 0
    of_invitations = tokens_table.c.invitation_id.in_(
        sa.select(invitations_table.c.id).where(of_wave)
    )
    tokens = [
        row._asdict() for row in db.session.execute(sa.select(tokens_table).where(of_invitations))
    ]
    db.session.execute(sa.delete(tokens_table).where(of_invitations))
    db.session.execute(sa.delete(invitations_table).where(of_wave))
    _RANDOM.shuffle(rows)
    _RANDOM.shuffle(tokens)
    for table, batch in ((invitations_table, rows), (tokens_table, tokens)):
        if batch:
            db.session.execute(sa.insert(table), batch)
    _count_used(wave)
    db.session.expire_all()
    return len(rows)


def _count_used(wave: Wave) -> None:
    """Store each team's used invitations as of now (``WaveTeam.invitations_used``): the
    figure the invitation page shows until the next daily run."""
    used = (
        sa.select(sa.func.count())
        .select_from(Invitation)
        .where(Invitation.wave_team_id == WaveTeam.id, Invitation.used.is_(True))
        .scalar_subquery()
    )
    db.session.execute(
        sa.update(WaveTeam).where(WaveTeam.wave_id == wave.id).values(invitations_used=used)
    )


def erase_deleted_rows() -> None:
    """After a rewrite's commit: PostgreSQL's VACUUM removes the old row versions (outside a
    transaction); SQLite overwrote them already (``secure_delete``). A failure leaves it to the
    next VACUUM (autovacuum)."""
    if db.engine.dialect.name != "postgresql":
        return
    with suppress(sa.exc.DBAPIError), db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("VACUUM invitations, invitation_tokens")


# --- The wave's end ----------------------------------------------------------------------------


def forget_wave(wave: Wave, actor: Account | None = None) -> tuple[int, int]:
    """Delete the wave's invitations (their tokens with them) and its mails still queued;
    the reminder rounds stay (counts only). Returns (invitations, mails) deleted."""
    db.session.flush()  # what the session holds is written before it expires everything
    team_ids = sa.select(WaveTeam.id).where(WaveTeam.wave_id == wave.id)
    invitation_ids = sa.select(Invitation.id).where(Invitation.wave_team_id.in_(team_ids))
    db.session.execute(
        sa.delete(InvitationToken).where(InvitationToken.invitation_id.in_(invitation_ids))
    )
    invitations = db.session.execute(
        sa.delete(Invitation).where(Invitation.wave_team_id.in_(team_ids))
    ).rowcount
    mails = db.session.execute(
        sa.delete(OutgoingMail).where(
            OutgoingMail.wave_id == wave.id,
            OutgoingMail.kind.in_([MailKind.INVITATION, MailKind.REMINDER]),
        )
    ).rowcount
    db.session.expire_all()
    if invitations or mails:
        audit.record(
            actor, "invitations.forget", f"wave {wave.id} ({wave.name})", invitations=invitations
        )
    return invitations, mails


def ended_waves_with_invitations(today: date) -> list[Wave]:
    """Waves closed, or whose last day has passed, that still hold invitations."""
    return list(
        db.session.scalars(
            sa.select(Wave)
            .where(
                sa.or_(Wave.status == WaveStatus.CLOSED, Wave.closes_on < today),
                sa.exists()
                .where(Invitation.wave_team_id == WaveTeam.id)
                .where(WaveTeam.wave_id == Wave.id),
            )
            .order_by(Wave.id)
        )
    )
