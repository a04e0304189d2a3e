"""Read and validate an instrument file (see FORMAT.md) into an `Instrument`.

The file is composed into YAML nodes (safe loading, no anchors or aliases) and read node by node,
so that every problem carries the line it comes from. All problems of a file are collected; a
node whose shape is wrong (e.g. a list where a mapping belongs) is not read any further. A TOML
file (name ending in .toml) is parsed by `tomllib` and turned into the same nodes
(`questionnaires.toml_nodes`).

Files may come from an administrator's upload form, so reading is bounded: at most 1 MB, at
most `MAX_NODES` values nested at most `MAX_DEPTH` deep, numbers of at most `MAX_NUMBER_LENGTH`
characters. Beyond that the file is refused with a problem, not read on.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from questionnaires.item_types import ITEM_TYPES, LIKERT_TYPES, TYPE_KEYS, ItemType
from questionnaires.model import (
    Group,
    Instrument,
    Item,
    Scale,
    Section,
    Text,
    content_sha256,
)

MAX_FILE_BYTES = 1024 * 1024
#: The full team instrument has about 1,600 values, nested 9 deep.
MAX_NODES = 20_000
MAX_DEPTH = 32
MAX_NUMBER_LENGTH = 20
KNOWN_LANGUAGES = ("nl", "en")
CODE_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,31}")
INSTRUMENT_ID_PATTERN = re.compile(r"[a-z0-9-]{2,64}")
MAX_VERSION_LENGTH = 32
SCALE_SIZE = range(3, 6)

#: The figures a group can ask for, with the number of items each needs.
FIGURE_SIZES = {"strength_sources": 6}
COMMON_ITEM_KEYS = frozenset({"code", "type", "text", "hint", "required", "optional"})
DOMAINS_ON_A_SCALE = (
    "'domains' is only allowed on a group: the items of a scale are scored together, "
    "so none of them can be left out"
)

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + name for name in ("str", "int", "float", "bool", "null"))
_MAP, _SEQ = _TAG + "map", _TAG + "seq"
_TIMESTAMP = _TAG + "timestamp"
_SCALAR_DESCRIPTIONS = {
    _STR: "a string",
    _INT: "a whole number",
    _FLOAT: "a number",
    _BOOL: "a yes/no value",
    _NULL: "nothing",
    _TIMESTAMP: "a date",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an instrument file."""

    file: str
    #: 1-based; None when the problem concerns the file as a whole
    line: int | None
    #: e.g. "item A2.3", "item BG1, options[1].label" or "sections[1].scales[0].items[2]"
    where: str
    message: str

    def __str__(self) -> str:
        location = self.file if self.line is None else f"{self.file}:{self.line}"
        return ": ".join(part for part in (location, self.where, self.message) if part)


