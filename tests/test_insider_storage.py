"""Issue 14, attack classes 8 (stored order) and 6 (team-first period), performed as an insider
would: read the order in which the database stores responses (SQLite's rowid, PostgreSQL's
ctid and xmin, the ids) or a backup, and look at a wave's results during its team-first period
as a department manager, a quality officer or an administrator."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
import zipfile
from collections import Counter
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from scipy.stats import spearmanr
from sqlalchemy.orm import Session

from survey.extensions import db
from survey.models import Draft, Response, Role, Wave, WaveStatus
from survey.services import shuffle
from survey.services.responding import submit_draft
from tests.conftest import csrf_token, login

SUBMISSIONS = 200


# --- class 8: no order at rest ------------------------------------------------------------------


def answers_of(number: int) -> dict[str, dict]:
    """Respondent ``number``'s answers; the comment O1 carries the number, so that the test can
    tell which stored row came from which submission after the ids changed."""
    return {
        "A1.1": {"value": 1 + number % 5},
        "A1.2": {"value": 1 + number // 5 % 5},
        "A1.3": {"dont_know": True} if number % 7 == 0 else {"value": 3},
        "B1.1": {"value": 1 + number % 4},
        "B1.2": {"value": 5},
        "B1.3": {"value": 2 + number % 3},
        "B1.4": {"value": 4},
        "C4": {"cells": [["aspirations", "living"], ["resources", "work"]]},
        "O1": {"text": f"respondent {number:03d}"},
        "BG1": {"value": 1 + number % 2},
    }


@pytest.fixture
def submitted(tree, make_wave) -> Wave:
    """An open wave with SUBMISSIONS responses submitted one after another, each in its own
    transaction, through the real submission (draft → response)."""
    wave = make_wave([tree["team-a"], tree["team-b"]])
    teams = sorted(wave.teams, key=lambda team: team.unit.slug)
    for team in teams:
        team.invited = SUBMISSIONS  # the link takes no more completed responses than its staff
    db.session.commit()
    for number in range(SUBMISSIONS):
        team = teams[number % 2]
        draft = Draft(
            wave_id=wave.id,
            unit_id=team.unit_id,
            answers=answers_of(number),
            expires_on=wave.closes_on,
        )
        db.session.add(draft)
        db.session.flush()
        assert submit_draft(draft.id, "nl") is not None
        db.session.commit()
    return wave


def _rows(query: str) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(sa.text(query))]


def submission_numbers() -> dict[uuid.UUID, int]:
    """Response id → the number of its submission (read from its comment)."""
    rows = _rows("SELECT response_id, text FROM answers WHERE item_code = 'O1'")
    return {uuid.UUID(str(id_)): int(text.split()[-1]) for id_, text in rows}


def backup_orders(runner, tmp_path, name: str) -> dict[str, list[uuid.UUID]]:
    """The response ids of the rows of each response table, in the order a backup holds them."""
    path = tmp_path / f"{name}.zip"
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    orders = {}
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["tables"]:
            if entry["name"] not in ("responses", "answers", "scale_scores"):
                continue
            columns = [column for column, _kind in entry["columns"]]
            key = columns.index("id" if entry["name"] == "responses" else "response_id")
            lines = archive.read(entry["file"]).decode().splitlines()
            orders[entry["name"]] = [uuid.UUID(json.loads(line)[key]) for line in lines]
    return orders


def stored_orders(runner, tmp_path, name: str) -> dict[str, list[tuple[int, int]]]:
    """Every order the storage keeps, as (submission number, stored position) pairs per row."""
    numbers = submission_numbers()
    orders: dict[str, list[uuid.UUID]] = {
        "responses by id": [row[0] for row in _rows("SELECT id FROM responses ORDER BY id")],
        "answers by id": [
            row[0]
            for row in _rows(
                "SELECT response_id FROM answers "
                "ORDER BY response_id, item_code, grid_row, grid_column"
            )
        ],
    }
    dialect = db.engine.dialect.name
    physical = "rowid" if dialect == "sqlite" else "ctid"
    for table, column in (("responses", "id"), ("answers", "response_id")):
        query = f"SELECT {column} FROM {table} ORDER BY {physical}"  # noqa: S608 (constants)
        orders[f"{table} by {physical}"] = [row[0] for row in _rows(query)]
    for table, ids in backup_orders(runner, tmp_path, name).items():
        orders[f"backup of {table}"] = ids
    pairs = {
        label: [(numbers[uuid.UUID(str(id_))], position) for position, id_ in enumerate(ids)]
        for label, ids in orders.items()
    }
    if dialect == "postgresql":
        for table, column in (("responses", "id"), ("answers", "response_id")):
            query = f"SELECT {column}, xmin::text::bigint FROM {table}"  # noqa: S608 (constants)
            pairs[f"{table} by xmin"] = [
                (numbers[uuid.UUID(str(id_))], xmin) for id_, xmin in _rows(query)
            ]
    return pairs


def rank_correlation(pairs: list[tuple[int, int]]) -> float:
    """Spearman's rho between submission order and a stored order; 0 when the stored order is
    the same for every row (all rows written by one transaction: xmin says nothing then)."""
    numbers, stored = zip(*pairs, strict=True)
    if len(set(stored)) == 1:
        return 0.0
    return float(spearmanr(numbers, stored).statistic)


def content() -> dict[str, Counter]:
    """What the wave's rows say, without ids: the same before and after a shuffle."""
    return {
        "responses": Counter(_rows("SELECT unit_id, submitted_on, language FROM responses")),
        "answers": Counter(
            _rows(
                "SELECT r.unit_id, a.item_code, a.grid_row, a.grid_column, a.value, "
                "a.dont_know, a.text FROM answers a JOIN responses r ON r.id = a.response_id"
            )
        ),
        "scale_scores": Counter(
            _rows(
                "SELECT r.unit_id, s.scale_code, s.score "
                "FROM scale_scores s JOIN responses r ON r.id = s.response_id"
            )
        ),
    }


