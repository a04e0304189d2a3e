"""Per-scale statistics of a group of respondents, and change between two waves.

Input is tidy: ``answers`` has one row per answer with ``response_id``, ``item_code``, ``value``
(1–5, missing for "don't know") and ``dont_know``; ``items`` has one row per scored item with
``item_code``, ``scale_code`` and ``reverse``. Nothing here decides what may be shown: the
anonymity gate (``survey.anonymity``) does, before any of these numbers reach a page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from reports.scores import SCALE_POINTS, respondent_scale_scores

#: Answers of 4 and 5 ("often", "(almost) always"; "agree", "strongly agree") are favourable.
FAVOURABLE_FROM = 4
#: The variance of a uniform answer distribution over A points, (A² − 1) / 12: 2.0 for five.
UNIFORM_NULL_VARIANCE = (SCALE_POINTS**2 - 1) / 12

COLUMNS = ["n", "mean", "sd", "pct_favourable", "pct_dont_know", "rwg"]


def coded_values(answers: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """The answers to scored items, with reverse-coded items turned round (6 − value)."""
    merged = answers.merge(items, on="item_code", how="inner")
    value = merged["value"].astype(float)
    reverse = merged["reverse"].astype(bool)
    return merged.assign(value=value.where(~reverse, SCALE_POINTS + 1 - value))


def rwg_j(item_values: pd.DataFrame) -> float:
    """Within-group agreement rwg(J) (James, Demaree & Wolf, 1984) against the uniform null.

    ``item_values``: respondents × items. rwg(J) = J(1 − s̄²/σ²) / (J(1 − s̄²/σ²) + s̄²/σ²),
    with s̄² the mean of the items' variances and σ² = 2.0 for five points; truncated at 0 when
    the observed variance exceeds the null (the team sees it differently).
    """
    variances = item_values.var(ddof=1).dropna()
    if variances.empty:
        return math.nan
    ratio = float(variances.mean()) / UNIFORM_NULL_VARIANCE
    if ratio >= 1:
        return 0.0
    items = len(variances)
    return items * (1 - ratio) / (items * (1 - ratio) + ratio)


def scale_statistics(answers: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """n, mean, SD, % favourable, % don't know and rwg(J) per scale, indexed by scale code.

    n counts the respondents with a scale score (≥ 75% of its items answered); mean and SD are
    of those scores; % favourable is the share of answered items at 4 or 5, % don't know the
    share of the scale's answers that were "don't know".
    """
    scales = sorted(items["scale_code"].unique())
    if answers.empty:
        return pd.DataFrame(index=pd.Index(scales, name="scale_code"), columns=COLUMNS)
    scores = respondent_scale_scores(answers[~answers["dont_know"]], items)
    coded = coded_values(answers, items)
    rows = {}
    for scale in scales:
        scale_scores = scores[scale].dropna() if scale in scores else pd.Series(dtype=float)
        scale_answers = coded[coded["scale_code"] == scale]
        given = scale_answers.dropna(subset=["value"])
        scored = given[given["response_id"].isin(scale_scores.index)]
        wide = scored.pivot_table(index="response_id", columns="item_code", values="value")
        rows[scale] = {
            "n": len(scale_scores),
            "mean": scale_scores.mean() if len(scale_scores) else math.nan,
            "sd": scale_scores.std(ddof=1) if len(scale_scores) > 1 else math.nan,
            "pct_favourable": 100 * (given["value"] >= FAVOURABLE_FROM).mean()
            if len(given)
            else math.nan,
            "pct_dont_know": 100 * scale_answers["dont_know"].astype(bool).mean()
            if len(scale_answers)
            else math.nan,
            "rwg": rwg_j(wide) if len(wide) > 1 else math.nan,
        }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=COLUMNS)
    frame.index.name = "scale_code"
    return frame.astype({"n": int})


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
    n1, n2 = len(before), len(after)
    if n1 < 2 or n2 < 2:
        raise ValueError("a change needs at least two scores in each wave")
    v1, v2 = before.var(ddof=1), after.var(ddof=1)
    difference = float(after.mean() - before.mean())
    standard_error = math.sqrt(v1 / n1 + v2 / n2)
    pooled_sd = math.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
    effect = difference / pooled_sd if pooled_sd > 0 else math.nan
    if standard_error == 0:
        return Change(difference, difference, difference, effect)
    freedom = (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    half_width = float(stats.t.ppf((1 + confidence) / 2, freedom)) * standard_error
    return Change(difference, difference - half_width, difference + half_width, effect)
