"""Sending e-mail through the SMTP server in the settings (SMTP_HOST and friends), if any.

Krachtspiegel needs no mail server: without SMTP_HOST nothing is sent and the administrator
hands over links themselves. A server that cannot be reached or refuses the message is a
``MailError`` with the reason, never a crash.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app

#: Seconds to wait for the mail server before giving up.
SMTP_TIMEOUT = 10
#: The port of SMTP over TLS from the first byte (instead of STARTTLS).
SMTPS_PORT = 465


class MailError(RuntimeError):
    """The message could not be sent; the text says why."""


def mail_configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def send_mail(to: str, subject: str, body: str) -> None:
    config = current_app.config
    sender = config.get("SMTP_FROM") or config.get("SMTP_USER")
    if not sender:
        raise MailError("SMTP_FROM is not set")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    host, port = config["SMTP_HOST"], config.get("SMTP_PORT", 587)
    try:
        if port == SMTPS_PORT:
            server = smtplib.SMTP_SSL(
                host, port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
            )
        else:
            server = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
        with server:
            if port != SMTPS_PORT and config.get("SMTP_STARTTLS", True):
                server.starttls(context=ssl.create_default_context())
            if config.get("SMTP_USER"):
                server.login(config["SMTP_USER"], config.get("SMTP_PASSWORD", ""))
            server.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise MailError(str(error) or type(error).__name__) from error
