"""Log-in and log-out, with failed attempts throttled per account and per address."""

from urllib.parse import urljoin, urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from survey.auth.blueprint import bp
from survey.auth.forms import LoginForm
from survey.extensions import db, limiter
from survey.services.accounts import authenticate, normalise_email


def safe_next_url(target: str | None) -> str | None:
    """``target`` when it points inside this site, else None (no open redirects)."""
    if not target or target.startswith(("//", "\\")) or "\\" in target:
        return None
    base = urlsplit(request.host_url)
    joined = urlsplit(urljoin(request.host_url, target))
    if joined.scheme != base.scheme or joined.netloc != base.netloc:
        return None
    return joined.path + (f"?{joined.query}" if joined.query else "")


def _account_key() -> str:
    return "login-account:" + normalise_email(request.form.get("email", ""))[:254]


def _failed(response: Response) -> bool:
    """A log-in attempt failed when the form is shown again instead of a redirect."""
    return request.method == "POST" and response.status_code == 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        account = authenticate(form.email.data, form.password.data)
        if account is not None:
            db.session.commit()
            login_user(account)
            session.permanent = True
            return redirect(safe_next_url(request.args.get("next")) or url_for("dashboard.index"))
        failed = True
    return render_template("auth/login.html", form=form, failed=failed)


@bp.post("/logout")
@login_required
def logout() -> Response:
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))
