"""The floor: the least a web app must do to take the same questionnaire.

One plain form with every item of the wave's questionnaire (GET), and one POST that stores the
same rows as Krachtspiegel does (a response, its answers, its scale scores) with raw SQL in one
transaction. No sessions, CSRF, drafts, templates, ORM or translations: what it costs per
questionnaire is what any survey app must at least spend, and the submission benchmark prints
Krachtspiegel's rate as a ratio of it.

Served by gunicorn like the app: ``FLOOR_DATABASE_URL=... FLOOR_WAVE_ID=... gunicorn
tests.benchmarks.floor_app:app``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from datetime import date
from html import escape

from flask import Flask, abort, redirect, request

from questionnaires import Instrument
from reports.scores import enough_answered, reversed_value, scale_score

DATABASE_URL = os.environ["FLOOR_DATABASE_URL"]
WAVE_ID = int(os.environ["FLOOR_WAVE_ID"])
SQLITE = DATABASE_URL.startswith("sqlite")


def connect():
    if SQLITE:
        connection = sqlite3.connect(DATABASE_URL.removeprefix("sqlite:///"), timeout=30)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        return connection
    import psycopg

    return psycopg.connect(DATABASE_URL.replace("postgresql+psycopg://", "postgresql://"))


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


def _rows(response_id) -> tuple[list[tuple], list[tuple]]:
    answers, values = [], {}
    for name, posted in request.form.items(multi=True):
        code = name.removeprefix("item-")
        item = ITEMS.get(code)
        if item is None or not posted.strip():
            continue
        if item.type == "grid":
            row, _, column = posted.partition(":")
            answers.append((response_id, code, row, column, None, False, None))
        elif item.type == "text":
            answers.append((response_id, code, "", "", None, False, posted[: item.max_length]))
        elif posted == "dk":
            answers.append((response_id, code, "", "", None, True, None))
        elif posted.isdigit() and int(posted) in item.valid_values:
            values[code] = int(posted)
            answers.append((response_id, code, "", "", int(posted), False, None))
    scores = []
    for scale_code, reverse in SCALES:
        answered = [
            reversed_value(values[c]) if reverse[c] else values[c] for c in reverse if c in values
        ]
        if answered and enough_answered(len(answered), len(reverse)):
            scores.append((response_id, scale_code, scale_score(sum(answered), len(answered))))
    return answers, scores


def _transaction(connection):
    """One transaction: sqlite3's ``with connection`` commits (or rolls back); psycopg's closes
    the connection, so there it is ``connection.transaction()``."""
    return connection if SQLITE else connection.transaction()


@app.post("/floor/<slug>")
def submit(slug: str):
    unit_id = TEAMS.get(slug)
    if unit_id is None:
        abort(404)
    response_id = uuid.uuid4().hex if SQLITE else uuid.uuid4()
    answers, scores = _rows(response_id)
    today = date.today().isoformat() if SQLITE else date.today()
    database = connection()
    with _transaction(database):
        cursor = database.cursor()
        cursor.execute(
            sql(
                "INSERT INTO responses (id, wave_id, unit_id, submitted_on, language)"
                " VALUES (?, ?, ?, ?, 'nl')"
            ),
            (response_id, WAVE_ID, unit_id, today),
        )
        cursor.executemany(
            sql(
                "INSERT INTO answers (response_id, item_code, grid_row, grid_column, value,"
                " dont_know, text) VALUES (?, ?, ?, ?, ?, ?, ?)"
            ),
            answers,
        )
        cursor.executemany(
            sql("INSERT INTO scale_scores (response_id, scale_code, score) VALUES (?, ?, ?)"),
            scores,
        )
    return redirect(f"/floor/{slug}/thanks", 303)
