"""Error pages in the visitor's language, for browsers; never a traceback."""

import traceback
from contextlib import suppress

from flask import Flask, current_app, g, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from survey.extensions import db, login_manager
from survey.services.settings import Settings

#: What a database that is restarting, unreachable, locked by another writer or out of pooled
#: connections raises, whichever driver it is (SQLAlchemy wraps psycopg's and sqlite3's errors).
DATABASE_UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)
#: Seconds a browser or a proxy is told to wait before it tries again.
RETRY_AFTER_SECONDS = 5
#: Posted fields never written back into a page: whoever sent them types them again.
SECRET_FIELDS = ("password",)

MESSAGES = {
    400: (
        _l("Bad request"),
        _l("The request could not be understood. Please go back and try again."),
    ),
    403: (_l("No access"), _l("Your account does not give access to this page.")),
    404: (_l("Page not found"), _l("This page does not exist, or you do not have access to it.")),
    405: (_l("Not allowed"), _l("This page cannot be used in this way.")),
    409: (
        _l("Not possible right now"),
        _l("This cannot be done in the current state. Reload the page to see the latest state."),
    ),
    413: (
        _l("Too much data"),
        _l("What you sent is larger than Krachtspiegel accepts. Nothing was saved."),
    ),
    422: (
        _l("Could not be processed"),
        _l("What you sent could not be processed. Please go back, check it and try again."),
    ),
    429: (
        _l("Too many attempts"),
        _l(
            "There were too many attempts in a short time. Please wait a few minutes and try again."
        ),
    ),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error occurred on our side. Please try again later."),
    ),
}


def render_error(code: int, message: str | None = None) -> tuple[str, int]:
    title, default_message = MESSAGES.get(code, MESSAGES[400])
    return render_template(
        "errors/error.html", code=code, title=title, message=message or default_message
    ), code


def database_unavailable(error: Exception) -> Response:
    """503 while the database is away, with everything the visitor posted kept on the page.

    A POST's fields (its CSRF token and the button's ``action`` too) come back as hidden inputs
    of a form that posts to the same URL: one click on "Try again" sends a respondent's page of
    answers again, without JavaScript. Files cannot be sent back that way, and passwords are
    not written into a page; for those the page says to go back.

    The page itself must not need the database: the session is rolled back, the visitor is
    shown as signed out for this one page (the account would be read again from the database)
    and the organisation's settings are the configured defaults.
    """
    current_app.logger.warning(
        "The database is unavailable (%s %s): %s",
        request.method,
        request.path,
        str(getattr(error, "orig", None) or error).strip().splitlines()[0],
    )
    with suppress(sa_exc.SQLAlchemyError):
        db.session.rollback()
    g._login_user = login_manager.anonymous_user()  # what Flask-Login's current_user reads
    g.setdefault("krachtspiegel_settings", Settings.from_config(current_app.config))
    fields = list(request.form.items(multi=True)) if request.method == "POST" else []
    withheld = bool(request.files) or any(
        secret in name for name, _value in fields for secret in SECRET_FIELDS
    )
    retry_url = request.script_root + request.path
    if request.query_string:
        retry_url += "?" + request.query_string.decode("latin-1")
    page = render_template(
        "errors/database.html",
        method=request.method,
        fields=[] if withheld else fields,
        withheld=withheld,
        retry_url=retry_url,
    )
    return make_response(
        (page, 503, {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"})
    )


def log_exception_without_values(exc_info) -> None:
    """Log an unexpected error (the 500 page) as its kind and where it happened, never its
    message: a message can carry what was posted (an answer the code choked on) or what the
    database said about a row (PostgreSQL's DETAIL names a key's values). The engine hides
    SQL parameters too (``create_app``), and no request data is logged at all."""
    _kind, error, trace = exc_info
    kinds = []
    while error is not None and len(kinds) < 5:
        kinds.append(f"{type(error).__module__}.{type(error).__qualname__}")
        error = error.__cause__ or error.__context__
    current_app.logger.error(
        "Exception on %s [%s]: %s (message withheld)\n%s",
        request.path,
        request.method,
        " caused by ".join(kinds),
        "".join(traceback.format_tb(trace)).rstrip(),
    )


def release_session(error: BaseException | None) -> None:
    """End the request's database session, even when its connection died after the page was
    made (a restart between the view's last query and the end of the request).

    Flask-SQLAlchemy's own teardown would raise from the rollback on the dead connection, and a
    finished page, or a redirect after a commit, would become a 500. Here the failed close is
    let go (SQLAlchemy has invalidated the connection, and the pool replaces it); registered
    after Flask-SQLAlchemy's teardown, this one runs first, and Flask-SQLAlchemy's then finds
    a session that closes cleanly.
    """
    with suppress(sa_exc.SQLAlchemyError):
        db.session.remove()


def register(app: Flask) -> None:
    app.log_exception = log_exception_without_values  # what Flask calls for a 500
    for error_class in DATABASE_UNAVAILABLE:
        app.register_error_handler(error_class, database_unavailable)
    app.teardown_appcontext(release_session)

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> tuple[str, int]:
        return render_error(
            400,
            _l("This form has expired or was sent from elsewhere. Reload the page and try again."),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
        if error.code is None or error.code < 400 or error.code not in MESSAGES:
            return error
        return render_error(error.code)

    @app.errorhandler(InternalServerError)
    def internal_error(error: InternalServerError) -> tuple[str, int]:
        db.session.rollback()
        return render_error(500)
