"""The quality officer's comparisons on the demo organisation: units × scales, change since an
earlier wave, trends with intervals, exports; every cell through the anonymity gate."""

import csv
import io
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

import questionnaires
from survey.extensions import db
from survey.models import Answer, Response, Unit, UnitKind, Wave, WaveStatus, WaveTeam
from survey.services.comparisons import ended_waves
from survey.services.questionnaires import store_instrument
from tests.conftest import csrf_token, login, logout

PASSWORD = "krachtspiegel-demo"
QUALITY = "kwaliteit@huisvankracht.example"


@pytest.fixture
def demo(demo, client):
    """The demo organisation (tests/conftest.py), the quality officer logged in."""
    login(client, QUALITY, PASSWORD)


def latest() -> Wave:
    return ended_waves()[-1]


def use_background_for(client, wave: Wave, use: str) -> None:
    """Dedicate the wave's background answers to "breakdown" or "rows" (one of the two only:
    tests/test_insider_downloads.py), as the quality officer confirms it on the page."""
    page = f"/quality/waves/{wave.id}" + ("/profile" if use == "breakdown" else "")
    token = csrf_token(client, page)
    reply = client.post(
        f"/quality/waves/{wave.id}/background-use", data={"use": use, "csrf_token": token}
    )
    assert reply.status_code == 302, reply.status_code


def change_column(page: str) -> dict[str, str]:
    """Scale code → the text of the change cell of the trend table."""
    rows = re.findall(r'<tr>\s*<th scope="row">([AB]\d)[^<]*</th>(.*?)</tr>', page, re.S)
    return {
        code: re.sub(r"<[^>]+>", "", re.findall(r"<td>(.*?)</td>", body, re.S)[-2])
        for code, body in rows
    }


def test_growing_slipping_and_flat_teams_show_as_such(demo, client):
    first, last = ended_waves()[0], latest()

    def changes(slug):
        reply = client.get(f"/quality/units/{slug}?from={first.id}&to={last.id}")
        assert reply.status_code == 200
        return list(change_column(reply.get_data(as_text=True)).values())

    growing, slipping, flat = (
        changes("team-kompas"),
        changes("team-anker"),
        changes("team-buurtwerk"),
    )
    assert len(growing) == len(slipping) == len(flat) == 13
    # the demo made Kompas grow and Anker slip: the 95% intervals exclude zero on most scales
    assert sum("duidelijke stijging" in cell for cell in growing) >= 10
    assert sum("duidelijke daling" in cell for cell in slipping) >= 10
    # and kept Buurtwerk flat: every interval includes zero
    assert all("geen duidelijke verandering" in cell for cell in flat)


def test_the_trend_chart_has_a_line_per_scale_with_intervals(demo, client):
    page = client.get("/quality/units/team-kompas").get_data(as_text=True)
    figure = re.search(r'data-chart-for="trend">(.*?)</script>', page, re.S).group(1)
    assert figure.count('"type": "scatter"') == 13 and '"arrayminus"' in figure


def drawn_chart(page: str, chart_id: str) -> str:
    container = re.search(rf'<div id="{chart_id}" [^>]*data-on-request[^>]*>(.*?)</ul>', page, re.S)
    assert container, f"no server-drawn chart {chart_id}"
    return container.group(1)


def test_the_trend_chart_is_drawn_by_the_server_and_by_plotly_only_on_request(demo, client):
    """plotly.js costs a phone seconds: the first-screen chart is SVG, its button loads plotly."""
    page = client.get("/quality/units/team-kompas").get_data(as_text=True)
    drawing = drawn_chart(page, "trend")
    assert drawing.count('<path class="line"') == 13 and drawing.count("<circle") == 13 * 3
    assert "<title>A1 Focus op krachten, Voorjaar 2025: " in drawing
    assert 'data-chart-draw="trend"' in page and 'data-chart-for="trend"' in page
    # De Brug is below k in every wave: its chart has axes and no number
    brug = drawn_chart(client.get("/quality/units/team-de-brug").get_data(as_text=True), "trend")
    assert "<circle" not in brug and '<path class="line"' not in brug
    assert not re.search(r"\d,\d", brug)


