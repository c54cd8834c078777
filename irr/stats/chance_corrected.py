"""Percent agreement and the chance-corrected agreement family.

All coefficients share one form (Gwet 2014, ch. 2-5):

.. math::  \\kappa = \\frac{p_a - p_e}{1 - p_e}

with the weighted observed agreement :math:`p_a` and a chance agreement
:math:`p_e` that differs between coefficients.  Let :math:`n_{ik}` be the
number of raters who put unit :math:`i` in category :math:`k`,
:math:`r_i = \\sum_k n_{ik}`, :math:`w_{kl}` the agreement weights (computed
from the score values of the declared scale) and
:math:`n^*_{ik} = \\sum_l w_{kl} n_{il}`.  Over the :math:`n'` units with
:math:`r_i \\ge 2`,

.. math::  p_a = \\frac{1}{n'} \\sum_{i: r_i \\ge 2}
           \\frac{\\sum_k n_{ik} (n^*_{ik} - 1)}{r_i (r_i - 1)}

and, with the classification probabilities
:math:`\\pi_k = \\frac{1}{n} \\sum_i n_{ik} / r_i` over the :math:`n` units with
at least one rating,

* Fleiss (1971), generalised:      :math:`p_e = \\sum_{kl} w_{kl} \\pi_k \\pi_l`
* Gwet's AC1/AC2 (Gwet 2008):      :math:`p_e = \\frac{T_w}{K(K-1)} \\sum_k \\pi_k (1 - \\pi_k)`
* Brennan & Prediger (1981):       :math:`p_e = T_w / K^2`
* Conger (1980): rater-specific marginals, see :func:`conger_kappa`
* Cohen (1960, 1968) and Scott (1955): two raters, see the functions

where :math:`T_w = \\sum_{kl} w_{kl}` and :math:`K` the number of score points
on the declared scale (so an unused score point still counts).

Standard errors follow Gwet's linearization (Gwet 2008; Gwet 2014; the
formulas of R irrCAC), except Cohen's kappa, which uses Fleiss, Cohen &
Everitt (1969) as SAS and statsmodels do.  Confidence intervals default to the
normal distribution (SAS/statsmodels); pass ``distribution="t"`` to
``confidence_interval`` for irrCAC's t(n-1) intervals.

p-values test H0 "the raters are independent" (chance agreement only) with
``z = estimate / SE0`` and an explicit ``alternative``, where SE0 is the
standard error *under H0*, not the SE of the estimate (which is too small near
0 and made the test reject 8-12% of the time at the 5% level with 20 units):
Fleiss, Nee & Landis (1979) for Fleiss' kappa (R irr ``kappam.fleiss``),
generalised by the delta method to weights, missing ratings, Scott's pi,
Gwet's AC1/AC2 and Brennan-Prediger (ratings i.i.d. from the pooled
classification probabilities); for Conger's kappa the null with each rater's
own marginals (Cohen's ASE0 for two raters); for Cohen's kappa Fleiss, Cohen &
Everitt's (1969) null variance (SAS "ASE0").  ``details["test"]`` names the test,
``details["standard_error_null"]`` and ``details["z"]`` hold its parts; SE0
carries the same finite-population correction as the SE.  Percent agreement
has no p-value (a raw proportion is not tested against 0).  (irrCAC >= 1.4
reports one-sided t p-values from the SE of the estimate, irrCAC 1.0 two-sided.)

References (inference)
----------------------
Fleiss, J. L., Nee, J. C. M., & Landis, J. R. (1979). Large sample variance of
kappa in the case of different sets of raters. Psychological Bulletin, 86, 974-977.
Hoeffding, W. (1948). A class of statistics with asymptotically normal
distribution. Annals of Mathematical Statistics, 19, 293-325.
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
inference. Journal of the American Statistical Association, 22, 209-212.

References
----------
Brennan, R. L., & Prediger, D. J. (1981). Coefficient kappa: some uses, misuses,
and alternatives. Educational and Psychological Measurement, 41, 687-699.
Cohen, J. (1968). Weighted kappa. Psychological Bulletin, 70, 213-220.
Conger, A. J. (1980). Integration and generalization of kappas for multiple
raters. Psychological Bulletin, 88, 322-328.
Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
Psychological Bulletin, 76, 378-382.
Fleiss, J. L., Cohen, J., & Everitt, B. S. (1969). Large sample standard errors
of kappa and weighted kappa. Psychological Bulletin, 72, 323-327.
Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the
presence of high agreement. British Journal of Mathematical and Statistical
Psychology, 61, 29-48.
Gwet, K. L. (2014). Handbook of Inter-Rater Reliability (4th ed.). Advanced
Analytics.
Scott, W. A. (1955). Reliability of content analysis: the case of nominal scale
coding. Public Opinion Quarterly, 19, 321-325.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from irr.errors import DataError, InsufficientDataError
from irr.stats._inference import LazyStatistic, UnitLevelStatistic, pair_kernel_moments
from irr.stats._ratings import Ratings, as_ratings
from irr.stats._results import ROUNDOFF, AgreementResult, p_value_from_z
from irr.stats._sufficient import SufficientStatistics
from irr.stats._weights import agreement_weights, weights_name

__all__ = [
    "percent_agreement",
    "cohen_kappa",
    "scott_pi",
    "fleiss_kappa",
    "conger_kappa",
    "brennan_prediger",
    "gwet_ac",
    "weighted_kappa_from_tables",
]

_GWET_SE = "Gwet (2008) linearization"
_NULL_TEST = (
    "z = estimate / SE0, SE0 from the variance under H0 of independent raters "
    "(ratings i.i.d. from the pooled classification probabilities; Fleiss, Nee & Landis 1979 "
    "generalised to weights and missing ratings)"
)


# ----------------------------------------------------------------- helpers
def _fpc(n: int, finite_population: int | None) -> float:
    """Finite-population factor (1 - n/N) for the variance."""
    if finite_population is None:
        return 1.0
    if finite_population < n:
        raise DataError(f"finite_population ({finite_population}) is smaller than the {n} units analysed")
    return 1.0 - n / finite_population


def _ratio(num, den):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(num, den)


@dataclass(frozen=True)
class _UnitCounts:
    """Unit-level sufficient statistics shared by the multi-rater coefficients.

    Rows are distinct count patterns weighted by ``mult`` (how many units have
    each), or single units (``mult`` all 1) where a statistic needs rater identity.
    """

    counts: np.ndarray  # (P, K) rows with >= 1 rating
    ratings_per_unit: np.ndarray  # (P,)
    weights: np.ndarray  # (K, K)
    pair_agreement: np.ndarray  # (P,) p_a,i (0 where r_i < 2)
    pairable: np.ndarray  # (P,) bool, r_i >= 2
    mult: np.ndarray  # (P,) units per row
    dropped: dict

    @property
    def n(self) -> int:
        return int(self.mult.sum())

    @property
    def n_pairable(self) -> int:
        return int(self.mult[self.pairable].sum())

    @property
    def observed(self) -> float:
        return float((self.mult * self.pair_agreement)[self.pairable].sum() / self.n_pairable)

    @property
    def shares(self) -> np.ndarray:
        """pi_k: mean over units of n_ik / r_i."""
        return self.mult @ (self.counts / self.ratings_per_unit[:, None]) / self.n


def _unit_counts(
    ratings: Ratings, weights_matrix: np.ndarray, statistic: str, *, per_unit: bool = False
) -> _UnitCounts:
    """Counts per distinct pattern (default) or per unit, with each row's pair agreement."""
    if per_unit:
        counts_all = ratings.counts
        mult_all = np.ones(counts_all.shape[0])
    else:
        counts_all, mult_all = ratings.count_patterns()
    return _unit_counts_of(counts_all, mult_all, weights_matrix, statistic, ratings.n_units)


