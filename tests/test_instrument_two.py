"""Instrument 2.0 (issue 17): the team and pulse files load and validate, the codebook lists
what changed since 1.3, the demo's open wave asks 2.0 while its closed waves keep 1.3, and a
team's trend runs across a 1.3 wave and a 2.0 wave for the items and scales that did not
change, without comparing the changed ones as if they were equal."""

import io
import re
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from openpyxl import load_workbook

import questionnaires
from questionnaires import load_file, validate_file
from questionnaires.codebook import CHANGE_COLUMNS, change_rows, codebook_sheets, render_markdown
from questionnaires.loader import load_text
from survey.extensions import db
from survey.models import QuestionnaireVersion, Response, Unit, Wave, WaveStatus
from survey.services import organisation_results
from survey.services.comparisons import ended_waves
from survey.services.questionnaires import instrument_of
from tests.conftest import CSRF_FIELD, csrf_token, login

HERE = Path(questionnaires.__file__).parent
TEAM_1 = HERE / "krachtspiegel-team-1.yaml"
TEAM_2 = HERE / "krachtspiegel-team-2.yaml"
PULSE_1 = HERE / "krachtspiegel-pulse-1.yaml"
PULSE_2 = HERE / "krachtspiegel-pulse-2.yaml"
QUALITY = "kwaliteit@huisvankracht.example"
PASSWORD = "krachtspiegel-demo"


def items_of(path: Path, context: str | None = None) -> dict:
    """The items of a file by code, in the wording of ``context`` (None: the default wording,
    without the variants of any context)."""
    return {item.code: item for item in load_file(path).in_context(context).all_items()}


# The files


def test_both_files_of_version_two_are_valid_and_say_what_changed():
    assert validate_file(TEAM_2) == [] and validate_file(PULSE_2) == []
    team, pulse = load_file(TEAM_2), load_file(PULSE_2)
    assert (team.version, pulse.version) == ("2.0", "2.0")
    assert (team.changes_from, pulse.changes_from) == ("1.3", "1")
    # about 15 to 18 minutes: 99 items outside the optional deep dive, 13 ticked grids in it
    optional = [i for s in team.sections if s.code == "D" for i in s.all_items()]
    assert (len(team.all_items()), len(optional)) == (112, 13)


def test_every_item_1_3_kept_has_its_code_and_exact_wording_and_the_rest_is_recorded():
    old, new = items_of(TEAM_1), items_of(TEAM_2)
    kept = old.keys() & new.keys()
    for code in kept:
        assert (old[code].text, old[code].hint, old[code].type, old[code].reverse) == (
            new[code].text,
            new[code].hint,
            new[code].type,
            new[code].reverse,
        ), code
    team = load_file(TEAM_2)
    listed = {code: change for change in team.changes for code in change.codes}
    # every item 1.3 no longer asks is recorded as removed or replaced, never reused
    gone = old.keys() - new.keys()
    assert gone == {"A6.4", "C2.3", "C2.6"}
    replaced = {code for change in team.changes for code in change.replaces}
    assert all(listed.get(code) or code in replaced for code in gone)
    # every new item is recorded as added or replacing an old one
    for code in new.keys() - old.keys():
        assert listed[code].kind in ("added", "replaced"), code
    assert listed["A13.1"].replaces == ("A6.4",) and not new["A13.1"].reverse
    assert listed["C2.13"].replaces == ("C2.6",)


def test_the_pulse_reuses_the_core_items_of_the_team_version_word_for_word():
    team, pulse = items_of(TEAM_2), items_of(PULSE_2)
    for code, item in pulse.items():
        assert (item.text, item.hint, item.type) == (
            team[code].text,
            team[code].hint,
            team[code].type,
        )
    scales = load_file(TEAM_2).scales()
    assert {scale.items[0].code for scale in scales} <= pulse.keys()
    # the pulse 1 questions it kept are the same questions
    old = items_of(PULSE_1)
    assert all(old[code].text == pulse[code].text for code in old.keys() & pulse.keys())


def test_changed_scales_have_new_codes_and_unchanged_ones_the_same_items():
    old = {s.code: [i.code for i in s.items] for s in load_file(TEAM_1).scales()}
    new = {s.code: [i.code for i in s.items] for s in load_file(TEAM_2).scales()}
    assert all(old[code] == new[code] for code in old.keys() & new.keys())
    assert "A6" not in new and new["A13"] == ["A6.1", "A6.2", "A13.1", "A13.2"]
    principles = {p.code: p.scales for p in load_file(TEAM_2).starting_points}
    assert principles["U1"] == ("A1", "A9") and principles["U7"] == ("A14",)


