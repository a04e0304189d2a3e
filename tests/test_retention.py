"""Data retention: the plan of what will be deleted, deleting it (service, command, page), and
how the pages of a purged wave look. Kept figures are checked against hand computations."""

from __future__ import annotations

import math
import re
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

import survey.services.retention as retention_service
from survey.extensions import db
from survey.models import (
    AccessCode,
    Answer,
    AuditEvent,
    Draft,
    Response,
    RetainedScaleResult,
    Role,
    ScaleScore,
    Wave,
    WaveStatus,
    WaveTeam,
)
from survey.services.retention import apply_retention, retention_plan, years_before
from survey.services.scale_scores import of_wave, store_scale_scores
from survey.services.settings import save_settings
from tests.conftest import csrf_token, login

TODAY = date.today()
ADMIN = "admin@example.org"
MANAGER = "lg@example.org"


def likert(a1: tuple[int, int, int] | None = None, b1: tuple[int, ...] | None = None) -> dict:
    """A1.1, A1.2, A1.3 (reversed) and B1.1–B1.4 (as many as given)."""
    answers: dict[str, object] = {}
    for code, value in zip(("A1.1", "A1.2", "A1.3"), a1 or (), strict=False):
        answers[code] = value
    for code, value in zip(("B1.1", "B1.2", "B1.3", "B1.4"), b1 or (), strict=False):
        answers[code] = value
    return answers


def add_responses(wave_team: WaveTeam, answer_sets: list[dict[str, object]]) -> None:
    """Responses as the submission stores them: answers (text for str) and scale scores."""
    for answers in answer_sets:
        response = Response(
            id=uuid.uuid4(),
            wave_id=wave_team.wave_id,
            unit_id=wave_team.unit_id,
            submitted_on=wave_team.wave.closes_on,
            language="nl",
        )
        db.session.add(response)
        for code, value in answers.items():
            if isinstance(value, str):
                db.session.add(Answer(response=response, item_code=code, text=value))
            else:
                db.session.add(Answer(response=response, item_code=code, value=value))
    db.session.flush()
    store_scale_scores(of_wave(wave_team.wave_id))
    db.session.commit()


def add_codes_and_drafts(wave_team: WaveTeam, used: int, unused: int, drafts: int) -> None:
    for number in range(used + unused):
        db.session.add(
            AccessCode(
                wave_team=wave_team,
                code_sha256=uuid.uuid4().hex + f"{number:032d}",
                used=number < used,
            )
        )
    for _number in range(drafts):
        db.session.add(
            Draft(
                wave_id=wave_team.wave_id,
                unit_id=wave_team.unit_id,
                answers={"A1.1": {"value": 3}},
                expires_on=wave_team.wave.closes_on,
            )
        )
    db.session.commit()


def ended(wave: Wave, on: date, *, closed_on: date | None = None) -> Wave:
    wave.opens_on = on - timedelta(days=30)
    wave.closes_on = on
    wave.closed_on = closed_on
    wave.status = WaveStatus.CLOSED
    db.session.commit()
    return wave


def team(wave: Wave, slug: str) -> WaveTeam:
    return next(wave_team for wave_team in wave.teams if wave_team.unit.slug == slug)


def set_retention(years: int | None, **more) -> None:
    save_settings({"retention_years": years, **more}, None)
    db.session.commit()


