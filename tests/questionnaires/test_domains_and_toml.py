"""Life domain groups (``domains: true``), Instrument.without, and instrument files in TOML."""

import re
from pathlib import Path

import pytest

from questionnaires import Instrument, QuestionnaireError, load_file, load_text
from questionnaires.loader import load_bytes
from questionnaires.toml_nodes import key_lines

FILES = Path(__file__).parent / "files"
MINI_YAML = FILES / "mini.yaml"
MINI_TOML = FILES / "mini.toml"
TEAM = Path(__file__).parents[2] / "questionnaires" / "krachtspiegel-team-1.yaml"
FORMAT_MD = Path(__file__).parents[2] / "questionnaires" / "FORMAT.md"

GROUP_C1 = "      - code: C1\n        title: {nl: Krachtbronnen, en: Strength sources}\n"


def mini_with(old: str, new: str) -> str:
    text = MINI_YAML.read_text(encoding="utf-8")
    assert text.count(old) == 1
    return text.replace(old, new)


def only_problem(text: str, filename: str = "mini.yaml"):
    with pytest.raises(QuestionnaireError) as raised:
        load_text(text, filename)
    [problem] = raised.value.problems
    return problem


def line_of(text: str, marker: str) -> int:
    return text[: text.index(marker)].count("\n") + 1


# domains: true


def test_a_group_of_life_domains_is_read_and_round_trips():
    instrument = load_text(mini_with(GROUP_C1, GROUP_C1 + "        domains: true\n"), "m.yaml")
    [group] = instrument.groups()
    assert group.domains is True
    again = Instrument.from_dict(instrument.to_dict())
    assert again == instrument and again.groups()[0].domains is True


def test_groups_are_not_life_domains_by_default_and_old_definitions_read_as_such():
    instrument = load_file(MINI_YAML)
    assert instrument.groups()[0].domains is False
    stored = instrument.to_dict()
    del stored["sections"][0]["groups"][0]["domains"]  # as stored before the key existed
    assert Instrument.from_dict(stored).groups()[0].domains is False


def test_the_team_instrument_marks_its_life_domains():
    team = load_file(TEAM)
    assert team.version == "1.3"
    assert [group.code for group in team.groups() if group.domains] == ["C2"]
    [c2] = [group for group in team.groups() if group.domains]
    assert [item.code for item in c2.items] == [f"C2.{n}" for n in range(1, 10)]


def test_domains_must_be_true_or_false():
    text = mini_with(GROUP_C1, GROUP_C1 + "        domains: yes please\n")
    problem = only_problem(text)
    assert (problem.line, problem.where, problem.message) == (
        line_of(text, "yes please"),
        "group C1, domains",
        "expected true or false, got a string",
    )


def test_a_group_drawn_as_a_figure_cannot_hold_life_domains():
    text = mini_with(
        GROUP_C1, GROUP_C1 + "        figure: strength_sources\n        domains: true\n"
    )
    with pytest.raises(QuestionnaireError) as raised:
        load_text(text, "mini.yaml")
    assert (line_of(text, "domains: true"), "group C1") in [
        (p.line, p.where) for p in raised.value.problems if "cannot hold life domains" in p.message
    ]


def test_domains_on_a_scale_is_refused_with_its_reason():
    anchor = "        title: {nl: Focus op krachten, en: Strengths focus}\n"
    text = mini_with(anchor, anchor + "        domains: true\n")
    problem = only_problem(text)
    assert (problem.line, problem.where) == (line_of(text, "domains: true"), "scale A1")
    assert problem.message.startswith("'domains' is only allowed on a group")


def test_domains_on_an_item_is_an_unknown_key():
    anchor = "            text: {nl: Wensen en dromen, en: Aspirations}\n"
    problem = only_problem(mini_with(anchor, anchor + "            domains: true\n"))
    assert problem.where == "item C1.1" and problem.message.startswith("unknown key 'domains'")


# Instrument.without


def test_without_leaves_items_out_and_drops_what_becomes_empty():
    mini = load_file(MINI_YAML)
    fewer = mini.without({"C1.2"})
    assert [item.code for item in fewer.groups()[0].items] == ["C1.1"]
    assert fewer.sha256 == mini.sha256 and fewer.content == mini.content
    assert mini.without(set()) is mini
    no_group = mini.without({"C1.1", "C1.2"})
    assert no_group.groups() == ()
    assert [s.code for s in no_group.sections] == ["A", "B"]
    only_b = mini.without({"A1.1", "A1.2", "A1.3", "C1.1", "C1.2"})
    assert [s.code for s in only_b.sections] == ["B"]


