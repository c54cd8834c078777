"""Known-answer tests for percent agreement and the kappa family.

Reference values (copied here; tests never read ../shared):
- Krippendorff's 4 coders x 12 units example as shipped by R irrCAC
  (`cac.raw4raters`; Gwet 2014, p. 120): irrCAC 1.4 estimates (recomputed as
  (pa - pe)/(1 - pe), 10 dp) and standard errors (printed to 5 dp).
- Fleiss (1971) psychiatric diagnoses, 30 patients x 6 ratings (R irr `diagnoses`):
  irr 0.84.1, irrCAC 1.0/1.4, statsmodels 0.15.0, nltk 3.10.4.
- SAS PROC FREQ example table (statsmodels test_inter_rater.py): kappa 0.4842,
  ASE 0.1380, 95% CI 0.2137..0.7547, ASE0 0.1484; weighted (Cicchetti-Allison).
- Wikipedia "Fleiss' kappa" worked example (10 subjects x 14 raters): 0.210.
- Randolph (2005) online calculator values quoted in statsmodels' tests.
"""
import numpy as np
import pytest
import statsmodels.stats.inter_rater as smir
from sklearn.metrics import cohen_kappa_score

from irr.errors import DataError, InsufficientDataError, RaterIdentityError
from irr.stats import Ratings
from irr.stats.chance_corrected import (
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    gwet_ac,
    percent_agreement,
    scott_pi,
)