#: Team A: A1 scores 5, 4, 3, 2, 1 (mean 3, SD √2.5) and B1 4.75 five times; two comments.
TEAM_A = [
    {**likert((5, 5, 1), (5, 5, 5, 4)), "O1": "Wij luisteren goed."},
    {**likert((4, 4, 2), (5, 5, 5, 4)), "O1": "Goede sfeer."},
    likert((3, 3, 3), (5, 5, 5, 4)),
    likert((2, 2, 4), (5, 5, 5, 4)),
    likert((1, 1, 5), (5, 5, 5, 4)),
]
#: Team B: three responses, below k = 5: nothing is kept.
TEAM_B = [likert((3, 3, 3), (4, 4, 4, 4))] * 3
#: Team C: A1 scores 5, 5, 4, 4, 4, 3, 3 (mean 4, SD √(4/6)); B1 scored by only four (the other
#: three answered one of its four items), so B1 is not kept.
TEAM_C = [
    likert((5, 5, 1), (5, 5, 5, 5)),
    likert((5, 5, 1), (5, 5, 5, 5)),
    likert((4, 4, 2), (5, 5, 5, 5)),
    likert((4, 4, 2), (5, 5, 5, 5)),
    likert((4, 4, 2), (5,)),
    likert((3, 3, 3), (5,)),
    likert((3, 3, 3), (5,)),
]


@pytest.fixture
def waves(tree, make_wave, make_account):
    """An old wave (ended three years ago) of teams A, B and C, and a young one (ended last
    month) of team A, each with responses, comments, access codes and drafts."""
    old = ended(make_wave([tree["org"]], name="Voorjaar oud"), TODAY - timedelta(days=3 * 366))
    young = ended(make_wave([tree["team-a"]], name="Najaar jong"), TODAY - timedelta(days=30))
    add_responses(team(old, "team-a"), TEAM_A)
    add_responses(team(old, "team-b"), TEAM_B)
    add_responses(team(old, "team-c"), TEAM_C)
    add_codes_and_drafts(team(old, "team-a"), used=1, unused=2, drafts=2)
    add_codes_and_drafts(team(old, "team-b"), used=0, unused=1, drafts=0)
    add_responses(team(young, "team-a"), [{**likert((4, 4, 2), (5, 5, 5, 4)), "O1": "Jong."}] * 5)
    add_codes_and_drafts(team(young, "team-a"), used=1, unused=1, drafts=1)
    make_account(ADMIN, Role.ADMIN)
    make_account("quality@example.org", Role.QUALITY)
    make_account(MANAGER, Role.MANAGER, [tree["org"]])
    return {"old": old, "young": young, "tree": tree}


def rows_of(wave_id: int) -> dict[str, int]:
    """How many response-level rows a wave has, table by table."""
    db.session.commit()  # a fresh transaction sees what other sessions committed
    responses = sa.select(Response.id).where(Response.wave_id == wave_id)
    count = sa.func.count()
    return {
        "responses": db.session.scalar(sa.select(count).where(Response.wave_id == wave_id)),
        "answers": db.session.scalar(sa.select(count).where(Answer.response_id.in_(responses))),
        "scale_scores": db.session.scalar(
            sa.select(count).where(ScaleScore.response_id.in_(responses))
        ),
        "access_codes": db.session.scalar(
            sa.select(count)
            .select_from(AccessCode)
            .join(WaveTeam)
            .where(WaveTeam.wave_id == wave_id)
        ),
        "drafts": db.session.scalar(sa.select(count).where(Draft.wave_id == wave_id)),
    }


def kept_rows(wave_id: int) -> dict[tuple[str, str], RetainedScaleResult]:
    db.session.commit()
    rows = db.session.scalars(
        sa.select(RetainedScaleResult).where(RetainedScaleResult.wave_id == wave_id)
    ).all()
    return {(row_unit_slug(row), row.scale_code): row for row in rows}


def row_unit_slug(row: RetainedScaleResult) -> str:
    from survey.models import Unit

    return db.session.get(Unit, row.unit_id).slug


# --- the plan ---------------------------------------------------------------------------------


def test_nothing_is_planned_while_retention_is_off(waves, runner):
    plan = retention_plan()
    assert plan.off and plan.waves == []
    result = runner.invoke(args=["retention", "show"])
    assert result.exit_code == 0 and "Retention is off" in result.output
    result = runner.invoke(args=["retention", "apply", "--yes"])
    assert result.exit_code == 0 and "Retention is off" in result.output
    assert rows_of(waves["old"].id)["responses"] == 15


