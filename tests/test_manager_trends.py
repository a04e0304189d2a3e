"""A manager reads their team's trend over every ended wave (the quality officer's figures,
through the same gate), beside the change since the previous wave and since the first: small
multiples drawn on the server as SVG, the numbers in a table. Managers see only their scope."""

import re

import pytest

from reports.statistics import Summary
from survey.anonymity import Verdict
from survey.services.comparisons import HIDDEN_TOO_FEW, Cell, ended_waves
from survey.web.sparklines import BOTTOM, HIGHEST, LEFT, LOWEST, RIGHT, TOP, sparkline
from tests.conftest import login
from tests.test_quality import add_pulse_wave

PASSWORD = "krachtspiegel-demo"
ANKER = "leiding.anker@huisvankracht.example"
JEUGDHULP = "leiding.jeugdhulp@huisvankracht.example"
QUALITY = "kwaliteit@huisvankracht.example"


def read(client, url: str, status: int = 200) -> str:
    reply = client.get(url)
    assert reply.status_code == status, (url, reply.status_code)
    return reply.get_data(as_text=True)


def story(page: str) -> str:
    """The story section of a page (``dashboard/_story.html``)."""
    start = page.index('<section aria-labelledby="story-title"')
    return page[start : page.index("</section>", start)]


def story_rows(page: str) -> dict[str, list[str]]:
    """Scale code → the texts of the cells of its row in the story's tables of numbers."""
    rows = re.findall(r'<tr><th scope="row">([AB]\d) [^<]*</th>(.*?)</tr>', story(page), re.S)
    return {
        code: [
            re.sub(r"<[^>]+>|\s+", " ", cell).strip()
            for cell in re.findall(r"<td>(.*?)</td>", body, re.S)
        ]
        for code, body in rows
    }


def numbers(text: str) -> list[str]:
    return re.findall(r"\d+(?:,\d+)?", text)


def test_a_team_manager_reads_the_teams_trend_over_every_ended_wave(demo, client):
    login(client, ANKER, PASSWORD)
    page = read(client, "/dashboard/units/team-anker/trend")
    waves = ended_waves()
    assert len(waves) == 3
    # one small chart per scale, grouped by module: 8 in A, 5 in B; no plotly, no script
    assert story(page).count('<li class="spark">') == 13
    assert page.count('<svg class="sparkline"') == 13 and "plotly" not in page
    assert re.findall(r'<h3 id="story-[AB]">([^<]+)</h3>', page) == [
        "Krachtgerichte praktijk",
        "Krachtgerichte organisatie",
    ]
    rows = story_rows(page)
    assert len(rows) == 13
    # three waves, then the change since the previous wave and since the first
    assert all(len(cells) == 5 for cells in rows.values())
    # the demo made Anker slip: over a year most scales fall clearly
    assert sum("duidelijke daling" in cells[-1] for cells in rows.values()) >= 10
    assert "duidelijke daling" in rows["A1"][-1]
    headers = re.search(r"<thead>(.*?)</thead>", story(page), re.S).group(1)
    assert f"Sinds {waves[1].name}" in headers and f"Sinds {waves[0].name}" in headers


def test_the_managers_figures_are_the_quality_officers(demo, client):
    login(client, QUALITY, PASSWORD)
    quality = read(client, "/quality/units/team-anker")
    mine = story_rows(read(client, "/dashboard/units/team-anker/trend"))
    theirs = {
        code: re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
        for code, body in re.findall(
            r'<tr>\s*<th scope="row">([AB]\d)[^<]*</th>(.*?)</tr>', quality, re.S
        )
    }
    assert mine.keys() == theirs.keys()
    for code, cells in mine.items():
        # each wave: mean, interval and n alike; the change since the first wave alike
        assert [numbers(c) for c in cells[:3]] == [numbers(c) for c in theirs[code][:3]], code
        assert numbers(cells[-1]) == numbers(theirs[code][3]), code


