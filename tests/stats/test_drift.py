"""Drift detectors of irr.stats.drift: published examples, hand computations, null behaviour."""

import doctest
import math

import numpy as np
import pytest
from scipy import stats

import irr.stats.drift as drift
from irr.errors import DataError
from irr.stats.drift import changepoint_test, cusum, ewma, p_chart, shewhart

# Montgomery, D. C., Introduction to Statistical Quality Control, Example 9.1 (Table 9.1):
# 30 individual observations, the first 20 from N(10, 1), the last 10 after the mean shifted to 11.
# Reproduced identically by several independent sources (e.g. the IMSL EWMA example, R course
# material, process_improve's tests).
# fmt: off
MONTGOMERY_X = np.array([
    9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.20, 10.34,
    9.03, 11.47, 10.51, 9.40, 10.08, 9.37, 10.62, 10.31, 8.52, 10.84,
    10.90, 9.33, 12.29, 11.50, 10.60, 11.08, 10.38, 11.62, 11.31, 10.52,
])
# His tabular CUSUM (Table 9.2, mu0 = 10, sigma = 1, K = 0.5, H = 5): C+ for periods 1..30, not
# reset after the signal; C+ first exceeds H = 5 at period 29 (5.28).
MONTGOMERY_UPPER = [
    0.0, 0.0, 0.0, 1.16, 2.82, 2.50, 0.04, 1.00, 0.0, 0.0,
    0.0, 0.97, 0.98, 0.0, 0.0, 0.0, 0.12, 0.0, 0.0, 0.34,
    0.74, 0.0, 1.79, 2.79, 2.89, 3.47, 3.35, 4.47, 5.28, 5.30,
]
# fmt: on