def test_the_plan_lists_only_waves_older_than_the_period(waves, make_wave):
    set_retention(1)
    plan = retention_plan()
    assert plan.retention_years == 1 and plan.cutoff == years_before(TODAY, 1)
    assert [wave_plan.wave.name for wave_plan in plan.waves] == ["Voorjaar oud"]
    old = plan.waves[0]
    assert old.ended_on == waves["old"].closes_on
    deleted = old.deleted
    # 5 + 3 + 7 responses
    assert deleted.responses == 15 and (deleted.access_codes, deleted.drafts) == (4, 2)
    # Shown: not the 15, which minus the 5 and 7 of teams A and C (on their pages) gives team
    # B's 3 (tests/test_insider_admin.py); answers and comments are not counted at all.
    assert not old.responses.whole.shown and old.responses.shown_parts == 12
    assert not old.drafts.shown
    # kept: team A's two scales and team C's A1; nothing of team B (3 < k) or of C's B1 (4 < k)
    kept = {(row.team, row.scale_code): row for row in old.kept}
    assert set(kept) == {("Team A", "A1"), ("Team A", "B1"), ("Team C", "A1")}
    assert kept["Team A", "A1"].n == 5
    assert kept["Team A", "A1"].mean == pytest.approx(3.0)
    assert kept["Team A", "A1"].sd == pytest.approx(math.sqrt(2.5))
    assert kept["Team A", "B1"].mean == pytest.approx(4.75)
    assert kept["Team A", "B1"].sd == pytest.approx(0.0, abs=1e-6)
    assert kept["Team C", "A1"].n == 7
    assert kept["Team C", "A1"].mean == pytest.approx(4.0)
    assert kept["Team C", "A1"].sd == pytest.approx(math.sqrt(4 / 6))
    assert old.teams_without_figures == ["Team B"]
    # a longer period: nothing is due
    set_retention(5)
    assert retention_plan().waves == []


def test_the_period_counts_from_the_day_the_wave_ended(tree, make_wave):
    wave = ended(make_wave([tree["team-a"]]), date(2020, 3, 1))
    set_retention(1)
    # exactly one year after it ended: not yet; a day later: due
    assert retention_plan(today=date(2021, 3, 1)).waves == []
    assert [p.wave.id for p in retention_plan(today=date(2021, 3, 2)).waves] == [wave.id]
    # closed early: the period runs from the day it was closed
    ended(wave, date(2021, 6, 1), closed_on=date(2020, 3, 1))
    assert [p.wave.id for p in retention_plan(today=date(2021, 3, 2)).waves] == [wave.id]
    # a wave that has not ended is never due, whatever its dates say
    wave.status = WaveStatus.OPEN
    wave.closed_on = None
    wave.closes_on = date(2021, 6, 1)
    db.session.commit()
    assert retention_plan(today=date(2021, 5, 1)).waves == []
    assert years_before(date(2024, 2, 29), 1) == date(2023, 2, 28)


def test_the_counts_of_a_wave_below_k_are_not_shown(tree, make_wave, runner):
    wave = ended(make_wave([tree["team-a"]], name="Klein"), TODAY - timedelta(days=800))
    add_responses(team(wave, "team-a"), TEAM_B)  # 3 responses in the whole wave
    set_retention(1)
    (wave_plan,) = retention_plan().waves
    assert not wave_plan.responses.whole.shown and wave_plan.kept == []
    output = runner.invoke(args=["retention", "show"]).output
    assert "fewer than 5 responses" in output and "3 response" not in output
    assert "21 answer" not in output


# --- deleting ---------------------------------------------------------------------------------


