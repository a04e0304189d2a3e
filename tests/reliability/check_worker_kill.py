"""A gunicorn worker killed (SIGKILL) in the middle of submissions, again and again for
45 s, on SQLite, or on PostgreSQL when TEST_DATABASE_URL is set: all or nothing.

16 respondents fill in questionnaires while ``SubmitKiller`` kills the worker serving one's
submit POST at a random moment of it, each time gunicorn's master has replaced the previous
one. A submission whose connection died may have been stored or not, but never in part: every
stored response holds an answer to every choice item and its scale scores, the responses are
exactly the confirmed submissions plus the lost ones whose draft is gone (so a lost one is
either a response or still a draft, never both), no reply is a 5xx and no respondent fails
for any other reason. Kills that hit no submission prove nothing, so too few fail the test.
Prints the figures (``make bench``); tests/test_load.py has a quick version.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.benchmarks import loadgen
from tests.reliability.under_load import (
    Site,
    SubmitKiller,
    database_of,
    fresh_database,
    kill_figures,
    kill_problems,
    prepare_site,
    serve,
    stored,
)

CONCURRENT = 16
SECONDS = 45
#: Lost submissions the run must see; this machine sees about one every 3 to 4 s (a
#: replacement worker loads the app before the next kill).
AT_LEAST_LANDED = 5


pytestmark = pytest.mark.database  # kept on the PostgreSQL pass (tests/conftest.py)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with fresh_database(tmp_path, "check_worker_kill") as url:
        yield prepare_site(url, tmp_path)


def test_workers_killed_during_submissions_store_all_or_nothing(
    site: Site, capsys: pytest.CaptureFixture
):
    with serve(site, workers=2) as server:
        before = stored(site.url, site.wave_id)
        killer = SubmitKiller(server)
        with killer.running():
            result = loadgen.run_load(
                server.port, site.links, concurrency=CONCURRENT, seconds=SECONDS, flow=killer.flow
            )
    after = stored(site.url, site.wave_id)

    summary = f"worker kills, {database_of(site.url)}: {kill_figures(after, result, killer)}"
    with capsys.disabled():
        print(f"\n{summary}")
    problems = kill_problems(before, after, result, killer)
    if len(killer.lost) < AT_LEAST_LANDED:
        problems.append(f"only {len(killer.lost)} kills hit a submission")
    assert not problems, "\n".join([summary, *problems, f"server log: {site.log}"])
