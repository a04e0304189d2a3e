"""Read and validate an instrument file (see FORMAT.md) into an `Instrument`.

The file is composed into YAML nodes (safe loading, no anchors or aliases) and read node by node,
so that every problem carries the line it comes from. All problems of a file are collected; a
node whose shape is wrong (e.g. a list where a mapping belongs) is not read any further. A TOML
file (name ending in .toml) is parsed by `tomllib` and turned into the same nodes
(`questionnaires.toml_nodes`).

The steps, one module each: the bytes are bounded and decoded here; `yaml_nodes` or `toml_nodes`
compose the nodes within the bounds of `problems`; `instrument_reader` reads the sections,
scales, groups and items with the value readers of `node_reader`.
"""

from __future__ import annotations

import os
import re

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from questionnaires.instrument_reader import InstrumentReader
from questionnaires.model import Instrument
from questionnaires.problems import (
    MAX_FILE_BYTES,
    Problem,
    QuestionnaireError,
    line_of,
    too_deep,
    too_large,
)
from questionnaires.toml_nodes import compose_toml
from questionnaires.yaml_nodes import compose_yaml


def load_file(path: str | os.PathLike[str]) -> Instrument:
    """Load and validate an instrument file; QuestionnaireError lists everything wrong."""
    filename = os.fspath(path)
    try:
        size = os.stat(filename).st_size
        if size > MAX_FILE_BYTES:
            raise QuestionnaireError([too_large(filename, size)])
        with open(filename, "rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise QuestionnaireError(
            [Problem(filename, None, "", f"cannot read the file: {error.strerror}")]
        ) from error
    return load_bytes(raw, filename)


def load_bytes(raw: bytes, filename: str) -> Instrument:
    """Load and validate an instrument from the bytes of its file (e.g. an upload).

    The name decides the format: TOML when it ends in .toml, else YAML.
    """
    if len(raw) > MAX_FILE_BYTES:
        raise QuestionnaireError([too_large(filename, len(raw))])
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise QuestionnaireError(
            [Problem(filename, None, "", "the file is UTF-16 text: save it as UTF-8")]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise QuestionnaireError(
            [Problem(filename, line, "", "the file is not UTF-8 text")]
        ) from error
    if "\0" in text:
        line = text[: text.index("\0")].count("\n") + 1
        raise QuestionnaireError(
            [Problem(filename, line, "", "the file holds binary data, not UTF-8 text")]
        )
    return load_text(text, filename)


def load_text(text: str, filename: str) -> Instrument:
    """Load and validate an instrument from its text; `filename` is used in problems and
    decides the format (TOML when it ends in .toml, else YAML)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise QuestionnaireError([too_large(filename, size)])
    root = compose_toml(text, filename) if is_toml(filename) else compose_yaml(text, filename)
    _refuse_surrogates(root, filename)
    reader = InstrumentReader(filename)
    try:
        instrument = reader.read_instrument(root, text)
    except RecursionError:  # not expected within MAX_DEPTH; a refusal all the same
        raise QuestionnaireError([too_deep(filename, None)]) from None
    if reader.problems:
        raise QuestionnaireError(sorted(reader.problems, key=lambda p: p.line or 0))
    assert instrument is not None  # noqa: S101  (type narrowing: no problems means a result)
    return instrument


def is_toml(filename: str) -> bool:
    return filename.lower().endswith(".toml")


def validate_file(path: str | os.PathLike[str]) -> list[Problem]:
    """Every problem of an instrument file, in line order; empty when the file is valid."""
    try:
        load_file(path)
    except QuestionnaireError as error:
        return error.problems
    return []


_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_surrogates(root: Node, filename: str) -> None:
    """A YAML escape such as "\\ud800" gives half a character, which no page or database can
    store: refuse every value that holds one."""
    problems = []
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ScalarNode):
            if _SURROGATE.search(node.value):
                problems.append(
                    Problem(
                        filename,
                        line_of(node),
                        "",
                        "a \\u escape here stands for half a character (a lone surrogate): "
                        "write the character itself",
                    )
                )
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            stack.extend(child for pair in node.value for child in pair)
    if problems:
        raise QuestionnaireError(sorted(problems, key=lambda p: p.line or 0))
