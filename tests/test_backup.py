"""``flask --app wsgi backup`` / ``restore``: a restore gives back every row of every table, a
bad archive or a wrong database is refused without touching anything, and a backup taken while
responses arrive is one consistent snapshot. With TEST_DATABASE_URL, also SQLite → PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

import questionnaires
from survey import create_app
from survey.extensions import db
from survey.models import (
    AccessCode,
    Account,
    Answer,
    AuditEvent,
    Base,
    Draft,
    Invitation,
    InvitationToken,
    MailKind,
    OrganisationSettings,
    OutgoingMail,
    ReminderKind,
    Response,
    RetainedScaleResult,
    Role,
    ScaleScore,
    StaffMember,
    TeamAction,
    Unit,
    UnitKind,
    Wave,
    WaveReminder,
    WaveSchedule,
    WaveStatus,
    WaveTeam,
    WaveTreeUnit,
)
from survey.models.waves import ActionKind
from survey.operations.backup.writing import write_backup
from survey.services.questionnaires import instrument_of, store_instrument
from survey.services.team_figures import store_wave_figures
from tests.conftest import MINI_INSTRUMENT, TEST_DATABASE_URL, base_config, empty_database

#: Values that trip up a naive dump: quotes, a newline, a tab, non-Latin text, an emoji.
AWKWARD_TEXT = 'Wij "vieren" kleine stappen;\nook\tdie van cliënten — 日本語 🙂 \\ end'


# --- helpers ------------------------------------------------------------------------------------


def populate() -> dict[str, Any]:
    """Rows in every table, with the values that must survive exactly: NULLs, microsecond
    times, floats that are not round in binary, JSON with unicode, JSON null, uuids, and a unit
    whose parent was created after it (so its row comes before its parent's)."""
    version = store_instrument(questionnaires.load_file(MINI_INSTRUMENT), MINI_INSTRUMENT.name)
    version = version.version
    org = Unit(slug="org", name="Zorgnet", kind=UnitKind.ORGANISATION, is_demo=False)
    team_a = Unit(slug="team-a", name="Team Kompas", kind=UnitKind.TEAM, parent=org)
    team_b = Unit(
        slug="team-b",
        name="Team Anker",
        kind=UnitKind.TEAM,
        parent=org,
        archived_on=date(2026, 2, 1),
    )
    db.session.add_all([org, team_a, team_b])
    db.session.flush()
    later_department = Unit(slug="dept", name="Jeugdhulp", kind=UnitKind.DEPARTMENT, parent=org)
    db.session.add(later_department)
    db.session.flush()
    team_a.parent = later_department  # now team-a (lower id) refers to a later row

    moment = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    admin = Account(
        email="beheer@example.org",
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        role=Role.ADMIN,
        last_login_at=moment,
        password_token_sha256="a" * 64,
        password_token_expires_at=moment + timedelta(days=7),
    )
    manager = Account(
        email="leiding@example.org",
        password_hash="x",
        role=Role.MANAGER,
        active=False,
        scope=[later_department, team_b],
    )
    db.session.add_all([admin, manager])
    db.session.add(
        OrganisationSettings(
            id=1,
            min_group_size=5,
            spread_threshold=7,
            comments_enabled=True,
            team_first_days=0,
            languages=["nl", "en"],
            life_domains=None,
            retention_years=None,
        )
    )
    closed = Wave(
        questionnaire_version=version,
        name="Najaar 2025",
        opens_on=date(2025, 10, 1),
        closes_on=date(2025, 10, 28),
        closed_on=date(2025, 10, 20),
        status=WaveStatus.CLOSED,
        codes_only=True,
        units=[org],
    )
    open_wave = Wave(
        questionnaire_version=version,
        name="Voorjaar 2026 — ‘open’",
        opens_on=date.today() - timedelta(days=3),
        closes_on=date.today() + timedelta(days=14),
        status=WaveStatus.OPEN,
        units=[later_department, team_b],
    )
    for wave in (closed, open_wave):
        wave.teams = [WaveTeam(unit=team_a, invited=12), WaveTeam(unit=team_b, invited=None)]
    db.session.add_all([closed, open_wave])
    db.session.flush()
    wave_team = closed.teams[0]
    db.session.add_all(
        [
            AccessCode(wave_team=wave_team, code_sha256="b" * 64, used=True),
            AccessCode(wave_team=wave_team, code_sha256="c" * 64, used=False),
            TeamAction(
                wave_team=wave_team,
                kind=ActionKind.TRY,
                description=AWKWARD_TEXT,
                created_at=moment,
                created_by_id=admin.id,
            ),
            TeamAction(wave_team=wave_team, kind=ActionKind.KEEP, description="Intervisie"),
            RetainedScaleResult(
                wave_id=closed.id, unit_id=team_b.id, scale_code="A1", n=5, mean=3.2, sd=None
            ),
            RetainedScaleResult(
                wave_id=closed.id, unit_id=team_a.id, scale_code="A1", n=7, mean=1 / 3, sd=0.1
            ),
            Draft(
                wave_id=open_wave.id,
                unit_id=team_a.id,
                answers={"A1.1": {"value": 4}, "X": {"text": AWKWARD_TEXT}, "C4": {"cells": []}},
                step=2,
                resume_code_sha256="d" * 64,
                expires_on=open_wave.closes_on,
            ),
            AuditEvent(
                actor="command line",
                action="wave.open",
                target="Voorjaar 2026",
                details={"ünits": ["dept", "team-b"], "nested": {"n": 1.5, "none": None}},
            ),
            AuditEvent(account_id=admin.id, actor=admin.email, action="account.create", at=moment),
            # The tree as it stood when the closed wave ended (survey.services.wave_tree).
            WaveTreeUnit(
                wave_id=closed.id,
                unit_id=org.id,
                parent_id=None,
                kind="organisation",
                name=org.name,
                slug=org.slug,
            ),
            WaveTreeUnit(
                wave_id=closed.id,
                unit_id=team_a.id,
                parent_id=org.id,
                kind="team",
                name="Team A — ‘vroeger’",
                slug=team_a.slug,
            ),
        ]
    )
    invitation = Invitation(wave_team=open_wave.teams[0], email="an@example.org", used=True)
    schedule = WaveSchedule(
        name="Puls ‘elk kwartaal’",
        every_months=3,
        open_days=14,
        next_opens_on=date(2026, 7, 1),
        last_wave_id=closed.id,
        account_id=admin.id,
        created_at=moment,
    )
    db.session.add_all(
        [
            StaffMember(unit=team_a, email="an@example.org", language="en", created_at=moment),
            invitation,
            InvitationToken(invitation=invitation, token_sha256="e" * 64),
            WaveReminder(
                wave_id=open_wave.id, kind=ReminderKind.AFTER_DAYS, planned_on=date(2026, 3, 8)
            ),
            OutgoingMail(
                kind=MailKind.INVITATION,
                wave_id=open_wave.id,
                recipient="an@example.org",
                subject=AWKWARD_TEXT[:300],
                text_body=AWKWARD_TEXT,
                html_body=None,
                message_id="<1.2@krachtspiegel.example>",
                next_attempt_at=moment,
                created_at=moment,
            ),
            schedule,
        ]
    )
    for number in range(6):
        response = Response(
            id=uuid.uuid4(),
            wave_id=closed.id,
            unit_id=team_a.id if number < 4 else team_b.id,
            submitted_on=date(2025, 10, 2 + number),
            language="en" if number == 5 else "nl",
        )
        db.session.add(response)
        db.session.add_all(
            [
                Answer(response=response, item_code="A1.1", value=1 + number % 5),
                Answer(response=response, item_code="A1.2", dont_know=True),
                Answer(response=response, item_code="X1", text=AWKWARD_TEXT if number else ""),
                Answer(response=response, item_code="C4", grid_row="C4.1", grid_column="wonen"),
                Answer(response=response, item_code="C4", grid_row="C4.2", grid_column="werk"),
                ScaleScore(response_id=response.id, scale_code="A1", score=(number + 1) / 3),
                ScaleScore(response_id=response.id, scale_code="A2", score=2.2 + 1e-15 * number),
            ]
        )
    db.session.flush()
    store_wave_figures(closed, instrument_of(closed))  # counted and kept as closing the wave does
    db.session.commit()
    ids = {"version": version.id, "closed_wave": closed.id, "team_a": team_a.id}
    db.session.remove()
    return ids


def _canonical(value: Any) -> Any:
    """Times compare in UTC: SQLite hands them back naive, PostgreSQL aware."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def contents() -> dict[str, list[tuple]]:
    """Every row of every table, read afresh; JSON columns as the exact text stored."""
    db.session.remove()
    tables: dict[str, list[tuple]] = {}
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [
                sa.cast(column, sa.Text) if isinstance(column.type, sa.JSON) else column
                for column in table.columns
            ]
            rows = connection.execute(sa.select(*columns)).all()
            tables[table.name] = sorted(
                (tuple(_canonical(value) for value in row) for row in rows), key=repr
            )
    return tables


def invoke(runner, *args: str):
    db.session.remove()  # the command runs in the test's app context: no open transaction
    return runner.invoke(args=list(args))


def backup(runner, path: Path, *options: str) -> None:
    result = invoke(runner, "backup", str(path), *options)
    assert result.exit_code == 0, result.output
    assert path.exists()


def rewrite_archive(source: Path, target: Path, change) -> None:
    """Copy an archive, letting ``change(name, data) -> data`` alter its members."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, change(info.filename, old.read(info.filename)))


def other_database(tmp_path: Path, name: str, revision: str | None = "head") -> Flask:
    """A separate SQLite database, migrated to ``revision`` (None: not migrated)."""
    other = create_app(base_config(f"sqlite:///{tmp_path / name}"))
    if revision is not None:
        with other.app_context():
            upgrade(revision=revision)
            db.engine.dispose()
    return other


# --- a restore gives everything back ------------------------------------------------------------


def test_a_restore_gives_back_every_row_of_every_table(app, runner, tmp_path):
    populate()
    before = contents()
    empty = [name for name, rows in before.items() if not rows]
    assert empty == [], f"populate() should fill every table, not {empty}"
    archive = tmp_path / "krachtspiegel.zip"

    result = invoke(runner, "backup", str(archive))
    assert result.exit_code == 0, result.output
    tables = len(Base.metadata.sorted_tables)
    assert "Backed up" in result.output and f"rows of {tables} tables" in result.output
    assert "answers: backed up 30/30 rows" in result.stderr

    empty_database()  # on PostgreSQL this also resets the id sequences to 1
    assert sum(len(rows) for rows in contents().values()) == 0
    result = invoke(runner, "restore", str(archive))
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output
    assert "answers: verified 30/30 rows" in result.stderr
    assert contents() == before

    # New rows get fresh ids: PostgreSQL's sequences were moved past the restored ids.
    org = db.session.scalar(sa.select(Unit).where(Unit.slug == "org"))
    db.session.add(Unit(slug="new-team", name="Nieuw", kind=UnitKind.TEAM, parent=org))
    db.session.add(AuditEvent(actor="command line", action="unit.create"))
    db.session.add(Account(email="nieuw@example.org", password_hash="x", role=Role.QUALITY))
    db.session.commit()


def test_restored_answers_read_as_before_through_the_models(app, runner, tmp_path):
    ids = populate()
    archive = tmp_path / "backup.zip"
    backup(runner, archive)

    def model_view() -> list:
        db.session.remove()
        responses = db.session.scalars(sa.select(Response).order_by(Response.submitted_on)).all()
        return [
            (
                response.id,
                response.submitted_on,
                response.language,
                sorted(
                    (a.item_code, a.grid_row, a.grid_column, a.value, a.dont_know, a.text)
                    for a in response.answers
                ),
            )
            for response in responses
        ]

    def settings_row() -> dict:
        return db.session.execute(sa.select(OrganisationSettings.__table__)).one()._asdict()

    def scores() -> list:
        return sorted(db.session.execute(sa.select(ScaleScore.scale_code, ScaleScore.score)).all())

    answers_before, scores_before = model_view(), scores()
    settings_before = settings_row()
    result = invoke(runner, "restore", str(archive), "--replace")
    assert result.exit_code == 0, result.output
    assert model_view() == answers_before
    assert scores() == scores_before
    assert settings_row() == settings_before
    wave = db.session.get(Wave, ids["closed_wave"])
    assert len(wave.teams[0].access_codes) == 2
    assert AWKWARD_TEXT in [action.description for action in wave.teams[0].actions]


def test_replace_swaps_the_contents_and_an_occupied_database_is_refused_without_it(
    app, runner, tmp_path
):
    populate()
    before = contents()
    archive = tmp_path / "backup.zip"
    backup(runner, archive)
    db.session.execute(sa.delete(Response).where(Response.language == "en"))
    db.session.add(Unit(slug="elsewhere", name="Elders", kind=UnitKind.ORGANISATION))
    db.session.commit()
    changed = contents()

    result = invoke(runner, "restore", str(archive))
    assert result.exit_code == 1
    assert "already holds data" in result.output and "--replace" in result.output
    assert "Traceback" not in result.output
    assert contents() == changed

    result = invoke(runner, "restore", str(archive), "--replace")
    assert result.exit_code == 0, result.output
    assert contents() == before


# --- consistency --------------------------------------------------------------------------------


def test_a_backup_is_one_snapshot_while_responses_arrive(app, runner, tmp_path, database_url):
    """Another connection stores a whole response (answers and scale scores) after the backup
    has read the responses table but before it reads the answers: the backup must hold none
    of it, not answers without their response."""
    populate()
    before = contents()
    writer = sa.create_engine(database_url)
    arrived = uuid.uuid4()

    def store_a_response_meanwhile(step: str, table: str, done: int, total: int) -> None:
        if table == "answers" and done == 0:
            wave_id, unit_id = before["responses"][0][1:3]
            with writer.begin() as connection:
                connection.execute(
                    sa.insert(Response.__table__),
                    {
                        "id": arrived,
                        "wave_id": wave_id,
                        "unit_id": unit_id,
                        "submitted_on": date(2025, 10, 9),
                        "language": "nl",
                    },
                )
                connection.execute(
                    sa.insert(Answer.__table__),
                    {"response_id": arrived, "item_code": "A1.1", "value": 5},
                )
                connection.execute(
                    sa.insert(ScaleScore.__table__),
                    {"response_id": arrived, "scale_code": "A1", "score": 5.0},
                )

    archive = tmp_path / "during.zip"
    db.session.remove()
    write_backup(archive, progress=store_a_response_meanwhile)
    writer.dispose()
    assert db.session.get(Response, arrived) is not None  # it did arrive, during the backup

    with zipfile.ZipFile(archive) as opened:
        manifest = json.loads(opened.read("manifest.json"))
        rows = {table["name"]: table["rows"] for table in manifest["tables"]}
    assert rows["responses"] == len(before["responses"])
    assert rows["answers"] == len(before["answers"])
    assert rows["scale_scores"] == len(before["scale_scores"])

    result = invoke(runner, "restore", str(archive), "--replace")
    assert result.exit_code == 0, result.output
    assert contents() == before


# --- refusals -----------------------------------------------------------------------------------


def _not_a_zip(archive: Path, target: Path) -> None:
    target.write_text("path,name\norg,Zorgnet\n")


def _truncated(archive: Path, target: Path) -> None:
    target.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])


