"""How fast a manager's team page opens: ``GET /dashboard/waves/<wave>/teams/<team>``.

The case of issue 5: a team with 5 waves of 20 responses each, in an organisation of 20 teams
(two departments of ten). The manager of the team's department logs in with the Flask test
client; the page of the latest wave is requested once cold, then after warm-up requests a number
of times more, each timed with ``time.perf_counter()`` and its SQL statements counted.

    python -m tests.benchmarks.bench_dashboard [--quick] [--database sqlite|postgresql|both]

Figures are printed as a table and merged into ``tests/benchmarks/results/latest.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from survey import create_app, settle_for_serving
from survey.extensions import db
from tests.benchmarks.generate import Generated, Size, StderrProgress, generate, prepare_database
from tests.conftest import base_config, login

BENCHMARK = "dashboard"
CASE = Size(teams=20, waves=5, responses_per_team=20)
CASE_LABEL = "issue-5: 20 teams × 5 waves × 20 responses"
POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
POSTGRES_DATABASE = "krachtspiegel_bench"
RESULTS_FILE = Path(__file__).parent / "results" / "latest.json"


@dataclass(frozen=True)
class Repetitions:
    warm_up: int
    timed: int


FULL = Repetitions(warm_up=3, timed=30)
QUICK = Repetitions(warm_up=1, timed=10)


@dataclass(frozen=True)
class Figure:
    name: str
    unit: str
    size: str
    database: str
    value: float


class PageFailed(RuntimeError):
    """The page did not answer 200 (the traceback, if any, was logged above)."""


class StatementCounter:
    """Counts the SQL statements an engine sends (``before_cursor_execute``)."""

    def __init__(self, engine: sa.Engine):
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args: object) -> None:
        self.count += 1


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="krachtspiegel-bench-") as folder:
        yield f"sqlite:///{folder}/bench.sqlite"


@contextmanager
def postgresql_database() -> Iterator[str | None]:
    """A fresh ``krachtspiegel_bench`` database, or None when the server does not answer."""
    server = sa.create_engine(
        f"{POSTGRES_SERVER}/postgres",
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )
    try:
        with server.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)"))
            connection.execute(sa.text(f"CREATE DATABASE {POSTGRES_DATABASE}"))
    except sa.exc.OperationalError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        print(f"PostgreSQL: SKIPPED, {POSTGRES_SERVER} does not answer ({reason}).")
        url = None
    else:
        url = f"{POSTGRES_SERVER}/{POSTGRES_DATABASE}"
    finally:
        server.dispose()
    yield url


def bench_app(database_url: str, instance_path: str) -> Flask:
    """The app as in production (TESTING off: errors become 500 pages), without rate limits."""
    return create_app({**base_config(database_url), "TESTING": False}, instance_path=instance_path)


@dataclass(frozen=True)
class Request:
    #: Wall-clock milliseconds.
    ms: float
    #: Milliseconds of this process's CPU: less disturbed by other work on the machine, but
    #: without the database server's share (PostgreSQL runs in processes of its own).
    cpu_ms: float
    statements: int
    page: str


@dataclass(frozen=True)
class Timings:
    first: Request
    #: The timed requests, after the warm-up.
    timed: list[Request]


def timed_get(client: FlaskClient, url: str, counter: StatementCounter) -> Request:
    """One request, which must answer 200."""
    before = counter.count
    cpu_started, started = time.process_time(), time.perf_counter()
    reply = client.get(url)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if reply.status_code != 200:
        raise PageFailed(f"GET {url} answered {reply.status_code}")
    return Request(elapsed * 1000, cpu * 1000, counter.count - before, reply.get_data(as_text=True))


def percentile(samples: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest sample with at least ``share`` at or below it."""
    ordered = sorted(samples)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def measure(database: str, url: str, repetitions: Repetitions, figures: list[Figure]) -> None:
    """Generate the case in ``url`` and time the team page, appending to ``figures`` as it goes
    (so the generation figures are kept when the page fails)."""

    def figure(name: str, unit: str, value: float) -> None:
        figures.append(Figure(name, unit, CASE_LABEL, database, round(value, 2)))

    with tempfile.TemporaryDirectory(prefix="krachtspiegel-bench-instance-") as instance:
        app = bench_app(url, instance)
        with app.app_context():
            print(f"{database}: migrating and loading the team instrument ...", file=sys.stderr)
            prepare_database()
            print(f"{database}: generating {CASE} ...", file=sys.stderr)
            generated = generate(CASE)
            engine = db.engine
        figure("generate", "s", generated.seconds)
        figure("generated answers", "rows", generated.answers)
        try:
            timings = time_team_page(app, engine, database, generated, repetitions)
        finally:
            engine.dispose()
    times = [request.ms for request in timings.timed]
    figure("team page, first request", "ms", timings.first.ms)
    figure("team page p50", "ms", statistics.median(times))
    figure("team page p95", "ms", percentile(times, 0.95))
    figure("team page max", "ms", max(times))
    figure(
        "team page CPU p50", "ms", statistics.median(request.cpu_ms for request in timings.timed)
    )
    figure("statements, first request", "statements", timings.first.statements)
    figure(
        "statements per request",
        "statements",
        statistics.median(request.statements for request in timings.timed),
    )


