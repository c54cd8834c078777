"""Krippendorff's alpha: published values, the krippendorff package, properties.

Sources (numbers copied here):
- Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", 4 observers x
  12 units: nominal .743, ordinal .815, interval .849, ratio .797 (10 dp values agree
  across R irr 0.84.1, krippendorff 0.9.0 and irrCAC; golden/expected_values_computed.csv).
- Same paper: binary 2 observers x 10 units (.095) and nominal 2 observers x 12 units (.692).
- irrCAC 1.4 krippen.alpha.raw standard errors on the 4 x 12 data: 0.14548 (unweighted),
  0.12905 (quadratic = interval), 0.14036 (ratio). irrCAC 1.0 printed 0.14557 for the
  unweighted SE (an older variance formula); we follow 1.4.
- Fleiss (1971) diagnoses: nominal alpha 0.4334098283 (krippendorff, nltk, irrCAC). R irr's
  kripp.alpha gives 0.4308775817 there because of its no-missing-data bug.
"""
import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from irr.errors import DataError, InsufficientDataError
from irr.stats.krippendorff import coincidence_matrix, krippendorff_alpha

NA = np.nan
KRIPP_4X12 = np.array([
    [1, 1, NA, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
    [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [NA, 5, 5, 5], [NA, NA, 1, 1], [NA, NA, 3, NA],
])
# Krippendorff (2011) binary example: observers A and B over 10 units.
BINARY_A = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
BINARY_B = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
# Krippendorff (2011) nominal example: two observers, 12 units, values a..e coded 1..5.
NOMINAL_A = [1, 1, 2, 2, 4, 3, 3, 3, 5, 4, 4, 1]
NOMINAL_B = [2, 1, 2, 2, 2, 3, 3, 3, 5, 4, 4, 4]


@pytest.mark.parametrize("level,value,published", [
    ("nominal", 0.7434210526, 0.743), ("ordinal", 0.8153875038, 0.815),
    ("interval", 0.8491071429, 0.849), ("ratio", 0.7974027747, 0.797),
])
def test_krippendorff_2011_four_coders(level, value, published):
    res = krippendorff_alpha(KRIPP_4X12, level)
    assert res.estimate == pytest.approx(value, abs=1e-9)
    assert round(res.estimate, 3) == published
    assert res.n_units == 11 and res.dropped == {"fewer than 2 ratings": 1}
    assert res.estimate == pytest.approx((res.observed - res.expected) / (1 - res.expected))


def test_published_nominal_ratio_of_coincidences():
    # Krippendorff (2011): 40 pairable values, 32 of the coincidences on the diagonal;
    # alpha = 904/1216 = .743 (the fraction quoted with the paper's result)
    o = np.array(krippendorff_alpha(KRIPP_4X12).details["coincidences"])
    assert o.sum() == pytest.approx(40)
    assert np.diag(o).sum() == pytest.approx(32)
    assert krippendorff_alpha(KRIPP_4X12).estimate == pytest.approx(904 / 1216)


@pytest.mark.parametrize("level,se", [("nominal", 0.14548), ("interval", 0.12905), ("ratio", 0.14036)])
def test_irrcac_14_standard_errors(level, se):
    assert krippendorff_alpha(KRIPP_4X12, level).standard_error == pytest.approx(se, abs=5e-6)


def test_two_observer_examples():
    binary = np.column_stack([BINARY_A, BINARY_B]).astype(float)
    assert round(krippendorff_alpha(binary).estimate, 3) == 0.095
    nominal = np.column_stack([NOMINAL_A, NOMINAL_B]).astype(float)
    assert round(krippendorff_alpha(nominal).estimate, 3) == 0.692


def test_fleiss_diagnoses_nominal():
    from tests.stats.test_chance_corrected import DIAGNOSES

    assert krippendorff_alpha(DIAGNOSES.astype(float)).estimate == pytest.approx(0.4334098283, abs=1e-9)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_matches_krippendorff_package(seed, level):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, size=(150, 5)).astype(float)  # score 6 is declared but never used
    x[rng.random(x.shape) < 0.35] = np.nan
    scale = [1, 2, 3, 4, 5, 6]
    ours = krippendorff_alpha(x, level, categories=scale).estimate
    ref = krippendorff.alpha(x.T, level_of_measurement=level, value_domain=scale)
    assert ours == pytest.approx(ref, abs=1e-10)


def test_custom_metric_equals_interval():
    ours = krippendorff_alpha(KRIPP_4X12, lambda c, k: (c - k) ** 2).estimate
    assert ours == pytest.approx(0.8491071429, abs=1e-9)
    with pytest.raises(DataError, match="custom metric"):
        krippendorff_alpha(KRIPP_4X12, lambda c, k: c + k)
    with pytest.raises(DataError, match="level must be"):
        krippendorff_alpha(KRIPP_4X12, "ordinal_weights")


def test_ordinal_se_is_jackknife_and_intervals_work():
    res = krippendorff_alpha(KRIPP_4X12, "ordinal")
    assert "jackknife" in res.se_method
    assert res.standard_error == pytest.approx(res.jackknife_standard_error())
    low, high = res.confidence_interval(method="bootstrap", n_resamples=300)
    assert low < res.estimate < high


def test_degenerate():
    with pytest.raises(InsufficientDataError, match="2 or more"):
        krippendorff_alpha(np.array([[1, NA], [NA, 2]]))
    with pytest.raises(InsufficientDataError, match="no expected disagreement"):
        krippendorff_alpha(np.array([[2, 2], [2, 2]]), categories=[1, 2, 3])


def test_coincidence_matrix_small():
    # unit (1,1): o_11 += 2; unit (1,2): o_12 += 1, o_21 += 1
    assert coincidence_matrix(np.array([[1, 1], [1, 2]]), categories=[1, 2]).tolist() == [[2, 1], [1, 0]]


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(3, 15), st.integers(2, 5)),
              elements=st.sampled_from([1.0, 2.0, 3.0, 4.0, np.nan])),
       st.randoms(use_true_random=False))
