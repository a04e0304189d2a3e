"""Respondents at once against the real server (gunicorn, 2 workers), briefly: nothing lost,
nothing doubled, nothing half stored, also when a worker is killed in the middle of a
submission. The long versions are tests/reliability/check_load.py and check_worker_kill.py
(``make bench``); what they share is in tests/reliability/under_load.py.

Both tests use one database and one server (starting gunicorn costs seconds); each counts what
its own run added.
"""

from collections.abc import Iterator

import pytest

from tests.benchmarks import loadgen
from tests.reliability.under_load import (
    Site,
    SubmitKiller,
    figures,
    fresh_database,
    kill_figures,
    kill_problems,
    load_problems,
    prepare_site,
    serve,
    stored,
)

# On PostgreSQL too: the database is the module's own (``fresh_database``), not the session's.
pytestmark = pytest.mark.database

CONCURRENT = 8
LOAD_SECONDS = 4.5
#: The kill test stops at the first lost submission (it must see one), within KILL_SECONDS: on
#: an idle machine that takes a few seconds; on a busy one the killer's thread and gunicorn's
#: replacement workers are slow, and a short bound would end the run before any kill.
ENOUGH_KILLS, KILL_SECONDS = 1, 120


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("load")
    with fresh_database(folder, "test_load") as url:
        yield prepare_site(url, folder)


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[loadgen.Server]:
    with serve(site) as server:
        yield server


def test_concurrent_respondents_lose_and_double_nothing(site: Site, server: loadgen.Server):
    before = stored(site.url, site.wave_id)
    result = loadgen.run_load(server.port, site.links, concurrency=CONCURRENT, seconds=LOAD_SECONDS)
    after = stored(site.url, site.wave_id)

    print(figures(result))
    problems = load_problems(before, after, result)
    assert not problems, "\n".join([figures(result), *problems, f"server log: {site.log}"])


def test_worker_killed_mid_submission_stores_all_or_nothing(site: Site, server: loadgen.Server):
    before = stored(site.url, site.wave_id)
    killer = SubmitKiller(server, enough=ENOUGH_KILLS)
    with killer.running():
        result = loadgen.run_load(
            server.port,
            site.links,
            concurrency=CONCURRENT,
            seconds=KILL_SECONDS,
            flow=killer.flow,
            stop=killer.stop,
        )
    after = stored(site.url, site.wave_id)

    print(kill_figures(after, result, killer))
    problems = kill_problems(before, after, result, killer)
    assert not problems, "\n".join(
        [kill_figures(after, result, killer), *problems, f"server log: {site.log}"]
    )
