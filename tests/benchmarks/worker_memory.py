"""A gunicorn worker's memory by the pages it has served (issue 19: a lean worker).

One gunicorn worker (as in production, ``wsgi:app``) serves, in this order:

1. respondents only: three whole questionnaires through a team link of an open wave (landing,
   every page, review, submit, thanks);
2. then a manager: the team dashboard;
3. then the quality officer: the heatmap, its change view, the organisation trend.

After each role its memory is read from ``/proc/<worker>/status``: ``VmRSS`` (resident now) and
``VmHWM`` (the most it has been resident). Targets: under 150 MB after respondents only, under
250 MB after the quality pages. The respondent pages load no statistics library
(``reports/deferred.py``), so the first figure is the app itself; the manager and quality pages
load pandas and ``scipy.special`` when they first compute.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from survey.extensions import db
from survey.models import Unit, UnitKind, Wave, WaveStatus, WaveTeam
from tests.benchmarks import loadgen
from tests.benchmarks.generate import Generated, team_instrument_version
from tests.benchmarks.harness import PageFailed, bench_app

#: Whole questionnaires the worker serves before its respondent-only memory is read.
QUESTIONNAIRES = 3
#: Requests per page and role.
VISITS = 6
TARGETS_MB = {"respondents": 150, "quality": 250}


def open_respondent_wave(url: str, instance: str, slug: str) -> str:
    """An open wave for one team of an organisation of its own (so the generated waves, which
    the other pages show, are untouched); its team link."""
    app = bench_app(url, instance)
    with app.app_context():
        organisation = Unit(name=slug, slug=f"{slug}-zorg", kind=UnitKind.ORGANISATION)
        team = Unit(name=f"{slug} team", slug=f"{slug}-team", kind=UnitKind.TEAM)
        team.parent = organisation
        today = date.today()
        wave = Wave(
            questionnaire_version=team_instrument_version(),
            name="Geheugen",
            opens_on=today - timedelta(days=1),
            closes_on=today + timedelta(days=30),
            status=WaveStatus.OPEN,
            units=[organisation],
        )
        wave.teams = [WaveTeam(unit=team, invited=100)]
        db.session.add_all([organisation, team, wave])
        db.session.commit()
        link = f"/t/{wave.teams[0].link_slug}"
        db.session.close()
        db.engine.dispose()
    return link


def memory_mb(pid: int) -> dict[str, float]:
    """A process's ``VmRSS``, ``VmHWM`` (``/proc/<pid>/status``) and ``Pss`` (its share of the
    pages it shares with other processes, ``/proc/<pid>/smaps_rollup``), in MB."""
    fields = {}
    for file in ("status", "smaps_rollup"):
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM", "Pss"):
                fields[name] = int(value.split()[0]) / 1024
    return fields


def logged_in(port: int, email: str, password: str) -> loadgen.Browser:
    browser = loadgen.Browser(port, timeout=120)
    _, _, page = browser.request("GET", "/login")
    form = [("csrf_token", loadgen.csrf_of(page)), ("email", email), ("password", password)]
    status, _, _ = browser.request("POST", "/login", form)
    if status != 302:
        raise PageFailed(f"{email} could not log in over HTTP ({status})")
    return browser


def visit(browser: loadgen.Browser, path: str) -> float:
    """The median milliseconds of ``VISITS`` requests of one page."""
    times = []
    for _ in range(VISITS):
        started = time.perf_counter()
        status, _, _ = browser.request("GET", path)
        times.append(1000 * (time.perf_counter() - started))
        if status != 200:
            raise PageFailed(f"GET {path} from gunicorn answered {status}")
    return statistics.median(times)


def measure_worker_memory(
    url: str,
    generated: Generated,
    pages: list[tuple[str, str]],
    folder: Path,
    figure: Callable[[str, str, float], None],
    *,
    preload: bool = False,
) -> None:
    """``pages``: the quality officer's (name, path). Figures: each role's RSS and peak RSS,
    and each page's median time over HTTP. ``preload``: gunicorn's ``--preload`` (the master
    imports the app and the worker is forked from it), its figures named "(preload)"."""
    link = open_respondent_wave(url, str(folder), "geheugen-preload" if preload else "geheugen")
    extra, suffix = (("--preload",), " (preload)") if preload else ((), "")
    environment = {"DATABASE_URL": url, "SECRET_KEY": "benchmark", "RATELIMIT_ENABLED": "false"}
    team_page = f"/dashboard/waves/{generated.latest_wave_id}/teams/{generated.benchmarked_team}"
    print("gunicorn: one worker, respondents, then a manager, then quality ...", file=sys.stderr)
    log = folder / "gunicorn.log"
    with loadgen.gunicorn("wsgi:app", environment, log, workers=1, extra=extra) as server:
        (worker,) = server.workers()

        def after(role: str) -> None:
            memory = memory_mb(worker)
            target = TARGETS_MB.get(role)
            aim = f" (target < {target} MB)" if target else ""
            print(
                f"gunicorn worker{suffix} after {role}: RSS {memory['VmRSS']:.0f} MB, peak "
                f"{memory['VmHWM']:.0f} MB{aim}, PSS {memory['Pss']:.0f} MB"
            )
            figure(f"worker RSS after {role}{suffix}", "MB", memory["VmRSS"])
            figure(f"worker peak RSS after {role}{suffix}", "MB", memory["VmHWM"])
            figure(f"worker PSS after {role}{suffix}", "MB", memory["Pss"])

        rng = random.Random(19)
        for _ in range(QUESTIONNAIRES):
            browser = loadgen.Browser(server.port, timeout=120)
            try:
                loadgen.fill_in_questionnaire(browser, link, rng)
            except loadgen.FlowError as error:
                raise PageFailed(f"a respondent through {link} failed: {error}") from error
            finally:
                browser.close()
        after("respondents")
        browser = logged_in(server.port, generated.manager_email, generated.manager_password)
        figure(f"team dashboard (manager) over HTTP p50{suffix}", "ms", visit(browser, team_page))
        browser.close()
        after("manager pages")
        browser = logged_in(server.port, generated.quality_email, generated.manager_password)
        for name, path in pages:
            figure(f"{name} over HTTP p50{suffix}", "ms", visit(browser, path))
        browser.close()
        after("quality")
        if not preload:
            peak = memory_mb(worker)["VmHWM"]
            figure("gunicorn worker peak RSS (after these pages)", "MB", peak)
