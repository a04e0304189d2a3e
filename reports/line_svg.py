"""A line chart of ``figures.trend_lines`` as plain SVG geometry, for the server to draw.

Why: plotly.js takes a phone's main thread for seconds just to start (Lighthouse measured 2–4 s
of script evaluation at its mobile CPU), so a page whose first screen holds a chart scored 66–70
for performance. The same figure drawn as a few SVG paths costs nothing to show, prints, and
works without JavaScript; plotly draws the interactive version only when asked
(``templates/macros/charts.html``). The geometry is read from the figure itself, so both show
the same (already rounded) numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The drawing's own units (the viewBox); it scales to the width of the page.
WIDTH, HEIGHT = 320, 190
LEFT, RIGHT, TOP, BOTTOM = 22, 6, 8, 36
CAP = 3  # half the width of an interval's end marks


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str  # "A1 Focus op krachten, Najaar 2025: 3,6 (3,2–4,0)"


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    path: str  # the line, broken where a wave has no figure
    intervals: str  # every interval as a vertical stroke with end marks
    points: list[Point]


@dataclass(frozen=True)
class Tick:
    position: float
    lines: list[str]  # a long wave name breaks into two lines


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    right: int  # x of the plot's right edge
    top: int
    bottom: int  # y of the plot's bottom edge
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    series: list[Series]


def _number(value: float, decimal_comma: bool) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if decimal_comma else text


def _two_lines(name: str) -> list[str]:
    head, _, tail = name.rpartition(" ")
    return [head, tail] if head and len(name) > 10 else [name]


def line_chart(figure: dict[str, Any]) -> LineChart:
    """The geometry of a figure made by ``figures.trend_lines``."""
    layout = figure["layout"]
    low, high = layout["yaxis"]["range"]
    decimal_comma = layout.get("separators", ".,").startswith(",")
    categories = list(figure["data"][0]["x"]) if figure["data"] else []
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    step = (right - LEFT) / max(len(categories), 1)

    def x_of(index: int) -> float:
        return round(LEFT + step * (index + 0.5), 1)

    def y_of(value: float) -> float:
        return round(bottom - (value - low) / (high - low) * (bottom - TOP), 1)

    series = [
        _series(trace, x_of, y_of, decimal_comma)
        for trace in figure["data"]
        if any(y is not None for y in trace["y"])
    ]
    dtick = layout["yaxis"].get("dtick", 1)
    values = [low + i * dtick for i in range(int((high - low) / dtick) + 1)]
    y_ticks = [Tick(y_of(value), [f"{value:g}"]) for value in values]
    x_ticks = [Tick(x_of(i), _two_lines(name)) for i, name in enumerate(categories)]
    return LineChart(WIDTH, HEIGHT, LEFT, right, TOP, bottom, y_ticks, x_ticks, series)


def _series(trace: dict[str, Any], x_of, y_of, decimal_comma: bool) -> Series:
    errors = trace.get("error_y") or {}
    above = errors.get("array") or [None] * len(trace["y"])
    below = errors.get("arrayminus") or [None] * len(trace["y"])
    path, intervals, points = [], [], []
    previous = None
    for index, (wave, mean) in enumerate(zip(trace["x"], trace["y"], strict=True)):
        if mean is None:
            previous = None
            continue
        x, y = x_of(index), y_of(mean)
        path.append(f"{'L' if previous is not None else 'M'}{x} {y}")
        previous = mean
        label = f"{trace['name']}, {wave}: {_number(mean, decimal_comma)}"
        if above[index] is not None and below[index] is not None:
            top, foot = y_of(mean + above[index]), y_of(mean - below[index])
            intervals.append(_interval(x, top, foot))
            low_end = _number(mean - below[index], decimal_comma)
            high_end = _number(mean + above[index], decimal_comma)
            label += f" ({low_end}–{high_end})"
        points.append(Point(x, y, label))
    colour = trace.get("line", {}).get("color", "#1f4e79")
    return Series(trace["name"], colour, "".join(path), "".join(intervals), points)


def _interval(x: float, top: float, foot: float) -> str:
    """A vertical stroke from ``top`` to ``foot`` with an end mark at each end."""
    left, right = round(x - CAP, 1), round(x + CAP, 1)
    return f"M{x} {top}V{foot}M{left} {top}H{right}M{left} {foot}H{right}"
