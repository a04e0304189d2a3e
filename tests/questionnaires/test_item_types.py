from pathlib import Path

import pytest

from questionnaires import (
    AGREEMENT_LABELS,
    DONT_KNOW_LABEL,
    FREQUENCY_LABELS,
    ITEM_TYPES,
    LIKERT_TYPES,
    AnswerKind,
    Text,
    load_file,
)
from questionnaires.item_types import TYPE_KEYS

MINI = Path(__file__).parent / "files" / "mini.yaml"


@pytest.fixture(scope="module")
def items():
    return {item.code: item for item in load_file(MINI).all_items()}


def test_the_registry():
    assert sorted(ITEM_TYPES) == ["agreement5", "frequency5", "grid", "single_choice", "text"]
    assert LIKERT_TYPES == ("agreement5", "frequency5")
    assert all(name == item_type.name for name, item_type in ITEM_TYPES.items())
    with pytest.raises(TypeError):
        ITEM_TYPES["slider"] = ITEM_TYPES["text"]


def test_type_keys_name_the_types_that_take_them():
    assert dict(TYPE_KEYS) == {
        "background": ("single_choice",),
        "columns": ("grid",),
        "dont_know": ("agreement5", "frequency5"),
        "max_length": ("text",),
        "options": ("single_choice",),
        "reverse": ("agreement5", "frequency5"),
        "rows": ("grid",),
    }


def test_answer_kinds_are_plain_strings():
    assert [kind.value for kind in AnswerKind] == ["value", "dont_know", "cell", "text"]
    assert AnswerKind.DONT_KNOW == "dont_know"
    assert {name: set(t.answer_kinds) for name, t in ITEM_TYPES.items()} == {
        "frequency5": {"value", "dont_know"},
        "agreement5": {"value", "dont_know"},
        "single_choice": {"value"},
        "grid": {"cell"},
        "text": {"text"},
    }


def test_likert_labels():
    frequency, agreement = ITEM_TYPES["frequency5"], ITEM_TYPES["agreement5"]
    assert [label["nl"] for label in frequency.labels] == [
        "nooit",
        "zelden",
        "soms",
        "vaak",
        "(bijna) altijd",
    ]
    assert [label["en"] for label in agreement.labels] == [
        "strongly disagree",
        "disagree",
        "neither agree nor disagree",
        "agree",
        "strongly agree",
    ]
    assert frequency.labels == FREQUENCY_LABELS
    assert agreement.labels == AGREEMENT_LABELS
    assert frequency.label(5) == {"nl": "(bijna) altijd", "en": "(almost) always"}
    assert DONT_KNOW_LABEL == {"nl": "weet ik niet / n.v.t.", "en": "don't know / not applicable"}


@pytest.mark.parametrize(
    ("code", "kinds"),
    [
        ("A1.1", {AnswerKind.VALUE, AnswerKind.DONT_KNOW}),
        ("C1.2", {AnswerKind.VALUE}),  # a Likert item without "don't know"
        ("BG1", {AnswerKind.VALUE}),
        ("C4", {AnswerKind.CELL}),
        ("O1", {AnswerKind.TEXT}),
    ],
)
def test_the_kinds_of_answer_an_item_stores(items, code, kinds):
    assert items[code].answer_kinds == kinds


def test_a_text_item_keeps_its_maximum_length(items):
    assert items["O1"].max_length == 500


def test_text_is_an_immutable_hashable_mapping():
    text = Text(nl="Ja", en="Yes")
    assert text == {"nl": "Ja", "en": "Yes"} == Text({"en": "Yes", "nl": "Ja"})
    assert hash(text) == hash(Text({"en": "Yes", "nl": "Ja"}))
    assert text.in_language("en") == "Yes"
    assert text.in_language("fr") == "Ja"
    with pytest.raises(AttributeError):
        text._translations = {}
