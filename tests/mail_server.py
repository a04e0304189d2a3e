"""A real SMTP server on 127.0.0.1 for the mail tests (aiosmtpd), that can be stopped and
started again on the same port (the mail server going down and coming back)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """What the server received, and how many sessions said EHLO (one per connection)."""

    def __init__(self) -> None:
        self.envelopes: list = []
        self.connections = 0
        #: Recipient → the reply its RCPT TO gets instead of 250 (e.g. "550 No such user").
        self.refuse: dict[str, str] = {}
        #: Recipients whose message is received, after which the connection breaks before the
        #: server's answer (a server that crashes at the worst moment).
        self.break_after_data: set[str] = set()
        self._lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        with self._lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        with self._lock:
            self.envelopes.append(envelope)
        if self.break_after_data & set(envelope.rcpt_tos):
            server.transport.close()
        return "250 Message accepted"

    @property
    def messages(self) -> list[EmailMessage]:
        return [
            message_from_bytes(envelope.content, policy=policy.default)
            for envelope in self.envelopes
        ]


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def running_smtp_server() -> Iterator[SmtpServer]:
    """For a test module's fixture: a server, started, and stopped after the test."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def smtp_config(server: SmtpServer, **extra) -> dict:
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": server.port,
        "SMTP_STARTTLS": False,
        "SMTP_FROM": "Zorggroep Noord <krachtspiegel@example.org>",
        "PUBLIC_URL": "https://krachtspiegel.example.org",
        **extra,
    }
