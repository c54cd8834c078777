"""Immutable result objects returned by the coefficients (``scipy.stats`` style)."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, NamedTuple

import numpy as np
from scipy import stats as _sps

from irr.errors import DataError
from irr.stats._inference import LazyStatistic, UnitLevelStatistic

__all__ = ["ConfidenceInterval", "AgreementResult", "ci_from_bootstrap", "p_value_from_z"]

ALTERNATIVES = ("two-sided", "greater", "less")


class ConfidenceInterval(NamedTuple):
    """Lower and upper bounds (like ``scipy.stats``' ``ConfidenceInterval``)."""

    low: float
    high: float


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
    if alternative == "two-sided":
        return float(2 * _sps.norm.sf(abs(z)))
    if alternative == "greater":
        return float(_sps.norm.sf(z))
    return float(_sps.norm.cdf(z))


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
    """
    reps = np.asarray(replicates, dtype=np.float64)
    reps = reps[np.isfinite(reps)]
    if reps.size < 2:
        return ConfidenceInterval(float("nan"), float("nan"))
    alpha = (1 - level) / 2
    if method == "percentile":
        lo, hi = np.quantile(reps, [alpha, 1 - alpha])
        return ConfidenceInterval(float(lo), float(hi))
    if method != "bca":
        raise DataError(f"bootstrap interval must be 'bca' or 'percentile', got {method!r}")
    below = (reps < estimate).mean() + 0.5 * (reps == estimate).mean()
    z0 = _sps.norm.ppf(np.clip(below, 1e-12, 1 - 1e-12))
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
    z = _sps.norm.ppf([alpha, 1 - alpha])
    adjusted = _sps.norm.cdf(z0 + (z0 + z) / (1 - accel * (z0 + z)))
    lo, hi = np.quantile(reps, np.clip(adjusted, 0, 1))
    return ConfidenceInterval(float(lo), float(hi))


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
    details : mapping
        Coefficient-specific extras (per-category values, null SE, ...).
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
            Quantile ``q`` for analytic and jackknife intervals: standard normal
            (SAS, statsmodels) or Student t with ``n_units - 1`` df (irrCAC).
        n_resamples, random_state
            Bootstrap replicates and seed (default 0: reproducible reports).

        Bounds are not clipped to [-1, 1]; clip them for display if wanted.
        """
        level = _check_level(level)
        if method == "analytic":
            return self._symmetric(self.standard_error, level, distribution)
        if method == "jackknife":
            return self._symmetric(self.jackknife_standard_error(), level, distribution)
        if method == "bootstrap":
            engine = self._need_resampler()
            reps = engine.bootstrap(int(n_resamples), random_state)
            jack = engine.jackknife() if bootstrap == "bca" else None
            return ci_from_bootstrap(self.estimate, reps, level, bootstrap, jack)
        raise DataError(f"method must be 'analytic', 'bootstrap' or 'jackknife', got {method!r}")

    def bootstrap_distribution(self, n_resamples: int = 1000, random_state=0) -> np.ndarray:
        """The bootstrap replicates themselves (units resampled with replacement)."""
        return self._need_resampler().bootstrap(int(n_resamples), random_state)

    def jackknife_standard_error(self) -> float:
        se = self._need_resampler().jackknife_se()
        if self.finite_population:
            se *= np.sqrt(max(0.0, 1 - self.n_units / self.finite_population))
        return se

    def _symmetric(self, se: float, level: float, distribution: str) -> ConfidenceInterval:
        if distribution == "normal":
            q = _sps.norm.ppf(0.5 + level / 2)
        elif distribution == "t":
            q = _sps.t.ppf(0.5 + level / 2, max(self.n_units - 1, 1))
        else:
            raise DataError(f"distribution must be 'normal' or 't', got {distribution!r}")
        if not np.isfinite(se):
            return ConfidenceInterval(float("nan"), float("nan"))
        return ConfidenceInterval(float(self.estimate - q * se), float(self.estimate + q * se))

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
