"""An instrument file in TOML: parsed by `tomllib`, turned into the YAML nodes the loader reads.

`tomllib` keeps no positions, so the lines come from `key_lines`, a small scan of the (valid)
text for where each table, key and array element starts; a value it cannot place gets the line
of the nearest thing above it. Like the YAML side, reading is bounded (`MAX_DEPTH`,
`MAX_NODES`), and a line with very many dots is refused before parsing: `tomllib` spends time
and memory quadratic in the length of a dotted key (`a.a.a. ... = 1`).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from typing import Any

from yaml import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from questionnaires.problems import (
    MAX_DEPTH,
    MAX_NODES,
    Problem,
    QuestionnaireError,
    too_deep,
    too_many,
)
from questionnaires.yaml_nodes import TAG

#: More dots than this on one line are refused before parsing (see the module's docstring).
MAX_DOTS_PER_LINE = 200
_ERROR_POSITION = re.compile(r"\(at line (\d+), column \d+\)$")
_AT = re.compile(r"\(at (line \d+, column \d+|end of document)\)$")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

Path = tuple[str | int, ...]


def compose_toml(text: str, filename: str) -> MappingNode:
    """The root mapping node of a TOML instrument file; QuestionnaireError when it cannot be
    read."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.count(".") > MAX_DOTS_PER_LINE:
            raise QuestionnaireError(
                [
                    Problem(
                        filename,
                        number,
                        "",
                        f"more than {MAX_DOTS_PER_LINE} dots on one line: a key may not be "
                        "nested that deep (write a long text over several lines)",
                    )
                ]
            )
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise QuestionnaireError([too_deep(filename, None)]) from None
    except ValueError as error:  # tomllib.TOMLDecodeError, or a number too long to convert
        raise QuestionnaireError([_syntax_problem(str(error), text, filename)]) from None
    if not data:
        raise QuestionnaireError([Problem(filename, None, "", "the file is empty")])
    _check_size(data, filename)
    try:
        lines = key_lines(text)
    except Exception:  # noqa: BLE001  (positions are a courtesy: without them, line 1)
        lines = {}
    return _Builder(filename, lines).node(data, ())  # type: ignore[return-value]


def _syntax_problem(message: str, text: str, filename: str) -> Problem:
    line: int | None = None
    if position := _ERROR_POSITION.search(message):
        line = int(position.group(1))
    elif message.endswith("(at end of document)"):
        line = text.count("\n") + (0 if text.endswith("\n") else 1)
    message = _AT.sub("", message).strip().rstrip(".")
    if "integer string conversion" in message:
        message = "a number is too long"
    return Problem(filename, line, "", f"not valid TOML: {message}")


def _check_size(data: dict[str, Any], filename: str) -> None:
    """Refuse more than MAX_NODES values or more than MAX_DEPTH levels, without recursion."""
    count = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise QuestionnaireError([too_many(filename, None)])
        if depth > MAX_DEPTH:
            raise QuestionnaireError([too_deep(filename, None)])
        if isinstance(value, dict):
            count += len(value)  # the keys
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value)


class _Builder:
    def __init__(self, filename: str, lines: dict[Path, int]):
        self.filename = filename
        self.lines = lines

    def mark(self, path: Path) -> Mark:
        while path and path not in self.lines:
            path = path[:-1]
        line = self.lines.get(path, 1)
        return Mark(self.filename, 0, line - 1, 0, None, None)

    def node(self, value: Any, path: Path) -> Node:
        mark = self.mark(path)
        if isinstance(value, dict):
            pairs = [
                (
                    ScalarNode(TAG + "str", key, self.mark((*path, key)), None),
                    self.node(child, (*path, key)),
                )
                for key, child in value.items()
            ]
            return MappingNode(TAG + "map", pairs, mark, None)
        if isinstance(value, list):
            items = [self.node(child, (*path, index)) for index, child in enumerate(value)]
            return SequenceNode(TAG + "seq", items, mark, None)
        tag, text = _scalar(value)
        return ScalarNode(TAG + tag, text, mark, None)


def _scalar(value: Any) -> tuple[str, str]:
    """The YAML tag and text of a TOML scalar, as the loader's readers expect them."""
    if isinstance(value, bool):
        return "bool", "true" if value else "false"
    if isinstance(value, int):
        return "int", str(value)
    if isinstance(value, float):
        return "float", repr(value)
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return "timestamp", value.isoformat()
    return "str", str(value)


def key_lines(text: str) -> dict[Path, int]:
    """path → line (1-based) of every table, key and array element of a valid TOML text.

    A path is as `tomllib` would reach the value: keys, and indexes into arrays (of tables).
    """
    return _KeyScanner(text).run()


