"""Forms of a wave's repeats: once with new dates, or on a schedule."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, NumberRange

from survey.admin.forms.waves import NAME_LENGTH, WaveEditForm, _name_validators
from survey.forms import DayField
from survey.services.recurrence import MONTHS, OPEN_DAYS


class RepeatForm(WaveEditForm):
    """A new draft like the wave: its name and dates (the rest, its mode too, is copied)."""

    codes_only = None


def _number(label: str, bounds: tuple[int, int], required: str) -> IntegerField:
    low, high = bounds
    return IntegerField(
        label,
        validators=[
            InputRequired(required),
            NumberRange(min=low, max=high, message=_l("Enter a number from %(min)d to %(max)d.")),
        ],
        render_kw={"min": low, "max": high, "inputmode": "numeric"},
    )


class ScheduleForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=_name_validators, render_kw={"maxlength": NAME_LENGTH}
    )
    every_months = _number(
        _l("Every how many months"), MONTHS, _l("Enter every how many months the wave repeats.")
    )
    open_days = _number(
        _l("Open for how many days"), OPEN_DAYS, _l("Enter how many days each wave is open.")
    )
    first_opens_on = DayField(
        _l("First opening date"),
        validators=[InputRequired(_l("Enter the day the first wave opens."))],
    )
