"""A PostgreSQL restart during load is survived: requests during the outage get the 503 page
that keeps what was posted, the pool reconnects by itself, and no response is lost or doubled.

The shared server is never restarted: the test runs a private PostgreSQL (``initdb`` into a
temporary folder, as the ``postgres`` user when we are root) on a free port, migrates it, opens
a wave and serves the app under gunicorn (2 workers). Eight respondents fill in questionnaires
for 20 s while the server is restarted twice: ``pg_ctl restart -m fast`` (a short outage), then
stopped for 2 s and started again (a long one). A respondent who meets the 503 page waits a
second and presses its "Try again" button, that is, posts the page's hidden form again.

    pytest -o python_files='check_*.py' tests/reliability/check_pg_restart.py -s
"""

from __future__ import annotations

import html
import os
import pwd
import random
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from tests.benchmarks import loadgen
from tests.benchmarks.bench_submit import prepare, stored_responses

CONCURRENCY = 8
SECONDS = 20
#: How long a respondent looks at the 503 page before pressing "Try again", and for how long
#: in all they keep trying.
PATIENCE = (1.0, 60.0)
STEP = re.compile(r"/respond/\d+")
HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')
FORM_ACTION = re.compile(r'<form method="post" action="([^"]*)">')
#: The page a submission posted again finds when the first one was stored after all.
NO_DRAFT = "Geen vragenlijst bezig"


# --- a private PostgreSQL server --------------------------------------------------------------


