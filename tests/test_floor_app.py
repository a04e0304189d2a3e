"""The benchmark's floor app (tests/benchmarks/floor_app.py) walks what it claims to: the
same-flow floor takes the product's 23 requests, refuses a POST without its CSRF token, keeps a
draft row per page and stores the response, answers and scale scores once; the one-form floor
stores the same rows in 2 requests. On SQLite (the floor reads its database URL at import)."""

from __future__ import annotations

import importlib
import random
import sqlite3
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.benchmarks import loadgen
from tests.benchmarks.bench_submit import Prepared, prepare
from tests.benchmarks.profile_submit import TestClientBrowser as InProcessBrowser


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ModuleType, Prepared]]:
    folder = tmp_path_factory.mktemp("floor")
    url = f"sqlite:///{folder}/floor.sqlite"
    prepared = prepare(url, str(folder / "instance"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLOOR_DATABASE_URL", url)
        patch.setenv("FLOOR_WAVE_ID", str(prepared.floor_wave))
        sys.modules.pop("tests.benchmarks.floor_app", None)  # it reads the two at import
        module = importlib.import_module("tests.benchmarks.floor_app")
    yield module, prepared
    if getattr(module._local, "connection", None) is not None:
        module._local.connection.close()


def _count(module: ModuleType, sql: str) -> int:
    path = module.DATABASE_URL.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        count = connection.execute(sql, (module.WAVE_ID,)).fetchone()[0]
    connection.close()
    return count


def test_the_same_flow_floor_takes_the_products_requests(floor):
    module, prepared = floor
    browser = InProcessBrowser(port=0, client=module.app.test_client())
    sent = loadgen.fill_in_questionnaire(browser, prepared.same_flow_links[0], random.Random(3))
    assert sent > 0
    assert (
        sum(browser.statuses.values()) == 23
    )  # landing, start, 9 × 2 pages, review, submit, thanks
    assert set(browser.statuses) == {200, 302}
    assert _count(module, "SELECT count(*) FROM responses WHERE wave_id = ?") == 1
    assert _count(module, "SELECT count(*) FROM drafts WHERE wave_id = ?") == 0
    answers = (
        "SELECT count(*) FROM answers JOIN responses r ON r.id = response_id WHERE wave_id = ?"
    )
    assert _count(module, answers) >= len(module.PAGES)
    scores = "SELECT count(*) FROM scale_scores JOIN responses r ON r.id = response_id"
    assert _count(module, scores + " WHERE wave_id = ?") > 0


def test_the_same_flow_floor_refuses_a_post_without_its_csrf_token(floor):
    module, prepared = floor
    client = module.app.test_client()
    assert client.post(prepared.same_flow_links[0], data={}).status_code == 400
    client.get(prepared.same_flow_links[0])
    assert client.post(prepared.same_flow_links[0], data={"csrf_token": "x"}).status_code == 400


def test_the_one_form_floor_stores_a_questionnaire_in_two_requests(floor):
    module, prepared = floor
    before = _count(module, "SELECT count(*) FROM responses WHERE wave_id = ?")
    browser = InProcessBrowser(port=0, client=module.app.test_client())
    loadgen.fill_in_floor(browser, prepared.floor_links[0], random.Random(4))
    assert sum(browser.statuses.values()) == 2
    assert _count(module, "SELECT count(*) FROM responses WHERE wave_id = ?") == before + 1
