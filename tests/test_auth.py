import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Account, Role
from tests.conftest import PASSWORD, app_on, csrf_token, login, logout


@pytest.fixture
def quality(make_account):
    return make_account("kwaliteit@example.org", Role.QUALITY)


def test_login_with_the_right_password(client, quality):
    response = login(client, "Kwaliteit@Example.org ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
    assert db.session.get(Account, quality.id).last_login_at is not None


@pytest.mark.parametrize(
    "email, password",
    [("kwaliteit@example.org", "wrong password!"), ("nobody@example.org", PASSWORD)],
)
def test_a_failed_login_says_the_same_whether_or_not_the_account_exists(
    client, quality, email, password
):
    response = login(client, email, password)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "error-summary" in page
    assert "Het e-mailadres of wachtwoord klopt niet." in page
    assert client.get("/dashboard/").status_code == 302


def test_a_deactivated_account_cannot_log_in(client, quality):
    quality.active = False
    db.session.commit()
    assert login(client, quality.email).status_code == 200


def test_missing_fields_are_named_in_the_error_summary(client):
    token = csrf_token(client, "/login")
    page = client.post("/login", data={"csrf_token": token}).get_data(as_text=True)
    assert 'href="#email"' in page and 'href="#password"' in page
    assert 'aria-invalid="true"' in page


def test_login_without_csrf_token_is_refused(client, quality):
    response = client.post("/login", data={"email": quality.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/dashboard/").status_code == 302


@pytest.mark.parametrize(
    "next_url, expected",
    [
        ("/dashboard/units/org", "/dashboard/units/org"),
        ("https://evil.example/steal", "/dashboard/"),
        ("//evil.example/steal", "/dashboard/"),
        ("/\\evil.example", "/dashboard/"),
        ("javascript:alert(1)", "/dashboard/"),
    ],
)
def test_next_only_redirects_within_the_site(client, quality, tree, next_url, expected):
    response = login(client, quality.email, next_url=next_url)
    assert response.headers["Location"] == expected


def test_a_protected_page_sends_to_login_and_back(client, quality, tree):
    response = client.get("/dashboard/units/org")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert (
        login(client, quality.email, next_url="/dashboard/units/org").headers["Location"]
        == "/dashboard/units/org"
    )


def test_logout_needs_a_post_with_csrf(client, quality):
    login(client, quality.email)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert logout(client).status_code == 302
    assert client.get("/dashboard/").status_code == 302


def test_changing_the_session_token_ends_existing_sessions(client, quality):
    login(client, quality.email)
    quality.session_token = "replaced-after-a-password-change"
    db.session.commit()
    assert client.get("/dashboard/").status_code == 302


def test_passwords_are_stored_as_argon2_hashes(runner, app):
    result = runner.invoke(
        args=["users", "create", "--email", "Beheer@Example.org", "--role", "admin"],
        input="een lang genoeg wachtwoord\n",
    )
    assert result.exit_code == 0, result.output
    account = db.session.scalar(sa.select(Account).where(Account.email == "beheer@example.org"))
    assert account.password_hash.startswith("$argon2id$")
    assert "een lang genoeg wachtwoord" not in account.password_hash


class TestThrottling:
    @pytest.fixture
    def app(self, database_url):
        yield from app_on(
            database_url,
            RATELIMIT_ENABLED=True,
            LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes",
            LOGIN_LIMIT_PER_ADDRESS="5 per 15 minutes",
        )

    def test_failed_logins_are_throttled_per_account(self, client, quality):
        for _ in range(3):
            assert login(client, quality.email, "wrong password!").status_code == 200
        response = login(client, quality.email)  # even the right password now waits
        assert response.status_code == 429
        assert "Te veel pogingen" in response.get_data(as_text=True)
        other = client.application.test_client()
        assert login(other, "someone-else@example.org", "wrong").status_code == 200

    def test_failed_logins_are_throttled_per_address(self, client, quality):
        for number in range(5):
            assert login(client, f"guess{number}@example.org", "wrong").status_code == 200
        assert login(client, quality.email).status_code == 429

    def test_successful_logins_do_not_count(self, client, quality):
        for _ in range(6):
            assert login(client, quality.email).status_code == 302
            logout(client)


def test_role_required_refuses_other_roles_with_403(app, client, make_account):
    from survey.access import role_required

    @app.get("/admin-only")
    @role_required(Role.ADMIN)
    def admin_only():
        return "secret admin page"

    make_account("lg@example.org", Role.MANAGER, [])
    assert client.get("/admin-only").status_code == 302
    login(client, "lg@example.org")
    response = client.get("/admin-only")
    assert response.status_code == 403
    assert "Geen toegang" in response.get_data(as_text=True)


def redis_answers() -> bool:
    import redis

    try:
        return redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.mark.skipif(not redis_answers(), reason="no Redis server on 127.0.0.1:6379")
def test_throttling_is_shared_through_redis_between_workers(database_url, make_account):
    """Two app instances (as two gunicorn workers) count failed log-ins in one Redis."""
    import uuid

    settings = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "LOGIN_LIMIT_PER_ACCOUNT": "2 per 15 minutes",
    }
    worker_one = app_on(database_url, **settings)
    first = next(worker_one)
    worker_two = app_on(database_url, **settings)
    second = next(worker_two)
    make_account("q@example.org", Role.QUALITY)
    assert login(first.test_client(), "q@example.org", "wrong password").status_code == 200
    assert login(second.test_client(), "q@example.org", "wrong password").status_code == 200
    assert login(first.test_client(), "q@example.org").status_code == 429
    assert login(second.test_client(), "q@example.org").status_code == 429
    for worker in (worker_two, worker_one):
        with pytest.raises(StopIteration):
            next(worker)
