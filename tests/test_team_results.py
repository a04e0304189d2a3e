"""A team's own results on its wave page, through the anonymity gate."""

import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer, Response, Role, Wave, WaveStatus
from survey.services.scale_scores import of_wave, store_scale_scores
from tests.conftest import login

A1 = ["A1.1", "A1.2", "A1.3"]  # A1.3 is reverse-coded
B1 = ["B1.1", "B1.2", "B1.3", "B1.4"]


def add_responses(wave_team, answer_sets: list[dict[str, object]]) -> None:
    for answers in answer_sets:
        response = Response(
            id=uuid.uuid4(),
            wave_id=wave_team.wave_id,
            unit_id=wave_team.unit_id,
            submitted_on=date.today(),
            language="nl",
        )
        db.session.add(response)
        for code, value in answers.items():
            if value == "dk":
                db.session.add(Answer(response=response, item_code=code, dont_know=True))
            elif isinstance(value, list):  # ticked grid cells: (row, column) pairs
                for row, column in value:
                    db.session.add(
                        Answer(response=response, item_code=code, grid_row=row, grid_column=column)
                    )
            else:
                db.session.add(Answer(response=response, item_code=code, value=value))
    db.session.flush()
    store_scale_scores(of_wave(wave_team.wave_id))  # as the submission does
    db.session.commit()


def agreeing(count: int) -> list[dict[str, object]]:
    """Everyone: A1 = 4, 4 and 2 reversed (→ 4); B1 = 5, 5, 5, 4 → 4.75."""
    return [{"A1.1": 4, "A1.2": 4, "A1.3": 2, "B1.1": 5, "B1.2": 5, "B1.3": 5, "B1.4": 4}] * count


@pytest.fixture
def closed_team(tree, make_wave, make_account):
    wave = make_wave([tree["team-a"]], status=WaveStatus.CLOSED)
    make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    return wave.teams[0]


def page_of(client, wave_team) -> str:
    login(client, "lg@example.org")
    reply = client.get(f"/dashboard/waves/{wave_team.wave_id}/teams/team-a")
    assert reply.status_code == 200
    return reply.get_data(as_text=True)


def test_a_team_with_enough_answers_sees_its_scores(client, closed_team):
    add_responses(closed_team, agreeing(6))
    page = page_of(client, closed_team)
    assert "6 antwoorden" in page and "deelname 50\u00a0%" in page  # 6 of 12 invited
    assert "<td>4,0</td>" in page and "<td>4,8</td>" in page  # A1 mean 4.0, B1 mean 4.75
    # one team, one wave: no organisation's mean and no earlier wave to compare with
    assert "Nog niets om mee te vergelijken" in page
    # 6 < the spread threshold of 7: no SD
    assert "minder dan 7 antwoorden" in page


def test_spread_from_the_spread_threshold_and_no_agreement_label_on_every_row(client, closed_team):
    add_responses(closed_team, agreeing(7))
    page = page_of(client, closed_team)
    assert "<td>0,0</td>" in page  # everyone answered alike: SD 0
    # agreement is said only where opinions differ strongly (tests/test_summary_rule.py)
    assert "het team is het eens" not in page and "Eensgezindheid" not in page
    assert "lopen sterk uiteen" not in page


def test_a_team_below_k_sees_only_why_nothing_is_shown(client, closed_team):
    add_responses(closed_team, agreeing(4))
    page = page_of(client, closed_team)
    assert "Minder dan 5 antwoorden: niet getoond om de anonimiteit te beschermen." in page
    assert "4 antwoorden" not in page and "4,0" not in page and '<table class="results"' not in page


def test_a_scale_with_too_few_scores_is_hidden_on_its_own(client, closed_team):
    mostly_dont_know = {"A1.1": "dk", "A1.2": "dk", "A1.3": 2, "B1.1": 5, "B1.2": 5, "B1.3": 5,
                        "B1.4": 4}  # fmt: skip
    add_responses(closed_team, agreeing(3) + [mostly_dont_know] * 3)
    page = page_of(client, closed_team)
    a1_row = page[page.index("A1 Focus op krachten") :].split("</tr>")[0]
    assert "niet getoond om de anonimiteit te beschermen" in a1_row  # only 3 A1 scores
    assert "<td>4,8</td>" in page  # B1 has 6 scores


