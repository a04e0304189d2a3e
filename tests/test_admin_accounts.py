"""Administration of accounts: invitations with a one-time link, roles and scopes, resets,
deactivation, the last-administrator rule, re-authentication and mail."""

from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
from datetime import timedelta
from email import message_from_bytes

import pytest
import sqlalchemy as sa

from survey.auth.reauth import SESSION_KEY
from survey.extensions import db
from survey.models import Account, AuditEvent, Role, now_utc
from survey.passwords import has_usable_password
from survey.services import accounts as service
from tests.conftest import PASSWORD, app_on, csrf_token, login

NEW_PASSWORD = "zeven groene kikkers zingen"
LINK = re.compile(r'value="(http://[^"]+/password/([A-Za-z0-9_-]+))"')


@pytest.fixture
def admin(make_account):
    return make_account("admin@example.org", Role.ADMIN)


@pytest.fixture
def admin_client(client, admin, tree):
    """An administrator, logged in just now (which counts as a confirmed password), in English."""
    client.get("/language/en")
    assert login(client, admin.email).status_code == 302
    return client


def english_client(app):
    other = app.test_client()
    other.get("/language/en")
    return other


def post(client, url: str, form_url: str, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, form_url), **data})


def invite(client, email: str, role: str, units=()):
    return post(
        client,
        "/admin/accounts/invite",
        "/admin/accounts/invite",
        email=email,
        role=role,
        units=[str(unit.id) for unit in units],
    )


def account_named(email: str) -> Account:
    db.session.expire_all()
    return db.session.scalar(sa.select(Account).where(Account.email == email))


def actions() -> list[tuple[str, str]]:
    return [
        (event.action, event.target)
        for event in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))
    ]


def forget_confirmation(client) -> None:
    """As if the administrator confirmed their password longer than five minutes ago."""
    with client.session_transaction() as session:
        session[SESSION_KEY] = {**session[SESSION_KEY], "at": int(time.time()) - 301}


# --- invitation → link → password → log-in ---------------------------------------------------


def test_an_invitation_gives_a_one_time_link_to_choose_a_password(app, admin_client, tree):
    response = invite(admin_client, "Nieuw.Lid@Example.org", "manager", [tree["north"]])
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This link is shown only now." in page
    assert "data-copy-source" in page and "js/copy-link.js" in page
    link, token = LINK.search(page).groups()
    assert link == f"http://127.0.0.1:5000/password/{token}"

    account = account_named("nieuw.lid@example.org")
    assert account.role is Role.MANAGER and [u.slug for u in account.scope] == ["north"]
    assert not has_usable_password(account.password_hash)
    assert account.password_token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (account.password_hash, account.password_token_sha256)
    remaining = service._aware(account.password_token_expires_at) - now_utc()
    assert timedelta(days=6, hours=23) < remaining <= timedelta(days=7)
    assert ("account.invite", "nieuw.lid@example.org") in actions()

    listing = admin_client.get("/admin/accounts").get_data(as_text=True)
    assert "nieuw.lid@example.org" in listing and "Invitation pending until" in listing
    assert token not in listing
    assert token not in admin_client.get(f"/admin/accounts/{account.id}").get_data(as_text=True)
    # Without a password nobody can log in, not even with an empty one.
    assert login(english_client(app), account.email, "").status_code == 200

    invitee = english_client(app)
    form = invitee.get(f"/password/{token}")
    assert form.status_code == 200
    assert "nieuw.lid@example.org" in form.get_data(as_text=True)
    url = f"/password/{token}"
    mismatch = post(invitee, url, url, password=NEW_PASSWORD, password_again=NEW_PASSWORD + "!")
    assert mismatch.status_code == 422
    assert "The two passwords are not the same." in mismatch.get_data(as_text=True)
    common = post(invitee, url, url, password="password1234", password_again="password1234")
    assert common.status_code == 422
    assert "most common passwords" in common.get_data(as_text=True)
    done = post(invitee, url, url, password=NEW_PASSWORD, password_again=NEW_PASSWORD)
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert "Your password has been set." in invitee.get("/login").get_data(as_text=True)

    account = account_named("nieuw.lid@example.org")
    assert account.password_hash.startswith("$argon2id$")
    assert account.password_token_sha256 is None and account.password_token_expires_at is None
    assert ("account.password_set", "nieuw.lid@example.org") in actions()
    assert login(invitee, "nieuw.lid@example.org", NEW_PASSWORD).status_code == 302
    assert invitee.get("/dashboard/units/north").status_code == 200

    used = english_client(app).get(url)
    assert used.status_code == 404
    assert "This link does not work" in used.get_data(as_text=True)


