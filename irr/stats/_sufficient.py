"""Sufficient statistics of ratings that merge by addition (for data split into parts).

Every coefficient that :func:`~irr.stats.agreement_table` computes from merged
tables depends on the ratings only through

* the distinct unit count patterns :math:`n_{p\\cdot}` (units x categories rows)
  and how many units have each (:math:`m_p`);
* the raters x categories counts;
* for two raters, their K x K contingency table over the units both rated,
  and the number of units only one of them rated;
* for the ICC, per number of ratings :math:`m` of a unit, the raters x raters
  co-rating counts :math:`G_m[j, h] = \\#\\{i: m_i = m, j, h \\in R_i\\}` and
  the raters x categories sums :math:`B_m[j, k] = \\sum_{i \\ni j, m_i = m} n_{ik}`
  (with them :math:`N' \\mathrm{diag}(1/m) N = \\sum_m G_m / m`, Henderson's
  reduced normal equations).

Each part of the data (a partition of a Dask DataFrame) gives one
:class:`SufficientStatistics`; :meth:`SufficientStatistics.merge` adds them.
The tables hold integers, so merging is exact and the order of the parts does
not matter.  A unit's ratings must all be in the same part.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from irr.errors import DataError

__all__ = ["SufficientStatistics", "check_no_duplicates", "merge_patterns", "unit_tables"]


def merge_patterns(patterns: np.ndarray, multiplicity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``patterns`` with the summed ``multiplicity`` of equal rows."""
    if patterns.shape[0] == 0:
        return patterns.astype(np.int64), multiplicity.astype(np.int64)
    distinct, inverse = np.unique(patterns, axis=0, return_inverse=True)
    summed = np.bincount(inverse.ravel(), weights=multiplicity, minlength=distinct.shape[0])
    return distinct.astype(np.int64), np.rint(summed).astype(np.int64)


@dataclass
class SufficientStatistics:
    """Mergeable tables of one group of ratings on a K-point scale with R raters.

    Attributes
    ----------
    patterns : (P, K) int64
        Distinct unit count rows (units with at least one rating).
    multiplicity : (P,) int64
        Units with each row.
    rater_counts : (R, K) int64
        How often each rater used each category.
    pair_table : (K, K) int64 or None
        Two raters only: rater 0 in row, rater 1 in column, units both rated.
    co_rated : dict m -> (R, R) int64
        :math:`G_m`, units with m ratings that raters j and h both rated (diagonal: rated by j).
    rater_unit_counts : dict m -> (R, K) int64
        :math:`B_m`, category counts of the units with m ratings that rater j rated.
    n_duplicates : int
        (unit, rater) pairs with more than one rating (an error when > 0).
    """

    patterns: np.ndarray
    multiplicity: np.ndarray
    rater_counts: np.ndarray
    pair_table: np.ndarray | None = None
    co_rated: dict[int, np.ndarray] = field(default_factory=dict)
    rater_unit_counts: dict[int, np.ndarray] = field(default_factory=dict)
    n_duplicates: int = 0
    duplicate_examples: list = field(default_factory=list)

    @property
    def n_units(self) -> int:
        return int(self.multiplicity.sum())

    @property
    def n_ratings(self) -> int:
        return int(self.multiplicity @ self.patterns.sum(axis=1))

    def merge(self, other: "SufficientStatistics") -> "SufficientStatistics":
        """The tables of both parts (units in different parts are different units)."""
        patterns, multiplicity = merge_patterns(
            np.concatenate([self.patterns, other.patterns]), np.concatenate([self.multiplicity, other.multiplicity])
        )
        pair = None
        if self.pair_table is not None and other.pair_table is not None:
            pair = self.pair_table + other.pair_table
        co_rated = _add_dicts(self.co_rated, other.co_rated)
        rater_unit_counts = _add_dicts(self.rater_unit_counts, other.rater_unit_counts)
        return SufficientStatistics(
            patterns,
            multiplicity,
            self.rater_counts + other.rater_counts,
            pair,
            co_rated,
            rater_unit_counts,
            self.n_duplicates + other.n_duplicates,
            (self.duplicate_examples + other.duplicate_examples)[:5],
        )


def _add_dicts(a: dict[int, np.ndarray], b: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    out = dict(a)
    for key, value in b.items():
        out[key] = out[key] + value if key in out else value
    return out


def unit_tables(
    unit: np.ndarray,
    rater: np.ndarray,
    code: np.ndarray,
    n_raters: int,
    n_categories: int,
    *,
    with_pair_table: bool = False,
    with_icc: bool = False,
) -> SufficientStatistics:
    """The :class:`SufficientStatistics` of one part's ratings, with ``np.bincount`` and sparse products.

    ``unit`` are codes 0..n-1 local to the part, ``rater`` codes 0..R-1 of the
    whole data, ``code`` category codes 0..K-1 (one entry per rating).

    Examples
    --------
    >>> s = unit_tables(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]), np.array([0, 0, 0, 1]), 2, 2,
    ...                 with_pair_table=True)
    >>> s.patterns.tolist(), s.multiplicity.tolist(), s.pair_table.tolist()
    ([[1, 1], [2, 0]], [1, 1], [[1, 1], [0, 0]])
    """
    k = n_categories
    n = int(unit.max()) + 1 if unit.size else 0
    unit = unit.astype(np.int64, copy=False)
    rater = rater.astype(np.int64, copy=False)
    code = code.astype(np.int64, copy=False)
    counts = np.bincount(unit * k + code, minlength=n * k).reshape(n, k)
    patterns, multiplicity = merge_patterns(counts, np.ones(n, dtype=np.int64))
    rater_counts = np.bincount(rater * k + code, minlength=n_raters * k).reshape(n_raters, k)
    cells = unit * max(n_raters, 1) + rater
    distinct_cells, cell_counts = np.unique(cells, return_counts=True)
    repeated = distinct_cells[cell_counts > 1]
    examples = [tuple(int(v) for v in divmod(int(c), max(n_raters, 1))) for c in repeated[:5]]
    out = SufficientStatistics(
        patterns, multiplicity, rater_counts, n_duplicates=int(repeated.size), duplicate_examples=examples
    )
    if repeated.size:
        return out  # an error to report; no further tables
    if with_pair_table and n_raters == 2:
        wide = np.full((n, 2), -1, dtype=np.int64)
        wide[unit, rater] = code
        both = (wide >= 0).all(axis=1)
        out.pair_table = np.bincount(wide[both, 0] * k + wide[both, 1], minlength=k * k).reshape(k, k)
    if with_icc:
        from scipy import sparse

        per_unit = counts.sum(axis=1)
        m_of_rating = per_unit[unit]
        for m in np.unique(per_unit):
            chosen = m_of_rating == m
            incidence = sparse.csr_matrix(
                (np.ones(int(chosen.sum()), dtype=np.int64), (unit[chosen], rater[chosen])), shape=(n, n_raters)
            )
            out.co_rated[int(m)] = (incidence.T @ incidence).toarray().astype(np.int64)
            out.rater_unit_counts[int(m)] = np.asarray(incidence.T @ counts, dtype=np.int64)
    return out


def check_no_duplicates(stats: SufficientStatistics) -> None:
    """DataError when some (unit, rater) pair was rated more than once (as :meth:`Ratings.from_long`)."""
    if stats.n_duplicates:
        raise DataError(
            f"{stats.n_duplicates} (unit, rater) pair(s) have more than one rating; "
            "keep one rating per rater and unit (filter by read type or aggregate first)"
        )
