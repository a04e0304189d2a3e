"""Choosing a password through a one-time link (an invitation or a reset by an administrator).

An unknown, used or expired link gets one and the same page (404), so the page tells nobody
which links exist.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from survey.auth.blueprint import bp
from survey.auth.forms import SetPasswordForm
from survey.extensions import db
from survey.passwords import MIN_PASSWORD_LENGTH, password_problems
from survey.services.accounts import account_for_password_token, set_password


@bp.route("/password/<token>", methods=["GET", "POST"], endpoint="set_password")
def set_password_page(token: str) -> Response | tuple[str, int] | str:
    account = account_for_password_token(token)
    if account is None:
        return render_template("auth/password_link_invalid.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        problems = password_problems(form.password.data, account.email)
        if not problems:
            set_password(account, form.password.data)
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            flash(_("Your password has been set. You can now log in with it."), "info")
            return redirect(url_for("auth.login"))
        form.password.errors.extend(problems)
    page = render_template(
        "auth/set_password.html", form=form, account=account, min_length=MIN_PASSWORD_LENGTH
    )
    return (page, 422) if form.is_submitted() else page
