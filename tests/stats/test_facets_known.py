"""Known answers for the many-facet Rasch statistics, worked out by hand in the tests.

Formulas (Wright & Masters 1982, *Rating scale analysis*, ch. 5; Linacre's FACETS manual):

* rating-scale probabilities ``P_k ~ exp(k eta - tau_1 - ... - tau_k)``;
* ``E = sum k P_k``, ``W = sum k^2 P_k - E^2``, ``C = sum (k - E)^4 P_k``;
* outfit ``u = mean(y^2 / W)``, ``q_u^2 = sum(C / W^2) / n^2 - 1 / n``;
  infit ``v = sum y^2 / sum W``, ``q_v^2 = sum(C - W^2) / (sum W)^2``;
  ``t = (MS^(1/3) - 1)(3 / q) + q / 3`` (Wilson-Hilferty);
* model SE ``1 / sqrt(sum W)``, "real" SE ``model SE * sqrt(max(infit, 1))``;
* separation ``G = true SD / RMSE`` with ``true SD^2 = SD^2 - RMSE^2`` (population SD),
  strata ``(4G + 1) / 3``, reliability ``G^2 / (1 + G^2)``, fixed chi-square
  ``sum w d^2 - (sum w d)^2 / sum w`` (w = 1 / SE^2) on J - 1 d.f.

Every expected value below is computed with the ``math`` module, one rating at a time, so
it shares no code with the vectorised implementation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from irr.stats.facets import category_moments, element_fit, fit_rasch_facets, separation_statistics

# 4 works x 3 raters, 3 categories (0, 1, 2); work 3 rates high with the harshest rater (misfit)
WORKS = [1.2, 0.3, -0.4, -1.0]
RATERS = [-0.5, 0.1, 0.4]
TAU = [-0.7, 0.7]
X = [
    [2, 2, 1],
    [2, 1, 0],
    [1, 1, 0],
    [1, 0, 2],
]


def _hand_moments(eta: float, tau: list[float]) -> tuple[list[float], float, float, float]:
    """P_k, E, W, C of one rating, from the definitions."""
    numerators = [1.0]
    cumulative = 0.0
    for k, t in enumerate(tau, start=1):
        cumulative += t
        numerators.append(math.exp(k * eta - cumulative))
    total = sum(numerators)
    p = [n / total for n in numerators]
    e = sum(k * pk for k, pk in enumerate(p))
    w = sum(k * k * pk for k, pk in enumerate(p)) - e * e
    c = sum((k - e) ** 4 * pk for k, pk in enumerate(p))
    return p, e, w, c


def _hand_fit(xs: list[int], es: list[float], ws: list[float], cs: list[float]) -> tuple[float, float, float, float]:
    """Infit, infit t, outfit, outfit t of one element's ratings."""
    n = len(xs)
    y2 = [(x - e) ** 2 for x, e in zip(xs, es)]
    sum_w = sum(ws)
    outfit = sum(a / w for a, w in zip(y2, ws)) / n
    infit = sum(y2) / sum_w
    q_out = math.sqrt(sum(c / (w * w) for c, w in zip(cs, ws)) / n**2 - 1 / n)
    q_in = math.sqrt(sum(c - w * w for c, w in zip(cs, ws)) / sum_w**2)

    def t(ms: float, q: float) -> float:
        return (ms ** (1 / 3) - 1) * (3 / q) + q / 3

    return infit, t(infit, q_in), outfit, t(outfit, q_out)


def _flat():
    """The toy data as rating arrays (row = work, column = rater)."""
    work = np.repeat(np.arange(4), 3)
    rater = np.tile(np.arange(3), 4)
    x = np.array(X).ravel()
    eta = np.array(WORKS)[work] - np.array(RATERS)[rater]
    return work, rater, x, eta


