"""One scoring rule: the scores stored in SQL as responses arrive equal the pandas statistics'
scores (``reports.scores.respondent_scale_scores``) on random scales and random answers.

Each example stores a random questionnaire version (scored scales of 1 to 6 items, some reversed;
an unscored group and an item outside any scale beside them), a wave of one team and random
respondents whose answers to each item are a point 1–5, "don't know" or nothing; every response's
scores are stored as the submission stores them (``store_scale_scores`` of the one response) and
compared with ``respondent_scale_scores`` of the same answers. The example's rows are rolled
back afterwards.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date

import pandas as pd
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.scores import SCALE_POINTS, respondent_scale_scores
from survey.extensions import db
from survey.models import (
    Answer,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    ScaleScore,
    StoredItem,
    StoredScale,
    Wave,
    WaveStatus,
    WaveTeam,
)
from survey.services.responding import answer_rows
from survey.services.scale_scores import of_response, store_scale_scores

DAY = date(2026, 3, 2)
DONT_KNOW = "dk"


@dataclass(frozen=True)
class RandomScale:
    code: str
    scored: bool
    #: One flag per item: reverse-coded or not.
    reverse: tuple[bool, ...]

    def item_codes(self) -> list[str]:
        return [f"{self.code}.{number}" for number in range(1, len(self.reverse) + 1)]


def random_scales() -> st.SearchStrategy[list[RandomScale]]:
    """One to three scored scales and at most one unscored group, each of 1 to 6 items."""
    items = st.lists(st.booleans(), min_size=1, max_size=6).map(tuple)
    scored = st.lists(items, min_size=1, max_size=3)
    group = st.lists(items, max_size=1)
    return st.tuples(scored, group).map(
        lambda drawn: (
            [RandomScale(f"S{n}", True, flags) for n, flags in enumerate(drawn[0], 1)]
            + [RandomScale(f"G{n}", False, flags) for n, flags in enumerate(drawn[1], 1)]
        )
    )


#: An answer to one item: a point on the scale (mostly, so that shares near 75% come up often),
#: "don't know", or no answer at all.
ANSWER = st.sampled_from([*range(1, SCALE_POINTS + 1), DONT_KNOW, None])


def store_version(scales: list[RandomScale]) -> QuestionnaireVersion:
    """The scales as a stored questionnaire version, with one item outside any scale."""
    digest = hashlib.sha256(repr(scales).encode()).hexdigest()
    version = QuestionnaireVersion(
        questionnaire=Questionnaire(key=f"random-{digest[:12]}", title={"nl": "Willekeurig"}),
        version="1",
        filename="random.yaml",
        content="",
        content_sha256=digest,
        definition={},
    )
    position = 0
    for scale_position, scale in enumerate(scales):
        row = StoredScale(
            code=scale.code,
            section_code="S",
            scored=scale.scored,
            title={"nl": scale.code},
            position=scale_position,
        )
        version.scales.append(row)
        for code, reverse in zip(scale.item_codes(), scale.reverse, strict=True):
            version.items.append(likert_item(code, position, reverse=reverse, scale=row))
            position += 1
    version.items.append(likert_item("X.1", position))
    db.session.add(version)
    return version


def likert_item(code: str, position: int, reverse: bool = False, scale=None) -> StoredItem:
    return StoredItem(
        code=code,
        section_code="S",
        scale=scale,
        item_type="frequency5",
        text={"nl": code},
        reverse=reverse,
        dont_know=True,
        position=position,
    )


def submit(wave: Wave, unit_id: int, answers: dict[str, int | str | None]) -> Response:
    """A response with its answers, its scale scores stored as ``submit_draft`` stores them."""
    response = Response(wave_id=wave.id, unit_id=unit_id, submitted_on=DAY, language="nl")
    db.session.add(response)
    db.session.flush()
    drafted = {
        code: {"dont_know": True} if answer == DONT_KNOW else {"value": answer}
        for code, answer in answers.items()
        if answer is not None
    }
    rows = answer_rows(response.id, drafted)
    if rows:
        db.session.execute(sa.insert(Answer.__table__), rows)
        store_scale_scores(of_response(response.id), replace=False)
    return response


def stored_scores(wave: Wave) -> dict[tuple, float]:
    rows = db.session.execute(
        sa.select(ScaleScore.response_id, ScaleScore.scale_code, ScaleScore.score)
        .join(Response, Response.id == ScaleScore.response_id)
        .where(Response.wave_id == wave.id)
    )
    return {(response_id, scale): score for response_id, scale, score in rows}


def pandas_scores(wave: Wave, scales: list[RandomScale]) -> dict[tuple, float]:
    """The scores by ``respondent_scale_scores``: the wave's answers ("don't know" as an answer
    without a value) against the scored scales' items."""
    answers = pd.DataFrame(
        db.session.execute(
            sa.select(Answer.response_id, Answer.item_code, Answer.value)
            .join(Response, Response.id == Answer.response_id)
            .where(Response.wave_id == wave.id)
        ).all(),
        columns=["response_id", "item_code", "value"],
    ).astype({"value": float})
    items = pd.DataFrame(
        [
            (code, scale.code, reverse)
            for scale in scales
            if scale.scored
            for code, reverse in zip(scale.item_codes(), scale.reverse, strict=True)
        ],
        columns=["item_code", "scale_code", "reverse"],
    )
    scores = respondent_scale_scores(answers, items)
    return {key: float(score) for key, score in scores.stack().items() if not math.isnan(score)}


@st.composite
def instruments_and_answers(draw) -> tuple[list[RandomScale], list[dict]]:
    scales = draw(random_scales())
    codes = [code for scale in scales for code in scale.item_codes()] + ["X.1"]
    respondent = st.fixed_dictionaries(dict.fromkeys(codes, ANSWER))
    return scales, draw(st.lists(respondent, min_size=1, max_size=8))


def test_stored_scores_equal_the_pandas_scores_on_random_answers(tree, app):
    team = tree["team-a"]

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(instruments_and_answers())
    def agree(drawn: tuple[list[RandomScale], list[dict]]) -> None:
        scales, respondents = drawn
        try:
            wave = Wave(
                questionnaire_version=store_version(scales),
                name="Willekeurig",
                opens_on=DAY,
                closes_on=DAY,
                status=WaveStatus.OPEN,
                units=[team],
                teams=[WaveTeam(unit=team, invited=len(respondents))],
            )
            db.session.add(wave)
            db.session.flush()
            for answers in respondents:
                submit(wave, team.id, answers)
            stored, expected = stored_scores(wave), pandas_scores(wave, scales)
            assert stored.keys() == expected.keys()  # the same respondents have a score
            for key, score in expected.items():
                assert math.isclose(stored[key], score, rel_tol=1e-9), key
        finally:
            db.session.rollback()

    agree()
