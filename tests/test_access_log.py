"""Run the real production server (gunicorn) and read its access log: no code may appear in it."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from survey.extensions import db
from survey.services.codes import issue_codes
from tests.test_invitations import open_twelve, tokens_by_address
from tests.test_respond_concurrency import ANSWERS, Respondent

ROOT = Path(__file__).parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn(database_url, tmp_path):
    port = free_port()
    log = tmp_path / "access.log"
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "access-log-test"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--access-logfile",
            str(log),
            "--no-control-socket",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/health", timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield base, log
    server.terminate()
    server.wait(10)


def test_the_access_log_holds_no_access_or_resume_code(app, tree, make_wave, gunicorn):
    base, log = gunicorn
    wave = make_wave([tree["team-a"]])
    codes = issue_codes(wave.teams[0], 2)
    db.session.commit()

    browser = Respondent(base)
    url, page = browser.post("/code", {"code": codes[0]}, browser.get("/code")[1])
    url, page = browser.post("/respond/1", {**ANSWERS[1], "action": "pause"}, page)
    resume_code = re.search(r'class="resume-code"[^>]*>([A-Z0-9-]+)<', page).group(1)
    url, page = browser.post("/resume", {"code": resume_code}, browser.get("/resume")[1])
    assert browser.answer_and_submit(page).endswith("/respond/thanks")
    other = Respondent(base)
    other.post("/code", {"code": codes[1]}, other.get("/code")[1])

    time.sleep(0.2)
    written = log.read_text()
    assert "POST /code" in written and "POST /respond/submit" in written
    for secret in [*codes, resume_code]:
        for form in {secret, secret.replace("-", ""), secret.lower()}:
            assert form not in written


def test_the_access_log_holds_no_invitation_token(app, tree, make_wave, gunicorn):
    base, log = gunicorn
    open_twelve(app, tree, make_wave)
    first, second = list(tokens_by_address().values())[:2]
    browser = Respondent(base)
    url, page = browser.get(f"/i/{first}")
    assert url.endswith("/invitation")
    url, page = browser.post("/invitation", {}, page)
    assert url.endswith("/respond/1")
    stop = urllib.request.Request(f"{base}/i/{second}/stop", data=b"", method="POST")
    urllib.request.urlopen(stop, timeout=30).close()

    time.sleep(0.2)
    written = log.read_text()
    assert "GET /i/[token]" in written and "POST /i/[token]/stop" in written
    assert first not in written and second not in written