def postgresql_tools() -> Path | None:
    """The newest PostgreSQL's bin folder that has ``initdb`` (Debian keeps it off the PATH)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


@dataclass
class PrivateServer:
    """A PostgreSQL cluster of our own, which the test may stop and restart."""

    tools: Path
    folder: Path
    port: int
    #: ``runuser -u postgres --`` when we are root (the server refuses to run as root).
    as_owner: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/krachtspiegel"

    def run(self, tool: str, *arguments: str) -> None:
        command = [*self.as_owner, str(self.tools / tool), *arguments]
        subprocess.run(  # noqa: S603 (PostgreSQL's own tools, arguments of our making)
            command, check=True, capture_output=True, timeout=120
        )

    def pg_ctl(self, *arguments: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        data, log = str(self.folder / "data"), str(self.folder / "server.log")
        self.run("pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "60", *arguments)

    def create(self) -> None:
        data = str(self.folder / "data")
        self.run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        self.pg_ctl("start")
        server = sa.create_engine(
            self.url.replace("/krachtspiegel", "/postgres"), isolation_level="AUTOCOMMIT"
        )
        with server.connect() as connection:
            connection.execute(sa.text("CREATE DATABASE krachtspiegel"))
        server.dispose()

    def log_tail(self) -> str:
        log = self.folder / "server.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""


@pytest.fixture
def private_server() -> Iterator[PrivateServer]:
    tools = postgresql_tools()
    if tools is None:
        pytest.skip("PostgreSQL's initdb was not found (/usr/lib/postgresql/*/bin or PATH)")
    as_owner: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="krachtspiegel-pg-restart-"))
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            pytest.skip("running as root, and there is no postgres user to run the server as")
        shutil.chown(folder, "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    server = PrivateServer(tools, folder, loadgen.free_port(), as_owner)
    try:
        server.create()
        yield server
    finally:
        with suppress(subprocess.CalledProcessError):  # never started, or stopped already
            server.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(folder, ignore_errors=True)


# --- patient respondents ----------------------------------------------------------------------


@dataclass
class Journal:
    """Every request's end time and status, and each finished questionnaire's end time."""

    requests: list[tuple[float, int]] = field(default_factory=list)
    #: ``/health`` asked every 50 ms: when the app could use its database again, to the
    #: request (the respondents, waiting a second on each 503 page, see it later).
    health: list[tuple[float, int]] = field(default_factory=list)
    completed_at: list[float] = field(default_factory=list)
    retried_posts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, status: int) -> None:
        with self.lock:
            self.requests.append((time.monotonic(), status))


def hidden_form(page: str) -> tuple[str, list[tuple[str, str]]]:
    action = FORM_ACTION.search(page)
    if not action:
        raise loadgen.FlowError("503_without_form", page[:200])
    fields = [(html.unescape(n), html.unescape(v)) for n, v in HIDDEN.findall(page)]
    return html.unescape(action.group(1)), fields


def send(
    journal: Journal,
    browser: loadgen.Browser,
    method: str,
    path: str,
    form: list[tuple[str, str]] | None = None,
) -> tuple[int, str, str, bool]:
    """One request, and while the answer is the 503 page: wait, then try again as a person
    would (a POST by sending the page's hidden form). Returns status, location, page and
    whether it had to try again."""
    wait, patience = PATIENCE
    given_up = time.monotonic() + patience
    retried = False
    while True:
        status, location, page = browser.request(method, path, form)
        journal.note(status)
        if status != 503:
            return status, location, page, retried
        if time.monotonic() > given_up:
            raise loadgen.FlowError("gave_up", path)
        time.sleep(wait)
        retried = True
        if method == "POST":
            path, form = hidden_form(page)
            with journal.lock:
                journal.retried_posts += 1


def probe_health(port: int, journal: Journal, stop: threading.Event) -> None:
    browser = loadgen.Browser(port)
    while not stop.is_set():
        status, _, _ = browser.request("GET", "/health")
        journal.health.append((time.monotonic(), status))
        time.sleep(0.05)
    browser.close()


def csrf(page: str) -> str:
    found = loadgen.CSRF.search(page)
    if not found:
        raise loadgen.FlowError("no_form", page[:200])
    return found.group(1)


def local(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def patient_respondent(journal: Journal):
    """``loadgen.fill_in_questionnaire``'s flow, but pressing "Try again" on a 503 page."""

    def expect(condition: bool, kind: str, detail: str) -> None:
        if not condition:
            raise loadgen.FlowError(kind, detail)

    def fill_in(browser: loadgen.Browser, link: str, rng: random.Random) -> int:
        status, _, page, _ = send(journal, browser, "GET", link)
        expect(status == 200, f"http_{status}", link)
        status, location, _, _ = send(journal, browser, "POST", link, [("csrf_token", csrf(page))])
        expect(status == 302, f"http_{status}", f"start {link}")
        sent, path = 0, local(location)
        while STEP.fullmatch(path):
            status, _, page, _ = send(journal, browser, "GET", path)
            expect(status == 200, f"http_{status}", path)
            answers = loadgen.answer_page(page, rng)
            sent += len(answers)
            form = [("csrf_token", csrf(page)), *answers, ("action", "next")]
            status, location, _, _ = send(journal, browser, "POST", path, form)
            expect(status == 302, f"http_{status}", path)
            path = local(location)
        expect(path == "/respond/review", "unexpected_redirect", path)
        status, _, page, _ = send(journal, browser, "GET", path)
        expect(status == 200, f"http_{status}", path)
        form = [("csrf_token", csrf(page))]
        status, location, page, retried = send(journal, browser, "POST", "/respond/submit", form)
        # The connection died after the database committed the first submission: the one sent
        # again finds no draft. Stored, but the respondent was not told: counted apart.
        expect(not (retried and status == 200 and NO_DRAFT in page), "ambiguous_submit", "")
        expect(status == 302 and local(location) == "/respond/thanks", f"http_{status}", "submit")
        status, _, _, _ = send(journal, browser, "GET", "/respond/thanks")
        expect(status == 200, f"http_{status}", "/respond/thanks")
        with journal.lock:
            journal.completed_at.append(time.monotonic())
        return sent

    return fill_in


# --- the test ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outage:
    what: str
    began: float
    #: When ``pg_ctl`` returned: the server accepts connections again.
    ended: float


def disrupt(server: PrivateServer, outages: list[Outage], started: float) -> None:
    """A fast restart at 5 s, then at 10 s a stop of 2 s."""
    time.sleep(max(0.0, started + 5 - time.monotonic()))
    began = time.monotonic()
    server.pg_ctl("restart", "-m", "fast")
    outages.append(Outage("pg_ctl restart -m fast", began, time.monotonic()))
    time.sleep(max(0.0, started + 10 - time.monotonic()))
    began = time.monotonic()
    server.pg_ctl("stop", "-m", "fast")
    time.sleep(2)
    server.pg_ctl("start")
    outages.append(Outage("pg_ctl stop -m fast, 2 s, start", began, time.monotonic()))


def describe(outage: Outage, until: float, journal: Journal) -> tuple[str, int]:
    """One line of figures for an outage (what happened from its start ``until`` the next),
    and the number of 503s respondents met."""

    def between(log: list[tuple[float, int]]) -> list[tuple[float, int]]:
        return [(t, s) for t, s in log if outage.began <= t < until]

    unavailable = [t for t, s in between(journal.requests) if s == 503]
    healthy = next((t for t, s in between(journal.health) if t > outage.ended and s == 200), None)
    sick = [t for t, s in between(journal.health) if s == 503]
    return (
        f"{outage.what}: server away {outage.ended - outage.began:.2f} s; respondents met "
        f"{len(unavailable)} × 503; /health answered 503 for "
        f"{1000 * (sick[-1] - sick[0]) if sick else 0:.0f} ms, and 200 again "
        + (f"{1000 * (healthy - outage.ended):.0f} ms" if healthy else "never")
        + " after the server was back"
    ), len(unavailable)


def test_a_postgresql_restart_during_load_loses_nothing(private_server, tmp_path, capsys):
    site = prepare(private_server.url, str(tmp_path / "instance"))
    environment = {
        "DATABASE_URL": private_server.url,
        "SECRET_KEY": "pg-restart-check-only",
        "RATELIMIT_ENABLED": "false",
    }
    journal = Journal()
    outages: list[Outage] = []
    with loadgen.gunicorn("wsgi:app", environment, tmp_path / "gunicorn.log") as app:
        started = time.monotonic()
        restarts = threading.Thread(target=disrupt, args=(private_server, outages, started))
        stop = threading.Event()
        probe = threading.Thread(target=probe_health, args=(app.port, journal, stop))
        restarts.start()
        probe.start()
        try:
            result = loadgen.run_load(
                app.port,
                site.app_links,
                concurrency=CONCURRENCY,
                flow=patient_respondent(journal),
                seconds=SECONDS,
            )
        finally:
            restarts.join()  # before the fixture stops the server for good
            stop.set()
            probe.join()
        log = app.log_text()
    stored = stored_responses(private_server.url, site.app_wave)

    statuses = Counter(status for _, status in journal.requests)
    ambiguous = result.failures.get("ambiguous_submit", 0)
    ends = [outage.began for outage in outages[1:]] + [float("inf")]
    lines = [describe(outage, until, journal) for outage, until in zip(outages, ends, strict=True)]
    after_restarts = sum(1 for t in journal.completed_at if t > outages[-1].ended)
    with capsys.disabled():
        print(f"\nPostgreSQL restart under load ({CONCURRENCY} respondents, {SECONDS} s):")
        for line, _ in lines:
            print(f"  {line}")
        print(
            f"  requests {sum(statuses.values())} ({dict(sorted(statuses.items()))}), "
            f"posts sent again from the 503 page {journal.retried_posts}; "
            f"questionnaires completed {result.completed} ({after_restarts} after the last "
            f"outage), stored {stored}, unconfirmed submissions {ambiguous}; "
            f"failures {dict(result.failures)}"
        )

    assert len(outages) == 2, private_server.log_tail()
    health = Counter(status for _, status in journal.health)
    assert not [status for status in statuses if status >= 500 and status != 503], log[-3000:]
    assert set(health) <= {200, 503}, health
    assert "Traceback" not in log, log[-3000:]
    # The 2 s stop must meet requests; the fast restart (a quarter of a second) usually does.
    assert lines[-1][1] > 0, "the outage caused no 503: it proved nothing"
    assert set(result.failures) <= {"ambiguous_submit"}, result.failures
    assert after_restarts > 0, "no questionnaire was completed after the server came back"
    # None lost: every confirmed submission is stored; none doubled: at most the unconfirmed
    # ones besides.
    assert result.completed <= stored <= result.completed + ambiguous
