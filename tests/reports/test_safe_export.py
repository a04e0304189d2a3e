"""The quality officer's row-level export: fixed cases by hand, and random trees (hypothesis)."""

import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.safe_export import (
    MIN_GROUP_SIZE_FLOOR,
    safe_response_rows,
    unit_labels,
)
from survey import config

#: org → north (a, b), south (c, d)
PARENTS = {
    "org": None,
    "north": "org",
    "south": "org",
    "a": "north",
    "b": "north",
    "c": "south",
    "d": "south",
}
NAMES = {
    "org": "Organisatie",
    "north": "Noord",
    "south": "Zuid",
    "a": "Team A",
    "b": "Team B",
    "c": "Team C",
    "d": "Team D",
}


def responses(sizes, **background):
    """``sizes`` responses per team, in team order; two answer items; background columns as
    lists over all rows (None: not answered)."""
    units = [unit for unit, size in sizes.items() for _ in range(size)]
    frame = pd.DataFrame(
        {
            "response_id": [f"r-{index:03d}" for index in range(len(units))],
            "unit_id": units,
            "A1.1": [float(index % 5 + 1) for index in range(len(units))],
            "A1.2": [np.nan if index % 4 == 0 else 3.0 for index in range(len(units))],
        }
    )
    for column, values in background.items():
        frame[column] = pd.Series(values, dtype=float)
    return frame


def export(sizes, k=5, parents=PARENTS, names=NAMES, **background):
    frame = responses(sizes, **background)
    return safe_response_rows(frame, parents, names, k, list(background), rng=random.Random(7))


def label_sizes(result):
    return result.rows["unit"].value_counts().to_dict()


def test_a_team_with_k_responses_keeps_its_own_label():
    result = export({"a": 5, "c": 6})
    assert label_sizes(result) == {"Team A": 5, "Team C": 6}
    assert result.labels == {"Team A": ("Team A",), "Team C": ("Team C",)}
    assert result.withheld == 0


def test_two_small_teams_are_pooled_under_their_department():
    # a (3) and b (2) are below 5 each; together 5 at north. c (6) keeps its own label.
    result = export({"a": 3, "b": 2, "c": 6})
    assert label_sizes(result) == {"Noord": 5, "Team C": 6}
    assert result.labels["Noord"] == ("Team A", "Team B")
    assert result.withheld == 0


def test_moved_up_rows_take_a_label_only_when_k_together():
    # org → dept → (sub → (x 2, y 2), z 1): sub has 4 < 5, so x and y move on to dept, where
    # with z they are 5: labelled dept, never sub.
    parents = {"org": None, "dept": "org", "sub": "dept", "x": "sub", "y": "sub", "z": "dept"}
    names = {unit: unit.upper() for unit in parents}
    result = export({"x": 2, "y": 2, "z": 1}, parents=parents, names=names)
    assert label_sizes(result) == {"DEPT": 5}
    assert result.labels == {"DEPT": ("X", "Y", "Z")}


def test_a_small_team_beside_a_large_one_is_never_labelled_alone():
    # d (2) moves to south, where it is alone (c has 7 and keeps its label), and on to org. The
    # org leftover of 2 joins the smallest group of small teams, north's pool a + b (5), which
    # is relabelled to the organisation: 7 rows.
    result = export({"a": 3, "b": 2, "c": 7, "d": 2})
    assert label_sizes(result) == {"Organisatie": 7, "Team C": 7}
    assert result.labels["Organisatie"] == ("Team A", "Team B", "Team D")
    assert "Team D" not in result.labels and "Zuid" not in result.labels
    assert result.withheld == 0


def test_a_leftover_is_withheld_rather_than_hidden_beside_a_shown_team():
    # b (3) reaches org alone; the only groups are a (9) and c (6), both on their team pages.
    # "c + b" under the organisation's label minus c's own page would be b's 3 people: withheld.
    result = export({"a": 9, "b": 3, "c": 6})
    assert label_sizes(result) == {"Team A": 9, "Team C": 6}
    assert result.labels == {"Team A": ("Team A",), "Team C": ("Team C",)}
    assert result.withheld == 3


def test_a_background_column_with_a_rare_option_is_dropped_while_another_is_kept():
    # k = 3, a and c with 6 each. BG1: a 3 × 1, 3 × 2; c 6 × 1 → cells 3, 3, 6: kept.
    # BG2: a 6 × 1; c 5 × 1 and once 2 → the cell (Team C, 2) has 1 row: dropped.
    result = export(
        {"a": 6, "c": 6},
        k=3,
        BG1=[1, 1, 1, 2, 2, 2] + [1] * 6,
        BG2=[1] * 6 + [1] * 5 + [2],
    )
    assert result.dropped_background == ["BG2"]
    assert "BG1" in result.rows and "BG2" not in result.rows
    cells = result.rows.groupby(["unit", "BG1"]).size().to_dict()
    assert cells == {("Team A", 1.0): 3, ("Team A", 2.0): 3, ("Team C", 1.0): 6}


