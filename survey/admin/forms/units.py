"""Forms of the units pages: create, rename, move, and import from a CSV file."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from survey.models import Unit, UnitKind
from survey.services.units import (
    MAX_STAFF,
    NAME_LENGTH,
    SLUG_LENGTH,
    UnitError,
    check_parent,
    check_slug,
    path_label,
)

KIND_CHOICES = [
    SelectChoice(UnitKind.ORGANISATION.value, _l("Organisation: the top of a tree")),
    SelectChoice(UnitKind.DEPARTMENT.value, _l("Department: groups teams or other departments")),
    SelectChoice(UnitKind.TEAM.value, _l("Team: the staff who answer together")),
]


def _name_field() -> StringField:
    return StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Fill in the name.")),
            Length(max=NAME_LENGTH, message=_l("Use at most %(max)d characters.")),
            Regexp(
                r"^[^\x00-\x1f\x7f]*$",
                message=_l("The name contains a character that cannot be stored, e.g. a tab."),
            ),
        ],
        render_kw={"maxlength": NAME_LENGTH, "autocomplete": "off"},
    )


class ParentField(SelectField):
    """A choice among ``parents`` (slug → unit), refused with a clear message otherwise."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, validate_choice=False, **kwargs)
        self.parents: dict[str, Unit] = {}

    def offer(self, parents: list[Unit], empty_label: str | None = None) -> None:
        self.parents = {unit.slug: unit for unit in parents}
        self.choices = ([SelectChoice("", empty_label)] if empty_label else []) + [
            SelectChoice(unit.slug, path_label(unit)) for unit in parents
        ]

    @property
    def unit(self) -> Unit | None:
        return self.parents.get(self.data or "")

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data and self.data not in self.parents:
            raise ValidationError(_l("Choose one of the units in the list."))


def _staff_field() -> IntegerField:
    return IntegerField(
        _l("Number of staff (teams only, optional)"),
        validators=[
            Optional(),
            NumberRange(
                min=1, max=MAX_STAFF, message=_l("Enter a number from %(min)d to %(max)d.")
            ),
        ],
        render_kw={"min": 1, "max": MAX_STAFF, "inputmode": "numeric"},
    )


class UnitCreateForm(FlaskForm):
    kind = RadioField(
        _l("Kind of unit"),
        choices=KIND_CHOICES,
        default=UnitKind.TEAM.value,
        validators=[InputRequired(_l("Choose the kind of unit."))],
    )
    parent = ParentField(_l("Part of"))
    name = _name_field()
    slug = StringField(
        _l("Short name for web addresses and imports (optional)"),
        validators=[
            Optional(),
            Length(max=SLUG_LENGTH, message=_l("Use at most %(max)d characters.")),
        ],
        render_kw={"maxlength": SLUG_LENGTH, "autocomplete": "off", "spellcheck": "false"},
        filters=[lambda value: value.strip().lower() if value else value],
    )

    staff = _staff_field()

    def validate_staff(self, field: IntegerField) -> None:
        if field.data is not None and self.kind.data != UnitKind.TEAM.value:
            raise ValidationError(_l("Only a team has a number of staff: leave this empty."))

    def validate_parent(self, field: ParentField) -> None:
        if self.kind.data not in {kind.value for kind in UnitKind}:
            return
        try:
            check_parent(UnitKind(self.kind.data), field.unit)
        except UnitError as error:
            raise ValidationError(str(error)) from None

    def validate_slug(self, field: StringField) -> None:
        if field.data:
            try:
                check_slug(field.data)
            except UnitError as error:
                raise ValidationError(str(error)) from None


class RenameForm(FlaskForm):
    name = _name_field()


class StaffForm(FlaskForm):
    staff = _staff_field()


class MoveForm(FlaskForm):
    parent = ParentField(_l("Move to"), validators=[DataRequired(_l("Choose where to move to."))])


class ImportUploadForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(_l("Choose a CSV file to upload."))],
        render_kw={"accept": ".csv,.txt,text/csv,text/plain"},
    )


class ImportConfirmForm(FlaskForm):
    """The checked file's text travels back with the confirmation and is checked again."""

    csv_text = HiddenField(validators=[DataRequired()])
    file_name = HiddenField()
