"""Scale scores per respondent, by the rule of the instrument brief.

A respondent's score on a scale is the mean of the items they answered on the 1–5 scale
(reverse-coded items as 6 − value), and only when they answered at least 75% of the scale's
items. "Don't know / not applicable" counts as not answered, never as a midpoint.
"""

from __future__ import annotations

import pandas as pd

SCALE_POINTS = 5
MIN_SHARE_ANSWERED = 0.75


def respondent_scale_scores(answers: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Scores of every respondent on every scale.

    ``answers``: one row per answer, columns ``response_id``, ``item_code`` and ``value`` (1–5;
    missing for "don't know"). ``items``: one row per scored item, columns ``item_code``,
    ``scale_code`` and ``reverse``. Returns a DataFrame indexed by ``response_id`` with a column
    per scale code; a score is missing where fewer than 75% of the scale's items were answered.
    """
    if answers.empty or items.empty:
        return pd.DataFrame(index=pd.Index([], name="response_id"))
    scored = answers.merge(items, on="item_code", how="inner").dropna(subset=["value"])
    value = scored["value"].astype(float)
    scored = scored.assign(
        value=value.where(~scored["reverse"].astype(bool), SCALE_POINTS + 1 - value)
    )
    stats = scored.groupby(["response_id", "scale_code"])["value"].agg(["mean", "count"])
    items_per_scale = items.groupby("scale_code")["item_code"].nunique()
    needed = items_per_scale.reindex(stats.index.get_level_values("scale_code")).to_numpy()
    enough = stats["count"].to_numpy() >= MIN_SHARE_ANSWERED * needed
    scores = stats["mean"].where(enough).unstack("scale_code")
    respondents = pd.Index(answers["response_id"].unique(), name="response_id")
    return scores.reindex(index=respondents, columns=sorted(items_per_scale.index))
