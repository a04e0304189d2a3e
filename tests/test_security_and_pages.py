import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from survey.security import CONTENT_SECURITY_POLICY
from tests.conftest import login

ROOT = Path(__file__).parent.parent
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    script_src = next(part for part in csp.split("; ") if part.startswith("script-src"))
    assert script_src == "script-src 'self'"
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert csp == CONTENT_SECURITY_POLICY


def test_no_inline_script_and_no_external_asset_in_any_template():
    for template in (ROOT / "survey" / "templates").rglob("*.html"):
        text = template.read_text()
        for opening in text.split("<script")[1:]:
            tag = opening.split(">", 1)[0]
            # Data blocks (figure JSON for charts.js) are not scripts: the browser never runs them.
            assert " src=" in tag or 'type="application/json"' in tag, (
                f"inline script in {template}"
            )
        assert "http://" not in text and "https://" not in text, f"external URL in {template}"
        assert not INLINE_HANDLER.search(text), f"inline event handler in {template}"


def test_session_cookie_is_httponly_and_samesite(client, make_account):
    from survey.models import Role

    make_account("q@example.org", Role.QUALITY)
    login(client, "q@example.org")
    cookie = client.get_cookie("session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert cookie.expires is not None  # the session ends after inactivity


def test_cookies_are_secure_when_configured(database_url):
    from tests.conftest import app_on

    for app in app_on(database_url, SESSION_COOKIE_SECURE=True):
        client = app.test_client()
        client.get("/login")
        assert client.get_cookie("session").secure


def test_cookies_are_secure_when_served_over_https(client, make_account):
    from survey.models import Role

    make_account("q@example.org", Role.QUALITY)
    client.get("/login", base_url="http://localhost")
    assert not client.get_cookie("session").secure
    client.get("/login", base_url="https://localhost")
    assert client.get_cookie("session", domain="localhost").secure


@pytest.mark.parametrize(
    "lang, title, text",
    [
        ("nl", "Pagina niet gevonden", "Deze pagina bestaat niet"),
        ("en", "Page not found", "This page does not exist"),
    ],
)
def test_error_pages_speak_the_visitors_language(client, lang, title, text):
    client.get(f"/language/{lang}")
    response = client.get("/no/such/page")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert f'<html lang="{lang}">' in page and title in page and text in page


def test_a_too_large_post_gets_413_with_a_clear_page(client):
    client.application.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/login", data={"email": "x" * 4096})
    assert response.status_code == 413
    assert "Te veel gegevens" in response.get_data(as_text=True)


def test_an_unexpected_error_gets_a_500_page_not_a_traceback(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("database on fire")

    response = client.get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Er is iets misgegaan" in page
    assert "database on fire" not in page and "Traceback" not in page


def test_unknown_language_is_404(client):
    assert client.get("/language/fr").status_code == 404


def test_dutch_by_default_english_by_choice_or_by_browser(client):
    assert '<html lang="nl">' in client.get("/").get_data(as_text=True)
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    response = client.get("/language/en?next=/login")
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "Log in" in page and "Aanmelden" not in page
    assert client.get("/language/nl?next=https://evil.example/").headers["Location"] == "/"


def test_health_check(client):
    assert client.get("/health").get_json() == {"status": "ok"}


def test_every_message_has_a_dutch_translation():
    """Each translatable string in the code and templates is in the nl catalogue, translated."""
    with open(ROOT / "survey/translations/nl/LC_MESSAGES/messages.po", "rb") as handle:
        catalogue = read_po(handle)
    method_map = [("survey/**.py", "python"), ("survey/templates/**.html", "jinja2")]
    options = {"survey/templates/**.html": {"extensions": "jinja2.ext.do"}}
    found = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(
            str(ROOT),
            method_map,
            options_map=options,
            keywords={
                "_": None,
                "_l": None,
                "gettext": None,
                "lazy_gettext": None,
                "ngettext": (1, 2),
            },
        )
    }
    missing = sorted(m for m in found if m not in catalogue or not catalogue[m].string)
    fuzzy = sorted(m.id for m in catalogue if m.id and m.fuzzy)
    assert missing == [], "run `make extract-messages` and translate these in nl"
    assert fuzzy == []


def test_a_respondents_session_lasts_until_the_browser_closes(client):
    client.get("/language/en")
    cookie = client.get_cookie("session")
    assert cookie.expires is None  # no idle timeout that could strand unfinished answers
