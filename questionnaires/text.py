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

    Immutable and hashable; compares equal to a plain dict with the same translations.
    """

    __slots__ = ("_translations",)
    _translations: dict[str, str]

    def __init__(self, translations: Mapping[str, str] | None = None, /, **by_language: str):
        object.__setattr__(self, "_translations", {**(translations or {}), **by_language})

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

    def __hash__(self) -> int:
        return hash(frozenset(self._translations.items()))

    def __repr__(self) -> str:
        return f"Text({self._translations!r})"

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
        return {"code": self.code, "label": dict(self.label)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Option:
        return cls(code=data["code"], label=Text(data["label"]))


@dataclass(frozen=True)
class GridEntry:
    """A row or a column of a grid item."""

    code: str
    label: Text

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "label": dict(self.label)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GridEntry:
        return cls(code=data["code"], label=Text(data["label"]))
