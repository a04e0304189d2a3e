"""The questionnaire as immutable data: what the loader builds and what the database stores.

`Instrument.to_dict()` is the JSON form kept with a survey wave; `Instrument.from_dict()` turns it
back into the same objects without re-validating the YAML.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any, ClassVar, Self, TypeVar

from questionnaires.item_types import ITEM_TYPES, AnswerKind, ItemType
from questionnaires.text import GridEntry, Option, Text

#: Bump when the shape of `Instrument.to_dict()` changes in a way `from_dict` must know about.
SCHEMA_VERSION = 1

_T = TypeVar("_T")


def _text_or_none(value: Mapping[str, str] | None) -> Text | None:
    return None if value is None else Text(value)


def _dict_or_none(text: Text | None) -> dict[str, str] | None:
    return None if text is None else text.to_dict()


@dataclass(frozen=True)
class Item:
    """One question. `section`, `scale` and `group` are the codes of the sets it belongs to.

    Fields that a type does not take keep their default (see `questionnaires.item_types`).
    """

    code: str
    type: str
    text: Text
    section: str
    scale: str | None = None
    group: str | None = None
    hint: Text | None = None
    required: bool = False
    #: An organisation may switch this item off for its teams.
    optional: bool = False
    #: Likert only: offer the separate "weet ik niet / n.v.t." answer.
    dont_know: bool = False
    #: Likert only: scored turned round (``reports.scores.reversed_value``: 6 − value).
    reverse: bool = False
    #: single_choice only: a background question (role, years in the team).
    background: bool = False
    options: tuple[Option, ...] = ()
    rows: tuple[GridEntry, ...] = ()
    columns: tuple[GridEntry, ...] = ()
    #: text only.
    max_length: int | None = None

    @property
    def item_type(self) -> ItemType:
        return ITEM_TYPES[self.type]

    @property
    def answer_kinds(self) -> frozenset[AnswerKind]:
        """The kinds of answer this item stores, e.g. {"value", "dont_know"}."""
        return self.item_type.answer_kinds_of(self)

    @property
    def valid_values(self) -> frozenset[int]:
        """The integers a "value" answer may hold (empty when the item stores no values)."""
        return self.item_type.valid_values(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "type": self.type,
            "text": self.text.to_dict(),
            "hint": _dict_or_none(self.hint),
            "required": self.required,
            "optional": self.optional,
            "dont_know": self.dont_know,
            "reverse": self.reverse,
            "background": self.background,
            "options": [option.to_dict() for option in self.options],
            "rows": [row.to_dict() for row in self.rows],
            "columns": [column.to_dict() for column in self.columns],
            "max_length": self.max_length,
        }

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        section: str,
        scale: str | None = None,
        group: str | None = None,
    ) -> Item:
        return cls(
            code=data["code"],
            type=data["type"],
            text=Text(data["text"]),
            section=section,
            scale=scale,
            group=group,
            hint=_text_or_none(data["hint"]),
            required=data["required"],
            optional=data["optional"],
            dont_know=data["dont_know"],
            reverse=data["reverse"],
            background=data["background"],
            options=tuple(Option.from_dict(option) for option in data["options"]),
            rows=tuple(GridEntry.from_dict(row) for row in data["rows"]),
            columns=tuple(GridEntry.from_dict(column) for column in data["columns"]),
            max_length=data["max_length"],
        )


@dataclass(frozen=True)
class _ItemSet:
    code: str
    title: Text
    items: tuple[Item, ...]
    description: Text | None = None
    #: A question for the team meeting about this scale or group, offered with the results.
    reflect: Text | None = None
    #: How results draw a group: "strength_sources" = the strengths model's own picture (six
    #: items in the model's order: aspirations, competencies, confidence, then resources,
    #: relations, opportunities); None = bars.
    figure: str | None = None

    #: The field of `Item` that names the set an item belongs to.
    membership: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title.to_dict(),
            "description": _dict_or_none(self.description),
            "reflect": _dict_or_none(self.reflect),
            "figure": self.figure,
            "items": [item.to_dict() for item in self.items],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, section: str) -> Self:
        code = data["code"]
        member_of = {cls.membership: code}
        return cls(
            code=code,
            title=Text(data["title"]),
            description=_text_or_none(data["description"]),
            # Definitions stored before these keys existed have neither.
            reflect=_text_or_none(data.get("reflect")),
            figure=data.get("figure"),
            items=tuple(Item.from_dict(d, section=section, **member_of) for d in data["items"]),
        )


@dataclass(frozen=True)
class Scale(_ItemSet):
    """A scored scale: a respondent's score is the mean of its (3 to 5) Likert items."""

    membership: ClassVar[str] = "scale"

    @property
    def item_type(self) -> str:
        """The Likert type that all items of the scale share."""
        return self.items[0].type


