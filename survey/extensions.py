"""Extension objects, created unbound and attached to the app in ``create_app``."""

import sqlite3

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

from survey.models.base import Base


def client_address() -> str:
    """The client's address as Werkzeug sees it (behind ProxyFix when TRUSTED_PROXIES is set)."""
    return request.remote_addr or "unknown"


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(key_func=client_address)


@event.listens_for(Engine, "connect")
def configure_sqlite(dbapi_connection, connection_record) -> None:
    """SQLite enforces foreign keys only when asked, per connection; WAL lets readers and a
    writer work at the same time; secure_delete overwrites what is deleted. (The busy timeout
    is the driver's ``timeout``, set by ``survey.config.engine_options``; 5 s by default.)"""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        # Deleted rows are overwritten with zeros, not left in free pages: a shuffle
        # (survey.services.shuffle) deletes the copies that still hold the order of submission.
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()
