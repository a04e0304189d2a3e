"""Downloads a quality officer could combine (issue 14, classes 2, 3 and 10), attacked through the
application as an insider would: pages, CSV and XLSX downloads of the test client.

- Class 2, downloads combined: the background breakdown of the organisation profile (means to
  2 decimals with n per answer group) and the response-level export of the same wave, joined by
  an integer program (``scipy.optimize.milp``), give rows their background answer back. A wave's
  background answers now serve one of the two only (``survey.services.background_use``).
- Class 10, reorganising between downloads: moving, renaming or archiving units after a wave
  changes nothing in its downloads, which group units by the tree kept with the wave
  (``survey.services.wave_tree``).
- Class 3 (the withheld count): "Responses withheld" never states a number below k.
"""

from __future__ import annotations

import csv
import io
import random
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from openpyxl import load_workbook
from scipy.optimize import Bounds, LinearConstraint, milp

import questionnaires
from survey.extensions import db
from survey.models import (
    Answer,
    AuditEvent,
    Response,
    Role,
    Unit,
    UnitKind,
    Wave,
    WaveStatus,
    WaveTeam,
)
from survey.services.questionnaires import store_instrument
from survey.services.scale_scores import of_wave, store_scale_scores
from tests.conftest import CSRF_FIELD, login


@pytest.fixture(autouse=True)
def everyone_at_once(app):
    """These waves close today; their figures are looked at at once, without the team-first
    period (its own tests: tests/test_insider_storage.py)."""
    app.config["TEAM_FIRST_DAYS"] = 0


QUALITY = "kwaliteit@example.org"
K = 5

SCALES = ("S1", "S2", "S3", "S4")
ITEMS = (1, 2, 3)
OPTIONS = (1, 2, 9)


def scale_yaml(scale: str) -> str:
    items = "".join(
        f"          - {{code: {scale}.{i}, type: agreement5, text: {{nl: v{i}, en: q{i}}}}}\n"
        for i in ITEMS
    )
    head = f"      - code: {scale}\n        title: {{nl: {scale}, en: {scale}}}\n"
    return f"{head}        items:\n{items}"


#: Four scales of three items each and a background question with three options.
INSTRUMENT = f"""
instrument: insider-downloads
version: 1
languages: [nl, en]
title: {{nl: Vier schalen, en: Four scales}}
introduction: {{nl: Een test., en: A test.}}
sections:
  - code: A
    title: {{nl: Praktijk, en: Practice}}
    scales:
{scale_yaml("S1")}{scale_yaml("S2")}  - code: B
    title: {{nl: Organisatie, en: Organisation}}
    scales:
{scale_yaml("S3")}{scale_yaml("S4")}    items:
      - code: BG1
        type: single_choice
        background: true
        text: {{nl: "Wat is je rol?", en: "What is your role?"}}
        options:
          - {{code: 1, label: {{nl: Begeleider, en: Support worker}}}}
          - {{code: 2, label: {{nl: Teamcoach, en: Team coach}}}}
          - {{code: 9, label: {{nl: Andere rol, en: Other role}}}}
"""


# --- Building a small organisation and wave ------------------------------------------------------


@pytest.fixture
def version(app, tmp_path: Path):
    path = tmp_path / "insider-downloads.yaml"
    path.write_text(INSTRUMENT, encoding="utf-8")
    outcome = store_instrument(questionnaires.load_file(path), path.name)
    db.session.commit()
    return outcome.version


