"""Krippendorff's alpha from the coincidence matrix.

.. math::  \\alpha = 1 - \\frac{D_o}{D_e}
           = 1 - (n_{\\cdot\\cdot} - 1)
             \\frac{\\sum_{c,k} o_{ck}\\, \\delta^2_{ck}}{\\sum_{c,k} n_c n_k\\, \\delta^2_{ck}}

The coincidence matrix is built from the units x categories counts
:math:`n_{uc}` of the units with :math:`m_u \\ge 2` pairable values,

.. math::  o_{ck} = \\sum_u \\frac{n_{uc} n_{uk} - [c = k]\\, n_{uc}}{m_u - 1},
           \\qquad n_c = \\sum_k o_{ck},

as one weighted Gram product (memory O(units x categories), no
units x V x V temporaries).  Metrics (Krippendorff 2011), with score values
:math:`v`:

* nominal:  :math:`\\delta^2_{ck} = [c \\ne k]`
* ordinal:  :math:`\\delta^2_{ck} = (\\sum_{g=c}^{k} n_g - \\frac{n_c + n_k}{2})^2`
  (rank-based, uses the marginal frequencies; *not* irrCAC's "ordinal weights")
* interval: :math:`(v_c - v_k)^2`
* ratio:    :math:`((v_c - v_k) / (v_c + v_k))^2`

References
----------
Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability.
Annenberg School for Communication, University of Pennsylvania.
Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard
reliability measure for coding data. Communication Methods and Measures, 1, 77-89.
Gwet, K. L. (2014). Handbook of Inter-Rater Reliability (4th ed.), ch. 5.
"""

from __future__ import annotations

from typing import Callable, Union

import numpy as np

from irr.errors import DataError, InsufficientDataError
from irr.stats._inference import UnitLevelStatistic, pair_kernel_moments
from irr.stats._ratings import as_ratings
from irr.stats._results import ROUNDOFF, AgreementResult, p_value_from_z

__all__ = ["krippendorff_alpha", "coincidence_matrix", "LEVELS"]

LEVELS = ("nominal", "ordinal", "interval", "ratio")
Metric = Union[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]


def coincidence_matrix(data, *, categories=None) -> np.ndarray:
    """The K x K coincidence matrix :math:`o_{ck}` of pairable values.

    .. math::  o_{ck} = \\sum_u \\frac{n_{uc} (n_{uk} - [c = k])}{m_u - 1}

    over units with :math:`m_u \\ge 2` ratings (Krippendorff 2011); all zeros
    when no unit has two ratings.

    Examples
    --------
    >>> import numpy as np
    >>> coincidence_matrix(np.array([[1, 1], [1, 2]]), categories=[1, 2]).tolist()
    [[2.0, 1.0], [1.0, 0.0]]
    """
    ratings = as_ratings(data, categories)
    _, weight, _, per_pattern, _ = _pairable_patterns(ratings)
    k = ratings.n_categories
    return (weight @ per_pattern).reshape(k, k)


def _pairable_patterns(ratings):
    """Distinct count rows of units with >= 2 ratings and their coincidence contributions.

    Returns counts (P, K), multiplicity (P,), ratings per unit (P,),
    per-pattern contributions to :math:`o_{ck}` (P, K*K) and the dropped units.
    """
    patterns_all, mult_all = ratings.count_patterns()
    m_all = patterns_all.sum(axis=1)
    dropped = {}
    if int(mult_all[m_all == 1].sum()):
        dropped["fewer than 2 ratings"] = int(mult_all[m_all == 1].sum())
    if int(mult_all[m_all == 0].sum()):
        dropped["no ratings"] = int(mult_all[m_all == 0].sum())
    pairable = m_all >= 2
    counts = patterns_all[pairable].astype(np.float64)
    m = m_all[pairable].astype(np.float64)
    k = counts.shape[1]
    scaled = counts / (m - 1)[:, None]
    per_pattern = scaled[:, :, None] * counts[:, None, :]
    per_pattern[:, np.arange(k), np.arange(k)] -= scaled
    return counts, mult_all[pairable].astype(np.float64), m, per_pattern.reshape(-1, k * k), dropped