def _unit_counts_of(
    counts_all: np.ndarray, mult_all: np.ndarray, weights_matrix: np.ndarray, statistic: str, n_units: int
) -> _UnitCounts:
    """:func:`_unit_counts` of count rows ``counts_all`` held by ``mult_all`` units each."""
    r_all = counts_all.sum(axis=1)
    rated = r_all > 0
    dropped = {}
    if (~rated).any():
        dropped["no ratings"] = int(mult_all[~rated].sum())
    counts = np.asarray(counts_all[rated], dtype=np.float64)
    mult = np.asarray(mult_all[rated], dtype=np.float64)
    r = r_all[rated].astype(np.float64)
    pairable = r >= 2
    if (~pairable).any():
        dropped["fewer than 2 ratings (used for chance agreement only)"] = int(mult[~pairable].sum())
    if not pairable.any():
        raise InsufficientDataError(
            f"{statistic} needs at least one unit with 2 or more ratings; got "
            f"{n_units} unit(s) with at most one rating each"
        )
    weighted = counts @ weights_matrix.T
    agreeing_pairs = (counts * (weighted - 1)).sum(axis=1)
    pair_agreement = np.where(pairable, _ratio(agreeing_pairs, r * (r - 1)), 0.0)
    return _UnitCounts(counts, r, weights_matrix, pair_agreement, pairable, mult, dropped)


def _finish(
    *,
    statistic: str,
    ratings: Ratings,
    estimate: float,
    observed: float,
    expected: float,
    linearized: np.ndarray | None,
    n_units: int,
    n_raters: int,
    linearized_weights: np.ndarray | None = None,
    n_ratings: int,
    dropped: dict,
    weights: Any,
    alternative: str,
    finite_population: int | None,
    resampler,
    se_method: str = _GWET_SE,
    standard_error: float | None = None,
    null_standard_error: float | None = None,
    test: str = _NULL_TEST,
    interval_kind: str = "chance_corrected",
    details: dict | None = None,
) -> AgreementResult:
    """Assemble the result: SE from linearized unit values, z test under H0, extras.

    ``null_standard_error`` (before the finite-population correction, which
    is applied here to it and to the SE alike) is the SE under H0 used by the
    z test; ``test`` names the test for ``details["test"]``.  Without a null
    SE the p-value is NaN.  Estimates and SEs below ``ROUNDOFF`` are
    floating-point noise and become exact zeros.
    """
    fpc = _fpc(n_units, finite_population)
    if standard_error is None:
        if linearized is None or n_units < 2:
            standard_error = float("nan")
        else:
            squares = (linearized - estimate) ** 2
            total = float(squares.sum() if linearized_weights is None else linearized_weights @ squares)
            var = fpc / (n_units * (n_units - 1)) * total
            standard_error = float(np.sqrt(var))
    elif finite_population is not None:
        standard_error *= float(np.sqrt(fpc))
    estimate, standard_error = _snap(estimate), _snap(standard_error)
    details = dict(details or {})
    z = float("nan")
    if null_standard_error is not None:
        null_standard_error = _snap(float(null_standard_error) * float(np.sqrt(fpc)))
        details["standard_error_null"] = null_standard_error
        if np.isfinite(null_standard_error) and null_standard_error > 0:
            z = estimate / null_standard_error
    details["z"] = z
    details["test"] = test
    return AgreementResult(
        statistic=statistic,
        estimate=float(estimate),
        standard_error=float(standard_error),
        observed=float(observed),
        expected=float(expected),
        n_units=int(n_units),
        n_raters=int(n_raters),
        n_ratings=int(n_ratings),
        dropped=dropped,
        weights=weights_name(weights),
        alternative=alternative,
        p_value=p_value_from_z(z, alternative),
        se_method=se_method,
        finite_population=finite_population,
        details=details,
        _resampler=resampler,
        interval_kind=interval_kind,
    )


