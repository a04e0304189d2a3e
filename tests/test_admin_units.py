"""Administration of the unit tree in the browser: the tree, create, rename, move, archive,
restore and the CSV import with its preview, each act audited; hostile files refused."""

from __future__ import annotations

import html
import re
import time
from datetime import date

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEvent, Role, Unit, UnitKind
from tests.conftest import csrf_token, login

ADMIN = "admin@example.org"


@pytest.fixture
def admin(client, make_account):
    make_account(ADMIN, Role.ADMIN)
    assert login(client, ADMIN).status_code == 302
    client.get("/language/en")  # the messages below are the English ones
    return client


def post(client, url: str, data: dict | None = None, **kwargs):
    return client.post(
        url, data={"csrf_token": csrf_token(client, "/admin/units"), **(data or {})}, **kwargs
    )


def unit(slug: str) -> Unit:
    db.session.expire_all()
    return db.session.scalar(sa.select(Unit).where(Unit.slug == slug))


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


# --- the tree ---------------------------------------------------------------------------------


def test_the_tree_shows_every_unit_nested_with_archived_ones_marked_and_last(admin, tree):
    tree["team-a"].archived_on = date(2025, 3, 1)
    db.session.commit()
    page = admin.get("/admin/units").get_data(as_text=True)
    assert "6 units" in page and "1 of them archived" in page
    north = page.index(">North<")
    # nested: team A and B inside north's list, the archived team A after team B
    assert north < page.index(">Team B<") < page.index(">Team A<") < page.index(">South<")
    assert "archived on Mar 1, 2025" in page
    assert 'href="/admin/units/team-a/edit"' in page


def test_an_empty_tree_says_where_to_start(admin):
    page = admin.get("/admin/units").get_data(as_text=True)
    assert "There are no units yet" in page


# --- create -----------------------------------------------------------------------------------


def test_creating_an_organisation_a_department_and_a_team(admin):
    reply = post(admin, "/admin/units/new", {"kind": "organisation", "name": "Zorgnet Gent"})
    assert reply.status_code == 302
    org = unit("zorgnet-gent")
    assert org.kind is UnitKind.ORGANISATION and org.parent is None
    post(
        admin,
        "/admin/units/new",
        {"kind": "department", "parent": "zorgnet-gent", "name": "Jeugdhulp", "slug": "jeugd"},
    )
    reply = post(
        admin, "/admin/units/new", {"kind": "team", "parent": "jeugd", "name": "Team Één (Oost)"}
    )
    assert reply.status_code == 302 and reply.location == "/admin/units/team-een-oost/edit"
    team = unit("team-een-oost")
    assert team.kind is UnitKind.TEAM and team.parent.slug == "jeugd"
    created = events("unit.create")
    assert [e.target for e in created] == ["zorgnet-gent", "jeugd", "team-een-oost"]
    assert created[2].details == {"name": "Team Één (Oost)", "kind": "team", "parent": "jeugd"}
    assert created[2].actor == ADMIN
    # the same name again: a new slug, never the old one
    post(admin, "/admin/units/new", {"kind": "team", "parent": "jeugd", "name": "Team Één (Oost)"})
    assert unit("team-een-oost-2") is not None


@pytest.mark.parametrize(
    "data, message",
    [
        ({"kind": "team", "name": "X"}, "Choose the unit this one is part of."),
        ({"kind": "team", "parent": "team-a", "name": "X"}, "Choose one of the units in the list."),
        ({"kind": "organisation", "parent": "org", "name": "X"}, "it has no parent"),
        ({"kind": "team", "parent": "north", "name": ""}, "Fill in the name."),
        ({"kind": "squad", "parent": "north", "name": "X"}, "Not a valid choice"),
        (
            {"kind": "team", "parent": "north", "name": "X", "slug": "Team A!"},
            "Use only lower-case letters",
        ),
        (
            {"kind": "team", "parent": "north", "name": "X", "slug": "team-a"},
            "team-a is already used",
        ),
        ({"kind": "team", "parent": "north", "name": "x" * 201}, "Use at most 200 characters."),
        ({"kind": "team", "parent": "north", "name": "X\x00"}, "cannot be stored"),
    ],
)
def test_a_bad_new_unit_is_refused_with_a_message_and_keeps_what_was_typed(
    admin, tree, data, message
):
    reply = post(admin, "/admin/units/new", data)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert "There is a problem" in page
    assert message in page
    if data["name"] == "X":
        assert 'value="X"' in page
    assert db.session.scalar(sa.select(sa.func.count(Unit.id))) == 6
    assert events("unit.create") == []