def time_team_page(
    app: Flask, engine: sa.Engine, database: str, generated: Generated, repetitions: Repetitions
) -> Timings:
    settle_for_serving()  # as wsgi.py does in every production worker
    client = app.test_client()
    reply = login(client, generated.manager_email, generated.manager_password)
    if reply.status_code != 302 or "/login" in reply.headers.get("Location", ""):
        raise PageFailed(f"the manager could not log in ({reply.status_code})")
    counter = StatementCounter(engine)
    page = f"/dashboard/waves/{generated.latest_wave_id}/teams/{generated.benchmarked_team}"

    first = timed_get(client, page, counter)
    if f"{CASE.responses_per_team} antwoorden" not in first.page:
        print(
            f"{database}: WARNING, the page does not say '{CASE.responses_per_team} antwoorden': "
            "are the results shown?",
            file=sys.stderr,
        )
    for _ in range(repetitions.warm_up):
        timed_get(client, page, counter)
    progress = StderrProgress("timed", "requests")
    timed = []
    for number in range(1, repetitions.timed + 1):
        timed.append(timed_get(client, page, counter))
        progress(number, repetitions.timed)
    statements = [request.statements for request in timed]
    if len(set(statements)) > 1:
        print(f"{database}: statements per request varied: {statements}", file=sys.stderr)
    return Timings(first, timed)


def machine() -> dict[str, object]:
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def save(figures: list[Figure], path: Path = RESULTS_FILE) -> None:
    """Merge ``figures`` into the results file: a figure replaces the one with the same name,
    size and database; figures of other benchmarks and databases are kept."""
    results = json.loads(path.read_text()) if path.exists() else {}
    fresh = {(f.name, f.size, f.database) for f in figures}
    kept = [
        entry
        for entry in results.get(BENCHMARK, [])
        if (entry["name"], entry["size"], entry["database"]) not in fresh
    ]
    about = machine()
    results[BENCHMARK] = kept + [{**asdict(f), **about} for f in figures]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


def table(figures: list[Figure]) -> str:
    rows = [("database", "figure", "value", "unit")] + [
        (f.database, f.name, f"{f.value:g}", f.unit) for f in figures
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(
            cell.rjust(width) if i == 2 else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (1 + 10)")
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql", "both"], default="both", help="default: both"
    )
    args = parser.parse_args(argv)
    repetitions = QUICK if args.quick else FULL
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    print(
        f"Benchmark {BENCHMARK}: {CASE_LABEL}; 1 first request, {repetitions.warm_up} warm-up, "
        f"{repetitions.timed} timed."
    )
    figures: list[Figure] = []
    failed = False
    for database in databases:
        opener = sqlite_database if database == "sqlite" else postgresql_database
        with opener() as url:
            if url is None:
                continue
            try:
                measure(database, url, repetitions, figures)
            except PageFailed as error:
                print(f"{database}: FAILED, {error}", file=sys.stderr)
                failed = True
    if figures:
        save(figures)
        print()
        print(table(figures))
        print(f"\nSaved to {os.path.relpath(RESULTS_FILE)}.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
