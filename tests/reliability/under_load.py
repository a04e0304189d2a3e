"""What the load and worker-kill tests share: a fresh database per test, the app under gunicorn
with an open wave, an audit of what the database holds afterwards, and a killer that SIGKILLs
the gunicorn worker serving a respondent's submission.

The respondents are ``tests.benchmarks.loadgen``'s: the whole flow over ``http.client``. Only
the submit POST of the worker-kill tests goes its own way (``WatchedBrowser``): on a connection
of its own, announced to the killer once sent and never retried, so that a submission whose
connection died is known as one whose outcome nobody told the respondent.
"""

from __future__ import annotations

import http.client
import math
import os
import queue
import random
import re
import signal
import socket
import statistics
import struct
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from questionnaires.item_types import ITEM_TYPES, AnswerKind
from reports.scores import enough_answered, reversed_value, scale_score
from survey.models import Answer, Draft, Response, ScaleScore, StoredItem, StoredScale, Wave
from survey.respond.views import DRAFT
from tests.benchmarks import loadgen
from tests.benchmarks.bench_submit import prepare

SECRET = "reliability-tests-only-secret"
STEP = re.compile(r"/respond/\d+")
#: Fields of a page's form that are not answers (``loadgen.fill_in_questionnaire``).
NOT_ANSWERS = frozenset({"csrf_token", "action"})
#: How long a submission takes on the server before one has been timed; how often and how long
#: the killer looks for the worker serving one.
FIRST_GUESS, POLL_INTERVAL, POLL_LIMIT = 0.02, 0.0005, 10.0
T = TypeVar("T")


# --- a database, a wave and the server ------------------------------------------------------


