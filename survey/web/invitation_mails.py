"""The personal invitation and reminder mails, rendered in the invitee's language from
``templates/mail/{invitation,reminder}.{txt,html}`` (plain text and HTML).

``survey.services.invitations`` asks for them through ``app.extensions[RENDERER]``, which
``register`` fills in (the respond blueprint calls it), so the services render nothing.
"""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from survey.models import Invitation, MailKind
from survey.services.invitations import RENDERER, MailContent


def render(kind: MailKind, invitation: Invitation, link: str, stop_url: str) -> MailContent:
    """The mail of ``kind`` (an invitation or a reminder) for ``invitation``, with its link."""
    wave = invitation.wave_team.wave
    name = "invitation" if kind is MailKind.INVITATION else "reminder"
    context = {
        "wave": wave,
        "team": invitation.wave_team.unit,
        "link": link,
        "stop_url": stop_url,
        "reminder": kind is MailKind.REMINDER,
    }
    with force_locale(invitation.language):
        if kind is MailKind.INVITATION:
            subject = _('Your invitation: "%(wave)s"', wave=wave.name)
        else:
            subject = _('A reminder: "%(wave)s"', wave=wave.name)
        return MailContent(
            subject=subject,
            text_body=render_template(f"mail/{name}.txt", **context),
            html_body=render_template(f"mail/{name}.html", **context),
        )


def register(app: Flask) -> None:
    app.extensions.setdefault(RENDERER, render)
