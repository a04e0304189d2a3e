"""The organisation's results as a service (``survey.services.organisation_results``): the rules
the quality pages no longer show in a view of their own. The pages themselves, through the
anonymity gate, are tested in tests/test_quality.py and tests/test_insider_*.py."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from questionnaires import Text
from reports.statistics import Summary
from survey.anonymity import Policy, Reason, Verdict
from survey.extensions import db
from survey.models import UnitKind, WaveStatus, WaveTreeUnit
from survey.services import background_use
from survey.services.comparisons import HIDDEN_EMPTY, Cell, UnitRow
from survey.services.organisation_results import (
    UnitNotInTree,
    UnitTrend,
    UnknownBackground,
    WaveNotInTrend,
    drill_down,
    organisation_profile,
    response_export,
    scale_trends,
    shared_item_codes,
    sorted_by_scale,
)
from survey.services.wave_tree import TreeUnit


def unit(unit_id: int, parent_id: int | None, kind: UnitKind = UnitKind.TEAM) -> TreeUnit:
    return TreeUnit(unit_id, parent_id, kind, f"unit {unit_id}", f"unit-{unit_id}")


def shown(mean: float, n: int = 10, spread: bool = True) -> Cell:
    return Cell(Verdict(n), Summary(n, mean, 0.5), spread=spread, min_group_size=5)


def row(unit_id: int, cell: Cell | None) -> UnitRow:
    return UnitRow(unit(unit_id, 1), 1, {} if cell is None else {"A1": cell})


# --- The units × scales table -----------------------------------------------------------------


def test_sorting_keeps_the_first_row_on_top_and_puts_hidden_and_empty_cells_last():
    hidden = Cell(Verdict(3, Reason.TOO_FEW), min_group_size=5)
    table = [
        row(1, shown(2.0)),  # the organisation, or the unit drilled into
        row(2, hidden),
        row(3, shown(3.5)),
        row(4, None),  # the scale was not asked of this unit
        row(5, shown(4.1)),
        row(6, HIDDEN_EMPTY),
        row(7, shown(3.5)),
    ]
    ordered = [r.unit.id for r in sorted_by_scale(table, "A1")]
    # highest first, ties in their order; hidden, missing and empty cells last, in their order
    assert ordered == [1, 5, 3, 7, 2, 4, 6]


def test_sorting_by_a_scale_no_row_has_keeps_the_order():
    table = [row(1, shown(2.0)), row(2, shown(3.0)), row(3, shown(1.0))]
    assert [r.unit.id for r in sorted_by_scale(table, "B9")] == [1, 2, 3]
    assert sorted_by_scale([], "A1") == []


TREE = [
    (unit(1, None, UnitKind.ORGANISATION), 0),
    (unit(2, 1, UnitKind.DEPARTMENT), 1),
    (unit(4, 2), 2),
    (unit(5, 2), 2),
    (unit(3, 1, UnitKind.DEPARTMENT), 1),
    (unit(6, 3), 2),
]


def test_without_drilling_down_the_organisation_and_its_departments_are_shown():
    for under in (None, ""):
        rows, focus = drill_down(TREE, under)
        assert [u.id for u, _depth in rows] == [1, 2, 3] and focus is None


def test_drilling_down_shows_the_unit_and_its_children_only():
    rows, focus = drill_down(TREE, "unit-2")
    assert focus.id == 2 and [(u.id, depth) for u, depth in rows] == [(2, 1), (4, 2), (5, 2)]
    rows, focus = drill_down(TREE, "unit-6")  # a team: just itself
    assert [u.id for u, _depth in rows] == [6]
    with pytest.raises(UnitNotInTree):
        drill_down(TREE, "unit-9")


# --- A unit's trend ---------------------------------------------------------------------------


def wave(wave_id: int, version: int = 1) -> SimpleNamespace:
    return SimpleNamespace(id=wave_id, name=f"wave {wave_id}", questionnaire_version_id=version)


def test_questions_shared_by_versions_are_those_asked_in_more_than_one():
    def instrument(*codes: str, likert: bool = True) -> SimpleNamespace:
        items = [
            SimpleNamespace(code=code, item_type=SimpleNamespace(is_likert=likert))
            for code in codes
        ]
        return SimpleNamespace(all_items=lambda: items)

    waves = [wave(1, version=1), wave(2, version=1), wave(3, version=2)]
    instruments = {
        1: instrument("A1", "A2", "C1"),
        2: instrument("A1", "A2", "C1"),  # the same version again shares nothing
        3: instrument("C1", "A1"),
    }
    assert shared_item_codes(waves, instruments) == ["A1", "C1"]
    instruments[3] = instrument("C1", "A1", likert=False)  # only 1–5 questions line up
    assert shared_item_codes(waves, instruments) == []


def trend(cells: dict[int, Cell], policies: dict[int, Policy] | None = None) -> UnitTrend:
    waves = [wave(wave_id) for wave_id in cells]
    scale = SimpleNamespace(code="A1", title=Text({"nl": "Hoop", "en": "Hope"}))
    return UnitTrend(
        unit=None,
        waves=waves,
        scales=[scale],
        per_wave={wave_id: {"A1": cell} for wave_id, cell in cells.items()},
        asked={wave_id: {"A1"} for wave_id in cells},
        policies=policies or {wave_id: Policy() for wave_id in cells},
        core_waves=[],
        core_rows=[],
        lang="en",
    )


def test_a_trend_compares_its_first_and_last_wave_unless_asked_otherwise():
    unit_trend = trend({1: shown(3.0, 40), 2: shown(3.2, 40), 3: shown(4.5, 40)})
    span = scale_trends(unit_trend, None, None)
    assert (span.first.id, span.last.id) == (1, 3)
    (a1,) = span.rows
    assert a1.label == "A1 Hope" and a1.means == [3.0, 3.2, 4.5] and a1.asked == [True] * 3
    assert a1.change.difference == pytest.approx(1.5)
    assert all(interval is not None for interval in a1.intervals)
    span = scale_trends(unit_trend, 2, 2)
    assert (span.first.id, span.last.id) == (2, 2)
    for first, last in ((9, None), (None, 9)):
        with pytest.raises(WaveNotInTrend):
            scale_trends(unit_trend, first, last)


def test_a_trend_shows_no_change_and_no_interval_where_spread_may_not_be_shown():
    unit_trend = trend({1: shown(3.0, 40, spread=False), 2: shown(4.5, 40)})
    (a1,) = scale_trends(unit_trend, None, None).rows
    assert a1.change is None and a1.intervals[0] is None and a1.means == [3.0, 4.5]
    # the stricter of the two waves' rules decides (a spread threshold above both n)
    strict = {1: Policy(spread_threshold=50), 2: Policy()}
    (a1,) = scale_trends(trend({1: shown(3.0, 40), 2: shown(4.5, 40)}, strict), None, None).rows
    assert a1.change is None


# --- Background answers: one use per wave (docs/anonymity.md, class 2) ------------------------


@pytest.fixture
def ended_wave(tree, make_wave):
    return make_wave([tree["org"]], status=WaveStatus.CLOSED)


def frozen_units() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(WaveTreeUnit))


def test_the_profile_refuses_a_breakdown_before_it_freezes_the_tree(ended_wave):
    with pytest.raises(UnknownBackground):
        organisation_profile(ended_wave, "NOPE")
    with pytest.raises(background_use.BackgroundUseNotChosen) as refused:
        organisation_profile(ended_wave, "BG1")
    assert refused.value.chosen is None
    assert frozen_units() == 0
    profile = organisation_profile(ended_wave)  # without a breakdown: no choice needed
    assert profile.breakdown is None and [item.code for item in profile.background_items] == ["BG1"]
    assert [u.slug for u in profile.columns] == ["org", "north", "south"]
    assert frozen_units() == 6


def test_the_response_export_needs_its_use_chosen_and_the_breakdown_the_other(ended_wave):
    with pytest.raises(background_use.BackgroundUseNotChosen) as refused:
        response_export(ended_wave)
    assert refused.value.chosen is None
    background_use.choose(ended_wave, background_use.BREAKDOWN, None)
    with pytest.raises(background_use.BackgroundUseNotChosen) as refused:
        response_export(ended_wave)
    assert refused.value.chosen == background_use.BREAKDOWN
    assert organisation_profile(ended_wave, "BG1").breakdown is not None


def test_an_export_of_a_wave_without_responses_withholds_nothing(tree, make_wave):
    wave = make_wave([tree["org"]], status=WaveStatus.CLOSED)
    background_use.choose(wave, background_use.ROWS, None)
    export = response_export(wave)
    assert export.rows == [] and export.withheld == 0 and export.min_group_size == 5
    assert export.header[:3] == ["row", "wave", "unit"]