def _tampered(archive: Path, target: Path) -> None:
    def change(name: str, data: bytes) -> bytes:
        return data.replace(b'"A1.1",', b'"A1.2",', 1) if name.endswith("answers.jsonl") else data

    rewrite_archive(archive, target, change)


def _edited(table: str, edit):
    """Change a table's file with ``edit(data) -> data`` and update its checksum in the
    manifest too, as someone who knows the format might: the restore must still notice."""

    def make(archive: Path, target: Path) -> None:
        with zipfile.ZipFile(archive) as opened:
            members = {name: opened.read(name) for name in opened.namelist()}
        manifest = json.loads(members["manifest.json"])
        entry = next(entry for entry in manifest["tables"] if entry["name"] == table)
        members[entry["file"]] = edit(members[entry["file"]])
        entry["sha256"] = hashlib.sha256(members[entry["file"]]).hexdigest()
        members["manifest.json"] = json.dumps(manifest).encode()
        with zipfile.ZipFile(target, "w") as new:
            for member, data in members.items():
                new.writestr(member, data)

    return make


def _manifest_change(**changes):
    def make(archive: Path, target: Path) -> None:
        def change(name: str, data: bytes) -> bytes:
            if name != "manifest.json":
                return data
            return json.dumps({**json.loads(data), **changes}).encode()

        rewrite_archive(archive, target, change)

    return make


