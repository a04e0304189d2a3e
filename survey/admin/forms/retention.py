"""The retention page's confirmation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired


class ApplyRetentionForm(FlaskForm):
    understood = BooleanField(
        _l("I understand this cannot be undone"),
        validators=[
            DataRequired(
                _l("Tick the box to confirm that you understand the deletion cannot be undone.")
            )
        ],
    )
    #: The waves the administrator saw, so that a plan that changed meanwhile is not applied.
    waves = HiddenField()
