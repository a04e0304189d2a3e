"""Per-scale statistics of a group of respondents, and change between two waves.

Input is tidy: ``answers`` has one row per answer with ``response_id``, ``item_code``, ``value``
(1–5, missing for "don't know") and ``dont_know``; ``items`` has one row per scored item with
``item_code``, ``scale_code`` and ``reverse``. Nothing here decides what may be shown: the
anonymity gate (``survey.anonymity``) does, before any of these numbers reach a page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reports.counts import FAVOURABLE_FROM, UNIFORM_NULL_VARIANCE  # noqa: F401 (re-exported)
from reports.counts import rwg as _rwg
from reports.deferred import np, pd, special
from reports.scores import SCALE_POINTS, coded_values, respondent_scale_scores

COLUMNS = ["n", "mean", "sd", "pct_favourable", "pct_dont_know", "rwg"]


def scale_statistics(
    answers: pd.DataFrame, items: pd.DataFrame, scores: pd.DataFrame | None = None
) -> pd.DataFrame:
    """n, mean, SD, % favourable, % don't know and rwg(J) per scale, indexed by scale code.

    n counts the respondents with a scale score (≥ 75% of its items answered); mean and SD are
    of those scores; % favourable is the share of answered items at 4 or 5, % don't know the
    share of the scale's answers that were "don't know"; rwg(J) uses the item answers of the
    respondents who have a score. Every figure comes from one grouped pass (no loop per scale).
    ``scores``: the respondents' scale scores when the caller has them already.
    """
    scales = pd.Index(sorted(items["scale_code"].unique()), name="scale_code")
    if answers.empty:
        return pd.DataFrame(index=scales, columns=COLUMNS)
    if scores is None:
        scores = respondent_scale_scores(answers[~answers["dont_know"]], items)
    coded = coded_values(answers, items)
    given = coded.dropna(subset=["value"])
    frame = pd.DataFrame(index=scales)
    frame["n"] = scores.count().reindex(scales).fillna(0).astype(int)
    frame["mean"] = scores.mean().reindex(scales)
    frame["sd"] = scores.std(ddof=1).reindex(scales)
    frame["pct_favourable"] = 100 * (given["value"] >= FAVOURABLE_FROM).groupby(
        given["scale_code"]
    ).mean().reindex(scales)
    frame["pct_dont_know"] = 100 * coded["dont_know"].astype(bool).groupby(
        coded["scale_code"]
    ).mean().reindex(scales)
    frame["rwg"] = _rwg_per_scale(given, scores).reindex(scales)
    return frame[COLUMNS]


def _rwg_per_scale(given: pd.DataFrame, scores: pd.DataFrame) -> pd.Series:
    """rwg(J) of every scale at once, over the respondents who have a score on it."""
    # (response_id, scale_code) with a score; pandas 3 keeps the missing ones in stack()
    scored_pairs = scores.stack().dropna().index
    if scored_pairs.empty:
        return pd.Series(dtype=float)
    keys = pd.MultiIndex.from_arrays([given["response_id"], given["scale_code"]])
    scored = given[keys.isin(scored_pairs)]
    variances = scored.groupby(["scale_code", "item_code"])["value"].var(ddof=1).dropna()
    by_scale = variances.groupby(level="scale_code").agg(["mean", "count"])
    rwg = pd.Series(
        {scale: _rwg(row["mean"], int(row["count"])) for scale, row in by_scale.iterrows()},
        dtype=float,
    )
    respondents = scored.groupby("scale_code")["response_id"].nunique()
    return rwg.where(respondents.reindex(rwg.index) > 1)


@dataclass(frozen=True)
class Change:
    """The change of a mean between two waves (different, anonymous respondents)."""

    difference: float
    low: float
    high: float
    #: Cohen's d with the pooled standard deviation.
    effect_size: float

    @property
    def clear(self) -> bool:
        """A change is only called when the 95% interval excludes zero."""
        return self.low > 0 or self.high < 0


def change_between(before: pd.Series, after: pd.Series, confidence: float = 0.95) -> Change:
    """Welch's interval for the difference of two means (after − before) and Cohen's d."""
    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    before, after = before[~np.isnan(before)], after[~np.isnan(after)]
    if len(before) < 2 or len(after) < 2:
        raise ValueError("a change needs at least two scores in each wave")
    return change_from_summaries(
        Summary(len(before), float(before.mean()), float(before.var(ddof=1))),
        Summary(len(after), float(after.mean()), float(after.var(ddof=1))),
        confidence,
    )


@dataclass(frozen=True)
class Summary:
    """A group's scores summarised: n, mean and sample variance (ddof=1)."""

    n: int
    mean: float
    var: float

    @classmethod
    def from_sums(cls, n: int, total: float, total_of_squares: float) -> Summary:
        """From the sums a database returns: Σx and Σx² (so the scores never leave SQL)."""
        mean = total / n
        var = (total_of_squares - n * mean * mean) / (n - 1) if n > 1 else math.nan
        return cls(n, mean, max(var, 0.0) if not math.isnan(var) else var)

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """The t interval of the mean; (mean, mean) when it cannot be computed."""
        if self.n < 2 or math.isnan(self.var):
            return self.mean, self.mean
        half = float(special.stdtrit(self.n - 1, (1 + confidence) / 2)) * math.sqrt(
            self.var / self.n
        )
        return self.mean - half, self.mean + half