# TOML


def test_the_toml_mini_instrument_equals_the_yaml_one():
    from_toml, from_yaml = load_file(MINI_TOML), load_file(MINI_YAML)
    as_toml, as_yaml = from_toml.to_dict(), from_yaml.to_dict()
    assert as_toml.pop("content") == MINI_TOML.read_text(encoding="utf-8")
    assert as_toml.pop("sha256") != as_yaml.pop("sha256")
    as_yaml.pop("content")
    assert as_toml == as_yaml


def test_the_format_toml_example_is_valid():
    [block] = re.findall(r"```toml\n(.*?)```", FORMAT_MD.read_text(encoding="utf-8"), re.DOTALL)
    instrument = load_text(block, "FORMAT.toml")
    assert [group.domains for group in instrument.groups()] == [True]


TOML_TEXT = MINI_TOML.read_text(encoding="utf-8")


TOML_CASES = {
    "unknown type": (
        'type = "grid"',
        'type = "tick_grid"',
        "item C4",
        "unknown item type 'tick_grid' (known: agreement5, frequency5, grid, single_choice, text)",
    ),
    "boolean as string": (
        "reverse = true",
        'reverse = "yes"',
        "item A1.3, reverse",
        "expected true or false, got a string",
    ),
    "list": ("version = 2", "version = [2]", "version", "expected a name or number, got a list"),
    "date": (
        "max_length = 500",
        "max_length = 1979-05-27",
        "item O1, max_length",
        "expected a whole number, got a date",
    ),
    "duplicate code": (
        'code = "B1.4"',
        'code = "A1.2"  # again',
        "item A1.2",
        "duplicate code 'A1.2': also used by the item on line 33",
    ),
}


@pytest.mark.parametrize(("old", "new", "where", "message"), TOML_CASES.values(), ids=TOML_CASES)
def test_toml_problems_name_their_line(old, new, where, message):
    assert TOML_TEXT.count(old) == 1
    text = TOML_TEXT.replace(old, new)
    problem = only_problem(text, "mini.toml")
    assert (problem.line, problem.where, problem.message) == (line_of(text, new), where, message)


def test_toml_array_entries_and_inline_keys_have_their_own_lines():
    lines = key_lines(TOML_TEXT)
    for match in re.finditer(r'^code = "?([^"\n]+)"?$', TOML_TEXT, re.MULTILINE):
        line = TOML_TEXT[: match.start()].count("\n") + 1
        assert line in lines.values()
    bg1 = ("sections", 1, "items", 3)
    assert lines[bg1] == line_of(TOML_TEXT, 'code = "BG1"') - 1  # its [[sections.items]] header
    assert lines[(*bg1, "options", 2, "code")] == line_of(TOML_TEXT, "code = 9")
    text = 'x = [\n  {a = 1},\n  """two\nlines""",\n  3, # a comment\n]\ny.z = {w = "\\""}\n'
    lines = key_lines(text)
    assert lines[("x",)] == 1 and lines[("x", 0, "a")] == 2 and lines[("x", 2)] == 5
    assert lines[("y", "z", "w")] == 7


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", None, "the file is empty"),
        ("# only a comment\n", None, "the file is empty"),
        ("a = 1\na = 2\n", 2, "not valid TOML: Cannot overwrite a value"),
        ("a = \n", 1, "not valid TOML: Invalid value"),
        ("a = " + "9" * 5000, None, "not valid TOML: a number is too long"),
        ("a = " + "[" * 5000, None, "values are nested more than 32 levels deep: not read on"),
        ("a" + ".a" * 300 + " = 1", 1, "more than 200 dots on one line"),
    ],
    ids=["empty", "comment", "twice", "no value", "long number", "deep", "dotted bomb"],
)
def test_broken_toml_files(text, line, message):
    problem = only_problem(text, "x.toml")
    assert (problem.line, problem.where) == (line, "")
    assert problem.message.startswith(message)


def test_the_file_name_decides_the_format():
    assert load_bytes(MINI_TOML.read_bytes(), "upload.TOML").id == "mini-krachtspiegel"
    with pytest.raises(QuestionnaireError):
        load_bytes(MINI_TOML.read_bytes(), "upload.yaml")
