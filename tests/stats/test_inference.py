"""Inference of the agreement coefficients: tests that hold their level, honest intervals,
bootstrap accounting, round-off (issue 10, items 3, 7, 13, 14).

Simulations are seeded and small; the full-size ones are in scripts/sim_pvalues.py.
"""
import numpy as np
import pytest

from irr.stats import ConfidenceInterval, Ratings
from irr.stats._results import wilson_interval
from irr.stats.chance_corrected import (
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    gwet_ac,
    percent_agreement,
    scott_pi,
)
from irr.stats.krippendorff import krippendorff_alpha

SCALE = [1, 2, 3]


# ------------------------------------------------------ p-values under H0
def test_rejection_rate_under_independence_n20():
    # 3 independent raters, 3 equally likely categories, 20 units: H0 is true for every
    # coefficient.  The old z tests (estimate / SE of the estimate) rejected in
    # 11.5% (Fleiss), 9.0% (Conger), 8.9% (alpha) and 8.2% (AC1) of datasets at
    # alpha = .05 (review); on these 300 seeded datasets they reject 12.3%, 10.3%,
    # 9.0% and 9.0% (checked against the old code).  With the null variance they
    # reject 5.7-6.7% here, ~4-5% in scripts/sim_pvalues.py; 7.5% is the bound,
    # and 1% guards against a test that never rejects.
    rng = np.random.default_rng(20261201)
    reps = 300
    data = rng.integers(1, 4, size=(reps, 20, 3)).astype(float)
    funcs = {"fleiss": fleiss_kappa, "conger": conger_kappa, "alpha": krippendorff_alpha, "ac1": gwet_ac}
    rejected = {name: 0 for name in funcs}
    for x in data:
        ratings = Ratings.from_wide(x, categories=SCALE)
        for name, func in funcs.items():
            rejected[name] += func(ratings).p_value < 0.05
    rates = {name: count / reps for name, count in rejected.items()}
    assert all(0.01 <= rate <= 0.075 for rate in rates.values()), rates


def _independent(rng, reps, n, marginals, missing):
    cum = np.asarray(marginals).cumsum(axis=1)
    draws = rng.random((reps, n, cum.shape[0]))
    x = 1.0 + (draws[..., None] > cum[None, None, :, :]).sum(axis=-1)
    x[rng.random(x.shape) < missing] = np.nan
    return x


@pytest.mark.parametrize("func,marginals", [
    # Conger's H0 keeps each rater's own marginal; Fleiss' and alpha's share one
    (conger_kappa, [[0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4], [0.4, 0.2, 0.4]]),
    (fleiss_kappa, [[0.5, 0.3, 0.2]] * 4),
    (krippendorff_alpha, [[0.5, 0.3, 0.2]] * 4),
])
def test_null_se_is_the_sd_of_the_estimate_under_h0_with_missing_ratings(func, marginals):
    # 4 raters, 25% of ratings missing: the mean null SE must match the Monte Carlo SD
    # of the estimate under H0 (within 15%; 100 datasets give the SD to ~7%).
    x = _independent(np.random.default_rng(7), 100, 40, marginals, 0.25)
    est, se0 = [], []
    for xi in x:
        res = func(Ratings.from_wide(xi, categories=SCALE))
        est.append(res.estimate)
        se0.append(res.details["standard_error_null"])
    assert np.mean(se0) == pytest.approx(np.std(est), rel=0.15)


def test_percent_agreement_has_no_p_value():
    res = percent_agreement(np.array([[1, 1], [2, 2], [1, 2], [3, 3]]))
    assert np.isnan(res.p_value)
    assert "raw proportion" in res.details["test"]


@pytest.mark.parametrize("func", [fleiss_kappa, conger_kappa, gwet_ac, brennan_prediger, krippendorff_alpha,
                                  cohen_kappa, scott_pi])
def test_every_test_is_named(func):
    x = np.array([[1, 1], [2, 2], [1, 2], [3, 3], [2, 3], [1, 1]], dtype=float)
    res = func(x)
    assert res.details["test"].startswith("z = estimate / SE0") or "ASE0" in res.details["test"]
    assert res.details["z"] == pytest.approx(res.estimate / res.details["standard_error_null"])


