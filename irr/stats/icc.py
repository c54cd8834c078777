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

with McGraw & Wong's F tests and confidence intervals (for the agreement
forms, their approximate degrees of freedom :math:`v`, as R ``irr::icc``; psych
and pingouin instead reuse :math:`F(n-1, (n-1)(k-1))` for the test and
Spearman-Brown-transform the ICC(A,1) bounds for ICC(A,k)).

Missing ratings / unbalanced designs (e.g. each paper scored by 2 of 20
raters) are not dropped.  The variance components of the two-way random
model :math:`y_{ij} = \\mu + a_i + b_j + e_{ij}` are then estimated by
Henderson's Method III (fitting constants):

* :math:`SS_E` from the additive least-squares fit (unit effects absorbed,
  rater effects from the raters x raters reduced normal equations),
  :math:`E[SS_E] = (N - n - k + 1)\\sigma^2_e`;
* :math:`R(b \\mid a) = SS_W - SS_E`, :math:`E = (k-1)\\sigma^2_e + (N-n)\\sigma^2_b`;
* :math:`R(a \\mid b) = SS_{W,raters} - SS_E`, :math:`E = (n-1)\\sigma^2_e + (N-k)\\sigma^2_a`;

and the one-way components by the unbalanced ANOVA with
:math:`n_0 = (N - \\sum m_i^2 / N)/(n - 1)`.  The same formulas and F-based
intervals are then evaluated with the effective multipliers
:math:`k_{eff} = (N-k)/(n-1)` and :math:`n_{eff} = (N-n)/(k-1)` in place of
k and n (exact for complete data, an approximation otherwise).  The
"average of k ratings" forms use the harmonic mean of the ratings per unit.

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

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import linalg as _linalg
from scipy import sparse as _sparse
from scipy.sparse import csgraph as _csgraph
from scipy import special as _spc
from scipy import stats as _sps

from irr.errors import DataError, InsufficientDataError
from irr.stats._inference import LazyStatistic, UnitLevelStatistic
from irr.stats._ratings import Ratings, as_ratings
from irr.stats._results import ConfidenceInterval, ci_from_bootstrap

__all__ = ["icc", "icc_table", "ICCResult", "FORMS"]

