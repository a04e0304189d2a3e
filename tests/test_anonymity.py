"""The anonymity gate, on fixed cases and on random trees (hypothesis)."""

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.anonymity import (
    MIN_GROUPS_POOLED,
    Policy,
    Reason,
    gate_group,
    gate_total,
    gate_tree,
    pooled_over_shown_groups,
    visible_comments,
)
from survey.config import MIN_GROUP_SIZE_FLOOR

K5 = Policy(min_group_size=5)

#: org → north (a, b), south (c)
PARENTS = {"org": None, "north": "org", "south": "org", "a": "north", "b": "north", "c": "south"}


def shown(verdicts):
    return {node for node, verdict in verdicts.items() if verdict.shown}


def test_groups_below_k_are_hidden_and_say_why():
    verdicts = gate_tree(PARENTS, {"a": 8, "b": 0, "c": 3}, K5)
    assert verdicts["c"].reason is Reason.TOO_FEW
    assert verdicts["b"].reason is Reason.NO_ANSWERS
    assert verdicts["org"].n == 11


def test_a_hidden_team_cannot_be_worked_out_from_its_department():
    # north = 12 is shown, a = 9 is shown, b = 3 is hidden: north − a = b. So a is hidden too.
    verdicts = gate_tree(PARENTS, {"a": 9, "b": 3, "c": 6}, K5)
    assert verdicts["b"].reason is Reason.TOO_FEW
    assert verdicts["a"].reason is Reason.DIFFERENCING
    assert shown(verdicts) == {"org", "north", "south", "c"}


def test_the_next_smallest_group_is_the_one_hidden():
    parents = {"d": None, "x": "d", "y": "d", "z": "d"}
    verdicts = gate_tree(parents, {"x": 6, "y": 20, "z": 2}, K5)
    assert verdicts["x"].reason is Reason.DIFFERENCING  # 6 < 20: x goes, y stays
    assert verdicts["y"].shown and verdicts["d"].shown
    # d − y = x + z = 8 ≥ 5: nothing smaller than k can be derived any more


def test_a_single_group():
    assert gate_group(4, K5).reason is Reason.TOO_FEW
    assert gate_group(5, K5).shown
    assert gate_group(0, K5).reason is Reason.NO_ANSWERS


def test_the_policy_refuses_k_below_three():
    with pytest.raises(ValueError, match="never be below 3"):
        Policy(min_group_size=2)
    assert Policy(min_group_size=3).min_group_size == 3


def test_spread_needs_the_larger_threshold():
    policy = Policy(min_group_size=5, spread_threshold=7)
    assert not policy.shows_spread(6) and policy.shows_spread(7)


def test_comments_are_shuffled_and_only_for_large_enough_groups():
    comments = [f"opmerking {i}" for i in range(6)]
    assert visible_comments(comments, respondents=4, policy=K5) is None
    shown_comments = visible_comments(comments, 5, K5, random.Random(1))
    assert sorted(shown_comments) == comments and shown_comments != comments
    assert visible_comments(comments, 9, Policy(comments_enabled=False)) is None


@st.composite
def trees(draw):
    size = draw(st.integers(min_value=1, max_value=9))
    parents = {0: None}
    for node in range(1, size):
        parents[node] = draw(st.integers(min_value=0, max_value=node - 1))
    counts = {node: draw(st.integers(min_value=0, max_value=14)) for node in parents}
    k = draw(st.integers(min_value=3, max_value=7))
    return parents, counts, Policy(min_group_size=k, spread_threshold=max(7, k))


def descendants(parents, node):
    below = {child for child, parent in parents.items() if parent == node}
    for child in list(below):
        below |= descendants(parents, child)
    return below


@settings(max_examples=300, deadline=None)
@given(trees())
def test_no_combination_of_shown_figures_reveals_a_small_group(tree):
    """Every shown group has n ≥ k, and subtracting ANY set of disjoint shown groups below a
    shown group leaves 0 or at least k people (checked exhaustively on small trees)."""
    parents, counts, policy = tree
    verdicts = gate_tree(parents, counts, policy)
    k = policy.min_group_size
    for node, verdict in verdicts.items():
        if not verdict.shown:
            continue
        assert verdict.n >= k
        candidates = [d for d in descendants(parents, node) if verdicts[d].shown]
        for size in range(1, len(candidates) + 1):
            for subset in itertools.combinations(candidates, size):
                if any(a in descendants(parents, b) for a in subset for b in subset if a != b):
                    continue  # overlapping groups: not a plain subtraction
                remainder = verdict.n - sum(verdicts[d].n for d in subset)
                assert remainder == 0 or remainder >= k, (node, subset, remainder)


@settings(max_examples=200, deadline=None)
@given(trees())
def test_groups_of_k_or_more_are_only_hidden_against_differencing(tree):
    parents, counts, policy = tree
    for verdict in gate_tree(parents, counts, policy).values():
        if verdict.n >= policy.min_group_size:
            assert verdict.reason in (None, Reason.DIFFERENCING)
        else:
            assert not verdict.shown


def test_a_comparison_pools_only_groups_that_may_be_shown():
    # team sizes and score sums; "d" has 3 scores and is left out, not hidden inside the total
    groups = {"a": (5, 20.0), "b": (6, 18.0), "c": (10, 35.0), "d": (3, 15.0)}
    pooled = pooled_over_shown_groups(groups, K5)
    assert (pooled.n, pooled.groups) == (21, 3)
    assert pooled.mean == pytest.approx(73 / 21)
    # with fewer than three groups the comparison would equal the one other group: none
    assert pooled_over_shown_groups({"a": (5, 20.0), "b": (6, 18.0), "d": (3, 9.0)}, K5) is None


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.integers(0, 20), st.integers(0, 15), max_size=12),
    st.integers(min_value=3, max_value=7),
)
def test_a_comparison_minus_any_shown_groups_never_leaves_a_small_group(sizes, k):
    policy = Policy(min_group_size=k, spread_threshold=max(7, k))
    pooled = pooled_over_shown_groups({g: (n, float(n)) for g, n in sizes.items()}, policy)
    if pooled is None:
        return
    shown_sizes = [n for n in sizes.values() if n >= k]
    assert pooled.groups >= MIN_GROUPS_POOLED
    for size in range(1, len(shown_sizes) + 1):
        for subset in itertools.combinations(shown_sizes, size):
            remainder = pooled.n - sum(subset)
            assert remainder == 0 or remainder >= k


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(st.integers(0, 12), max_size=8),
    k=st.integers(MIN_GROUP_SIZE_FLOOR, 8),
)
def test_a_shown_total_minus_the_groups_shown_on_their_own_is_never_a_small_group(parts, k):
    policy = Policy(min_group_size=k, spread_threshold=k)
    verdict = gate_total(parts, policy)
    shown_on_their_own = sum(n for n in parts if n >= k)
    if verdict.shown:
        remainder = verdict.n - shown_on_their_own
        assert remainder == 0 or remainder >= k
    assert verdict.n == sum(parts)
    assert verdict.shown or sum(parts) == 0 or verdict.reason is not None
