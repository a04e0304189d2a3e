"""An instrument file in YAML, composed into nodes: safe loading, no anchors or aliases, and
reading bounded (`MAX_DEPTH`, `MAX_NODES`). The nodes keep the line of every value, so that
every problem found in them can say where it is.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from questionnaires.problems import (
    MAX_DEPTH,
    MAX_NODES,
    Problem,
    QuestionnaireError,
    line_of,
    too_deep,
    too_many,
)

TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (TAG + name for name in ("str", "int", "float", "bool", "null"))
MAP, SEQ = TAG + "map", TAG + "seq"
TIMESTAMP = TAG + "timestamp"
_SCALAR_DESCRIPTIONS = {
    STR: "a string",
    INT: "a whole number",
    FLOAT: "a number",
    BOOL: "a yes/no value",
    NULL: "nothing",
    TIMESTAMP: "a date",
}


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


def compose_yaml(text: str, filename: str) -> MappingNode:
    """The root mapping node of a YAML instrument file; QuestionnaireError when it cannot be
    read."""
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
    if not (isinstance(root, MappingNode) and root.tag == MAP):
        raise QuestionnaireError(
            [
                Problem(
                    filename,
                    line_of(root),
                    "",
                    f"the file must be a mapping of keys (instrument:, version:, ...), "
                    f"not {describe(root)}",
                )
            ]
        )
    return root


def _mark_line(mark: yaml.Mark | None) -> int | None:
    return None if mark is None else mark.line + 1


def describe(node: Node) -> str:
    """How problems name what was found: "a mapping", "a list", "a whole number" ..."""
    if isinstance(node, MappingNode) and node.tag == MAP:
        return "a mapping"
    if isinstance(node, SequenceNode) and node.tag == SEQ:
        return "a list"
    if isinstance(node, ScalarNode) and node.tag in _SCALAR_DESCRIPTIONS:
        return _SCALAR_DESCRIPTIONS[node.tag]
    return f"a value tagged {node.tag}"