def test_youth_care_has_its_own_wording_under_the_same_codes():
    default, youth = items_of(TEAM_2), items_of(TEAM_2, "jeugdhulp")
    assert default.keys() == youth.keys()
    assert "cliënten" in default["A1.1"].text["nl"]
    assert youth["A1.1"].text["nl"] == (
        "In gesprekken met jongeren en hun ouders zoeken wij actief naar hun krachten."
    )
    assert "jeugdhulp" in youth["A14.2"].text["nl"] and "youth care" in youth["A14.2"].text["en"]
    assert not any("cliënt" in item.text["nl"] for item in youth.values())
    section_a = load_file(TEAM_2).in_context("jeugdhulp").sections[0]
    assert "opvoedingsverantwoordelijken" in section_a.description["nl"]
    assert [c.code for c in load_file(PULSE_2).contexts] == ["jeugdhulp"]
    assert items_of(PULSE_2, "jeugdhulp")["A1.1"].text == youth["A1.1"].text


# The changes record: the loader checks it


def mini_with_changes(changes: str) -> str:
    mini = (Path(__file__).parent / "questionnaires" / "files" / "mini.yaml").read_text()
    return mini + changes


def test_the_loader_refuses_a_changes_record_that_lies_about_the_file():
    broken = mini_with_changes(
        "changes:\n"
        '  from: "1"\n'
        "  entries:\n"
        "    - codes: [A1.1]\n"
        "      change: removed\n"
        "      reason: {nl: Weg, en: Gone}\n"
        "    - codes: [Z9]\n"
        "      change: added\n"
        "      reason: {nl: Nieuw, en: New}\n"
        "    - codes: [A1.2]\n"
        "      change: replaced\n"
        "      reason: {nl: Anders, en: Different}\n"
        "    - codes: [A1.3]\n"
        "      change: renamed\n"
        "      reason: {nl: Anders, en: Different}\n"
    )
    problems = "\n".join(str(problem) for problem in validate_text(broken))
    assert "'A1.1' is still a code of this file" in problems
    assert "'Z9' is not a code of this file" in problems
    assert "change: replaced needs 'replaces'" in problems
    assert "unknown change 'renamed'" in problems


def validate_text(content: str) -> list:
    try:
        load_text(content, "mini.yaml")
    except questionnaires.QuestionnaireError as error:
        return error.problems
    return []


# The codebook lists the changes


def test_the_codebook_lists_what_changed_since_1_3():
    team = load_file(TEAM_2)
    rows = {row[CHANGE_COLUMNS.index("code")]: row for row in change_rows([team])}
    a13 = dict(zip(CHANGE_COLUMNS, rows["A13.1"], strict=True))
    assert a13["change"] == "replaced" and a13["replaces"] == "A6.4" and a13["since"] == "1.3"
    assert "doorverwijzing" in a13["reason_nl"] and "referral" in a13["reason_en"]
    assert rows["A6.4"][CHANGE_COLUMNS.index("change")] == "removed"
    markdown = render_markdown([team])
    assert "## Wat is er veranderd sinds 1.3 / What changed since 1.3" in markdown
    assert "| replaced | C2.10, C2.11, C2.12 | C2.3 |" in markdown
    assert [name for name, *_ in codebook_sheets([team])] == ["codebook", "changes"]
    assert [name for name, *_ in codebook_sheets([load_file(TEAM_1)])] == ["codebook"]


def test_the_admin_codebook_download_of_2_0_has_the_changes_sheet(demo, client):
    login(client, "beheer@huisvankracht.example", PASSWORD)
    version = db.session.scalar(
        sa.select(QuestionnaireVersion).where(QuestionnaireVersion.filename == TEAM_2.name)
    )
    reply = client.get(f"/admin/questionnaires/{version.id}/codebook")
    assert reply.status_code == 200
    workbook = load_workbook(io.BytesIO(reply.data))
    assert workbook.sheetnames == ["codebook", "changes"]
    header, *rows = list(workbook["changes"].iter_rows(values_only=True))
    assert header == CHANGE_COLUMNS and any(row[4] == "A6.4" for row in rows)
    text = client.get(f"/admin/questionnaires/{version.id}/codebook?format=md")
    assert "What changed since 1.3" in text.get_data(as_text=True)


# The demo and the trend across versions


def test_the_demo_asks_2_0_in_its_open_wave_and_1_3_in_the_closed_ones(demo):
    waves = db.session.scalars(sa.select(Wave).order_by(Wave.opens_on)).all()
    versions = [(wave.status, instrument_of(wave).version) for wave in waves]
    assert versions[:-1] == [(WaveStatus.CLOSED, "1.3")] * 3
    assert versions[-1] == (WaveStatus.OPEN, "2.0")
    # the open wave's promise lists the life domains of 2.0, the crossing included
    assert {"C2.10", "C2.14", "C5.1", "C5.12"} <= set(waves[-1].life_domains)
    assert "C2.3" not in waves[-1].life_domains


def close_the_open_wave() -> Wave:
    """The demo's open 2.0 wave, ended long enough ago to be compared."""
    wave = db.session.scalar(sa.select(Wave).where(Wave.status == WaveStatus.OPEN))
    wave.status = WaveStatus.CLOSED
    wave.opens_on = date.today() - timedelta(days=70)
    wave.closes_on = date.today() - timedelta(days=40)
    db.session.commit()
    return wave


