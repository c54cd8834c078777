"""Intraclass correlation coefficients (McGraw & Wong 1996; Shrout & Fleiss 1979).

Six forms, named as McGraw & Wong do (Shrout & Fleiss names accepted):

=========  ==============  =================================================
form       S&F alias       model / definition
=========  ==============  =================================================
``1,1``    ICC(1,1)        one-way random, single rating
``A,1``    ICC(2,1)        two-way, absolute agreement, single rating
``C,1``    ICC(3,1)        two-way, consistency, single rating
``1,k``    ICC(1,k)        one-way random, mean of k ratings
``A,k``    ICC(2,k)        two-way, absolute agreement, mean of k ratings
``C,k``    ICC(3,k)        two-way, consistency, mean of k ratings
=========  ==============  =================================================

Complete data (every rater scores every unit): the classic mean squares
:math:`MS_R` (units), :math:`MS_C` (raters), :math:`MS_E` (residual) and
:math:`MS_W` (within units), e.g.

.. math::  ICC(A,1) = \\frac{MS_R - MS_E}{MS_R + (k-1) MS_E + \\frac{k}{n}(MS_C - MS_E)}

with McGraw & Wong's F tests and confidence intervals.  The test of
H0: ICC = 0 is :math:`MS_R / MS_E` on :math:`(n-1, (n-1)(k-1))` df for every
two-way form: under H0 McGraw & Wong's :math:`a = 0` and :math:`b = 1`, so
their approximate df :math:`v` (evaluated at the estimate) belongs to the
interval of the agreement forms only (as psych and pingouin for the test; R
``irr::icc`` reports :math:`v` for the test too).  For ICC(A,k) the interval
keeps McGraw & Wong's own :math:`v` (as R ``irr``), not psych/pingouin's
Spearman-Brown transform of the ICC(A,1) bounds.

Missing ratings / unbalanced designs (e.g. each paper scored by 2 of 20
raters) are not dropped.  The variance components of the two-way random
model :math:`y_{ij} = \\mu + a_i + b_j + e_{ij}` are then estimated by
Henderson's Method III (fitting constants).  With :math:`g` groups of raters
that share no unit (separate scoring rooms; a rater whose papers nobody else
scored) the additive design has rank :math:`n + k - g`:

* :math:`SS_E` from the additive least-squares fit (unit effects absorbed,
  rater effects from the raters x raters reduced normal equations),
  :math:`E[SS_E] = (N - n - k + g)\\sigma^2_e`;
* :math:`R(b \\mid a) = SS_W - SS_E`, :math:`E = (k-g)\\sigma^2_e + (N-n)\\sigma^2_b`;
* :math:`R(a \\mid b) = SS_{W,raters} - SS_E`, :math:`E = (n-g)\\sigma^2_e + (N-k)\\sigma^2_a`;

and the one-way components by the unbalanced ANOVA with
:math:`n_0 = (N - \\sum m_i^2 / N)/(n - 1)`.  The same formulas and F-based
intervals are then evaluated with the effective multipliers
:math:`k_{eff} = (N-k)/(n-g)` and :math:`n_{eff} = (N-n)/(k-g)` in place of
k and n (exact for complete data, an approximation otherwise).  The
"average of k ratings" forms use the harmonic mean :math:`\\tilde k` of the
ratings per unit, in the estimate and in its interval: each bound is the
estimate's formula at the F limit of :math:`MS_R`, i.e. the Spearman-Brown
transform with :math:`\\tilde k` of the single-rating formula there (the
single-rating bound itself for the 1 and C forms); identical to McGraw &
Wong's intervals when the data are complete.

Across unlinked groups of raters the agreement forms cannot separate rater
from unit differences: ICC(A,1) and ICC(A,k) are then NaN, with the reason
in ``note`` and the number of groups in ``n_rater_groups``.  Likewise a form
whose variance denominator is zero or negative (negative component
estimates), or an interval that does not exist (no residual or no unit
variance), gives NaN and a reason, never an inverted or zero-width interval.

References
----------
McGraw, K. O., & Wong, S. P. (1996). Forming inferences about some intraclass
correlation coefficients. Psychological Methods, 1, 30-46.
Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: uses in
assessing rater reliability. Psychological Bulletin, 86, 420-428.
Searle, S. R., Casella, G., & McCulloch, C. E. (1992). Variance Components,
ch. 5 (Henderson's Method III).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
from scipy import linalg as _linalg
from scipy import sparse as _sparse
from scipy import special as _spc
from scipy.sparse import csgraph as _csgraph

from irr.errors import DataError, InsufficientDataError
from irr.stats._inference import LazyStatistic, UnitLevelStatistic
from irr.stats._ratings import Ratings, as_ratings
from irr.stats._results import ROUNDOFF, ConfidenceInterval, ci_from_bootstrap

__all__ = ["icc", "icc_table", "ICCResult", "FORMS"]

FORMS = ("1,1", "A,1", "C,1", "1,k", "A,k", "C,k")
_ALIASES = {
    "ICC1": "1,1",
    "ICC2": "A,1",
    "ICC3": "C,1",
    "ICC1K": "1,k",
    "ICC2K": "A,k",
    "ICC3K": "C,k",
    "1": "1,1",
    "2,1": "A,1",
    "3,1": "C,1",
    "2,K": "A,k",
    "3,K": "C,k",
    "1,K": "1,k",
    "A,1": "A,1",
    "C,1": "C,1",
    "1,1": "1,1",
    "A,K": "A,k",
    "C,K": "C,k",
}
DESCRIPTIONS = {
    "1,1": "one-way random effects, single rating",
    "A,1": "two-way, absolute agreement, single rating",
    "C,1": "two-way, consistency, single rating",
    "1,k": "one-way random effects, mean of k ratings",
    "A,k": "two-way, absolute agreement, mean of k ratings",
    "C,k": "two-way, consistency, mean of k ratings",
}


def normalize_form(form: str) -> str:
    """Canonical McGraw & Wong name of an ICC form (accepts Shrout & Fleiss names)."""
    key = str(form).upper().replace("(", "").replace(")", "").replace(" ", "")
    if key.startswith("ICC") and key not in _ALIASES:
        key = key[3:]
    if key not in _ALIASES:
        raise DataError(f"unknown ICC form {form!r}; use one of {FORMS} or Shrout & Fleiss names ICC1..ICC3k")
    return _ALIASES[key]


# a statistic of the observed data, or one value per resample (the vectorised resampler)
_FloatOrArray = float | np.ndarray


@dataclass(frozen=True)
class _MeanSquares:
    """Mean squares, degrees of freedom and multipliers of the one- and two-way random models.

    Fields are floats, or arrays of one value per resample (the resampler).
    """

    ms_rows: _FloatOrArray  # units (two-way, raters adjusted)
    ms_cols: _FloatOrArray  # raters (units adjusted)
    ms_error: _FloatOrArray
    ms_between: _FloatOrArray  # one-way between units
    ms_within: _FloatOrArray
    df_rows: _FloatOrArray  # n - g
    df_cols: _FloatOrArray  # k - g
    df_error: _FloatOrArray  # N - n - k + g
    df_within: _FloatOrArray  # N - n
    k_eff: _FloatOrArray  # multiplier of sigma_a^2 in E[MS_rows]
    n_eff: _FloatOrArray  # multiplier of sigma_b^2 in E[MS_cols]
    n0: _FloatOrArray  # one-way multiplier of sigma_a^2 in E[MS_between]
    k_mean: _FloatOrArray  # harmonic mean of ratings per unit (for the k forms)
    df_between: _FloatOrArray = float("nan")  # n - 1 (one-way)
    n_groups: _FloatOrArray = 1  # g: groups of raters linked by shared units


_DENSE_CELLS = 50_000_000  # units x raters cells above which incomplete designs take the sparse path
_RESAMPLE_CELLS = 300_000_000  # unit features, units x (7 + 3k + k^2), above which incomplete designs are not resampled
_TOO_LARGE = "too many units x raters for resampling the ICC in memory; use the analytic interval"
_TINY = 1e-12  # relative size below which a variance denominator counts as zero


@dataclass(frozen=True)
class _Fit:
    """What every ICC form of one data set shares: design, mean squares, resampler."""

    n: int  # units with at least one rating
    k: int  # raters with at least one rating
    n_ratings: int
    balanced: bool
    dropped: Mapping[str, int]
    mean_squares: _MeanSquares
    # the distinct units x raters code rows of the rated units and raters, with the units having
    # each (code_row_patterns order); None with the reason in `refusal` when not resampled
    unit_rows: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None
    points: np.ndarray | None = None  # numeric values of the category codes
    refusal: str = _TOO_LARGE


def may_resample(n_units: int, n_raters: int, n: int, k: int, balanced: bool) -> bool:
    """Whether the ICC is resampled (jackknife SE, bootstrap): a complete design, or a dense one.

    ``n_units x n_raters`` of the ratings within ``_DENSE_CELLS`` and the unit
    features of the ``n`` rated units and ``k`` raters, ``n (7 + 3k + k^2)``,
    within ``_RESAMPLE_CELLS`` (the same rule in memory and on Dask).
    """
    return balanced or (n_units * n_raters <= _DENSE_CELLS and n * (7 + 3 * k + k * k) <= _RESAMPLE_CELLS)


def may_resample_design(n_low: int, n_high: int, n_ratings: int, k: int) -> bool:
    """:func:`may_resample` for some number of units between ``n_low`` and ``n_high`` (before counting them)."""
    if k < 1:
        return False
    complete = n_ratings % k == 0 and n_low <= n_ratings // k <= n_high
    return complete or may_resample(n_low, k, n_low, k, False)


def _pattern_rows(ratings: Ratings, rater_used: np.ndarray | None = None):
    """A thunk for the distinct code rows of the rated units (over the raters used)."""

    def rows() -> tuple[np.ndarray, np.ndarray]:
        codes, mult = ratings.unit_code_patterns("resampling the ICC (jackknife SE, bootstrap and jackknife intervals)")
        if rater_used is not None and not rater_used.all():
            codes = codes[:, rater_used]  # unused raters' columns are all -1: rows stay distinct, in order
        return codes, mult

    return rows


def _scores_from_codes(codes: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Scores of a code matrix up to an additive constant (arbitrary where a code is -1).

    On an evenly spaced scale the score is ``step * code`` plus a constant, so no
    table look-up is needed; sums of squares do not see the constant.
    """
    steps = np.diff(scale)
    if steps.size == 0 or np.all(steps == steps[0]):
        scores = codes.astype(np.float64)
        if steps.size and steps[0] != 1:
            scores *= steps[0]
        return scores
    return scale.take(np.maximum(codes, 0))


