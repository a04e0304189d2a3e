"""An ended wave's team figures are counted once, kept, and read by its pages.

``survey.services.team_figures``: closing a wave counts every team's figures and keeps them
(``StoredTeamFigures``); the daily ``flask anonymity shuffle`` counts the waves that ended by
date; a page reads them with one query, without touching the answers, as long as they count the
responses the team holds; retention deletes them with the answers (they carry the comments).
"""

from __future__ import annotations

import random
import re
import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from survey.anonymity import Policy
from survey.extensions import db
from survey.models import Account, Answer, Response, Role, StoredTeamFigures, Wave, WaveStatus
from survey.services import team_figures
from survey.services.questionnaires import instrument_of
from survey.services.results import team_results
from survey.services.retention import apply_retention, retention_plan
from survey.services.scale_scores import of_response, of_wave, store_scale_scores
from survey.services.team_figures import count_team_figures, store_wave_figures
from survey.services.waves import close_wave
from tests.conftest import login
from tests.test_demo import statements_sent
from tests.test_results_sql import add_random_responses, assert_same_figures
from tests.test_retention import add_responses, ended, likert, set_retention

TODAY = date.today()


def stored(wave_id: int) -> dict[int, StoredTeamFigures]:
    db.session.commit()  # a fresh transaction
    rows = db.session.scalars(
        sa.select(StoredTeamFigures).where(StoredTeamFigures.wave_id == wave_id)
    )
    return {row.unit_id: row for row in rows}


def sorted_comments(figures: team_figures.TeamFigures) -> team_figures.TeamFigures:
    figures.comments = {code: sorted(texts) for code, texts in figures.comments.items()}
    return figures


@pytest.fixture
def open_wave(tree, make_wave):
    """An open wave of teams A and B, with 7 and 4 random responses."""
    wave = make_wave([tree["team-a"], tree["team-b"]])
    rng = random.Random(19)
    for wave_team, count in zip(wave.teams, (7, 4), strict=True):
        add_random_responses(wave_team, count, rng)
    return wave


def test_closing_a_wave_keeps_each_teams_figures_as_counted(open_wave):
    instrument = instrument_of(open_wave)
    live = {
        wt.unit_id: sorted_comments(count_team_figures(wt, instrument)) for wt in open_wave.teams
    }
    assert stored(open_wave.id) == {}
    close_wave(open_wave, None)
    db.session.commit()
    kept = stored(open_wave.id)
    assert {unit_id: row.responses for unit_id, row in kept.items()} == {
        wt.unit_id: n for wt, n in zip(open_wave.teams, (7, 4), strict=True)
    }
    for wave_team in open_wave.teams:
        figures = team_figures.team_figures(
            wave_team, instrument, ended=True, responses=kept[wave_team.unit_id].responses
        )
        before = live[wave_team.unit_id]
        assert sorted_comments(figures).items == before.items
        assert (figures.grids, figures.comments) == (before.grids, before.comments)
        # the shuffle at closing summed the same scores in another order
        assert figures.sums.keys() == before.sums.keys()
        for code, sums in figures.sums.items():
            assert sums == pytest.approx(before.sums[code], rel=1e-12)
        assert_same_figures(wave_team, Policy())  # against the former pandas path


def test_a_page_of_an_ended_wave_reads_the_kept_figures_not_the_answers(
    open_wave, client, make_account
):
    close_wave(open_wave, None)
    db.session.commit()
    make_account("lg@example.org", Role.MANAGER, [open_wave.teams[0].unit])
    login(client, "lg@example.org")
    url = f"/dashboard/waves/{open_wave.id}/teams/{open_wave.teams[0].unit.slug}"
    with statements_sent() as sent:
        page = client.get(url)
    assert page.status_code == 200 and "stored_team_figures" in " ".join(sent)
    assert not [s for s in sent if "FROM answers" in s or "JOIN answers" in s], sent
    # without the kept figures, the same page counts the answers, and shows the same
    db.session.execute(sa.delete(StoredTeamFigures))
    db.session.commit()
    with statements_sent() as sent:
        again = client.get(url)
    assert [s for s in sent if "JOIN answers" in s or "FROM answers" in s]
    assert without_comments(again) == without_comments(page)


def without_comments(page) -> str:
    """The page without its token and comment list (shown in a new random order each time)."""
    text = re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "", page.get_data(as_text=True))
    return re.sub(r"<ul class=\"comments\".*?</ul>", "", text, flags=re.S)


def late_response(wave_team, a1: tuple[int, int, int]) -> None:
    """A response stored as the submission stores it (its scale scores only)."""
    response = Response(
        wave_id=wave_team.wave_id, unit_id=wave_team.unit_id, submitted_on=TODAY, language="nl"
    )
    db.session.add(response)
    for code, value in zip(("A1.1", "A1.2", "A1.3"), a1, strict=True):
        db.session.add(Answer(response=response, item_code=code, value=value))
    db.session.flush()
    store_scale_scores(of_response(response.id), replace=False)
    db.session.commit()


