"""Fixtures: an app on a real database (SQLite, or PostgreSQL via TEST_DATABASE_URL), emptied
after every test, and small factories for the objects tests need."""

from __future__ import annotations

import contextvars
import functools
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from jinja2.bccache import Bucket, BytecodeCache
from werkzeug.routing import Rule
from werkzeug.serving import make_server

import questionnaires
from questionnaires import Instrument
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
#: The pytest-xdist worker ("gw0", "gw1", ...), or "" without xdist.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
#: The seed of the demo organisation that ``demo`` gives a test (built once per session).
DEMO_SEED = 11
#: On PostgreSQL, the schema of the session's database that holds the demo organisation.
DEMO_SCHEMA = "demo"
PASSWORD = "correct horse battery staple"
MINI_INSTRUMENT = Path(__file__).parent / "questionnaires" / "files" / "mini.yaml"
CSRF_FIELD = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL ' + TEST_DATABASE_URL if TEST_DATABASE_URL else 'SQLite'}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, only the tests that reach a database: those on the session's database
    (the ``database_url`` fixture, which ``app`` and ``demo`` use) and those marked ``database``
    (they make databases of their own). The rest (instrument files, statistics, imports) ran
    on the SQLite pass already and would only run again unchanged."""
    if not TEST_DATABASE_URL:
        return
    kept, deselected = [], []
    for item in items:
        reaches = "database_url" in getattr(item, "fixturenames", ())
        (kept if reaches or item.get_closest_marker("database") else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def pytest_make_parametrize_id(config: pytest.Config, val: object, argname: str) -> str | None:
    """A ``DaysFromToday`` in a parametrised test's id reads "today+14", the same every day.
    (Known by its ``days``: pytest loads this file as ``conftest``, test modules import it as
    ``tests.conftest``, so the class exists twice.)"""
    days = getattr(val, "days", None)
    return f"today{days:+d}" if isinstance(val, str) and isinstance(days, int) else None


class DaysFromToday(str):
    """The ISO date ``days`` from today, for parametrised form input: its test id says
    "today+14" rather than a calendar date that changes daily."""

    days: int

    def __new__(cls, days: int) -> DaysFromToday:
        value = super().__new__(cls, (date.today() + timedelta(days=days)).isoformat())
        value.days = days
        return value


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


def on_postgresql(url: str) -> bool:
    return sa.make_url(url).get_backend_name() == "postgresql"


def postgresql_database(url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``url``."""
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


def postgresql_server(url: str, *statements: str) -> None:
    """Runs CREATE/DROP DATABASE statements on the server of ``url`` (outside a transaction)."""
    postgresql_run(postgresql_database(url, "postgres"), *statements)


