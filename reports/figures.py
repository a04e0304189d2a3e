"""Plotly figures as plain JSON-ready dicts: numbers and labels in, ``{"data", "layout"}`` out.

Nothing here imports plotly: plotly.js draws the dicts in the browser (``static/js/charts.js``),
so the server needs no plotting library. Labels arrive already translated; every figure's
numbers also reach the page as a table, so no one depends on the chart alone.

Precision: a chart's data carries no more digits than the table beside it (means to one
decimal, shares to whole percent, hover texts alike, all by the one rule of
``reports.rounding``): the JSON is readable by anyone who opens the page's source, and extra
digits times n would give sums a table does not.

Colours: ColorBrewer's BrBG (colour-blind safe) for answers, a dark blue for the team and a grey
for the comparison, all with at least 3:1 contrast against white for the non-text parts that
carry meaning (WCAG 1.4.11), except the neutral middle answer, which has a darker outline. A
heatmap of shares steps through ``reports.colours.SHARE_BANDS``, as the tables do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reports.colours import plotly_share_colourscale
from reports.rounding import MEAN_DECIMALS, percent_sign, rounded, shares_of_100, whole_percent

#: Answer 1 (never / strongly disagree) to 5 ((almost) always / strongly agree).
ANSWER_COLOURS = ("#8c510a", "#d8b365", "#e0e0e0", "#5ab4ac", "#01665e")
TEAM_COLOUR = "#1f4e79"
COMPARISON_COLOUR = "#8a8a8a"
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13}
ROW_HEIGHT = 30

Figure = dict[str, Any]


def _mean(value: float | None) -> float | None:
    return rounded(value, MEAN_DECIMALS)


def _layout(rows: float, decimal_comma: bool, **extra: Any) -> dict[str, Any]:
    return {
        "font": FONT,
        "separators": ",." if decimal_comma else ".,",
        "height": round(90 + ROW_HEIGHT * max(rows, 1)),
        "margin": {"l": 10, "r": 10, "t": 40, "b": 30, "pad": 4},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "hoverlabel": {"font": FONT},
        **extra,
    }


def _category_axis(labels: Sequence[str]) -> dict[str, Any]:
    """Categories top to bottom in the given order, labels kept inside the figure."""
    return {
        "type": "category",
        "categoryorder": "array",
        "categoryarray": list(labels),
        "autorange": "reversed",
        "automargin": True,
        "fixedrange": True,
    }


def answer_distribution(
    labels: Sequence[str],
    counts: Sequence[Sequence[int]],
    answer_names: Sequence[str],
    *,
    decimal_comma: bool = False,
) -> Figure:
    """A diverging stacked bar per row: answers 1–2 left of zero, 4–5 right, 3 split in half.

    ``counts[r][v]`` is how many answers of row ``r`` had value ``v + 1``; rows with no answers
    are drawn empty. The x axis is the share of the row's answers in percent, whole percents
    that add up to 100 per row.
    """
    shares = [shares_of_100(row) for row in counts]
    # Stacked from the middle outwards: left 3 (half), 2, 1; right 3 (half), 4, 5. The middle
    # answer is one legend entry for both halves; legendrank keeps the legend in 1–5 order.
    segments = [(2, -0.5), (1, -1.0), (0, -1.0), (2, 0.5), (3, 1.0), (4, 1.0)]
    percent = percent_sign(decimal_comma)
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": answer_names[value],
            "legendgroup": str(value + 1),
            "legendrank": value + 1,
            "showlegend": factor != -0.5,
            "y": list(labels),
            "x": [round(factor * row[value], 1) for row in shares],
            "customdata": [row[value] for row in shares],
            "hovertemplate": (
                f"%{{y}}<br>{answer_names[value]}: %{{customdata}}{percent}<extra></extra>"
            ),
            "marker": {
                "color": ANSWER_COLOURS[value],
                "line": {"color": "#6b6b6b" if value == 2 else "#ffffff", "width": 0.5},
            },
        }
        for value, factor in segments
    ]
    return {
        "data": data,
        "layout": _layout(
            len(labels),
            decimal_comma,
            barmode="relative",
            bargap=0.35,
            xaxis={
                "range": [-100, 100],
                "tickvals": [-100, -50, 0, 50, 100],
                "ticktext": [f"100{percent}", f"50{percent}", "0", f"50{percent}", f"100{percent}"],
                "zeroline": True,
                "zerolinecolor": "#4d4d4d",
                "fixedrange": True,
            },
            yaxis=_category_axis(labels),
        ),
    }


def _mean_bars(
    name: str,
    labels: Sequence[str],
    means: Sequence[float | None],
    counts: Sequence[int | None],
    colour: str,
    n_label: str,
) -> dict[str, Any]:
    """Horizontal bars from 1 (the scale's floor) to the mean; missing means draw nothing."""
    shown = [_mean(mean) for mean in means]
    return {
        "type": "bar",
        "orientation": "h",
        "name": name,
        "y": list(labels),
        "x": [None if mean is None else rounded(mean - 1) for mean in shown],
        "base": 1,
        "customdata": [[mean, n] for mean, n in zip(shown, counts, strict=True)],
        "hovertemplate": f"%{{y}}<br>{name}: %{{customdata[0]:.1f}} ({n_label} %{{customdata[1]}})"
        "<extra></extra>",
        "marker": {"color": colour},
    }


def means_against(
    labels: Sequence[str],
    team: tuple[str, Sequence[float | None], Sequence[int | None]],
    comparison: tuple[str, Sequence[float | None], Sequence[int | None]] | None,
    *,
    n_label: str = "n",
    decimal_comma: bool = False,
) -> Figure:
    """Means on the 1–5 scale per row, the team's beside a comparison group's (if any)."""
    data = [_mean_bars(team[0], labels, team[1], team[2], TEAM_COLOUR, n_label)]
    if comparison is not None:
        name, means, counts = comparison
        data.append(_mean_bars(name, labels, means, counts, COMPARISON_COLOUR, n_label))
    return {
        "data": data,
        "layout": _layout(
            len(labels) * len(data) * 0.75,
            decimal_comma,
            barmode="group",
            bargap=0.3,
            xaxis={"range": [1, 5], "dtick": 1, "fixedrange": True, "gridcolor": "#e6e6e6"},
            yaxis=_category_axis(labels),
            showlegend=comparison is not None,
        ),
    }


def share_heatmap(
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    shares: Sequence[Sequence[float]],
    *,
    hover_label: str = "%",
    decimal_comma: bool = False,
) -> Figure:
    """A heatmap of percentages (0–100), e.g. strength sources × life domains."""
    percent = percent_sign(decimal_comma)
    return {
        "data": [
            {
                "type": "heatmap",
                "x": list(column_labels),
                "y": list(row_labels),
                "z": [[whole_percent(share) for share in row] for row in shares],
                "zmin": 0,
                "zmax": 100,
                "colorscale": plotly_share_colourscale(),
                "texttemplate": f"%{{z:.0f}}{percent}",
                "hovertemplate": (
                    f"%{{y}} × %{{x}}<br>{hover_label}: %{{z:.0f}}{percent}<extra></extra>"
                ),
                "xgap": 2,
                "ygap": 2,
                "colorbar": {"ticksuffix": percent, "thickness": 12, "len": 0.9},
            }
        ],
        "layout": _layout(
            len(row_labels) * 1.4,
            decimal_comma,
            xaxis={"side": "top", "tickangle": -35, "automargin": True, "fixedrange": True},
            yaxis=_category_axis(row_labels),
            margin={"l": 10, "r": 10, "t": 120, "b": 10, "pad": 4},
        ),
    }


#: Enough distinct, colour-blind-friendly line colours for a module's scales (Okabe–Ito + Tol).
LINE_COLOURS = (
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#332288",
    "#882255", "#117733", "#999933", "#44aa99", "#aa4499", "#6b6b6b",
)  # fmt: skip


def trend_lines(
    waves: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None], Sequence[tuple[float, float] | None]]],
    *,
    decimal_comma: bool = False,
) -> Figure:
    """One line per scale across waves, with its 95% interval as error bars.

    ``series``: (name, mean per wave or None, (low, high) per wave or None). A wave without a
    figure leaves a gap rather than a line drawn through it; a mean without an interval (too
    few answers to show spread) is drawn without error bars. Means and interval ends are
    rounded as the table shows them.
    """
    data = []
    for index, (name, raw_means, intervals) in enumerate(series):
        means = [_mean(mean) for mean in raw_means]
        above, below = [], []
        for mean, interval in zip(means, intervals, strict=True):
            shown = mean is not None and interval is not None
            above.append(rounded(_mean(interval[1]) - mean) if shown else None)
            below.append(rounded(mean - _mean(interval[0])) if shown else None)
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": list(waves),
                "y": list(means),
                "connectgaps": False,
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": above,
                    "arrayminus": below,
                    "thickness": 1,
                    "width": 3,
                },
                "line": {"color": LINE_COLOURS[index % len(LINE_COLOURS)], "width": 2},
                "hovertemplate": f"{name}<br>%{{x}}: %{{y:.1f}}<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": _layout(
            9,
            decimal_comma,
            yaxis={"range": [1, 5], "dtick": 1, "fixedrange": True, "gridcolor": "#e6e6e6"},
            xaxis={"type": "category", "fixedrange": True},
            legend={"orientation": "h", "x": 0, "y": -0.15, "yanchor": "top"},
            margin={"l": 40, "r": 10, "t": 20, "b": 40, "pad": 4},
        ),
    }
