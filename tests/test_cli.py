from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import (
    Account,
    AuditEvent,
    QuestionnaireVersion,
    Response,
    Role,
    Unit,
    UnitKind,
    Wave,
    WaveStatus,
    WaveTeam,
)
from tests.conftest import MINI_INSTRUMENT


def run(runner, *args, input=None):
    return runner.invoke(args=list(args), input=input)


# --- users ------------------------------------------------------------------------------------


def test_users_create_reads_the_password_from_stdin(runner, tree):
    result = run(
        runner,
        "users",
        "create",
        "--email",
        "lg@example.org",
        "--role",
        "manager",
        "--unit",
        "team-a",
        "--unit",
        "north",
        input="lang genoeg wachtwoord\n",
    )
    assert result.exit_code == 0, result.output
    account = db.session.scalar(sa.select(Account).where(Account.email == "lg@example.org"))
    assert account.role is Role.MANAGER
    assert sorted(unit.slug for unit in account.scope) == ["north", "team-a"]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account.create"))
    assert event.target == "lg@example.org" and event.actor == "command line"


@pytest.mark.parametrize(
    "args, password, message",
    [
        (
            ["--email", "x@example.org", "--role", "manager"],
            "lang genoeg wachtwoord",
            "A manager needs at least one unit",
        ),
        (
            ["--email", "x@example.org", "--role", "admin", "--unit", "org"],
            "lang genoeg wachtwoord",
            "Only managers have a scope",
        ),
        (["--email", "x@example.org", "--role", "admin"], "kort", "at least 12 characters"),
        (
            ["--email", "not-an-address", "--role", "admin"],
            "lang genoeg wachtwoord",
            "not a valid e-mail address",
        ),
        (
            ["--email", "x@example.org", "--role", "manager", "--unit", "nowhere"],
            "lang genoeg wachtwoord",
            "Unknown unit(s): nowhere",
        ),
        (
            ["--email", "x@example.org", "--role", "boss"],
            "lang genoeg wachtwoord",
            "'boss' is not one of",
        ),
    ],
)
def test_users_create_refuses_bad_input_clearly(runner, tree, args, password, message):
    result = run(runner, "users", "create", *args, input=password + "\n")
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert db.session.scalar(sa.select(sa.func.count(Account.id))) == 0


def test_users_create_refuses_a_second_account_with_the_same_address(runner, make_account):
    make_account("dup@example.org", Role.ADMIN)
    result = run(
        runner,
        "users",
        "create",
        "--email",
        "DUP@example.org",
        "--role",
        "admin",
        input="lang genoeg wachtwoord\n",
    )
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_users_list(runner, tree, make_account):
    assert "There are no accounts yet" in run(runner, "users", "list").output
    make_account("m@example.org", Role.MANAGER, [tree["team-a"]])
    assert "manager  m@example.org  sees: team-a" in run(runner, "users", "list").output


# --- units ------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "units.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_units_import_builds_the_tree(runner, tmp_path):
    csv_file = write(
        tmp_path,
        "path,name\n"
        "zorgnet,Zorgnet Vlaanderen\n"
        "zorgnet/jeugd,Jeugdhulp\n"
        "zorgnet/jeugd/team-kompas,Team Kompas\n"
        "zorgnet/jeugd/team-anker,Team Anker\n"
        "zorgnet/ggz,Geestelijke gezondheidszorg\n"
        "zorgnet/ggz/ambulant,Ambulant\n"
        "zorgnet/ggz/ambulant/team-noord,Team Noord\n",
    )
    result = run(runner, "units", "import", csv_file)
    assert result.exit_code == 0, result.output
    assert "7 created, 0 renamed, 0 unchanged." in result.output
    units = {u.slug: u for u in db.session.scalars(sa.select(Unit))}
    assert units["zorgnet"].kind is UnitKind.ORGANISATION
    assert units["ambulant"].kind is UnitKind.DEPARTMENT
    assert units["team-noord"].kind is UnitKind.TEAM
    assert units["team-noord"].parent.slug == "ambulant"
    # Idempotent, and renames by slug.
    write(tmp_path, "path;name\nzorgnet/jeugd/team-kompas;Team Kompas Noord\n", "rename.csv")
    result = run(runner, "units", "import", str(tmp_path / "rename.csv"))
    assert "0 created, 1 renamed, 0 unchanged." in result.output


