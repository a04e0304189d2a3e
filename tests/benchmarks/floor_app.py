"""The floors: the least a web app must do to take the same questionnaire, two ways.

**The one-form floor** (``/floor/<slug>``): one plain form with every item of the wave's
questionnaire (GET), and one POST that stores the same rows as Krachtspiegel does (a response,
its answers, its scale scores) with raw SQL in one transaction. No sessions, CSRF, drafts,
templates, ORM or translations: what any survey app must at least spend per questionnaire.

**The same-flow floor** (``/t/<slug>``, ``/respond/...``: the product's own paths, so that
``loadgen.fill_in_questionnaire`` walks it request for request): the landing page, a POST that
starts a server-side draft row, every page of the product's paging GET and POST (redirect after
post), each POST merging the page's answers into the draft row, the review, the submission
(draft deleted, response + answers + scale scores in one transaction) and the thanks page. A
CSRF token in every form (Flask's signed session cookie + ``secrets``), checked on every POST.
Still raw Flask + sqlite3/psycopg: no ORM, no WTForms, no Jinja, no translations. What it costs
per questionnaire is what the product's flow (its number of requests, a decision) costs at
least; the product's rate as a share of it is the cost of each request.

Served by gunicorn like the app: ``FLOOR_DATABASE_URL=... FLOOR_WAVE_ID=... gunicorn
tests.benchmarks.floor_app:app``.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import uuid
from datetime import date
from html import escape

from flask import Flask, abort, redirect, request, session

from questionnaires import Instrument
from questionnaires.paging import instrument_pages
from reports.scores import enough_answered, reversed_value, scale_score

DATABASE_URL = os.environ["FLOOR_DATABASE_URL"]
WAVE_ID = int(os.environ["FLOOR_WAVE_ID"])
SQLITE = DATABASE_URL.startswith("sqlite")


def connect():
    if SQLITE:
        connection = sqlite3.connect(DATABASE_URL.removeprefix("sqlite:///"), timeout=30)
        # The product's settings (survey.extensions.configure_sqlite), durability included:
        # SQLite's default ``synchronous = FULL`` syncs the log at every commit, so a stored
        # questionnaire survives a power cut. The floor used ``NORMAL`` before (no sync per
        # commit): with 11 commits per questionnaire in the same flow, most of the product's
        # time on SQLite would have been that difference, not the cost of its requests.
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA secure_delete = ON")
        return connection
    import psycopg

    # Autocommit: a read runs on its own, and every write is in ``connection.transaction()``
    # (without it a read would leave a transaction open, and the writes would be savepoints).
    return psycopg.connect(
        DATABASE_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    )


_local = threading.local()


def connection():
    """This worker's (thread's) connection, kept open as any server keeps a pool."""
    if getattr(_local, "connection", None) is None:
        _local.connection = connect()
    return _local.connection


PLACEHOLDER = "?" if SQLITE else "%s"


def sql(text: str) -> str:
    return text.replace("?", PLACEHOLDER)


def _load() -> tuple[Instrument, dict[str, int]]:
    connection = connect()
    try:
        definition = connection.execute(
            sql(
                "SELECT v.definition FROM waves w JOIN questionnaire_versions v"
                " ON v.id = w.questionnaire_version_id WHERE w.id = ?"
            ),
            (WAVE_ID,),
        ).fetchone()[0]
        teams = dict(
            connection.execute(
                sql("SELECT link_slug, unit_id FROM wave_teams WHERE wave_id = ?"), (WAVE_ID,)
            ).fetchall()
        )
    finally:
        connection.close()
    if isinstance(definition, str):
        definition = json.loads(definition)
    return Instrument.from_dict(definition), teams


INSTRUMENT, TEAMS = _load()
ITEMS = {item.code: item for item in INSTRUMENT.all_items()}
SCALES = [
    (scale.code, {item.code: item.reverse for item in scale.items}) for scale in INSTRUMENT.scales()
]


def _item_html(item) -> str:
    text = escape(item.text["nl"])
    name = f"item-{item.code}"
    if item.type == "text":
        return f'<p><label>{text}<textarea name="{name}"></textarea></label></p>'
    if item.type == "grid":
        boxes = "".join(
            f'<label><input type="checkbox" name="{name}" value="{row.code}:{column.code}">'
            f"{escape(row.label['nl'])} {escape(column.label['nl'])}</label>"
            for row in item.rows
            for column in item.columns
        )
        return f"<fieldset><legend>{text}</legend>{boxes}</fieldset>"
    options = [(str(value), label["nl"]) for value, label in item.item_type.choices(item)]
    if item.dont_know:
        options.append(("dk", "Weet ik niet"))
    radios = "".join(
        f'<label><input type="radio" name="{name}" value="{value}">{escape(label)}</label>'
        for value, label in options
    )
    return f"<fieldset><legend>{text}</legend>{radios}</fieldset>"


PAGE = (
    "<!doctype html><html lang=nl><title>Vragenlijst</title><form method=post>"
    + "".join(_item_html(item) for item in ITEMS.values())
    + "<button>Verzenden</button></form></html>"
)

app = Flask(__name__)


@app.get("/health")
def health():
    return "ok"


@app.get("/floor/<slug>")
def page(slug: str):
    if slug not in TEAMS:
        abort(404)
    return PAGE


def _parsed(form, items: dict) -> dict[str, dict]:
    """The posted answers to ``items``, in the draft's form (as the product keeps them)."""
    answers: dict[str, dict] = {}
    for name, posted in form.items(multi=True):
        code = name.removeprefix("item-")
        item = items.get(code)
        if item is None or not posted.strip():
            continue
        if item.type == "grid":
            row, _, column = posted.partition(":")
            answers.setdefault(code, {"cells": []})["cells"].append([row, column])
        elif item.type == "text":
            answers[code] = {"text": posted[: item.max_length]}
        elif posted == "dk":
            answers[code] = {"dont_know": True}
        elif posted.isdigit() and int(posted) in item.valid_values:
            answers[code] = {"value": int(posted)}
    return answers


