"""reports.reliability on datasets computed by hand (the arithmetic is in the comments), on
population correlation matrices with known loadings, and against scipy by a second route."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from reports.reliability import (
    ALPHA_FLAG_BELOW,
    IccResult,
    _omega_from_correlation,
    alpha_flag,
    cronbach_alpha,
    icc_from_groups,
    item_rest_correlations,
    mcdonald_omega,
    one_factor_loadings,
)


def one_factor_correlation(loadings: list[float]) -> np.ndarray:
    """The population correlations of one factor: r_ij = λ_i λ_j, ones on the diagonal."""
    correlation = np.outer(loadings, loadings)
    np.fill_diagonal(correlation, 1.0)
    return correlation


def simulate(loadings: list[float], error_sds: list[float], n: int, seed: int) -> pd.DataFrame:
    """n respondents of x_i = λ_i·F + e_i, with F and e_i normal, F of variance 1."""
    rng = np.random.default_rng(seed)
    factor = rng.standard_normal((n, 1))
    errors = rng.standard_normal((n, len(loadings))) * np.array(error_sds)
    values = factor * np.array(loadings) + errors
    return pd.DataFrame(values, columns=[f"S.{i}" for i in range(1, len(loadings) + 1)])


# Cronbach's alpha


def test_alpha_by_hand_with_listwise_deletion():
    items = pd.DataFrame(
        {
            "S.1": [1, 2, 3, 4, 5],
            "S.2": [2, 2, 4, 4, None],  # the fifth respondent is incomplete and left out
            "S.3": [2, 3, 3, 4, 1],
        }
    )
    # S.1 1 2 3 4: mean 2.5, squares 2.25 + 0.25 + 0.25 + 2.25 = 5 → variance 5/3
    # S.2 2 2 4 4: mean 3, squares 1 + 1 + 1 + 1 = 4 → 4/3
    # S.3 2 3 3 4: mean 3, squares 1 + 0 + 0 + 1 = 2 → 2/3; sum of item variances 11/3
    # totals 5 7 10 12: mean 8.5, squares 12.25 + 2.25 + 2.25 + 12.25 = 29 → 29/3
    # α = 3/2 · (1 − (11/3)/(29/3)) = 3/2 · 18/29 = 27/29 = 0.931034
    assert cronbach_alpha(items) == pytest.approx(27 / 29)


def test_alpha_equals_the_standardized_formula_when_item_variances_are_equal():
    # Each item is a permutation of 1..5, so every variance is 10/4 = 2.5.
    items = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 1, 4, 3, 5], "c": [1, 3, 2, 5, 4]})
    # deviations a −2 −1 0 1 2, b −1 −2 1 0 2, c −2 0 −1 2 1
    # a·b = 2 + 2 + 0 + 0 + 4 = 8 → cov 2, r .8; a·c = 4 + 0 + 0 + 2 + 2 = 8 → r .8
    # b·c = 2 + 0 − 1 + 0 + 2 = 3 → cov .75, r .3; mean r = 1.9/3
    # standardized α = k r̄ / (1 + (k − 1) r̄) = 1.9 / (1 + 2 · 1.9/3) = 1.9 / (6.8/3)
    #   = 5.7/6.8 = 0.838235
    # raw: total variance 7.5 + 2 · (2 + 2 + .75) = 17; α = 3/2 · (1 − 7.5/17) = 14.25/17
    assert cronbach_alpha(items) == pytest.approx(5.7 / 6.8)
    # the same by a second route: the mean off-diagonal correlation from numpy
    correlation = np.corrcoef(items.to_numpy(), rowvar=False)
    mean_r = correlation[np.triu_indices(3, 1)].mean()
    assert cronbach_alpha(items) == pytest.approx(3 * mean_r / (1 + 2 * mean_r))


def test_parallel_items_without_error_give_alpha_one():
    true_score = [1, 3, 2, 5, 4, 4]
    items = pd.DataFrame({"a": true_score, "b": true_score, "c": true_score})
    # variances s² each, total variance 9s²: α = 3/2 · (1 − 3s²/9s²) = 3/2 · 2/3 = 1
    assert cronbach_alpha(items) == pytest.approx(1.0)


def test_items_that_disagree_give_a_negative_alpha():
    # a 1 2 3, b 2 3 1: totals 3 5 4, variance 1; α = 2 · (1 − 2/1) = −2
    assert cronbach_alpha(pd.DataFrame({"a": [1, 2, 3], "b": [2, 3, 1]})) == pytest.approx(-2.0)


def test_alpha_is_nan_when_it_cannot_be_estimated():
    assert math.isnan(cronbach_alpha(pd.DataFrame({"a": [1, 2, 3]})))  # one item
    # one complete respondent
    assert math.isnan(cronbach_alpha(pd.DataFrame({"a": [1, 2], "b": [3, None]})))
    assert math.isnan(cronbach_alpha(pd.DataFrame({"a": [4, 4, 4], "b": [2, 2, 2]})))
    # a 1 2 3, b 3 2 1: totals 4 4 4 do not vary
    assert math.isnan(cronbach_alpha(pd.DataFrame({"a": [1, 2, 3], "b": [3, 2, 1]})))


def test_the_alpha_flag_is_below_point_seventy():
    assert ALPHA_FLAG_BELOW == 0.70
    assert alpha_flag(0.69) and not alpha_flag(0.70) and not alpha_flag(0.85)
    assert not alpha_flag(math.nan)  # not estimable is shown as such, not as a flag


# McDonald's omega


def test_omega_of_four_items_loading_point_seven():
    # r_ij = .7 · .7 = .49. ω = (4 · .7)² / ((2.8)² + 4 · (1 − .49)) = 7.84 / (7.84 + 2.04)
    #   = 7.84 / 9.88 = 0.793522; equal loadings, so ω equals standardized α:
    #   4 · .49 / (1 + 3 · .49) = 1.96 / 2.47 = 0.793522
    correlation = one_factor_correlation([0.7] * 4)
    assert one_factor_loadings(correlation) == pytest.approx([0.7] * 4, abs=1e-8)
    assert _omega_from_correlation(correlation) == pytest.approx(7.84 / 9.88, abs=1e-8)


def test_omega_of_three_items_where_one_factor_is_exactly_identified():
    # With three items λ_1² = r_12 r_13 / r_23 (and so on): loadings .8 .7 .6 give
    # r_12 = .56, r_13 = .48, r_23 = .42 → λ_1² = .56 · .48 / .42 = .64, λ_1 = .8.
    # ω = (2.1)² / (4.41 + (.36 + .51 + .64)) = 4.41 / 5.92 = 0.744932
    correlation = one_factor_correlation([0.8, 0.7, 0.6])
    assert one_factor_loadings(correlation) == pytest.approx([0.8, 0.7, 0.6], abs=1e-8)
    assert _omega_from_correlation(correlation) == pytest.approx(4.41 / 5.92, abs=1e-8)


def test_a_heywood_case_gives_nan_not_a_clipped_omega():
    # r_12 = r_13 = .8, r_23 = .5 (positive definite: det = 1 + .64 − 1.53 = .11)
    # λ_1² = .8 · .8 / .5 = 1.28 > 1: item 1 would have a negative unique variance.
    correlation = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.5], [0.8, 0.5, 1.0]])
    assert one_factor_loadings(correlation) == pytest.approx(
        [math.sqrt(1.28), math.sqrt(0.5), math.sqrt(0.5)], abs=1e-8
    )
    assert math.isnan(_omega_from_correlation(correlation))
    # the same from data: 2,000 respondents from that correlation matrix
    rng = np.random.default_rng(7)
    data = pd.DataFrame(rng.multivariate_normal(np.zeros(3), correlation, size=2000))
    assert math.isnan(mcdonald_omega(data))


def test_omega_equals_alpha_for_tau_equivalent_items_of_equal_variance():
    """Items x_i = .8 F + e_i with the error SD .6 for all (tau-equivalent, and as the error
    variances are equal also parallel). Population: item variance .64 + .36 = 1, r = .64, so
    α = ω = 4 · .64 / (1 + 3 · .64) = 2.56 / 2.92 = 0.876712.

    The error variances are equal on purpose: ω here is computed on correlations (the sum of
    standardized items), α on the raw items, and only with equal item variances do they
    estimate the same number (see the next test). On 200 seeds at n = 500 the sample
    difference ω − α had mean 0.0003, SD 0.00016 and a largest size of 0.0008: it comes only
    from the items' sample variances differing a little, so 0.002 is a generous tolerance.
    """
    data = simulate([0.8] * 4, [0.6] * 4, n=500, seed=1)
    omega, alpha = mcdonald_omega(data), cronbach_alpha(data)
    assert omega == pytest.approx(alpha, abs=0.002)
    assert omega == pytest.approx(2.56 / 2.92, abs=0.03)  # ±3 SE of the estimate at n = 500


def test_omega_on_tau_equivalent_items_of_unequal_variance_is_that_of_standardized_items():
    """x_i = F + e_i with error variances .5, .8, 1, 1.5 (tau-equivalent, not parallel).

    Raw α = raw ω = 16 / (16 + 3.8) = 0.808081. The standardized loadings are 1/√(1 + e_i):
    .816497 + .745356 + .707107 + .632456 = 2.901415, squared 8.418208; Σλ² = .666667 +
    .555556 + .5 + .4 = 2.122222, Σψ = 1.877778; ω = 8.418208 / 10.295986 = 0.817620.
    On 200 seeds at n = 500 both estimates had an SD of about 0.014, hence ±0.04 (3 SE), and
    ω − α had mean 0.0103 and SD 0.0024: always positive, and about the population 0.0095.
    """
    data = simulate([1.0] * 4, np.sqrt([0.5, 0.8, 1.0, 1.5]).tolist(), n=500, seed=2)
    omega, alpha = mcdonald_omega(data), cronbach_alpha(data)
    assert alpha == pytest.approx(16 / 19.8, abs=0.04)
    assert omega == pytest.approx(0.817620, abs=0.04)
    assert 0 < omega - alpha < 0.02


def test_omega_exceeds_alpha_on_congeneric_items():
    """Standardized loadings .9 .8 .6 .4 .3, unit item variances (congeneric).

    Σλ = 3, Σλ² = .81 + .64 + .36 + .16 + .09 = 2.06. ω = 9 / (9 + 5 − 2.06) = 9 / 11.94 =
    0.753769. Σ_{i<j} λ_i λ_j = (9 − 2.06)/2 = 3.47, total variance 5 + 2 · 3.47 = 11.94,
    α = 5/4 · (1 − 5/11.94) = 0.726549: α is a lower bound, 0.027 below ω. On 200 seeds at
    n = 500 ω − α had mean 0.028, SD 0.0056 and was never below 0.016.
    """
    loadings = [0.9, 0.8, 0.6, 0.4, 0.3]
    data = simulate(loadings, np.sqrt(1 - np.square(loadings)).tolist(), n=500, seed=3)
    omega, alpha = mcdonald_omega(data), cronbach_alpha(data)
    assert omega - alpha > 0.01
    assert omega == pytest.approx(9 / 11.94, abs=0.04)
    assert _omega_from_correlation(one_factor_correlation(loadings)) == pytest.approx(9 / 11.94)


def test_omega_is_nan_when_one_factor_cannot_be_fitted():
    two_items = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 1, 4, 3, 5]})
    assert math.isnan(mcdonald_omega(two_items))
    # three items need k + 2 = 5 complete respondents; the fifth here is incomplete
    items = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 1, 4, 3, None], "c": [1, 3, 4, 2, 5]})
    assert math.isnan(mcdonald_omega(items))
    # With b's fifth answer it is estimable. Deviations a −2 −1 0 1 2, b −1 −2 1 0 2,
    # c −2 0 1 −1 2, each with squares 10: r_ab = (2 + 2 + 0 + 0 + 4)/10 = .8,
    # r_ac = (4 + 0 + 0 − 1 + 4)/10 = .7, r_bc = (2 + 0 + 1 + 0 + 4)/10 = .7.
    # Exactly identified: λ_a² = .8 · .7/.7 = .8, λ_b² = .8, λ_c² = .7 · .7/.8 = .6125.
    # (Σλ)² = 4 · .8 + .6125 + 4√(.8 · .6125) = 3.8125 + 4 · .7 = 6.6125; Σψ = .7875
    # ω = 6.6125 / 7.4 = 0.893581
    assert mcdonald_omega(items.fillna(5)) == pytest.approx(6.6125 / 7.4, abs=1e-8)
    # an item that does not vary has no correlations
    constant = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [3] * 5, "c": [1, 3, 2, 5, 4]})
    assert math.isnan(mcdonald_omega(constant))


# item-rest correlations


def test_item_rest_correlations_by_hand():
    items = pd.DataFrame(
        {
            "S.1": [1, 2, 3, 4, 5],
            "S.2": [2, 1, 4, 3, None],  # the fifth respondent is incomplete and left out
            "S.3": [1, 3, 2, 4, 5],
        }
    )
    result = item_rest_correlations(items)
    assert result.index.tolist() == ["S.1", "S.2", "S.3"]
    # S.1 deviations −1.5 −.5 .5 1.5 (squares 5); rest S.2 + S.3 = 3 4 6 7, deviations
    # −2 −1 1 2 (squares 10); products 3 + .5 + .5 + 3 = 7 → r = 7 / √50 = 0.989949
    assert result["S.1"] == pytest.approx(7 / math.sqrt(50))
    # S.2 deviations −.5 −1.5 1.5 .5 (5); rest 2 5 5 8, deviations −3 0 0 3 (18);
    # products 1.5 + 0 + 0 + 1.5 = 3 → r = 3 / √90 = 0.316228
    assert result["S.2"] == pytest.approx(3 / math.sqrt(90))
    # S.3 deviations −1.5 .5 −.5 1.5 (5); rest 3 3 7 7, deviations −2 −2 2 2 (16);
    # products 3 − 1 − 1 + 3 = 4 → r = 4 / √80 = 0.447214
    assert result["S.3"] == pytest.approx(4 / math.sqrt(80))


def test_item_rest_agrees_with_scipy_pearson():
    data = simulate([0.8, 0.6, 0.4, 0.2], [0.6, 0.8, 0.9, 1.0], n=50, seed=4)
    result = item_rest_correlations(data)
    for code in data.columns:
        rest = data.drop(columns=code).sum(axis=1)
        assert result[code] == pytest.approx(stats.pearsonr(data[code], rest).statistic)


def test_item_rest_is_nan_for_an_item_that_does_not_vary():
    result = item_rest_correlations(pd.DataFrame({"a": [1, 2, 3], "b": [4, 4, 4]}))
    # a against b: b does not vary; b against a: b does not vary
    assert math.isnan(result["a"]) and math.isnan(result["b"])
    assert item_rest_correlations(pd.DataFrame({"a": [1.0], "b": [2.0]})).isna().all()


# intraclass correlations

#: Four teams of 3, 2, 4 and 1 respondents.
SCORES = {"A": [1, 2, 3], "B": [4, 6], "C": [3, 4, 4, 5], "D": [5]}


def team_statistics(by_team: dict[str, list[float]]) -> pd.DataFrame:
    """Each team's n, mean and sample variance of its scores: what the service reads from SQL
    and hands ``icc_from_groups``."""
    teams = [pd.Series(values, dtype=float) for values in by_team.values()]
    return pd.DataFrame(
        {
            "n": [team.count() for team in teams],
            "mean": [team.mean() for team in teams],
            "var": [team.var(ddof=1) for team in teams],
        }
    )


def test_icc_on_unbalanced_teams_by_hand():
    # A 1 2 3: mean 2, var 1; B 4 6: mean 5, var 2; C 3 4 4 5: mean 4, var 2/3; D 5: mean 5
    groups = pd.DataFrame(
        {"n": [3, 2, 4, 1], "mean": [2.0, 5.0, 4.0, 5.0], "var": [1.0, 2.0, 2 / 3, math.nan]}
    )
    result = icc_from_groups(groups)
    assert (result.groups, result.respondents) == (4, 10)
    # grand mean (6 + 10 + 16 + 5) / 10 = 3.7
    # MSB = (3 · 1.7² + 2 · 1.3² + 4 · .3² + 1 · 1.3²) / 3 = (8.67 + 3.38 + .36 + 1.69) / 3
    #     = 14.1 / 3 = 4.7
    assert result.msb == pytest.approx(4.7)
    # MSW = (2 · 1 + 1 · 2 + 3 · 2/3 + 0) / (10 − 4) = 6 / 6 = 1
    assert result.msw == pytest.approx(1.0)
    assert result.f == pytest.approx(4.7)
    # k̄ = (10 − (9 + 4 + 16 + 1) / 10) / 3 = (10 − 3) / 3 = 7/3
    # ICC(1) = (4.7 − 1) / (4.7 + (7/3 − 1) · 1) = 3.7 / (181/30) = 111/181 = 0.613260
    assert result.icc1 == pytest.approx(111 / 181)
    # ICC(2) = (4.7 − 1) / 4.7 = 0.787234
    assert result.icc2 == pytest.approx(3.7 / 4.7)
    # P(F(3, 6) ≥ 4.7): the F distribution's survival function, = 0.0512
    assert result.p == pytest.approx(stats.f.sf(4.7, 3, 6))
    assert result.p == pytest.approx(0.0512, abs=5e-4)


def test_icc_agrees_with_scipy_f_oneway():
    """The same teams, from their scores: f_oneway's F gives ICC(2) = 1 − 1/F and
    ICC(1) = (F − 1) / (F − 1 + k̄) (divide numerator and denominator by MSW)."""
    result = icc_from_groups(team_statistics(SCORES))
    anova = stats.f_oneway(*[np.array(values, dtype=float) for values in SCORES.values()])
    assert result.f == pytest.approx(anova.statistic)
    assert result.p == pytest.approx(anova.pvalue)
    k_bar = (10 - (9 + 4 + 16 + 1) / 10) / 3
    assert result.icc2 == pytest.approx(1 - 1 / anova.statistic)
    assert result.icc1 == pytest.approx((anova.statistic - 1) / (anova.statistic - 1 + k_bar))
    assert result == icc_from_groups(
        pd.DataFrame(
            {"n": [3, 2, 4, 1], "mean": [2.0, 5.0, 4.0, 5.0], "var": [1.0, 2.0, 2 / 3, math.nan]}
        )
    )


def test_icc_agrees_with_f_oneway_on_simulated_unequal_teams():
    rng = np.random.default_rng(5)
    sizes = [3, 8, 5, 12, 2, 7]
    by_team = {
        f"T{j}": (3 + 0.5 * rng.standard_normal() + rng.standard_normal(size)).tolist()
        for j, size in enumerate(sizes)
    }
    result = icc_from_groups(team_statistics(by_team))
    anova = stats.f_oneway(*[np.array(values) for values in by_team.values()])
    total = sum(sizes)
    k_bar = (total - sum(size**2 for size in sizes) / total) / (len(sizes) - 1)
    assert result.f == pytest.approx(anova.statistic)
    assert result.p == pytest.approx(anova.pvalue)
    assert result.icc1 == pytest.approx((anova.statistic - 1) / (anova.statistic - 1 + k_bar))
    assert result.icc2 == pytest.approx(1 - 1 / anova.statistic)


def test_icc1_is_negative_when_teams_are_more_alike_than_chance():
    """Allowed, not truncated: truncating at 0 would bias the estimate upwards across teams.
    With k̄ = 2 its floor is −1/(k̄ − 1) = −1."""
    # A 1 5: mean 3, var 8; B 2 5: mean 3.5, var 4.5; C 1 4: mean 2.5, var 4.5; grand mean 3
    result = icc_from_groups(team_statistics({"A": [1, 5], "B": [2, 5], "C": [1, 4]}))
    # MSB = 2 · (0 + .25 + .25) / 2 = .5; MSW = (8 + 4.5 + 4.5) / 3 = 17/3
    assert result.msb == pytest.approx(0.5) and result.msw == pytest.approx(17 / 3)
    # ICC(1) = (.5 − 17/3) / (.5 + 17/3) = (−31/6) / (37/6) = −31/37 = −0.837838
    assert result.icc1 == pytest.approx(-31 / 37)
    # ICC(2) = 1 − (17/3) / .5 = 1 − 34/3 = −31/3; F = .5 / (17/3) = 3/34
    assert result.icc2 == pytest.approx(-31 / 3)
    assert result.f == pytest.approx(3 / 34)
    # all means equal: MSB = 0, ICC(1) = −MSW / MSW = −1, the floor
    assert icc_from_groups(
        team_statistics({"A": [1, 5], "B": [2, 4], "C": [3, 3]})
    ).icc1 == pytest.approx(-1.0)


def test_identical_teams_without_spread_within_give_icc_one():
    result = icc_from_groups(team_statistics({"A": [2, 2], "B": [4, 4, 4]}))
    # MSW = 0, MSB > 0: all variance is between teams
    assert (result.icc1, result.icc2, result.f, result.p) == (1.0, 1.0, math.inf, 0.0)


def test_icc_is_nan_when_it_cannot_be_estimated():
    one_team = icc_from_groups(pd.DataFrame({"n": [4], "mean": [3.0], "var": [1.0]}))
    assert math.isnan(one_team.icc1) and math.isnan(one_team.msb) and math.isnan(one_team.p)
    assert one_team.msw == pytest.approx(1.0)  # still defined: 3 · 1 / (4 − 1)
    # every team a single respondent: N − J = 0, no within-team variance
    singles = icc_from_groups(
        pd.DataFrame({"n": [1, 1, 1], "mean": [2.0, 3.0, 4.0], "var": [math.nan] * 3})
    )
    assert math.isnan(singles.icc1) and math.isnan(singles.icc2) and math.isnan(singles.f)
    assert (singles.groups, singles.respondents) == (3, 3)
    # a team without respondents is left out: one team remains
    empty = icc_from_groups(
        pd.DataFrame({"n": [0, 3], "mean": [math.nan, 3.0], "var": [math.nan, 1.0]})
    )
    assert empty.groups == 1 and math.isnan(empty.icc1)
    # no variance anywhere: 0/0
    flat = icc_from_groups(team_statistics({"A": [3, 3], "B": [3, 3]}))
    assert math.isnan(flat.icc1) and math.isnan(flat.icc2) and math.isnan(flat.f)


def test_a_team_of_several_needs_its_variance():
    with pytest.raises(ValueError, match="variance"):
        icc_from_groups(pd.DataFrame({"n": [2, 3], "mean": [3.0, 4.0], "var": [math.nan, 1.0]}))


def test_icc_result_is_frozen():
    result = icc_from_groups(team_statistics(SCORES))
    assert isinstance(result, IccResult)
    with pytest.raises(AttributeError):
        result.icc1 = 0.0  # type: ignore[misc]
