"""How fast a manager's team page opens: ``GET /dashboard/waves/<wave>/teams/<team>``.

The case of issue 5: a team with 5 waves of 20 responses each, in an organisation of 20 teams
(two departments of ten). The manager of the team's department logs in with the Flask test
client; the page of the latest wave is requested once cold, then after warm-up requests a number
of times more, each timed with ``time.perf_counter()`` and its SQL statements counted.

    python -m tests.benchmarks.bench_dashboard [--quick] [--database sqlite|postgresql|both]
                                               [--large-units]

Each ended wave's team figures are counted and kept once, as closing the wave does
(``survey.services.team_figures``); the time that takes is printed as a figure of its own.

With ``--large-units`` (issue 19): instead, one team holding 2,000 and then 20,000 responses
in each of two ended waves (``--quick``: 2,000 only), its results page and its department's page,
each in a fresh database. The team page is timed twice: as served (reading the kept figures)
and with the kept figures deleted before every request, so that every request counts the answers
in SQL afresh (as on the day a wave ends by date, before the daily run counts it).

Figures are printed as a table and merged into ``tests/benchmarks/results/latest.json``.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile

import sqlalchemy as sa
from flask import Flask

from survey import settle_for_serving
from survey.extensions import db
from survey.models import StoredTeamFigures
from tests.benchmarks.generate import Generated, Size, generate, prepare_database
from tests.benchmarks.harness import (
    DATABASES,
    FULL,
    QUICK,
    Figure,
    PageFailed,
    Repetitions,
    StatementCounter,
    Timings,
    bench_app,
    page_figures,
    postgresql_database,
    report,
    sqlite_database,
    time_page,
)
from tests.conftest import login

BENCHMARK = "dashboard"
CASE = Size(teams=20, waves=5, responses_per_team=20)
CASE_LABEL = "issue-5: 20 teams × 5 waves × 20 responses"
DEPARTMENT_PAGE = "/dashboard/departments/bench-department-01"
POSTGRES_DATABASE = "krachtspiegel_bench"
#: Responses of the one team in each wave, for --large-units (--quick: the first only).
LARGE_UNITS = (2_000, 20_000)


def measure(
    database: str,
    url: str,
    repetitions: Repetitions,
    figures: list[Figure],
    case: Size = CASE,
    label: str = CASE_LABEL,
) -> None:
    """Generate the case in ``url`` and time the team page, appending to ``figures`` as it goes
    (so the generation figures are kept when the page fails)."""

    def figure(name: str, unit: str, value: float) -> None:
        figures.append(Figure(name, unit, label, database, round(value, 2)))

    with tempfile.TemporaryDirectory(prefix="krachtspiegel-bench-instance-") as instance:
        app = bench_app(url, instance)
        with app.app_context():
            print(f"{database}: migrating and loading the team instrument ...", file=sys.stderr)
            prepare_database()
            print(f"{database}: generating {case} ...", file=sys.stderr)
            generated = generate(case, keep_figures=2)
            engine = db.engine
        figure("generate", "s", generated.seconds)
        figure(
            "count and keep the figures (once, at the wave's end)", "s", generated.figures_seconds
        )
        figure("generated answers", "rows", generated.answers)
        try:
            timings = time_team_page(app, engine, database, generated, repetitions)
            if case is not CASE:
                for name, page in large_unit_pages(app, engine, database, generated, repetitions):
                    for figure_name, unit, value in page_figures(page, name):
                        figure(figure_name, unit, value)
        finally:
            engine.dispose()
    for name, unit, value in page_figures(timings, "team page"):
        figure(name, unit, value)
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
    timings = time_page(client, page, counter, repetitions, database)
    shown = f"{generated.size.responses_per_team:,} antwoorden".replace(",", ".")
    if shown not in timings.first.page and shown.replace(".", "") not in timings.first.page:
        print(
            f"{database}: WARNING, the page does not say '{shown}': are the results shown?",
            file=sys.stderr,
        )
    return timings


def large_unit_pages(
    app: Flask, engine: sa.Engine, database: str, generated: Generated, repetitions: Repetitions
) -> list[tuple[str, Timings]]:
    """The team page without kept figures (deleted for the while, then put back: every request
    counts the answers afresh), and the page of the team's department (pooled from stored scale
    scores)."""
    client = app.test_client()
    login(client, generated.manager_email, generated.manager_password)
    counter = StatementCounter(engine)
    team = f"/dashboard/waves/{generated.latest_wave_id}/teams/{generated.benchmarked_team}"
    department = time_page(client, DEPARTMENT_PAGE, counter, repetitions, database)
    with app.app_context():
        kept = [
            {column: getattr(row, column) for column in KEPT_COLUMNS}
            for row in db.session.scalars(sa.select(StoredTeamFigures))
        ]
        db.session.execute(sa.delete(StoredTeamFigures))
        db.session.commit()
        try:
            # the fallback of a day, not the page as served: fewer requests (it is the slowest)
            uncached = time_page(client, team, counter, QUICK, database)
        finally:
            db.session.execute(sa.insert(StoredTeamFigures), kept)
            db.session.commit()
    return [("team page, counted afresh", uncached), ("department page", department)]


KEPT_COLUMNS = ("wave_id", "unit_id", "responses", "instrument_sha256", "figures")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (1 + 10)")
    parser.add_argument(
        "--database", choices=[*DATABASES, "both"], default="both", help="default: both"
    )
    parser.add_argument(
        "--large-units",
        action="store_true",
        help="one team of 2,000 and of 20,000 responses a wave (--quick: 2,000) instead",
    )
    args = parser.parse_args(argv)
    repetitions = QUICK if args.quick else FULL
    databases = list(DATABASES) if args.database == "both" else [args.database]
    cases = [(CASE, CASE_LABEL)]
    if args.large_units:
        sizes = LARGE_UNITS[:1] if args.quick else LARGE_UNITS
        cases = [(large_unit(size), f"issue-19: one team × 2 waves × {size}") for size in sizes]
    print(
        f"Benchmark {BENCHMARK}: {', '.join(label for _, label in cases)}; 1 first request, "
        f"{repetitions.warm_up} warm-up, {repetitions.timed} timed."
    )
    figures: list[Figure] = []
    failed = False
    for (case, label), database in itertools.product(cases, databases):
        opener = (
            sqlite_database() if database == "sqlite" else postgresql_database(POSTGRES_DATABASE)
        )
        with opener as url:
            if url is None:
                continue
            try:
                measure(database, url, repetitions, figures, case, label)
            except PageFailed as error:
                print(f"{database}: FAILED, {error}", file=sys.stderr)
                failed = True
    report(BENCHMARK, figures)
    return 1 if failed else 0


def large_unit(responses: int) -> Size:
    return Size(teams=1, waves=2, responses_per_team=responses)


if __name__ == "__main__":
    sys.exit(main())
