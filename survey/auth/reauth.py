"""Re-authentication: acts that change who may do what need the password confirmed recently.

Giving or taking away a role or units, resetting someone's password or (de)activating an
account is only done when the administrator entered their own password in the last
``RECENT`` minutes: at log-in, or on the confirmation page this module serves. A session left
open on an unattended computer can then read the administration, but not hand out access.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, user_logged_in
from werkzeug.wrappers import Response

from survey.auth.blueprint import bp
from survey.auth.forms import ConfirmPasswordForm
from survey.auth.views import safe_next_url
from survey.extensions import client_address, limiter
from survey.passwords import verify_password

P = ParamSpec("P")
R = TypeVar("R")

#: How long a confirmed password counts as recent.
RECENT = timedelta(minutes=5)
SESSION_KEY = "password_confirmed"


def mark_password_confirmed(account_id: int) -> None:
    session[SESSION_KEY] = {"account": account_id, "at": int(time.time())}


def password_recently_confirmed() -> bool:
    confirmed = session.get(SESSION_KEY)
    if not current_user.is_authenticated or not isinstance(confirmed, dict):
        return False
    age = time.time() - confirmed.get("at", 0)
    return confirmed.get("account") == current_user.id and 0 <= age <= RECENT.total_seconds()


@user_logged_in.connect
def _logging_in_confirms_the_password(sender, user, **extra) -> None:
    mark_password_confirmed(user.id)


def recent_password_required(
    back: str | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Log-in required, and the password confirmed in the last ``RECENT`` minutes.

    Otherwise a GET is sent to the confirmation page and back; a POST changes nothing and is
    sent there too, then back to the page ``back`` (an endpoint, built with the POST's URL
    arguments), where the administrator does it again.
    """

    def decorator(view: Callable[P, R]) -> Callable[P, R | Response]:
        @wraps(view)
        @login_required
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            if password_recently_confirmed():
                return view(*args, **kwargs)
            if request.method in ("GET", "HEAD"):
                target = request.full_path.rstrip("?")
            else:
                target = url_for(back or "dashboard.index", **(request.view_args or {}))
                flash(
                    _("Nothing was changed yet: confirm your password, then do it again."),
                    "info",
                )
            return redirect(url_for("auth.confirm_password", next=target))

        return wrapped

    return decorator


def _account_key() -> str:
    who = current_user.id if current_user.is_authenticated else client_address()
    return f"confirm-password:{who}"


def _failed(response: Response) -> bool:
    return request.method == "POST" and response.status_code == 422


@bp.route("/confirm-password", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
@login_required
def confirm_password() -> Response | tuple[str, int] | str:
    form = ConfirmPasswordForm()
    next_url = safe_next_url(request.args.get("next")) or url_for("dashboard.index")
    if form.validate_on_submit():
        if verify_password(current_user.password_hash, form.password.data):
            mark_password_confirmed(current_user.id)
            return redirect(next_url)
        form.password.errors.append(_("This is not your password."))
    page = render_template("auth/confirm_password.html", form=form)
    return (page, 422) if form.is_submitted() else page
