"""The audit log's filter: actor, action and date range (a GET form, so it can be bookmarked)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, Regexp, StopValidation, ValidationError

from survey.services.audit import AuditFilter

EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)


class DayField(DateField):
    """A date (YYYY-MM-DD, as a date input sends it) with our own message."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Fill in a date as year-month-day, e.g. 2026-03-31.")) from None

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data and not EARLIEST <= self.data <= LATEST:
            raise StopValidation(
                _l(
                    "Fill in a date from %(first)d to %(last)d.",
                    first=EARLIEST.year,
                    last=LATEST.year,
                )
            )


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    actor = SelectField(_l("Who"), choices=[], validate_choice=False)
    action = StringField(
        _l("Action starts with"),
        validators=[
            Optional(),
            Length(max=64, message=_l("Use at most %(max)d characters.")),
            Regexp(
                r"^[a-z0-9_.]+$",
                message=_l("Use lower-case letters, digits, dots and underscores, e.g. unit."),
            ),
        ],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    since = DayField(_l("From"), validators=[Optional()])
    until = DayField(_l("Until"), validators=[Optional()])

    def validate_actor(self, field: SelectField) -> None:
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("Choose someone from the list."))

    def validate_until(self, field: DayField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date is before the start date."))

    def audit_filter(self) -> AuditFilter:
        return AuditFilter(
            actor=self.actor.data or None,
            action=self.action.data or None,
            since=self.since.data,
            until=self.until.data,
        )
