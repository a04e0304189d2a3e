import hashlib
import json
import re
from pathlib import Path

import pytest

from questionnaires import (
    DONT_KNOW_LABEL,
    ITEM_TYPES,
    MAX_FILE_BYTES,
    Instrument,
    Problem,
    QuestionnaireError,
    Text,
    load_file,
    load_text,
    validate_file,
)

FILES = Path(__file__).parent / "files"
MINI = FILES / "mini.yaml"
MINI_TEXT = MINI.read_text(encoding="utf-8")
FORMAT_MD = Path(__file__).parents[2] / "questionnaires" / "FORMAT.md"

#: Broken cases mark the line a problem must point at with this YAML comment.
HERE = "# <-"
#: ... and a line the message mentions with this one, filled in for "{first}".
FIRST = "# first"


@pytest.fixture(scope="module")
def mini() -> Instrument:
    return load_file(MINI)


def edited(*edits: tuple[str, str]) -> str:
    text = MINI_TEXT
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} is not unique in mini.yaml"
        text = text.replace(old, new)
    return text


def line_of(text: str, marker: str) -> int:
    return text[: text.index(marker)].count("\n") + 1


def problems_in(text: str) -> list[Problem]:
    with pytest.raises(QuestionnaireError) as raised:
        load_text(text, "mini.yaml")
    return raised.value.problems


# The valid mini-instrument


def test_instrument_header(mini):
    assert mini.id == "mini-krachtspiegel"
    assert mini.version == "2"
    assert mini.languages == ("nl", "en")
    assert mini.default_language == "nl"
    assert mini.title == {"nl": "Mini-Krachtspiegel", "en": "Mini Strengths Mirror"}
    assert mini.introduction["en"] == (
        "A team self-evaluation, not a fidelity audit.\nThere are no right or wrong answers.\n"
    )


def test_sections_scales_groups_and_items_in_order(mini):
    assert [section.code for section in mini.sections] == ["A", "B"]
    assert [scale.code for scale in mini.scales()] == ["A1", "B1"]
    assert [scale.item_type for scale in mini.scales()] == ["frequency5", "agreement5"]
    assert [group.code for group in mini.groups()] == ["C1"]
    assert [(item.code, item.section, item.scale, item.group) for item in mini.all_items()] == [
        ("A1.1", "A", "A1", None),
        ("A1.2", "A", "A1", None),
        ("A1.3", "A", "A1", None),
        ("C1.1", "A", None, "C1"),
        ("C1.2", "A", None, "C1"),
        ("B1.1", "B", "B1", None),
        ("B1.2", "B", "B1", None),
        ("B1.3", "B", "B1", None),
        ("B1.4", "B", "B1", None),
        ("C4", "B", None, None),
        ("O1", "B", None, None),
        ("O2", "B", None, None),
        ("BG1", "B", None, None),
    ]
    assert mini.sections[0].description["nl"] == "Hoe vaak doen wij dit als team?"
    assert mini.scales()[1].description["en"] == "Mistakes and doubts can be raised."


def test_likert_items_and_their_defaults(mini):
    first = mini.item("A1.1")
    assert first.type == "frequency5"
    assert first.text["nl"] == "Wij vragen cliënten wat er goed gaat in hun leven."
    assert first.hint == {"nl": "Denk aan de voorbije maand.", "en": "Think of the past month."}
    assert (first.dont_know, first.reverse, first.required, first.optional) == (
        True,
        False,
        False,
        False,
    )
    assert mini.item("A1.2").required
    assert mini.item("A1.3").reverse
    assert not mini.item("C1.2").dont_know
    assert mini.item("C1.2").optional


