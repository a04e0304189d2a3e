"""How fast the quality officer's organisation pages open, at a large organisation.

Issue 6's target: the units × scales heatmap of a wave, ``GET /quality/waves/<wave>``, within
1 s at 500 teams × 10 waves × 15 responses (about 6 million answer rows) on PostgreSQL. Also
timed: the same page as change since the previous wave (``?view=change``; both views aggregate
the wave and the wave before it) and the organisation's trend, ``GET /quality/units/<slug>``,
which aggregates every wave.

A quality officer logs in with the Flask test client; each page is requested once cold, then
after warm-up requests a number of times more, each timed and its SQL statements counted. The
time spent in ``comparisons.team_scale_sums`` (the aggregation in SQL) and
``comparisons.gated_cells`` (gating and pooling in Python) is measured too, by wrapping them.

    python -m tests.benchmarks.bench_quality [--quick] [--database sqlite|postgresql|both]
                                             [--size small|medium|large ...] [--preload-too]

Without ``--size``: small, medium and large, each in a fresh database (``--quick``: medium, and
fewer repetitions). The manager's team dashboard is timed at each size too, and afterwards one
gunicorn worker serves respondents, then the manager's and the quality officer's pages, and its
memory is read after each role (``tests/benchmarks/worker_memory.py``). The team figures of the
latest two waves are counted and kept, as closing them does (timed as a figure of its own).
Figures are printed as a table and merged into ``tests/benchmarks/results/latest.json``.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from survey import settle_for_serving
from survey.extensions import db
from survey.services import comparisons
from tests.benchmarks.generate import (
    SIZES,
    Generated,
    StderrProgress,
    generate,
    prepare_database,
)
from tests.benchmarks.harness import (
    DATABASES,
    FULL,
    QUICK,
    Figure,
    PageFailed,
    Repetitions,
    StatementCounter,
    bench_app,
    page_figures,
    postgresql_database,
    report,
    sqlite_database,
    time_page,
)
from tests.benchmarks.worker_memory import measure_worker_memory
from tests.conftest import login

BENCHMARK = "quality"
POSTGRES_DATABASE = "krachtspiegel_bench_quality"
#: The sizes without --size, so that the table shows how the cost grows; with --quick,
#: QUICK_SIZE only.
DEFAULT_SIZES = ("small", "medium", "large")
QUICK_SIZE = "medium"
#: The functions whose time is reported per request, by the name of their figure.
PHASES = {"aggregation (SQL)": "team_scale_sums", "gating (Python)": "gated_cells"}


@dataclass(frozen=True)
class Page:
    #: The figure's name, e.g. "heatmap".
    name: str
    path: str
    #: A pattern for one number on the page: the page must show at least one.
    number: re.Pattern[str]
    what: str


def pages(generated: Generated) -> list[Page]:
    wave = generated.latest_wave_id
    return [
        Page(
            "team dashboard",
            f"/dashboard/waves/{wave}/teams/{generated.benchmarked_team}",
            re.compile(r"\d+ antwoorden"),
            "response counts",
        ),
        Page(
            "heatmap",
            f"/quality/waves/{wave}",
            re.compile(r'<td class="heat heat-\d"'),
            "cells with a mean",
        ),
        Page(
            "heatmap change",
            f"/quality/waves/{wave}?view=change",
            re.compile(r'<td class="(?:rise|fall|flat)"'),
            "cells with a change",
        ),
        Page(
            "organisation trend",
            f"/quality/units/{generated.organisation_slug}",
            re.compile(r'<span class="muted interval">'),
            "means with an interval",
        ),
    ]


class PhaseClock:
    """Wall time spent inside chosen functions of ``survey.services.comparisons``, which the
    views call through the module (so replacing the module attribute is enough)."""

    def __init__(self, functions: list[str]):
        self.functions = functions
        self.spent = dict.fromkeys(functions, 0.0)
        #: Per timed request: function → milliseconds.
        self.samples: list[dict[str, float]] = []

    @contextmanager
    def installed(self) -> Iterator[None]:
        originals = {name: getattr(comparisons, name) for name in self.functions}
        for name, original in originals.items():
            setattr(comparisons, name, self._timed(name, original))
        try:
            yield
        finally:
            for name, original in originals.items():
                setattr(comparisons, name, original)

    def _timed(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[name] += time.perf_counter() - started

        return wrapper

    def after_request(self, kind: str) -> None:
        if kind == "timed":
            self.samples.append({name: s * 1000 for name, s in self.spent.items()})
        self.spent = dict.fromkeys(self.functions, 0.0)


def measure(
    database: str,
    url: str,
    size_name: str,
    repetitions: Repetitions,
    figures: list[Figure],
    preload_too: bool = False,
) -> None:
    """Generate ``size_name`` in ``url`` and time the pages, appending to ``figures`` as it goes
    (so what was measured is kept when a page fails). ``preload_too``: the worker's memory is
    measured a second time under gunicorn's ``--preload``."""
    size = SIZES[size_name]
    label = f"{size_name}: {size}"

    def figure(name: str, unit: str, value: float) -> None:
        figures.append(Figure(name, unit, label, database, round(value, 2)))

    with tempfile.TemporaryDirectory(prefix="krachtspiegel-bench-instance-") as instance:
        app = bench_app(url, instance)
        with app.app_context():
            print(f"{database}: migrating and loading the team instrument ...", file=sys.stderr)
            prepare_database()
            print(f"{database}: generating {label} ...", file=sys.stderr)
            cpu_started = time.process_time()
            generated = generate(
                size, progress=StderrProgress(f"{database}: generated"), keep_figures=2
            )
            generate_cpu = time.process_time() - cpu_started
            engine = db.engine
        figure("generate", "s", generated.seconds)
        figure("generate CPU", "s", generate_cpu)
        figure("of which scale scores", "s", generated.scoring_seconds)
        if database == "postgresql":
            figure("of which VACUUM ANALYZE", "s", generated.vacuum_seconds)
        figure("generated answers", "rows", generated.answers)
        figure("count and keep the latest two waves' figures", "s", generated.figures_seconds)
        try:
            time_pages(app, engine, database, generated, repetitions, figure)
        finally:
            engine.dispose()
        quality_pages = [(p.name, p.path) for p in pages(generated) if p.path.startswith("/q")]
        measure_worker_memory(url, generated, quality_pages, Path(instance), figure)
        if preload_too:
            measure_worker_memory(
                url, generated, quality_pages, Path(instance), figure, preload=True
            )


