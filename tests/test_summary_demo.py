"""The summary tells the demo organisation's story: Team Anker slips back over a year, Team
Kompas grows (survey/services/demo.py), and the rule (docs/summary.md) says so."""

import sqlalchemy as sa

from reports.summary import Certainty
from survey.extensions import db
from survey.models import Unit, Wave, WaveStatus
from survey.services.results import team_results
from survey.services.settings import wave_policy
from tests.conftest import login
from tests.test_quality import add_pulse_wave
from tests.test_summary_rule import summary_box
from tests.test_team_pages import DEMO_PASSWORD, JEUGDHULP, latest_closed_wave, wave_team

ANKER = "leiding.anker@huisvankracht.example"


def closed_waves() -> list[Wave]:
    return list(
        db.session.scalars(
            sa.select(Wave).where(Wave.status == WaveStatus.CLOSED).order_by(Wave.opens_on)
        )
    )


def summary_of(wave: Wave, slug: str):
    return team_results(wave_team(wave, slug), wave_policy(wave)).summary


def box_of(client, account: str, wave: Wave, slug: str) -> str:
    login(client, account, DEMO_PASSWORD)
    reply = client.get(f"/dashboard/waves/{wave.id}/teams/{slug}")
    assert reply.status_code == 200
    return summary_box(reply.get_data(as_text=True))


def test_ankers_a1_is_a_growth_point_that_fell_clearly_over_the_year(demo, app):
    first, _, last = closed_waves()
    summary = summary_of(last, "team-anker")
    (a1,) = [named for named in summary.growth_points if named.code == "A1"]
    assert a1.movement.since == first.name and a1.movement.certainty is Certainty.CLEAR
    assert a1.movement.difference < -1 and a1.gap is Certainty.CLEAR  # below the organisation
    assert summary.strengths == ()


def test_ankers_page_names_focus_on_strengths_where_the_team_can_grow(demo, client):
    first, _, last = closed_waves()
    box = box_of(client, ANKER, last, "team-anker")
    growth = box[box.index("Waar het team kan groeien") :]
    assert "Focus op krachten" in growth
    assert f"duidelijk gedaald sinds {first.name}" in growth
    assert "Geen enkele schaal steekt boven de organisatie uit." in box


def test_a_scale_that_fell_clearly_is_never_a_strength_anywhere_in_the_demo(demo, app):
    teams = db.session.scalars(sa.select(Unit.slug).where(Unit.parent_id.is_not(None))).all()
    strengths = 0
    for wave in closed_waves():
        for slug in set(teams) & {team.unit.slug for team in wave.teams}:
            summary = summary_of(wave, slug)
            for named in summary.strengths:
                strengths += 1
                falls = [m for m in named.facts.movements if not m.rose]
                assert all(m.certainty is not Certainty.CLEAR for m in falls), (wave.name, slug)
    assert strengths > 10  # the rule does name strengths


def test_ankers_belief_in_growth_was_a_strength_and_is_not_once_it_fell(demo, app):
    first, _, last = closed_waves()
    assert "A2" in {named.code for named in summary_of(first, "team-anker").strengths}
    assert "A2" in {named.code for named in summary_of(last, "team-anker").growth_points}


def test_kompas_growth_is_named(demo, client):
    first, _, last = closed_waves()
    summary = summary_of(last, "team-kompas")
    assert len(summary.rises) >= 10 and {"A1", "A4", "B1"} <= {n.code for n in summary.rises}
    assert all(n.movement.certainty is Certainty.CLEAR and n.movement.rose for n in summary.rises)
    assert summary.strengths and all(n.movement and n.movement.rose for n in summary.strengths)
    box = box_of(client, JEUGDHULP, last, "team-kompas")
    assert "Duidelijk vooruitgegaan: " in box and "Focus op krachten" in box
    assert f"duidelijk gestegen sinds {first.name}" in box


def test_the_small_demo_team_names_nothing(demo, client, app):
    wave = latest_closed_wave()
    assert summary_of(wave, "team-de-brug").compared is False
    login(client, "kwaliteit@huisvankracht.example", DEMO_PASSWORD)
    page = client.get(f"/dashboard/waves/{wave.id}/teams/team-de-brug").get_data(as_text=True)
    assert summary_box(page) == "" and "tegenover" not in page


def test_the_agreement_label_is_gone_and_the_teams_own_link_shows_the_same_summary(demo, client):
    wave = latest_closed_wave()
    manager_box = box_of(client, ANKER, wave, "team-anker")
    link = f"/team/{wave_team(wave, 'team-anker').results_slug}"
    page = client.application.test_client().get(link).get_data(as_text=True)  # no log-in
    assert summary_box(page) == manager_box
    assert "het team is het eens" not in page and "Eensgezindheid" not in page


def test_a_pulse_wave_between_is_skipped_and_names_nothing_itself(demo, client, app):
    first, middle, last = closed_waves()
    pulse = add_pulse_wave(after=middle)
    assert middle.closes_on < pulse.opens_on < last.opens_on
    summary = summary_of(last, "team-anker")
    (a1,) = [named for named in summary.growth_points if named.code == "A1"]
    assert {m.since for m in a1.facts.movements} == {first.name, middle.name}
    assert summary_of(pulse, "team-anker").compared is False
    login(client, ANKER, DEMO_PASSWORD)
    page = client.get(f"/dashboard/waves/{pulse.id}/teams/team-anker")
    assert page.status_code == 200 and summary_box(page.get_data(as_text=True)) == ""
