"""Security headers on every response and sessions that end after inactivity."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Request, Response, has_request_context, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import current_user
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

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
    language and the pointer to their unfinished answers, and ends when the browser closes;
    its signature carries no time (``SessionInterface``), and the unfinished answers leave it
    after RESPONDENT_IDLE_MINUTES without a respondent page (``survey.respond.views``).
    """
    if request.endpoint == "static":
        # Static files are public and cached (survey/assets.py): they must never carry, or
        # refresh, anyone's session cookie, which a shared cache could then hand to others.
        return
    session.permanent = current_user.is_authenticated


def _signed_in(data: Mapping[str, Any]) -> bool:
    """A session of an account (Flask-Login's key, or made permanent once signed in)."""
    return "_user_id" in data or bool(data.get("_permanent"))


class _TimelessSigner(TimestampSigner):
    """Signs with the time 0: a respondent's cookie must not tell when it was last written
    (that is when they sent their answers: docs/anonymity.md, "Time in a cookie")."""

    def get_timestamp(self) -> int:
        return 0


class _SessionSerializer(URLSafeTimedSerializer):
    def dumps(self, obj: Any, salt: str | bytes | None = None) -> str:
        self.signer = TimestampSigner if _signed_in(obj) else _TimelessSigner
        return super().dumps(obj, salt)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that

    - static files never set or refresh the cookie: they are public and cached
      (survey/assets.py), and a shared cache must not hand one visitor's session cookie to the
      next;
    - only an account's session expires PERMANENT_SESSION_LIFETIME after it was last signed; a
      respondent's is signed without a time and lasts as long as the browser session (what in
      it must not outlive a pause, the unfinished answers, keeps its own activity time).
    """

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer (the same keys, salt and format), signing by ``_signed_in``."""
        if not app.secret_key:
            return None
        keys = [*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key]
        return _SessionSerializer(
            keys,
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        try:
            data, signed_at = serializer.loads(cookie, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if _signed_in(data) and datetime.now(UTC) - signed_at > app.permanent_session_lifetime:
            return self.session_class()
        return self.session_class(data)

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured, and always for a request that came in over HTTPS (behind
        a proxy: with TRUSTED_PROXIES set, X-Forwarded-Proto tells)."""
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)

    def should_set_cookie(self, app: Flask, session) -> bool:
        if request.endpoint == "static":
            return False
        return super().should_set_cookie(app, session)
