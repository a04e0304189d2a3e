"""Managers told when their results are ready: who gets the mail, when, once, and what it says."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import g

from survey.extensions import db
from survey.models import MailKind, OutgoingMail, Role, Wave, WaveStatus, WaveTeam
from survey.services.mail_queue import send_due
from survey.web.mails import announce_results, queue_mail
from tests.conftest import app_on
from tests.mail_server import SmtpServer, running_smtp_server, smtp_config

#: The wave closes on CLOSES; with a team-first period of 14 days management sees it on RELEASE.
CLOSES = date(2026, 3, 31)
RELEASE = date(2026, 4, 14)


@pytest.fixture
def smtp():
    yield from running_smtp_server()


@pytest.fixture
def app(database_url, smtp: SmtpServer):
    yield from app_on(database_url, **smtp_config(smtp, TEAM_FIRST_DAYS=14))


@pytest.fixture
def wave(tree, questionnaire_version) -> Wave:
    """A closed wave of team A (and, through the department, team B)."""
    wave = Wave(
        questionnaire_version=questionnaire_version,
        name="Voorjaar 2026",
        opens_on=date(2026, 3, 2),
        closes_on=CLOSES,
        status=WaveStatus.CLOSED,
        team_first_days=14,
        units=[tree["north"]],
        teams=[WaveTeam(unit=tree["team-a"]), WaveTeam(unit=tree["team-b"])],
    )
    db.session.add(wave)
    db.session.commit()
    return wave


@pytest.fixture
def people(tree, make_account):
    def opted_in(email: str, role: Role, scope=()):
        account = make_account(email, role, scope)
        account.notify_results = True
        db.session.commit()
        return account

    return {
        "team": opted_in("team.a@example.org", Role.MANAGER, [tree["team-a"]]),
        "department": opted_in("north@example.org", Role.MANAGER, [tree["north"]]),
        "quality": opted_in("quality@example.org", Role.QUALITY),
        "other team": opted_in("team.c@example.org", Role.MANAGER, [tree["team-c"]]),
        "not asked": make_account("quiet@example.org", Role.MANAGER, [tree["team-a"]]),
        "admin": opted_in("admin@example.org", Role.ADMIN),
    }


def queued() -> list[OutgoingMail]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutgoingMail).order_by(OutgoingMail.recipient)))


def announce(today: date):
    done = announce_results(today)
    db.session.commit()
    return done


def test_the_people_who_asked_and_see_a_team_of_the_wave_are_told_once(wave, people):
    (announcement,) = announce(RELEASE)
    assert (announcement.wave.id, announcement.told) == (wave.id, 3)
    assert [mail.recipient for mail in queued()] == [
        "north@example.org",
        "quality@example.org",
        "team.a@example.org",
    ]
    assert {mail.kind for mail in queued()} == {MailKind.RESULTS_READY}
    db.session.refresh(wave)
    assert wave.results_announced_on == RELEASE
    assert announce(RELEASE) == [] and announce(RELEASE + timedelta(days=1)) == []
    assert len(queued()) == 3


def test_nobody_is_told_before_management_sees_the_results(wave, people):
    assert announce(CLOSES) == []
    assert announce(RELEASE - timedelta(days=1)) == []
    assert queued() == []
    db.session.refresh(wave)
    assert wave.results_announced_on is None


def test_a_longer_team_first_period_in_the_settings_holds_the_mail_back(app, wave, people):
    app.config["TEAM_FIRST_DAYS"] = 21  # the settings now say 21 days; the wave was told 14
    g.pop("krachtspiegel_settings", None)
    assert announce(RELEASE) == []
    assert len(announce(CLOSES + timedelta(days=21))) == 1


def test_a_wave_still_open_or_released_long_ago_is_not_announced(wave, people):
    wave.closes_on, wave.status = date(2026, 6, 30), WaveStatus.OPEN
    db.session.commit()
    assert announce(RELEASE) == []
    assert announce(date(2026, 7, 14) + timedelta(days=15)) == []  # the first run, long after
    assert queued() == []


def test_a_deactivated_account_is_not_told(wave, people):
    people["team"].active = False
    db.session.commit()
    announce(RELEASE)
    assert "team.a@example.org" not in [mail.recipient for mail in queued()]


def test_the_mail_names_the_wave_and_links_to_it_and_gives_no_figure(wave, people, smtp):
    announce(RELEASE)
    report = send_due(datetime.now(UTC), sender_id="test")  # queued just now
    assert report.sent == 3
    message = next(m for m in smtp.inbox.messages if m["To"] == "team.a@example.org")
    # The organisation speaks Dutch first: managers get the mail in Dutch.
    assert message["Subject"] == "De resultaten van Voorjaar 2026 zijn klaar"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = f"https://krachtspiegel.example.org/dashboard/waves/{wave.id}"
    account = "https://krachtspiegel.example.org/account"
    assert link in text and f'href="{link}"' in html
    assert account in text and f'href="{account}"' in html
    assert '<html lang="nl">' in html and "<img" not in html and "<script" not in html
    assert message["List-Unsubscribe"] is None
    words = text.replace(link, "").replace(account, "").replace("2026", "")
    assert not any(character.isdigit() for character in words), words


def test_the_command_announces_and_says_so(runner, wave, people):
    result = runner.invoke(args=["mail", "announce", "--today", "2026-04-13"])
    assert result.exit_code == 0, result.output
    assert result.output == "No wave's results became ready for management by 2026-04-13.\n"
    result = runner.invoke(args=["mail", "announce", "--today", "2026-04-14"])
    assert result.exit_code == 0, result.output
    assert result.output == f"Wave {wave.id}: Voorjaar 2026: 3 mail(s) queued.\n"
    result = runner.invoke(args=["mail", "announce", "--today", "2026-04-14"])
    assert "No wave's results" in result.output and len(queued()) == 3
    result = runner.invoke(args=["mail", "announce", "--today", "14-04-2026"])
    assert result.exit_code == 2


def test_a_template_pair_renders_in_the_language_asked(app, wave):
    for language, greeting in (("en", "Hello,"), ("nl", "Hallo,")):
        mail = queue_mail(
            MailKind.RESULTS_READY,
            f"{language}@example.org",
            "results_ready",
            language=language,
            subject=lambda: "A subject",
            wave=wave,
            link="https://example.org/w",
            account_url="https://example.org/account",
        )
        assert mail.subject == "A subject"
        assert mail.text_body.startswith(greeting)
        assert f'<html lang="{language}">' in mail.html_body
    db.session.rollback()