@pytest.mark.parametrize(
    "email, role, with_units, message",
    [
        ("lg@example.org", "manager", False, "Choose at least one unit that this manager sees."),
        ("admin@example.org", "quality", False, "An account for admin@example.org already exists."),
        ("not-an-address", "quality", False, "Fill in an e-mail address such as"),
        ("", "quality", False, "Fill in the e-mail address."),
        ("lg@example.org", "boss", False, "Not a valid choice"),
    ],
)
def test_an_invitation_that_cannot_be_made_says_why(
    admin_client, tree, email, role, with_units, message
):
    response = invite(admin_client, email, role, [tree["team-a"]] if with_units else [])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "error-summary" in page and message in page
    if email:
        assert f'value="{email}"' in page  # what was typed stays
    assert db.session.scalar(sa.select(sa.func.count(Account.id))) == 1


def test_units_ticked_for_a_quality_officer_are_not_kept(admin_client, tree):
    assert invite(admin_client, "q@example.org", "quality", [tree["team-a"]]).status_code == 200
    account = account_named("q@example.org")
    assert account.role is Role.QUALITY and account.scope == []


def test_expired_used_and_unknown_links_get_one_and_the_same_page(app, admin_client, tree):
    page = invite(admin_client, "later@example.org", "quality").get_data(as_text=True)
    token = LINK.search(page).group(2)
    account = account_named("later@example.org")
    account.password_token_expires_at = now_utc() - timedelta(seconds=1)
    db.session.commit()

    visitor = english_client(app)
    expired = visitor.get(f"/password/{token}")
    unknown = visitor.get("/password/no-such-token")
    assert expired.status_code == unknown.status_code == 404
    assert "This link does not work" in expired.get_data(as_text=True)
    same = expired.get_data(as_text=True).replace(token, "no-such-token")
    assert same == unknown.get_data(as_text=True)  # the language links name the page itself
    # An expired link cannot be used by posting either.
    url = f"/password/{token}"
    token_for_form = csrf_token(visitor, "/login")
    response = visitor.post(
        url,
        data={
            "csrf_token": token_for_form,
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 404
    assert not has_usable_password(account_named("later@example.org").password_hash)
    listing = admin_client.get("/admin/accounts").get_data(as_text=True)
    assert "Invitation expired" in listing


def test_the_password_rules_hold_on_the_set_password_page(app, admin_client):
    page = invite(admin_client, "marieke.jansen@example.org", "quality").get_data(as_text=True)
    url = f"/password/{LINK.search(page).group(2)}"
    visitor = english_client(app)
    for password, message in [
        ("kort", "at least 12 characters"),
        ("x" * 257, "at most 256 characters"),
        ("Jansen-Krachtig-2026", "must not contain your e-mail address or name"),
        ("QWERTY123456", "most common passwords"),
    ]:
        response = post(visitor, url, url, password=password, password_again=password)
        assert response.status_code == 422, password
        assert message in response.get_data(as_text=True)
    assert not has_usable_password(account_named("marieke.jansen@example.org").password_hash)


# --- the last administrator ------------------------------------------------------------------


def test_the_last_active_administrator_cannot_be_demoted_or_deactivated(
    admin_client, admin, make_account
):
    url = f"/admin/accounts/{admin.id}"
    demote = post(admin_client, url + "/access", url, role="quality")
    assert demote.status_code == 409
    assert "This is the last active administrator." in demote.get_data(as_text=True)
    deactivate = post(admin_client, url + "/deactivate", url)
    assert deactivate.status_code == 409
    assert "This is the last active administrator." in deactivate.get_data(as_text=True)
    account = account_named(admin.email)
    assert account.role is Role.ADMIN and account.active

    # A deactivated administrator does not count.
    other = make_account("other-admin@example.org", Role.ADMIN)
    other.active = False
    db.session.commit()
    assert post(admin_client, url + "/access", url, role="quality").status_code == 409

    # With a second active administrator it can be done; the demoted one loses the admin pages.
    other.active = True
    db.session.commit()
    response = post(admin_client, url + "/access", url, role="quality")
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/"
    assert account_named(admin.email).role is Role.QUALITY
    assert admin_client.get("/admin/accounts").status_code == 403


def test_two_administrators_demoting_each_other_at_once_leave_one(app, make_account):
    """The second change waits for the first (a row lock on PostgreSQL, the write lock on
    SQLite) and then counts again: it is refused."""
    first = make_account("first@example.org", Role.ADMIN).id
    second = make_account("second@example.org", Role.ADMIN).id
    flushed, commit = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def demote(target_id: int, actor_id: int, name: str, hold: bool) -> None:
        with app.app_context():
            try:
                target = db.session.get(Account, target_id)
                actor = db.session.get(Account, actor_id)
                service.change_access(target, Role.QUALITY, [], actor)
                if hold:
                    flushed.set()
                    commit.wait(10)
                db.session.commit()
                outcome[name] = "done"
            except service.LastAdministratorError:
                db.session.rollback()
                outcome[name] = "refused"
            except Exception as error:  # reported by the assertion below, not lost in a thread
                outcome[name] = repr(error)
            finally:
                flushed.set()

    one = threading.Thread(target=demote, args=(second, first, "one", True))
    one.start()
    assert flushed.wait(10)
    two = threading.Thread(target=demote, args=(first, second, "two", False))
    two.start()
    time.sleep(0.5)  # the second is now waiting for the first
    commit.set()
    one.join(15)
    two.join(15)
    assert outcome == {"one": "done", "two": "refused"}
    db.session.expire_all()
    roles = dict(db.session.execute(sa.select(Account.email, Account.role)).all())
    assert roles == {"first@example.org": Role.ADMIN, "second@example.org": Role.QUALITY}


# --- re-authentication -----------------------------------------------------------------------


def test_changing_a_role_needs_a_recently_confirmed_password(
    admin_client, admin, tree, make_account
):
    manager = make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    url = f"/admin/accounts/{manager.id}"
    token = csrf_token(admin_client, url)
    forget_confirmation(admin_client)

    refused = admin_client.post(url + "/access", data={"csrf_token": token, "role": "quality"})
    assert refused.status_code == 302
    assert refused.headers["Location"] == f"/confirm-password?next=/admin/accounts/{manager.id}"
    assert account_named("lg@example.org").role is Role.MANAGER
    assert admin_client.get(url).status_code == 302  # the edit page asks first too

    confirm = refused.headers["Location"]
    page = admin_client.get(confirm).get_data(as_text=True)
    assert "Nothing was changed yet" in page and "Confirm your password" in page
    wrong = post(admin_client, confirm, confirm, password="not my password at all")
    assert wrong.status_code == 422
    assert "This is not your password." in wrong.get_data(as_text=True)
    right = post(admin_client, confirm, confirm, password=PASSWORD)
    assert right.status_code == 302 and right.headers["Location"] == url

    done = post(admin_client, url + "/access", url, role="quality")
    assert done.status_code == 302 and done.headers["Location"] == url
    changed = account_named("lg@example.org")
    assert changed.role is Role.QUALITY and changed.scope == []
    events = {
        event.action: event
        for event in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.actor == admin.email)
        )
    }
    assert events["account.role"].details == {"before": "manager", "after": "quality"}
    assert events["account.scope"].details == {"before": ["team-a"], "after": []}