def test_the_heatmap_hides_small_teams_and_pools_only_shown_ones(demo, client):
    wave = latest()
    page = client.get(f"/quality/waves/{wave.id}?under=ggz").get_data(as_text=True)
    rows = dict(
        re.findall(
            r'<th scope="row">\s*(?:<a[^>]*>)?([^<]+?)(?:</a>)?\s*<a class="small".*?</th>'
            r"(.*?)</tr>",
            page,
            re.S,
        )
    )
    brug = rows["Team De Brug"]
    assert "suppressed-cell" in brug and not re.search(r"\d,\d", brug)

    # the department's n per scale is the sum of its shown teams' n: De Brug left out
    def n_of(row):
        return [int(n) for n in re.findall(r'title="n (\d+)"', row)]

    department = n_of(rows["Geestelijke gezondheid"])
    teams = [n_of(rows["Team Anker"]), n_of(rows["Mobiel Team Noord"])]
    assert department and department == [a + b for a, b in zip(*teams, strict=True)]


def test_the_heatmaps_n_per_row_is_one_of_its_shown_cells_and_absent_below_k(demo, client):
    wave = latest()
    page = client.get(f"/quality/waves/{wave.id}?under=ggz").get_data(as_text=True)
    found = re.findall(
        r'<th scope="row">\s*(?:<a[^>]*>)?([^<]+?)(?:</a>)?\s*<a class="small".*?</th>'
        r'\s*<td class="row-n">([^<]*)</td>(.*?)</tr>',
        page,
        re.S,
    )
    rows = {name: (n, cells) for name, n, cells in found}
    assert rows["Team De Brug"][0] == "–"  # below k: no n, as no figure
    for name in ("Geestelijke gezondheid", "Team Anker", "Mobiel Team Noord"):
        n, cells = rows[name]
        assert int(n) == max(int(cell_n) for cell_n in re.findall(r'title="n (\d+)"', cells))


def test_sorting_drill_down_and_change_view(demo, client):
    wave = latest()
    page = client.get(f"/quality/waves/{wave.id}").get_data(as_text=True)
    assert "Jeugdhulp" in page and "Team Kompas" not in page  # departments first
    drill = client.get(f"/quality/waves/{wave.id}?under=jeugdhulp&sort=B1").get_data(as_text=True)
    names = re.findall(
        r'<th scope="row">\s*(?:<a[^>]*>)?([^<]+?)(?:</a>)?\s*<a class="small"', drill
    )
    assert names[0] == "Jeugdhulp" and set(names[1:]) == {
        "Team Kompas",
        "Team Vlinder",
        "Team Horizon",
    }
    assert 'aria-sort="descending"' in drill
    team_rows = re.findall(r'<tr class="depth-2">(.*?)</tr>', drill, re.S)
    b1 = [
        float(re.findall(r"<td[^>]*>([^<]*)</td>", row)[9].replace(",", ".")) for row in team_rows
    ]
    assert len(b1) == 3 and b1 == sorted(b1, reverse=True)  # sorted by B1, highest first
    change = client.get(f"/quality/waves/{wave.id}?view=change").get_data(as_text=True)
    assert "Verandering per schaal sinds" in change
    assert client.get(f"/quality/waves/{wave.id}?under=no-such-unit").status_code == 404


def test_exports_mark_suppressed_cells_and_carry_the_codebook(demo, client):
    wave = latest()
    text = client.get(f"/quality/waves/{wave.id}/scores.csv?under=ggz").get_data(as_text=True)
    brug = next(line for line in text.splitlines() if line.startswith("Team De Brug"))
    assert "niet getoond (minder dan 5)" in brug and not re.search(r";\d,\d", brug)
    reply = client.get(f"/quality/waves/{wave.id}/scores.xlsx")
    workbook = load_workbook(io.BytesIO(reply.data))
    assert workbook.sheetnames == ["1 scores", "codebook"]
    assert workbook["codebook"].max_row > 60


