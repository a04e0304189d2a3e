"""gunicorn's access log without the personal invitation tokens (``gunicorn.conf.py`` sets
``logger_class``): ``/i/<token>`` and ``/i/<token>/stop`` are logged as ``/i/[token]``, in
the request line, the path, the referrer and every other value of a line. The token is in a
URL only on that first request (it redirects at once to ``/invitation``), so no log keeps it.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

_TOKEN_PATH = re.compile(r"/i/[^/?#\s\"]+")
REDACTED = "/i/[token]"


def redact(text: str) -> str:
    return _TOKEN_PATH.sub(REDACTED, text)


class RedactingLogger(Logger):
    """gunicorn's logger, with every text value of an access log line redacted."""

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        values = super().atoms(resp, req, environ, request_time)
        return {
            key: redact(value) if isinstance(value, str) else value for key, value in values.items()
        }
