"""Staff lists per team (issue 18): the import from CSV or XLSX with its preview per team, the
replace mode, every refused row and file, the stale or tampered confirmation, a team's own list
page (add, remove, remove all, take the count as the expected staff), the audit log with
counts only, and administrators only."""

from __future__ import annotations

import html
import io
import re
import time
import zipfile
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEvent, Role, StaffMember, Unit
from tests.conftest import csrf_token, login

ADMIN = "admin@example.org"


@pytest.fixture
def admin(client, make_account, tree):
    make_account(ADMIN, Role.ADMIN)
    assert login(client, ADMIN).status_code == 302
    client.get("/language/en")  # the messages below are the English ones
    return client


def token(client) -> str:
    return csrf_token(client, "/admin/units/staff-import")


def upload(client, content: bytes | str, name: str = "staff.csv", replace: bool = False):
    """Post the file as a browser does (the body built here, as in tests/test_admin_units.py)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    boundary = "----krachtspiegel-test-boundary"
    fields = {"csrf_token": token(client), **({"replace": "y"} if replace else {})}
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
        for key, value in fields.items()
    )
    body = (
        (
            head + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(
        "/admin/units/staff-import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def hidden_plan(page: str) -> str:
    match = re.search(r'<input name="plan" type="hidden" value="([^"]*)"', page)
    assert match, "no plan in the confirm form"
    return html.unescape(match.group(1))


def confirm(client, plan: str):
    return client.post(
        "/admin/units/staff-import/confirm",
        data={"csrf_token": token(client), "plan": plan, "file_name": "staff.csv"},
    )


def post(client, url: str, data: dict | None = None):
    return client.post(url, data={"csrf_token": token(client), **(data or {})})


def lists() -> dict[str, dict[str, str]]:
    """team slug → {address: language}."""
    db.session.expire_all()
    result: dict[str, dict[str, str]] = {}
    for slug, email, language in db.session.execute(
        sa.select(Unit.slug, StaffMember.email, StaffMember.language).join(StaffMember.unit)
    ):
        result.setdefault(slug, {})[email] = language
    return result


def events(prefix: str = "staff.") -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action.startswith(prefix))
            .order_by(AuditEvent.id)
        )
    )


def add_members(team: Unit, *emails: str, language: str = "nl") -> None:
    for email in emails:
        db.session.add(StaffMember(unit_id=team.id, email=email, language=language))
    db.session.commit()


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def row_of(page: str, slug: str) -> tuple[int, int, int]:
    """(to add, to remove, kept) of a team in the preview."""
    match = re.search(
        rf'<tr data-team="{slug}">.*?<td data-added>(\d+)</td><td data-removed>(\d+).*?'
        r"<td data-kept>(\d+)</td>",
        page,
    )
    assert match, f"no row for {slug}"
    return tuple(int(value) for value in match.groups())


ROWS = [
    ["team", "email", "language"],
    ["team-a", "An.Peeters@Example.org", "nl"],
    ["Team A", "sam@example.org", "en"],
    ["team-b", "lien@example.org", ""],
]


def as_csv(rows: list[list[object]], separator: str) -> str:
    return "\n".join(separator.join(str(value) for value in row) for row in rows) + "\n"


FILES = {
    "semicolon-with-bom": ("staff.csv", ("\ufeff" + as_csv(ROWS, ";")).encode()),
    "comma": ("staff.csv", as_csv(ROWS, ",").encode()),
    "windows-1252": ("staff.csv", as_csv(ROWS, ";").replace("\n", "\r\n").encode("cp1252")),
    "xlsx": ("staff.xlsx", xlsx(ROWS)),
}


# --- import -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", FILES)
def test_import_shows_counts_per_team_then_applies_on_confirmation(admin, tree, kind):
    name, content = FILES[kind]
    add_members(tree["team-a"], "old@example.org")
    reply = upload(admin, content, name)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200, page
    assert row_of(page, "team-a") == (2, 0, 1)  # the address not in the file stays
    assert row_of(page, "team-b") == (1, 0, 0)
    assert "3 addresses to add, 1 already on the lists; no address is removed" in page
    assert lists() == {"team-a": {"old@example.org": "nl"}}  # nothing yet
    reply = confirm(admin, hidden_plan(page))
    assert reply.status_code == 302 and reply.location == "/admin/units"
    assert lists() == {
        "team-a": {
            "an.peeters@example.org": "nl",
            "sam@example.org": "en",
            "old@example.org": "nl",
        },
        "team-b": {"lien@example.org": "nl"},  # the organisation's first language
    }
    (event,) = events()
    assert event.action == "staff.import" and event.target == "2 teams"
    assert event.details == {
        "replace": False,
        "rows": 3,
        "teams": {
            "team-a": {"added": 2, "removed": 0, "language": 0},
            "team-b": {"added": 1, "removed": 0, "language": 0},
        },
    }
    assert "@" not in repr((event.target, event.details))
    units_page = admin.get("/admin/units").get_data(as_text=True)
    assert "3 addresses added, 0 removed, for 2 teams" in units_page
    # the same file again: nothing left to change, so nothing to confirm
    again = upload(admin, content, name).get_data(as_text=True)
    assert "Nothing to change" in again and 'name="plan"' not in again


def test_replacing_removes_what_is_not_in_the_file_only_for_its_teams(admin, tree):
    add_members(tree["team-a"], "stays@example.org", "goes@example.org", "lang@example.org")
    add_members(tree["team-c"], "other-team@example.org")
    text = "team,email,language\nteam-a,stays@example.org,\nteam-a,lang@example.org,en\n"
    page = upload(admin, text, replace=True).get_data(as_text=True)
    assert row_of(page, "team-a") == (0, 1, 1)
    assert "0 addresses to add, 1 to remove, 1 already on the lists" in page
    assert confirm(admin, hidden_plan(page)).status_code == 302
    assert lists() == {
        "team-a": {"stays@example.org": "nl", "lang@example.org": "en"},
        "team-c": {"other-team@example.org": "nl"},
    }
    (event,) = events()
    assert event.details["replace"] is True
    assert event.details["teams"] == {"team-a": {"added": 0, "removed": 1, "language": 1}}


def test_every_refused_row_is_listed_with_its_line_and_nothing_is_imported(admin, tree, make_unit):
    tree["team-c"].archived_on = date(2025, 1, 1)
    twin = make_unit("team-a-2", parent=tree["south"])
    twin.name = "Team B"  # two units called Team B
    db.session.commit()
    text = (
        "team;email;language\n"
        "team-a;ok@example.org;nl\n"
        "team-x;a@example.org;\n"
        "north;b@example.org;\n"
        "team-c;c@example.org;\n"
        "team-a;not-an-address;\n"
        "team-a;d@example.org;fr\n"
        "team-a;OK@example.org;\n"
        ";e@example.org;\n"
        "team-a;;\n"
        "Team B;f@example.org;\n"
        "team-a;g@example.org;nl;extra\n"
        "team-a;h@localhost;\n"
    )
    reply = upload(admin, text)
    page = html.unescape(reply.get_data(as_text=True))
    assert reply.status_code == 422
    assert "12 rows cannot be imported" not in page and "Nothing has been imported" in page
    for line, fragment in [
        (3, "unknown team 'team-x'"),
        (4, "'north' is not a team"),
        (5, "team 'team-c' is archived"),
        (6, "'not-an-address' is not a valid e-mail address"),
        (7, "language 'fr' is unknown (nl or en)"),
        (8, "this address is already in the file for team 'team-a' (line 2)"),
        (9, "the team is empty"),
        (10, "the address is empty"),
        (11, "several units are called 'Team B'"),
        (12, "this row has more values than the first row has columns"),
        (13, "'h@localhost' is not a valid e-mail address"),
    ]:
        assert f"<tr><td>{line}</td><td>{fragment}" in page, (line, fragment)
    assert "11 rows cannot be imported" in page
    assert 'name="plan"' not in page
    assert lists() == {} and events() == []


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * 30_000_000)
    return out.getvalue()


def xlsx_with_dtd() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(xlsx(ROWS)))
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + data
            archive.writestr(member, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "content, name, status, message",
    [
        (b"", "staff.csv", 422, "The file is empty."),
        (b"  \r\n\n", "staff.csv", 422, "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "staff.csv", 422, "This is not a text file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "staff.xls", 422, "(.xls)"),
        (b"PK\x03\x04\x14\x00\x06\x00garbage", "staff.xlsx", 422, "cannot be read as an Excel"),
        (zip_bomb(), "staff.xlsx", 422, "unpacks to too much data"),
        (xlsx_with_dtd(), "staff.xlsx", 422, "cannot be read as an Excel"),
        (xlsx([]), "staff.xlsx", 422, "The file is empty."),
        ("team,email\nteam-a,a@example.org\n".encode("utf-16"), "staff.csv", 422, "UTF-16"),
        (b"name,mail\nteam-a,a@example.org\n", "s.csv", 422, "must name the columns: team,email"),
        (b"team,email,colour\nteam-a,a@example.org,red\n", "s.csv", 422, "unknown column(s)"),
        (b"team,email,mail\nteam-a,a@example.org,b\n", "s.csv", 422, "email appears twice"),
        (xlsx([["Team", "E-mail"], ["team-a", 42]]), "staff.xlsx", 422, "not a valid e-mail"),
        (b'team,email\nteam-a,"a@example.org\n', "staff.csv", 422, "not a readable CSV file"),
        (b"team,email\n", "staff.csv", 422, "no addresses below its first row"),
        (
            b"team,email\n" + b"team-a,a@example.org\n" * 10_001,
            "staff.csv",
            422,
            "more than 10000 rows",
        ),
        (
            xlsx([["team", "email"]] + [["team-a", "a@example.org"]] * 10_001),
            "staff.xlsx",
            422,
            "more than 10000 rows",
        ),
        (b"team,email\n" + b"team-a,a@example.org\n" * 30_000, "s.csv", 413, "larger than 500 kB"),
        (b"team,email\n" + b"team-a,a@example.org\n" * 150_000, "s.csv", 413, "larger than"),
    ],
)
def test_hostile_and_broken_files_get_a_clear_message(admin, content, name, status, message):
    reply = upload(admin, content, name)
    assert reply.status_code == status
    assert message in html.unescape(reply.get_data(as_text=True))
    assert lists() == {} and events() == []


def test_a_confirmation_of_lists_changed_meanwhile_is_refused_then_can_be_confirmed_again(
    admin, tree
):
    page = upload(admin, "team,email\nteam-a,new@example.org\n", replace=True).get_data(
        as_text=True
    )
    plan = hidden_plan(page)
    # meanwhile, someone adds an address to team A (which the replacement would now remove)
    add_members(tree["team-a"], "added-meanwhile@example.org")
    reply = confirm(admin, plan)
    stale = reply.get_data(as_text=True)
    assert reply.status_code == 409
    assert "The staff lists changed meanwhile" in stale and "nothing has been imported" in stale
    assert row_of(stale, "team-a") == (1, 1, 0)
    assert lists() == {"team-a": {"added-meanwhile@example.org": "nl"}}
    assert events() == []
    assert confirm(admin, hidden_plan(stale)).status_code == 302
    assert lists() == {"team-a": {"new@example.org": "nl"}}


def test_the_confirmation_checks_the_rows_again_and_refuses_a_changed_plan(admin, tree):
    page = upload(admin, "team,email\nteam-a,new@example.org\n").get_data(as_text=True)
    plan = hidden_plan(page)
    tree["team-a"].archived_on = date(2025, 1, 1)
    db.session.commit()
    reply = confirm(admin, plan)
    assert reply.status_code == 422
    assert "team 'team-a' is archived" in html.unescape(reply.get_data(as_text=True))
    tree["team-a"].archived_on = None
    db.session.commit()
    for forged in (plan[:-2] + "xx", "not a plan", plan.replace(".", "", 1)):
        reply = confirm(admin, forged)
        assert reply.status_code == 422
        assert "expired or was changed" in reply.get_data(as_text=True)
    empty = confirm(admin, "")
    assert empty.status_code == 422 and "did not arrive" in empty.get_data(as_text=True)
    assert lists() == {} and events() == []


# --- a team's list ----------------------------------------------------------------------------


def test_a_team_list_adds_removes_and_audits_without_addresses(admin, tree):
    url = "/admin/units/team-a/staff-list"
    reply = post(admin, url + "/add", {"email": " Jan.Peeters@Example.ORG ", "language": "en"})
    assert reply.status_code == 302 and reply.location == url
    post(admin, url + "/add", {"email": "an@example.org", "language": "nl"})
    assert lists() == {"team-a": {"jan.peeters@example.org": "en", "an@example.org": "nl"}}
    page = admin.get(url).get_data(as_text=True)
    assert "jan.peeters@example.org" in page and "<dd data-count>2</dd>" in page
    for data, message in [
        ({"email": "jan.peeters@example.org", "language": "nl"}, "already on the team"),
        ({"email": "nope", "language": "nl"}, "is not a valid e-mail address"),
        ({"email": "", "language": "nl"}, "Fill in the address."),
        ({"email": "b@example.org", "language": "fr"}, "Not a valid choice"),
    ]:
        reply = post(admin, url + "/add", data)
        assert reply.status_code == 422 and message in html.unescape(reply.get_data(as_text=True))
    member = db.session.scalar(sa.select(StaffMember).where(StaffMember.email == "an@example.org"))
    other = post(admin, "/admin/units/team-b/staff-list/remove", {"member": member.id})
    assert other.status_code == 302 and len(lists()["team-a"]) == 2  # not team B's address
    assert post(admin, url + "/remove", {"member": "x"}).status_code == 400
    assert post(admin, url + "/remove", {"member": member.id}).status_code == 302
    assert lists() == {"team-a": {"jan.peeters@example.org": "en"}}
    post(admin, url + "/add", {"email": "c@example.org", "language": "nl"})
    assert post(admin, url + "/remove-all").status_code == 302
    assert lists() == {}
    assert "2 addresses have been removed." in admin.get(url).get_data(as_text=True)
    logged = [(event.action, event.target, event.details) for event in events()]
    assert logged == [
        ("staff.add", "team-a", {"count": 1}),
        ("staff.add", "team-a", {"count": 2}),
        ("staff.remove", "team-a", {"removed": 1, "count": 1}),
        ("staff.add", "team-a", {"count": 2}),
        ("staff.remove", "team-a", {"removed": 2, "count": 0}),
    ]
    audit_page = admin.get("/admin/audit").get_data(as_text=True)
    export = admin.get("/admin/audit.csv").get_data(as_text=True)
    assert "Address added to a staff list" in audit_page
    assert "@example.org" not in audit_page.replace(ADMIN, "")
    assert "@example.org" not in export.replace(ADMIN, "")


def test_the_count_becomes_the_expected_staff_on_request(admin, tree):
    url = "/admin/units/team-a/staff-list"
    page = admin.get(url).get_data(as_text=True)
    assert "Set the expected number of staff" not in page  # an empty list has no number
    assert post(admin, url + "/expected-staff").status_code == 409
    add_members(tree["team-a"], "a@example.org", "b@example.org", "c@example.org")
    page = admin.get(url).get_data(as_text=True)
    assert "Set the expected number of staff to 3" in page
    assert post(admin, url + "/expected-staff").status_code == 302
    db.session.expire_all()
    assert db.session.get(Unit, tree["team-a"].id).staff == 3
    (event,) = events("unit.staff")
    assert event.details == {"old": None, "new": 3}
    assert "Set the expected number of staff" not in admin.get(url).get_data(as_text=True)


def test_an_archived_team_keeps_its_list_for_removal_only(admin, tree):
    add_members(tree["team-a"], "a@example.org")
    tree["team-a"].archived_on = date(2025, 1, 1)
    db.session.commit()
    url = "/admin/units/team-a/staff-list"
    page = admin.get(url).get_data(as_text=True)
    assert "Add an address" not in page and "a@example.org" in page
    reply = post(admin, url + "/add", {"email": "b@example.org", "language": "nl"})
    assert reply.status_code == 409 and "restore it before adding" in reply.get_data(as_text=True)
    assert post(admin, url + "/remove-all").status_code == 302 and lists() == {}


def test_the_units_pages_show_the_counts_and_link_the_lists(admin, tree):
    add_members(tree["team-b"], "a@example.org", "b@example.org")
    page = admin.get("/admin/units").get_data(as_text=True)
    assert re.search(r'data-staff-count="team-b">2 addresses<', page)
    assert re.search(r'data-staff-count="team-a">0 addresses<', page)
    assert 'data-staff-count="north"' not in page
    assert 'href="/admin/units/staff-import"' in page
    edit = admin.get("/admin/units/team-b/edit").get_data(as_text=True)
    assert 'href="/admin/units/team-b/staff-list"' in edit
    assert "/staff-list" not in admin.get("/admin/units/north/edit").get_data(as_text=True)
    for slug in ("north", "org", "no-such-team", "Team-B", "x%00"):
        assert admin.get(f"/admin/units/{slug}/staff-list").status_code == 404


# --- who may ----------------------------------------------------------------------------------

ROUTES = [
    ("GET", "/admin/units/team-a/staff-list", {}),
    ("POST", "/admin/units/team-a/staff-list/add", {"email": "x@example.org", "language": "nl"}),
    ("POST", "/admin/units/team-a/staff-list/remove", {"member": 1}),
    ("POST", "/admin/units/team-a/staff-list/remove-all", {}),
    ("POST", "/admin/units/team-a/staff-list/expected-staff", {}),
    ("GET", "/admin/units/staff-import", {}),
    ("POST", "/admin/units/staff-import/confirm", {"plan": "x"}),
]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.QUALITY])
def test_only_administrators_reach_the_staff_lists(client, tree, make_account, role):
    make_account("someone@example.org", role, [tree["team-a"]])
    add_members(tree["team-a"], "secret@example.org")
    login(client, "someone@example.org")
    form_token = csrf_token(client, "/dashboard/")
    for method, url, data in ROUTES:
        reply = client.open(url, method=method, data={"csrf_token": form_token, **data})
        assert reply.status_code == 403, (method, url)
        assert "secret@example.org" not in reply.get_data(as_text=True)
    assert lists() == {"team-a": {"secret@example.org": "nl"}} and events() == []


def test_anonymous_visitors_are_sent_to_log_in(client, tree):
    assert client.get("/admin/units/team-a/staff-list").status_code == 302
    assert client.get("/admin/units/staff-import").status_code == 302


# --- the command line -------------------------------------------------------------------------


def test_the_command_shows_the_plan_asks_and_applies(runner, tree, tmp_path):
    add_members(tree["team-a"], "goes@example.org")
    path = tmp_path / "staff.xlsx"
    path.write_bytes(xlsx(ROWS))
    refused = runner.invoke(args=["units", "staff-import", str(path), "--replace"], input="n\n")
    assert refused.exit_code == 1 and "Nothing was imported." in refused.output
    assert "team-a: 2 to add, 1 to remove, 0 kept, 0 new language" in refused.output
    assert lists() == {"team-a": {"goes@example.org": "nl"}}
    done = runner.invoke(args=["units", "staff-import", str(path), "--replace", "--yes"])
    assert done.exit_code == 0, done.output
    assert "Teams: 2/2" in done.output and "3 address(es) added, 1 removed, for 2 team(s)" in (
        done.output
    )
    assert lists()["team-a"] == {"an.peeters@example.org": "nl", "sam@example.org": "en"}
    (event,) = events()
    assert event.actor == "command line" and "@" not in repr(event.details)
    again = runner.invoke(args=["units", "staff-import", str(path), "--yes"])
    assert again.exit_code == 0 and "Nothing to change" in again.output


@pytest.mark.parametrize(
    "content, message",
    [
        (b"team,email\nteam-x,a@example.org\nteam-a,nope\n", "2 row(s) refused"),
        (b"\x00\x01binary", "This is not a text file"),
        (b"team,email\n", "has no addresses"),
    ],
)
def test_the_command_refuses_bad_files_with_a_non_zero_exit(
    runner, tree, tmp_path, content, message
):
    path = tmp_path / "staff.csv"
    path.write_bytes(content)
    result = runner.invoke(args=["units", "staff-import", str(path), "--yes"])
    assert result.exit_code == 1 and message in result.output
    assert lists() == {} and events() == []


def test_the_largest_list_allowed_is_previewed_and_imported_quickly(admin, tree, make_unit):
    teams = [make_unit(f"team-{number}", parent=tree["north"]) for number in range(50)]
    db.session.commit()
    rows = [["team", "email", "language"]] + [
        [teams[number % 50].slug, f"medewerker.{number:05d}@voorbeeld-zorg.example", "nl"]
        for number in range(10_000)
    ]
    started = time.process_time()
    reply = upload(admin, xlsx(rows), "staff.xlsx")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "10000 addresses to add" in page
    plan = hidden_plan(page)
    assert len(plan) < 400_000  # well within what a form may post
    assert confirm(admin, plan).status_code == 302
    assert time.process_time() - started < 20
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(StaffMember.id))) == 10_000
