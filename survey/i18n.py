"""Language choice: the visitor's pick, else the browser's preference, else Dutch."""

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale, get_translations
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


def _translations():
    """The translations for the locale in force, looked up once per locale and app context.

    flask_babel's own template callables look up the context, the domain, its cache and the
    locale again for each text, and a respondent's page has some fifty texts. Kept with the
    locale object they were found for, so ``force_locale`` (mails in the recipient's language)
    gets its own, and the page's return after it."""
    locale = get_locale()
    if locale is None:  # no app context
        return get_translations()
    kept = g.get("krachtspiegel_translations")
    if kept is None or kept[0] is not locale:
        kept = g.krachtspiegel_translations = (locale, get_translations())
    return kept[1]


def install_template_gettext(app: Flask) -> None:
    """Templates' ``_``/``gettext`` and friends through ``_translations`` (after Babel's
    ``init_app``, which installs its own)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
