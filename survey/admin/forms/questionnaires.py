"""Forms of the questionnaire pages: upload a file, choose the life domains asked."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectMultipleField


class UploadForm(FlaskForm):
    file = FileField(
        _l("Questionnaire file"),
        validators=[FileRequired(_l("Choose a questionnaire file (.yaml or .toml) to upload."))],
        render_kw={"accept": ".yaml,.yml,.toml"},
    )


class LifeDomainsForm(FlaskForm):
    #: Unknown codes are ignored by the service, so the field does not check its choices.
    domains = SelectMultipleField(_l("Life domains"), choices=[], validate_choice=False)
