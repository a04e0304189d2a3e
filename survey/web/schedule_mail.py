"""The mail that tells an administrator what a wave schedule did (``flask --app wsgi wave
schedule``): rendered from ``mail/schedule.txt`` in the organisation's language."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from survey.services.recurrence import ScheduledWave


def schedule_mail(outcome: ScheduledWave) -> tuple[str, str]:
    """The subject and plain text of the mail about ``outcome``."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        wave = outcome.wave
        if wave is not None and outcome.opened:
            subject = ngettext(
                'The wave "%(wave)s" opened for %(num)d team',
                'The wave "%(wave)s" opened for %(num)d teams',
                len(wave.teams),
                wave=wave.name,
            )
        elif wave is not None:
            subject = _('The wave "%(wave)s" was created but stays a draft', wave=wave.name)
        else:
            subject = _('The schedule "%(schedule)s" has stopped', schedule=outcome.schedule.name)
        text = render_template(
            "mail/schedule.txt",
            outcome=outcome,
            wave_url=f"{base}/admin/waves/{wave.id}" if wave is not None else None,
            schedules_url=f"{base}/admin/schedules",
        )
    return subject, text
