"""The team's results pages on the demo organisation and on small hand-made cases: the full
dashboard, the team's own link, the team-first period, actions, the meeting guide and the PDF,
each through the anonymity gate."""

import json
import re
from datetime import date

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Role, Unit, Wave, WaveStatus, WaveTeam
from tests.conftest import login
from tests.test_team_results import add_responses, agreeing

DEMO_PASSWORD = "krachtspiegel-demo"
JEUGDHULP = "leiding.jeugdhulp@huisvankracht.example"
ADMIN = "beheer@huisvankracht.example"


def latest_closed_wave() -> Wave:
    return db.session.scalar(
        sa.select(Wave).where(Wave.status == WaveStatus.CLOSED).order_by(Wave.opens_on.desc())
    )


def wave_team(wave: Wave, slug: str) -> WaveTeam:
    return next(team for team in wave.teams if team.unit.slug == slug)


def figures_on(page: str) -> dict[str, dict]:
    blocks = re.findall(
        r'<script type="application/json" data-chart-for="([^"]+)">(.*?)</script>', page, re.S
    )
    return {chart_id: json.loads(body) for chart_id, body in blocks}


def test_every_team_of_the_demo_manager_shows_the_whole_dashboard(demo, client):
    login(client, JEUGDHULP, DEMO_PASSWORD)
    wave = latest_closed_wave()
    for slug in ("team-kompas", "team-vlinder", "team-horizon"):
        reply = client.get(f"/dashboard/waves/{wave.id}/teams/{slug}")
        assert reply.status_code == 200, slug
        page = reply.get_data(as_text=True)
        # headline and strengths-first summary
        assert "Waar het team het sterkst in is" in page and "Waar het team kan groeien" in page
        # the strengths model's own picture, with its text alternative and numbers
        assert '<svg class="strengths-model"' in page and "Wensen en dromen" in page
        charts = figures_on(page)
        # modules A and B against the organisation, the answers' spread, the life domains,
        # the time perspectives and the sources × domains grid
        for chart in ("chart-means-A", "chart-means-B", "chart-group-C2", "chart-group-C3",
                      "chart-grid-C4"):  # fmt: skip
            assert chart in charts, (slug, chart)
        assert [trace["name"] for trace in charts["chart-means-A"]["data"]] == [
            "Dit team",
            "Organisatie",
        ]
        assert "chart-answers-A" in charts or "minder dan 7 antwoorden" in page
        assert "Per vraag" in page and "Wat collega's hebben geschreven" in page
        assert "Vragen voor het teamoverleg" in page
        # plotly only on pages with charts, from the app itself
        assert "vendor/plotly-cartesian.min.js?v=" in page and "cdn" not in page.lower()
    # a team outside the manager's scope: 404
    assert client.get(f"/dashboard/waves/{wave.id}/teams/team-anker").status_code == 404


def test_the_too_small_demo_team_shows_only_suppression_messages(demo, client):
    login(client, ADMIN, DEMO_PASSWORD)
    wave = latest_closed_wave()
    page = client.get(f"/dashboard/waves/{wave.id}/teams/team-de-brug").get_data(as_text=True)
    assert "Minder dan 5 antwoorden: niet getoond om de anonimiteit te beschermen." in page
    assert figures_on(page) == {} and "plotly" not in page
    assert "strengths-model" not in page and "Wat collega's hebben geschreven" not in page
    assert not re.search(r"\d,\d", page)  # not a single mean anywhere


def test_the_organisation_average_leaves_out_teams_below_k(demo, client):
    login(client, ADMIN, DEMO_PASSWORD)
    wave = latest_closed_wave()
    page = client.get(f"/dashboard/waves/{wave.id}/teams/team-kompas").get_data(as_text=True)
    organisation = figures_on(page)["chart-means-A"]["data"][1]
    counts = {
        team.unit.slug: db.session.scalar(
            sa.text("SELECT count(*) FROM responses WHERE wave_id = :w AND unit_id = :u"),
            {"w": wave.id, "u": team.unit_id},
        )
        for team in wave.teams
    }
    pooled_n = organisation["customdata"][0][1]
    # De Brug (fewer than 5) is left out entirely: the organisation's n is at most the sum of
    # the other teams, and differs from the total by at least De Brug's count
    assert counts["team-de-brug"] < 5
    assert pooled_n <= sum(n for slug, n in counts.items() if slug != "team-de-brug")


def test_the_team_link_shows_the_results_without_management_parts(demo, client):
    wave = latest_closed_wave()
    team = wave_team(wave, "team-kompas")
    page = client.get(f"/team/{team.results_slug}").get_data(as_text=True)
    assert "Waar het team het sterkst in is" in page and figures_on(page)
    assert "resultatenlink" not in page
    assert 'name="robots" content="noindex"' in page
    assert client.get("/team/not-a-real-link").status_code == 404
    small = wave_team(wave, "team-de-brug")
    small_page = client.get(f"/team/{small.results_slug}").get_data(as_text=True)
    assert "Minder dan 5 antwoorden" in small_page and not figures_on(small_page)


