"""Waves that recur: repeat a wave with new dates, and schedules that create and open the next
wave by themselves (``flask --app wsgi wave schedule``, daily from cron).

A repeat is a new draft like its source: the same units (the teams in or below them today),
questionnaire version, context, mode (codes only, invitations, reminder days, the last-day
reminder) and each team's expected staff (a team new to the units starts at its usual number).

A schedule (``WaveSchedule``) copies its last wave every ``every_months`` months, on
``next_opens_on``, and opens the copy through ``waves.open_wave`` for ``open_days`` days
(the opening day counts). A team answers one wave at a time: when one of the copy's teams is
still in an open wave, the copy stays a draft and the administrator is told why.

Safe to run again, and on two machines at once: a schedule is claimed by a conditional UPDATE
of its ``next_opens_on`` (``claim``), so only one run creates a given wave.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from survey.extensions import db
from survey.models import Account, Unit, Wave, WaveSchedule
from survey.services import audit
from survey.services.waves import (
    WaveConflict,
    WaveInputError,
    create_wave,
    open_wave,
    team_overlaps,
)

#: A wave's name is at most this long (``Wave.name``); a scheduled one ends " (YYYY-MM-DD)".
NAME_LENGTH = 200
MONTHS = (1, 24)
OPEN_DAYS = (1, 366)


def add_months(day: date, months: int) -> date:
    """``day`` moved ``months`` calendar months on; a day the month lacks becomes its last
    (31 January + 1 month = 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def closing_day(opens_on: date, open_days: int) -> date:
    """The last day of a period of ``open_days`` days from ``opens_on`` (which counts)."""
    return opens_on + timedelta(days=open_days - 1)


# --- Repeat a wave ----------------------------------------------------------------------------


def repeat_wave(
    wave: Wave,
    *,
    name: str,
    opens_on: date,
    closes_on: date,
    actor: Account | None,
    today: date | None = None,
) -> Wave:
    """A new draft like ``wave`` (see the module docstring) for the new period."""
    copy = create_wave(
        name=name,
        version=wave.questionnaire_version,
        units=list(wave.units),
        opens_on=opens_on,
        closes_on=closes_on,
        codes_only=wave.codes_only,
        actor=actor,
        today=today,
        context=wave.context,
    )
    copy.invitations = wave.invitations
    copy.reminder_days = list(wave.reminder_days) if wave.reminder_days is not None else None
    copy.last_day_reminder = wave.last_day_reminder
    expected = {team.unit_id: team.invited for team in wave.teams}
    for team in copy.teams:
        if team.unit_id in expected:
            team.invited = expected[team.unit_id]
    db.session.flush()
    audit.record(actor, "wave.repeat", f"wave {copy.id} ({copy.name})", source=wave.id)
    return copy


# --- Schedules --------------------------------------------------------------------------------


def _check_range(field_name: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise WaveInputError(
            field_name, _("Enter a number from %(min)d to %(max)d.", min=low, max=high)
        )


def create_schedule(
    wave: Wave,
    *,
    name: str,
    every_months: int,
    open_days: int,
    first_opens_on: date,
    actor: Account | None,
    today: date | None = None,
) -> WaveSchedule:
    """A schedule that copies ``wave`` every ``every_months`` months from ``first_opens_on``."""
    today = today or date.today()
    name = name.strip()
    if not name:
        raise WaveInputError("name", _("Give the wave a name."))
    _check_range("every_months", every_months, MONTHS)
    _check_range("open_days", open_days, OPEN_DAYS)
    if first_opens_on < today:
        raise WaveInputError("first_opens_on", _("The first opening date has already passed."))
    schedule = WaveSchedule(
        name=name,
        every_months=every_months,
        open_days=open_days,
        next_opens_on=first_opens_on,
        last_wave_id=wave.id,
        account_id=actor.id if actor else None,
    )
    db.session.add(schedule)
    db.session.flush()
    audit.record(
        actor,
        "schedule.create",
        f"schedule {schedule.id} ({name})",
        wave=wave.id,
        every_months=every_months,
        open_days=open_days,
        first_opens_on=first_opens_on.isoformat(),
    )
    return schedule


def stop_schedule(schedule: WaveSchedule, actor: Account | None) -> None:
    """No more waves from this schedule (the waves it made stay)."""
    if schedule.active:
        schedule.active = False
        db.session.flush()
        audit.record(actor, "schedule.stop", f"schedule {schedule.id} ({schedule.name})")


def schedules() -> list[WaveSchedule]:
    """Every schedule with its last wave, the active ones first, then by their next date."""
    return list(
        db.session.scalars(
            sa.select(WaveSchedule)
            .options(selectinload(WaveSchedule.last_wave))
            .order_by(WaveSchedule.active.desc(), WaveSchedule.next_opens_on, WaveSchedule.id)
        )
    )


def due_schedules(today: date) -> list[WaveSchedule]:
    """The active schedules whose next wave is due (``next_opens_on`` is today or earlier)."""
    return list(
        db.session.scalars(
            sa.select(WaveSchedule)
            .where(
                WaveSchedule.active,
                WaveSchedule.last_wave_id.is_not(None),
                WaveSchedule.next_opens_on <= today,
            )
            .order_by(WaveSchedule.next_opens_on, WaveSchedule.id)
        )
    )


def following_date(schedule: WaveSchedule, today: date) -> date:
    """The date after the one due: ``every_months`` on, and past today (a run missed for
    longer than a period does not make up the waves it missed)."""
    following = add_months(schedule.next_opens_on, schedule.every_months)
    while following <= today:
        following = add_months(following, schedule.every_months)
    return following


def claim(schedule_id: int, due_on: date, following: date) -> bool:
    """Move the schedule's date from ``due_on`` to ``following``, only if it still is
    ``due_on`` (a conditional UPDATE): True for the one run that did, False for any other.

    Start the transaction with it: on PostgreSQL a second run waits for the first to commit
    and then finds the date moved; on SQLite the write lock does the same."""
    result = db.session.execute(
        sa.update(WaveSchedule)
        .where(
            WaveSchedule.id == schedule_id,
            WaveSchedule.active,
            WaveSchedule.next_opens_on == due_on,
        )
        .values(next_opens_on=following)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


@dataclass(frozen=True)
class ScheduledWave:
    """What one due schedule did."""

    schedule: WaveSchedule
    #: The wave it created, or None when it could not (``problem`` says why; it stopped).
    wave: Wave | None
    opened: bool
    #: When the wave stays a draft: the other open waves that hold its teams (wave → teams).
    overlaps: dict[Wave, list[Unit]] = field(default_factory=dict)
    problem: str | None = None


def run_schedule(schedule: WaveSchedule, today: date) -> ScheduledWave:
    """Create the schedule's next wave (after ``claim``) and open it when none of its teams is
    in another open wave. The wave opens today (the scheduled day, or later when a run was
    missed) for ``open_days`` days; its name is the schedule's with the opening date."""
    source = db.session.get(Wave, schedule.last_wave_id) if schedule.last_wave_id else None
    if source is None:
        schedule.active = False
        return ScheduledWave(schedule, None, False, problem=_("Its last wave was deleted."))
    try:
        wave = repeat_wave(
            source,
            name=f"{schedule.name[: NAME_LENGTH - 13]} ({today.isoformat()})",
            opens_on=today,
            closes_on=closing_day(today, schedule.open_days),
            actor=None,
            today=today,
        )
    except WaveInputError as error:
        schedule.active = False
        db.session.flush()
        return ScheduledWave(schedule, None, False, problem=str(error))
    schedule.last_wave_id = wave.id
    db.session.flush()
    try:
        open_wave(wave, None, today)  # one wave at a time per team: check_one_wave_per_team
    except WaveConflict as error:
        overlaps = team_overlaps(wave, wave.closes_on, today)
        return ScheduledWave(schedule, wave, False, overlaps=overlaps, problem=str(error))
    return ScheduledWave(schedule, wave, True)
