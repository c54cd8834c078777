"""`Ratings`: integer-coded ratings on a declared category scale.

Every coefficient in :mod:`irr.stats` works from this one representation, the
ordered score values of the scale plus the ratings in one of two equivalent
forms (the other is derived on first use):

* three parallel integer arrays (unit code, rater code, category code), one
  entry per observed rating -- what long data gives;
* a units x raters matrix of category codes (``int8``, -1 = not rated) -- what
  wide data gives, coded block by block without a per-rating index.

From these the sufficient statistics (unit x category counts, their distinct
patterns, rater x category counts, rater pair contingency tables) are built with
``np.bincount`` or, for the code matrix, by packing each unit's counts into one
integer (:func:`pack_unit_counts`).
"""
from __future__ import annotations

from functools import cached_property
from typing import Any, Sequence

import numpy as np
import pandas as pd

from irr.errors import CategoryError, DataError, RaterIdentityError

__all__ = ["Ratings", "as_ratings", "count_row_codes", "pack_unit_counts", "unpack_unit_counts"]


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def count_row_codes(counts: np.ndarray, max_bits: int = 62) -> tuple[np.ndarray, np.ndarray] | None:
    """Mixed-radix code of each row of a non-negative count matrix, and the radix.

    Rows with equal counts get equal codes.  ``None`` when the code space would
    need more than ``max_bits`` bits.
    """
    base = int(counts.max(initial=0)) + 1
    k = counts.shape[1]
    if k * np.log2(base) > max_bits:
        return None
    radix = base ** np.arange(k, dtype=np.int64)
    return counts.astype(np.int64, copy=False) @ radix, radix


def _plain(label: Any) -> Any:
    """A numpy scalar as the Python value it holds (for messages)."""
    return label.item() if isinstance(label, np.generic) else label


def _code_dtype(n: int) -> type:
    return np.int32 if n < 2**31 - 1 else np.int64


def _declared_scale(categories: Any, observed: np.ndarray | None) -> np.ndarray:
    """The ordered, distinct score values of the scale as float64."""
    if categories is None:
        if observed is None or observed.size == 0:
            raise DataError("no ratings given and no `categories` declared: nothing to analyse")
        return np.unique(observed.astype(np.float64))
    values = np.asarray(list(categories) if not isinstance(categories, np.ndarray) else categories)
    try:
        values = values.astype(np.float64)
    except (TypeError, ValueError):
        raise CategoryError(
            f"categories must be numeric score values, got {list(values)[:8]!r}; "
            "code the scale as numbers (e.g. 1..4)"
        ) from None
    if values.ndim != 1 or values.size == 0:
        raise CategoryError("categories must be a non-empty 1-D sequence of score values")
    if not np.all(np.isfinite(values)):
        raise CategoryError("categories must be finite numbers")
    uniq = np.unique(values)
    if uniq.size != values.size:
        raise CategoryError(f"categories contain duplicates: {list(values)}")
    return uniq


def _encode_scores(scores: np.ndarray, scale: np.ndarray, where: str) -> np.ndarray:
    """Map score values onto category codes 0..K-1; every score must be on the scale."""
    codes = np.searchsorted(scale, scores)
    codes_clipped = np.minimum(codes, scale.size - 1)
    bad = scale[codes_clipped] != scores
    if bad.any():
        offenders = np.unique(scores[bad])
        shown = ", ".join(f"{v:g}" for v in offenders[:10])
        raise CategoryError(
            f"{int(bad.sum())} score(s) in {where} are not points of the declared scale "
            f"[{', '.join(f'{v:g}' for v in scale)}]: {shown}"
            + (" ..." if offenders.size > 10 else "")
            + "; fix the scores or declare the full scale with `categories=`"
        )
    return codes_clipped.astype(np.int8 if scale.size <= 127 else np.int32)


_FAST_SPAN = 250          # integer scales spanning at most this many points take the fast path
_BLOCK_CELLS = 1 << 18    # cells per block when coding a wide float array (2 MiB of float64)