def _ordinal_distance(marginals: np.ndarray) -> np.ndarray:
    """Krippendorff's ordinal metric from value frequencies ``(..., K)``."""
    cum = np.cumsum(marginals, axis=-1)
    # sum_{g=c..k} n_g - (n_c + n_k)/2 for c <= k, via cumulative sums
    below = cum - marginals  # sum_{g<c} n_g
    upper = cum[..., None, :]  # sum_{g<=k} n_g (column k)
    lower = below[..., :, None]  # sum_{g<c} n_g  (row c)
    span = upper - lower - (marginals[..., :, None] + marginals[..., None, :]) / 2
    span = np.where(
        np.arange(marginals.shape[-1])[:, None] <= np.arange(marginals.shape[-1])[None, :],
        span,
        np.swapaxes(span, -1, -2),
    )
    return span**2


def _fixed_distance(level: Metric, values: np.ndarray) -> np.ndarray | None:
    """Squared distances for metrics that do not depend on the data."""
    c, k = values[:, None], values[None, :]
    if level == "nominal":
        return (c != k).astype(np.float64)
    if level == "interval":
        return (c - k) ** 2
    if level == "ratio":
        if (values < 0).any():
            raise DataError("the ratio metric needs non-negative score values")
        with np.errstate(divide="ignore", invalid="ignore"):
            d = ((c - k) / (c + k)) ** 2
        return np.nan_to_num(d, nan=0.0)
    if level == "ordinal":
        return None
    if callable(level):
        d = np.asarray(
            level(np.broadcast_to(c, (values.size,) * 2), np.broadcast_to(k, (values.size,) * 2)), dtype=np.float64
        )
        if d.shape != (values.size, values.size) or (d < 0).any() or not np.allclose(np.diag(d), 0):
            raise DataError("a custom metric must return non-negative distances, 0 for equal values")
        return d
    raise DataError(f"level must be one of {LEVELS} or a callable metric, got {level!r}")


def _alpha_from_coincidences(o: np.ndarray, level: Metric, values: np.ndarray) -> np.ndarray:
    """Alpha for coincidence matrices ``(..., K, K)`` (vectorised over batches)."""
    marg = o.sum(axis=-1)
    total = marg.sum(axis=-1)
    fixed = _fixed_distance(level, values)
    delta = _ordinal_distance(marg) if fixed is None else fixed
    observed = (o * delta).sum(axis=(-2, -1))
    expected = (marg[..., :, None] * marg[..., None, :] * delta).sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1 - (total - 1) * observed / expected


