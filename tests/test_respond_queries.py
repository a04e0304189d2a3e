"""What a respondent's requests ask of the database: a page view reads its draft and the
settings in one query, outside a transaction, and writes nothing; a page's answers are that
query and one update."""

import pytest

from survey.extensions import db
from survey.services.settings import save_settings
from tests.conftest import csrf_token
from tests.test_demo import statements_sent
from tests.test_respond import STEP_1, STEP_2, start


@pytest.fixture
def link(tree, make_wave):
    return f"/t/{make_wave([tree['team-a']]).teams[0].link_slug}"


def reads(statements: list[str]) -> bool:
    return all(statement.lstrip().upper().startswith("SELECT") for statement in statements)


def test_page_views_read_in_one_query_and_write_nothing(client, link):
    assert client.get(link).status_code == 200  # the questionnaire parsed, once per process
    with statements_sent() as landing:
        assert client.get(link).status_code == 200
    assert reads(landing) and len(landing) == 2  # the wave team with the settings, the count
    assert start(client, link) == "/respond/1"
    for number, answers in ((1, STEP_1), (2, STEP_2)):
        with statements_sent() as view:
            token = csrf_token(client, f"/respond/{number}")
        assert reads(view) and len(view) == 1
        with statements_sent() as saving:
            form = {"csrf_token": token, "action": "next", **answers}
            assert client.post(f"/respond/{number}", data=form).status_code == 302
        assert len(saving) == 2 and reads(saving[:1]) and saving[1].startswith("UPDATE drafts")
    with statements_sent() as review:
        token = csrf_token(client, "/respond/review")
    assert reads(review) and len(review) == 1
    assert client.post("/respond/submit", data={"csrf_token": token}).status_code == 302
    with statements_sent() as thanks:
        assert client.get("/respond/thanks").status_code == 200
    assert reads(thanks) and len(thanks) == 1
    with statements_sent() as landing_again:
        assert client.get(link).status_code == 200
    assert reads(landing_again)


def test_the_settings_come_with_the_draft_and_follow_a_change_at_the_next_page(client, link):
    """A respondent's page reads the settings in its draft's query, afresh each request: the
    defaults while none are saved, a saved change from the next page on."""
    assert start(client, link) == "/respond/1"
    for path in ("/respond/1", "/respond/review"):
        assert 'hreflang="en"' in client.get(path).get_data(as_text=True)  # both languages
    save_settings({"languages": ("nl",)}, None)
    db.session.commit()
    for path in ("/respond/1", "/respond/review", link):
        page = client.get(path).get_data(as_text=True)
        assert '<html lang="nl">' in page and 'hreflang="en"' not in page
