"""The item type registry: one `ItemType` per value of an item's `type:` key.

Each type knows the keys it takes in the YAML file (and checks them), the kinds of answer it
stores, the built-in labels of its answer points, and which submitted values are valid. Later
code looks types up by name: ``ITEM_TYPES[item.type]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from yaml.nodes import Node

from questionnaires.text import GridEntry, Option, Text

if TYPE_CHECKING:  # annotations only: the model imports this registry
    from questionnaires.model import Item

LIKERT_POINTS = range(1, 6)
MAX_LENGTH_DEFAULT = 2000
MAX_LENGTH_LIMIT = 10000
#: Option codes are stored in an integer column.
OPTION_CODE_RANGE = range(-(2**31), 2**31)


class AnswerKind(StrEnum):
    """What one stored answer holds."""

    #: an integer: a Likert point 1..5 or a single_choice option code
    VALUE = "value"
    #: "weet ik niet / n.v.t.", stored apart and never counted as a scale point
    DONT_KNOW = "dont_know"
    #: one ticked grid cell (row code, column code)
    CELL = "cell"
    #: free text
    TEXT = "text"


FREQUENCY_LABELS = (
    Text(nl="nooit", en="never"),
    Text(nl="zelden", en="rarely"),
    Text(nl="soms", en="sometimes"),
    Text(nl="vaak", en="often"),
    Text(nl="(bijna) altijd", en="(almost) always"),
)
AGREEMENT_LABELS = (
    Text(nl="helemaal oneens", en="strongly disagree"),
    Text(nl="oneens", en="disagree"),
    Text(nl="niet eens, niet oneens", en="neither agree nor disagree"),
    Text(nl="eens", en="agree"),
    Text(nl="helemaal eens", en="strongly agree"),
)
DONT_KNOW_LABEL = Text(nl="weet ik niet / n.v.t.", en="don't know / not applicable")


class FieldReader(Protocol):
    """What the loader offers an item type to read its own keys (`questionnaires.node_reader`).

    Every method reports its own problems and returns None when the value is unusable.
    """

    def report(self, node: Node, where: str, message: str) -> None: ...

    def flag(self, fields: Mapping[str, Node], key: str, where: str, default: bool) -> bool: ...

    def integer(self, node: Node, where: str) -> int | None: ...

    def sequence(self, node: Node, where: str) -> list[Node] | None: ...

    def fields(
        self, node: Node, where: str, required: Iterable[str], optional: Iterable[str] = ...
    ) -> dict[str, Node] | None: ...

    def text(self, node: Node, where: str) -> Text | None: ...

    def code(self, node: Node, where: str) -> str | None: ...


class ItemType:
    """Base of the item types; the registry holds one instance per type."""

    name: str
    #: keys this type takes beyond the common ones (code, type, text, hint, required, optional)
    keys: frozenset[str] = frozenset()
    required_keys: frozenset[str] = frozenset()
    #: every kind of answer an item of this type may store
    answer_kinds: frozenset[AnswerKind]
    is_likert = False

    def read(self, fields: Mapping[str, Node], reader: FieldReader, where: str) -> dict[str, Any]:
        """Check this type's keys in `fields` and return them as `Item` keyword arguments."""
        return {}

    def answer_kinds_of(self, item: Item) -> frozenset[AnswerKind]:
        return self.answer_kinds

    def valid_values(self, item: Item) -> frozenset[int]:
        """The integers a VALUE answer to `item` may hold."""
        return frozenset()

    def valid_cells(self, item: Item) -> frozenset[tuple[str, str]]:
        """The (row code, column code) pairs a CELL answer to `item` may hold."""
        return frozenset()

    def choices(self, item: Item) -> tuple[tuple[int, Text], ...]:
        """(value, label) pairs to offer, in order; DONT_KNOW is not among them."""
        return ()

    def __repr__(self) -> str:
        return f"<ItemType {self.name}>"


class LikertType(ItemType):
    """Five ordered points with built-in labels, plus an optional separate "don't know"."""

    keys = frozenset({"dont_know", "reverse"})
    answer_kinds = frozenset({AnswerKind.VALUE, AnswerKind.DONT_KNOW})
    is_likert = True
    dont_know_label = DONT_KNOW_LABEL

    def __init__(self, name: str, labels: tuple[Text, ...]):
        self.name = name
        self.labels = labels

    def read(self, fields: Mapping[str, Node], reader: FieldReader, where: str) -> dict[str, Any]:
        return {
            "dont_know": reader.flag(fields, "dont_know", where, default=True),
            "reverse": reader.flag(fields, "reverse", where, default=False),
        }

    def answer_kinds_of(self, item: Item) -> frozenset[AnswerKind]:
        return self.answer_kinds if item.dont_know else frozenset({AnswerKind.VALUE})

    def valid_values(self, item: Item) -> frozenset[int]:
        return frozenset(LIKERT_POINTS)

    def choices(self, item: Item) -> tuple[tuple[int, Text], ...]:
        return tuple(zip(LIKERT_POINTS, self.labels, strict=True))

    def label(self, value: int) -> Text:
        return self.labels[value - 1]