class _KeyScanner:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[Path, int] = {}
        #: array of tables path → the number of its elements so far
        self.arrays: dict[Path, int] = {}

    def run(self) -> dict[Path, int]:
        table: Path = ()
        while True:
            self.skip(newlines=True)
            if self.pos >= len(self.text):
                return self.lines
            start = self.pos
            if self.text.startswith("[[", self.pos):
                self.pos += 2
                *parents, last = self.key()
                array = (*self.resolve(parents), last)
                index = self.arrays.get(array, 0)
                self.arrays[array] = index + 1
                table = (*array, index)
                self.lines.setdefault(array, self.line)
                self.lines[table] = self.line
            elif self.text[self.pos] == "[":
                self.pos += 1
                table = self.resolve(self.key())
                self.lines.setdefault(table, self.line)
            else:
                self.key_value(table)
            self.skip_line()
            if self.pos <= start:  # never loop in place
                return self.lines

    def resolve(self, parts: list[str]) -> Path:
        """A table header's path: through an array of tables, its last element."""
        path: Path = ()
        for part in parts:
            path = (*path, part)
            if path in self.arrays:
                path = (*path, self.arrays[path] - 1)
        return path

    def key_value(self, table: Path) -> None:
        parts = self.key()
        for end in range(1, len(parts) + 1):
            self.lines.setdefault((*table, *parts[:end]), self.line)
        self.skip()
        if self.text.startswith("=", self.pos):
            self.pos += 1
            self.skip()
            self.value((*table, *parts))

    def key(self) -> list[str]:
        parts = []
        while True:
            self.skip()
            char = self.text[self.pos : self.pos + 1]
            if char in ('"', "'"):
                start = self.pos
                self.string()
                parts.append(tomllib.loads("k = " + self.text[start : self.pos])["k"])
            else:
                match = _BARE_KEY.match(self.text, self.pos)
                if not match:
                    return parts
                parts.append(match.group())
                self.pos = match.end()
            self.skip()
            if not self.text.startswith(".", self.pos):
                return parts
            self.pos += 1

    def value(self, path: Path) -> None:
        self.lines[path] = self.line
        char = self.text[self.pos : self.pos + 1]
        if char in ('"', "'"):
            self.string()
        elif char == "[":
            self.pos += 1
            index = 0
            while True:
                self.skip(newlines=True)
                if self.pos >= len(self.text) or self.text[self.pos] == "]":
                    self.pos += 1
                    return
                before = self.pos
                self.value((*path, index))
                index += 1
                self.skip(newlines=True)
                if self.text.startswith(",", self.pos):
                    self.pos += 1
                elif self.pos <= before:
                    return
        elif char == "{":
            self.pos += 1
            while True:
                self.skip()
                if self.pos >= len(self.text) or self.text[self.pos] == "}":
                    self.pos += 1
                    return
                before = self.pos
                self.key_value(path)
                self.skip()
                if self.text.startswith(",", self.pos):
                    self.pos += 1
                elif self.pos <= before:
                    return
        else:
            while self.pos < len(self.text) and self.text[self.pos] not in ",]}#\n":
                self.pos += 1

    def string(self) -> None:
        """Move past the string at pos: basic or literal, single- or multi-line."""
        text = self.text
        quote = text[self.pos]
        if text.startswith(quote * 3, self.pos):
            end = self.pos + 3
            while True:
                found = text.find(quote * 3, end)
                if found < 0:
                    end = len(text)
                    break
                if quote == '"' and _escaped(text, found, self.pos + 3):
                    end = found + 1
                    continue
                end = found + 3
                while end < len(text) and text[end] == quote and end - found < 5:
                    end += 1  # up to two quotes of the content may touch the closing ones
                break
        else:
            end = self.pos + 1
            while end < len(text) and text[end] != quote and text[end] != "\n":
                end += 2 if quote == '"' and text[end] == "\\" else 1
            end += 1
        self.line += text.count("\n", self.pos, end)
        self.pos = min(end, len(text))

    def skip(self, newlines: bool = False) -> None:
        """Move past spaces and tabs (and newlines and comments, when asked)."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t\r":
                self.pos += 1
            elif newlines and char == "\n":
                self.line += 1
                self.pos += 1
            elif newlines and char == "#":
                self.skip_comment()
            else:
                return

    def skip_comment(self) -> None:
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end

    def skip_line(self) -> None:
        """After a statement: a comment may follow; the line ends."""
        self.skip()
        if self.text.startswith("]]", self.pos):
            self.pos += 2
        elif self.text.startswith("]", self.pos):
            self.pos += 1
        self.skip()
        if self.text.startswith("#", self.pos):
            self.skip_comment()


def _escaped(text: str, index: int, start: int) -> bool:
    """Whether the character at index is escaped by an odd run of backslashes before it."""
    backslashes = 0
    while index - 1 - backslashes >= start and text[index - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 1