def _encode_wide_fast(values: np.ndarray, categories: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Units x raters code matrix (-1 = not rated) for integer-valued scores, or ``None``.

    Block by block, ``fmax`` maps NaN below the scale, a cast to ``uint8`` gives
    the shifted score and a comparison checks the cast lost nothing; on a
    contiguous scale the code is then the shifted score minus one, otherwise a
    lookup table gives it.
    ``None`` (use the general path, which also words the errors) when a score is
    not an integer, lies off the declared scale, or the scale is wide.
    """
    if values.size == 0:
        return None
    low = float(np.fmin.reduce(values, axis=None))      # fmin/fmax skip NaN
    high = float(np.fmax.reduce(values, axis=None))
    if np.isnan(low) or np.isinf(low) or np.isinf(high) or low != np.floor(low) or high != np.floor(high):
        return None
    if categories is None:
        base, top = low, high
    else:
        scale = _declared_scale(categories, None)
        if np.any(scale != np.floor(scale)) or low < scale[0] or high > scale[-1]:
            return None
        base, top = float(scale[0]), float(scale[-1])
    span = int(top - base) + 1
    if span > _FAST_SPAN:
        return None
    offset = base - 1.0                                 # NaN -> offset -> shifted value 0
    n, r = values.shape
    small = np.empty((n, r), dtype=np.uint8)
    rows = max(1, _BLOCK_CELLS // r)
    buffer = np.empty((min(rows, n), r))
    for start in range(0, n, rows):                     # row blocks keep the float temporaries in cache
        block = buffer[: min(rows, n - start)]
        np.fmax(values[start:start + rows], offset, out=block)
        block -= offset
        target = small[start:start + rows]
        np.copyto(target, block, casting="unsafe")
        if not np.array_equal(target, block):           # a fractional score
            return None
    del buffer
    if categories is None:                              # the scale is the values used
        if span <= 16:                                  # the lowest and highest are used by definition
            used = [True] + [bool((small == v).any()) for v in range(2, span)] + [True] * (span > 1)
        else:
            used = np.bincount(small.ravel(), minlength=span + 1)[1:] > 0
        scale = base + np.flatnonzero(used).astype(np.float64)
    k = scale.size
    if k == span and k <= 127:                          # contiguous scale: code = shifted value - 1
        small -= 1                                      # 0 (not rated) wraps to 255, i.e. int8 -1
        return small.view(np.int8), scale
    lookup = np.full(span + 1, -2, dtype=np.int8 if k <= 127 else np.int16)
    lookup[0] = -1
    lookup[(scale - offset).astype(np.int64)] = np.arange(k)
    codes = lookup.take(small)
    if k < span and (codes == -2).any():                # an integer between declared points
        return None
    return codes, scale


def _encode_wide(values: np.ndarray, categories: Any) -> tuple[np.ndarray, np.ndarray]:
    """Units x raters code matrix (-1 = not rated) and the scale, validating every score."""
    fast = _encode_wide_fast(values, categories)
    if fast is not None:
        return fast
    if np.isinf(values).any():
        raise CategoryError("ratings contain infinite values")
    observed = ~np.isnan(values)
    scores = values[observed]
    scale = _declared_scale(categories, scores)
    codes = np.full(values.shape, -1, dtype=np.int8 if scale.size <= 127 else np.int32)
    codes[observed] = _encode_scores(scores, scale, "the ratings")
    return codes, scale


def pack_unit_counts(codes: np.ndarray, k: int) -> tuple[np.ndarray, int] | None:
    """Each unit's category counts packed into one integer, ``bits`` bits per category.

    ``codes`` is a units x raters code matrix (-1 = not rated).  A rating of
    category ``c`` adds ``1 << (bits * c)``; ``bits`` holds the largest possible
    count (the number of raters), so the digits never carry and equal count
    rows get equal numbers.  One table look-up and one add per rater column.
    ``None`` when the packed number would need more than 62 bits.
    """
    n, r = codes.shape
    bits = max(1, int(r).bit_length())
    if codes.dtype != np.int8 or bits * k > 62:
        return None
    dtype = np.int32 if bits * k <= 31 else np.int64
    lookup = np.zeros(256, dtype=dtype)                  # uint8 view: -1 (not rated) is 255 -> 0
    lookup[:k] = np.left_shift(1, bits * np.arange(k, dtype=dtype), dtype=dtype)
    as_index = codes.view(np.uint8)
    packed = np.zeros(n, dtype=dtype)
    if r <= 512:
        for column in range(r):                          # a loop over raters, not over ratings
            packed += lookup.take(as_index[:, column])
    else:
        if bits * k > 52:
            return None
        packed = np.rint(lookup.astype(np.float64).take(as_index) @ np.ones(r)).astype(dtype)
    return packed, bits


def unpack_unit_counts(packed: np.ndarray, bits: int, k: int) -> np.ndarray:
    """The units x categories counts held in :func:`pack_unit_counts` numbers (int64)."""
    out = np.empty((packed.shape[0], k), dtype=np.int64)
    mask = (1 << bits) - 1
    for category in range(k):
        np.bitwise_and(packed >> (bits * category), mask, out=out[:, category], casting="unsafe")
    return out


class Ratings:
    """Integer-coded ratings: who rated which unit, and which score point.

    Build one with :meth:`from_long`, :meth:`from_wide`, :meth:`from_table` or
    :meth:`from_counts`; every coefficient in :mod:`irr.stats` also accepts a
    units x raters array (NaN = missing) and converts it with :meth:`from_wide`.

    Attributes
    ----------
    categories : ndarray of float
        The ordered score values of the scale (``K`` of them).  Weights and
        distances are computed from these *values*, so a score point nobody used
        still counts when the scale is declared.
    unit_labels, rater_labels : ndarray
        Original identifiers; ``rater_labels`` is ``None`` for ratings built from
        unit x category counts (no rater identity).
    unit, rater, code : ndarray of int
        One entry per observed rating: unit code (0..n_units-1), rater code
        (0..n_raters-1) and category code (0..K-1).  ``None`` for count input.
    dropped : dict
        Ratings removed while building, by reason (e.g. missing score).

    Examples
    --------
    >>> import numpy as np
    >>> from irr.stats import Ratings
    >>> r = Ratings.from_wide(np.array([[1, 2], [2, 2], [3, np.nan]]), categories=[1, 2, 3, 4])
    >>> r.n_units, r.n_raters, r.n_ratings
    (3, 2, 5)
    >>> r.counts.tolist()
    [[1, 1, 0, 0], [0, 2, 0, 0], [0, 0, 1, 0]]
    """

    __slots__ = (
        "categories", "unit_labels", "rater_labels", "dropped",
        "_given_counts", "_long", "_wide", "__dict__",
    )

    def __init__(
        self,
        *,
        categories: np.ndarray,
        unit_labels: np.ndarray,
        rater_labels: np.ndarray | None,
        unit: np.ndarray | None = None,
        rater: np.ndarray | None = None,
        code: np.ndarray | None = None,
        counts: np.ndarray | None = None,
        wide: np.ndarray | None = None,
        dropped: dict[str, int] | None = None,
    ):
        self.categories = _readonly(np.asarray(categories, dtype=np.float64))
        self.unit_labels = _readonly(np.asarray(unit_labels))
        self.rater_labels = None if rater_labels is None else _readonly(np.asarray(rater_labels))
        # held either as parallel (unit, rater, code) arrays or as a units x raters
        # code matrix (-1 = not rated); the other form is derived when first asked for
        self._long = None if unit is None else (_readonly(unit), _readonly(rater), _readonly(code))
        self._wide = None if wide is None else _readonly(wide)
        self._given_counts = None if counts is None else _readonly(counts)
        self.dropped = dict(dropped or {})

    # ------------------------------------------------------------------ build
    @classmethod
    def from_long(
        cls,
        df: pd.DataFrame,
        unit: str = "unit",
        rater: str = "rater",
        score: str = "score",
        categories: Sequence[float] | None = None,
    ) -> "Ratings":
        """Ratings from a long DataFrame, one row per rating.

        Rows whose score is missing (NaN/None) are not ratings; they are counted
        in ``dropped["missing score"]``.  A rater who scored the same unit twice is
        an error (aggregate or choose a read type first).
        """
        for col in (unit, rater, score):
            if col not in df.columns:
                raise DataError(f"column '{col}' not found; columns are {list(df.columns)}")
        raw = pd.to_numeric(df[score], errors="coerce")
        non_numeric = raw.isna() & df[score].notna()
        if non_numeric.any():
            first = df.index[non_numeric.to_numpy()][:5].tolist()
            raise CategoryError(
                f"{int(non_numeric.sum())} non-numeric value(s) in column '{score}' "
                f"(first at index {first}); scores must be numbers"
            )
        keep = raw.notna().to_numpy()
        dropped = {"missing score": int((~keep).sum())} if (~keep).any() else {}
        sub_units = df[unit].to_numpy()[keep]
        sub_raters = df[rater].to_numpy()[keep]
        scores = raw.to_numpy(dtype=np.float64)[keep]
        unit_codes, unit_labels = pd.factorize(sub_units, sort=True)
        rater_codes, rater_labels = pd.factorize(sub_raters, sort=True)
        if (unit_codes < 0).any() or (rater_codes < 0).any():
            raise DataError(f"missing unit or rater identifiers in columns '{unit}'/'{rater}'")
        fast = _encode_wide_fast(scores[:, None], categories)
        if fast is not None:
            codes, scale = fast[0][:, 0], fast[1]
        else:
            scale = _declared_scale(categories, scores)
            codes = _encode_scores(scores, scale, f"column '{score}'")
        out = cls(
            categories=scale,
            unit_labels=np.asarray(unit_labels),
            rater_labels=np.asarray(rater_labels),
            unit=unit_codes.astype(_code_dtype(len(unit_labels))),
            rater=rater_codes.astype(_code_dtype(len(rater_labels))),
            code=codes,
            dropped=dropped,
        )
        out._check_no_duplicate_pairs()
        return out

    @classmethod
    def from_wide(cls, data: Any, categories: Sequence[float] | None = None) -> "Ratings":
        """Ratings from a units x raters array or DataFrame (NaN = not rated).

        A DataFrame's index gives the unit labels and its columns the rater
        labels; a plain array gets labels ``0..n-1``.
        """
        if isinstance(data, Ratings):
            return data
        if isinstance(data, pd.DataFrame):
            unit_labels = data.index.to_numpy()
            rater_labels = data.columns.to_numpy()
            values = data.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
            if (data.notna().to_numpy() & np.isnan(values)).any():
                raise CategoryError("non-numeric ratings in the wide table; scores must be numbers")
        else:
            try:
                values = np.asarray(data, dtype=np.float64)
            except (TypeError, ValueError):
                raise CategoryError("ratings must be numeric (NaN for missing)") from None
            if values.ndim != 2:
                raise DataError(
                    f"wide ratings must be 2-D (units x raters), got shape {values.shape}"
                )
            unit_labels = np.arange(values.shape[0])
            rater_labels = np.arange(values.shape[1])
        if values.ndim != 2:
            raise DataError(f"wide ratings must be 2-D (units x raters), got shape {values.shape}")
        codes, scale = _encode_wide(values, categories)
        return cls(categories=scale, unit_labels=unit_labels, rater_labels=rater_labels, wide=codes)

    @classmethod
    def from_table(cls, table: Any, categories: Sequence[float] | None = None) -> "Ratings":
        """Ratings of two raters from their K x K contingency table.

        ``table[i, j]`` is the number of units rater 1 put in category i and
        rater 2 in category j.  ``categories`` gives the score values of the rows
        (default: a labelled DataFrame's index if numeric, else ``1..K``).
        """
        if isinstance(table, pd.DataFrame):
            if categories is None:
                idx = pd.to_numeric(pd.Series(table.index), errors="coerce")
                if idx.notna().all():
                    categories = idx.to_numpy(dtype=np.float64)
            table = table.to_numpy()
        counts = np.asarray(table, dtype=np.float64)
        if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
            raise DataError(f"a contingency table must be square, got shape {counts.shape}")
        if (counts < 0).any() or not np.allclose(counts, np.round(counts)):
            raise DataError("contingency table cells must be non-negative whole counts")
        k = counts.shape[0]
        scale = _declared_scale(categories if categories is not None else np.arange(1, k + 1), None)
        if scale.size != k:
            raise CategoryError(f"table is {k}x{k} but {scale.size} categories were declared")
        cells = np.round(counts).astype(np.int64).ravel()
        n = int(cells.sum())
        cell_of_unit = np.repeat(np.arange(k * k), cells)
        c1, c2 = np.divmod(cell_of_unit, k)
        unit = np.repeat(np.arange(n, dtype=_code_dtype(n)), 2)
        rater = np.tile(np.array([0, 1], dtype=np.int32), n)
        code = np.empty(2 * n, dtype=np.int8 if k <= 127 else np.int32)
        code[0::2] = c1
        code[1::2] = c2
        return cls(
            categories=scale,
            unit_labels=np.arange(n),
            rater_labels=np.array(["rater1", "rater2"]),
            unit=unit,
            rater=rater,
            code=code,
        )

    @classmethod
    def from_counts(cls, counts: Any, categories: Sequence[float] | None = None) -> "Ratings":
        """Ratings from a units x categories count matrix (no rater identity).

        ``counts[i, k]`` is how many raters put unit i in category k.  Rater-aware
        statistics (Cohen, Conger, ICC) raise :class:`RaterIdentityError` on these.
        """
        if isinstance(counts, pd.DataFrame):
            if categories is None:
                cols = pd.to_numeric(pd.Series(counts.columns), errors="coerce")
                if cols.notna().all():
                    categories = cols.to_numpy(dtype=np.float64)
            unit_labels = counts.index.to_numpy()
            counts = counts.to_numpy()
        else:
            unit_labels = None
        mat = np.asarray(counts, dtype=np.float64)
        if mat.ndim != 2:
            raise DataError(f"counts must be 2-D (units x categories), got shape {mat.shape}")
        if np.isnan(mat).any() or (mat < 0).any() or not np.allclose(mat, np.round(mat)):
            raise DataError("counts must be non-negative whole numbers")
        k = mat.shape[1]
        scale = _declared_scale(categories if categories is not None else np.arange(1, k + 1), None)
        if scale.size != k:
            raise CategoryError(f"counts have {k} columns but {scale.size} categories were declared")
        if unit_labels is None:
            unit_labels = np.arange(mat.shape[0])
        return cls(
            categories=scale,
            unit_labels=unit_labels,
            rater_labels=None,
            counts=np.round(mat).astype(np.int64),
        )

    # -------------------------------------------------------------- describe
    @property
    def n_units(self) -> int:
        return int(self.unit_labels.shape[0])

    @property
    def n_raters(self) -> int:
        """Number of distinct raters (for count input: the largest ratings per unit)."""
        if self.rater_labels is None:
            return int(self.ratings_per_unit.max(initial=0))
        return int(self.rater_labels.shape[0])

    @property
    def n_categories(self) -> int:
        return int(self.categories.shape[0])

    @property
    def n_ratings(self) -> int:
        if self._long is not None:
            return int(self._long[2].shape[0])
        return int(self.ratings_per_unit.sum())

    @property
    def has_rater_identity(self) -> bool:
        return self._long is not None or self._wide is not None

    @property
    def unit(self) -> np.ndarray | None:
        """Unit code of each rating (``None`` without rater identity)."""
        return self._long_arrays[0] if self.has_rater_identity else None

    @property
    def rater(self) -> np.ndarray | None:
        """Rater code of each rating (``None`` without rater identity)."""
        return self._long_arrays[1] if self.has_rater_identity else None

    @property
    def code(self) -> np.ndarray | None:
        """Category code of each rating (``None`` without rater identity)."""
        return self._long_arrays[2] if self.has_rater_identity else None

    @cached_property
    def _long_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._long is not None:
            return self._long
        unit_idx, rater_idx = np.nonzero(self._wide >= 0)
        return (_readonly(unit_idx.astype(_code_dtype(self.n_units))),
                _readonly(rater_idx.astype(_code_dtype(self.n_raters))),
                _readonly(self._wide[unit_idx, rater_idx]))

    @cached_property
    def is_complete(self) -> bool:
        """Every rater rated every unit (and there is at least one rating)."""
        if not self.has_rater_identity or self.n_units == 0 or self.n_raters == 0:
            return False
        if self._wide is not None:
            return bool(self._wide.min() >= 0)
        return self.n_ratings == self.n_units * self.n_raters

    def require_rater_identity(self, statistic: str) -> None:
        if not self.has_rater_identity:
            raise RaterIdentityError(
                f"{statistic} needs to know which rater gave each score, but these ratings "
                "were built from unit x category counts; build them with Ratings.from_long "
                "or Ratings.from_wide instead"
            )

    # ------------------------------------------------- sufficient statistics
    @cached_property
    def counts(self) -> np.ndarray:
        """Units x categories count matrix ``n_ik`` (int64, read-only)."""
        if self._given_counts is not None:
            return self._given_counts
        k = self.n_categories
        if self._wide is not None:
            if self._packed is not None:
                return _readonly(unpack_unit_counts(*self._packed, k))
            return _readonly(np.stack([np.count_nonzero(self._wide == c, axis=1) for c in range(k)],
                                      axis=1).astype(np.int64).reshape(self.n_units, k))
        flat = self.unit.astype(np.int64) * k + self.code
        out = np.bincount(flat, minlength=self.n_units * k).reshape(self.n_units, k)
        return _readonly(out)

    def count_patterns(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct rows of :attr:`counts` and how many units have each.

        Statistics that depend on a unit only through its category counts
        (Fleiss, Gwet, Krippendorff) can be computed over these few patterns,
        weighted by their multiplicity, instead of over all units.  Found with
        one ``bincount`` of a mixed-radix code of the count row (O(units)) when
        the code space is small, else with a sort.
        """
        return self._count_patterns

    @cached_property
    def _packed(self) -> tuple[np.ndarray, int] | None:
        return None if self._wide is None else pack_unit_counts(self._wide, self.n_categories)

    @cached_property
    def _count_patterns(self) -> tuple[np.ndarray, np.ndarray]:
        k = self.n_categories
        if self._packed is not None and self._packed[1] * k <= 24:
            packed, bits = self._packed                 # already a row code: no counts needed
            mult = np.bincount(packed, minlength=1)
            present = np.flatnonzero(mult)
            return _readonly(unpack_unit_counts(present, bits, k)), _readonly(mult[present].astype(np.int64))
        counts = self.counts
        coded = count_row_codes(counts, max_bits=24)     # code space <= 16M bins
        if coded is not None:
            code, radix = coded
            base = int(counts.max(initial=0)) + 1
            mult = np.bincount(code, minlength=1)
            present = np.flatnonzero(mult)
            patterns = (present[:, None] // radix[None, :]) % base
            return _readonly(patterns.astype(np.int64)), _readonly(mult[present].astype(np.int64))
        patterns, mult = np.unique(counts, axis=0, return_counts=True)
        return _readonly(patterns.astype(np.int64)), _readonly(mult.astype(np.int64))

    @cached_property
    def ratings_per_unit(self) -> np.ndarray:
        """``r_i``: number of ratings of each unit (int64)."""
        if self._given_counts is not None or self._wide is not None:
            return _readonly(self.counts.sum(axis=1))
        return _readonly(np.bincount(self.unit, minlength=self.n_units).astype(np.int64))

    @cached_property
    def rater_counts(self) -> np.ndarray:
        """Raters x categories count matrix (how often each rater used each point)."""
        self.require_rater_identity("rater_counts")
        k = self.n_categories
        if self._wide is not None:
            out = np.zeros((self.n_raters, k), dtype=np.int64)
            for column in range(self.n_raters):     # a loop over raters, not ratings
                codes = self._wide[:, column]
                if codes.dtype == np.int8:          # as uint8, -1 (not rated) is 255 >= k: cut off below
                    out[column] = np.bincount(codes.view(np.uint8), minlength=k)[:k]
                else:
                    out[column] = np.bincount(codes[codes >= 0], minlength=k)
            return _readonly(out)
        flat = self.rater.astype(np.int64) * k + self.code
        return _readonly(
            np.bincount(flat, minlength=self.n_raters * k).reshape(self.n_raters, k)
        )

    @cached_property
    def wide_codes(self) -> np.ndarray:
        """Units x raters matrix of category codes, ``-1`` where not rated.

        Memory is ``n_units * n_raters`` small integers; fine for the designs of
        scoring programmes (tens of raters), refused beyond 2e9 cells.
        """
        self.require_rater_identity("wide_codes")
        if self._wide is not None:
            return self._wide
        cells = self.n_units * self.n_raters
        if cells > 2_000_000_000:
            raise DataError(
                f"{self.n_units} units x {self.n_raters} raters is too sparse for a wide "
                "matrix; use a statistic that works from counts"
            )
        dtype = np.int8 if self.n_categories <= 127 else np.int32
        out = np.full((self.n_units, self.n_raters), -1, dtype=dtype)
        out[self.unit, self.rater] = self.code
        return _readonly(out)

    def wide_scores(self) -> np.ndarray:
        """Units x raters float matrix of score values, NaN where not rated."""
        codes = self.wide_codes
        values = self.categories[np.maximum(codes, 0)]
        values[codes < 0] = np.nan
        return values

    def pair_table(self, rater_a: int, rater_b: int) -> np.ndarray:
        """K x K contingency table of two raters over the units both rated."""
        codes = self.wide_codes
        a, b = codes[:, rater_a], codes[:, rater_b]
        both = (a >= 0) & (b >= 0)
        k = self.n_categories
        flat = a[both].astype(np.int64) * k + b[both]
        return np.bincount(flat, minlength=k * k).reshape(k, k)

    # ------------------------------------------------------------- reshape
    def to_long(self) -> pd.DataFrame:
        """Tidy frame ``unit, rater, score`` (one row per rating)."""
        self.require_rater_identity("to_long")
        return pd.DataFrame(
            {
                "unit": self.unit_labels[self.unit],
                "rater": self.rater_labels[self.rater],
                "score": self.categories[self.code],
            }
        )

    def to_wide(self) -> pd.DataFrame:
        """Units x raters DataFrame of scores (NaN = not rated)."""
        return pd.DataFrame(
            self.wide_scores(),
            index=pd.Index(self.unit_labels, name="unit"),
            columns=pd.Index(self.rater_labels, name="rater"),
        )

    def select_raters(self, raters: Sequence[int]) -> "Ratings":
        """The ratings of a subset of raters (by code), same scale and units."""
        self.require_rater_identity("select_raters")
        raters = np.asarray(raters, dtype=np.int64)
        if self._wide is not None:
            return Ratings(categories=self.categories, unit_labels=self.unit_labels,
                           rater_labels=self.rater_labels[raters], wide=self._wide[:, raters])
        remap = np.full(self.n_raters, -1, dtype=np.int64)
        remap[raters] = np.arange(raters.size)
        new_rater = remap[self.rater]
        keep = new_rater >= 0
        return Ratings(
            categories=self.categories,
            unit_labels=self.unit_labels,
            rater_labels=self.rater_labels[raters],
            unit=self.unit[keep],
            rater=new_rater[keep].astype(np.int32),
            code=self.code[keep],
        )

    def _check_no_duplicate_pairs(self) -> None:
        if self._long is None:
            return
        key = self.unit.astype(np.int64) * max(self.n_raters, 1) + self.rater
        if self.n_units * max(self.n_raters, 1) <= 8 * key.size + 1_000_000:
            dup = np.flatnonzero(np.bincount(key) > 1)      # O(ratings) when the grid is not too sparse
        else:
            uniq, counts = np.unique(key, return_counts=True)
            dup = uniq[counts > 1]
        if dup.size:
            u, r = np.divmod(dup[:5], max(self.n_raters, 1))
            pairs = ", ".join(f"({_plain(self.unit_labels[a])!r}, {_plain(self.rater_labels[b])!r})"
                              for a, b in zip(u, r))
            raise DataError(
                f"{dup.size} (unit, rater) pair(s) have more than one rating, e.g. {pairs}; "
                "keep one rating per rater and unit (filter by read type or aggregate first)"
            )

    def __repr__(self) -> str:
        scale = ", ".join(f"{v:g}" for v in self.categories)
        who = f"{self.n_raters} raters" if self.has_rater_identity else "no rater identity"
        return (
            f"Ratings({self.n_units} units, {who}, {self.n_ratings} ratings, "
            f"scale [{scale}])"
        )


def as_ratings(data: Any, categories: Sequence[float] | None = None) -> Ratings:
    """Accept a :class:`Ratings`, or a units x raters array/DataFrame (NaN = missing)."""
    if isinstance(data, Ratings):
        if categories is not None:
            declared = _declared_scale(categories, None)
            if not np.array_equal(declared, data.categories):
                raise CategoryError(
                    "`categories` differs from the scale the Ratings were built with; "
                    "rebuild the Ratings with the scale you want"
                )
        return data
    return Ratings.from_wide(data, categories=categories)
