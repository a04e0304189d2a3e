"""Texts in every language of an instrument, and the coded, labelled entries of its items.

The plain values below both the model (`questionnaires.model`) and the item types
(`questionnaires.item_types`), which build options and grid entries as they read a file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: Every text of an instrument is written in these languages; the first is the default.
KNOWN_LANGUAGES = ("nl", "en")


class Text(Mapping[str, str]):
    """A text in every language of the instrument: ``Text(nl="Ja", en="Yes")``.

    It may also hold the wording of context variants (FORMAT.md, "Contexts"): a value that is
    itself a mapping of languages, under the code of a declared context, e.g.
    ``Text({"nl": "cliënt", "en": "client", "jeugdhulp": {"nl": "jongere", "en": "youth"}})``.
    As a mapping a Text holds only its languages; `variants` holds the contexts' wording and
    `in_context` picks one.

    Immutable and hashable; compares equal to a plain dict with the same content (`to_dict`).
    """

    __slots__ = ("_translations", "_variants")
    _translations: dict[str, str]
    _variants: dict[str, Text]

    def __init__(
        self,
        translations: Mapping[str, str | Mapping[str, str]] | None = None,
        /,
        **by_language: str,
    ):
        languages: dict[str, str] = {}
        variants: dict[str, Text] = {}
        for key, value in {**(translations or {}), **by_language}.items():
            if isinstance(value, Mapping):
                variants[key] = value if isinstance(value, Text) else Text(value)
            else:
                languages[key] = value
        object.__setattr__(self, "_translations", languages)
        object.__setattr__(self, "_variants", variants)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Text is immutable")

    def __getitem__(self, language: str) -> str:
        return self._translations[language]

    def get(self, language: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """As ``Mapping.get``, without its raise-and-catch for a missing language (every label
        of every respondent's page is looked up this way)."""
        return self._translations.get(language, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._translations)

    def __len__(self) -> int:
        return len(self._translations)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Text):
            return self._translations == other._translations and self._variants == other._variants
        if isinstance(other, Mapping):
            return self.to_dict() == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((frozenset(self._translations.items()), frozenset(self._variants.items())))

    def __repr__(self) -> str:
        return f"Text({self.to_dict()!r})"

    @property
    def variants(self) -> Mapping[str, Text]:
        """The wording per context code, for the contexts that reword this text."""
        return self._variants

    def in_context(self, context: str | None) -> Text:
        """The text as read in `context` (None: the default wording), without variants."""
        if context is not None and context in self._variants:
            return self._variants[context]
        if not self._variants:
            return self
        return Text(self._translations)

    def to_dict(self) -> dict[str, Any]:
        """The languages, and each context's wording as a mapping of its own (as in the file)."""
        return {
            **self._translations,
            **{context: dict(variant) for context, variant in self._variants.items()},
        }

    def in_language(self, language: str) -> str:
        """The translation for `language`, else the first (default) language's."""
        if language in self._translations:
            return self._translations[language]
        return next(iter(self._translations.values()))


@dataclass(frozen=True)
class Option:
    """One answer option of a single_choice item; `code` is what is stored."""

    code: int
    label: Text

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Option:
        return cls(code=data["code"], label=Text(data["label"]))


@dataclass(frozen=True)
class GridEntry:
    """A row or a column of a grid item."""

    code: str
    label: Text

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GridEntry:
        return cls(code=data["code"], label=Text(data["label"]))
