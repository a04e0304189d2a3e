"""Forms of the staff list pages: import a file, confirm it, add or remove an address."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from survey.models.participation import EMAIL_LENGTH

LANGUAGE_CHOICES = [SelectChoice("nl", _l("Dutch")), SelectChoice("en", _l("English"))]


class StaffUploadForm(FlaskForm):
    file = FileField(
        _l("CSV or Excel file (.csv, .xlsx)"),
        validators=[FileRequired(_l("Choose a file to upload."))],
        render_kw={
            "accept": ".csv,.txt,.xlsx,text/csv,text/plain,"
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        },
    )
    replace = BooleanField(_l("Replace the lists of the teams in the file"))


class StaffConfirmForm(FlaskForm):
    """The checked rows travel back signed (``survey.admin.staff``) and are planned again."""

    plan = HiddenField(validators=[DataRequired()])
    file_name = HiddenField()


class StaffAddForm(FlaskForm):
    email = StringField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Fill in the address.")),
            Length(max=EMAIL_LENGTH, message=_l("Use at most %(max)d characters.")),
        ],
        render_kw={
            "maxlength": EMAIL_LENGTH,
            "autocomplete": "off",
            "spellcheck": "false",
            "type": "email",
        },
    )
    language = RadioField(
        _l("Language of the mails"),
        choices=LANGUAGE_CHOICES,
        validators=[InputRequired(_l("Choose a language."))],
    )


class StaffRemoveForm(FlaskForm):
    member = IntegerField(validators=[InputRequired()])
