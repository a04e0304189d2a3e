"""Scale scores stored in SQL as responses arrive agree with reports.scores' rule."""

import pandas as pd
import pytest
import sqlalchemy as sa

from reports.scores import respondent_scale_scores
from survey.extensions import db
from survey.models import Answer, Response, ScaleScore, StoredItem, StoredScale, Wave
from survey.services.scale_scores import of_wave, store_scale_scores


def test_stored_scores_equal_the_pandas_rule_on_the_demo(demo, app):
    """Per questionnaire version: the demo's closed waves ask 1.3, its open wave 2.0, where an
    unchanged item (A6.1) serves another scale (A13) than in 1.3 (A6)."""
    stored = pd.DataFrame(
        db.session.execute(
            sa.select(ScaleScore.response_id, ScaleScore.scale_code, ScaleScore.score)
        ).all(),
        columns=["response_id", "scale_code", "score"],
    )
    assert len(stored) > 1000
    answers = pd.DataFrame(
        db.session.execute(
            sa.select(
                Answer.response_id, Answer.item_code, Answer.value, Wave.questionnaire_version_id
            )
            .join(Response, Answer.response_id == Response.id)
            .join(Wave, Response.wave_id == Wave.id)
        ).all(),
        columns=["response_id", "item_code", "value", "version_id"],
    ).astype({"value": float})  # fmt: skip
    items = pd.DataFrame(
        db.session.execute(
            sa.select(StoredItem.code, StoredScale.code, StoredItem.reverse, StoredItem.version_id)
            .join(StoredScale, StoredItem.scale_id == StoredScale.id)
            .where(StoredScale.scored)
        ).all(),
        columns=["item_code", "scale_code", "reverse", "version_id"],
    )  # fmt: skip
    assert answers["version_id"].nunique() == 2
    scores = pd.concat(
        respondent_scale_scores(
            version_answers.drop(columns="version_id"),
            items[items["version_id"] == version].drop(columns="version_id"),
        ).stack()
        for version, version_answers in answers.groupby("version_id")
    ).rename("expected")
    expected = scores.dropna().reset_index()  # below 75% answered: no score, in both
    merged = stored.merge(expected, on=["response_id", "scale_code"], how="outer")
    assert merged["score"].notna().all() and merged["expected"].notna().all()  # the same pairs
    assert merged["score"].to_numpy() == pytest.approx(merged["expected"].to_numpy())


def test_storing_again_replaces_and_a_too_short_scale_gets_no_score(tree, make_wave):
    wave = make_wave([tree["team-a"]])
    response = Response(
        wave_id=wave.id, unit_id=tree["team-a"].id, submitted_on=wave.opens_on, language="nl"
    )
    db.session.add(response)
    # mini.yaml's A1 has 3 items (A1.3 reversed); B1 has 4: one answer is < 75%
    for code, value in {"A1.1": 4, "A1.2": 2, "A1.3": 1, "B1.1": 5}.items():
        db.session.add(Answer(response=response, item_code=code, value=value))
    db.session.flush()
    store_scale_scores(of_wave(wave.id))
    store_scale_scores(of_wave(wave.id))  # again: replaces, no duplicates
    [score] = db.session.scalars(sa.select(ScaleScore)).all()
    assert (score.scale_code, score.score) == ("A1", pytest.approx((4 + 2 + 5) / 3))
