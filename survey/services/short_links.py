"""Short codes of the team links: ``/t/ABCD-EFGH`` for people who type the link off a poster.

A code is ``SHORT_CODE_LENGTH`` random characters of ``SHORT_CODE_ALPHABET``
(survey.models.waves), stored without a dash and shown as two halves. What someone types is
read generously: lower case, spaces and dashes, and the characters of a look-alike pair that
codes never contain (B, G, S, V, Z) read as the one they do (8, 6, 5, U, 2). A code leads to
the same team link as the QR code; how many guesses the throttle allows against how many codes
there are is in docs/anonymity.md ("Padding a team").
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from survey.extensions import db
from survey.models import WaveTeam
from survey.models.waves import SHORT_CODE_ALPHABET, SHORT_CODE_LENGTH, new_short_code

#: Characters people type for one a code holds (the code never contains the first of a pair).
LOOK_ALIKES = str.maketrans({"B": "8", "G": "6", "S": "5", "V": "U", "Z": "2"})
#: What a typed code may hold besides its characters, at most two together: read without them.
SEPARATORS = " ._-"
_TYPABLE = SHORT_CODE_ALPHABET + "".join(chr(character) for character in LOOK_ALIKES)
_CHARACTER = "[" + "".join(sorted(set(_TYPABLE + _TYPABLE.lower()))) + "]"
#: Text that reads as a code: its characters (either case, look-alikes too) with separators.
#: The short link's route matches this (survey.respond.views); other text is a team link's.
_SEPARATION = rf"[{SEPARATORS}]{{0,2}}"
TYPED_PATTERN = rf"{_SEPARATION}(?:{_CHARACTER}{_SEPARATION}){{{SHORT_CODE_LENGTH}}}"
_TYPED = re.compile(TYPED_PATTERN)


def normalise(typed: str) -> str | None:
    """The stored form of a typed code, or None when the text cannot be one (``TYPED_PATTERN``:
    a wrong length, a character no code has such as O, 0, I, L or 1, or other text)."""
    if not _TYPED.fullmatch(typed):
        return None
    characters = "".join(c for c in typed.upper() if c not in SEPARATORS)
    return characters.translate(LOOK_ALIKES)


def display(code: str) -> str:
    """A stored code as printed: two halves joined by a dash (``ABCD-EFGH``)."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def wave_team_by_code(typed: str) -> WaveTeam | None:
    """The wave team whose short code ``typed`` is, read generously; None when none is."""
    code = normalise(typed)
    if code is None:
        return None
    return db.session.scalar(sa.select(WaveTeam).where(WaveTeam.short_code == code))


def fresh_codes(count: int) -> list[str]:
    """``count`` different codes that no wave team has yet, in the order drawn (a code drawn
    twice is drawn again: rare among 2.1e11, but the column is unique)."""
    codes: list[str] = []
    while len(codes) < count:
        drawn = [new_short_code() for _ in range(count - len(codes))]
        taken = set(
            db.session.scalars(sa.select(WaveTeam.short_code).where(WaveTeam.short_code.in_(drawn)))
        )
        for code in drawn:
            if code not in taken and code not in codes:
                codes.append(code)
    return codes
