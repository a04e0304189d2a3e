"""The instrument, top-down: its sections, their scales, groups and items, and the rules across
them (one namespace of codes, a scale of 3 to 5 Likert items of one type, figures' sizes).

`InstrumentReader` reads the nodes of a whole file with a `NodeReader` and builds the
`Instrument` (or None, with every problem in `problems`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from yaml.nodes import MappingNode, Node, ScalarNode

from questionnaires.change_reader import ChangeReader
from questionnaires.context_reader import ContextReader
from questionnaires.item_types import ITEM_TYPES, LIKERT_TYPES, TYPE_KEYS, ItemType
from questionnaires.model import Group, Instrument, Item, Scale, Section, content_sha256
from questionnaires.node_reader import CODE_PATTERN, NodeReader
from questionnaires.principle_reader import PRINCIPLE_KEYS, PrincipleReader
from questionnaires.problems import Problem, line_of
from questionnaires.text import KNOWN_LANGUAGES

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


class InstrumentReader:
    """Reads the nodes of one instrument file, collecting its problems instead of stopping at
    one. The `read_*` methods return None (or a partial object) when something is wrong;
    callers only use the result when `problems` stays empty."""

    def __init__(self, filename: str):
        self.reader = NodeReader(filename)
        #: code -> (what carries it, line): one namespace for sections, scales, groups and items
        self._codes: dict[str, tuple[str, int]] = {}

    @property
    def problems(self) -> list[Problem]:
        return self.reader.problems

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
        code = self.reader.code(node, where)
        if code is None:
            return None
        if code in self._codes:
            other, line = self._codes[code]
            self.reader.report(
                node, where, f"duplicate code '{code}': also used by the {other} on line {line}"
            )
        else:
            self._codes[code] = (kind, line_of(node))
        return code

    def carrier_of(self, code: str) -> tuple[str, int] | None:
        """What carries `code` in the file read so far ("scale", "item", ...) and its line."""
        return self._codes.get(code)

    def read_instrument(self, root: MappingNode, content: str) -> Instrument | None:
        fields = self.reader.fields(
            root,
            "",
            required={"instrument", "version", "languages", "title", "sections"},
            optional={"introduction", "changes", "contexts", *PRINCIPLE_KEYS},
        )
        assert fields is not None  # noqa: S101  (type narrowing: the root is always a mapping here)
        context_reader = ContextReader(self.reader)
        contexts = context_reader.read(fields)
        instrument_id = self._read_instrument_id(fields)
        version = self._read_version(fields)
        languages = self._read_languages(fields)
        title = self.reader.optional_text(fields, "title", "")
        introduction = self.reader.optional_text(fields, "introduction", "")
        sections = self._read_sections(fields)
        reader = PrincipleReader(self)
        principles = reader.read_list(fields, "principles")
        starting_points = reader.read_list(fields, "starting_points")
        changes_from, changes = ChangeReader(self).read(fields)
        context_reader.check_used()
        if instrument_id is None or version is None or title is None:
            return None
        return Instrument(
            id=instrument_id,
            version=version,
            languages=languages,
            title=title,
            introduction=introduction,
            sections=sections,
            principles=principles,
            starting_points=starting_points,
            changes_from=changes_from,
            changes=changes,
            contexts=contexts,
            content=content,
            sha256=content_sha256(content),
        )

    def _read_instrument_id(self, fields: Mapping[str, Node]) -> str | None:
        if "instrument" not in fields:
            return None
        node = fields["instrument"]
        instrument_id = self.reader.identifier(node, "instrument")
        if instrument_id is not None and not INSTRUMENT_ID_PATTERN.fullmatch(instrument_id):
            self.reader.report(
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
        version = self.reader.identifier(node, "version")
        if version is not None and not 1 <= len(version) <= MAX_VERSION_LENGTH:
            self.reader.report(
                node, "version", f"a version has 1 to {MAX_VERSION_LENGTH} characters"
            )
            return None
        return version

    def _read_languages(self, fields: Mapping[str, Node]) -> tuple[str, ...]:
        if "languages" not in fields:
            return KNOWN_LANGUAGES
        node = fields["languages"]
        nodes = self.reader.sequence(node, "languages")
        if nodes is None:
            return KNOWN_LANGUAGES
        languages: list[str] = []
        for index, language_node in enumerate(nodes):
            language = self.reader.identifier(language_node, f"languages[{index}]")
            if language is None:
                continue
            if language not in KNOWN_LANGUAGES:
                self.reader.report(
                    language_node,
                    "languages",
                    f"unknown language '{language}' (known: {', '.join(sorted(KNOWN_LANGUAGES))})",
                )
            elif language in languages:
                self.reader.report(
                    language_node, "languages", f"language '{language}' is listed twice"
                )
            else:
                languages.append(language)
        if set(languages) != set(KNOWN_LANGUAGES):
            missing = [language for language in KNOWN_LANGUAGES if language not in languages]
            self.reader.report(
                node,
                "languages",
                f"languages must contain both nl and en (missing: {', '.join(missing)})",
            )
        elif languages[0] != KNOWN_LANGUAGES[0]:
            self.reader.report(
                node, "languages", "nl must come first: the first language is the default"
            )
        return tuple(languages)

    def _read_sections(self, fields: Mapping[str, Node]) -> tuple[Section, ...]:
        if "sections" not in fields:
            return ()
        nodes = self.reader.sequence(fields["sections"], "sections")
        if nodes is None:
            return ()
        if not nodes:
            self.reader.report(
                fields["sections"], "sections", "an instrument needs at least one section"
            )
        sections = (self._read_section(node, f"sections[{i}]") for i, node in enumerate(nodes))
        return tuple(section for section in sections if section is not None)

    def _read_section(self, node: Node, path: str) -> Section | None:
        where = self.name_of(node, path, "section")
        fields = self.reader.fields(
            node,
            where,
            required={"code", "title"},
            optional={"description", "scales", "groups", "items"},
        )
        if fields is None:
            return None
        code = self.own_code(fields, "section", where)
        title = self.reader.optional_text(fields, "title", where)
        description = self.reader.optional_text(fields, "description", where)
        lists = [self._sequence_at(fields, key, where) for key in ("scales", "groups", "items")]
        if not any(lists) and None not in lists:
            self.reader.report(node, where, "a section needs items: add scales, groups or items")
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
        return self.reader.sequence(fields[key], f"{where}, {key}")

    def _read_item_set(
        self, node: Node, path: str, section: str, kind: type[Scale] | type[Group]
    ) -> Scale | Group | None:
        """A scale (scored, 3–5 Likert items of one type) or a group (unscored, ≥ 1 item)."""
        name = kind.membership
        where = self.name_of(node, path, name)
        entries = self.reader.entries(node, where)
        if entries is None:
            return None
        group_keys = {"figure", "domains"}
        fields = self.reader.check_keys(
            node,
            entries,
            where,
            required={"code", "title", "items"},
            allowed={"code", "title", "items", "description", "reflect"}
            | (group_keys if kind is Group else set()),
            misplaced={} if kind is Group else {"domains": DOMAINS_ON_A_SCALE},
        )
        code = self.own_code(fields, name, where)
        title = self.reader.optional_text(fields, "title", where)
        description = self.reader.optional_text(fields, "description", where)
        reflect = self.reader.optional_text(fields, "reflect", where)
        figure = self._figure(fields, where)
        domains = self._domains(fields, where, figure)
        item_nodes = self._sequence_at(fields, "items", where)
        if item_nodes is None:
            return None
        if "items" in fields:
            self._check_item_count(node, fields["items"], where, kind, len(item_nodes))
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
            self.reader.report(fields["figure"], where, message)
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

    def _check_item_count(
        self, node: Node, items: Node, where: str, kind: type[Scale] | type[Group], count: int
    ) -> None:
        if kind is Scale and count not in SCALE_SIZE:
            self.reader.report(node, where, f"a scale needs 3 to 5 items, this one has {count}")
        if kind is Group and not count:
            self.reader.report(items, where, "a group needs at least one item")

    def _domains(self, fields: Mapping[str, Node], where: str, figure: str | None) -> bool:
        """Whether a group's items are life domains, which a figure cannot leave out."""
        domains = self.reader.flag(fields, "domains", where, default=False)
        if domains and figure:
            self.reader.report(
                fields["domains"],
                where,
                f"a group drawn as figure '{figure}' cannot hold life domains (domains: true): "
                "leaving a domain out would break the figure",
            )
        return domains

    def _figure(self, fields: Mapping[str, Node], where: str) -> str | None:
        if "figure" not in fields:
            return None
        figure = self.reader.string(fields["figure"], f"{where}, figure")
        if figure is not None and figure not in FIGURE_SIZES:
            self.reader.report(
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
                self.reader.report(
                    type_node,
                    f"item {item.code}",
                    f"a scale may only hold Likert items ({', '.join(LIKERT_TYPES)}), "
                    f"not a {item.type} item: move it to the section's items",
                )
            elif first_likert is None:
                first_likert = read
            elif item.type != first_likert.item.type:
                first, first_line = first_likert.item, line_of(first_likert.fields["type"])
                self.reader.report(
                    type_node,
                    f"item {item.code}",
                    f"{where} mixes Likert types: this item is {item.type}, "
                    f"item {first.code} (line {first_line}) is {first.type}",
                )
            if item.reverse:
                reversed_items.append(read)
        if len(reversed_items) > 1:
            codes = ", ".join(read.item.code for read in reversed_items)
            self.reader.report(
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
        entries = self.reader.entries(node, where)
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
        fields = self.reader.check_keys(node, entries, where, required, allowed, misplaced)
        text = self.reader.optional_text(fields, "text", where)
        hint = self.reader.optional_text(fields, "hint", where)
        required_flag = self.reader.flag(fields, "required", where, default=False)
        optional_flag = self.reader.flag(fields, "optional", where, default=False)
        if item_type is None:
            return None
        type_fields = item_type.read(fields, self.reader, where)
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
        name = self.reader.identifier(node, f"{where}, type")
        if name is None:
            return None
        if name not in ITEM_TYPES:
            self.reader.report(
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
