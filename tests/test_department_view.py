"""The department manager's view: their teams side by side per scale in an ended wave (each team
gated by k, the department pooled only over the teams it may show, as on the quality pages),
the department's trend, a link from the dashboard; nothing outside their scope."""

import re

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Role, Unit, Wave, WaveStatus
from survey.services.comparisons import ended_waves
from tests.conftest import PASSWORD as TEST_PASSWORD
from tests.conftest import login
from tests.test_manager_trends import ANKER, JEUGDHULP, PASSWORD, read


def side_by_side(page: str) -> tuple[list[str], dict[str, list[str]]]:
    """The columns (the department, then its teams) and, per scale code, the cells' texts."""
    tables = re.findall(r'<table class="results side-by-side">(.*?)</table>', page, re.S)
    assert len(tables) == 2  # modules A and B
    header = re.search(r"<thead>(.*?)</thead>", tables[0], re.S).group(1)
    columns = [
        re.sub(r"<[^>]+>", "", th).strip()
        for th in re.findall(r"<th scope=\"col\">(.*?)</th>", header)
    ]
    cells = {}
    for table in tables:
        for code, body in re.findall(r'<th scope="row">([AB]\d) [^<]*</th>(.*?)</tr>', table, re.S):
            cells[code] = [
                re.sub(r"<[^>]+>|\s+", " ", td).strip()
                for td in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
            ]
    return columns[1:], cells


def n_of(cell: str) -> int | None:
    match = re.search(r"\(n (\d+)\)", cell)
    return int(match.group(1)) if match else None


def test_a_department_manager_compares_their_teams(demo, client):
    login(client, JEUGDHULP, PASSWORD)
    overview = read(client, "/dashboard/")
    assert 'href="/dashboard/departments/jeugdhulp"' in overview
    page = read(client, "/dashboard/departments/jeugdhulp")
    columns, cells = side_by_side(page)
    assert columns == ["Jeugdhulp (afdeling)", "Team Horizon", "Team Kompas", "Team Vlinder"]
    assert len(cells) == 13 and all(len(row) == 4 for row in cells.values())
    for code, row in cells.items():
        # every team is shown: the department pools them all
        assert n_of(row[0]) == sum(n_of(cell) for cell in row[1:]), code
    # the change since the wave before, per team: Kompas grows in the demo
    assert sum("duidelijke stijging" in row[2] for row in cells.values()) >= 5
    # the department's own trend follows
    assert '<h2 id="story-title">Jeugdhulp over de bevragingen</h2>' in page
    assert page.count('<li class="spark">') == 13
    # and the actions of its teams (Kompas' in the demo), not those of another department's
    assert "samen met de jongere de krachtenanalyse invullen" in page
    assert "Intakecoördinator" in page
    assert "begint met wat er goed ging" not in page  # Team Anker's, in GGZ


def test_a_department_manager_sees_a_teams_actions_only_after_the_team_first_period(demo, client):
    kompas_action = "samen met de jongere de krachtenanalyse invullen"
    wave = db.session.scalars(
        sa.select(Wave).where(Wave.status == WaveStatus.CLOSED).order_by(Wave.opens_on.desc())
    ).first()
    wave.team_first_days = 100_000  # the team still has the results (and its plan) to itself
    db.session.commit()
    login(client, JEUGDHULP, PASSWORD)
    assert kompas_action not in read(client, "/dashboard/departments/jeugdhulp")


def test_a_team_below_k_shows_nothing_and_cannot_be_subtracted(demo, client, make_account):
    """De Brug (4 staff) never reaches k: its column says so, and the department's figure pools
    only Anker and Noord, so department minus shown teams is nothing."""
    ggz = db.session.scalar(sa.select(Unit).where(Unit.slug == "ggz"))
    make_account("leiding.ggz@example.org", Role.MANAGER, [ggz])
    login(client, "leiding.ggz@example.org", TEST_PASSWORD)
    for wave in ended_waves():
        columns, cells = side_by_side(read(client, f"/dashboard/departments/ggz?wave={wave.id}"))
        assert columns == [
            "Geestelijke gezondheid (afdeling)",
            "Mobiel Team Noord",
            "Team Anker",
            "Team De Brug",
        ]
        for code, (department, noord, anker, brug) in cells.items():
            assert brug == "Minder dan 5 antwoorden: niet getoond om de anonimiteit te beschermen."
            assert n_of(department) == n_of(noord) + n_of(anker), (wave.name, code)
    # the department's trend pools the same teams: its n per wave is theirs
    page = read(client, "/dashboard/units/ggz/trend")
    a1 = re.search(r'id="story-A1-desc">(.*?)</desc>', page).group(1)
    latest = side_by_side(read(client, "/dashboard/departments/ggz"))[1]["A1"]
    assert a1.endswith(f"(n {n_of(latest[0])})")


@pytest.mark.parametrize(
    ("email", "slug"),
    [
        (ANKER, "ggz"),  # their own team's department
        (ANKER, "jeugdhulp"),
        (JEUGDHULP, "ggz"),
        (JEUGDHULP, "team-kompas"),  # in scope, but a team: no department view
        (JEUGDHULP, "huis-van-kracht"),  # the organisation is outside their scope
        (JEUGDHULP, "no-such-unit"),
    ],
)
def test_a_department_outside_scope_is_404(demo, client, email, slug):
    login(client, email, PASSWORD)
    read(client, f"/dashboard/departments/{slug}", 404)


def test_only_an_ended_wave_of_the_department_can_be_chosen(demo, client):
    login(client, JEUGDHULP, PASSWORD)
    first = ended_waves()[0]
    page = read(client, f"/dashboard/departments/jeugdhulp?wave={first.id}")
    assert f'<option value="{first.id}" selected>' in page
    # the first wave has nothing before it: no change line
    assert "duidelijke" not in page.split('id="department-actions"')[0]
    open_wave = db.session.scalar(sa.select(Wave).where(Wave.status == WaveStatus.OPEN))
    read(client, f"/dashboard/departments/jeugdhulp?wave={open_wave.id}", 404)
    read(client, "/dashboard/departments/jeugdhulp?wave=999999", 404)
    # a wave id that is not a number is ignored: the latest wave
    page = read(client, "/dashboard/departments/jeugdhulp?wave=abc")
    assert f'<option value="{ended_waves()[-1].id}" selected>' in page


def test_without_an_ended_wave_the_department_page_says_so(client, tree, make_wave, make_account):
    make_wave([tree["team-a"], tree["team-b"]])  # open: nothing to compare yet
    make_account("manager@example.org", Role.MANAGER, [tree["north"]])
    login(client, "manager@example.org")
    page = read(client, "/dashboard/departments/north")
    assert "Nog geen afgelopen bevraging heeft resultaten voor deze afdeling." in page
    assert "<table" not in page
