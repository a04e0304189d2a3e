"""The summary rule (reports.summary, docs/summary.md): on constructed numbers, then through the
team page on a real database, where it may name nothing the page does not show."""

import re
from datetime import timedelta

import pytest

from reports.statistics import Change
from reports.summary import (
    DIFFER_BELOW,
    MIN_DIFFERENCE,
    Certainty,
    Movement,
    ScaleFacts,
    TeamSummary,
    summarise,
)
from survey.extensions import db
from survey.models import Role, WaveStatus
from tests.test_team_results import a1_answers, add_responses, page_of

CLEAR, POSSIBLE = Certainty.CLEAR, Certainty.POSSIBLE


def fall(difference: float, clear: bool = True, since: str = "Voorjaar") -> Movement:
    """A move with an interval: clear (excludes 0) or not."""
    half = abs(difference) / 2 if clear else abs(difference) + 1
    low, high = difference - half, difference + half
    return Movement(since, 3.5, difference, Change(difference, low, high, difference / 0.6))


rise = fall


def codes(named) -> list[str]:
    return [n.code for n in named]


# Like with like -----------------------------------------------------------------------------


def test_each_scale_is_compared_with_its_own_organisation_mean_not_with_other_scales():
    # A frequency scale with a high raw mean that is below the organisation's mean for it, and
    # an agreement scale with a low raw mean that is above the organisation's for it.
    summary = summarise(
        [
            ScaleFacts("A1", mean=4.2, n=10, sd=0.4, organisation=4.6),
            ScaleFacts("B5", mean=2.6, n=10, sd=0.4, organisation=2.0),
        ]
    )
    assert codes(summary.strengths) == ["B5"] and codes(summary.growth_points) == ["A1"]
    assert summary.strengths[0].gap is CLEAR and summary.growth_points[0].gap is CLEAR


def test_a_gap_below_the_minimum_is_not_named_however_many_answers():
    small = MIN_DIFFERENCE - 0.01
    summary = summarise([ScaleFacts("A1", mean=3.0 + small, n=200, sd=0.1, organisation=3.0)])
    assert summary.strengths == () and summary.growth_points == () and summary.compared


def test_clear_when_the_teams_interval_excludes_the_organisation_possible_otherwise():
    # n 10, SD 0.5: half-width t(.975, 9) · 0.5 / √10 = 0.358
    clear = ScaleFacts("A1", mean=3.4, n=10, sd=0.5, organisation=3.0)
    wide = ScaleFacts("A2", mean=3.35, n=10, sd=0.5, organisation=3.0)
    assert clear.gap_certainty is CLEAR and wide.gap_certainty is POSSIBLE
    # Without a spread that may be shown, a gap is at most possible.
    assert ScaleFacts("A3", mean=4.5, n=6, organisation=3.0).gap_certainty is POSSIBLE


# Declines -------------------------------------------------------------------------------------


def test_a_clearly_falling_scale_is_never_a_strength_however_far_above_the_organisation():
    facts = ScaleFacts("A2", mean=4.4, n=10, sd=0.3, organisation=3.2, movements=(fall(-0.7),))
    summary = summarise([facts])
    assert summary.strengths == ()
    (named,) = summary.growth_points
    assert named.code == "A2" and named.movement.certainty is CLEAR and not named.movement.rose
    assert named.gap is None  # being above the organisation is not a reason to grow


def test_a_possible_fall_leaves_a_strength_a_strength_and_says_so():
    facts = ScaleFacts(
        "A2", mean=4.4, n=10, sd=0.3, organisation=3.2, movements=(fall(-0.4, clear=False),)
    )
    summary = summarise([facts])
    (named,) = summary.strengths
    assert named.movement.certainty is POSSIBLE and not named.movement.rose
    assert summary.growth_points == ()


def test_a_clear_change_is_clear_whatever_its_size_as_the_results_table_says():
    assert fall(-0.1).certainty is CLEAR
    assert fall(-0.1, clear=False).certainty is None
    assert fall(-MIN_DIFFERENCE, clear=False).certainty is POSSIBLE
    # Without an interval (spread not shown in one of the waves): at most possible.
    assert Movement("Voorjaar", 3.5, -0.9).certainty is POSSIBLE
    assert Movement("Voorjaar", 3.5, -0.2).certainty is None


def test_the_most_telling_move_is_named_clear_before_possible_then_the_larger():
    since_first = Movement("Voorjaar 2025", 4.0, -0.9)  # no interval: possible
    since_previous = fall(-0.4, since="Najaar 2025")  # clear
    facts = ScaleFacts("A1", mean=3.1, n=9, movements=(since_first, since_previous))
    assert facts.moved(rising=False) is since_previous
    both_clear = (fall(-0.9, since="Voorjaar 2025"), since_previous)
    assert ScaleFacts("A1", 3.1, 9, movements=both_clear).moved(rising=False).since == (
        "Voorjaar 2025"
    )
    assert facts.moved(rising=True) is None