def test_invariant_to_unit_and_rater_order(x, rnd):
    scale = [1, 2, 3, 4]
    try:
        ref = krippendorff_alpha(x, "ordinal", categories=scale).estimate
    except InsufficientDataError:
        return
    units = list(range(x.shape[0]))
    raters = list(range(x.shape[1]))
    rnd.shuffle(units)
    rnd.shuffle(raters)
    shuffled = x[np.ix_(units, raters)]
    assert krippendorff_alpha(shuffled, "ordinal", categories=scale).estimate == pytest.approx(ref, abs=1e-12)


def test_perfect_agreement_is_one():
    x = np.array([[1, 1, 1], [2, 2, NA], [4, 4, 4]])
    for level in ("nominal", "ordinal", "interval", "ratio"):
        assert krippendorff_alpha(x, level, categories=[1, 2, 3, 4]).estimate == pytest.approx(1.0)


def test_coincidences_are_zero_without_a_pairable_unit_and_alpha_says_why():
    single = np.array([[1, np.nan], [np.nan, 2]])
    assert coincidence_matrix(single, categories=[1, 2, 3]).tolist() == [[0.0] * 3] * 3
    with pytest.raises(InsufficientDataError, match="at least one unit with 2 or more ratings"):
        krippendorff_alpha(single, categories=[1, 2, 3])


def test_sampled_units_for_fpc_and_t_df_follow_irrcac_14():
    # irrCAC 1.4 krippen.alpha.raw: f = n0/N and t(n0 - 1) with n0 = all 12 units, while the
    # variance sums over the 11 units with 2+ ratings.  Printed: SE 0.14548, conf.int (0.423,1);
    # t(10) would print 0.419.
    res = krippendorff_alpha(KRIPP_4X12)
    ci = res.confidence_interval(distribution="t")
    assert (round(ci.low, 3), ci.high) == (0.423, 1.0) and ci.method == "t(11)"
    half = krippendorff_alpha(KRIPP_4X12, finite_population=24)
    assert half.standard_error == pytest.approx(res.standard_error * np.sqrt(1 - 12 / 24), rel=1e-12)
    assert half.details["standard_error_null"] == pytest.approx(
        res.details["standard_error_null"] * np.sqrt(1 - 12 / 24), rel=1e-12)
    with pytest.raises(DataError, match="smaller than"):
        krippendorff_alpha(KRIPP_4X12, finite_population=11)


def test_alpha_null_z_on_diagnoses():
    # Independent check of the null SE: the permutation SD of alpha (the 180 values shuffled
    # across the rating slots, 1500 permutations, numpy seed 0; computed once) is 0.02335.
    from tests.stats.test_chance_corrected import DIAGNOSES

    res = krippendorff_alpha(DIAGNOSES.astype(float))
    assert res.details["standard_error_null"] == pytest.approx(0.02335, rel=0.05)
    assert res.details["z"] == pytest.approx(res.estimate / res.details["standard_error_null"])
