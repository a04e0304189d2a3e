"""Administration: accounts. Invite someone, change their role and the units they see, reset a
password, deactivate or reactivate an account (see survey/admin/__init__.py: every route here is
for administrators only).

Everything that hands out or takes away access needs the administrator's password confirmed in
the last few minutes (survey/auth/reauth.py). A one-time set-password link is shown once, on the
page that answers the invitation or reset, and e-mailed too when a mail server is set up. The
verbs and the rule that an active administrator always remains live in
``survey.services.accounts``; these views answer 422 for a form that failed and 409 for a change
that would leave nobody to administer Krachtspiegel.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from survey.admin.blueprint import bp
from survey.admin.forms.accounts import AccessForm, InviteForm
from survey.auth.reauth import recent_password_required
from survey.extensions import db
from survey.models import Account, Role, Unit
from survey.services import accounts as service
from survey.services.mail import MailError, mail_configured

#: What each role may do, shown beside its choice.
ROLE_HINTS = {
    Role.MANAGER.value: _l(
        "Sees the results of the chosen units and everything below them, and records the "
        "teams' actions."
    ),
    Role.QUALITY.value: _l(
        "Compares every team and unit across waves, exports data and prints reports."
    ),
    Role.ADMIN.value: _l(
        "Manages units, accounts, questionnaires, waves and settings, and sees every result."
    ),
}


# --- Helpers ---------------------------------------------------------------------------------


def _chosen_units(form: AccessForm) -> list[Unit]:
    """The units ticked on the form (ids that do not exist are left out)."""
    if form.role.data != Role.MANAGER.value or not form.units.data:
        return []
    return list(db.session.scalars(sa.select(Unit).where(Unit.id.in_(form.units.data))))


def _unit_tree(keep: list[Unit] = ()) -> dict[int | None, list[Unit]]:
    """parent id → its children, for the scope checkboxes: every active unit, and archived ones
    only when they are in the scope already."""
    kept = [unit.id for unit in keep]
    units = db.session.scalars(
        sa.select(Unit)
        .where(sa.or_(Unit.archived_on.is_(None), Unit.id.in_(kept)))
        .order_by(Unit.name)
    )
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    return children


def _render_form(template: str, form: AccessForm, status: int = 200, **context: Any):
    page = render_template(
        template,
        form=form,
        children=_unit_tree(context.get("account").scope if context.get("account") else []),
        role_hints=ROLE_HINTS,
        **context,
    )
    return page, status


def _account_page(account: Account, form: AccessForm | None = None, status: int = 200, **extra):
    if form is None:
        form = AccessForm(
            data={"role": account.role.value, "units": [unit.id for unit in account.scope]}
        )
    return _render_form(
        "admin/accounts/account.html",
        form,
        status,
        account=account,
        link=service.outstanding_link(account),
        **extra,
    )


def _show_link(account: Account, token: str, invitation: bool) -> str:
    """The page that shows a new set-password link, once; e-mailed too when mail is set up."""
    link = service.password_link_url(token)
    mail_error = None
    mailed = mail_configured()
    if mailed:
        try:
            service.mail_password_link(account, link, invitation, current_user)
        except MailError as error:
            mailed, mail_error = False, str(error)
    return render_template(
        "admin/accounts/link.html",
        account=account,
        link=link,
        invitation=invitation,
        expires_at=service.outstanding_link(account).expires_at,
        mailed=mailed,
        mail_error=mail_error,
    )


def _get_account_or_404(account_id: int) -> Account:
    return db.get_or_404(Account, account_id)


# --- Views -----------------------------------------------------------------------------------


@bp.get("/accounts")
def accounts() -> str:
    everyone = service.all_accounts()
    return render_template(
        "admin/accounts/index.html",
        accounts=everyone,
        links={account.id: service.outstanding_link(account) for account in everyone},
    )


@bp.route("/accounts/invite", methods=["GET", "POST"])
@recent_password_required(back="admin.invite_account")
def invite_account() -> Response | str | tuple[str, int]:
    form = InviteForm()
    if form.validate_on_submit():
        try:
            account, token = service.invite_account(
                form.email.data, Role(form.role.data), _chosen_units(form), current_user
            )
        except service.AccountError as error:
            db.session.rollback()
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            return _show_link(account, token, invitation=True)
    return _render_form(
        "admin/accounts/invite.html", form, 422 if form.is_submitted() else 200, account=None
    )


@bp.get("/accounts/<int:account_id>")
@recent_password_required()
def account(account_id: int) -> tuple[str, int]:
    return _account_page(_get_account_or_404(account_id))


@bp.post("/accounts/<int:account_id>/access")
@recent_password_required(back="admin.account")
def change_account_access(account_id: int) -> Response | tuple[str, int]:
    account = _get_account_or_404(account_id)
    form = AccessForm()
    if not form.validate_on_submit():
        return _account_page(account, form, 422)
    try:
        changed = service.change_access(
            account, Role(form.role.data), _chosen_units(form), current_user
        )
    except service.AccountError as error:
        db.session.rollback()
        return _account_page(account, form, 409, conflict=str(error))
    db.session.commit()
    if changed:
        flash(_("The role and units of %(email)s have been saved.", email=account.email), "info")
    if account.id == current_user.id and account.role is not Role.ADMIN:
        return redirect(url_for("dashboard.index"))
    return redirect(url_for("admin.account", account_id=account.id))


@bp.post("/accounts/<int:account_id>/deactivate")
@recent_password_required(back="admin.account")
def deactivate_account(account_id: int) -> Response | tuple[str, int]:
    account = _get_account_or_404(account_id)
    try:
        service.deactivate(account, current_user)
    except service.AccountError as error:
        db.session.rollback()
        return _account_page(account, status=409, conflict=str(error))
    db.session.commit()
    flash(_("%(email)s is deactivated and can no longer log in.", email=account.email), "info")
    return redirect(url_for("admin.account", account_id=account.id))


@bp.post("/accounts/<int:account_id>/reactivate")
@recent_password_required(back="admin.account")
def reactivate_account(account_id: int) -> Response:
    account = _get_account_or_404(account_id)
    service.reactivate(account, current_user)
    db.session.commit()
    flash(_("%(email)s can log in again.", email=account.email), "info")
    return redirect(url_for("admin.account", account_id=account.id))


@bp.post("/accounts/<int:account_id>/reset")
@recent_password_required(back="admin.account")
def reset_account_password(account_id: int) -> str | tuple[str, int]:
    account = _get_account_or_404(account_id)
    try:
        token = service.reset_password(account, current_user)
    except service.AccountError as error:
        db.session.rollback()
        return _account_page(account, status=409, conflict=str(error))
    db.session.commit()
    return _show_link(account, token, invitation=False)