def test_background_cells_count_the_label_and_not_answered():
    # BG1: 6 × 1 and 6 × 2 in all, but a has only 2 × 2: the cell (Team A, 2) is too small.
    # BG2: not answered 3 times in a, 1 in c: "not answered" in c is a cell of 1.
    # BG3: not answered 3 times in a only: a cell of 3, kept.
    result = export(
        {"a": 6, "c": 6},
        k=3,
        BG1=[1, 1, 1, 1, 2, 2] + [1, 1, 2, 2, 2, 2],
        BG2=[None, None, None, 1, 1, 1] + [None, 1, 1, 1, 1, 1],
        BG3=[None, None, None, 1, 1, 1] + [1] * 6,
    )
    assert result.dropped_background == ["BG1", "BG2"]
    assert list(result.rows.columns) == ["row", "unit", "A1.1", "A1.2", "BG3"]


def test_background_columns_are_chosen_greedily_in_the_given_order():
    # One team of 10, k = 5. BG1 and BG2 split 5/5 each but cross 3/2/2/3: only the first of
    # them listed is kept.
    first = [1] * 5 + [2] * 5
    second = [1, 1, 1, 2, 2, 1, 1, 2, 2, 2]
    parents = {"org": None, "a": "org"}
    names = {"org": "Organisatie", "a": "Team A"}
    kept_first = export({"a": 10}, parents=parents, names=names, BG1=first, BG2=second)
    kept_second = export({"a": 10}, parents=parents, names=names, BG2=second, BG1=first)
    assert kept_first.dropped_background == ["BG2"]
    assert kept_second.dropped_background == ["BG1"]


def test_a_wave_with_fewer_than_k_responses_exports_no_rows():
    result = export({"a": 2, "c": 2}, BG1=[1, 1, 2, 2])
    assert result.rows.empty
    assert list(result.rows.columns) == ["row", "unit", "A1.1", "A1.2", "BG1"]
    assert result.labels == {}
    assert result.withheld == 4


