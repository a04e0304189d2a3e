"""Fixtures: an app on a real database (SQLite, or PostgreSQL via TEST_DATABASE_URL), emptied
after every test, and small factories for the objects tests need."""

from __future__ import annotations

import contextvars
import os
import re
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

import questionnaires
from survey import create_app
from survey.extensions import db
from survey.models import (
    Account,
    Answer,
    Base,
    QuestionnaireVersion,
    Role,
    Unit,
    UnitKind,
    Wave,
    WaveStatus,
    WaveTeam,
)
from survey.passwords import hash_password, use_cheap_hashing_for_tests
from survey.services.questionnaires import store_instrument

# Production-cost argon2 made every log-in of the suite cost ~0.3 s (tests/test_passwords.py
# checks the production parameters on their own).
use_cheap_hashing_for_tests()

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
PASSWORD = "correct horse battery staple"
MINI_INSTRUMENT = Path(__file__).parent / "questionnaires" / "files" / "mini.yaml"
CSRF_FIELD = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL ' + TEST_DATABASE_URL if TEST_DATABASE_URL else 'SQLite'}"


def base_config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "tests-only-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Times in tests read as stored (tests/test_admin_audit.py sets a zone where it matters).
        "BABEL_DEFAULT_TIMEZONE": "UTC",
    }


def reset_postgresql(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head once per test session."""
    from flask_migrate import upgrade

    if TEST_DATABASE_URL:
        url = TEST_DATABASE_URL
        reset_postgresql(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    app = create_app(base_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def empty_database() -> None:
    tables = [table.name for table in Base.metadata.sorted_tables]
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            for table in tables:
                connection.exec_driver_sql(f"DELETE FROM {table}")
            connection.commit()
            connection.exec_driver_sql("PRAGMA foreign_keys = ON")
        connection.commit()


class IsolatedClient(FlaskClient):
    """Runs each request outside the test's app context, as in production: its own ``g``, its
    own database session; the test's objects stay in the test's session."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    yield from app_on(database_url)


def app_on(database_url: str, **config) -> Iterator[Flask]:
    app = create_app({**base_config(database_url), **config})
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        empty_database()
        db.engine.dispose()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served by a real, threaded HTTP server on a free port of 127.0.0.1."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token of the form on ``url`` (tests post forms as a browser would)."""
    page = client.get(url)
    match = CSRF_FIELD.search(page.get_data(as_text=True))
    assert match, f"no CSRF token in the form on {url} ({page.status_code})"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str = PASSWORD, next_url: str = ""):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    token = csrf_token(client, "/login")
    return client.post(url, data={"email": email, "password": password, "csrf_token": token})


def logout(client: FlaskClient):
    token = csrf_token(client, "/dashboard/")
    return client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def make_unit(app: Flask):
    def make(slug: str, kind: UnitKind = UnitKind.TEAM, parent: Unit | None = None) -> Unit:
        unit = Unit(slug=slug, name=slug.replace("-", " ").title(), kind=kind, parent=parent)
        db.session.add(unit)
        db.session.flush()
        return unit

    return make


@pytest.fixture
def tree(make_unit) -> dict[str, Unit]:
    """org → north (team-a, team-b), south (team-c)."""
    org = make_unit("org", UnitKind.ORGANISATION)
    north = make_unit("north", UnitKind.DEPARTMENT, org)
    south = make_unit("south", UnitKind.DEPARTMENT, org)
    units = {
        "org": org,
        "north": north,
        "south": south,
        "team-a": make_unit("team-a", parent=north),
        "team-b": make_unit("team-b", parent=north),
        "team-c": make_unit("team-c", parent=south),
    }
    db.session.commit()
    return units


@pytest.fixture
def make_account(app: Flask):
    _hash = hash_password(PASSWORD)

    def make(email: str, role: Role, scope: list[Unit] | tuple = ()) -> Account:
        account = Account(email=email, password_hash=_hash, role=role, scope=list(scope))
        db.session.add(account)
        db.session.commit()
        return account

    return make


@pytest.fixture
def questionnaire_version(app: Flask) -> QuestionnaireVersion:
    outcome = store_instrument(questionnaires.load_file(MINI_INSTRUMENT), MINI_INSTRUMENT.name)
    db.session.commit()
    return outcome.version


@pytest.fixture
def make_wave(questionnaire_version: QuestionnaireVersion):
    def make(
        units: list[Unit], status: WaveStatus = WaveStatus.OPEN, name: str = "Voorjaar 2026"
    ) -> Wave:
        today = date.today()
        wave = Wave(
            questionnaire_version=questionnaire_version,
            name=name,
            opens_on=today - timedelta(days=7),
            closes_on=today + timedelta(days=14),
            status=status,
            units=units,
        )
        teams = _teams_below(units)
        wave.teams = [WaveTeam(unit=team, invited=12) for team in teams]
        db.session.add(wave)
        db.session.commit()
        return wave

    return make


def stored_answers() -> dict[str, object]:
    """The answers of all responses: code → value, "dk", text, or a sorted list of grid cells."""
    db.session.expire_all()
    result: dict[str, object] = {}
    for answer in db.session.scalars(sa.select(Answer)):
        if answer.grid_row:
            result.setdefault(answer.item_code, []).append((answer.grid_row, answer.grid_column))
        elif answer.dont_know:
            result[answer.item_code] = "dk"
        else:
            result[answer.item_code] = answer.text if answer.text is not None else answer.value
    for value in result.values():
        if isinstance(value, list):
            value.sort()
    return result


def _teams_below(units: list[Unit]) -> list[Unit]:
    teams: list[Unit] = []
    stack = list(units)
    while stack:
        unit = stack.pop()
        if unit.kind is UnitKind.TEAM:
            teams.append(unit)
        stack.extend(unit.children)
    return sorted(set(teams), key=lambda team: team.slug)
