"""The mail queue against a real SMTP server on 127.0.0.1: what arrives, what happens when the
server is down or refuses, a sender that dies mid-send, two senders at once, and the command."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import MailKind, MailStatus, OutgoingMail
from survey.services import mail_queue
from survey.services.mail_queue import BACKOFF, LEASE, MAX_ATTEMPTS, enqueue, send_due
from tests.conftest import app_on
from tests.mail_server import SmtpServer, running_smtp_server, smtp_config

#: The fixed clock of these tests (no test depends on today's date).
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UNSUBSCRIBE = "https://krachtspiegel.example.org/i/abc/stop"


@pytest.fixture
def smtp():
    yield from running_smtp_server()


@pytest.fixture
def app(database_url, smtp: SmtpServer):
    yield from app_on(database_url, **smtp_config(smtp))


@pytest.fixture(autouse=True)
def in_app(app):
    """Every test here runs inside the app (the module's, or its class's)."""
    return app


def queue(count: int = 1, *, at: datetime = NOW, **extra) -> list[OutgoingMail]:
    mails = []
    for number in range(count):
        mail = enqueue(
            MailKind.INVITATION,
            f"person{number}@example.org",
            f"Invitation {number}",
            f"Your personal link: https://krachtspiegel.example.org/i/token{number}\n",
            html_body=f"<p><a href='https://krachtspiegel.example.org/i/token{number}'>Go</a></p>",
            **extra,
        )
        mail.next_attempt_at = at
        mails.append(mail)
    db.session.commit()
    return mails


def rows() -> list[OutgoingMail]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutgoingMail).order_by(OutgoingMail.id)))


def send(now: datetime = NOW, sender: str = "test-sender", **options):
    return send_due(now, sender_id=sender, **options)


def test_a_message_arrives_with_both_parts_and_the_headers_of_bulk_mail(smtp):
    (mail,) = queue(unsubscribe_url=UNSUBSCRIBE)
    report = send()
    assert (report.due, report.sent, report.retry, report.failed) == (1, 1, 0, 0)
    assert report.line() == "Sent 1 of 1 (0 to retry, 0 failed)"
    (envelope,) = smtp.inbox.envelopes
    assert envelope.mail_from == "krachtspiegel@example.org"
    assert envelope.rcpt_tos == ["person0@example.org"]
    (message,) = smtp.inbox.messages
    assert message["From"] == "Zorggroep Noord <krachtspiegel@example.org>"
    assert message["To"] == "person0@example.org"
    assert message["Subject"] == "Invitation 0"
    assert message["Message-ID"].strip() == mail.message_id  # a long one is folded
    assert mail.message_id.endswith("@krachtspiegel.example.org>")
    assert message["Date"] is not None
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "https://krachtspiegel.example.org/i/token0" in text
    assert "<a href='https://krachtspiegel.example.org/i/token0'>" in html


def test_a_message_without_an_unsubscribe_address_has_no_list_headers(smtp):
    queue()
    send()
    (message,) = smtp.inbox.messages
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None


def test_once_sent_the_bodies_are_emptied_and_it_is_never_sent_again(smtp):
    queue(3)
    assert send().sent == 3
    for row in rows():
        assert row.status is MailStatus.SENT
        assert row.text_body == "" and row.html_body is None
        assert row.sent_at is not None and row.attempts == 0
        assert row.claimed_until is None
    assert send(NOW + timedelta(hours=1)).due == 0
    assert len(smtp.inbox.envelopes) == 3


def test_one_connection_carries_the_whole_batch(smtp):
    queue(5)
    assert send().sent == 5
    assert smtp.inbox.connections == 1


def test_the_batch_bounds_one_run(smtp):
    queue(5)
    report = send(batch=2)
    assert (report.due, report.sent) == (2, 2)
    assert send(batch=10).sent == 3
    assert len(smtp.inbox.envelopes) == 5


def test_a_message_not_due_yet_waits(smtp):
    queue(at=NOW + timedelta(minutes=5))
    assert send().due == 0
    assert send(NOW + timedelta(minutes=5)).sent == 1


def test_server_down_the_message_waits_and_goes_out_once_when_it_is_back(smtp):
    queue(2)
    smtp.stop()
    report = send()
    assert report.sent == 0 and report.retry == 1 and report.stopped
    assert "could not be reached" in report.line()
    first, second = rows()
    # the run stopped at the first failure: the second message was not even tried
    assert (first.status, first.attempts) == (MailStatus.QUEUED, 1)
    assert _close(first.next_attempt_at, NOW + BACKOFF[0])
    assert first.last_error and first.text_body
    assert (second.status, second.attempts) == (MailStatus.QUEUED, 0)
    smtp.start()
    assert send(NOW + timedelta(seconds=30)).sent == 1  # the second; the first waits its turn
    assert send(NOW + BACKOFF[0] + timedelta(seconds=30)).sent == 1
    assert send(NOW + timedelta(hours=2)).due == 0
    received = sorted(envelope.rcpt_tos[0] for envelope in smtp.inbox.envelopes)
    assert received == ["person0@example.org", "person1@example.org"]
    assert [row.status for row in rows()] == [MailStatus.SENT, MailStatus.SENT]


def _close(stored: datetime, expected: datetime) -> bool:
    """A stored time equals the expected one within the run's own duration (the clock of a run
    moves on from ``now`` while it sends)."""
    stored = stored if stored.tzinfo else stored.replace(tzinfo=UTC)
    return timedelta(0) <= stored - expected < timedelta(seconds=30)


def test_after_the_last_attempt_a_message_is_given_up(smtp):
    queue()
    smtp.stop()
    now = NOW
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = send(now)
        assert report.due == 1, attempt
        (row,) = rows()
        assert row.attempts == attempt
        now = now + timedelta(days=1)
    assert row.status is MailStatus.FAILED and report.failed == 1
    assert row.text_body == "" and row.html_body is None
    smtp.start()
    assert send(now).due == 0
    assert smtp.inbox.envelopes == []


def test_a_permanent_refusal_fails_that_message_and_the_rest_go_out(smtp):
    smtp.inbox.refuse["person0@example.org"] = "550 5.1.1 No such user"
    queue(3)
    report = send()
    assert (report.sent, report.retry, report.failed) == (2, 0, 1)
    refused, *others = rows()
    assert refused.status is MailStatus.FAILED and refused.attempts == 1
    assert refused.last_error.startswith("550") and refused.text_body == ""
    assert [row.status for row in others] == [MailStatus.SENT, MailStatus.SENT]
    assert send(NOW + timedelta(days=1)).due == 0


def test_a_message_that_cannot_be_built_fails_and_the_rest_go_out(smtp):
    first, _ = queue(2)
    first.recipient = "person0@example.org\nBcc: everyone@example.org"
    db.session.commit()
    report = send()
    assert (report.sent, report.failed) == (1, 1)
    broken, sent = rows()
    assert (
        broken.status is MailStatus.FAILED and "not a message that can be sent" in broken.last_error
    )
    assert sent.status is MailStatus.SENT
    assert [envelope.rcpt_tos for envelope in smtp.inbox.envelopes] == [["person1@example.org"]]


def test_a_temporary_refusal_is_tried_again_later(smtp):
    smtp.inbox.refuse["person0@example.org"] = "450 4.2.1 Mailbox busy, try later"
    queue(2)
    report = send()
    assert (report.sent, report.retry, report.failed, report.stopped) == (1, 1, 0, None)
    busy, _ = rows()
    assert (busy.status, busy.attempts) == (MailStatus.QUEUED, 1)
    assert busy.last_error.startswith("450")
    del smtp.inbox.refuse["person0@example.org"]
    assert send(NOW + timedelta(minutes=2)).sent == 1
    assert len(smtp.inbox.envelopes) == 2


def test_a_connection_broken_after_the_message_was_handed_over_is_not_sent_again(smtp):
    smtp.inbox.break_after_data.add("person0@example.org")
    queue(2)
    report = send()
    assert (report.sent, report.failed) == (0, 1) and report.stopped
    lost, waiting = rows()
    assert lost.status is MailStatus.FAILED and "may have gone out" in lost.last_error
    assert waiting.status is MailStatus.QUEUED and waiting.attempts == 0
    assert send(NOW + timedelta(minutes=1)).sent == 1
    assert send(NOW + timedelta(days=1)).due == 0
    received = [envelope.rcpt_tos[0] for envelope in smtp.inbox.envelopes]
    assert received == ["person0@example.org", "person1@example.org"]  # once each


def test_a_message_left_sending_after_its_lease_is_failed_and_never_resent(smtp):
    queue(2)
    # a sender claimed the first message and died while sending it
    claimed = mail_queue._claim_next(NOW, "dead-sender")
    assert claimed is not None and claimed.status is MailStatus.SENDING
    report = send(NOW + timedelta(minutes=1))
    assert (report.sent, report.lost) == (1, 0)  # the lease still runs: it is left alone
    assert rows()[0].status is MailStatus.SENDING
    report = send(NOW + LEASE + timedelta(minutes=1))
    assert report.lost == 1 and "marked failed" in report.line()
    lost, sent = rows()
    assert lost.status is MailStatus.FAILED and "may have gone out" in lost.last_error
    assert lost.text_body == "" and lost.html_body is None
    assert sent.status is MailStatus.SENT
    assert send(NOW + timedelta(days=1)).due == 0
    assert [envelope.rcpt_tos for envelope in smtp.inbox.envelopes] == [["person1@example.org"]]


def test_two_senders_at_once_never_send_a_message_twice(app, smtp):
    queue(30)
    barrier = threading.Barrier(2)
    reports: list = [None, None]

    def run(index: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                reports[index] = send(sender=f"machine-{index}", batch=30)
            except Exception as error:  # noqa: BLE001  (reported through the results)
                reports[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(report, mail_queue.SendReport) for report in reports), reports
    assert sum(report.sent for report in reports) == 30
    received = [envelope.rcpt_tos[0] for envelope in smtp.inbox.envelopes]
    assert sorted(received) == sorted(f"person{number}@example.org" for number in range(30))
    message_ids = [message["Message-ID"].strip() for message in smtp.inbox.messages]
    assert len(set(message_ids)) == 30
    assert {row.status for row in rows()} == {MailStatus.SENT}


# --- the command ------------------------------------------------------------------------------


def test_the_command_sends_and_says_how_it_went(runner, smtp):
    queue(2, at=datetime.now(UTC) - timedelta(minutes=1))
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert result.output == "Sent 2 of 2 (0 to retry, 0 failed)\n"
    assert len(smtp.inbox.envelopes) == 2
    result = runner.invoke(args=["mail", "send", "--batch", "5"])
    assert (result.exit_code, result.output) == (0, "Nothing to send.\n")


def test_the_command_with_the_server_down_leaves_the_message_queued(runner, smtp):
    queue(1, at=datetime.now(UTC) - timedelta(minutes=1))
    smtp.stop()
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Sent 0 of 1 (1 to retry, 0 failed); stopped: the mail server")
    assert rows()[0].status is MailStatus.QUEUED


def test_the_command_refuses_a_bad_batch(runner):
    result = runner.invoke(args=["mail", "send", "--batch", "0"])
    assert result.exit_code == 2 and "--batch" in result.output


def test_status_counts_per_status_and_kind(runner, smtp):
    queue(2, at=NOW)
    send()
    queue(1, at=NOW + timedelta(hours=1))
    result = runner.invoke(args=["mail", "status"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["invitation", "reminder", "results_ready", "schedule", "total"]
    assert lines[1].split() == ["queued", "1", "0", "0", "0", "1"]
    assert lines[3].split() == ["sent", "2", "0", "0", "0", "2"]
    assert "Oldest queued message" in result.output


class TestWithoutAMailServer:
    @pytest.fixture
    def app(self, database_url):
        yield from app_on(database_url)

    def test_send_says_so_and_succeeds(self, runner):
        queue(1)
        result = runner.invoke(args=["mail", "send"])
        assert result.exit_code == 0
        assert result.output == "No mail server is set (SMTP_HOST): nothing is sent.\n"
        assert rows()[0].status is MailStatus.QUEUED

    def test_status_of_an_empty_queue(self, runner):
        result = runner.invoke(args=["mail", "status"])
        assert (result.exit_code, result.output) == (0, "The mail queue is empty.\n")


class TestWithoutASender:
    @pytest.fixture
    def app(self, database_url, smtp):
        yield from app_on(database_url, **smtp_config(smtp, SMTP_FROM=""))

    def test_a_configuration_error_is_a_clear_message_and_a_non_zero_exit(self, runner, smtp):
        queue(1, at=datetime.now(UTC) - timedelta(minutes=1))
        result = runner.invoke(args=["mail", "send"])
        assert result.exit_code == 1
        assert "Mail is not set up correctly: SMTP_FROM is not set" in result.output
        (row,) = rows()
        assert (row.status, row.attempts) == (MailStatus.QUEUED, 0)
        assert smtp.inbox.envelopes == []