def test_an_open_wave_shows_no_results_anywhere(demo, client):
    open_wave = db.session.scalar(sa.select(Wave).where(Wave.status == WaveStatus.OPEN))
    team = wave_team(open_wave, "team-kompas")
    page = client.get(f"/team/{team.results_slug}").get_data(as_text=True)
    assert "De resultaten verschijnen wanneer de bevraging gesloten is" in page
    assert not figures_on(page)
    assert client.get(f"/team/{team.results_slug}/report.pdf").status_code == 404


@pytest.fixture
def team_first(app, tree, make_wave, make_account):
    app.config["TEAM_FIRST_DAYS"] = 14
    wave = make_wave([tree["team-a"]], status=WaveStatus.CLOSED)
    wave.closed_on = date.today()
    db.session.commit()
    make_account("lg@example.org", Role.MANAGER, [tree["north"]])
    make_account("teamcoach@example.org", Role.MANAGER, [tree["team-a"]])
    add_responses(wave.teams[0], agreeing(6))
    return wave.teams[0]


def test_team_first_holds_results_back_from_management_but_not_from_the_team(
    app, client, team_first
):
    login(client, "lg@example.org")  # the department's manager
    manager_page = client.get(f"/dashboard/waves/{team_first.wave_id}/teams/team-a")
    text = manager_page.get_data(as_text=True)
    assert "Het team ziet zijn resultaten eerst" in text and "<td>4,0</td>" not in text
    # ...nor the link, which would show them all without log-in
    assert team_first.results_slug not in text
    url = f"/dashboard/waves/{team_first.wave_id}/teams/team-a/report.pdf"
    assert client.get(url).status_code == 404
    team_page = client.get(f"/team/{team_first.results_slug}").get_data(as_text=True)
    assert "<td>4,0</td>" in team_page
    # The team's own manager sees them with the team, and can hand the team its link.
    own = app.test_client()
    login(own, "teamcoach@example.org")
    text = own.get(f"/dashboard/waves/{team_first.wave_id}/teams/team-a").get_data(as_text=True)
    assert "<td>4,0</td>" in text and f"/team/{team_first.results_slug}" in text


def test_the_meeting_guide_asks_appreciative_questions(demo, client):
    login(client, JEUGDHULP, DEMO_PASSWORD)
    wave = latest_closed_wave()
    # Vlinder has both a strength and a growth point (docs/summary.md)
    page = client.get(f"/dashboard/waves/{wave.id}/teams/team-vlinder/guide").get_data(as_text=True)
    assert "Gespreksleidraad" in page and "Dit is een van onze sterktes." in page
    assert "Hier kunnen we groeien." in page
    # the instrument's own question for the strength sources (reflect in the YAML file)
    assert "Welke krachtbron verkennen we al vanzelf" in page
    assert "Spreek één tot drie acties af" in page


def test_the_pdf_report_in_both_languages(demo, client):
    wave = latest_closed_wave()
    team = wave_team(wave, "team-kompas")
    dutch = client.get(f"/team/{team.results_slug}/report.pdf")
    assert dutch.status_code == 200 and dutch.mimetype == "application/pdf"
    assert dutch.data.startswith(b"%PDF-") and len(dutch.data) > 20_000
    client.get("/language/en")
    english = client.get(f"/team/{team.results_slug}/report.pdf")
    assert english.status_code == 200 and english.data != dutch.data
    login(client, JEUGDHULP, DEMO_PASSWORD)
    assert client.get(f"/dashboard/waves/{wave.id}/teams/team-kompas/report.pdf").status_code == 200
    assert client.get(f"/dashboard/waves/{wave.id}/teams/team-anker/report.pdf").status_code == 404


def test_comments_switched_off_are_shown_to_nobody(app, demo, client):
    app.config["COMMENTS_ENABLED"] = False
    wave = latest_closed_wave()
    team = wave_team(wave, "team-horizon")
    page = client.get(f"/team/{team.results_slug}").get_data(as_text=True)
    assert "Opmerkingen staan uit in deze organisatie." in page
    texts = db.session.scalars(
        sa.text(
            "SELECT text FROM answers JOIN responses ON responses.id = answers.response_id "
            "WHERE text IS NOT NULL AND responses.wave_id = :w AND responses.unit_id = :u"
        ),
        {"w": wave.id, "u": team.unit_id},
    ).all()
    assert texts and not any(text in page for text in texts)


def test_comments_of_a_large_enough_team_are_shown_in_random_order(demo, client):
    wave = latest_closed_wave()
    team = wave_team(wave, "team-horizon")
    texts = set(
        db.session.scalars(
            sa.text(
                "SELECT text FROM answers JOIN responses ON responses.id = answers.response_id "
                "WHERE text IS NOT NULL AND responses.wave_id = :w AND responses.unit_id = :u"
            ),
            {"w": wave.id, "u": team.unit_id},
        ).all()
    )
    page = client.get(f"/team/{team.results_slug}").get_data(as_text=True)
    shown = re.findall(r'<ul class="comments">(.*?)</ul>', page, re.S)
    assert shown and all(text.strip() in page for text in texts if len(text) < 60)


def test_unit_of_a_wave_team_has_its_own_results_link(tree, make_wave):
    wave = make_wave([tree["team-a"], tree["team-b"]])
    links = {team.results_slug for team in wave.teams} | {team.link_slug for team in wave.teams}
    assert len(links) == 4 and all(len(link) >= 32 for link in links)
    assert db.session.get(Unit, tree["team-a"].id) is not None
