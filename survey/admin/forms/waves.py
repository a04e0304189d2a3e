"""Forms of the wave pages: a new wave, its edit, open, extend and close forms, access codes."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from survey.forms import DayField
from survey.models import Wave, WaveTeam
from survey.services import waves as wave_service
from survey.services.codes import MAX_CODES_PER_BATCH
from survey.services.invitations import parse_reminder_days

#: The most staff a team can be expected to have; a larger number is a typing error.
MAX_INVITED = 10_000


def _closes_after_opening(form: FlaskForm, field: DayField) -> None:
    opens_on = form.opens_on.data
    if opens_on and field.data and field.data < opens_on:
        raise ValidationError(_("The closing date cannot be before the opening date."))


class ReminderDaysField(StringField):
    """Whole days after opening, separated by commas ("7, 12"): a sorted list, [] when empty."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        text = valuelist[0][:40]
        self.raw_text = text
        try:
            self.data = parse_reminder_days(text)
        except ValueError as error:
            self.data = []
            raise ValueError(str(error)) from None

    def _value(self) -> str:
        if getattr(self, "raw_text", None) is not None and self.errors:
            return self.raw_text
        return ", ".join(str(day) for day in self.data or [])


NAME_LENGTH = 200
_name_validators = [
    DataRequired(_l("Give the wave a name.")),
    Length(max=NAME_LENGTH, message=_l("Use at most %(max)d characters.")),
]


class WaveEditForm(FlaskForm):
    """What may change in a wave; fields its status does not allow are removed (``wave_edit_form``),
    and a field ``invited_<wave team id>`` (the team's expected staff) is added per team while
    the wave is a draft or open."""

    name = StringField(
        _l("Name"), validators=_name_validators, render_kw={"maxlength": NAME_LENGTH}
    )
    opens_on = DayField(
        _l("Opens on"), validators=[InputRequired(_l("Enter the day the wave opens."))]
    )
    closes_on = DayField(
        _l("Closes on"),
        validators=[InputRequired(_l("Enter the day the wave closes.")), _closes_after_opening],
    )
    codes_only = BooleanField(_l("Access codes only: the team links do not let anyone in"))
    invitations = BooleanField(
        _l("Personal invitations by e-mail: the team links do not let anyone in")
    )
    reminder_days = ReminderDaysField(
        _l("Reminders, days after opening"), render_kw={"inputmode": "numeric", "maxlength": 40}
    )
    last_day_reminder = BooleanField(_l("A last reminder on the wave's last day"))


def optional_str(value: object) -> str | None:
    """A select whose empty option means "none" (the standard wording): None, else the text."""
    return None if value in ("", None) else str(value)


def optional_int(value: object) -> int | None:
    """A select's empty placeholder option is no choice (None), not a failed conversion."""
    return None if value in ("", None) else int(value)


class WaveForm(WaveEditForm):
    """A new wave: what an edit may change, plus the questionnaire version and the units
    (their choices come from the database)."""

    version = SelectField(
        _l("Questionnaire version"),
        coerce=optional_int,
        validators=[InputRequired(_l("Choose a questionnaire version."))],
    )
    #: The contexts of every version; the service checks the one chosen against the version.
    context = SelectField(_l("Wording"), coerce=optional_str, validate_choice=False)
    units = SelectMultipleField(
        _l("Units that take part"),
        coerce=int,
        validators=[DataRequired(_l("Choose at least one unit."))],
    )


class ExtendForm(FlaskForm):
    closes_on = DayField(
        _l("New closing date"),
        validators=[InputRequired(_l("Enter the new closing date."))],
    )


class OpenForm(FlaskForm):
    confirm = BooleanField(
        _l("Yes, open this wave: its dates and how staff answer then stay as announced."),
        validators=[DataRequired(_l("Tick the box to confirm that the wave opens."))],
    )


class CloseForm(FlaskForm):
    confirm = BooleanField(
        _l("Yes, close this wave now: nobody can answer it any more."),
        validators=[DataRequired(_l("Tick the box to confirm that the wave closes now."))],
    )


class CodesForm(FlaskForm):
    """Access codes for one team; ``team`` gets the wave's teams as choices."""

    team = SelectField(_l("Team"), validators=[InputRequired(_l("Choose a team."))])
    count = IntegerField(
        _l("Number of codes"),
        validators=[
            InputRequired(_l("Enter how many codes to issue.")),
            NumberRange(
                min=1,
                max=MAX_CODES_PER_BATCH,
                message=_l("Enter a number from %(min)d to %(max)d."),
            ),
        ],
        render_kw={"min": 1, "max": MAX_CODES_PER_BATCH, "inputmode": "numeric"},
    )
    output = RadioField(
        _l("As"),
        choices=[
            SelectChoice("pdf", _l("Slips to print and cut out (PDF, ten a page)")),
            SelectChoice("csv", _l("A list (CSV), e.g. to mail merge")),
        ],
        default="pdf",
        validators=[InputRequired(_l("Choose how you want the codes."))],
    )


def wave_edit_form(wave: Wave, teams: list[WaveTeam], bound: bool) -> WaveEditForm:
    """The edit form for the fields the wave's status allows, with a field per team for its
    expected staff and, while a draft whose version declares contexts, the wording to ask in;
    ``bound`` reads the posted form, else it shows the stored values."""

    class EditForm(WaveEditForm):
        pass

    editable = wave_service.editable_fields(wave)
    for wave_team in teams if "invited" in editable else []:
        field = IntegerField(
            wave_team.unit.name,
            validators=[
                Optional(),
                NumberRange(
                    min=1, max=MAX_INVITED, message=_l("Enter a number from %(min)d to %(max)d.")
                ),
            ],
            render_kw={"min": 1, "inputmode": "numeric"},
        )
        setattr(EditForm, f"invited_{wave_team.id}", field)
    contexts = wave_service.context_choices(wave.questionnaire_version, str(get_locale()))
    if contexts and "context" in editable:
        EditForm.context = SelectField(  # type: ignore[attr-defined]
            _l("Wording"),
            coerce=optional_str,
            choices=[
                SelectChoice("", _("Standard")),
                *(SelectChoice(code, title) for code, title in contexts),
            ],
            # Checked against the version's contexts by the service, with a clearer message.
            validate_choice=False,
        )
    invited = {f"invited_{wave_team.id}": wave_team.invited for wave_team in teams}
    invited = invited if "invited" in editable else {}
    kwargs: dict[str, Any] = {} if bound else {"formdata": None}
    form = EditForm(prefix="edit", obj=wave, data=invited, **kwargs)
    for name in ("opens_on", "closes_on", "codes_only", *wave_service.INVITATION_FIELDS):
        if name not in editable:
            delattr(form, name)
    return form
