"""The audit log of administrative acts: who did what, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from survey.models.base import Base, now_utc


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc, index=True)
    #: None for acts from the command line.
    account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="SET NULL")
    )
    #: Kept as written, so the log still names the actor after their account is gone.
    actor: Mapped[str] = mapped_column(sa.String(254))
    #: A dotted verb, e.g. ``account.create`` or ``questionnaire.load``.
    action: Mapped[str] = mapped_column(sa.String(64))
    target: Mapped[str] = mapped_column(sa.String(255), default="")
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