def test_no_results_while_the_wave_is_open(client, tree, make_wave, make_account):
    wave = make_wave([tree["team-a"]], status=WaveStatus.OPEN)
    make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    add_responses(wave.teams[0], agreeing(9))
    page = page_of(client, wave.teams[0])
    assert "De resultaten verschijnen wanneer de bevraging gesloten is" in page
    assert "9 antwoorden" not in page


def test_the_small_demo_team_shows_only_suppression_messages(demo, client):
    login(client, "kwaliteit@huisvankracht.example", "krachtspiegel-demo")
    overview = client.get("/dashboard/").get_data(as_text=True)
    assert "Demogegevens" in overview
    closed = db.session.scalars(sa.select(Wave).where(Wave.status == WaveStatus.CLOSED)).first()
    brug = client.get(f"/dashboard/waves/{closed.id}/teams/team-de-brug").get_data(as_text=True)
    assert "Minder dan 5 antwoorden" in brug and '<table class="results"' not in brug
    anker = client.get(f"/dashboard/waves/{closed.id}/teams/team-anker").get_data(as_text=True)
    assert "Waar het team het sterkst in is" in anker


def a1_answers(scores: list[int]) -> list[dict[str, object]]:
    """One response per score s: A1.1 = A1.2 = s and A1.3 = 6 − s (reversed), so A1 = s."""
    return [{"A1.1": s, "A1.2": s, "A1.3": 6 - s} for s in scores]


@pytest.fixture
def two_waves(tree, make_wave, make_account):
    earlier = make_wave([tree["team-a"]], status=WaveStatus.CLOSED, name="Voorjaar")
    later = make_wave([tree["team-a"]], status=WaveStatus.CLOSED, name="Najaar")
    later.opens_on = earlier.opens_on.replace(year=earlier.opens_on.year + 1)
    later.closes_on = later.opens_on
    db.session.commit()
    make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    return earlier.teams[0], later.teams[0]


def change_cell(page: str) -> str:
    row = page.index('<th scope="row">A1 Focus op krachten')
    return page[row:].split("</tr>")[0].split("<td>")[-1]


def test_a_clear_rise_since_the_previous_wave(client, two_waves):
    earlier, later = two_waves
    # Seven each: a change's interval comes from both waves' spread, so it needs the spread
    # threshold (7) in both (tests/test_insider_figures.py).
    add_responses(earlier, a1_answers([2, 2, 3, 2, 2, 3, 2]))
    add_responses(later, a1_answers([4, 4, 5, 4, 4, 5, 4]))
    page = page_of(client, later)
    assert "Sinds Voorjaar" in page
    cell = change_cell(page)
    # before mean 2.286, after 4.286: +2.0; both SD 0.488 → 95% interval [1.43, 2.57]
    assert "+2,0 (duidelijke stijging)" in cell and "95%-interval 1,4 tot 2,6" in cell


def test_no_clear_change_when_the_interval_includes_zero(client, two_waves):
    earlier, later = two_waves
    add_responses(earlier, a1_answers([2, 5, 3, 4, 2, 5, 3]))
    add_responses(later, a1_answers([3, 5, 2, 4, 3, 5, 4]))
    assert "geen duidelijke verandering" in change_cell(page_of(client, later))


def test_no_change_when_the_previous_wave_had_too_few_answers(client, two_waves):
    earlier, later = two_waves
    add_responses(earlier, a1_answers([2, 2, 3, 2]))
    add_responses(later, a1_answers([4, 4, 5, 4, 4, 5]))
    cell = change_cell(page_of(client, later))
    assert "duidelijke" not in cell and "verandering" not in cell