def test_apply_deletes_exactly_the_old_waves_response_level_rows(waves, monkeypatch):
    monkeypatch.setattr(retention_service, "BATCH_SIZE", 4)  # 15 responses: four rounds
    old, young = waves["old"], waves["young"]
    young_before = rows_of(young.id)
    set_retention(1)
    apply_retention(retention_plan(), None)
    db.session.commit()
    assert rows_of(old.id) == dict.fromkeys(young_before, 0)
    assert (
        rows_of(young.id)
        == young_before
        == {
            "responses": 5,
            "answers": 40,
            "scale_scores": 10,
            "access_codes": 2,
            "drafts": 1,
        }
    )
    db.session.refresh(old)
    db.session.refresh(young)
    assert old.purged_on == TODAY and young.purged_on is None
    # the teams and their actions stay; only the answers went
    assert len(old.teams) == 3
    kept = kept_rows(old.id)
    assert set(kept) == {("team-a", "A1"), ("team-a", "B1"), ("team-c", "A1")}
    assert (kept["team-a", "A1"].n, kept["team-a", "A1"].mean) == (5, pytest.approx(3.0))
    assert kept["team-a", "A1"].sd == pytest.approx(math.sqrt(2.5))
    assert kept["team-c", "A1"].sd == pytest.approx(math.sqrt(4 / 6))
    assert kept_rows(young.id) == {}
    (event,) = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "retention.apply")
    ).all()
    assert event.actor == "command line" and event.target == f"wave {old.id}"
    assert event.details["responses"] == (
        "12 response(s) in the teams of at least 5, fewer than 5 in the others together"
    )
    assert "answers" not in event.details and "comments" not in event.details
    assert event.details["access_codes"] == 4
    assert event.details["drafts"] == "fewer than 5 unfinished drafts"
    assert event.details["kept_figures"] == 3
    # done once: nothing is due any more
    assert retention_plan().waves == []


