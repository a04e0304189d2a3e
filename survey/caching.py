"""Things built from an immutable object, kept for as long as the process lives."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class KeptPerObject(Generic[K, V]):
    """Values built from an object (a parsed instrument, a section) and a small key such as a
    language, looked up by the object's identity: hashing a large frozen dataclass on every
    request would cost more than the lookup saves. The object is kept with its value, so its id
    cannot be reused by another object while the entry lives. When full, everything is dropped
    (the objects are few: instruments × sections × languages)."""

    def __init__(self, size: int):
        self.size = size
        self._kept: dict[tuple[int, Hashable], tuple[K, V]] = {}

    def get(self, source: K, key: Hashable, build: Callable[[], V]) -> V:
        entry = (id(source), key)
        kept = self._kept.get(entry)
        if kept is None or kept[0] is not source:
            if len(self._kept) >= self.size:
                self._kept.clear()
            kept = self._kept[entry] = (source, build())
        return kept[1]
