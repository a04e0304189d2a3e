"""The short table at the end of ``make bench``: the figures the README quotes, read from
``tests/benchmarks/results/latest.json``.

    python -m tests.benchmarks.summary [--fresh-postgresql NAME]

With ``--fresh-postgresql NAME`` it instead creates (drops first) the PostgreSQL database NAME
and prints its URL, or nothing when the server does not answer: how ``make bench`` gets a
database for the reliability checks.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections import defaultdict

from tests.benchmarks.harness import RESULTS_FILE, postgresql_database

SUBMISSION = (
    ("Krachtspiegel: questionnaires/s", "questionnaires/s"),
    ("same-flow floor: questionnaires/s", "same-flow /s"),
    ("floor: questionnaires/s", "one-form /s"),
    ("Krachtspiegel: server CPU per questionnaire", "CPU ms/q"),
    ("same-flow floor: server CPU per questionnaire", "same-flow CPU ms/q"),
    ("Krachtspiegel: request p95", "request p95 ms"),
    ("Krachtspiegel: 5xx responses", "5xx"),
    # The app's rate as a share of each floor's (the target: per questionnaire against
    # the same-flow floor); per request against the one-form floor is the cost of a request.
    ("Krachtspiegel ÷ same-flow floor: per questionnaire", "÷ same-flow /q"),
    ("Krachtspiegel ÷ same-flow floor: per request", "÷ same-flow /req"),
    ("Krachtspiegel ÷ floor: per request", "÷ one-form /req"),
)
PAGES = ("team dashboard", "heatmap", "heatmap change", "organisation trend")
#: One gunicorn worker's resident memory after each role of pages (worker_memory.py), cumulative.
ROLES = (("respondents", "RSS resp."), ("manager pages", "+manager"), ("quality", "+quality"))
#: bench_dashboard --large-units: one team of 2,000 or 20,000 responses a wave.
UNIT_PAGES = ("team page", "team page, counted afresh", "department page")


def _format(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.rjust(width) if i else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def summary(results: dict) -> str:
    parts = []
    submission = defaultdict(dict)
    ratios = {}
    for entry in results.get("submission", []):
        key = (entry["database"], entry["size"])
        submission[key][entry["name"]] = entry["value"]
        if entry.get("ratio_to_floor") is not None:
            ratios[key] = entry["ratio_to_floor"]
    if submission:
        rows = [["database, respondents", *[label for _, label in SUBMISSION], "÷ one-form /q"]]
        measured = [k for k in submission if k[1].endswith("concurrent")]
        for key in sorted(measured, key=lambda k: (k[0], int(k[1].split()[0]))):
            figures = submission[key]
            rows.append(
                [f"{key[0]}, {key[1]}"]
                + [_format(figures.get(name)) for name, _ in SUBMISSION]
                + [f"{ratios[key]:.3g}" if key in ratios else "–"]
            )
        title = "Submission throughput (the whole respondent flow against the two floors):"
        parts.append(f"{title}\n{_table(rows)}")
    pages = defaultdict(dict)
    for entry in results.get("quality", []):
        pages[(entry["database"], entry["size"].split(":")[0])][entry["name"]] = entry["value"]
    if pages:
        rows = [
            [
                "database, size",
                *[f"{page} p95 ms" for page in PAGES],
                *[f"{label} MB" for _, label in ROLES],
                "worker peak RSS MB",
            ]
        ]
        order = {"small": 0, "medium": 1, "large": 2}
        for key in sorted(pages, key=lambda k: (k[0], order.get(k[1], 9))):
            figures = pages[key]
            rows.append(
                [f"{key[0]}, {key[1]}"]
                + [_format(figures.get(f"{page} p95")) for page in PAGES]
                + [_format(figures.get(f"worker RSS after {role}")) for role, _ in ROLES]
                + [_format(figures.get("gunicorn worker peak RSS (after these pages)"))]
            )
        parts.append("Pages by organisation size (Flask test client; RSS from gunicorn):\n"
                     + _table(rows))  # fmt: skip
    parts += _two_servers(results)
    parts.extend(_large_units(results))
    return "\n\n".join(parts)


def _two_servers(results: dict) -> list[str]:
    """tests/reliability/check_two_servers.py's figures, if it ran."""
    prefix = "two servers: "
    entries = [e for e in results.get("reliability", []) if e["name"].startswith(prefix)]
    if not entries:
        return []
    rows = [["figure", "value"]]
    rows += [[e["name"].removeprefix(prefix), _format(e["value"])] for e in entries]
    return [f"Two app servers, one database and one Redis ({entries[0]['size']}):\n" + _table(rows)]


def _large_units(results: dict) -> list[str]:
    units: dict[tuple[str, int], dict[str, float]] = defaultdict(dict)
    for entry in results.get("dashboard", []):
        if entry["size"].startswith("issue-19"):
            responses = int(entry["size"].rsplit("× ", 1)[-1])
            units[(entry["database"], responses)][entry["name"]] = entry["value"]
    if not units:
        return []
    rows = [["database, responses", *[f"{page} p95 ms" for page in UNIT_PAGES], "first ms"]]
    for key in sorted(units):
        figures = units[key]
        rows.append(
            [f"{key[0]}, {key[1]:,}"]
            + [_format(figures.get(f"{page} p95")) for page in UNIT_PAGES]
            + [_format(figures.get("team page, first request"))]
        )
    return ["Results page of one large team (Flask test client):\n" + _table(rows)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh-postgresql", metavar="NAME")
    arguments = parser.parse_args(argv)
    if arguments.fresh_postgresql:
        with contextlib.redirect_stdout(sys.stderr):  # its messages, not the URL
            opened = postgresql_database(arguments.fresh_postgresql)
            url = opened.__enter__()
        print(url or "")
        return 0
    if not RESULTS_FILE.exists():
        print(f"No results yet ({RESULTS_FILE}): run make bench.", file=sys.stderr)
        return 1
    print(summary(json.loads(RESULTS_FILE.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
