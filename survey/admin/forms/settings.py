"""The settings form: anonymity, comments, the team-first period, languages, retention."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    InputRequired,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from survey.config import MIN_GROUP_SIZE_FLOOR
from survey.forms import MultiCheckboxField

#: The languages the platform has; the labels are each language's own name.
LANGUAGE_CHOICES = [SelectChoice("nl", "Nederlands"), SelectChoice("en", "English")]
MAX_GROUP_SIZE = 50
MAX_TEAM_FIRST_DAYS = 90
MAX_RETENTION_YEARS = 50


class WholeNumberField(IntegerField):
    """An integer field whose message for text that is no number is ours."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = int(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(_l("Fill in a whole number, e.g. 5.")) from None

    def pre_validate(self, form: FlaskForm) -> None:
        if self.process_errors:  # one message for text that is no number, not two
            raise StopValidation()


class LanguagesField(MultiCheckboxField):
    def pre_validate(self, form: FlaskForm) -> None:
        offered = {choice.value for choice in LANGUAGE_CHOICES}
        if not self.data:
            raise StopValidation(_l("Choose at least one language."))
        if any(value not in offered for value in self.data or []):
            raise ValidationError(_l("Choose Nederlands, English or both."))


def _range(low: int, high: int):
    return NumberRange(min=low, max=high, message=_l("Fill in a number from %(min)d to %(max)d."))


def _group_size_field(label: str, missing: str) -> WholeNumberField:
    """A number of answers, from the floor of the minimum group size up."""
    return WholeNumberField(
        label,
        validators=[InputRequired(missing), _range(MIN_GROUP_SIZE_FLOOR, MAX_GROUP_SIZE)],
        render_kw={"inputmode": "numeric", "min": MIN_GROUP_SIZE_FLOOR, "max": MAX_GROUP_SIZE},
    )


class SettingsForm(FlaskForm):
    min_group_size = _group_size_field(
        _l("Minimum group size"), _l("Fill in the minimum group size.")
    )
    spread_threshold = _group_size_field(
        _l("Answers needed for spread and agreement"),
        _l("Fill in the number of answers needed for spread and agreement."),
    )
    comments_enabled = BooleanField(_l("Show written comments"))
    team_first_days = WholeNumberField(
        _l("Team-first period, in days"),
        validators=[
            InputRequired(_l("Fill in the team-first period (0 for none).")),
            _range(0, MAX_TEAM_FIRST_DAYS),
        ],
        render_kw={"inputmode": "numeric", "min": 0, "max": MAX_TEAM_FIRST_DAYS},
    )
    languages = LanguagesField(
        _l("Languages offered"),
        choices=LANGUAGE_CHOICES,
    )
    retention_years = WholeNumberField(
        _l("Keep answers for, in years"),
        validators=[Optional(), _range(1, MAX_RETENTION_YEARS)],
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_RETENTION_YEARS},
    )

    def validate_spread_threshold(self, field: WholeNumberField) -> None:
        k = self.min_group_size.data
        if field.data is not None and isinstance(k, int) and field.data < k:
            raise ValidationError(
                _l(
                    "Spread needs at least as many answers as the minimum group size (%(k)d).",
                    k=k,
                )
            )

    def values(self) -> dict:
        """The form's values as ``save_settings`` takes them."""
        chosen = self.languages.data
        languages = [choice.value for choice in LANGUAGE_CHOICES if choice.value in chosen]
        return {
            "min_group_size": self.min_group_size.data,
            "spread_threshold": self.spread_threshold.data,
            "comments_enabled": bool(self.comments_enabled.data),
            "team_first_days": self.team_first_days.data,
            "languages": tuple(languages),
            "retention_years": self.retention_years.data,
        }
