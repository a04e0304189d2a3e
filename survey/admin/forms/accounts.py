"""Forms of the accounts pages: invite someone, change their role and the units they see."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, ValidationError

from survey.models import Role

ROLE_CHOICES = [
    SelectChoice(Role.MANAGER.value, _l("Manager")),
    SelectChoice(Role.QUALITY.value, _l("Quality officer")),
    SelectChoice(Role.ADMIN.value, _l("Administrator")),
]

#: The largest id a database integer column holds (PostgreSQL's INTEGER; SQLite refuses
#: anything past 64 bits with an OverflowError, which would be a 500).
MAX_ID = 2**31 - 1


def database_id(value: object) -> int:
    """A posted unit id as an int, refused (a form error) when no row could have it."""
    number = int(value)  # type: ignore[call-overload]
    if not 1 <= number <= MAX_ID:
        raise ValueError("not an id")
    return number


class AccessForm(FlaskForm):
    role = RadioField(
        _l("Role"), choices=ROLE_CHOICES, validators=[InputRequired(_l("Choose a role."))]
    )
    units = SelectMultipleField(
        _l("Units this manager sees"), coerce=database_id, validate_choice=False
    )

    def validate_units(self, field: SelectMultipleField) -> None:
        if self.role.data == Role.MANAGER.value and not field.data:
            raise ValidationError(_l("Choose at least one unit that this manager sees."))


class InviteForm(AccessForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Fill in the e-mail address.")),
            Length(max=254, message=_l("An e-mail address has at most 254 characters.")),
            Email(
                _l("Fill in an e-mail address such as name@example.org."), granular_message=False
            ),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