def test_a_teams_trend_runs_across_1_3_and_2_0_for_what_did_not_change(demo):
    last = close_the_open_wave()
    waves = ended_waves()
    assert [instrument_of(w).version for w in waves] == ["1.3", "1.3", "1.3", "2.0"]
    team = db.session.scalar(sa.select(Unit).where(Unit.slug == "team-horizon"))
    trend = organisation_results.unit_trend(team, waves, "nl")
    assert trend.waves[-1] == last
    rows = {
        row.scale.code: row for row in organisation_results.scale_trends(trend, None, None).rows
    }
    # an unchanged scale: a figure in every wave, 1.3 and 2.0 on one axis
    assert all(rows["A1"].asked) and all(mean is not None for mean in rows["A1"].means)
    assert all(mean is not None for mean in rows["B1"].means)
    # a scale new in 2.0 (A13 took over from A6 with other items): only its own wave, and no
    # change is computed against the 1.3 scale it replaces
    assert rows["A13"].asked == [False, False, False, True]
    assert rows["A13"].means[:3] == [None, None, None] and rows["A13"].change is None
    assert "A6" not in rows  # the 1.3 scale is not drawn as if 2.0 still asked it
    # item by item: the unchanged questions run across both versions
    shared = {row.code: row for row in trend.core_rows}
    assert {"A1.1", "A6.1", "A6.3", "C2.1", "C2.7", "B5.4"} <= shared.keys()
    assert all(shared["A6.1"].asked) and shared["A6.1"].cells[-1] is not None
    # changed questions are never paired: old and new codes each live in one version only
    for code in ("A6.4", "A13.1", "C2.3", "C2.10", "C2.6", "C2.13"):
        assert code not in shared, code


def test_the_quality_officer_sees_the_trend_across_versions(demo, client):
    close_the_open_wave()
    login(client, QUALITY, PASSWORD)
    page = client.get("/quality/units/team-horizon").get_data(as_text=True)
    core = page[page.index('id="core-caption"') :]
    header = re.search(r"<thead>(.*?)</thead>", core, re.S).group(1)
    assert header.count("<th") == 1 + len(ended_waves()) == 5
    assert '<th scope="row">A6.1 ' in core and '<th scope="row">A6.4 ' not in core


def test_an_export_of_a_2_0_wave_carries_the_codebook_and_what_changed(demo, client):
    wave = close_the_open_wave()
    login(client, QUALITY, PASSWORD)
    reply = client.get(f"/quality/waves/{wave.id}/scores.xlsx")
    assert reply.status_code == 200
    workbook = load_workbook(io.BytesIO(reply.data))
    assert workbook.sheetnames == ["1 scores", "codebook", "changes"]
    codes = [row[4] for row in workbook["changes"].iter_rows(min_row=2, values_only=True)]
    assert "A6.4" in codes and "C2.10" in codes


def test_a_colleague_answers_the_whole_2_0_questionnaire_of_the_open_wave(demo, client):
    wave = db.session.scalar(sa.select(Wave).where(Wave.status == WaveStatus.OPEN))
    team = next(t for t in wave.teams if t.unit.slug == "team-horizon")
    link = f"/t/{team.link_slug}"
    before = set(db.session.scalars(sa.select(Response.id).where(Response.wave_id == wave.id)))
    location = client.post(link, data={"csrf_token": csrf_token(client, link)}).headers["Location"]
    pages, client_pages = 0, 0
    while location.startswith("/respond/") and location[9:].isdigit():
        page = client.get(location).get_data(as_text=True)
        assert "jongere" not in page  # no context chosen: the default wording
        client_pages += "cliënt" in page
        answers: dict[str, list[str]] = {}
        for name, value in re.findall(r'name="(item-[^"]+)"[^>]*value="([^"]+)"', page):
            if value in ("4", "now", "most:now") or value.endswith(":past"):
                answers.setdefault(name, []).append(value)
        token = CSRF_FIELD.search(page).group(1)
        reply = client.post(location, data={"csrf_token": token, "action": "next", **answers})
        assert reply.status_code == 302, reply.get_data(as_text=True)[:2000]
        location, pages = reply.headers["Location"], pages + 1
    assert location == "/respond/review" and pages >= 3 and client_pages >= 3
    reply = client.post("/respond/submit", data={"csrf_token": csrf_token(client, location)})
    assert reply.headers["Location"] == "/respond/thanks"
    (response,) = [
        response
        for response in db.session.scalars(sa.select(Response).where(Response.wave_id == wave.id))
        if response.id not in before
    ]
    codes = {answer.item_code for answer in response.answers}
    assert {"A9.1", "A13.1", "B7.3", "C2.10", "C2.14"} <= codes
    cells = {(a.item_code, a.grid_row, a.grid_column) for a in response.answers if a.grid_row}
    assert ("C5.1", "most", "past") in cells