def time_pages(
    app: Flask,
    engine: sa.Engine,
    database: str,
    generated: Generated,
    repetitions: Repetitions,
    figure: Callable[[str, str, float], None],
) -> None:
    settle_for_serving()  # as wsgi.py does in every production worker
    client = app.test_client()
    reply = login(client, generated.quality_email, generated.manager_password)
    if reply.status_code != 302 or "/login" in reply.headers.get("Location", ""):
        raise PageFailed(f"the quality officer could not log in ({reply.status_code})")
    counter = StatementCounter(engine)
    for page in pages(generated):
        clock = PhaseClock(list(PHASES.values()))
        with clock.installed():
            timings = time_page(
                client,
                page.path,
                counter,
                repetitions,
                f"{database}: {page.name}",
                after_each=clock.after_request,
            )
        shown = len(page.number.findall(timings.first.page))
        print(f"{database}: {page.name} shows {shown} {page.what}", file=sys.stderr)
        if not shown:
            raise PageFailed(f"GET {page.path} shows no {page.what}")
        for name, unit, value in page_figures(timings, page.name):
            figure(name, unit, value)
        for phase, function in PHASES.items() if page.path.startswith("/quality") else ():
            figure(
                f"{page.name}: {phase} p50",
                "ms",
                statistics.median(sample[function] for sample in clock.samples),
            )
        figure(
            f"{page.name} statements per request",
            "statements",
            statistics.median(request.statements for request in timings.timed),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_SIZE} size and fewer repetitions (1 + 10)"
    )
    parser.add_argument(
        "--database", choices=[*DATABASES, "both"], default="both", help="default: both"
    )
    parser.add_argument(
        "--size",
        choices=sorted(SIZES),
        action="append",
        help=f"repeatable; default: {', '.join(DEFAULT_SIZES)}; with --quick: {QUICK_SIZE}",
    )
    parser.add_argument(
        "--preload-too",
        action="store_true",
        help="the worker's memory by role also under gunicorn --preload (not in make bench)",
    )
    args = parser.parse_args(argv)
    repetitions = QUICK if args.quick else FULL
    databases = list(DATABASES) if args.database == "both" else [args.database]
    figures: list[Figure] = []
    failed = False
    sizes = args.size or ([QUICK_SIZE] if args.quick else list(DEFAULT_SIZES))
    for database, size_name in itertools.product(databases, sizes):
        print(
            f"Benchmark {BENCHMARK} on {database}: {size_name} ({SIZES[size_name]}); "
            f"per page 1 first request, {repetitions.warm_up} warm-up, "
            f"{repetitions.timed} timed.",
            flush=True,
        )
        opener = (
            sqlite_database() if database == "sqlite" else postgresql_database(POSTGRES_DATABASE)
        )
        with opener as url:
            if url is None:
                continue
            try:
                measure(database, url, size_name, repetitions, figures, args.preload_too)
            except PageFailed as error:
                print(f"{database}: FAILED, {error}", file=sys.stderr)
                failed = True
    report(BENCHMARK, figures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
