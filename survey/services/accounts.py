"""Creating accounts and checking log-ins."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from survey.extensions import db
from survey.models import Account, Role, Unit, now_utc
from survey.passwords import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password
from survey.services import audit


class AccountError(ValueError):
    """An account cannot be created as asked; the message says why."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_account(
    email: str,
    password: str,
    role: Role,
    scope: Iterable[Unit] = (),
    actor: Account | None = None,
) -> Account:
    try:
        email = validate_email(normalise_email(email), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise AccountError(f"{email!r} is not a valid e-mail address: {error}") from None
    email = email.lower()
    if db.session.scalar(sa.select(Account.id).where(Account.email == email)) is not None:
        raise AccountError(f"An account for {email} already exists.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    scope = list(scope)
    if role is Role.MANAGER and not scope:
        raise AccountError("A manager needs at least one unit to see (--unit SLUG).")
    if role is not Role.MANAGER and scope:
        raise AccountError(
            "Only managers have a scope: admins and quality officers see every unit."
        )
    account = Account(email=email, password_hash=hash_password(password), role=role, scope=scope)
    db.session.add(account)
    db.session.flush()
    audit.record(actor, "account.create", email, role=role.value, scope=[u.slug for u in scope])
    return account


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
