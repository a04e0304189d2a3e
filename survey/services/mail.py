"""Sending e-mail through the SMTP server in the settings (SMTP_HOST and friends), if any.

Krachtspiegel needs no mail server: without SMTP_HOST nothing is sent and the administrator
hands over links themselves. A server that cannot be reached or refuses the message is a
``MailError`` with the reason, never a crash; ``MailError.permanent`` tells a refusal for good
(a 5xx reply about the message or its recipient) from one worth trying again later (no answer,
a timeout, a 4xx reply). The queue (``survey.services.mail_queue``) sends through one
``SmtpConnection`` per batch; ``send_mail`` sends a single message at once.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from flask import current_app

#: Seconds to wait for the mail server before giving up.
SMTP_TIMEOUT = 10
#: The port of SMTP over TLS from the first byte (instead of STARTTLS).
SMTPS_PORT = 465


class MailError(RuntimeError):
    """The message could not be sent; the text says why. ``permanent``: sending it again will
    not help (the server refused it for good)."""

    def __init__(self, reason: str, *, permanent: bool = False, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent
        #: The server could not be reached, or dropped the connection: the next messages
        #: would fare no better now.
        self.unreachable = unreachable


class MailConfigError(MailError):
    """The settings cannot send any mail (no sender address, say): an operator must act."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, permanent=False)


def mail_configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def sender() -> Address:
    """The organisation's address: SMTP_FROM (``Name <address>`` keeps the display name), else
    SMTP_USER. Raises ``MailConfigError`` when neither is a usable address."""
    config = current_app.config
    name, address = parseaddr(config.get("SMTP_FROM") or config.get("SMTP_USER") or "")
    if "@" not in address:
        raise MailConfigError("SMTP_FROM is not set (or not an e-mail address)")
    try:
        return Address(display_name=name, addr_spec=address)
    except (ValueError, IndexError) as error:
        raise MailConfigError(f"SMTP_FROM is not a usable address: {error}") from error


def build_message(
    to: str,
    subject: str,
    text: str,
    *,
    html: str | None = None,
    message_id: str | None = None,
    unsubscribe_url: str | None = None,
    date: datetime | None = None,
) -> EmailMessage:
    """A message from the organisation: plain text, with an HTML alternative when given; marked
    as sent by a machine (RFC 3834) and, with ``unsubscribe_url``, unsubscribed from in one
    click (RFC 8058: the link takes a POST)."""
    origin = sender()
    message = EmailMessage()
    try:
        message["From"] = origin
        message["To"] = to
        message["Subject"] = subject
        if date is not None:
            message["Date"] = format_datetime(date)
        if message_id:
            message["Message-ID"] = message_id
        message["Auto-Submitted"] = "auto-generated"
        if unsubscribe_url:
            message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(text)
        if html:
            message.add_alternative(html, subtype="html")
    except (ValueError, MessageError) as error:  # a line break in an address, say
        raise MailError(f"not a message that can be sent: {error}", permanent=True) from error
    return message


class SmtpConnection:
    """One connection to the mail server, opened on the first message and reused for the
    next ones; a connection the server dropped is opened again. Use it in a ``with``."""

    def __init__(self) -> None:
        self._server: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            server.close()

    def send(self, message: EmailMessage) -> None:
        """Send ``message`` to its ``To``, or raise ``MailError`` (``permanent`` or not)."""
        try:
            self._connected().send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _reply in error.recipients.values()]
            raise MailError(_reason(error), permanent=min(codes, default=450) >= 500) from error
        except smtplib.SMTPNotSupportedError as error:  # an address the server cannot take
            raise MailError(_reason(error), permanent=True) from error
        except smtplib.SMTPResponseException as error:
            self.close()  # a refusal mid-transaction leaves the session in no known state
            raise MailError(
                _reason(error),
                permanent=error.smtp_code >= 500,
                unreachable=error.smtp_code == 421,  # the server is closing the connection
            ) from error
        except (smtplib.SMTPException, OSError) as error:
            handed_over = getattr(self._server, "handed_over", False)
            self.close()
            if handed_over:
                # The whole message reached the server, its answer did not: it may have gone
                # out, so it is not sent again (never twice rather than at least once).
                raise MailError(
                    f"the connection broke after the message was handed over, so it may have "
                    f"gone out: {_reason(error)}",
                    permanent=True,
                    unreachable=True,
                ) from error
            raise MailError(_reason(error), unreachable=True) from error

    def _connected(self) -> smtplib.SMTP:
        if self._server is None:
            self._server = _open()
        return self._server


class _HandOver:
    """Knows whether the current message's data went out whole (smtplib sends it, ending in
    ``CRLF . CRLF``, in one ``send``): a connection that breaks after that may have delivered it."""

    handed_over = False

    def mail(self, *args, **kwargs):  # the start of each message
        self.handed_over = False
        return super().mail(*args, **kwargs)

    def send(self, data):
        super().send(data)
        if isinstance(data, bytes) and data.endswith(b"\r\n.\r\n"):
            self.handed_over = True


class _Smtp(_HandOver, smtplib.SMTP):
    pass


class _SmtpSsl(_HandOver, smtplib.SMTP_SSL):
    pass


def _open() -> smtplib.SMTP:
    config = current_app.config
    if not config.get("SMTP_HOST"):
        raise MailConfigError("SMTP_HOST is not set")
    host, port = config["SMTP_HOST"], config.get("SMTP_PORT", 587)
    if port == SMTPS_PORT:
        context = ssl.create_default_context()
        server = _SmtpSsl(host, port, timeout=SMTP_TIMEOUT, context=context)
    else:
        server = _Smtp(host, port, timeout=SMTP_TIMEOUT)
    try:
        if port != SMTPS_PORT and config.get("SMTP_STARTTLS", True):
            server.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USER"):
            server.login(config["SMTP_USER"], config.get("SMTP_PASSWORD", ""))
    except smtplib.SMTPAuthenticationError as error:
        server.close()
        raise MailConfigError(f"the mail server refused the log-in: {_reason(error)}") from error
    except smtplib.SMTPNotSupportedError as error:
        server.close()
        raise MailConfigError(
            f"the mail server cannot do this ({error}): check SMTP_STARTTLS and SMTP_USER"
        ) from error
    except BaseException:
        server.close()
        raise
    return server


def _reason(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        return f"{error.smtp_code} {text}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
            for code, reply in error.recipients.values()
        )
    return str(error) or type(error).__name__


def send_mail(to: str, subject: str, body: str) -> None:
    """Send one plain-text message now (a set-password link the administrator is waiting for)."""
    message = build_message(to, subject, body)
    with SmtpConnection() as connection:
        connection.send(message)
