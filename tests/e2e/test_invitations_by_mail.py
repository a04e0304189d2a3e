"""Participation without surveillance, end to end (issue 18's definition of done): in Chromium an
administrator imports a staff list of 12 addresses for two teams and opens a wave in invitation
mode; a real SMTP server on 127.0.0.1 receives the 12 invitations that ``mail send`` sends; 7
people answer through the links in their mails, each in a browser of their own; the reminder
command then sends exactly 5 reminders, to the other 5; and nothing stored links an invitation
to a response."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from survey.extensions import db
from survey.models import Invitation, Response, Role, Wave, WaveStatus
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot
from tests.e2e.test_thumb_questionnaire import measure_the_whole_questionnaire
from tests.mail_server import SmtpServer, running_smtp_server, smtp_config

TODAY = date(2026, 12, 7)  # only the names in the file; the wave itself opens on the real today
STAFF = {
    "team-a": [f"medewerker{n}@team-a.example.org" for n in range(1, 7)],
    "team-b": [f"medewerker{n}@team-b.example.org" for n in range(1, 7)],
}
#: Staff asked for mails in Dutch (the file says nl).
ANSWERING = STAFF["team-a"][:4] + STAFF["team-b"][:3]
LINK = re.compile(r"https?://\S+/i/[\w-]+")


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    yield from running_smtp_server()


@pytest.fixture
def mailing_app(app: Flask, live_server: str, smtp_server: SmtpServer) -> Flask:
    """The served app, mailing through the local server, with links to itself."""
    app.config.update(smtp_config(smtp_server, PUBLIC_URL=live_server))
    return app


def run(app: Flask, *arguments: str) -> str:
    result = app.test_cli_runner().invoke(args=list(arguments))
    assert result.exit_code == 0, result.output
    return result.output


def send_mail(app: Flask) -> str:
    return run(app, "mail", "send")


def received(server: SmtpServer, subject: str) -> dict[str, str]:
    """Recipient → the link in the plain text of each mail whose subject starts so."""
    mails = {}
    for message in server.inbox.messages:
        if message["Subject"].startswith(subject):
            text = message.get_body(("plain",)).get_content()
            mails[message["To"]] = LINK.search(text).group(0)
    return mails


def log_in_as_administrator(page: Page, live_server: str) -> None:
    page.goto(live_server + "/language/en")
    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill("beheer@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Administration").first.click()


def import_staff_lists(page: Page, tmp_path) -> None:
    rows = [f"{team};{email};nl" for team, emails in STAFF.items() for email in emails]
    staff_file = tmp_path / "personeel.csv"
    staff_file.write_text("team;email;language\n" + "\n".join(rows) + "\n", encoding="utf-8")
    page.get_by_role("link", name="Units", exact=True).click()
    page.get_by_role("link", name="Import staff lists").first.click()
    page.locator("input[type=file]").set_input_files(str(staff_file))
    page.get_by_role("button", name="Show what would change").click()
    screenshot(page, "staff-import-preview.png", full_page=True)
    page.get_by_role("button", name="Import these changes").click()
    expect(page.get_by_role("status").or_(page.get_by_role("alert")).first).to_be_visible()


def open_a_wave_with_invitations(page: Page) -> None:
    page.get_by_role("link", name="Administration").first.click()
    page.get_by_role("link", name="Waves", exact=True).first.click()
    page.get_by_role("link", name="New wave").click()
    page.get_by_label("Name", exact=True).fill("Najaar 2026")
    page.get_by_label(re.compile("^North")).check()
    page.get_by_label("Opens on").fill(date.today().isoformat())
    page.get_by_label("Closes on").fill((date.today() + timedelta(days=21)).isoformat())
    page.get_by_label(re.compile("Personal invitations by e-mail")).check()
    page.get_by_label(re.compile("Reminders, days after opening")).fill("1")
    page.get_by_role("button", name="Create the draft wave").click()
    page.get_by_label(re.compile("Yes, open this wave")).check()
    page.get_by_role("button", name="Open the wave").click()
    expect(page.get_by_text("The wave is open")).to_be_visible()
    screenshot(page, "wave-with-invitations.png", full_page=True)


def test_twelve_invited_seven_answer_five_reminded_and_nothing_links_them(
    new_page,
    live_server,
    mailing_app,
    smtp_server,
    tree,
    questionnaire_version,
    make_account,
    tmp_path,
):
    make_account("beheer@example.org", Role.ADMIN)
    admin = new_page()
    log_in_as_administrator(admin, live_server)
    import_staff_lists(admin, tmp_path)
    open_a_wave_with_invitations(admin)

    assert "Sent 12 of 12" in send_mail(mailing_app)
    invitations = received(smtp_server, "Je uitnodiging")
    assert sorted(invitations) == sorted(STAFF["team-a"] + STAFF["team-b"])
    assert len(set(invitations.values())) == 12  # a personal link each

    for person in ANSWERING:  # each on a device of their own
        page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        measure_the_whole_questionnaire(page, invitations[person], audit=None)
        screenshot(page, "invitation-thanks-phone.png", full_page=True)
        assert "/i/" not in page.url  # the token left the address bar at the first redirect

    # A link works once: a colleague who got hold of a used one is not let in a second time.
    again = new_page()
    again.goto(invitations[ANSWERING[0]])
    expect(again.get_by_role("heading", level=1)).to_have_text("Deze uitnodiging is gebruikt")

    output = run(mailing_app, "invitations", "remind", "--today", str(date.today() + timedelta(1)))
    assert "5" in output
    assert "Sent 5 of 5" in send_mail(mailing_app)
    reminders = received(smtp_server, "Een herinnering")
    assert sorted(reminders) == sorted(set(invitations) - set(ANSWERING))
    assert not set(reminders.values()) & set(invitations.values())  # each reminder a new link
    assert "No reminder round is due" in run(
        mailing_app, "invitations", "remind", "--today", str(date.today() + timedelta(1))
    )

    # What the database holds: 7 responses, 7 used invitations, and nothing between them.
    db.session.expire_all()
    wave = db.session.scalar(sa.select(Wave).where(Wave.status == WaveStatus.OPEN))
    responses = db.session.scalars(sa.select(Response).where(Response.wave_id == wave.id)).all()
    used = db.session.scalars(sa.select(Invitation).where(Invitation.used.is_(True))).all()
    assert len(responses) == len(used) == 7
    response_columns = {column.name for column in Response.__table__.columns}
    invitation_columns = {column.name for column in Invitation.__table__.columns}
    # Only names in common: random uuids against whole numbers, and the language a person chose
    # on the questionnaire's pages against the language of their mails (never copied over).
    assert response_columns & invitation_columns == {"id", "language"}
    assert {str(response.id) for response in responses}.isdisjoint(
        {str(invitation.id) for invitation in used}
    )
    assert not any(
        foreign_key.column.table.name in ("invitations", "invitation_tokens")
        for foreign_key in Response.__table__.foreign_keys
    )

    # The administrator's invitation page: when the reminder round went (no count), no address.
    admin.goto(f"{live_server}/admin/waves/{wave.id}/invitations")
    round_row = admin.locator("table").first.locator("tbody tr").first
    expect(round_row).not_to_contain_text("not yet")
    screenshot(admin, "invitations-admin.png", full_page=True)
    page_text = admin.locator("main").inner_text()
    assert not any(email in page_text for email in invitations)