def test_only_ended_waves_and_only_quality_roles(demo, client, make_account, tree):
    open_wave = db.session.scalar(sa.select(Wave).where(Wave.status == WaveStatus.OPEN))
    assert client.get(f"/quality/waves/{open_wave.id}").status_code == 404
    logout(client)
    login(client, "leiding.jeugdhulp@huisvankracht.example", PASSWORD)
    assert client.get("/quality/").status_code == 403
    assert client.get(f"/quality/waves/{latest().id}").status_code == 403


def test_the_organisation_profile_has_modules_a_b_and_c(demo, client):
    wave = latest()
    page = client.get(f"/quality/waves/{wave.id}/profile").get_data(as_text=True)
    for heading in ("Krachtgerichte praktijk", "Krachtgerichte organisatie", "De zes krachtbronnen",
                    "De levensdomeinen", "De drie tijdsperspectieven"):  # fmt: skip
        assert heading in page, heading
    header = re.search(r"<thead><tr>(.*?)</tr></thead>", page, re.S).group(1)
    assert "Huis van Kracht vzw" in header and "Geestelijke gezondheid" in header
    assert "Team Kompas" not in header  # departments, not teams


def test_a_background_breakdown_only_where_every_group_meets_k(demo, client):
    from survey.anonymity import Policy
    from survey.services.comparisons import background_breakdown

    wave = latest()
    use_background_for(client, wave, "breakdown")
    page = client.get(f"/quality/waves/{wave.id}/profile?background=BG2").get_data(as_text=True)
    assert "Organisatiegemiddelde per antwoord op" in page and "Niet getoond voor" not in page
    for k in (5, 9, 13):
        breakdown = background_breakdown(
            wave.id, "BG1", Policy(min_group_size=k, spread_threshold=k)
        )
        for cells in breakdown.by_scale.values():
            assert all(summary.n >= k for summary in cells.values())
        assert breakdown.by_scale or breakdown.hidden_scales
    # with seed 11 some role (BG1) has fewer than 5 colleagues: no scale is broken down by role
    roles = background_breakdown(wave.id, "BG1", Policy())
    assert roles.by_scale == {} and len(roles.hidden_scales) == 13
    hidden = client.get(f"/quality/waves/{wave.id}/profile?background=BG1").get_data(as_text=True)
    assert (
        "Niet getoond voor A1, A2" in hidden and "Organisatiegemiddelde per antwoord" not in hidden
    )
    assert client.get(f"/quality/waves/{wave.id}/profile?background=A1.1").status_code == 404


def test_the_breakdown_leaves_out_teams_below_k(demo, client):
    """Summed over its answer groups, a scale's breakdown equals the organisation's figure in
    the heatmap, which leaves De Brug out: so no difference can single De Brug out."""
    from survey.anonymity import Policy
    from survey.models import Unit
    from survey.services.comparisons import background_breakdown, gated_cells, team_scale_sums

    wave, policy = latest(), Policy()
    units = db.session.scalars(sa.select(Unit)).all()
    organisation = next(unit for unit in units if unit.parent_id is None)
    cells = gated_cells(team_scale_sums([wave.id]), wave.id, units, policy)[organisation.id]
    for code, groups in background_breakdown(wave.id, "BG2", policy).by_scale.items():
        assert sum(summary.n for summary in groups.values()) == cells[code].summary.n