class QuestionnaireError(ValueError):
    """An instrument file has problems; `problems` lists all of them, in line order."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def load_file(path: str | os.PathLike[str]) -> Instrument:
    """Load and validate an instrument file; QuestionnaireError lists everything wrong."""
    filename = os.fspath(path)
    try:
        size = os.stat(filename).st_size
        if size > MAX_FILE_BYTES:
            raise QuestionnaireError([_too_large(filename, size)])
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
        raise QuestionnaireError([_too_large(filename, len(raw))])
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
        raise QuestionnaireError([_too_large(filename, size)])
    if is_toml(filename):
        from questionnaires.toml_nodes import compose_toml

        root = compose_toml(text, filename)
    else:
        root = _compose(text, filename)
    _refuse_surrogates(root, filename)
    reader = NodeReader(filename)
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


def _too_large(filename: str, size: int) -> Problem:
    return Problem(
        filename, None, "", f"the file is {size} bytes; instrument files may be at most 1 MB"
    )


def too_deep(filename: str, line: int | None) -> Problem:
    return Problem(
        filename, line, "", f"values are nested more than {MAX_DEPTH} levels deep: not read on"
    )


def too_many(filename: str, line: int | None) -> Problem:
    return Problem(
        filename,
        line,
        "",
        f"the file holds more than {MAX_NODES} values (keys, texts, numbers, lists): not read on",
    )


class _AnchorRefused(yaml.MarkedYAMLError):
    pass


class _TooDeep(yaml.MarkedYAMLError):
    pass


class _TooMany(yaml.MarkedYAMLError):
    pass


class _Composer(yaml.SafeLoader):
    """A safe loader that refuses anchors and aliases, which could blow up on reading, and
    stops at `MAX_DEPTH` levels of nesting or `MAX_NODES` values."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _AnchorRefused(problem_mark=event.start_mark)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _TooMany(problem_mark=event.start_mark)
        if self._depth >= MAX_DEPTH:
            raise _TooDeep(problem_mark=event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _compose(text: str, filename: str) -> MappingNode:
    try:
        composer = _Composer(text)
        try:
            root = composer.get_single_node()
        finally:
            composer.dispose()
    except _AnchorRefused as error:
        raise QuestionnaireError(
            [
                Problem(
                    filename,
                    _mark_line(error.problem_mark),
                    "",
                    "YAML anchors and aliases (&name, *name) are not allowed: "
                    "write the content out in full",
                )
            ]
        ) from error
    except _TooDeep as error:
        raise QuestionnaireError([too_deep(filename, _mark_line(error.problem_mark))]) from None
    except _TooMany as error:
        raise QuestionnaireError([too_many(filename, _mark_line(error.problem_mark))]) from None
    except RecursionError:
        raise QuestionnaireError([too_deep(filename, None)]) from None
    except yaml.MarkedYAMLError as error:
        context = ""
        if error.context:
            context_line = _mark_line(error.context_mark)
            context = error.context + (f" on line {context_line}" if context_line else "") + ", "
        message = f"not valid YAML: {context}{error.problem}"
        problem = Problem(filename, _mark_line(error.problem_mark), "", message)
        raise QuestionnaireError([problem]) from error
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        problem = Problem(
            filename, line, "", f"not valid YAML: character #x{error.character:04x} is not allowed"
        )
        raise QuestionnaireError([problem]) from error
    if root is None:
        raise QuestionnaireError([Problem(filename, None, "", "the file is empty")])
    if not (isinstance(root, MappingNode) and root.tag == _MAP):
        raise QuestionnaireError(
            [
                Problem(
                    filename,
                    _line(root),
                    "",
                    f"the file must be a mapping of keys (instrument:, version:, ...), "
                    f"not {_describe(root)}",
                )
            ]
        )
    return root


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
                        _line(node),
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


def _mark_line(mark: yaml.Mark | None) -> int | None:
    return None if mark is None else mark.line + 1


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode) and node.tag == _MAP:
        return "a mapping"
    if isinstance(node, SequenceNode) and node.tag == _SEQ:
        return "a list"
    if isinstance(node, ScalarNode) and node.tag in _SCALAR_DESCRIPTIONS:
        return _SCALAR_DESCRIPTIONS[node.tag]
    return f"a value tagged {node.tag}"


