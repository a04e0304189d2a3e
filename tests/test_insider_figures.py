"""Issue 14, "one rule for every published figure": attacks by a determined insider on the
figures a manager or quality officer can see and download, each performed through the
application (pages, chart JSON, CSV/XLSX, PDF) and shown to fail.

- class 3: a figure computed over hidden groups (instrument quality counting a team below k);
- class 4: a hidden item inside a shown scale (the scale's spread minus its shown items);
- class 11: spread below the threshold on the trend page (interval + n gives the SD);
- chart data with more precision than the table beside it;
- "not shown (fewer than k)" with the wave's k, not today's settings';
- downloads kept by browsers or proxies (Cache-Control: no-store on every export and PDF).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from werkzeug.exceptions import HTTPException

from reports.reliability import cronbach_alpha
from reports.rounding import COEFFICIENT_DECIMALS, rounded
from survey.extensions import db
from survey.models import Role, WaveStatus
from survey.services import background_use
from survey.services.comparisons import ended_waves
from survey.services.settings import save_settings
from survey.web import team_pages
from tests.conftest import login
from tests.test_team_results import add_responses


@pytest.fixture(autouse=True)
def everyone_at_once(app):
    """These waves close today; their figures are looked at at once, without the team-first
    period (its own tests: tests/test_insider_storage.py)."""
    app.config["TEAM_FIRST_DAYS"] = 0


A1 = ["A1.1", "A1.2", "A1.3"]  # A1.3 is reverse-coded
B1 = ["B1.1", "B1.2", "B1.3", "B1.4"]
CHART_JSON = re.compile(
    r'<script type="application/json" data-chart-for="([^"]+)">(.*?)</script>', re.S
)


def varied(count: int, shift: int = 0) -> list[dict[str, object]]:
    """``count`` different, internally consistent answer sets (so α and SDs exist)."""
    sets = []
    for index in range(count):
        level = 2 + (index + shift) % 3  # 2, 3, 4, 2, ...
        wobble = index % 2
        sets.append(
            {
                "A1.1": level,
                "A1.2": min(5, level + wobble),
                "A1.3": 6 - level,
                "B1.1": level + 1,
                "B1.2": level,
                "B1.3": min(5, level + 1 + wobble),
                "B1.4": level,
            }
        )
    return sets


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


def wave_team_of(wave, slug: str):
    return next(team for team in wave.teams if team.unit.slug == slug)


def charts_of(page: str) -> dict[str, dict]:
    return {name: json.loads(payload) for name, payload in CHART_JSON.findall(page)}


def numbers_in(value: object):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int | float):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from numbers_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from numbers_in(inner)


# Class 3 ------------------------------------------------------------------------------------


@pytest.fixture
def wave_with_a_small_team(tree, make_wave, make_account):
    """team-a and team-b with 6 each, team-c with 3 (below k = 5) who answer very differently
    and say "don't know" to A1.1."""
    wave = make_wave([tree["org"]], status=WaveStatus.CLOSED)
    add_responses(wave_team_of(wave, "team-a"), varied(6))
    add_responses(wave_team_of(wave, "team-b"), varied(6, shift=1))
    hidden = [{"A1.1": "dk", "A1.2": 1, "A1.3": 1, "B1.1": 1, "B1.2": 5, "B1.3": 1, "B1.4": 5}] * 3
    add_responses(wave_team_of(wave, "team-c"), hidden)
    make_account("kwaliteit@example.org", Role.QUALITY)
    return wave


def test_class03_instrument_quality_counts_only_the_teams_the_gate_shows(
    client, wave_with_a_small_team
):
    wave = wave_with_a_small_team
    login(client, "kwaliteit@example.org")
    page = client.get(f"/quality/waves/{wave.id}/instrument").get_data(as_text=True)
    # The teams' own figures as the same quality officer sees them.
    team_n = {}
    for department in ("north", "south"):
        url = f"/quality/waves/{wave.id}/scores.csv?under={department}"
        scores = rows_of(client.get(url).get_data(as_text=True))
        n_column = scores[0].index("n A1 Focus op krachten")
        team_n |= {row[0]: row[n_column] for row in scores[1:] if row[0].startswith("Team")}
    assert team_n["Team C"] == ""  # hidden
    shown_total = int(team_n["Team A"]) + int(team_n["Team B"])
    assert shown_total == 12
    assert "Op de 12 antwoorden van deze bevraging" in page
    assert "15 antwoorden" not in page

    url = f"/quality/waves/{wave.id}/instrument?format=csv"
    instrument = rows_of(client.get(url).get_data(as_text=True))
    scales = {row[0].split()[0]: row for row in instrument[1:3]}
    for code in ("A1", "B1"):
        assert int(scales[code][1]) == shown_total  # n on the page == the shown teams' n

    # α is that of the shown teams' answers alone: the hidden team is in no figure.
    shown = varied(6) + varied(6, shift=1)
    b1 = pd.DataFrame([[answers[code] for code in B1] for answers in shown], columns=B1)
    alpha = float(scales["B1"][2].replace(",", "."))  # a decimal comma in Dutch
    assert alpha == rounded(cronbach_alpha(b1), COEFFICIENT_DECIMALS)
    questions = rows_of(client.get(f"{url}&table=per-vraag").get_data(as_text=True))
    per_question = {row[1]: row for row in questions if row[1] in A1 + B1}
    assert float(per_question["A1.1"][3]) == 0.0  # the hidden team's "don't know" is not there


# Class 4 ------------------------------------------------------------------------------------


@pytest.fixture
def scale_with_a_small_item(tree, make_wave, make_account):
    """team-a: 8 answers (spread shown), B1 scored for all 8, but B1.1 answered by only 4 (the
    others chose "don't know"): a shown scale with a hidden question."""
    wave = make_wave([tree["team-a"]], status=WaveStatus.CLOSED)
    answers = varied(8)
    for index, answer in enumerate(answers):
        answer["C4"] = [("aspirations", "living") if index % 3 == 0 else ("resources", "work")]
        if index >= 4:
            answer["B1.1"] = "dk"
    add_responses(wave.teams[0], answers)
    make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    return wave


def test_class04_a_hidden_question_hides_its_scales_detail_on_page_chart_and_pdf(
    client, scale_with_a_small_item, monkeypatch
):
    wave = scale_with_a_small_item
    login(client, "lg@example.org")
    page = client.get(f"/dashboard/waves/{wave.id}/teams/team-a").get_data(as_text=True)
    row = page[page.index('<th scope="row">B1 Psychologische veiligheid') :].split("</tr>")[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert cells[0].strip() == "8"  # the scale itself is shown: n and mean
    assert not re.search(r"\d+%", row)  # no % favourable, no % don't know, no SD
    assert len([cell for cell in cells if re.fullmatch(r"\d,\d", cell.strip())]) == 1
    # None of B1's questions is shown separately (B1.1 is the hidden one; the others would
    # give it by subtraction).
    for text in ("In ons team durven wij twijfels te uiten.", "Wij leren van fouten."):
        assert text not in page
    # A1 in the same section still shows everything.
    assert "Wij schrijven talenten van cliënten op in het dossier." in page
    assert "een van de vragen heeft minder dan 5 antwoorden" in row

    charts = charts_of(page)
    answers = charts.get("chart-answers-B")
    assert answers is None or not any("B1" in str(trace["y"]) for trace in answers["data"])
    means = charts["chart-means-B"]
    assert means["data"][0]["customdata"][0][1] == 8  # mean and n only

    rendered = []
    render = team_pages.render_pdf

    def keep_html(html, *args, **kwargs):
        rendered.append(html)
        return render(html, *args, **kwargs)

    monkeypatch.setattr(team_pages, "render_pdf", keep_html)
    reply = client.get(f"/dashboard/waves/{wave.id}/teams/team-a/report.pdf")
    assert reply.status_code == 200 and reply.data.startswith(b"%PDF-")
    html = rendered[0]
    row = html[html.index("<th>B1 Psychologische veiligheid") :].split("</tr>")[0]
    assert 'class="stack"' not in row  # no answer spread
    assert 'class="stack"' in html  # A1's spread is still drawn
    assert "een van de vragen heeft minder dan 5 antwoorden" in row


# Class 11 -----------------------------------------------------------------------------------


@pytest.fixture
def team_of_six(tree, make_wave, make_account):
    """team-a: 6 answers (k = 5 ≤ 6 < 7 = spread threshold); team-b: 8."""
    wave = make_wave([tree["north"]], status=WaveStatus.CLOSED)
    add_responses(wave_team_of(wave, "team-a"), varied(6))
    add_responses(wave_team_of(wave, "team-b"), varied(8, shift=1))
    make_account("kwaliteit@example.org", Role.QUALITY)
    return wave


@pytest.mark.parametrize("slug", ["team-a", "north"])
def test_class11_the_trend_page_gives_no_spread_below_the_threshold(client, team_of_six, slug):
    """team-a on its own, and north, which pools team-a with a team of 8 (north's spread
    minus team-b's would give team-a's)."""
    login(client, "kwaliteit@example.org")
    page = client.get(f"/quality/units/{slug}").get_data(as_text=True)
    n = 6 if slug == "team-a" else 14
    assert f"n {n})" in page  # mean and n are shown
    assert not re.search(r"\d,\d–\d,\d", page)  # no interval in the table
    for figure in charts_of(page).values():
        for trace in figure["data"]:
            error = trace.get("error_y", {})
            assert all(v is None for v in error.get("array", []) + error.get("arrayminus", []))
    text = client.get(f"/quality/units/{slug}?format=csv").get_data(as_text=True)
    table = rows_of(text)
    header = table[0]
    for row in table[1:]:
        if not row or row[0][:2] not in ("A1", "B1"):
            continue
        for index, name in enumerate(header):
            if name in ("laag", "hoog"):
                assert row[index] == "", (name, row)
    workbook = client.get(f"/quality/units/{slug}?format=xlsx")
    assert workbook.status_code == 200


def test_class11_a_team_at_the_threshold_keeps_its_interval(client, tree, make_wave, make_account):
    wave = make_wave([tree["team-a"]], status=WaveStatus.CLOSED)
    add_responses(wave.teams[0], varied(7))
    make_account("kwaliteit@example.org", Role.QUALITY)
    login(client, "kwaliteit@example.org")
    page = client.get("/quality/units/team-a").get_data(as_text=True)
    assert re.search(r"\d,\d–\d,\d; n 7\)", page)


# Chart precision ----------------------------------------------------------------------------


def test_chart_precision_the_team_pages_chart_json_is_rounded_as_shown(
    client, scale_with_a_small_item
):
    wave = scale_with_a_small_item
    login(client, "lg@example.org")
    page = client.get(f"/dashboard/waves/{wave.id}/teams/team-a").get_data(as_text=True)
    charts = charts_of(page)
    assert {"chart-means-A", "chart-answers-A", "chart-grid-C4"} <= set(charts)
    for name, figure in charts.items():
        for trace in figure["data"]:
            # Colours and the colour scale's stops (reports/colours.py) carry no figure.
            figures = {k: v for k, v in trace.items() if k not in ("marker", "colorscale")}
            for number in numbers_in(figures):
                # Means to one decimal as in the tables; shares as whole percent (a middle
                # answer is drawn as two halves of its whole percent).
                assert math.isclose(number, round(number, 1)), (name, number)
            if trace["type"] == "heatmap":
                assert all(isinstance(z, int) for row in trace["z"] for z in row), trace["z"]
            if name.startswith("chart-answers"):
                assert all(isinstance(share, int) for share in trace["customdata"])
    grid = charts["chart-grid-C4"]["data"][0]["z"]
    assert grid[0][0] == 38  # 3 of 8 ticked: 37.5% is shown as 38%


# The wave's k in the exports' markers -------------------------------------------------------


def test_counts_hidden_cells_in_exports_say_the_waves_k_not_todays(
    client, tree, make_wave, make_account
):
    wave = make_wave([tree["org"]], status=WaveStatus.CLOSED)
    wave.min_group_size, wave.spread_threshold = 5, 7
    db.session.commit()
    add_responses(wave_team_of(wave, "team-a"), varied(6))
    add_responses(wave_team_of(wave, "team-c"), varied(4))
    save_settings({"min_group_size": 3, "spread_threshold": 7}, None)
    db.session.commit()
    make_account("kwaliteit@example.org", Role.QUALITY)
    login(client, "kwaliteit@example.org")
    text = client.get(f"/quality/waves/{wave.id}/scores.csv?under=south").get_data(as_text=True)
    team_c = next(row for row in rows_of(text) if row and row[0] == "Team C")
    assert "niet getoond (minder dan 5)" in team_c
    assert "minder dan 3" not in text
    trend = client.get("/quality/units/team-c?format=csv").get_data(as_text=True)
    assert "niet getoond (minder dan 5)" in trend and "minder dan 3" not in trend


# Downloads are not kept ---------------------------------------------------------------------

DEMO_PASSWORD = "krachtspiegel-demo"
#: Not crawled: the respondent's side, signing in and out, the language switch, static files.
NOT_CRAWLED = ("respond.", "auth.", "main.set_language", "static")
#: Every GET route that returns a file rather than a page; the crawl must reach each.
DOWNLOADS = {
    "admin.audit_export",
    "admin.questionnaire_codebook",
    "dashboard.team_report",
    "quality.instrument",
    "quality.profile",
    "quality.report",
    "admin.questionnaire_source",
    "quality.responses",
    "quality.trends",
    "quality.wave_csv",
    "quality.wave_xlsx",
    "team.report",
}


def crawl(app, client, start: str, per_shape: int = 2) -> tuple[set[str], int]:
    """Every page and file reachable by links from ``start`` (at most ``per_shape`` URLs per
    route and set of query names); asserts no-store on each. Returns the routes that gave a
    file, and how many URLs were fetched."""
    adapter = app.url_map.bind("localhost")
    queue, seen, shapes, files, file_shapes = [start], set(), Counter(), set(), set()
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        parts = urlsplit(url)
        try:
            endpoint, _args = adapter.match(parts.path, method="GET")
        except HTTPException:
            continue
        if endpoint.startswith(NOT_CRAWLED):
            continue
        shape = (endpoint, tuple(sorted(parse_qs(parts.query))))
        if shapes[shape] >= per_shape or shape in file_shapes:
            continue  # one file per route and query is enough (PDFs take a while)
        shapes[shape] += 1
        reply = client.get(url)
        assert reply.headers.get("Cache-Control") == "no-store", (url, reply.headers)
        if reply.status_code in (301, 302, 303) and reply.location:
            queue.append(urlsplit(reply.location)._replace(scheme="", netloc="").geturl())
        if reply.status_code != 200:
            continue
        if reply.mimetype != "text/html":
            files.add(endpoint)
            file_shapes.add(shape)
            continue
        for link in re.findall(r'href="(/[^"#]*)"', reply.get_data(as_text=True)):
            queue.append(link.replace("&amp;", "&"))
    return files, len(seen)


def test_downloads_no_store_on_every_export_an_admin_or_quality_officer_reaches(app, demo):
    # Each wave's background answers serve the breakdowns or the row export, never both: the
    # crawl finds the row export where the quality officer chose it.
    for wave in ended_waves():
        background_use.choose(wave, background_use.ROWS, None)
    db.session.commit()
    reached: set[str] = set()
    for email, start, per_shape in (
        ("kwaliteit@huisvankracht.example", "/quality/", 2),
        ("beheer@huisvankracht.example", "/admin/", 2),
        # A manager's first teams may be below k, with no report to download.
        ("leiding.jeugdhulp@huisvankracht.example", "/dashboard/", 8),
    ):
        browser = app.test_client()
        login(browser, email, DEMO_PASSWORD)
        files, _count = crawl(app, browser, start, per_shape)
        reached |= files
    # The team's own results link, with no log-in.
    team = next(t for w in ended_waves() for t in w.teams if t.results_slug)
    files, _count = crawl(app, app.test_client(), f"/team/{team.results_slug}")
    reached |= files
    assert reached >= DOWNLOADS, DOWNLOADS - reached
    # And nothing else: a new download route must join the list (and so this test).
    assert reached == DOWNLOADS