def test_the_command_shows_the_plan_and_asks_before_deleting(waves, runner):
    set_retention(1)
    old = waves["old"]
    shown = runner.invoke(args=["retention", "show"])
    assert shown.exit_code == 0
    assert f"Wave {old.id}: Voorjaar oud (ended on {old.closes_on.isoformat()})" in shown.output
    assert (
        "12 response(s) in the teams of at least 5, fewer than 5 in the others together "
        "with their answers and comments, 4 access code(s), fewer than 5 unfinished drafts"
    ) in shown.output
    assert "3 scale mean(s) of 2 team(s)" in shown.output
    assert "nothing kept for (fewer than 5 scores): Team B" in shown.output
    assert "Najaar jong" not in shown.output
    # declined: nothing happens
    declined = runner.invoke(args=["retention", "apply"], input="n\n")
    assert declined.exit_code != 0 and "Aborted" in declined.output
    assert rows_of(old.id)["responses"] == 15
    # confirmed
    confirmed = runner.invoke(args=["retention", "apply"], input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert "This cannot be undone" in confirmed.output
    assert f"[1/1] Wave {old.id}: Voorjaar oud ... done" in confirmed.output
    assert "Deleted the answers of 1 wave(s)" in confirmed.output
    assert rows_of(old.id)["responses"] == 0 and rows_of(waves["young"].id)["responses"] == 5
    again = runner.invoke(args=["retention", "show"])
    assert again.exit_code == 0 and "Nothing to delete" in again.output


def test_the_command_with_yes_asks_nothing(waves, runner):
    set_retention(1)
    result = runner.invoke(args=["retention", "apply", "--yes"])
    assert result.exit_code == 0, result.output
    assert "[y/N]" not in result.output and "done" in result.output
    assert rows_of(waves["old"].id)["answers"] == 0


def test_bad_arguments_are_refused(app, runner):
    result = runner.invoke(args=["retention", "apply", "--yes", "--force"])
    assert result.exit_code == 2 and "No such option" in result.output
    result = runner.invoke(args=["retention", "delete"])
    assert result.exit_code == 2 and "No such command" in result.output


def test_a_wave_that_fails_is_left_as_it_was(waves, make_wave, runner, monkeypatch):
    older = ended(make_wave([waves["tree"]["team-a"]], name="Heel oud"), TODAY - timedelta(4000))
    add_responses(team(older, "team-a"), TEAM_A)
    old = waves["old"]
    set_retention(1)
    real = retention_service._delete_responses

    def failing(wave_id: int) -> None:
        real(wave_id)
        if wave_id == old.id:
            raise RuntimeError("disk full")

    monkeypatch.setattr(retention_service, "_delete_responses", failing)
    result = runner.invoke(args=["retention", "apply", "--yes"])
    assert result.exit_code == 1
    assert f"Wave {old.id} was left as it was" in result.output and "disk full" in result.output
    # the first wave (the oldest) is done, the failed one untouched
    assert rows_of(older.id)["responses"] == 0
    assert rows_of(old.id) == {
        "responses": 15,
        "answers": 98,
        "scale_scores": 27,
        "access_codes": 4,
        "drafts": 2,
    }
    assert kept_rows(old.id) == {}
    db.session.refresh(old)
    assert old.purged_on is None


# --- the page ---------------------------------------------------------------------------------


def in_english(client, email: str = ADMIN) -> None:
    login(client, email)
    client.get("/language/en")


def waves_field(page: str) -> str:
    return re.search(r'name="waves" type="hidden" value="([^"]*)"', page).group(1)


def test_the_page_shows_the_setting_and_the_plan(waves, client):
    in_english(client)
    page = client.get("/admin/retention").get_data(as_text=True)
    assert "Retention is off" in page and 'name="understood"' not in page
    set_retention(1)
    reply = client.get("/admin/retention")
    assert reply.status_code == 200
    page = reply.get_data(as_text=True)
    assert "kept for 1 year after the wave ended" in page
    assert "Voorjaar oud" in page and "Najaar jong" not in page
    assert "12 in the teams shown; fewer than 5 in the others together" in page
    assert ">15<" not in page and "<td>4</td>" in page
    assert "I understand this cannot be undone" in page
    # the kept figures, with team C's A1 mean 4.0 (n 7) and SD 0.8 (n ≥ the spread threshold)
    assert re.search(r"Team C</th>\s*<td>A1 Strengths focus</td>\s*<td>7</td>\s*<td>4\.0</td>"
                     r"\s*<td>0\.8</td>", page)  # fmt: skip
    assert "Nothing is kept for these teams (fewer than 5 scores on every scale): Team B." in page
    assert waves_field(page) == str(waves["old"].id)


def test_the_page_deletes_only_when_confirmed(waves, client):
    set_retention(1)
    in_english(client)
    token = csrf_token(client, "/admin/retention")
    ids = str(waves["old"].id)
    refused = client.post("/admin/retention/apply", data={"csrf_token": token, "waves": ids})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "There is a problem" in page and "Tick the box to confirm" in page
    assert rows_of(waves["old"].id)["responses"] == 15
    # a plan that changed since the page was loaded is not applied
    stale = client.post(
        "/admin/retention/apply",
        data={"csrf_token": token, "waves": f"{ids},999", "understood": "y"},
    )
    assert stale.status_code == 409 and "changed since the page was loaded" in stale.get_data(
        as_text=True
    )
    assert rows_of(waves["old"].id)["responses"] == 15
    done = client.post(
        "/admin/retention/apply", data={"csrf_token": token, "waves": ids, "understood": "y"}
    )
    assert done.status_code == 200
    summary = done.get_data(as_text=True)
    assert "The answers of 1 wave are deleted" in summary and "Voorjaar oud" in summary
    assert rows_of(waves["old"].id)["responses"] == 0
    assert rows_of(waves["young"].id)["responses"] == 5
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "retention.apply"))
    assert event.actor == ADMIN and event.details["responses"].startswith("12 response(s)")
    # nothing left to do: a plain message, and a second post is a conflict
    page = client.get("/admin/retention").get_data(as_text=True)
    assert "Nothing to delete" in page and "I understand" not in page
    again = client.post(
        "/admin/retention/apply", data={"csrf_token": token, "waves": ids, "understood": "y"}
    )
    assert again.status_code == 409


