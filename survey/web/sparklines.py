"""Small trend charts drawn on the server as inline SVG: one per scale, side by side.

A manager's trend page draws a dozen of these: plain SVG needs no script (works without
JavaScript, keeps a phone's main thread free, prints in a PDF). Coordinates come from the
numbers as the table beside them shows them (means and interval ends to one decimal), so the
page source carries no more precision than the page (docs/anonymity.md, "chart data more
precise than the page").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reports.rounding import MEAN_DECIMALS, rounded
from survey.services.comparisons import Cell

#: Drawn at about its own size in two columns on a 360 px phone: text stays legible.
WIDTH, HEIGHT = 160, 76
#: The plot area inside the picture: room for the 1, 3 and 5 on the left, ticks below.
LEFT, RIGHT, TOP, BOTTOM = 16, 156, 7, 67
LOWEST, HIGHEST = 1.0, 5.0


def shown(value: float) -> float:
    """A number as the page prints it: one decimal, by the one rule of ``reports.rounding``
    (``f"{value:.1f}"`` rounded 3.25 to 3.2 where the table beside it printed 3,3)."""
    return rounded(value, MEAN_DECIMALS)


def _y(value: float) -> float:
    share = (shown(value) - LOWEST) / (HIGHEST - LOWEST)
    return round(BOTTOM - share * (BOTTOM - TOP), 1)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    #: The interval's ends (y of the low and the high end), where spread may be shown.
    whisker: tuple[float, float] | None


@dataclass(frozen=True)
class Sparkline:
    """What ``dashboard/_story.html`` draws: a line through the shown means (broken where a
    wave shows none), a dot and an interval per shown mean, and the 1–5 grid."""

    width: int
    height: int
    path: str
    points: list[Point]
    #: (y, label) of the horizontal lines at 1, 3 and 5.
    grid: list[tuple[float, str]]
    #: The x of each wave (for the ticks along the bottom).
    ticks: list[float]
    bottom: int
    left: int
    right: int


def _xs(count: int) -> list[float]:
    if count == 1:
        return [round((LEFT + RIGHT) / 2, 1)]
    step = (RIGHT - LEFT - 8) / (count - 1)
    return [round(LEFT + 4 + step * index, 1) for index in range(count)]


def sparkline(cells: Sequence[Cell | None]) -> Sparkline:
    """The chart of one row of cells (one per wave, oldest first; None or a hidden cell where
    the wave shows no mean for the unit)."""
    xs = _xs(len(cells))
    points: list[Point | None] = []
    for x, cell in zip(xs, cells, strict=True):
        if cell is None or cell.summary is None:
            points.append(None)
            continue
        whisker = None
        if cell.interval is not None:
            low, high = cell.interval
            whisker = (_y(max(low, LOWEST)), _y(min(high, HIGHEST)))
        points.append(Point(x, _y(cell.summary.mean), whisker))
    return Sparkline(
        width=WIDTH,
        height=HEIGHT,
        path=_path(points),
        points=[point for point in points if point is not None],
        grid=[(_y(value), str(int(value))) for value in (1, 3, 5)],
        ticks=xs,
        bottom=BOTTOM,
        left=LEFT,
        right=RIGHT,
    )


def _path(points: Sequence[Point | None]) -> str:
    """A line through the points, lifted where one is missing."""
    path, pen_down = [], False
    for point in points:
        if point is None:
            pen_down = False
            continue
        path.append(f"{'L' if pen_down else 'M'}{point.x} {point.y}")
        pen_down = True
    return " ".join(path)


def percent_line(percents: Sequence[int | None]) -> Sparkline:
    """A participation rate over the waves (whole percentages as the table shows them, oldest
    first; None where a wave shows none), on a scale from 0 to 100 (or the highest rate, when
    a wave had more answers than expected staff)."""
    xs = _xs(len(percents))
    highest = max([100, *(value for value in percents if value is not None)])

    def y(value: int) -> float:
        return round(BOTTOM - value / highest * (BOTTOM - TOP), 1)

    points = [
        None if value is None else Point(x, y(value), None)
        for x, value in zip(xs, percents, strict=True)
    ]
    return Sparkline(
        width=WIDTH,
        height=HEIGHT,
        path=_path(points),
        points=[point for point in points if point is not None],
        grid=[(y(value), str(value)) for value in (0, 50, 100)],
        ticks=xs,
        bottom=BOTTOM,
        left=LEFT,
        right=RIGHT,
    )