def test_rows_are_shuffled_and_numbered_without_response_ids():
    frame = responses({"a": 12, "c": 8})
    frame["A1.2"] = [float(index // 5 + 1) for index in range(20)]  # with A1.1: unique rows
    frame.index = frame["response_id"]  # an index of ids must not come along either
    result = safe_response_rows(frame, PARENTS, NAMES, 5, rng=random.Random(3))
    rows = result.rows
    assert list(rows.columns) == ["row", "unit", "A1.1", "A1.2"]
    assert list(rows["row"]) == list(range(1, 21))
    assert list(rows.index) == list(range(20))
    exported = list(zip(rows["A1.1"], rows["A1.2"], strict=True))
    given_order = list(zip(frame["A1.1"], frame["A1.2"], strict=True))
    assert exported != given_order and sorted(exported) == sorted(given_order)
    again = safe_response_rows(frame, PARENTS, NAMES, 5, rng=random.Random(3))
    other = safe_response_rows(frame, PARENTS, NAMES, 5, rng=random.Random(4))
    assert again.rows.equals(rows) and not other.rows.equals(rows)
    unseeded = safe_response_rows(frame, PARENTS, NAMES, 5).rows
    assert sorted(zip(unseeded["A1.1"], unseeded["A1.2"], strict=True)) == sorted(given_order)


def test_bad_input_is_refused():
    frame = responses({"a": 5})
    with pytest.raises(ValueError, match="never be below 3"):
        safe_response_rows(frame, PARENTS, NAMES, 2)
    with pytest.raises(ValueError, match="free text"):
        safe_response_rows(frame.assign(comment="te druk"), PARENTS, NAMES, 5)
    with pytest.raises(ValueError, match="free text"):
        safe_response_rows(frame.assign(day=pd.Timestamp("2025-03-01")), PARENTS, NAMES, 5)
    with pytest.raises(ValueError, match="outside the tree"):
        safe_response_rows(frame.assign(unit_id="elsewhere"), PARENTS, NAMES, 5)
    with pytest.raises(ValueError, match="share a name"):
        safe_response_rows(frame, PARENTS, {**NAMES, "b": "Team A"}, 5)
    with pytest.raises(ValueError, match="lack the columns"):
        safe_response_rows(frame, PARENTS, NAMES, 5, ["BG9"])
    with pytest.raises(ValueError, match="cycle"):
        unit_labels({"org": None, "x": "y", "y": "x"}, {"x": 5}, 5)


def test_the_floor_is_the_applications_floor():
    assert MIN_GROUP_SIZE_FLOOR == config.MIN_GROUP_SIZE_FLOOR


def test_a_unit_with_its_own_responses_and_small_units_below_it():
    # d is a department with 6 responses of its own and two teams of 2 and 3 below it: its own
    # rows keep its label, the teams' 5 rows get it too (5 ≥ k), so d's label holds d's own 6
    # plus 5 others, and d's own figures subtracted leave 5 ≥ k.
    parents = {"org": None, "d": "org", "x": "d", "y": "d"}
    assert unit_labels(parents, {"d": 6, "x": 2, "y": 3}, 5) == {"d": "d", "x": "d", "y": "d"}
    assert unit_labels(parents, {"d": 6, "x": 2, "y": 2}, 5) == {"d": "d", "x": None, "y": None}


# -- random trees -------------------------------------------------------------------------------


@st.composite
def waves(draw):
    """A unit tree (as in tests/test_anonymity.py), 0–15 responses per unit, k 3–7 and up to
    three background columns, each with one to three of the answers 1, 2, 3, not answered."""
    size = draw(st.integers(min_value=1, max_value=9))
    parents = {0: None}
    for node in range(1, size):
        parents[node] = draw(st.integers(min_value=0, max_value=node - 1))
    counts = {node: draw(st.integers(min_value=0, max_value=15)) for node in parents}
    k = draw(st.integers(min_value=3, max_value=7))
    units = [unit for unit, count in counts.items() for _ in range(count)]
    frame = pd.DataFrame(
        {
            "response_id": [f"r-{index}" for index in range(len(units))],
            "unit_id": units,
            #: an answer column that tells each exported row's origin to the test
            "trace": [float(index) for index in range(len(units))],
        }
    )
    background = [f"BG{number}" for number in range(draw(st.integers(0, 3)))]
    for column in background:
        options = draw(st.lists(st.sampled_from([1, 2, 3, None]), min_size=1, max_size=3))
        values = draw(st.lists(st.sampled_from(options), min_size=len(units), max_size=len(units)))
        frame[column] = pd.Series(values, dtype=float)
    return parents, counts, k, frame, background


def ancestors(parents, unit):
    found = []
    while parents[unit] is not None:
        unit = parents[unit]
        found.append(unit)
    return found


@settings(max_examples=300, deadline=None)
@given(waves(), st.integers(min_value=0, max_value=2**32))
def test_every_label_and_every_cell_holds_k_and_no_response_is_misplaced(wave, seed):
    parents, counts, k, frame, background = wave
    names = {unit: f"unit {unit}" for unit in parents}
    result = safe_response_rows(frame, parents, names, k, background, rng=random.Random(seed))
    rows = result.rows
    total = sum(counts.values())

    assert len(rows) + result.withheld == total
    assert list(rows["row"]) == list(range(1, len(rows) + 1))
    assert "response_id" not in rows and "unit_id" not in rows
    assert rows["trace"].is_unique

    unit_of = dict(zip(frame["trace"], frame["unit_id"], strict=True))
    named = {name: unit for unit, name in names.items()}
    for trace, name in zip(rows["trace"], rows["unit"], strict=True):
        team = unit_of[trace]
        assert named[name] == team or named[name] in ancestors(parents, team), (trace, name)

    kept = [column for column in background if column in rows]
    assert sorted(kept + result.dropped_background) == sorted(background)
    if not rows.empty:
        assert rows.groupby("unit").size().min() >= k
        assert rows.groupby(["unit", *kept], dropna=False).size().min() >= k

    for name, group in rows.groupby("unit"):
        sources = pd.Series([unit_of[trace] for trace in group["trace"]]).value_counts()
        assert result.labels[name] == tuple(sorted(names[unit] for unit in sources.index))
        # a unit with k or more is shown elsewhere: subtracting it leaves nothing or k or more
        for unit, n in sources.items():
            if counts[unit] >= k:
                assert n == counts[unit]
                assert len(group) - n == 0 or len(group) - n >= k, (name, unit)
    assert set(result.labels) == set(rows["unit"])

    # nothing is withheld that the rules could export
    if total < k:
        assert result.withheld == total
    else:
        assert result.withheld < k
    if result.withheld:
        assert all(len(units) == 1 for units in result.labels.values())
