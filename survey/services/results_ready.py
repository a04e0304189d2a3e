"""Telling managers that a wave's results are ready: which waves are due, and who asked.

A wave is due once management sees its results (``management_release_date`` after its
team-first period, never shorter than the one its respondents were told), and until a run of
``flask --app wsgi mail announce`` has claimed it (``Wave.results_announced_on``). Told are the
active managers and quality officers who ticked "Mail me when results of my teams are ready" on
their account page, and whose scope holds at least one team of the wave. The mail names the
wave, never a figure (``survey.web.mails.announce_results``).
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from survey.access import scoped_waves
from survey.extensions import db
from survey.models import Account, Role, Wave, WaveState, WaveStatus, management_release_date
from survey.services.settings import wave_team_first_days

#: Waves whose results were released longer ago than this are not announced any more (the
#: first run on an installation with years of waves tells nobody about old ones).
ANNOUNCE_WITHIN = timedelta(days=14)
#: The roles that may ask to be told.
TOLD = (Role.MANAGER, Role.QUALITY)


def release_date(wave: Wave) -> date:
    """The day management sees ``wave``'s results."""
    return management_release_date(wave, wave_team_first_days(wave))


def waves_to_announce(today: date) -> list[Wave]:
    """Ended waves whose results management sees from ``today`` on (released at most
    ``ANNOUNCE_WITHIN`` ago), not announced yet, and whose responses are still there."""
    candidates = db.session.scalars(
        sa.select(Wave)
        .where(
            Wave.status != WaveStatus.DRAFT,
            Wave.results_announced_on.is_(None),
            Wave.purged_on.is_(None),
            sa.func.coalesce(Wave.closed_on, Wave.closes_on) < today,
        )
        .order_by(Wave.id)
    ).all()
    return [
        wave
        for wave in candidates
        if wave.state(today) is WaveState.CLOSED
        and today - ANNOUNCE_WITHIN <= release_date(wave) <= today
    ]


def claim(wave: Wave, today: date) -> bool:
    """Mark ``wave`` announced on ``today``, unless another run did so first (an atomic
    conditional UPDATE: two runs at once never both announce it). Flushes; the caller queues
    the mails in the same transaction and commits."""
    result = db.session.execute(
        sa.update(Wave)
        .where(Wave.id == wave.id, Wave.results_announced_on.is_(None))
        .values(results_announced_on=today)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(wave, ["results_announced_on"])
    return result.rowcount == 1


def recipients(wave: Wave) -> list[Account]:
    """The accounts that asked to be told and see at least one team of ``wave``."""
    asked = db.session.scalars(
        sa.select(Account)
        .where(Account.notify_results.is_(True), Account.active.is_(True), Account.role.in_(TOLD))
        .order_by(Account.email)
    ).all()
    return [
        account
        for account in asked
        if db.session.scalar(sa.select(scoped_waves(account).where(Wave.id == wave.id).exists()))
    ]


def set_notify_results(account: Account, wanted: bool) -> bool:
    """Store the account's choice; returns whether it changed (flushes)."""
    changed = account.notify_results != wanted
    account.notify_results = wanted
    db.session.flush()
    return changed
