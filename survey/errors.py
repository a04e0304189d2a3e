"""Error pages in the visitor's language, for browsers; never a traceback."""

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

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


def register(app: Flask) -> None:
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
        from survey.extensions import db

        db.session.rollback()
        return render_error(500)
