"""What every page benchmark shares: fresh databases, the app as in production, timed requests
with their SQL statements counted, percentiles, the printed table and the results file."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from survey import create_app
from tests.benchmarks.generate import StderrProgress
from tests.conftest import base_config

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
RESULTS_FILE = Path(__file__).parent / "results" / "latest.json"
DATABASES = ("sqlite", "postgresql")


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
    #: Submission runs: the app's rate as a share of the floor's in the same run.
    ratio_to_floor: float | None = None


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
def postgresql_database(name: str) -> Iterator[str | None]:
    """A fresh database ``name`` (dropped first when it exists, left behind afterwards for
    inspection), or None when the server does not answer."""
    server = sa.create_engine(
        f"{POSTGRES_SERVER}/postgres",
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )
    try:
        with server.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
    except sa.exc.OperationalError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        print(f"PostgreSQL: SKIPPED, {POSTGRES_SERVER} does not answer ({reason}).")
        url = None
    else:
        url = f"{POSTGRES_SERVER}/{name}"
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


def time_page(
    client: FlaskClient,
    url: str,
    counter: StatementCounter,
    repetitions: Repetitions,
    label: str,
    after_each: Callable[[str], None] | None = None,
) -> Timings:
    """The first request, the warm-up, then the timed requests (progress on stderr).
    ``after_each`` is called after every request with ``"first"``, ``"warm-up"`` or ``"timed"``."""
    after_each = after_each or (lambda kind: None)
    first = timed_get(client, url, counter)
    after_each("first")
    for _ in range(repetitions.warm_up):
        timed_get(client, url, counter)
        after_each("warm-up")
    progress = StderrProgress(f"{label}: timed", "requests")
    timed = []
    for number in range(1, repetitions.timed + 1):
        timed.append(timed_get(client, url, counter))
        after_each("timed")
        progress(number, repetitions.timed)
    statements = [request.statements for request in timed]
    if len(set(statements)) > 1:
        print(f"{label}: statements per request varied: {statements}", file=sys.stderr)
    return Timings(first, timed)


def percentile(samples: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest sample with at least ``share`` at or below it."""
    ordered = sorted(samples)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def page_figures(timings: Timings, page: str) -> list[tuple[str, str, float]]:
    """(name, unit, value) of one page's timings: first request, p50, p95, max, CPU p50 and
    the statements sent."""
    times = [request.ms for request in timings.timed]
    return [
        (f"{page}, first request", "ms", timings.first.ms),
        (f"{page} p50", "ms", statistics.median(times)),
        (f"{page} p95", "ms", percentile(times, 0.95)),
        (f"{page} max", "ms", max(times)),
        (f"{page} CPU p50", "ms", statistics.median(r.cpu_ms for r in timings.timed)),
    ]


def machine() -> dict[str, object]:
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def save(benchmark: str, figures: list[Figure], path: Path = RESULTS_FILE) -> None:
    """Merge ``figures`` into the results file under ``benchmark``: a figure replaces the one
    with the same name, size and database; figures of other benchmarks and databases are kept."""
    results = json.loads(path.read_text()) if path.exists() else {}
    fresh = {(f.name, f.size, f.database) for f in figures}
    kept = [
        entry
        for entry in results.get(benchmark, [])
        if (entry["name"], entry["size"], entry["database"]) not in fresh
    ]
    about = machine()
    results[benchmark] = kept + [{**asdict(f), **about} for f in figures]
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


def report(benchmark: str, figures: list[Figure]) -> None:
    """Save the figures and print them as a table."""
    if not figures:
        return
    save(benchmark, figures)
    print()
    print(table(figures))
    print(f"\nSaved to {os.path.relpath(RESULTS_FILE)}.")