def test_growth_points_clear_first_then_the_furthest_below():
    summary = summarise(
        [
            ScaleFacts("A1", mean=2.0, n=6, organisation=3.5),  # possible, 1.5 below
            ScaleFacts("A2", mean=3.0, n=10, sd=0.3, organisation=3.4),  # clear, 0.4 below
            ScaleFacts("A3", mean=3.0, n=10, sd=0.3, movements=(fall(-0.8),)),  # clear fall
        ]
    )
    assert codes(summary.growth_points) == ["A3", "A2", "A1"]
    assert [n.certainty for n in summary.growth_points] == [CLEAR, CLEAR, POSSIBLE]


# Rises, ties, missing comparisons ---------------------------------------------------------------


def test_clear_rises_are_named_largest_first_and_a_rising_growth_point_says_it_rises():
    summary = summarise(
        [
            ScaleFacts("A1", mean=3.0, n=10, sd=0.3, organisation=3.6, movements=(rise(0.5),)),
            ScaleFacts("A2", mean=3.9, n=10, sd=0.3, organisation=3.0, movements=(rise(0.9),)),
            ScaleFacts("A3", mean=3.0, n=10, sd=0.3, movements=(rise(0.6, clear=False),)),
        ]
    )
    assert codes(summary.rises) == ["A2", "A1"]  # A3's rise is not confirmed
    assert codes(summary.strengths) == ["A2"] and summary.strengths[0].movement.rose
    (growing,) = summary.growth_points
    assert growing.code == "A1" and growing.gap is CLEAR and growing.movement.rose


def test_ties_keep_the_instruments_order():
    scales = [ScaleFacts(code, mean=4.0, n=10, sd=0.3, organisation=3.0) for code in "CAB"]
    assert codes(summarise(scales).strengths) == ["C", "A", "B"]
    below = [ScaleFacts(code, mean=2.0, n=10, sd=0.3, organisation=3.0) for code in "BCA"]
    assert codes(summarise(below).growth_points) == ["B", "C", "A"]


def test_without_an_organisation_mean_only_the_teams_own_trend_speaks():
    summary = summarise(
        [
            ScaleFacts("A1", mean=4.6, n=10, sd=0.3),  # high raw mean: not a strength
            ScaleFacts("B1", mean=3.0, n=10, sd=0.3, movements=(fall(-0.6),)),
        ]
    )
    assert summary.compared and summary.strengths == ()
    assert codes(summary.growth_points) == ["B1"]


def test_a_teams_first_wave_without_an_organisation_mean_names_nothing():
    summary = summarise([ScaleFacts("A1", mean=4.6, n=10, sd=0.3), ScaleFacts("B1", 1.5, 10)])
    assert summary == TeamSummary()
    assert not summary.compared


def test_a_team_with_one_wave_is_compared_with_the_organisation_only():
    summary = summarise([ScaleFacts("A1", mean=4.0, n=10, sd=0.3, organisation=3.2)])
    assert codes(summary.strengths) == ["A1"] and summary.strengths[0].movement is None
    assert summary.rises == ()


def test_a_pulse_wave_without_scales_gives_an_empty_summary():
    assert summarise([]) == TeamSummary()


# Disagreement ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rwg", "differs"), [(None, False), (DIFFER_BELOW - 0.01, True), (DIFFER_BELOW, False)]
)
def test_opinions_differ_only_below_the_threshold_and_only_where_rwg_may_be_shown(rwg, differs):
    summary = summarise([ScaleFacts("B1", mean=3.0, n=8, sd=1.9, rwg=rwg)])
    assert summary.differ == (("B1",) if differs else ())


# Through the team page: nothing named from a hidden figure ---------------------------------------


#: B1 answered all 1 by half the team and all 5 by the other half: rwg(J) 0.
POLARISED = [{"B1.1": v, "B1.2": v, "B1.3": v, "B1.4": v} for v in (1, 5)]


def b1_answers(scores: list[int]) -> list[dict[str, object]]:
    return [{"B1.1": s, "B1.2": s, "B1.3": s, "B1.4": s} for s in scores]


@pytest.fixture
def three_teams(tree, make_wave, make_account):
    """One closed wave of team-a, -b and -c (the organisation's mean needs three teams at k);
    team-b and team-c answer A1 = 3 and B1 = 3."""
    wave = make_wave([tree["org"]], status=WaveStatus.CLOSED)
    make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    teams = {team.unit.slug: team for team in wave.teams}
    for slug in ("team-b", "team-c"):
        add_responses(
            teams[slug],
            [a | b for a, b in zip(a1_answers([3] * 8), b1_answers([3] * 8), strict=True)],
        )
    return teams


