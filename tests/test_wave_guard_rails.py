"""Wave guard rails: a team answers one wave at a time, and opening a wave is confirmed first."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEvent, Wave, WaveStatus
from survey.services import waves as wave_service
from survey.services.waves import WaveConflict
from tests.test_admin_waves import (
    admin,  # noqa: F401 (the fixture: logged in as an administrator)
    create,
    day,
    fresh,
    post_form,
)

TODAY = date.today()
#: A fixed day for the service-level tests: nothing there depends on the calendar.
DAY = date(2031, 3, 3)


def set_period(wave: Wave, opens: int, closes: int, today: date = TODAY) -> Wave:
    wave.opens_on, wave.closes_on = today + timedelta(days=opens), today + timedelta(days=closes)
    db.session.commit()
    return wave


def open_it(client, wave: Wave, data: dict | None = None):
    url = f"/admin/waves/{wave.id}"
    return post_form(client, url, f"{url}/open", {"open-confirm": "y"} if data is None else data)


def audited(action: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def text(page: str) -> str:
    """The page's words without tags, whitespace collapsed (messages are checked as read)."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).replace("&#34;", '"').split())


# --- One open wave per team -------------------------------------------------------------------


@pytest.mark.usefixtures("admin")
def test_opening_a_wave_whose_team_is_in_an_overlapping_open_wave_is_refused(
    client, tree, make_wave
):
    running = make_wave([tree["north"]], name="Voorjaar 2026")  # team A and B, open now
    draft = set_period(make_wave([tree["team-a"]], WaveStatus.DRAFT, "Extra ronde"), 3, 30)
    reply = open_it(client, draft)
    assert reply.status_code == 409
    message = text(reply.get_data(as_text=True))
    assert 'Team A already takes part in the open wave "Voorjaar 2026"' in message
    assert "whose period overlaps this one" in message and "one wave at a time" in message
    assert "Team B" not in message  # only the teams the two waves share
    assert fresh(draft).status is WaveStatus.DRAFT and fresh(draft).min_group_size is None
    assert audited("wave.open") == 0
    assert fresh(running).status is WaveStatus.OPEN


@pytest.mark.usefixtures("admin")
def test_the_message_names_every_shared_team_and_every_other_wave(client, tree, make_wave):
    make_wave([tree["team-a"], tree["team-b"]], name="Voorjaar 2026")
    make_wave([tree["team-c"]], name="Pulse zuid")
    draft = make_wave([tree["org"]], WaveStatus.DRAFT, "Najaar 2026")
    message = text(open_it(client, draft).get_data(as_text=True))
    assert 'Team A, Team B already take part in the open wave "Voorjaar 2026"' in message
    assert 'Team C already takes part in the open wave "Pulse zuid"' in message


@pytest.mark.parametrize(
    ("other_status", "other_period", "draft_period"),
    [
        (WaveStatus.CLOSED, (-7, 14), (0, 21)),  # a closed wave takes no answers
        (WaveStatus.DRAFT, (-7, 14), (0, 21)),  # two drafts may be prepared side by side
        (WaveStatus.OPEN, (-7, 14), (15, 35)),  # starts the day after the other ends
        (WaveStatus.OPEN, (20, 40), (0, 19)),  # ends the day before the other starts
        # Its days lie in the past (not formally closed): no new answers can clash.
        (WaveStatus.OPEN, (-30, -1), (-10, 21)),
    ],
    ids=["other-closed", "other-draft", "after", "before", "other-ended"],
)
@pytest.mark.usefixtures("admin")
def test_a_wave_opens_when_no_shared_team_answers_another_wave_on_the_same_day(
    client, tree, make_wave, other_status, other_period, draft_period
):
    set_period(make_wave([tree["team-a"]], other_status, "Eerder"), *other_period)
    draft = set_period(make_wave([tree["team-a"]], WaveStatus.DRAFT, "Later"), *draft_period)
    assert open_it(client, draft).status_code == 302
    assert fresh(draft).status is WaveStatus.OPEN


@pytest.mark.usefixtures("admin")
def test_other_teams_may_be_in_an_open_wave_at_the_same_time(client, tree, make_wave):
    make_wave([tree["north"]], name="Noord")
    draft = make_wave([tree["south"]], WaveStatus.DRAFT, "Zuid")
    assert open_it(client, draft).status_code == 302


