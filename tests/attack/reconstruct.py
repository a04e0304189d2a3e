"""Integer programs that try to put back what the anonymity gate hides (scipy.optimize.milp).

Each program takes what an insider collected (``tests.attack.collect.Collected``) and the
questionnaire (which every insider has), and returns findings: what it pinned down, and from
which downloads. Something is PINNED when the facts admit exactly one value for it: the program
is feasible, and forbidding the value it found makes it infeasible. Every solve is bounded in
time; a solve that runs out of time proves nothing, so it pins nothing.

1. ``background_answers``: the background answer of each exported row, from the background
   breakdown (n and rounded mean per answer and scale) and the rows' own scale scores.
2. ``hidden_teams``: (a) a count below k that a page or download states; (b) which hidden team
   a pooled row (labelled with a department) belongs to, from every published figure of those
   teams; (c) the answers of withheld rows on a scale, from the instrument-quality figures that
   still count them (n of complete rows, α, item–rest correlations).
3. ``hidden_items``: the answers to an item hidden for having fewer than k answers, from its
   scale's answer shares minus the figures of the scale's shown items.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_array

from questionnaires import Instrument
from reports.reliability import cronbach_alpha, item_rest_correlations
from reports.scores import SCALE_POINTS, enough_answered, reversed_value, scale_score
from tests.attack.collect import BreakdownFact, Collected, ExportRow, Figure, ReliabilityFact

#: Seconds for one solve, and for all the solves of one program.
SOLVE_SECONDS = 2.0
PROGRAM_SECONDS = 6.0
#: Slack for floating-point sums on top of the published rounding.
EPSILON = 1e-6


@dataclass(frozen=True)
class Finding:
    program: str
    what: str
    how: str

    def __str__(self) -> str:
        return f"[{self.program}] {self.what} — {self.how}"


class Program:
    """A small feasibility MILP: binary/integer variables, linear rows, bounded solves."""

    def __init__(self) -> None:
        self.names: dict[object, int] = {}
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.rows: list[tuple[dict[int, float], float, float]] = []

    def var(self, name: object, low: float = 0, high: float = 1) -> int:
        self.names[name] = len(self.lower)
        self.lower.append(low)
        self.upper.append(high)
        return self.names[name]

    def add(self, terms: dict[int, float], low: float, high: float) -> None:
        self.rows.append((terms, low, high))

    def solve(
        self, fixed: dict[int, tuple[float, float]] | None = None, objective=None, extra=()
    ) -> np.ndarray | None | bool:
        """A solution, None when infeasible, False when the time ran out."""
        size = len(self.lower)
        lower, upper = np.array(self.lower, float), np.array(self.upper, float)
        for index, (low, high) in (fixed or {}).items():
            lower[index], upper[index] = low, high
        rows = [*self.rows, *extra]
        matrix = lil_array((max(len(rows), 1), size))
        row_low, row_high = np.zeros(max(len(rows), 1)), np.zeros(max(len(rows), 1))
        for number, (terms, low, high) in enumerate(rows):
            for index, coefficient in terms.items():
                matrix[number, index] = coefficient
            row_low[number], row_high[number] = low, high
        result = milp(
            c=np.zeros(size) if objective is None else objective,
            integrality=np.ones(size),
            bounds=Bounds(lower, upper),
            constraints=[LinearConstraint(matrix.tocsr(), row_low, row_high)] if rows else [],
            options={"time_limit": SOLVE_SECONDS, "presolve": True},
        )
        if result.status == 0:
            return np.round(result.x)
        if result.status == 2:
            return None
        return False


# --- scores the way the application computes them ---------------------------------------------


def scale_items(instrument: Instrument) -> dict[str, list[tuple[str, bool]]]:
    return {
        scale.code: [(item.code, bool(item.reverse)) for item in scale.items]
        for scale in instrument.scales()
    }


def row_scores(row: ExportRow, scales: dict[str, list[tuple[str, bool]]]) -> dict[str, float]:
    """The row's scale scores by the rule of ``reports.scores``: the mean of the answered items
    (reverse items turned) when at least 75% of the scale's items are answered."""
    scores = {}
    for code, items in scales.items():
        given = [
            reversed_value(row.values[item]) if reverse else row.values[item]
            for item, reverse in items
            if item in row.values
        ]
        if given and enough_answered(len(given), len(items)):
            scores[code] = scale_score(sum(given), len(given))
    return scores


