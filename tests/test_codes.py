import csv
import hashlib
import io
import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from survey.extensions import db
from survey.models import AccessCode, AuditEvent, Wave, WaveStatus, WaveTeam
from survey.services import codes as codes_service
from survey.services.codes import (
    ALPHABET,
    CodeError,
    claim_code,
    generate_code,
    hash_code,
    issue_codes,
    normalise_code,
)
from survey.web.code_slips import slips_pdf

CODE_FORMAT = re.compile(f"[{ALPHABET}]{{5}}-[{ALPHABET}]{{5}}")
PUBLIC_URL = "https://ks.example.org"
ROOT = Path(__file__).parent.parent


def run(runner, *args):
    return runner.invoke(args=list(args))


def team_of(wave: Wave, slug: str) -> WaveTeam:
    return next(team for team in wave.teams if team.unit.slug == slug)


def stored_codes() -> list[AccessCode]:
    return db.session.scalars(sa.select(AccessCode).order_by(AccessCode.id)).all()


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def pdf_text(pdf: bytes) -> str:
    """What a reader of the PDF finds: the text of every page, as pypdf extracts it, pages
    separated by a form feed."""
    return "\f".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def wave(app, tree, make_wave) -> Wave:
    app.config["PUBLIC_URL"] = PUBLIC_URL
    return make_wave([tree["north"]], name="Voorjaar 2026")


# --- the codes themselves ---------------------------------------------------------------------


def test_generated_codes_are_ten_characters_without_look_alikes():
    drawn = [generate_code() for _ in range(2000)]
    assert all(CODE_FORMAT.fullmatch(code) for code in drawn)
    assert not set("01OIL") & set(ALPHABET)
    assert set("".join(drawn).replace("-", "")) == set(ALPHABET)
    assert len(set(drawn)) == len(drawn)


@pytest.mark.parametrize("typed", ["abcde-fghjk", "ABCDEFGHJK", " abcde fghjk\n", "Abc-De-FGHJK"])
def test_codes_are_normalised_before_hashing(typed):
    assert normalise_code(typed) == "ABCDEFGHJK"
    assert hash_code(typed) == hashlib.sha256(b"ABCDEFGHJK").hexdigest()


# --- issuing ----------------------------------------------------------------------------------


def test_issuing_stores_only_hashes(wave):
    team = team_of(wave, "team-a")
    codes = issue_codes(team, 25)
    db.session.commit()

    assert len(codes) == len(set(codes)) == 25
    assert all(CODE_FORMAT.fullmatch(code) for code in codes)
    rows = stored_codes()
    assert {row.code_sha256 for row in rows} == {hash_code(code) for code in codes}
    assert {(row.wave_team_id, row.used) for row in rows} == {(team.id, False)}
    with db.engine.connect() as connection:
        raw = connection.execute(sa.text("SELECT * FROM access_codes")).all()
    stored = " ".join(str(value) for row in raw for value in row).upper()
    for code in codes:
        assert code not in stored and normalise_code(code) not in stored

    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "codes.issue"))
    assert event.target == f"wave {wave.id} / team-a"
    assert event.details == {"count": 25} and event.actor == "command line"


def test_issuing_adds_to_the_codes_a_team_has(wave):
    issue_codes(team_of(wave, "team-a"), 3)
    issue_codes(team_of(wave, "team-b"), 4)
    issue_codes(team_of(wave, "team-a"), 2)
    db.session.commit()
    counts = dict(
        db.session.execute(
            sa.select(AccessCode.wave_team_id, sa.func.count()).group_by(AccessCode.wave_team_id)
        ).all()
    )
    assert counts == {team_of(wave, "team-a").id: 5, team_of(wave, "team-b").id: 4}


def test_issuing_for_a_draft_wave_is_allowed(tree, make_wave):
    wave = make_wave([tree["team-c"]], status=WaveStatus.DRAFT)
    assert len(issue_codes(wave.teams[0], 2)) == 2


@pytest.mark.parametrize(
    "count, message",
    [
        (0, "between 1 and 500, not 0"),
        (501, "between 1 and 500, not 501"),
        (-3, "between 1 and 500, not -3"),
        ("5", "must be a whole number"),
        (True, "must be a whole number"),
    ],
)
def test_issuing_refuses_a_count_out_of_range(wave, count, message):
    with pytest.raises(CodeError, match=message):
        issue_codes(team_of(wave, "team-a"), count)
    assert stored_codes() == []