def test_grid_text_and_single_choice_items(mini):
    grid = mini.item("C4")
    assert [row.code for row in grid.rows] == ["aspirations", "resources"]
    assert [column.code for column in grid.columns] == ["living", "work", "health"]
    assert grid.columns[1].label == {"nl": "Werk en dagbesteding", "en": "Work and day activities"}
    assert mini.item("O1").max_length == 500
    assert mini.item("O2").max_length == 2000
    choice = mini.item("BG1")
    assert choice.background
    assert [(option.code, option.label["en"]) for option in choice.options] == [
        (1, "Support worker"),
        (2, "Team coach"),
        (9, "Other role"),
    ]


@pytest.mark.parametrize(
    ("code", "kinds"),
    [
        ("A1.1", {"value", "dont_know"}),
        ("C1.2", {"value"}),
        ("B1.1", {"value", "dont_know"}),
        ("C4", {"cell"}),
        ("O1", {"text"}),
        ("BG1", {"value"}),
    ],
)
def test_answer_kinds(mini, code, kinds):
    assert mini.item(code).answer_kinds == kinds


def test_valid_values_and_labels(mini):
    assert mini.item("A1.1").valid_values == {1, 2, 3, 4, 5}
    assert mini.item("BG1").valid_values == {1, 2, 9}
    assert mini.item("O1").valid_values == frozenset()
    assert ITEM_TYPES["grid"].valid_cells(mini.item("C4")) == {
        (row, column)
        for row in ("aspirations", "resources")
        for column in ("living", "work", "health")
    }
    agreement = mini.item("B1.1").item_type
    assert agreement.choices(mini.item("B1.1"))[2] == (
        3,
        {"nl": "niet eens, niet oneens", "en": "neither agree nor disagree"},
    )
    assert agreement.dont_know_label == DONT_KNOW_LABEL
    assert ITEM_TYPES["single_choice"].choices(mini.item("BG1"))[0] == (
        1,
        Text(nl="Begeleider", en="Support worker"),
    )


def test_reflection_questions_and_figures_are_read_and_round_trip():
    text = edited(
        (
            "        title: {nl: Focus op krachten, en: Strengths focus}\n",
            "        title: {nl: Focus op krachten, en: Strengths focus}\n"
            "        reflect: {nl: 'Wat werkt?', en: 'What works?'}\n",
        )
    )
    instrument = load_text(text, "mini.yaml")
    a1 = instrument.scales()[0]
    assert a1.reflect == Text(nl="Wat werkt?", en="What works?")
    assert instrument.groups()[0].reflect is None and instrument.groups()[0].figure is None
    again = Instrument.from_dict(json.loads(json.dumps(instrument.to_dict())))
    assert again.scales()[0].reflect == a1.reflect


def test_the_team_instrument_draws_the_strength_sources_as_the_model():
    team = load_file(MINI.parents[2].parent / "questionnaires" / "krachtspiegel-team-1.yaml")
    [sources] = [group for group in team.groups() if group.figure == "strength_sources"]
    assert sources.code == "C1" and len(sources.items) == 6
    assert all(scale.reflect for scale in team.scales())


def test_to_dict_is_json_and_round_trips(mini):
    stored = json.loads(json.dumps(mini.to_dict()))
    assert Instrument.from_dict(stored) == mini
    assert stored["sections"][1]["items"][3]["options"][2] == {
        "code": 9,
        "label": {"nl": "Andere rol", "en": "Other role"},
    }


def test_from_dict_refuses_a_tampered_content(mini):
    stored = mini.to_dict() | {"content": mini.content + "\n"}
    with pytest.raises(ValueError, match="sha256 does not match"):
        Instrument.from_dict(stored)


def test_content_and_sha256(mini):
    assert mini.content == MINI_TEXT
    assert mini.sha256 == hashlib.sha256(MINI.read_bytes()).hexdigest()
    assert load_text(MINI_TEXT, "elsewhere.yaml") == mini


def test_item_lookup(mini):
    assert mini.item("O2").code == "O2"
    with pytest.raises(KeyError, match="no item 'A9'"):
        mini.item("A9")


def test_validate_file_of_a_valid_file_is_empty():
    assert validate_file(MINI) == []