@pytest.mark.parametrize("act", ["deactivate", "reset", "reactivate"])
def test_deactivating_and_resetting_need_a_recently_confirmed_password_too(
    admin_client, tree, make_account, act
):
    manager = make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    hash_before, session_before = manager.password_hash, manager.session_token
    url = f"/admin/accounts/{manager.id}"
    token = csrf_token(admin_client, url)
    forget_confirmation(admin_client)
    response = admin_client.post(f"{url}/{act}", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/confirm-password?next=")
    account = account_named("lg@example.org")
    assert (account.active, account.password_hash, account.session_token) == (
        True,
        hash_before,
        session_before,
    )
    assert actions() == []


def test_inviting_needs_a_recently_confirmed_password(admin_client, tree):
    forget_confirmation(admin_client)
    response = admin_client.get("/admin/accounts/invite")
    assert response.status_code == 302
    assert response.headers["Location"] == "/confirm-password?next=/admin/accounts/invite"


def test_scope_changes_are_saved_and_audited(admin_client, admin, tree, make_account):
    manager = make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    url = f"/admin/accounts/{manager.id}"
    units = [str(tree["north"].id), str(tree["team-c"].id)]
    response = post(admin_client, url + "/access", url, role="manager", units=units)
    assert response.status_code == 302
    assert sorted(u.slug for u in account_named("lg@example.org").scope) == ["north", "team-c"]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account.scope"))
    assert event.details == {"before": ["team-a"], "after": ["north", "team-c"]}
    assert event.actor == admin.email
    empty = post(admin_client, url + "/access", url, role="manager")
    assert empty.status_code == 422
    assert "Choose at least one unit" in empty.get_data(as_text=True)


def test_confirm_password_only_returns_within_the_site(admin_client):
    confirm = "/confirm-password?next=https://evil.example/steal"
    response = post(admin_client, confirm, confirm, password=PASSWORD)
    assert response.headers["Location"] == "/dashboard/"


class TestConfirmationThrottling:
    @pytest.fixture
    def app(self, database_url):
        yield from app_on(
            database_url, RATELIMIT_ENABLED=True, LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes"
        )

    def test_wrong_confirmations_are_throttled(self, admin_client):
        for _ in range(3):
            response = post(admin_client, "/confirm-password", "/confirm-password", password="no")
            assert response.status_code == 422
        response = post(admin_client, "/confirm-password", "/confirm-password", password=PASSWORD)
        assert response.status_code == 429


# --- deactivation and reset ------------------------------------------------------------------


def test_deactivation_ends_the_sessions_of_the_account(app, admin_client, tree, make_account):
    manager = make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    theirs = english_client(app)
    assert login(theirs, manager.email).status_code == 302
    assert theirs.get("/dashboard/").status_code == 200

    url = f"/admin/accounts/{manager.id}"
    response = post(admin_client, url + "/deactivate", url)
    assert response.status_code == 302
    assert "lg@example.org is deactivated" in admin_client.get(url).get_data(as_text=True)
    assert theirs.get("/dashboard/").status_code == 302
    assert login(theirs, manager.email).status_code == 200
    assert not account_named("lg@example.org").active
    listing = admin_client.get("/admin/accounts").get_data(as_text=True)
    assert "Deactivated" in listing

    assert post(admin_client, url + "/reactivate", url).status_code == 302
    assert login(theirs, manager.email).status_code == 302
    assert [action for action, _ in actions()] == ["account.deactivate", "account.reactivate"]


def test_a_reset_ends_the_old_password_and_sessions(app, admin_client, tree, make_account):
    manager = make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    theirs = english_client(app)
    assert login(theirs, manager.email).status_code == 302

    url = f"/admin/accounts/{manager.id}"
    response = post(admin_client, url + "/reset", url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "New password link for lg@example.org" in page
    token = LINK.search(page).group(2)
    assert theirs.get("/dashboard/").status_code == 302
    assert login(english_client(app), manager.email, PASSWORD).status_code == 200
    assert "Reset link pending until" in admin_client.get("/admin/accounts").get_data(as_text=True)
    assert ("account.reset", "lg@example.org") in actions()

    link = f"/password/{token}"
    done = post(theirs, link, link, password=NEW_PASSWORD, password_again=NEW_PASSWORD)
    assert done.status_code == 302
    assert login(theirs, manager.email, NEW_PASSWORD).status_code == 302


def test_a_deactivated_account_gets_no_reset_link(admin_client, tree, make_account):
    manager = make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    manager.active = False
    db.session.commit()
    url = f"/admin/accounts/{manager.id}"
    token = csrf_token(admin_client, url)
    response = admin_client.post(url + "/reset", data={"csrf_token": token})
    assert response.status_code == 409
    assert "Reactivate the account first" in response.get_data(as_text=True)
    assert account_named("lg@example.org").password_token_sha256 is None


def test_a_deactivated_account_cannot_use_its_open_link(app, admin_client, tree):
    page = invite(admin_client, "q@example.org", "quality").get_data(as_text=True)
    token = LINK.search(page).group(2)
    account = account_named("q@example.org")
    url = f"/admin/accounts/{account.id}"
    assert post(admin_client, url + "/deactivate", url).status_code == 302
    assert english_client(app).get(f"/password/{token}").status_code == 404


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.QUALITY, Role.MANAGER])
def test_only_administrators_manage_accounts(app, client, tree, admin, make_account, role):
    someone = make_account(
        "someone@example.org", role, [tree["team-a"]] if role == "manager" else []
    )
    anonymous = app.test_client()
    login(client, someone.email)
    token = csrf_token(client, "/dashboard/")
    for method, url in [
        ("GET", "/admin/accounts"),
        ("GET", "/admin/accounts/invite"),
        ("GET", f"/admin/accounts/{admin.id}"),
        ("POST", "/admin/accounts/invite"),
        ("POST", f"/admin/accounts/{admin.id}/access"),
        ("POST", f"/admin/accounts/{admin.id}/deactivate"),
        ("POST", f"/admin/accounts/{admin.id}/reactivate"),
        ("POST", f"/admin/accounts/{admin.id}/reset"),
    ]:
        data = {"csrf_token": token, "role": "manager", "email": "x@example.org"}
        assert client.open(url, method=method, data=data).status_code == 403, url
        if method == "GET":
            assert anonymous.get(url).status_code == 302
    account = account_named(admin.email)
    assert account.active and account.role is Role.ADMIN and account.password_token_sha256 is None
    assert actions() == []