def test_docstring_examples():
    failures, attempted = doctest.testmod(drift, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert attempted > 10
    assert failures == 0


# --- CUSUM -----------------------------------------------------------------------
def test_cusum_reproduces_montgomery_example_9_1():
    res = cusum(MONTGOMERY_X - 10.0, k=0.5, h=5.0)
    assert res.upper.round(2).tolist() == MONTGOMERY_UPPER
    # C- by hand for the first periods: max(0, 0 - (-0.55) - 0.5) = 0.05; 0.05 + 2.01 - 0.5 = 1.56;
    # 1.56 + 0.71 - 0.5 = 1.77; then 11.66 drives it to 0.
    assert res.lower[:4].round(2).tolist() == [0.05, 1.56, 1.77, 0.0]
    assert res.lower.max() < 5
    assert int(res.first_alarm) == 28  # period 29
    assert res.alarm.nonzero()[0].tolist() == [28, 29]
    assert int(res.first_direction) == 1
    assert res.direction[28] == 1


def test_cusum_vectorised_over_raters_matches_one_by_one():
    rng = np.random.default_rng(3)
    z = rng.normal(0.3, 1.0, (7, 25))
    z[rng.random(z.shape) < 0.2] = np.nan
    both = cusum(z, k=0.5, h=3.0)
    for r in range(z.shape[0]):
        one = cusum(z[r], k=0.5, h=3.0)
        np.testing.assert_array_equal(both.upper[r], one.upper)
        np.testing.assert_array_equal(both.lower[r], one.lower)
        assert both.first_alarm[r] == one.first_alarm


def test_cusum_nan_block_carries_the_sums_and_does_not_signal():
    res = cusum([[0.0, 3.0, np.nan, 3.0, 3.0], [np.nan, np.nan, -5.0, np.nan, 0.0]], k=0.5, h=4.0)
    assert res.upper[0].tolist() == [0.0, 2.5, 2.5, 5.0, 7.5]
    assert res.lower[1].tolist() == [0.0, 0.0, 4.5, 4.5, 4.0]
    assert res.alarm.tolist() == [[False, False, False, True, True], [False, False, True, False, False]]
    assert res.first_alarm.tolist() == [3, 2]
    assert res.first_direction.tolist() == [1, -1]
    assert res.direction[1].tolist() == [0, 0, -1, 0, 0]


def test_cusum_headstart_and_no_alarm():
    res = cusum([[0.0, 0.0, 0.0]], k=0.5, h=4.0, fir=2.0)
    assert res.upper[0].tolist() == [1.5, 1.0, 0.5]
    assert res.lower[0].tolist() == [1.5, 1.0, 0.5]
    assert res.first_alarm.tolist() == [-1]
    assert res.first_direction.tolist() == [0]


@pytest.mark.parametrize("kwargs", [{"k": -1}, {"h": 0}, {"h": np.inf}, {"fir": 4.0}])
def test_cusum_rejects_bad_parameters(kwargs):
    with pytest.raises(DataError):
        cusum([0.0, 1.0], **kwargs)


def test_series_input_is_checked():
    with pytest.raises(DataError, match="infinite"):
        cusum([0.0, np.inf])
    with pytest.raises(DataError, match="2-D"):
        cusum(np.zeros((2, 2, 2)))
    with pytest.raises(DataError, match="numbers"):
        ewma([["a", "b"]])


# --- EWMA ------------------------------------------------------------------------
def test_ewma_montgomery_data_lambda_0_1_L_2_7():
    """Montgomery Example 9.2 setting (lam = 0.1, L = 2.7) on the Table 9.1 data.

    His tabulated EWMA values were not found verbatim, so the values are checked by hand for the
    first periods and against a plain loop for all 30:
      z1 = 0.1 * 9.45 + 0.9 * 10 = 9.945,  UCL1 = 10 + 2.7 * sqrt(0.1/1.9 * (1 - 0.9^2)) = 10.27
      z2 = 0.1 * 7.99 + 0.9 * 9.945 = 9.7495
      z3 = 0.1 * 9.29 + 0.9 * 9.7495 = 9.70355
    The chart first signals at period 29 (z = 10.6468 > UCL 10.6187).
    """
    res = ewma(MONTGOMERY_X - 10.0, lam=0.1, L=2.7)
    stat = 10.0 + res.statistic
    assert stat[:3] == pytest.approx([9.945, 9.7495, 9.70355])
    assert 10.0 + res.limit[0] == pytest.approx(10.27)
    assert 10.0 + res.limit[-1] < 10 + 2.7 * math.sqrt(0.1 / 1.9)  # approaching the asymptotic 10.6194
    e, expected = 10.0, []
    for i, x in enumerate(MONTGOMERY_X, start=1):
        e = 0.1 * x + 0.9 * e
        expected.append(e)
        assert res.limit[i - 1] == pytest.approx(2.7 * math.sqrt(0.1 / 1.9 * (1 - 0.9 ** (2 * i))))
    np.testing.assert_allclose(stat, expected)
    assert int(res.first_alarm) == 28
    assert round(float(stat[28]), 4) == 10.6468
    assert int(res.first_direction) == 1


def test_ewma_nan_carries_statistic_and_limit():
    res = ewma([[np.nan, 1.0, np.nan, np.nan, -1.0]], lam=0.5, L=3.0)
    assert res.statistic[0].tolist() == [0.0, 0.5, 0.5, 0.5, -0.25]
    sd1 = math.sqrt(0.5 / 1.5 * (1 - 0.5**2))
    sd2 = math.sqrt(0.5 / 1.5 * (1 - 0.5**4))
    np.testing.assert_allclose(res.limit[0], 3 * np.array([0.0, sd1, sd1, sd1, sd2]))
    assert not res.alarm.any()
    assert res.first_alarm.tolist() == [-1]


def test_ewma_lambda_one_is_a_shewhart_chart_of_z():
    z = np.array([[0.5, -3.5, 2.0, 3.2]])
    res = ewma(z, lam=1.0, L=3.0)
    np.testing.assert_array_equal(res.statistic, z)
    assert res.direction[0].tolist() == [0, -1, 0, 1]
    with pytest.raises(DataError):
        ewma(z, lam=0.0)


# --- Shewhart charts --------------------------------------------------------------
def test_shewhart_limits_per_block_and_rater():
    values = np.array([[0.1, 0.7, np.nan], [1.2, 1.0, 0.1]])
    se = np.array([[0.2, 0.2, 0.2], [0.1, 0.1, 0.5]])
    res = shewhart(values, se, center=[0.0, 1.0], L=3.0)
    np.testing.assert_allclose(res.upper, [[0.6, 0.6, 0.6], [1.3, 1.3, 2.5]])
    np.testing.assert_allclose(res.lower, [[-0.6, -0.6, -0.6], [0.7, 0.7, -0.5]])
    assert res.alarm.tolist() == [[False, True, False], [False, False, False]]
    assert res.first_alarm.tolist() == [1, -1]
    assert res.first_direction.tolist() == [1, 0]


def test_shewhart_rejects_mismatched_se():
    with pytest.raises(DataError, match="shape"):
        shewhart(np.zeros((2, 3)), np.ones(4))
    with pytest.raises(DataError, match="negative"):
        shewhart([0.0], [-1.0])


def test_p_chart_own_pbar_and_clipping():
    x = np.array([[18, 17, 19, 9], [5, 5, 5, 5]], dtype=float)
    n = np.array([[20, 20, 20, 20], [10, 10, 10, 10]], dtype=float)
    res = p_chart(x, n)
    assert res.center.tolist() == [pytest.approx(63 / 80), 0.5]
    pbar = 63 / 80
    half = 3 * math.sqrt(pbar * (1 - pbar) / 20)
    assert res.lower[0, 0] == pytest.approx(pbar - half)
    assert res.upper[0, 0] == 1.0  # pbar + half > 1: clipped
    assert res.first_alarm.tolist() == [3, -1]
    assert res.first_direction.tolist() == [-1, 0]


def test_p_chart_given_p0_and_missing_blocks():
    res = p_chart([[9, np.nan, 2, 0]], [[10, 10, 10, 0]], p0=0.8)
    assert res.center.tolist() == [0.8]
    assert np.isnan(res.proportion[0, 1]) and np.isnan(res.proportion[0, 3])
    assert res.alarm[0].tolist() == [False, False, True, False]
    with pytest.raises(DataError, match="0 <= successes <= n"):
        p_chart([[11]], [[10]])
    with pytest.raises(DataError, match="p0"):
        p_chart([[1]], [[10]], p0=1.5)


# --- change-point test ---------------------------------------------------------------
def _brute_statistic(b, s, min_segment=1):
    """max |Z_tau| and its argmax by a plain double loop (blocks with NaN left out)."""
    keep = [t for t in range(len(b)) if not math.isnan(b[t]) and math.isfinite(s[t]) and s[t] > 0]
    best, where = -1.0, -1
    for i in range(min_segment, len(keep) - min_segment + 1):
        before, after = keep[:i], keep[i:]
        wb = sum(1 / s[t] ** 2 for t in before)
        wa = sum(1 / s[t] ** 2 for t in after)
        mb = sum(b[t] / s[t] ** 2 for t in before) / wb
        ma = sum(b[t] / s[t] ** 2 for t in after) / wa
        z = abs(ma - mb) / math.sqrt(1 / wb + 1 / wa)
        if z > best:
            best, where = z, keep[i]
    return best, where


def test_changepoint_matches_brute_force_statistic_and_p_value():
    b = np.array([0.3, np.nan, -0.1, 0.4, 1.1, 0.9, 1.4])
    s = np.array([0.3, 0.3, 0.5, 0.2, 0.4, np.inf, 0.3])  # block 5: infinite SE, left out
    res = changepoint_test(b, s, n_sim=300, random_state=11)
    stat, where = _brute_statistic(b, s)
    assert float(res.statistic) == pytest.approx(stat, rel=1e-12)
    assert int(res.change_index) == where
    assert int(res.n_blocks) == 5
    # The documented simulation: one standard normal (n_sim x blocks) draw scaled by the SEs.
    eps = np.random.default_rng(11).standard_normal((300, b.size))
    sims = [_brute_statistic(eps[i] * np.where(np.isfinite(s), s, 0.0), s)[0] for i in range(300)]
    count = sum(x >= stat for x in sims)
    expected = (1 + count) / 301
    if count == 0:  # below the simulation's floor: the Bonferroni bound over the 4 splits, if smaller
        expected = min(expected, 4 * 2 * __import__("scipy").stats.norm.sf(stat))
    assert float(res.p_value) == pytest.approx(expected)


def test_changepoint_min_segment_matches_brute_force():
    rng = np.random.default_rng(5)
    b = rng.normal(size=9)
    s = rng.uniform(0.5, 1.5, 9)
    b[0] += 4.0  # a lone outlying first block: excluded as a segment by min_segment = 2
    res = changepoint_test(b, s, n_sim=50, min_segment=2)
    stat, where = _brute_statistic(b, s, min_segment=2)
    assert float(res.statistic) == pytest.approx(stat)
    assert int(res.change_index) == where >= 2


def test_changepoint_constant_offset_is_not_a_change():
    """Stable raters with their own offsets: the rejection rate at 0.05 stays within a binomial bound."""
    rng = np.random.default_rng(2024)
    n_raters, n_blocks = 300, 12
    se = rng.uniform(0.1, 0.4, (n_raters, n_blocks))
    offset = rng.normal(0.0, 2.0, (n_raters, 1))  # harsh and lenient but stable raters
    means = offset + rng.normal(size=se.shape) * se
    res = changepoint_test(means, se, n_sim=1000, random_state=1)
    rejected = int((res.p_value <= 0.05).sum())
    assert rejected <= stats.binom.ppf(0.999, n_raters, 0.05)
    assert rejected >= stats.binom.ppf(0.001, n_raters, 0.05)  # and not uselessly conservative
    assert stats.kstest(res.p_value, "uniform").pvalue > 0.001
    # A pure offset gives exactly the same statistic as the centred series.
    centred = changepoint_test(means - offset, se, n_sim=10)
    np.testing.assert_allclose(res.statistic, centred.statistic, rtol=1e-9)


def test_changepoint_detects_a_planted_shift():
    """A 3-SE shift starting at block index 7 of 12 is found, located within 6..8, sized about 3."""
    rng = np.random.default_rng(7)
    n_raters, n_blocks, change = 200, 12, 7
    se = np.full((n_raters, n_blocks), 0.5)
    means = rng.normal(size=se.shape) * se + rng.normal(0, 1, (n_raters, 1))
    means[:, change:] += 3 * 0.5
    res = changepoint_test(means, se, n_sim=1000, random_state=3)
    assert (res.p_value <= 0.05).mean() > 0.95
    near = (res.change_index >= change - 1) & (res.change_index <= change + 1)
    assert near.mean() > 0.8
    assert np.mean(res.shift) == pytest.approx(1.5, abs=0.15)
    exact = res.change_index == change
    assert np.mean(res.shift[exact]) == pytest.approx(1.5, abs=0.1)
    assert np.all(res.ci_low < res.shift) and np.all(res.shift < res.ci_high)
    np.testing.assert_allclose(res.ci_high - res.ci_low, 2 * 1.959963984540054 * res.shift_se)


def test_changepoint_nan_blocks_and_too_short_raters():
    means = np.array(
        [
            [0.0, np.nan, 0.1, np.nan, 2.0, 2.1],
            [0.5, np.nan, np.nan, np.nan, np.nan, np.nan],
            [np.nan] * 6,
            [0.0, 1.0, 0.0, 1.0, 0.0, 1.0],
        ]
    )
    se = np.full(means.shape, 0.2)
    se[3, 1:] = np.nan  # only one usable block left for rater 3
    res = changepoint_test(means, se, n_sim=200)
    assert res.n_blocks.tolist() == [4, 1, 0, 1]
    assert res.change_index.tolist() == [4, -1, -1, -1]
    assert res.shift[0] == pytest.approx(2.0)
    assert np.isnan(res.p_value[1:]).all() and np.isnan(res.statistic[1:]).all()
    assert res.note[0] == ""
    assert all("fewer than 2 usable blocks" in note for note in res.note[1:])
    short = changepoint_test(means[:1], se[:1], n_sim=10, min_segment=3)
    assert np.isnan(short.statistic[0]) and "min_segment" in short.note[0]


def test_changepoint_is_deterministic_and_independent_of_other_raters():
    rng = np.random.default_rng(9)
    means = rng.normal(size=(6, 10))
    se = rng.uniform(0.5, 1.5, (6, 10))
    one = changepoint_test(means, se, n_sim=500, random_state=42)
    two = changepoint_test(means, se, n_sim=500, random_state=42)
    np.testing.assert_array_equal(one.p_value, two.p_value)
    alone = changepoint_test(means[3:4], se[3:4], n_sim=500, random_state=42)
    assert alone.p_value[0] == one.p_value[3]
    other = changepoint_test(means, se, n_sim=500, random_state=43)
    assert not np.array_equal(one.p_value, other.p_value)


def test_changepoint_bad_parameters():
    with pytest.raises(DataError):
        changepoint_test([0.0, 1.0], 1.0, n_sim=0)
    with pytest.raises(DataError):
        changepoint_test([0.0, 1.0], 1.0, level=1.0)
    with pytest.raises(DataError):
        changepoint_test([0.0, 1.0], 1.0, min_segment=0)
    with pytest.raises(DataError, match="negative"):
        changepoint_test([0.0, 1.0], [-1.0, 1.0])


def test_tiny_p_values_use_the_bonferroni_bound_below_the_simulation_floor():
    # a 10-SE shift: no replicate reaches it, and the floor 1/(1+n_sim) would block any correction
    means = [[0.0] * 6 + [10.0] * 6]
    res = changepoint_test(means, se=1.0, n_sim=200)
    assert res.p_value[0] < 1e-12
    assert res.p_value[0] <= 11 * 2 * __import__("scipy").stats.norm.sf(res.statistic[0]) * (1 + 1e-9)
    # a moderate shift keeps the simulated p-value
    mid = changepoint_test([[0.0] * 6 + [1.0] * 6], se=1.0, n_sim=200)
    assert mid.p_value[0] >= 1 / 201