def _score_values(ratings: Ratings) -> np.ndarray:
    """Numeric values of the scale points (NonNumericScaleError for a scale of labels)."""
    require = getattr(ratings, "require_numeric", None)
    return np.asarray(require("the ICC") if require is not None else ratings.categories, dtype=np.float64)


def _fit(ratings: Ratings) -> _Fit:
    """Mean squares of the ratings, from the units x raters code matrix."""
    ratings.require_rater_identity("The ICC")
    scale = _score_values(ratings)
    if ratings.sufficient_statistics is not None:
        return _fit_from_tables(ratings, scale)
    if ratings.is_complete:
        values = _scores_from_codes(ratings.wide_codes, scale)
        values -= values.sum() / values.size  # centring avoids cancellation in the sums of squares
        n, k = values.shape
        if n < 2:
            raise InsufficientDataError(f"the ICC needs at least 2 rated units, got {n}")
        if k < 2:
            raise InsufficientDataError("the ICC needs at least one unit with 2 or more ratings")
        ms = _balanced_mean_squares(_balanced_totals(values), k)
        return _Fit(n, k, n * k, True, {}, ms, _pattern_rows(ratings), scale, "")

    dense = ratings.n_units * ratings.n_raters <= _DENSE_CELLS
    if dense:  # ratings per unit and per rater from the code matrix (no category counts)
        codes = ratings.wide_codes
        rated = codes >= 0
        m_all = rated.sum(axis=1)
        rater_used = rated.any(axis=0)
    else:  # too many cells for a matrix: one bincount over the ratings each
        unit_codes, rater_codes = ratings.unit, ratings.rater
        assert unit_codes is not None and rater_codes is not None  # rater identity is required above
        m_all = np.bincount(unit_codes, minlength=ratings.n_units)
        rater_used = np.bincount(rater_codes, minlength=ratings.n_raters) > 0
    keep_units = m_all >= 1
    dropped = {}
    if (~keep_units).any():
        dropped["no ratings"] = int((~keep_units).sum())
    if (m_all == 1).any():
        dropped["one rating (contributes to rater effects only)"] = int((m_all == 1).sum())
    n = int(keep_units.sum())
    if n < 2:
        raise InsufficientDataError(f"the ICC needs at least 2 rated units, got {n}")
    n_ratings = int(m_all.sum())
    if n_ratings - n < 1:
        raise InsufficientDataError("the ICC needs at least one unit with 2 or more ratings")
    k = int(rater_used.sum())
    m = m_all[keep_units].astype(np.float64)
    if not dense:
        # many raters, few ratings each: sparse sums over the ratings, no units x raters matrix
        unit_codes, rater_codes, category_codes = ratings.unit, ratings.rater, ratings.code
        assert unit_codes is not None and rater_codes is not None and category_codes is not None
        unit = (np.cumsum(keep_units) - 1)[unit_codes]
        rater = (np.cumsum(rater_used) - 1)[rater_codes]
        y = _scores_from_codes(category_codes, scale)
        s = _henderson_sparse(unit, rater, y - y.mean(), m, k)
        return _Fit(n, k, n_ratings, n_ratings == n * k, dropped, s)
    if not keep_units.all():
        codes = codes[keep_units]
    if not rater_used.all():
        codes = codes[:, rater_used]
    present = codes >= 0
    values = _scores_from_codes(codes, scale)
    np.multiply(values, present, out=values)
    values -= values.sum() / n_ratings
    np.multiply(values, present, out=values)  # centred, and exactly 0 where not rated
    s = _henderson(values, present, m, n_ratings)
    balanced = n_ratings == n * k
    if not may_resample(ratings.n_units, ratings.n_raters, n, k, balanced):
        return _Fit(n, k, n_ratings, balanced, dropped, s)
    return _Fit(n, k, n_ratings, balanced, dropped, s, _pattern_rows(ratings, np.asarray(rater_used)), scale, "")