def test_a_unit_cannot_be_created_under_an_archived_department(admin, tree):
    tree["south"].archived_on = date.today()
    db.session.commit()
    reply = post(admin, "/admin/units/new", {"kind": "team", "parent": "south", "name": "X"})
    assert reply.status_code == 422
    assert unit("x") is None


def test_the_new_unit_form_offers_a_parent_chosen_on_the_unit_page(admin, tree):
    page = admin.get("/admin/units/new?parent=north").get_data(as_text=True)
    assert '<option selected value="north">Org › North</option>' in page
    assert 'value="team-a"' not in page  # a team is never offered as a parent


# --- rename and move --------------------------------------------------------------------------


def test_renaming_keeps_the_slug_and_is_audited(admin, tree):
    reply = post(admin, "/admin/units/team-a/rename", {"name": "  Team Anker "})
    assert reply.status_code == 302
    assert unit("team-a").name == "Team Anker"
    (event,) = events("unit.rename")
    assert event.target == "team-a" and event.details == {"old": "Team A", "new": "Team Anker"}
    # the same name: nothing to record
    post(admin, "/admin/units/team-a/rename", {"name": "Team Anker"})
    assert len(events("unit.rename")) == 1
    empty = post(admin, "/admin/units/team-a/rename", {"name": " "})
    assert empty.status_code == 422 and "Fill in the name." in empty.get_data(as_text=True)
    tab = post(admin, "/admin/units/team-a/rename", {"name": "Team\tA\x00"})
    assert tab.status_code == 422 and unit("team-a").name == "Team Anker"


def test_moving_a_team_to_another_department(admin, tree):
    reply = post(admin, "/admin/units/team-a/move", {"parent": "south"})
    assert reply.status_code == 302
    assert unit("team-a").parent.slug == "south"
    (event,) = events("unit.move")
    assert event.target == "team-a" and event.details == {"from": "north", "to": "south"}


def test_moving_a_department_below_itself_is_refused(admin, tree, make_unit):
    sub = make_unit("sub", UnitKind.DEPARTMENT, tree["north"])
    make_unit("deeper", UnitKind.DEPARTMENT, sub)
    db.session.commit()
    for target in ("deeper", "north"):
        reply = post(admin, "/admin/units/north/move", {"parent": target})
        assert reply.status_code == 422
        assert "cannot move below itself" in reply.get_data(as_text=True)
    assert unit("north").parent.slug == "org"
    assert events("unit.move") == []
    # and the form does not even offer them
    page = admin.get("/admin/units/north/edit").get_data(as_text=True)
    assert 'value="deeper"' not in page and 'value="south"' in page


@pytest.mark.parametrize(
    "slug, target, status, message",
    [
        ("team-a", "team-c", 422, "is a team"),
        ("team-a", "nowhere", 422, "Choose one of the units in the list."),
        ("org", "north", 409, "This unit cannot move."),
        ("team-a", "other-org", 422, "stays within its own organisation"),
    ],
)
def test_moves_the_tree_does_not_allow(admin, tree, make_unit, slug, target, status, message):
    make_unit("other-org", UnitKind.ORGANISATION)
    db.session.commit()
    reply = post(admin, f"/admin/units/{slug}/move", {"parent": target})
    assert reply.status_code == status
    assert message in reply.get_data(as_text=True)
    assert events("unit.move") == []


