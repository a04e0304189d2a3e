"""Extension objects, created unbound and attached to the app in ``create_app``."""

import select
import sqlite3
import time

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import ConnectionPoolEntry

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


#: A pooled PostgreSQL connection that has waited this long since its last use is tested with a
#: round trip before its next use (``watch_pooled_connections``); one in steady use is not.
PING_AFTER_IDLE_SECONDS = 5.0
_RETURNED_AT = "krachtspiegel_returned_at"


def watch_pooled_connections(engine: Engine) -> None:
    """Replace the pool's pre-ping (a ``SELECT 1`` round trip before every request) on a
    PostgreSQL engine by a test that costs nothing while the connection is in steady use.

    A connection is pinged as before when it has been idle in the pool for
    ``PING_AFTER_IDLE_SECONDS`` or more, or when its socket has something to read although no
    query is running: a server that restarts or stops ends its sessions, which closes (or says
    goodbye on) every connection's socket at once. Otherwise it is used as it is. A failed ping
    replaces it and every other connection in the pool, as the pre-ping did, so a restart costs
    no request (tests/reliability/check_pg_restart.py)."""

    @event.listens_for(engine, "checkin")
    def note_return(dbapi_connection, record: ConnectionPoolEntry) -> None:
        if dbapi_connection is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_when_in_doubt(dbapi_connection, record: ConnectionPoolEntry, proxy) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is None:  # just connected (the info goes with a replaced connection)
            return
        recent = time.monotonic() - returned_at < PING_AFTER_IDLE_SECONDS
        if recent and _nothing_to_read(dbapi_connection):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise sa_exc.InvalidatePoolError("the connection failed its ping") from error


def _nothing_to_read(dbapi_connection) -> bool:
    """Whether an idle connection's socket is quiet (a closed one counts as not quiet)."""
    try:
        poll = select.poll()
        poll.register(dbapi_connection.fileno(), select.POLLIN)
    except Exception:  # noqa: BLE001 (closed or broken: the ping will tell)
        return False
    return not poll.poll(0)