def _without_a_table_file(archive: Path, target: Path) -> None:
    with zipfile.ZipFile(archive) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if not info.filename.endswith("responses.jsonl"):
                new.writestr(info.filename, old.read(info.filename))


def _without_a_manifest(archive: Path, target: Path) -> None:
    with zipfile.ZipFile(archive) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename != "manifest.json":
                new.writestr(info.filename, old.read(info.filename))


@pytest.mark.parametrize(
    "damage, message",
    [
        (_not_a_zip, "it is not a zip archive, or it is truncated"),
        (_truncated, "it is not a zip archive, or it is truncated"),
        (_tampered, "does not match its checksum"),
        (
            _edited("responses", lambda data: data.replace(b'"nl"]', b'"en"]', 1)),
            "Table responses does not read back as it is in",
        ),
        (
            _edited("units", lambda data: data.split(b"\n", 1)[1]),
            "table units has fewer rows than its manifest says",
        ),
        (
            _edited("responses", lambda data: b'["not","enough"]\n' + data.split(b"\n", 1)[1]),
            "row 1 of table responses cannot be read (expected a list of 5 values)",
        ),
        (
            _edited("waves", lambda data: data.replace(b'"closed"', b'"gesloten"', 1)),
            "The database refused a row of table waves",
        ),
        (_without_a_table_file, "the file of table responses"),
        (_without_a_manifest, "it has no manifest.json"),
        (_manifest_change(format="something-else"), "does not describe a Krachtspiegel backup"),
        (_manifest_change(format_version=99), "backup format version 99"),
        (_manifest_change(alembic_revision="0005"), "db downgrade 0005"),
        (_manifest_change(alembic_revision="ffff"), "does not know"),
        (_manifest_change(tables="none"), "is incomplete"),
    ],
)
def test_a_bad_archive_is_refused_and_the_database_left_alone(
    app, runner, tmp_path, damage, message
):
    populate()
    archive = tmp_path / "good.zip"
    backup(runner, archive)
    db.session.execute(sa.delete(AuditEvent))  # so that the backup differs from the database
    db.session.commit()
    before = contents()
    bad = tmp_path / "bad.zip"
    damage(archive, bad)

    result = invoke(runner, "restore", str(bad), "--replace")
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert contents() == before


