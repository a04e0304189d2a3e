"""Issue 14, the respondent's side: attacks by an insider who can add responses or who uses
the respondent's browser after them, performed through the application (test client or a
real HTTP server), each of which must fail.

Classes (ISSUE14.md): 1 padding a team, 9 shared computers, 13 probing a code after the wave,
15 time in a cookie, 16 a failed submission in the log.
"""

from __future__ import annotations

import logging
import re
import urllib.error
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import got_request_exception
from werkzeug.http import parse_date

from survey.extensions import db
from survey.models import Draft, Response, WaveStatus, WaveTeam
from survey.services import responding
from survey.services.codes import issue_codes
from tests.conftest import app_on, csrf_token, stored_answers
from tests.test_respond import STEP_1, STEP_2, post_step, start
from tests.test_respond_concurrency import Respondent, responses, run_together

COMMENT = "Geheim: alleen ik werk hier op dinsdag"
STEP_2_SECRET = {**STEP_2, "item-O1": COMMENT}


@pytest.fixture
def wave(tree, make_wave):
    return make_wave([tree["team-a"], tree["team-b"]])


@pytest.fixture
def team(wave) -> WaveTeam:
    return next(t for t in wave.teams if t.unit.slug == "team-a")


@pytest.fixture
def link(team) -> str:
    return f"/t/{team.link_slug}"


def submit(client):
    return client.post(
        "/respond/submit", data={"csrf_token": csrf_token(client, "/respond/review")}
    )


def answer_and_submit(client, link, **extra):
    token = csrf_token(client, link)
    started = client.post(link, data={"csrf_token": token, **extra})
    assert started.status_code == 302, started.get_data(as_text=True)
    post_step(client, 1, STEP_1)
    post_step(client, 2, STEP_2_SECRET)
    return submit(client)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- class 1: padding a team ------------------------------------------------------------------


def test_class01_padding_a_team_link_takes_no_more_responses_than_its_staff(app, team, link):
    team.invited = 2
    db.session.commit()
    late = app.test_client()  # began before the team was complete
    start(late, link)
    post_step(late, 1, STEP_1)
    post_step(late, 2, STEP_2_SECRET)
    for _ in range(2):
        assert answer_and_submit(app.test_client(), link).status_code == 302
    assert count(Response) == 2

    # The made-up third (fourth, ...) response cannot be added: not from a new browser ...
    padder = app.test_client()
    landing = padder.get(link)
    assert landing.status_code == 200
    page = landing.get_data(as_text=True)
    assert "evenveel antwoorden gegeven als het medewerkers telt" in page
    assert "Beginnen" not in page
    refused = padder.post(link, data={"csrf_token": csrf_token(padder, "/code")})
    assert refused.status_code == 409 and count(Draft) == 1

    # ... nor from one that began before: its answers are kept, not sent, and it is told so.
    reply = submit(late)
    assert reply.status_code == 409
    page = reply.get_data(as_text=True)
    assert "Je antwoorden zijn niet verstuurd, maar ze zijn ook niet verloren." in page
    assert count(Response) == 2
    (draft,) = db.session.scalars(sa.select(Draft))
    assert draft.answers["O1"] == {"text": COMMENT}
    paused = late.post("/respond/pause", data={"csrf_token": csrf_token(late, "/respond/review")})
    assert re.search(r'class="resume-code"[^>]*>([A-Z0-9-]+)<', paused.get_data(as_text=True))

    # The administrator corrects the staff number: the kept answers can be sent.
    team.invited = 3
    db.session.commit()
    code = re.search(r'class="resume-code"[^>]*>([A-Z0-9-]+)<', paused.get_data(as_text=True))
    late.post("/resume", data={"csrf_token": csrf_token(late, "/resume"), "code": code.group(1)})
    assert submit(late).headers["Location"] == "/respond/thanks"
    assert count(Response) == 3


def test_class01_padding_unknown_staff_and_codes_only_waves_are_not_capped_twice(
    app, wave, team, link
):
    team.invited = None
    db.session.commit()
    for _ in range(3):
        assert answer_and_submit(app.test_client(), link).status_code == 302
    wave.codes_only = True
    team.invited = 1  # a codes-only wave is capped by its codes, not by the staff number
    codes = issue_codes(team, 2)
    db.session.commit()
    for code in codes:
        browser = app.test_client()
        entered = browser.post(
            "/code", data={"csrf_token": csrf_token(browser, "/code"), "code": code}
        )
        assert entered.headers["Location"] == "/respond/1"
        post_step(browser, 1, STEP_1)
        post_step(browser, 2, STEP_2)
        assert submit(browser).headers["Location"] == "/respond/thanks"
    assert count(Response) == 5


