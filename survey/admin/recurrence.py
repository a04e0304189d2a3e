"""Administration: repeat a wave once with new dates, or on a schedule, and the schedules.

The verbs live in ``survey.services.recurrence``; the command that runs the schedules is
``flask --app wsgi wave schedule`` (survey/commands/waves.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

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


def _form_page(
    template: str,
    wave: Wave,
    form: RepeatForm | ScheduleForm,
    save: Callable[[], str],
    done: str,
) -> Response | tuple[str, int]:
    """A form about ``wave``: on a valid POST ``save()`` acts (it returns where to go next), is
    committed and ``done`` is said; a ``WaveInputError`` goes on its field, or above the form
    when no field has its name (then 422, as for any refused POST)."""
    conflict = None
    if form.validate_on_submit():
        try:
            target = save()
        except WaveInputError as error:
            db.session.rollback()
            if error.field in form:
                form[error.field].errors.append(str(error))
            else:
                conflict = str(error)
        else:
            db.session.commit()
            flash(done, "success")
            return redirect(target)
    status = 422 if form.is_submitted() else 200
    return render_template(template, wave=wave, form=form, conflict=conflict), status


@bp.route("/waves/<int:wave_id>/repeat", methods=["GET", "POST"])
def repeat_wave(wave_id: int) -> Response | tuple[str, int]:
    wave = db.get_or_404(Wave, wave_id)
    form = RepeatForm()
    if not form.is_submitted():
        start = max(date.today(), wave.closes_on + timedelta(days=1))
        form.name.data = _("%(name)s (repeat)", name=wave.name)[:200]
        form.opens_on.data = start
        form.closes_on.data = recurrence.closing_day(start, _period_days(wave))

    def save() -> str:
        copy = recurrence.repeat_wave(
            wave,
            name=form.name.data,
            opens_on=form.opens_on.data,
            closes_on=form.closes_on.data,
            actor=current_user,
        )
        return url_for("admin.wave", wave_id=copy.id)

    done = _("The repeat is created as a draft. Check it, then open it.")
    return _form_page("admin/waves/repeat.html", wave, form, save, done)


@bp.route("/waves/<int:wave_id>/schedule", methods=["GET", "POST"])
def schedule_wave(wave_id: int) -> Response | tuple[str, int]:
    wave = db.get_or_404(Wave, wave_id)
    form = ScheduleForm()
    if not form.is_submitted():
        form.name.data = wave.name
        form.every_months.data = DEFAULT_SCHEDULE_MONTHS
        form.open_days.data = _period_days(wave)
        form.first_opens_on.data = recurrence.add_months(wave.opens_on, DEFAULT_SCHEDULE_MONTHS)

    def save() -> str:
        recurrence.create_schedule(
            wave,
            name=form.name.data,
            every_months=form.every_months.data,
            open_days=form.open_days.data,
            first_opens_on=form.first_opens_on.data,
            actor=current_user,
        )
        return url_for("admin.schedules")

    done = _("The schedule is saved: its waves open by themselves.")
    return _form_page("admin/waves/schedule.html", wave, form, save, done)


@bp.get("/schedules")
def schedules() -> str:
    return render_template(
        "admin/schedules.html", schedules=recurrence.schedules(), stop_form=PlainForm()
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