def _fit_from_tables(ratings: Ratings, scale: np.ndarray) -> _Fit:
    r""":func:`_fit` from merged tables (:meth:`Ratings.from_sufficient_statistics`).

    With the scores centred at their grand mean, :math:`v_k = x_k - \bar x`:
    :math:`SS_{total} = \sum_k N_k v_k^2` (category totals), the unit sums
    :math:`s_p = n_{p\cdot} v` of each count pattern give
    :math:`\sum_i s_i^2 / m_i`, the rater sums are ``rater_counts @ v``, and
    Henderson's normal equations are :math:`N' \mathrm{diag}(1/m) N = \sum_m G_m / m`
    and :math:`q_j = \sum_k \text{rater\_counts}_{jk} v_k - \sum_m B_m[j] v / m`.
    """
    merged = ratings.sufficient_statistics
    assert merged is not None
    patterns, mult = ratings.count_patterns()
    rater_counts = ratings.rater_counts.astype(np.float64)
    totals = rater_counts.sum(axis=0)
    n_ratings = int(totals.sum())
    centred = scale - float(totals @ scale) / max(n_ratings, 1)
    m_pattern = patterns.sum(axis=1).astype(np.float64)
    unit_sums = patterns @ centred
    n_j = rater_counts.sum(axis=1)
    used = n_j > 0
    k = int(used.sum())
    n = int(mult.sum())
    dropped = {}
    single = int(mult[m_pattern == 1].sum())
    if single and not ratings.is_complete:
        dropped["one rating (contributes to rater effects only)"] = single
    if n < 2:
        raise InsufficientDataError(f"the ICC needs at least 2 rated units, got {n}")
    if n_ratings - n < 1:
        raise InsufficientDataError("the ICC needs at least one unit with 2 or more ratings")
    rater_sum = (rater_counts @ centred)[used]
    ss_total = float(totals @ centred**2)
    if ratings.is_complete:
        t = np.empty(4 + k)
        t[:4] = n, float(mult @ unit_sums), float(mult @ unit_sums**2), ss_total
        t[4:] = rater_sum
        return _Fit(n, k, n * k, True, {}, _balanced_mean_squares(t, k), _pattern_rows(ratings), scale, "")
    if not merged.co_rated:
        raise InsufficientDataError("the ICC of an incomplete design needs the co-rating tables (with_icc=True)")
    gram = sum(g.astype(np.float64) / m for m, g in merged.co_rated.items())
    unit_mean_by_rater = sum((b.astype(np.float64) @ centred) / m for m, b in merged.rater_unit_counts.items())
    q = rater_sum - np.asarray(unit_mean_by_rater)[used]
    gram = np.asarray(gram)[np.ix_(used, used)]
    s = _henderson_from_sums(
        ss_total,
        float(mult @ (unit_sums**2 / m_pattern)),
        rater_sum,
        n_j[used],
        (q, gram),
        (m_pattern, mult.astype(np.float64)),
        n_ratings,
    )
    balanced = n_ratings == n * k
    if not may_resample(ratings.n_units, ratings.n_raters, n, k, balanced):
        return _Fit(n, k, n_ratings, balanced, dropped, s)
    return _Fit(n, k, n_ratings, balanced, dropped, s, _pattern_rows(ratings, used), scale, "")


def _henderson(values: np.ndarray, present: np.ndarray, m: np.ndarray, total: int) -> _MeanSquares:
    """Method-of-moments (Henderson III) mean squares of an incomplete design.

    ``values`` are centred scores (grand mean 0), 0 where ``present`` is False;
    ``m`` the ratings per unit.  Every sum is a matrix product over units.
    """
    n, k = values.shape
    weight = present.astype(np.float64)
    unit_sum = values @ np.ones(k)
    rater_sum = np.ones(n) @ values
    n_j = np.ones(n) @ weight
    unit_mean = unit_sum / m
    flat = values.ravel()
    ss_total = float(flat @ flat)
    if total == n * k:
        return _henderson_from_sums(ss_total, unit_sum @ unit_mean, rater_sum, n_j, None, m, total)
    q = rater_sum - unit_mean @ weight
    gram = (weight / m[:, None]).T @ weight
    return _henderson_from_sums(ss_total, unit_sum @ unit_mean, rater_sum, n_j, (q, gram), m, total)


def _henderson_sparse(unit: np.ndarray, rater: np.ndarray, y: np.ndarray, m: np.ndarray, k: int) -> _MeanSquares:
    """:func:`_henderson` from one entry per rating (centred ``y``), for designs too sparse for a matrix.

    ``N' diag(1/m) N`` is a k x k product of the sparse units x raters incidence matrix.
    """
    n = m.size
    unit_sum = np.bincount(unit, weights=y, minlength=n)
    rater_sum = np.bincount(rater, weights=y, minlength=k)
    n_j = np.bincount(rater, minlength=k).astype(np.float64)
    unit_mean = unit_sum / m
    q = rater_sum - np.bincount(rater, weights=unit_mean[unit], minlength=k)
    incidence = _sparse.csr_matrix((np.ones(y.size), (unit, rater)), shape=(n, k))
    gram = (incidence.T @ incidence.multiply(1 / m[:, None]).tocsr()).toarray()
    return _henderson_from_sums(float(y @ y), unit_sum @ unit_mean, rater_sum, n_j, (q, gram), m, y.size)


