"""Resampling inference for statistics that are smooth functions of unit totals.

Every agreement coefficient in this package can be written as

    theta = f(T),   T = sum_i t_i

where ``t_i`` is a short vector of unit-level quantities (category counts, the
unit's observed agreement, its pairable ratings, ...).  That form gives
vectorised inference without a Python loop over units or replicates:

* **bootstrap** -- resampling units with replacement is drawing a multinomial
  weight vector ``w`` over units, and ``T* = w @ t``.  A batch of ``B`` weight
  vectors is one matrix product ``W @ t``; ``f`` is evaluated on all rows at
  once.  Units with identical ``t_i`` ("patterns") are merged first, so the
  multinomial is drawn over the few distinct patterns instead of all units
  (resampling units is exactly resampling their patterns).
* **jackknife** -- leaving unit ``i`` out gives ``T - t_i``; all ``n`` of them
  are one array subtraction (again per pattern).

``f`` must accept totals of shape ``(..., D)`` and return shape ``(...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["UnitLevelStatistic", "LazyStatistic", "compress_patterns", "pair_kernel_moments"]

# Cells (replicates x patterns) handled per batch: bounds memory at ~400 MB of int64.
_BATCH_CELLS = 50_000_000


def pair_kernel_moments(pi: np.ndarray, kernel: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Hoeffding moments of a pair kernel when ratings are i.i.d. with probabilities ``pi``.

    For independent ratings X, Y ~ pi and a kernel ``h(x, y)`` (agreement
    weights or squared distances, symmetrised as (h + h')/2):

    .. math::  \\mu = \\pi' h \\pi, \\quad g(x) = (h\\pi)_x - \\mu, \\quad
               E\\phi^2 = Var\\,h(X, Y) - 2 Var\\,g(X)

    where :math:`\\phi(x, y) = h(x, y) - g(x) - g(y) - \\mu` is the degenerate
    part (Hoeffding 1948).  A within-unit mean over the :math:`r(r-1)` ordered
    pairs of r ratings then has linear part :math:`(2/r)\\sum_a g(X_a)` and a
    degenerate remainder of variance :math:`2 E\\phi^2 / (r(r-1))`; these give
    the variance of agreement coefficients under the null of independent raters.

    Returns ``mu``, ``g`` (K,) and ``E phi^2``.

    >>> mu, g, ephi2 = pair_kernel_moments(np.array([0.5, 0.5]), np.eye(2))
    >>> float(mu), g.tolist(), float(ephi2)
    (0.5, [0.0, 0.0], 0.25)
    """
    pi = np.asarray(pi, dtype=np.float64)
    h = (np.asarray(kernel, dtype=np.float64) + np.asarray(kernel, dtype=np.float64).T) / 2
    mu = float(pi @ h @ pi)
    g = h @ pi - mu
    var_h = float(pi @ (h * h) @ pi) - mu * mu
    var_g = float(pi @ (g * g))
    ephi2 = var_h - 2 * var_g
    # a difference of moments: below round-off of its terms it is exactly 0
    return mu, g, ephi2 if ephi2 > 1e-12 * (abs(var_h) + mu * mu) else 0.0


def compress_patterns(features: np.ndarray, key: np.ndarray | None = None):
    """Merge identical unit feature rows.

    Parameters
    ----------
    features : (n, D) array
    key : (n,) int array, optional
        A precomputed integer identifying each unit's pattern (e.g. a
        mixed-radix code of its category counts).  Rows with equal key must
        have equal features.  Without a key, rows are compared directly.

    Returns
    -------
    patterns : (P, D) array, multiplicity : (P,) int64
    """
    features = np.asarray(features, dtype=np.float64)
    if features.shape[0] == 0:
        return features, np.zeros(0, dtype=np.int64)
    if key is None:
        row = (
            np.ascontiguousarray(features)
            .view(np.dtype((np.void, features.dtype.itemsize * features.shape[1])))
            .ravel()
        )
        _, first, mult = np.unique(row, return_index=True, return_counts=True)
    else:
        _, first, mult = np.unique(key, return_index=True, return_counts=True)
    return features[first], mult.astype(np.int64)


@dataclass(frozen=True)
class UnitLevelStatistic:
    """``theta = func(multiplicity @ patterns)`` with resampling over units.

    Attributes
    ----------
    patterns : (P, D) float array of distinct unit feature vectors.
    multiplicity : (P,) number of units having each pattern.
    func : callable mapping totals ``(..., D)`` to the statistic ``(...)``.
    """

    patterns: np.ndarray
    multiplicity: np.ndarray
    func: Callable[[np.ndarray], np.ndarray]

    @classmethod
    def from_units(cls, features, func, key=None) -> "UnitLevelStatistic":
        patterns, mult = compress_patterns(features, key)
        return cls(patterns, mult, func)

    @property
    def n_units(self) -> int:
        return int(self.multiplicity.sum())

    def totals(self) -> np.ndarray:
        return self.multiplicity.astype(np.float64) @ self.patterns

    def estimate(self) -> float:
        return float(self.func(self.totals()))

    def bootstrap(self, n_resamples: int, random_state=None) -> np.ndarray:
        """``n_resamples`` bootstrap replicates (units resampled with replacement)."""
        rng = np.random.default_rng(random_state)
        n = self.n_units
        n_patterns = self.multiplicity.size
        probs = self.multiplicity / n
        per_batch = max(1, _BATCH_CELLS // max(n_patterns, 1))
        out = np.empty(n_resamples, dtype=np.float64)
        # Batches bound memory; each batch draws all its replicates at once.
        for start in range(0, n_resamples, per_batch):
            size = min(per_batch, n_resamples - start)
            weights = rng.multinomial(n, probs, size=size).astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[start : start + size] = self.func(weights @ self.patterns)
        return out

    def jackknife(self) -> tuple[np.ndarray, np.ndarray]:
        """Leave-one-unit-out values per pattern and how many units share each."""
        totals = self.totals()
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.asarray(self.func(totals[None, :] - self.patterns), dtype=np.float64)
        return values, self.multiplicity

    def jackknife_se(self) -> float:
        values, mult = self.jackknife()
        n = mult.sum()
        ok = np.isfinite(values)
        if n < 2 or not ok.all():
            return float("nan")
        mean = (mult * values).sum() / n
        return float(np.sqrt((n - 1) / n * (mult * (values - mean) ** 2).sum()))


class LazyStatistic:
    """A :class:`UnitLevelStatistic` built on first use.

    Unit-level feature matrices can be large (rater-specific features of a
    million units); results keep only this recipe until an interval needs it.
    """

    def __init__(self, build: Callable[[], UnitLevelStatistic]):
        self._build = build
        self._built: UnitLevelStatistic | None = None

    def _get(self) -> UnitLevelStatistic:
        if self._built is None:
            self._built = self._build()
        return self._built

    def bootstrap(self, n_resamples: int, random_state=None) -> np.ndarray:
        return self._get().bootstrap(n_resamples, random_state)

    def jackknife(self):
        return self._get().jackknife()

    def jackknife_se(self) -> float:
        return self._get().jackknife_se()

    def estimate(self) -> float:
        return self._get().estimate()