def test_issuing_refuses_a_closed_wave(tree, make_wave):
    wave = make_wave([tree["team-c"]], status=WaveStatus.CLOSED, name="Najaar 2025")
    with pytest.raises(CodeError, match=rf"Wave {wave.id} \(Najaar 2025\) is closed"):
        issue_codes(wave.teams[0], 5)
    assert stored_codes() == []


def test_a_code_drawn_twice_or_already_stored_is_drawn_again(wave, monkeypatch):
    """The one stand-in here: a scripted random source, to make a collision happen."""
    team = team_of(wave, "team-a")
    (first,) = issue_codes(team, 1)
    draws = iter([first, first, "AAAAA-BBBBB", "CCCCC-DDDDD"])
    monkeypatch.setattr(codes_service, "generate_code", lambda: next(draws))
    assert sorted(issue_codes(team, 2)) == ["AAAAA-BBBBB", "CCCCC-DDDDD"]
    assert len(stored_codes()) == 3


# --- claiming ---------------------------------------------------------------------------------


def test_claiming_a_code_uses_it_once(wave):
    team = team_of(wave, "team-b")
    (code,) = issue_codes(team, 1)
    db.session.commit()

    first = claim_code(code)
    db.session.commit()
    assert first.status == "claimed" and first.wave_team.id == team.id
    assert stored_codes()[0].used

    again = claim_code(code)
    assert again.status == "used" and again.wave_team.id == team.id


@pytest.mark.parametrize("typed", ["ZZZZZ-ZZZZZ", "", "hello", "ABCDE-FGHJK-2", "ÄBCDE-FGHJK"])
def test_claiming_an_unknown_code(wave, typed):
    issue_codes(team_of(wave, "team-a"), 3)
    db.session.commit()
    result = claim_code(typed)
    assert result.status == "unknown" and result.wave_team is None
    assert not any(row.used for row in stored_codes())


def test_a_code_typed_in_lower_case_without_hyphen_is_the_same_code(wave):
    (code,) = issue_codes(team_of(wave, "team-a"), 1)
    db.session.commit()
    assert claim_code(" " + code.lower().replace("-", "") + " ").status == "claimed"
    db.session.commit()
    assert claim_code(code).status == "used"
    assert claim_code(code.lower().replace("-", " ")).status == "used"


def test_a_claim_is_undone_by_a_rollback(wave):
    (code,) = issue_codes(team_of(wave, "team-a"), 1)
    db.session.commit()
    assert claim_code(code).status == "claimed"
    db.session.rollback()
    assert claim_code(code).status == "claimed"


def test_twenty_simultaneous_claims_of_one_code_claim_it_once(app, wave):
    (code,) = issue_codes(team_of(wave, "team-a"), 1)
    db.session.commit()
    start = threading.Barrier(20)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def claim() -> None:
        with app.app_context():
            try:
                start.wait(timeout=30)
                outcome = claim_code(code).status
                db.session.commit()
                outcomes.append(outcome)
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(outcomes) == ["claimed"] + ["used"] * 19
    db.session.expire_all()
    assert stored_codes()[0].used


# --- the slips --------------------------------------------------------------------------------


def test_slips_hold_ten_codes_a_page_with_the_address_and_instructions(wave, tmp_path):
    team = team_of(wave, "team-b")
    codes = issue_codes(team, 12)
    pdf = slips_pdf(codes, team)
    assert pdf.startswith(b"%PDF")
    assert page_count(pdf) == 2
    text = pdf_text(pdf)
    for code in codes:
        assert code in text
    pages = text.split("\f")
    assert sum(code in pages[0] for code in codes) == 10
    flowing = words(text)
    assert flowing.count(f"{PUBLIC_URL}/code") == 12 * 3
    assert flowing.count("Team B · Voorjaar 2026") == 12
    assert (
        f"Ga naar {PUBLIC_URL}/code en typ deze code. Je antwoorden zijn anoniem: "
        "de code wordt niet aan je antwoorden gekoppeld."
    ) in flowing
    assert (
        f"Go to {PUBLIC_URL}/code and type this code. Your answers are anonymous: "
        "the code is not linked to your answers."
    ) in flowing


# --- codes issue (CLI) ------------------------------------------------------------------------