def _rater_groups(gram: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected groups of raters, and each rater's group.

    Two raters are linked when some unit has both (``gram = N' diag(1/m) N`` is
    positive there); every unit belongs to the group of its raters, so these are
    the components of the unit-rater bipartite graph.
    """
    n_groups, labels = _csgraph.connected_components(_sparse.csr_matrix(gram > 0), directed=False)
    return int(n_groups), labels


def _reduction(c: np.ndarray, q: np.ndarray, labels: np.ndarray) -> float:
    """``b' q`` for any solution of ``C b = q`` (C singular: rank k - g).

    Within each group of linked raters the rows of C sum to zero, so fixing one
    rater's effect per group at 0 leaves a positive definite system (Cholesky);
    ``b' q`` is the same for every solution.
    """
    k = c.shape[0]
    free = np.ones(k, dtype=bool)
    free[np.unique(labels, return_index=True)[1]] = False  # the first rater of each group
    if not free.any():
        return 0.0
    c_free, q_free = c[np.ix_(free, free)], q[free]
    try:
        b = _linalg.solve(c_free, q_free, assume_a="pos", check_finite=False)
    except _linalg.LinAlgError:  # numerically singular: least squares
        b, *_ = np.linalg.lstsq(c_free, q_free, rcond=None)
    return float(b @ q_free)


def _per_df(ss, df):
    """A mean square, NaN where there are no degrees of freedom."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(df) > 0, ss / np.where(np.asarray(df) > 0, df, 1), np.nan)[()]


def _henderson_from_sums(
    ss_total: float,
    ss_between: float,
    rater_sum: np.ndarray,
    n_j: np.ndarray,
    normal_equations: tuple | None,
    m: np.ndarray | tuple[np.ndarray, np.ndarray],
    total: int,
) -> _MeanSquares:
    """Henderson III mean squares from the sums of squares and the reduced normal equations.

    ``normal_equations`` is ``(q, N' diag(1/m) N)``, or ``None`` for a complete design.
    With g groups of raters that share no unit the additive model has rank
    n + k - g, so ``SS_E`` has N - n - k + g degrees of freedom, ``R(b|a)`` k - g
    and ``R(a|b)`` n - g (Searle, Casella & McCulloch 1992, ch. 5); the
    coefficients N - n and N - k of the variance components do not change.
    ``m`` is the ratings per unit, or ``(distinct m, units with each)``.
    """
    if isinstance(m, tuple):
        sizes, units = m
        n, sum_m2, sum_inv_m = int(units.sum()), float(units @ sizes**2), float(units @ (1 / sizes))
    else:
        n, sum_m2, sum_inv_m = m.size, float((m**2).sum()), float((1 / m).sum())
    k = n_j.size
    ss_between = float(ss_between)
    ss_within = ss_total - ss_between
    rater_part = float((rater_sum**2 / n_j).sum())
    ss_within_raters = ss_total - rater_part
    if normal_equations is None:
        n_groups = 1
        r_cols_given_rows = rater_part
    else:
        # Rater effects after absorbing units: C b = q with C = diag(n_j) - N' diag(1/m) N.
        q, gram = normal_equations
        n_groups, labels = _rater_groups(gram)
        r_cols_given_rows = _reduction(np.diag(n_j) - gram, q, labels)
    # round-off can leave -1e-16 where a sum of squares is exactly zero
    tiny = 1e-12 * max(ss_total, 1e-300)
    ss_within = ss_within if ss_within > tiny else 0.0
    ss_error = ss_within - r_cols_given_rows
    ss_error = ss_error if ss_error > tiny else 0.0
    r_rows_given_cols = ss_within_raters - ss_error
    df_rows, df_cols = n - n_groups, k - n_groups
    df_error = total - n - k + n_groups
    df_within = total - n
    n0 = (total - sum_m2 / total) / (n - 1) if n > 1 else float("nan")
    return _MeanSquares(
        ms_rows=float(_per_df(r_rows_given_cols, df_rows)),
        ms_cols=float(_per_df(r_cols_given_rows, df_cols)),
        ms_error=float(_per_df(ss_error, df_error)),
        ms_between=float(_per_df(ss_between, n - 1)),
        ms_within=float(_per_df(ss_within, df_within)),
        df_rows=df_rows,
        df_cols=df_cols,
        df_error=df_error,
        df_within=df_within,
        k_eff=float(_per_df(total - k, df_rows)),
        n_eff=float(_per_df(total - n, df_cols)),
        n0=n0,
        k_mean=float(n / sum_inv_m),
        df_between=n - 1,
        n_groups=n_groups,
    )


def _ratio_terms(form: str, s: _MeanSquares):
    """Numerator, denominator and the denominator's scale (sum of absolute terms) of a form."""
    # as numpy floats: a zero multiplier gives inf/NaN (under errstate), not ZeroDivisionError
    r, c, e, b, w, k, n, n0, km = (
        np.asarray(v, dtype=np.float64)
        for v in (s.ms_rows, s.ms_cols, s.ms_error, s.ms_between, s.ms_within, s.k_eff, s.n_eff, s.n0, s.k_mean)
    )
    sigma_a = (r - e) / k
    sigma_b = (c - e) / n
    if form in ("1,1", "1,k"):
        sigma_u = (b - w) / n0
        error = w if form == "1,1" else w / km
        return sigma_u, sigma_u + error, np.abs(sigma_u) + error
    if form == "A,1":
        return sigma_a, sigma_a + sigma_b + e, np.abs(sigma_a) + np.abs(sigma_b) + e
    if form == "C,1":
        return sigma_a, sigma_a + e, np.abs(sigma_a) + e
    if form == "A,k":
        return sigma_a, sigma_a + (sigma_b + e) / km, np.abs(sigma_a) + (np.abs(sigma_b) + e) / km
    if form == "C,k":
        return sigma_a, sigma_a + e / km, np.abs(sigma_a) + e / km
    raise DataError(f"unknown form {form}")


def _estimate(form: str, s: _MeanSquares):
    """The ICC of a form: unit variance over the form's total variance.

    NaN where that total is zero or negative (negative variance component
    estimates), and for the absolute-agreement forms when the raters fall into
    groups that share no unit (rater and unit effects then not separable).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        num, den, scale = _ratio_terms(form, s)
        ok = den > _TINY * scale
        if form.startswith("A"):
            ok = ok & (np.asarray(s.n_groups) == 1)
        if np.ndim(ok) == 0:  # one data set: skip the array machinery
            return float(num / den) if ok else float("nan")
        return np.where(ok, num / np.where(ok, den, 1.0), np.nan)


def _undefined_reason(form: str, s: _MeanSquares) -> str:
    """Why :func:`_estimate` is NaN for these (scalar) mean squares, or ''."""
    if form.startswith("A") and s.n_groups > 1:
        return (
            f"ICC({form}) undefined: the raters fall into {int(s.n_groups)} groups that share no unit "
            "(e.g. separate scoring rooms), so differences between the groups' raters cannot be told "
            "apart from differences between their units; use ICC(C,1)/ICC(C,k), or have some units "
            "scored by raters of different groups"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        num, den, scale = _ratio_terms(form, s)
    if not np.isfinite(den):
        return f"ICC({form}) undefined: not enough degrees of freedom to estimate the variance components"
    if not scale > 0:
        return f"ICC({form}) undefined: every score is the same, there is no variance to apportion"
    if not den > _TINY * scale:
        return (
            f"ICC({form}) undefined: its variance components sum to {float(den):.3g} <= 0 (negative "
            "estimates of unit or rater variance); the data show no reliable unit differences"
        )
    return ""


def _f_upper(alpha: float, df1, df2) -> np.float64:
    """Upper ``alpha / 2`` point of F(df1, df2): the ufunc behind ``scipy.stats.f.ppf``."""
    return _spc.fdtri(df1, df2, 1 - alpha / 2)


def _f_test(form: str, s: _MeanSquares):
    """F statistic and df of the test of H0: ICC = 0 (McGraw & Wong 1996, Tables 4-6).

    Under H0 the unit variance is zero, which for the agreement forms makes
    McGraw & Wong's ``a = 0`` and ``b = 1``: the test is MS_R / MS_E on
    (n - 1, (n - 1)(k - 1)) degrees of freedom, exactly as for the consistency
    forms (their df ``v`` belongs to the interval, not to the test).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        if form in ("1,1", "1,k"):
            return np.float64(s.ms_between) / np.float64(s.ms_within), s.df_between, s.df_within
        return np.float64(s.ms_rows) / np.float64(s.ms_error), s.df_rows, s.df_error


def _satterthwaite_v(s: _MeanSquares, rho: float) -> float:
    """McGraw & Wong's approximate df of ``a MS_C + b MS_E`` at ICC ``rho`` (cases 2A / 3A)."""
    k, n, c, e, rho = map(np.float64, (s.k_eff, s.n_eff, s.ms_cols, s.ms_error, rho))
    with np.errstate(divide="ignore", invalid="ignore"):
        a = k * rho / (n * (1 - rho))
        b = 1 + k * rho * (n - 1) / (n * (1 - rho))
        return float((a * c + b * e) ** 2 / ((a * c) ** 2 / s.df_cols + (b * e) ** 2 / s.df_error))


def _analytic_interval(form: str, s: _MeanSquares, estimate: float, level: float):
    """F-based interval: ``(low, high, df2 of its F quantiles, note)``.

    Each bound is the form's estimate with the unit mean square divided (low)
    or multiplied (high) by an upper F point, everything else fixed: McGraw &
    Wong's intervals for complete data, and for the "k" forms the same
    harmonic-mean k as the estimate (the Spearman-Brown transform of the
    single-rating bounds with that k).  For the agreement forms the F points
    use McGraw & Wong's ``v`` evaluated at the form's estimate (as R ``irr``).
    A bound is NaN, with the reason in ``note``, where it does not exist.
    """
    alpha = 1 - level
    f_value, df1, df2 = _f_test(form, s)
    if form.startswith("A"):
        df2 = _satterthwaite_v(s, estimate) if np.isfinite(estimate) else float("nan")
    nan = float("nan")
    if not np.isfinite(estimate):
        return nan, nan, df2, "no interval: the estimate is undefined"
    if np.isposinf(f_value):
        exactly = (
            "every unit's ratings are equal"
            if form.startswith("1")
            else "the raters agree exactly apart from constant offsets"
        )
        return nan, nan, df2, f"no F interval: no residual variance ({exactly}), F is infinite"
    if not f_value > 0:
        return nan, nan, df2, "no F interval: no variance between units (F = 0)"
    if not (df1 > 0 and df2 > 0 and np.isfinite(df2)):
        return nan, nan, df2, f"no F interval: the F distribution has no valid df ({df1:.4g}, {df2:.4g})"
    name = "ms_between" if form.startswith("1") else "ms_rows"
    base = getattr(s, name)
    low = float(_estimate(form, replace(s, **{name: base / _f_upper(alpha, df1, df2)})))
    high = float(_estimate(form, replace(s, **{name: base * _f_upper(alpha, df2, df1)})))
    if not np.isfinite(high):
        return nan, nan, df2, "no F interval: the upper F limit gives no finite ICC"
    if not np.isfinite(low):
        return (
            nan,
            high,
            df2,
            ("the lower limit is unbounded: at the lower F limit the form's variance components sum to zero or less"),
        )
    if not low < high:  # cannot happen for a monotone transform of F; never return it silently
        return nan, nan, df2, f"no F interval: the limits came out as ({low:.4g}, {high:.4g})"
    return low, high, df2, ""


@dataclass(frozen=True, repr=False)
class ICCResult:
    """An intraclass correlation with its F test and intervals.

    Attributes
    ----------
    form : str            McGraw & Wong name ("A,1", ...).
    estimate : float      NaN when the form is undefined for these data (see ``note``).
    standard_error : float    Jackknife SE over units (no closed form is standard); NaN for
                              incomplete designs too large to resample in memory (see
                              :func:`may_resample`), alike for ratings from Dask, which
                              resample the merged unit pattern table (NaN when it is over
                              its size limit).
    F, df1, df2 : float       F test of H0: ICC = 0: MS_R / MS_E on (n - g, N - n - k + g) for the
                              two-way forms (``(n-1)(k-1)`` when complete), MS_B / MS_W for the one-way.
    p_value : float           P(F > observed); ``alternative`` is "greater".
    n_units, n_raters, n_ratings : int
    k : float                 Ratings per unit behind the "k" forms (harmonic mean).
    balanced : bool           Every rater scored every unit.
    estimator : str           How the variance components were estimated.
    dropped : mapping         Units left out, and why.
    variance_components : mapping  sigma^2 of units, raters, residual.
    n_rater_groups : int      Groups of raters linked by units they share (1: connected design;
                              more, e.g. separate scoring rooms, leaves the agreement forms undefined).
    ci_df2 : float            Denominator df of the F points behind the analytic interval
                              (McGraw & Wong's ``v`` for the agreement forms, else ``df2``).
    note : str                Why the estimate or a bound of the analytic interval is NaN ('' if neither).
    """

    form: str
    estimate: float
    F: float
    df1: float
    df2: float
    p_value: float
    n_units: int
    n_raters: int
    n_ratings: int
    k: float
    balanced: bool
    estimator: str
    level: float
    analytic_ci: tuple[float, float]
    dropped: Mapping[str, int] = field(default_factory=dict)
    variance_components: Mapping[str, float] = field(default_factory=dict)
    alternative: str = "greater"
    n_rater_groups: int = 1
    ci_df2: float = float("nan")
    note: str = ""
    _mean_squares: Any = field(default=None, compare=False)
    _resampler: Any = field(default=None, compare=False)
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "dropped", MappingProxyType(dict(self.dropped)))
        object.__setattr__(self, "variance_components", MappingProxyType(dict(self.variance_components)))

    @property
    def standard_error(self) -> float:
        """Jackknife SE over units, computed on first use (no closed form is standard)."""
        if "se" not in self._cache:
            try:
                se = float(self._resampler.jackknife_se())
            except InsufficientDataError as exc:
                se = float("nan")
                self._cache["why"] = str(exc)
            # leave-one-out values equal up to round-off (perfect agreement): no spread at all
            self._cache["se"] = 0.0 if abs(se) < ROUNDOFF else se
        return self._cache["se"]

    @property
    def statistic(self) -> str:
        return f"icc_{self.form}"

    def confidence_interval(
        self,
        level: float | None = None,
        method: str = "analytic",
        *,
        bootstrap: str = "bca",
        n_resamples: int = 1000,
        random_state=0,
        distribution: str = "normal",
    ) -> ConfidenceInterval:
        """F-based (McGraw & Wong), bootstrap (units resampled) or jackknife interval.

        Where an interval does not exist (undefined estimate, no residual or no
        unit variance, zero standard error, all resamples equal) its bounds are
        NaN, never a zero-width or inverted interval; the reason is in ``note``
        (for the analytic interval at ``self.level``) and on the returned
        interval when it has a ``note`` field.
        """
        level = self.level if level is None else float(level)
        if not 0 < level < 1:
            raise DataError(f"confidence level must be between 0 and 1, got {level}")
        if method == "analytic":
            if level == self.level:
                return _interval(*self.analytic_ci, _F_METHOD, self.note)
            low, high, _, note = _analytic_interval(self.form, self._mean_squares, self.estimate, level)
            return _interval(low, high, _F_METHOD, self.note or note)
        if method not in ("jackknife", "bootstrap"):
            raise DataError(f"method must be 'analytic', 'bootstrap' or 'jackknife', got {method!r}")
        nan = float("nan")
        if not np.isfinite(self.estimate):
            return _interval(nan, nan, method, self.note)
        if method == "jackknife":
            se = self.standard_error
            if distribution == "normal":
                q, label = _spc.ndtri(0.5 + level / 2), "jackknife normal"
            else:
                df = max(self.n_units - 1, 1)
                q, label = _spc.stdtrit(df, 0.5 + level / 2), f"jackknife t({df})"
            if not se > 0:
                why = self._cache.get("why") or f"the jackknife SE is {se:.3g}"
                return _interval(nan, nan, label, f"no jackknife interval: {why}")
            return _interval(self.estimate - q * se, self.estimate + q * se, label, "")
        reps = self._resampler.bootstrap(int(n_resamples), random_state)
        jack = self._resampler.jackknife() if bootstrap == "bca" else None
        ci = ci_from_bootstrap(self.estimate, reps, level, bootstrap, jack)
        if np.isnan(ci[0]) and np.isnan(ci[1]) and getattr(ci, "note", ""):
            return ci  # already refused, with its reason
        if not ci[1] - ci[0] > 1e-9 * max(1.0, abs(self.estimate)):  # round-off width is no width
            return _interval(
                nan,
                nan,
                getattr(ci, "method", bootstrap) or bootstrap,
                f"no bootstrap interval: the resampled limits are ({ci[0]:.4g}, {ci[1]:.4g})",
            )
        return ci

    def jackknife_standard_error(self) -> float:
        return self.standard_error

    def to_dict(self, level: float | None = None) -> dict:
        low, high = self.confidence_interval(level)[:2]
        return {
            "form": self.form,
            "estimate": self.estimate,
            "standard_error": self.standard_error,
            "F": self.F,
            "df1": self.df1,
            "df2": self.df2,
            "p_value": self.p_value,
            "ci_low": low,
            "ci_high": high,
            "ci_df2": self.ci_df2,
            "n_units": self.n_units,
            "n_raters": self.n_raters,
            "n_ratings": self.n_ratings,
            "n_rater_groups": self.n_rater_groups,
            "estimator": self.estimator,
            "note": self.note,
        }

    def __repr__(self) -> str:
        low, high = self.analytic_ci
        note = f", note={self.note!r}" if self.note else ""
        return (
            f"ICCResult(form={self.form!r}, estimate={self.estimate:.6g}, "
            f"ci=({low:.4g}, {high:.4g}), F={self.F:.4g}, df=({self.df1:.4g}, {self.df2:.4g}), "
            f"p_value={self.p_value:.4g}, n_units={self.n_units}, n_raters={self.n_raters}{note})"
        )


