"""Language choice: the visitor's pick, else the browser's preference, else Dutch."""

from flask import current_app, has_request_context, request, session


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if session.get("lang") in languages:
        return session["lang"]
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def localized(text: dict[str, str] | None, locale: str) -> str:
    """Pick ``locale`` from a bilingual text of a questionnaire, falling back to Dutch."""
    if not text:
        return ""
    return text.get(locale) or text.get("nl") or next(iter(text.values()), "")


def template_helpers() -> dict:
    """Available in every template: the current language and ``localized(text)``."""
    from flask_babel import get_locale

    lang = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    return {
        "current_lang": lang,
        "languages": current_app.config["LANGUAGES"],
        "localized": lambda text: localized(text, lang),
    }