def _half(decimals: int | None) -> float:
    return 0.5 * 10.0 ** -(decimals if decimals is not None else 12) + EPSILON


def _own_label(found: Collected, label: str) -> bool:
    """Whether the export's label names one unit's own rows (not a pool of small units)."""
    return found.labels.get(label, (label,)) == (label,)


# --- 1. background answers --------------------------------------------------------------------


def background_answers(found: Collected, instrument: Instrument) -> list[Finding]:
    findings = []
    items = {item.code: item for item in instrument.all_items() if item.background}
    for code in sorted({fact.item for fact in found.breakdowns}):
        facts = [fact for fact in found.breakdowns if fact.item == code]
        options = [option.code for option in items[code].options] + [None]
        findings += _background_program(found, instrument, code, options, facts)
    return findings


def _background_program(
    found: Collected,
    instrument: Instrument,
    code: str,
    options: list[int | None],
    facts: list[BreakdownFact],
) -> list[Finding]:
    scales = scale_items(instrument)
    k = found.k or 5
    rows = found.rows
    scores = [row_scores(row, scales) for row in rows]
    team_scores: dict[tuple[str, str], int] = {}
    for row, row_score in zip(rows, scores, strict=True):
        for scale in row_score:
            team_scores[row.label, scale] = team_scores.get((row.label, scale), 0) + 1
    program = Program()
    x = {(r, o): program.var(("x", r, o)) for r in range(len(rows)) for o in options}
    for r, row in enumerate(rows):
        program.add({x[r, o]: 1 for o in options}, 1, 1)
        if code in row.background:  # the export kept the column: the answer is known
            program.add({x[r, row.background[code]]: 1}, 1, 1)
    used_scales = []
    for scale in sorted({fact.scale for fact in facts}):
        cells = {fact.option: fact for fact in facts if fact.scale == scale}
        eligible = [
            r
            for r, row in enumerate(rows)
            if scale in scores[r]
            and _own_label(found, row.label)
            and team_scores[row.label, scale] >= k
        ]
        if sum(cell.n for cell in cells.values()) != len(eligible):
            continue  # the breakdown counts other rows than the attacker can see
        used_scales.append(scale)
        for option in options:
            cell = cells.get(option)
            n = cell.n if cell else 0
            program.add({x[r, option]: 1 for r in eligible}, n, n)
            if cell and cell.mean is not None and n:
                half = _half(cell.decimals) * n
                program.add(
                    {x[r, option]: scores[r][scale] for r in eligible},
                    n * cell.mean - half,
                    n * cell.mean + half,
                )
    if not used_scales:
        return []
    sources = sorted({fact.source for fact in facts})
    pinned = _pinned_choices(program, {r: {o: x[r, o] for o in options} for r in range(len(rows))})
    return [
        Finding(
            "background",
            f"row {r + 1} ({rows[r].label}): {code} = "
            f"{'not answered' if option is None else option}",
            f"response export + breakdown {', '.join(sources)} on {', '.join(used_scales)}",
        )
        for r, option in pinned
    ]


def _pinned_choices(
    program: Program, choices: dict[object, dict[object, int]]
) -> list[tuple[object, object]]:
    """Per subject, the one choice every solution makes; subjects seen with two choices in
    any solution are skipped without a solve."""
    started = time.monotonic()
    rng = np.random.default_rng(14)
    first = program.solve(objective=rng.normal(size=len(program.lower)))
    if first is None or first is False:
        return []
    seen: dict[object, set[object]] = {subject: set() for subject in choices}

    def record(solution: np.ndarray) -> None:
        for subject, options in choices.items():
            seen[subject].update(o for o, index in options.items() if solution[index] > 0.5)

    record(first)
    pinned = []
    for subject, options in choices.items():
        if len(seen[subject]) != 1 or time.monotonic() - started > PROGRAM_SECONDS:
            continue
        (chosen,) = seen[subject]
        other = program.solve(
            fixed={options[chosen]: (0, 0)}, objective=rng.normal(size=len(program.lower))
        )
        if other is None:
            pinned.append((subject, chosen))
        elif other is not False:
            record(other)
    return pinned


# --- 2. hidden teams --------------------------------------------------------------------------