# --- mail ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(envelope)
        return "250 Message accepted"


@pytest.fixture(scope="module")
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


class TestMail:
    @pytest.fixture
    def app(self, database_url, smtp_server):
        _, port = smtp_server
        yield from app_on(
            database_url,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=port,
            SMTP_STARTTLS=False,
            SMTP_FROM="krachtspiegel@example.org",
        )

    def test_an_invitation_is_mailed_when_a_mail_server_is_set(self, admin_client, smtp_server):
        inbox, _ = smtp_server
        inbox.messages.clear()
        response = invite(admin_client, "mail.me@example.org", "quality")
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "The link has also been e-mailed to mail.me@example.org." in page
        link = LINK.search(page).group(1)
        (envelope,) = inbox.messages
        assert envelope.mail_from == "krachtspiegel@example.org"
        assert envelope.rcpt_tos == ["mail.me@example.org"]
        message = message_from_bytes(envelope.content)
        assert message["Subject"] == "Your Krachtspiegel account"
        body = message.get_payload(decode=True).decode()
        assert link in body and "admin@example.org" in body

    def test_a_reset_is_mailed_too(self, admin_client, smtp_server, make_account, tree):
        inbox, _ = smtp_server
        inbox.messages.clear()
        manager = make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
        url = f"/admin/accounts/{manager.id}"
        page = post(admin_client, url + "/reset", url).get_data(as_text=True)
        (envelope,) = inbox.messages
        message = message_from_bytes(envelope.content)
        assert message["Subject"] == "Choose a new Krachtspiegel password"
        assert LINK.search(page).group(1) in message.get_payload(decode=True).decode()