def test_category_moments_by_hand():
    work, rater, x, eta = _flat()
    P, E, W, C = category_moments(eta, np.zeros(12, dtype=int), np.array([TAU]), np.array([3]))
    for r in range(12):
        p, e, w, c = _hand_moments(float(eta[r]), TAU)
        assert P[r] == pytest.approx(p, abs=1e-12)
        assert (E[r], W[r], C[r]) == pytest.approx((e, w, c), abs=1e-12)
    # one value written out: eta = 0, tau = (-1, 1) gives numerators 1, e, 1 -> P_1 = e / (2 + e)
    P0, *_ = category_moments(np.array([0.0]), np.array([0]), np.array([[-1.0, 1.0]]), np.array([3]))
    assert P0[0, 1] == pytest.approx(math.e / (2 + math.e), abs=1e-12)


def test_dichotomous_moments_closed_form():
    """Two categories: W = pq and C = pq(1 - 3pq), a different route to the same moments."""
    eta = np.array([-2.0, -0.3, 0.0, 0.8, 3.1])
    _, E, W, C = category_moments(eta, np.zeros(5, dtype=int), np.array([[0.0]]), np.array([2]))
    for r, h in enumerate(eta):
        p = 1 / (1 + math.exp(-h))
        q = 1 - p
        assert (E[r], W[r], C[r]) == pytest.approx((p, p * q, p * q * (1 - 3 * p * q)), abs=1e-12)


@pytest.mark.parametrize("facet", [0, 1])
def test_element_fit_by_hand(facet):
    """Infit/outfit and their Wilson-Hilferty t per work (facet 0) and per rater (facet 1)."""
    work, rater, x, eta = _flat()
    _, E, W, C = category_moments(eta, np.zeros(12, dtype=int), np.array([TAU]), np.array([3]))
    index = work if facet == 0 else rater
    n = 4 if facet == 0 else 3
    infit, infit_z, outfit, outfit_z = element_fit(index, n, x, E, W, C)
    for j in range(n):
        rows = [r for r in range(12) if index[r] == j]
        moments = [_hand_moments(float(eta[r]), TAU) for r in rows]
        expected = _hand_fit(
            [int(x[r]) for r in rows], [m[1] for m in moments], [m[2] for m in moments], [m[3] for m in moments]
        )
        assert (infit[j], infit_z[j], outfit[j], outfit_z[j]) == pytest.approx(expected, abs=1e-10)
    if facet == 0:
        assert outfit[3] > 2 and outfit_z[3] > 1  # the misfitting work stands out


def test_element_fit_mask_drops_ratings():
    """A masked rating counts nowhere: the same as fitting without it."""
    work, rater, x, eta = _flat()
    _, E, W, C = category_moments(eta, np.zeros(12, dtype=int), np.array([TAU]), np.array([3]))
    mask = np.ones(12, dtype=bool)
    mask[11] = False  # work 3, rater 2
    got = element_fit(rater, 3, x, E, W, C, mask=mask)
    keep = np.flatnonzero(mask)
    want = element_fit(rater[keep], 3, x[keep], E[keep], W[keep], C[keep])
    np.testing.assert_allclose(np.array(got), np.array(want), atol=1e-14)


