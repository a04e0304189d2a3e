"""Security headers on every response and sessions that end after inactivity."""

from flask import Flask, Response, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user

#: Scripts only from the app itself, never inline. Styles allow inline attributes because
#: plotly.js injects its own stylesheet (NOTES.md); nothing else is loosened.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static" or "Cache-Control" not in response.headers:
        # Pages, exports and PDFs alike (also a file sent with Flask's ``send_file``, which
        # says "no-cache"): results and downloads must not stay in a browser's cache or a
        # proxy. Only static files set their own caching (survey/assets.py).
        response.headers["Cache-Control"] = "no-store"
    return response


def make_session_expire_when_idle() -> None:
    """A signed-in session ends PERMANENT_SESSION_LIFETIME after its last request.

    A respondent's session (no account) is a browser session instead: it holds only the
    language and the pointer to their unfinished answers, and ends when the browser closes, so
    a long pause in a team meeting loses nothing.
    """
    if request.endpoint == "static":
        # Static files are public and cached (survey/assets.py): they must never carry, or
        # refresh, anyone's session cookie, which a shared cache could then hand to others.
        return
    session.permanent = current_user.is_authenticated


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that static files never set or refresh the
    cookie: they are public and cached (survey/assets.py), and a shared cache must not hand one
    visitor's session cookie to the next."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured, and always for a request that came in over HTTPS (behind
        a proxy: with TRUSTED_PROXIES set, X-Forwarded-Proto tells)."""
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)

    def should_set_cookie(self, app: Flask, session) -> bool:
        if request.endpoint == "static":
            return False
        return super().should_set_cookie(app, session)