def test_a_missing_backup_file_is_refused(app, runner, tmp_path):
    result = invoke(runner, "restore", str(tmp_path / "nothing.zip"))
    assert result.exit_code != 0
    assert "does not exist" in result.output


def test_a_backup_never_overwrites_a_file_unless_forced(app, runner, tmp_path):
    populate()
    archive = tmp_path / "backup.zip"
    archive.write_bytes(b"last week's backup")

    result = invoke(runner, "backup", str(archive))
    assert result.exit_code == 1
    assert "already exists" in result.output and "--force" in result.output
    assert archive.read_bytes() == b"last week's backup"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["backup.zip"]

    backup(runner, archive, "--force")
    assert zipfile.is_zipfile(archive)


def test_a_failed_backup_leaves_no_file_behind(app, tmp_path):
    populate()
    db.session.remove()

    def fail_halfway(step: str, table: str, done: int, total: int) -> None:
        if table == "responses":
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_backup(tmp_path / "backup.zip", progress=fail_halfway)
    assert list(tmp_path.iterdir()) == []


def test_restore_wants_the_backups_schema_revision(app, runner, tmp_path):
    populate()
    archive = tmp_path / "backup.zip"
    backup(runner, archive)

    def run_on(other: Flask, *args: str):
        with other.app_context():  # commands use the app context they find
            result = other.test_cli_runner().invoke(args=list(args))
            db.engine.dispose()
        return result

    older = other_database(tmp_path, "older.sqlite", revision="0005")
    result = run_on(older, "restore", str(archive))
    assert result.exit_code == 1
    assert "the database is at 0005" in result.output
    assert "flask --app wsgi db upgrade" in result.output

    result = run_on(older, "backup", str(tmp_path / "older.zip"))
    assert result.exit_code == 1
    assert "schema revision 0005" in result.output and "db upgrade" in result.output
    assert not (tmp_path / "older.zip").exists()

    bare = other_database(tmp_path, "bare.sqlite", revision=None)
    result = run_on(bare, "restore", str(archive))
    assert result.exit_code == 1
    assert "no Krachtspiegel schema yet" in result.output and "db upgrade" in result.output


