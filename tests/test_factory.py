import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from survey import create_app
from survey.config import ConfigError

ROOT = Path(__file__).parent.parent


def test_config_overrides_environment(database_url):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database_url})
    assert app.testing
    assert app.config["MIN_GROUP_SIZE"] == 5
    assert app.config["BABEL_DEFAULT_LOCALE"] == "nl"


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    first = create_app(instance_path=str(tmp_path / "instance"))
    second = create_app(instance_path=str(tmp_path / "instance"))
    key_file = tmp_path / "instance" / "secret_key"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 64
    assert key_file.read_text().strip() == first.config["SECRET_KEY"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (
        create_app(instance_path=str(tmp_path / "other")).config["SECRET_KEY"]
        != (first.config["SECRET_KEY"])
    )


def test_database_defaults_to_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"SECRET_KEY": "x"}, instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'krachtspiegel.sqlite'}"


@pytest.mark.parametrize("size", [2, 0, -5])
def test_minimum_group_size_below_three_is_refused(size, tmp_path):
    with pytest.raises(ConfigError, match="never be below 3"):
        create_app({"SECRET_KEY": "x", "MIN_GROUP_SIZE": size}, instance_path=str(tmp_path))


def test_minimum_group_size_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MIN_GROUP_SIZE", "7")
    assert (
        create_app({"SECRET_KEY": "x"}, instance_path=str(tmp_path)).config["MIN_GROUP_SIZE"] == 7
    )
    monkeypatch.setenv("MIN_GROUP_SIZE", "five")
    with pytest.raises(ConfigError, match="whole number"):
        create_app({"SECRET_KEY": "x"}, instance_path=str(tmp_path))


def test_the_command_line_says_why_it_cannot_start(tmp_path):
    env = {
        **os.environ,
        "MIN_GROUP_SIZE": "2",
        "SECRET_KEY": "x",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "routes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Krachtspiegel cannot start: MIN_GROUP_SIZE is 2" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_spread_threshold_cannot_be_below_the_minimum_group_size(tmp_path):
    with pytest.raises(ConfigError, match="SPREAD_THRESHOLD"):
        create_app(
            {"SECRET_KEY": "x", "MIN_GROUP_SIZE": 6, "SPREAD_THRESHOLD": 5},
            instance_path=str(tmp_path),
        )


def test_the_anonymity_policy_comes_from_the_settings(tmp_path):
    from survey.anonymity import Policy
    from survey.services.settings import Settings

    app = create_app(
        {"SECRET_KEY": "x", "MIN_GROUP_SIZE": 6, "SPREAD_THRESHOLD": 9, "COMMENTS_ENABLED": False},
        instance_path=str(tmp_path),
    )
    policy = Settings.from_config(app.config).policy
    assert policy == Policy(6, 9, comments_enabled=False)
