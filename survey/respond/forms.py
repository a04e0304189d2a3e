"""The respondent's own forms: an access code, a resume code, and the landing page's start.

The section forms they answer are built from the instrument in ``survey.forms``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, InputRequired, Length


class CodeForm(FlaskForm):
    code = StringField(
        _l("Access code"),
        validators=[InputRequired(_l("Type the code from your slip.")), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class ResumeForm(FlaskForm):
    code = StringField(
        _l("Resume code"),
        validators=[InputRequired(_l("Type the resume code you wrote down.")), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class StartForm(FlaskForm):
    """The landing page's form: begin, or, with answers in progress in this browser, start
    again (``restart``: the earlier answers are discarded)."""

    restart = BooleanField("")


class ColleagueStartForm(StartForm):
    """Begin in a browser that has answered already: only as a deliberate step."""

    colleague = BooleanField(
        _l(
            "I am a colleague using the same device, and I have not answered this questionnaire yet"
        ),
        validators=[DataRequired(_l("Tick the box to confirm that you have not answered yet."))],
    )