def test_fitted_se_and_real_se_by_hand():
    """A JMLE fit of a small complete design: eta, P, model SE and real SE from its own measures."""
    rng = np.random.default_rng(11)
    n_works, n_raters = 12, 3
    work = np.repeat(np.arange(n_works), n_raters)
    rater = np.tile(np.arange(n_raters), n_works)
    truth = np.linspace(-1.5, 1.5, n_works)[work] - np.array(RATERS)[rater]
    P, *_ = category_moments(truth, np.zeros(work.size, dtype=int), np.array([TAU]), np.array([3]))
    x = (rng.random(work.size)[:, None] > np.cumsum(P, axis=1)[:, :-1]).sum(axis=1)
    fit = fit_rasch_facets(x, np.column_stack([work, rater]), [n_works, n_raters], correct_bias=False)
    assert fit.converged
    tau = [float(t) for t in fit.thresholds[0]]
    assert sum(tau) == pytest.approx(0.0, abs=1e-10)
    assert float(fit.measures[1].sum()) == pytest.approx(0.0, abs=1e-10)
    sum_w = {f: [0.0] * n for f, n in ((0, n_works), (1, n_raters))}
    ratings = {f: [[] for _ in range(n)] for f, n in ((0, n_works), (1, n_raters))}
    for r in range(work.size):
        eta = float(fit.measures[0][work[r]]) - float(fit.measures[1][rater[r]])
        assert fit.eta[r] == pytest.approx(eta, abs=1e-12)
        p, e, w, c = _hand_moments(eta, tau)
        assert fit.probabilities[r] == pytest.approx(p, abs=1e-12)
        for f, j in ((0, work[r]), (1, rater[r])):
            sum_w[f][j] += w
            ratings[f][j].append((int(x[r]), e, w, c))
    infit = element_fit(rater, n_raters, x, fit.expected, fit.variance, fit.kurtosis)[0]
    for j in range(n_raters):
        model_se = 1 / math.sqrt(sum_w[1][j])
        assert fit.se[1][j] == pytest.approx(model_se, abs=1e-12)
        hand_infit = _hand_fit(*map(list, zip(*ratings[1][j])))[0]
        assert infit[j] == pytest.approx(hand_infit, abs=1e-12)
        real_se = model_se * math.sqrt(max(hand_infit, 1.0))
        assert fit.se[1][j] * np.sqrt(max(infit[j], 1.0)) == pytest.approx(real_se, abs=1e-12)
    for j in range(n_works):
        if fit.extreme[0][j] == 0:
            assert fit.se[0][j] == pytest.approx(1 / math.sqrt(sum_w[0][j]), abs=1e-12)


def _hand_separation(d: list[float], s: list[float]) -> dict[str, float]:
    n = len(d)
    mean = sum(d) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in d) / n)
    rmse = math.sqrt(sum(v * v for v in s) / n)
    true_sd = math.sqrt(max(sd * sd - rmse * rmse, 0.0))
    g = true_sd / rmse
    w = [1 / (v * v) for v in s]
    chi2 = sum(wi * di * di for wi, di in zip(w, d)) - sum(wi * di for wi, di in zip(w, d)) ** 2 / sum(w)
    return dict(
        n=n,
        mean=mean,
        sd=sd,
        rmse=rmse,
        adjusted_sd=true_sd,
        separation=g,
        strata=(4 * g + 1) / 3,
        reliability=g * g / (1 + g * g),
        chi2=chi2,
        df=n - 1,
    )


@pytest.mark.parametrize(
    "d, s",
    [
        ([-1.0, 0.2, 0.8], [0.3, 0.4, 0.5]),
        ([-0.1, 0.0, 0.12], [0.3, 0.4, 0.5]),  # spread below the error: no separation
    ],
)
def test_separation_by_hand(d, s):
    got = separation_statistics(np.array(d), np.array(s))
    want = _hand_separation(d, s)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key
    # chi-square on 2 d.f.: the survival function is exp(-chi2 / 2)
    assert got["p"] == pytest.approx(math.exp(-want["chi2"] / 2), abs=1e-12)


def test_separation_worked_numbers():
    """The first case above written out: SD 0.7483, RMSE 0.4082, G 1.5336, R 0.7017."""
    got = separation_statistics(np.array([-1.0, 0.2, 0.8]), np.array([0.3, 0.4, 0.5]))
    assert got["sd"] == pytest.approx(math.sqrt(0.56), abs=1e-12)  # squared deviations 1, 0.04, 0.64 over 3
    assert got["rmse"] == pytest.approx(math.sqrt(0.5 / 3), abs=1e-12)  # (0.09 + 0.16 + 0.25) / 3
    assert got["separation"] == pytest.approx(math.sqrt((0.56 - 0.5 / 3) / (0.5 / 3)), abs=1e-12)
    assert got["reliability"] == pytest.approx((0.56 - 0.5 / 3) / 0.56, abs=1e-12)