def test_a_backup_into_a_missing_folder_is_refused(app, runner, tmp_path):
    result = invoke(runner, "backup", str(tmp_path / "no" / "such" / "backup.zip"))
    assert result.exit_code == 1
    assert "does not exist" in result.output


def test_the_archive_is_zip_with_a_manifest_and_json_lines(app, runner, tmp_path):
    """The format is documented, so that a backup can be read without Krachtspiegel."""
    populate()
    archive = tmp_path / "backup.zip"
    backup(runner, archive)
    with zipfile.ZipFile(archive) as opened:
        manifest = json.loads(opened.read("manifest.json"))
        assert manifest["format"] == "krachtspiegel-backup" and manifest["format_version"] == 1
        revision = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
        assert manifest["alembic_revision"] == revision
        names = [table["name"] for table in manifest["tables"]]
        assert names == [table.name for table in Base.metadata.sorted_tables]
        responses = next(t for t in manifest["tables"] if t["name"] == "responses")
        lines = opened.read(responses["file"]).splitlines()
    assert len(lines) == responses["rows"] == 6
    row = dict(zip([name for name, _ in responses["columns"]], json.loads(lines[0]), strict=True))
    assert uuid.UUID(row["id"]) and date.fromisoformat(row["submitted_on"])
    assert archive.stat().st_mode & 0o077 == 0  # holds password hashes: owner only