def postgresql_run(url: str, *statements: str) -> None:
    """Runs each statement in database ``url``, each on its own (autocommit)."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def migrate_to_head(url: str) -> Flask:
    from flask_migrate import upgrade

    app = create_app(base_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return app


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to head once per test session (per pytest-xdist worker: each worker
    has its own SQLite file, or its own PostgreSQL database named after TEST_DATABASE_URL's)."""
    if not TEST_DATABASE_URL:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        migrate_to_head(url)
        yield url
    elif not WORKER:
        reset_postgresql(TEST_DATABASE_URL)
        migrate_to_head(TEST_DATABASE_URL)
        yield TEST_DATABASE_URL
    else:
        name = f"{sa.make_url(TEST_DATABASE_URL).database}_{WORKER}"
        postgresql_server(
            TEST_DATABASE_URL, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'
        )
        url = postgresql_database(TEST_DATABASE_URL, name)
        migrate_to_head(url)
        yield url
        postgresql_server(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_database() -> None:
    """Deletes every row and restarts the ids. On PostgreSQL by DELETE, foreign-key triggers
    off, and a restart of each sequence that was used: a TRUNCATE of every table cost 0.05 s
    idle and up to 0.3 s on the busy 2-core machine, for each of ~750 tests."""
    tables = [table.name for table in Base.metadata.sorted_tables]
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for table in reversed(tables):
                connection.exec_driver_sql(f"DELETE FROM {table}")
            used = connection.exec_driver_sql(
                "SELECT sequencename FROM pg_sequences "
                "WHERE schemaname = 'public' AND last_value IS NOT NULL"
            ).scalars()
            for sequence in list(used):
                connection.exec_driver_sql(f"ALTER SEQUENCE {sequence} RESTART")
        else:
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            for table in tables:
                connection.exec_driver_sql(f"DELETE FROM {table}")
            connection.commit()
            connection.exec_driver_sql("PRAGMA foreign_keys = ON")
        connection.commit()


@dataclass(frozen=True)
class DemoDatabase:
    """The demo organisation, built once: in a SQLite file of its own, or in the PostgreSQL
    schema ``demo`` of the session's database."""

    url: str
    output: str  # what `flask demo --seed DEMO_SEED` printed


@pytest.fixture(scope="session")
def demo_database(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoDatabase]:
    """The demo organisation (seed ``DEMO_SEED``), built once per session (per xdist worker) on
    the first test that asks for ``demo``, and copied into that test's database (``copy_demo``)."""
    if on_postgresql(database_url):
        postgresql_run(
            database_url,
            f"DROP SCHEMA IF EXISTS {DEMO_SCHEMA} CASCADE",
            f"CREATE SCHEMA {DEMO_SCHEMA}",
        )
        url = (
            sa.make_url(database_url)
            .update_query_dict({"options": f"-csearch_path={DEMO_SCHEMA}"})
            .render_as_string(hide_password=False)
        )
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite'}"
    app = migrate_to_head(url)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo", "--seed", str(DEMO_SEED)])
        assert result.exit_code == 0, result.output
        db.session.remove()
        db.engine.dispose()
    yield DemoDatabase(url, result.output)
    if on_postgresql(database_url):
        postgresql_run(database_url, f"DROP SCHEMA IF EXISTS {DEMO_SCHEMA} CASCADE")


def copy_demo(demo: DemoDatabase, database_url: str) -> None:
    """Copies the demo organisation into the (empty) test database, which the test's teardown
    empties as always. SQLite: the backup API writes the demo file over the test's. PostgreSQL:
    the rows of schema ``demo`` into ``public`` in one transaction, foreign-key triggers off,
    sequences carried over (a template database costs a checkpoint on every DROP DATABASE:
    0.4 to 8 s on the shared 2-core machine, more than building the demo)."""
    if not on_postgresql(database_url):
        with (
            closing(sqlite3.connect(sa.make_url(demo.url).database)) as source,
            closing(sqlite3.connect(sa.make_url(database_url).database)) as target,
        ):
            source.backup(target)
        return
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for table in Base.metadata.sorted_tables:
                columns = ", ".join(f'"{column.name}"' for column in table.columns)
                connection.exec_driver_sql(
                    f"INSERT INTO public.{table.name} ({columns}) "
                    f"SELECT {columns} FROM {DEMO_SCHEMA}.{table.name}"
                )
            sequences = connection.exec_driver_sql(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = %(schema)s",
                {"schema": DEMO_SCHEMA},
            ).scalars()
            for sequence in list(sequences):
                connection.exec_driver_sql(
                    f"SELECT setval('public.{sequence}', last_value, is_called) "
                    f"FROM {DEMO_SCHEMA}.{sequence}"
                )
    finally:
        engine.dispose()


class IsolatedClient(FlaskClient):
    """Runs each request outside the test's app context, as in production: its own ``g``, its
    own database session; the test's objects stay in the test's session."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(request: pytest.FixtureRequest, database_url: str) -> Iterator[Flask]:
    """An app on the session's database, emptied after the test; for a test that asks for
    ``demo``, the database holds a fresh copy of the demo organisation first."""
    if "demo" in request.fixturenames:
        copy_demo(request.getfixturevalue("demo_database"), database_url)
    yield from app_on(database_url)


@pytest.fixture
def demo(app: Flask, demo_database: DemoDatabase) -> str:
    """The demo organisation as ``flask demo --seed 11`` builds it, built once per session and
    copied into the test's database (by the ``app`` fixture, before the app starts); the value
    is what the command printed."""
    return demo_database.output


class CompiledTemplates(BytecodeCache):
    """The templates compiled once per test session and shared by every test's app: each new
    app has an environment of its own, and compiling the templates anew cost ~0.1 s a test."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


#: The URL builders werkzeug compiles for each rule of each new app, compiled once per test
#: session: a new app's rules cost ~35 ms a test otherwise (95% of ``create_app``). A builder is
#: a plain function of the rule's text, its parts, its defaults and whether it appends unknown
#: arguments; it gets the rule (and so its converters) as its first argument when called
#: (``Rule.compile`` binds it), so one function serves every app's copy of a rule. The app under
#: test builds the same URLs either way; only the compiling is shared.
COMPILED_URL_BUILDERS: dict[tuple[str, str, str, bool], Callable] = {}
_compile_url_builder = Rule._compile_builder


@functools.wraps(_compile_url_builder)
def _compiled_url_builder(rule: Rule, append_unknown: bool = True) -> Callable:
    defaults = repr(sorted((rule.defaults or {}).items()))
    key = (rule.rule, repr(rule._trace), defaults, append_unknown)
    if key not in COMPILED_URL_BUILDERS:
        COMPILED_URL_BUILDERS[key] = _compile_url_builder(rule, append_unknown)
    return COMPILED_URL_BUILDERS[key]


Rule._compile_builder = _compiled_url_builder


def app_on(database_url: str, **config) -> Iterator[Flask]:
    app = create_app({**base_config(database_url), **config})
    app.test_client_class = IsolatedClient
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
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


@functools.cache
def mini_instrument() -> Instrument:
    """The mini instrument, read and validated once per session (an Instrument is immutable)."""
    return questionnaires.load_file(MINI_INSTRUMENT)


@pytest.fixture
def questionnaire_version(app: Flask) -> QuestionnaireVersion:
    outcome = store_instrument(mini_instrument(), MINI_INSTRUMENT.name)
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
