"""Scale scores stored as responses arrive (``ScaleScore``), computed in SQL.

One INSERT … SELECT does it for any set of responses, by the scoring rule of ``reports.scores``
turned into SQL: the same ``reversed_value``, ``enough_answered`` and ``scale_score`` applied to
column expressions, so the stored scores and the pandas statistics cannot drift apart
(``tests/test_scoring_rule.py`` checks that they agree on random answers). An answer counts when
it has a value: "don't know" has none. Every path that stores responses calls
``store_scale_scores``: the questionnaire's submission, the demo, the benchmark generator;
migration 0005 did it once for the responses that were already there.
"""

from __future__ import annotations

import sqlalchemy as sa

from reports.scores import enough_answered, reversed_value, scale_score
from survey.extensions import db
from survey.models import Answer, Response, ScaleScore, StoredItem, StoredScale, Wave
from survey.services.team_figures import forget_wave_figures


def scores_select(responses: sa.Select) -> sa.Select:
    """SELECT response_id, scale_code, score for the responses whose ids ``responses`` gives."""
    items_per_scale = (
        sa.select(
            StoredScale.id.label("scale_id"), sa.func.count(StoredItem.id).label("item_count")
        )
        .join(StoredItem, StoredItem.scale_id == StoredScale.id)
        .where(StoredScale.scored)
        .group_by(StoredScale.id)
        .subquery()
    )
    coded = sa.case((StoredItem.reverse, reversed_value(Answer.value)), else_=Answer.value)
    return (
        sa.select(
            Answer.response_id,
            StoredScale.code,
            scale_score(sa.cast(sa.func.sum(coded), sa.Float), sa.func.count()).label("score"),
        )
        .join(Response, Answer.response_id == Response.id)
        .join(Wave, Wave.id == Response.wave_id)
        .join(
            StoredItem,
            (StoredItem.version_id == Wave.questionnaire_version_id)
            & (StoredItem.code == Answer.item_code),
        )
        .join(StoredScale, (StoredScale.id == StoredItem.scale_id) & StoredScale.scored)
        .join(items_per_scale, items_per_scale.c.scale_id == StoredScale.id)
        .where(Answer.response_id.in_(responses), Answer.value.is_not(None))
        .group_by(Answer.response_id, StoredScale.code, items_per_scale.c.item_count)
        .having(enough_answered(sa.func.count(), items_per_scale.c.item_count))
    )


def store_scale_scores(responses: sa.Select, *, replace: bool = True) -> None:
    """Compute and store the scale scores of the responses whose ids ``responses`` selects,
    replacing any stored before (``replace=False``: a response just stored has none)."""
    if replace:
        forget_wave_figures(sa.select(Response.wave_id).where(Response.id.in_(responses)))
        db.session.execute(sa.delete(ScaleScore).where(ScaleScore.response_id.in_(responses)))
    db.session.execute(
        sa.insert(ScaleScore).from_select(
            ["response_id", "scale_code", "score"], scores_select(responses)
        )
    )


def of_response(response_id) -> sa.Select:
    return sa.select(Response.id).where(Response.id == response_id)


def of_wave(wave_id: int) -> sa.Select:
    return sa.select(Response.id).where(Response.wave_id == wave_id)
