"""The servers refuse to start on a database that does not answer or is not migrated, in one
line that says what to run; the other commands (``db upgrade`` above all) still work on it."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask_migrate import upgrade

from survey import create_app
from survey.extensions import db
from tests.benchmarks import loadgen
from tests.conftest import base_config

ROOT = Path(__file__).parent.parent
UPGRADE = "flask --app wsgi db upgrade"


def run(command: list[str], database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "startup-test"}
    return subprocess.run(  # noqa: S603 (our own commands with fixed arguments)
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def gunicorn(database_url: str) -> subprocess.CompletedProcess:
    """The production entry point as the README starts it; on a good database it would serve
    until stopped, so each test here expects it to exit by itself."""
    command = [str(loadgen.GUNICORN), "--bind", f"127.0.0.1:{loadgen.free_port()}"]
    return run([*command, "--workers", "2", "--no-control-socket", "wsgi:app"], database_url)


def flask(*arguments: str, database_url: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "flask", "--app", "wsgi", *arguments], database_url)


def assert_refused(result: subprocess.CompletedProcess, *expected: str) -> str:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output
    (line,) = [line for line in output.splitlines() if "Krachtspiegel cannot start" in line]
    for part in expected:
        assert part in line, line
    return line


def migrated_to(url: str, revision: str) -> str:
    app = create_app(base_config(url))
    with app.app_context():
        upgrade(revision=revision)
        db.engine.dispose()
    return url


def test_gunicorn_refuses_a_database_that_does_not_answer():
    port = loadgen.free_port()  # nothing listens there
    url = f"postgresql+psycopg://krachtspiegel:s3cret-word@127.0.0.1:{port}/krachtspiegel"
    line = assert_refused(gunicorn(url), "does not answer", "Connection refused", str(port))
    assert "s3cret-word" not in line and "krachtspiegel:***@" in line


def test_gunicorn_refuses_a_database_behind_the_code(tmp_path):
    url = migrated_to(f"sqlite:///{tmp_path / 'old.sqlite'}", "0004")
    assert_refused(gunicorn(url), "is at revision 0004", "needs", UPGRADE)


def test_gunicorn_and_flask_run_refuse_an_empty_database_which_db_upgrade_migrates(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    assert_refused(gunicorn(url), "has no tables yet", UPGRADE)
    assert_refused(flask("run", "--port", str(loadgen.free_port()), database_url=url), UPGRADE)

    migrated = flask("db", "upgrade", database_url=url)
    assert migrated.returncode == 0, migrated.stderr
    assert "Running upgrade" in migrated.stderr and "Traceback" not in migrated.stderr


@pytest.mark.usefixtures("app")
def test_gunicorn_serves_a_migrated_database(database_url, tmp_path):
    env = {"DATABASE_URL": database_url, "SECRET_KEY": "startup-test"}
    with loadgen.gunicorn("wsgi:app", env, tmp_path / "gunicorn.log") as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            connection.request("GET", "/health")
            assert connection.getresponse().status == 200
        finally:
            connection.close()
    assert "cannot start" not in server.log_text()