def krippendorff_alpha(
    data,
    level: Metric = "nominal",
    *,
    categories=None,
    finite_population: int | None = None,
    alternative: str = "two-sided",
) -> AgreementResult:
    """Krippendorff's alpha for any number of raters, with missing ratings.

    Parameters
    ----------
    data : Ratings or array_like (units x raters, NaN = missing)
    level : {"nominal", "ordinal", "interval", "ratio"} or callable
        Krippendorff's metric.  A callable ``metric(v_c, v_k)`` receives
        broadcast arrays of score values and returns squared distances
        (0 on the diagonal).  Note the default is ``"nominal"`` (the
        ``krippendorff`` package defaults to interval).
    categories : sequence, optional
        Declared scale; unused score points matter for the ordinal metric.
    finite_population : int, optional
        Population size for the finite-population correction of the SE.

    Returns
    -------
    AgreementResult
        ``observed`` and ``expected`` are the agreements
        :math:`1 - D_o/\\delta_{max}` and :math:`1 - D_e/\\delta_{max}`
        (irrCAC's ``pa``/``pe`` differ: they add a :math:`1/n_{\\cdot\\cdot}`
        correction), so that
        ``estimate = (observed - expected) / (1 - expected)``;
        ``details`` holds ``D_o``, ``D_e`` and the coincidence matrix.
        Standard error: Gwet's linearization (irrCAC 1.4
        ``krippen.alpha.raw``, weights :math:`1 - \\delta^2/\\delta^2_{max}`)
        for data-independent metrics; for the ordinal metric, whose
        distances depend on the marginal frequencies, the jackknife over units.
        The finite-population fraction and the t df use all units with a
        rating (``n_sampled``; irrCAC 1.4's ``n0``), the variance the pairable ones.
        ``p_value``: z with the SE under H0 of independent values
        (``details["standard_error_null"]``, :func:`_alpha_null_se`), not the
        SE of the estimate.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 1, np.nan], [2, 2, 3], [3, 3, 3], [1, 2, 2]])
    >>> round(krippendorff_alpha(x, "nominal").estimate, 4)   # 1 - (4/11) / (80/110)
    0.5
    >>> round(krippendorff_alpha(x, "interval").estimate, 4)  # 1 - (4/11) / (152/110)
    0.7368
    """
    if alternative not in ("two-sided", "greater", "less"):
        raise DataError(f"alternative must be 'two-sided', 'greater' or 'less', got {alternative!r}")
    ratings = as_ratings(data, categories)
    if level == "ordinal":
        ratings.require_order("ordinal alpha")
    if level in ("nominal", "ordinal"):
        values = np.arange(ratings.n_categories, dtype=np.float64)  # distances need no score values
    else:
        name = f"{level} alpha" if isinstance(level, str) else "a custom alpha metric"
        values = np.asarray(ratings.require_numeric(name), dtype=np.float64)
    # alpha depends on a unit only through its count row: work on the distinct rows
    counts, weight, m, per_pattern, dropped = _pairable_patterns(ratings)
    if counts.shape[0] == 0:
        raise InsufficientDataError("Krippendorff's alpha needs at least one unit with 2 or more ratings")
    k = values.size
    o = (weight @ per_pattern).reshape(k, k)
    marg = o.sum(axis=1)
    total = float(marg.sum())
    fixed = _fixed_distance(level, values)
    delta = _ordinal_distance(marg) if fixed is None else fixed
    d_obs = float((o * delta).sum() / total)
    d_exp = float((np.outer(marg, marg) * delta).sum() / (total * (total - 1)))
    if d_exp <= 0:
        raise InsufficientDataError(
            "Krippendorff's alpha is undefined: all pairable values are equal (no expected disagreement)"
        )
    estimate = 1 - d_obs / d_exp
    delta_max = float(delta.max())
    observed, expected = 1 - d_obs / delta_max, 1 - d_exp / delta_max
    level_name = level if isinstance(level, str) else "custom"

    def statistic_from_totals(t):
        return _alpha_from_coincidences(t.reshape(t.shape[:-1] + (k, k)), level, values)

    resampler = UnitLevelStatistic(per_pattern, weight.astype(np.int64), statistic_from_totals)
    n = int(weight.sum())
    # irrCAC 1.4: the sampled units (any rating) give n/N and the t df; n' pairable units the variance
    n_sampled = n + int(dropped.get("fewer than 2 ratings", 0))
    if finite_population is not None and finite_population < n_sampled:
        raise DataError(f"finite_population ({finite_population}) is smaller than the {n_sampled} units analysed")
    fpc = 1.0 if finite_population is None else 1 - n_sampled / finite_population
    if fixed is not None:
        standard_error = _gwet_alpha_se(counts, m, weight, 1 - fixed / delta_max, fpc)
        se_method = "Gwet (2014) linearization (irrCAC 1.4 krippen.alpha.raw)"
    else:
        standard_error = resampler.jackknife_se() * np.sqrt(fpc)
        se_method = "jackknife over units (ordinal distances depend on the marginals)"
    null_se = _alpha_null_se(m, weight, marg / total, delta, d_exp) * np.sqrt(fpc)
    estimate, standard_error, null_se = (
        0.0 if np.isfinite(x) and abs(x) < ROUNDOFF else float(x) for x in (estimate, standard_error, null_se)
    )
    z = estimate / null_se if null_se > 0 else float("nan")
    return AgreementResult(
        statistic="krippendorff_alpha",
        estimate=float(estimate),
        standard_error=float(standard_error),
        observed=float(observed),
        expected=float(expected),
        n_units=n,
        n_raters=ratings.n_raters,
        n_ratings=int((weight * m).sum()),
        dropped=dropped,
        weights=level_name,
        alternative=alternative,
        p_value=p_value_from_z(z, alternative),
        se_method=se_method,
        finite_population=finite_population,
        details={
            "level": level_name,
            "D_o": d_obs,
            "D_e": d_exp,
            "coincidences": o.tolist(),
            "z": z,
            "standard_error_null": null_se,
            "n_pairable": n,
            "test": _ALPHA_TEST,
        },
        _resampler=resampler,
        n_sampled=n_sampled,
        interval_kind="chance_corrected",
    )