def test_the_format_example_is_valid():
    blocks = re.findall(r"```yaml\n(.*?)```", FORMAT_MD.read_text(encoding="utf-8"), re.DOTALL)
    [example] = [block for block in blocks if block.startswith("instrument:")]
    instrument = load_text(example, "FORMAT.md")
    assert {item.type for item in instrument.all_items()} == set(ITEM_TYPES)


# Broken files: each case edits mini.yaml; the problem must point at the line marked HERE.


def before(anchor: str, new: str) -> tuple[str, str]:
    return anchor, new + anchor


def scale_a2(size: int) -> str:
    items = "".join(
        f"          - {{code: A2.{n}, type: frequency5, text: {{nl: Vraag, en: Question}}}}\n"
        for n in range(1, size + 1)
    )
    return f"      - code: A2 {HERE}\n        title: {{nl: Twee, en: Two}}\n        items:\n{items}"


def grid_c5(rows: str, columns: str, mark: str = "") -> str:
    return (
        f"      - code: C5 {mark}\n        type: grid\n        text: {{nl: Rooster, en: Grid}}\n"
        f"{rows}{columns}"
    )


ENTRY = "[{code: x, label: {nl: X, en: X}}]"
GROUPS_A = "    groups:\n      - code: C1\n"
ITEMS_B = "      - code: O1\n"
ROLE_OPTIONS = (
    "          - {code: 1, label: {nl: Begeleider, en: Support worker}}\n"
    "          - {code: 2, label: {nl: Teamcoach, en: Team coach}}\n"
    "          - {code: 9, label: {nl: Andere rol, en: Other role}}\n"
)
ASPIRATIONS = "{nl: Wensen en dromen, en: Aspirations}"
C1_1_TEXT = f"text: {ASPIRATIONS}"

