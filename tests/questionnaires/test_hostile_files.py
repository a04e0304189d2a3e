"""Hostile instrument files: the loader refuses them with a problem, quickly, and never raises
anything else. Hypothesis throws random bytes, YAML-ish and TOML-ish text, and random
structures grafted into the mini instrument at it."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from questionnaires import Instrument, QuestionnaireError, load_text
from questionnaires.loader import load_bytes
from questionnaires.problems import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES
from questionnaires.toml_nodes import key_lines

FILES = Path(__file__).parent / "files"
MINI_DATA = yaml.safe_load((FILES / "mini.yaml").read_text(encoding="utf-8"))
MINI_TOML = (FILES / "mini.toml").read_text(encoding="utf-8")
#: Far above what any of these files needs on the slowest machine we run on, in CPU seconds
#: of this process (wall time grows with whatever else the machine runs).
FAST = 3.0

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def outcome(raw: bytes | str, filename: str) -> Instrument | QuestionnaireError:
    """Load, and fail the test on anything but an instrument or QuestionnaireError, or when it
    takes too long."""
    start = time.process_time()
    try:
        if isinstance(raw, bytes):
            result: Instrument | QuestionnaireError = load_bytes(raw, filename)
        else:
            result = load_text(raw, filename)
    except QuestionnaireError as error:
        assert error.problems, "a refusal always says why"
        result = error
    assert time.process_time() - start < FAST
    return result


BILLION_LAUGHS = "\n".join(
    [
        'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
        *(
            f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]"
            for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)

HOSTILE = {
    "billion laughs": (BILLION_LAUGHS, "x.yaml", "YAML anchors and aliases"),
    "an alias alone": ("a: *b\n", "x.yaml", "YAML anchors and aliases"),
    "deep flow lists": ("a: " + "[" * 100_000, "x.yaml", "values are nested more than"),
    "deep block mappings": (
        "".join(" " * i + "a:\n" for i in range(200)),
        "x.yaml",
        "values are nested more than",
    ),
    "too many values": ("sections:\n" + "- x\n" * (MAX_NODES + 10), "x.yaml", "the file holds"),
    "a huge whole number": (
        "instrument: x\nversion: 1\nmax_length: " + "9" * 5000,
        "x.yaml",
        "missing required key",  # max_length is not read at the top: the file is still refused
    ),
    "a sexagesimal number": ("a: 1" + ":1" * 100_000, "x.yaml", "missing required key"),
    "python tags": ("!!python/object/apply:os.system ['ls']\n", "x.yaml", "the file must be"),
    "explicit tags": (
        "instrument: !!int abc\nversion: !!bool maybe\nlanguages: !!map [nl]\n",
        "x.yaml",
        "",
    ),
    "half a character": ('title: {nl: "caf\\ud800", en: x}\n', "x.yaml", "a \\u escape here"),
    "a toml dotted key": ("a" + ".a" * 500_000 + " = 1", "x.toml", "more than 200 dots"),
    "deep toml arrays": ("a = " + "[" * 500_000, "x.toml", "values are nested more than"),
    "deep toml tables": (
        "a = " + "{b = " * 100_000 + "1" + "}" * 100_000,
        "x.toml",
        "values are nested more than",
    ),
    "many toml tables": ("[[s]]\nx = 1\n" * 60_000, "x.toml", "the file holds"),
}


@pytest.mark.parametrize(("text", "filename", "message"), HOSTILE.values(), ids=HOSTILE)
def test_hostile_files_are_refused_quickly(text, filename, message):
    text = text[:MAX_FILE_BYTES]
    refused = outcome(text, filename)
    assert isinstance(refused, QuestionnaireError)
    assert any(problem.message.startswith(message) for problem in refused.problems)


def test_explicit_tags_on_the_wrong_values_are_problems_not_errors():
    mini = (FILES / "mini.yaml").read_text(encoding="utf-8")
    text = mini.replace("max_length: 500", "max_length: !!int ''").replace(
        "reverse: true", "reverse: !!bool perhaps"
    )
    refused = outcome(text, "mini.yaml")
    assert {(p.where, p.message) for p in refused.problems} == {
        ("item O1, max_length", "expected a whole number"),
        ("item A1.3, reverse", "expected true or false"),
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "the file is empty"),
        (b"\xff\xfei\x00n\x00", "the file is UTF-16 text: save it as UTF-8"),
        (b"instrument: x\nversion: 1\x00\n", "the file holds binary data, not UTF-8 text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "the file is not UTF-8 text"),
        (b"title: caf\xe9\n", "the file is not UTF-8 text"),
        (b"#" * (MAX_FILE_BYTES + 1), "instrument files may be at most 1 MB"),
    ],
    ids=["empty", "utf-16", "nul byte", "png", "latin-1", "too large"],
)
@pytest.mark.parametrize("filename", ["x.yaml", "x.toml"])
def test_files_that_are_not_utf8_text(raw, message, filename):
    refused = outcome(raw, filename)
    [problem] = refused.problems
    assert message in problem.message


def test_the_nesting_the_team_instrument_needs_is_well_within_the_limits():
    assert MAX_DEPTH >= 16 and MAX_NODES >= 10 * 1615


# Hypothesis

YAMLISH = st.lists(
    st.sampled_from(
        [
            "[", "]", "{", "}", ":", ": ", "- ", "\n", "  ", "    ", "&a ", "*a", "!!int ",
            "!!bool ", "!!python/object ", "!!binary ", "'", '"', "#", "? ", "|", ">", ",",
            "instrument", "sections", "items", "code", "text", "nl", "en", "type", "frequency5",
            "grid", "1", "1.2", "1:2:3", "0x1F", "yes", "~", "\t", "\x00", "\x07", "é", "\ufeff",
            "---", "...", "%YAML 1.1", "<<: ", "\r", "\u2028", "\\", "\U0001f600", "\\ud800",
            '"\\udfff"', "\\x00", "\\N",
        ]
    ),
    max_size=120,
).map("".join)  # fmt: skip

TOMLISH = st.lists(
    st.sampled_from(
        [
            "[", "]", "[[", "]]", "=", " = ", "{", "}", ",", '"', "'", '"""', "'''", "\n", "a",
            "b.c", '"q.k"', "1", "-0x1F", "true", "1979-05-27", "07:32:00", "1e999", "nan",
            "#", "\\", "\\u00e9", ".", " ", "\t", "é", "\x00", "\r\n", "sections", "code",
        ]
    ),
    max_size=120,
).map("".join)  # fmt: skip

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.dates()
)
STRUCTURES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=25,
)


