"""Passwords: hashing with argon2 (the library's current recommended parameters) and the rules a
new password must meet.

An account that was invited, or whose password was reset, has no usable password until its
owner chooses one through the set-password link: its hash starts with ``!`` and matches nothing.
"""

from __future__ import annotations

import gzip
import re
import secrets
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

_hasher = PasswordHasher()

#: A hash of a random password, checked when an e-mail address is unknown so that a failed
#: log-in takes as long for an unknown address as for a known one.
_DUMMY_HASH = _hasher.hash("no account has this password; it only costs time")


def use_cheap_hashing_for_tests() -> None:
    """Hash with argon2's cheapest parameters in this process: for the test suite only, where
    a production-cost hash per log-in made the suite several times slower. Never call it in
    the application (nothing in ``survey`` does)."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    _DUMMY_HASH = _hasher.hash("no account has this password; it only costs time")


MIN_PASSWORD_LENGTH = 12
#: Longer passwords add nothing but hashing time (argon2 hashes all of it).
MAX_PASSWORD_LENGTH = 256
#: The start of a stored hash that no password matches.
UNUSABLE_PREFIX = "!"
#: The 20,000 most common passwords, lower case (see survey/data/README.md for the source).
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt.gz"
#: Parts of an e-mail's local part shorter than this are not looked for in a password.
_MIN_NAME_PART = 4


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def unusable_password_hash() -> str:
    """A value for ``password_hash`` that no password matches (random, so never shared)."""
    return UNUSABLE_PREFIX + secrets.token_hex(16)


def has_usable_password(password_hash: str | None) -> bool:
    return bool(password_hash) and not password_hash.startswith(UNUSABLE_PREFIX)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; without a usable hash it spends the same time."""
    usable = has_usable_password(password_hash)
    try:
        return _hasher.verify(password_hash if usable else _DUMMY_HASH, password) and usable
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def _name_parts(email: str) -> set[str]:
    """The e-mail's local part and its pieces (``jan.de-vries`` → jan.de-vries, vries)."""
    local = email.strip().lower().partition("@")[0]
    parts = {part for part in re.split(r"[^\w]+|_", local) if len(part) >= _MIN_NAME_PART}
    if len(local) >= 3:
        parts.add(local)
    return parts


def password_problems(password: str, email: str = "") -> list[str]:
    """Why ``password`` may not be chosen by the account with ``email`` (empty: it may).

    The messages are translated; the command line asks for them in English.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return [
            _(
                "The password must have at least %(min)d characters.",
                min=MIN_PASSWORD_LENGTH,
            )
        ]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [_("The password can have at most %(max)d characters.", max=MAX_PASSWORD_LENGTH)]
    problems = []
    lowered = password.lower()
    if lowered.strip() in common_passwords():
        problems.append(
            _(
                "This password is one of the most common passwords, which are tried first "
                "when an account is attacked. Choose another one."
            )
        )
    if any(part in lowered for part in _name_parts(email)):
        problems.append(_("The password must not contain your e-mail address or name."))
    return problems