def hidden_teams(found: Collected, instrument: Instrument) -> list[Finding]:
    findings = []
    k = found.k or 5
    if found.withheld is not None and 0 < found.withheld < k:
        findings.append(
            Finding(
                "hidden-team",
                f"{found.withheld} responses of teams below k exist outside the export",
                "the response export's note 'Responses withheld'",
            )
        )
    hidden = (found.answers_total or 0) - len(found.rows)
    if found.answers_total is not None and found.rows and 0 < hidden < k:
        findings.append(
            Finding(
                "hidden-team",
                f"{hidden} responses of teams below k counted",
                f"instrument quality 'on {found.answers_total} answers' − {len(found.rows)} "
                "rows in the response export",
            )
        )
    findings += _pooled_rows(found, instrument)
    if 0 < hidden < k:
        findings += _withheld_rows(found, instrument, hidden)
    return findings


def _pooled_rows(found: Collected, instrument: Instrument) -> list[Finding]:
    """Rows under a label that pools small units: which unit's rows are they?"""
    scales = scale_items(instrument)
    findings = []
    for label, units in found.labels.items():
        if len(units) < 2:
            continue
        members = [r for r, row in enumerate(found.rows) if row.label == label]
        facts = [
            f
            for f in found.figures
            if f.group in units and not f.hidden and (f.n is not None or f.mean is not None)
        ]
        if not members or not facts:
            continue
        program = Program()
        a = {(r, u): program.var(("a", r, u)) for r in members for u in units}
        for r in members:
            program.add({a[r, u]: 1 for u in units}, 1, 1)
        for fact in facts:
            values = {
                r: (
                    row_scores(found.rows[r], scales).get(fact.key)
                    if fact.kind == "scale"
                    else found.rows[r].values.get(fact.key)
                )
                for r in members
            }
            having = [r for r in members if values[r] is not None]
            if fact.n is not None:
                program.add({a[r, fact.group]: 1 for r in having}, fact.n, fact.n)
            if fact.mean is not None and fact.n:
                half = _half(fact.decimals) * fact.n
                program.add(
                    {a[r, fact.group]: values[r] for r in having},
                    fact.n * fact.mean - half,
                    fact.n * fact.mean + half,
                )
        pinned = _pinned_choices(program, {r: {u: a[r, u] for u in units} for r in members})
        sources = sorted({fact.source for fact in facts})
        findings += [
            Finding(
                "hidden-team",
                f"row {r + 1} under '{label}' belongs to {unit}",
                f"response export + {', '.join(sources)}",
            )
            for r, unit in pinned
        ]
    return findings


#: Withheld rows are put back per scale by enumerating candidates; at most this many.
MAX_CANDIDATES = 12
WITHHELD_SECONDS = 4.0


def _withheld_rows(found: Collected, instrument: Instrument, hidden: int) -> list[Finding]:
    """The answers of the withheld rows on a scale, from the instrument quality's n of complete
    rows, α and item–rest correlations computed over every response (visible + withheld)."""
    findings = []
    started = time.monotonic()
    for scale in instrument.scales():
        fact = found.reliability.get(scale.code)
        if fact is None or fact.complete is None or fact.alpha is None:
            continue
        if time.monotonic() - started > WITHHELD_SECONDS:
            break
        items = [(item.code, bool(item.reverse)) for item in scale.items]
        visible = np.array(
            [
                [reversed_value(row.values[c]) if rev else row.values[c] for c, rev in items]
                for row in found.rows
                if all(c in row.values for c, _ in items)
            ]
        ).reshape(-1, len(items))
        count = fact.complete - len(visible)
        if not 0 < count <= hidden:
            continue
        answers = _enumerate_scale(visible, count, fact, started + WITHHELD_SECONDS)
        if answers is not None:
            shown = "; ".join(" ".join(str(int(v)) for v in row) for row in answers)
            findings.append(
                Finding(
                    "hidden-team",
                    f"the {count} withheld complete rows on {scale.code} are exactly: {shown}"
                    " (items in order, reverse items as 6 − value)",
                    f"response export + instrument quality ({fact.source}): n, α, item–rest",
                )
            )
    return findings