def build(version, teams: dict[str, tuple[str, int]], seed: int = 7) -> tuple[Wave, dict]:
    """org → departments → teams (slug → (department, responses)); an ended wave whose
    responses answer every item at random and BG1 in a fixed mix of roles."""
    org = Unit(slug="org", name="Org", kind=UnitKind.ORGANISATION)
    units: dict[str, Unit] = {"org": org}
    for department, _size in teams.values():
        if department not in units:
            units[department] = Unit(
                slug=department, name=department.title(), kind=UnitKind.DEPARTMENT, parent=org
            )
    for slug, (department, _size) in teams.items():
        units[slug] = Unit(
            slug=slug, name=slug.replace("-", " ").title(), kind=UnitKind.TEAM,
            parent=units[department],
        )  # fmt: skip
    db.session.add(org)
    today = date.today()
    wave = Wave(
        questionnaire_version=version,
        name="Najaar",
        opens_on=today - timedelta(days=30),
        closes_on=today - timedelta(days=10),
        closed_on=today - timedelta(days=10),
        status=WaveStatus.CLOSED,
        units=[org],
        min_group_size=K,
        spread_threshold=K,
        comments_enabled=True,
        life_domains=[],
    )
    wave.teams = [
        WaveTeam(unit=units[slug], invited=size + 2) for slug, (_d, size) in teams.items()
    ]
    db.session.add(wave)
    db.session.flush()
    rng = random.Random(seed)
    roles = [OPTIONS[number % 3] if number % 7 else 1 for number in range(100)]
    number = 0
    for slug, (_department, size) in teams.items():
        for _ in range(size):
            response = Response(
                id=uuid.uuid4(), wave_id=wave.id, unit_id=units[slug].id,
                submitted_on=wave.closes_on, language="nl",
            )  # fmt: skip
            db.session.add(response)
            for scale in SCALES:
                for item in ITEMS:
                    code, value = f"{scale}.{item}", rng.randint(1, 5)
                    db.session.add(Answer(response=response, item_code=code, value=value))
            db.session.add(Answer(response=response, item_code="BG1", value=roles[number]))
            number += 1
    db.session.flush()
    store_scale_scores(of_wave(wave.id))
    db.session.commit()
    return wave, units


@pytest.fixture
def officer(client, make_account) -> FlaskClient:
    make_account(QUALITY, Role.QUALITY)
    login(client, QUALITY)
    return client


# --- What the insider collects -----------------------------------------------------------------


def offer_choice(client: FlaskClient, page: str, use: str) -> int | None:
    """Take the page's offer to dedicate the wave's background answers to ``use``, as the
    officer would: the form's POST status, or None when the page makes no such offer."""
    html = client.get(page).get_data(as_text=True)
    form = re.search(
        rf'<form method="post" action="([^"]+)">((?:(?!</form>).)*value="{use}"(?:(?!</form>).)*)'
        r"</form>",
        html,
        re.S,
    )
    if form is None:
        return None
    token = CSRF_FIELD.search(form.group(2)).group(1)
    return client.post(form.group(1), data={"use": use, "csrf_token": token}).status_code


def sheet_values(xlsx: bytes) -> list[list[tuple]]:
    """Every table of a workbook (a CSV holds one): its sheets' rows."""
    workbook = load_workbook(io.BytesIO(xlsx), read_only=True)
    values = [list(sheet.values) for sheet in workbook.worksheets]
    workbook.close()
    return values


def csv_rows(text: str) -> list[list[str]]:
    """A quality CSV download (Dutch): its header row, then its rows."""
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


@dataclass
class Breakdown:
    """Per option code: n and the shown mean per scale."""

    n: dict[int, int]
    means: dict[int, dict[str, float]]


def download_breakdown(client: FlaskClient, wave: Wave) -> tuple[int, Breakdown | None]:
    # the breakdown table: titled by the background question, "Wat is je rol?"
    url = f"/quality/waves/{wave.id}/profile?background=BG1&format=csv&table=wat-is-je-rol"
    reply = client.get(url)
    if reply.status_code != 200:
        return reply.status_code, None
    header, *rows = csv_rows(reply.get_data(as_text=True))
    n: dict[int, int] = {}
    means: dict[int, dict[str, float]] = {option: {} for option in OPTIONS}
    for row in rows:
        scale = row[0].split()[0]
        for index, option in enumerate(OPTIONS):
            mean, count = row[1 + 2 * index], row[2 + 2 * index]
            if re.fullmatch(r"\d+(,\d+)?", mean):
                means[option][scale] = float(mean.replace(",", "."))
                n[option] = int(count)
    assert header[1 + 2 * len(OPTIONS)] == "niet beantwoord"
    return 200, Breakdown(n, means)


def download_rows(client: FlaskClient, wave: Wave) -> tuple[int, list[dict[str, str]] | None]:
    reply = client.get(f"/quality/waves/{wave.id}/responses.csv")
    if reply.status_code != 200:
        return reply.status_code, None
    header, *rows = csv_rows(reply.get_data(as_text=True))
    return 200, [dict(zip(header, row, strict=True)) for row in rows]


def collect(client: FlaskClient, wave: Wave, order: tuple[str, str]) -> dict:
    """Everything of the two kinds the officer can get, in the given order of first use."""
    got: dict = {}
    for use in order:
        if use == "breakdown":
            offer_choice(client, f"/quality/waves/{wave.id}/profile", "breakdown")
            got["breakdown status"], breakdown = download_breakdown(client, wave)
            if breakdown is not None:
                got["breakdown"] = breakdown
        else:
            offer_choice(client, f"/quality/waves/{wave.id}", "rows")
            got["rows status"], rows = download_rows(client, wave)
            if rows is not None:
                got["rows"] = rows
    return got


