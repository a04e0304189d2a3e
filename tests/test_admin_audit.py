"""The audit log page: newest first, 50 a page, filters by actor, action and dates, readable
rows, and CSV/Excel exports of the filtered events that are themselves audited."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from survey.extensions import db
from survey.models import AuditEvent, Role
from tests.conftest import login

ADMIN = "admin@example.org"


@pytest.fixture
def admin(client, make_account):
    make_account(ADMIN, Role.ADMIN)
    assert login(client, ADMIN).status_code == 302
    client.get("/language/en")
    return client


def add_event(
    action: str, at: datetime, actor: str = "beheer@example.org", target: str = "", **details
) -> AuditEvent:
    event = AuditEvent(actor=actor, action=action, target=target, details=details, at=at)
    db.session.add(event)
    db.session.commit()
    return event


@pytest.fixture
def log():
    """Three days of acts by two people (UTC times; the page shows them in UTC by default)."""
    add_event(
        "unit.create",
        datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        target="team-a",
        name="Team A",
        kind="team",
        parent="north",
    )
    add_event(
        "unit.rename",
        datetime(2026, 3, 2, 10, 30, tzinfo=UTC),
        target="team-a",
        old="Team A",
        new="Team Anker",
    )
    add_event(
        "settings.change",
        datetime(2026, 3, 2, 23, 59, tzinfo=UTC),
        actor="other@example.org",
        target="organisation",
        changes={"min_group_size": [5, 6], "languages": [["nl", "en"], ["nl"]]},
    )
    add_event("team_action.add", datetime(2026, 3, 3, 8, 0, tzinfo=UTC), target="team-a@1")
    add_event("wave.teleport", datetime(2026, 3, 3, 9, 0, tzinfo=UTC), target="x", cells=3)


def rows_of(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))).strip()
        for row in body.split("</tr>")[:-1]
    ]


def test_the_log_newest_first_with_readable_rows(admin, log):
    page = admin.get("/admin/audit").get_data(as_text=True)
    rows = rows_of(page)
    assert len(rows) == 5 and "5 events" in page
    assert rows[0].startswith("3/3/26, 9:00") and "wave.teleport" in rows[0]  # unknown: raw
    assert "cells 3" in rows[0]
    assert rows[1].startswith("3/3/26, 8:00") and "Team action recorded" in rows[1]
    assert "Settings changed" in rows[2] and "other@example.org" in rows[2]
    assert "min_group_size 5 → 6" in rows[2] and "languages nl, en → nl" in rows[2]
    assert "Unit renamed" in rows[3] and "old Team A new Team Anker" in rows[3]
    assert rows[4].startswith("3/1/26, 9:00") and "Unit created" in rows[4]
    assert "parent north" in rows[4]


def test_filters_by_actor_action_and_dates(admin, log):
    def shown(**args) -> list[str]:
        reply = admin.get("/admin/audit", query_string=args)
        assert reply.status_code == 200
        return (
            rows_of(reply.get_data(as_text=True))
            if "<tbody>" in reply.get_data(as_text=True)
            else []
        )

    assert len(shown(actor="other@example.org")) == 1
    assert len(shown(actor="beheer@example.org")) == 4
    units = shown(action="unit.")
    assert len(units) == 2 and all("Unit " in row for row in units)
    assert len(shown(action="team_")) == 1  # "_" is not a wildcard
    assert len(shown(action="settings")) == 1
    assert len(shown(since="2026-03-02", until="2026-03-02")) == 2  # both ends included
    assert len(shown(since="2026-03-03")) == 2
    assert len(shown(until="2026-03-01")) == 1
    assert len(shown(actor="beheer@example.org", action="unit.", since="2026-03-02")) == 1
    empty = admin.get("/admin/audit", query_string={"action": "account."})
    assert "No events match these filters." in empty.get_data(as_text=True)


@pytest.mark.parametrize(
    "args, message",
    [
        ({"since": "2026-02-30"}, "Fill in a date as year-month-day"),
        ({"until": "yesterday"}, "Fill in a date as year-month-day"),
        ({"since": "0001-01-01"}, "Fill in a date from 2000 to 2199."),
        ({"until": "9999-12-31"}, "Fill in a date from 2000 to 2199."),
        ({"since": "2026-03-03", "until": "2026-03-01"}, "The end date is before the start date."),
        ({"action": "unit.%"}, "Use lower-case letters, digits, dots and underscores"),
        ({"action": "x" * 65}, "Use at most 64 characters."),
        ({"actor": "nobody@example.org"}, "Choose someone from the list."),
    ],
)
def test_invalid_filters_get_a_clear_message(admin, log, args, message):
    reply = admin.get("/admin/audit", query_string=args)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert "There is a problem" in page and message in page
    assert "<tbody>" not in page
    for value in args.values():
        if "@" not in value:
            assert f'value="{html.escape(value)}"' in page  # what was typed stays
    export = admin.get("/admin/audit.csv", query_string=args)
    assert export.status_code == 422


def test_pagination_50_a_page_and_bad_pages(admin):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.add_all(
        AuditEvent(
            actor="a@example.org",
            action="unit.create",
            target=f"team-{n:03d}",
            details={},
            at=start + timedelta(minutes=n),
        )
        for n in range(120)
    )
    db.session.commit()
    first = admin.get("/admin/audit").get_data(as_text=True)
    assert "page 1 of 3" in first and len(rows_of(first)) == 50
    assert "team-119" in first and "team-069" not in first
    third = admin.get("/admin/audit?page=3").get_data(as_text=True)
    assert len(rows_of(third)) == 20 and "team-000" in third
    assert 'href="/admin/audit?page=2"' in third
    filtered = admin.get("/admin/audit?action=unit.&page=2").get_data(as_text=True)
    assert 'href="/admin/audit?page=3&amp;action=unit."' in filtered
    for bad in ("4", "0", "-1", "abc", "1e9", "99999", str(10**20), ""):
        assert admin.get(f"/admin/audit?page={bad}").status_code == 404, bad


def test_csv_export_holds_the_filtered_rows_and_is_audited(admin, log):
    reply = admin.get("/admin/audit.csv?action=unit.")
    assert reply.status_code == 200 and reply.mimetype == "text/csv"
    assert "attachment" in reply.headers["Content-Disposition"]
    text = reply.get_data(as_text=True).lstrip("\ufeff")
    # English: commas; one header row, no title line above it
    rows = list(csv.reader(io.StringIO(text), delimiter=","))
    assert rows[0] == ["When", "Who", "Action", "What", "Target", "Details"]
    assert rows[1] == [
        "2026-03-02 10:30:00",
        "beheer@example.org",
        "unit.rename",
        "Unit renamed",
        "team-a",
        "old: Team A; new: Team Anker",
    ]
    assert len(rows) == 3 and rows[2][2] == "unit.create"
    (event,) = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "audit.export")
    ).all()
    assert event.actor == ADMIN and event.target == "csv"
    assert event.details == {"rows": 2, "filters": {"action": "unit."}}
    # the export shows up in the log itself, newest first
    assert "Audit log exported" in rows_of(admin.get("/admin/audit").get_data(as_text=True))[0]


def test_xlsx_export(admin, log):
    reply = admin.get("/admin/audit.xlsx?actor=other@example.org")
    assert reply.status_code == 200
    sheet = load_workbook(io.BytesIO(reply.get_data())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == "When" and len(values) == 2
    assert values[1][3] == "Settings changed"
    assert values[1][5] == "min_group_size: 5 → 6; languages: nl, en → nl"


def test_an_export_cannot_smuggle_a_formula_into_a_spreadsheet(admin):
    add_event("unit.rename", datetime(2026, 3, 1, tzinfo=UTC), target='=HYPERLINK("x")')
    sheet = load_workbook(io.BytesIO(admin.get("/admin/audit.xlsx").get_data())).active
    assert sheet.cell(2, 5).value == '=HYPERLINK("x")' and sheet.cell(2, 5).data_type == "s"
    text = admin.get("/admin/audit.csv").get_data().decode("utf-8-sig")
    renamed = next(row for row in csv.reader(io.StringIO(text)) if row[2] == "unit.rename")
    assert renamed[4] == '\'=HYPERLINK("x")'


def test_other_formats_are_404(admin, log):
    for fmt in ("pdf", "json", "csv.exe"):
        assert admin.get(f"/admin/audit.{fmt}").status_code == 404
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "audit.export")
        )
        == 0
    )


def test_times_are_shown_in_the_configured_time_zone(app, admin):
    # as BABEL_DEFAULT_TIMEZONE = "Europe/Brussels" in the configuration would
    app.extensions["babel"].default_timezone = "Europe/Brussels"
    add_event("unit.create", datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert rows_of(page)[0].startswith("3/2/26, 12:30")  # 00:30 on 2 March in Brussels
    # and a day filter means that day there
    assert "1 event" in admin.get("/admin/audit?since=2026-03-02").get_data(as_text=True)
    assert "No events" in admin.get("/admin/audit?until=2026-03-01").get_data(as_text=True)


@pytest.mark.parametrize(
    "email, role", [("q@example.org", Role.QUALITY), ("m@example.org", Role.MANAGER)]
)
def test_only_administrators_read_or_export_the_log(client, make_account, log, email, role):
    make_account(email, role)
    login(client, email)
    for url in (
        "/admin/audit",
        "/admin/audit.csv",
        "/admin/audit.xlsx",
        "/admin/settings",
        "/admin/units",
        "/admin/units/import",
    ):
        assert client.get(url).status_code == 403, url
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "audit.export")
        )
        == 0
    )


def test_a_nul_byte_in_a_filter_is_a_clear_422_on_every_database(admin, log):
    for args in ({"actor": "a\x00"}, {"action": "unit\x00"}, {"since": "2026\x00"}):
        assert admin.get("/admin/audit", query_string=args).status_code == 422
        assert admin.get("/admin/audit.csv", query_string=args).status_code == 422