def test_an_archived_unit_does_not_move_and_nothing_moves_under_one(admin, tree):
    tree["south"].archived_on = tree["team-c"].archived_on = date.today()
    db.session.commit()
    assert post(admin, "/admin/units/team-a/move", {"parent": "south"}).status_code == 422
    assert post(admin, "/admin/units/team-c/move", {"parent": "north"}).status_code == 409
    assert unit("team-a").parent.slug == "north" and unit("team-c").parent.slug == "south"


# --- archive and restore ----------------------------------------------------------------------


def test_archiving_a_department_archives_its_branch_and_restoring_brings_it_back(
    admin, tree, make_wave
):
    make_wave([tree["team-a"]], name="Voorjaar")
    page = admin.get("/admin/units/north/edit").get_data(as_text=True)
    assert "also archives the 2 active units below it" in page
    assert "Still open for this unit: Voorjaar" in page
    reply = post(admin, "/admin/units/north/archive")
    assert reply.status_code == 302
    assert all(unit(s).archived_on == date.today() for s in ("north", "team-a", "team-b"))
    assert unit("south").archived_on is None
    (event,) = events("unit.archive")
    assert event.target == "north" and event.details["below"] == ["team-a", "team-b"]
    # twice: a conflict, with a message
    again = post(admin, "/admin/units/north/archive")
    assert again.status_code == 409 and "is already archived" in again.get_data(as_text=True)
    # a team under the archived department cannot come back on its own
    alone = post(admin, "/admin/units/team-a/restore")
    assert alone.status_code == 409 and "restore it first" in alone.get_data(as_text=True)
    reply = post(admin, "/admin/units/north/restore")
    assert reply.status_code == 302
    assert all(unit(s).archived_on is None for s in ("north", "team-a", "team-b"))
    (event,) = events("unit.restore")
    assert event.details["below"] == ["team-a", "team-b"]
    assert post(admin, "/admin/units/north/restore").status_code == 409


def test_a_team_archived_earlier_stays_archived_when_its_department_comes_back(admin, tree):
    tree["team-b"].archived_on = date(2024, 1, 1)
    db.session.commit()
    post(admin, "/admin/units/north/archive")
    post(admin, "/admin/units/north/restore")
    assert unit("team-a").archived_on is None
    assert unit("team-b").archived_on == date(2024, 1, 1)


def test_unknown_units_are_404(admin, tree):
    assert admin.get("/admin/units/nope/edit").status_code == 404
    assert post(admin, "/admin/units/nope/archive").status_code == 404
    assert admin.get("/admin/units/no%00pe/edit").status_code == 404
    assert admin.get("/admin/units/North/edit").status_code == 404
    reply = post(admin, "/admin/units/team-a/move", {"parent": "no\x00pe"})
    assert reply.status_code == 422


# --- import -----------------------------------------------------------------------------------


