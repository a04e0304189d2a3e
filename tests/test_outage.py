"""The database goes away while the app runs: a 503 page that keeps what was posted, and a pool
that reconnects by itself afterwards.

On PostgreSQL the app reaches the server through a TCP proxy that the test cuts (every
connection closed, new ones refused, as during a restart) and restores. On SQLite another
connection holds the write lock past the busy timeout.
"""

from __future__ import annotations

import html
import io
import re
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import suppress

import pytest
import sqlalchemy as sa
from flask import request
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from survey import create_app
from survey.extensions import db
from survey.models import Draft, Response, Role
from tests.benchmarks import loadgen
from tests.conftest import (
    PASSWORD,
    WORKER,
    IsolatedClient,
    app_on,
    base_config,
    csrf_token,
    login,
    stored_answers,
)
from tests.test_authorization import missing_security_headers
from tests.test_respond import STEP_1, STEP_2, post_step, start

HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)")
FORM_ACTION = re.compile(r'<form method="post" action="([^"]*)">')
STEP_2_FORM = [
    *[(name, value) for name, value in STEP_2.items() if isinstance(value, str)],
    *[("item-C4", cell) for cell in STEP_2["item-C4"]],
]


class DatabaseProxy:
    """A TCP proxy on 127.0.0.1 in front of the database server, which the test can ``cut``
    (every connection closed, new ones refused) and ``restore`` on the same port."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.port = 0
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.listening = threading.Event()
        self.listener: threading.Thread | None = None

    def __enter__(self) -> DatabaseProxy:
        self.restore()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cut()

    def restore(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        server.settimeout(0.05)
        self.port = server.getsockname()[1]
        self.listening.set()
        self.listener = threading.Thread(target=self._accept, args=(server,), daemon=True)
        self.listener.start()

    def cut(self) -> None:
        self.listening.clear()
        if self.listener is not None:
            self.listener.join()  # the listening socket is closed: new connections are refused
        with self.lock:
            connections, self.connections = self.connections, set()
        for connection in connections:
            _close(connection)

    def _accept(self, server: socket.socket) -> None:
        with server:
            while self.listening.is_set():
                try:
                    client, _ = server.accept()
                except TimeoutError:
                    continue
                client.settimeout(None)
                try:
                    upstream = socket.create_connection(self.target, timeout=5)
                except OSError:
                    client.close()
                    continue
                upstream.settimeout(None)
                with self.lock:
                    self.connections |= {client, upstream}
                for source, sink in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with self.lock:
            self.connections -= {source, sink}
        _close(source)
        _close(sink)


def _close(connection: socket.socket) -> None:
    with suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()


@pytest.fixture
def app(database_url: str):
    """The usual app, with SQLite's busy timeout short enough for a quick lock test."""
    yield from app_on(database_url, SQLITE_BUSY_TIMEOUT_MS=200)


@pytest.fixture
def link(tree, make_wave) -> str:
    wave = make_wave([tree["team-a"]])
    return f"/t/{wave.teams[0].link_slug}"


@pytest.fixture
def proxy(app, database_url: str) -> Iterator[DatabaseProxy]:
    url = sa.make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("the proxy cut is for PostgreSQL (TEST_DATABASE_URL)")
    with DatabaseProxy(url.host or "127.0.0.1", url.port or 5432) as running:
        yield running


@pytest.fixture
def proxied(proxy: DatabaseProxy, database_url: str) -> Iterator[FlaskClient]:
    """A client of a second app on the same database, connected through the proxy."""
    url = sa.make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    served = create_app(base_config(url.render_as_string(hide_password=False)))
    served.test_client_class = IsolatedClient
    client = served.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    yield client
    with served.app_context():
        db.engine.dispose()


def hidden_form(page: str) -> tuple[str, list[tuple[str, str]]]:
    """The 503 page's "Try again" form: where it posts and its hidden fields."""
    action = FORM_ACTION.search(page)
    assert action, page
    fields = [(html.unescape(n), html.unescape(v)) for n, v in HIDDEN.findall(page)]
    return html.unescape(action.group(1)), fields


def assert_outage_page(reply) -> str:
    page = reply.get_data(as_text=True)
    assert reply.status_code == 503, page
    assert reply.headers["Retry-After"] == "5"
    assert missing_security_headers(reply) == []
    assert "The database cannot be reached for a moment" in page
    assert "Nothing you typed is lost" in page
    assert not INLINE_SCRIPT.search(page)  # the CSP forbids them
    return page


def draft_answers() -> dict:
    db.session.expire_all()
    (draft,) = db.session.scalars(sa.select(Draft)).all()
    return draft.answers


def test_a_respondent_loses_nothing_while_postgresql_is_away(proxied, proxy, link):
    """(Under TESTING any error the app does not handle is raised here: no hidden 500.)"""
    assert start(proxied, link) == "/respond/1"
    assert post_step(proxied, 1, STEP_1).headers["Location"] == "/respond/2"
    token = csrf_token(proxied, "/respond/2")

    proxy.cut()
    sent = [("csrf_token", token), *STEP_2_FORM, ("action", "next")]
    page = assert_outage_page(proxied.post("/respond/2", data=MultiDict(sent)))
    action, fields = hidden_form(page)
    assert action == "/respond/2"
    assert sorted(fields) == sorted(sent)
    assert "Try again" in page
    assert set(draft_answers()) == {"A1.1", "A1.2", "A1.3", "C1.1"}  # nothing of page 2 yet

    proxy.restore()  # the same app, its pool left to recover by itself
    again = proxied.post(action, data=MultiDict(fields))
    assert again.headers["Location"] == "/respond/review"
    assert {"B1.1", "C4", "O1"} <= set(draft_answers())
    token = csrf_token(proxied, "/respond/review")
    done = proxied.post("/respond/submit", data={"csrf_token": token})
    assert done.headers["Location"] == "/respond/thanks"
    assert proxied.get("/respond/thanks").status_code == 200

    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1
    assert stored_answers()["C4"] == [("aspirations", "living"), ("resources", "work")]
    assert stored_answers()["B1.1"] == 4


