"""Two app servers on one PostgreSQL database and one Redis, as two machines behind a proxy
would run them: separate gunicorn masters with their own workers, on separate ports, sharing
only the database, the rate limits' Redis (RATELIMIT_STORAGE_URI) and the SECRET_KEY.

32 respondents fill in questionnaires for 60 s, each request going to either server at random
(the session is a signed cookie, the draft is in the database). Meanwhile an administrator
changes the minimum group size on one server and reads it back on the other at the very next
request (settings are read once per request, never kept in a process: see
``survey.services.settings``); someone guesses a password on both servers in turn until the
limit, kept in Redis, refuses them on both; and server B is stopped (SIGTERM: gunicorn
finishes the requests it has) and started again while the respondents go on, those whose
request met no server trying again as a browser would. Asserted: every completed
questionnaire stored exactly once with all its answers, no draft left behind, no respondent
failed, no 5xx outside the restart window (those inside are counted), every setting seen on
the other server at once, failed log-ins throttled across both.

Needs PostgreSQL (TEST_DATABASE_URL; two machines cannot share an SQLite file) and Redis
(TEST_REDIS_URL, default redis://127.0.0.1:6379/5, whose limiter keys it deletes before and
after); skipped without them.

    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/ks \\
        pytest -o python_files='check_*.py' tests/reliability/check_two_servers.py -s
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from survey.extensions import db
from survey.models import Account, Role
from survey.passwords import hash_password
from tests.benchmarks import loadgen
from tests.benchmarks.harness import Figure, bench_app, save
from tests.reliability import two_servers
from tests.reliability.two_servers import Instance, Journal, Visitor
from tests.reliability.under_load import (
    SECRET,
    Site,
    Stored,
    fresh_database,
    prepare_site,
    stored,
)

CONCURRENT = 32
SECONDS = 60
#: When (seconds into the load) the administrator changes the minimum group size, and on
#: which server ("A" saves, "B" reads, or the other way round); B restarts at RESTART_AT.
CHANGES = ((4, "A"), (12, "B"), (45, "B"), (52, "A"))
GUESSES_AT, RESTART_AT = 8, 20
#: Failed log-ins allowed per account (``LOGIN_LIMIT_PER_ACCOUNT``'s default).
ALLOWED_GUESSES = 5
#: After B answers again, replies within this long still count to the restart window.
SETTLING = 2.0
ADMIN, PASSWORD = "beheer@example.org", "Twee servers, een databank!"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")

pytestmark = pytest.mark.database  # kept on the PostgreSQL pass (tests/conftest.py)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("two app servers share a PostgreSQL database: set TEST_DATABASE_URL")
    if not two_servers.redis_answers(REDIS_URL):
        pytest.skip(f"Redis does not answer at {REDIS_URL} (TEST_REDIS_URL)")
    two_servers.clean_redis(REDIS_URL)
    try:
        with fresh_database(tmp_path, "check_two_servers") as url:
            site = prepare_site(url, tmp_path)
            add_administrator(url, tmp_path)
            yield site
    finally:
        two_servers.clean_redis(REDIS_URL)


def add_administrator(url: str, folder: Path) -> None:
    app = bench_app(url, str(folder / "instance"))
    with app.app_context():
        db.session.add(Account(email=ADMIN, password_hash=hash_password(PASSWORD), role=Role.ADMIN))
        db.session.commit()
        db.session.close()
        db.engine.dispose()


@dataclass
class Conductor:
    """What happens besides the respondents, on a timetable from the start of the load."""

    servers: dict[str, Instance]
    started: float = 0.0
    #: (saved on, read on, k saved, k the other server showed at its next request)
    changes: list[tuple[str, str, int, str | None]] = field(default_factory=list)
    #: The status of each failed log-in, in turn on A and B.
    guesses: list[tuple[str, int]] = field(default_factory=list)
    #: The restart: SIGTERM sent, B stopped, B answering again.
    restart: tuple[float, float, float] | None = None
    error: BaseException | None = None

    def run(self) -> None:
        admin = Visitor()
        try:
            self._run(admin)
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error
        finally:
            admin.close()

    def _run(self, admin: Visitor) -> None:
        port = {name: instance.port for name, instance in self.servers.items()}
        status, _ = admin.post_form(port["A"], "/login", [("email", ADMIN), ("password", PASSWORD)])
        assert status == 302, f"the administrator's log-in on A answered {status}"
        plan = [(at, self._change, saved) for at, saved in CHANGES]
        plan += [(GUESSES_AT, self._guess, ""), (RESTART_AT, self._restart, "B")]
        for number, (at, step, argument) in enumerate(sorted(plan, key=lambda s: s[0])):
            time.sleep(max(0.0, self.started + at - time.monotonic()))
            step(admin, port, argument, number)

    def _change(self, admin: Visitor, port: dict[str, int], saved: str, number: int) -> None:
        read = "B" if saved == "A" else "A"
        k = 6 + number  # never the default (5), so that the change shows
        status, _ = admin.post_form(port[saved], "/admin/settings", two_servers.settings_form(k))
        assert status == 302, f"saving the settings on {saved} answered {status}"
        status, _, page = admin.request(port[read], "GET", "/admin/settings")
        assert status == 200, f"the settings page on {read} answered {status}"
        self.changes.append((saved, read, k, two_servers.shown_value(page, "min_group_size")))

    def _guess(self, admin: Visitor, port: dict[str, int], _: str, __: int) -> None:
        guesser = Visitor()
        try:
            for attempt in range(ALLOWED_GUESSES + 2):
                name = "AB"[attempt % 2]
                status, _ = guesser.post_form(
                    port[name], "/login", [("email", ADMIN), ("password", f"raden {attempt}")]
                )
                self.guesses.append((name, status))
        finally:
            guesser.close()

    def _restart(self, admin: Visitor, port: dict[str, int], name: str, _: int) -> None:
        instance = self.servers[name]
        began = time.monotonic()
        instance.stop()
        stopped = time.monotonic()
        instance.start()
        self.restart = (began, stopped, time.monotonic())


def test_two_servers_on_one_database_lose_and_double_nothing(
    site: Site, capsys: pytest.CaptureFixture
):
    environment = {
        "DATABASE_URL": site.url,
        "SECRET_KEY": SECRET,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        # Limits on, in Redis; starting a questionnaire is not what is tested here, and 32
        # respondents on one address would spend the per-address and per-link limits.
        "START_LIMIT_PER_ADDRESS": "100000 per hour",
        "START_LIMIT_PER_LINK": "100000 per hour",
    }
    servers = {
        name: Instance(name, loadgen.free_port(), environment, site.folder / f"gunicorn-{name}.log")
        for name in "AB"
    }
    journal = Journal()
    conductor = Conductor(servers)
    try:
        for instance in servers.values():
            instance.start()
        before = stored(site.url, site.wave_id)
        ports = tuple(instance.port for instance in servers.values())
        conductor.started = time.monotonic()
        thread = threading.Thread(target=conductor.run, name="conductor")
        thread.start()
        try:
            result = loadgen.run_load(
                ports[0],
                site.links,
                concurrency=CONCURRENT,
                seconds=SECONDS,
                flow=two_servers.switching_flow(ports, journal),
            )
        finally:
            thread.join()
    finally:
        for instance in servers.values():
            instance.stop()
    after = stored(site.url, site.wave_id)

    run = Run(before, after, result, journal, conductor)
    values, problems = values_of(run), problems_of(run)
    summary = result_line(values)
    with capsys.disabled():
        print(f"\n{summary}\n  statuses {dict(sorted(result.statuses.items()))}")
    save("reliability", figures_of(values))
    logs = ", ".join(str(instance.log) for instance in servers.values())
    assert not problems, "\n".join([summary, *problems, f"server logs: {logs}"])


@dataclass(frozen=True)
class Run:
    """Everything a run leaves to judge."""

    before: Stored
    after: Stored
    result: loadgen.LoadResult
    journal: Journal
    conductor: Conductor

    @property
    def new(self) -> int:
        return self.after.responses - self.before.responses

    def in_restart(self, t: float) -> bool:
        window = self.conductor.restart
        return window is not None and window[0] <= t <= window[2] + SETTLING

    def server_errors(self, in_restart: bool) -> int:
        return self.journal.server_errors(lambda t: self.in_restart(t) == in_restart)

    def settings_seen(self) -> int:
        return sum(1 for _, _, k, shown in self.conductor.changes if shown == str(k))


def problems_of(run: Run) -> list[str]:
    """One line per broken promise."""
    before, after, result, conductor = run.before, run.after, run.result, run.conductor
    problems = []
    if conductor.error is not None:
        problems.append(f"the administrator's part failed: {conductor.error!r}")
    if result.completed == 0:
        problems.append("no questionnaire was completed")
    if run.new != result.completed:
        problems.append(
            f"{run.new} responses stored for {result.completed} questionnaires completed"
        )
    if after.answers - before.answers != result.answers:
        problems.append(f"{after.answers - before.answers} answers stored, {result.answers} sent")
    if after.drafts != before.drafts:
        problems.append(f"{len(after.drafts - before.drafts)} drafts left behind")
    if after.incomplete:
        problems.append(f"{len(after.incomplete)} partial responses: {after.incomplete[:3]}")
    if result.failures:
        problems.append(f"respondents failed: {dict(result.failures)}")
    if errors := run.server_errors(in_restart=False):
        problems.append(f"{errors} replies with a 5xx status outside the restart window")
    if conductor.restart is None:
        problems.append("server B was not restarted")
    if run.settings_seen() != len(CHANGES):
        problems.append(f"settings changed (saved on, read on, k, shown): {conductor.changes}")
    allowed = {status for _, status in conductor.guesses[:ALLOWED_GUESSES]}
    refused = {status for _, status in conductor.guesses[ALLOWED_GUESSES:]}
    if allowed != {200} or refused != {429}:
        problems.append(f"failed log-ins (server, status) in turn: {conductor.guesses}")
    if tracebacks := [i.name for i in conductor.servers.values() if "Traceback" in i.log_text()]:
        problems.append(f"a traceback in the log of server {', '.join(tracebacks)}")
    return problems


def values_of(run: Run) -> dict[str, float]:
    """The run's figures by name (a name ending in " s" or " ms" says its unit)."""
    result, window = run.result, run.conductor.restart
    return {
        "questionnaires completed": result.completed,
        "responses stored": run.new,
        "questionnaires/s": round(result.per_second, 2),
        "request p95 ms": round(result.percentile_ms(95)),
        "restart window s": round(window[2] - window[0], 1) if window else 0,
        "tries that met no server": sum(run.journal.not_there.values()),
        "5xx in the restart window": run.server_errors(in_restart=True),
        "5xx outside it": run.server_errors(in_restart=False),
        "settings seen on the other server at once": run.settings_seen(),
        "failed log-ins before 429 (both servers)": next(
            (i for i, (_, s) in enumerate(run.conductor.guesses) if s == 429), -1
        ),
        "respondents failed": sum(result.failures.values()),
    }