BROKEN = {
    "not valid YAML": (
        [
            (
                "    title: {nl: Onze praktijk, en: Our practice}\n",
                f"    title: {{nl: Onze praktijk, en: Our practice {FIRST}\n",
            ),
            ("    description:\n      nl: Hoe", f"    description: {HERE}\n      nl: Hoe"),
        ],
        "",
        "not valid YAML: while parsing a flow mapping on line {first}, "
        "expected ',' or '}', but got '<scalar>'",
    ),
    "YAML anchor": (
        [("  - code: A\n", f"  - &practice {HERE}\n    code: A\n")],
        "",
        "YAML anchors and aliases (&name, *name) are not allowed: write the content out in full",
    ),
    "YAML alias": (
        [
            (
                "    title: {nl: Onze organisatie, en: Our organisation}",
                f"    title: *organisation {HERE}",
            )
        ],
        "",
        "YAML anchors and aliases (&name, *name) are not allowed: write the content out in full",
    ),
    "unknown top-level key": (
        [("introduction:\n", f"introductoin: {HERE}\n")],
        "",
        "unknown key 'introductoin' (did you mean 'introduction'?)",
    ),
    "unknown key with suggestion": (
        [("            hint: {nl: Denk", f"            hnit: {HERE}\n              {{nl: Denk")],
        "item A1.1",
        "unknown key 'hnit' (did you mean 'hint'?)",
    ),
    "unknown key without suggestion": (
        [before("        max_length: 500\n", f"        weight: 3 {HERE}\n")],
        "item O1",
        "unknown key 'weight' (allowed: code, hint, max_length, optional, required, text, type)",
    ),
    "missing required key": (
        [
            ("  - code: B\n", f"  - code: B {HERE}\n"),
            ("    title: {nl: Onze organisatie, en: Our organisation}\n", ""),
        ],
        "section B",
        "missing required key 'title'",
    ),
    "list where a mapping belongs": (
        [
            (
                "    title: {nl: Onze praktijk, en: Our practice}",
                f"    title: [Onze praktijk, Our practice] {HERE}",
            )
        ],
        "section A, title",
        "expected a mapping (key: value lines), got a list",
    ),
    "mapping where a list belongs": (
        [("languages: [nl, en]", f"languages: {{nl: Nederlands, en: English}} {HERE}")],
        "languages",
        "expected a list (lines starting with '- '), got a mapping",
    ),
    "item that is not a mapping": (
        [before(ITEMS_B, f"      - Wat gaat goed? {HERE}\n")],
        "sections[1].items[1]",
        "expected a mapping (key: value lines), got a string",
    ),
    "yes where a text belongs": (
        [(C1_1_TEXT, f"text: {{nl: Wensen en dromen, en: yes}} {HERE}")],
        "item C1.1, text.en",
        'expected a string, got a yes/no value: put it in quotes, "yes"',
    ),
    "single string where a text per language belongs": (
        [(C1_1_TEXT, f"text: Wensen en dromen {HERE}")],
        "item C1.1, text",
        "expected a text per language ({nl: ..., en: ...}), got a single string",
    ),
    "flag that is not true or false": (
        [("            required: true", f"            required: 1 {HERE}")],
        "item A1.2, required",
        "expected true or false, got a whole number",
    ),
    "duplicate key": (
        [
            (
                f"            {C1_1_TEXT}",
                f"            {C1_1_TEXT} {FIRST}\n"
                f"            text: {{nl: Dromen, en: Dreams}} {HERE}",
            )
        ],
        "item C1.1",
        "duplicate key 'text' (first at line {first}); YAML would silently keep only the last one",
    ),
    "unknown item type": (
        [
            (
                "            type: agreement5\n            text: {nl: Wij leren",
                f"            type: frequency7 {HERE}\n            text: {{nl: Wij leren",
            )
        ],
        "item B1.2",
        "unknown item type 'frequency7' (known: agreement5, frequency5, grid, single_choice, text)",
    ),
    "duplicate item code": (
        [
            ("          - code: A1.2\n", f"          - code: A1.2 {FIRST}\n"),
            ("          - code: B1.4\n", f"          - code: A1.2 {HERE}\n"),
        ],
        "item A1.2",
        "duplicate code 'A1.2': also used by the item on line {first}",
    ),
    "group code taken by a scale": (
        [
            ("      - code: A1\n", f"      - code: A1 {FIRST}\n"),
            ("      - code: C1\n", f"      - code: A1 {HERE}\n"),
        ],
        "group A1",
        "duplicate code 'A1': also used by the scale on line {first}",
    ),
    "item code taken by a section": (
        [
            ("  - code: B\n", f"  - code: B {FIRST}\n"),
            ("      - code: O2\n", f"      - code: B {HERE}\n"),
        ],
        "item B",
        "duplicate code 'B': also used by the section on line {first}",
    ),
    "code starting with a digit": (
        [("      - code: O2\n", f"      - code: 2nd {HERE}\n")],
        "sections[1].items[2]",
        "bad code '2nd': a code starts with a letter, followed by at most 31 letters, digits, "
        "'.', '_' or '-'",
    ),
    "code of 33 characters": (
        [("      - code: O2\n", f"      - code: O{'2' * 32} {HERE}\n")],
        "sections[1].items[2]",
        f"bad code 'O{'2' * 32}': a code starts with a letter, followed by at most 31 letters, "
        "digits, '.', '_' or '-'",
    ),
    "missing translation": (
        [(C1_1_TEXT, f"text: {{nl: Wensen en dromen}} {HERE}")],
        "item C1.1, text",
        "missing the 'en' translation",
    ),
    "empty translation": (
        [(C1_1_TEXT, f'text: {{nl: Wensen en dromen, en: " "}} {HERE}')],
        "item C1.1, text",
        "the 'en' translation is empty",
    ),
    "unknown language in a text": (
        [(C1_1_TEXT, f"text: {{nl: Wensen en dromen, en: Aspirations, de: Wünsche}} {HERE}")],
        "item C1.1, text",
        "unknown language 'de' (known: en, nl)",
    ),
    "languages without en": (
        [("languages: [nl, en]", f"languages: [nl] {HERE}")],
        "languages",
        "languages must contain both nl and en (missing: en)",
    ),
    "unknown language in languages": (
        [("languages: [nl, en]", f"languages: [nl, en, fr] {HERE}")],
        "languages",
        "unknown language 'fr' (known: en, nl)",
    ),
    "languages with English first": (
        [("languages: [nl, en]", f"languages: [en, nl] {HERE}")],
        "languages",
        "nl must come first: the first language is the default",
    ),
    "bad instrument id": (
        [("instrument: mini-krachtspiegel", f"instrument: Mini_Krachtspiegel {HERE}")],
        "instrument",
        "bad instrument id 'Mini_Krachtspiegel': use 2 to 64 lowercase letters, digits and '-'",
    ),
    "version of 33 characters": (
        [("version: 2", f"version: {'9' * 33} {HERE}")],
        "version",
        "a version has 1 to 32 characters",
    ),
    "scale with two items": (
        [before(GROUPS_A, scale_a2(2))],
        "scale A2",
        "a scale needs 3 to 5 items, this one has 2",
    ),
    "scale with six items": (
        [before(GROUPS_A, scale_a2(6))],
        "scale A2",
        "a scale needs 3 to 5 items, this one has 6",
    ),
    "scale with a non-Likert item": (
        [
            (
                "            type: agreement5\n            text: {nl: Wij vragen",
                f"            type: text {HERE}\n            text: {{nl: Wij vragen",
            )
        ],
        "item B1.4",
        "a scale may only hold Likert items (agreement5, frequency5), not a text item: "
        "move it to the section's items",
    ),
    "scale mixing Likert types": (
        [
            (
                "          - code: B1.1\n            type: agreement5\n",
                f"          - code: B1.1\n            type: agreement5 {FIRST}\n",
            ),
            (
                "            type: agreement5\n            text: {nl: Iedereen",
                f"            type: frequency5 {HERE}\n            text: {{nl: Iedereen",
            ),
        ],
        "item B1.3",
        "scale B1 mixes Likert types: this item is frequency5, item B1.1 (line {first}) "
        "is agreement5",
    ),
    "two reversed items in a scale": (
        [
            before("            hint: {nl: Denk", "            reverse: true\n"),
            (
                f"            reverse: true\n{GROUPS_A}",
                f"            reverse: true {HERE}\n{GROUPS_A}",
            ),
        ],
        "scale A1",
        "more than one reversed item (A1.1, A1.3); a scale may have at most one",
    ),
    "background on a text item": (
        [before("        max_length: 500\n", f"        background: true {HERE}\n")],
        "item O1",
        "'background' is not allowed on a text item (only on single_choice)",
    ),
    "options on a Likert item": (
        [before("            optional: true\n", f"            options: [] {HERE}\n")],
        "item C1.2",
        "'options' is not allowed on a frequency5 item (only on single_choice)",
    ),
    "rows on a text item": (
        [before("        max_length: 500\n", f"        rows: [] {HERE}\n")],
        "item O1",
        "'rows' is not allowed on a text item (only on grid)",
    ),
    "max_length on a grid": (
        [before("        rows:\n", f"        max_length: 10 {HERE}\n")],
        "item C4",
        "'max_length' is not allowed on a grid item (only on text)",
    ),
    "dont_know on a single choice": (
        [before("        options:\n", f"        dont_know: true {HERE}\n")],
        "item BG1",
        "'dont_know' is not allowed on a single_choice item (only on agreement5, frequency5)",
    ),
    "reverse on a grid": (
        [before("        rows:\n", f"        reverse: false {HERE}\n")],
        "item C4",
        "'reverse' is not allowed on a grid item (only on agreement5, frequency5)",
    ),
    "single choice with one option": (
        [
            (
                ROLE_OPTIONS,
                f"          - {{code: 1, label: {{nl: Begeleider, en: Support worker}}}} {HERE}\n",
            )
        ],
        "item BG1, options",
        "a single_choice item needs at least 2 options, got 1",
    ),
    "duplicate option code": (
        [
            (
                ROLE_OPTIONS,
                f"          - {{code: 1, label: {{nl: Begeleider, en: Support worker}}}} {FIRST}\n"
                "          - {code: 2, label: {nl: Teamcoach, en: Team coach}}\n"
                f"          - {{code: 1, label: {{nl: Andere rol, en: Other role}}}} {HERE}\n",
            )
        ],
        "item BG1, options[2].code",
        "duplicate option code 1 (first at line {first})",
    ),
    "option code that is not a whole number": (
        [
            (
                "{code: 9, label: {nl: Andere rol, en: Other role}}",
                f"{{code: 9.5, label: {{nl: Andere rol, en: Other role}}}} {HERE}",
            )
        ],
        "item BG1, options[2].code",
        "expected a whole number, got a number",
    ),
    "grid without rows": (
        [before(ITEMS_B, grid_c5(rows="", columns=f"        columns: {ENTRY}\n", mark=HERE))],
        "item C5",
        "missing required key 'rows'",
    ),
    "grid with no columns": (
        [
            before(
                ITEMS_B,
                grid_c5(rows=f"        rows: {ENTRY}\n", columns=f"        columns: [] {HERE}\n"),
            )
        ],
        "item C5, columns",
        "a grid needs at least 1 column, got 0",
    ),
    "grid with a duplicate row code": (
        [
            (
                f"          - {{code: aspirations, label: {ASPIRATIONS}}}\n",
                f"          - {{code: aspirations, label: {ASPIRATIONS}}} {FIRST}\n",
            ),
            ("{code: resources, label:", "{code: aspirations, label:"),
            (
                "Material resources}}\n        columns:",
                f"Material resources}}}} {HERE}\n        columns:",
            ),
        ],
        "item C4, rows[1].code",
        "duplicate row code 'aspirations' (first at line {first})",
    ),
    "max_length too large": (
        [("        max_length: 500", f"        max_length: 20000 {HERE}")],
        "item O1, max_length",
        "max_length must be between 1 and 10000, got 20000",
    ),
    "max_length zero": (
        [("        max_length: 500", f"        max_length: 0 {HERE}")],
        "item O1, max_length",
        "max_length must be between 1 and 10000, got 0",
    ),
    "section without items": (
        [(ROLE_OPTIONS, f"{ROLE_OPTIONS}  - code: D {HERE}\n    title: {{nl: Leeg, en: Empty}}\n")],
        "section D",
        "a section needs items: add scales, groups or items",
    ),
    "unknown figure": (
        [before("        items:\n          - code: C1.1", f"        figure: radar {HERE}\n")],
        "group C1",
        "unknown figure 'radar' (allowed: strength_sources)",
    ),
    "strengths-model figure without six items": (
        [
            before(
                "        items:\n          - code: C1.1",
                f"        figure: strength_sources {HERE}\n",
            )
        ],
        "group C1",
        "figure 'strength_sources' needs 6 items, this group has 2",
    ),
    "figure on a scale": (
        [
            (
                "        title: {nl: Focus op krachten, en: Strengths focus}\n",
                "        title: {nl: Focus op krachten, en: Strengths focus}\n"
                f"        figure: strength_sources {HERE}\n",
            )
        ],
        "scale A1",
        "unknown key 'figure' (allowed: code, description, items, reflect, title)",
    ),
    "group without items": (
        [
            before(
                "  - code: B\n",
                "      - code: C2\n        title: {nl: Leeg, en: Empty}\n"
                f"        items: [] {HERE}\n",
            )
        ],
        "group C2",
        "a group needs at least one item",
    ),
}


