"""The respondent's pages: an instrument cut into pages a thumb can finish.

A page holds at most ``MAX_ITEMS_PER_PAGE`` items, and never splits a scale or a group: the
units a page is made of are whole scales, whole groups and stand-alone items, in the section's
order. A section that does not fit on one page becomes as few pages as it must, as evenly
filled as whole units allow (module A's eight scales of four items: 12, 12 and 8). A unit
larger than the limit gets a page of its own. Sections never share a page. Pure Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from questionnaires.model import Group, Instrument, Item, Scale, Section
from questionnaires.text import Text

MAX_ITEMS_PER_PAGE = 12

#: A unit a page is made of: a scale, a group, or a stand-alone item.
Unit = Scale | Group | Item


@dataclass(frozen=True, eq=False)
class Page:
    """One page for the respondent: part ``part`` of ``parts`` of its section, with the
    section's scales, groups and stand-alone items that fall on it (in that order, as in
    ``Section.all_items``). Compared by identity: an instrument's pages are built once."""

    number: int
    section: Section
    part: int
    parts: int
    #: the position of the page's first item among all the instrument's items (1-based)
    first_question: int
    scales: tuple[Scale, ...] = ()
    groups: tuple[Group, ...] = ()
    items: tuple[Item, ...] = ()

    @property
    def title(self) -> Text:
        return self.section.title

    @property
    def description(self) -> Text | None:
        """The section's description, on its first page only."""
        return self.section.description if self.part == 1 else None

    def all_items(self) -> tuple[Item, ...]:
        return (
            *(item for scale in self.scales for item in scale.items),
            *(item for group in self.groups for item in group.items),
            *self.items,
        )

    @property
    def last_question(self) -> int:
        return self.first_question + len(self.all_items()) - 1


def _size(unit: Unit) -> int:
    return 1 if isinstance(unit, Item) else len(unit.items)


def _greedy(sizes: Sequence[int], limit: int) -> list[int]:
    """How many units go on each page when pages are filled in order up to ``limit`` items
    (a unit over the limit alone on its page)."""
    runs: list[int] = []
    filled = 0
    for size in sizes:
        if runs and filled + size <= limit:
            runs[-1] += 1
            filled += size
        else:
            runs.append(1)
            filled = size
    return runs


def split_sizes(sizes: Sequence[int], limit: int = MAX_ITEMS_PER_PAGE) -> list[int]:
    """How many consecutive units go on each page: the fewest pages that keep every page within
    ``limit`` items (or one unit), as evenly filled as possible (the lowest limit that still
    needs no more pages, filled in order)."""
    if not sizes:
        return []
    fewest = len(_greedy(sizes, limit))
    for lower in range(max(max(sizes), -(-sum(sizes) // fewest)), limit):
        runs = _greedy(sizes, lower)
        if len(runs) == fewest:
            return runs
    return _greedy(sizes, limit)


def _section_pages(section: Section, number: int, first_question: int, limit: int) -> list[Page]:
    units: list[Unit] = [*section.scales, *section.groups, *section.items]
    runs = split_sizes([_size(unit) for unit in units], limit) or [0]
    pages, start = [], 0
    for part, run in enumerate(runs, start=1):
        chosen = units[start : start + run]
        start += run
        page = Page(
            number=number + part - 1,
            section=section,
            part=part,
            parts=len(runs),
            first_question=first_question,
            scales=tuple(unit for unit in chosen if isinstance(unit, Scale)),
            groups=tuple(unit for unit in chosen if isinstance(unit, Group)),
            items=tuple(unit for unit in chosen if isinstance(unit, Item)),
        )
        first_question += len(page.all_items())
        pages.append(page)
    return pages


def instrument_pages(instrument: Instrument, limit: int = MAX_ITEMS_PER_PAGE) -> tuple[Page, ...]:
    """The instrument's pages in order, numbered from 1."""
    pages: list[Page] = []
    for section in instrument.sections:
        first_question = (pages[-1].last_question + 1) if pages else 1
        pages += _section_pages(section, len(pages) + 1, first_question, limit)
    return tuple(pages)


def page_of_items(pages: Sequence[Page]) -> dict[str, int]:
    """Each item's code → the number of the page it is on."""
    return {item.code: page.number for page in pages for item in page.all_items()}
