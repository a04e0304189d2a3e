"""The password rules, the shipped list of common passwords, and hashes that match nothing."""

import gzip
import subprocess
import sys

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from survey.extensions import db
from survey.models import Account
from survey.passwords import (
    COMMON_PASSWORDS_FILE,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    common_passwords,
    has_usable_password,
    hash_password,
    password_problems,
    unusable_password_hash,
    verify_password,
)


def test_the_common_passwords_list_is_shipped_with_its_source():
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        assert sum(1 for _ in lines) > 19_000
    assert "password1234" in common_passwords() and "qwerty123456" in common_passwords()
    readme = (COMMON_PASSWORDS_FILE.parent / "README.md").read_text()
    assert "Django" in readme and "BSD" in readme


def test_a_good_password_passes(app):
    assert password_problems("zeven groene kikkers zingen", "jan.devries@example.org") == []
    assert password_problems("x" * MIN_PASSWORD_LENGTH, "") == []
    assert password_problems("x" * MAX_PASSWORD_LENGTH, "") == []


@pytest.mark.parametrize(
    "password, email, message",
    [
        ("kort", "a@example.org", "at least 12 characters"),
        ("elf tekens!", "a@example.org", "at least 12 characters"),
        ("x" * (MAX_PASSWORD_LENGTH + 1), "a@example.org", "at most 256 characters"),
        ("password1234", "a@example.org", "most common passwords"),
        ("QWERTY123456", "a@example.org", "most common passwords"),  # in any case
        (" 1q2w3e4r5t6y ", "a@example.org", "most common passwords"),
        ("jan.devries-2026!", "jan.devries@example.org", "e-mail address or name"),
        ("DeVries-is-mijn-naam", "jan.devries@example.org", "e-mail address or name"),
        ("mijn naam is pietersen", "Pietersen@Example.org", "e-mail address or name"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(app, password, email, message):
    with force_locale("en"):
        problems = password_problems(password, email)
    assert len(problems) == 1
    assert message in problems[0]


def test_short_pieces_of_an_address_are_not_held_against_a_password(app):
    # "jo" and "li" are too short to matter; the whole local part "jo.li" is not in it.
    assert password_problems("jolige kikkers springen", "jo.li@example.org") == []


def test_an_unusable_hash_matches_no_password():
    unusable = unusable_password_hash()
    assert not has_usable_password(unusable)
    assert unusable != unusable_password_hash()  # random: never shared between accounts
    assert not verify_password(unusable, "")
    assert not verify_password(unusable, unusable)
    assert not verify_password(None, "anything at all")
    usable = hash_password("zeven groene kikkers zingen")
    assert has_usable_password(usable)
    assert verify_password(usable, "zeven groene kikkers zingen")
    assert not verify_password(usable, "zeven groene kikkers zingen!")


@pytest.mark.parametrize(
    "email, password, message",
    [
        ("admin@example.org", "password1234", "most common passwords"),
        ("marieke@example.org", "marieke-2026-krachtig", "e-mail address or name"),
        ("admin@example.org", "kort", "at least 12 characters"),
    ],
)
def test_the_command_line_refuses_a_weak_password(runner, email, password, message):
    result = runner.invoke(
        args=["users", "create", "--email", email, "--role", "admin"], input=password + "\n"
    )
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert db.session.scalar(sa.select(sa.func.count(Account.id))) == 0


def test_the_command_line_accepts_a_good_password(runner):
    result = runner.invoke(
        args=["users", "create", "--email", "beheer@example.org", "--role", "admin"],
        input="zeven groene kikkers zingen\n",
    )
    assert result.exit_code == 0, result.output
    account = db.session.scalar(sa.select(Account))
    assert verify_password(account.password_hash, "zeven groene kikkers zingen")


def test_the_application_hashes_with_argon2s_recommended_cost():
    """The suite hashes cheaply (tests/conftest.py); the application itself never does."""
    code = (
        "from argon2 import PasswordHasher, extract_parameters\n"
        "from survey.passwords import hash_password\n"
        "used = extract_parameters(hash_password('a password of some length'))\n"
        "default = PasswordHasher()\n"
        "print(used.time_cost == default.time_cost, used.memory_cost == default.memory_cost)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["True", "True"]
