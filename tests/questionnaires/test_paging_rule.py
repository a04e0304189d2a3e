"""The paging rule: pages of at most twelve items, whole scales and groups, sections apart."""

from pathlib import Path

import pytest

import questionnaires
from questionnaires.paging import (
    MAX_ITEMS_PER_PAGE,
    instrument_pages,
    page_of_items,
    split_sizes,
)

SHIPPED = Path(questionnaires.__file__).parent
MINI = Path(__file__).parent / "files" / "mini.yaml"


def shape(pages):
    return [(page.section.code, page.part, page.parts, len(page.all_items())) for page in pages]


def check_invariants(instrument, pages, limit=MAX_ITEMS_PER_PAGE):
    # Every item once, in the instrument's order, numbered without gaps.
    assert [item for page in pages for item in page.all_items()] == list(instrument.all_items())
    assert [page.number for page in pages] == list(range(1, len(pages) + 1))
    question = 1
    for page in pages:
        assert page.first_question == question
        question = page.last_question + 1
        units = [*page.scales, *page.groups, *page.items]
        assert len(page.all_items()) <= limit or len(units) == 1
        assert (page.description is not None) == (page.part == 1 and bool(page.section.description))
    # No scale or group on two pages.
    for item_set in (*instrument.scales(), *instrument.groups()):
        assert len({page_of_items(pages)[item.code] for item in item_set.items}) == 1


def test_the_team_instrument_becomes_nine_pages_module_a_by_principle():
    instrument = questionnaires.load_file(SHIPPED / "krachtspiegel-team-1.yaml")
    pages = instrument_pages(instrument)
    check_invariants(instrument, pages)
    assert shape(pages) == [
        ("A", 1, 3, 12), ("A", 2, 3, 12), ("A", 3, 3, 8),
        ("B", 1, 2, 12), ("B", 2, 2, 8),
        ("C", 1, 2, 6), ("C", 2, 2, 12),
        ("D", 1, 1, 1),
        ("E", 1, 1, 5),
    ]  # fmt: skip
    assert [scale.code for scale in pages[0].scales] == ["A1", "A2", "A3"]
    assert (pages[6].first_question, pages[6].last_question) == (59, 70)
    assert pages[-1].last_question == len(instrument.all_items()) == 76


def test_the_pulse_and_the_mini_instrument_keep_one_page_per_section():
    for path in (SHIPPED / "krachtspiegel-pulse-1.yaml", MINI):
        instrument = questionnaires.load_file(path)
        pages = instrument_pages(instrument)
        check_invariants(instrument, pages)
        assert [page.section for page in pages] == list(instrument.sections)
        assert all(page.parts == 1 for page in pages)


def test_a_lower_limit_splits_the_mini_instrument_but_never_a_scale():
    instrument = questionnaires.load_file(MINI)
    pages = instrument_pages(instrument, limit=4)
    check_invariants(instrument, pages, limit=4)
    # A: scale A1 (3) | group C1 (2); B: scale B1 (4) | C4, O1, O2, BG1 (4 loose items).
    assert shape(pages) == [("A", 1, 2, 3), ("A", 2, 2, 2), ("B", 1, 2, 4), ("B", 2, 2, 4)]


@pytest.mark.parametrize(
    ("sizes", "runs"),
    [
        ([], []),
        ([4] * 8, [3, 3, 2]),  # 12, 12, 8
        ([4] * 5, [3, 2]),
        ([6, 9, 3], [1, 2]),  # 6 | 12: never 15 on one page
        ([15], [1]),  # a scale over the limit alone, not cut
        ([2, 15, 2], [1, 1, 1]),
        ([1] * 13, [7, 6]),  # loose items: as even as can be
        ([12], [1]),
    ],
)
def test_split_sizes(sizes, runs):
    assert split_sizes(sizes) == runs