def change_from_summaries(before: Summary, after: Summary, confidence: float = 0.95) -> Change:
    """Welch's interval for after − before and Cohen's d (pooled SD), from two summaries."""
    n1, n2, v1, v2 = before.n, after.n, before.var, after.var
    if n1 < 2 or n2 < 2:
        raise ValueError("a change needs at least two scores in each wave")
    difference = after.mean - before.mean
    standard_error = math.sqrt(v1 / n1 + v2 / n2)
    pooled_sd = math.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
    effect = difference / pooled_sd if pooled_sd > 0 else math.nan
    if standard_error == 0:
        return Change(difference, difference, difference, effect)
    freedom = (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    half_width = float(special.stdtrit(freedom, (1 + confidence) / 2)) * standard_error
    return Change(difference, difference - half_width, difference + half_width, effect)


ANSWER_VALUES = list(range(1, SCALE_POINTS + 1))


def answer_counts(answers: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """How many answers of each value 1–5 every scale received, reverse-coded items turned.

    Indexed by scale code, one column per value; "don't know" is not counted here (it is in
    ``pct_dont_know``). The rows draw a scale's diverging bar of answers.
    """
    coded = coded_values(answers, items).dropna(subset=["value"])
    counts = pd.crosstab(coded["scale_code"], coded["value"].astype(int))
    scales = pd.Index(sorted(items["scale_code"].unique()), name="scale_code")
    return counts.reindex(index=scales, columns=ANSWER_VALUES, fill_value=0).fillna(0).astype(int)


ITEM_COLUMNS = ["n", "mean", "pct_favourable", "pct_dont_know", *ANSWER_VALUES]


def item_statistics(answers: pd.DataFrame) -> pd.DataFrame:
    """Per item, as answered (not reverse-coded): n, mean, % at 4–5, % don't know, counts 1–5.

    ``answers`` as for ``scale_statistics``; n counts the answers on the 1–5 scale, % don't
    know is the share of all the item's answers.
    """
    if answers.empty:
        return pd.DataFrame(columns=ITEM_COLUMNS, index=pd.Index([], name="item_code"))
    codes = pd.Index(answers["item_code"].unique(), name="item_code")
    given = answers.dropna(subset=["value"])
    values = given.groupby("item_code")["value"]
    frame = pd.DataFrame(index=codes)
    frame["n"] = values.count().reindex(codes).fillna(0).astype(int)
    frame["mean"] = values.mean().reindex(codes)
    favourable = (given["value"] >= FAVOURABLE_FROM).groupby(given["item_code"]).mean()
    frame["pct_favourable"] = 100 * favourable.reindex(codes)
    frame["pct_dont_know"] = 100 * answers.groupby("item_code")["dont_know"].mean().reindex(codes)
    counts = given.groupby(["item_code", given["value"].astype(int)]).size().unstack()
    counts = counts.reindex(index=codes, columns=ANSWER_VALUES, fill_value=0).fillna(0)
    frame[ANSWER_VALUES] = counts.astype(int)
    return frame[ITEM_COLUMNS]


def tick_shares(ticks: pd.DataFrame, respondents: int) -> pd.Series:
    """The share (%) of ``respondents`` who ticked each (row, column) cell of a tick grid.

    ``ticks``: one row per ticked cell with ``response_id``, ``grid_row`` and ``grid_column``.
    """
    if respondents <= 0:
        raise ValueError("shares need at least one respondent")
    counts = ticks.drop_duplicates().groupby(["grid_row", "grid_column"])["response_id"].count()
    return 100 * counts / respondents