_F_METHOD = "F (McGraw & Wong)"


def _interval(low: float, high: float, method: str, note: str) -> ConfidenceInterval:
    """A ConfidenceInterval with its method and note."""
    try:
        return ConfidenceInterval(float(low), float(high), method=method, note=note)
    except TypeError:  # a ConfidenceInterval of bounds only
        return ConfidenceInterval(float(low), float(high))


def _icc_resampler(fit: _Fit, form: str) -> LazyStatistic:
    """ICC as a function of unit totals, for bootstrap and jackknife over units.

    Complete designs use (sum, sum of squares, rater-wise values); incomplete ones
    additionally carry each unit's contribution to the reduced normal equations.
    The features are computed per distinct units x raters code row (scores
    centred at the grand mean of the category totals) and weighted by the units
    having it, so ratings in memory and merged unit pattern tables (Dask) give
    the same features in the same order, hence the same resamples.
    """
    k = fit.k
    unit_rows, points = fit.unit_rows, fit.points

    def build() -> UnitLevelStatistic:
        if unit_rows is None or points is None:
            raise InsufficientDataError(fit.refusal)
        codes, mult = unit_rows()
        present = codes >= 0
        per_rating = np.broadcast_to(mult[:, None], codes.shape)[present]
        totals = np.bincount(codes[present], weights=per_rating, minlength=points.size)
        centred = points - float(totals @ points) / float(totals.sum())
        values = np.where(present, centred[np.maximum(codes, 0)], 0.0)
        if fit.balanced:
            # complete designs: classic ANOVA sums, no normal equations to solve
            return UnitLevelStatistic(_balanced_features(values), mult, lambda t: _icc_balanced_from_totals(t, k, form))
        # features: 1, m, sum, sum^2/m, sum of squares, 1/m, m^2, per-rater value, per-rater count,
        # per-unit (present outer present)/m (k*k), per-rater (present*sum/m)
        n = codes.shape[0]
        rated = present.astype(np.float64)
        m = rated @ np.ones(k)
        unit_sum = values @ np.ones(k)
        sq = (values**2) @ np.ones(k)
        outer = (rated[:, :, None] * rated[:, None, :] / m[:, None, None]).reshape(n, k * k)
        features = np.column_stack(
            [
                np.ones(n),
                m,
                unit_sum,
                unit_sum**2 / m,
                sq,
                1 / m,
                m**2,
                values,
                rated,
                outer,
                rated * (unit_sum / m)[:, None],
            ]
        )
        return UnitLevelStatistic(features, mult, lambda t: _icc_from_totals(t, k, form))

    return LazyStatistic(build)


