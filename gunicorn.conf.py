"""gunicorn reads this file from the working directory (``gunicorn wsgi:app`` in the checkout).

Before it binds its port or starts a worker, the master checks that Krachtspiegel's database
answers and carries the newest migration, and otherwise exits with one line saying what to run
(survey/startup.py). Without it, gunicorn would serve anyway, every request would fail (the 503
page), and the reason would be only in the log, once per request.
Other apps served from this folder (the benchmarks' floor app) are not checked.

The access log leaves out the personal invitation tokens (``survey/access_log.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter


logger_class = "survey.access_log.RedactingLogger"


def on_starting(server: Arbiter) -> None:
    if (getattr(server.app, "app_uri", None) or "").partition(":")[0] != "wsgi":
        return
    from survey.startup import refuse_to_serve_unless_ready

    refuse_to_serve_unless_ready()