# ----------------------------------------------------------------------------- score equations
def _score_data(seed: int = 5):
    """60 works x 5 raters x 2 dimensions, 2 raters per work, 4 categories; some extreme works."""
    rng = np.random.default_rng(seed)
    n_works, n_raters, n_dims = 60, 5, 2
    raters = np.array([rng.choice(n_raters, 2, replace=False) for _ in range(n_works)])
    work = np.repeat(np.arange(n_works), 2 * n_dims)
    rater = np.repeat(raters.ravel(), n_dims)
    dim = np.tile(np.arange(n_dims), 2 * n_works)
    eta = rng.normal(0, 2.0, n_works)[work] - np.linspace(-0.8, 0.8, n_raters)[rater] - np.array([-0.3, 0.3])[dim]
    P, *_ = category_moments(eta, np.zeros(eta.size, dtype=int), np.array([[-1.2, 0.0, 1.2]]), np.array([4]))
    x = (rng.random(eta.size)[:, None] > np.cumsum(P, axis=1)[:, :-1]).sum(axis=1)
    return x, np.column_stack([work, rater, dim]), [n_works, n_raters, n_dims]


def test_jmle_score_equations():
    """Plain JMLE: observed = expected total for every element and every threshold's count."""
    x, el, n = _score_data()
    fit = fit_rasch_facets(x, el, n, correct_bias=False)
    assert fit.converged
    used = fit.estimated
    assert (fit.extreme[0] != 0).sum() >= 2 and not used.all()  # the extreme path is exercised
    for f in range(3):
        observed = np.bincount(el[used, f], weights=x[used], minlength=n[f])
        expected = np.bincount(el[used, f], weights=fit.expected[used], minlength=n[f])
        ok = fit.extreme[f] == 0
        np.testing.assert_allclose(observed[ok], expected[ok], atol=1e-6)
    # threshold equations: count at or above each step = sum of P(X >= j)
    tail = np.cumsum(fit.probabilities[used][:, ::-1], axis=1)[:, ::-1]
    for j in (1, 2, 3):
        assert (x[used] >= j).sum() == pytest.approx(tail[:, j].sum(), abs=1e-6)


def test_extreme_works_score_moved_inward():
    """Extreme works (all bottom / all top): measured at their score moved 0.3 inward, others anchored."""
    x, el, n = _score_data()
    fit = fit_rasch_facets(x, el, n, correct_bias=False)
    extreme = np.flatnonzero(fit.extreme[0])
    assert extreme.size >= 2
    for w in extreme:
        rows = el[:, 0] == w
        target = x[rows].sum() - 0.3 * fit.extreme[0][w]
        assert fit.expected[rows].sum() == pytest.approx(target, abs=1e-6)
        assert abs(fit.measures[0][w]) < 10


def test_corrected_fit_rescales_and_reanchors_works():
    """correct_bias=True divides the JMLE measures by the factors and refits the works to them."""
    x, el, n = _score_data()
    plain = fit_rasch_facets(x, el, n, correct_bias=False)
    fit = fit_rasch_facets(x, el, n)
    for f in (1, 2):
        ok = fit.extreme[f] == 0
        np.testing.assert_allclose(fit.measures[f][ok], plain.measures[f][ok] / fit.bias_factor[f - 1], atol=1e-12)
    np.testing.assert_allclose(fit.thresholds, plain.thresholds / fit.bias_factor[-1], atol=1e-12)
    used = fit.estimated
    observed = np.bincount(el[used, 0], weights=x[used], minlength=n[0])
    expected = np.bincount(el[used, 0], weights=fit.expected[used], minlength=n[0])
    ok = fit.extreme[0] == 0
    np.testing.assert_allclose(observed[ok], expected[ok], atol=1e-6)