def _cancelled(diff: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """A difference of moments that is 0 up to round-off (e.g. a constant rater) becomes 0."""
    return np.where(diff > ROUNDOFF * np.abs(scale), diff, 0.0)


def _snap(x: float) -> float:
    """Round-off to exact zero: coefficients and their SEs live on a scale of 1."""
    return 0.0 if np.isfinite(x) and abs(x) < ROUNDOFF else float(x)


def _null_se_exchangeable(
    u: "_UnitCounts", pi: np.ndarray, w: np.ndarray, pe: float, chance_grad: Callable | None
) -> float:
    """SE under H0 (ratings i.i.d. from ``pi``) of (p_a - p_e)/(1 - p_e), delta method.

    With the pair-kernel moments of :func:`pair_kernel_moments` (``g``,
    :math:`E\\phi^2`), the centred gradient ``h`` of :math:`p_e(\\pi)`,
    :math:`a_i = 2[r_i \\ge 2]/n'` and :math:`b_i = 1/n`:

    .. math::  Var_0 = \\frac{\\sum_i \\frac{1}{r_i} E_\\pi[(a_i g - b_i h)^2]
               + \\frac{1}{n'^2}\\sum_{i: r_i \\ge 2} \\frac{2E\\phi^2}{r_i(r_i-1)}}{(1 - p_e)^2}

    (linear parts of :math:`p_a` and :math:`\\hat p_e`, plus the degenerate
    within-unit part).  For Fleiss' kappa with complete data and identity
    weights the linear parts cancel and this is Fleiss, Nee & Landis (1979),
    ``kappam.fleiss``'s "SE under H0".
    """
    _, g, ephi2 = pair_kernel_moments(pi, w)
    grad = np.zeros_like(pi) if chance_grad is None else chance_grad(pi, w)
    h = grad - pi @ grad
    gg, gh, hh = pi @ (g * g), pi @ (g * h), pi @ (h * h)
    n, n_pair = u.n, u.n_pairable
    a = 2.0 * u.pairable / n_pair
    b = 1.0 / n
    r = u.ratings_per_unit
    linear = u.mult @ ((a * a * gg - 2 * a * b * gh + b * b * hh) / r)
    rr = np.where(u.pairable, r * (r - 1), 1.0)
    degenerate = (u.mult * u.pairable) @ (2 * ephi2 / rr) / n_pair**2
    return float(np.sqrt(max(linear + degenerate, 0.0)) / (1 - pe))


def _check_alternative(alternative: str) -> None:
    if alternative not in ("two-sided", "greater", "less"):
        raise DataError(f"alternative must be 'two-sided', 'greater' or 'less', got {alternative!r}")


def _kappa(pa, pe):
    with np.errstate(divide="ignore", invalid="ignore"):
        return (pa - pe) / (1 - pe)


# ------------------------------------------------------- multi-rater family
# Chance agreement of each coefficient as a function of the classification
# probabilities pi (..., K), vectorised over leading (bootstrap) dimensions.
def _pe_fleiss(pi: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.einsum("...k,kl,...l->...", pi, w, pi)


def _pe_gwet(pi: np.ndarray, w: np.ndarray) -> np.ndarray:
    k = w.shape[0]
    return w.sum() / (k * (k - 1)) * (pi * (1 - pi)).sum(axis=-1)


def _pe_brennan_prediger(pi: np.ndarray, w: np.ndarray) -> np.ndarray:
    k = w.shape[0]
    return np.broadcast_to(w.sum() / k**2, pi.shape[:-1]).astype(np.float64)


def _pe_none(pi: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.zeros(pi.shape[:-1])


# Gradient of p_e with respect to pi (for the variance under H0).
def _grad_fleiss(pi: np.ndarray, w: np.ndarray) -> np.ndarray:
    return (w + w.T) @ pi


def _grad_gwet(pi: np.ndarray, w: np.ndarray) -> np.ndarray:
    k = w.shape[0]
    return w.sum() / (k * (k - 1)) * (1 - 2 * pi)


# Unit-level derivative of p_e used by Gwet's linearization (None: p_e is fixed).
def _pe_unit_fleiss(u: _UnitCounts, pi: np.ndarray) -> np.ndarray:
    w = u.weights
    pi_w = (w @ pi + w.T @ pi) / 2
    return (u.counts @ pi_w) / u.ratings_per_unit


def _pe_unit_gwet(u: _UnitCounts, pi: np.ndarray) -> np.ndarray:
    k = u.weights.shape[0]
    return u.weights.sum() / (k * (k - 1)) * (u.counts @ (1 - pi)) / u.ratings_per_unit


def _multi_rater(
    data,
    weights,
    *,
    statistic: str,
    chance: Callable,
    chance_unit: Callable | None,
    chance_grad: Callable | None,
    categories,
    finite_population,
    alternative,
    details_fn: Callable | None = None,
) -> AgreementResult:
    _check_alternative(alternative)
    ratings = as_ratings(data, categories)
    w = agreement_weights(ratings.scale, weights)
    if ratings.n_categories < 2 and chance is not _pe_none:
        raise InsufficientDataError(
            f"{statistic} needs a scale of at least 2 score points; declare the full scale "
            "with `categories=` (only one value was seen)"
        )
    u = _unit_counts(ratings, w, statistic)
    pi = u.shares
    pa = u.observed
    pe = float(chance(pi, w))
    if pe >= 1 - 1e-12:
        raise InsufficientDataError(
            f"{statistic} is undefined: chance agreement is 1 (every rating is in one "
            "category); report percent agreement instead"
        )
    estimate = (pa - pe) / (1 - pe)
    n = u.n
    # Gwet's linearized unit values kappa*_i (their variance gives the SE).
    unit = (n / u.n_pairable) * (u.pair_agreement - pe * u.pairable) / (1 - pe)
    if chance_unit is not None:
        unit = unit - 2 * (1 - estimate) * (chance_unit(u, pi) - pe) / (1 - pe)

    counts, r, pairable, pair_agreement = u.counts, u.ratings_per_unit, u.pairable, u.pair_agreement

    def build() -> UnitLevelStatistic:
        # one row per distinct count pattern: resampling units is resampling their patterns
        features = np.column_stack([np.ones(len(r)), pairable.astype(float), pair_agreement, counts / r[:, None]])

        def statistic_from_totals(t: np.ndarray) -> np.ndarray:
            pa_t = t[..., 2] / t[..., 1]
            pi_t = t[..., 3:] / t[..., :1]
            return _kappa(pa_t, chance(pi_t, w))

        return UnitLevelStatistic(features, u.mult.astype(np.int64), statistic_from_totals)

    details = details_fn(u, pi) if details_fn else {}
    details["n_pairable"] = u.n_pairable
    proportion = chance is _pe_none
    null_se = None if proportion else _null_se_exchangeable(u, pi, w, pe, chance_grad)
    return _finish(
        null_standard_error=null_se,
        interval_kind="proportion" if proportion else "chance_corrected",
        test=(
            "none: percent agreement is a raw proportion, not a test against 0 (p_value is NaN)"
            if proportion
            else _NULL_TEST
        ),
        statistic=statistic,
        ratings=ratings,
        estimate=estimate,
        observed=pa,
        expected=pe,
        linearized=unit,
        linearized_weights=u.mult,
        n_units=n,
        n_raters=ratings.n_raters,
        n_ratings=int(u.mult @ r),
        dropped=u.dropped,
        weights=weights,
        alternative=alternative,
        finite_population=finite_population,
        resampler=LazyStatistic(build),
        details=details,
    )


def percent_agreement(
    data,
    tolerance: float = 0,
    *,
    categories=None,
    finite_population: int | None = None,
    alternative: str = "two-sided",
) -> AgreementResult:
    """Exact or within-``tolerance`` agreement among any number of raters.

    The share of agreeing rating pairs within a unit, averaged over the units
    with at least two ratings (Gwet 2014, ch. 2; irrCAC ``pa.coeff.raw``):

    .. math::  p_a = \\frac{1}{n'} \\sum_{i: r_i \\ge 2}
               \\frac{\\sum_k n_{ik}(n^*_{ik} - 1)}{r_i (r_i - 1)},
               \\qquad w_{kl} = [\\,|x_k - x_l| \\le \\text{tolerance}\\,]

    where :math:`x_k` are score values.  ``tolerance=1`` on a 1-4 rubric gives
    exact-plus-adjacent agreement.

    Parameters
    ----------
    data : Ratings or array_like (units x raters, NaN = missing)
    tolerance : float
        Largest score difference that counts as agreement (0 = exact).
    categories : sequence, optional
        The declared scale when ``data`` is an array.
    finite_population : int, optional
        Population size for the finite-population correction of the SE.
    alternative : {"two-sided", "greater", "less"}

    Returns
    -------
    AgreementResult
        ``estimate`` = ``observed`` = :math:`p_a`; ``expected`` = 0.
        ``p_value`` is NaN: a raw proportion is not tested against 0.  The
        analytic interval is Wilson's, inside [0, 1] (see
        :meth:`AgreementResult.confidence_interval`).
        ``details["per_category"]``: specific agreement per score point,
        :math:`\\sum_i n_{ik}(n_{ik}-1) / \\sum_i n_{ik}(r_i - 1)` (exact
        matches only); ``details["all_within_tolerance"]``: the share of units
        whose highest and lowest ratings differ by at most ``tolerance`` (R irr
        ``agree``).

    Examples
    --------
    >>> import numpy as np
    >>> res = percent_agreement(np.array([[1, 1], [2, 3], [3, 3], [4, 2]]))
    >>> float(res.estimate)
    0.5
    >>> float(percent_agreement(np.array([[1, 1], [2, 3], [3, 3], [4, 2]]), tolerance=1).estimate)
    0.75
    """
    if tolerance < 0:
        raise DataError(f"tolerance must be >= 0, got {tolerance}")
    ratings = as_ratings(data, categories)
    if tolerance == 0:
        # exact agreement needs no score values (labelled scales work too)
        x = np.arange(ratings.n_categories, dtype=np.float64)
    else:
        x = np.asarray(ratings.require_numeric(f"agreement within {tolerance:g} point(s)"), dtype=np.float64)
    w = (np.abs(x[:, None] - x[None, :]) <= tolerance + 1e-12).astype(np.float64)

    def details(u: _UnitCounts, pi: np.ndarray) -> dict:
        n_ik = u.counts
        pairs_same = u.mult @ (n_ik * (n_ik - 1))
        pairs_all = u.mult @ (n_ik * (u.ratings_per_unit[:, None] - 1))
        specific = _ratio(pairs_same, pairs_all)
        present = n_ik > 0
        lowest = np.where(present, x[None, :], np.inf).min(axis=1)
        highest = np.where(present, x[None, :], -np.inf).max(axis=1)
        within_share = (u.mult * (highest - lowest <= tolerance + 1e-12))[u.pairable].sum() / u.n_pairable
        return {
            "tolerance": tolerance,
            "per_category": {v: float(s) for v, s in zip(ratings.labels, specific)},
            "all_within_tolerance": float(within_share),
        }

    name = "percent_agreement" if tolerance == 0 else f"agreement_within_{tolerance:g}"
    result = _multi_rater(
        ratings,
        w,
        statistic=name,
        chance=_pe_none,
        chance_unit=None,
        chance_grad=None,
        categories=None,
        finite_population=finite_population,
        alternative=alternative,
        details_fn=details,
    )
    label = "identity" if tolerance == 0 else f"within {tolerance:g} point(s)"
    return dataclasses.replace(result, weights=label)


def fleiss_kappa(
    data,
    weights: Any = None,
    *,
    categories=None,
    finite_population: int | None = None,
    alternative: str = "two-sided",
) -> AgreementResult:
    """Fleiss' kappa (Fleiss 1971), generalised to weights and missing ratings.

    .. math::  \\kappa_F = \\frac{p_a - p_e}{1 - p_e}, \\qquad
               p_e = \\sum_{k,l} w_{kl} \\pi_k \\pi_l, \\qquad
               \\pi_k = \\frac{1}{n}\\sum_i \\frac{n_{ik}}{r_i}

    Units may have any number of ratings: :math:`p_a` uses the units with two
    or more, :math:`\\pi_k` every rated unit (Gwet 2014, ch. 5; irrCAC
    ``fleiss.kappa.raw``).  Rater identity is not used.  With complete data
    and identity weights this is Fleiss' (1971) kappa.  Units rated by nobody
    are reported in ``dropped``.

    The SE is Gwet's linearization.  The p-value uses the SE under H0 of
    independent raters (``details["standard_error_null"]``): Fleiss, Nee &
    Landis (1979), generalised by the delta method to weights and missing
    ratings (:func:`_null_se_exchangeable`); with complete data and identity
    weights it is R irr ``kappam.fleiss``'s "SE under H0".  For unweighted data
    ``details["per_category"]`` holds Fleiss' (1971) category kappas
    :math:`\\kappa_k = 1 - \\sum_i n_{ik}(r_i - n_{ik}) /
    (\\sum_i r_i (r_i - 1) \\bar p_k (1 - \\bar p_k))` with
    :math:`\\bar p_k` the share of all ratings in category k (irr
    ``kappam.fleiss(detail=TRUE)``).

    Examples
    --------
    >>> import numpy as np
    >>> round(fleiss_kappa(np.array([[1, 1, 1], [2, 2, 1], [3, 3, 3], [1, 2, 2]])).estimate, 4)
    0.4894
    """

    def details(u: _UnitCounts, pi: np.ndarray) -> dict:
        if weights_name(weights) != "identity":
            return {}
        n_ik, r, mult = u.counts[u.pairable], u.ratings_per_unit[u.pairable], u.mult[u.pairable]
        p_bar = mult @ n_ik / (mult @ r)
        disagreement = mult @ (n_ik * (r[:, None] - n_ik))
        denom = (mult @ (r * (r - 1))) * p_bar * (1 - p_bar)
        per = 1 - _ratio(disagreement, denom)
        return {"per_category": {v: float(k) for v, k in zip(ratings.labels, per)}}

    ratings = as_ratings(data, categories)  # once: the details need its scale
    return _multi_rater(
        ratings,
        weights,
        statistic="fleiss_kappa",
        chance=_pe_fleiss,
        chance_unit=_pe_unit_fleiss,
        chance_grad=_grad_fleiss,
        categories=None,
        finite_population=finite_population,
        alternative=alternative,
        details_fn=details,
    )


def gwet_ac(
    data,
    weights: Any = None,
    *,
    categories=None,
    finite_population: int | None = None,
    alternative: str = "two-sided",
) -> AgreementResult:
    """Gwet's AC1 (unweighted) and AC2 (weighted) agreement coefficients.

    .. math::  AC = \\frac{p_a - p_e}{1 - p_e}, \\qquad
               p_e = \\frac{T_w}{K(K-1)} \\sum_k \\pi_k (1 - \\pi_k)

    with :math:`T_w = \\sum_{kl} w_{kl}` and :math:`K` score points (Gwet
    2008; Gwet 2014, ch. 5).  AC1/AC2 stay stable when most papers get the same
    score, where kappa collapses (the "kappa paradox").  ``statistic`` is
    ``"gwet_ac1"`` with identity weights, ``"gwet_ac2"`` otherwise.

    SE: Gwet's linearization.  p-value: z with the SE under independent
    raters (ratings i.i.d. from the classification probabilities), delta
    method (:func:`_null_se_exchangeable`).  Under independence AC1 is 0 only
    when the score points are equally likely, so the test is one of
    "agreement at AC1's chance level" rather than of independence.

    Examples
    --------
    >>> import numpy as np
    >>> round(gwet_ac(np.array([[1, 1], [2, 2], [2, 2], [2, 1]])).estimate, 4)
    0.5294
    """
    name = "gwet_ac1" if weights_name(weights) == "identity" else "gwet_ac2"
    return _multi_rater(
        data,
        weights,
        statistic=name,
        chance=_pe_gwet,
        chance_unit=_pe_unit_gwet,
        chance_grad=_grad_gwet,
        categories=categories,
        finite_population=finite_population,
        alternative=alternative,
    )


def brennan_prediger(
    data,
    weights: Any = None,
    *,
    categories=None,
    finite_population: int | None = None,
    alternative: str = "two-sided",
) -> AgreementResult:
    """Brennan & Prediger's (1981) coefficient (Bennett's S, free-marginal kappa).

    .. math::  \\kappa_{BP} = \\frac{p_a - p_e}{1 - p_e}, \\qquad p_e = T_w / K^2

    Chance agreement assumes every score point is equally likely, so it
    depends on the declared scale only (Randolph's free-marginal kappa for
    identity weights).  p-value: z with the SE under independent raters, as
    for :func:`gwet_ac` (here :math:`p_e` is fixed, so only :math:`p_a` varies).

    Examples
    --------
    >>> import numpy as np
    >>> round(brennan_prediger(np.array([[1, 1], [2, 2], [2, 1]]), categories=[1, 2]).estimate, 4)
    0.3333
    """
    return _multi_rater(
        data,
        weights,
        statistic="brennan_prediger",
        chance=_pe_brennan_prediger,
        chance_unit=None,
        chance_grad=None,
        categories=categories,
        finite_population=finite_population,
        alternative=alternative,
    )


# ------------------------------------------------------------------ Conger
def conger_kappa(
    data,
    weights: Any = None,
    *,
    categories=None,
    finite_population: int | None = None,
    alternative: str = "two-sided",
) -> AgreementResult:
    """Conger's (1980) kappa: multi-rater Cohen's kappa with rater-specific marginals.

    With :math:`p_{gk}` the share of rater g's ratings in category k,
    :math:`\\bar p_k` its mean over the :math:`r` raters and
    :math:`s^2_{kl} = \\frac{1}{r-1}(\\sum_g p_{gk} p_{gl} - r \\bar p_k \\bar p_l)`,

    .. math::  p_e = \\sum_{k,l} w_{kl} \\left(\\bar p_k \\bar p_l - s^2_{kl} / r\\right)

    and :math:`p_a` as for Fleiss' kappa (Gwet 2014, ch. 5; irrCAC
    ``conger.kappa.raw``).  For two raters this is Cohen's kappa.  Needs rater
    identity.  SE: Gwet's linearization including the rater-marginal terms.
    p-value: z with the SE under H0 of independent raters who keep their own
    marginals (:func:`_conger_null_se`; Cohen's ASE0 for two raters with
    complete data).

    Everything is computed per distinct units x raters code row weighted by
    how many units have it, so ratings from Dask (:meth:`Ratings.from_dask`
    with ``unit_patterns=True``, or :func:`~irr.stats.agreement_table` on a
    Dask DataFrame) give the same estimate, SEs, p-value and bootstrap and
    jackknife intervals from the merged unit pattern table.  When that table is
    over its size limit (:data:`irr.stats._sufficient.MAX_UNIT_PATTERN_CELLS`
    entries: many raters and units with distinct rating patterns) or was not
    reduced, Conger's kappa raises :class:`~irr.stats._ratings.PerUnitDataError`
    instead of collecting the ratings.

    Examples
    --------
    >>> import numpy as np
    >>> round(conger_kappa(np.array([[1, 1], [2, 2], [2, 1], [1, 1]])).estimate, 4)
    0.5
    """
    _check_alternative(alternative)
    ratings = as_ratings(data, categories)
    ratings.require_rater_identity("Conger's kappa")
    w = agreement_weights(ratings.scale, weights)
    if ratings.n_categories < 2:
        raise InsufficientDataError("Conger's kappa needs a scale of at least 2 score points")
    # one row per distinct units x raters code row (the same rows and order from the
    # ratings and from merged unit pattern tables), weighted by the units having it
    codes, unit_mult = ratings.unit_code_patterns("Conger's kappa")  # (P, R), -1 = not rated
    n_raters = codes.shape[1]
    if n_raters < 2:
        raise InsufficientDataError("Conger's kappa needs at least 2 raters")
    k = ratings.n_categories
    rated = codes >= 0
    which, column = np.nonzero(rated)
    unit_counts = np.bincount(which * k + codes[which, column], minlength=codes.shape[0] * k)
    u = _unit_counts_of(unit_counts.reshape(codes.shape[0], k), unit_mult, w, "Conger's kappa", ratings.n_units)
    mult = u.mult
    n = int(unit_mult.sum())
    dropped = dict(u.dropped)
    if ratings.n_units > n:  # units without ratings (e.g. an all-missing row of a wide matrix)
        dropped = {"no ratings": ratings.n_units - n, **dropped}
    rater_totals = ratings.rater_counts.astype(np.float64)  # (R, K)
    n_g = rater_totals.sum(axis=1)
    if (n_g == 0).any():
        raise InsufficientDataError("every rater in the data must have at least one rating")
    p_gk = rater_totals / n_g[:, None]
    p_bar = p_gk.mean(axis=0)
    s2 = (p_gk.T @ p_gk - n_raters * np.outer(p_bar, p_bar)) / (n_raters - 1)
    pe = float((w * (np.outer(p_bar, p_bar) - s2 / n_raters)).sum())
    if pe >= 1 - 1e-12:
        raise InsufficientDataError("Conger's kappa is undefined: chance agreement is 1 (every rating in one category)")
    pa = u.observed
    estimate = (pa - pe) / (1 - pe)

    # Linearized chance agreement per unit (Gwet 2014; irrCAC conger.kappa.raw),
    # written as one gather over the (patterns x raters) code matrix.
    a = (n / n_g)[:, None] * (n_raters * p_bar[None, :] - p_gk)  # (R, K)
    b = a @ w  # (R, K)
    c = (a * (p_gk @ w.T)).sum(axis=1)  # (R,)
    gathered = b[np.arange(n_raters)[None, :], np.maximum(codes, 0)]
    lam = np.where(rated, gathered, 0.0) - (rated - (n_g / n)[None, :]) * c[None, :]
    pe_unit = lam.sum(axis=1) / (n_raters * (n_raters - 1))
    unit = (n / u.n_pairable) * (u.pair_agreement - pe * u.pairable) / (1 - pe)
    unit = unit - 2 * (1 - estimate) * (pe_unit - pe) / (1 - pe)

    pair_agreement, pairable = u.pair_agreement, u.pairable
    null_se = _conger_null_se(rated, u.pairable, p_gk, w, pe, mult)

    def build() -> UnitLevelStatistic:
        onehot = np.zeros((codes.shape[0], n_raters * k))
        onehot[which, column * k + codes[which, column]] = 1.0
        features = np.column_stack([pairable.astype(float), pair_agreement, onehot])

        def statistic_from_totals(t: np.ndarray) -> np.ndarray:
            pa_t = t[..., 1] / t[..., 0]
            tot = t[..., 2:].reshape(t.shape[:-1] + (n_raters, k))
            p = tot / tot.sum(axis=-1, keepdims=True)
            pbar = p.mean(axis=-2)
            outer = pbar[..., :, None] * pbar[..., None, :]
            s2_t = (np.einsum("...gk,...gl->...kl", p, p) - n_raters * outer) / (n_raters - 1)
            pe_t = (w * (outer - s2_t / n_raters)).sum(axis=(-2, -1))
            return _kappa(pa_t, pe_t)

        # the rows are already distinct, in an order of their integer codes: the same
        # multinomial draws from the ratings as from merged unit pattern tables
        return UnitLevelStatistic(features, unit_mult.astype(np.int64), statistic_from_totals)

    return _finish(
        statistic="conger_kappa",
        ratings=ratings,
        estimate=estimate,
        observed=pa,
        expected=pe,
        linearized=unit,
        linearized_weights=mult,
        n_units=n,
        n_raters=n_raters,
        n_ratings=int(mult @ u.ratings_per_unit),
        dropped=dropped,
        weights=weights,
        alternative=alternative,
        finite_population=finite_population,
        resampler=LazyStatistic(build),
        null_standard_error=null_se,
        test=_CONGER_TEST,
        details={"n_pairable": u.n_pairable},
    )


_CONGER_TEST = (
    "z = estimate / SE0, SE0 from the variance under H0 of independent raters with their own "
    "marginals (Fleiss, Cohen & Everitt 1969 null variance generalised to r raters and "
    "missing ratings; equals Cohen's ASE0 for 2 raters with complete data)"
)


def _conger_null_se(
    rated: np.ndarray, pairable: np.ndarray, p_gk: np.ndarray, w: np.ndarray, pe: float, mult: np.ndarray | None = None
) -> float:
    """SE of Conger's kappa under H0: rater g's ratings i.i.d. from its marginal p_g.

    Delta method on :math:`p_a - \\hat p_e`.  Linear part: rating (i, g) with
    value x contributes :math:`2A_i \\sum_{h \\in R_i \\setminus g} q_h(x) -
    B_g \\sum_{h \\ne g} q_h(x)`, with :math:`q_h = \\bar W p_h`,
    :math:`A_i = [r_i \\ge 2]/(n' r_i(r_i-1))`, :math:`B_g = 2/(r(r-1)n_g)`
    (it cancels with complete data).  Degenerate part:
    :math:`\\sum_i \\sum_{g<h \\in R_i} 4A_i^2 E\\phi_{gh}^2` with
    :math:`E\\phi^2_{gh} = p_g'(\\bar W \\circ \\bar W)p_h - \\sum_k p_{gk} q_{hk}^2 -
    \\sum_k p_{hk} q_{gk}^2 + (p_g' \\bar W p_h)^2` (the FCE null variance of
    the pair).  All terms are (units x raters) or (raters x raters) matrix products.
    Rows may be distinct units' rows held by ``mult`` units each (default 1).
    """
    mask = rated.astype(np.float64)  # (n, R)
    mult = np.ones(mask.shape[0]) if mult is None else np.asarray(mult, dtype=np.float64)
    n_rat = mask.sum(axis=1)
    n_g = mult @ mask
    n_raters = mask.shape[1]
    n_pair = float(mult @ pairable)
    wbar = (w + w.T) / 2
    q = p_gk @ wbar  # (R, K): q[h] = W p_h
    a_unit = np.where(pairable, 1.0 / (n_pair * np.maximum(n_rat * (n_rat - 1), 1)), 0.0)
    alpha = 2 * a_unit[:, None]  # (n, 1)
    beta = (2 / (n_raters * (n_raters - 1) * n_g))[None, :]  # (1, R)
    big_q = mask @ q  # (n, K): sum of q_h over the unit's raters
    q_all = q.sum(axis=0)
    pq = (p_gk * q).sum(axis=1)  # (R,)
    rest = q_all[None, :] - q  # (R, K)
    # moments over x ~ p_g of (Q_i - q_g)(x) and (Q_all - q_g)(x)
    t1 = (big_q**2) @ p_gk.T - 2 * big_q @ (p_gk * q).T + (p_gk * q * q).sum(axis=1)[None, :]
    t2 = big_q @ (p_gk * rest).T - (p_gk * q * rest).sum(axis=1)[None, :]
    t3 = (p_gk * rest**2).sum(axis=1)[None, :]
    m1 = big_q @ p_gk.T - pq[None, :]
    m2 = (p_gk * rest).sum(axis=1)[None, :]
    second = alpha**2 * t1 - 2 * alpha * beta * t2 + beta**2 * t3
    first = alpha * m1 - beta * m2
    scale = alpha**2 * np.abs(t1) + 2 * alpha * beta * np.abs(t2) + beta**2 * t3
    linear = float(mult @ (mask * _cancelled(second - first**2, scale)).sum(axis=1))
    mu = p_gk @ wbar @ p_gk.T
    e_a2 = p_gk @ (q * q).T
    e_w2 = p_gk @ (wbar * wbar) @ p_gk.T
    ephi2 = _cancelled(e_w2 - e_a2 - e_a2.T + mu**2, e_w2 + mu**2)
    np.fill_diagonal(ephi2, 0.0)
    together = mask.T @ (mask * (mult * a_unit**2)[:, None])  # (R, R): sum_i A_i^2 over units both rated
    degenerate = 2 * float((ephi2 * together).sum())
    return float(np.sqrt(max(linear + degenerate, 0.0)) / (1 - pe))


# ------------------------------------------------------- two-rater family
def _two_rater_table(ratings: Ratings, statistic: str) -> tuple[dict, np.ndarray]:
    """Contingency table of exactly two raters over the units both rated, and the units left out."""
    ratings.require_rater_identity(statistic)
    if ratings.n_raters != 2:
        raise DataError(
            f"{statistic} is defined for exactly 2 raters, got {ratings.n_raters}; use "
            "conger_kappa or fleiss_kappa for more raters, or pairwise_table for every pair"
        )
    merged = ratings.sufficient_statistics
    if merged is not None and merged.pair_table is not None:  # merged tables (e.g. from Dask)
        table = merged.pair_table.astype(np.int64)
        patterns, mult = ratings.count_patterns()
        n_single = int(mult[patterns.sum(axis=1) == 1].sum())
        if table.sum() == 0:
            raise InsufficientDataError(f"{statistic} needs units rated by both raters; there are none")
        return ({"rated by one rater only": n_single} if n_single else {}), table
    codes = ratings.wide_codes
    both = (codes >= 0).all(axis=1)
    dropped = {}
    n_single = int(((codes >= 0).sum(axis=1) == 1).sum())
    n_none = int(((codes >= 0).sum(axis=1) == 0).sum())
    if n_single:
        dropped["rated by one rater only"] = n_single
    if n_none:
        dropped["no ratings"] = n_none
    k = ratings.n_categories
    cell = codes[both, 0].astype(np.int64) * k + codes[both, 1]
    if cell.size == 0:
        raise InsufficientDataError(f"{statistic} needs units rated by both raters; there are none")
    return dropped, np.bincount(cell, minlength=k * k).reshape(k, k)


def _pair_table_ratings(table: np.ndarray, categories) -> Ratings:
    """Ratings of two raters held as the count patterns of their K x K table (no per-unit arrays)."""
    k = table.shape[0]
    first, second = np.triu_indices(k)
    mult = np.where(first == second, table[first, second], table[first, second] + table[second, first])
    patterns = np.zeros((first.size, k), dtype=np.int64)
    np.add.at(patterns, (np.arange(first.size), first), 1)
    np.add.at(patterns, (np.arange(first.size), second), 1)
    used = mult > 0
    merged = SufficientStatistics(
        patterns[used], mult[used].astype(np.int64), np.stack([table.sum(axis=1), table.sum(axis=0)])
    )
    return Ratings.from_sufficient_statistics(merged, categories, np.array(["rater1", "rater2"]))


def _weighted_kappa_batch(tables: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted kappa and FCE (1969) SE of (P, K, K) count tables (no checks; see the public one)."""
    tables = np.asarray(tables, dtype=np.float64)
    n = tables.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = tables / n[:, None, None]
        row, col = p.sum(axis=2), p.sum(axis=1)
        po = (p * w).sum(axis=(1, 2))
        pe = np.einsum("pi,ij,pj->p", row, w, col)
        kappa = (po - pe) / (1 - pe)
        w_row = col @ w.T  # mean weight of row category i over rater 2's marginal
        w_col = row @ w  # mean weight of column category j over rater 1's marginal
        spread = w[None] - (w_row[:, :, None] + w_col[:, None, :]) * (1 - kappa)[:, None, None]
        var = ((p * spread**2).sum(axis=(1, 2)) - (kappa - pe * (1 - kappa)) ** 2) / ((1 - pe) ** 2 * n)
        kappa = np.where(pe < 1 - 1e-12, kappa, np.nan)
        kappa_se = np.where(np.isfinite(kappa), np.sqrt(np.maximum(var, 0)), np.nan)
    # round-off (e.g. a rater who gave one score throughout) is an exact zero
    kappa = np.where(np.abs(kappa) < ROUNDOFF, 0.0, kappa)
    kappa_se = np.where(kappa_se < ROUNDOFF, 0.0, kappa_se)
    return kappa, kappa_se


def weighted_kappa_from_tables(tables, weights: Any = None, *, categories=None):
    """Cohen's weighted kappa and its standard error from K x K contingency tables.

    For one table of counts :math:`n_{ij}` (units rater 1 put in category i and
    rater 2 in j), :math:`p_{ij} = n_{ij} / n` and agreement weights
    :math:`w_{ij}` (1 on the diagonal), Cohen (1968):

    .. math::  \\kappa_w = \\frac{p_o - p_e}{1 - p_e}, \\quad
               p_o = \\sum_{ij} w_{ij} p_{ij}, \\quad
               p_e = \\sum_{ij} w_{ij} p_{i\\cdot} p_{\\cdot j}

    and the large-sample standard error of Fleiss, Cohen & Everitt (1969),

    .. math::  \\widehat{var}(\\kappa_w) = \\frac{\\sum_{ij} p_{ij} [w_{ij} - (\\bar w_{i\\cdot}
               + \\bar w_{\\cdot j})(1 - \\kappa_w)]^2 - [\\kappa_w - p_e(1 - \\kappa_w)]^2}
               {n (1 - p_e)^2},
               \\quad \\bar w_{i\\cdot} = \\sum_j p_{\\cdot j} w_{ij}, \\quad
               \\bar w_{\\cdot j} = \\sum_i p_{i\\cdot} w_{ij}

    (what SAS PROC FREQ reports as "ASE" and :func:`cohen_kappa` uses).  Every
    table of a batch is computed at once, with no loop over tables: every rater
    pair (:func:`~irr.stats.pairwise_table`), every rater against a consensus.

    Parameters
    ----------
    tables : array_like, (K, K) or (P, K, K)
        Non-negative counts; one table or a batch of ``P``.
    weights : None, "identity", "linear", "quadratic" or (K, K) array
        Agreement weights (None: unweighted kappa).  Named linear and
        quadratic weights are computed from the score values ``categories``
        (see :func:`~irr.stats.agreement_weights`), not from the positions.
    categories : sequence of K score values, optional
        Needed for ``"linear"`` / ``"quadratic"``.

    Returns
    -------
    kappa, standard_error : float (one table) or ndarray of shape (P,)
        NaN where a table is empty or its chance agreement is 1 (both raters
        used one category).

    References
    ----------
    Cohen, J. (1968). Weighted kappa. Psychological Bulletin, 70, 213-220.
    Fleiss, J. L., Cohen, J., & Everitt, B. S. (1969). Large sample standard errors
    of kappa and weighted kappa. Psychological Bulletin, 72, 323-327.

    Examples
    --------
    Two raters on three papers: (1, 1), (2, 2), (3, 2).

    >>> table = [[1, 0, 0], [0, 1, 0], [0, 1, 0]]
    >>> kappa, se = weighted_kappa_from_tables(table)
    >>> round(kappa, 4), round(se, 4)
    (0.5, 0.3118)
    >>> kappa, se = weighted_kappa_from_tables([table, [[2, 0, 0], [0, 1, 0], [0, 0, 0]]],
    ...                                        "quadratic", categories=[1, 2, 3])
    >>> kappa.round(4).tolist()
    [0.6667, 1.0]
    """
    counts = np.asarray(tables, dtype=np.float64)
    single = counts.ndim == 2
    if single:
        counts = counts[None]
    if counts.ndim != 3 or counts.shape[1] != counts.shape[2]:
        raise DataError(f"contingency tables must be K x K or a stack of them (P, K, K), got shape {np.shape(tables)}")
    if np.isnan(counts).any() or (counts < 0).any():
        raise DataError("contingency table cells must be non-negative counts")
    k = counts.shape[1]
    if isinstance(weights, str) and weights not in ("identity", "unweighted", "nominal"):
        if categories is None:
            raise DataError(
                f"{weights} weights need the score values of the {k} categories: "
                "pass categories=[...] (or give the K x K weight matrix)"
            )
        w = agreement_weights(categories, weights)
    elif weights is None or isinstance(weights, str):
        w = np.eye(k)
    else:
        w = agreement_weights(np.arange(k, dtype=np.float64) if categories is None else categories, weights)
    if w.shape != (k, k):
        raise DataError(f"the weights are {w.shape[0]}x{w.shape[1]} but the tables are {k}x{k}")
    kappa, se = _weighted_kappa_batch(counts, w)
    return (float(kappa[0]), float(se[0])) if single else (kappa, se)


def _cohen_null_variance(p: np.ndarray, w: np.ndarray) -> float:
    """FCE (1969) variance x n of weighted kappa under H0 (independent raters)."""
    row, col = p.sum(axis=1), p.sum(axis=0)
    pe = float((w * np.outer(row, col)).sum())
    w_row, w_col = w @ col, row @ w
    spread0 = w - (w_row[:, None] + w_col[None, :])
    return float(((np.outer(row, col) * spread0**2).sum() - pe**2) / (1 - pe) ** 2)


def cohen_kappa(
    data,
    weights: Any = None,
    *,
    categories=None,
    finite_population: int | None = None,
    alternative: str = "two-sided",
) -> AgreementResult:
    """Cohen's (1960) kappa and weighted kappa (Cohen 1968) for two raters.

    .. math::  \\kappa_w = \\frac{p_o - p_e}{1 - p_e}, \\quad
               p_o = \\sum_{ij} w_{ij} p_{ij}, \\quad
               p_e = \\sum_{ij} w_{ij} p_{i\\cdot} p_{\\cdot j}

    over the units both raters scored (others are reported in ``dropped``).
    Standard error: the large-sample non-null variance of Fleiss, Cohen &
    Everitt (1969),

    .. math::  \\widehat{var} = \\frac{\\sum_{ij} p_{ij} [w_{ij} - (\\bar w_{i\\cdot}
               + \\bar w_{\\cdot j})(1 - \\kappa_w)]^2 - [\\kappa_w - p_e(1 - \\kappa_w)]^2}
               {n (1 - p_e)^2}

    which SAS PROC FREQ ("ASE") and statsmodels report.  The p-value uses
    the variance under H0 (``details["standard_error_null"]``, SAS "ASE0").

    Examples
    --------
    >>> import numpy as np
    >>> res = cohen_kappa(np.array([[1, 1], [2, 2], [3, 2]]), categories=[1, 2, 3])
    >>> round(res.estimate, 4)
    0.5
    """
    _check_alternative(alternative)
    ratings = as_ratings(data, categories)
    dropped, table = _two_rater_table(ratings, "Cohen's kappa")
    w = agreement_weights(ratings.scale, weights)
    n = int(table.sum())
    p = table / n
    po = float((w * p).sum())
    pe = float((w * np.outer(p.sum(axis=1), p.sum(axis=0))).sum())
    if pe >= 1 - 1e-12:
        raise InsufficientDataError(
            "Cohen's kappa is undefined: both raters used a single category (chance agreement 1)"
        )
    kappa_batch, se_batch = _weighted_kappa_batch(table[None], w)
    kappa = float(kappa_batch[0])
    k = ratings.n_categories

    def build() -> UnitLevelStatistic:
        # one pattern per occupied cell of the table (units with equal pairs of scores are alike)
        occupied = np.flatnonzero(table.ravel())
        features = np.eye(k * k)[occupied]

        def statistic_from_totals(t: np.ndarray) -> np.ndarray:
            tab = t.reshape(t.shape[:-1] + (k, k))
            tab = tab / tab.sum(axis=(-2, -1), keepdims=True)
            po_t = (w * tab).sum(axis=(-2, -1))
            pe_t = np.einsum("...i,ij,...j->...", tab.sum(axis=-1), w, tab.sum(axis=-2))
            return _kappa(po_t, pe_t)

        return UnitLevelStatistic(features, table.ravel()[occupied].astype(np.int64), statistic_from_totals)

    return _finish(
        statistic="cohen_kappa",
        ratings=ratings,
        estimate=kappa,
        observed=po,
        expected=pe,
        linearized=None,
        n_units=n,
        n_raters=2,
        n_ratings=2 * n,
        dropped=dropped,
        weights=weights,
        alternative=alternative,
        finite_population=finite_population,
        resampler=LazyStatistic(build),
        se_method="Fleiss, Cohen & Everitt (1969) large-sample variance",
        standard_error=float(se_batch[0]),
        null_standard_error=float(np.sqrt(max(_cohen_null_variance(p, w), 0.0) / n)),
        test="z = estimate / ASE0, Fleiss, Cohen & Everitt (1969) variance under independence (SAS ASE0)",
        details={"table": table.tolist(), "n_pairable": n},
    )


def scott_pi(
    data,
    weights: Any = None,
    *,
    categories=None,
    finite_population: int | None = None,
    alternative: str = "two-sided",
) -> AgreementResult:
    """Scott's (1955) pi for two raters, with optional weights.

    .. math::  \\pi = \\frac{p_o - p_e}{1 - p_e}, \\qquad
               p_e = \\sum_{kl} w_{kl} \\bar p_k \\bar p_l, \\quad
               \\bar p_k = (p_{k\\cdot} + p_{\\cdot k}) / 2

    over the units both raters scored.  It is Fleiss' kappa restricted to two
    raters with complete data; the SE is Gwet's linearization (irrCAC
    ``scott2.table``); the p-value uses the null SE of :func:`fleiss_kappa`.

    Examples
    --------
    >>> import numpy as np
    >>> round(scott_pi(np.array([[1, 1], [2, 2], [2, 1], [1, 1]])).estimate, 4)
    0.4667
    """
    _check_alternative(alternative)
    ratings = as_ratings(data, categories)
    dropped, table = _two_rater_table(ratings, "Scott's pi")
    # The units rated by both raters, as count patterns: cell (i, j) and (j, i) give the same row.
    both = _pair_table_ratings(table, ratings.categories)
    result = _multi_rater(
        both,
        weights,
        statistic="scott_pi",
        chance=_pe_fleiss,
        chance_unit=_pe_unit_fleiss,
        chance_grad=_grad_fleiss,
        categories=None,
        finite_population=finite_population,
        alternative=alternative,
    )
    return dataclasses.replace(result, dropped={**dropped, **result.dropped})
