"""Virtual respondents against a real server: gunicorn on 127.0.0.1, driven over ``http.client``
(a light client: on 2 cores a heavier one would eat the server's CPU), with the server's CPU
read from ``/proc`` before and after.

Used by the submission benchmark (``bench_submit``) and by the load and fault tests.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
INPUT = re.compile(r"<input\b[^>]*>")
TEXTAREA = re.compile(r'<textarea\b[^>]*name="([^"]+)"')
ATTRIBUTE = re.compile(r'\b(type|name|value)="([^"]*)"')
COMMENTS = (
    "We nemen echt de tijd voor de verhalen van mensen.",
    "Meer ruimte voor eigen keuzes van het team zou helpen.",
    "Ik mis soms overleg over de sterktes die we zien.",
)


# --- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    """The highest resident memory one process has had (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        return []
    return [int(child) for child in found]


def postgres_backends() -> list[int]:
    """Every PostgreSQL server process on this machine (its CPU is the database's share)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class CpuMeter:
    """CPU seconds used by a set of processes between ``start`` and ``stop``; processes that
    appear in between (new workers, new database connections) count from zero."""

    def __init__(self, processes: Callable[[], list[int]]):
        self.processes = processes
        self.before: dict[int, float] = {}
        self.seconds = 0.0

    def start(self) -> None:
        self.before = {pid: cpu_seconds(pid) for pid in self.processes()}

    def stop(self) -> float:
        after = {pid: cpu_seconds(pid) for pid in self.processes()}
        self.seconds = sum(after[pid] - self.before.get(pid, 0.0) for pid in after)
        return self.seconds


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def workers(self) -> list[int]:
        return children(self.pid)

    def processes(self) -> list[int]:
        return [self.pid, *self.workers()]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def wait_until_listening(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server stopped at start-up:\n{server.log_text()[-3000:]}")
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        try:
            connection.request("GET", "/health")
            connection.getresponse().read()
            if len(server.workers()) > 0:
                return
        except OSError:
            pass
        finally:
            # Closed on every path: a timed-out request on a busy machine left the socket
            # open, and with warnings as errors its ResourceWarning failed the test.
            connection.close()
        time.sleep(0.1)
    raise RuntimeError(
        f"the server did not answer within {timeout} s:\n{server.log_text()[-3000:]}"
    )


@contextmanager
def gunicorn(
    app: str,
    environment: dict[str, str],
    log: Path,
    *,
    workers: int = 2,
    threads: int = 1,
    extra: tuple[str, ...] = (),
) -> Iterator[Server]:
    """``gunicorn app`` on a free port of 127.0.0.1, stopped (TERM, then KILL) afterwards."""
    port = free_port()
    command = [
        str(GUNICORN),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--no-control-socket",
        "--graceful-timeout",
        "5",
        *extra,
        app,
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), **environment}
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 (our own gunicorn with fixed arguments)
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    server = Server(process, port, log)
    try:
        wait_until_listening(server)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- one virtual respondent -------------------------------------------------------------------


class FlowError(RuntimeError):
    """The server did not answer as a working questionnaire would."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


@dataclass
class Browser:
    """Cookies and one keep-alive connection, as much of a browser as the flow needs."""

    port: int
    timeout: float = 30
    cookies: dict[str, str] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, form: list[tuple[str, str]] | None = None):
        body = urlencode(form).encode() if form is not None else None
        headers = {"Accept-Language": "nl"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=self.timeout
                )
            try:
                self.connection.request(method, path, body=body, headers=headers)
                reply = self.connection.getresponse()
                page = reply.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A connection the server closed between requests (keep-alive ended): once more
                # on a new one. Any other failure is the server's.
                self.close()
                if attempt == 2:
                    raise
            except BaseException:
                # A time-out (or anything else) leaves no socket open behind it.
                self.close()
                raise
        self.latencies.append(time.perf_counter() - started)
        self.statuses[reply.status] += 1
        for name, value in reply.getheaders():
            if name.lower() == "set-cookie":
                cookie, _, _ = value.partition(";")
                key, _, val = cookie.partition("=")
                self.cookies[key.strip()] = val.strip()
        if reply.getheader("Connection", "").lower() == "close":
            self.close()
        return reply.status, reply.getheader("Location", ""), page.decode("utf-8", "replace")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _path(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    if not found:
        raise FlowError("no_form", page[:200])
    return found.group(1)


def answer_page(page: str, rng: random.Random) -> list[tuple[str, str]]:
    """What a respondent ticks on one page: every choice answered (now and then "don't know"),
    one or two grid cells, and now and then a comment."""
    radios: dict[str, list[str]] = {}
    boxes: dict[str, list[str]] = {}
    for tag in INPUT.findall(page):
        attributes = dict(ATTRIBUTE.findall(tag))
        kind, name = attributes.get("type"), attributes.get("name", "")
        if kind == "radio":
            radios.setdefault(name, []).append(attributes.get("value", ""))
        elif kind == "checkbox":
            boxes.setdefault(name, []).append(attributes.get("value", ""))
    form = []
    for name, values in radios.items():
        plain = [value for value in values if value != "dk"]
        form.append((name, rng.choice(values if rng.random() < 0.05 else plain)))
    for name, values in boxes.items():
        form += [(name, value) for value in rng.sample(values, min(len(values), 2))]
    for name in TEXTAREA.findall(page):
        if rng.random() < 0.3:
            form.append((name, rng.choice(COMMENTS)))
    return form


def fill_in_questionnaire(browser: Browser, link: str, rng: random.Random) -> int:
    """The whole flow through the team link: start, every page (GET, then POST its answers
    with the CSRF token), review, submit, thanks. Returns the number of answers sent."""
    status, _, page = browser.request("GET", link)
    if status != 200:
        raise FlowError(f"http_{status}", link)
    status, location, _ = browser.request("POST", link, [("csrf_token", csrf_of(page))])
    if status != 302:
        raise FlowError(f"http_{status}", f"start {link}")
    sent = 0
    path = _path(location)
    while path.startswith("/respond/") and path[len("/respond/") :].isdigit():
        status, _, page = browser.request("GET", path)
        if status != 200:
            raise FlowError(f"http_{status}", path)
        answers = answer_page(page, rng)
        sent += len(answers)
        form = [("csrf_token", csrf_of(page)), *answers, ("action", "next")]
        status, location, _ = browser.request("POST", path, form)
        if status == 200:
            raise FlowError("refused_answers", path)
        if status != 302:
            raise FlowError(f"http_{status}", path)
        path = _path(location)
    if path != "/respond/review":
        raise FlowError("unexpected_redirect", path)
    status, _, page = browser.request("GET", path)
    if status != 200:
        raise FlowError(f"http_{status}", path)
    status, location, _ = browser.request(
        "POST", "/respond/submit", [("csrf_token", csrf_of(page))]
    )
    if status != 302 or _path(location) != "/respond/thanks":
        raise FlowError(f"http_{status}", f"submit → {location}")
    status, _, _ = browser.request("GET", "/respond/thanks")
    if status != 200:
        raise FlowError(f"http_{status}", "/respond/thanks")
    return sent


def fill_in_floor(browser: Browser, link: str, rng: random.Random) -> int:
    """The floor's flow: GET the one page, POST every answer at once."""
    status, _, page = browser.request("GET", link)
    if status != 200:
        raise FlowError(f"http_{status}", link)
    answers = answer_page(page, rng)
    status, _, _ = browser.request("POST", link, answers)
    if status != 303:
        raise FlowError(f"http_{status}", f"floor {link}")
    return len(answers)


# --- many respondents -------------------------------------------------------------------------


@dataclass
class LoadResult:
    concurrency: int
    seconds: float
    completed: int = 0
    answers: int = 0
    failures: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    questionnaire_seconds: list[float] = field(default_factory=list)
    server_cpu_seconds: float = 0.0
    database_cpu_seconds: float = 0.0
    driver_cpu_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    @property
    def requests_per_second(self) -> float:
        """Every request sent, of completed questionnaires or not."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    def percentile_ms(self, q: float) -> float:
        if len(self.latencies) < 2:
            return 1000 * (self.latencies[0] if self.latencies else 0.0)
        return 1000 * statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1]

    def cpu_ms_per_questionnaire(self, seconds: float) -> float:
        return 1000 * seconds / self.completed if self.completed else float("nan")


def run_load(
    port: int,
    links: list[str],
    *,
    concurrency: int,
    flow: Callable[[Browser, str, random.Random], int] = fill_in_questionnaire,
    seconds: float | None = None,
    questionnaires: int | None = None,
    meters: tuple[CpuMeter, CpuMeter] | None = None,
    seed: int = 2026,
    stop: threading.Event | None = None,
) -> LoadResult:
    """``concurrency`` respondents, each filling in questionnaires one after the other, for
    ``seconds`` or until ``questionnaires`` are done in all. ``meters`` (server, database) are
    read around the run."""
    if (seconds is None) == (questionnaires is None):
        raise ValueError("give seconds or questionnaires")
    stop = stop or threading.Event()
    lock = threading.Lock()
    result = LoadResult(concurrency=concurrency, seconds=0.0)
    budget = [questionnaires or 0]

    def take_one() -> bool:
        if stop.is_set():
            return False
        if questionnaires is None:
            return time.monotonic() < deadline
        with lock:
            if budget[0] <= 0:
                return False
            budget[0] -= 1
            return True

    def respondent(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        while take_one():
            browser = Browser(port)
            started = time.perf_counter()
            try:
                sent = flow(browser, links[rng.randrange(len(links))], rng)
            except (FlowError, OSError, http.client.HTTPException) as error:
                kind = error.kind if isinstance(error, FlowError) else type(error).__name__
                with lock:
                    result.failures[kind] += 1
            else:
                with lock:
                    result.completed += 1
                    result.answers += sent
                    result.questionnaire_seconds.append(time.perf_counter() - started)
            finally:
                browser.close()
                with lock:
                    result.latencies += browser.latencies
                    result.statuses.update(browser.statuses)

    threads = [threading.Thread(target=respondent, args=(n,)) for n in range(concurrency)]
    for meter in meters or ():
        meter.start()
    driver_before = time.process_time()
    started = time.perf_counter()
    deadline = time.monotonic() + (seconds or 0)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    result.driver_cpu_seconds = time.process_time() - driver_before
    if meters:
        result.server_cpu_seconds = meters[0].stop()
        result.database_cpu_seconds = meters[1].stop()
    return result