@pytest.mark.parametrize(("edits", "where", "message"), BROKEN.values(), ids=BROKEN.keys())
def test_broken_file(edits, where, message):
    text = edited(*edits)
    if FIRST in text:
        message = message.replace("{first}", str(line_of(text, FIRST)))
    [problem] = problems_in(text)
    assert (problem.file, problem.line, problem.where, problem.message) == (
        "mini.yaml",
        line_of(text, HERE),
        where,
        message,
    )


def test_problem_reads_as_file_line_where_message():
    text = edited(("    type: single_choice", "    type: multiple_choice"))
    [problem] = problems_in(text)
    assert str(problem) == (
        f"mini.yaml:{line_of(text, 'multiple_choice')}: item BG1: unknown item type "
        "'multiple_choice' (known: agreement5, frequency5, grid, single_choice, text)"
    )


def test_all_problems_are_collected_in_line_order():
    text = edited(
        ("version: 2", "version: ~"),
        ("      - code: O2\n", "      - code: 2nd\n"),
        ("          - code: B1.4\n", "          - code: A1.2\n"),
        ("        max_length: 500", "        max_length: many"),
    )
    problems = problems_in(text)
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [
        (3, "expected a name or number, got nothing"),
        (line_of(text, "code: A1.2\n            type: agreement5"), "duplicate code 'A1.2'"),
        (line_of(text, "many"), "expected a whole number, got a string"),
        (line_of(text, "2nd"), "bad code '2nd'"),
    ]
    assert str(QuestionnaireError(problems)).count("\n") == 3