def issue(runner, wave, *args):
    return run(runner, "codes", "issue", "--wave", str(wave.id), *args)


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_codes_issue_writes_csv_to_standard_output(runner, wave):
    result = issue(runner, wave, "--team", "team-a", "--count", "5", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "code" and len(lines) == 6
    assert all(CODE_FORMAT.fullmatch(line) for line in lines[1:])
    assert {hash_code(line) for line in lines[1:]} == {row.code_sha256 for row in stored_codes()}
    assert f"Issued 5 code(s) for Team A in wave {wave.id} (Voorjaar 2026)." in result.stderr


def test_codes_issue_writes_csv_to_a_file(runner, wave, tmp_path):
    target = tmp_path / "codes.csv"
    result = issue(
        runner, wave, "--team", "team-b", "--count", "3", "--format", "csv", "-o", str(target)
    )
    assert result.exit_code == 0, result.output
    rows = read_csv(target.read_text())
    assert [list(row) for row in rows] == [["code"]] * 3
    assert {hash_code(row["code"]) for row in rows} == {row.code_sha256 for row in stored_codes()}
    assert f"written to {target}" in result.stdout
    assert target.stat().st_mode & 0o077 == 0


def test_codes_issue_writes_pdf_slips_to_a_file(runner, wave, tmp_path):
    target = tmp_path / "slips.pdf"
    result = issue(
        runner, wave, "--team", "team-a", "--count", "4", "--format", "pdf", "-o", str(target)
    )
    assert result.exit_code == 0, result.output
    pdf = target.read_bytes()
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    codes = re.findall(CODE_FORMAT, text)
    assert len(set(codes)) == 4
    assert {hash_code(code) for code in codes} == {row.code_sha256 for row in stored_codes()}


def test_codes_issue_writes_a_pdf_to_standard_output_when_it_is_not_a_terminal(runner, wave):
    result = issue(runner, wave, "--team", "team-a", "--count", "1", "--format", "pdf")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"%PDF")
    assert len(stored_codes()) == 1


def test_many_codes_show_progress_on_standard_error(runner, wave, tmp_path):
    result = issue(runner, wave, "--team", "team-a", "--count", "51", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert "Issuing codes" in result.stderr and "Issuing" not in result.stdout
    assert len(read_csv(result.stdout)) == 51
    target = tmp_path / "slips.pdf"
    result = issue(
        runner, wave, "--team", "team-b", "--count", "60", "--format", "pdf", "-o", str(target)
    )
    assert result.exit_code == 0, result.output
    assert "Laying out the slips" in result.stderr
    assert page_count(target.read_bytes()) == 6


def test_few_codes_show_no_progress(runner, wave):
    result = issue(runner, wave, "--team", "team-a", "--count", "50", "--format", "csv")
    assert "Issuing codes" not in result.output


@pytest.mark.parametrize(
    "args, exit_code, message",
    [
        (["--team", "team-a", "--count", "0"], 2, "'--count': 0 is not in the range 1<=x<=500"),
        (["--team", "team-a", "--count", "501"], 2, "'--count': 501 is not in the range 1<=x<=500"),
        (["--team", "team-a", "--count", "many"], 2, "'many' is not a valid integer"),
        (["--team", "nowhere", "--count", "5"], 2, "There is no unit 'nowhere'"),
        (["--team", "team-c", "--count", "5"], 2, "Team 'team-c' does not take part in wave"),
        (["--team", "team-a"], 2, "Missing option '--count'"),
    ],
)
def test_codes_issue_refuses_bad_input_clearly(runner, wave, args, exit_code, message):
    result = issue(runner, wave, *args, "--format", "csv")
    assert result.exit_code == exit_code
    assert message in result.output
    assert "Traceback" not in result.output
    assert stored_codes() == []


def test_codes_issue_names_the_teams_of_the_wave_when_the_team_is_wrong(runner, wave):
    result = issue(runner, wave, "--team", "team-c", "--count", "1", "--format", "csv")
    assert "Its teams: team-a, team-b." in result.output


def test_codes_issue_refuses_an_unknown_wave(runner, wave):
    result = run(
        runner,
        "codes",
        "issue",
        "--wave",
        "999",
        "--team",
        "team-a",
        "--count",
        "1",
        "--format",
        "csv",
    )
    assert result.exit_code == 2
    assert "There is no wave 999." in result.output
    assert stored_codes() == []


def test_codes_issue_refuses_a_closed_wave(runner, tree, make_wave):
    wave = make_wave([tree["south"]], status=WaveStatus.CLOSED, name="Najaar 2025")
    result = issue(runner, wave, "--team", "team-c", "--count", "5", "--format", "csv")
    assert result.exit_code == 1
    assert f"Error: Wave {wave.id} (Najaar 2025) is closed: it takes no new codes." in result.output
    assert "Traceback" not in result.output
    assert stored_codes() == []


def test_codes_issue_refuses_an_unknown_format(runner, wave):
    result = issue(runner, wave, "--team", "team-a", "--count", "1", "--format", "xlsx")
    assert result.exit_code == 2
    assert "'xlsx' is not one of 'csv', 'pdf'" in result.output


def test_codes_issue_keeps_nothing_when_the_file_cannot_be_written(runner, wave, tmp_path):
    target = tmp_path / "missing-folder" / "codes.csv"
    result = issue(
        runner, wave, "--team", "team-a", "--count", "2", "--format", "csv", "-o", str(target)
    )
    assert result.exit_code == 1
    assert f"Could not write {target}" in result.output
    assert "Traceback" not in result.output
    assert stored_codes() == []


def test_a_pdf_needs_a_file_on_a_terminal(database_url, wave):
    """Run as an administrator would, with standard output on a terminal."""
    terminal, other_end = pty.openpty()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "tests-only-secret"}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "codes", "issue"]
    args = ["--wave", str(wave.id), "--team", "team-a", "--count", "3", "--format", "pdf"]
    try:
        finished = subprocess.run(
            command + args, cwd=ROOT, env=env, stdout=other_end, stderr=subprocess.PIPE, timeout=60
        )
    finally:
        os.close(other_end)
        os.close(terminal)
    assert finished.returncode == 2
    assert "A PDF is binary: give -o FILE.pdf." in finished.stderr.decode()
    assert stored_codes() == []