class SingleChoiceType(ItemType):
    """One of the item's own options; with `background: true` a background question."""

    name = "single_choice"
    keys = frozenset({"options", "background"})
    required_keys = frozenset({"options"})
    answer_kinds = frozenset({AnswerKind.VALUE})

    def read(self, fields: Mapping[str, Node], reader: FieldReader, where: str) -> dict[str, Any]:
        options = _read_labelled(
            fields, "options", reader, where, _option_code, minimum=2, owner="a single_choice item"
        )
        return {
            "options": tuple(Option(code, label) for code, label in options),
            "background": reader.flag(fields, "background", where, default=False),
        }

    def valid_values(self, item: Item) -> frozenset[int]:
        return frozenset(option.code for option in item.options)

    def choices(self, item: Item) -> tuple[tuple[int, Text], ...]:
        return tuple((option.code, option.label) for option in item.options)


class GridType(ItemType):
    """A tick grid: each ticked row x column cell is one stored answer."""

    name = "grid"
    keys = frozenset({"rows", "columns"})
    required_keys = keys
    answer_kinds = frozenset({AnswerKind.CELL})

    def read(self, fields: Mapping[str, Node], reader: FieldReader, where: str) -> dict[str, Any]:
        return {
            key: tuple(
                GridEntry(code, label)
                for code, label in _read_labelled(
                    fields, key, reader, where, _grid_code, minimum=1, owner="a grid"
                )
            )
            for key in ("rows", "columns")
        }

    def valid_cells(self, item: Item) -> frozenset[tuple[str, str]]:
        return frozenset((row.code, column.code) for row in item.rows for column in item.columns)


class TextType(ItemType):
    """An open question answered in free text of at most `max_length` characters."""

    name = "text"
    keys = frozenset({"max_length"})
    answer_kinds = frozenset({AnswerKind.TEXT})

    def read(self, fields: Mapping[str, Node], reader: FieldReader, where: str) -> dict[str, Any]:
        if "max_length" not in fields:
            return {"max_length": MAX_LENGTH_DEFAULT}
        node, where = fields["max_length"], f"{where}, max_length"
        max_length = reader.integer(node, where)
        if max_length is not None and not 1 <= max_length <= MAX_LENGTH_LIMIT:
            reader.report(
                node,
                where,
                f"max_length must be between 1 and {MAX_LENGTH_LIMIT}, got {max_length}",
            )
        return {"max_length": max_length}


Code = TypeVar("Code", int, str)


def _option_code(reader: FieldReader, node: Node, where: str) -> int | None:
    code = reader.integer(node, where)
    if code is not None and code not in OPTION_CODE_RANGE:
        reader.report(node, where, f"option code {code} is out of range (-2^31 .. 2^31-1)")
        return None
    return code


def _grid_code(reader: FieldReader, node: Node, where: str) -> str | None:
    return reader.code(node, where)


def _read_labelled(
    fields: Mapping[str, Node],
    key: str,
    reader: FieldReader,
    where: str,
    read_code: Callable[[FieldReader, Node, str], Code | None],
    *,
    minimum: int,
    owner: str,
) -> list[tuple[Code, Text]]:
    """Read a list of {code, label} entries (options, grid rows or columns) with unique codes."""
    if key not in fields:
        return []
    where = f"{where}, {key}"
    nodes = reader.sequence(fields[key], where)
    if nodes is None:
        return []
    noun = key.removesuffix("s")
    if len(nodes) < minimum:
        plural = "s" if minimum > 1 else ""
        reader.report(
            fields[key], where, f"{owner} needs at least {minimum} {noun}{plural}, got {len(nodes)}"
        )
    entries = []
    first_lines: dict[Code, int] = {}
    for index, node in enumerate(nodes):
        entry_where = f"{where}[{index}]"
        entry = reader.fields(node, entry_where, required={"code", "label"})
        if entry is None:
            continue
        label = reader.text(entry["label"], f"{entry_where}.label") if "label" in entry else None
        if "code" not in entry:
            continue
        code_node, code_where = entry["code"], f"{entry_where}.code"
        code = read_code(reader, code_node, code_where)
        if code is None:
            continue
        if code in first_lines:
            shown = f"'{code}'" if isinstance(code, str) else str(code)
            reader.report(
                code_node,
                code_where,
                f"duplicate {noun} code {shown} (first at line {first_lines[code]})",
            )
            continue
        first_lines[code] = code_node.start_mark.line + 1
        if label is not None:
            entries.append((code, label))
    return entries


ITEM_TYPES: Mapping[str, ItemType] = MappingProxyType(
    {
        item_type.name: item_type
        for item_type in (
            LikertType("frequency5", FREQUENCY_LABELS),
            LikertType("agreement5", AGREEMENT_LABELS),
            SingleChoiceType(),
            GridType(),
            TextType(),
        )
    }
)
LIKERT_TYPES = tuple(sorted(name for name, t in ITEM_TYPES.items() if t.is_likert))
#: every type-specific key, with the types that take it
TYPE_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        key: tuple(sorted(name for name, t in ITEM_TYPES.items() if key in t.keys))
        for key in sorted(set().union(*(t.keys for t in ITEM_TYPES.values())))
    }
)
