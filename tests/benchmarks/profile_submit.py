"""Where a questionnaire's server time goes: the whole respondent flow, in this process through
the Flask test client (the app as in production), under pyinstrument.

    python -m tests.benchmarks.profile_submit [--questionnaires 100] [--database-url URL]

Prints the per-request CPU of each page of the flow, then pyinstrument's call tree.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field

from pyinstrument import Profiler
from werkzeug.datastructures import MultiDict

from tests.benchmarks import loadgen
from tests.benchmarks.bench_submit import prepare
from tests.benchmarks.harness import bench_app, sqlite_database


@dataclass
class TestClientBrowser(loadgen.Browser):
    """``loadgen.Browser``'s interface over the Flask test client, timing each page's CPU."""

    client: object = None
    cpu: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def request(self, method: str, path: str, form: list[tuple[str, str]] | None = None):
        started = time.process_time()
        if method == "GET":
            reply = self.client.get(path)
        else:
            reply = self.client.post(path, data=MultiDict(form or []))
        page = path.rstrip("0123456789") if path.startswith("/respond/") else path[:3]
        self.cpu[f"{method} {page}"].append(time.process_time() - started)
        self.statuses[reply.status_code] += 1
        return reply.status_code, reply.headers.get("Location", ""), reply.get_data(as_text=True)

    def close(self) -> None:
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questionnaires", type=int, default=100)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    parser.add_argument(
        "--no-profile", action="store_true", help="only the CPU per page, without the profiler"
    )
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as instance, sqlite_database() as sqlite_url:
        url = arguments.database_url or sqlite_url
        prepared = prepare(url, instance)
        app = bench_app(url, instance)
        rng = random.Random(1)
        cpu: dict[str, list[float]] = defaultdict(list)

        def one() -> None:
            browser = TestClientBrowser(port=0, client=app.test_client())
            loadgen.fill_in_questionnaire(browser, rng.choice(prepared.app_links), rng)
            for page, seconds in browser.cpu.items():
                cpu[page] += seconds

        for _ in range(5):
            one()
        cpu.clear()
        profiler = Profiler(interval=0.0005)
        started = time.process_time()
        if not arguments.no_profile:
            profiler.start()
        for _ in range(arguments.questionnaires):
            one()
        if not arguments.no_profile:
            profiler.stop()
        total = time.process_time() - started
        print(
            f"{arguments.questionnaires} questionnaires: "
            f"{1000 * total / arguments.questionnaires:.1f} ms CPU each (this process: the app,"
            f" the test client and SQLite{'' if arguments.no_profile else ', the profiler'})"
        )
        for page, samples in sorted(cpu.items()):
            print(
                f"  {page:<22} {len(samples) / arguments.questionnaires:4.1f}× "
                f"{1000 * statistics.median(samples):6.2f} ms"
            )
        if not arguments.no_profile:
            print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