def _rows(response_id, answers: dict[str, dict]) -> tuple[list[tuple], list[tuple]]:
    """The answer rows and scale score rows of one response."""
    rows, values = [], {}
    for code, answer in answers.items():
        if "cells" in answer:
            cells = dict.fromkeys((row, column) for row, column in answer["cells"])
            rows += [(response_id, code, row, column, None, False, None) for row, column in cells]
        elif "text" in answer:
            rows.append((response_id, code, "", "", None, False, answer["text"]))
        elif answer.get("dont_know"):
            rows.append((response_id, code, "", "", None, True, None))
        elif "value" in answer:
            values[code] = answer["value"]
            rows.append((response_id, code, "", "", answer["value"], False, None))
    scores = []
    for scale_code, reverse in SCALES:
        answered = [
            reversed_value(values[c]) if reverse[c] else values[c] for c in reverse if c in values
        ]
        if answered and enough_answered(len(answered), len(reverse)):
            scores.append((response_id, scale_code, scale_score(sum(answered), len(answered))))
    return rows, scores


def _transaction(connection):
    """One transaction: sqlite3's ``with connection`` commits (or rolls back); psycopg's closes
    the connection, so there it is ``connection.transaction()``."""
    return connection if SQLITE else connection.transaction()


@app.post("/floor/<slug>")
def submit(slug: str):
    unit_id = TEAMS.get(slug)
    if unit_id is None:
        abort(404)
    database = connection()
    with _transaction(database):
        _store_response(database.cursor(), unit_id, _parsed(request.form, ITEMS))
    return redirect(f"/floor/{slug}/thanks", 303)


def _new_id():
    return uuid.uuid4().hex if SQLITE else uuid.uuid4()


def _today():
    return date.today().isoformat() if SQLITE else date.today()


def _store_response(cursor, unit_id: int, answers: dict[str, dict]) -> None:
    """A response, its answers and its scale scores (the caller's transaction)."""
    response_id = _new_id()
    rows, scores = _rows(response_id, answers)
    cursor.execute(
        sql(
            "INSERT INTO responses (id, wave_id, unit_id, submitted_on, language)"
            " VALUES (?, ?, ?, ?, 'nl')"
        ),
        (response_id, WAVE_ID, unit_id, _today()),
    )
    cursor.executemany(
        sql(
            "INSERT INTO answers (response_id, item_code, grid_row, grid_column, value,"
            " dont_know, text) VALUES (?, ?, ?, ?, ?, ?, ?)"
        ),
        rows,
    )
    cursor.executemany(
        sql("INSERT INTO scale_scores (response_id, scale_code, score) VALUES (?, ?, ?)"),
        scores,
    )


# --- the same-flow floor ----------------------------------------------------------------------

app.secret_key = os.environ.get("FLOOR_SECRET_KEY", "floor-benchmark-only")
PAGES = instrument_pages(INSTRUMENT)
PAGE_ITEMS = [{item.code: item for item in page.all_items()} for page in PAGES]
#: Every page's items as first shown (nothing answered): the same HTML for everyone, kept (the
#: product keeps it too, ``respond.views._fresh_items_html``).
PAGE_HTML = ["".join(_item_html(item) for item in items.values()) for items in PAGE_ITEMS]
JSON_PARAM = "?" if SQLITE else "%s::json"


