"""The strengths model's own words in an instrument file: `principles` and `starting_points`,
each with the scales that serve it (optional, checked with line-numbered problems)."""

import re
from pathlib import Path

import pytest

from questionnaires import Instrument, Principle, QuestionnaireError, Text, load_file, load_text
from questionnaires.codebook import COLUMNS, codebook_rows, render_markdown

FILES = Path(__file__).parent / "files"
MINI_YAML = FILES / "mini.yaml"
MINI_TOML = FILES / "mini.toml"
TEAM = Path(__file__).parents[2] / "questionnaires" / "krachtspiegel-team-1.yaml"

#: A valid mapping for the mini instrument (scales A1 and B1; C1 is a group, C1.1 an item).
MAPPING = """\
principles:
  - code: P1
    title: {nl: Focus op krachten, en: Strengths focus}
    description:
      nl: De focus ligt op krachten.
      en: The focus is on strengths.
    scales: [A1]
  - code: P2
    title: {nl: Samen, en: Together}
    scales: [A1, B1]
starting_points:
  - code: U1
    title: {nl: Uniek, en: Unique}
    scales:
      - B1
"""


def mini_with_mapping(old: str = "", new: str = "") -> str:
    mapping = MAPPING
    if old:
        assert mapping.count(old) == 1, old
        mapping = mapping.replace(old, new)
    return MINI_YAML.read_text(encoding="utf-8") + mapping


def line_of(text: str, marker: str) -> int:
    return text[: text.index(marker)].count("\n") + 1


def problems(text: str, filename: str = "mini.yaml") -> list[tuple[int | None, str, str]]:
    with pytest.raises(QuestionnaireError) as raised:
        load_text(text, filename)
    return [(p.line, p.where, p.message) for p in raised.value.problems]


def test_a_mapping_is_read_in_file_order_and_round_trips():
    instrument = load_text(mini_with_mapping(), "mini.yaml")
    assert instrument.principles == (
        Principle(
            code="P1",
            title=Text(nl="Focus op krachten", en="Strengths focus"),
            description=Text(nl="De focus ligt op krachten.", en="The focus is on strengths."),
            scales=("A1",),
        ),
        Principle(code="P2", title=Text(nl="Samen", en="Together"), scales=("A1", "B1")),
    )
    assert [(p.code, p.scales) for p in instrument.starting_points] == [("U1", ("B1",))]
    assert Instrument.from_dict(instrument.to_dict()) == instrument


def test_the_mapping_is_optional_and_old_definitions_read_without_it():
    mini = load_file(MINI_YAML)
    assert mini.principles == () and mini.starting_points == ()
    stored = load_text(mini_with_mapping(), "mini.yaml").to_dict()
    del stored["principles"], stored["starting_points"]  # as stored before the keys existed
    again = Instrument.from_dict(stored)
    assert again.principles == () and again.starting_points == ()


def test_the_team_instrument_maps_the_six_principles_and_seven_starting_points():
    team = load_file(TEAM)
    assert team.version == "1.3"
    assert {p.code: p.scales for p in team.principles} == {
        "P1": ("A1",),
        "P2": ("A2",),
        "P3": ("A3",),
        "P4": ("A4",),
        "P5": ("A5",),
        "P6": ("A6",),
    }
    assert {p.code: p.scales for p in team.starting_points} == {
        "U1": ("A1",),
        "U2": ("A3",),
        "U3": ("A6",),
        "U4": ("A7",),
        "U5": ("A7",),
        "U6": ("A7",),
        "U7": ("A6",),
    }
    for principle in team.principles + team.starting_points:
        assert principle.description is not None
        assert all(principle.title[language].strip() for language in ("nl", "en"))
    assert team.principles[1].title == Text(
        nl="Iedereen kan leren, groeien en veranderen", en="Everyone can learn, grow and change"
    )


BROKEN = {
    "unknown scale": (
        "scales: [A1, B1]",
        "scales: [A1, A9]",
        "A9]",
        "principle P2",
        "unknown scale 'A9': no scale has it",
    ),
    "a group": (
        "scales: [A1]",
        "scales: [C1]",
        "C1]",
        "principle P1",
        "'C1' is not a scale but the group on line {line}: "
        "only scored scales can serve a principle",
        "code: C1",
    ),
    "listed twice": (
        "      - B1\n",
        "      - B1\n      - B1 # <-\n",
        "B1 # <-",
        "starting point U1",
        "scale 'B1' is listed twice",
    ),
    "no scales": (
        "scales: [A1, B1]",
        "scales: []",
        "scales: []",
        "principle P2",
        "a principle needs at least one scale",
    ),
    "duplicate code": (
        "code: U1",
        "code: P2",
        "code: P2\n    title: {nl: Uniek",
        "starting point P2",
        "duplicate code 'P2': also used by the principle on line {line}",
        "code: P2",
    ),
    "code of a scale": (
        "code: P2",
        "code: B1",
        "code: B1\n    title: {nl: Samen",
        "principle B1",
        "duplicate code 'B1': also used by the scale on line {line}",
        "code: B1",
    ),
    "missing scales": (
        "    scales:\n      - B1\n",
        "",
        "code: U1",
        "starting point U1",
        "missing required key 'scales'",
    ),
    "scales not a list": (
        "scales: [A1]",
        "scales: A1",
        "scales: A1",
        "principle P1, scales",
        "expected a list (lines starting with '- '), got a string",
    ),
    "empty title": (
        "{nl: Samen, en: Together}",
        '{nl: Samen, en: " "}',
        'en: " "',
        "principle P2, title",
        "the 'en' translation is empty",
    ),
    "unknown key": (
        "    scales: [A1, B1]\n",
        "    scales: [A1, B1]\n    scale: [A1]\n",
        "scale: [A1]",
        "principle P2",
        "unknown key 'scale' (did you mean 'scales'?)",
    ),
}