def test_class01_padding_two_last_submissions_at_once_give_one_response(live_server, team):
    team.invited = 3
    db.session.commit()
    link = f"/t/{team.link_slug}"

    def respond(_: int) -> str:
        browser = Respondent(live_server)
        url, page = browser.get(link)
        url, page = browser.post(link, {}, page)
        try:
            return browser.answer_and_submit(page)
        except urllib.error.HTTPError as error:
            return "complete" if error.code == 409 else f"unexpected {error.code}"

    outcomes = run_together(8, respond)
    assert sorted(str(o).rsplit("/", 1)[-1] for o in outcomes) == ["complete"] * 5 + ["thanks"] * 3
    assert responses() == 3


def test_class01_padding_a_second_response_from_one_browser_is_a_deliberate_step(client, link):
    assert answer_and_submit(client, link).status_code == 302
    page = client.get(link).get_data(as_text=True)
    assert "Ik ben een collega die hetzelfde toestel gebruikt" in page
    assert 'type="checkbox"' in page and 'name="colleague"' in page

    token = csrf_token(client, link)
    plain = client.post(link, data={"csrf_token": token})
    assert plain.status_code == 422
    assert "error-summary" in plain.get_data(as_text=True)
    assert "Vink het vakje aan" in plain.get_data(as_text=True)
    assert count(Draft) == 0
    unticked = client.post(link, data={"csrf_token": token, "colleague": "false"})
    assert unticked.status_code == 422 and count(Draft) == 0

    assert answer_and_submit(client, link, colleague="y").status_code == 302
    assert count(Response) == 2


class TestClass01Throttle:
    @pytest.fixture
    def app(self, database_url):
        yield from app_on(
            database_url,
            RATELIMIT_ENABLED=True,
            START_LIMIT_PER_ADDRESS="3 per hour",
            START_LIMIT_PER_LINK="5 per hour",
        )

    def test_class01_padding_starts_are_throttled_per_address(self, app, team, link):
        team.invited = None
        db.session.commit()
        for _ in range(3):
            start(app.test_client(), link)
        browser = app.test_client()
        reply = browser.post(link, data={"csrf_token": csrf_token(browser, link)})
        assert reply.status_code == 429
        assert "Wacht een uur en probeer het dan opnieuw" in reply.get_data(as_text=True)
        assert count(Draft) == 3
        # Another address still begins.
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
        assert other.post(link, data={"csrf_token": csrf_token(other, link)}).status_code == 302

    def test_class01_padding_starts_are_throttled_per_link(self, app, wave, team, link):
        def browser_at(number: int):
            browser = app.test_client()
            browser.environ_base["REMOTE_ADDR"] = f"192.0.2.{number}"
            return browser

        for number in range(5):
            start(browser_at(number), link)
        browser = browser_at(99)
        assert browser.post(link, data={"csrf_token": csrf_token(browser, link)}).status_code == 429
        # Another team's link is not affected; and a form error is not a start.
        other_link = f"/t/{next(t for t in wave.teams if t is not team).link_slug}"
        assert browser.post(other_link, data={"csrf_token": "nope"}).status_code == 400
        start(browser, other_link)


