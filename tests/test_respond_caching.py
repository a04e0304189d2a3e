"""What the respondent's pages keep between requests (parsed instruments, form classes, the
items of a page as first shown) never carries one respondent's answers, language or left-out
life domains into another's page."""

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

import questionnaires
from survey.extensions import db
from survey.models import QuestionnaireVersion, Wave, WaveStatus, WaveTeam
from survey.services.questionnaires import instrument_of_version, store_instrument
from survey.services.settings import save_settings
from tests.test_respond import STEP_1, post_step, start

CHECKED = re.compile(r'name="(item-[^"]+)"[^>]*value="([^"]+)"[^>]*\bchecked\b')


@pytest.fixture
def wave(tree, make_wave):
    return make_wave([tree["team-a"]])


@pytest.fixture
def link(wave):
    return f"/t/{wave.teams[0].link_slug}"


def checked(page: str) -> dict[str, str]:
    return dict(CHECKED.findall(page))


def test_a_page_seen_again_shows_its_own_answers_and_a_colleagues_first_view_none(app, link):
    first, second = app.test_client(), app.test_client()
    assert start(first, link) == "/respond/1"
    assert start(second, link) == "/respond/1"
    fresh = first.get("/respond/1").get_data(as_text=True)
    assert checked(fresh) == {}

    post_step(first, 1, STEP_1, action="pause")  # saved without moving on
    assert start(first, link) == "/respond/1"  # a new draft for the first browser
    third = app.test_client()
    assert start(third, link) == "/respond/1"
    # The second browser's draft now has answers of its own; the third's has none.
    post_step(second, 1, {**STEP_1, "item-A1-1": "2"}, action="review")
    again = second.get("/respond/1").get_data(as_text=True)
    assert checked(again) == {
        "item-A1-1": "2",
        "item-A1-2": "5",
        "item-A1-3": "dk",
        "item-C1-1": "3",
    }
    assert checked(third.get("/respond/1").get_data(as_text=True)) == {}
    # The kept page still takes answers and shows errors of its own.
    reply = post_step(third, 1, {"item-A1-1": "4"})
    assert reply.status_code == 200
    assert 'class="error-summary' in reply.get_data(as_text=True)
    assert checked(reply.get_data(as_text=True)) == {"item-A1-1": "4"}


def test_a_first_view_is_in_the_respondents_own_language(app, link):
    dutch, english = app.test_client(), app.test_client()
    english.get("/language/en")
    start(dutch, link)
    start(english, link)
    page_nl = dutch.get("/respond/1").get_data(as_text=True)
    page_en = english.get("/respond/1").get_data(as_text=True)
    assert "Wij vragen cliënten wat er goed gaat" in page_nl
    assert "We ask clients what is going well" in page_en
    assert "Wij vragen cliënten" not in page_en


def test_a_first_view_follows_the_life_domains_the_organisation_asks(client, tree):
    path = Path(questionnaires.__file__).parent / "krachtspiegel-team-1.yaml"
    version = store_instrument(questionnaires.load_file(path), path.name).version
    today = date.today()
    wave = Wave(
        questionnaire_version=version,
        name="Domeinen",
        opens_on=today - timedelta(days=1),
        closes_on=today + timedelta(days=7),
        status=WaveStatus.OPEN,
        units=[tree["team-a"]],
    )
    wave.teams = [WaveTeam(unit=tree["team-a"], invited=10)]
    db.session.add(wave)
    db.session.commit()
    start(client, f"/t/{wave.teams[0].link_slug}")
    page_c2 = 7  # section C, part 2 of 2, holds the life domains (group C2, 9 items)
    assert 'name="item-C2-3"' in client.get(f"/respond/{page_c2}").get_data(as_text=True)
    save_settings({"life_domains": ("C2.1", "C2.2")}, None)
    db.session.commit()
    # With two domains asked, section C (6 + 2 + 3 items) fits on one page: page 6.
    page = client.get("/respond/6").get_data(as_text=True)
    assert 'name="item-C2-1"' in page and 'name="item-C2-2"' in page
    assert 'name="item-C1-1"' in page and "deel 1 van" not in page
    assert 'name="item-C2-3"' not in page
    save_settings({"life_domains": None}, None)
    db.session.commit()
    assert 'name="item-C2-3"' in client.get(f"/respond/{page_c2}").get_data(as_text=True)


def test_a_version_is_parsed_once_and_a_reused_id_with_other_content_is_not_mixed_up(app, wave):
    version = wave.questionnaire_version
    first = instrument_of_version(version)
    assert instrument_of_version(version) is first
    other = QuestionnaireVersion(
        id=version.id,
        questionnaire_id=version.questionnaire_id,
        version=version.version,
        filename=version.filename,
        content=version.content,
        content_sha256="0" * 64,
        definition={**version.definition, "title": {"nl": "Ander", "en": "Other"}},
    )
    assert instrument_of_version(other) is not first
    assert instrument_of_version(other).title["nl"] == "Ander"
