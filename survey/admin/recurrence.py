"""Administration: repeat a wave once with new dates, or on a schedule, and the schedules.

The verbs live in ``survey.services.recurrence``; the command that runs the schedules is
``flask --app wsgi wave schedule`` (survey/commands/waves.py)."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey.admin.blueprint import bp
from survey.admin.forms.recurrence import RepeatForm, ScheduleForm
from survey.extensions import db
from survey.forms import PlainForm
from survey.models import Wave, WaveSchedule
from survey.services import recurrence
from survey.services.waves import WaveInputError

#: The repeat's form suggests the same length of period, starting on the day after this.
DEFAULT_SCHEDULE_MONTHS = 3


def _period_days(wave: Wave) -> int:
    return (wave.closes_on - wave.opens_on).days + 1


def _failed(form: RepeatForm | ScheduleForm, error: WaveInputError) -> str | None:
    """Puts the service's message on its field; returns it when the form has no such field."""
    db.session.rollback()
    if error.field in form:
        form[error.field].errors.append(str(error))
        return None
    return str(error)


@bp.route("/waves/<int:wave_id>/repeat", methods=["GET", "POST"])
def repeat_wave(wave_id: int) -> Response | tuple[str, int]:
    wave = db.get_or_404(Wave, wave_id)
    form = RepeatForm()
    if not form.is_submitted():
        start = max(date.today(), wave.closes_on + timedelta(days=1))
        form.name.data = _("%(name)s (repeat)", name=wave.name)[:200]
        form.opens_on.data = start
        form.closes_on.data = recurrence.closing_day(start, _period_days(wave))
    conflict = None
    if form.validate_on_submit():
        try:
            copy = recurrence.repeat_wave(
                wave,
                name=form.name.data,
                opens_on=form.opens_on.data,
                closes_on=form.closes_on.data,
                actor=current_user,
            )
        except WaveInputError as error:
            conflict = _failed(form, error)
        else:
            db.session.commit()
            flash(_("The repeat is created as a draft. Check it, then open it."), "success")
            return redirect(url_for("admin.wave", wave_id=copy.id))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "admin/waves/repeat.html", wave=wave, form=form, conflict=conflict
    ), status


@bp.route("/waves/<int:wave_id>/schedule", methods=["GET", "POST"])
def schedule_wave(wave_id: int) -> Response | tuple[str, int]:
    wave = db.get_or_404(Wave, wave_id)
    form = ScheduleForm()
    if not form.is_submitted():
        form.name.data = wave.name
        form.every_months.data = DEFAULT_SCHEDULE_MONTHS
        form.open_days.data = _period_days(wave)
        form.first_opens_on.data = recurrence.add_months(wave.opens_on, DEFAULT_SCHEDULE_MONTHS)
    conflict = None
    if form.validate_on_submit():
        try:
            recurrence.create_schedule(
                wave,
                name=form.name.data,
                every_months=form.every_months.data,
                open_days=form.open_days.data,
                first_opens_on=form.first_opens_on.data,
                actor=current_user,
            )
        except WaveInputError as error:
            conflict = _failed(form, error)
        else:
            db.session.commit()
            flash(_("The schedule is saved: its waves open by themselves."), "success")
            return redirect(url_for("admin.schedules"))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "admin/waves/schedule.html", wave=wave, form=form, conflict=conflict
    ), status


@bp.get("/schedules")
def schedules() -> str:
    all_schedules = recurrence.schedules()
    last_ids = [schedule.last_wave_id for schedule in all_schedules]
    waves = db.session.scalars(sa.select(Wave).where(Wave.id.in_(last_ids))).all()
    return render_template(
        "admin/schedules.html",
        schedules=all_schedules,
        waves={wave.id: wave for wave in waves},
        stop_form=PlainForm(),
    )


@bp.post("/schedules/<int:schedule_id>/stop")
def stop_schedule(schedule_id: int) -> Response:
    schedule = db.get_or_404(WaveSchedule, schedule_id)
    if not PlainForm().validate():
        abort(400)  # an expired form (CSRF); the button works again from the list
    recurrence.stop_schedule(schedule, current_user)
    db.session.commit()
    flash(_("The schedule is stopped: it creates no more waves."), "success")
    return redirect(url_for("admin.schedules"))