# --- SQLite → PostgreSQL ------------------------------------------------------------------------


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_a_sqlite_backup_restores_into_postgresql(app, runner, tmp_path):
    """The move an organisation makes from the embedded database to PostgreSQL."""
    source = other_database(tmp_path, "embedded.sqlite")
    archive = tmp_path / "move.zip"
    with source.app_context():
        populate()
        sqlite_contents = contents()
        result = source.test_cli_runner().invoke(args=["backup", str(archive)])
        assert result.exit_code == 0, result.output
        db.engine.dispose()

    assert db.engine.dialect.name == "postgresql"
    result = invoke(runner, "restore", str(archive))
    assert result.exit_code == 0, result.output
    assert "from sqlite" in result.output
    assert contents() == sqlite_contents

    back = tmp_path / "back.zip"  # and back again: PostgreSQL → SQLite gives the same rows
    backup(runner, back)
    target = other_database(tmp_path, "again.sqlite")
    with target.app_context():
        result = target.test_cli_runner().invoke(args=["restore", str(back)])
        assert result.exit_code == 0, result.output
        assert contents() == sqlite_contents
        db.engine.dispose()


def test_an_unreachable_database_gives_a_message(app, tmp_path):
    nowhere = create_app(base_config("postgresql+psycopg://nobody@127.0.0.1:1/nothing"))
    archive = tmp_path / "backup.zip"
    with zipfile.ZipFile(archive, "w") as empty:
        empty.writestr("manifest.json", json.dumps(_minimal_manifest()))
    with nowhere.app_context():
        runner = nowhere.test_cli_runner()
        result = runner.invoke(args=["backup", str(tmp_path / "new.zip")])
        assert result.exit_code == 1
        assert "The database could not be read" in result.output
        assert isinstance(result.exception, SystemExit)
        assert sorted(path.name for path in tmp_path.iterdir()) == ["backup.zip"]

        result = runner.invoke(args=["restore", str(archive)])
        assert result.exit_code == 1
        assert "nothing was restored" in result.output
        assert isinstance(result.exception, SystemExit)
        db.engine.dispose()


def _minimal_manifest() -> dict:
    return {
        "format": "krachtspiegel-backup",
        "format_version": 1,
        "created_at": "2026-11-25T12:00:00+00:00",
        "alembic_revision": "0006",
        "source_database": "sqlite",
        "tables": [],
    }