@pytest.mark.parametrize(
    ("old", "new", "marker", "where", "message", "first"),
    [case + (None,) * (6 - len(case)) for case in BROKEN.values()],
    ids=BROKEN.keys(),
)
def test_a_broken_mapping_names_its_line(old, new, marker, where, message, first):
    """`first`, when given, marks the line that the message names ("{line}")."""
    text = mini_with_mapping(old, new)
    message = message.format(line=line_of(text, first)) if first else message
    assert problems(text) == [(line_of(text, marker), where, message)]


def test_an_empty_list_and_a_list_that_is_not_one_are_refused():
    text = MINI_YAML.read_text(encoding="utf-8") + "principles: []\nstarting_points: {}\n"
    assert problems(text) == [
        (
            line_of(text, "principles: []"),
            "principles",
            "'principles' needs at least one entry (or leave the key out)",
        ),
        (
            line_of(text, "starting_points: {}"),
            "starting_points",
            "expected a list (lines starting with '- '), got a mapping",
        ),
    ]


def test_every_problem_of_the_mapping_is_listed_at_once():
    text = mini_with_mapping("scales: [A1, B1]", "scales: [A9, C1.1]")
    found = problems(text)
    assert [message for _, _, message in found] == [
        "unknown scale 'A9': no scale has it",
        f"'C1.1' is not a scale but the item on line {line_of(text, 'code: C1.1')}: "
        "only scored scales can serve a principle",
    ]


def test_a_toml_file_maps_principles_with_their_lines():
    toml = MINI_TOML.read_text(encoding="utf-8") + (
        '\n[[principles]]\ncode = "P1"\ntitle = {nl = "Focus", en = "Focus"}\nscales = ["A1"]\n'
        '\n[[starting_points]]\ncode = "U1"\ntitle = {nl = "Uniek", en = "Unique"}\n'
        'scales = ["Z1"]\n'
    )
    assert problems(toml, "mini.toml") == [
        (
            line_of(toml, 'scales = ["Z1"]'),
            "starting point U1",
            "unknown scale 'Z1': no scale has it",
        )
    ]
    fixed = load_text(toml.replace('"Z1"', '"A1"'), "mini.toml")
    assert [(p.code, p.scales) for p in fixed.principles + fixed.starting_points] == [
        ("P1", ("A1",)),
        ("U1", ("A1",)),
    ]


def test_the_format_example_of_the_mapping_is_valid():
    format_md = Path(__file__).parents[2] / "questionnaires" / "FORMAT.md"
    blocks = re.findall(r"```yaml\n(.*?)```", format_md.read_text(encoding="utf-8"), re.DOTALL)
    [example] = [block for block in blocks if block.startswith("instrument:")]
    [mapping] = [block for block in blocks if block.startswith("principles:")]
    instrument = load_text(example + mapping, "FORMAT.md")
    assert [(p.code, p.scales) for p in instrument.principles + instrument.starting_points] == [
        ("P1", ("A1",)),
        ("U1", ("A1",)),
    ]


# The codebook


def test_the_codebook_gives_each_item_the_principles_its_scale_serves():
    instrument = load_text(mini_with_mapping(), "mini.yaml")
    rows = {row.item: row for row in codebook_rows([instrument])}
    assert (rows["A1.2"].principles, rows["A1.2"].starting_points) == ("P1, P2", "")
    assert (rows["B1.1"].principles, rows["B1.1"].starting_points) == ("P2", "U1")
    assert (rows["C1.1"].principles, rows["C1.1"].starting_points) == ("", "")
    # after them come the context columns (tests/questionnaires/test_contexts.py)
    assert COLUMNS[-4:-2] == ("principles", "starting_points")
    assert rows["B1.1"].values()[-4:-2] == ("P2", "U1")


def test_the_codebook_lists_the_principles_and_starting_points_with_their_scales():
    markdown = render_markdown([load_text(mini_with_mapping(), "mini.yaml")])
    words = markdown.split(
        "## Het krachtenmodel in eigen woorden / The strengths model's own words"
    )
    assert len(words) == 2 and "| C4 |" in words[0]  # after the modules' item tables
    assert (
        "### Principes / Principles\n\n| code | Nederlands | English | scales |\n"
        "| --- | --- | --- | --- |\n"
        "| P1 | Focus op krachten | Strengths focus | A1 Focus op krachten / Strengths focus |\n"
        "| P2 | Samen | Together | A1 Focus op krachten / Strengths focus, "
        "B1 Psychologische veiligheid / Psychological safety |\n"
    ) in words[1]
    assert "### Uitgangspunten / Starting points" in words[1]
    assert (
        "| U1 | Uniek | Unique | B1 Psychologische veiligheid / Psychological safety |" in words[1]
    )
    assert "eigen woorden" not in render_markdown([load_file(MINI_YAML)])