def upload(client, content: bytes | str, name: str = "units.csv"):
    """Post the file as a browser does (the body built here: the test client would spool a
    large one to a temporary file it never closes)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    token = csrf_token(client, "/admin/units")
    boundary = "----krachtspiegel-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(
        "/admin/units/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def hidden_text(page: str) -> str:
    match = re.search(r'<input name="csv_text" type="hidden" value="([^"]*)"', page)
    assert match, "no CSV text in the confirm form"
    return html.unescape(match.group(1))


GOOD_CSV = (
    "path;name;kind\n"
    "org;Org;\n"
    "org/north;Noord;\n"
    "org/north/team-d;Team D;\n"
    "org/west;West;department\n"
)


def test_import_shows_a_preview_then_applies_on_confirmation(admin, tree):
    reply = upload(admin, "\ufeff" + GOOD_CSV, "../../etc/passwd units.csv")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "2 to create, 1 to rename, 1 already as in the file" in page
    assert "Team D" in page and "West" in page and "Noord" in page
    assert "etc_passwd_units.csv" in page and "../" not in page
    assert unit("team-d") is None  # nothing yet
    text = hidden_text(page)
    reply = admin.post(
        "/admin/units/import/confirm",
        data={
            "csrf_token": csrf_token(admin, "/admin/units"),
            "csv_text": text,
            "file_name": "../../etc/passwd units.csv",
        },
    )
    assert reply.status_code == 302
    assert unit("team-d").parent.slug == "north" and unit("team-d").kind is UnitKind.TEAM
    assert unit("west").kind is UnitKind.DEPARTMENT and unit("north").name == "Noord"
    (event,) = events("units.import")
    assert event.details == {
        "created": ["west", "team-d"],
        "renamed": ["north"],
        "file": "etc_passwd_units.csv",
    }
    assert "Import done: 2 created, 1 renamed, 1 unchanged." in admin.get("/admin/units").get_data(
        as_text=True
    )


def test_the_confirmation_checks_the_file_again(admin, tree):
    page = upload(admin, GOOD_CSV).get_data(as_text=True)
    text = hidden_text(page)
    # meanwhile, someone archives the department the new team would go under
    tree["north"].archived_on = date.today()
    db.session.commit()
    reply = admin.post(
        "/admin/units/import/confirm",
        data={"csrf_token": csrf_token(admin, "/admin/units"), "csv_text": text},
    )
    assert reply.status_code == 422
    assert "parent 'north' is archived" in html.unescape(reply.get_data(as_text=True))
    assert unit("team-d") is None and events("units.import") == []
    tampered = admin.post(
        "/admin/units/import/confirm",
        data={"csrf_token": csrf_token(admin, "/admin/units"), "csv_text": "path,name\n\x00,x"},
    )
    assert tampered.status_code == 422 and unit("x") is None


def test_every_refused_row_is_listed_with_its_line_and_nothing_is_imported(admin, tree):
    text = (
        "path,name,kind\n"
        "org/north/team-e,Team E,\n"
        "org/Bad Path,X,\n"
        "org/north/team-f,,\n"
        "org/north/team-g,G,squad\n"
        "org/nowhere/team-h,H,\n"
        "org/south/team-a,A,\n"
        "org/north/team-e,Again,\n"
        "org/team-c/sub,Sub,\n"
        "org/south/team-b,B,\n"
        "org/north,North,team\n"
    )
    reply = upload(admin, text)
    page = html.unescape(reply.get_data(as_text=True))
    assert reply.status_code == 422
    assert "Nothing has been imported" in page
    for line, fragment in [
        (3, "path 'org/Bad Path': each part must be a slug"),
        (4, "name must be between 1 and 200 characters"),
        (5, "kind 'squad' is unknown"),
        (6, "parent 'nowhere' does not exist"),
        (7, "'team-a' already exists under north"),
        (8, "'team-e' appears twice (first on line 2)"),
        (9, "'team-c' is a team"),
        (10, "'team-b' already exists under north"),
        (11, "'north' exists as a department"),
    ]:
        assert f"<tr><td>{line}</td><td>{fragment}" in page, (line, fragment)
    assert "confirm" not in page
    assert unit("team-e") is None


@pytest.mark.parametrize(
    "content, name, status, message",
    [
        (b"", "units.csv", 422, "The file is empty."),
        (b"   \r\n\n", "units.csv", 422, "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "units.csv", 422, "This is not a text file"),
        (b"PK\x03\x04\x14\x00\x06\x00", "units.xlsx", 422, "Save as"),
        ("path,name\norg,Org\n".encode("utf-16"), "units.csv", 422, "UTF-16"),
        (b"path,name\norg,\x81\x8d\x8f\n", "units.csv", 422, "neither UTF-8 nor Windows-1252"),
        (b"path,name\norg,Org\x07\n", "units.csv", 422, "This is not a text file"),
        (b"slug,title\norg,Org\n", "units.csv", 422, "the first row must name the columns"),
        (b"path,name,colour\norg,Org,red\n", "units.csv", 422, "unknown column(s) colour"),
        (b"path,name,naam\norg,Org,Org\n", "units.csv", 422, "appears twice"),
        (b"path,name\n" + b"org/t,T\n" * 5001, "units.csv", 422, "more than 5000 rows"),
        (b"path,name\norg," + b"x" * 1001 + b"\n", "units.csv", 422, "longer than 1000 characters"),
        (
            b"path,name\norg,Org,extra\n",
            "units.csv",
            422,
            "more values than the first row has columns",
        ),
        (b'path,name\norg,"Org\n', "units.csv", 422, "not a readable CSV file"),
        (b"path,name\n", "units.csv", 422, "no units below its first row"),
        (b"path,name\n" + b"org,O\n" * 90_000, "units.csv", 413, "larger than 500 kB"),
        (b"path,name\n" + b"org,O\n" * 400_000, "units.csv", 413, "larger than Krachtspiegel"),
    ],
)
def test_hostile_and_broken_files_get_a_clear_message(admin, content, name, status, message):
    reply = upload(admin, content, name)
    assert reply.status_code == status
    assert message in html.unescape(reply.get_data(as_text=True))
    assert db.session.scalar(sa.select(sa.func.count(Unit.id))) == 0


def test_the_largest_file_allowed_is_previewed_and_imported_quickly(admin):
    rows = ["path,name", "org,Org", "org/dep,Dep"]
    rows += [f"org/dep/team-{n:04d},Team {n}" for n in range(4_998)]
    started = time.process_time()  # CPU seconds: a busy machine does not fail the test
    reply = upload(admin, "\n".join(rows))
    assert reply.status_code == 200 and "5000 to create" in reply.get_data(as_text=True)
    text = hidden_text(reply.get_data(as_text=True))
    reply = admin.post(
        "/admin/units/import/confirm",
        data={"csrf_token": csrf_token(admin, "/admin/units"), "csv_text": text},
    )
    assert reply.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Unit.id))) == 5_000
    assert time.process_time() - started < 60


def test_no_file_chosen(admin):
    reply = post(admin, "/admin/units/import", {}, content_type="multipart/form-data")
    assert reply.status_code == 422 and "Choose a CSV file to upload." in reply.get_data(
        as_text=True
    )


def test_an_excel_export_in_windows_1252_is_read_and_the_page_says_so(admin, tree):
    content = "path;name\norg/north/team-e;Team Élan\n".encode("cp1252")
    reply = upload(admin, content)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "Windows-1252" in page and "Team Élan" in page


def test_a_file_that_changes_nothing_offers_no_confirmation(admin, tree):
    reply = upload(admin, "path,name\norg/north,North\n")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200 and "Nothing to change" in page
    assert "Import these changes" not in page


@pytest.mark.parametrize("role", [Role.QUALITY, Role.MANAGER])
def test_other_roles_are_refused_even_with_a_valid_form_token(client, tree, make_account, role):
    make_account("someone@example.org", role, [tree["north"]])
    login(client, "someone@example.org")
    token = csrf_token(client, "/dashboard/")
    for url, data in [
        ("/admin/units/new", {"kind": "team", "parent": "north", "name": "X"}),
        ("/admin/units/team-a/rename", {"name": "X"}),
        ("/admin/units/team-a/move", {"parent": "south"}),
        ("/admin/units/north/archive", {}),
        ("/admin/units/import/confirm", {"csv_text": "path,name\norg/north/x,X\n"}),
        ("/admin/settings", {"min_group_size": "3", "spread_threshold": "3"}),
    ]:
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 403, url
    for url in ("/admin/units", "/admin/units/new", "/admin/units/north/edit"):
        assert client.get(url).status_code == 403, url
    assert unit("x") is None and unit("team-a").name == "Team A"
    assert unit("north").archived_on is None and unit("team-a").parent.slug == "north"
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0