def _html(title: str, body: str) -> str:
    return f"<!doctype html><html lang=nl><title>{escape(title)}</title><main>{body}</main></html>"


def _csrf_token() -> str:
    """This session's CSRF token, made once (``secrets``) and kept in the signed session."""
    token = session.get("csrf")
    if token is None:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _form(action: str, body: str, button: str) -> str:
    token = _csrf_token()
    return (
        f'<form method=post action="{action}"><input type="hidden" name="csrf_token"'
        f' value="{token}">{body}<button name="action" value="next">{button}</button></form>'
    )


def _check_csrf() -> None:
    token, posted = session.get("csrf"), request.form.get("csrf_token", "")
    if token is None or not secrets.compare_digest(token, posted):
        abort(400)


def _draft() -> tuple[object, dict, int]:
    """The session's draft: its id, answers and furthest page; 404 without one."""
    draft_id = session.get("draft")
    row = None
    if draft_id is not None:
        row = (
            connection()
            .execute(sql("SELECT answers, step FROM drafts WHERE id = ?"), (draft_id,))
            .fetchone()
        )
    if row is None:
        abort(404)
    answers = json.loads(row[0]) if isinstance(row[0], str) else row[0]
    return draft_id, answers, row[1]


@app.route("/t/<slug>", methods=["GET", "POST"])
def landing(slug: str):
    unit_id = TEAMS.get(slug)
    if unit_id is None:
        abort(404)
    if request.method == "GET":
        return _html("Vragenlijst", "<h1>Vragenlijst</h1>" + _form("", "", "Beginnen"))
    _check_csrf()
    draft_id, database = _new_id(), connection()
    with _transaction(database):
        database.execute(
            sql(
                "INSERT INTO drafts (id, wave_id, unit_id, answers, step, expires_on)"
                f" VALUES (?, ?, ?, {JSON_PARAM}, 1, ?)"
            ),
            (draft_id, WAVE_ID, unit_id, "{}", _today()),
        )
    session["draft"] = str(draft_id)
    return redirect("/respond/1")


@app.route("/respond/<int:number>", methods=["GET", "POST"])
def floor_page(number: int):
    if not 1 <= number <= len(PAGES):
        abort(404)
    if request.method == "GET":
        _draft()  # the page shows nothing without a draft
        body = PAGE_HTML[number - 1]
        return _html(f"Pagina {number}", f"<h1>Pagina {number}</h1>" + _form("", body, "Verder"))
    _check_csrf()
    draft_id, answers, step = _draft()
    items = PAGE_ITEMS[number - 1]
    kept = {code: answer for code, answer in answers.items() if code not in items}
    kept.update(_parsed(request.form, items))
    database = connection()
    with _transaction(database):
        database.execute(
            sql(f"UPDATE drafts SET answers = {JSON_PARAM}, step = ? WHERE id = ?"),
            (json.dumps(kept), max(step, number + 1), draft_id),
        )
    return redirect("/respond/review" if number == len(PAGES) else f"/respond/{number + 1}")


def _shown(answer: dict | None) -> str:
    if answer is None:
        return "Niet beantwoord"
    if "cells" in answer:
        return ", ".join(f"{row} {column}" for row, column in answer["cells"])
    if "text" in answer:
        return escape(answer["text"])
    return "Weet ik niet" if answer.get("dont_know") else str(answer["value"])


@app.get("/respond/review")
def floor_review():
    _, answers, _ = _draft()
    body = "".join(
        f"<dt>{escape(item.text['nl'])}</dt><dd>{_shown(answers.get(code))}</dd>"
        for code, item in ITEMS.items()
    )
    submit = _form("/respond/submit", "", "Verzenden")
    return _html("Nakijken", f"<h1>Nakijken</h1><dl>{body}</dl>{submit}")


@app.post("/respond/submit")
def floor_submit():
    _check_csrf()
    draft_id = session.get("draft")
    database = connection()
    with _transaction(database):
        cursor = database.cursor()
        cursor.execute(
            sql("DELETE FROM drafts WHERE id = ? RETURNING unit_id, answers"), (draft_id,)
        )
        row = cursor.fetchone()
        if row is not None:
            answers = json.loads(row[1]) if isinstance(row[1], str) else row[1]
            _store_response(cursor, row[0], answers)
    if row is None:
        abort(404)
    session.pop("draft")
    return redirect("/respond/thanks")


@app.get("/respond/thanks")
def floor_thanks():
    return _html("Bedankt", "<h1>Bedankt</h1><p>Je antwoorden zijn opgeslagen.</p>")
