import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from survey.extensions import db
from survey.models import Answer, Base, Response, Unit, UnitKind


def test_migrations_head_matches_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_migrations_are_at_head(app):
    from alembic.script import ScriptDirectory
    from flask_migrate import Config

    config = Config()
    config.set_main_option("script_location", app.extensions["migrate"].directory)
    head = ScriptDirectory.from_config(config).get_current_head()
    assert db.session.scalar(sa.text("SELECT version_num FROM alembic_version")) == head


# The anonymity promise, written into the schema: these are the only columns a response and
# its answers may have. A new column here needs a reason that survives docs/anonymity.md's promise.
RESPONSE_COLUMNS = {"id", "wave_id", "unit_id", "submitted_on", "language"}
ANSWER_COLUMNS = {
    "response_id",
    "item_code",
    "grid_row",
    "grid_column",
    "value",
    "dont_know",
    "text",
}


DRAFT_COLUMNS = {"id", "wave_id", "unit_id", "answers", "step", "resume_code_sha256", "expires_on"}


@pytest.mark.parametrize(
    "table, columns, referred",
    [
        ("responses", RESPONSE_COLUMNS, {"wave_teams"}),
        ("answers", ANSWER_COLUMNS, {"responses"}),
        ("drafts", DRAFT_COLUMNS, {"wave_teams"}),
        ("scale_scores", {"response_id", "scale_code", "score"}, {"responses"}),
    ],
)
def test_what_a_respondent_leaves_has_no_column_that_could_name_them(app, table, columns, referred):
    """No network address, agent string, time finer than a day, or link to a code or account."""
    inspector = sa.inspect(db.engine)
    found = inspector.get_columns(table)
    assert {column["name"] for column in found} == columns
    for column in found:
        assert not isinstance(column["type"], sa.DateTime | sa.Time), column["name"]
    assert {fk["referred_table"] for fk in inspector.get_foreign_keys(table)} == referred
    submitted_on = [c for c in found if c["name"] in ("submitted_on", "expires_on")]
    assert all(isinstance(c["type"], sa.Date) for c in submitted_on)


@pytest.fixture
def response(tree, make_wave):
    wave = make_wave([tree["team-a"]])
    response = Response(
        wave_id=wave.id, unit_id=tree["team-a"].id, submitted_on=date.today(), language="nl"
    )
    db.session.add(response)
    db.session.commit()
    return response


def test_response_ids_are_random(response):
    assert isinstance(response.id, uuid.UUID) and response.id.version == 4


@pytest.mark.parametrize(
    "answer",
    [
        {"value": 3},
        {"dont_know": True},
        {"text": "We vieren kleine stappen."},
        {"grid_row": "aspirations", "grid_column": "living"},
    ],
)
def test_an_answer_of_each_kind_is_stored(response, answer):
    db.session.add(Answer(response_id=response.id, item_code="X1", **answer))
    db.session.commit()
    stored = db.session.scalar(sa.select(Answer).where(Answer.response_id == response.id))
    assert {key: getattr(stored, key) for key in answer} == answer


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"value": 3, "dont_know": True},
        {"value": 3, "text": "ook tekst"},
        {"grid_row": "aspirations"},
        {"grid_row": "aspirations", "grid_column": "living", "value": 1},
    ],
)
def test_the_database_refuses_an_answer_that_is_not_exactly_one_kind(response, answer):
    db.session.add(Answer(response_id=response.id, item_code="X1", **answer))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_the_database_refuses_an_unknown_language(tree, make_wave):
    wave = make_wave([tree["team-a"]])
    db.session.add(
        Response(
            wave_id=wave.id, unit_id=tree["team-a"].id, submitted_on=date.today(), language="de"
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_response_must_belong_to_a_team_of_its_wave(tree, make_wave):
    wave = make_wave([tree["team-a"]])
    db.session.add(
        Response(
            wave_id=wave.id, unit_id=tree["team-c"].id, submitted_on=date.today(), language="nl"
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_only_an_organisation_is_a_root(app):
    db.session.add(Unit(slug="loose", name="Loose team", kind=UnitKind.TEAM))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_ancestors_run_from_the_organisation_down(tree):
    assert [unit.slug for unit in tree["team-a"].ancestors()] == ["org", "north"]


def count_rows(tables: tuple[str, ...]) -> dict[str, int]:
    with db.engine.connect() as connection:
        return {
            t: connection.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in tables
        }


def test_migration_0004_keeps_every_response_both_ways(app, demo):
    """SQLite's batch mode copies wave_teams; with foreign keys on, dropping the old table once
    cascaded to every response, answer and action. Now the data survives down and up again."""
    from flask_migrate import downgrade, upgrade

    db.session.remove()
    tables = (
        "responses",
        "answers",
        "access_codes",
        "team_actions",
        "drafts",
        "wave_teams",
    )
    before = count_rows(tables)
    scores = count_rows(("scale_scores",))
    assert before["responses"] > 100 and before["answers"] > 1000 and scores["scale_scores"] > 1000
    downgrade(revision="0003")
    assert count_rows(tables) == before
    upgrade()
    assert count_rows(tables) == before
    assert count_rows(("scale_scores",)) == scores  # dropped on the way down, backfilled by 0005
    with db.engine.connect() as connection:
        slugs = connection.execute(sa.text("SELECT results_slug FROM wave_teams")).scalars().all()
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert len(set(slugs)) == len(slugs) == before["wave_teams"] and all(slugs)
