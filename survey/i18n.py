"""Language choice: the visitor's pick, else the browser's preference, else Dutch."""

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from sqlalchemy.exc import SQLAlchemyError

from survey.services.settings import current_settings, settings_proxy


def offered_languages() -> list[str]:
    """The languages the organisation offers (its settings), Dutch first when offered."""
    try:
        chosen = current_settings().languages
    except SQLAlchemyError:  # the database is unreachable: the error page still needs a language
        return list(current_app.config["LANGUAGES"])
    return [lang for lang in current_app.config["LANGUAGES"] if lang in chosen]


def select_locale() -> str:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = offered_languages()
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or languages[0]


def localized(text: dict[str, str] | None, locale: str) -> str:
    """Pick ``locale`` from a bilingual text of a questionnaire, falling back to Dutch."""
    if not text:
        return ""
    return text.get(locale) or text.get("nl") or next(iter(text.values()), "")


def template_helpers() -> dict:
    """Available in every template: the current language and ``localized(text)``."""
    lang = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    return {
        "current_lang": lang,
        "languages": offered_languages(),
        "settings": settings_proxy,
        "localized": lambda text: localized(text, lang),
    }