def test_the_team_page_shows_the_story_up_to_its_wave(demo, client):
    login(client, ANKER, PASSWORD)
    first, middle, last = ended_waves()
    page = read(client, f"/dashboard/waves/{last.id}/teams/team-anker")
    assert story(page).count('<li class="spark">') == 13
    assert 'href="/dashboard/units/team-anker/trend"' in page
    # the team page of the middle wave tells the story up to that wave only
    page = read(client, f"/dashboard/waves/{middle.id}/teams/team-anker")
    headers = re.search(r"<thead>(.*?)</thead>", story(page), re.S).group(1)
    assert middle.name in headers and last.name not in headers
    # the first wave's page: one dot per scale, and no change from nothing
    page = story(read(client, f"/dashboard/waves/{first.id}/teams/team-anker"))
    assert page.count("<circle") == 13 and "Sinds" not in page and "duidelijke" not in page


def test_pulse_waves_join_the_story_through_their_shared_questions(demo, client):
    add_pulse_wave()
    login(client, QUALITY, PASSWORD)
    page = story(read(client, "/dashboard/units/team-kompas/trend"))
    assert '<h3 id="story-core">Vragen die de vragenlijsten delen</h3>' in page
    a1 = re.search(r'<tr><th scope="row">A1\.1 .*?</tr>', page, re.S).group(0)
    assert a1.count("<td>") == 4 and a1.rstrip("</tr>").rstrip().endswith(
        '5,0 <span class="muted">(n 6)</span></td>'
    )
    # De Brug's two pulse answers stay hidden
    brug = story(read(client, "/dashboard/units/team-de-brug/trend"))
    assert "(n 2)" not in brug and "5,0" not in brug


def test_a_team_below_k_shows_nothing_on_its_trend(demo, client):
    login(client, QUALITY, PASSWORD)
    page = story(read(client, "/dashboard/units/team-de-brug/trend"))
    assert page.count('<li class="spark">') == 13
    assert "<circle" not in page and "<path" not in page and "(n " not in page
    assert page.count("Minder dan 5 antwoorden") >= 13 * 3
    assert not re.search(r"<td>\s*\d", page)
    # and its results page tells the same story: nothing
    page = story(read(client, f"/dashboard/waves/{ended_waves()[-1].id}/teams/team-de-brug"))
    assert "<circle" not in page and "(n " not in page and "Minder dan 5 antwoorden" in page


def test_the_charts_carry_no_more_precision_than_the_table(demo, client):
    """Every y in the SVG is that of a number to one decimal (docs/anonymity.md: chart data
    more precise than the page)."""
    login(client, QUALITY, PASSWORD)
    page = story(read(client, "/dashboard/units/team-kompas/trend"))
    whiskers = re.findall(r'<line class="whisker" [^>]*y1="([\d.]+)" y2="([\d.]+)"', page)
    dots = re.findall(r'<circle [^>]*cy="([\d.]+)"', page)
    ys = [float(y) for y in dots + [y for pair in whiskers for y in pair]]
    assert len(ys) > 13 * 3 * 2
    for y in ys:
        value = LOWEST + (BOTTOM - y) / (BOTTOM - TOP) * (HIGHEST - LOWEST)
        assert abs(value * 10 - round(value * 10)) < 1e-6, y
    # and the dots sit where the table's means say
    a1 = re.search(r'id="story-A1-desc">(.*?)</desc>.*?</svg>', page, re.S)
    means = [float(m.replace(",", ".")) for m in re.findall(r": (\d,\d)", a1.group(1))]
    cys = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', a1.group(0))]
    assert cys == [
        round(BOTTOM - (m - LOWEST) / (HIGHEST - LOWEST) * (BOTTOM - TOP), 1) for m in means
    ]