def test_class08_no_stored_order_follows_submission_order_after_the_shuffle(
    app, runner, submitted, tmp_path, monkeypatch
):
    before = stored_orders(runner, tmp_path, "before")
    before_rho = {label: rank_correlation(pairs) for label, pairs in before.items()}
    # The attack works on what was stored: at least one order gives the submission order away.
    assert max(abs(rho) for rho in before_rho.values()) > 0.9, before_rho
    content_before = content()
    old_ids = set(submission_numbers())

    # A seeded generator instead of the operating system's, so that the test cannot fail by
    # chance (|rho| of a random order of 200 is above 0.2 about once in 200).
    seeded = random.Random(14)
    monkeypatch.setattr(shuffle, "_RANDOM", seeded)
    monkeypatch.setattr(shuffle, "new_id", lambda: uuid.UUID(int=seeded.getrandbits(128)))
    result = runner.invoke(args=["anonymity", "shuffle"])
    assert result.exit_code == 0, result.output
    assert f"{SUBMISSIONS} response(s) rewritten" in result.output

    db.session.expire_all()
    after = stored_orders(runner, tmp_path, "after")
    after_rho = {label: rank_correlation(pairs) for label, pairs in after.items()}
    assert set(after_rho) == set(before_rho)
    for label, rho in after_rho.items():
        assert abs(rho) < 0.2, (label, rho, after_rho)
    assert content() == content_before
    assert all(sum(counter.values()) for counter in content_before.values())
    assert not old_ids & set(submission_numbers())  # every id is new
    assert db.session.get(Wave, submitted.id).shuffled_on == date.today()


def test_class08_closing_a_wave_shuffles_it_and_the_daily_run_once_more(
    app, runner, submitted, client, make_account
):
    make_account("admin@example.org", Role.ADMIN)
    login(client, "admin@example.org")
    url = f"/admin/waves/{submitted.id}"
    token = csrf_token(client, url)
    reply = client.post(f"{url}/close", data={"csrf_token": token, "close-confirm": "y"})
    assert reply.status_code == 302
    db.session.expire_all()
    wave = db.session.get(Wave, submitted.id)
    assert wave.status is WaveStatus.CLOSED and wave.shuffled_on == date.today()
    # Closed today: a submission may have come in after the shuffle on the same day, so the
    # daily run shuffles it once more on a later day, and then leaves it alone.
    assert wave in shuffle.waves_due(date.today())
    tomorrow = date.today() + timedelta(days=1)
    assert wave in shuffle.waves_due(tomorrow)
    shuffle.shuffle_wave(wave, tomorrow)
    db.session.commit()
    assert wave not in shuffle.waves_due(tomorrow + timedelta(days=1))
    assert db.session.scalar(sa.text("SELECT count(*) FROM responses")) == SUBMISSIONS