def _balanced_totals(centred: np.ndarray) -> np.ndarray:
    """Sums over units of a complete design's unit features (see :func:`_balanced_features`)."""
    n, k = centred.shape
    flat = centred.ravel()
    row_sums = centred @ np.ones(k)  # matrix products: fast on a short row axis
    totals = np.empty(4 + k)
    totals[:4] = n, row_sums.sum(), row_sums @ row_sums, flat @ flat
    totals[4:] = np.ones(n) @ centred
    return totals


def _balanced_features(centred: np.ndarray) -> np.ndarray:
    """Per unit: 1, row sum, row sum squared, sum of squares, the k scores."""
    ones = np.ones(centred.shape[1])
    row_sums = centred @ ones
    return np.column_stack([np.ones(centred.shape[0]), row_sums, row_sums**2, (centred**2) @ ones, centred])


def _balanced_mean_squares(t: np.ndarray, k: int) -> _MeanSquares:
    """Two-way ANOVA mean squares of a complete design from unit totals ``(..., 4 + k)``."""
    n = t[..., 0]
    grand_sum = t[..., 1]
    sum_rows_sq = t[..., 2]
    sum_sq = t[..., 3]
    col_sums = t[..., 4 : 4 + k]
    with np.errstate(divide="ignore", invalid="ignore"):
        total = n * k
        correction = grand_sum**2 / total
        ss_total = sum_sq - correction
        ss_rows = sum_rows_sq / k - correction
        ss_cols = (col_sums**2).sum(axis=-1) / n - correction
        ss_error = ss_total - ss_rows - ss_cols
        if np.ndim(ss_error) == 0:
            # round-off can leave -1e-16 where a sum of squares is exactly zero
            tiny = 1e-12 * max(float(ss_total), 1e-300)
            ss_error = ss_error if ss_error > tiny else 0.0
            ss_rows = ss_rows if ss_rows > tiny else 0.0
        return _MeanSquares(
            ms_rows=ss_rows / (n - 1),
            ms_cols=ss_cols / (k - 1),
            ms_error=ss_error / ((n - 1) * (k - 1)),
            ms_between=ss_rows / (n - 1),
            ms_within=(ss_total - ss_rows) / (n * (k - 1)),
            df_rows=n - 1,
            df_cols=k - 1,
            df_error=(n - 1) * (k - 1),
            df_within=n * (k - 1),
            k_eff=np.float64(k),
            n_eff=n,
            n0=np.float64(k),
            k_mean=np.float64(k),
            df_between=n - 1,
            n_groups=1,
        )