class TestMailFailure:
    @pytest.fixture
    def app(self, database_url):
        yield from app_on(
            database_url,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=free_port(),  # nobody listens there
            SMTP_STARTTLS=False,
            SMTP_FROM="krachtspiegel@example.org",
        )

    def test_a_mail_failure_is_a_message_and_the_link_is_still_shown(self, admin_client):
        response = invite(admin_client, "unlucky@example.org", "quality")
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "The e-mail could not be sent" in page
        assert LINK.search(page) is not None
        assert account_named("unlucky@example.org") is not None


@pytest.mark.parametrize("unit_id", ["99999999999999999999999", "-1", "0", str(2**31)])
def test_a_unit_id_no_row_can_have_is_a_form_error_not_a_500(
    admin_client, tree, make_account, unit_id
):
    # Found by tests/test_fuzz_forms.py: a 23-digit id overflowed SQLite's INTEGER in the query.
    manager = make_account("lg@example.org", Role.MANAGER, [tree["team-a"]])
    url = f"/admin/accounts/{manager.id}"
    units = [str(tree["north"].id), unit_id]
    response = post(admin_client, url + "/access", url, role="manager", units=units)
    assert response.status_code == 422
    assert [u.slug for u in account_named("lg@example.org").scope] == ["team-a"]
    reply = post(
        admin_client, "/admin/accounts/invite", "/admin/accounts/invite",
        email="new@example.org", role="manager", units=[unit_id],
    )  # fmt: skip
    assert reply.status_code == 422