def test_instrument_quality_flags_weak_scales_and_shows_icc_from_enough_teams(demo, client):
    from survey.anonymity import Policy
    from survey.services.instrument_quality import instrument_quality

    wave = latest()
    page = client.get(f"/quality/waves/{wave.id}/instrument").get_data(as_text=True)
    assert "Cronbach" in page and "ICC(1)</abbr>" not in page  # the demo has 8 teams, not 10
    assert "worden getoond vanaf 10 teams" in page
    quality = instrument_quality(wave, Policy(), icc_from=3)
    assert len(quality.scales) == 13
    assert all(r.flagged == (r.alpha < 0.70) for r in quality.scales)
    assert ("onder 0,70" in page) == any(r.flagged for r in quality.scales)
    assert all(0.5 < r.alpha < 1 and r.omega >= r.alpha - 0.05 for r in quality.scales)
    # teams differ in the demo by design: every scale has ICC(1) above zero
    assert all(r.icc.icc1 > 0 and r.icc.groups == 7 for r in quality.scales)
    assert quality.teams == 7  # De Brug (fewer than 5) takes no part


def add_pulse_wave(after: Wave | None = None) -> Wave:
    """A closed pulse wave a month after ``after`` (default: the demo's last ended wave): six
    answers per team on the core questions A1.1 (5) and B1.1 (4), two for De Brug (below k)."""
    pulse_file = Path(questionnaires.__file__).parent / "krachtspiegel-pulse-1.yaml"
    version = store_instrument(questionnaires.load_file(pulse_file), pulse_file.name).version
    last = after or latest()
    organisation = db.session.scalar(sa.select(Unit).where(Unit.parent_id.is_(None)))
    teams = db.session.scalars(sa.select(Unit).where(Unit.kind == UnitKind.TEAM)).all()
    pulse = Wave(
        questionnaire_version=version,
        name="Puls",
        opens_on=last.closes_on + timedelta(days=30),
        closes_on=last.closes_on + timedelta(days=40),
        status=WaveStatus.CLOSED,
        units=[organisation],
    )
    pulse.teams = [WaveTeam(unit=team, invited=10) for team in teams]
    db.session.add(pulse)
    db.session.flush()
    for team in teams:
        for _ in range(6 if team.slug != "team-de-brug" else 2):
            response = Response(
                id=uuid.uuid4(), wave_id=pulse.id, unit_id=team.id,
                submitted_on=pulse.closes_on, language="nl",
            )  # fmt: skip
            db.session.add(response)
            db.session.add(Answer(response=response, item_code="A1.1", value=5))
            db.session.add(Answer(response=response, item_code="B1.1", value=4))
    db.session.commit()
    return pulse


def test_a_pulse_wave_shares_the_axis_through_its_core_questions(demo, client):
    add_pulse_wave()
    page = client.get("/quality/units/team-kompas").get_data(as_text=True)
    assert "Vragen die de vragenlijsten delen" in page and 'data-chart-for="core"' in page
    core = page[page.index('id="core-caption"') :]
    header = re.search(r"<thead>(.*?)</thead>", core, re.S).group(1)
    assert header.count("<th") == 1 + len(ended_waves()) and "Puls" in header
    a1 = re.search(r'<th scope="row">A1\.1 .*?</tr>', core, re.S).group(0)
    assert a1.rstrip("</tr>").rstrip().endswith('5,0 <span class="muted">(n 6)</span></td>')
    # the pulse asks no scales: the scale trend keeps only the full waves
    scale_header = re.search(r'id="trend-table-caption".*?<thead>(.*?)</thead>', page, re.S).group(
        1
    )
    assert "Puls" not in scale_header
    # De Brug's two pulse answers stay hidden there too
    brug = client.get("/quality/units/team-de-brug").get_data(as_text=True)
    assert '5,0 <span class="muted">(n 2)' not in brug


