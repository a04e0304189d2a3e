"""A wave's background answers serve ONE of two uses, chosen once: breakdowns or rows.

The organisation profile can show scale means per answer to a background question (a
"breakdown": means to 2 decimals with n per answer group); the response-level export gives one
row per response. Together they can be joined: an integer program finds which rows make up
each answer group's n and means, and so gives each row its background answer back, even where
the export left the question out; a group of one (the only team coach of a team) is then
readable in full (docs/anonymity.md, "Downloads combined").

So a wave's background answers are used either for breakdowns or for the response-level export,
never both. ``Wave.background_use`` is set at the first use of either, after the quality officer
confirmed the choice, and never changes afterwards; the other use is then gone for that wave.
"""

from __future__ import annotations

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Account, Wave
from survey.services import audit

#: Scale means per background answer (the organisation profile's breakdown and its downloads).
BREAKDOWN = "breakdown"
#: The response-level export (one row per response).
ROWS = "rows"
USES = (BREAKDOWN, ROWS)


class BackgroundUseTaken(Exception):
    """The wave's background answers already serve the other use."""

    def __init__(self, chosen: str) -> None:
        super().__init__(chosen)
        self.chosen = chosen


class BackgroundUseNotChosen(Exception):
    """A use of the wave's background answers that is not the chosen one: the other use was
    chosen (``chosen``), or none yet (``chosen`` is None)."""

    def __init__(self, use: str, chosen: str | None) -> None:
        super().__init__(use)
        self.use = use
        self.chosen = chosen


def allows(wave: Wave, use: str) -> bool:
    """Whether ``use`` is the one chosen for ``wave``."""
    return wave.background_use == use


def require(wave: Wave, use: str) -> None:
    """Raise ``BackgroundUseNotChosen`` unless ``use`` is the one chosen for ``wave``."""
    if not allows(wave, use):
        raise BackgroundUseNotChosen(use, wave.background_use)


def choose(wave: Wave, use: str, actor: Account | None) -> bool:
    """Dedicate ``wave``'s background answers to ``use``; False when it already was.

    Raises ``BackgroundUseTaken`` when the other use was chosen before (also by someone else a
    moment ago: the choice is a compare-and-set in the database). Flushes; the caller commits.
    """
    if use not in USES:
        raise ValueError(f"unknown use of background answers: {use!r}")
    if wave.background_use == use:
        return False
    result = db.session.execute(
        sa.update(Wave)
        .where(Wave.id == wave.id, Wave.background_use.is_(None))
        .values(background_use=use)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(wave, ["background_use"])
    if result.rowcount != 1:
        if wave.background_use == use:
            return False
        raise BackgroundUseTaken(wave.background_use or "")
    audit.record(actor, "wave.background_use", f"wave {wave.id} ({wave.name})", use=use)
    return True
