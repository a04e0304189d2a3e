"""Personal invitations: opening a wave in invitation mode, the link, reminders to
non-respondents only, the invitation page, and the addresses deleted at the wave's end."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import (
    AuditEvent,
    Invitation,
    InvitationToken,
    MailKind,
    OutgoingMail,
    ReminderKind,
    Role,
    StaffMember,
    Unit,
    Wave,
    WaveReminder,
    WaveStatus,
)
from survey.services import invitations as invitation_service
from survey.services import waves as wave_service
from tests.conftest import csrf_token, login
from tests.test_html_validity import JAVA, problems
from tests.test_respond import STEP_1, STEP_2, post_step

PUBLIC_URL = "https://ks.example.org"
TOKEN_IN_LINK = re.compile(r"https://ks\.example\.org/i/([A-Za-z0-9_-]{32})(?![/A-Za-z0-9_-])")


def add_staff(unit: Unit, count: int, language: str = "nl") -> list[str]:
    emails = [f"{unit.slug}-{number:02d}@example.org" for number in range(count)]
    db.session.add_all(StaffMember(unit=unit, email=e, language=language) for e in emails)
    db.session.flush()
    return emails


def draft_wave(make_wave, units: list[Unit], **invite) -> Wave:
    """A draft in invitation mode (period: a week ago to two weeks ahead), no expected staff."""
    wave = make_wave(units, status=WaveStatus.DRAFT)
    wave.invitations = True
    wave.reminder_days = invite.get("reminder_days", [3, 5])
    wave.last_day_reminder = invite.get("last_day_reminder", True)
    for team in wave.teams:
        team.invited = None
    db.session.commit()
    return wave


def mails(kind: MailKind | None = None) -> list[OutgoingMail]:
    db.session.expire_all()
    query = sa.select(OutgoingMail).order_by(OutgoingMail.id)
    if kind is not None:
        query = query.where(OutgoingMail.kind == kind)
    return list(db.session.scalars(query))


def tokens_by_address(kind: MailKind = MailKind.INVITATION) -> dict[str, str]:
    """Recipient → the token of the last mail of ``kind`` to them (read from its text)."""
    found = {}
    for mail in mails(kind):
        (token,) = TOKEN_IN_LINK.findall(mail.text_body)
        found[mail.recipient] = token
    return found


def invitations() -> list[Invitation]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Invitation).order_by(Invitation.id)))


def open_twelve(app, tree, make_wave) -> Wave:
    """Team A with 12 addresses (Dutch), invited in an opened wave."""
    app.config["PUBLIC_URL"] = PUBLIC_URL
    add_staff(tree["team-a"], 12)
    wave = draft_wave(make_wave, [tree["team-a"]])
    wave_service.open_wave(wave, None)
    db.session.commit()
    return wave


@pytest.fixture
def opened(app, tree, make_wave) -> Wave:
    return open_twelve(app, tree, make_wave)


def begin(client, token: str):
    """Follow the personal link and press Begin: the reply to the POST."""
    first = client.get(f"/i/{token}")
    assert first.status_code == 302 and first.headers["Location"] == "/invitation"
    return client.post("/invitation", data={"csrf_token": csrf_token(client, "/invitation")})


def remind(runner, today: date):
    result = runner.invoke(args=["invitations", "remind", "--today", today.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


# --- Opening ----------------------------------------------------------------------------------


def test_opening_invites_every_address_once_with_a_mail_in_its_language(app, tree, make_wave):
    app.config["PUBLIC_URL"] = PUBLIC_URL
    dutch = add_staff(tree["team-a"], 3)
    english = add_staff(tree["team-b"], 2, language="en")
    wave = draft_wave(make_wave, [tree["north"]])
    wave_service.open_wave(wave, None)
    db.session.commit()

    assert sorted(i.email for i in invitations()) == sorted(dutch + english)
    queued = mails(MailKind.INVITATION)
    assert sorted(mail.recipient for mail in queued) == sorted(dutch + english)
    for mail in queued:
        assert mail.wave_id == wave.id
        (token,) = TOKEN_IN_LINK.findall(mail.text_body)
        assert f"{PUBLIC_URL}/i/{token}" in mail.html_body
        assert mail.unsubscribe_url == f"{PUBLIC_URL}/i/{token}/stop"
        subject, words = (
            ("Your invitation", "personal link")
            if mail.recipient in english
            else ("Je uitnodiging", "persoonlijke link")
        )
        assert mail.subject.startswith(subject) and words in mail.text_body
    # Only the hashes of the tokens are stored.
    stored = set(db.session.scalars(sa.select(InvitationToken.token_sha256)))
    assert stored == {invitation_service.hash_token(t) for t in tokens_by_address().values()}
    assert {team.unit.slug: team.invited for team in wave.teams} == {"team-a": 3, "team-b": 2}
    rounds = db.session.scalars(sa.select(WaveReminder).order_by(WaveReminder.planned_on)).all()
    assert [(r.kind, r.planned_on) for r in rounds] == [
        (ReminderKind.AFTER_DAYS, wave.opens_on + timedelta(days=3)),
        (ReminderKind.AFTER_DAYS, wave.opens_on + timedelta(days=5)),
        (ReminderKind.LAST_DAY, wave.closes_on),
    ]
    (event,) = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "invitations.send")
    )
    assert event.details == {"invitations": 5, "teams": 2, "reminder_rounds": 3}
    assert "@" not in str(event.details)


def test_a_team_with_expected_staff_keeps_it(app, tree, make_wave):
    add_staff(tree["team-a"], 3)
    wave = draft_wave(make_wave, [tree["team-a"]])
    wave.teams[0].invited = 9
    wave_service.open_wave(wave, None)
    assert wave.teams[0].invited == 9


def test_opening_is_refused_when_a_team_has_no_addresses(client, tree, make_wave, make_account):
    add_staff(tree["team-a"], 3)
    wave = draft_wave(make_wave, [tree["north"]])
    make_account("admin@example.org", Role.ADMIN)
    login(client, "admin@example.org")
    client.get("/language/en")
    url = f"/admin/waves/{wave.id}"
    reply = client.post(
        f"{url}/open",
        data={"csrf_token": csrf_token(client, url), "open-confirm": "y"},
    )
    assert reply.status_code == 409
    assert "these teams have no addresses on their staff list: Team B" in reply.get_data(
        as_text=True
    )
    assert db.session.get(Wave, wave.id).status is WaveStatus.DRAFT
    assert invitations() == [] and mails() == []


# --- The link ---------------------------------------------------------------------------------


def test_the_link_leads_without_its_token_to_the_questionnaire(client, opened):
    token = next(iter(tokens_by_address().values()))
    first = client.get(f"/i/{token}")
    assert first.status_code == 302 and token not in first.headers["Location"]
    landing = client.get("/invitation")
    assert landing.status_code == 200 and "Mini-Krachtspiegel" in landing.get_data(as_text=True)
    assert token not in landing.get_data(as_text=True)
    reply = client.post("/invitation", data={"csrf_token": csrf_token(client, "/invitation")})
    assert reply.status_code == 302 and reply.headers["Location"] == "/respond/1"
    assert client.get("/respond/1").status_code == 200
    assert sum(i.used for i in invitations()) == 1
    with client.session_transaction() as session:
        assert token not in str(dict(session))

    # The same link, or another of the same invitation, says kindly that it was used.
    client.get(f"/i/{token}")
    again = client.get("/invitation")
    assert again.status_code == 200
    page = again.get_data(as_text=True)
    assert "Deze uitnodiging is gebruikt" in page and 'href="/respond/1"' in page


def test_a_whole_response_through_an_invitation(client, opened):
    token = next(iter(tokens_by_address().values()))
    assert begin(client, token).headers["Location"] == "/respond/1"
    assert post_step(client, 1, STEP_1).headers["Location"] == "/respond/2"
    assert post_step(client, 2, STEP_2).headers["Location"] == "/respond/review"
    sent = client.post(
        "/respond/submit", data={"csrf_token": csrf_token(client, "/respond/review")}
    )
    assert sent.headers["Location"] == "/respond/thanks"


def test_a_used_link_in_another_browser_points_to_the_resume_code(app, opened):
    token = next(iter(tokens_by_address().values()))
    assert begin(app.test_client(), token).status_code == 302
    other = app.test_client()
    other.get(f"/i/{token}")
    page = other.get("/invitation").get_data(as_text=True)
    assert "Deze uitnodiging is gebruikt" in page and 'href="/resume"' in page


@pytest.mark.parametrize("path", ["/i/{fake}", "/i/{fake}/stop", "/i/short", "/i/short/stop"])
def test_an_unknown_link_is_a_404_page(client, opened, path):
    reply = client.get(path.format(fake="A" * 32))
    assert reply.status_code == 404
    assert "We kennen deze uitnodigingslink niet" in reply.get_data(as_text=True)


def test_the_invitation_page_without_a_link(client, opened):
    reply = client.get("/invitation")
    assert reply.status_code == 200
    assert "Geen uitnodiging op dit toestel" in reply.get_data(as_text=True)


@pytest.mark.parametrize("ended", ["closed", "past"])
def test_after_the_wave_a_used_and_an_unused_link_get_the_same_page(app, opened, ended):
    used, unused = list(tokens_by_address().values())[:2]
    assert begin(app.test_client(), used).status_code == 302
    pages = {}
    for token in (used, unused):
        browser = app.test_client()
        browser.get(f"/i/{token}")  # the token is in the session before the wave ends
        if ended == "closed":
            db.session.get(Wave, opened.id).status = WaveStatus.CLOSED
        else:
            db.session.get(Wave, opened.id).closes_on = date.today() - timedelta(days=1)
        db.session.commit()
        reply = browser.get("/invitation")
        pages[token] = (reply.status_code, reply.get_data(as_text=True))
        db.session.get(Wave, opened.id).status = WaveStatus.OPEN
        db.session.get(Wave, opened.id).closes_on = date.today() + timedelta(days=14)
        db.session.commit()
    assert pages[used] == pages[unused]
    assert "gesloten" in pages[used][1]


def test_a_full_team_takes_no_more(client, opened):
    db.session.get(Wave, opened.id).teams[0].invited = 0
    db.session.commit()
    token = next(iter(tokens_by_address().values()))
    client.get(f"/i/{token}")
    assert client.get("/invitation").status_code == 200  # the page that says the team is full
    reply = client.post("/invitation", data={"csrf_token": csrf_token(client, "/code")})
    assert reply.status_code == 409
    assert not any(i.used for i in invitations())


def test_the_team_link_of_an_invitation_wave_lets_nobody_in(client, opened):
    reply = client.get(f"/t/{opened.teams[0].link_slug}")
    assert reply.status_code == 200
    page = reply.get_data(as_text=True)
    assert "persoonlijke uitnodigingen" in page and 'name="csrf_token"' not in page


def test_stopping_reminders_is_one_click_and_idempotent(client, opened):
    address, token = next(iter(tokens_by_address().items()))
    confirm = client.get(f"/i/{token}/stop")
    assert confirm.status_code == 200 and 'method="post"' in confirm.get_data(as_text=True)
    for _ in range(2):  # without a CSRF token, as a mail client posts it (RFC 8058)
        assert client.post(f"/i/{token}/stop").status_code == 200
    assert [i.email for i in invitations() if i.opted_out] == [address]
    assert client.post(f"/i/{'B' * 32}/stop").status_code == 200  # the same for any link


# --- Reminders ----------------------------------------------------------------------------------


def test_reminders_go_only_to_unused_invitations_once(app, runner, opened):
    tokens = tokens_by_address()
    for token in list(tokens.values())[:7]:
        assert begin(app.test_client(), token).status_code == 302
    day = opened.opens_on + timedelta(days=3)

    output = remind(runner, day)
    reminded = mails(MailKind.REMINDER)
    assert len(reminded) == 5
    assert {mail.recipient for mail in reminded} == set(list(tokens)[7:])
    assert "5 reminder(s) queued" in output
    assert "No reminder round is due." in remind(runner, day)
    assert len(mails(MailKind.REMINDER)) == 5
    (sent_round,) = db.session.scalars(
        sa.select(WaveReminder).where(WaveReminder.sent_on.is_not(None))
    )
    assert (sent_round.sent_on, sent_round.sent) == (day, 5)
    assert sorted(i.reminders_sent for i in invitations()) == [0] * 7 + [1] * 5

    # A reminder carries a new link; the first one works too, until one of them is used.
    new_tokens = tokens_by_address(MailKind.REMINDER)
    address = reminded[0].recipient
    assert new_tokens[address] != tokens[address]
    assert begin(app.test_client(), new_tokens[address]).status_code == 302
    old = app.test_client()
    old.get(f"/i/{tokens[address]}")
    assert "Deze uitnodiging is gebruikt" in old.get("/invitation").get_data(as_text=True)


def test_an_opted_out_invitation_gets_no_reminder(app, runner, opened):
    tokens = tokens_by_address()
    address = next(iter(tokens))
    app.test_client().post(f"/i/{tokens[address]}/stop")
    remind(runner, opened.opens_on + timedelta(days=3))
    recipients = [mail.recipient for mail in mails(MailKind.REMINDER)]
    assert len(recipients) == 11 and address not in recipients


def test_rounds_that_fell_due_together_are_each_sent_and_a_late_one_skipped(runner, opened):
    output = remind(runner, opened.opens_on + timedelta(days=6))
    assert output.count("12 reminder(s) queued") == 2
    assert len(mails(MailKind.REMINDER)) == 24
    # The last day's round, run only after the wave ended: the invitations are gone first.
    output = remind(runner, opened.closes_on + timedelta(days=1))
    assert "12 invitation(s)" in output and "36 queued mail(s) deleted" in output
    assert "skipped, the wave takes no answers any more" in output
    assert invitations() == []


def test_remind_refuses_a_bad_day(runner, opened):
    result = runner.invoke(args=["invitations", "remind", "--today", "31-12-2026"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


# --- The wave's end -----------------------------------------------------------------------------


def test_closing_deletes_the_invitations_and_their_queued_mails(app, runner, opened):
    remind(runner, opened.opens_on + timedelta(days=3))
    wave_service.close_wave(db.session.get(Wave, opened.id), None)
    db.session.commit()
    assert invitations() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InvitationToken)) == 0
    assert mails() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WaveReminder)) == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffMember)) == 12


def test_the_daily_run_deletes_the_invitations_of_a_wave_whose_last_day_passed(runner, opened):
    other_mail = OutgoingMail(
        kind=MailKind.RESULTS_READY, recipient="m@example.org", subject="s", text_body="t",
        message_id="<x@example.org>", wave_id=opened.id,
    )  # fmt: skip
    db.session.add(other_mail)
    db.session.commit()
    remind(runner, opened.closes_on)
    assert len(invitations()) == 12
    remind(runner, opened.closes_on + timedelta(days=1))
    assert invitations() == []
    assert [mail.kind for mail in mails()] == [MailKind.RESULTS_READY]


# --- The administration -------------------------------------------------------------------------


@pytest.fixture
def admin(client, make_account):
    make_account("admin@example.org", Role.ADMIN)
    login(client, "admin@example.org")
    client.get("/language/en")


def test_the_invitation_page_shows_counts_only_from_k(app, client, admin, tree, make_wave, runner):
    app.config["PUBLIC_URL"] = PUBLIC_URL
    add_staff(tree["team-a"], 12)
    add_staff(tree["team-b"], 4)
    wave = draft_wave(make_wave, [tree["north"]])
    wave_service.open_wave(wave, None)
    db.session.commit()
    team_a = [t for a, t in sorted(tokens_by_address().items()) if a.startswith("team-a")]
    for token in team_a[:7]:
        begin(app.test_client(), token)
    remind(runner, wave.opens_on + timedelta(days=3))

    page = client.get(f"/admin/waves/{wave.id}").get_data(as_text=True)
    assert f"/admin/waves/{wave.id}/invitations" in page
    assert "With a personal invitation by e-mail" in page
    page = client.get(f"/admin/waves/{wave.id}/invitations").get_data(as_text=True)
    row_a = re.search(r'<tr data-team="team-a">(.*?)</tr>', page, re.S).group(1)
    row_b = re.search(r'<tr data-team="team-b">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r"<td data-\w+>(\d+)</td>", row_a) == ["12", "7"]  # 5 unused: k
    assert "fewer than 5" in row_b and not re.search(r"<td data-\w+>\d", row_b)
    assert "team-a-0" not in page and "team-b-0" not in page


def test_the_used_count_moves_with_the_daily_run_not_with_each_person_who_begins(
    app, client, admin, runner, opened
):
    def used_on_the_page() -> str:
        page = client.get(f"/admin/waves/{opened.id}/invitations").get_data(as_text=True)
        row = re.search(r'<tr data-team="team-a">(.*?)</tr>', page, re.S).group(1)
        return re.search(r"<td data-used>(.*?)</td>", row, re.S).group(1)

    tokens = sorted(tokens_by_address().values())
    for token in tokens[:6]:
        begin(app.test_client(), token)
    assert "fewer than 5" in used_on_the_page()  # not counted yet
    remind(runner, opened.opens_on + timedelta(days=1))
    assert used_on_the_page() == "6"
    begin(app.test_client(), tokens[6])  # one more begins during the day: the page still says 6
    assert used_on_the_page() == "6"
    remind(runner, opened.opens_on + timedelta(days=2))
    assert used_on_the_page() == "7"  # 5 unused: both at k


def test_the_used_count_of_a_team_stays_hidden_when_its_unused_invitations_are_below_k(
    app, client, admin, runner, tree, make_wave
):
    """The attack: the administrator knows each team's number invited (its staff list). With
    nine of twelve used in team A, a shown used count would give the three who have not begun,
    and so would any count of reminders (they go to exactly those three); team B, fully shown,
    would let the wave's total be subtracted down to team A's."""
    app.config["PUBLIC_URL"] = PUBLIC_URL
    add_staff(tree["team-a"], 12)
    add_staff(tree["team-b"], 12)
    wave = draft_wave(make_wave, [tree["north"]])
    wave.reminder_days = [1]
    wave_service.open_wave(wave, None)
    db.session.commit()
    tokens = sorted(tokens_by_address().items())
    for address, token in tokens:
        if address < "team-a-09" or "team-b-00" <= address < "team-b-06":
            begin(app.test_client(), token)  # team A: 9 of 12 used; team B: 6 of 12
    remind(runner, wave.opens_on + timedelta(days=1))

    page = client.get(f"/admin/waves/{wave.id}/invitations").get_data(as_text=True)
    row_a = re.search(r'<tr data-team="team-a">(.*?)</tr>', page, re.S).group(1)
    row_b = re.search(r'<tr data-team="team-b">(.*?)</tr>', page, re.S).group(1)
    assert re.search(r"<td data-used>(.*?)</td>", row_a, re.S).group(1).strip() != "9"
    assert "hidden" in row_a
    assert re.findall(r"<td data-\w+>(\d+)</td>", row_b) == ["12", "6"]
    total = re.search(r"<td data-used-total>(.*?)</td>", page, re.S).group(1)
    assert "15" not in total and "hidden" in total  # 15 - 6 would give team A's 9
    went = re.search(r'<tr data-round="[^"]+">(.*?)</tr>', page, re.S).group(1)
    assert went.count("<td") == 2  # the round: its kind and when it went, no count
    assert len(mails(MailKind.REMINDER)) == 9  # 3 + 6 reminders did go


def test_the_wave_form_stores_invitations_and_checks_reminder_days(
    client, admin, tree, questionnaire_version
):
    url = "/admin/waves/new"
    data = {
        "name": "Najaar",
        "version": str(questionnaire_version.id),
        "units": [str(tree["team-a"].id)],
        "opens_on": date.today().isoformat(),
        "closes_on": (date.today() + timedelta(days=10)).isoformat(),
        "invitations": "y",
    }
    for days, message in [
        ("7, x", "Give whole numbers of days"),
        ("3, 11", "from 1 to 10 days after it opens"),
        ("1 2 3 4 5 6", "Plan at most 5 reminders."),
    ]:
        reply = client.post(
            url, data={**data, "reminder_days": days, "csrf_token": csrf_token(client, url)}
        )
        assert reply.status_code == 422 and message in reply.get_data(as_text=True), days
    reply = client.post(
        url, data={**data, "codes_only": "y", "csrf_token": csrf_token(client, url)}
    )
    assert reply.status_code == 422 and "Choose one way" in reply.get_data(as_text=True)
    reply = client.post(
        url,
        data={
            **data,
            "reminder_days": "7; 3",
            "last_day_reminder": "y",
            "csrf_token": csrf_token(client, url),
        },
    )
    assert reply.status_code == 302
    wave = db.session.scalar(sa.select(Wave))
    assert (wave.invitations, wave.reminder_days, wave.last_day_reminder) == (True, [3, 7], True)
    page = client.get(f"/admin/waves/{wave.id}").get_data(as_text=True)
    assert 'value="3, 7"' in page

    edit = f"/admin/waves/{wave.id}"
    reply = client.post(
        f"{edit}/edit",
        data={
            "csrf_token": csrf_token(client, edit),
            "edit-name": "Najaar",
            "edit-opens_on": data["opens_on"],
            "edit-closes_on": data["closes_on"],
            "edit-reminder_days": "",
        },
    )
    assert reply.status_code == 302
    wave = db.session.get(Wave, wave.id)
    db.session.refresh(wave)
    assert (wave.invitations, wave.reminder_days) == (False, [])


def test_an_invitation_wave_prints_no_team_links(client, admin, opened):
    page = client.get(f"/admin/waves/{opened.id}/links").get_data(as_text=True)
    assert "data-invitations" in page and opened.teams[0].link_slug not in page
    page = client.get(f"/admin/waves/{opened.id}").get_data(as_text=True)
    assert "data-short-code" not in page and "Invitations and reminders" in page


def test_the_invitation_page_after_the_end_keeps_only_the_rounds(client, admin, runner, opened):
    remind(runner, opened.opens_on + timedelta(days=3))
    wave_service.close_wave(db.session.get(Wave, opened.id), None)
    db.session.commit()
    page = client.get(f"/admin/waves/{opened.id}/invitations").get_data(as_text=True)
    assert "data-forgotten" in page and "data-invitation-counts" not in page
    went = re.search(r'<tr data-round="[^"]+">(.*?)</tr>', page, re.S).group(1)
    assert "not yet" not in went and went.count("<td") == 2  # when it went, never how many


def test_the_invitation_page_of_a_wave_without_invitations(client, admin, tree, make_wave):
    wave = make_wave([tree["team-a"]])
    page = client.get(f"/admin/waves/{wave.id}/invitations").get_data(as_text=True)
    assert "data-no-invitations" in page and "data-invitation-counts" not in page


@pytest.mark.skipif(JAVA is None, reason="no java for vnu (apt-get install default-jre-headless)")
def test_the_invitation_pages_pass_the_nu_html_checker(app, client, admin, opened, tmp_path):
    token = next(iter(tokens_by_address().values()))
    respondent = app.test_client()
    respondent.get(f"/i/{token}")
    pages = {
        "/invitation": respondent.get("/invitation"),
        "/i/<token>/stop": respondent.get(f"/i/{token}/stop"),
        "/i/<token>/stop (posted)": respondent.post(f"/i/{token}/stop"),
        "/i/<unknown>": respondent.get(f"/i/{'C' * 32}"),
        "the wave": client.get(f"/admin/waves/{opened.id}"),
        "its invitations": client.get(f"/admin/waves/{opened.id}/invitations"),
        "a new wave": client.get("/admin/waves/new"),
    }
    begin(respondent, token)
    respondent.get(f"/i/{token}")
    pages["/invitation (used)"] = respondent.get("/invitation")
    urls = {}
    for number, (label, reply) in enumerate(pages.items()):
        name = f"page-{number:03d}.html"
        (tmp_path / name).write_text(reply.get_data(as_text=True), encoding="utf-8")
        urls[name] = label
    assert problems(tmp_path, urls) == []


def test_extending_the_wave_moves_its_last_day_reminder(opened):
    wave = db.session.get(Wave, opened.id)
    wave_service.extend_wave(wave, wave.closes_on + timedelta(days=5), None)
    db.session.commit()
    (last,) = db.session.scalars(
        sa.select(WaveReminder).where(WaveReminder.kind == ReminderKind.LAST_DAY)
    )
    assert last.planned_on == db.session.get(Wave, opened.id).closes_on
