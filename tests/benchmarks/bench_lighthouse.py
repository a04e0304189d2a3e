"""Lighthouse's mobile performance score of the pages with charts on the first screen.

    python -m tests.benchmarks.bench_lighthouse [--runs N] [--quick]

Builds the demo organisation (seed 11) in a fresh SQLite file, serves it with gunicorn as in
production, logs in as the quality officer, Team Anker's manager and Jeugdhulp's manager, and
runs Lighthouse 12 (npm; its default: a mid-range phone on a slow 4G line, simulated) on the
quality trend pages, the team pages and the managers' trend and department pages (their small
multiples are drawn on the server, no plotly), each page ``--runs`` times (the median is
printed; the score moves by a few points between runs on a busy machine). Lighthouse never
scrolls, so the charts it sees are the ones on the first screen. Skipped with a message, exit
status 0, when Lighthouse or Debian's Chromium is missing: ``npm install lighthouse@12`` in the
checkout (node_modules/ is not committed) or put ``lighthouse`` on the PATH, or name it in
``LIGHTHOUSE``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Wave, WaveStatus
from survey.services.demo import DEMO_DOMAIN, DEMO_PASSWORD
from tests.benchmarks import loadgen
from tests.benchmarks.harness import Figure, bench_app, report
from tests.conftest import migrate_to_head

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking"
    " --disable-component-update --disable-sync --no-first-run"
)
#: Runs of Lighthouse on one page before the benchmark gives up on it.
ATTEMPTS = 3
#: Lighthouse's audits printed beside the score, in milliseconds (CLS has no unit).
AUDITS = {
    "first-contentful-paint": "FCP ms",
    "largest-contentful-paint": "LCP ms",
    "total-blocking-time": "TBT ms",
    "cumulative-layout-shift": "CLS",
    "mainthread-work-breakdown": "main thread ms",
}


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    account: str | None  # who is logged in; None: the team's own link, no log-in


def lighthouse_command() -> list[str] | None:
    for candidate in (os.environ.get("LIGHTHOUSE"), ROOT / "node_modules" / ".bin" / "lighthouse"):
        if candidate and Path(candidate).is_file():
            return [str(candidate)]
    found = shutil.which("lighthouse")
    return [found] if found else None


def build_demo(url: str, instance: str) -> list[Page]:
    """The demo organisation in ``url``; the pages to measure."""
    migrate_to_head(url)
    app = bench_app(url, instance)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo", "--seed", "11"])
        if result.exit_code != 0:
            raise RuntimeError(result.output)
        wave = db.session.scalar(
            sa.select(Wave).where(Wave.status == WaveStatus.CLOSED).order_by(Wave.opens_on.desc())
        )
        anker = next(team for team in wave.teams if team.unit.slug == "team-anker")
        pages = [
            Page("quality trend, Team Anker", "/quality/units/team-anker", "kwaliteit"),
            Page("quality trend, organisation", "/quality/units/huis-van-kracht", "kwaliteit"),
            Page("team page (manager)", f"/dashboard/waves/{wave.id}/teams/team-anker",
                 "leiding.anker"),
            Page("team's own results link", f"/team/{anker.results_slug}", None),
            Page("manager's trend, Team Kompas", "/dashboard/units/team-kompas/trend",
                 "leiding.jeugdhulp"),
            Page("department, Jeugdhulp", "/dashboard/departments/jeugdhulp", "leiding.jeugdhulp"),
        ]  # fmt: skip
        db.session.remove()
        db.engine.dispose()
    return pages


def session_cookie(port: int, account: str) -> str:
    browser = loadgen.Browser(port, timeout=60)
    try:
        _, _, page = browser.request("GET", "/login")
        form = [("csrf_token", loadgen.csrf_of(page)), ("email", f"{account}@{DEMO_DOMAIN}")]
        status, _, _ = browser.request("POST", "/login", [*form, ("password", DEMO_PASSWORD)])
        if status != 302:
            raise RuntimeError(f"{account} could not log in ({status})")
        return "; ".join(f"{key}={value}" for key, value in browser.cookies.items())
    finally:
        browser.close()


def run_lighthouse(command: list[str], url: str, cookie: str | None, output: Path) -> dict:
    headers = json.dumps({"Cookie": cookie, "Accept-Language": "nl"} if cookie else {})
    for attempt in range(1, ATTEMPTS + 1):
        finished = subprocess.run(  # noqa: S603 (the benchmark's own command line)
            [*command, url, "--only-categories=performance", "--output=json", "--quiet",
             f"--output-path={output}", f"--chrome-flags={CHROME_FLAGS}",
             f"--extra-headers={headers}"],
            env={**os.environ, "CHROME_PATH": str(CHROMIUM)},
            timeout=300,
        )  # fmt: skip
        if finished.returncode == 0:
            break
        # Lighthouse 12 now and then fails to record the trace (NO_NAVSTART): measure again.
        print(f"{url}: Lighthouse failed (attempt {attempt} of {ATTEMPTS})", file=sys.stderr)
    else:
        raise RuntimeError(f"Lighthouse failed {ATTEMPTS} times on {url}")
    result = json.loads(output.read_text())
    figures = {"score": 100 * result["categories"]["performance"]["score"]}
    for audit, label in AUDITS.items():
        figures[label] = result["audits"][audit]["numericValue"]
    return figures


def measure(pages: list[Page], port: int, command: list[str], runs: int, folder: Path):
    cookies = {account: session_cookie(port, account) for account in {p.account for p in pages}
               if account}  # fmt: skip
    figures = []
    for page in pages:
        samples = [
            run_lighthouse(
                command,
                f"http://127.0.0.1:{port}{page.path}",
                cookies.get(page.account),
                folder / "report.json",
            )
            for _ in range(runs)
        ]
        print(f"{page.name}: scores {[round(s['score']) for s in samples]}", file=sys.stderr)
        for label in ["score", *AUDITS.values()]:
            value = statistics.median(sample[label] for sample in samples)
            unit = "points" if label == "score" else ("" if label == "CLS" else "ms")
            figures.append(Figure(f"{page.name}: {label}", unit, "demo", "sqlite", round(value, 3)))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page (median)")
    parser.add_argument("--quick", action="store_true", help="one run per page")
    arguments = parser.parse_args(argv)
    command = lighthouse_command()
    if command is None or not CHROMIUM.exists():
        missing = "Lighthouse (npm install lighthouse@12)" if command is None else CHROMIUM
        print(f"Lighthouse benchmark: SKIPPED, {missing} is missing.")
        return 0
    with tempfile.TemporaryDirectory(prefix="krachtspiegel-lighthouse-") as folder:
        url = f"sqlite:///{folder}/demo.sqlite"
        pages = build_demo(url, folder)
        environment = {"DATABASE_URL": url, "SECRET_KEY": "benchmark", "RATELIMIT_ENABLED": "false"}
        with loadgen.gunicorn("wsgi:app", environment, Path(folder) / "gunicorn.log") as server:
            runs = 1 if arguments.quick else arguments.runs
            figures = measure(pages, server.port, command, runs, Path(folder))
    report("lighthouse", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
