"""The forms of the team's results link: a new action, and an action's follow-up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from questionnaires import Scale
from survey.forms import DayField
from survey.i18n import localized
from survey.models import ActionKind, ActionStatus, Wave

DESCRIPTION_LENGTH = 500
OWNER_LENGTH = 120
NOTE_LENGTH = 300
#: How far after a wave's closing a review may be planned.
REVIEW_HORIZON = timedelta(days=3 * 366)

_too_long = _l("Use at most %(max)d characters.")


class _ActionForm(FlaskForm):
    """A form about an action of ``wave``: its review date lies from the wave's opening day to
    three years after it closed (anything else is a typing error)."""

    def __init__(self, *args: Any, wave: Wave, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wave = wave

    def validate_review_on(self, field: DayField) -> None:
        first, last = self.wave.opens_on, self.wave.closes_on + REVIEW_HORIZON
        if field.data and not first <= field.data <= last:
            raise ValidationError(
                _(
                    "Choose a date from %(first)s to %(last)s.",
                    first=format_date(first, "long"),
                    last=format_date(last, "long"),
                )
            )


class NewActionForm(_ActionForm):
    """One of the one to three actions a team agrees on after discussing a wave's results."""

    scale_code = SelectField(
        _l("Which scale is it about?"),
        validators=[InputRequired(_l("Choose the scale the action is about."))],
    )
    kind = RadioField(
        _l("What kind of action?"),
        choices=[
            SelectChoice(ActionKind.KEEP.value, _l("Something we keep doing")),
            SelectChoice(ActionKind.TRY.value, _l("Something new we will try")),
        ],
        validators=[InputRequired(_l("Choose whether the team keeps doing this or tries it."))],
    )
    description = TextAreaField(
        _l("The action"),
        validators=[
            DataRequired(_l("Describe the action.")),
            Length(max=DESCRIPTION_LENGTH, message=_too_long),
        ],
        render_kw={"rows": 3, "maxlength": DESCRIPTION_LENGTH},
    )
    owner = StringField(
        _l("Who takes it up?"),
        validators=[
            DataRequired(_l("Say who takes it up: a role or a name.")),
            Length(max=OWNER_LENGTH, message=_too_long),
        ],
        render_kw={"maxlength": OWNER_LENGTH, "autocomplete": "off"},
    )
    review_on = DayField(
        _l("When do we look at it again?"),
        validators=[InputRequired(_l("Choose the day the team looks at it again."))],
    )

    def offer(self, scales: list[Scale], lang: str) -> None:
        """The wave's scales to choose from, after an empty first choice."""
        self.scale_code.choices = [SelectChoice("", _("Choose a scale"))] + [
            SelectChoice(scale.code, f"{scale.code} {localized(scale.title, lang)}")
            for scale in scales
        ]


STATUS_LABELS = {
    ActionStatus.PLANNED: _l("Planned"),
    ActionStatus.UNDER_WAY: _l("Under way"),
    ActionStatus.DONE: _l("Done"),
    ActionStatus.STOPPED: _l("Stopped"),
}


class ActionUpdateForm(_ActionForm):
    """How far the team got with an action. Several on one page: each has the prefix
    ``action-<id>``, so its fields' names and ids are its own."""

    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(status.value, label) for status, label in STATUS_LABELS.items()],
    )
    status_note = StringField(
        _l("A short note (optional)"),
        validators=[Length(max=NOTE_LENGTH, message=_too_long)],
        render_kw={"maxlength": NOTE_LENGTH, "autocomplete": "off"},
    )
    owner = StringField(
        _l("Who takes it up?"),
        validators=[Length(max=OWNER_LENGTH, message=_too_long)],
        render_kw={"maxlength": OWNER_LENGTH, "autocomplete": "off"},
    )
    review_on = DayField(_l("When do we look at it again?"))


def update_form(action_id: int, wave: Wave, **kwargs: Any) -> ActionUpdateForm:
    return ActionUpdateForm(prefix=f"action-{action_id}", wave=wave, **kwargs)
