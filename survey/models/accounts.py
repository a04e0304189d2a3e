"""Accounts of the people who read results or run the platform (respondents have none)."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.models.base import Base, now_utc, str_enum
from survey.models.units import Unit


class Role(enum.StrEnum):
    ADMIN = "admin"
    QUALITY = "quality"
    MANAGER = "manager"


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


manager_scopes = sa.Table(
    "manager_scopes",
    Base.metadata,
    sa.Column("account_id", sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("unit_id", sa.ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
)


class Account(UserMixin, Base):
    __tablename__ = "accounts"
    __table_args__ = (sa.CheckConstraint("email = lower(email)", name="email_lower_case"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    active: Mapped[bool] = mapped_column(default=True)
    #: Identifies the log-in session; replaced when the password changes, which logs out
    #: every other session of the account.
    session_token: Mapped[str] = mapped_column(
        sa.String(64), unique=True, default=new_session_token
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    #: SHA-256 of a one-time set-password link (an invitation or a reset); the link itself is
    #: shown once to the administrator who made it and never stored.
    password_token_sha256: Mapped[str | None] = mapped_column(
        sa.String(64), unique=True, index=True
    )
    password_token_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    #: Asked on their account page: a mail when a wave's results of their units are ready.
    notify_results: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    #: For a manager: the units (with everything below them) they may see.
    scope: Mapped[list[Unit]] = relationship(secondary=manager_scopes, order_by=Unit.name)

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles
