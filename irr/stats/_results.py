"""Immutable result objects returned by the coefficients (``scipy.stats`` style)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, NamedTuple

import numpy as np
from scipy.special import ndtr as _ndtr  # not scipy.stats: slow to import
from scipy.special import ndtri as _ndtri
from scipy.special import stdtrit as _stdtrit

from irr.errors import DataError
from irr.stats._inference import LazyStatistic, UnitLevelStatistic

__all__ = [
    "ConfidenceInterval",
    "AgreementResult",
    "ci_from_bootstrap",
    "p_value_from_z",
    "wilson_interval",
    "MAX_UNDEFINED_SHARE",
    "ROUNDOFF",
]

ALTERNATIVES = ("two-sided", "greater", "less")

# Share of undefined bootstrap replicates beyond which the interval is refused (NaN).
MAX_UNDEFINED_SHARE = 0.10
# Coefficients live on a scale of 1: smaller estimates or SEs are floating-point noise.
ROUNDOFF = 1e-12


class _Bounds(NamedTuple):
    low: float
    high: float


class ConfidenceInterval(_Bounds):
    """Lower and upper bounds (like ``scipy.stats``' ``ConfidenceInterval``) and how they were made.

    A ``(low, high)`` tuple (``low, high = ci`` and comparisons with tuples
    work) with three read-only attributes:

    method : str
        How the bounds were computed: ``"normal"``, ``"t(11)"``, ``"wilson"``,
        ``"bca"``, ``"percentile"``, ...
    note : str
        What a reader must know: a clipped bound, a fallback because the
        standard error is 0, undefined bootstrap replicates, why the bounds
        are NaN.  Empty when there is nothing to say.
    n_undefined : int
        Bootstrap replicates whose statistic was undefined (e.g. chance
        agreement 1 in the resample); 0 for the other methods.

    Examples
    --------
    >>> ci = ConfidenceInterval(0.2, 0.9, method="normal")
    >>> low, high = ci
    >>> (low, high, ci.method)
    (0.2, 0.9, 'normal')
    """

    # Set once in __new__ through object.__setattr__ (the class refuses later assignment).
    method: str
    note: str
    n_undefined: int

    def __new__(cls, low: float, high: float, method: str = "", note: str = "", n_undefined: int = 0):
        self = super().__new__(cls, float(low), float(high))
        object.__setattr__(self, "method", str(method))
        object.__setattr__(self, "note", str(note))
        object.__setattr__(self, "n_undefined", int(n_undefined))
        return self

    def __setattr__(self, name, value):
        raise AttributeError("ConfidenceInterval is immutable")

    def __getnewargs__(self):
        return (self.low, self.high, self.method, self.note, self.n_undefined)

    def with_(self, **changes) -> "ConfidenceInterval":
        """A copy with some of ``low, high, method, note, n_undefined`` replaced."""
        fields: dict[str, Any] = dict(
            low=self.low, high=self.high, method=self.method, note=self.note, n_undefined=self.n_undefined
        )
        fields.update(changes)
        return ConfidenceInterval(**fields)

    def __repr__(self) -> str:
        extra = f", method={self.method!r}" if self.method else ""
        extra += f", note={self.note!r}" if self.note else ""
        extra += f", n_undefined={self.n_undefined}" if self.n_undefined else ""
        return f"ConfidenceInterval(low={self.low!r}, high={self.high!r}{extra})"


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _check_level(level: float) -> float:
    level = float(level)
    if not 0 < level < 1:
        raise DataError(f"confidence level must be between 0 and 1 (exclusive), got {level}")
    return level


def p_value_from_z(z: float, alternative: str = "two-sided") -> float:
    """Normal-theory p-value of a z statistic for H0: parameter = 0."""
    if alternative not in ALTERNATIVES:
        raise DataError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    if not np.isfinite(z):
        return float("nan")
    # ndtr is the normal cdf without scipy.stats' per-call overhead (~100x faster)
    if alternative == "two-sided":
        return float(2 * _ndtr(-abs(z)))
    if alternative == "greater":
        return float(_ndtr(-z))
    return float(_ndtr(z))


def wilson_interval(p: float, n: float, q: float) -> tuple[float, float]:
    """Wilson (1927) score interval of a proportion ``p`` from ``n`` trials, quantile ``q``.

    .. math::  \\frac{p + q^2/2n \\pm q \\sqrt{p(1-p)/n + q^2/4n^2}}{1 + q^2/n}

    Always inside [0, 1] and of positive width for ``n`` finite, also at
    ``p = 0`` or ``1`` (Agresti & Coull 1998).

    >>> [round(b, 4) for b in wilson_interval(0.9, 10, 1.959963984540054)]
    [0.5958, 0.9821]
    """
    q2n = q * q / n
    centre = (p + q2n / 2) / (1 + q2n)
    half = q / (1 + q2n) * np.sqrt(max(p * (1 - p), 0.0) / n + q2n / (4 * n))
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


def ci_from_bootstrap(
    estimate: float,
    replicates: np.ndarray,
    level: float,
    method: str,
    jackknife: tuple[np.ndarray, np.ndarray] | None = None,
) -> ConfidenceInterval:
    """Percentile or BCa (Efron 1987) interval from bootstrap replicates.

    BCa bias correction ``z0 = Phi^-1(#{theta* < theta} / B)`` (ties count
    half) and acceleration from the jackknife,
    ``a = sum(d^3) / (6 * sum(d^2)^1.5)`` with ``d = mean(theta_(.)) - theta_(i)``.

    Replicates whose statistic is undefined (NaN: e.g. a resample in which
    every rating falls in one category) are counted in ``n_undefined``.  Up to
    ``MAX_UNDEFINED_SHARE`` (10%) of them, the interval comes from the defined
    ones and the note says how many were left out; beyond that the interval is
    refused (NaN bounds), because the defined replicates are then a biased
    subset (the dropped resamples are the most homogeneous ones).
    """
    reps = np.asarray(replicates, dtype=np.float64)
    finite = np.isfinite(reps)
    n_bad = int((~finite).sum())
    total = reps.size
    reps = reps[finite]
    if method not in ("bca", "percentile"):
        raise DataError(f"bootstrap interval must be 'bca' or 'percentile', got {method!r}")
    note = ""
    if n_bad:
        note = (
            f"{n_bad} of {total} bootstrap replicates ({n_bad / max(total, 1):.0%}) were undefined "
            "(chance agreement 1 or no pairable unit in the resample)"
        )
        if n_bad > MAX_UNDEFINED_SHARE * total:
            return ConfidenceInterval(
                float("nan"),
                float("nan"),
                method,
                _join(
                    note,
                    f"more than {MAX_UNDEFINED_SHARE:.0%}: interval refused; use the analytic interval or more units",
                ),
                n_bad,
            )
        note += " and left out"
    if reps.size < 2:
        return ConfidenceInterval(
            float("nan"), float("nan"), method, _join(note, "fewer than 2 defined bootstrap replicates"), n_bad
        )
    alpha = (1 - level) / 2
    if method == "percentile":
        lo, hi = np.quantile(reps, [alpha, 1 - alpha])
        return ConfidenceInterval(float(lo), float(hi), method, note, n_bad)
    below = (reps < estimate).mean() + 0.5 * (reps == estimate).mean()
    z0 = _ndtri(np.clip(below, 1e-12, 1 - 1e-12))
    accel = 0.0
    if jackknife is not None:
        values, mult = jackknife
        ok = np.isfinite(values)
        values, mult = values[ok], mult[ok]
        if mult.sum() > 1:
            mean = (mult * values).sum() / mult.sum()
            d = mean - values
            denom = (mult * d**2).sum() ** 1.5
            accel = float((mult * d**3).sum() / (6 * denom)) if denom > 0 else 0.0
    z = _ndtri(np.array([alpha, 1 - alpha]))
    adjusted = _ndtr(z0 + (z0 + z) / (1 - accel * (z0 + z)))
    lo, hi = np.quantile(reps, np.clip(adjusted, 0, 1))
    return ConfidenceInterval(float(lo), float(hi), method, note, n_bad)


@dataclass(frozen=True, repr=False)
class AgreementResult:
    """Result of a chance-corrected agreement coefficient.

    Attributes
    ----------
    statistic : str
        Name of the coefficient (``"fleiss_kappa"``, ``"gwet_ac2"``, ...).
    estimate : float
        The coefficient, ``(observed - expected) / (1 - expected)`` for the
        kappa family; ``1 - D_o / D_e`` for Krippendorff's alpha.
    standard_error : float
        Analytic standard error (``se_method`` says which formula).
    observed, expected : float
        Observed agreement ``p_a`` and chance agreement ``p_e`` (for alpha:
        ``1 - D_o`` and ``1 - D_e`` on the normalised disagreement scale).
    n_units : int
        Units that entered the estimate.
    n_raters, n_ratings : int
        Raters and ratings that entered the estimate.
    dropped : mapping
        Units left out, by reason (e.g. ``{"fewer than 2 ratings": 3}``).
    weights : str
        The agreement weights (``"identity"``, ``"linear"``, ``"quadratic"``,
        ``"custom"``) or, for alpha, the metric.
    alternative : str
        Alternative hypothesis of ``p_value`` (H0: coefficient = 0).
    p_value : float
    se_method : str
        Formula behind ``standard_error``.
    finite_population : int or None
        Population size N of the finite-population correction.
    n_sampled : int or None
        Units sampled from that population: the n of ``1 - n/N`` and of the
        t(n - 1) quantile (``n_units`` when None; for Krippendorff's alpha the
        units with any rating, as irrCAC 1.4, while ``n_units`` counts the
        pairable ones).
    interval_kind : {"unbounded", "chance_corrected", "proportion"}
        How intervals are kept honest (see :meth:`confidence_interval`).
    details : mapping
        Coefficient-specific extras (per-category values, null SE, the test used, ...).
    """

    statistic: str
    estimate: float
    standard_error: float
    observed: float
    expected: float
    n_units: int
    n_raters: int
    n_ratings: int
    dropped: Mapping[str, int] = field(default_factory=dict)
    weights: str = "identity"
    alternative: str = "two-sided"
    p_value: float = float("nan")
    se_method: str = ""
    finite_population: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    _resampler: "UnitLevelStatistic | LazyStatistic | None" = field(default=None, compare=False)
    n_sampled: int | None = None
    interval_kind: str = "unbounded"

    def __post_init__(self):
        object.__setattr__(self, "dropped", MappingProxyType(dict(self.dropped)))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    # ------------------------------------------------------------ intervals
    def confidence_interval(
        self,
        level: float = 0.95,
        method: str = "analytic",
        *,
        distribution: str = "normal",
        bootstrap: str = "bca",
        n_resamples: int = 1000,
        random_state: int | np.random.Generator | None = 0,
    ) -> ConfidenceInterval:
        """Confidence interval for the coefficient.

        Parameters
        ----------
        level : float
            Confidence level, e.g. 0.95.
        method : {"analytic", "bootstrap", "jackknife"}
            ``analytic``: estimate +/- q * standard_error.  ``bootstrap``:
            resample units with replacement (``bootstrap="bca"`` or
            ``"percentile"``).  ``jackknife``: estimate +/- q * jackknife SE.
        distribution : {"normal", "t"}
            Quantile ``q``: standard normal (SAS, statsmodels) or Student t
            with ``n_sampled - 1`` df (irrCAC).
        n_resamples, random_state
            Bootstrap replicates and seed (default 0: reproducible reports).

        Returns
        -------
        ConfidenceInterval
            ``(low, high)`` with ``method``, ``note`` and ``n_undefined``.

        Notes
        -----
        Intervals say what they are instead of pretending:

        * **Percent agreement** (a proportion) gets the Wilson score interval,
          always inside [0, 1], with the effective number of units
          :math:`n_{eff} = p(1-p)/SE^2` (so multi-rater designs and the
          finite-population correction count), or the pairable units
          :math:`n'` when :math:`SE = 0` or :math:`p \\in \\{0, 1\\}`.
        * **Chance-corrected coefficients**: bounds beyond [-1, 1] are clipped
          (noted).  When every method gives a zero-width interval because the
          standard error is 0: with perfect observed agreement the lower bound
          is the Wilson lower bound of :math:`p_a` over the :math:`n'` pairable
          units mapped through :math:`(p_a - p_e)/(1 - p_e)` with :math:`p_e`
          held at its estimate, and the upper bound 1 (``method`` says
          ``"wilson-mapped"``); otherwise (e.g. a rater who gave every unit
          the same score) the bounds are NaN with the reason.
        * **Bootstrap**: undefined replicates are counted (``n_undefined``);
          past 10% the interval is refused (NaN); with one unit there is
          nothing to resample (NaN).
        """
        level = _check_level(level)
        if method == "analytic":
            ci = self._symmetric(self.standard_error, level, distribution)
        elif method == "jackknife":
            ci = self._symmetric(self.jackknife_standard_error(), level, distribution)
        elif method == "bootstrap":
            engine = self._need_resampler()
            if self.n_units < 2:
                return ConfidenceInterval(
                    float("nan"), float("nan"), bootstrap, f"the bootstrap needs at least 2 units, got {self.n_units}"
                )
            reps = engine.bootstrap(int(n_resamples), random_state)
            jack = engine.jackknife() if bootstrap == "bca" else None
            ci = ci_from_bootstrap(self.estimate, reps, level, bootstrap, jack)
        else:
            raise DataError(f"method must be 'analytic', 'bootstrap' or 'jackknife', got {method!r}")
        return self._honest(ci, level, distribution)

    def bootstrap_distribution(self, n_resamples: int = 1000, random_state=0) -> np.ndarray:
        """The bootstrap replicates themselves (units resampled with replacement)."""
        return self._need_resampler().bootstrap(int(n_resamples), random_state)

    def jackknife_standard_error(self) -> float:
        se = self._need_resampler().jackknife_se()
        if self.finite_population:
            se *= np.sqrt(max(0.0, 1 - self._sampled / self.finite_population))
        return se

    @property
    def _sampled(self) -> int:
        return int(self.n_sampled if self.n_sampled is not None else self.n_units)

    def _quantile(self, level: float, distribution: str) -> tuple[float, str]:
        if distribution == "normal":
            return float(_ndtri(0.5 + level / 2)), "normal"
        if distribution == "t":
            df = max(self._sampled - 1, 1)
            return float(_stdtrit(df, 0.5 + level / 2)), f"t({df})"
        raise DataError(f"distribution must be 'normal' or 't', got {distribution!r}")

    def _symmetric(self, se: float, level: float, distribution: str) -> ConfidenceInterval:
        q, name = self._quantile(level, distribution)
        if not np.isfinite(se):
            return ConfidenceInterval(float("nan"), float("nan"), name, "standard error undefined")
        if self.interval_kind == "proportion":
            p = self.estimate
            # n: the effective number of units p(1-p)/SE^2, or the pairable units when SE is 0
            if se > 0 and 0 < p < 1:
                n_eff, note = p * (1 - p) / se**2, ""
            else:
                n_eff = self._n_pairable
                note = f"standard error 0: Wilson interval on the {n_eff:.4g} pairable units"
            low, high = wilson_interval(p, n_eff, q)
            return ConfidenceInterval(low, high, f"wilson, {name} quantile", note)
        return ConfidenceInterval(self.estimate - q * se, self.estimate + q * se, name)

    @property
    def _n_pairable(self) -> int:
        return int(self.details.get("n_pairable", self.n_units))

    def _honest(self, ci: ConfidenceInterval, level: float, distribution: str) -> ConfidenceInterval:
        """Replace zero-width intervals, clip impossible bounds (see confidence_interval)."""
        if self.interval_kind == "unbounded" or not (np.isfinite(ci.low) and np.isfinite(ci.high)):
            return ci
        if ci.high - ci.low <= ROUNDOFF:
            if self.observed < 1 - ROUNDOFF:
                return ci.with_(
                    low=float("nan"),
                    high=float("nan"),
                    note=_join(
                        ci.note,
                        (
                            "zero-width interval: the standard error is 0 although observed agreement is "
                            "not perfect (e.g. a rater gave every unit the same score), so there is no "
                            "sampling interval"
                        ),
                    ),
                )
            q, name = self._quantile(level, distribution)
            n = self._n_pairable
            pa_low, _ = wilson_interval(1.0, n, q)
            if self.interval_kind == "proportion":
                return ConfidenceInterval(
                    pa_low,
                    1.0,
                    f"wilson, {name} quantile",
                    _join(
                        ci.note,
                        (
                            f"{ci.method} interval has zero width (perfect agreement); Wilson score interval "
                            f"over the {n} pairable units"
                        ),
                    ),
                    ci.n_undefined,
                )
            low = (pa_low - self.expected) / (1 - self.expected)
            return ConfidenceInterval(
                max(low, -1.0),
                1.0,
                f"wilson-mapped, {name} quantile",
                _join(
                    ci.note,
                    (
                        f"{ci.method} interval has zero width (perfect agreement, SE 0); lower bound = Wilson "
                        f"lower bound of observed agreement over the {n} pairable units mapped through "
                        "(p_a - p_e)/(1 - p_e) with p_e held at its estimate"
                    ),
                ),
                ci.n_undefined,
            )
        low, high = ci.low, ci.high
        notes: list[str] = []
        if high > 1:
            high, notes = 1.0, notes + [f"upper bound {ci.high:.4g} clipped at 1"]
        if low < -1:
            low, notes = -1.0, notes + [f"lower bound {ci.low:.4g} clipped at -1"]
        return ci.with_(low=low, high=high, note=_join(ci.note, *notes)) if notes else ci

    def _need_resampler(self) -> "UnitLevelStatistic | LazyStatistic":
        if self._resampler is None:
            raise DataError(f"{self.statistic} has no unit-level resampler; use method='analytic'")
        return self._resampler

    # --------------------------------------------------------------- output
    def to_dict(self, level: float = 0.95) -> dict[str, Any]:
        """Plain dict (for DataFrames / JSON), with the analytic CI at ``level``."""
        ci = self.confidence_interval(level)
        return {
            "statistic": self.statistic,
            "estimate": self.estimate,
            "standard_error": self.standard_error,
            "ci_low": ci.low,
            "ci_high": ci.high,
            "p_value": self.p_value,
            "observed": self.observed,
            "expected": self.expected,
            "n_units": self.n_units,
            "n_raters": self.n_raters,
            "n_ratings": self.n_ratings,
            "weights": self.weights,
            "dropped": dict(self.dropped),
        }

    def __repr__(self) -> str:
        dropped = f", dropped={dict(self.dropped)}" if self.dropped else ""
        return (
            f"AgreementResult(statistic={self.statistic!r}, estimate={self.estimate:.6g}, "
            f"standard_error={self.standard_error:.6g}, p_value={self.p_value:.4g}, "
            f"n_units={self.n_units}, n_raters={self.n_raters}, weights={self.weights!r}{dropped})"
        )
