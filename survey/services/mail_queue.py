"""The mail queue: messages are stored first (``enqueue``, in the transaction of the act that
causes them) and sent later by ``flask --app wsgi mail send``.

A message queued in a transaction that rolls back is never sent; one whose sending fails is
tried again later; none is sent twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from survey.extensions import db
from survey.models import MailKind, MailStatus, OutgoingMail
from survey.services import mail


def message_domain() -> str:
    """The domain of the Message-IDs: the host of ``PUBLIC_URL``."""
    return urlsplit(current_app.config["PUBLIC_URL"]).hostname or "localhost"


def enqueue(
    kind: MailKind,
    recipient: str,
    subject: str,
    text_body: str,
    *,
    html_body: str | None = None,
    wave_id: int | None = None,
    unsubscribe_url: str | None = None,
) -> OutgoingMail:
    """Queue one message (flushes; the caller commits). ``wave_id`` ties it to a wave, whose
    end deletes it if it is still there; ``unsubscribe_url`` becomes its one-click
    List-Unsubscribe (RFC 8058)."""
    mail = OutgoingMail(
        kind=kind,
        recipient=recipient,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        wave_id=wave_id,
        unsubscribe_url=unsubscribe_url,
        message_id=make_msgid(domain=message_domain()),
    )
    db.session.add(mail)
    db.session.flush()
    return mail


# --- sending ----------------------------------------------------------------------------------

#: How long a sender holds a message it claimed. One message takes at most a few SMTP timeouts
#: (``mail.SMTP_TIMEOUT``); a claim older than this means its sender died mid-send.
LEASE = timedelta(minutes=10)
#: The wait before each next attempt after a temporary failure; after the last one, FAILED.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
)
#: Attempts in all (the first one and one after each wait of ``BACKOFF``).
MAX_ATTEMPTS = len(BACKOFF) + 1
#: Messages one run sends at most (``flask --app wsgi mail send --batch``).
DEFAULT_BATCH = 200
#: How many due messages a sender looks at per claim (others may take some of them first).
CANDIDATES = 10
#: What a message keeps of its bodies once it is sent or given up (they may hold a personal link).
_EMPTY_BODIES = {"text_body": "", "html_body": None}
#: A message sent or given up: bodies emptied, claim ended.
_DONE = {**_EMPTY_BODIES, "claimed_until": None}
#: What a message whose sender died mid-send says: it is never sent again.
LOST_IN_SENDING = (
    "the sender stopped while sending it: it may have gone out, so it is not sent again"
)


@dataclass
class SendReport:
    """What one run of ``send_due`` did."""

    due: int = 0
    sent: int = 0
    retry: int = 0
    failed: int = 0
    #: Messages whose sender died mid-send, found and marked FAILED in this run.
    lost: int = 0
    #: The reason the run stopped early: the mail server could not be reached.
    stopped: str | None = None

    def line(self) -> str:
        text = f"Sent {self.sent} of {self.due} ({self.retry} to retry, {self.failed} failed)"
        if self.lost:
            text += f"; {self.lost} left by a sender that stopped, marked failed"
        if self.stopped:
            text += f"; stopped: {self.stopped}"
        return text


def send_due(
    now: datetime,
    *,
    sender_id: str,
    batch: int = DEFAULT_BATCH,
    progress: Callable[[SendReport], None] | None = None,
) -> SendReport:
    """Send the messages that are due at ``now``, at most ``batch``, over one SMTP connection.

    Safe to run on several machines at once: each message is claimed first (an atomic
    ``UPDATE ... WHERE status = 'queued'``, committed), so two senders never send the same one.
    A claim is a lease until ``now + LEASE``; a message still SENDING after its lease is marked
    FAILED, never sent again (its sender may have handed it to the server before dying).
    COMMITS, once per step: it runs from the command line, not inside a request.
    """
    started = time.monotonic()

    def clock() -> datetime:
        # ``now`` moved on by the time this run has taken (tests pass a fixed ``now``).
        return now + timedelta(seconds=time.monotonic() - started)

    report = SendReport(lost=_fail_expired_claims(now))
    report.due = min(batch, _count_due(now))
    db.session.commit()
    with mail.SmtpConnection() as connection:
        while report.sent + report.retry + report.failed < report.due:
            claimed = _claim_next(now, sender_id, until=clock() + LEASE)
            if claimed is None:
                break
            _send_one(claimed, connection, clock, report)
            db.session.commit()
            if progress is not None:
                progress(report)
            if report.stopped:
                break
    return report


def _count_due(now: datetime) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutgoingMail)
        .where(OutgoingMail.status == MailStatus.QUEUED, OutgoingMail.next_attempt_at <= now)
    )


def _fail_expired_claims(now: datetime) -> int:
    """Messages whose sender died while sending them: FAILED, never sent a second time."""
    result = db.session.execute(
        sa.update(OutgoingMail)
        .where(OutgoingMail.status == MailStatus.SENDING, OutgoingMail.claimed_until < now)
        .values(
            status=MailStatus.FAILED,
            last_error=LOST_IN_SENDING,
            claimed_until=None,
            **_EMPTY_BODIES,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def _claim_next(
    now: datetime, sender_id: str, *, until: datetime | None = None
) -> OutgoingMail | None:
    """Claim the next message due at ``now`` for ``sender_id`` until ``until`` (``now + LEASE``
    by default), committed; None when none is left."""
    until = until or now + LEASE
    while True:
        query = (
            sa.select(OutgoingMail.id)
            .where(OutgoingMail.status == MailStatus.QUEUED, OutgoingMail.next_attempt_at <= now)
            .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
            .limit(CANDIDATES)
        )
        if db.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        candidates = db.session.scalars(query).all()
        if not candidates:
            db.session.commit()
            return None
        for mail_id in candidates:
            claimed = db.session.execute(
                sa.update(OutgoingMail)
                .where(OutgoingMail.id == mail_id, OutgoingMail.status == MailStatus.QUEUED)
                .values(status=MailStatus.SENDING, claimed_by=sender_id, claimed_until=until)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount == 1:
                db.session.commit()
                return db.session.get(OutgoingMail, mail_id, populate_existing=True)
        db.session.commit()  # every candidate went to another sender: look again


def _send_one(
    claimed: OutgoingMail,
    connection: mail.SmtpConnection,
    clock: Callable[[], datetime],
    report: SendReport,
) -> None:
    try:
        connection.send(
            mail.build_message(
                claimed.recipient,
                claimed.subject,
                claimed.text_body,
                html=claimed.html_body,
                message_id=claimed.message_id,
                unsubscribe_url=claimed.unsubscribe_url,
                date=clock(),
            )
        )
    except mail.MailConfigError:
        _claimed_update(claimed, status=MailStatus.QUEUED, claimed_until=None)
        db.session.commit()
        raise
    except mail.MailError as error:
        _record_failure(claimed, error, clock(), report)
        if error.unreachable:
            report.stopped = f"the mail server could not be reached ({error})"
        return
    _claimed_update(claimed, status=MailStatus.SENT, sent_at=clock(), **_DONE)
    report.sent += 1


def _record_failure(
    claimed: OutgoingMail, error: mail.MailError, now: datetime, report: SendReport
) -> None:
    """Given up for good (a refusal, or the last attempt), or back in the queue for later."""
    attempts = claimed.attempts + 1
    outcome = {"attempts": attempts, "last_error": str(error)[:500]}
    if error.permanent or attempts >= MAX_ATTEMPTS:
        _claimed_update(claimed, status=MailStatus.FAILED, **outcome, **_DONE)
        report.failed += 1
    else:
        _claimed_update(
            claimed,
            status=MailStatus.QUEUED,
            claimed_until=None,
            next_attempt_at=now + BACKOFF[attempts - 1],
            **outcome,
        )
        report.retry += 1


def _claimed_update(claimed: OutgoingMail, **values: object) -> None:
    """Update a message this sender claimed (whatever another sender made of it meanwhile:
    what happened to it here is what happened)."""
    db.session.execute(
        sa.update(OutgoingMail)
        .where(OutgoingMail.id == claimed.id, OutgoingMail.claimed_by == claimed.claimed_by)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


# --- for operators ----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueStatus:
    #: (status, kind) → how many messages.
    counts: dict[tuple[MailStatus, MailKind], int]
    #: When the message waiting longest was queued, and when it is next tried.
    oldest_queued: datetime | None
    next_attempt: datetime | None


def queue_status() -> QueueStatus:
    """How many messages are in the queue, per status and kind, and how long the oldest waits."""
    rows = db.session.execute(
        sa.select(OutgoingMail.status, OutgoingMail.kind, sa.func.count()).group_by(
            OutgoingMail.status, OutgoingMail.kind
        )
    ).all()
    oldest, next_attempt = db.session.execute(
        sa.select(
            sa.func.min(OutgoingMail.created_at), sa.func.min(OutgoingMail.next_attempt_at)
        ).where(OutgoingMail.status == MailStatus.QUEUED)
    ).one()
    return QueueStatus({(status, kind): n for status, kind, n in rows}, oldest, next_attempt)