def figures_of(values: dict[str, float]) -> list[Figure]:
    size = f"2 servers × 2 workers, {CONCURRENT} concurrent, {SECONDS} s"
    return [
        Figure(f"two servers: {name}", name.rsplit(" ", 1)[-1] if name.endswith((" s", " ms"))
               else "count", size, "postgresql", value)
        for name, value in values.items()
    ]  # fmt: skip


def result_line(values: dict[str, float]) -> str:
    """The check's figures in one line (``make bench``)."""
    return (
        f"two servers (PostgreSQL + Redis, 2 × 2 gunicorn workers, {CONCURRENT} respondents "
        f"switching servers, {SECONDS} s): {values['questionnaires completed']} questionnaires "
        f"({values['questionnaires/s']}/s, request p95 {values['request p95 ms']} ms), "
        f"{values['responses stored']} stored; B restarted in {values['restart window s']} s "
        f"under load ({values['tries that met no server']} tries met no server and went again), "
        f"5xx {values['5xx in the restart window']} in the restart window and "
        f"{values['5xx outside it']} outside; settings seen on the other server at once "
        f"{values['settings seen on the other server at once']}/{len(CHANGES)}; 429 after "
        f"{values['failed log-ins before 429 (both servers)']} failed log-ins over both "
        f"servers; respondents failed {values['respondents failed']}"
    )
