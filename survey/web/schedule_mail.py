"""The mail that tells an administrator what a wave schedule did (``flask --app wsgi wave
schedule``): plain text from ``mail/schedule.txt``, in the organisation's language."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from survey.models import MailKind, OutgoingMail
from survey.services.recurrence import ScheduledWave
from survey.web.mails import mail_language, public_url, queue_mail


def _subject(outcome: ScheduledWave) -> str:
    wave = outcome.wave
    if wave is not None and outcome.opened:
        return ngettext(
            'The wave "%(wave)s" opened for %(num)d team',
            'The wave "%(wave)s" opened for %(num)d teams',
            len(wave.teams),
            wave=wave.name,
        )
    if wave is not None:
        return _('The wave "%(wave)s" was created but stays a draft', wave=wave.name)
    return _('The schedule "%(schedule)s" has stopped', schedule=outcome.schedule.name)


def queue_schedule_mail(outcome: ScheduledWave, to: str) -> OutgoingMail:
    """Queue the mail about ``outcome`` to ``to`` (flushes; the caller commits)."""
    wave = outcome.wave
    return queue_mail(
        MailKind.SCHEDULE,
        to,
        "schedule",
        language=mail_language(),
        subject=lambda: _subject(outcome),
        html=False,
        outcome=outcome,
        wave_url=public_url("admin.wave", wave_id=wave.id) if wave is not None else None,
        schedules_url=public_url("admin.schedules"),
    )