_ALPHA_TEST = (
    "z = estimate / SE0, SE0 from the variance of D_e - D_o under H0 of independent "
    "pairable values (i.i.d. from the coincidence marginals, distances held fixed)"
)


def _alpha_null_se(m, weight, pi, delta, d_exp) -> float:
    """SE of alpha under H0: the pairable values are i.i.d. from ``pi`` (= n_c / n..).

    :math:`D_o = \\sum_u \\frac{1}{n_{..}(m_u-1)} \\sum_{a \\ne b \\in u} \\delta_{ab}` and
    :math:`D_e` (the same mean over all pairs of the :math:`n_{..}` values) have
    the same linear (Hoeffding) part, so under H0 only the degenerate parts remain:

    .. math::  Var_0(D_e - D_o) = 2 E\\phi^2 \\left(\\frac{1}{n_{..}^2} \\sum_u \\frac{m_u}{m_u-1}
               - \\frac{1}{n_{..}(n_{..}-1)}\\right), \\qquad
               SE_0(\\alpha) = \\sqrt{Var_0} / D_e

    with :math:`E\\phi^2` the degenerate second moment of the distance kernel.
    """
    n_values = float(weight @ m)
    if n_values < 2 or d_exp <= 0:
        return float("nan")
    _, _, ephi2 = pair_kernel_moments(pi, delta)
    var = 2 * ephi2 * ((weight @ (m / (m - 1))) / n_values**2 - 1 / (n_values * (n_values - 1)))
    return float(np.sqrt(max(var, 0.0)) / d_exp)


def _gwet_alpha_se(counts, m, weight, weights, fpc: float) -> float:
    """Gwet's linearized SE of alpha (irrCAC 1.4) over units with >= 2 ratings.

    ``counts`` are distinct unit count rows, ``weight`` how many units share each.
    """
    n = weight.sum()
    if n < 2:
        return float("nan")
    m_bar = (weight * m).sum() / n
    agreeing = (counts * (counts @ weights.T - 1)).sum(axis=1)
    pa_unit = agreeing / (m_bar * (m - 1))
    pa_prime = (weight * pa_unit).sum() / n
    pi = (weight @ (counts / m_bar)) / n
    pe = float(pi @ weights @ pi)
    alpha_prime = (pa_prime - pe) / (1 - pe)
    pa_lin = pa_unit - pa_prime * (m - m_bar) / m_bar
    kappa_unit = (pa_lin - pe) / (1 - pe)
    pi_w = (weights @ pi + weights.T @ pi) / 2
    pe_unit = counts @ pi_w / m_bar - pe * (m - m_bar) / m_bar
    lin = kappa_unit - 2 * (1 - alpha_prime) * (pe_unit - pe) / (1 - pe)
    var = fpc / (n * (n - 1)) * float((weight * (lin - alpha_prime) ** 2).sum())
    return float(np.sqrt(var))
