import math

import pandas as pd
import pytest

from reports import respondent_scale_scores

ITEMS = pd.DataFrame(
    {
        "item_code": ["A1.1", "A1.2", "A1.3", "A1.4", "B1.1", "B1.2", "B1.3"],
        "scale_code": ["A1", "A1", "A1", "A1", "B1", "B1", "B1"],
        "reverse": [False, False, False, True, False, False, False],
    }
)


def answers(rows: list[tuple[str, str, float | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["response_id", "item_code", "value"])


def test_the_mean_of_answered_items_with_reverse_coding():
    scores = respondent_scale_scores(
        answers([("r1", "A1.1", 4), ("r1", "A1.2", 5), ("r1", "A1.3", 3), ("r1", "A1.4", 2)]),
        ITEMS,
    )
    # A1.4 is reversed: 6 − 2 = 4, so (4 + 5 + 3 + 4) / 4 = 4.0
    assert scores.loc["r1", "A1"] == pytest.approx(4.0)
    assert math.isnan(scores.loc["r1", "B1"])


def test_a_score_needs_three_quarters_of_the_items():
    scores = respondent_scale_scores(
        answers(
            [
                # 3 of 4 answered (75%): scored
                ("r1", "A1.1", 2),
                ("r1", "A1.2", 3),
                ("r1", "A1.3", 4),
                ("r1", "A1.4", None),
                # 2 of 4 answered (50%): no score
                ("r2", "A1.1", 5),
                ("r2", "A1.2", 5),
                ("r2", "A1.3", None),
                # 2 of 3 answered (67%): no score
                ("r3", "B1.1", 1),
                ("r3", "B1.2", 2),
            ]
        ),
        ITEMS,
    )
    assert scores.loc["r1", "A1"] == pytest.approx(3.0)
    assert math.isnan(scores.loc["r2", "A1"])
    assert math.isnan(scores.loc["r3", "B1"])
    assert list(scores.index) == ["r1", "r2", "r3"]
    assert list(scores.columns) == ["A1", "B1"]


def test_dont_know_is_not_a_midpoint():
    scores = respondent_scale_scores(
        answers([("r1", "B1.1", 5), ("r1", "B1.2", 5), ("r1", "B1.3", 5), ("r1", "A1.1", None)]),
        ITEMS,
    )
    assert scores.loc["r1", "B1"] == pytest.approx(5.0)


def test_answers_to_unscored_items_are_ignored():
    scores = respondent_scale_scores(
        answers([("r1", "O1", 1), ("r1", "B1.1", 4), ("r1", "B1.2", 4), ("r1", "B1.3", 1)]), ITEMS
    )
    assert scores.loc["r1", "B1"] == pytest.approx(3.0)


def test_no_answers_give_an_empty_table():
    assert respondent_scale_scores(answers([]), ITEMS).empty
