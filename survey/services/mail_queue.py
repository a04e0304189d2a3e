"""The mail queue: messages are stored first (``enqueue``, in the transaction of the act that
causes them) and sent later by ``flask --app wsgi mail send``.

A message queued in a transaction that rolls back is never sent; one whose sending fails is
tried again later; none is sent twice.
"""

from __future__ import annotations

from email.utils import make_msgid
from urllib.parse import urlsplit

from flask import current_app

from survey.extensions import db
from survey.models import MailKind, OutgoingMail


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