@pytest.mark.usefixtures("admin")
def test_a_draft_may_be_prepared_for_a_team_in_an_open_wave(
    client, tree, make_wave, questionnaire_version
):
    make_wave([tree["team-a"]], name="Voorjaar 2026")
    reply = create(client, questionnaire_version, [tree["team-a"]], name="Volgende")
    assert reply.status_code == 302
    draft = db.session.scalar(sa.select(Wave).where(Wave.name == "Volgende"))
    assert draft.status is WaveStatus.DRAFT
    # The draft's page says beforehand why it cannot open yet, and links the other wave.
    page = client.get(f"/admin/waves/{draft.id}").get_data(as_text=True)
    notice = re.search(r"<div class=\"notice\" data-overlaps>(.*?)</div>", page, re.S)
    assert notice, "no notice about the overlapping wave"
    other = db.session.scalar(sa.select(Wave).where(Wave.name == "Voorjaar 2026"))
    assert f'href="/admin/waves/{other.id}"' in notice.group(1)
    assert "Voorjaar 2026" in notice.group(1) and "Team A" in notice.group(1)


@pytest.mark.usefixtures("admin")
def test_a_draft_without_overlap_shows_no_notice(client, tree, make_wave):
    draft = make_wave([tree["team-a"]], WaveStatus.DRAFT)
    assert "data-overlaps" not in client.get(f"/admin/waves/{draft.id}").get_data(as_text=True)


@pytest.mark.usefixtures("admin")
def test_extending_an_open_wave_into_another_open_wave_of_its_team_is_refused(
    client, tree, make_wave
):
    first = set_period(make_wave([tree["team-a"]], name="Eerste"), -7, 10)
    set_period(make_wave([tree["north"]], name="Tweede"), 20, 40)
    url = f"/admin/waves/{first.id}"
    reply = post_form(client, url, f"{url}/extend", {"extend-closes_on": day(25)})
    assert reply.status_code == 409
    message = text(reply.get_data(as_text=True))
    assert 'Team A already takes part in the open wave "Tweede"' in message
    assert fresh(first).closes_on == TODAY + timedelta(days=10)
    assert audited("wave.extend") == 0
    # Up to the day before the other starts is fine.
    reply = post_form(client, url, f"{url}/extend", {"extend-closes_on": day(19)})
    assert reply.status_code == 302 and fresh(first).closes_on == TODAY + timedelta(days=19)


def test_the_rule_on_fixed_days(app, tree, make_wave):
    """The service on its own, with a fixed today: the first and last shared day count."""
    other = set_period(make_wave([tree["team-a"]], name="Other"), 0, 9, today=DAY)
    draft = set_period(make_wave([tree["team-a"]], WaveStatus.DRAFT), 9, 20, today=DAY)
    assert wave_service.team_overlaps(draft, draft.closes_on, DAY) == {other: [tree["team-a"]]}
    with pytest.raises(WaveConflict, match='Team A .*"Other"'):
        wave_service.open_wave(draft, None, today=DAY)
    db.session.rollback()
    # Ten days later the other wave's last day has passed, though nobody closed it.
    later = DAY + timedelta(days=10)
    assert wave_service.team_overlaps(draft, draft.closes_on, later) == {}
    assert wave_service.open_wave(draft, None, today=later) is not None
    assert draft.status is WaveStatus.OPEN


# --- Opening is confirmed ---------------------------------------------------------------------


@pytest.mark.usefixtures("admin")
def test_opening_asks_for_a_confirmation_like_closing(client, tree, make_wave):
    draft = make_wave([tree["team-a"]], WaveStatus.DRAFT)
    page = client.get(f"/admin/waves/{draft.id}").get_data(as_text=True)
    form = re.search(r'<form[^>]*action="/admin/waves/\d+/open[^"]*"(.*?)</form>', page, re.S)
    assert form, "no open form"
    # A plain form: a checkbox and a button, no script needed.
    assert 'type="checkbox"' in form.group(1) and 'name="open-confirm"' in form.group(1)
    assert "Yes, open this wave" in form.group(1)

    reply = open_it(client, draft, {})
    assert reply.status_code == 422
    assert "Tick the box to confirm that the wave opens." in reply.get_data(as_text=True)
    assert fresh(draft).status is WaveStatus.DRAFT and audited("wave.open") == 0

    assert open_it(client, draft).status_code == 302
    assert fresh(draft).status is WaveStatus.OPEN and audited("wave.open") == 1


@pytest.mark.usefixtures("admin")
def test_an_open_wave_posted_again_gets_409_not_a_confirmation_error(client, tree, make_wave):
    wave = make_wave([tree["team-a"]])
    reply = open_it(client, wave, {})
    assert reply.status_code == 409
    assert "Only a draft wave can be opened" in reply.get_data(as_text=True)


@pytest.mark.usefixtures("admin")
def test_opening_without_a_csrf_token_is_refused(client, tree, make_wave):
    draft = make_wave([tree["team-a"]], WaveStatus.DRAFT)
    reply = client.post(f"/admin/waves/{draft.id}/open", data={"open-confirm": "y"})
    assert reply.status_code == 400
    assert fresh(draft).status is WaveStatus.DRAFT
