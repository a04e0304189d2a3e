"""The scoring rule of the instrument brief, written once.

A respondent's score on a scale is the mean of the items they answered on the 1–5 scale,
reverse-coded items turned round (``reversed_value``: 1 ↔ 5, 2 ↔ 4), and only when they answered
at least 75% of the scale's items (``enough_answered``). An answer counts when it has a point on
the scale: "don't know / not applicable" has none, so it counts as not answered, never as a
midpoint.

The rule's parts are plain arithmetic, so they apply alike to a number, a NumPy array, a pandas
Series and a SQLAlchemy column expression. The pandas statistics (``respondent_scale_scores``,
``reports.statistics``) and the scores stored in SQL as responses arrive
(``survey.services.scale_scores``) are both built from them; ``tests/test_scoring_rule.py``
checks on random instruments and answers that the two agree.
"""

from __future__ import annotations

from typing import Any

from reports.deferred import pd

#: Points on the answer scale: 1 to 5.
SCALE_POINTS = 5
#: The least share of a scale's items a respondent must answer to have a score on it.
MIN_SHARE_ANSWERED = 0.75


def reversed_value(value: Any) -> Any:
    """A reverse-coded item's answer turned round: points + 1 − value (6 − value on five)."""
    return SCALE_POINTS + 1 - value


def enough_answered(answered: Any, items: Any) -> Any:
    """Whether ``answered`` of a scale's ``items`` are enough for a score (at least 75%)."""
    return answered >= MIN_SHARE_ANSWERED * items


def scale_score(total: Any, answered: Any) -> Any:
    """The score: the mean of the answered items' (turned) values, from their sum and count.

    ``total`` must already be a float (in SQL: cast), so that the division is not an integer one.
    """
    return total / answered


def coded_values(answers: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """The answers to scored items, with reverse-coded items turned round (``reversed_value``).

    ``answers``: columns ``response_id``, ``item_code`` and ``value`` (missing for "don't
    know"), and any others; ``items``: one row per scored item, columns ``item_code``,
    ``scale_code`` and ``reverse``. Answers to items that are not scored are left out.
    """
    merged = answers.merge(items, on="item_code", how="inner")
    value = merged["value"].astype(float)
    reverse = merged["reverse"].astype(bool)
    return merged.assign(value=value.where(~reverse, reversed_value(value)))


def respondent_scale_scores(answers: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Scores of every respondent on every scale.

    ``answers``: one row per answer, columns ``response_id``, ``item_code`` and ``value`` (1–5;
    missing for "don't know"). ``items``: one row per scored item, columns ``item_code``,
    ``scale_code`` and ``reverse``. Returns a DataFrame indexed by ``response_id`` with a column
    per scale code; a score is missing where fewer than 75% of the scale's items were answered.
    """
    if answers.empty or items.empty:
        return pd.DataFrame(index=pd.Index([], name="response_id"))
    answered = coded_values(answers, items).dropna(subset=["value"])
    stats = answered.groupby(["response_id", "scale_code"])["value"].agg(["sum", "count"])
    items_per_scale = items.groupby("scale_code")["item_code"].nunique()
    needed = items_per_scale.reindex(stats.index.get_level_values("scale_code")).to_numpy()
    enough = enough_answered(stats["count"].to_numpy(), needed)
    scores = scale_score(stats["sum"], stats["count"]).where(enough).unstack("scale_code")
    respondents = pd.Index(answers["response_id"].unique(), name="response_id")
    return scores.reindex(index=respondents, columns=sorted(items_per_scale.index))
