"""Personal invitations attacked as an insider with the database would: nothing in the schema or
in the rows links an invitation (an address) to the response it started; of concurrent claims
of one link exactly one wins. On SQLite and PostgreSQL alike."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Invitation, Response
from survey.services import invitations as invitation_service
from tests.conftest import csrf_token
from tests.test_invitations import begin, invitations, open_twelve, tokens_by_address
from tests.test_respond import STEP_1, STEP_2, post_step
from tests.test_respond_concurrency import Respondent, run_together

INVITATION_TABLES = ("invitations", "invitation_tokens")
RESPONSE_TABLES = ("responses", "answers", "drafts", "scale_scores")


@pytest.fixture
def opened(app, tree, make_wave):
    return open_twelve(app, tree, make_wave)


@pytest.mark.parametrize("table", INVITATION_TABLES)
def test_an_invitation_refers_to_no_response_and_keeps_no_time(app, table):
    inspector = sa.inspect(db.engine)
    referred = {fk["referred_table"] for fk in inspector.get_foreign_keys(table)}
    assert referred <= {"wave_teams", "invitations"}
    for column in inspector.get_columns(table):
        assert not isinstance(column["type"], sa.Date | sa.DateTime | sa.Time), column["name"]
        assert not set(column["name"].split("_")) & {"response", "draft", "answer", "time", "at"}


@pytest.mark.parametrize("table", RESPONSE_TABLES)
def test_what_a_respondent_leaves_refers_to_no_invitation(app, table):
    inspector = sa.inspect(db.engine)
    referred = {fk["referred_table"] for fk in inspector.get_foreign_keys(table)}
    assert not referred & set(INVITATION_TABLES)
    names = {column["name"] for column in inspector.get_columns(table)}
    assert not {name for name in names if "invitation" in name or "token" in name}


def _rows(query: str) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(sa.text(query))]


def _physical_order(table: str, column: str) -> list:
    physical = "rowid" if db.engine.dialect.name == "sqlite" else "ctid"
    return [row[0] for row in _rows(f"SELECT {column} FROM {table} ORDER BY {physical}")]  # noqa: S608


def test_seven_of_twelve_used_invitations_map_to_no_response(app, opened):
    """Seven people begin in the order of their invitations and send their answers in the
    opposite order; then nothing stored pairs an invitation with a response."""
    before = _rows("SELECT id, wave_team_id, email, language, opted_out, reminders_sent "
                   "FROM invitations ORDER BY id")  # fmt: skip
    rows_before = _physical_order("invitations", "id")
    tokens = tokens_by_address()
    by_id = {invitation.email: invitation.id for invitation in invitations()}
    chosen = sorted(tokens, key=by_id.get)[:7]
    browsers = []
    for address in chosen:  # claims in the order of the invitations' ids
        browser = app.test_client()
        assert begin(browser, tokens[address]).headers["Location"] == "/respond/1"
        browsers.append(browser)
    for number, browser in reversed(list(enumerate(browsers))):  # sent in the other order
        post_step(browser, 1, STEP_1)
        post_step(browser, 2, {**STEP_2, "item-O1": f"respondent {number}"})
        sent = browser.post(
            "/respond/submit", data={"csrf_token": csrf_token(browser, "/respond/review")}
        )
        assert sent.headers["Location"] == "/respond/thanks"
    db.session.expire_all()

    # The invitations changed only in their used flag: same rows, same order, no time, nothing else.
    after = _rows("SELECT id, wave_team_id, email, language, opted_out, reminders_sent "
                  "FROM invitations ORDER BY id")  # fmt: skip
    assert after == before
    assert [i.email for i in invitations() if i.used] == chosen
    if db.engine.dialect.name == "sqlite":
        assert _physical_order("invitations", "id") == rows_before

    # Nothing of an invitation appears in what the respondents left.
    secrets = {i.email for i in invitations()} | set(
        db.session.scalars(sa.text("SELECT token_sha256 FROM invitation_tokens"))
    )
    for table in ("responses", "answers", "scale_scores", "drafts"):
        for row in _rows(f"SELECT * FROM {table}"):  # noqa: S608 (constants)
            assert not {str(value) for value in row} & secrets, table

    # Every response id is random, and no stored order pairs the k-th used invitation with the
    # k-th response of the person who used it.
    respondent = {
        uuid.UUID(str(response_id)): int(text.split()[-1])
        for response_id, text in _rows(
            "SELECT response_id, text FROM answers WHERE item_code = 'O1'"
        )
    }
    assert len(respondent) == 7
    assert all(isinstance(r.id, uuid.UUID) and r.id.version == 4 for r in responses())
    stored = [respondent[uuid.UUID(str(id_))] for id_ in _physical_order("responses", "id")]
    used_in_order = list(range(7))  # the k-th used invitation (by id) was respondent k
    assert sum(a == b for a, b in zip(stored, used_in_order, strict=True)) <= 1


def responses() -> list[Response]:
    return list(db.session.scalars(sa.select(Response)))


def test_twenty_simultaneous_claims_of_one_link_claim_it_once(app, opened):
    token = next(iter(tokens_by_address().values()))
    start = threading.Barrier(20)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def claim() -> None:
        with app.app_context():
            try:
                start.wait(timeout=30)
                outcome = invitation_service.claim(token).status
                db.session.commit()
                outcomes.append(outcome)
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(outcomes) == ["claimed"] + ["used"] * 19
    assert [i.used for i in invitations()].count(True) == 1


def test_concurrent_claims_through_two_links_of_one_invitation_claim_it_once(app, opened, runner):
    """A reminder's new link and the first one, used at the same moment: one start."""
    first = tokens_by_address()
    result = runner.invoke(
        args=["invitations", "remind", "--today", str(opened.opens_on + timedelta(days=3))]
    )
    assert result.exit_code == 0, result.output
    second = tokens_by_address(invitation_service.MailKind.REMINDER)
    address = next(iter(first))
    pair = [first[address], second[address]]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def claim(token: str) -> None:
        with app.app_context():
            try:
                start.wait(timeout=30)
                outcomes.append(invitation_service.claim(token).status)
                db.session.commit()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim, args=(token,)) for token in pair]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["claimed", "used"]
    assert db.session.scalar(sa.select(sa.func.count()).where(Invitation.used)) == 1


