"""The account page: who you are here, what you see, and the results-ready mail you can ask for."""

from __future__ import annotations

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Account, Role
from tests.conftest import csrf_token, login


def account(email: str) -> Account:
    db.session.expire_all()
    return db.session.scalar(sa.select(Account).where(Account.email == email))


def sign_in(client, email: str) -> None:
    """Logged in, reading English."""
    login(client, email)
    client.get("/language/en")


def choose(client, **data):
    return client.post("/account", data={"csrf_token": csrf_token(client, "/account"), **data})


def test_a_manager_sees_their_account_and_can_ask_for_the_mail(client, tree, make_account):
    make_account("lg@example.org", Role.MANAGER, [tree["team-a"], tree["south"]])
    sign_in(client, "lg@example.org")
    page = client.get("/account").get_data(as_text=True)
    assert "<h1>Your account</h1>" in page
    assert "lg@example.org" in page and "Manager" in page
    assert "South, Team A" in page
    assert 'href="/account" aria-current="page"' in page  # in the navigation
    assert 'name="notify_results"' in page and "checked" not in page

    response = choose(client, notify_results="y")
    assert response.status_code == 302 and response.location == "/account"
    assert account("lg@example.org").notify_results is True
    page = client.get("/account").get_data(as_text=True)
    assert "You will get a mail when results of your teams are ready." in page
    assert "checked" in page

    choose(client)  # an unticked box is not sent at all
    assert account("lg@example.org").notify_results is False


def test_the_navigation_links_to_the_account_page(client, make_account):
    make_account("q@example.org", Role.QUALITY)
    sign_in(client, "q@example.org")
    page = client.get("/dashboard/").get_data(as_text=True)
    assert '<a href="/account" >Your account</a>' in page


def test_a_quality_officer_sees_every_unit(client, make_account):
    make_account("q@example.org", Role.QUALITY)
    sign_in(client, "q@example.org")
    page = client.get("/account").get_data(as_text=True)
    assert "Quality officer" in page and "every unit" in page
    choose(client, notify_results="y")
    assert account("q@example.org").notify_results is True


def test_the_page_says_when_no_mail_server_is_set(client, make_account):
    make_account("q@example.org", Role.QUALITY)
    sign_in(client, "q@example.org")
    page = client.get("/account").get_data(as_text=True)
    assert "sends no e-mail at the moment" in page


def test_the_page_is_in_dutch_for_a_dutch_reader(client, make_account):
    make_account("q@example.org", Role.QUALITY)
    login(client, "q@example.org")
    client.get("/language/nl")
    page = client.get("/account").get_data(as_text=True)
    assert "<h1>Je account</h1>" in page
    assert "Mail me wanneer de resultaten van mijn teams klaar zijn" in page


def test_an_administrator_is_not_offered_the_mail(client, make_account):
    make_account("admin@example.org", Role.ADMIN)
    sign_in(client, "admin@example.org")
    page = client.get("/account").get_data(as_text=True)
    assert "Administrators get no mail about results." in page
    assert 'name="notify_results"' not in page
    token = csrf_token(client, "/dashboard/")
    response = client.post("/account", data={"csrf_token": token, "notify_results": "y"})
    assert response.status_code == 403
    assert account("admin@example.org").notify_results is False


def test_without_a_csrf_token_nothing_changes(client, make_account):
    make_account("q@example.org", Role.QUALITY)
    sign_in(client, "q@example.org")
    response = client.post("/account", data={"notify_results": "y"})
    assert response.status_code == 400
    assert account("q@example.org").notify_results is False


def test_someone_not_logged_in_is_sent_to_log_in(client):
    response = client.get("/account")
    assert response.status_code == 302 and response.location.startswith("/login")
