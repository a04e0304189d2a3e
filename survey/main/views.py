"""The front page, the language switch and a health check for load balancers."""

import sqlalchemy as sa
from flask import abort, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from survey.auth.views import safe_next_url
from survey.extensions import db
from survey.i18n import offered_languages
from survey.main.blueprint import bp


@bp.get("/")
def index() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    return render_template("main/index.html")


@bp.get("/privacy")
def privacy() -> str:
    return render_template("main/privacy.html")


@bp.get("/language/<lang>")
def set_language(lang: str) -> Response:
    """Switch language and go back where the visitor was; a plain link, so no JavaScript."""
    if lang not in offered_languages():
        abort(404)
    session["lang"] = lang
    return redirect(safe_next_url(request.args.get("next")) or url_for("main.index"))


@bp.get("/health")
def health() -> tuple[dict, int]:
    """200 when the database answers; for a load balancer or a process monitor."""
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}, 200