@contextmanager
def fresh_database(folder: Path, name: str) -> Iterator[str]:
    """An empty database for one test: an SQLite file in ``folder``, or, when TEST_DATABASE_URL
    is set, a new PostgreSQL database ``<its database>_<name>`` on the same server, dropped
    afterwards. The suite's own database is left alone: other tests share it, and these tests
    count every response in theirs."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{folder / f'{name}.sqlite'}"
        return
    url = sa.engine.make_url(base)
    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    quoted = server.dialect.identifier_preparer.quote(f"{url.database}_{name}")
    drop = sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    try:
        with server.connect() as connection:
            connection.execute(drop)
            connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
        yield url.set(database=f"{url.database}_{name}").render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(drop)
        server.dispose()


@dataclass(frozen=True)
class Site:
    url: str
    wave_id: int
    links: list[str]
    folder: Path

    @property
    def log(self) -> Path:
        return self.folder / "gunicorn.log"


def prepare_site(url: str, folder: Path) -> Site:
    """Migrate, load the team instrument and open a wave for 8 teams (``bench_submit``)."""
    prepared = prepare(url, str(folder / "instance"))
    return Site(url, prepared.app_wave, prepared.app_links, folder)


@contextmanager
def serve(site: Site, workers: int = 2) -> Iterator[loadgen.Server]:
    """The app under gunicorn as the README deploys it (sync workers), without rate limits."""
    environment = {"DATABASE_URL": site.url, "SECRET_KEY": SECRET, "RATELIMIT_ENABLED": "false"}
    with loadgen.gunicorn("wsgi:app", environment, site.log, workers=workers) as server:
        yield server


def database_of(url: str) -> str:
    return "PostgreSQL" if sa.engine.make_url(url).get_backend_name() == "postgresql" else "SQLite"


def figures(result: loadgen.LoadResult) -> str:
    """One line for the report: rate, requests and their latency, failures."""
    requests = sum(result.statuses.values())
    return (
        f"{result.completed} questionnaires in {result.seconds:.1f} s "
        f"({result.per_second:.1f}/s) at {result.concurrency} concurrent; {requests} requests, "
        f"p50 {result.percentile_ms(50):.0f} ms, p95 {result.percentile_ms(95):.0f} ms; "
        f"statuses {dict(sorted(result.statuses.items()))}; failures {dict(result.failures)}"
    )


# --- what the database holds ----------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    responses: int
    answers: int
    drafts: frozenset[uuid.UUID]
    #: One line per response that lacks an answer to a choice item or whose scale scores are
    #: not those of its answers: a partial response.
    incomplete: list[str]


def stored(url: str, wave_id: int) -> Stored:
    """The wave's responses, answer rows and drafts, each response checked against the
    instrument as stored: every respondent here answers every choice item (a value, or "don't
    know"), so each response must hold an answer to each, and the scale scores that its answers
    give (``reports.scores``: the mean of the answered points, reverse-coded items turned, where
    at least 75% of the scale is answered)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return _stored(connection, wave_id)
    finally:
        engine.dispose()


def _stored(connection: sa.Connection, wave_id: int) -> Stored:
    in_wave = sa.select(Response.id).where(Response.wave_id == wave_id)
    version_id = connection.scalar(
        sa.select(Wave.questionnaire_version_id).where(Wave.id == wave_id)
    )
    items = connection.execute(
        sa.select(
            StoredItem.code,
            StoredItem.item_type,
            StoredItem.reverse,
            StoredScale.code.label("scale"),
        )
        .outerjoin(StoredScale, (StoredScale.id == StoredItem.scale_id) & StoredScale.scored)
        .where(StoredItem.version_id == version_id)
    ).all()
    choice_items = {
        item.code for item in items if AnswerKind.VALUE in ITEM_TYPES[item.item_type].answer_kinds
    }
    scales: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for item in items:
        if item.scale:
            scales[item.scale].append((item.code, item.reverse))
    answered: dict[uuid.UUID, set[str]] = {rid: set() for rid in connection.scalars(in_wave)}
    points: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    rows = 0
    for answer in connection.execute(
        sa.select(Answer.response_id, Answer.item_code, Answer.value, Answer.dont_know).where(
            Answer.response_id.in_(in_wave)
        )
    ):
        rows += 1
        if answer.value is not None or answer.dont_know:
            answered[answer.response_id].add(answer.item_code)
        if answer.value is not None:
            points[answer.response_id][answer.item_code] = answer.value
    scores: dict[uuid.UUID, dict[str, float]] = defaultdict(dict)
    for score in connection.execute(
        sa.select(ScaleScore.response_id, ScaleScore.scale_code, ScaleScore.score).where(
            ScaleScore.response_id.in_(in_wave)
        )
    ):
        scores[score.response_id][score.scale_code] = score.score
    incomplete = []
    for response_id, codes in answered.items():
        missing = sorted(choice_items - codes)
        expected = _scale_scores(points[response_id], scales)
        if missing or not _same_scores(scores[response_id], expected):
            incomplete.append(
                f"{response_id}: {len(missing)} choice items unanswered {missing[:5]}, "
                f"scale scores {sorted(scores[response_id])} where {sorted(expected)} expected"
            )
    drafts = frozenset(connection.scalars(sa.select(Draft.id).where(Draft.wave_id == wave_id)))
    return Stored(len(answered), rows, drafts, incomplete)


def _scale_scores(points: dict[str, int], scales: dict[str, list[tuple[str, bool]]]) -> dict:
    expected = {}
    for scale, members in scales.items():
        values = [
            reversed_value(points[code]) if reverse else points[code]
            for code, reverse in members
            if code in points
        ]
        if values and enough_answered(len(values), len(members)):
            expected[scale] = scale_score(sum(values), len(values))
    return expected


def _same_scores(found: dict[str, float], expected: dict[str, float]) -> bool:
    return found.keys() == expected.keys() and all(
        math.isclose(found[scale], expected[scale], rel_tol=1e-9) for scale in found
    )


# --- killing the worker that serves a submission --------------------------------------------


#: Netlink's sock_diag: what ``ss`` asks the kernel, here for one TCP socket by its addresses.
NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, NLMSG_ERROR = 4, 20, 1, 2
NO_COOKIE = 0xFFFFFFFF
TCP_LISTEN = 10
LOOPBACK = socket.inet_aton("127.0.0.1")


def socket_inode(local_port: int, remote_port: int) -> int:
    """The inode of the TCP socket 127.0.0.1:``local_port`` → 127.0.0.1:``remote_port``: 0
    while no process holds it (not yet accepted, or closed), as in ``/proc/net/tcp``.

    Asked of the kernel for that one socket (15 µs), where reading ``/proc/net/tcp`` lists
    every socket, thousands of them in TIME_WAIT under load: tens of milliseconds, longer than
    a whole submission."""
    sockid = (
        struct.pack("!HH", local_port, remote_port)
        + LOOPBACK.ljust(16, b"\0")
        + LOOPBACK.ljust(16, b"\0")
        + struct.pack("=III", 0, NO_COOKIE, NO_COOKIE)
    )
    body = struct.pack("=BBBBI", socket.AF_INET, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF) + sockid
    header = struct.pack("=IHHII", 16 + len(body), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, 1, 0)
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG) as netlink:
        netlink.sendto(header + body, (0, 0))
        reply = netlink.recv(65536)
    if struct.unpack_from("=H", reply, 4)[0] == NLMSG_ERROR:
        return 0  # no such socket
    # nlmsghdr (16 bytes), then inet_diag_msg: family, state, …, the socket's ports at 4,
    # its inode at 68. Without a connection of those ports the kernel answers with the
    # listening socket, which every worker holds: that is no answer.
    state = reply[16 + 1]
    found_remote = struct.unpack_from("!H", reply, 16 + 6)[0]
    if state == TCP_LISTEN or found_remote != remote_port:
        return 0
    return struct.unpack_from("=I", reply, 16 + 68)[0]


