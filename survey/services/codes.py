"""Single-use access codes: issuing them to a team and claiming one when a respondent enters it.

Only the SHA-256 of a code is stored. The plain codes exist in what ``issue_codes`` returns
and in what its caller prints (a CSV or the slips of ``survey.web.code_slips``). Claiming a
code marks it used and links it to nothing else, so no response can be traced back to the code
(or the person) that opened it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa

from survey.extensions import db
from survey.models import AccessCode, Account, WaveStatus, WaveTeam
from survey.services import audit

#: Digits and capitals without the look-alikes 0/O, 1/I/L.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
MAX_CODES_PER_BATCH = 500
_WELL_FORMED = re.compile(f"[{ALPHABET}]{{{CODE_LENGTH}}}")


class CodeError(ValueError):
    """Codes cannot be issued as asked; the message says why."""


ClaimStatus = Literal["claimed", "used", "unknown"]


@dataclass(frozen=True)
class ClaimResult:
    """``claimed``: this call consumed the code; ``used``: it had been consumed before;
    ``unknown``: no such code. ``wave_team`` is set unless the code is unknown."""

    status: ClaimStatus
    wave_team: WaveTeam | None = None


def normalise_code(text: str) -> str:
    """The code as stored: upper-case, without whitespace or hyphens."""
    return "".join(text.split()).replace("-", "").upper()


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def generate_code() -> str:
    """Ten random characters of ``ALPHABET`` (about 50 bits), shown as ``XXXXX-XXXXX``."""
    characters = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    half = CODE_LENGTH // 2
    return f"{characters[:half]}-{characters[half:]}"


def issue_codes(
    wave_team: WaveTeam,
    count: int,
    actor: Account | None = None,
    *,
    progress: Callable[[Iterable[int]], Iterable[int]] = lambda steps: steps,
) -> list[str]:
    """Create ``count`` unused codes for the team in its wave and return them in plain text.

    Only their hashes are stored; a code that happens to exist already is drawn again.
    ``progress`` wraps the loop that draws the codes (e.g. to drive a progress bar).
    """
    if isinstance(count, bool) or not isinstance(count, int):
        raise CodeError(f"The number of codes must be a whole number, not {count!r}.")
    if not 1 <= count <= MAX_CODES_PER_BATCH:
        raise CodeError(
            f"The number of codes must be between 1 and {MAX_CODES_PER_BATCH}, not {count}."
        )
    wave = wave_team.wave
    if wave.status is WaveStatus.CLOSED:
        raise CodeError(f"Wave {wave.id} ({wave.name}) is closed: it takes no new codes.")

    codes: dict[str, str] = {}
    for _ in progress(range(count)):
        codes.update(_fresh_codes(1, taken=codes))
    while clashes := _already_stored(codes):
        for digest in clashes:
            del codes[digest]
        codes.update(_fresh_codes(len(clashes), taken=codes))

    db.session.add_all(AccessCode(wave_team_id=wave_team.id, code_sha256=d) for d in codes)
    db.session.flush()
    audit.record(actor, "codes.issue", f"wave {wave.id} / {wave_team.unit.slug}", count=count)
    return list(codes.values())


def _already_stored(codes: dict[str, str]) -> set[str]:
    return set(
        db.session.scalars(
            sa.select(AccessCode.code_sha256).where(AccessCode.code_sha256.in_(list(codes)))
        )
    )


def _fresh_codes(count: int, taken: dict[str, str]) -> dict[str, str]:
    """``count`` new codes by hash, none of them among ``taken``."""
    fresh: dict[str, str] = {}
    while len(fresh) < count:
        code = generate_code()
        digest = hash_code(code)
        if digest not in taken:
            fresh[digest] = code
    return fresh


def claim_code(code: str) -> ClaimResult:
    """Consume a code a respondent entered, atomically: of any number of concurrent claims of
    one code exactly one is ``claimed``. Flushes only; the caller commits (or rolls back,
    which gives the code back)."""
    normalised = normalise_code(code)
    if not _WELL_FORMED.fullmatch(normalised):
        return ClaimResult("unknown")
    digest = hash_code(normalised)
    claim = db.session.execute(
        sa.update(AccessCode)
        .where(AccessCode.code_sha256 == digest, AccessCode.used.is_(False))
        .values(used=True)
    )
    wave_team = db.session.scalar(
        sa.select(WaveTeam).join(WaveTeam.access_codes).where(AccessCode.code_sha256 == digest)
    )
    if claim.rowcount == 1:
        return ClaimResult("claimed", wave_team)
    if wave_team is not None:
        return ClaimResult("used", wave_team)
    return ClaimResult("unknown")
