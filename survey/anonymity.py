"""The one anonymity gate: every figure, chart, comment list and export passes through here.

Rules (docs/anonymity.md, "The promise"):

1. A group's numbers are shown only when it has at least k answers (k = the minimum group size,
   never below 3); spread and distributions only from the larger spread threshold.
2. No differencing: when a hidden group's numbers could be worked out by subtracting visible
   groups from a visible larger one, the next smallest visible group is hidden too.
3. Comments only for groups of at least k, in random order, without dates, and only when the
   organisation has comments switched on.

The functions are pure (no Flask, no database): callers pass counts and get verdicts.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from survey.config import MIN_GROUP_SIZE_FLOOR

Node = TypeVar("Node", bound=Hashable)


class Reason(StrEnum):
    """Why a group is not shown; every hidden place on a page says one of these."""

    NO_ANSWERS = "no_answers"
    TOO_FEW = "too_few"
    DIFFERENCING = "differencing"


@dataclass(frozen=True)
class Policy:
    min_group_size: int = 5
    spread_threshold: int = 7
    comments_enabled: bool = True

    def __post_init__(self) -> None:
        if self.min_group_size < MIN_GROUP_SIZE_FLOOR:
            raise ValueError(f"the minimum group size can never be below {MIN_GROUP_SIZE_FLOOR}")
        if self.spread_threshold < self.min_group_size:
            raise ValueError("the spread threshold cannot be below the minimum group size")

    def shows_spread(self, n: int) -> bool:
        return n >= self.spread_threshold

    def stricter(self, other: Policy) -> Policy:
        """The rules that keep both promises (e.g. a change between two waves)."""
        return Policy(
            min_group_size=max(self.min_group_size, other.min_group_size),
            spread_threshold=max(self.spread_threshold, other.spread_threshold),
            comments_enabled=self.comments_enabled and other.comments_enabled,
        )


@dataclass(frozen=True)
class Verdict:
    #: All answers in the group (its own and those of every group below it).
    n: int
    reason: Reason | None = None

    @property
    def shown(self) -> bool:
        return self.reason is None


def gate_tree(
    parents: Mapping[Node, Node | None], counts: Mapping[Node, int], policy: Policy
) -> dict[Node, Verdict]:
    """Which groups of a tree (e.g. organisation → departments → teams) may be shown.

    ``parents`` maps every group to its parent (None for a root); ``counts`` gives the answers
    given directly in a group (usually only teams have any). A shown group X always has n ≥ k,
    and what remains of X after subtracting its nearest shown descendants is 0 or at least k,
    so no sum or difference of shown figures describes fewer than k people.
    """
    children: dict[Node, list[Node]] = {node: [] for node in parents}
    for node, parent in parents.items():
        if parent is not None:
            children[parent].append(node)
    totals: dict[Node, int] = {}

    def total(node: Node) -> int:
        if node not in totals:
            totals[node] = counts.get(node, 0) + sum(total(child) for child in children[node])
        return totals[node]

    k = policy.min_group_size
    reasons: dict[Node, Reason | None] = {}
    for node in parents:
        n = total(node)
        reasons[node] = Reason.NO_ANSWERS if n == 0 else Reason.TOO_FEW if n < k else None

    def nearest_shown_below(node: Node) -> list[Node]:
        found: list[Node] = []
        for child in children[node]:
            found.extend([child] if reasons[child] is None else nearest_shown_below(child))
        return found

    changed = True
    while changed:
        changed = False
        for node in parents:
            if reasons[node] is not None:
                continue
            below = nearest_shown_below(node)
            remainder = total(node) - sum(total(group) for group in below)
            if 0 < remainder < k:
                smallest = min(below, key=lambda group: (total(group), str(group)))
                reasons[smallest] = Reason.DIFFERENCING
                changed = True
    return {node: Verdict(total(node), reasons[node]) for node in parents}


def gate_total(parts: Iterable[int], policy: Policy) -> Verdict:
    """A total over groups that are each shown on their own page when they reach k (e.g. a
    wave's responses over its teams, whose results pages show their n).

    The total is shown only when what it holds beyond the groups of at least k is 0 or at
    least k: otherwise the total minus the shown groups would count the small ones."""
    counts = list(parts)
    k = policy.min_group_size
    whole = sum(counts)
    rest = sum(n for n in counts if n < k)
    if whole == 0:
        return Verdict(0, Reason.NO_ANSWERS)
    if whole < k:
        return Verdict(whole, Reason.TOO_FEW)
    if 0 < rest < k:
        return Verdict(whole, Reason.DIFFERENCING)
    return Verdict(whole)


def gate_group(n: int, policy: Policy) -> Verdict:
    """A single group with nothing to subtract it from (e.g. one team's own dashboard)."""
    if n == 0:
        return Verdict(0, Reason.NO_ANSWERS)
    return Verdict(n, Reason.TOO_FEW if n < policy.min_group_size else None)


def visible_comments(
    comments: Sequence[str], respondents: int, policy: Policy, rng: random.Random | None = None
) -> list[str] | None:
    """The comments of a group in random order, or None when they may not be shown.

    ``respondents`` is the group's number of responses (not of comments): a group of k or more
    may show its comments even if only one person wrote one, as nothing says who wrote it.
    """
    if not policy.comments_enabled or respondents < policy.min_group_size:
        return None
    shuffled = list(comments)
    (rng or random.SystemRandom()).shuffle(shuffled)
    return shuffled


#: A comparison figure pools at least this many groups, so that it minus the reader's own
#: group is never exactly one other group.
MIN_GROUPS_POOLED = 3


@dataclass(frozen=True)
class Pooled:
    n: int
    mean: float
    groups: int


def pooled_over_shown_groups(
    groups: Mapping[Node, tuple[int, float]], policy: Policy
) -> Pooled | None:
    """A comparison figure, e.g. the organisation's mean beside a team's, or None.

    ``groups`` gives each group's number of scores and their sum. Only groups that may be shown
    on their own (n ≥ k) are pooled: a small group is left out entirely rather than hidden
    inside the total, so the pooled figure minus any shown group is again a set of groups of at
    least k, and nothing can be differenced out of it. At least ``MIN_GROUPS_POOLED`` groups.
    """
    shown = [(n, total) for n, total in groups.values() if n >= policy.min_group_size]
    if len(shown) < MIN_GROUPS_POOLED:
        return None
    n = sum(count for count, _ in shown)
    return Pooled(n=n, mean=sum(total for _, total in shown) / n, groups=len(shown))