# ----------------------------------------------------------- intervals
def test_wilson_interval_inside_unit_interval():
    # Wilson (1927), p = 0.9, n = 10, 95%: statsmodels 0.15.0 proportion_confint(9, 10, method="wilson")
    assert wilson_interval(0.9, 10, 1.959963984540054) == pytest.approx(
        (0.5958499732047614, 0.982123786904927), abs=1e-12)
    # percent agreement 0.9 on 10 papers (2 raters): used to be (0.704, 1.096)
    x = np.array([[1, 1]] * 9 + [[1, 2]], dtype=float)
    ci = percent_agreement(x).confidence_interval()
    assert 0 <= ci.low < 0.9 < ci.high <= 1
    assert ci.method.startswith("wilson")
    low, high = ci                        # still unpacks as a pair
    assert (low, high) == (ci.low, ci.high)


def test_perfect_agreement_gets_a_lower_bound_from_every_method():
    x = np.array([[1, 1, 1], [2, 2, 2], [3, 3, 3]] * 4, dtype=float)   # 12 units, all agree
    res = fleiss_kappa(x)
    assert res.estimate == 1 and res.standard_error == 0
    # Wilson lower bound of p_a = 1 over 12 units: 12 / (12 + z^2); kappa with p_e = 1/3
    z2 = 1.959963984540054**2
    expected_low = (12 / (12 + z2) - 1 / 3) / (1 - 1 / 3)
    for method in ("analytic", "jackknife", "bootstrap"):
        ci = res.confidence_interval(method=method, n_resamples=200)
        assert ci.low == pytest.approx(expected_low) and ci.high == 1.0, method
        assert ci.method.startswith("wilson-mapped") and "zero width" in ci.note
    pa = percent_agreement(x).confidence_interval()
    assert pa.low == pytest.approx(12 / (12 + z2)) and pa.high == 1.0


def test_constant_rater_interval_is_undefined_with_reason():
    x = np.column_stack([np.full(10, 2.0), [3, 1, 1, 1, 1, 3, 3, 2, 1, 1]])
    res = cohen_kappa(x, categories=SCALE)
    assert res.estimate == 0 and res.standard_error == 0
    ci = res.confidence_interval()
    assert np.isnan(ci.low) and np.isnan(ci.high) and "same score" in ci.note


def test_one_unit_bootstrap_is_refused():
    res = fleiss_kappa(np.array([[1, 1, 2]], dtype=float), categories=[1, 2])
    ci = res.confidence_interval(method="bootstrap", n_resamples=50)
    assert np.isnan(ci.low) and "at least 2 units" in ci.note


def test_upper_bound_is_clipped_at_one_with_a_note():
    x = np.array([[1, 1], [2, 2], [3, 3], [1, 1], [2, 2], [3, 3], [1, 2]], dtype=float)
    res = cohen_kappa(x)
    ci = res.confidence_interval()
    assert res.estimate + 1.959963984540054 * res.standard_error > 1   # the raw bound is impossible
    assert ci.high == 1.0 and "clipped at 1" in ci.note


def test_bootstrap_counts_undefined_replicates_and_refuses_past_ten_percent():
    # [[1,1]]*7 + [[1,2]]: a resample without the (1,2) unit has chance agreement 1
    # (probability (7/8)^8 = 34%); such replicates used to be dropped silently -> [0, 0].
    x = np.array([[1, 1]] * 7 + [[1, 2]], dtype=float)
    res = cohen_kappa(x, categories=[1, 2])
    ci = res.confidence_interval(method="bootstrap", n_resamples=1000)
    assert isinstance(ci, ConfidenceInterval)
    assert 0.28 < ci.n_undefined / 1000 < 0.40
    assert np.isnan(ci.low) and np.isnan(ci.high) and "refused" in ci.note
    # a few undefined replicates are reported but do not void the interval
    y = np.array([[1, 1]] * 12 + [[1, 2], [2, 2], [2, 1]] + [[2, 2]] * 2, dtype=float)
    ci = cohen_kappa(y, categories=[1, 2]).confidence_interval(method="bootstrap", n_resamples=1000)
    assert 0 < ci.n_undefined <= 100 and np.isfinite(ci.low) and "undefined" in ci.note


# ----------------------------------------------------------- round-off
def test_round_off_is_an_exact_zero():
    # Conger's kappa with a constant rater was 8.3e-17 with SE 5.1e-17 and p = 0.10
    # (here -9.3e-17, SE 3.1e-17, p = 0.003); Cohen's kappa on the same data is 0, p NaN.
    x = np.column_stack([np.full(10, 2.0), [3, 1, 1, 1, 1, 3, 3, 2, 1, 1]])
    for func in (conger_kappa, cohen_kappa):
        res = func(x, categories=SCALE)
        assert res.estimate == 0.0 and res.standard_error == 0.0, func.__name__
        assert np.isnan(res.p_value), func.__name__
