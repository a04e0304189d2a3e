"""Many respondents at once, through a real HTTP server: nothing lost, nothing doubled."""

import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Response
from survey.services.codes import issue_codes

CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
ANSWERS = {
    1: {"item-A1-1": "4", "item-A1-2": "3", "item-A1-3": "2"},
    2: {"item-B1-1": "5", "item-O1": "Samen sterk."},
}


#: Seconds a request may take: generous, for a machine busy with other work (a bound on a hang,
#: not a speed requirement).
TIMEOUT = 120
#: How often a browser sends a request again after a 503 (the page asks the person to).
RETRIES = 5


class Respondent:
    """One browser: its own cookies, following redirects like a browser does. On a 503 (the
    database busy: SQLite's writer lock not free within its busy timeout on a loaded machine)
    it sends the same request again, as the 503 page asks the person to."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> tuple[str, str]:
        return self._open(path, None)

    def post(self, path: str, data: dict, page: str) -> tuple[str, str]:
        fields = {"csrf_token": CSRF.search(page).group(1), **data}
        return self._open(path, urllib.parse.urlencode(fields, doseq=True).encode())

    def _open(self, path: str, body: bytes | None) -> tuple[str, str]:
        for attempt in range(RETRIES + 1):
            try:
                with self.opener.open(self.base + path, data=body, timeout=TIMEOUT) as reply:
                    return reply.geturl(), reply.read().decode()
            except urllib.error.HTTPError as error:
                error.close()  # its socket, on every path; the caller reads only the code
                if error.code != 503 or attempt == RETRIES:
                    raise
        raise AssertionError("unreachable")

    def answer_and_submit(self, first_page: str) -> str:
        url, page = self.post("/respond/1", {**ANSWERS[1], "action": "next"}, first_page)
        url, page = self.post("/respond/2", {**ANSWERS[2], "action": "next"}, page)
        assert url.endswith("/respond/review"), url
        url, page = self.post("/respond/submit", {}, page)
        return url


def run_together(count: int, work) -> list:
    """Start ``count`` threads that wait for each other, then do ``work(i)`` at the same moment."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001  (reported through the results)
            results[index] = f"{type(error).__name__}: {error}"

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # each request is bounded by TIMEOUT
    return results


def responses() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Response))


@pytest.fixture
def wave(tree, make_wave):
    return make_wave([tree["team-a"]])


def test_twenty_browsers_racing_with_one_code_give_one_response(live_server, wave):
    (code,) = issue_codes(wave.teams[0], 1)
    db.session.commit()
    browsers = [Respondent(live_server) for _ in range(20)]
    forms = [browser.get("/code")[1] for browser in browsers]

    def enter_and_answer(index: int) -> str:
        url, page = browsers[index].post("/code", {"code": code}, forms[index])
        if not url.endswith("/respond/1"):
            return "refused" if "Deze code is al gebruikt" in page else f"unexpected: {url}"
        return browsers[index].answer_and_submit(page)

    outcomes = run_together(20, enter_and_answer)
    assert sorted(str(o) for o in outcomes).count("refused") == 19, outcomes
    assert [o for o in outcomes if o != "refused"][0].endswith("/respond/thanks")
    assert responses() == 1


def test_twenty_submissions_of_one_draft_give_one_response(live_server, wave):
    browser = Respondent(live_server)
    url, page = browser.get(f"/t/{wave.teams[0].link_slug}")
    url, page = browser.post(url.removeprefix(live_server), {}, page)
    url, page = browser.post("/respond/1", {**ANSWERS[1], "action": "next"}, page)
    url, review = browser.post("/respond/2", {**ANSWERS[2], "action": "next"}, page)

    outcomes = run_together(20, lambda _: browser.post("/respond/submit", {}, review)[0])
    assert sum(url.endswith("/respond/thanks") for url in outcomes) >= 1
    assert responses() == 1


def test_fifty_respondents_through_a_team_link_give_fifty_responses(live_server, wave):
    wave.teams[0].invited = 50  # a team link takes no more responses than the team's staff
    db.session.commit()
    link = f"/t/{wave.teams[0].link_slug}"

    def respond(_: int) -> str:
        browser = Respondent(live_server)
        url, page = browser.get(link)
        url, page = browser.post(link, {}, page)
        return browser.answer_and_submit(page)

    outcomes = run_together(50, respond)
    assert all(str(url).endswith("/respond/thanks") for url in outcomes), [
        outcome for outcome in outcomes if not str(outcome).endswith("/respond/thanks")
    ]
    assert responses() == 50
