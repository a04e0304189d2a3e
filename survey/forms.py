"""Forms shared by several blueprints.

- ``PlainForm``, a form with only its CSRF token, ``MultiCheckboxField``, a list of
  checkboxes, and ``DayField``, a date: the building blocks every blueprint's ``forms.py`` uses.
- The section forms built from an instrument: one page per section, one field per item. The
  respondent's pages ask them (``survey.respond``); the administration previews them.
  ``FIELD_BUILDERS`` is the web side of the item type registry: for each type, the form field
  that asks it and how the field's data becomes a stored answer (and back, to show a saved
  answer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    DateField,
    Field,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from questionnaires import DONT_KNOW_LABEL, Item, Section
from questionnaires.paging import Page
from survey.caching import KeptPerObject
from survey.i18n import localized


class PlainForm(FlaskForm):
    """A form with only its CSRF token, for a button: submit, discard, pause, archive, restore."""


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DayField(DateField):
    """An ``<input type=date>`` read as an ISO date (what browsers send), with a clear message;
    an empty field is left to the required validator."""

    def process_formdata(self, valuelist: list[str]) -> None:
        text = " ".join(valuelist).strip() if valuelist else ""
        self.data = None
        if not text:
            return
        try:
            self.data = date.fromisoformat(text)
        except ValueError:
            raise ValueError(_("Enter a date as year-month-day, for example 2026-03-31.")) from None
        if not 2000 <= self.data.year <= 2999:
            self.data = None
            raise ValueError(_("Enter a date as year-month-day, for example 2026-03-31."))


# --- The section forms of an instrument -----------------------------------------------------------

DONT_KNOW = "dk"
ACTIONS = {"next", "previous", "pause", "review", "lang-nl", "lang-en"}


def field_name(item: Item) -> str:
    """A form field name (and HTML id) for an item: ``A1.2`` → ``item-A1-2``."""
    return "item-" + item.code.replace(".", "-")


@dataclass(frozen=True)
class FieldBuilder:
    make: Callable[[Item, str], Field]
    #: field data → the stored answer, or None when unanswered
    to_answer: Callable[[Item, Any], dict[str, Any] | None]
    #: the stored answer → field data
    to_data: Callable[[Item, dict[str, Any]], Any]


def _required(item: Item, message: Any) -> list:
    return [InputRequired(message)] if item.required else [Optional()]


def _choice_field(item: Item, lang: str) -> Field:
    choices = [
        SelectChoice(str(value), localized(label, lang))
        for value, label in item.item_type.choices(item)
    ]
    if item.dont_know:
        choices.append(SelectChoice(DONT_KNOW, localized(DONT_KNOW_LABEL, lang)))
    return RadioField(
        localized(item.text, lang),
        choices=choices,
        validators=_required(item, _l("Choose an answer to this question.")),
    )


def _choice_answer(item: Item, data: Any) -> dict[str, Any] | None:
    # An optional item lets blank input through validation (wtforms' Optional stops the chain
    # before the choice check), so whitespace arrives here: it means no answer.
    data = data.strip() if isinstance(data, str) else data
    if data in (None, ""):
        return None
    if data == DONT_KNOW:
        return {"dont_know": True}
    return {"value": int(data)}


def _choice_data(item: Item, answer: dict[str, Any]) -> Any:
    return DONT_KNOW if answer.get("dont_know") else str(answer.get("value", ""))


def _grid_field(item: Item, lang: str) -> Field:
    choices = [
        SelectChoice(f"{row.code}:{column.code}", localized(column.label, lang))
        for row in item.rows
        for column in item.columns
    ]
    return MultiCheckboxField(
        localized(item.text, lang),
        choices=choices,
        validators=[InputRequired(_l("Tick at least one box."))] if item.required else [],
    )


def _grid_answer(item: Item, data: Any) -> dict[str, Any] | None:
    # A cell posted twice (never by a browser) is ticked once.
    cells = [value.split(":", 1) for value in dict.fromkeys(data or [])]
    return {"cells": cells} if cells else None


def _grid_data(item: Item, answer: dict[str, Any]) -> Any:
    return [f"{row}:{column}" for row, column in answer.get("cells", [])]


def _text_field(item: Item, lang: str) -> Field:
    too_long = _l("Please keep this answer to %(max)d characters.", max=item.max_length)
    return TextAreaField(
        localized(item.text, lang),
        validators=[
            *_required(item, _l("Write an answer to this question.")),
            Length(max=item.max_length, message=too_long),
        ],
        render_kw={"maxlength": item.max_length, "rows": 4},
    )


def _text_answer(item: Item, data: Any) -> dict[str, Any] | None:
    text = (data or "").strip()
    return {"text": text} if text else None


FIELD_BUILDERS: dict[str, FieldBuilder] = {
    "frequency5": FieldBuilder(_choice_field, _choice_answer, _choice_data),
    "agreement5": FieldBuilder(_choice_field, _choice_answer, _choice_data),
    "single_choice": FieldBuilder(_choice_field, _choice_answer, _choice_data),
    "grid": FieldBuilder(_grid_field, _grid_answer, _grid_data),
    "text": FieldBuilder(_text_field, _text_answer, lambda item, answer: answer.get("text", "")),
}


class SectionForm(FlaskForm):
    """Filled in by ``section_form``; ``action`` is the button pressed."""

    #: A label of its own, so WTForms does not look up a default one (it loads its translations
    #: catalogue from disk once per form for that).
    action = StringField("", default="next")

    def validate_action(self, field: Field) -> None:
        if field.data not in ACTIONS:
            raise ValidationError(_l("Unknown action."))


#: Form classes per section and language. Building the class (a field per item, with its
#: choices and labels) cost as much as the rest of the form's work on every page.
_FORM_CLASSES: KeptPerObject[Section | Page, type[SectionForm]] = KeptPerObject(128)


def _form_class(section: Section | Page, lang: str) -> type[SectionForm]:
    return _FORM_CLASSES.get(section, lang, lambda: _build_form_class(section, lang))


def _build_form_class(section: Section | Page, lang: str) -> type[SectionForm]:
    class Form(SectionForm):
        pass

    for item in section.all_items():
        setattr(Form, field_name(item), FIELD_BUILDERS[item.type].make(item, lang))
    return Form


def section_form(
    section: Section | Page, lang: str, saved: dict[str, dict[str, Any]], **kwargs
) -> SectionForm:
    """The form of one section or page, prefilled with the answers saved so far."""
    data = {
        field_name(item): FIELD_BUILDERS[item.type].to_data(item, saved[item.code])
        for item in section.all_items()
        if item.code in saved
    }
    return _form_class(section, lang)(data=data, **kwargs)


def duplicated_fields(section: Section | Page, formdata: MultiDict) -> list[str]:
    """The single-value fields of the section's page (a choice, a text, the button pressed)
    posted more than once: a browser never sends that, and which value was meant is unknown,
    so the post is refused (400). A grid's cells are many values: a repeated one counts once."""
    single = ["action"] + [
        field_name(item) for item in section.all_items() if item.type in SINGLE_VALUE_TYPES
    ]
    return [name for name in single if len(formdata.getlist(name)) > 1]


#: Item types whose field takes one value.
SINGLE_VALUE_TYPES = frozenset(
    name for name in FIELD_BUILDERS if FIELD_BUILDERS[name].make is not _grid_field
)


def answers_from(form: SectionForm, section: Section | Page) -> dict[str, dict[str, Any]]:
    """The answers of the valid fields of ``form`` (invalid ones are left out)."""
    answers = {}
    for item in section.all_items():
        field = form[field_name(item)]
        if field.errors:
            continue
        answer = FIELD_BUILDERS[item.type].to_answer(item, field.data)
        if answer is not None:
            answers[item.code] = answer
    return answers