def serving_worker(server: loadgen.Server, client_port: int) -> int | None:
    """The worker holding the connection that ``client_port`` opened to the server: None while
    it waits in the listen queue (no worker has accepted it) and once it is closed.

    A sync worker accepts one connection at a time, so the one holding a submission's
    connection is busy with that submission and nothing else."""
    inode = socket_inode(server.port, client_port)
    if not inode:
        return None
    wanted = f"socket:[{inode}]"
    for pid in server.workers():
        try:
            descriptors = os.listdir(f"/proc/{pid}/fd")
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == wanted for fd in descriptors):
                return pid
        except OSError:  # the worker or one of its descriptors went away meanwhile
            continue
    return None


@dataclass
class Submission:
    """One respondent's POST /respond/submit."""

    #: The draft it submits (from the signed session cookie).
    draft: uuid.UUID
    #: Answer rows the respondent sent on the pages before: what the response must hold.
    answers: int
    client_port: int = 0
    #: The HTTP status, or None when the connection died before the reply (outcome unknown).
    status: int | None = None
    finished: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Kill:
    pid: int
    #: Seconds from the worker accepting the submission's connection to the SIGKILL.
    after: float


class SubmissionLost(loadgen.FlowError):
    """The connection died during the submit POST: nobody told the respondent what happened."""

    def __init__(self, error: Exception):
        super().__init__("submission_lost", type(error).__name__)


@dataclass
class WatchedBrowser(loadgen.Browser):
    """A ``loadgen.Browser`` that counts the answers it sends and hands its submit POST to the
    ``SubmitKiller``."""

    killer: SubmitKiller | None = None
    answers_sent: int = 0

    def request(self, method: str, path: str, form: list[tuple[str, str]] | None = None):
        if method == "POST" and path == "/respond/submit" and self.killer is not None:
            return self.killer.submit(self, form or [])
        if method == "POST" and STEP.fullmatch(path) and form:
            self.answers_sent += sum(1 for name, _ in form if name not in NOT_ANSWERS)
        return super().request(method, path, form)