def test_class08_the_daily_run_shuffles_open_waves_once_a_day(app, runner, tree, make_wave):
    open_wave = make_wave([tree["team-a"]])
    draft_wave = make_wave([tree["team-c"]], status=WaveStatus.DRAFT, name="Later")
    first = runner.invoke(args=["anonymity", "shuffle"])
    assert first.exit_code == 0, first.output
    assert f"Wave {open_wave.id}" in first.output and f"Wave {draft_wave.id}" not in first.output
    second = runner.invoke(args=["anonymity", "shuffle"])
    assert second.exit_code == 0 and "Nothing to shuffle" in second.output


def test_class08_a_failed_shuffle_says_so_and_exits_non_zero(app, runner, submitted, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("survey.commands.anonymity.shuffle_wave", broken)
    result = runner.invoke(args=["anonymity", "shuffle"])
    assert result.exit_code == 1
    assert f"Wave {submitted.id} was left as it was (RuntimeError: disk full)" in result.output


def test_class08_a_submission_in_flight_during_a_shuffle_is_kept(app, submitted):
    """PostgreSQL: a submission that inserted its response but has not committed when a shuffle
    starts makes the shuffle wait (its lock on the wave's teams), and is then shuffled too."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: a submission simply waits")
    team = submitted.teams[0]
    in_flight_id = uuid.uuid4()
    errors: list[BaseException] = []

    def run_shuffle() -> None:
        with app.app_context():
            try:
                shuffle.shuffle_wave(db.session.get_one(Wave, submitted.id))
                db.session.commit()
            except BaseException as error:  # reported by the test below
                errors.append(error)
            finally:
                db.session.remove()

    with Session(db.engine) as in_flight, db.engine.connect() as watcher:
        in_flight.execute(
            sa.insert(Response).values(
                id=in_flight_id,
                wave_id=team.wave_id,
                unit_id=team.unit_id,
                submitted_on=date.today(),
                language="nl",
            )
        )
        thread = threading.Thread(target=run_shuffle)
        thread.start()
        waiting = sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        )
        deadline = time.monotonic() + 60
        while not watcher.execute(waiting).scalar() and time.monotonic() < deadline:
            watcher.rollback()
            time.sleep(0.02)
        assert thread.is_alive(), errors  # the shuffle waits for the submission
        in_flight.commit()
    thread.join(timeout=120)
    assert not thread.is_alive() and not errors, errors
    ids = {row[0] for row in _rows("SELECT id FROM responses")}
    assert len(ids) == SUBMISSIONS + 1 and in_flight_id not in ids


def test_class08_sqlite_overwrites_deleted_rows(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite setting")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


# --- class 6: team-first, true by default -------------------------------------------------------

DIRECT = "team-a-manager@example.org"
DEPARTMENT = "north-manager@example.org"
QUALITY = "quality@example.org"
ADMIN = "admin@example.org"
MEAN_A1 = "<td>4,0</td>"  # what the team's table shows: A1's mean of 4.0


@pytest.fixture
def team_first(app, tree, make_wave, make_account):
    """A wave of team-a and team-b closed today, six agreeing responses each, under the default
    settings (no TEAM_FIRST_DAYS in the test's config); one account of every kind."""
    from tests.test_team_results import add_responses, agreeing

    assert app.config["TEAM_FIRST_DAYS"] == 14
    wave = make_wave([tree["team-a"], tree["team-b"]], status=WaveStatus.CLOSED)
    wave.closed_on = date.today()
    db.session.commit()
    for wave_team in wave.teams:
        add_responses(wave_team, agreeing(6))
    make_account(DIRECT, Role.MANAGER, [tree["team-a"]])
    make_account(DEPARTMENT, Role.MANAGER, [tree["north"]])
    make_account(QUALITY, Role.QUALITY)
    make_account(ADMIN, Role.ADMIN)
    return next(team for team in wave.teams if team.unit.slug == "team-a")


def signed_in(app, email: str):
    client = app.test_client()
    login(client, email)
    return client


def what_a_reader_gets(client, wave_team) -> dict[str, tuple[int, str]]:
    """Every page and download of the wave's results a signed-in reader may try."""
    wave_id = wave_team.wave_id
    team = f"/dashboard/waves/{wave_id}/teams/team-a"
    urls = [team, f"{team}/guide", f"{team}/report.pdf"]
    got = {}
    for url in urls:
        reply = client.get(url)
        got[url] = (reply.status_code, reply.get_data(as_text=reply.mimetype != "application/pdf"))
    return got


def quality_pages(client, wave_team) -> dict[str, tuple[int, str]]:
    wave_id = wave_team.wave_id
    urls = [
        "/quality/",
        f"/quality/waves/{wave_id}",
        f"/quality/waves/{wave_id}/scores.csv",
        f"/quality/waves/{wave_id}/scores.xlsx",
        f"/quality/waves/{wave_id}/report.pdf",
        f"/quality/waves/{wave_id}/profile",
        f"/quality/waves/{wave_id}/instrument",
        f"/quality/waves/{wave_id}/responses.csv",
        "/quality/units/team-a",
        "/quality/units/team-a?format=csv",
        "/quality/units/north",
    ]
    got = {}
    for url in urls:
        reply = client.get(url)
        got[url] = (
            reply.status_code,
            reply.get_data(as_text=True) if reply.mimetype.startswith("text") else "",
        )
    return got


def test_class06_only_the_team_and_its_own_manager_see_results_in_the_team_first_period(
    app, client, team_first
):
    team_link = f"/team/{team_first.results_slug}"
    # The team's own link and the team's direct manager: results, and the link to hand out.
    assert MEAN_A1 in client.get(team_link).get_data(as_text=True)
    client = signed_in(app, DIRECT)
    direct = what_a_reader_gets(client, team_first)
    page = direct[f"/dashboard/waves/{team_first.wave_id}/teams/team-a"][1]
    assert MEAN_A1 in page and team_link in page
    assert direct[f"/dashboard/waves/{team_first.wave_id}/teams/team-a/report.pdf"][0] == 200

    # Everyone else: no figure, no results link, no download.
    for email in (DEPARTMENT, QUALITY, ADMIN):
        client = signed_in(app, email)
        for url, (status, body) in what_a_reader_gets(client, team_first).items():
            assert status in (200, 404), (email, url, status)
            if url.endswith(".pdf"):
                assert status == 404, (email, url)
                continue
            assert MEAN_A1 not in body and "4,0" not in body, (email, url)
            assert team_first.results_slug not in body, (email, url)
    for email in (QUALITY, ADMIN):
        client = signed_in(app, email)
        for url, (status, body) in quality_pages(client, team_first).items():
            assert status in (200, 302, 404), (email, url, status)
            assert team_first.wave.name not in body and "4,0" not in body, (email, url)
            if "/waves/" in url:
                assert status == 404, (email, url)
        links = client.get(f"/admin/waves/{team_first.wave_id}/links").get_data(as_text=True)
        assert team_first.results_slug not in links


def test_class06_after_the_period_everyone_in_scope_sees_the_results(app, team_first):
    wave = team_first.wave
    wave.closed_on = date.today() - timedelta(days=14)
    db.session.commit()
    for email in (DEPARTMENT, QUALITY, ADMIN):
        client = signed_in(app, email)
        got = what_a_reader_gets(client, team_first)
        page = got[f"/dashboard/waves/{wave.id}/teams/team-a"][1]
        assert MEAN_A1 in page and f"/team/{team_first.results_slug}" in page, email
        assert got[f"/dashboard/waves/{wave.id}/teams/team-a/report.pdf"][0] == 200, email
    for email in (QUALITY, ADMIN):
        client = signed_in(app, email)
        assert client.get(f"/quality/waves/{wave.id}").status_code == 200
        assert client.get(f"/quality/waves/{wave.id}/scores.csv").status_code == 200
    # The printed team links never carry the results link: it would show them to anyone.
    links = client.get(f"/admin/waves/{wave.id}/links").get_data(as_text=True)
    assert team_first.results_slug not in links


def test_class06_respondents_are_told_what_the_settings_do(app, client, tree, make_wave):
    wave = make_wave([tree["team-a"]])
    link = f"/t/{wave.teams[0].link_slug}"
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    page = client.get(link, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert (
        "Your team and its own manager see the results first, 14 days before anyone else." in page
    )
    app.config["TEAM_FIRST_DAYS"] = 0
    page = client.get(link, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "see the results first" not in page
