"""E-mails as the recipient reads them: a template pair rendered in their language, queued.

Every mail is two templates, ``templates/mail/<name>.txt`` (the plain text) and
``templates/mail/<name>.html`` (its HTML alternative, extending ``mail/_layout.html``: simple
markup, no stylesheet, no image, no script), rendered with ``force_locale`` in the recipient's
language. ``queue_mail`` renders and queues in one call (``survey.services.mail_queue``); the
caller commits, and ``flask --app wsgi mail send`` sends.

Links in a mail are absolute: ``public_url`` puts ``PUBLIC_URL`` in front of a route's path,
with or without a request (mails are queued from the command line too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from survey.models import MailKind, OutgoingMail, Wave
from survey.services import mail_queue, results_ready
from survey.services.settings import current_settings

#: What ``subject`` may be: a text, a lazy translation (``lazy_gettext``, translated here in the
#: recipient's language), or a function of no arguments called in that language.
Subject = str | Callable[[], str] | Any


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    #: None for a mail in plain text only (a notice to an administrator).
    html: str | None


def public_url(endpoint: str, **values: Any) -> str:
    """The absolute address of a route (``PUBLIC_URL`` and its path), outside a request too."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def mail_language(language: str | None = None) -> str:
    """``language`` when it is one of the installation's, else the organisation's first one."""
    installed = current_app.config["LANGUAGES"]
    if language in installed:
        return language
    offered = [lang for lang in installed if lang in current_settings().languages]
    return (offered or installed)[0]


def render_mail(
    name: str, language: str, subject: Subject, *, html: bool = True, **context: Any
) -> RenderedMail:
    """``mail/<name>.txt`` and (unless ``html`` is false) ``mail/<name>.html`` with
    ``context``, and ``subject``, all in ``language`` ("nl" or "en")."""
    with force_locale(mail_language(language)):
        title = subject() if callable(subject) else str(subject)
        context = {"subject": title, **context}
        return RenderedMail(
            subject=title,
            text=render_template(f"mail/{name}.txt", **context),
            html=render_template(f"mail/{name}.html", **context) if html else None,
        )


def queue_mail(
    kind: MailKind,
    to: str,
    name: str,
    *,
    language: str,
    subject: Subject,
    wave_id: int | None = None,
    unsubscribe_url: str | None = None,
    html: bool = True,
    **context: Any,
) -> OutgoingMail:
    """Render the template pair ``name`` in ``language`` and queue it to ``to`` (flushes; the
    caller commits). ``context`` reaches both templates, with ``subject`` and, when given,
    ``unsubscribe_url`` (which also becomes the one-click List-Unsubscribe header)."""
    rendered = render_mail(
        name, language, subject, html=html, unsubscribe_url=unsubscribe_url, **context
    )
    return mail_queue.enqueue(
        kind,
        to,
        rendered.subject,
        rendered.text,
        html_body=rendered.html,
        wave_id=wave_id,
        unsubscribe_url=unsubscribe_url,
    )


# --- results ready ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Announcement:
    wave: Wave
    told: int


def announce_results(today: date) -> list[Announcement]:
    """Queue "results ready" mails for every wave whose results management sees from
    ``today`` on (``survey.services.results_ready``), one per account that asked for it, and
    mark the wave announced; a wave is announced once, however often this runs. Flushes; the
    caller commits."""
    done = []
    for wave in results_ready.waves_to_announce(today):
        if not results_ready.claim(wave, today):
            continue  # another run got there first
        recipients = results_ready.recipients(wave)
        link = public_url("dashboard.wave", wave_id=wave.id)
        for account in recipients:
            queue_mail(
                MailKind.RESULTS_READY,
                account.email,
                "results_ready",
                language=mail_language(),
                subject=_l("The results of %(wave)s are ready", wave=wave.name),
                wave=wave,
                link=link,
                account_url=public_url("auth.account"),
            )
        done.append(Announcement(wave, len(recipients)))
    return done