def test_connections_that_died_with_a_restart_are_replaced_without_an_error(proxied, proxy, link):
    """The pool holds connections from before the cut; it tests them before use and replaces
    them, so the first request after the database is back succeeds instead of failing on a
    dead connection (``survey.extensions.watch_pooled_connections``)."""
    assert proxied.get(link).status_code == 200
    assert proxied.get(link).status_code == 200
    with proxied.application.app_context():
        assert db.engine.pool.checkedin() >= 1
    proxy.cut()
    proxy.restore()
    assert proxied.get(link).status_code == 200


def test_a_connection_the_server_ended_is_replaced_without_an_error(app, database_url, link):
    """A restart ends every session on the server; the pooled connection, which had just been
    used (so it is not pinged for being idle), is replaced before the next request uses it."""
    if sa.make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("ending a server session is for PostgreSQL (TEST_DATABASE_URL)")
    name = f"krachtspiegel-outage-{WORKER or 'main'}"
    options = {"connect_args": {"application_name": name}}
    served = create_app({**base_config(database_url), "SQLALCHEMY_ENGINE_OPTIONS": options})
    client = served.test_client()
    assert client.get(link).status_code == 200
    sessions = sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :name")
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        ended = connection.execute(sessions, {"name": name}).scalars().all()
        assert ended
        for pid in ended:
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        deadline = time.monotonic() + 5
        while connection.execute(sessions, {"name": name}).first() and time.monotonic() < deadline:
            time.sleep(0.01)
    assert client.get(link).status_code == 200
    with served.app_context():
        db.engine.dispose()


def test_a_connection_lost_after_the_page_was_made_does_not_spoil_it(proxied, proxy, link):
    """The database goes away between the view's last query and the end of the request: the
    page stands (the session's closing rollback fails, and is let go)."""

    @proxied.application.after_request
    def cut_once_made(response):
        if request.path == link and proxy.listening.is_set():
            proxy.cut()
        return response

    assert proxied.get(link).status_code == 200
    proxy.restore()
    assert proxied.get(link).status_code == 200


def test_every_kind_of_page_answers_503_while_postgresql_is_away(
    proxied, proxy, link, make_account
):
    make_account("admin@example.org", Role.ADMIN)
    assert login(proxied, "admin@example.org").status_code == 302
    import_token = csrf_token(proxied, "/admin/units/import")
    visitor = proxied.application.test_client()
    visitor.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login_token = csrf_token(visitor, "/login")
    proxy.cut()

    # A signed-in page: the account itself cannot be read, and the page renders without it.
    page = assert_outage_page(proxied.get("/dashboard/"))
    assert "admin@example.org" not in page
    action = re.search(r'<a class="button" href="([^"]*)">Try again', page)
    assert action and action.group(1) == "/dashboard/"
    assert_outage_page(proxied.get(f"{link}?x=1"))
    assert proxied.get("/health").status_code == 503

    # A file and a password are never written back into the page: go back instead.
    upload = proxied.post(
        "/admin/units/import",
        data={"csrf_token": import_token, "file": (io.BytesIO(b"path,name\n"), "units.csv")},
        content_type="multipart/form-data",
    )
    page = assert_outage_page(upload)
    assert "<form method" not in page and "go back" in page
    attempt = visitor.post(
        "/login",
        data={"csrf_token": login_token, "email": "a@example.org", "password": PASSWORD},
    )
    page = assert_outage_page(attempt)
    assert PASSWORD not in page and "<form method" not in page

    proxy.restore()
    assert proxied.get("/dashboard/").status_code == 200


def test_an_app_whose_database_never_answers_still_renders_its_503_page():
    """Whatever the test database: nothing listens on the app's PostgreSQL port."""
    url = f"postgresql+psycopg://krachtspiegel:secret@127.0.0.1:{loadgen.free_port()}/none"
    served = create_app({**base_config(url), "WTF_CSRF_ENABLED": False})
    client = served.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    sent = [("item-A1-1", "4"), ("item-O1", '"Samen" <sterk> & zo'), ("action", "next")]
    page = assert_outage_page(client.post("/t/some-team?from=qr", data=MultiDict(sent)))
    assert hidden_form(page) == ("/t/some-team?from=qr", sent)
    assert "&#34;Samen&#34; &lt;sterk&gt; &amp; zo" in page

    page = assert_outage_page(client.get("/t/some-team"))
    assert 'href="/t/some-team">Try again' in page and "<form method" not in page

    login = client.post("/login", data={"email": "a@example.org", "password": "hunter2-x"})
    page = assert_outage_page(login)
    assert "hunter2-x" not in page and "a@example.org" not in page and "go back" in page


def test_a_locked_sqlite_database_gives_the_same_page(app, database_url, link, client):
    if sa.make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("SQLite's write lock")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    start(client, link)
    token = csrf_token(client, "/respond/1")
    sent = [("csrf_token", token), *STEP_1.items(), ("action", "next")]
    locker = sqlite3.connect(sa.make_url(database_url).database, isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")  # the write lock, held past the 200 ms busy timeout
        page = assert_outage_page(client.post("/respond/1", data=MultiDict(sent)))
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    action, fields = hidden_form(page)
    assert sorted(fields) == sorted(sent)
    assert client.post(action, data=MultiDict(fields)).headers["Location"] == "/respond/2"
    assert set(draft_answers()) == {"A1.1", "A1.2", "A1.3", "C1.1"}