class SubmitKiller:
    """Respondents' submissions, and a thread that SIGKILLs the worker serving one of them at a
    random moment while it is busy with it, so that kills fall before, during and after the
    transaction that turns the draft into a response.

    It kills only when every worker has been seen serving since the last kill (gunicorn's
    master has started the replacement and the replacement has loaded the app), so the server
    is never left without a worker. Meanwhile it times the submissions it watches: the delay
    of a kill after the worker accepts the connection is drawn between 0 and such a time, so
    that kills spread over the whole submission on a fast machine and a slow one alike.
    ``enough`` lost submissions stop the load (``stop``).
    """

    def __init__(self, server: loadgen.Server, *, enough: int | None = None, seed: int = 8):
        self.server = server
        self.enough = enough
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.submissions: list[Submission] = []
        self.kills: list[Kill] = []
        #: Seconds from a worker accepting a submission's connection to closing it.
        self.durations: deque[float] = deque([FIRST_GUESS], maxlen=100)
        self._sent: queue.Queue[Submission] = queue.Queue()
        self._seen: set[int] = set()
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name="submit-killer")
        cookie_app = Flask(__name__)
        cookie_app.secret_key = SECRET
        self._sessions = SecureCookieSessionInterface().get_signing_serializer(cookie_app)

    # the respondents' side

    def flow(self, browser: loadgen.Browser, link: str, rng: random.Random) -> int:
        """``loadgen.fill_in_questionnaire`` with the submission watched (for ``run_load``)."""
        watched = WatchedBrowser(
            browser.port,
            browser.timeout,
            latencies=browser.latencies,
            statuses=browser.statuses,
            killer=self,
        )
        try:
            return loadgen.fill_in_questionnaire(watched, link, rng)
        finally:
            watched.close()

    def submit(self, browser: WatchedBrowser, form: list[tuple[str, str]]):
        """The submit POST on a connection of its own, announced once sent, never retried."""
        submission = Submission(self._draft_of(browser.cookies), browser.answers_sent)
        headers = {
            "Accept-Language": "nl",
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items()),
        }
        connection = http.client.HTTPConnection("127.0.0.1", browser.port, timeout=browser.timeout)
        started = time.perf_counter()
        try:
            connection.connect()
            submission.client_port = connection.sock.getsockname()[1]
            connection.request("POST", "/respond/submit", urlencode(form).encode(), headers)
            self._sent.put(submission)
            reply = connection.getresponse()
            page = reply.read()
        except (OSError, http.client.HTTPException) as error:
            self._record(submission)
            raise SubmissionLost(error) from error
        finally:
            connection.close()
            submission.finished.set()
        submission.status = reply.status
        self._record(submission)
        browser.latencies.append(time.perf_counter() - started)
        browser.statuses[reply.status] += 1
        for name, value in reply.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition(";")[0].partition("=")
                browser.cookies[key.strip()] = rest.strip()
        return reply.status, reply.getheader("Location", ""), page.decode("utf-8", "replace")

    def _draft_of(self, cookies: dict[str, str]) -> uuid.UUID:
        return uuid.UUID(self._sessions.loads(cookies["session"])[DRAFT])

    def _record(self, submission: Submission) -> None:
        with self._lock:
            self.submissions.append(submission)
            lost = sum(1 for s in self.submissions if s.status is None)
        if self.enough is not None and lost >= self.enough:
            self.stop.set()

    # the killer's side

    @contextmanager
    def running(self) -> Iterator[SubmitKiller]:
        self._thread.start()
        try:
            yield self
        finally:
            self._finished.set()
            self._thread.join()

    def _run(self) -> None:
        while not self._finished.is_set():
            try:
                submission = self._sent.get(timeout=0.05)
            except queue.Empty:
                continue
            if self._sent.empty():  # the newest only: the older ones are likely served already
                self._aim(submission)

    def _aim(self, submission: Submission) -> None:
        def holder() -> int | None:
            return serving_worker(self.server, submission.client_port)

        pid = self._wait(submission, holder)
        if pid is None:
            return
        accepted = time.monotonic()
        self._seen.add(pid)
        if not set(self.server.workers()) <= self._seen:  # a replacement is loading the app
            if self._wait(submission, lambda: holder() != pid):
                self.durations.append(time.monotonic() - accepted)
            return
        time.sleep(self.rng.uniform(0, self.rng.choice(self.durations)))
        if holder() != pid:
            return  # done with it already
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.kills.append(Kill(pid, time.monotonic() - accepted))
        self._seen.clear()

    @staticmethod
    def _wait(submission: Submission, found: Callable[[], T]) -> T | None:
        """Poll ``found`` until it gives something, for as long as the submission runs."""
        deadline = time.monotonic() + POLL_LIMIT
        while not submission.finished.is_set() and time.monotonic() < deadline:
            if result := found():
                return result
            time.sleep(POLL_INTERVAL)
        return None

    # afterwards

    @property
    def lost(self) -> list[Submission]:
        """Submissions whose connection died: the respondent was never told the outcome."""
        return [s for s in self.submissions if s.status is None]

    @property
    def acknowledged(self) -> list[Submission]:
        """Submissions answered with the redirect to the thank-you page."""
        return [s for s in self.submissions if s.status == HTTPStatus.FOUND]


