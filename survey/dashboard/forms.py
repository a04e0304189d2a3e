from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from survey.models import ActionKind

ACTION_LENGTH = 500


class ActionForm(FlaskForm):
    """One of the 1–3 actions a team agrees on after discussing a wave's results."""

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
            Length(max=ACTION_LENGTH, message=_l("Use at most %(max)d characters.")),
        ],
        render_kw={"rows": 3, "maxlength": ACTION_LENGTH},
    )