def test_class01_padding_a_burst_of_submissions_is_counted_without_a_time(
    app, team, link, monkeypatch
):
    team.invited = None
    db.session.commit()
    moments = iter(datetime(2026, 3, 2, 9, minute, tzinfo=UTC) for minute in (1, 2, 3, 4, 31, 33))
    monkeypatch.setattr(responding, "now_utc", lambda: next(moments))
    for _ in range(6):
        assert answer_and_submit(app.test_client(), link).status_code == 302
    db.session.refresh(team)
    assert (team.peak_burst, team.burst_count) == (4, 2)
    # A bucket number, not a time: ten-minute steps since 1970.
    assert team.burst_bucket == int(datetime(2026, 3, 2, 9, 30, tzinfo=UTC).timestamp() // 600)


# --- class 9: shared computers -----------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """The respondent pages' clock, moved by hand."""

    class Clock:
        now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

        def advance(self, minutes: int) -> None:
            self.now += timedelta(minutes=minutes)

    clock = Clock()
    monkeypatch.setattr("survey.respond.views.now_utc", lambda: clock.now, raising=False)
    return clock


def begin_and_leave_unfinished(client, link) -> None:
    start(client, link)
    post_step(client, 1, STEP_1)
    post_step(client, 2, {"item-O1": COMMENT}, action="previous")


def test_class09_shared_computer_an_idle_questionnaire_is_gone_for_the_next_person(
    client, link, clock
):
    begin_and_leave_unfinished(client, link)
    clock.advance(100)
    assert client.get("/respond/2").status_code == 200  # still there, and active again
    clock.advance(121)
    for url in ("/respond/review", "/respond/2", "/respond/1"):
        page = client.get(url).get_data(as_text=True)
        assert "Geen vragenlijst bezig" in page and COMMENT not in page
    assert count(Draft) == 0  # not kept on the server either
    landing = client.get(link).get_data(as_text=True)
    assert "Verder invullen" not in landing and "Beginnen" in landing


def test_class09_shared_computer_who_comes_back_in_time_continues(client, link, clock):
    begin_and_leave_unfinished(client, link)
    clock.advance(119)
    landing = client.get(link).get_data(as_text=True)
    assert "Verder invullen" in landing and 'href="/respond/2"' in landing
    assert "Opnieuw beginnen (je eerdere antwoorden worden gewist)" in landing
    # Posting the landing form again does not silently abandon the answers.
    again = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert again.headers["Location"] == "/respond/2"
    (draft,) = db.session.scalars(sa.select(Draft))
    assert draft.answers["O1"] == {"text": COMMENT}
    # Starting again is explicit, and discards them.
    restarted = client.post(link, data={"csrf_token": csrf_token(client, link), "restart": "y"})
    assert restarted.headers["Location"] == "/respond/1"
    (draft,) = db.session.scalars(sa.select(Draft))
    assert draft.answers == {}


def test_class09_shared_computer_a_paused_draft_stays_reachable_only_by_its_code(
    app, client, link, clock
):
    begin_and_leave_unfinished(client, link)
    paused = post_step(client, 2, {"item-O1": COMMENT}, action="pause").get_data(as_text=True)
    code = re.search(r'class="resume-code"[^>]*>([A-Z0-9-]+)<', paused).group(1)
    client.post("/resume", data={"csrf_token": csrf_token(client, "/resume"), "code": code})
    assert COMMENT in client.get("/respond/2").get_data(as_text=True)
    clock.advance(180)
    assert "Geen vragenlijst bezig" in client.get("/respond/2").get_data(as_text=True)
    assert count(Draft) == 1
    other = app.test_client()
    other.post("/resume", data={"csrf_token": csrf_token(other, "/resume"), "code": code})
    assert COMMENT in other.get("/respond/2").get_data(as_text=True)


# --- class 13: probing a code after the wave ---------------------------------------------------


CSRF_VALUE = re.compile(rb'(name="csrf_token"[^>]*value=")[^"]+')


@pytest.mark.parametrize("ended", ["closed", "past its last day"])
def test_class13_after_the_wave_a_used_and_an_unused_code_get_the_same_answer(
    app, wave, team, ended
):
    used, unused = issue_codes(team, 2)
    db.session.commit()
    browser = app.test_client()
    browser.post("/code", data={"csrf_token": csrf_token(browser, "/code"), "code": used})
    post_step(browser, 1, STEP_1)
    post_step(browser, 2, STEP_2)
    assert submit(browser).status_code == 302
    if ended == "closed":
        wave.status = WaveStatus.CLOSED
    else:
        wave.closes_on = date.today() - timedelta(days=1)
    db.session.commit()

    def probe(code: str):
        prober = app.test_client()
        return prober.post("/code", data={"csrf_token": csrf_token(prober, "/code"), "code": code})

    answers = [probe(used), probe(unused), probe(unused.lower())]
    assert {reply.status_code for reply in answers} == {200}
    bodies = {CSRF_VALUE.sub(rb"\1", reply.get_data()) for reply in answers}
    assert len(bodies) == 1
    assert "gesloten" in answers[0].get_data(as_text=True)
    assert "We kennen deze code niet" in probe("ZZZZZ-ZZZZZ").get_data(as_text=True)


# --- class 15: time in a cookie ----------------------------------------------------------------


def test_class15_the_answered_cookie_and_the_session_carry_no_time(app, wave, link):
    end_of_wave = datetime.combine(wave.closes_on + timedelta(days=1), datetime.min.time(), UTC)
    seen = []
    for _ in range(2):
        browser = app.test_client()
        reply = answer_and_submit(browser, link, colleague="y")
        (done,) = [c for c in reply.headers.getlist("Set-Cookie") if c.startswith("ks_done_")]
        assert "Max-Age" not in done
        seen.append(parse_date(re.search(r"Expires=([^;]+)", done).group(1)))
        # The session cookie's signature carries a time too, in Flask's default: not here.
        browser.get("/respond/thanks")
        serializer = app.session_interface.get_signing_serializer(app)
        _data, signed_at = serializer.loads(
            browser.get_cookie("session").value, return_timestamp=True
        )
        assert signed_at == datetime.fromtimestamp(0, UTC)
    assert seen == [end_of_wave, end_of_wave]


def test_class15_an_account_session_still_expires_when_idle(app, make_account, monkeypatch):
    from survey.models import Role
    from tests.conftest import login

    make_account("admin@example.org", Role.ADMIN)
    client = app.test_client()
    assert login(client, "admin@example.org").status_code == 302
    assert client.get("/admin/").status_code == 200
    later = datetime.now(UTC) + timedelta(minutes=31)
    monkeypatch.setattr("survey.security.datetime", type("D", (), {"now": lambda tz: later}))
    assert client.get("/admin/").status_code == 302


# --- class 16: a failed submission in the log --------------------------------------------------


def test_class16_the_same_grid_cell_posted_twice_is_ticked_once(client, link):
    start(client, link)
    post_step(client, 1, STEP_1)
    doubled = {**STEP_2, "item-C4": ["aspirations:living", "aspirations:living", "resources:work"]}
    assert post_step(client, 2, doubled).headers["Location"] == "/respond/review"
    reply = submit(client)
    assert reply.status_code == 302 and reply.headers["Location"] == "/respond/thanks"
    assert stored_answers()["C4"] == [("aspirations", "living"), ("resources", "work")]


@pytest.mark.parametrize(
    "field, values",
    [("item-A1-1", ["4", "4"]), ("item-A1-1", ["4", "2"]), ("action", ["next", "pause"])],
)
def test_class16_a_single_answer_posted_twice_is_refused(client, link, field, values):
    start(client, link)
    post_step(client, 1, STEP_1)
    token = csrf_token(client, "/respond/1")
    reply = client.post(
        "/respond/1", data={**STEP_1, "action": "next", "csrf_token": token, field: values}
    )
    assert reply.status_code == 400
    (draft,) = db.session.scalars(sa.select(Draft))
    assert draft.answers["A1.1"] == {"value": 4} and draft.resume_code_sha256 is None


def test_class16_a_failed_submission_logs_no_answer(app, client, link, monkeypatch, caplog):
    """A database error in the middle of a submission (forced here: every answer row twice)
    is a 500 page, and neither the log nor the exception's text carries what was answered."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error is logged
    seen: dict = {}
    real_rows = responding.answer_rows

    def doubled_rows(response_id, answers):
        seen["response_id"] = str(response_id)
        rows = real_rows(response_id, answers)
        return rows + rows

    monkeypatch.setattr(responding, "answer_rows", doubled_rows)
    errors: list[Exception] = []

    def keep(sender, exception, **extra):
        errors.append(exception)

    start(client, link)
    post_step(client, 1, STEP_1)
    post_step(client, 2, STEP_2_SECRET)
    caplog.set_level(logging.DEBUG)
    with got_request_exception.connected_to(keep, app):
        reply = submit(client)
    assert reply.status_code == 500
    assert "Er is iets misgegaan" in reply.get_data(as_text=True) or reply.status_code == 500

    (error,) = errors
    assert "[SQL parameters hidden due to hide_parameters=True]" in str(error)
    assert COMMENT not in str(error) and "aspirations" not in str(error)
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert "IntegrityError" in logged and "message withheld" in logged
    for secret in (COMMENT, seen["response_id"], seen["response_id"].replace("-", "")):
        assert secret not in logged
    assert "aspirations" not in logged and "We vieren" not in logged
    assert count(Response) == 0 and count(Draft) == 1  # nothing half-stored, nothing lost