def load_problems(before: Stored, after: Stored, result: loadgen.LoadResult) -> list[str]:
    """What went wrong in a load run without faults: each line one broken promise."""
    problems = []
    if result.completed == 0:
        problems.append("no questionnaire was completed")
    if result.server_errors:
        problems.append(f"{result.server_errors} replies with a 5xx status")
    if result.failures:
        problems.append(f"respondents failed: {dict(result.failures)}")
    new = after.responses - before.responses
    if new != result.completed:
        problems.append(f"{new} responses stored for {result.completed} questionnaires completed")
    if after.answers - before.answers != result.answers:
        problems.append(
            f"{after.answers - before.answers} answer rows stored, {result.answers} sent"
        )
    if after.drafts != before.drafts:
        problems.append(f"{len(after.drafts - before.drafts)} drafts left behind")
    problems += _partial(after)
    return problems


def kill_problems(
    before: Stored, after: Stored, result: loadgen.LoadResult, killer: SubmitKiller
) -> list[str]:
    """What went wrong in a run with workers killed during submissions.

    All or nothing: a lost submission either became a whole response (its draft is gone) or
    stayed a whole draft; so the responses stored are exactly the acknowledged submissions
    plus the lost ones whose draft is gone, and so are their answer rows."""
    problems = []
    if not killer.lost:
        problems.append(f"no kill hit a submission ({len(killer.kills)} kills)")
    if result.server_errors:
        problems.append(f"{result.server_errors} replies with a 5xx status")
    other = {kind: n for kind, n in result.failures.items() if kind != "submission_lost"}
    if other:
        problems.append(f"respondents failed other than by a lost submission: {other}")
    acknowledged = killer.acknowledged
    committed = [s for s in killer.lost if s.draft not in after.drafts]
    if kept := [s for s in acknowledged if s.draft in after.drafts]:
        problems.append(f"{len(kept)} drafts still there after their submission was confirmed")
    new = after.responses - before.responses
    expected = len(acknowledged) + len(committed)
    if new != expected:
        problems.append(
            f"{new} responses stored where {expected} were expected: {len(acknowledged)} "
            f"confirmed + {len(committed)} of {len(killer.lost)} lost whose draft is gone"
        )
    sent = sum(s.answers for s in acknowledged) + sum(s.answers for s in committed)
    if after.answers - before.answers != sent:
        problems.append(f"{after.answers - before.answers} answer rows stored, {sent} sent")
    problems += _partial(after)
    return problems


def kill_figures(after: Stored, result: loadgen.LoadResult, killer: SubmitKiller) -> str:
    lost = killer.lost
    committed = sum(1 for s in lost if s.draft not in after.drafts)
    delays = sorted(kill.after * 1000 for kill in killer.kills)
    return (
        f"{len(killer.kills)} workers killed, {len(lost)} during a submission "
        f"({committed} after its commit, {len(lost) - committed} before), kill delays "
        f"{delays[0] if delays else 0:.0f}–{delays[-1] if delays else 0:.0f} ms after accept "
        f"(submission typically {1000 * statistics.median(killer.durations):.0f} ms); "
        + figures(result)
    )


def _partial(after: Stored) -> list[str]:
    if not after.incomplete:
        return []
    return [f"{len(after.incomplete)} partial responses: " + "; ".join(after.incomplete[:3])]
