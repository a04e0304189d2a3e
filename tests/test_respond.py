"""Answering through a team link or an access code, page by page, with the Flask test client."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Draft, Response, WaveStatus
from survey.services.codes import issue_codes
from survey.services.responding import purge_expired_drafts
from tests.conftest import csrf_token, stored_answers


@pytest.fixture
def wave(tree, make_wave):
    return make_wave([tree["team-a"], tree["team-b"]])


@pytest.fixture
def link(wave):
    team = next(t for t in wave.teams if t.unit.slug == "team-a")
    return f"/t/{team.link_slug}"


def start(client, url):
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def post_step(client, number, answers, action="next"):
    token = csrf_token(client, f"/respond/{number}")
    return client.post(
        f"/respond/{number}", data={"csrf_token": token, "action": action, **answers}
    )


STEP_1 = {"item-A1-1": "4", "item-A1-2": "5", "item-A1-3": "dk", "item-C1-1": "3"}
STEP_2 = {
    "item-B1-1": "4", "item-B1-2": "2", "item-B1-3": "5", "item-B1-4": "dk",
    "item-C4": ["aspirations:living", "resources:work"],
    "item-O1": "  We vieren kleine stappen.  ",
    "item-BG1": "2",
}  # fmt: skip


def answer_everything(client, link):
    assert start(client, link) == "/respond/1"
    assert post_step(client, 1, STEP_1).headers["Location"] == "/respond/2"
    assert post_step(client, 2, STEP_2).headers["Location"] == "/respond/review"
    return client.post(
        "/respond/submit", data={"csrf_token": csrf_token(client, "/respond/review")}
    )


def test_a_whole_response_through_the_team_link(client, link, wave):
    landing = client.get(link).get_data(as_text=True)
    assert "Mini-Krachtspiegel" in landing and "minstens 5" in landing
    reply = answer_everything(client, link)
    assert reply.headers["Location"] == "/respond/thanks"
    thanks = client.get("/respond/thanks").get_data(as_text=True)
    assert "Bedankt" in thanks and "minstens 5" in thanks

    (response,) = db.session.scalars(sa.select(Response)).all()
    assert response.submitted_on == date.today()
    assert response.language == "nl"
    assert response.unit_id == next(t.unit_id for t in wave.teams if t.unit.slug == "team-a")
    assert stored_answers() == {
        "A1.1": 4, "A1.2": 5, "A1.3": "dk", "C1.1": 3,
        "B1.1": 4, "B1.2": 2, "B1.3": 5, "B1.4": "dk",
        "C4": [("aspirations", "living"), ("resources", "work")],
        "O1": "We vieren kleine stappen.", "BG1": 2,
    }  # fmt: skip
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0
    assert client.get_cookie(f"ks_done_{wave.id}").value == "1"


def test_the_browser_says_it_answered_already_but_lets_a_colleague_begin(client, link):
    answer_everything(client, link)
    page = client.get(link).get_data(as_text=True)
    assert "Op dit toestel is deze vragenlijst al ingevuld." in page
    # Only as a deliberate step (tests/test_insider_respondent.py): the colleague ticks a box.
    token = csrf_token(client, link)
    reply = client.post(link, data={"csrf_token": token, "colleague": "y"})
    assert reply.headers["Location"] == "/respond/1"


def test_a_draft_is_submitted_once(client, link):
    start(client, link)
    post_step(client, 1, STEP_1)
    post_step(client, 2, STEP_2)
    token = csrf_token(client, "/respond/review")
    assert client.post("/respond/submit", data={"csrf_token": token}).status_code == 302
    again = client.post("/respond/submit", data={"csrf_token": token})
    assert "Geen vragenlijst bezig" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1


def test_pages_are_built_from_the_instrument(client, link):
    start(client, link)
    page = client.get("/respond/1").get_data(as_text=True)
    assert "Pagina 1 van 2 · vraag 1–5 van 13" in page and '<progress max="13" value="5"' in page
    assert '<fieldset class="item choice likert" id="item-A1-1"' in page
    assert "<legend>" in page and "weet ik niet / n.v.t." in page
    assert page.count('value="dk"') == 4  # C1.2 offers no "don't know"
    page = client.get("/respond/2").get_data(as_text=True)
    assert 'maxlength="500"' in page and 'type="checkbox"' in page


def test_missing_required_answers_are_named_and_answers_kept(client, link):
    start(client, link)
    reply = post_step(client, 1, {"item-A1-1": "2"})
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert 'href="#item-A1-2"' in page and "Kies een antwoord op deze vraag." in page
    assert re.search(r'id="item-A1-1-2" value="2" checked', page)


def test_malformed_values_are_refused_but_nothing_is_lost(client, link):
    start(client, link)
    reply = post_step(client, 1, {**STEP_1, "item-A1-1": "7"})
    assert reply.status_code == 200
    assert "error-summary" in reply.get_data(as_text=True)
    assert post_step(client, 1, STEP_1, action="launch-missiles").status_code == 400
    post_step(client, 1, STEP_1)
    grid = post_step(client, 2, {**STEP_2, "item-C4": ["relations:work"]})
    assert grid.status_code == 200 and "error-summary" in grid.get_data(as_text=True)
    draft = db.session.scalar(sa.select(Draft))
    db.session.refresh(draft)
    assert draft.answers["A1.2"] == {"value": 5}


def test_a_blank_answer_to_an_optional_question_means_no_answer(client, link):
    """Found by tests/test_fuzz_forms.py: a space for an optional item answered 500."""
    start(client, link)
    reply = post_step(client, 1, {**STEP_1, "item-C1-2": " "})
    assert reply.status_code == 302 and reply.headers["Location"] == "/respond/2"
    post_step(client, 2, STEP_2)
    client.post("/respond/submit", data={"csrf_token": csrf_token(client, "/respond/review")})
    assert "C1.2" not in stored_answers() and stored_answers()["C1.1"] == 3


def test_previous_and_the_language_switch_keep_the_answers(client, link):
    start(client, link)
    post_step(client, 1, STEP_1)
    reply = post_step(client, 2, {"item-B1-1": "1"}, action="lang-en")
    assert reply.headers["Location"] == "/respond/2"
    page = client.get("/respond/2").get_data(as_text=True)
    assert '<html lang="en">' in page and "Page 2 of 2 · questions 6–13 of 13" in page
    assert re.search(r'id="item-B1-1-1" value="1" checked', page)
    assert post_step(client, 2, {}, action="previous").headers["Location"] == "/respond/1"
    assert re.search(
        r'id="item-A1-2-5" value="5" checked', client.get("/respond/1").get_data(as_text=True)
    )


def test_pause_and_resume_with_a_code(client, app, link):
    start(client, link)
    post_step(client, 1, STEP_1)
    paused = post_step(client, 2, {"item-B1-1": "3"}, action="pause").get_data(as_text=True)
    code = re.search(r'class="resume-code"[^>]*>([A-Z0-9-]+)<', paused).group(1)
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    assert "Geen vragenlijst bezig" in client.get("/respond/1").get_data(as_text=True)
    assert code not in str(db.session.scalar(sa.select(Draft.resume_code_sha256)))

    other_device = app.test_client()
    token = csrf_token(other_device, "/resume")
    reply = other_device.post("/resume", data={"csrf_token": token, "code": code.lower()})
    assert reply.headers["Location"] == "/respond/2"
    page = other_device.get("/respond/2").get_data(as_text=True)
    assert re.search(r'id="item-B1-1-3" value="3" checked', page)

    wrong = other_device.post("/resume", data={"csrf_token": token, "code": "AAAA-BBBB-CCCC"})
    assert "We kennen deze hervatcode niet" in wrong.get_data(as_text=True)


def test_clear_my_answers_deletes_the_draft(client, link):
    start(client, link)
    post_step(client, 1, STEP_1)
    token = csrf_token(client, "/respond/1")
    page = client.post("/respond/discard", data={"csrf_token": token}).get_data(as_text=True)
    assert "Je antwoorden zijn gewist" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0


@pytest.mark.parametrize(
    "status, opens, closes, message",
    [
        (WaveStatus.CLOSED, -30, -1, "Deze vragenlijst is gesloten"),
        (WaveStatus.OPEN, -30, -1, "Deze vragenlijst is gesloten"),
        (WaveStatus.OPEN, 3, 30, "Deze vragenlijst is nog niet open"),
        (WaveStatus.DRAFT, -3, 30, "Deze vragenlijst is nog niet open"),
    ],
)
def test_a_wave_that_is_not_open_gets_a_friendly_page(
    client, wave, link, status, opens, closes, message
):
    wave.status = status
    wave.opens_on = date.today() + timedelta(days=opens)
    wave.closes_on = date.today() + timedelta(days=closes)
    db.session.commit()
    reply = client.get(link)
    assert reply.status_code == 200
    assert message in reply.get_data(as_text=True)


def test_an_unknown_link_gets_a_friendly_404(client):
    reply = client.get("/t/not-a-real-link")
    assert reply.status_code == 404
    assert "We kennen deze link niet" in reply.get_data(as_text=True)


def test_a_codes_only_wave_refuses_its_team_links(client, wave, link):
    wave.codes_only = True
    db.session.commit()
    assert "Deze vragenlijst werkt met toegangscodes" in client.get(link).get_data(as_text=True)


def enter_code(client, code):
    return client.post("/code", data={"csrf_token": csrf_token(client, "/code"), "code": code})


def test_an_access_code_opens_one_response(client, app, wave):
    team = next(t for t in wave.teams if t.unit.slug == "team-b")
    (code,) = issue_codes(team, 1)
    db.session.commit()
    assert enter_code(client, code.lower().replace("-", " ")).headers["Location"] == "/respond/1"
    post_step(client, 1, STEP_1)
    post_step(client, 2, STEP_2)
    client.post("/respond/submit", data={"csrf_token": csrf_token(client, "/respond/review")})
    (response,) = db.session.scalars(sa.select(Response)).all()
    assert response.unit_id == team.unit_id

    again = enter_code(app.test_client(), code)
    assert "Deze code is al gebruikt" in again.get_data(as_text=True)
    unknown = enter_code(app.test_client(), "ZZZZZ-ZZZZZ")
    assert "We kennen deze code niet" in unknown.get_data(as_text=True)


def test_a_code_for_a_closed_wave_stays_usable(client, wave):
    (code,) = issue_codes(wave.teams[0], 1)
    wave.status = WaveStatus.CLOSED
    db.session.commit()
    assert "gesloten" in enter_code(client, code).get_data(as_text=True)
    wave.status = WaveStatus.OPEN
    db.session.commit()
    assert enter_code(client, code).headers["Location"] == "/respond/1"


def test_without_a_draft_the_pages_say_what_to_do(client):
    for url in ("/respond/1", "/respond/review", "/respond/thanks"):
        page = client.get(url).get_data(as_text=True)
        assert "Geen vragenlijst bezig" in page and "/resume" in page


def test_a_step_that_does_not_exist_is_404(client, link):
    start(client, link)
    assert client.get("/respond/3").status_code == 404
    assert client.get("/respond/0").status_code == 404


def test_an_oversized_post_gets_413(client, link):
    start(client, link)
    client.application.config["MAX_CONTENT_LENGTH"] = 4096
    reply = post_step(client, 2, {"item-O1": "x" * 10_000})
    assert reply.status_code == 413
    assert "Te veel gegevens" in reply.get_data(as_text=True)


def test_expired_drafts_are_deleted(client, runner, wave, link):
    start(client, link)
    post_step(client, 1, STEP_1)
    assert purge_expired_drafts() == 0
    wave.status = WaveStatus.CLOSED
    db.session.commit()
    result = runner.invoke(args=["drafts", "purge"])
    assert "Deleted 1 unfinished response(s) of closed waves." in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0


def test_the_privacy_page_names_the_minimum_group_size(client):
    page = client.get("/privacy").get_data(as_text=True)
    assert "minder dan 5 mensen" in page
    assert client.get("/language/en?next=/privacy").status_code == 302
    assert "fewer than 5 people" in client.get("/privacy").get_data(as_text=True)