def test_the_daily_run_leaves_no_order_of_claims_at_rest(app, runner, opened, monkeypatch):
    """PostgreSQL writes a claimed invitation as a new row version: its place (ctid) and its
    transaction id (xmin) follow the order in which people began, until the daily run rewrites
    the wave's invitations in random order. SQLite keeps rows in id order throughout."""
    monkeypatch.setattr(invitation_service, "_RANDOM", random.Random(18))
    tokens = tokens_by_address()
    by_id = sorted(tokens, key={i.email: i.id for i in invitations()}.get)
    claimed_in_order = [by_id[n] for n in (5, 0, 9, 2, 11, 7, 3)]
    for address in claimed_in_order:
        assert begin(app.test_client(), tokens[address]).status_code == 302
    content = _rows("SELECT id, wave_team_id, email, language, used, opted_out, reminders_sent "
                    "FROM invitations ORDER BY id")  # fmt: skip
    ids = {i.email: i.id for i in invitations()}
    used_ids = [ids[address] for address in claimed_in_order]

    def claimed_physically() -> list[int]:
        return [id_ for id_ in _physical_order("invitations", "id") if id_ in used_ids]

    postgresql = db.engine.dialect.name == "postgresql"
    if postgresql:  # the attack works before the rewrite
        assert claimed_physically() == used_ids
        assert len({row[0] for row in _rows("SELECT xmin::text FROM invitations")}) > 1

    result = runner.invoke(args=["invitations", "remind", "--today", str(opened.opens_on)])
    assert result.exit_code == 0, result.output
    assert "12 invitation(s) rewritten in random order" in result.output
    db.session.expire_all()

    assert content == _rows("SELECT id, wave_team_id, email, language, used, opted_out, "
                            "reminders_sent FROM invitations ORDER BY id")  # fmt: skip
    if postgresql:
        assert claimed_physically() != used_ids
        assert len({row[0] for row in _rows("SELECT xmin::text FROM invitations")}) == 1
    else:
        assert _physical_order("invitations", "id") == sorted(ids.values())
    # Every link still works as before: a used one says so, an unused one begins.
    unused = next(address for address in by_id if address not in claimed_in_order)
    assert invitation_service.claim(tokens[claimed_in_order[0]]).status == "used"
    assert invitation_service.claim(tokens[unused]).status == "claimed"
    db.session.rollback()


def test_twenty_browsers_racing_with_one_link_give_one_response(app, live_server, opened):
    """Through a real threaded server, as tests/test_respond_concurrency.py does with a code."""
    token = next(iter(tokens_by_address().values()))
    browsers = [Respondent(live_server) for _ in range(20)]
    landings = [browser.get(f"/i/{token}")[1] for browser in browsers]

    def begin_and_answer(index: int) -> str:
        url, page = browsers[index].post("/invitation", {}, landings[index])
        if not url.endswith("/respond/1"):
            return "refused" if "Deze uitnodiging is gebruikt" in page else f"unexpected: {url}"
        return browsers[index].answer_and_submit(page)

    outcomes = run_together(20, begin_and_answer)
    assert sorted(str(o) for o in outcomes).count("refused") == 19, outcomes
    assert [o for o in outcomes if o != "refused"][0].endswith("/respond/thanks")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1
