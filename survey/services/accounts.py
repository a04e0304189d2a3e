"""Accounts: creating and inviting them, log-ins, one-time set-password links, roles and scopes,
deactivation; and the rule that the organisation always keeps an active administrator.

A set-password link (an invitation or a reset) carries a random token; only its SHA-256 is
stored, so the link can be shown once to the administrator who made it and never again.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from survey.extensions import db
from survey.models import Account, Role, Unit, now_utc
from survey.models.accounts import new_session_token
from survey.passwords import (
    has_usable_password,
    hash_password,
    needs_rehash,
    password_problems,
    unusable_password_hash,
    verify_password,
)
from survey.services import audit, mail

#: How long a set-password link (an invitation or a reset) can be used.
PASSWORD_LINK_VALIDITY = timedelta(days=7)


class AccountError(ValueError):
    """An account cannot be created or changed as asked; the message says why."""


class LastAdministratorError(AccountError):
    """The change would leave the organisation without an active administrator."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _valid_new_email(email: str) -> str:
    try:
        email = validate_email(normalise_email(email), check_deliverability=False).normalized
    except EmailNotValidError:
        raise AccountError(_("%(email)s is not a valid e-mail address.", email=email)) from None
    email = email.lower()
    if db.session.scalar(sa.select(Account.id).where(Account.email == email)) is not None:
        raise AccountError(_("An account for %(email)s already exists.", email=email))
    return email


def _valid_scope(role: Role, scope: Iterable[Unit]) -> list[Unit]:
    scope = list(scope)
    if role is Role.MANAGER and not scope:
        raise AccountError(_("A manager needs at least one unit to see."))
    if role is not Role.MANAGER and scope:
        raise AccountError(
            _("Only managers have a scope: administrators and quality officers see every unit.")
        )
    return scope


def create_account(
    email: str,
    password: str,
    role: Role,
    scope: Iterable[Unit] = (),
    actor: Account | None = None,
) -> Account:
    """An account with a password (the command line's way; the browser invites instead)."""
    email = _valid_new_email(email)
    if problems := password_problems(password, email):
        raise AccountError(" ".join(problems))
    scope = _valid_scope(role, scope)
    account = Account(email=email, password_hash=hash_password(password), role=role, scope=scope)
    db.session.add(account)
    db.session.flush()
    audit.record(actor, "account.create", email, role=role.value, scope=[u.slug for u in scope])
    return account


def invite_account(
    email: str, role: Role, scope: Iterable[Unit], actor: Account
) -> tuple[Account, str]:
    """An account without a usable password, and the token of its one-time set-password link."""
    email = _valid_new_email(email)
    scope = _valid_scope(role, scope)
    account = Account(email=email, password_hash=unusable_password_hash(), role=role, scope=scope)
    db.session.add(account)
    token = _new_password_link(account)
    db.session.flush()
    audit.record(actor, "account.invite", email, role=role.value, scope=[u.slug for u in scope])
    return account, token


def authenticate(email: str, password: str) -> Account | None:
    """The active account with this e-mail and password, or None (in constant-ish time)."""
    account = db.session.scalar(sa.select(Account).where(Account.email == normalise_email(email)))
    if not verify_password(account.password_hash if account else None, password):
        return None
    if not account.active:
        return None
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.last_login_at = now_utc()
    return account


def all_accounts() -> list[Account]:
    return list(
        db.session.scalars(
            sa.select(Account).options(selectinload(Account.scope)).order_by(Account.email)
        )
    )


# --- set-password links --------------------------------------------------------------------


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_password_link(account: Account) -> str:
    token = secrets.token_urlsafe(32)
    account.password_token_sha256 = _token_digest(token)
    account.password_token_expires_at = now_utc() + PASSWORD_LINK_VALIDITY
    return token


def password_link_url(token: str) -> str:
    """The full set-password link, on the address people reach the platform at."""
    return current_app.config["PUBLIC_URL"] + url_for("auth.set_password", token=token)


def account_for_password_token(token: str) -> Account | None:
    """The active account whose unexpired set-password link carries ``token``, else None."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        sa.select(Account).where(
            Account.password_token_sha256 == _token_digest(token),
            Account.password_token_expires_at > now_utc(),
            Account.active,
        )
    )


def set_password(account: Account, password: str) -> None:
    """Store the password chosen through a set-password link: the link is used up, and every
    session of the account ends."""
    if problems := password_problems(password, account.email):
        raise AccountError(" ".join(problems))
    account.password_hash = hash_password(password)
    account.password_token_sha256 = None
    account.password_token_expires_at = None
    account.session_token = new_session_token()
    db.session.flush()
    audit.record(account, "account.password_set", account.email)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class PasswordLink:
    """An account's outstanding set-password link, as the account list describes it."""

    invitation: bool
    expires_at: datetime
    expired: bool


