"""Command-line verbs for accounts: ``flask --app wsgi users create|list``."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from flask_babel import force_locale

from survey.extensions import db
from survey.models import Account, Role, Unit
from survey.services.accounts import AccountError, create_account

users_cli = AppGroup("users", help="Manage accounts.")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@users_cli.command("create")
@click.option("--email", required=True, help="The log-in e-mail address.")
@click.option(
    "--role", required=True, type=click.Choice([role.value for role in Role]), help="What they do."
)
@click.option(
    "--unit",
    "unit_slugs",
    multiple=True,
    metavar="SLUG",
    help="For a manager: a unit they may see, with everything below it (repeatable).",
)
def create_user_command(email: str, role: str, unit_slugs: tuple[str, ...]) -> None:
    """Create an account. The password is asked for, or read from standard input.

    It needs at least 12 characters, may not be one of the 20,000 most common passwords and may
    not contain the e-mail address's name (survey/passwords.py). To let someone choose their
    own password instead, invite them under Administration → Accounts.
    """
    units = db.session.scalars(sa.select(Unit).where(Unit.slug.in_(unit_slugs))).all()
    missing = sorted(set(unit_slugs) - {unit.slug for unit in units})
    if missing:
        raise click.UsageError(f"Unknown unit(s): {', '.join(missing)}.")
    password = _read_password()
    try:
        with force_locale("en"):  # the command line speaks English
            account = create_account(email, password, Role(role), units)
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Created {account.role} account {account.email}.")


@users_cli.command("list")
def list_users_command() -> None:
    """List the accounts with their role and, for managers, the units they see."""
    accounts = db.session.scalars(sa.select(Account).order_by(Account.role, Account.email)).all()
    if not accounts:
        click.echo(
            "There are no accounts yet. Create one with:\n"
            "  flask --app wsgi users create --email you@example.org --role admin"
        )
        return
    for account in accounts:
        scope = f"  sees: {', '.join(unit.slug for unit in account.scope)}" if account.scope else ""
        state = "" if account.active else "  (deactivated)"
        click.echo(f"{account.role.value:8} {account.email}{scope}{state}")
