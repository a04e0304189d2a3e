"""reports.statistics on small datasets computed by hand (the arithmetic is in the comments)."""

import math

import pandas as pd
import pytest

from reports.statistics import (
    UNIFORM_NULL_VARIANCE,
    answer_counts,
    change_between,
    item_statistics,
    scale_statistics,
    tick_shares,
)

ITEMS = pd.DataFrame(
    {
        "item_code": ["S.1", "S.2", "S.3", "S.4"],
        "scale_code": ["S", "S", "S", "S"],
        "reverse": [False, False, False, True],
    }
)


def answers(rows: dict[str, list]) -> pd.DataFrame:
    """{response: [values per item S.1..S.4]}, with "dk" for don't know and None for skipped."""
    records = []
    for response, values in rows.items():
        for number, value in enumerate(values, start=1):
            if value is None:
                continue
            dont_know = value == "dk"
            records.append(
                {
                    "response_id": response,
                    "item_code": f"S.{number}",
                    "value": math.nan if dont_know else float(value),
                    "dont_know": dont_know,
                }
            )
    return pd.DataFrame(records)


def test_the_uniform_null_variance_for_five_points_is_two():
    assert UNIFORM_NULL_VARIANCE == 2.0  # (5² − 1) / 12


def test_mean_sd_favourable_dont_know_and_the_75_percent_rule():
    result = scale_statistics(
        answers(
            {
                # S.4 is reversed: 6 − 2 = 4. Score (4 + 4 + 4 + 4) / 4 = 4.0
                "r1": [4, 4, 4, 2],
                # 6 − 4 = 2. Score (2 + 3 + 4 + 2) / 4 = 2.75
                "r2": [2, 3, 4, 4],
                # 3 of 4 answered (75%): score (5 + 5 + 5) / 3 = 5.0
                "r3": [5, 5, "dk", 1],
                # 2 of 4 answered (50%): no score, but its answers count for % favourable
                "r4": [5, "dk", "dk", None],
            }
        ),
        ITEMS,
    ).loc["S"]
    assert result["n"] == 3
    assert result["mean"] == pytest.approx((4 + 2.75 + 5) / 3)  # 3.9167
    # deviations 0.0833, −1.1667, 1.0833: squares 0.0069 + 1.3611 + 1.1736 = 2.5417; / 2 → SD 1.1273
    assert result["sd"] == pytest.approx(1.127312438)
    # answered (coded): r1 4 4 4 4, r2 2 3 4 2, r3 5 5 5, r4 5 → 9 of 12 are 4 or 5 = 75%
    assert result["pct_favourable"] == pytest.approx(75.0)
    # 3 "don't know" of 15 answers = 20%
    assert result["pct_dont_know"] == pytest.approx(20.0)


#: Two items, neither reversed: for rwg(J) on the answers as given.
TWO_ITEMS = ITEMS[ITEMS["item_code"].isin(["S.1", "S.2"])].assign(reverse=False)


def rwg_of(rows: dict[str, list]) -> float:
    return scale_statistics(answers(rows), TWO_ITEMS).loc["S", "rwg"]


def test_rwg_against_the_uniform_null():
    # item 1: 4 4 5 → variance 1/3; item 2: 3 4 5 → variance 1. Mean 2/3; ratio (2/3)/2 = 1/3.
    # rwg(2) = 2(1 − 1/3) / (2(1 − 1/3) + 1/3) = (4/3) / (5/3) = 0.8
    assert rwg_of({"r1": [4, 3], "r2": [4, 4], "r3": [5, 5]}) == pytest.approx(0.8)


def test_rwg_is_truncated_at_zero_when_the_team_sees_it_differently():
    # variances 4.5 and 8 (1/5 and 5/1 split): mean above the null variance of 2
    assert rwg_of({"r1": [1, 1], "r2": [4, 5]}) == 0.0


def test_perfect_agreement_gives_rwg_one():
    assert rwg_of({"r1": [4, 5], "r2": [4, 5], "r3": [4, 5]}) == pytest.approx(1.0)


def test_change_interval_by_welch():
    """Welch (1947): before 2 3 4 (mean 3, variance 1), after 4 5 4 5 (mean 4.5, variance 1/3).

    difference 1.5; SE = √(1/3 + 1/12) = 0.645497; Welch–Satterthwaite df = 3.0;
    t(0.975, 3) = 3.182446; half width 2.054260 → [−0.554260, 3.554260]: no clear change.
    Pooled variance (2·1 + 3·1/3) / 5 = 0.6 → Cohen's d = 1.5 / 0.774597 = 1.936492.
    """
    change = change_between(pd.Series([2, 3, 4]), pd.Series([4, 5, 4, 5]))
    assert change.difference == pytest.approx(1.5)
    assert change.low == pytest.approx(-0.554260, abs=1e-6)
    assert change.high == pytest.approx(3.554260, abs=1e-6)
    assert change.effect_size == pytest.approx(1.936492, abs=1e-6)
    assert not change.clear


