"""The account page of every signed-in person: who they are here, what they see, and whether
they want a mail when the results of their teams are ready."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from survey.access import sees_everything
from survey.auth.blueprint import bp
from survey.auth.forms import AccountForm
from survey.extensions import db
from survey.models import Role
from survey.services.mail import mail_configured
from survey.services.results_ready import set_notify_results


@bp.get("/account")
@login_required
def account() -> str:
    form = AccountForm(notify_results=current_user.notify_results)
    return _page(form)


@bp.post("/account")
@login_required
def save_account() -> Response | tuple[str, int]:
    if current_user.role is Role.ADMIN:
        abort(403)  # administrators are not told about results (the page says so)
    form = AccountForm()
    if not form.validate_on_submit():
        return _page(form), 400
    if set_notify_results(current_user, bool(form.notify_results.data)):
        db.session.commit()
    if form.notify_results.data:
        flash(_("You will get a mail when results of your teams are ready."), "info")
    else:
        flash(_("You will not get a mail when results are ready."), "info")
    return redirect(url_for("auth.account"))


def _page(form: AccountForm) -> str:
    return render_template(
        "auth/account.html",
        form=form,
        sees_everything=sees_everything(current_user),
        mail_configured=mail_configured(),
    )
