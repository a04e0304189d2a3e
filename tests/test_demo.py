"""The demo organisation: its shape, its determinism, and the story its numbers tell."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pandas as pd
import sqlalchemy as sa

from reports import respondent_scale_scores
from survey.extensions import db
from survey.models import (
    Account,
    Answer,
    Response,
    Role,
    StoredItem,
    Unit,
    UnitKind,
    Wave,
    WaveStatus,
)
from survey.services.demo import DEMO_PASSWORD, TEAMS, delete_everything
from tests.conftest import login


def counts_per_team_and_wave() -> dict[tuple[str, str], int]:
    rows = db.session.execute(
        sa.select(Unit.slug, Wave.name, sa.func.count(Response.id))
        .join(Unit, Response.unit_id == Unit.id)
        .join(Wave, Response.wave_id == Wave.id)
        .group_by(Unit.slug, Wave.name)
    )
    return {(slug, wave): count for slug, wave, count in rows}


def test_the_demo_prints_its_log_ins(demo):
    assert "Built Huis van Kracht vzw: 8 teams, 4 waves" in demo
    assert f"password for all: {DEMO_PASSWORD}" in demo
    for role in ("admin", "quality", "manager"):
        assert role in demo


def test_the_demo_has_the_promised_shape(demo, app):
    units = db.session.scalars(sa.select(Unit)).all()
    assert sum(u.kind is UnitKind.DEPARTMENT for u in units) == 3
    assert sum(u.kind is UnitKind.TEAM for u in units) == 8
    (organisation,) = [u for u in units if u.kind is UnitKind.ORGANISATION]
    assert organisation.is_demo

    waves = db.session.scalars(sa.select(Wave).order_by(Wave.opens_on)).all()
    assert [w.status for w in waves] == [WaveStatus.CLOSED] * 3 + [WaveStatus.OPEN]
    gaps = [(b.opens_on - a.opens_on).days for a, b in zip(waves[:2], waves[1:3], strict=True)]
    assert all(170 <= gap <= 200 for gap in gaps), gaps
    assert waves[-1].opens_on <= date.today() <= waves[-1].closes_on

    counts = counts_per_team_and_wave()
    k = 5
    for team in TEAMS:
        assert 4 <= team.staff <= 20
        for wave in waves:
            n = counts.get((team.slug, wave.name), 0)
            assert 1 <= n <= team.staff
            if team.slug == "team-de-brug":
                assert n < k, "the small team stays below the minimum group size"
            elif wave.status is WaveStatus.CLOSED:
                assert n >= k, (team.slug, wave.name, n)

    roles = sorted(a.role for a in db.session.scalars(sa.select(Account)))
    assert roles == sorted([Role.ADMIN, Role.QUALITY, Role.MANAGER, Role.MANAGER])
    managers = [a for a in db.session.scalars(sa.select(Account)) if a.role is Role.MANAGER]
    assert {tuple(u.slug for u in m.scope) for m in managers} == {("jeugdhulp",), ("team-anker",)}


def test_answers_include_dont_know_comments_and_grid_ticks(demo, app):
    kinds = db.session.execute(
        sa.select(
            sa.func.count().filter(Answer.dont_know),
            sa.func.count().filter(Answer.text.is_not(None)),
            sa.func.count().filter(Answer.grid_row != ""),
            sa.func.count().filter(Answer.value.is_not(None)),
        )
    ).one()
    dont_know, texts, cells, values = kinds
    assert 0.01 < dont_know / values < 0.08
    assert texts > 20 and cells > 500


def scale_means(team: str, module: str) -> list[float]:
    """The team's mean respondent score over the module's scales, per closed wave."""
    items = pd.DataFrame(
        db.session.execute(
            sa.select(
                StoredItem.code.label("item_code"), StoredItem.reverse, StoredItem.scale_id
            ).where(StoredItem.scale_id.is_not(None), StoredItem.section_code == module)
        ).all()
    )
    items["scale_code"] = items["scale_id"].astype(str)
    means = []
    for wave in db.session.scalars(
        sa.select(Wave).where(Wave.status == WaveStatus.CLOSED).order_by(Wave.opens_on)
    ):
        answers = pd.DataFrame(
            db.session.execute(
                sa.select(Answer.response_id, Answer.item_code, Answer.value)
                .join(Response)
                .join(Unit, Response.unit_id == Unit.id)
                .where(Response.wave_id == wave.id, Unit.slug == team)
            ).all()
        )
        means.append(float(respondent_scale_scores(answers, items).mean().mean()))
    return means


def test_teams_grow_slip_back_or_stay_flat(demo, app):
    growing = scale_means("team-kompas", "A")
    slipping = scale_means("team-anker", "A")
    flat = scale_means("team-buurtwerk", "A")
    assert growing[2] - growing[0] > 0.2, growing
    assert slipping[2] - slipping[0] < -0.2, slipping
    assert abs(flat[2] - flat[0]) < 0.25, flat


def answer_fingerprint() -> list[tuple]:
    return db.session.execute(
        sa.select(
            Answer.response_id,
            Answer.item_code,
            Answer.grid_row,
            Answer.grid_column,
            Answer.value,
            Answer.dont_know,
            Answer.text,
        ).order_by(Answer.response_id, Answer.item_code, Answer.grid_row, Answer.grid_column)
    ).all()


def test_the_same_seed_gives_the_same_data(runner, demo, app):
    first = answer_fingerprint()
    assert runner.invoke(args=["demo", "--reset", "--seed", "11"]).exit_code == 0
    db.session.expire_all()
    assert answer_fingerprint() == first
    assert runner.invoke(args=["demo", "--reset", "--seed", "12"]).exit_code == 0
    assert answer_fingerprint() != first


def test_the_demo_refuses_a_database_with_data(runner, demo, app):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "already holds data" in result.output and "--reset" in result.output


def test_if_empty_builds_once_then_only_prints_the_log_ins(runner, app):
    first = runner.invoke(args=["demo", "--if-empty"])
    assert "Built Huis van Kracht vzw" in first.output
    second = runner.invoke(args=["demo", "--if-empty"])
    assert second.exit_code == 0
    assert "Built" not in second.output and DEMO_PASSWORD in second.output


def test_make_run_order_loads_questionnaires_then_builds_the_demo(runner, app):
    assert runner.invoke(args=["questionnaires", "load"]).exit_code == 0
    result = runner.invoke(args=["demo", "--if-empty"])
    assert "Built Huis van Kracht vzw" in result.output, result.output
    assert DEMO_PASSWORD in result.output


def test_if_empty_leaves_a_real_organisation_alone(runner, tree):
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0 and result.output == ""
    assert db.session.scalar(sa.select(sa.func.count(Unit.id))) == 6


def test_demo_log_ins_work_and_the_pages_say_it_is_demo_data(demo, client):
    assert login(client, "leiding.anker@huisvankracht.example", DEMO_PASSWORD).status_code == 302
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "Demogegevens: Huis van Kracht vzw is een fictieve organisatie" in page
    assert client.get("/dashboard/units/team-anker").status_code == 200
    assert client.get("/dashboard/units/team-kompas").status_code == 404


@contextmanager
def statements_sent() -> Iterator[list[str]]:
    """The SQL statements the app sends meanwhile."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def test_the_demo_notice_costs_no_query_of_its_own(demo, client):
    login(client, "leiding.anker@huisvankracht.example", DEMO_PASSWORD)
    with statements_sent() as sent:
        page = client.get("/dashboard/").get_data(as_text=True)
    assert "Demogegevens: Huis van Kracht vzw is een fictieve organisatie" in page
    (read,) = [statement for statement in sent if "WHERE units.is_demo" in statement]
    assert "FROM accounts" in read  # read with the signed-in account


def test_a_real_organisation_has_no_demo_notice(tree, make_account, client):
    make_account("beheer@example.org", Role.ADMIN)
    login(client, "beheer@example.org")
    with statements_sent() as sent:
        page = client.get("/dashboard/").get_data(as_text=True)
    assert "demo-notice" not in page and "Demogegevens" not in page
    (read,) = [statement for statement in sent if "WHERE units.is_demo" in statement]
    assert "FROM accounts" in read


def test_delete_everything_empties_the_database(demo, app):
    delete_everything()
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Unit.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Answer.response_id))) == 0
