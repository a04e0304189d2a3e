"""The personal invitation and reminder mails, rendered in the invitee's language from
``templates/mail/{invitation,reminder}.{txt,html}`` (plain text and HTML).

``survey.services.invitations`` asks for them through ``app.extensions[RENDERER]``, which
``register`` fills in (the respond blueprint calls it), so the services render nothing.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _

from survey.models import Invitation, MailKind
from survey.services.invitations import RENDERER, MailContent
from survey.web.mails import render_mail


def render(kind: MailKind, invitation: Invitation, link: str, stop_url: str) -> MailContent:
    """The mail of ``kind`` (an invitation or a reminder) for ``invitation``, with its link."""
    wave = invitation.wave_team.wave
    reminder = kind is MailKind.REMINDER
    if reminder:
        subject = lambda: _('A reminder: "%(wave)s"', wave=wave.name)  # noqa: E731
    else:
        subject = lambda: _('Your invitation: "%(wave)s"', wave=wave.name)  # noqa: E731
    mail = render_mail(
        "reminder" if reminder else "invitation",
        invitation.language,
        subject,
        wave=wave,
        team=invitation.wave_team.unit,
        link=link,
        stop_url=stop_url,
        reminder=reminder,
    )
    return MailContent(subject=mail.subject, text_body=mail.text, html_body=mail.html or "")


def register(app: Flask) -> None:
    app.extensions.setdefault(RENDERER, render)
