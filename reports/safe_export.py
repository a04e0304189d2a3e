"""A response-level export for the quality officer that stays anonymous: one row per response.

``safe_response_rows`` turns a wave's responses into a table in which every row hides among at
least k (the minimum group size, never below 3):

1. Units. A response's team is replaced by the smallest unit that gathers at least k responses,
   so that EVERY group of rows sharing a label has at least k rows. Bottom-up: a unit with at
   least k responses of its own keeps its own label. The responses of smaller units move up to
   the parent; there the moved-up rows (with the parent's own responses, if it has fewer than k)
   get the parent's label when they are at least k together, and move further up otherwise.
   What reaches the root with 1 to k − 1 rows is merged into the smallest group that gathers
   small units (that group is relabelled to the root; one always suffices, as it has k or more);
   when no such group exists those rows are withheld. A wave with fewer than k responses in all
   exports no rows. A label such as "department X" therefore means "the responses of department
   X's units that are not shown under their own name": ``SafeExport.labels`` says, per label,
   which units' responses it holds.
2. Background questions. The columns are tried in the given order and one is kept only if,
   together with those kept before it, every non-empty cell (label × combination of kept
   answers, "not answered" counting as an answer of its own) has at least k rows; the others
   are dropped and reported.
3. Rows. The rows are shuffled and numbered 1..n after shuffling; response ids, team ids and the
   input's index are not exported, and there are no dates (the caller adds the wave as a
   constant column). The input holds numeric answers and option codes only: the caller must
   never pass free-text answers (or dates); a column that is not numeric is refused.

Why the root's leftover is never merged into a unit's own group, although the issue asked for
"the smallest labelled group": a unit with k or more responses is shown elsewhere (its team page,
the quality officer's tables) with its answers counted per item, and "its rows plus 3 others"
minus those figures would give the 3 others' answers (docs/anonymity.md, promise 3). A group that
gathers units below k appears in no other figure (the quality pages pool only units of at least
k), so merging into it, or withholding, reveals nothing.

Everything here is pure: DataFrames and mappings in, a ``SafeExport`` out.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from reports.deferred import pd

Unit = TypeVar("Unit", bound=Hashable)

#: The same floor as ``survey.config.MIN_GROUP_SIZE_FLOOR`` (``reports`` does not import the app).
MIN_GROUP_SIZE_FLOOR = 3
ID_COLUMNS = ("response_id", "unit_id")
#: The columns the export adds in front: the running number and the unit label.
ROW_COLUMN = "row"
UNIT_COLUMN = "unit"


@dataclass(frozen=True)
class SafeExport:
    #: One row per exported response, in random order: ``row`` (1..n), ``unit`` (a label), the
    #: answer items and the kept background columns, in the input's order.
    rows: pd.DataFrame
    #: Label → the names of the units whose responses carry it, sorted. Just the label itself
    #: when the rows are that unit's own responses; otherwise the label stands for the responses
    #: of those units, none of which has k of its own.
    labels: dict[str, tuple[str, ...]]
    #: Background columns left out because a cell would have had fewer than k rows.
    dropped_background: list[str]
    #: Responses not exported: the whole wave when it has fewer than k, or a leftover below k
    #: that had no group of small units to join. Publish it only through ``shown_count``: a
    #: number from 1 to k − 1 would describe a group below k.
    withheld: int


def unit_labels(
    parents: Mapping[Unit, Unit | None], counts: Mapping[Unit, int], k: int
) -> dict[Unit, Unit | None]:
    """Under which unit's label the responses of each unit go (rule 1); None: withheld.

    ``parents`` maps every unit to its parent (None for a root, e.g. the organisation);
    ``counts`` gives the responses given directly in a unit (usually only teams have any). The
    result has every unit with responses; its label is the unit itself or one of its ancestors.
    """
    children: dict[Unit, list[Unit]] = {unit: [] for unit in parents}
    for unit, parent in parents.items():
        if parent is not None:
            if parent not in children:
                raise ValueError(f"unit {unit!r} has a parent outside the tree: {parent!r}")
            children[parent].append(unit)
    outside = [unit for unit, n in counts.items() if n > 0 and unit not in parents]
    if outside:
        raise ValueError(f"responses of units outside the tree: {outside!r}")

    labels: dict[Unit, Unit | None] = {}
    visited: set[Unit] = set()

    def gather(unit: Unit, pools: list[tuple[Unit, list[Unit]]]) -> list[Unit]:
        """Label what can be labelled at or below ``unit``; return the units still moving up."""
        visited.add(unit)
        own = counts.get(unit, 0)
        moving = [unit] if 0 < own < k else []
        if own >= k:
            labels[unit] = unit
        for child in children[unit]:
            moving.extend(gather(child, pools))
        if sum(counts[source] for source in moving) >= k:
            labels.update(dict.fromkeys(moving, unit))
            pools.append((unit, moving))
            return []
        return moving

    for root in (unit for unit, parent in parents.items() if parent is None):
        pools: list[tuple[Unit, list[Unit]]] = []
        leftover = gather(root, pools)
        if not leftover:
            continue
        if pools:
            _, sources = min(
                pools, key=lambda pool: (sum(counts[s] for s in pool[1]), str(pool[0]))
            )
            labels.update(dict.fromkeys([*leftover, *sources], root))
        else:
            labels.update(dict.fromkeys(leftover, None))
    if len(visited) < len(parents):
        raise ValueError(f"units in a cycle: {sorted(map(str, set(parents) - visited))}")
    return labels


def kept_background(
    cells: pd.DataFrame, background: Sequence[str], k: int
) -> tuple[list[str], list[str]]:
    """Rule 2: (kept, dropped) background columns, tried greedily in the given order.

    ``cells`` has the ``unit`` label and the background columns, one row per response. A column
    is kept when every non-empty cell of label × kept columns × it has at least k rows; a
    missing answer (NaN) is a value of its own.
    """
    kept: list[str] = []
    dropped: list[str] = []
    for column in background:
        sizes = cells.groupby([UNIT_COLUMN, *kept, column], dropna=False).size()
        (kept if sizes.empty or sizes.min() >= k else dropped).append(column)
    return kept, dropped


def _checked_answer_columns(
    responses: pd.DataFrame,
    parents: Mapping[Unit, Unit | None],
    names: Mapping[Unit, str],
    k: int,
    background: list[str],
) -> list[str]:
    """The answer columns of ``responses``, after refusing (``ValueError``) any input that
    could export more than the rules allow."""
    if k < MIN_GROUP_SIZE_FLOOR:
        raise ValueError(f"the minimum group size can never be below {MIN_GROUP_SIZE_FLOOR}")
    if len(set(background)) < len(background) or set(background) & set(ID_COLUMNS):
        raise ValueError(f"background columns must be distinct answer columns: {background}")
    missing = [column for column in (*ID_COLUMNS, *background) if column not in responses]
    if missing:
        raise ValueError(f"responses lack the columns {missing}")
    unnamed = [unit for unit in parents if unit not in names]
    if unnamed:
        raise ValueError(f"units without a name: {unnamed!r}")
    if len({names[unit] for unit in parents}) < len(parents):
        raise ValueError("two units share a name: their rows would look like one group")
    answers = [column for column in responses.columns if column not in (*ID_COLUMNS, *background)]
    refused = [column for column in (*answers, *background) if not _numeric(responses[column])]
    if refused:
        raise ValueError(
            f"only numeric answers and option codes can be exported, not {refused} "
            "(free text and dates never go into this export)"
        )
    return answers


def safe_response_rows(
    responses: pd.DataFrame,
    parents: Mapping[Unit, Unit | None],
    names: Mapping[Unit, str],
    k: int,
    background: Sequence[str] = (),
    *,
    rng: random.Random | None = None,
) -> SafeExport:
    """The quality officer's row-level export of one wave, by the rules in the module docstring.

    ``responses``: one row per response with ``response_id``, ``unit_id`` (the team), one column
    per answer item (1–5, NaN for "don't know" or not answered) and the ``background`` columns
    (option codes, NaN when not answered); every column besides the two ids is exported, so
    never pass free text or dates. ``parents``: unit → parent unit (None for the root);
    ``names``: unit → display name, one name per unit. ``rng`` shuffles the rows (default: the
    system's randomness; tests pass a seeded ``random.Random``).
    """
    background = list(background)
    answers = _checked_answer_columns(responses, parents, names, k, background)
    counts = responses["unit_id"].value_counts(dropna=False).to_dict()
    label_of = unit_labels(parents, counts, k)
    row_labels = [label_of[unit] for unit in responses["unit_id"]]
    exported = [label is not None for label in row_labels]
    table = responses.loc[exported, [*answers, *background]].reset_index(drop=True)
    table.insert(0, UNIT_COLUMN, [names[label] for label in row_labels if label is not None])
    kept, dropped = kept_background(table, background, k)

    order = list(range(len(table)))
    (rng or random.SystemRandom()).shuffle(order)
    rows = table.iloc[order][[UNIT_COLUMN, *answers, *kept]].reset_index(drop=True)
    rows.insert(0, ROW_COLUMN, range(1, len(rows) + 1))

    covered: dict[str, set[str]] = {}
    for unit, label in label_of.items():
        if label is not None:
            covered.setdefault(names[label], set()).add(names[unit])
    return SafeExport(
        rows=rows,
        labels={label: tuple(sorted(units)) for label, units in covered.items()},
        dropped_background=dropped,
        withheld=len(responses) - len(rows),
    )


def shown_count(count: int, k: int) -> int | None:
    """A count of responses as it may be published: None (to be read "fewer than k") when it
    describes a group of 1 to k − 1 people; 0 and k or more as they are."""
    return None if 0 < count < k else count


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) or bool(column.isna().all())