FORMS = ("1,1", "A,1", "C,1", "1,k", "A,k", "C,k")
_ALIASES = {
    "ICC1": "1,1", "ICC2": "A,1", "ICC3": "C,1", "ICC1K": "1,k", "ICC2K": "A,k", "ICC3K": "C,k",
    "1": "1,1", "2,1": "A,1", "3,1": "C,1", "2,K": "A,k", "3,K": "C,k", "1,K": "1,k",
    "A,1": "A,1", "C,1": "C,1", "1,1": "1,1", "A,K": "A,k", "C,K": "C,k",
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


@dataclass(frozen=True)
class _MeanSquares:
    """Mean squares and multipliers of the one- and two-way random models."""

    ms_rows: float      # units (two-way, raters adjusted)
    ms_cols: float      # raters (units adjusted)
    ms_error: float
    ms_between: float   # one-way between units
    ms_within: float
    df_rows: float
    df_cols: float
    df_error: float
    df_within: float
    k_eff: float        # multiplier of sigma_a^2 in E[MS_rows]
    n_eff: float        # multiplier of sigma_b^2 in E[MS_cols]
    n0: float           # one-way multiplier of sigma_a^2 in E[MS_between]
    k_mean: float       # harmonic mean of ratings per unit (for the k forms)


_DENSE_CELLS = 50_000_000   # units x raters cells above which incomplete designs take the sparse path


@dataclass(frozen=True)
class _Fit:
    """What every ICC form of one data set shares: design, mean squares, resampler."""

    n: int                      # units with at least one rating
    k: int                      # raters with at least one rating
    n_ratings: int
    balanced: bool
    dropped: Mapping[str, int]
    mean_squares: _MeanSquares
    values: np.ndarray | None   # units x raters scores minus their grand mean, 0 where not rated
    present: np.ndarray | None  # units x raters, rated or not (None: complete design, or sparse)


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


def _fit(ratings: Ratings) -> _Fit:
    """Mean squares of the ratings, from the units x raters code matrix."""
    ratings.require_rater_identity("The ICC")
    if ratings.is_complete:
        values = _scores_from_codes(ratings.wide_codes, ratings.categories)
        values -= values.sum() / values.size        # centring avoids cancellation in the sums of squares
        n, k = values.shape
        if n < 2:
            raise InsufficientDataError(f"the ICC needs at least 2 rated units, got {n}")
        if k < 2:
            raise InsufficientDataError("the ICC needs at least one unit with 2 or more ratings")
        return _Fit(n, k, n * k, True, {}, _balanced_mean_squares(_balanced_totals(values), k), values, None)

    m_all = ratings.ratings_per_unit
    keep_units = m_all >= 1
    dropped = {}
    if (~keep_units).any():
        dropped["no ratings"] = int((~keep_units).sum())
    if (m_all == 1).any():
        dropped["one rating (contributes to rater effects only)"] = int((m_all == 1).sum())
    n = int(keep_units.sum())
    if n < 2:
        raise InsufficientDataError(f"the ICC needs at least 2 rated units, got {n}")
    n_ratings = ratings.n_ratings
    if n_ratings - n < 1:
        raise InsufficientDataError("the ICC needs at least one unit with 2 or more ratings")
    rater_used = ratings.rater_counts.sum(axis=1) > 0
    k = int(rater_used.sum())
    m = m_all[keep_units].astype(np.float64)
    if n * k > _DENSE_CELLS:
        # many raters, few ratings each: sparse sums over the ratings, no units x raters matrix
        unit = (np.cumsum(keep_units) - 1)[ratings.unit]
        rater = (np.cumsum(rater_used) - 1)[ratings.rater]
        y = _scores_from_codes(ratings.code, ratings.categories)
        s = _henderson_sparse(unit, rater, y - y.mean(), m, k)
        return _Fit(n, k, n_ratings, n_ratings == n * k, dropped, s, None, None)
    codes = ratings.wide_codes
    if not keep_units.all():
        codes = codes[keep_units]
    if not rater_used.all():
        codes = codes[:, rater_used]
    present = codes >= 0
    values = _scores_from_codes(codes, ratings.categories)
    np.multiply(values, present, out=values)
    values -= values.sum() / n_ratings
    np.multiply(values, present, out=values)        # centred, and exactly 0 where not rated
    s = _henderson(values, present, m, n_ratings)
    return _Fit(n, k, n_ratings, n_ratings == n * k, dropped, s, values, present)


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


def _reduction(c: np.ndarray, q: np.ndarray) -> float:
    """``b' q`` for any solution of ``C b = q`` (C singular: its rows sum to zero).

    Fixing the last rater's effect at 0 leaves a positive definite system when
    the design is connected (Cholesky); a disconnected design falls back to
    the minimum-norm least-squares solution.  ``b' q`` is the same either way.
    """
    if c.shape[0] < 2:
        return 0.0
    linked = _sparse.csr_matrix(np.abs(c) > 0)      # raters linked by a unit they both rated
    n_groups, _ = _csgraph.connected_components(linked, directed=False)
    if n_groups == 1:
        try:
            b = _linalg.solve(c[:-1, :-1], q[:-1], assume_a="pos", check_finite=False)
            return float(b @ q[:-1])
        except _linalg.LinAlgError:
            pass
    b, *_ = np.linalg.lstsq(c, q, rcond=None)
    return float(b @ q)


def _henderson_from_sums(ss_total: float, ss_between: float, rater_sum: np.ndarray, n_j: np.ndarray,
                         normal_equations: tuple | None, m: np.ndarray, total: int) -> _MeanSquares:
    """Henderson III mean squares from the sums of squares and the reduced normal equations.

    ``normal_equations`` is ``(q, N' diag(1/m) N)``, or ``None`` for a complete design.
    """
    n, k = m.size, n_j.size
    ss_between = float(ss_between)
    ss_within = ss_total - ss_between
    rater_part = float((rater_sum**2 / n_j).sum())
    ss_within_raters = ss_total - rater_part
    if normal_equations is None:
        r_cols_given_rows = rater_part
    else:
        # Rater effects after absorbing units: C b = q with C = diag(n_j) - N' diag(1/m) N.
        q, gram = normal_equations
        r_cols_given_rows = _reduction(np.diag(n_j) - gram, q)
    # round-off can leave -1e-16 where a sum of squares is exactly zero
    tiny = 1e-12 * max(ss_total, 1e-300)
    ss_within = ss_within if ss_within > tiny else 0.0
    ss_error = ss_within - r_cols_given_rows
    ss_error = ss_error if ss_error > tiny else 0.0
    r_rows_given_cols = ss_within_raters - ss_error
    df_rows, df_cols = n - 1, k - 1
    df_error = total - n - k + 1
    df_within = total - n
    n0 = (total - (m**2).sum() / total) / (n - 1) if n > 1 else float("nan")
    return _MeanSquares(
        ms_rows=r_rows_given_cols / df_rows if df_rows > 0 else float("nan"),
        ms_cols=r_cols_given_rows / df_cols if df_cols > 0 else float("nan"),
        ms_error=ss_error / df_error if df_error > 0 else float("nan"),
        ms_between=ss_between / df_rows if df_rows > 0 else float("nan"),
        ms_within=ss_within / df_within if df_within > 0 else float("nan"),
        df_rows=df_rows, df_cols=df_cols, df_error=df_error, df_within=df_within,
        k_eff=(total - k) / df_rows if df_rows > 0 else float("nan"),
        n_eff=(total - n) / df_cols if df_cols > 0 else float("nan"),
        n0=n0,
        k_mean=float(n / (1 / m).sum()),
    )


def _estimate(form: str, s: _MeanSquares) -> float:
    r, c, e, b, w = s.ms_rows, s.ms_cols, s.ms_error, s.ms_between, s.ms_within
    k, n, n0, km = s.k_eff, s.n_eff, s.n0, s.k_mean
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma_a = (r - e) / k
        sigma_b = (c - e) / n
        if form == "1,1":
            return (b - w) / (b + (n0 - 1) * w)
        if form == "1,k":
            sigma_u = (b - w) / n0
            return sigma_u / (sigma_u + w / km)
        if form == "A,1":
            return sigma_a / (sigma_a + sigma_b + e)
        if form == "C,1":
            return sigma_a / (sigma_a + e)
        if form == "A,k":
            return sigma_a / (sigma_a + (sigma_b + e) / km)
        if form == "C,k":
            return sigma_a / (sigma_a + e / km)
    raise DataError(f"unknown form {form}")


def _f_upper(alpha: float, df1, df2) -> np.float64:
    """Upper ``alpha / 2`` point of F(df1, df2): the ufunc behind ``scipy.stats.f.ppf``."""
    return _spc.fdtri(df1, df2, 1 - alpha / 2)


def _f_test_and_ci(form: str, s: _MeanSquares, estimate: float, level: float):
    """McGraw & Wong F statistic, df, p-value (H0: ICC = 0) and CI bounds.

    Degenerate designs (no residual variance: every rater agrees exactly) give
    an infinite F and NaN bounds rather than an exception.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return _f_test_and_ci_unguarded(form, s, estimate, level)


def _f_test_and_ci_unguarded(form: str, s: _MeanSquares, estimate: float, level: float):
    alpha = 1 - level
    r, c, e = np.float64(s.ms_rows), np.float64(s.ms_cols), np.float64(s.ms_error)
    k, n = np.float64(s.k_eff), np.float64(s.n_eff)
    if form in ("1,1", "1,k"):
        f_value = np.float64(s.ms_between) / np.float64(s.ms_within)
        df1, df2 = s.df_rows, s.df_within
        f_low = f_value / _f_upper(alpha, df1, df2)
        f_high = f_value * _f_upper(alpha, df2, df1)
        if form == "1,1":
            n0 = s.n0
            bounds = ((f_low - 1) / (f_low + n0 - 1), (f_high - 1) / (f_high + n0 - 1))
        else:
            bounds = (1 - 1 / f_low, 1 - 1 / f_high)
        return f_value, df1, df2, bounds
    if form in ("C,1", "C,k"):
        f_value = r / e
        df1, df2 = s.df_rows, s.df_error
        f_low = f_value / _f_upper(alpha, df1, df2)
        f_high = f_value * _f_upper(alpha, df2, df1)
        if form == "C,1":
            bounds = ((f_low - 1) / (f_low + k - 1), (f_high - 1) / (f_high + k - 1))
        else:
            bounds = (1 - 1 / f_low, 1 - 1 / f_high)
        return f_value, df1, df2, bounds
    # absolute agreement: McGraw & Wong (1996) approximate df v (cases 2A / 3A)
    f_value = r / e
    # v is evaluated at the form's own estimate (as R irr does; for A,k this differs
    # from psych/pingouin, which Spearman-Brown-transform the A,1 bounds)
    a = k * estimate / (n * (1 - estimate))
    b = 1 + k * estimate * (n - 1) / (n * (1 - estimate))
    v = (a * c + b * e) ** 2 / ((a * c) ** 2 / s.df_cols + (b * e) ** 2 / s.df_error)
    df1 = s.df_rows
    f_l = _f_upper(alpha, df1, v)
    f_u = _f_upper(alpha, v, df1)
    if form == "A,1":
        low = n * (r - f_l * e) / (f_l * (k * c + (k * n - k - n) * e) + n * r)
        high = n * (f_u * r - e) / (k * c + (k * n - k - n) * e + n * f_u * r)
    else:
        low = n * (r - f_l * e) / (f_l * (c - e) + n * r)
        high = n * (f_u * r - e) / (c - e + n * f_u * r)
    return f_value, df1, v, (low, high)


@dataclass(frozen=True, repr=False)
class ICCResult:
    """An intraclass correlation with its F test and intervals.

    Attributes
    ----------
    form : str            McGraw & Wong name ("A,1", ...).
    estimate : float
    standard_error : float    Jackknife SE over units (no closed form is standard); NaN for
                              incomplete designs too large to resample in memory.
    F, df1, df2 : float       McGraw & Wong F test of H0: ICC = 0.
    p_value : float           P(F > observed); ``alternative`` is "greater".
    n_units, n_raters, n_ratings : int
    k : float                 Ratings per unit behind the "k" forms (harmonic mean).
    balanced : bool           Every rater scored every unit.
    estimator : str           How the variance components were estimated.
    dropped : mapping         Units left out, and why.
    variance_components : mapping  sigma^2 of units, raters, residual.
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
    analytic_ci: tuple
    dropped: Mapping[str, int] = field(default_factory=dict)
    variance_components: Mapping[str, float] = field(default_factory=dict)
    alternative: str = "greater"
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
                self._cache["se"] = float(self._resampler.jackknife_se())
            except InsufficientDataError:
                self._cache["se"] = float("nan")
        return self._cache["se"]

    @property
    def statistic(self) -> str:
        return f"icc_{self.form}"

    def confidence_interval(self, level: float | None = None, method: str = "analytic", *,
                            bootstrap: str = "bca", n_resamples: int = 1000,
                            random_state=0, distribution: str = "normal") -> ConfidenceInterval:
        """F-based (McGraw & Wong), bootstrap (units resampled) or jackknife interval."""
        level = self.level if level is None else float(level)
        if not 0 < level < 1:
            raise DataError(f"confidence level must be between 0 and 1, got {level}")
        if method == "analytic":
            if level == self.level:
                return ConfidenceInterval(*map(float, self.analytic_ci))
            _, _, _, bounds = _f_test_and_ci(self.form, self._mean_squares, self.estimate, level)
            return ConfidenceInterval(float(bounds[0]), float(bounds[1]))
        if method == "jackknife":
            q = _sps.norm.ppf(0.5 + level / 2) if distribution == "normal" else \
                _sps.t.ppf(0.5 + level / 2, max(self.n_units - 1, 1))
            return ConfidenceInterval(self.estimate - q * self.standard_error,
                                      self.estimate + q * self.standard_error)
        if method == "bootstrap":
            reps = self._resampler.bootstrap(int(n_resamples), random_state)
            jack = self._resampler.jackknife() if bootstrap == "bca" else None
            return ci_from_bootstrap(self.estimate, reps, level, bootstrap, jack)
        raise DataError(f"method must be 'analytic', 'bootstrap' or 'jackknife', got {method!r}")

    def jackknife_standard_error(self) -> float:
        return self.standard_error

    def to_dict(self, level: float | None = None) -> dict:
        low, high = self.confidence_interval(level)
        return {"form": self.form, "estimate": self.estimate, "standard_error": self.standard_error,
                "F": self.F, "df1": self.df1, "df2": self.df2, "p_value": self.p_value,
                "ci_low": low, "ci_high": high, "n_units": self.n_units, "n_raters": self.n_raters,
                "n_ratings": self.n_ratings, "estimator": self.estimator}

    def __repr__(self) -> str:
        low, high = self.analytic_ci
        return (f"ICCResult(form={self.form!r}, estimate={self.estimate:.6g}, "
                f"ci=({low:.4g}, {high:.4g}), F={self.F:.4g}, df=({self.df1:.4g}, {self.df2:.4g}), "
                f"p_value={self.p_value:.4g}, n_units={self.n_units}, n_raters={self.n_raters})")


def _icc_resampler(fit: _Fit, form: str) -> LazyStatistic:
    """ICC as a function of unit totals, for bootstrap and jackknife over units.

    Complete designs use (sum, sum of squares, rater-wise values); incomplete ones
    additionally carry each unit's contribution to the reduced normal equations.
    """
    n, k = fit.n, fit.k

    def build_balanced() -> UnitLevelStatistic:
        # complete designs: classic ANOVA sums, no normal equations to solve
        return UnitLevelStatistic.from_units(_balanced_features(fit.values),
                                             lambda t: _icc_balanced_from_totals(t, k, form))

    def build() -> UnitLevelStatistic:
        # features: 1, m, sum, sum^2/m, sum of squares, 1/m, m^2, per-rater value, per-rater count,
        # per-unit (present outer present)/m (k*k), per-rater (present*sum/m)
        if fit.values is None or n * (7 + 3 * k + k * k) > 300_000_000:
            raise InsufficientDataError(
                "too many units x raters for resampling the ICC in memory; use the analytic interval"
            )
        values, present = fit.values, fit.present.astype(np.float64)
        m = present @ np.ones(k)
        unit_sum = values @ np.ones(k)
        sq = (values**2) @ np.ones(k)
        outer = (present[:, :, None] * present[:, None, :] / m[:, None, None]).reshape(n, k * k)
        features = np.column_stack([
            np.ones(n), m, unit_sum, unit_sum**2 / m, sq, 1 / m, m**2,
            values, present, outer, present * (unit_sum / m)[:, None],
        ])
        return UnitLevelStatistic.from_units(features, lambda t: _icc_from_totals(t, k, form))

    return LazyStatistic(build_balanced if fit.present is None and fit.values is not None else build)


def _balanced_totals(centred: np.ndarray) -> np.ndarray:
    """Sums over units of a complete design's unit features (see :func:`_balanced_features`)."""
    n, k = centred.shape
    flat = centred.ravel()
    row_sums = centred @ np.ones(k)                 # matrix products: fast on a short row axis
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
    col_sums = t[..., 4:4 + k]
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
            ms_rows=ss_rows / (n - 1), ms_cols=ss_cols / (k - 1), ms_error=ss_error / ((n - 1) * (k - 1)),
            ms_between=ss_rows / (n - 1), ms_within=(ss_total - ss_rows) / (n * (k - 1)),
            df_rows=n - 1, df_cols=k - 1, df_error=(n - 1) * (k - 1), df_within=n * (k - 1),
            k_eff=np.float64(k), n_eff=n, n0=np.float64(k), k_mean=np.float64(k),
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
    rater_sum = t[..., o:o + k]; o += k
    n_j = t[..., o:o + k]; o += k
    outer = t[..., o:o + k * k].reshape(t.shape[:-1] + (k, k)); o += k * k
    cross = t[..., o:o + k]; o += k
    with np.errstate(divide="ignore", invalid="ignore"):
        grand = grand_sum / total
        ss_total = sum_sq - total * grand**2
        ss_between = sum_sq_over_m - total * grand**2
        ss_within = ss_total - ss_between
        ss_within_raters = sum_sq - (rater_sum**2 / n_j).sum(axis=-1)
        q = rater_sum - cross
        c = n_j[..., :, None] * np.eye(k) - outer
        b = np.einsum("...ij,...j->...i", np.linalg.pinv(c), q)
        r_cols = (b * q).sum(axis=-1)
        ss_error = ss_within - r_cols
        r_rows = ss_within_raters - ss_error
        df_rows, df_cols = n - 1, k - 1
        df_error = total - n - k + 1
        ms = _MeanSquares(
            ms_rows=r_rows / df_rows, ms_cols=r_cols / df_cols, ms_error=ss_error / df_error,
            ms_between=ss_between / df_rows, ms_within=ss_within / (total - n),
            df_rows=df_rows, df_cols=df_cols, df_error=df_error, df_within=total - n,
            k_eff=(total - k) / df_rows, n_eff=(total - n) / df_cols,
            n0=(total - m2_total / total) / df_rows, k_mean=n / inv_m_total,
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

    Examples
    --------
    Shrout & Fleiss (1979), 6 targets x 4 judges:

    >>> import numpy as np
    >>> x = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8],
    ...               [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])
    >>> round(icc(x, "A,1").estimate, 4), round(icc(x, "ICC3").estimate, 4)
    (0.2898, 0.7148)
    """
    form = normalize_form(form)
    return _result(_fit(as_ratings(data, categories)), form, level)


def _result(fit: _Fit, form: str, level: float) -> ICCResult:
    if fit.k < 2 and form not in ("1,1", "1,k"):
        raise InsufficientDataError("two-way ICC forms need at least 2 raters")
    s = fit.mean_squares
    estimate = float(_estimate(form, s))
    f_value, df1, df2, bounds = _f_test_and_ci(form, s, estimate, level)
    p_value = 0.0 if np.isposinf(f_value) else float(_spc.fdtrc(df1, df2, f_value))
    estimator = ("two-way ANOVA mean squares (McGraw & Wong 1996)" if fit.balanced else
                 "Henderson Method III variance components (incomplete design); "
                 "F tests and intervals approximate")
    with np.errstate(divide="ignore", invalid="ignore"):
        components = {
            "units": (s.ms_rows - s.ms_error) / s.k_eff,
            "raters": (s.ms_cols - s.ms_error) / s.n_eff,
            "residual": s.ms_error,
        }
    return ICCResult(
        form=form, estimate=estimate, F=float(f_value),
        df1=float(df1), df2=float(df2), p_value=p_value, n_units=fit.n, n_raters=fit.k,
        n_ratings=fit.n_ratings, k=float(s.k_mean), balanced=bool(fit.balanced), estimator=estimator,
        level=float(level), analytic_ci=(float(bounds[0]), float(bounds[1])), dropped=fit.dropped,
        variance_components={key: float(v) for key, v in components.items()},
        _mean_squares=s, _resampler=_icc_resampler(fit, form),
    )


def icc_table(data, *, level: float = 0.95, categories=None) -> pd.DataFrame:
    """All six ICC forms as a tidy DataFrame (pingouin-style).

    Columns: ``form`` ("ICC(A,1)", ...), ``description``, ``estimate``, ``F``,
    ``df1``, ``df2``, ``p_value``, ``ci_low``, ``ci_high``.
    """
    fit = _fit(as_ratings(data, categories))
    rows = []
    for form in FORMS:
        res = _result(fit, form, level)
        low, high = res.analytic_ci
        rows.append({"form": f"ICC({form})", "description": DESCRIPTIONS[form], "estimate": res.estimate,
                     "F": res.F, "df1": res.df1, "df2": res.df2, "p_value": res.p_value,
                     "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)