class NodeReader:
    """Reads YAML nodes into model objects, collecting problems instead of stopping at one.

    The `read_*` methods return None (or a partial object) when something is wrong; callers
    only use the result when `problems` stays empty.
    """

    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[Problem] = []
        self._constructor = SafeConstructor()
        #: code -> (what carries it, line): one namespace for sections, scales, groups and items
        self._codes: dict[str, tuple[str, int]] = {}

    def report(self, node: Node, where: str, message: str) -> None:
        self.problems.append(Problem(self.filename, _line(node), where, message))

    # Generic readers, also used by the item types

    def fields(
        self, node: Node, where: str, required: Iterable[str], optional: Iterable[str] = ()
    ) -> dict[str, Node] | None:
        """The values of a mapping with exactly these keys, or None when it is not a mapping."""
        entries = self.entries(node, where)
        if entries is None:
            return None
        return self.check_keys(node, entries, where, required, {*required, *optional})

    def entries(self, node: Node, where: str) -> dict[str, tuple[Node, Node]] | None:
        """key -> (key node, value node) of a mapping; duplicate keys reported and dropped."""
        if not (isinstance(node, MappingNode) and node.tag == _MAP):
            self.report(
                node, where, f"expected a mapping (key: value lines), got {_describe(node)}"
            )
            return None
        entries: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.report(
                    key_node, where, f"a key must be a plain name, not {_describe(key_node)}"
                )
                continue
            key = key_node.value
            if key in entries:
                self.report(
                    key_node,
                    where,
                    f"duplicate key '{key}' (first at line {_line(entries[key][0])}); "
                    "YAML would silently keep only the last one",
                )
                continue
            entries[key] = (key_node, value_node)
        return entries

    def check_keys(
        self,
        node: Node,
        entries: Mapping[str, tuple[Node, Node]],
        where: str,
        required: Iterable[str],
        allowed: Iterable[str],
        misplaced: Mapping[str, str] | None = None,
    ) -> dict[str, Node]:
        """Report missing and unknown keys; return the values of the allowed keys present.

        `misplaced` maps keys that are known elsewhere (but not here) to their message.
        """
        allowed = set(allowed)
        misplaced = misplaced or {}
        for key in sorted(set(required) - entries.keys()):
            self.report(node, where, f"missing required key '{key}'")
        for key, (key_node, _) in entries.items():
            if key in allowed:
                continue
            if key in misplaced:
                self.report(key_node, where, misplaced[key])
                continue
            close = difflib.get_close_matches(key, sorted({*allowed, *misplaced}), n=1)
            hint = (
                f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(sorted(allowed))}"
            )
            self.report(key_node, where, f"unknown key '{key}' ({hint})")
        return {key: value for key, (_, value) in entries.items() if key in allowed}

    def sequence(self, node: Node, where: str) -> list[Node] | None:
        if not (isinstance(node, SequenceNode) and node.tag == _SEQ):
            self.report(
                node, where, f"expected a list (lines starting with '- '), got {_describe(node)}"
            )
            return None
        return list(node.value)

    def string(self, node: Node, where: str) -> str | None:
        if isinstance(node, ScalarNode) and node.tag == _STR:
            return node.value
        message = f"expected a string, got {_describe(node)}"
        if isinstance(node, ScalarNode) and node.tag in (_BOOL, _INT, _FLOAT):
            message += f': put it in quotes, "{node.value}"'
        self.report(node, where, message)
        return None

    def identifier(self, node: Node, where: str) -> str | None:
        """A name-like scalar as written: `version: 1.10` gives "1.10", `code: no` gives "no"."""
        if isinstance(node, ScalarNode) and node.tag in (_STR, _INT, _FLOAT, _BOOL):
            return node.value
        self.report(node, where, f"expected a name or number, got {_describe(node)}")
        return None

    def integer(self, node: Node, where: str) -> int | None:
        if not (isinstance(node, ScalarNode) and node.tag == _INT):
            self.report(node, where, f"expected a whole number, got {_describe(node)}")
            return None
        if len(node.value) > MAX_NUMBER_LENGTH:
            self.report(node, where, "this number is too large")
            return None
        try:
            return self._constructor.construct_yaml_int(node)
        except (ValueError, IndexError):  # an explicit !!int tag on something else
            self.report(node, where, "expected a whole number")
            return None

    def boolean(self, node: Node, where: str) -> bool | None:
        if not (isinstance(node, ScalarNode) and node.tag == _BOOL):
            self.report(node, where, f"expected true or false, got {_describe(node)}")
            return None
        value = self._constructor.bool_values.get(node.value.lower())
        if value is None:  # an explicit !!bool tag on something else
            self.report(node, where, "expected true or false")
        return value

    def flag(self, fields: Mapping[str, Node], key: str, where: str, default: bool) -> bool:
        if key not in fields:
            return default
        value = self.boolean(fields[key], f"{where}, {key}")
        return default if value is None else value

    def code(self, node: Node, where: str) -> str | None:
        """A code's value if its syntax is right (a letter, then letters, digits, . _ -)."""
        code = self.identifier(node, where)
        if code is None:
            return None
        if not CODE_PATTERN.fullmatch(code):
            self.report(
                node,
                where,
                f"bad code '{code}': a code starts with a letter, followed by at most 31 "
                "letters, digits, '.', '_' or '-'",
            )
            return None
        return code

    def text(self, node: Node, where: str) -> Text | None:
        """A text in every known language: a mapping {nl: ..., en: ...}."""
        if isinstance(node, ScalarNode) and node.tag == _STR:
            self.report(
                node,
                where,
                "expected a text per language ({nl: ..., en: ...}), got a single string",
            )
            return None
        entries = self.entries(node, where)
        if entries is None:
            return None
        translations: dict[str, str] = {}
        for language, (key_node, value_node) in entries.items():
            if language not in KNOWN_LANGUAGES:
                self.report(
                    key_node,
                    where,
                    f"unknown language '{language}' (known: {', '.join(sorted(KNOWN_LANGUAGES))})",
                )
                continue
            value = self.string(value_node, f"{where}.{language}")
            if value is not None and not value.strip():
                self.report(value_node, where, f"the '{language}' translation is empty")
            elif value is not None:
                translations[language] = value
        missing = [language for language in KNOWN_LANGUAGES if language not in entries]
        for language in missing:
            self.report(node, where, f"missing the '{language}' translation")
        return Text(
            {
                language: translations[language]
                for language in KNOWN_LANGUAGES
                if language in translations
            }
        )

    def optional_text(self, fields: Mapping[str, Node], key: str, where: str) -> Text | None:
        return self.text(fields[key], f"{where}, {key}") if key in fields else None

    @staticmethod
    def name_of(node: Node, path: str, kind: str) -> str:
        """How problems name a section, scale, group or item: "item A2.3", else its path."""
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value == "code":
                    if isinstance(value, ScalarNode) and CODE_PATTERN.fullmatch(value.value):
                        return f"{kind} {value.value}"
                    break
        return path

    def own_code(self, fields: Mapping[str, Node], kind: str, where: str) -> str | None:
        """Read the `code` of a section, scale, group or item and claim it in the namespace."""
        if "code" not in fields:
            return None
        node = fields["code"]
        code = self.code(node, where)
        if code is None:
            return None
        if code in self._codes:
            other, line = self._codes[code]
            self.report(
                node, where, f"duplicate code '{code}': also used by the {other} on line {line}"
            )
        else:
            self._codes[code] = (kind, _line(node))
        return code

    # The instrument, top-down

    def read_instrument(self, root: MappingNode, content: str) -> Instrument | None:
        fields = self.fields(
            root,
            "",
            required={"instrument", "version", "languages", "title", "sections"},
            optional={"introduction"},
        )
        assert fields is not None  # noqa: S101  (type narrowing: the root is always a mapping here)
        instrument_id = self._read_instrument_id(fields)
        version = self._read_version(fields)
        languages = self._read_languages(fields)
        title = self.optional_text(fields, "title", "")
        introduction = self.optional_text(fields, "introduction", "")
        sections = self._read_sections(fields)
        if instrument_id is None or version is None or title is None:
            return None
        return Instrument(
            id=instrument_id,
            version=version,
            languages=languages,
            title=title,
            introduction=introduction,
            sections=sections,
            content=content,
            sha256=content_sha256(content),
        )

    def _read_instrument_id(self, fields: Mapping[str, Node]) -> str | None:
        if "instrument" not in fields:
            return None
        node = fields["instrument"]
        instrument_id = self.identifier(node, "instrument")
        if instrument_id is not None and not INSTRUMENT_ID_PATTERN.fullmatch(instrument_id):
            self.report(
                node,
                "instrument",
                f"bad instrument id '{instrument_id}': use 2 to 64 lowercase letters, digits "
                "and '-'",
            )
            return None
        return instrument_id

    def _read_version(self, fields: Mapping[str, Node]) -> str | None:
        if "version" not in fields:
            return None
        node = fields["version"]
        version = self.identifier(node, "version")
        if version is not None and not 1 <= len(version) <= MAX_VERSION_LENGTH:
            self.report(node, "version", f"a version has 1 to {MAX_VERSION_LENGTH} characters")
            return None
        return version

    def _read_languages(self, fields: Mapping[str, Node]) -> tuple[str, ...]:
        if "languages" not in fields:
            return KNOWN_LANGUAGES
        node = fields["languages"]
        nodes = self.sequence(node, "languages")
        if nodes is None:
            return KNOWN_LANGUAGES
        languages: list[str] = []
        for index, language_node in enumerate(nodes):
            language = self.identifier(language_node, f"languages[{index}]")
            if language is None:
                continue
            if language not in KNOWN_LANGUAGES:
                self.report(
                    language_node,
                    "languages",
                    f"unknown language '{language}' (known: {', '.join(sorted(KNOWN_LANGUAGES))})",
                )
            elif language in languages:
                self.report(language_node, "languages", f"language '{language}' is listed twice")
            else:
                languages.append(language)
        if set(languages) != set(KNOWN_LANGUAGES):
            missing = [language for language in KNOWN_LANGUAGES if language not in languages]
            self.report(
                node,
                "languages",
                f"languages must contain both nl and en (missing: {', '.join(missing)})",
            )
        elif languages[0] != KNOWN_LANGUAGES[0]:
            self.report(node, "languages", "nl must come first: the first language is the default")
        return tuple(languages)

    def _read_sections(self, fields: Mapping[str, Node]) -> tuple[Section, ...]:
        if "sections" not in fields:
            return ()
        nodes = self.sequence(fields["sections"], "sections")
        if nodes is None:
            return ()
        if not nodes:
            self.report(fields["sections"], "sections", "an instrument needs at least one section")
        sections = (self._read_section(node, f"sections[{i}]") for i, node in enumerate(nodes))
        return tuple(section for section in sections if section is not None)

    def _read_section(self, node: Node, path: str) -> Section | None:
        where = self.name_of(node, path, "section")
        fields = self.fields(
            node,
            where,
            required={"code", "title"},
            optional={"description", "scales", "groups", "items"},
        )
        if fields is None:
            return None
        code = self.own_code(fields, "section", where)
        title = self.optional_text(fields, "title", where)
        description = self.optional_text(fields, "description", where)
        lists = [self._sequence_at(fields, key, where) for key in ("scales", "groups", "items")]
        if not any(lists) and None not in lists:
            self.report(node, where, "a section needs items: add scales, groups or items")
        scale_nodes, group_nodes, item_nodes = (nodes or [] for nodes in lists)
        # With a bad section code its items are still checked; the instrument is not built anyway.
        scales = [
            self._read_item_set(child, f"{path}.scales[{i}]", code or "", Scale)
            for i, child in enumerate(scale_nodes)
        ]
        groups = [
            self._read_item_set(child, f"{path}.groups[{i}]", code or "", Group)
            for i, child in enumerate(group_nodes)
        ]
        items = [
            self._read_item(child, f"{path}.items[{i}]", code or "")
            for i, child in enumerate(item_nodes)
        ]
        if code is None or title is None:
            return None
        return Section(
            code=code,
            title=title,
            description=description,
            scales=tuple(scale for scale in scales if scale is not None),
            groups=tuple(group for group in groups if group is not None),
            items=tuple(read.item for read in items if read is not None),
        )

    def _sequence_at(self, fields: Mapping[str, Node], key: str, where: str) -> list[Node] | None:
        """The entries of an optional list; [] when absent, None when it is not a list."""
        if key not in fields:
            return []
        return self.sequence(fields[key], f"{where}, {key}")

    def _read_item_set(
        self, node: Node, path: str, section: str, kind: type[Scale] | type[Group]
    ) -> Scale | Group | None:
        """A scale (scored, 3–5 Likert items of one type) or a group (unscored, ≥ 1 item)."""
        name = kind.membership
        where = self.name_of(node, path, name)
        entries = self.entries(node, where)
        if entries is None:
            return None
        group_keys = {"figure", "domains"}
        fields = self.check_keys(
            node,
            entries,
            where,
            required={"code", "title", "items"},
            allowed={"code", "title", "items", "description", "reflect"}
            | (group_keys if kind is Group else set()),
            misplaced={} if kind is Group else {"domains": DOMAINS_ON_A_SCALE},
        )
        code = self.own_code(fields, name, where)
        title = self.optional_text(fields, "title", where)
        description = self.optional_text(fields, "description", where)
        reflect = self.optional_text(fields, "reflect", where)
        figure = self._figure(fields, where)
        domains = self.flag(fields, "domains", where, default=False)
        if domains and figure:
            self.report(
                fields["domains"],
                where,
                f"a group drawn as figure '{figure}' cannot hold life domains (domains: true): "
                "leaving a domain out would break the figure",
            )
        item_nodes = self._sequence_at(fields, "items", where)
        if item_nodes is None:
            return None
        if "items" in fields and kind is Scale and len(item_nodes) not in SCALE_SIZE:
            self.report(node, where, f"a scale needs 3 to 5 items, this one has {len(item_nodes)}")
        if "items" in fields and kind is Group and not item_nodes:
            self.report(fields["items"], where, "a group needs at least one item")
        items = [
            read
            for i, child in enumerate(item_nodes)
            if (read := self._read_item(child, f"{path}.items[{i}]", section, **{name: code}))
        ]
        if kind is Scale:
            self._check_scale_items(items, where)
        needed = FIGURE_SIZES.get(figure or "")
        if needed and "items" in fields and len(items) != needed:
            message = f"figure '{figure}' needs {needed} items, this group has {len(items)}"
            self.report(fields["figure"], where, message)
        if code is None or title is None:
            return None
        item_set = kind(
            code=code,
            title=title,
            description=description,
            reflect=reflect,
            figure=figure,
            items=tuple(r.item for r in items),
        )
        return replace(item_set, domains=True) if domains else item_set

    def _figure(self, fields: Mapping[str, Node], where: str) -> str | None:
        if "figure" not in fields:
            return None
        figure = self.string(fields["figure"], f"{where}, figure")
        if figure is not None and figure not in FIGURE_SIZES:
            self.report(
                fields["figure"],
                where,
                f"unknown figure '{figure}' (allowed: {', '.join(sorted(FIGURE_SIZES))})",
            )
            return None
        return figure

    def _check_scale_items(self, items: list[_ReadItem], where: str) -> None:
        """Only Likert items of one type, and at most one of them reversed."""
        first_likert: _ReadItem | None = None
        reversed_items: list[_ReadItem] = []
        for read in items:
            item, type_node = read.item, read.fields["type"]
            if not read.item_type.is_likert:
                self.report(
                    type_node,
                    f"item {item.code}",
                    f"a scale may only hold Likert items ({', '.join(LIKERT_TYPES)}), "
                    f"not a {item.type} item: move it to the section's items",
                )
            elif first_likert is None:
                first_likert = read
            elif item.type != first_likert.item.type:
                first, first_line = first_likert.item, _line(first_likert.fields["type"])
                self.report(
                    type_node,
                    f"item {item.code}",
                    f"{where} mixes Likert types: this item is {item.type}, "
                    f"item {first.code} (line {first_line}) is {first.type}",
                )
            if item.reverse:
                reversed_items.append(read)
        if len(reversed_items) > 1:
            codes = ", ".join(read.item.code for read in reversed_items)
            self.report(
                reversed_items[1].fields["reverse"],
                where,
                f"more than one reversed item ({codes}); a scale may have at most one",
            )

    def _read_item(
        self,
        node: Node,
        path: str,
        section: str,
        scale: str | None = None,
        group: str | None = None,
    ) -> _ReadItem | None:
        where = self.name_of(node, path, "item")
        entries = self.entries(node, where)
        if entries is None:
            return None
        code = self.own_code({key: value for key, (_, value) in entries.items()}, "item", where)
        item_type = self._read_item_type(entries, where)
        if item_type is None:
            # Without a known type, its own keys cannot be judged: leave them alone.
            allowed = COMMON_ITEM_KEYS | TYPE_KEYS.keys()
            required = {"code", "type", "text"}
            misplaced = {}
        else:
            allowed = COMMON_ITEM_KEYS | item_type.keys
            required = {"code", "type", "text"} | item_type.required_keys
            misplaced = {
                key: f"'{key}' is not allowed on a {item_type.name} item "
                f"(only on {', '.join(types)})"
                for key, types in TYPE_KEYS.items()
                if key not in item_type.keys
            }
        fields = self.check_keys(node, entries, where, required, allowed, misplaced)
        text = self.optional_text(fields, "text", where)
        hint = self.optional_text(fields, "hint", where)
        required_flag = self.flag(fields, "required", where, default=False)
        optional_flag = self.flag(fields, "optional", where, default=False)
        if item_type is None:
            return None
        type_fields = item_type.read(fields, self, where)
        if code is None or text is None:
            return None
        item = Item(
            code=code,
            type=item_type.name,
            text=text,
            section=section,
            scale=scale,
            group=group,
            hint=hint,
            required=required_flag,
            optional=optional_flag,
            **type_fields,
        )
        return _ReadItem(item, item_type, fields)

    def _read_item_type(
        self, entries: Mapping[str, tuple[Node, Node]], where: str
    ) -> ItemType | None:
        if "type" not in entries:
            return None
        node = entries["type"][1]
        name = self.identifier(node, f"{where}, type")
        if name is None:
            return None
        if name not in ITEM_TYPES:
            self.report(
                node,
                where,
                f"unknown item type '{name}' (known: {', '.join(sorted(ITEM_TYPES))})",
            )
            return None
        return ITEM_TYPES[name]


@dataclass(frozen=True)
class _ReadItem:
    """An item with the nodes it was read from, for the checks across a scale."""

    item: Item
    item_type: ItemType
    fields: Mapping[str, Node]
