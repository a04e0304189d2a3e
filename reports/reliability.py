"""How well the instrument measures: reliability of a scale's items, and how much of a score
lies between teams.

``items`` is wide: one row per respondent, one column per item of a single scale (named by item
code), already reverse-coded (``reports.scores.coded_values``), missing answers as NaN. The
item statistics use the respondents who answered every item (listwise deletion). The ICCs take
the sufficient statistics of a score per team, as SQL aggregates them. These are figures about
the questionnaire for the quality officer; the anonymity gate still decides what is shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reports.deferred import np, optimize, pd, special

#: A scale is flagged when its α is below .70, the customary minimum (Nunnally, 1978,
#: Psychometric Theory, 2nd ed.; on where the figure comes from see Lance, Butts & Michels,
#: 2006, Organizational Research Methods 9, 202–220).
ALPHA_FLAG_BELOW = 0.70

#: A fitted uniqueness ψ = 1 − λ² below this is a Heywood case (a loading of 1 or more).
HEYWOOD_UNIQUENESS = 1e-6


def _complete_rows(items: pd.DataFrame) -> pd.DataFrame:
    return items.astype(float).dropna(how="any")


def cronbach_alpha(items: pd.DataFrame) -> float:
    """Cronbach's (1951, Psychometrika 16, 297–334) coefficient α of the sum of ``items``.

    α = k/(k − 1) · (1 − Σ s²_i / s²_X), with k items, s²_i the sample variance (ddof=1) of
    item i and s²_X that of the respondents' totals, over the complete rows. NaN with fewer
    than 2 items, fewer than 2 complete respondents, or totals that do not vary.
    """
    complete = _complete_rows(items)
    k = complete.shape[1]
    if k < 2 or len(complete) < 2:
        return math.nan
    total_variance = float(complete.sum(axis=1).var(ddof=1))
    if not total_variance > 0:
        return math.nan
    item_variances = float(complete.var(ddof=1).sum())
    return k / (k - 1) * (1 - item_variances / total_variance)


def alpha_flag(alpha: float) -> bool:
    """Whether α is below ``ALPHA_FLAG_BELOW``. An α that could not be estimated (NaN) is not
    flagged: the page says "not estimable" instead."""
    return bool(alpha < ALPHA_FLAG_BELOW)


def mcdonald_omega(items: pd.DataFrame) -> float:
    """McDonald's ω (omega total) of ``items`` from a one-factor model of their correlations.

    ω = (Σλ)² / ((Σλ)² + Σψ) (McDonald, 1999, Test Theory: A Unified Treatment, ch. 6), with
    standardized loadings λ and uniquenesses ψ = 1 − λ² of one factor fitted by minres to the
    Pearson correlation matrix of the complete rows (see ``one_factor_loadings``). Because the
    fit is to correlations, this is the reliability of the sum of standardized items, as in
    the default of ``psych::omega`` (Revelle & Zinbarg, 2009, Psychometrika 74, 145–154); it
    equals α when the items are parallel and is at least α (in the population) when they are
    congeneric. The denominator is the model-implied variance of the sum, not the observed one.

    NaN when the model cannot be fitted or should not be believed: fewer than 3 items (one
    factor is not identified), fewer than k + 2 complete respondents (the correlations of n
    rows have rank at most n − 1), an item that does not vary, a fit that does not converge,
    or a Heywood case (some λ² ≥ 1 − 10⁻⁶, a uniqueness of zero or less). A Heywood case is
    not clipped to a loading of 1: it means that one factor does not describe these items
    or that there are too few respondents, and a clipped ω would overstate the reliability.
    """
    complete = _complete_rows(items)
    k = complete.shape[1]
    if k < 3 or len(complete) < k + 2:
        return math.nan
    values = complete.to_numpy()
    if np.any(np.ptp(values, axis=0) == 0):
        return math.nan
    return _omega_from_correlation(np.corrcoef(values, rowvar=False))


def _omega_from_correlation(correlation: np.ndarray) -> float:
    """ω of the one-factor minres fit to a correlation matrix; NaN as in ``mcdonald_omega``."""
    loadings = one_factor_loadings(correlation)
    if loadings is None:
        return math.nan
    uniquenesses = 1 - loadings**2
    if np.any(uniquenesses < HEYWOOD_UNIQUENESS):
        return math.nan
    common = float(loadings.sum()) ** 2
    return common / (common + float(uniquenesses.sum()))


def one_factor_loadings(correlation: np.ndarray) -> np.ndarray | None:
    """Loadings λ of one factor fitted to a k × k correlation matrix R (k ≥ 3) by minres.

    Minres (Harman & Jones, 1966, Psychometrika 31, 351–368) minimizes the squared residual
    correlations Σ_{i<j} (r_ij − λ_i λ_j)²; the diagonal is then reproduced exactly by
    ψ_i = 1 − λ_i². It is unweighted least squares, the default ``fm="minres"`` of
    ``psych::fa``, and the fixed point of iterated principal axis factoring. Solved with
    Levenberg–Marquardt (``scipy.optimize.least_squares``, analytic Jacobian) from principal
    axis starting values (the largest correlation of each row as communality). The sign is
    chosen so that Σλ ≥ 0. ``None`` when the fit does not converge. Loadings are not
    constrained: a Heywood case (|λ| ≥ 1) is returned for the caller to judge.
    """
    correlation = np.asarray(correlation, dtype=float)
    k = correlation.shape[0]
    if k < 3:
        raise ValueError("one factor needs at least three items")
    first, second = np.triu_indices(k, 1)
    observed = correlation[first, second]
    pairs = np.arange(len(observed))

    def residuals(loadings: np.ndarray) -> np.ndarray:
        return observed - loadings[first] * loadings[second]

    def jacobian(loadings: np.ndarray) -> np.ndarray:
        derivatives = np.zeros((len(observed), k))
        derivatives[pairs, first] = -loadings[second]
        derivatives[pairs, second] = -loadings[first]
        return derivatives

    reduced = correlation.copy()
    off_diagonal = np.abs(correlation - np.diag(np.diag(correlation)))
    np.fill_diagonal(reduced, off_diagonal.max(axis=1))
    eigenvalues, eigenvectors = np.linalg.eigh(reduced)
    start = math.sqrt(max(eigenvalues[-1], 0.0)) * eigenvectors[:, -1]
    fit = optimize.least_squares(
        residuals, start, jac=jacobian, method="lm", xtol=1e-12, ftol=1e-12, gtol=1e-12
    )
    if not fit.success or not np.all(np.isfinite(fit.x)):
        return None
    return fit.x if fit.x.sum() >= 0 else -fit.x


def item_rest_correlations(items: pd.DataFrame) -> pd.Series:
    """Per item, the Pearson correlation of the item with the sum of the other items.

    Over the complete rows; indexed by item code (the columns of ``items``). The corrected
    item-total correlation: the item is left out of the total so it does not correlate with
    itself. NaN for an item (or a rest) that does not vary, or with fewer than 2 rows.
    """
    complete = _complete_rows(items)
    correlations = np.full(complete.shape[1], math.nan)
    if len(complete) >= 2:
        values = complete.to_numpy()
        rest = values.sum(axis=1, keepdims=True) - values
        item_deviations = values - values.mean(axis=0)
        rest_deviations = rest - rest.mean(axis=0)
        products = (item_deviations * rest_deviations).sum(axis=0)
        scale = np.sqrt((item_deviations**2).sum(axis=0) * (rest_deviations**2).sum(axis=0))
        np.divide(products, scale, out=correlations, where=scale > 0)
    return pd.Series(correlations, index=items.columns, name="item_rest")


@dataclass(frozen=True)
class IccResult:
    """Intraclass correlations of a score between groups (teams), from a one-way ANOVA."""

    #: ICC(1): the share of the score's variance that lies between groups. Negative when the
    #: groups are more alike than chance would make them (MSB < MSW); down to −1/(k̄ − 1).
    icc1: float
    #: ICC(2): the reliability of a group's mean, 1 − 1/F. Negative when F < 1.
    icc2: float
    #: Groups with at least one respondent.
    groups: int
    respondents: int
    msb: float
    msw: float
    #: MSB / MSW with (groups − 1, respondents − groups) degrees of freedom.
    f: float
    #: P(F' ≥ F) under no difference between groups.
    p: float


def icc_from_groups(groups: pd.DataFrame) -> IccResult:
    """ICC(1) and ICC(2) from each group's ``n``, ``mean`` and ``var`` (sample, ddof=1).

    One-way ANOVA with J groups and N respondents, ȳ the grand mean of all respondents:
    MSB = Σ n_j (ȳ_j − ȳ)² / (J − 1), MSW = Σ (n_j − 1) s²_j / (N − J), F = MSB / MSW.
    ICC(1) = (MSB − MSW) / (MSB + (k̄ − 1)·MSW), the one-way random-effects (ANOVA)
    estimator, with k̄ = (N − Σ n_j² / N) / (J − 1) the group size that makes
    E(MSB) = σ²_within + k̄·σ²_between for unequal groups (Searle, Casella & McCulloch, 1992,
    Variance Components, §3.6; Donner, 1986, International Statistical Review 54, 67–82).
    For equal groups k̄ = n and this is ICC(1) of Bliese (2000, in Klein & Kozlowski (eds.),
    Multilevel Theory, Research, and Methods in Organizations, 349–381), whose ``multilevel``
    package uses the plain mean group size N/J instead. ICC(2) = (MSB − MSW) / MSB.
    Neither is truncated at zero. p = P(F(J − 1, N − J) ≥ F).

    Groups with n < 1 are left out; ``var`` may be missing where n = 1. Everything but the
    counts is NaN with fewer than 2 groups or N − J < 1 (no group of two); the ICCs are NaN
    when no score varies at all.
    """
    used = groups[groups["n"] >= 1]
    sizes = used["n"].to_numpy(dtype=float)
    means = used["mean"].to_numpy(dtype=float)
    variances = used["var"].to_numpy(dtype=float)
    if np.isnan(means).any() or np.any(np.isnan(variances) & (sizes > 1)):
        raise ValueError("every group needs a mean, and a variance when n > 1")
    group_count, respondents = len(sizes), float(sizes.sum())
    within_freedom = respondents - group_count
    msb = msw = icc1 = icc2 = f = p = math.nan
    if group_count >= 2:
        grand_mean = float((sizes * means).sum()) / respondents
        msb = float((sizes * (means - grand_mean) ** 2).sum()) / (group_count - 1)
    if within_freedom >= 1:
        msw = float(np.where(sizes > 1, (sizes - 1) * variances, 0.0).sum()) / within_freedom
    if group_count >= 2 and within_freedom >= 1:
        size = (respondents - float((sizes**2).sum()) / respondents) / (group_count - 1)
        denominator = msb + (size - 1) * msw
        if denominator > 0:
            icc1 = (msb - msw) / denominator
        if msb > 0:
            icc2 = (msb - msw) / msb
        if msw > 0:
            f = msb / msw
        elif msb > 0:
            f = math.inf
        if not math.isnan(f):
            p = float(special.fdtrc(group_count - 1, within_freedom, f))
    return IccResult(icc1, icc2, group_count, int(respondents), msb, msw, f, p)