def test_a_clear_change_excludes_zero():
    before = pd.Series([2.0, 2.5, 3.0, 2.5, 2.0, 3.0, 2.5, 2.0])
    after = pd.Series([4.0, 4.5, 4.0, 3.5, 4.0, 4.5, 4.0, 3.5])
    change = change_between(before, after)
    assert change.low > 0 and change.clear


def test_a_change_needs_two_scores_per_wave():
    with pytest.raises(ValueError, match="at least two"):
        change_between(pd.Series([3.0]), pd.Series([4.0, 5.0]))


def test_answer_counts_turn_reverse_coded_items_and_leave_out_dont_know():
    data = answers({"r1": [5, 4, "dk", 1], "r2": [3, 3, 2, 5]})
    counts = answer_counts(data, ITEMS)
    # r1: 5, 4, (dk), 1 reversed → 5; r2: 3, 3, 2, 5 reversed → 1
    assert counts.loc["S"].tolist() == [1, 1, 2, 1, 2]  # values 1, 2, 3, 4, 5


def test_item_statistics_as_answered():
    data = answers({"r1": [5, 4, "dk", 1], "r2": [3, 2, "dk", 5], "r3": [4, None, 2, 5]})
    stats = item_statistics(data)
    assert stats.loc["S.1", "n"] == 3 and stats.loc["S.1", "mean"] == pytest.approx(4.0)
    assert stats.loc["S.1", "pct_favourable"] == pytest.approx(200 / 3)  # 5 and 4 of 5, 3, 4
    assert stats.loc["S.2", "n"] == 2 and stats.loc["S.2", "mean"] == pytest.approx(3.0)
    # S.3: two don't know and one 2 → n 1, 67% don't know
    assert stats.loc["S.3", "n"] == 1 and stats.loc["S.3", "pct_dont_know"] == pytest.approx(
        200 / 3
    )
    # S.4 is reverse-coded but reported as answered: 1, 5, 5
    assert stats.loc["S.4", [1, 2, 3, 4, 5]].tolist() == [1, 0, 0, 0, 2]
    assert stats.loc["S.4", "mean"] == pytest.approx(11 / 3)


def test_tick_shares_count_each_respondent_once_per_cell():
    ticks = pd.DataFrame(
        {
            "response_id": ["r1", "r1", "r2", "r2", "r2"],
            "grid_row": ["a", "a", "a", "b", "a"],
            "grid_column": ["x", "y", "x", "x", "x"],
        }
    )
    shares = tick_shares(ticks, respondents=4)
    assert shares[("a", "x")] == 50.0  # r1 and r2 of 4 (r2's double tick counts once)
    assert shares[("a", "y")] == 25.0 and shares[("b", "x")] == 25.0
    with pytest.raises(ValueError):
        tick_shares(ticks, respondents=0)


def test_summaries_from_database_sums_give_the_same_change_as_the_scores():
    from reports.statistics import Summary, change_from_summaries

    before, after = [2.0, 2.5, 3.0, 2.0, 3.5], [3.0, 4.0, 3.5, 4.5, 4.0, 3.0]
    # Σx = 13, Σx² = 35.5 → mean 2.6, variance (35.5 − 5·2.6²)/4 = 0.425
    summary = Summary.from_sums(5, 13.0, 35.5)
    assert summary.mean == pytest.approx(2.6) and summary.var == pytest.approx(0.425)
    low, high = summary.interval()
    # t(0.975, 4) = 2.776; half width 2.776 · √(0.425/5) = 0.8094
    assert (low, high) == (
        pytest.approx(2.6 - 0.8094, abs=1e-3),
        pytest.approx(2.6 + 0.8094, abs=1e-3),
    )
    squares = sum(x * x for x in after)
    from_sums = change_from_summaries(summary, Summary.from_sums(6, sum(after), squares))
    direct = change_between(pd.Series(before), pd.Series(after))
    assert from_sums.difference == pytest.approx(direct.difference)
    assert (from_sums.low, from_sums.high) == (
        pytest.approx(direct.low),
        pytest.approx(direct.high),
    )
    assert Summary.from_sums(1, 4.0, 16.0).interval() == (4.0, 4.0)
