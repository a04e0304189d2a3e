"""Settings, read from the environment (see the README for every one of them)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

#: The smallest minimum group size the platform accepts, whatever the configuration says.
MIN_GROUP_SIZE_FLOOR = 3
LANGUAGES = ("nl", "en")


class ConfigError(ValueError):
    """A setting has a value Krachtspiegel refuses to run with."""


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}.")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}.") from None


def read_secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else from the instance folder, generated there once."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def settings_from_environment(instance_path: Path) -> dict:
    """Every setting with its default; the test suite overrides them through ``create_app``."""
    return {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
        or f"sqlite:///{instance_path / 'krachtspiegel.sqlite'}",
        "MIN_GROUP_SIZE": _env_int("MIN_GROUP_SIZE", 5),
        "SPREAD_THRESHOLD": _env_int("SPREAD_THRESHOLD", 7),
        "COMMENTS_ENABLED": _env_bool("COMMENTS_ENABLED", True),
        #: Days after a wave closes during which only the team (through its results link) and
        #: its own manager see its results, so that it discusses them before the rest of
        #: management does; long enough for a team meeting.
        "TEAM_FIRST_DAYS": _env_int("TEAM_FIRST_DAYS", 14),
        #: Where staff reach the platform: printed in team links, on code slips and QR codes.
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
        "BABEL_DEFAULT_LOCALE": "nl",
        #: Times (the audit log) are shown in this zone; stored times are UTC.
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("TIMEZONE", "Europe/Brussels"),
        "LANGUAGES": LANGUAGES,
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=_env_int("SESSION_IDLE_MINUTES", 30)),
        "SESSION_REFRESH_EACH_REQUEST": True,
        #: How long an SQLite write waits for another writer before it fails (503 page).
        "SQLITE_BUSY_TIMEOUT_MS": _env_int("SQLITE_BUSY_TIMEOUT_MS", 5000),
        "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH", 2 * 1024 * 1024),
        "TRUSTED_PROXIES": _env_int("TRUSTED_PROXIES", 0),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _env_bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": False,
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes"),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes"),
        #: Beginning a questionnaire through a team link, per client address (an office's
        #: network is often one address for a whole team) and per link (docs/anonymity.md,
        #: "Padding a team"); only starts count, in the limiter's own short-lived storage.
        "START_LIMIT_PER_ADDRESS": os.environ.get("START_LIMIT_PER_ADDRESS", "30 per hour"),
        "START_LIMIT_PER_LINK": os.environ.get("START_LIMIT_PER_LINK", "60 per hour"),
        #: Short codes (/t/ABCD-EFGH) tried that lead nowhere, per client address and from all
        #: addresses together; once spent, short codes answer "too many" until the hour is over
        #: (the QR code and the full link keep working). docs/anonymity.md, "Padding a team".
        "SHORT_LINK_GUESSES_PER_ADDRESS": os.environ.get(
            "SHORT_LINK_GUESSES_PER_ADDRESS", "20 per hour"
        ),
        "SHORT_LINK_GUESSES": os.environ.get("SHORT_LINK_GUESSES", "300 per hour"),
        #: Adding or updating actions through one team results link (each change is audited;
        #: the team link needs no log-in, so nobody can flood the log through it).
        "TEAM_ACTION_LIMIT_PER_LINK": os.environ.get("TEAM_ACTION_LIMIT_PER_LINK", "60 per hour"),
        #: Unfinished answers left this long without a respondent page are removed from the
        #: browser (and deleted unless paused with a resume code): the next person at a shared
        #: computer cannot open them.
        "RESPONDENT_IDLE_MINUTES": _env_int("RESPONDENT_IDLE_MINUTES", 120),
        "WTF_CSRF_TIME_LIMIT": None,
        #: Optional: with SMTP_HOST set, invitations and password resets are also e-mailed
        #: (port 465: TLS from the start; otherwise STARTTLS unless SMTP_STARTTLS is false).
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": _env_int("SMTP_PORT", 587),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_FROM": os.environ.get("SMTP_FROM", ""),
        "SMTP_STARTTLS": _env_bool("SMTP_STARTTLS", True),
    }


def engine_options(config: Mapping) -> dict:
    """SQLAlchemy engine options for the configured database.

    A pooled connection is tested before a request uses it, so connections that died with a
    database restart are replaced instead of failing their next request: on SQLite by
    ``pool_pre_ping``, on PostgreSQL by ``survey.extensions.watch_pooled_connections``, which
    saves the pre-ping's round trip while a connection is in steady use. A PostgreSQL server
    that does not answer fails a connection after a few seconds (a 503 page) rather than
    holding the request until gunicorn kills the worker. SQLite's busy timeout is set here, per
    connection, so that tests can shorten it.
    """
    url = str(config["SQLALCHEMY_DATABASE_URI"])
    options: dict = {"pool_pre_ping": not url.startswith("postgresql")}
    if url.startswith("postgresql"):
        options["connect_args"] = {"connect_timeout": 5}
    elif url.startswith("sqlite"):
        options["connect_args"] = {"timeout": config.get("SQLITE_BUSY_TIMEOUT_MS", 5000) / 1000}
    return options


def check_settings(config: dict) -> None:
    """Refuse settings that would break the anonymity promise or make no sense."""
    size = config["MIN_GROUP_SIZE"]
    if not isinstance(size, int) or size < MIN_GROUP_SIZE_FLOOR:
        raise ConfigError(
            f"MIN_GROUP_SIZE is {size!r}, but the minimum group size can never be below "
            f"{MIN_GROUP_SIZE_FLOOR}: in smaller groups people could recognise each other's "
            "answers."
        )
    if config.get("SPREAD_THRESHOLD", size) < size:
        raise ConfigError(
            f"SPREAD_THRESHOLD ({config['SPREAD_THRESHOLD']}) cannot be below MIN_GROUP_SIZE "
            f"({size}): spread and distributions need at least as many answers as means."
        )
    if (
        not isinstance(config.get("TEAM_FIRST_DAYS", 0), int)
        or config.get("TEAM_FIRST_DAYS", 0) < 0
    ):
        raise ConfigError("TEAM_FIRST_DAYS must be a number of days, 0 or more.")
    if config.get("BABEL_DEFAULT_LOCALE") not in LANGUAGES:
        raise ConfigError(f"BABEL_DEFAULT_LOCALE must be one of {', '.join(LANGUAGES)}.")
