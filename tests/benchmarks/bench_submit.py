"""Submission throughput: Krachtspiegel's whole respondent flow against two floors.

For each database, one fresh database with an open wave for the app and one for the floors; then,
for 1, 8 and 32 concurrent virtual respondents (``loadgen``), the app under gunicorn (2 workers,
as in the README) and the floor app (``floor_app``, raw Flask + SQL) each take questionnaires for
a fixed time: the one-form floor (the questionnaire as one plain form, 2 requests) and the
same-flow floor (the product's pages request for request, with CSRF tokens and a draft row).
Printed per run: completed questionnaires and requests per second, latency p50/p95/p99 of single
requests, errors, server CPU ms per questionnaire (app processes; the database server's share
apart), and the app's rate as a ratio of each floor's, per completed questionnaire and per
request. Afterwards the responses stored must equal the completed questionnaires.

    python -m tests.benchmarks.bench_submit [--quick] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Response, Unit, UnitKind, Wave, WaveStatus, WaveTeam
from tests.benchmarks import loadgen
from tests.benchmarks.generate import prepare_database
from tests.benchmarks.harness import (
    DATABASES,
    Figure,
    bench_app,
    postgresql_database,
    report,
    sqlite_database,
)

SECRET = "benchmark-only-secret"
TEAMS = 8


@dataclass(frozen=True)
class Plan:
    concurrency: tuple[int, ...]
    seconds: float
    warm_up: int


FULL = Plan(concurrency=(1, 8, 32), seconds=10, warm_up=16)
QUICK = Plan(concurrency=(1, 8), seconds=6, warm_up=8)


@dataclass(frozen=True)
class Prepared:
    app_wave: int
    floor_wave: int
    app_links: list[str]
    floor_links: list[str]
    same_flow_links: list[str]


def prepare(url: str, instance: str) -> Prepared:
    """Migrate, load the team instrument and open two waves (the app's, the floor's) for
    ``TEAMS`` teams of one organisation."""
    app = bench_app(url, instance)
    with app.app_context():
        version = prepare_database()
        organisation = Unit(name="Benchmarkzorg", slug="benchmarkzorg", kind=UnitKind.ORGANISATION)
        teams = [
            Unit(name=f"Team {n}", slug=f"team-{n}", kind=UnitKind.TEAM, parent=organisation)
            for n in range(1, TEAMS + 1)
        ]
        db.session.add_all([organisation, *teams])
        today = date.today()
        waves = []
        for name in ("Doorvoer app", "Doorvoer vloer"):
            wave = Wave(
                questionnaire_version=version,
                name=name,
                opens_on=today - timedelta(days=1),
                closes_on=today + timedelta(days=30),
                status=WaveStatus.OPEN,
                units=[organisation],
            )
            wave.teams = [WaveTeam(unit=team, invited=5000) for team in teams]
            db.session.add(wave)
            waves.append(wave)
        db.session.commit()
        prepared = Prepared(
            app_wave=waves[0].id,
            floor_wave=waves[1].id,
            app_links=[f"/t/{team.link_slug}" for team in waves[0].teams],
            floor_links=[f"/floor/{team.link_slug}" for team in waves[1].teams],
            same_flow_links=[f"/t/{team.link_slug}" for team in waves[1].teams],
        )
        db.session.close()  # its connection back to the pool before the pool is closed
        db.engine.dispose()
    return prepared


def stored_responses(url: str, wave_id: int) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(
                sa.select(sa.func.count()).select_from(Response).where(Response.wave_id == wave_id)
            )
    finally:
        engine.dispose()


def database_meter(database: str) -> loadgen.CpuMeter:
    return loadgen.CpuMeter(loadgen.postgres_backends if database == "postgresql" else list)


def measure(
    server: loadgen.Server,
    links: list[str],
    flow,
    plan: Plan,
    concurrency: int,
    database: str,
) -> tuple[loadgen.LoadResult, loadgen.LoadResult]:
    """A warm-up (every worker imports, connects, fills its caches), then the timed run.
    Returns both."""
    warm_up = loadgen.run_load(
        server.port, links, concurrency=concurrency, flow=flow, questionnaires=plan.warm_up
    )
    meters = (loadgen.CpuMeter(server.processes), database_meter(database))
    timed = loadgen.run_load(
        server.port,
        links,
        concurrency=concurrency,
        flow=flow,
        seconds=plan.seconds,
        meters=meters,
    )
    return warm_up, timed


#: The floors, as named in the figures: the one-form floor and the same-flow floor.
ONE_FORM, SAME_FLOW = "floor", "same-flow floor"


def ratio_figures(
    result: loadgen.LoadResult, database: str, floors: dict[str, loadgen.LoadResult]
) -> list[Figure]:
    """The app's rate as a share of each floor's: per completed questionnaire and per request."""
    size = f"{result.concurrency} concurrent"
    made = []
    for who, floor in floors.items():
        for per, ours, theirs in (
            ("questionnaire", result.per_second, floor.per_second),
            ("request", result.requests_per_second, floor.requests_per_second),
        ):
            ratio = ours / theirs if theirs else float("nan")
            made.append(Figure(f"Krachtspiegel ÷ {who}: per {per}", "ratio", size, database, ratio))
    return made


def figures_of(
    result: loadgen.LoadResult, who: str, database: str, floor: loadgen.LoadResult | None
) -> list[Figure]:
    size = f"{result.concurrency} concurrent"
    ratio = result.per_second / floor.per_second if floor and floor.per_second else None
    made = [
        Figure(f"{who}: questionnaires/s", "1/s", size, database, result.per_second, ratio),
        Figure(f"{who}: requests/s", "1/s", size, database, result.requests_per_second),
        Figure(
            f"{who}: requests per questionnaire",
            "count",
            size,
            database,
            len(result.latencies) / result.completed if result.completed else float("nan"),
        ),
        Figure(f"{who}: request p50", "ms", size, database, result.percentile_ms(50)),
        Figure(f"{who}: request p95", "ms", size, database, result.percentile_ms(95)),
        Figure(f"{who}: request p99", "ms", size, database, result.percentile_ms(99)),
        Figure(
            f"{who}: server CPU per questionnaire",
            "ms",
            size,
            database,
            result.cpu_ms_per_questionnaire(result.server_cpu_seconds),
        ),
        Figure(f"{who}: errors", "count", size, database, sum(result.failures.values())),
        Figure(f"{who}: 5xx responses", "count", size, database, result.server_errors),
    ]
    if database == "postgresql":
        made.append(
            Figure(
                f"{who}: database CPU per questionnaire",
                "ms",
                size,
                database,
                result.cpu_ms_per_questionnaire(result.database_cpu_seconds),
            )
        )
    return made


def measure_floors(
    database: str, concurrency: int, env: dict[str, str], prepared: Prepared, plan: Plan, folder
) -> tuple[dict[str, loadgen.LoadResult], int]:
    """Both floors at ``concurrency`` (one server): their timed results, and every
    questionnaire they completed (warm-ups too)."""
    results, completed = {}, 0
    with loadgen.gunicorn("tests.benchmarks.floor_app:app", env, folder / "floor.log") as server:
        for who, links, flow in (
            (ONE_FORM, prepared.floor_links, loadgen.fill_in_floor),
            (SAME_FLOW, prepared.same_flow_links, loadgen.fill_in_questionnaire),
        ):
            print(f"{database}, {concurrency} concurrent: the {who} …", file=sys.stderr)
            warm_up, timed = measure(server, links, flow, plan, concurrency, database)
            results[who] = timed
            completed += warm_up.completed + timed.completed
            for name, result in ((who, timed), (f"{who} warm-up", warm_up)):
                if result.failures:
                    print(f"{name}: failures {dict(result.failures)}", file=sys.stderr)
    return results, completed


def run(database: str, url: str, plan: Plan, folder: Path) -> list[Figure]:
    prepared = prepare(url, str(folder / "instance"))
    app_env = {
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "RATELIMIT_ENABLED": "false",
    }
    floor_env = {"FLOOR_DATABASE_URL": url, "FLOOR_WAVE_ID": str(prepared.floor_wave)}
    figures: list[Figure] = []
    completed = {"app": 0, "floor": 0}
    for concurrency in plan.concurrency:
        floors, floor_completed = measure_floors(
            database, concurrency, floor_env, prepared, plan, folder
        )
        completed["floor"] += floor_completed
        print(f"{database}, {concurrency} concurrent: Krachtspiegel …", file=sys.stderr)
        with loadgen.gunicorn("wsgi:app", app_env, folder / "app.log") as server:
            warm_up, ours = measure(
                server,
                prepared.app_links,
                loadgen.fill_in_questionnaire,
                plan,
                concurrency,
                database,
            )
            rss = max(loadgen.peak_rss_mb(pid) for pid in server.workers())
        completed["app"] += ours.completed + warm_up.completed
        for who, floor in floors.items():
            figures += figures_of(floor, who, database, None)
        figures += figures_of(ours, "Krachtspiegel", database, floors[ONE_FORM])
        figures += ratio_figures(ours, database, floors)
        figures.append(
            Figure(
                "Krachtspiegel: peak RSS of a worker",
                "MB",
                f"{concurrency} concurrent",
                database,
                rss,
            )
        )
        for who, result in (("Krachtspiegel", ours), ("Krachtspiegel warm-up", warm_up)):
            if result.failures:
                print(f"{who}: failures {dict(result.failures)}", file=sys.stderr)
    for who, wave in (("app", prepared.app_wave), ("floor", prepared.floor_wave)):
        stored = stored_responses(url, wave)
        verdict = "equal" if stored == completed[who] else "DIFFERENT"
        print(
            f"{database}, {who}: {stored} responses stored, {completed[who]} completed: {verdict}",
            file=sys.stderr,
        )
        figures.append(
            Figure(
                f"{who}: stored minus completed",
                "count",
                "all runs",
                database,
                stored - completed[who],
            )
        )
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter runs")
    parser.add_argument("--database", choices=DATABASES, action="append")
    arguments = parser.parse_args(argv)
    plan = QUICK if arguments.quick else FULL
    figures: list[Figure] = []
    for database in arguments.database or DATABASES:
        with tempfile.TemporaryDirectory(prefix="krachtspiegel-submit-") as folder:
            if database == "sqlite":
                with sqlite_database() as url:
                    figures += run(database, url, plan, Path(folder))
            else:
                with postgresql_database("krachtspiegel_bench_submit") as url:
                    if url:
                        figures += run(database, url, plan, Path(folder))
    report("submission", figures)


if __name__ == "__main__":
    main()