def _enumerate_scale(
    visible: np.ndarray, count: int, fact: ReliabilityFact, deadline: float
) -> np.ndarray | None:
    """The unique set of ``count`` hidden rows (values 1–5, reverse-coded) that reproduces the
    published α (linear after fixing the hidden sums) and item–rest correlations, or None."""
    m = visible.shape[1]
    n = len(visible) + count
    program = Program()
    values = range(1, SCALE_POINTS + 1)
    y = {
        (h, i, v): program.var(("y", h, i, v))
        for h in range(count)
        for i in range(m)
        for v in values
    }
    for h, i in itertools.product(range(count), range(m)):
        program.add({y[h, i, v]: 1 for v in values}, 1, 1)
    # Rows in lexicographic order of their code: each set of rows is one solution.
    for h in range(count - 1):
        terms: dict[int, float] = {}
        for i, v in itertools.product(range(m), values):
            terms[y[h, i, v]] = terms.get(y[h, i, v], 0) - v * 5**i
            terms[y[h + 1, i, v]] = terms.get(y[h + 1, i, v], 0) + v * 5**i
        program.add(terms, 0, np.inf)

    # One-hot sums: per item over the hidden rows, per hidden row over the items, and of all.
    def one_hot(name, members: dict[int, float], low: int, high: int) -> dict[int, float]:
        hot = {t: program.var((name, t)) for t in range(low, high + 1)}
        program.add(dict.fromkeys(hot.values(), 1), 1, 1)
        program.add({**{hot[t]: t for t in hot}, **{j: -c for j, c in members.items()}}, 0, 0)
        return {hot[t]: float(t * t) for t in hot}

    squares_items: dict[int, float] = {}
    linear_items: dict[int, float] = {}
    sums = visible.sum(axis=0)
    for i in range(m):
        members = {y[h, i, v]: v for h in range(count) for v in values}
        for j, c in one_hot(("item", i), members, count, 5 * count).items():
            squares_items[j] = squares_items.get(j, 0) - c / n
        for j, c in members.items():
            linear_items[j] = linear_items.get(j, 0) + c * c - 2 * sums[i] * c / n
    constant_items = float((visible**2).sum() - (sums**2).sum() / n)
    totals = visible.sum(axis=1)
    total_terms: dict[int, float] = {}
    for h in range(count):
        members = {y[h, i, v]: v for i in range(m) for v in values}
        for j, c in one_hot(("row", h), members, m, 5 * m).items():
            total_terms[j] = total_terms.get(j, 0) + c
    everything = {y[h, i, v]: v for h in range(count) for i in range(m) for v in values}
    for j, c in one_hot("all", everything, m * count, 5 * m * count).items():
        total_terms[j] = total_terms.get(j, 0) - c / n
    for j, c in everything.items():
        total_terms[j] = total_terms.get(j, 0) - 2 * totals.sum() * c / n
    constant_total = float((totals**2).sum() - totals.sum() ** 2 / n)
    # α = m/(m−1)·(1 − Q_items/Q_total) within the rounding: Q_items − (1 − α·(m−1)/m)·Q_total.
    for bound, sign in (
        (fact.alpha - _half(fact.decimals), 1),
        (fact.alpha + _half(fact.decimals), -1),
    ):
        ratio = 1 - bound * (m - 1) / m
        terms = dict(linear_items)
        for j, c in squares_items.items():
            terms[j] = terms.get(j, 0) + c
        for j, c in total_terms.items():
            terms[j] = terms.get(j, 0) - ratio * c
        constant = constant_items - ratio * constant_total
        # sign 1: α ≥ low ⇔ Q_items ≤ ratio·Q_total; sign −1: α ≤ high ⇔ Q_items ≥ ratio·Q_total
        if sign == 1:
            program.add(terms, -np.inf, -constant)
        else:
            program.add(terms, -constant, np.inf)
    matches, cuts = [], []
    for _ in range(MAX_CANDIDATES):
        if time.monotonic() > deadline:
            return None
        solution = program.solve(extra=cuts)
        if solution is None:
            break
        if solution is False:
            return None
        rows = np.array(
            [
                [next(v for v in values if solution[y[h, i, v]] > 0.5) for i in range(m)]
                for h in range(count)
            ]
        )
        if _reproduces(np.vstack([visible, rows]), fact):
            matches.append(rows)
            if len(matches) > 1:
                return None
        chosen = [index for index in y.values() if solution[index] > 0.5]
        cuts.append((dict.fromkeys(chosen, 1.0), -np.inf, len(chosen) - 1))
    else:
        return None  # too many candidates to tell
    return matches[0] if len(matches) == 1 else None


