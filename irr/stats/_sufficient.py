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
  reduced normal equations);
* optionally (Conger's kappa, resampling the ICC), the *unit pattern table*:
  each unit's ratings as its ascending entries ``rater * K + category``
  (padded with -1 to the widest unit), the distinct rows with how many units
  have each.  Units with the same raters giving the same categories share a
  row, so the table is small for designs with few raters or few distinct
  rating patterns; it is dropped (with the reason in
  ``unit_patterns_refused``) once it would exceed ``unit_pattern_limit``
  entries (:data:`MAX_UNIT_PATTERN_CELLS` by default).

Each part of the data (a partition of a Dask DataFrame) gives one
:class:`SufficientStatistics`; :meth:`SufficientStatistics.merge` adds them.
The tables hold integers, so merging is exact and the order of the parts does
not matter.  A unit's ratings must all be in the same part.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from irr.errors import DataError

__all__ = [
    "MAX_UNIT_PATTERN_CELLS",
    "SufficientStatistics",
    "check_no_duplicates",
    "merge_patterns",
    "unit_pattern_rows",
    "unit_tables",
]

# Entries (distinct rows x widest unit) above which the unit pattern table is dropped:
# 20M int64 entries are 160 MB, of the order of one partition's ratings.
MAX_UNIT_PATTERN_CELLS = 20_000_000


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
    unit_patterns : (U, W) int64 or None
        Distinct units' ratings, each row the unit's ascending ``rater * K + category``
        entries padded with -1 (``None``: not reduced, or dropped as too large).
    unit_multiplicity : (U,) int64 or None
        Units with each row of ``unit_patterns``.
    unit_pattern_limit : int
        Largest ``U * W`` kept (0: no table requested).
    unit_patterns_refused : str
        Why the unit pattern table was dropped ('' if it was not).
    """

    patterns: np.ndarray
    multiplicity: np.ndarray
    rater_counts: np.ndarray
    pair_table: np.ndarray | None = None
    co_rated: dict[int, np.ndarray] = field(default_factory=dict)
    rater_unit_counts: dict[int, np.ndarray] = field(default_factory=dict)
    n_duplicates: int = 0
    duplicate_examples: list = field(default_factory=list)
    unit_patterns: np.ndarray | None = None
    unit_multiplicity: np.ndarray | None = None
    unit_pattern_limit: int = 0
    unit_patterns_refused: str = ""

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
        out = SufficientStatistics(
            patterns,
            multiplicity,
            self.rater_counts + other.rater_counts,
            pair,
            co_rated,
            rater_unit_counts,
            self.n_duplicates + other.n_duplicates,
            (self.duplicate_examples + other.duplicate_examples)[:5],
        )
        out.unit_pattern_limit = min(self.unit_pattern_limit, other.unit_pattern_limit)
        out.unit_patterns_refused = self.unit_patterns_refused or other.unit_patterns_refused
        if out.unit_patterns_refused or self.unit_patterns is None or other.unit_patterns is None:
            return out
        assert self.unit_multiplicity is not None and other.unit_multiplicity is not None
        width = max(self.unit_patterns.shape[1], other.unit_patterns.shape[1])
        rows, mult = merge_patterns(
            np.concatenate([_pad(self.unit_patterns, width), _pad(other.unit_patterns, width)]),
            np.concatenate([self.unit_multiplicity, other.unit_multiplicity]),
        )
        _keep_unit_patterns(out, rows, mult)
        return out


def _pad(rows: np.ndarray, width: int) -> np.ndarray:
    """Unit pattern rows widened to ``width`` entries with -1 (no rating)."""
    if rows.shape[1] == width:
        return rows
    out = np.full((rows.shape[0], width), -1, dtype=rows.dtype)
    out[:, : rows.shape[1]] = rows
    return out


def _keep_unit_patterns(stats: SufficientStatistics, rows: np.ndarray, mult: np.ndarray) -> None:
    """Store the unit pattern table, or drop it with the reason when it is over the limit."""
    if rows.size > stats.unit_pattern_limit:
        stats.unit_patterns = stats.unit_multiplicity = None
        stats.unit_patterns_refused = (
            f"the unit pattern table ({rows.shape[0]} distinct units' ratings x {rows.shape[1]} entries so far) "
            f"is over its limit of {stats.unit_pattern_limit} entries"
        )
        return
    stats.unit_patterns, stats.unit_multiplicity = rows, mult


def unit_pattern_rows(unit: np.ndarray, rater: np.ndarray, code: np.ndarray, n_categories: int) -> np.ndarray:
    """Each unit's ratings as one row of ascending ``rater * K + code`` entries, padded with -1.

    ``unit`` are codes 0..n-1 (every unit with at least one rating), one entry per rating.

    >>> unit_pattern_rows(np.array([0, 1, 0]), np.array([1, 0, 0]), np.array([2, 1, 0]), 3).tolist()
    [[0, 5], [1, -1]]
    """
    n = int(unit.max()) + 1 if unit.size else 0
    entry = rater.astype(np.int64) * n_categories + code
    order = np.lexsort((entry, unit))
    sorted_unit = unit[order]
    per_unit = np.bincount(sorted_unit, minlength=n)
    starts = np.cumsum(per_unit) - per_unit
    rank = np.arange(order.size) - starts[sorted_unit]
    out = np.full((n, int(per_unit.max(initial=0))), -1, dtype=np.int64)
    out[sorted_unit, rank] = entry[order]
    return out


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
    unit_pattern_limit: int = 0,
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
    if unit_pattern_limit > 0:
        out.unit_pattern_limit = int(unit_pattern_limit)
        rows, mult = merge_patterns(unit_pattern_rows(unit, rater, code, k), np.ones(n, dtype=np.int64))
        _keep_unit_patterns(out, rows, mult)
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
