"""reports.figures: plain plotly figure dicts with the numbers they were given."""

import json

import pytest

from reports.figures import answer_distribution, means_against, share_heatmap

NAMES = ["never", "rarely", "sometimes", "often", "always"]


def test_the_diverging_bar_puts_low_answers_left_and_splits_the_middle():
    figure = answer_distribution(["A1", "A2"], [[1, 1, 2, 2, 4], [0, 0, 0, 0, 0]], NAMES)
    json.dumps(figure)  # plain JSON, nothing plotly-specific
    by_side = {(trace["name"], trace["x"][0] < 0): trace for trace in figure["data"]}
    # A1 has 10 answers: 10% never, 10% rarely, 20% sometimes, 20% often, 40% always
    assert by_side[("never", True)]["x"][0] == pytest.approx(-10)
    assert by_side[("sometimes", True)]["x"][0] == pytest.approx(-10)
    assert by_side[("sometimes", False)]["x"][0] == pytest.approx(10)
    assert by_side[("always", False)]["x"][0] == pytest.approx(40)
    # the two halves of the middle answer share one legend entry
    assert [t["showlegend"] for t in figure["data"] if t["name"] == "sometimes"] == [False, True]
    # a row without answers draws nothing rather than dividing by zero
    assert all(trace["x"][1] == 0 for trace in figure["data"])
    assert figure["layout"]["barmode"] == "relative"


def test_means_start_at_the_scale_floor_and_carry_n():
    figure = means_against(
        ["A1", "A2"], ("Team", [4.2, None], [8, None]), ("Organisation", [3.5, 3.0], [40, 41])
    )
    team, organisation = figure["data"]
    assert team["base"] == 1 and team["x"] == [pytest.approx(3.2), None]
    assert team["customdata"] == [[4.2, 8], [None, None]]
    assert organisation["customdata"][1] == [3.0, 41]
    assert figure["layout"]["xaxis"]["range"] == [1, 5] and figure["layout"]["showlegend"]
    alone = means_against(["A1"], ("Team", [4.0], [8]), None, decimal_comma=True)
    assert len(alone["data"]) == 1 and alone["layout"]["separators"] == ",."


def test_share_heatmap_is_a_0_to_100_heatmap():
    figure = share_heatmap(["aspirations"], ["housing", "work"], [[20.0, 80.0]])
    [trace] = figure["data"]
    assert trace["type"] == "heatmap" and trace["z"] == [[20.0, 80.0]]
    assert (trace["zmin"], trace["zmax"]) == (0, 100)


def test_trend_lines_leave_gaps_and_carry_asymmetric_intervals():
    from reports.figures import trend_lines

    figure = trend_lines(
        ["2025", "2026", "2027"], [("A1", [3.0, None, 3.6], [(2.5, 3.4), None, (3.1, 4.2)])]
    )
    [line] = figure["data"]
    assert line["y"] == [3.0, None, 3.6] and line["connectgaps"] is False
    assert line["error_y"]["array"] == [pytest.approx(0.4), None, pytest.approx(0.6)]
    assert line["error_y"]["arrayminus"] == [pytest.approx(0.5), None, pytest.approx(0.5)]