@pytest.mark.parametrize("email", ["quality@example.org", MANAGER])
def test_only_administrators_see_or_apply_retention(waves, client, email):
    set_retention(1)
    login(client, email)
    assert client.get("/admin/retention").status_code == 403
    token = csrf_token(client, "/dashboard/")
    reply = client.post(
        "/admin/retention/apply",
        data={"csrf_token": token, "waves": str(waves["old"].id), "understood": "y"},
    )
    assert reply.status_code == 403
    assert rows_of(waves["old"].id)["responses"] == 15


# --- pages of a purged wave -------------------------------------------------------------------


@pytest.fixture
def purged(waves):
    set_retention(1)
    apply_retention(retention_plan(), None)
    db.session.commit()
    return waves


def test_a_purged_teams_page_shows_only_the_kept_means(purged, client):
    old = purged["old"]
    in_english(client, MANAGER)
    for url in (
        f"/dashboard/waves/{old.id}/teams/team-a",
        f"/team/{team(old, 'team-a').results_slug}",
        f"/dashboard/waves/{old.id}/teams/team-a/guide",
        f"/team/{team(old, 'team-a').results_slug}/guide",
    ):
        reply = client.get(url)
        assert reply.status_code == 200, url
        page = reply.get_data(as_text=True)
        assert "were deleted on" in page and "retention period; the kept scale means are:" in page
        table = page.split("Kept scale means, from 1 to 5")[1].split("</table>")[0]
        rows = re.findall(r'<th scope="row">([^<]+)</th>\s*<td>(\d+)</td>\s*<td>([\d.]+)</td>',
                          table)  # fmt: skip
        assert rows == [("A1 Strengths focus", "5", "3.0"), ("B1 Psychological safety", "5", "4.8")]
        assert "fewer than 7 answers" in table  # no SD below the spread threshold
        # nothing else: no charts, no answers headline, no comments, no meeting prompts
        assert "data-chart-for" not in page and "plotly" not in page
        assert "Wij luisteren" not in page and "What colleagues wrote" not in page
        assert "Questions for the team meeting" not in page and "Record the action" not in page
    assert client.get(f"/dashboard/waves/{old.id}/teams/team-a/report.pdf").status_code == 404
    # team C kept A1 only; team B kept nothing
    page = client.get(f"/team/{team(old, 'team-c').results_slug}").get_data(as_text=True)
    assert "A1 Strengths focus" in page and "B1 Psychological safety" not in page
    page = client.get(f"/team/{team(old, 'team-b').results_slug}").get_data(as_text=True)
    assert "No scale means were kept for this team" in page and "Kept scale means" not in page
    # the wave's page says the answers are gone
    page = client.get(f"/dashboard/waves/{old.id}").get_data(as_text=True)
    assert "deleted on" in page


def test_kept_means_pass_the_gate_again_when_k_was_raised(purged, client):
    set_retention(1, min_group_size=6, spread_threshold=7)
    in_english(client, MANAGER)
    old = purged["old"]
    page = client.get(f"/team/{team(old, 'team-a').results_slug}").get_data(as_text=True)
    assert "No scale means were kept for this team" in page and "3.0" not in page
    page = client.get(f"/team/{team(old, 'team-c').results_slug}").get_data(as_text=True)
    assert "A1 Strengths focus" in page and "0.8" in page  # n 7 ≥ 6, SD from 7


def test_the_younger_wave_still_shows_its_results(purged, client):
    in_english(client, MANAGER)
    page = client.get(f"/dashboard/waves/{purged['young'].id}/teams/team-a").get_data(as_text=True)
    assert "5 answers" in page and "data-chart-for" in page and "Jong." in page


def test_no_quality_page_fails_for_a_purged_wave(purged, app, client):
    in_english(client)
    values = {"wave_id": purged["old"].id, "slug": "team-a", "fmt": "csv"}
    checked = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("quality.") or "GET" not in rule.methods:
            continue
        url = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]
        status = client.get(url).status_code
        assert status in (200, 302), (url, status)
        checked.append(rule.endpoint)
    assert len(checked) >= 9
    page = client.get(f"/quality/waves/{purged['old'].id}").get_data(as_text=True)
    assert "were deleted on" in page