def _icc_balanced_from_totals(t: np.ndarray, k: int, form: str) -> np.ndarray:
    """Vectorised two-way ANOVA ICC from unit totals of a complete design."""
    return _estimate(form, _balanced_mean_squares(t, k))


def _icc_from_totals(t: np.ndarray, k: int, form: str) -> np.ndarray:
    """Vectorised Henderson III ICC from unit totals ``(..., D)``."""
    n = t[..., 0]
    total = t[..., 1]
    grand_sum = t[..., 2]
    sum_sq_over_m = t[..., 3]
    sum_sq = t[..., 4]
    inv_m_total = t[..., 5]
    m2_total = t[..., 6]
    o = 7
    rater_sum = t[..., o : o + k]
    o += k
    n_j = t[..., o : o + k]
    o += k
    outer = t[..., o : o + k * k].reshape(t.shape[:-1] + (k, k))
    o += k * k
    cross = t[..., o : o + k]
    o += k
    with np.errstate(divide="ignore", invalid="ignore"):
        grand = grand_sum / total
        ss_total = sum_sq - total * grand**2
        ss_between = sum_sq_over_m - total * grand**2
        ss_within = ss_total - ss_between
        # a resample can miss a rater altogether: that rater drops out of k
        rated = n_j > 0
        k_used = rated.sum(axis=-1)
        ss_within_raters = sum_sq - np.where(rated, rater_sum**2 / np.where(rated, n_j, 1), 0).sum(axis=-1)
        q = rater_sum - cross
        c = n_j[..., :, None] * np.eye(k) - outer
        # R(b|a) = q' C^+ q from the eigen-decomposition of the symmetric C, whose rank
        # k_used - g also gives the resample's number g of unlinked rater groups
        eigenvalues, vectors = np.linalg.eigh(c)
        positive = eigenvalues > 1e-9 * np.abs(eigenvalues).max(axis=-1, keepdims=True)
        projection = np.einsum("...ji,...j->...i", vectors, q)
        r_cols = np.where(positive, projection**2 / np.where(positive, eigenvalues, 1), 0).sum(axis=-1)
        n_groups = k_used - positive.sum(axis=-1)
        ss_error = ss_within - r_cols
        r_rows = ss_within_raters - ss_error
        df_rows, df_cols = n - n_groups, k_used - n_groups
        df_error = total - n - k_used + n_groups
        ms = _MeanSquares(
            ms_rows=r_rows / df_rows,
            ms_cols=r_cols / df_cols,
            ms_error=ss_error / df_error,
            ms_between=ss_between / (n - 1),
            ms_within=ss_within / (total - n),
            df_rows=df_rows,
            df_cols=df_cols,
            df_error=df_error,
            df_within=total - n,
            k_eff=(total - k_used) / df_rows,
            n_eff=(total - n) / df_cols,
            n0=(total - m2_total / total) / (n - 1),
            k_mean=n / inv_m_total,
            df_between=n - 1,
            n_groups=n_groups,
        )
        return _estimate(form, ms)


