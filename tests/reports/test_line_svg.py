"""The server-drawn line chart: the same numbers as the plotly figure, at hand-computed places."""

import pytest

from reports.figures import trend_lines
from reports.line_svg import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, line_chart

PLOT_BOTTOM = HEIGHT - BOTTOM
STEP = (WIDTH - RIGHT - LEFT) / 3  # three waves


def y_of(mean: float) -> float:
    return round(PLOT_BOTTOM - (mean - 1) / 4 * (PLOT_BOTTOM - TOP), 1)


def x_of(index: int) -> float:
    return round(LEFT + STEP * (index + 0.5), 1)


def test_a_line_breaks_where_a_wave_has_no_figure_and_carries_its_intervals():
    figure = trend_lines(
        ["Voorjaar 2025", "Najaar 2025", "Voorjaar 2026"],
        [("A1 Focus", [3.0, None, 3.6], [(2.5, 3.4), None, None])],
        decimal_comma=True,
    )
    chart = line_chart(figure)
    [series] = chart.series
    assert series.name == "A1 Focus" and series.colour == "#0072b2"
    # two separate pieces: a move to each point, no line drawn through the missing wave
    assert series.path == f"M{x_of(0)} {y_of(3.0)}M{x_of(2)} {y_of(3.6)}"
    top, foot = y_of(3.4), y_of(2.5)
    assert series.intervals == (
        f"M{x_of(0)} {top}V{foot}M{round(x_of(0) - 3, 1)} {top}H{round(x_of(0) + 3, 1)}"
        f"M{round(x_of(0) - 3, 1)} {foot}H{round(x_of(0) + 3, 1)}"
    )
    assert [point.label for point in series.points] == [
        "A1 Focus, Voorjaar 2025: 3,0 (2,5–3,4)",
        "A1 Focus, Voorjaar 2026: 3,6",
    ]
    assert [tick.lines for tick in chart.x_ticks] == [
        ["Voorjaar", "2025"],
        ["Najaar", "2025"],
        ["Voorjaar", "2026"],
    ]
    assert [(tick.position, tick.lines) for tick in chart.y_ticks] == [
        (y_of(value), [str(value)]) for value in (1, 2, 3, 4, 5)
    ]


def test_a_scale_without_any_shown_figure_draws_nothing():
    figure = trend_lines(
        ["2025", "2026"],
        [("A1", [None, None], [None, None]), ("A2", [4.04, 3.96], [None, None])],
    )
    [series] = line_chart(figure).series
    assert series.name == "A2" and series.intervals == ""
    assert [point.label for point in series.points] == ["A2, 2025: 4.0", "A2, 2026: 4.0"]
    assert series.points[0].y == pytest.approx(y_of(4.0))
