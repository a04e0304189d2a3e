"""Item and scale figures from answer counts, without pandas.

A database returns, per item, how many answers each value received (``ValueCounts``); from those
counts alone come every per-item and per-scale figure of a team page: n, mean, % favourable,
% don't know, the answers 1–5 (reverse-coded items turned) and rwg(J). The arithmetic is the one
of ``reports.statistics`` (which works on one row per answer), written over counts so that the
answers never leave SQL; ``tests/test_results_sql.py`` checks that the two agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from reports.scores import SCALE_POINTS, reversed_value

#: Answers of 4 and 5 ("often", "(almost) always"; "agree", "strongly agree") are favourable.
FAVOURABLE_FROM = 4
#: The variance of a uniform answer distribution over A points, (A² − 1) / 12: 2.0 for five.
UNIFORM_NULL_VARIANCE = (SCALE_POINTS**2 - 1) / 12
ANSWER_VALUES = tuple(range(1, SCALE_POINTS + 1))


def rwg(mean_variance: float, items: int) -> float:
    """Within-group agreement rwg(J) (James, Demaree & Wolf, 1984) against the uniform null,
    from the mean s̄² of the items' variances and the number of items J.

    rwg(J) = J(1 − s̄²/σ²) / (J(1 − s̄²/σ²) + s̄²/σ²), with σ² = 2.0 for five points; truncated
    at 0 when the observed variance exceeds the null (the team sees it differently).
    """
    ratio = mean_variance / UNIFORM_NULL_VARIANCE
    if ratio >= 1:
        return 0.0
    return items * (1 - ratio) / (items * (1 - ratio) + ratio)


@dataclass
class ValueCounts:
    """One item's answers in a group, counted: value → answers (values as given)."""

    values: dict[int, int] = field(default_factory=dict)
    #: "Don't know" answers, and every answer row (with "don't know" and empty ones).
    dont_know: int = 0
    rows: int = 0
    #: The values given by respondents who have a score on the item's scale (for rwg(J)).
    scored: dict[int, int] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return sum(self.values.values())

    def turned(self, reverse: bool) -> dict[int, int]:
        if not reverse:
            return self.values
        return {reversed_value(value): count for value, count in self.values.items()}


@dataclass(frozen=True)
class Figures:
    """What a page shows of an item or of a scale's answers, before the gate."""

    n: int
    mean: float | None
    pct_favourable: float | None
    pct_dont_know: float | None
    counts: tuple[int, ...]


def _share(part: int, whole: int) -> float | None:
    return 100 * (part / whole) if whole else None


def item_figures(counts: ValueCounts) -> Figures:
    """n (answers with a value), mean, % at 4–5, % don't know (of all the item's answers) and
    the answers 1–5, as answered (not reverse-coded)."""
    n = counts.n
    total = sum(value * count for value, count in counts.values.items())
    favourable = sum(count for value, count in counts.values.items() if value >= FAVOURABLE_FROM)
    return Figures(
        n,
        float(total) / n if n else None,
        _share(favourable, n),
        _share(counts.dont_know, counts.rows),
        tuple(counts.values.get(value, 0) for value in ANSWER_VALUES),
    )


def scale_answer_figures(items: Iterable[tuple[ValueCounts, bool]]) -> Figures:
    """% favourable, % don't know and answers 1–5 of a scale's items taken together, reverse-coded
    items turned; ``items``: (counts, reverse) per item. n and mean are those of the answers
    (a scale's n and mean on a page are those of its respondents' scores: ``scale_scores``)."""
    turned: dict[int, int] = {}
    dont_know = rows = 0
    for counts, reverse in items:
        for value, count in counts.turned(reverse).items():
            turned[value] = turned.get(value, 0) + count
        dont_know += counts.dont_know
        rows += counts.rows
    n = sum(turned.values())
    total = sum(value * count for value, count in turned.items())
    favourable = sum(count for value, count in turned.items() if value >= FAVOURABLE_FROM)
    return Figures(
        n,
        float(total) / n if n else None,
        _share(favourable, n),
        _share(dont_know, rows),
        tuple(turned.get(value, 0) for value in ANSWER_VALUES),
    )


def _variance(values: dict[int, int]) -> float | None:
    """The sample variance (ddof=1) of counted values, in two passes; None below two values."""
    n = sum(values.values())
    if n < 2:
        return None
    mean = sum(value * count for value, count in values.items()) / n
    return sum(count * (value - mean) ** 2 for value, count in values.items()) / (n - 1)


def scale_rwg(items: Iterable[ValueCounts], respondents: int) -> float | None:
    """rwg(J) of a scale over the respondents who have a score on it (``respondents``), from the
    answers those respondents gave to its items; None for fewer than two respondents. Reverse
    coding turns values round and leaves variances alone."""
    if respondents <= 1:
        return None
    variances = [v for v in (_variance(counts.scored) for counts in items) if v is not None]
    if not variances:
        return None
    return rwg(math.fsum(variances) / len(variances), len(variances))
