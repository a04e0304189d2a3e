"""Refuse to serve on a database that does not answer or whose schema is behind the code.

A server that starts anyway answers requests with error pages and says why only in its log, once
per request. Checked once, before serving, the operator reads one line instead: what is wrong
and what to run.

Two entry points serve: gunicorn, which calls ``refuse_to_serve_unless_ready`` from
``gunicorn.conf.py`` in its master process, before it binds a port or starts a worker; and
``flask run`` (``make run``), through ``settle_for_serving`` in ``wsgi.py``. Every other
``flask --app wsgi ...`` command imports ``wsgi.py`` too and must keep working on an empty or old
database (``db upgrade`` above all), so it is not checked.

The check reads the settings as ``create_app`` does, without building the app: gunicorn's master
stays small (the workers import the app), and it never holds a pooled connection that forked
workers would then share.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from survey.config import ConfigError, settings_from_environment

MIGRATIONS = Path(__file__).parent / "migrations"
UPGRADE = "flask --app wsgi db upgrade"
#: Seconds a PostgreSQL server may take to answer before the check gives up.
CONNECT_TIMEOUT = 5


def database_url_from_environment() -> sa.URL:
    """The database ``create_app()`` would use: DATABASE_URL, else the SQLite file in the
    instance folder (a relative SQLite path is taken inside the instance folder, as
    Flask-SQLAlchemy does)."""
    instance = Path(Flask("survey").instance_path)
    url = sa.make_url(settings_from_environment(instance)["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return url.set(database=os.path.join(instance, url.database))  # kept when absolute
    return url


def database_problem(url: sa.URL) -> str | None:
    """What keeps the database at ``url`` from serving this code, in one line with what to run;
    None when it answers and its schema is the newest migration's."""
    shown = url.render_as_string(hide_password=True)
    postgresql = url.get_backend_name() == "postgresql"
    connect_args = {"connect_timeout": CONNECT_TIMEOUT} if postgresql else {}
    engine = sa.create_engine(url, poolclass=sa.NullPool, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except sa.exc.SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return f"the database {shown} does not answer ({reason}). Is it running?"
    finally:
        engine.dispose()
    script = ScriptDirectory(str(MIGRATIONS))
    heads = set(script.get_heads())
    if current == heads:
        return None
    if not current:
        return f"the database {shown} has no tables yet. Run: {UPGRADE}"
    known = {revision.revision for revision in script.walk_revisions()}
    if current - known:
        return (
            f"the database {shown} is at revision {', '.join(sorted(current))}, which this code "
            "does not know: it was migrated by newer code. Deploy that code, or restore a backup."
        )
    return (
        f"the database {shown} is at revision {', '.join(sorted(current))}, but this code needs "
        f"{', '.join(sorted(heads))}. Run: {UPGRADE}"
    )


def refuse_to_serve_unless_ready() -> None:
    """Exit with one line on stderr (no traceback) when the configured database cannot serve."""
    try:
        problem = database_problem(database_url_from_environment())
    except ConfigError as error:
        problem = str(error)
    except (ValueError, ImportError, sa.exc.ArgumentError) as error:
        # A malformed URL, an unknown dialect, a driver that is not installed: the messages
        # name the part, never the password.
        problem = f"DATABASE_URL cannot be used ({error})."
    if problem:
        sys.exit(f"Krachtspiegel cannot start: {problem}")
