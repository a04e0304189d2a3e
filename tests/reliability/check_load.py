"""Load: 32 respondents at once for 45 s against gunicorn with 2 workers, on SQLite, or on
PostgreSQL when TEST_DATABASE_URL is set. Nothing may fail: no 5xx, no respondent whose flow
broke, every completed questionnaire stored exactly once with all its answers and scale scores,
no draft left behind. Prints the figures (``make bench``); tests/test_load.py is the quick
version in ``make test``."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.benchmarks import loadgen
from tests.reliability.under_load import (
    Site,
    database_of,
    figures,
    fresh_database,
    load_problems,
    prepare_site,
    serve,
    stored,
)

CONCURRENT = 32
SECONDS = 45


pytestmark = pytest.mark.database  # kept on the PostgreSQL pass (tests/conftest.py)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with fresh_database(tmp_path, "check_load") as url:
        yield prepare_site(url, tmp_path)


def test_32_respondents_for_a_minute_lose_and_double_nothing(
    site: Site, capsys: pytest.CaptureFixture
):
    with serve(site, workers=2) as server:
        before = stored(site.url, site.wave_id)
        result = loadgen.run_load(server.port, site.links, concurrency=CONCURRENT, seconds=SECONDS)
    after = stored(site.url, site.wave_id)

    summary = f"load, {database_of(site.url)}: {figures(result)}"
    with capsys.disabled():
        print(f"\n{summary}")
    problems = load_problems(before, after, result)
    assert not problems, "\n".join([summary, *problems, f"server log: {site.log}"])