def outstanding_link(account: Account) -> PasswordLink | None:
    if account.password_token_sha256 is None or account.password_token_expires_at is None:
        return None
    expires_at = _aware(account.password_token_expires_at)
    return PasswordLink(
        invitation=account.last_login_at is None and not has_usable_password(account.password_hash),
        expires_at=expires_at,
        expired=expires_at <= now_utc(),
    )


# --- changing accounts ---------------------------------------------------------------------


def _active_admins(*columns) -> sa.Select:
    return sa.select(*(columns or [Account.id])).where(Account.role == Role.ADMIN, Account.active)


def _lock_active_admins() -> None:
    """On PostgreSQL, two administrators demoting each other at the same moment wait for each
    other here, so the second sees the first's change (SQLite lets one writer in at a time)."""
    db.session.execute(_active_admins().with_for_update())


def _keep_an_active_admin() -> None:
    """Refuse the pending change when it leaves no active administrator (counted after it)."""
    db.session.flush()
    remaining = db.session.scalar(_active_admins(sa.func.count(Account.id)))
    if not remaining:
        raise LastAdministratorError(
            _(
                "This is the last active administrator. Make another account an administrator "
                "first, so that someone can still manage Krachtspiegel."
            )
        )


def change_access(account: Account, role: Role, scope: Iterable[Unit], actor: Account) -> bool:
    """Give ``account`` a new role and, for a manager, the units it sees. False: nothing changed.

    A scope given with another role than manager is dropped: only managers have one.
    """
    scope = _valid_scope(role, scope if role is Role.MANAGER else ())
    old_role, old_scope = account.role, sorted(unit.slug for unit in account.scope)
    new_scope = sorted(unit.slug for unit in scope)
    if role is old_role and new_scope == old_scope:
        return False
    if old_role is Role.ADMIN and role is not Role.ADMIN:
        _lock_active_admins()
    account.role = role
    account.scope = scope
    if old_role is Role.ADMIN and role is not Role.ADMIN:
        _keep_an_active_admin()
    db.session.flush()
    if role is not old_role:
        audit.record(actor, "account.role", account.email, before=old_role.value, after=role.value)
    if new_scope != old_scope:
        audit.record(actor, "account.scope", account.email, before=old_scope, after=new_scope)
    return True


def deactivate(account: Account, actor: Account) -> None:
    """The account can no longer log in; its sessions end and an outstanding link stops working."""
    if not account.active:
        return
    if account.role is Role.ADMIN:
        _lock_active_admins()
    account.active = False
    account.session_token = new_session_token()
    account.password_token_sha256 = None
    account.password_token_expires_at = None
    if account.role is Role.ADMIN:
        _keep_an_active_admin()
    db.session.flush()
    audit.record(actor, "account.deactivate", account.email)


def reactivate(account: Account, actor: Account) -> None:
    if account.active:
        return
    account.active = True
    db.session.flush()
    audit.record(actor, "account.reactivate", account.email)


def reset_password(account: Account, actor: Account) -> str:
    """The old password stops working, every session of the account ends, and a new one-time
    set-password link is made; its token is returned."""
    if not account.active:
        raise AccountError(_("Reactivate the account first: a deactivated account cannot log in."))
    account.password_hash = unusable_password_hash()
    account.session_token = new_session_token()
    token = _new_password_link(account)
    db.session.flush()
    audit.record(actor, "account.reset", account.email)
    return token


# --- telling the person ---------------------------------------------------------------------


def mail_password_link(account: Account, link: str, invitation: bool, actor: Account) -> None:
    """E-mail the set-password link to the account's owner (raises mail.MailError)."""
    expires = format_date(_aware(account.password_token_expires_at), "long")
    if invitation:
        subject = _("Your Krachtspiegel account")
        opening = _(
            "%(admin)s has made a Krachtspiegel account for you, with the log-in name %(email)s.",
            admin=actor.email,
            email=account.email,
        )
    else:
        subject = _("Choose a new Krachtspiegel password")
        opening = _(
            "%(admin)s has reset the password of your Krachtspiegel account %(email)s.",
            admin=actor.email,
            email=account.email,
        )
    body = "\n\n".join(
        [
            _("Hello,"),
            opening,
            _("Choose your password with this link, before %(date)s:", date=expires),
            link,
            _("The link works only once. If you did not expect this e-mail, you can ignore it."),
        ]
    )
    mail.send_mail(account.email, subject, body + "\n")