# --- The integer program -------------------------------------------------------------------------


def scale_scores(rows: list[dict[str, str]]) -> np.ndarray:
    """Per exported row and scale: the mean of its items (the app's scoring rule)."""
    return np.array(
        [[np.mean([float(row[f"{s}.{i}"]) for i in ITEMS]) for s in SCALES] for row in rows]
    )


def forced_rows(scores: np.ndarray, breakdown: Breakdown, decimals: int = 2) -> list[int]:
    """Rows whose background answer the breakdown forces: x[r, o] = 1 when row r answered o;
    every row one answer, n_o rows per answer, and per answer and scale a sum of scores that
    rounds to the shown mean. A row is forced when excluding its answer leaves no solution."""
    options = [option for option in OPTIONS if option in breakdown.n]
    rows, count = len(scores), len(options)
    half = 0.5 * 10**-decimals + 1e-9

    def var(row: int, index: int) -> int:
        return row * count + index

    matrix, low, high = [], [], []
    for row in range(rows):
        line = np.zeros(rows * count)
        line[[var(row, index) for index in range(count)]] = 1
        matrix.append(line), low.append(1), high.append(1)
    for index, option in enumerate(options):
        line = np.zeros(rows * count)
        line[[var(row, index) for row in range(rows)]] = 1
        n = breakdown.n[option]
        matrix.append(line), low.append(n), high.append(n)
        for s, scale in enumerate(SCALES):
            if scale not in breakdown.means[option]:
                continue
            line = np.zeros(rows * count)
            line[[var(row, index) for row in range(rows)]] = scores[:, s]
            mean = breakdown.means[option][scale]
            matrix.append(line), low.append(n * (mean - half)), high.append(n * (mean + half))
    constraint = LinearConstraint(np.array(matrix), low, high)

    def solve(upper: np.ndarray):
        return milp(
            np.zeros(rows * count),
            constraints=constraint,
            integrality=np.ones(rows * count),
            bounds=Bounds(0, upper),
            options={"time_limit": 10},
        )

    first = solve(np.ones(rows * count))
    if first.status != 0:
        return []
    chosen = np.round(first.x).reshape(rows, count).argmax(axis=1)
    forced = []
    for row in range(rows):
        upper = np.ones(rows * count)
        upper[var(row, int(chosen[row]))] = 0
        if solve(upper).status == 2:  # proven infeasible: that row can have no other answer
            forced.append(row)
    return forced


def attack(got: dict) -> list[int]:
    """The rows the two downloads together pin down (empty when only one could be had)."""
    if "breakdown" not in got or "rows" not in got:
        return []
    return forced_rows(scale_scores(got["rows"]), got["breakdown"])


TEAMS = {"team-a": ("north", 7), "team-b": ("north", 6), "team-c": ("south", 8)}


# --- Class 2 -------------------------------------------------------------------------------------


def test_class02_the_integer_program_pins_rows_when_both_are_known(app, version):
    """The attack is real: given the breakdown and the export's rows of the same wave (here
    computed by the services themselves, past the one-use rule), the integer program forces
    the background answer of rows."""
    from reports.safe_export import safe_response_rows
    from survey.services.comparisons import background_breakdown, response_matrix
    from survey.services.questionnaires import instrument_of
    from survey.services.settings import wave_policy

    wave, units = build(version, TEAMS)
    shown = background_breakdown(wave.id, "BG1", wave_policy(wave))
    assert set(shown.by_scale) == set(SCALES)
    breakdown = Breakdown(
        {option: summary.n for option, summary in shown.by_scale["S1"].items()},
        {
            option: {scale: round(cells[option].mean, 2) for scale, cells in shown.by_scale.items()}
            for option in OPTIONS
        },
    )
    export = safe_response_rows(
        response_matrix(wave, instrument_of(wave)),
        {unit.id: unit.parent_id for unit in units.values()},
        {unit.id: unit.slug for unit in units.values()},
        K,
        ["BG1"],
    )
    assert export.dropped_background == ["BG1"]  # the export leaves the question out...
    rows = [{str(k): v for k, v in record.items()} for record in export.rows.to_dict("records")]
    forced = forced_rows(scale_scores(rows), breakdown)
    assert forced  # ...yet the breakdown puts it back for these rows


