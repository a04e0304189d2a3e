"""What the two-server check needs besides ``under_load``: app servers that can be stopped and
started again on the same port (two machines behind one proxy), respondents whose requests go
to either server and who try again when one does not answer, and an administrator's browser.

Both servers get the same environment: one database, one Redis for the rate limits, one
SECRET_KEY. Nothing else is shared between them.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.benchmarks import loadgen

#: How long a respondent goes on trying when no server answers, and the pause between tries
#: (a proxy tries the next server at once; a person presses reload a little later).
PATIENCE, PAUSE = 60.0, 0.2
#: What a request to a stopping or stopped server meets: refused, or reset before any reply.
NOT_THERE = (ConnectionRefusedError, ConnectionResetError, BrokenPipeError)
#: The limiter's keys (``limits``' Redis storage), all deleted before and after the check.
LIMITER_KEYS = "LIMITS:*"


# --- servers that can be restarted ------------------------------------------------------------


@dataclass
class Instance:
    """One app server: gunicorn (its own master and workers) on a fixed port of 127.0.0.1,
    as on a machine of its own. ``start`` and ``stop`` may be called again and again."""

    name: str
    port: int
    environment: dict[str, str]
    log: Path
    workers: int = 2
    server: loadgen.Server | None = None

    def start(self) -> None:
        command = [
            str(loadgen.GUNICORN),
            *("--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers)),
            *("--no-control-socket", "--graceful-timeout", "10"),
            "wsgi:app",
        ]
        env = {**os.environ, "PYTHONPATH": str(loadgen.ROOT), **self.environment}
        with self.log.open("ab") as output:
            process = subprocess.Popen(  # noqa: S603 (our own gunicorn with fixed arguments)
                command, cwd=loadgen.ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
            )
        self.server = loadgen.Server(process, self.port, self.log)
        try:
            loadgen.wait_until_listening(self.server)
        except BaseException:
            self.stop()
            raise

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        """SIGTERM (gunicorn finishes the requests it has), then SIGKILL after 20 s."""
        if self.server is None:
            return
        process, self.server = self.server.process, None
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- what happened, request by request --------------------------------------------------------


@dataclass
class Journal:
    """Every reply's time and status, every try that met no server, for the whole run."""

    replies: list[tuple[float, int]] = field(default_factory=list)
    not_there: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reply(self, status: int) -> None:
        with self.lock:
            self.replies.append((time.monotonic(), status))

    def missed(self, error: Exception) -> None:
        with self.lock:
            self.not_there[type(error).__name__] += 1

    def server_errors(self, within: Callable[[float], bool]) -> int:
        with self.lock:
            return sum(1 for t, status in self.replies if status >= 500 and within(t))


@dataclass
class SwitchingBrowser(loadgen.Browser):
    """A ``loadgen.Browser`` whose every request goes to one of ``ports`` at random, as a
    proxy spreading requests would send it: the session is a signed cookie and the draft is
    in the database, so any server can answer. A request that meets no server (it is stopping
    or starting) is sent again, to a server drawn again, until one answers."""

    ports: tuple[int, ...] = ()
    journal: Journal | None = None
    rng: random.Random = field(default_factory=random.Random)

    def request(self, method: str, path: str, form: list[tuple[str, str]] | None = None):
        given_up = time.monotonic() + PATIENCE
        while True:
            port = self.rng.choice(self.ports)
            if port != self.port:
                self.close()
                self.port = port
            try:
                status, location, page = super().request(method, path, form)
            except NOT_THERE as error:
                if self.journal:
                    self.journal.missed(error)
                if time.monotonic() > given_up:
                    raise loadgen.FlowError("no_server_answered", path) from error
                time.sleep(PAUSE)
                continue
            if self.journal:
                self.journal.reply(status)
            return status, location, page


def switching_flow(ports: tuple[int, ...], journal: Journal):
    """``loadgen.fill_in_questionnaire`` through a ``SwitchingBrowser`` (for ``run_load``)."""

    def flow(browser: loadgen.Browser, link: str, rng: random.Random) -> int:
        switching = SwitchingBrowser(
            browser.port,
            browser.timeout,
            latencies=browser.latencies,
            statuses=browser.statuses,
            ports=ports,
            journal=journal,
            rng=random.Random(rng.random()),
        )
        try:
            return loadgen.fill_in_questionnaire(switching, link, rng)
        finally:
            switching.close()

    return flow


# --- an administrator, and someone guessing a password ----------------------------------------


class Visitor:
    """A browser that says which server each request goes to (one cookie jar for both)."""

    def __init__(self) -> None:
        self.browser = loadgen.Browser(0)

    def request(self, port: int, method: str, path: str, form=None) -> tuple[int, str, str]:
        self.browser.close()
        self.browser.port = port
        try:
            return self.browser.request(method, path, form)
        finally:
            self.browser.close()

    def post_form(self, port: int, path: str, fields: list[tuple[str, str]]) -> tuple[int, str]:
        """GET ``path`` for its CSRF token, then POST ``fields`` with it, on the same server."""
        _, _, page = self.request(port, "GET", path)
        status, _, page = self.request(
            port, "POST", path, [("csrf_token", loadgen.csrf_of(page)), *fields]
        )
        return status, page

    def close(self) -> None:
        self.browser.close()


def shown_value(page: str, name: str) -> str | None:
    """The value of the form field ``name`` on ``page``."""
    for tag in loadgen.INPUT.findall(page):
        attributes = dict(loadgen.ATTRIBUTE.findall(tag))
        if attributes.get("name") == name:
            return attributes.get("value")
    return None


def settings_form(min_group_size: int) -> list[tuple[str, str]]:
    """The settings page's form with ``min_group_size`` and the defaults for the rest."""
    return [
        ("min_group_size", str(min_group_size)),
        ("spread_threshold", str(max(7, min_group_size))),
        ("comments_enabled", "y"),
        ("team_first_days", "14"),
        ("languages", "nl"),
        ("languages", "en"),
        ("retention_years", ""),
    ]


# --- the shared Redis -------------------------------------------------------------------------


def clean_redis(url: str) -> None:
    """Delete the limiter's keys from the Redis database at ``url``."""
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=LIMITER_KEYS, count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()