def test_a_node_of_the_wrong_shape_is_not_read_further():
    [problem] = problems_in(MINI_TEXT.split("sections:")[0] + "sections: A, B\n")
    assert problem.message == "expected a list (lines starting with '- '), got a string"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", None, "the file is empty"),
        ("# nothing but a comment\n", None, "the file is empty"),
        (
            "- instrument: x\n- version: 1\n",
            1,
            "the file must be a mapping of keys (instrument:, version:, ...), not a list",
        ),
        (
            "instrument: a\n---\ninstrument: b\n",
            2,
            "not valid YAML: expected a single document in the stream on line 1, "
            "but found another document",
        ),
        (
            "instrument: a\n\tversion: 1\n",
            2,
            "not valid YAML: while scanning for the next token, "
            "found character '\\t' that cannot start any token",
        ),
        ("instrument: a\ntitle: \x07\n", 2, "not valid YAML: character #x0007 is not allowed"),
        (
            "#" * MAX_FILE_BYTES + "\n",
            None,
            f"the file is {MAX_FILE_BYTES + 1} bytes; instrument files may be at most 1 MB",
        ),
    ],
    ids=[
        "empty",
        "only a comment",
        "a list",
        "two documents",
        "tab",
        "control character",
        "too large",
    ],
)
def test_broken_whole_file(text, line, message):
    [problem] = problems_in(text)
    assert (problem.line, problem.where, problem.message) == (line, "", message)


def test_a_too_large_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"[" * (MAX_FILE_BYTES + 1))
    [problem] = validate_file(path)
    assert problem == Problem(
        str(path),
        None,
        "",
        f"the file is {MAX_FILE_BYTES + 1} bytes; instrument files may be at most 1 MB",
    )


def test_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(MINI_TEXT.replace("cliënten", "cli\xebnten").encode("latin-1"))
    [problem] = validate_file(path)
    assert (problem.line, problem.message) == (
        line_of(MINI_TEXT, "cliënten"),
        "the file is not UTF-8 text",
    )


def test_a_missing_file(tmp_path):
    [problem] = validate_file(tmp_path / "nowhere.yaml")
    assert problem.message == "cannot read the file: No such file or directory"


def test_validate_file_lists_the_problems_of_a_broken_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(MINI_TEXT.replace("type: grid", "type: tick_grid"), encoding="utf-8")
    assert [problem.where for problem in validate_file(path)] == ["item C4"]