# --- wave links (CLI) -------------------------------------------------------------------------


def link_line(team: WaveTeam) -> re.Pattern:
    return re.compile(
        rf"^  {re.escape(team.unit.name)} +{team.unit.slug} +"
        rf"{re.escape(PUBLIC_URL)}/t/{re.escape(team.link_slug)}$",
        re.M,
    )


def test_wave_links_of_one_wave(runner, wave):
    result = run(runner, "wave", "links", "--wave", str(wave.id))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        f"Wave {wave.id}: Voorjaar 2026 "
        f"({wave.opens_on.isoformat()} to {wave.closes_on.isoformat()}, open)"
    )
    assert len(lines) == 3
    for team in wave.teams:
        assert link_line(team).search(result.output)


def test_wave_links_of_every_open_wave(runner, app, tree, make_wave):
    app.config["PUBLIC_URL"] = PUBLIC_URL
    spring = make_wave([tree["north"]], name="Voorjaar 2026")
    autumn = make_wave([tree["south"]], name="Najaar 2026")
    closed = make_wave([tree["org"]], status=WaveStatus.CLOSED, name="Najaar 2025")
    draft = make_wave([tree["org"]], status=WaveStatus.DRAFT, name="Voorjaar 2027")
    result = run(runner, "wave", "links")
    assert result.exit_code == 0, result.output
    assert f"Wave {spring.id}: Voorjaar 2026 (" in result.output
    assert f"Wave {autumn.id}: Najaar 2026 (" in result.output
    assert "Najaar 2025" not in result.output and "Voorjaar 2027" not in result.output
    for team in spring.teams + autumn.teams:
        assert link_line(team).search(result.output)
    for team in closed.teams + draft.teams:
        assert team.link_slug not in result.output
    spring_part, autumn_part = result.output.split("\n\n")
    assert "team-c" in autumn_part and "team-c" not in spring_part


def test_wave_links_of_a_codes_only_wave(runner, wave):
    wave.codes_only = True
    db.session.commit()
    for args in ([], ["--wave", str(wave.id)]):
        result = run(runner, "wave", "links", *args)
        assert result.exit_code == 0, result.output
        assert "set to access codes only" in result.output
        assert f"codes issue --wave {wave.id}" in result.output
        assert "/t/" not in result.output


def test_wave_links_without_open_waves(runner, tree, make_wave):
    make_wave([tree["org"]], status=WaveStatus.CLOSED)
    result = run(runner, "wave", "links")
    assert result.exit_code == 0
    assert result.output == "There are no open waves.\n"


def test_wave_links_of_an_unknown_wave(runner, app):
    result = run(runner, "wave", "links", "--wave", "42")
    assert result.exit_code == 2
    assert "There is no wave 42." in result.output
    assert "Traceback" not in result.output