@pytest.mark.parametrize(
    ("email", "url"),
    [
        (ANKER, "/dashboard/units/team-kompas/trend"),  # a team of another department
        (ANKER, "/dashboard/units/mobiel-team-noord/trend"),  # a team beside their own
        (ANKER, "/dashboard/units/ggz/trend"),  # their own team's department
        (JEUGDHULP, "/dashboard/units/team-anker/trend"),
        (JEUGDHULP, "/dashboard/units/no-such-unit/trend"),
    ],
)
def test_a_manager_gets_404_for_a_trend_outside_their_scope(demo, client, email, url):
    login(client, email, PASSWORD)
    read(client, url, 404)


def test_a_department_manager_reads_each_team_of_their_department(demo, client):
    login(client, JEUGDHULP, PASSWORD)
    for slug in ("jeugdhulp", "team-kompas", "team-vlinder", "team-horizon"):
        assert story(read(client, f"/dashboard/units/{slug}/trend")).count("<circle") >= 13
    overview = read(client, "/dashboard/units/jeugdhulp")
    assert 'href="/dashboard/units/jeugdhulp/trend"' in overview
    assert 'href="/dashboard/departments/jeugdhulp"' in overview


def test_the_story_reads_in_english(demo, client):
    login(client, ANKER, PASSWORD)
    client.get("/language/en")
    page = read(client, "/dashboard/units/team-anker/trend")
    assert "Team Anker across the waves" in page and "clear fall" in story(page)


# --- The small charts, on constructed cells ------------------------------------------------


def test_a_sparkline_breaks_its_line_where_a_wave_shows_nothing():
    line = sparkline([shown(3.04), HIDDEN_TOO_FEW, shown(4.96, spread=False), None, shown(1.0)])
    # means as the table prints them: 3.0 and 5.0, not 3.04 and 4.96
    assert [point.y for point in line.points] == [y_of(3.0), y_of(5.0), y_of(1.0)]
    xs = line.ticks
    assert line.path == f"M{xs[0]} {y_of(3.0)} M{xs[2]} {y_of(5.0)} M{xs[4]} {y_of(1.0)}"
    # an interval only where spread may be shown
    assert [point.whisker is not None for point in line.points] == [True, False, True]


def test_a_sparkline_keeps_an_interval_inside_the_scale_and_centres_a_single_wave():
    (point,) = sparkline([Cell(Verdict(10), Summary(10, 4.9, 1.0), spread=True)]).points
    low, high = Cell(Verdict(10), Summary(10, 4.9, 1.0), spread=True).interval
    assert high > HIGHEST and point.whisker == (y_of(low), y_of(HIGHEST))
    assert point.x == (LEFT + RIGHT) / 2
    line = sparkline([shown(2.0), shown(2.5)])
    assert line.path == f"M{line.ticks[0]} {y_of(2.0)} L{line.ticks[1]} {y_of(2.5)}"
    assert LEFT < line.ticks[0] < line.ticks[1] < RIGHT


def shown(mean: float, spread: bool = True) -> Cell:
    return Cell(Verdict(12), Summary(12, mean, 0.4), spread=spread, min_group_size=5)


def y_of(value: float) -> float:
    return round(BOTTOM - (round(value, 1) - LOWEST) / (HIGHEST - LOWEST) * (BOTTOM - TOP), 1)


def test_the_managers_pdf_tells_the_story_and_the_teams_own_does_not(demo, client):
    """The story's charts and tables make the manager's PDF about half as large again as the
    team link's PDF of the same results (WeasyPrint compresses the text: its size tells)."""
    last = ended_waves()[-1]
    team = next(team for team in last.teams if team.unit.slug == "team-anker")
    own = client.get(f"/team/{team.results_slug}/report.pdf")
    login(client, ANKER, PASSWORD)
    managers = client.get(f"/dashboard/waves/{last.id}/teams/team-anker/report.pdf")
    assert own.status_code == managers.status_code == 200
    assert len(managers.data) > len(own.data) * 1.3