def test_kept_figures_that_count_other_responses_are_not_used_and_are_counted_again(
    open_wave, runner
):
    close_wave(open_wave, None)
    db.session.commit()
    wave_team = open_wave.teams[1]
    for values in ((5, 4, 1), (4, 4, 2), (3, 2, 4)):  # arrived as the wave ended
        late_response(wave_team, values)
    policy = Policy()
    assert team_results(wave_team, policy).responses.n == 7
    assert_same_figures(wave_team, policy)
    assert stored(open_wave.id)[wave_team.unit_id].responses == 4
    result = runner.invoke(args=["anonymity", "shuffle"])
    assert result.exit_code == 0, result.output
    assert f"Wave {open_wave.id}" in result.output and "2 team(s) counted" in result.output
    assert stored(open_wave.id)[wave_team.unit_id].responses == 7
    again = runner.invoke(args=["anonymity", "shuffle"])
    assert again.exit_code == 0 and "counted" not in again.output


def test_the_daily_run_counts_a_wave_that_ended_by_date(tree, make_wave, runner):
    wave = make_wave([tree["team-a"]])  # open, never closed by hand
    add_random_responses(wave.teams[0], 6, random.Random(3))
    assert "counted" not in runner.invoke(args=["anonymity", "shuffle"]).output
    assert stored(wave.id) == {}
    wave.opens_on, wave.closes_on = TODAY - timedelta(days=20), TODAY - timedelta(days=1)
    db.session.commit()
    result = runner.invoke(args=["anonymity", "shuffle"])
    assert result.exit_code == 0 and "1 team(s) counted" in result.output
    assert stored(wave.id)[wave.teams[0].unit_id].responses == 6


def test_kept_comments_are_not_in_the_order_people_answered(tree, make_wave):
    wave = make_wave([tree["team-a"]])
    add_responses(wave.teams[0], [{**likert((4, 4, 2)), "O1": f"c{n:02}"} for n in range(30)])
    wave = ended(wave, TODAY - timedelta(days=1))
    store_wave_figures(wave, instrument_of(wave))
    db.session.commit()
    (row,) = stored(wave.id).values()
    kept = row.figures["comments"]["O1"]
    assert sorted(kept) == [f"c{n:02}" for n in range(30)]
    answered = [f"c{n:02}" for n in range(30)]
    stored_order = db.session.scalars(
        sa.select(Answer.text).join(Response).where(Answer.item_code == "O1")
    ).all()
    assert kept != answered and kept != stored_order  # 1 in 30! each to fail


def test_retention_deletes_the_kept_figures_with_the_comments_they_carry(
    tree, make_wave, make_account
):
    wave = make_wave([tree["team-a"]])
    add_responses(wave.teams[0], [{**likert((5, 4, 2)), "O1": "Unieke opmerking"}] * 5)
    wave = ended(wave, TODAY - timedelta(days=3 * 366))
    store_wave_figures(wave, instrument_of(wave))
    db.session.commit()
    assert "Unieke opmerking" in str(stored(wave.id)[wave.teams[0].unit_id].figures)
    make_account("admin@example.org", Role.ADMIN)
    set_retention(1)
    apply_retention(retention_plan(), db.session.scalar(sa.select(Account)))
    db.session.commit()
    assert stored(wave.id) == {}


def test_rescoring_a_wave_forgets_its_kept_figures(open_wave):
    close_wave(open_wave, None)
    db.session.commit()
    assert len(stored(open_wave.id)) == 2
    store_scale_scores(of_wave(open_wave.id))
    db.session.commit()
    assert stored(open_wave.id) == {}


def test_a_wave_still_open_keeps_nothing(open_wave):
    assert store_wave_figures(open_wave, instrument_of(open_wave)) == 0
    assert open_wave.status is WaveStatus.OPEN and stored(open_wave.id) == {}


def test_two_servers_counting_the_same_wave_at_once_keep_one_row_per_team(app, open_wave):
    """Two machines' daily runs count the same ended wave at the same moment: the second waits
    for the first (the wave's teams locked) and replaces its rows; neither fails."""
    open_wave.opens_on, open_wave.closes_on = TODAY - timedelta(days=20), TODAY - timedelta(days=1)
    db.session.commit()
    wave_id = open_wave.id
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def count_once() -> None:
        with app.app_context():
            try:
                wave = db.session.get(Wave, wave_id)
                instrument = instrument_of(wave)
                barrier.wait(timeout=30)
                store_wave_figures(wave, instrument)
                db.session.commit()
            except BaseException as error:  # reported below, in the test's own thread
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=count_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and not any(thread.is_alive() for thread in threads)
    assert sorted(row.responses for row in stored(wave_id).values()) == [4, 7]