@pytest.mark.parametrize("order", [("breakdown", "rows"), ("rows", "breakdown")])
def test_class02_breakdown_and_rows_export_cannot_be_joined(officer, version, order):
    """The quality officer takes the first use the pages offer, then tries the second: it is
    refused, so the integer program has nothing to join."""
    wave, _units = build(version, TEAMS)
    got = collect(officer, wave, order)
    forced = attack(got)
    assert forced == [], f"the breakdown and the export together pin down rows {forced}"
    first, second = order
    assert first in got and second not in got
    assert got[f"{second} status"] == 409
    db.session.refresh(wave)
    assert wave.background_use == first


def test_class02_the_choice_is_explained_recorded_once_and_final(officer, version):
    wave, _units = build(version, TEAMS)
    profile = f"/quality/waves/{wave.id}/profile"
    page = officer.get(profile).get_data(as_text=True)
    # before the choice: both pages explain it; neither offers a breakdown or the rows yet
    assert "never both" in page or "nooit allebei" in page
    assert "Use for breakdowns" in page or "Gebruik voor uitsplitsingen" in page
    overview = officer.get(f"/quality/waves/{wave.id}").get_data(as_text=True)
    assert f"/quality/waves/{wave.id}/responses.csv" not in overview
    assert 'value="rows"' in overview
    assert officer.get(f"{profile}?background=BG1").status_code == 409
    reply = officer.get(f"/quality/waves/{wave.id}/responses.csv")
    assert reply.status_code == 302 and "#background-use" in reply.location
    # no CSRF token, an unknown use: refused, nothing chosen
    url = f"/quality/waves/{wave.id}/background-use"
    assert officer.post(url, data={"use": "rows"}).status_code == 400
    assert offer_choice(officer, profile, "breakdown") == 302
    db.session.refresh(wave)
    assert wave.background_use == "breakdown"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action.like("wave.back%")))
    assert event.details == {"use": "breakdown"} and event.actor == QUALITY
    # afterwards: the export is gone with a sentence why, no link, no form, 409 for its URLs
    overview = officer.get(f"/quality/waves/{wave.id}").get_data(as_text=True)
    assert "/responses." not in overview and 'value="rows"' not in overview
    assert "niet beschikbaar" in overview or "not available" in overview
    for fmt in ("csv", "xlsx"):
        assert officer.get(f"/quality/waves/{wave.id}/responses.{fmt}").status_code == 409
    token = CSRF_FIELD.search(officer.get(profile).get_data(as_text=True)).group(1)
    assert officer.post(url, data={"use": "rows", "csrf_token": token}).status_code == 409
    assert officer.post(url, data={"use": "both", "csrf_token": token}).status_code == 400
    db.session.refresh(wave)
    assert wave.background_use == "breakdown"
    assert officer.get(f"{profile}?background=BG1").status_code == 200


def test_class02_after_the_export_the_profile_says_why_it_has_no_breakdown(officer, version):
    wave, _units = build(version, TEAMS)
    assert offer_choice(officer, f"/quality/waves/{wave.id}", "rows") == 302
    profile = f"/quality/waves/{wave.id}/profile"
    page = officer.get(profile).get_data(as_text=True)
    assert "niet beschikbaar" in page and 'name="background"' not in page
    assert 'value="breakdown"' not in page
    for query in ("?background=BG1", "?background=BG1&format=csv", "?background=BG1&format=xlsx"):
        assert officer.get(profile + query).status_code == 409
    # the profile's other tables stay
    assert officer.get(f"{profile}?format=csv").status_code == 200
    assert officer.get(f"/quality/waves/{wave.id}/responses.csv").status_code == 200


# --- Class 10 ------------------------------------------------------------------------------------

#: Small teams, so that the export labels some rows with a department or the organisation.
SMALL_TEAMS = {
    "team-a": ("north", 6),
    "team-b": ("north", 3),
    "team-e": ("north", 2),
    "team-c": ("south", 6),
    "team-d": ("south", 3),
    "team-g": ("south", 2),
    "team-f": ("west", 7),
}