@dataclass(frozen=True)
class Group(_ItemSet):
    """An unscored set of items, reported item by item (e.g. the six strength sources)."""

    #: The items are life domains: an organisation may leave some of them out.
    domains: bool = False

    membership: ClassVar[str] = "group"

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "domains": self.domains}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, section: str) -> Self:
        group = super().from_dict(data, section=section)
        # Definitions stored before the key existed have no life domains.
        return replace(group, domains=data.get("domains", False))


@dataclass(frozen=True)
class Section:
    """One page for the respondent: its scales, then its groups, then its stand-alone items."""

    code: str
    title: Text
    description: Text | None = None
    scales: tuple[Scale, ...] = ()
    groups: tuple[Group, ...] = ()
    items: tuple[Item, ...] = ()

    def all_items(self) -> tuple[Item, ...]:
        """Every item of the section in the order the respondent sees them."""
        return (
            *(item for scale in self.scales for item in scale.items),
            *(item for group in self.groups for item in group.items),
            *self.items,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title.to_dict(),
            "description": _dict_or_none(self.description),
            "scales": [scale.to_dict() for scale in self.scales],
            "groups": [group.to_dict() for group in self.groups],
            "items": [item.to_dict() for item in self.items],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Section:
        code = data["code"]
        return cls(
            code=code,
            title=Text(data["title"]),
            description=_text_or_none(data["description"]),
            scales=tuple(Scale.from_dict(d, section=code) for d in data["scales"]),
            groups=tuple(Group.from_dict(d, section=code) for d in data["groups"]),
            items=tuple(Item.from_dict(d, section=code) for d in data["items"]),
        )


@dataclass(frozen=True)
class Principle:
    """One of the strengths model's own ideas (a principle or a starting point) and the scales
    that serve it: the results can then be read in the model's words beside the modules."""

    code: str
    title: Text
    #: The scale codes that serve it, in the file's order (at least one).
    scales: tuple[str, ...]
    #: The statement in full, as the model's source words it.
    description: Text | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title.to_dict(),
            "description": _dict_or_none(self.description),
            "scales": list(self.scales),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Principle:
        return cls(
            code=data["code"],
            title=Text(data["title"]),
            description=_text_or_none(data["description"]),
            scales=tuple(data["scales"]),
        )


#: The kinds of change a new version records against the version before (`changes` in the file).
CHANGE_KINDS = ("added", "removed", "moved", "replaced")


@dataclass(frozen=True)
class Change:
    """What changed for some codes since the previous version, and why: the codebook lists it.

    ``added``, ``moved`` and ``replaced`` name codes of this version; ``removed`` names codes it
    no longer has; ``replaced`` also names the old codes it ``replaces``."""

    kind: str
    codes: tuple[str, ...]
    reason: Text
    replaces: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "codes": list(self.codes),
            "reason": self.reason.to_dict(),
            "replaces": list(self.replaces),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        return cls(
            kind=data["kind"],
            codes=tuple(data["codes"]),
            reason=Text(data["reason"]),
            replaces=tuple(data["replaces"]),
        )


@dataclass(frozen=True)
class Context:
    """A setting the instrument can be asked in with wording of its own (e.g. youth care),
    declared under the file's `contexts`; a wave chooses one (`Instrument.in_context`)."""

    code: str
    title: Text
    description: Text | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title.to_dict(),
            "description": _dict_or_none(self.description),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Context:
        return cls(
            code=data["code"],
            title=Text(data["title"]),
            description=_text_or_none(data["description"]),
        )


@dataclass(frozen=True)
class Instrument:
    """One version of a questionnaire, as loaded from its YAML file.

    `content` is the file's text exactly as read; `sha256` is the hex digest of its UTF-8 bytes.
    """

    id: str
    version: str
    languages: tuple[str, ...]
    title: Text
    sections: tuple[Section, ...]
    content: str
    sha256: str
    introduction: Text | None = None
    #: The strengths model's principles and starting points, each with the scales serving it;
    #: empty when the file maps none (the key is optional).
    principles: tuple[Principle, ...] = ()
    starting_points: tuple[Principle, ...] = ()
    #: The version the file records its changes against ("1.3"), and those changes.
    changes_from: str | None = None
    changes: tuple[Change, ...] = ()
    #: The contexts the file declares, each with wording of its own for some of its texts.
    contexts: tuple[Context, ...] = ()
    #: The context whose wording every text holds (set by `in_context`); None for the file as
    #: written, whose texts still carry every context's wording as `Text.variants`.
    context: str | None = None

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def all_items(self) -> tuple[Item, ...]:
        """Every item in the order the respondent sees them."""
        return tuple(item for section in self.sections for item in section.all_items())

    def item(self, code: str) -> Item:
        """The item with this code; KeyError when there is none."""
        for item in self.all_items():
            if item.code == code:
                return item
        raise KeyError(f"instrument {self.id} version {self.version} has no item {code!r}")

    def scales(self) -> tuple[Scale, ...]:
        return tuple(scale for section in self.sections for scale in section.scales)

    def without(self, codes: Collection[str]) -> Instrument:
        """The instrument as asked when the items with these codes are left out.

        Sets and sections left without items are left out too. The content and its sha256 stay
        those of the file: this is a view of the same version, not a new one.
        """
        if not codes:
            return self
        codes = frozenset(codes)

        def kept(items: tuple[Item, ...]) -> tuple[Item, ...]:
            return tuple(item for item in items if item.code not in codes)

        sections = []
        for section in self.sections:
            scales = tuple(replace(s, items=kept(s.items)) for s in section.scales)
            groups = tuple(replace(g, items=kept(g.items)) for g in section.groups)
            section = replace(
                section,
                scales=tuple(scale for scale in scales if scale.items),
                groups=tuple(group for group in groups if group.items),
                items=kept(section.items),
            )
            if section.all_items():
                sections.append(section)
        return replace(self, sections=tuple(sections))

    def groups(self) -> tuple[Group, ...]:
        return tuple(group for section in self.sections for group in section.groups)

    def context_named(self, code: str) -> Context:
        """The declared context with this code; KeyError when there is none."""
        for context in self.contexts:
            if context.code == code:
                return context
        raise KeyError(f"instrument {self.id} version {self.version} has no context {code!r}")

    def in_context(self, code: str | None) -> Instrument:
        """The instrument as asked in the context `code` (None: the default wording).

        Every text (items, hints, options, sets, sections, introduction ...) holds the context's
        wording where the file gives one, else the default wording, and no variants. Codes,
        scales and scoring stay the same; so do the content and its sha256 (a view of the same
        version, as `without`). KeyError for a context the file does not declare.
        """
        if code is not None:
            self.context_named(code)
        if not self.contexts or (code is not None and code == self.context):
            return self
        if self.context is not None:
            raise ValueError(f"instrument {self.id} is read in context {self.context!r} already")
        return replace(_resolved(self, code), context=code, contexts=self.contexts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; `Instrument.from_dict` turns it back into an equal object."""
        return {
            "schema_version": SCHEMA_VERSION,
            "id": self.id,
            "version": self.version,
            "languages": list(self.languages),
            "title": self.title.to_dict(),
            "introduction": _dict_or_none(self.introduction),
            "sections": [section.to_dict() for section in self.sections],
            "principles": [principle.to_dict() for principle in self.principles],
            "starting_points": [point.to_dict() for point in self.starting_points],
            "changes_from": self.changes_from,
            "changes": [change.to_dict() for change in self.changes],
            "contexts": [context.to_dict() for context in self.contexts],
            "context": self.context,
            "content": self.content,
            "sha256": self.sha256,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Instrument:
        """Rebuild from `to_dict()` output; ValueError when the schema or checksum is off."""
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(
                f"unsupported instrument schema_version {data.get('schema_version')!r} "
                f"(expected {SCHEMA_VERSION})"
            )
        if content_sha256(data["content"]) != data["sha256"]:
            raise ValueError(f"instrument {data['id']}: sha256 does not match the content")
        return cls(
            id=data["id"],
            version=data["version"],
            languages=tuple(data["languages"]),
            title=Text(data["title"]),
            introduction=_text_or_none(data["introduction"]),
            sections=tuple(Section.from_dict(d) for d in data["sections"]),
            # Definitions stored before the mapping existed have neither list.
            principles=tuple(Principle.from_dict(d) for d in data.get("principles", ())),
            starting_points=tuple(Principle.from_dict(d) for d in data.get("starting_points", ())),
            changes_from=data.get("changes_from"),
            changes=tuple(Change.from_dict(d) for d in data.get("changes", ())),
            # Definitions stored before contexts existed have none.
            contexts=tuple(Context.from_dict(d) for d in data.get("contexts", ())),
            context=data.get("context"),
            content=data["content"],
            sha256=data["sha256"],
        )


def _resolved(value: _T, context: str | None) -> _T:
    """`value` with every Text in it (at any depth of dataclasses and tuples) read in `context`."""
    if isinstance(value, Text):
        return value.in_context(context)  # type: ignore[return-value]
    if isinstance(value, tuple):
        return tuple(_resolved(member, context) for member in value)  # type: ignore[return-value]
    if is_dataclass(value) and not isinstance(value, type):
        changes = {
            field.name: _resolved(getattr(value, field.name), context)
            for field in fields(value)
            if field.init
        }
        return replace(value, **changes)  # type: ignore[type-var]
    return value


def content_sha256(content: str) -> str:
    """Hex SHA-256 of the UTF-8 encoding of an instrument file's text."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()