@FUZZ
@given(raw=st.binary(max_size=3000), toml=st.booleans())
def test_random_bytes(raw, toml):
    outcome(raw, "x.toml" if toml else "x.yaml")


@FUZZ
@given(text=YAMLISH)
def test_yaml_ish_text(text):
    outcome(text, "x.yaml")


@FUZZ
@given(text=TOMLISH)
def test_toml_ish_text(text):
    outcome(text, "x.toml")


@FUZZ
@given(structure=STRUCTURES)
def test_random_structures(structure):
    outcome(yaml.safe_dump(structure, allow_unicode=True), "x.yaml")


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*path, index))


MINI_PATHS = [path for path in _paths(MINI_DATA) if path]


def _grafted(path, structure):
    data = yaml.safe_load(yaml.safe_dump(MINI_DATA))
    *parents, last = path
    target = data
    for key in parents:
        target = target[key]
    target[last] = structure
    return data


@FUZZ
@given(path=st.sampled_from(MINI_PATHS), structure=STRUCTURES)
def test_random_structures_grafted_into_the_mini_instrument(path, structure):
    outcome(yaml.safe_dump(_grafted(path, structure), allow_unicode=True), "mini.yaml")


@FUZZ
@given(
    start=st.integers(0, len(MINI_TOML)),
    length=st.integers(0, 40),
    insert=TOMLISH,
)
def test_the_mini_toml_cut_and_patched(start, length, insert):
    text = MINI_TOML[:start] + insert + MINI_TOML[start + length :]
    outcome(text, "mini.toml")
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    key_lines(text)  # on any valid TOML the line scan runs through without an error