def _reproduces(values: np.ndarray, fact: ReliabilityFact) -> bool:
    """Whether the complete rows give the published α and item–rest correlations."""
    frame = pd.DataFrame(values, columns=list(fact.items) or None)
    alpha = cronbach_alpha(frame)
    if fact.alpha is not None and not _rounds_to(alpha, fact.alpha, fact.decimals):
        return False
    rests = item_rest_correlations(frame)
    for code, (rest, _dont_know) in fact.items.items():
        if rest is not None and not _rounds_to(float(rests[code]), rest, fact.decimals):
            return False
    return True


def _rounds_to(value: float, shown: float, decimals: int) -> bool:
    return not math.isnan(value) and abs(value - shown) <= _half(decimals)


# --- 3. hidden items --------------------------------------------------------------------------


def hidden_items(found: Collected, instrument: Instrument) -> list[Finding]:
    findings = []
    k = found.k or 5
    scales = scale_items(instrument)
    by_page: dict[tuple[str, str], list[Figure]] = {}
    for figure in found.figures:
        by_page.setdefault((figure.source, figure.group), []).append(figure)
    for (source, group), figures in by_page.items():
        for scale, items in scales.items():
            shares = next(
                (f.shares for f in figures if f.key == scale and f.shares is not None), None
            )
            item_figures = {f.key: f for f in figures if f.kind == "item" and f.shares is None}
            hidden = [
                code for code, _ in items if code in item_figures and item_figures[code].hidden
            ]
            shown = [
                code for code, _ in items if code in item_figures and not item_figures[code].hidden
            ]
            if shares is None or not hidden or len(hidden) + len(shown) < len(items):
                continue
            for code in hidden:
                answers = _hidden_item(items, item_figures, shares, code, k)
                if answers is not None:
                    findings.append(
                        Finding(
                            "hidden-item",
                            f"{group}: {code} hidden, its answers are exactly "
                            + ", ".join(f"{count}× {value}" for value, count in answers if count),
                            f"{source}: the answer shares of {scale} minus its shown items",
                        )
                    )
    return findings


def _hidden_item(
    items: Sequence[tuple[str, bool]],
    figures: dict[str, Figure],
    shares: Iterable[float],
    target: str,
    k: int,
) -> list[tuple[int, int]] | None:
    """The hidden item's count per answer 1–5 when the published figures force it."""
    shares = list(shares)
    program = Program()
    values = range(1, SCALE_POINTS + 1)
    c = {(code, v): program.var(("c", code, v), 0, 10_000) for code, _ in items for v in values}
    known = 0
    counts: dict[str, int] = {}
    for code, _reverse in items:
        figure = figures[code]
        if figure.hidden:
            counts[code] = program.var(("n", code), 1, k - 1)
        else:
            counts[code] = -1
            known += figure.n or 0
        members = {c[code, v]: 1.0 for v in values}
        if counts[code] >= 0:
            members[counts[code]] = -1.0
            program.add(members, 0, 0)
        else:
            program.add(members, figure.n, figure.n)
            if figure.mean is not None:
                half = _half(figure.decimals) * figure.n
                program.add(
                    {c[code, v]: v for v in values},
                    figure.n * figure.mean - half,
                    figure.n * figure.mean + half,
                )
            if figure.pct_favourable is not None:
                half = (0.5 * 10.0**-figure.pct_decimals + EPSILON) * figure.n / 100
                favourable = figure.pct_favourable * figure.n / 100
                program.add({c[code, v]: 1 for v in (4, 5)}, favourable - half, favourable + half)
    hidden_counts = {counts[code]: 1.0 for code, _ in items if counts[code] >= 0}
    for v in values:
        # The scale's shares count reverse-coded answers: value v of a reverse item is 6 − v.
        terms = {c[code, reversed_value(v) if reverse else v]: 1.0 for code, reverse in items}
        share = shares[v - 1] / 100
        for index in hidden_counts:
            terms[index] = terms.get(index, 0) - share
        slack = 1e-6 * (known + len(items) * k)
        program.add(terms, share * known - slack, share * known + slack)
    solution = program.solve()
    if solution is None or solution is False:
        return None
    forced = []
    for v in values:
        index = c[target, v]
        value = int(solution[index])
        for low, high in ((0, value - 1), (value + 1, 10_000)):
            if high >= low and program.solve(fixed={index: (low, high)}) is not None:
                return None  # another count fits as well (or the time ran out)
        forced.append((v, value))
    return forced