@pytest.mark.parametrize(
    "text, message",
    [
        ("slug,title\norg,Org\n", "the first row must name the columns: path,name"),
        ("path,name\norg,Org\norg/Team A,Team A\n", ":3: path 'org/Team A': each part"),
        ("path,name\norg,Org\norg/x,\n", ":3: name must be between 1 and 200"),
        ("path,name\norg,Org\norg/x,X\norg/x,Y\n", ":4: 'x' appears twice (first on line 3)"),
        ("path,name\norg/a/b,B\n", ":2: parent 'a' does not exist"),
        ("path,name,kind\norg,Org,\norg/a,A,team\norg/a/b,B,\n", "'a' is a team"),
        ("path,name,kind\norg,Org,\norg/a,A,squad\n", ":3: kind 'squad' is unknown"),
    ],
)
def test_units_import_rejects_bad_rows_and_imports_nothing(runner, tmp_path, text, message):
    result = run(runner, "units", "import", write(tmp_path, text))
    assert result.exit_code == 1
    assert message in result.output
    assert "nothing was imported" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Unit.id))) == 0


def test_units_import_refuses_a_file_that_is_not_text(runner, tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    result = run(runner, "units", "import", str(path))
    assert result.exit_code == 1
    assert "is not a UTF-8 text file" in result.output


def test_units_import_refuses_moving_an_existing_unit(runner, tree, tmp_path):
    result = run(runner, "units", "import", write(tmp_path, "path,name\norg/south/team-a,A\n"))
    assert result.exit_code == 1
    assert "'team-a' already exists under north" in result.output


# --- questionnaires ---------------------------------------------------------------------------


def versions() -> list[QuestionnaireVersion]:
    return db.session.scalars(
        sa.select(QuestionnaireVersion).order_by(QuestionnaireVersion.id)
    ).all()


def test_questionnaires_validate(runner, tmp_path):
    result = run(runner, "questionnaires", "validate", str(MINI_INSTRUMENT))
    assert result.exit_code == 0 and "1 of 1 file(s) valid." in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(MINI_INSTRUMENT.read_text().replace("type: agreement5", "type: agree7", 1))
    result = run(runner, "questionnaires", "validate", str(broken))
    assert result.exit_code == 1
    assert "unknown item type 'agree7'" in result.output
    assert "broken.yaml:" in result.output


def test_questionnaires_load_is_idempotent(runner, app):
    first = run(runner, "questionnaires", "load", str(MINI_INSTRUMENT))
    assert first.exit_code == 0, first.output
    assert "new version" in first.output
    second = run(runner, "questionnaires", "load", str(MINI_INSTRUMENT))
    assert "unchanged" in second.output
    (version,) = versions()
    assert version.revision == 1
    assert {item.code for item in version.items} >= {"A1.1", "A1.2", "A1.3", "B1.1", "C4"}
    a1 = next(scale for scale in version.scales if scale.code == "A1")
    assert a1.scored and [item.code for item in a1.items] == ["A1.1", "A1.2", "A1.3"]
    assert next(item for item in version.items if item.code == "A1.3").reverse


def test_a_changed_file_becomes_a_new_revision_until_it_has_responses(
    runner, app, tmp_path, make_unit
):
    changed = tmp_path / "mini.yaml"
    changed.write_text(MINI_INSTRUMENT.read_text().replace("Wij leren van fouten.", "Wij leren."))
    run(runner, "questionnaires", "load", str(MINI_INSTRUMENT))
    result = run(runner, "questionnaires", "load", str(changed))
    assert result.exit_code == 0 and "new revision" in result.output
    assert [v.revision for v in versions()] == [1, 2]

    # Someone answers revision 2: from now on the declared version is frozen.
    team = make_unit("team-x", UnitKind.TEAM, make_unit("org-x", UnitKind.ORGANISATION))
    wave = Wave(
        questionnaire_version=versions()[1],
        name="W",
        opens_on=date.today(),
        closes_on=date.today(),
        status=WaveStatus.OPEN,
        teams=[WaveTeam(unit=team)],
    )
    db.session.add(wave)
    db.session.flush()
    db.session.add(
        Response(wave_id=wave.id, unit_id=team.id, submitted_on=date.today(), language="nl")
    )
    db.session.commit()

    changed.write_text(changed.read_text().replace("Wij leren.", "Wij leren samen."))
    result = run(runner, "questionnaires", "load", str(changed))
    assert result.exit_code == 1
    assert "already has responses" in result.output
    assert "Give the changed file a new version number" in result.output
    assert len(versions()) == 2

    renumbered = tmp_path / "mini-3.yaml"
    renumbered.write_text(changed.read_text().replace("version: 2", "version: 3"))
    result = run(runner, "questionnaires", "load", str(renumbered))
    assert result.exit_code == 0 and "new version" in result.output
    assert [(v.version, v.revision) for v in versions()] == [("2", 1), ("2", 2), ("3", 1)]


def test_questionnaires_load_reports_a_broken_file_and_loads_nothing(runner, app, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("instrument: [unclosed\n")
    result = run(runner, "questionnaires", "load", str(broken))
    assert result.exit_code == 1
    assert "not loaded" in result.output
    assert versions() == []


def test_questionnaires_load_on_a_missing_path_is_a_usage_error(runner, app):
    result = run(runner, "questionnaires", "load", "/no/such/file.yaml")
    assert result.exit_code == 2
    assert "does not exist" in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["db", "upgrade"],
        ["questionnaires", "load"],
        ["questionnaires", "validate"],
        ["questionnaires", "codebook"],
        ["users", "create"],
        ["users", "list"],
        ["units", "import"],
        ["drafts", "purge"],
        ["wave", "links"],
        ["codes", "issue"],
        ["mail", "send"],
        ["mail", "status"],
        ["mail", "announce"],
    ],
)
def test_every_command_explains_itself(runner, command):
    result = run(runner, *command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output and "--help" in result.output


def test_the_codebook_as_markdown(runner):
    result = run(runner, "questionnaires", "codebook", "--format", "md", str(MINI_INSTRUMENT))
    assert result.exit_code == 0, result.output
    assert "`agreement5`: 1 = helemaal oneens / strongly disagree" in result.output
    assert "## A. Onze praktijk / Our practice" in result.output
    assert (
        "| A1.3 | A1 | Wij beginnen een gesprek bij de problemen. "
        "| We start a conversation from the problems. | frequency5 + dk | yes |"
    ) in result.output
    assert "| BG1 |" in result.output


def test_the_codebook_as_xlsx(runner, tmp_path):
    from openpyxl import load_workbook

    target = tmp_path / "codebook.xlsx"
    result = run(
        runner,
        "questionnaires",
        "codebook",
        "--format",
        "xlsx",
        "-o",
        str(target),
        str(MINI_INSTRUMENT),
    )
    assert result.exit_code == 0, result.output
    sheet = load_workbook(target)["codebook"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("instrument", "version", "module")
    by_item = {row[header.index("item")]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert by_item["A1.3"]["reverse"] is True
    assert by_item["B1.1"]["text_en"] == "In our team we dare to voice doubts."
    assert "dk = weet ik niet / n.v.t." in by_item["B1.1"]["response_codes"]
    assert by_item["BG1"]["background"] is True


def test_the_codebook_refuses_a_broken_file(runner, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("instrument: x\n")
    result = run(runner, "questionnaires", "codebook", str(broken))
    assert result.exit_code == 1
    assert "fix these problems first" in result.output
