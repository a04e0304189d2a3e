"""Attacks on the promise a wave was answered under (docs/anonymity.md, classes 5 and 14).

An administrator who wants to see a small team lowers k after the wave; one who wants to know
who answered early switches a life domain off halfway through the wave. Both must learn nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

import questionnaires
from survey.extensions import db
from survey.models import Answer, Draft, Response, Role, Wave, WaveStatus, WaveTeam
from survey.services.questionnaires import store_instrument
from survey.services.waves import close_wave, open_wave
from tests.conftest import csrf_token, login
from tests.test_team_results import add_responses, agreeing

ADMIN = "admin@example.org"
MANAGER = "lg@example.org"
TEAM_FILE = Path(questionnaires.__file__).parent / "krachtspiegel-team-1.yaml"
#: The wave's days are fixed around this day; the service is told the day, never asked it.
DAY = date(2026, 3, 2)


@pytest.fixture
def admin(client, make_account):
    make_account(ADMIN, Role.ADMIN)
    login(client, ADMIN)
    client.get("/language/en")
    return client


def save(client, **changes) -> None:
    data = {
        "min_group_size": "5",
        "spread_threshold": "7",
        "comments_enabled": "y",
        "team_first_days": "0",
        "languages": ["nl", "en"],
        "retention_years": "",
        **changes,
    }
    token = csrf_token(client, "/admin/settings")
    reply = client.post("/admin/settings", data={**data, "csrf_token": token})
    assert reply.status_code == 302, reply.get_data(as_text=True)


def test_class05_lowering_k_after_the_wave_does_not_show_a_team_answered_under_a_higher_k(
    admin, client, tree, make_wave, make_account
):
    save(admin, team_first_days="0")
    wave = make_wave([tree["team-a"]], status=WaveStatus.DRAFT)
    open_wave(wave, None, today=wave.opens_on)
    add_responses(wave.teams[0], agreeing(3))
    close_wave(wave, None, today=wave.closes_on)
    db.session.commit()
    page = f"/dashboard/waves/{wave.id}/teams/team-a"
    team_link = f"/team/{wave.teams[0].results_slug}"
    before = admin.get(page).get_data(as_text=True)
    assert "Fewer than 5 answers: not shown to protect anonymity." in before

    # The attack: k from 5 to 3 in the settings, then every way in to the team's figures.
    save(admin, min_group_size="3", spread_threshold="3")
    make_account(MANAGER, Role.MANAGER, [tree["team-a"]])
    manager = client.application.test_client()
    login(manager, MANAGER)
    manager.get("/language/en")
    for reader, url in ((admin, page), (manager, page), (admin, team_link)):
        text = reader.get(url).get_data(as_text=True)
        assert "Fewer than 5 answers: not shown to protect anonymity." in text, url
        assert "<td>4.0</td>" not in text and "4.75" not in text, url
    assert admin.get(f"{page}/report.pdf").status_code in (200, 404)

    assert wave.min_group_size == 5  # the promise, kept with the wave
    # A stricter setting still applies to the old wave.
    save(admin, min_group_size="6", spread_threshold="7")
    assert "Fewer than 6 answers" in admin.get(page).get_data(as_text=True)


def test_class05_a_wave_records_its_promise_when_it_opens_and_says_which_k_applies(
    admin, tree, make_wave
):
    save(admin, min_group_size="4", spread_threshold="6", comments_enabled=None)
    wave = make_wave([tree["team-a"]], status=WaveStatus.DRAFT)
    open_wave(wave, None, today=wave.opens_on)
    db.session.commit()
    # Comments switched on later do not appear for a wave answered without them.
    save(admin, min_group_size="3", spread_threshold="3", comments_enabled="y")
    add_responses(wave.teams[0], agreeing(5))
    for response in db.session.scalars(sa.select(Response)):
        db.session.add(Answer(response=response, item_code="O1", text="a private remark"))
    wave.status = WaveStatus.CLOSED
    wave.closed_on = wave.closes_on
    db.session.commit()
    for url in (
        f"/dashboard/waves/{wave.id}/teams/team-a",
        f"/team/{wave.teams[0].results_slug}",
    ):
        text = admin.get(url).get_data(as_text=True)
        assert "<td>4.0</td>" in text, url  # the team is shown (5 answers, k 4) ...
        assert "a private remark" not in text, url  # ... but not its comments
    # What the wave promised when it opened, kept with it.
    assert (wave.min_group_size, wave.spread_threshold, wave.comments_enabled) == (4, 6, False)
    draft = make_wave([tree["team-b"]], status=WaveStatus.DRAFT, name="Later")
    assert draft.min_group_size is None  # a draft has promised nothing yet


@pytest.fixture
def domains_wave(tree) -> Wave:
    version = store_instrument(questionnaires.load_file(TEAM_FILE), TEAM_FILE.name).version
    wave = Wave(
        questionnaire_version=version,
        name="Domeinen",
        opens_on=DAY - timedelta(days=1),
        closes_on=DAY + timedelta(days=7000),
        status=WaveStatus.DRAFT,
        units=[tree["team-a"]],
    )
    wave.teams = [WaveTeam(unit=tree["team-a"], invited=10)]
    db.session.add(wave)
    db.session.flush()
    open_wave(wave, None, today=DAY)
    db.session.commit()
    return wave


SECTION_C = 7  # the team instrument's page with the life domains (group C2, all nine asked)


def answer_life_domains(client, wave: Wave) -> dict:
    """A new respondent in this browser: start, open the life-domain page, answer every life
    domain shown there; returns what the draft kept."""
    link = f"/t/{wave.teams[0].link_slug}"
    reply = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert reply.status_code == 302
    url = f"/respond/{SECTION_C}"
    page = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_token(client, url), "action": "next"}
    for number in range(1, 10):
        if f'name="item-C2-{number}"' in page:
            data[f"item-C2-{number}"] = "4"
    client.post(url, data=data)
    [draft] = db.session.scalars(sa.select(Draft)).all()
    db.session.refresh(draft)
    kept = dict(draft.answers)
    db.session.delete(draft)
    db.session.commit()
    return kept


def test_class14_switching_a_life_domain_off_mid_wave_marks_nobody(app, admin, domains_wave):
    early = answer_life_domains(app.test_client(), domains_wave)
    assert "C2.7" in early
    # The attack: switch a domain off halfway, so that the n of C2.7 counts the early ones.
    token = csrf_token(admin, "/admin/questionnaires/life-domains")
    chosen = [f"C2.{n}" for n in range(1, 10) if n != 7]
    reply = admin.post(
        "/admin/questionnaires/life-domains", data={"csrf_token": token, "domains": chosen}
    )
    assert reply.status_code == 302
    late = answer_life_domains(app.test_client(), domains_wave)
    assert late.keys() == early.keys()  # the open wave goes on asking what it asked
    # A wave opened after the change asks the new choice.
    db.session.refresh(domains_wave)
    assert "C2.7" in domains_wave.life_domains


def test_class06_a_shorter_team_first_period_set_afterwards_does_not_release_a_wave_early(
    admin, client, tree, make_wave, make_account
):
    save(admin, team_first_days="14")
    wave = make_wave([tree["team-a"]], status=WaveStatus.DRAFT)
    open_wave(wave, None, today=wave.opens_on)
    add_responses(wave.teams[0], agreeing(7))
    close_wave(wave, None)  # today: the team-first period runs for 14 days from now
    db.session.commit()
    make_account("q@example.org", Role.QUALITY)
    quality = client.application.test_client()
    login(quality, "q@example.org")
    assert quality.get(f"/quality/waves/{wave.id}").status_code == 404
    # The attack: set the period to 0 after the wave, then look again.
    save(admin, team_first_days="0")
    assert quality.get(f"/quality/waves/{wave.id}").status_code == 404
    page = admin.get(f"/dashboard/waves/{wave.id}/teams/team-a").get_data(as_text=True)
    assert "<td>4.0</td>" not in page and wave.teams[0].results_slug not in page
