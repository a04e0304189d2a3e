"""Recording administrative acts in the audit log."""

from typing import Any

from survey.extensions import db
from survey.models import Account, AuditEvent


def record(actor: Account | None, action: str, target: str = "", **details: Any) -> AuditEvent:
    """Add an audit event; ``actor=None`` means the command line."""
    event = AuditEvent(
        account_id=actor.id if actor else None,
        actor=actor.email if actor else "command line",
        action=action,
        target=target,
        details=details,
    )
    db.session.add(event)
    db.session.flush()
    return event
