"""Questionnaire instruments as data: the YAML format (see FORMAT.md), its loader and model.

Pure Python (PyYAML and the standard library): no Flask, no database.
"""

from questionnaires.item_types import (
    AGREEMENT_LABELS,
    DONT_KNOW_LABEL,
    FREQUENCY_LABELS,
    ITEM_TYPES,
    LIKERT_TYPES,
    AnswerKind,
    ItemType,
    LikertType,
)
from questionnaires.loader import load_file, load_text, validate_file
from questionnaires.model import Context, Group, Instrument, Item, Principle, Scale, Section
from questionnaires.problems import MAX_FILE_BYTES, Problem, QuestionnaireError
from questionnaires.text import KNOWN_LANGUAGES, GridEntry, Option, Text

__all__ = [
    "AGREEMENT_LABELS",
    "DONT_KNOW_LABEL",
    "FREQUENCY_LABELS",
    "ITEM_TYPES",
    "KNOWN_LANGUAGES",
    "LIKERT_TYPES",
    "MAX_FILE_BYTES",
    "AnswerKind",
    "Context",
    "GridEntry",
    "Group",
    "Instrument",
    "Item",
    "ItemType",
    "LikertType",
    "Option",
    "Principle",
    "Problem",
    "QuestionnaireError",
    "Scale",
    "Section",
    "Text",
    "load_file",
    "load_text",
    "validate_file",
]