def snapshot(client: FlaskClient, wave: Wave) -> dict:
    """Everything that groups the wave's units: the export's rows and labels (rows without
    their random order and running number), the heatmap and profile downloads."""
    workbook = load_workbook(
        io.BytesIO(client.get(f"/quality/waves/{wave.id}/responses.xlsx").data), read_only=True
    )
    sheets = [list(sheet.values) for sheet in workbook.worksheets[:3]]
    workbook.close()
    responses, labels, notes = sheets
    return {
        "rows": sorted(map(repr, (row[1:] for row in responses[1:]))),
        "labels": sorted(labels[1:]),
        "notes": notes,
        "scores": client.get(f"/quality/waves/{wave.id}/scores.csv").data,
        "scores under north": client.get(f"/quality/waves/{wave.id}/scores.csv?under=north").data,
        "profile": sheet_values(client.get(f"/quality/waves/{wave.id}/profile?format=xlsx").data),
        "page": re.sub(
            r'name="csrf_token" value="[^"]+"',
            "",
            client.get(f"/quality/waves/{wave.id}").get_data(as_text=True),
        ),
    }


def test_class10_reorganising_after_the_wave_changes_no_download(officer, version):
    from survey.services.units import archive_unit, move_unit, rename_unit

    wave, units = build(version, SMALL_TEAMS)
    offer_choice(officer, f"/quality/waves/{wave.id}", "rows")
    before = snapshot(officer, wave)
    labels = {label for label, _holds in before["labels"]}
    # team-b and team-e gathered under their department, team-d and team-g under theirs
    assert {"Org › North", "Org › South", "Org › North › Team A"} <= labels

    move_unit(units["team-b"], units["south"], None)  # a small team to another department
    rename_unit(units["north"], "Noordelijk", None)
    archive_unit(units["team-e"], None)
    archive_unit(units["west"], None)  # with its team, which had 7 responses
    db.session.commit()
    after = snapshot(officer, wave)
    for key in before:
        assert after[key] == before[key], key


def test_class10_the_tree_is_kept_when_the_wave_closes(app, version, make_unit):
    """``close_wave`` keeps the tree; units archived before the wave ended are not in it,
    units added afterwards neither, and the stored tree never changes afterwards."""
    from survey.services.units import rename_unit
    from survey.services.wave_tree import wave_tree
    from survey.services.waves import close_wave

    org = make_unit("org", UnitKind.ORGANISATION)
    north = make_unit("north", UnitKind.DEPARTMENT, org)
    team = make_unit("team-a", parent=north)
    gone = make_unit("team-gone", parent=north)
    gone.archived_on = date.today() - timedelta(days=40)
    today = date.today()
    wave = Wave(
        questionnaire_version=version, name="Open", opens_on=today - timedelta(days=3),
        closes_on=today + timedelta(days=3), status=WaveStatus.OPEN, units=[org],
    )  # fmt: skip
    wave.teams = [WaveTeam(unit=team, invited=8)]
    db.session.add(wave)
    db.session.commit()
    assert {unit.slug for unit in wave_tree(wave)} == {"org", "north", "team-a"}
    assert db.session.scalar(sa.text("SELECT count(*) FROM wave_tree_units")) == 0  # open

    close_wave(wave, None, today)
    db.session.commit()
    rename_unit(team, "Renamed", None)
    make_unit("team-new", parent=north)
    db.session.commit()
    tree = wave_tree(wave)
    assert {unit.slug: unit.name for unit in tree} == {
        "org": "Org",
        "north": "North",
        "team-a": "Team A",
    }
    assert next(unit for unit in tree if unit.slug == "team-a").parent_id == north.id


# --- Class 3: the withheld count -----------------------------------------------------------------


def test_class03_withheld_count_below_k_is_never_shown(officer, version):
    """Two responses of a team alone in its department, with no group of small teams to join:
    withheld, and the notes say "fewer than 5", not 2."""
    wave, _units = build(version, {"team-a": ("north", 8), "team-c": ("south", 2)})
    offer_choice(officer, f"/quality/waves/{wave.id}", "rows")
    reply = officer.get(f"/quality/waves/{wave.id}/responses.xlsx")
    workbook = load_workbook(io.BytesIO(reply.data), read_only=True)
    rows = list(workbook.worksheets[0].values)[1:]
    notes = {row[0]: row[1] for row in list(workbook.worksheets[2].values)[1:]}
    workbook.close()
    withheld = next(value for key, value in notes.items() if key.startswith("Antwoorden acht"))
    assert len(rows) == 8
    assert withheld == "minder dan 5"
    text = officer.get(f"/quality/waves/{wave.id}/responses.csv").get_data(as_text=True)
    assert not re.search(r"Antwoorden achtergehouden[^\n]*;\s*2\s*$", text, re.M)


def test_class03_withheld_counts_of_zero_and_k_or_more_stay():
    from reports.safe_export import shown_count

    assert [shown_count(n, 5) for n in (0, 1, 4, 5, 12)] == [0, None, None, 5, 12]
