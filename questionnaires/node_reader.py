"""Reading values out of the nodes of an instrument file (YAML, or TOML made into the same
nodes), each problem reported with the line of the node it concerns."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from questionnaires.problems import MAX_NUMBER_LENGTH, Problem, line_of
from questionnaires.text import KNOWN_LANGUAGES, Text
from questionnaires.yaml_nodes import BOOL, FLOAT, INT, MAP, SEQ, STR, describe

CODE_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,31}")


class NodeReader:
    """Reads values out of nodes, collecting problems instead of stopping at one.

    Each reader reports what is wrong with its node and returns None; callers only use what
    they read when `problems` stays empty. The item types read their own keys with it
    (`questionnaires.item_types.FieldReader`).
    """

    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[Problem] = []
        self._constructor = SafeConstructor()
        #: The codes of the contexts the file declares: a text may hold their wording.
        self.contexts: frozenset[str] = frozenset()
        #: The declared contexts that some text gives wording for.
        self.used_contexts: set[str] = set()

    def report(self, node: Node, where: str, message: str) -> None:
        self.problems.append(Problem(self.filename, line_of(node), where, message))

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
        if not (isinstance(node, MappingNode) and node.tag == MAP):
            self.report(node, where, f"expected a mapping (key: value lines), got {describe(node)}")
            return None
        entries: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.report(
                    key_node, where, f"a key must be a plain name, not {describe(key_node)}"
                )
                continue
            key = key_node.value
            if key in entries:
                self.report(
                    key_node,
                    where,
                    f"duplicate key '{key}' (first at line {line_of(entries[key][0])}); "
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
        if not (isinstance(node, SequenceNode) and node.tag == SEQ):
            self.report(
                node, where, f"expected a list (lines starting with '- '), got {describe(node)}"
            )
            return None
        return list(node.value)

    def list_entries(self, fields: Mapping[str, Node], key: str) -> list[Node]:
        """The entries of the optional top-level list ``key``: none when it is absent or not a
        list; an empty list is reported (leave the key out instead)."""
        if key not in fields:
            return []
        nodes = self.sequence(fields[key], key)
        if nodes == []:
            message = f"'{key}' needs at least one entry (or leave the key out)"
            self.report(fields[key], key, message)
        return nodes or []

    def string(self, node: Node, where: str) -> str | None:
        if isinstance(node, ScalarNode) and node.tag == STR:
            return node.value
        message = f"expected a string, got {describe(node)}"
        if isinstance(node, ScalarNode) and node.tag in (BOOL, INT, FLOAT):
            message += f': put it in quotes, "{node.value}"'
        self.report(node, where, message)
        return None

    def identifier(self, node: Node, where: str) -> str | None:
        """A name-like scalar as written: `version: 1.10` gives "1.10", `code: no` gives "no"."""
        if isinstance(node, ScalarNode) and node.tag in (STR, INT, FLOAT, BOOL):
            return node.value
        self.report(node, where, f"expected a name or number, got {describe(node)}")
        return None

    def integer(self, node: Node, where: str) -> int | None:
        if not (isinstance(node, ScalarNode) and node.tag == INT):
            self.report(node, where, f"expected a whole number, got {describe(node)}")
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
        if not (isinstance(node, ScalarNode) and node.tag == BOOL):
            self.report(node, where, f"expected true or false, got {describe(node)}")
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

    def text(self, node: Node, where: str, variant_of: str | None = None) -> Text | None:
        """A text in every known language: a mapping {nl: ..., en: ...}, which may also hold,
        under the code of a declared context, that context's wording: {nl: ..., en: ...}.

        `variant_of` is the context whose wording `node` is: it cannot hold another one.
        """
        if isinstance(node, ScalarNode) and node.tag == STR:
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
        variants: dict[str, Text] = {}
        for key, (key_node, value_node) in entries.items():
            if key in KNOWN_LANGUAGES:
                value = self.string(value_node, f"{where}.{key}")
                if value is not None and not value.strip():
                    self.report(value_node, where, f"the '{key}' translation is empty")
                elif value is not None:
                    translations[key] = value
            elif key in self.contexts and variant_of is None:
                self.used_contexts.add(key)
                variant = self.text(value_node, f"{where}.{key}", variant_of=key)
                if variant is not None:
                    variants[key] = variant
            else:
                self._unknown_text_key(key, key_node, value_node, where, variant_of)
        missing = [language for language in KNOWN_LANGUAGES if language not in entries]
        for language in missing:
            self.report(node, where, f"missing the '{language}' translation")
        return Text(
            {
                **{
                    language: translations[language]
                    for language in KNOWN_LANGUAGES
                    if language in translations
                },
                **variants,
            }
        )

    def _unknown_text_key(
        self, key: str, key_node: Node, value_node: Node, where: str, variant_of: str | None
    ) -> None:
        if variant_of is not None and (key in self.contexts or isinstance(value_node, MappingNode)):
            message = (
                f"'{key}' inside the wording of context '{variant_of}': a context's wording "
                "holds only languages (put every context's wording next to the languages)"
            )
        elif isinstance(value_node, MappingNode):
            declared = ", ".join(sorted(self.contexts)) or "none"
            message = (
                f"unknown context '{key}': declare it under 'contexts' at the top of the file "
                f"(declared: {declared})"
            )
        else:
            message = f"unknown language '{key}' (known: {', '.join(sorted(KNOWN_LANGUAGES))})"
        self.report(key_node, where, message)

    def optional_text(self, fields: Mapping[str, Node], key: str, where: str) -> Text | None:
        return self.text(fields[key], f"{where}, {key}") if key in fields else None