def summary_box(page: str) -> str:
    """The summary box's HTML (its nested divs balanced), or "" when the page has none."""
    start = page.find('<div class="summary" id="summary">')
    if start < 0:
        return ""
    depth = 0
    for tag in re.finditer(r"<(/?)div\b", page[start:]):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return page[start : page.index(">", start + tag.end()) + 1]
    raise AssertionError("the summary box is not closed")


def test_a_team_under_k_names_nothing(client, three_teams):
    add_responses(three_teams["team-a"], a1_answers([5, 5, 5, 5]))
    page = page_of(client, three_teams["team-a"])
    assert summary_box(page) == "" and "tegenover" not in page and "Focus op krachten" not in page


def test_a_hidden_scale_is_never_named(client, three_teams):
    # A1: 4 scores of 5 (hidden, fewer than k); B1: 8 scores of 5, shown and far above.
    hidden_a1 = [{"A1.1": 5, "A1.2": 5, "A1.3": 1}] * 4 + [{"A1.1": "dk", "A1.2": "dk"}] * 4
    add_responses(
        three_teams["team-a"],
        [a | b for a, b in zip(hidden_a1, b1_answers([5] * 8), strict=True)],
    )
    box = summary_box(page_of(client, three_teams["team-a"]))
    assert "Psychologische veiligheid" in box and "duidelijk hoger" in box
    assert "Focus op krachten" not in box


def test_no_certainty_or_disagreement_from_a_spread_the_page_may_not_show(client, three_teams):
    # Six answers (below the spread threshold of 7): A1 5 against 3, B1 split between 1 and 5.
    answers = [a | b for a, b in zip(a1_answers([5] * 6), POLARISED * 3, strict=True)]
    add_responses(three_teams["team-a"], answers)
    box = summary_box(page_of(client, three_teams["team-a"]))
    assert "Focus op krachten" in box and "mogelijk hoger" in box
    assert "duidelijk" not in box.split("Zo zijn ze gekozen")[0]
    assert "lopen sterk uiteen" not in box


def test_from_the_spread_threshold_the_summary_is_sure_and_says_where_opinions_differ(
    client, three_teams
):
    answers = [a | b for a, b in zip(a1_answers([5] * 8), POLARISED * 4, strict=True)]
    add_responses(three_teams["team-a"], answers)
    box = summary_box(page_of(client, three_teams["team-a"]))
    assert (
        "Focus op krachten</strong>: 5,0 tegenover 3,7 in de organisatie (duidelijk hoger)" in box
    )
    assert "De meningen in het team lopen sterk uiteen over: Psychologische veiligheid." in box


def test_a_single_team_is_told_there_is_nothing_to_compare_with(
    client, tree, make_wave, make_account
):
    wave = make_wave([tree["team-a"]], status=WaveStatus.CLOSED)
    make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    add_responses(wave.teams[0], a1_answers([5] * 8))
    box = summary_box(page_of(client, wave.teams[0]))
    assert "Nog niets om mee te vergelijken" in box and "Waar het team" not in box


@pytest.fixture
def two_waves(tree, make_wave, make_account):
    """Team A alone (no organisation's mean) in "Voorjaar" and, a year later, "Najaar"."""
    waves = [
        make_wave([tree["team-a"]], status=WaveStatus.CLOSED, name=name)
        for name in ("Voorjaar", "Najaar")
    ]
    waves[1].opens_on = waves[1].closes_on = waves[0].opens_on + timedelta(days=365)
    db.session.commit()
    make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    return waves[0].teams[0], waves[1].teams[0]


def test_no_clear_fall_for_a_scale_whose_questions_are_withheld(client, two_waves):
    # B1.4 answered by only 2 (fewer than k) in the later wave: the page shows B1's mean only,
    # so the summary may not call its fall clear (the interval would come from its spread).
    earlier, later = two_waves
    add_responses(earlier, b1_answers([5, 5, 4, 5, 5, 4, 5, 5]))
    falling = [{"B1.1": s, "B1.2": s, "B1.3": s} for s in (2, 2, 3, 2, 2, 3, 2, 2)]
    falling[0]["B1.4"] = falling[1]["B1.4"] = 2
    add_responses(later, falling)
    box = summary_box(page_of(client, later))
    assert "Psychologische veiligheid</strong>: mogelijk gedaald sinds Voorjaar" in box
    assert "duidelijk gedaald" not in box


def test_a_clear_fall_since_an_earlier_wave_of_a_single_team(client, two_waves):
    earlier, later = two_waves
    add_responses(earlier, b1_answers([5, 5, 4, 5, 5, 4, 5, 5]))
    add_responses(later, b1_answers([2, 2, 3, 2, 2, 3, 2, 2]))
    box = summary_box(page_of(client, later))
    # B1 4.75 → 2.25, as the table prints them (halves round away from zero)
    fell = "Psychologische veiligheid</strong>: duidelijk gedaald sinds Voorjaar: van 4,8 naar 2,3"
    assert fell in box