def icc(data, form: str = "A,1", *, level: float = 0.95, categories=None) -> ICCResult:
    """Intraclass correlation of one form, with F test and confidence interval.

    Parameters
    ----------
    data : Ratings or array_like (units x raters, NaN = missing)
    form : str
        "1,1", "A,1", "C,1", "1,k", "A,k", "C,k" (McGraw & Wong) or Shrout &
        Fleiss names ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k",
        "2,1", "3,k", ...): S&F ICC(2,·) is A,· and ICC(3,·) is C,·.
    level : float
        Confidence level of the analytic interval stored on the result.

    Returns
    -------
    ICCResult
        NaN estimate or bounds come with the reason in ``note``;
        ``n_rater_groups`` counts groups of raters that share no unit.

    Notes
    -----
    Ratings from Dask (:func:`~irr.stats.agreement_table` on a Dask DataFrame,
    :meth:`Ratings.from_dask`) give the estimate, F test and McGraw & Wong
    interval from the merged ICC sums.  The jackknife SE and the bootstrap and
    jackknife intervals resample the merged unit pattern table (each distinct
    unit's (rater, score) ratings with their multiplicity), with the same values
    as in memory, in exactly the designs the in-memory path resamples (complete,
    or incomplete within ``_DENSE_CELLS`` units x raters and ``_RESAMPLE_CELLS``
    unit features, :func:`may_resample`); elsewhere the SE is NaN with the
    reason, as in memory.  ``Ratings.from_dask`` reduces that table only with
    ``unit_patterns=True``, and a table over its size limit
    (:data:`irr.stats._sufficient.MAX_UNIT_PATTERN_CELLS`) leaves the SE NaN with
    the reason instead of collecting the ratings.

    Examples
    --------
    Shrout & Fleiss (1979), 6 targets x 4 judges:

    >>> import numpy as np
    >>> x = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8],
    ...               [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])
    >>> round(icc(x, "A,1").estimate, 4), round(icc(x, "ICC3").estimate, 4)
    (0.2898, 0.7148)

    Two scoring rooms with no rater in common: consistency is estimable,
    absolute agreement is not.

    >>> rooms = np.full((6, 4), np.nan)
    >>> rooms[:3, :2] = [[4, 3], [2, 2], [3, 4]]
    >>> rooms[3:, 2:] = [[3, 1], [4, 4], [2, 1]]
    >>> res = icc(rooms, "A,1")
    >>> res.n_rater_groups, bool(np.isnan(res.estimate)), "share no unit" in res.note
    (2, True, True)
    """
    form = normalize_form(form)
    return _result(_fit(as_ratings(data, categories)), form, level)


def _result(fit: _Fit, form: str, level: float) -> ICCResult:
    if fit.k < 2 and form not in ("1,1", "1,k"):
        raise InsufficientDataError("two-way ICC forms need at least 2 raters")
    s = fit.mean_squares
    estimate = float(_estimate(form, s))
    note = _undefined_reason(form, s) if np.isnan(estimate) else ""
    f_value, df1, df2 = _f_test(form, s)
    p_value = 0.0 if np.isposinf(f_value) else float(_spc.fdtrc(df1, df2, f_value))
    low, high, ci_df2, ci_note = _analytic_interval(form, s, estimate, level)
    if note and np.isfinite(f_value) and form.startswith("A") and s.n_groups > 1:
        note += "; the F test of no unit variance (as for ICC(C,·)) is still valid"
    estimator = (
        "two-way ANOVA mean squares (McGraw & Wong 1996)"
        if fit.balanced
        else "Henderson Method III variance components (incomplete design); F tests and intervals approximate"
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        components = {
            "units": (s.ms_rows - s.ms_error) / s.k_eff,
            "raters": (s.ms_cols - s.ms_error) / s.n_eff,
            "residual": s.ms_error,
        }
    return ICCResult(
        form=form,
        estimate=estimate,
        F=float(f_value),
        df1=float(df1),
        df2=float(df2),
        p_value=p_value,
        n_units=fit.n,
        n_raters=fit.k,
        n_ratings=fit.n_ratings,
        k=float(s.k_mean),
        balanced=bool(fit.balanced),
        estimator=estimator,
        level=float(level),
        analytic_ci=(float(low), float(high)),
        dropped=fit.dropped,
        variance_components={key: float(v) for key, v in components.items()},
        n_rater_groups=int(s.n_groups),
        ci_df2=float(ci_df2),
        note=note or ci_note,
        _mean_squares=s,
        _resampler=_icc_resampler(fit, form),
    )


def icc_table(data, *, level: float = 0.95, categories=None) -> pd.DataFrame:
    """All six ICC forms as a tidy DataFrame (pingouin-style).

    Columns: ``form`` ("ICC(A,1)", ...), ``description``, ``estimate``, ``F``,
    ``df1``, ``df2``, ``p_value``, ``ci_low``, ``ci_high``, ``ci_df2`` (df
    behind the interval), ``n_rater_groups`` and ``note`` (why a value is NaN).
    """
    fit = _fit(as_ratings(data, categories))
    rows = []
    for form in FORMS:
        res = _result(fit, form, level)
        low, high = res.analytic_ci
        rows.append(
            {
                "form": f"ICC({form})",
                "description": DESCRIPTIONS[form],
                "estimate": res.estimate,
                "F": res.F,
                "df1": res.df1,
                "df2": res.df2,
                "p_value": res.p_value,
                "ci_low": low,
                "ci_high": high,
                "ci_df2": res.ci_df2,
                "n_rater_groups": res.n_rater_groups,
                "note": res.note,
            }
        )
    return pd.DataFrame(rows)
