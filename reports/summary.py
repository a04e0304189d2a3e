"""Which scales a team's summary names as strengths and growth points, and how sure it is.

The rule compares like with like: each scale with the organisation's mean for that same scale
and with the team's own earlier waves on that scale, never one scale's raw mean with another's
(module A asks how often, module B how much one agrees: their means are not on one footing).
It names clear declines as such, never calls a clearly falling scale a strength, and says per
reason whether it is clear (a 95% interval) or only possible (a difference of a size worth
discussing that the answers do not confirm). The rule and why its thresholds are what they are:
docs/summary.md.

Pure functions over plain numbers, so the rule is tested on constructed data without a
database. The caller (``survey.services.summary``) passes only figures the anonymity gate lets
the page show: a hidden scale is not passed at all, SD and rwg only from the spread threshold,
an earlier mean only where that wave showed it, an interval only where both waves show spread.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from reports.deferred import special
from reports.statistics import Change

#: A difference in scale points worth naming without a confirming interval, to the organisation
#: or since an earlier wave: about half the spread of a team's scale scores (SD 0.5–0.7 in
#: practice), a medium effect. A gap to the organisation is never named below it.
MIN_DIFFERENCE = 0.3
#: rwg(J) below which the team's opinions differ strongly (LeBreton & Senter, 2008: .31–.50 is
#: weak agreement, below .30 none): the items' variance is above 80% of random answering's.
DIFFER_BELOW = 0.50
#: How many strengths and growth points the summary describes; the rest it only names.
DESCRIBED = 3


class Certainty(Enum):
    #: A 95% interval confirms the difference.
    CLEAR = "clear"
    #: Large enough to discuss, but the answers do not confirm it (few answers, wide spread, or
    #: spread that may not be shown).
    POSSIBLE = "possible"


@dataclass(frozen=True)
class Movement:
    """A scale's move since an earlier wave of the team."""

    #: The earlier wave's name.
    since: str
    #: The team's mean then (as that wave showed it).
    before: float
    #: Now minus then.
    difference: float
    #: Its interval, only where both waves may show spread.
    change: Change | None = None

    @property
    def certainty(self) -> Certainty | None:
        """CLEAR when the interval excludes 0 (as the results table says "clear fall");
        POSSIBLE from ``MIN_DIFFERENCE`` without that; otherwise nothing worth naming."""
        if self.change is not None and self.change.clear:
            return Certainty.CLEAR
        if abs(self.difference) >= MIN_DIFFERENCE:
            return Certainty.POSSIBLE
        return None

    @property
    def rose(self) -> bool:
        return self.difference > 0


@dataclass(frozen=True)
class ScaleFacts:
    """What the page may show of one scale of the team."""

    code: str
    mean: float
    n: int
    #: Only where the spread may be shown.
    sd: float | None = None
    rwg: float | None = None
    #: The organisation's mean for the same scale, when it may be shown.
    organisation: float | None = None
    #: Since the team's first and its previous earlier wave with this scale (one if the same).
    movements: tuple[Movement, ...] = ()

    @property
    def gap(self) -> float | None:
        return None if self.organisation is None else self.mean - self.organisation

    @property
    def gap_certainty(self) -> Certainty | None:
        """CLEAR when the team's 95% interval excludes the organisation's mean; POSSIBLE when
        the gap reaches ``MIN_DIFFERENCE`` without that (or without a spread to judge it by)."""
        gap = self.gap
        if gap is None or abs(gap) < MIN_DIFFERENCE:
            return None
        if self.sd is not None and self.n >= 2:
            half = float(special.stdtrit(self.n - 1, 0.975)) * self.sd / math.sqrt(self.n)
            if abs(gap) > half:
                return Certainty.CLEAR
        return Certainty.POSSIBLE

    def moved(self, rising: bool) -> Movement | None:
        """The most telling move up (``rising``) or down: clear before possible, then the
        larger; None when no move that way is worth naming."""
        named = [m for m in self.movements if m.certainty and m.rose == rising]
        named.sort(key=lambda m: (m.certainty is not Certainty.CLEAR, -abs(m.difference)))
        return named[0] if named else None

    @property
    def differs(self) -> bool:
        return self.rwg is not None and self.rwg < DIFFER_BELOW


@dataclass(frozen=True)
class Named:
    """A scale the summary names, with its reasons."""

    facts: ScaleFacts
    #: Set when the gap to the organisation is a reason.
    gap: Certainty | None
    #: The move that is a reason (or context: a growth point that is rising).
    movement: Movement | None

    @property
    def code(self) -> str:
        return self.facts.code

    @property
    def certainty(self) -> Certainty:
        clear = self.gap is Certainty.CLEAR or (
            self.movement is not None and self.movement.certainty is Certainty.CLEAR
        )
        return Certainty.CLEAR if clear else Certainty.POSSIBLE


@dataclass(frozen=True)
class TeamSummary:
    #: Best first; the first ``DESCRIBED`` are described, the rest named.
    strengths: tuple[Named, ...] = ()
    growth_points: tuple[Named, ...] = ()
    #: Clear rises, largest first.
    rises: tuple[Named, ...] = ()
    #: The codes of the scales on which opinions differ strongly, in the given order.
    differ: tuple[str, ...] = ()
    #: Whether any scale had something to compare with (the organisation or an earlier wave).
    compared: bool = False
    min_difference: float = MIN_DIFFERENCE


def _strength(facts: ScaleFacts) -> Named | None:
    fall = facts.moved(rising=False)
    if fall is not None and fall.certainty is Certainty.CLEAR:
        return None  # a clearly falling scale is never a strength
    gap = facts.gap_certainty
    if gap is None or facts.gap <= 0:
        return None
    return Named(facts, gap, facts.moved(rising=True) or fall)


def _growth_point(facts: ScaleFacts) -> Named | None:
    fall = facts.moved(rising=False)
    gap = facts.gap_certainty if facts.gap is not None and facts.gap < 0 else None
    if gap is None and fall is None:
        return None
    return Named(facts, gap, fall or facts.moved(rising=True))


def _severity(named: Named) -> float:
    """How far below: the larger of the gap and the fall, in scale points."""
    below = -named.facts.gap if named.gap is not None else 0.0
    fallen = -named.movement.difference if named.movement and not named.movement.rose else 0.0
    return max(below, fallen)


def summarise(scales: Iterable[ScaleFacts]) -> TeamSummary:
    """The summary of a team's shown scales (in the instrument's order, which breaks ties)."""
    scales = list(scales)
    strengths = [named for facts in scales if (named := _strength(facts))]
    strong = {named.code for named in strengths}
    # A strength that possibly fell stays a strength (its possible fall is said beside it).
    growth = [
        named for facts in scales if facts.code not in strong and (named := _growth_point(facts))
    ]
    rises = []
    for facts in scales:
        rise = facts.moved(rising=True)
        if rise is not None and rise.certainty is Certainty.CLEAR:
            rises.append(Named(facts, None, rise))
    # Stable sorts: equal keys keep the instrument's order.
    strengths.sort(key=lambda named: (named.certainty is not Certainty.CLEAR, -named.facts.gap))
    growth.sort(key=lambda named: (named.certainty is not Certainty.CLEAR, -_severity(named)))
    rises.sort(key=lambda named: -named.movement.difference)
    return TeamSummary(
        strengths=tuple(strengths),
        growth_points=tuple(growth),
        rises=tuple(rises),
        differ=tuple(facts.code for facts in scales if facts.differs),
        compared=any(facts.organisation is not None or facts.movements for facts in scales),
    )