NA = np.nan
# Krippendorff (2011) / irrCAC cac.raw4raters: units x raters, NaN = missing.
KRIPP_4X12 = np.array([
    [1, 1, NA, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
    [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [NA, 5, 5, 5], [NA, NA, 1, 1], [NA, NA, 3, NA],
])

# Fleiss (1971) diagnoses as category codes 1..5 (irr's reconstruction of the raw data).
DIAGNOSES = np.array([
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
])

SAS_TABLE = np.array([[0, 4, 1], [0, 8, 0], [0, 1, 5]])  # scores 0, 1, 2

# irrCAC 1.4 on cac.raw4raters: (estimate, pa, pe, se)
IRRCAC_4X12 = {
    ("percent_agreement", None): (0.8181818182, 0.8181818182, 0.0, 0.12561),
    ("gwet_ac", None): (0.7754440681, 0.8181818182, 0.1903211806, 0.14295),
    ("fleiss_kappa", None): (0.7611692754, 0.8181818182, 0.2387152778, 0.15302),
    ("conger_kappa", None): (0.7628174413, 0.8181818182, 0.2334251607, 0.14917),
    ("brennan_prediger", None): (0.7727272727, 0.8181818182, 0.2, 0.14472),
    ("gwet_ac", "linear"): (0.8587391364, 0.9393939394, 0.5709635417, 0.11733),
    ("fleiss_kappa", "linear"): (0.8179447671, 0.9393939394, 0.6671006944, 0.14850),
    ("conger_kappa", "linear"): (0.8137763200, 0.9393939394, 0.6745523416, 0.14509),
    ("brennan_prediger", "linear"): (0.8484848485, 0.9393939394, 0.6, 0.12336),
    ("gwet_ac", "quadratic"): (0.9140007236, 0.9753787879, 0.7137044271, 0.10396),
    ("fleiss_kappa", "quadratic"): (0.8649350649, 0.9753787879, 0.8177083333, 0.14603),
    ("conger_kappa", "quadratic"): (0.8577106562, 0.9753787879, 0.8269637665, 0.14367),
    ("brennan_prediger", "quadratic"): (0.9015151515, 0.9753787879, 0.75, 0.11089),
}
FUNCS = {"percent_agreement": percent_agreement, "gwet_ac": gwet_ac, "fleiss_kappa": fleiss_kappa,
         "conger_kappa": conger_kappa, "brennan_prediger": brennan_prediger}


@pytest.mark.parametrize("name,weights", list(IRRCAC_4X12))
def test_irrcac_4x12(name, weights):
    estimate, pa, pe, se = IRRCAC_4X12[(name, weights)]
    func = FUNCS[name]
    res = func(KRIPP_4X12) if weights is None else func(KRIPP_4X12, weights)
    assert res.estimate == pytest.approx(estimate, abs=1e-9)
    assert res.observed == pytest.approx(pa, abs=1e-9)
    assert res.expected == pytest.approx(pe, abs=1e-9)
    assert res.standard_error == pytest.approx(se, abs=5e-6)
    assert res.n_units == 12 and res.n_raters == 4 and res.n_ratings == 41  # 48 cells, 7 empty


def test_unit_with_one_rating_is_reported():
    res = fleiss_kappa(KRIPP_4X12)
    assert res.dropped == {"fewer than 2 ratings (used for chance agreement only)": 1}


def test_fleiss_1971_diagnoses():
    res = fleiss_kappa(DIAGNOSES)
    assert res.estimate == pytest.approx(0.4302445201, abs=1e-9)  # Fleiss (1971); irr, statsmodels
    assert res.standard_error == pytest.approx(0.0542, abs=5e-5)    # irrCAC 1.0/1.4
    # irr kappam.fleiss(detail=TRUE), printed to 3 dp
    per = [round(v, 3) for v in res.details["per_category"].values()]
    assert per == [0.245, 0.245, 0.520, 0.471, 0.566]
    assert conger_kappa(DIAGNOSES).estimate == pytest.approx(0.4418085403, abs=1e-9)
    assert conger_kappa(DIAGNOSES).standard_error == pytest.approx(0.05079, abs=5e-6)
    assert brennan_prediger(DIAGNOSES).estimate == pytest.approx(0.4444444444, abs=1e-9)
    ac1 = gwet_ac(DIAGNOSES)
    assert ac1.estimate == pytest.approx(0.4478845158, abs=1e-9)
    assert ac1.standard_error == pytest.approx(0.05566, abs=5e-6)
    assert percent_agreement(DIAGNOSES).estimate == pytest.approx(0.5555555556, abs=1e-9)  # nltk avg_Ao


def test_fleiss_from_counts_wikipedia_and_randolph():
    counts = np.array([
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ])
    ratings = Ratings.from_counts(counts)
    assert fleiss_kappa(ratings).estimate == pytest.approx(0.2099307044, abs=1e-9)
    assert brennan_prediger(ratings).estimate == pytest.approx(0.2225274725, abs=1e-9)
    # Randolph (2005) calculator, via statsmodels test_fleis_randolph
    small = Ratings.from_counts(np.array([[7, 1], [3, 5]]))
    assert fleiss_kappa(small).estimate == pytest.approx(0.161905, abs=1e-6)
    assert brennan_prediger(small).estimate == pytest.approx(0.214286, abs=1e-6)
    three = Ratings.from_counts(np.array([[6, 1, 0], [0, 7, 0]]))
    assert fleiss_kappa(three).estimate == pytest.approx(0.708333, abs=1e-6)
    assert brennan_prediger(three).estimate == pytest.approx(0.785714, abs=1e-6)


def test_counts_have_no_rater_identity():
    with pytest.raises(RaterIdentityError, match="from_long"):
        conger_kappa(Ratings.from_counts(np.array([[2, 0], [1, 1]])))


@pytest.mark.parametrize("weights,kappa,ase,ase0,low,high", [
    # SAS PROC FREQ printout (statsmodels tests); linear = Cicchetti-Allison on scores 0,1,2
    (None, 0.4841628959, 0.1380135783, 0.1483982819, 0.2136612531, 0.7546645388),
    ("linear", 0.4701195219, 0.1457460451, 0.1425850776, 0.1844625225, 0.7557765213),
    # quadratic: statsmodels 0.15.0 (same formula)
    ("quadratic", 0.4501607717, 0.1922326634, 0.1879194683, 0.0733916749, 0.8269298685),
])
def test_cohen_kappa_sas(weights, kappa, ase, ase0, low, high):
    res = cohen_kappa(Ratings.from_table(SAS_TABLE, categories=[0, 1, 2]), weights)
    assert res.estimate == pytest.approx(kappa, abs=1e-9)
    assert res.standard_error == pytest.approx(ase, abs=1e-9)
    assert res.details["standard_error_null"] == pytest.approx(ase0, abs=1e-9)
    assert res.confidence_interval(0.95) == pytest.approx((low, high), abs=1e-9)


def test_cohen_sas_z_and_p():
    res = cohen_kappa(Ratings.from_table(SAS_TABLE, categories=[0, 1, 2]), alternative="greater")
    assert res.details["z"] == pytest.approx(3.2626, abs=1e-4)  # SAS Z
    assert res.p_value == pytest.approx(0.0006, abs=5e-5)        # SAS one-sided Pr > Z
    two = cohen_kappa(Ratings.from_table(SAS_TABLE, categories=[0, 1, 2]))
    assert two.p_value == pytest.approx(0.0011, abs=5e-5)       # SAS Pr > |Z|


# irrCAC 1.0/1.4 table functions on the SAS table: point estimates.
@pytest.mark.parametrize("func,weights,value", [
    (scott_pi, None, 0.4532374101), (gwet_ac, None, 0.5559883155),
    (brennan_prediger, None, 0.5263157895), (percent_agreement, None, 0.6842105263),
    (scott_pi, "linear", 0.4423480084), (gwet_ac, "linear", 0.6448598131),
    (brennan_prediger, "linear", 0.5855263158),
    (scott_pi, "quadratic", 0.4271356784), (gwet_ac, "quadratic", 0.7196721311),
    (brennan_prediger, "quadratic", 0.6447368421),
])
def test_two_rater_table_values(func, weights, value):
    ratings = Ratings.from_table(SAS_TABLE, categories=[0, 1, 2])
    res = func(ratings) if weights is None else func(ratings, weights)
    assert res.estimate == pytest.approx(value, abs=1e-9)


def test_table_se_convention():
    # irrCAC's *2.table functions divide the linearized variance by n^2, its *.raw
    # functions (which we follow) by n(n-1): SE_table = SE_raw * sqrt((n-1)/n).
    ratings = Ratings.from_table(SAS_TABLE, categories=[0, 1, 2])
    n = 19
    for func, se_table in [(scott_pi, 0.1655906), (gwet_ac, 0.1588459), (brennan_prediger, 0.1599588)]:
        assert func(ratings).standard_error * np.sqrt((n - 1) / n) == pytest.approx(se_table, abs=5e-7)


def test_abstractors_table():
    # Gwet (2014) cont3x3abstractors; irrCAC 1.0/1.4
    table = np.array([[13, 0, 0], [0, 20, 7], [0, 4, 56]])
    ratings = Ratings.from_table(table, categories=[1, 2, 3])
    assert cohen_kappa(ratings).estimate == pytest.approx(0.7964094022, abs=1e-9)
    assert cohen_kappa(ratings).standard_error == pytest.approx(0.05891071833, abs=1e-9)
    assert cohen_kappa(ratings, "quadratic").estimate == pytest.approx(0.8921568627, abs=1e-9)
    assert gwet_ac(ratings).estimate == pytest.approx(0.8493305482, abs=1e-9)
    assert gwet_ac(ratings, "quadratic").estimate == pytest.approx(0.9402368793, abs=1e-9)
    assert percent_agreement(ratings).estimate == pytest.approx(0.89, abs=1e-12)


def test_sklearn_index_weight_trap():
    # A 1-4 rubric where nobody used 3: weights must come from the score values.
    y1, y2 = [1, 2, 4, 4, 2, 1], [2, 2, 4, 2, 1, 1]
    ratings = Ratings.from_wide(np.column_stack([y1, y2]), categories=[1, 2, 3, 4])
    assert cohen_kappa(ratings, "quadratic").estimate == pytest.approx(0.625, abs=1e-12)
    assert cohen_kappa_score(y1, y2, weights="quadratic") == pytest.approx(0.5714285714)


def test_cohen_needs_two_raters_and_drops_singletons():
    with pytest.raises(DataError, match="exactly 2 raters"):
        cohen_kappa(KRIPP_4X12)
    data = np.array([[1, 1], [2, 2], [2, NA], [3, 3], [1, 2]])
    res = cohen_kappa(data)
    assert res.n_units == 4
    assert res.dropped == {"rated by one rater only": 1}


def test_degenerate_inputs_are_clear():
    with pytest.raises(InsufficientDataError, match="chance agreement is 1"):
        fleiss_kappa(np.array([[2, 2], [2, 2], [2, 2]]), categories=[1, 2])
    with pytest.raises(InsufficientDataError, match="at least 2 score points"):
        fleiss_kappa(np.array([[2, 2], [2, 2]]))  # scale of one point
    with pytest.raises(InsufficientDataError, match="2 or more ratings"):
        fleiss_kappa(np.array([[1, NA], [NA, 2]]))
    # everyone agrees on a 4-point scale: kappa is 1, not NaN
    assert fleiss_kappa(np.array([[2, 2], [3, 3]]), categories=[1, 2, 3, 4]).estimate == 1.0


# --------------------------------------------------------- cross-checks
def _random_ratings(seed, n=200, raters=4, k=5, missing=0.15):
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, k, size=n)  # category k is never the truth: often unused
    noise = rng.integers(-1, 2, size=(n, raters))
    x = np.clip(truth[:, None] + noise, 1, k - 1).astype(float)
    x[rng.random((n, raters)) < missing] = np.nan
    return x


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cohen_matches_statsmodels_and_sklearn(seed):
    x = _random_ratings(seed, raters=2, missing=0.1)
    both = ~np.isnan(x).any(axis=1)
    scale = [1, 2, 3, 4, 5]
    a, b = x[both, 0].astype(int), x[both, 1].astype(int)
    table = np.zeros((5, 5))
    np.add.at(table, (a - 1, b - 1), 1)
    for weights, sk in [(None, None), ("linear", "linear"), ("quadratic", "quadratic")]:
        ours = cohen_kappa(x, weights, categories=scale)
        ref = smir.cohens_kappa(table, wt=weights or None)
        assert ours.estimate == pytest.approx(ref.kappa, abs=1e-10)
        assert ours.standard_error == pytest.approx(ref.std_kappa, abs=1e-10)
        assert ours.estimate == pytest.approx(cohen_kappa_score(a, b, labels=scale, weights=sk), abs=1e-10)


@pytest.mark.parametrize("seed", [4, 5])
def test_fleiss_matches_statsmodels_on_complete_data(seed):
    x = _random_ratings(seed, raters=5, missing=0.0)
    counts, _ = smir.aggregate_raters(x.astype(int) - 1, n_cat=5)
    ratings = Ratings.from_wide(x, categories=[1, 2, 3, 4, 5])
    assert fleiss_kappa(ratings).estimate == pytest.approx(smir.fleiss_kappa(counts), abs=1e-10)
    assert brennan_prediger(ratings).estimate == pytest.approx(
        smir.fleiss_kappa(counts, method="randolph"), abs=1e-10)


def test_two_rater_conger_equals_cohen():
    x = _random_ratings(7, raters=2, missing=0.0)
    for weights in (None, "linear", "quadratic"):
        assert conger_kappa(x, weights).estimate == pytest.approx(cohen_kappa(x, weights).estimate, abs=1e-12)


def test_scott_equals_fleiss_for_two_complete_raters():
    x = _random_ratings(8, raters=2, missing=0.0)
    assert scott_pi(x).estimate == pytest.approx(fleiss_kappa(x).estimate, abs=1e-12)


def test_resampling_intervals_are_sane():
    x = _random_ratings(9, n=400, raters=4)
    for func in (fleiss_kappa, gwet_ac, conger_kappa, percent_agreement):
        res = func(x)
        low, high = res.confidence_interval(method="bootstrap", n_resamples=400)
        assert low < res.estimate < high
        assert res.jackknife_standard_error() == pytest.approx(res.standard_error, rel=0.15)
        p_low, p_high = res.confidence_interval(method="bootstrap", bootstrap="percentile", n_resamples=400)
        assert p_low < p_high
    # bootstrap replicates are reproducible with a seed and vary between seeds
    res = fleiss_kappa(x)
    assert np.array_equal(res.bootstrap_distribution(50, random_state=3), res.bootstrap_distribution(50, random_state=3))
    assert not np.array_equal(res.bootstrap_distribution(50, random_state=3), res.bootstrap_distribution(50, random_state=4))


def test_finite_population_correction_shrinks_se():
    res = fleiss_kappa(KRIPP_4X12, finite_population=24)
    assert res.standard_error == pytest.approx(0.15302 * np.sqrt(1 - 12 / 24), abs=5e-6)
    with pytest.raises(DataError, match="smaller than"):
        fleiss_kappa(KRIPP_4X12, finite_population=5)


def test_percent_agreement_details():
    x = np.array([[1, 1, 2], [3, 3, 3], [1, 4, NA]])
    res = percent_agreement(x, categories=[1, 2, 3, 4])
    # unit 1: 1 of 3 pairs agree; unit 2: 3 of 3; unit 3: 0 of 1 -> (1/3 + 1 + 0) / 3
    assert res.estimate == pytest.approx((1 / 3 + 1 + 0) / 3)
    assert res.details["all_within_tolerance"] == pytest.approx(1 / 3)
    # category 1: n_ik(n_ik-1) = 2 + 0; n_ik(r_i - 1) = 2*2 + 1*1 -> 2/5
    assert res.details["per_category"][1.0] == pytest.approx(2 / 5)
    within = percent_agreement(x, tolerance=1, categories=[1, 2, 3, 4])
    assert within.estimate == pytest.approx((1 + 1 + 0) / 3)


# ------------------------------------------- tests under H0, FPC, irrCAC intervals
def test_fleiss_null_z_matches_kappam_fleiss():
    # R irr 0.84.1 kappam.fleiss(diagnoses): z = 17.6518305830 with the "SE under H0"
    # of Fleiss, Nee & Landis (1979); p-value 0 to printed precision.
    res = fleiss_kappa(DIAGNOSES)
    assert res.details["z"] == pytest.approx(17.6518305830, abs=1e-9)
    assert res.details["z"] == pytest.approx(res.estimate / res.details["standard_error_null"])
    assert res.p_value < 1e-60


def test_conger_null_se_for_two_raters_is_sas_ase0():
    # Conger's kappa with 2 raters and complete data is Cohen's; its null SE is SAS's ASE0.
    ratings = Ratings.from_table(SAS_TABLE, categories=[0, 1, 2])
    assert conger_kappa(ratings).details["standard_error_null"] == pytest.approx(0.1483982819, abs=1e-9)
    assert conger_kappa(ratings, "linear").details["standard_error_null"] == pytest.approx(0.1425850776, abs=1e-9)


def test_null_se_carries_the_finite_population_correction():
    ratings = Ratings.from_table(SAS_TABLE, categories=[0, 1, 2])   # n = 19
    res = cohen_kappa(ratings, finite_population=38)
    assert res.standard_error == pytest.approx(0.1380135783 * np.sqrt(1 - 19 / 38), abs=1e-9)
    assert res.details["standard_error_null"] == pytest.approx(0.1483982819 * np.sqrt(1 - 19 / 38), abs=1e-9)
    for func in (fleiss_kappa, conger_kappa, gwet_ac, brennan_prediger):
        full, part = func(KRIPP_4X12), func(KRIPP_4X12, finite_population=24)
        assert part.details["standard_error_null"] == pytest.approx(
            full.details["standard_error_null"] * np.sqrt(1 - 12 / 24), rel=1e-12)


@pytest.mark.parametrize("func,data,printed", [
    # irrCAC 1.4 conf.int, printed to 3 dp: estimate +/- t(n-1) SE with the upper bound min(1, .)
    (fleiss_kappa, KRIPP_4X12, (0.424, 1.0)),
    (conger_kappa, KRIPP_4X12, (0.435, 1.0)),
    (gwet_ac, KRIPP_4X12, (0.461, 1.0)),
    (fleiss_kappa, DIAGNOSES, (0.319, 0.541)),
    (conger_kappa, DIAGNOSES, (0.338, 0.546)),
])
def test_t_intervals_match_irrcac_14(func, data, printed):
    ci = func(data).confidence_interval(distribution="t")
    assert (round(ci.low, 3), round(ci.high, 3)) == printed
    assert ci.method == f"t({len(data) - 1})"