@pytest.mark.parametrize(
    "page",
    ["profile", "profile?background=BG1", "instrument", "trend"],
)
def test_every_page_downloads_its_tables(demo, client, page):
    wave = latest()
    base = {
        "profile": f"/quality/waves/{wave.id}/profile",
        "profile?background=BG1": f"/quality/waves/{wave.id}/profile?background=BG1",
        "instrument": f"/quality/waves/{wave.id}/instrument",
        "trend": "/quality/units/team-de-brug",
    }[page]
    if page == "profile?background=BG1":
        use_background_for(client, wave, "breakdown")
    html = client.get(base).get_data(as_text=True)
    links = re.findall(r'<ul class="downloads">.*?</ul>', html, re.S)
    assert links, "no download links"
    xlsx_url, *csv_urls = [u.replace("&amp;", "&") for u in re.findall(r'href="([^"]+)"', links[0])]
    workbook = load_workbook(io.BytesIO(client.get(xlsx_url).data))
    assert workbook.sheetnames[-1] == "codebook"
    # One CSV per table of the workbook: a header row and the data, no title line.
    assert len(csv_urls) == len(workbook.sheetnames) - 1 >= 1
    texts = [client.get(url).get_data(as_text=True) for url in csv_urls]
    for text, sheet in zip(texts, workbook.worksheets, strict=False):
        assert text.startswith("\ufeff") and ";" in text
        header = next(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
        assert header == [cell.value or "" for cell in sheet[1]]
    if page == "trend":  # De Brug is below k in every wave: marked, never a number
        assert "niet getoond (minder dan 5)" in texts[0]
        assert not re.search(r";\d,\d", texts[0].split("\n", 1)[1])
    if page == "profile?background=BG1":
        last = texts[-1]
        assert "niet getoond (minder dan 5)" in last and not re.search(r";\d,\d", last)


def test_the_organisation_report_is_a_pdf(demo, client):
    wave = latest()
    reply = client.get(f"/quality/waves/{wave.id}/report.pdf")
    assert reply.status_code == 200 and reply.mimetype == "application/pdf"
    assert reply.data.startswith(b"%PDF-") and len(reply.data) > 20_000


def test_the_response_level_export_hides_every_row_among_k(demo, client):
    """No exported row can be tied to a group smaller than k: every unit label and every
    combination of label and kept background answers holds at least 5 rows."""

    wave = latest()
    use_background_for(client, wave, "rows")
    workbook = load_workbook(
        io.BytesIO(client.get(f"/quality/waves/{wave.id}/responses.xlsx").data)
    )
    assert workbook.sheetnames == ["1 antwoorden", "2 eenheden", "3 opmerkingen", "codebook"]
    sheet = list(workbook["1 antwoorden"].values)
    header, rows = sheet[0], sheet[1:]
    assert "response_id" not in header and "O1" not in header and "C4" not in header
    total = db.session.scalar(
        sa.text("SELECT count(*) FROM responses WHERE wave_id = :w"), {"w": wave.id}
    )
    notes = {row[0]: row[1] for row in list(workbook["3 opmerkingen"].values)[1:]}
    withheld = next(
        value for key, value in notes.items() if key.startswith("Antwoorden achtergehouden")
    )
    # De Brug's 4 rows have no group of 5 to hide in: withheld, and the count below k not given
    assert withheld == "minder dan 5" and 0 < total - len(rows) < 5
    unit = header.index("unit")
    kept = [i for i, name in enumerate(header) if name in ("BG1", "BG2")]
    groups: dict[tuple, int] = {}
    for row in rows:
        groups[(row[unit], *(row[i] for i in kept))] = (
            groups.get((row[unit], *(row[i] for i in kept)), 0) + 1
        )
    assert min(groups.values()) >= 5
    labels = {row[unit] for row in rows}
    assert not any(label.endswith("Team De Brug") for label in labels)  # 4 staff: never alone
    assert [row[0] for row in rows] == list(range(1, len(rows) + 1))  # numbered after shuffling
    text = client.get(f"/quality/waves/{wave.id}/responses.csv").get_data(as_text=True)
    first = next(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert first == list(header)  # the header row, no title line above it
