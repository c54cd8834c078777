"""`Ratings`: integer-coded ratings on a declared category scale.

Every coefficient in :mod:`irr.stats` works from this one representation, the
categories of the scale (a :class:`Scale`: labels, numeric values where they
have one, whether the order counts) plus the ratings as category codes in one
of two equivalent forms (the other is derived on first use):

* three parallel integer arrays (unit code, rater code, category code), one
  entry per observed rating -- what long data gives;
* a units x raters matrix of category codes (``int8``, -1 = not rated) -- what
  wide data gives, coded block by block without a per-rating index.

From these the sufficient statistics (unit x category counts, their distinct
patterns, rater x category counts, rater pair contingency tables) are built with
``np.bincount`` or, for the code matrix, by packing each unit's counts into one
integer (:func:`pack_unit_counts`).

Categories may be labels (condition codes such as ``'blank'``, pass/fail,
diagnoses): nominal coefficients need only the codes; statistics that need
numbers (weights, distances, ICC) ask :meth:`Ratings.require_numeric`, those
that need an order :meth:`Ratings.require_order`.  Numeric scales keep the
integer fast paths: labels are looked up only when a score is not a number.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from irr.errors import (
    CategoryError,
    DataError,
    InsufficientDataError,
    NonNumericScaleError,
    RaterIdentityError,
    UnorderedScaleError,
)
from irr.stats._sufficient import SufficientStatistics, unit_pattern_rows

__all__ = [
    "Ratings",
    "Scale",
    "as_ratings",
    "NonNumericScaleError",
    "UnorderedScaleError",
    "count_row_codes",
    "pack_unit_counts",
    "unpack_unit_counts",
    "code_row_patterns",
    "PerUnitDataError",
]


class PerUnitDataError(InsufficientDataError):
    """A statistic needs each unit's (or rating's) data, but the ratings hold merged tables only.

    Raised by :class:`Ratings` built with :meth:`Ratings.from_sufficient_statistics`
    (e.g. by :meth:`Ratings.from_dask`) instead of collecting the ratings.
    """


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


def _code_dtype(n: int) -> type[np.signedinteger[Any]]:
    return np.int32 if n < 2**31 - 1 else np.int64


_REL_TOL = 1e-9  # scores match a scale point within 1e-9 of the scale's spread


def _show(label: Any) -> str:
    """A category label as it reads in a message: ``2``, ``2.5``, ``'blank'``."""
    label = _plain(label)
    if isinstance(label, (bool, np.bool_)):
        return str(label)
    if isinstance(label, (int, float)):
        short = f"{label:g}"
        return short if float(short) == label else repr(float(label))  # 0.3000001, not 0.3
    return repr(label)


def _show_list(labels: Sequence[Any] | np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(_show(v) for v in list(labels)[:limit])
    return shown + (", …" if len(labels) > limit else "")


def _tolerance(points: np.ndarray) -> float:
    """Absolute matching tolerance: 1e-9 of the spread of the numeric points (or of 1)."""
    if points.size == 0:
        return 0.0
    spread = float(points.max() - points.min())
    return _REL_TOL * (spread if spread > 0 else max(1.0, float(np.abs(points).max())))


def _as_numbers(raw: np.ndarray) -> np.ndarray:
    """Each entry as a float; NaN where it is not a number (a label, or missing).

    Numeric-looking strings ("3", read from a CSV) are numbers; booleans are 0/1.
    """
    if raw.dtype.kind in "biuf":
        return raw.astype(np.float64, copy=False)
    return pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _reject_infinite(numbers: np.ndarray, where: str, weight: np.ndarray | None = None) -> None:
    """The one error for infinite scores, wide or long (``weight``: scores per entry)."""
    bad = np.isinf(numbers)
    if bad.any():
        n_bad = int(bad.sum()) if weight is None else int(weight[bad].sum())
        raise CategoryError(
            f"{n_bad} score(s) in {where} are infinite; scores must be finite "
            "numbers or category labels (leave a score empty or NaN when it was not given)"
        )


class Scale:
    """The declared categories: their labels, numeric values and whether they are ordered.

    ``labels`` is a float64 array when every label is a number, else an object
    array (e.g. ``['blank', 1.0, 2.0]``); ``points`` holds the numeric value of
    each category (NaN for a label with none, e.g. ``'blank'``); ``ordered``
    says whether the order of the labels is the order of the scale (always for
    numbers, for labels when given as a sequence or an ordered Categorical).
    Immutable; accepted wherever ``categories=`` is.
    """

    __slots__ = ("labels", "points", "ordered")

    def __init__(self, labels: np.ndarray, points: np.ndarray, ordered: bool):
        self.labels = _readonly(labels)
        self.points = _readonly(np.asarray(points, dtype=np.float64))
        self.ordered = bool(ordered)

    @classmethod
    def numeric(cls, values: np.ndarray) -> "Scale":
        values = np.asarray(values, dtype=np.float64)
        return cls(values, values, True)

    @property
    def size(self) -> int:
        return int(self.labels.shape[0])

    @property
    def is_numeric(self) -> bool:
        """Every category has a numeric value."""
        return not np.isnan(self.points).any()

    @property
    def is_plain_numeric(self) -> bool:
        """The labels are the numeric values (the fast integer paths apply)."""
        return (
            self.labels.dtype == np.float64
            and np.array_equal(self.labels, self.points)
            and bool(np.all(np.diff(self.labels) > 0))
        )

    def same_as(self, other: "Scale", check_order: bool = True) -> bool:
        """Same categories and values (numbers within the tolerance), and the same ``ordered``."""
        if self.size != other.size or (check_order and self.ordered != other.ordered):
            return False
        if self.labels.dtype == np.float64 and other.labels.dtype == np.float64:
            same_labels = np.allclose(
                self.labels, other.labels, rtol=0, atol=max(_tolerance(self.labels), _tolerance(other.labels))
            )
        else:
            same_labels = list(self.labels) == list(other.labels)
        nan = np.isnan(self.points)
        return (
            same_labels
            and np.array_equal(nan, np.isnan(other.points))
            and np.allclose(self.points[~nan], other.points[~nan], rtol=1e-12, atol=0)
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scale) and self.same_as(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if self.is_plain_numeric:
            return f"Scale([{_show_list(self.labels, 50)}])"
        pairs = ", ".join(
            f"{_show(k)}: {'None' if np.isnan(v) else _show(v)}" for k, v in zip(self.labels, self.points)
        )
        return f"Scale({{{pairs}}}, ordered={self.ordered})"

    # ------------------------------------------------------------- encode
    def _number_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Numeric labels sorted, and the category code of each."""
        if self.labels.dtype == np.float64:
            order = np.argsort(self.labels, kind="stable")
            return self.labels[order], order
        numbers = _as_numbers(self.labels)
        codes = np.flatnonzero(~np.isnan(numbers))
        order = np.argsort(numbers[codes], kind="stable")
        return numbers[codes][order], codes[order]

    def encode(self, raw: np.ndarray, where: str) -> np.ndarray:
        """Category code of each (non-missing) score; every score must be on the scale.

        Numbers match a numeric label within the tolerance (so ``0.1 + 0.2`` is
        the point ``0.3``); other values match a label exactly.  Scores given as
        objects (labels, or numbers and labels) are matched once per distinct
        value, then spread back with the factorization.
        """
        if raw.dtype == object:
            inverse, uniques = _distinct(raw)
            return self._match(uniques, np.bincount(inverse, minlength=uniques.size), where)[inverse]
        return self._match(raw, None, where)

    def _match(self, raw: np.ndarray, weight: np.ndarray | None, where: str) -> np.ndarray:
        """Codes of ``raw`` (each standing for ``weight`` scores, default 1), or the error."""
        numbers = _as_numbers(raw)
        _reject_infinite(numbers, where, weight)
        is_number = ~np.isnan(numbers)
        codes = np.full(raw.shape[0], -1, dtype=np.int64)
        points, point_codes = self._number_index()
        if is_number.any() and points.size:
            x = numbers[is_number] if not is_number.all() else numbers
            right = np.minimum(np.searchsorted(points, x), points.size - 1)
            left = np.maximum(right - 1, 0)
            nearest = np.where(np.abs(points[left] - x) <= np.abs(points[right] - x), left, right)
            hit = np.abs(points[nearest] - x) <= _tolerance(points)
            codes[is_number] = np.where(hit, point_codes[nearest], -1)
        if not is_number.all() and self.labels.dtype == object:
            lookup = pd.Index(list(self.labels), dtype=object)
            codes[~is_number] = lookup.get_indexer(raw[~is_number])
        bad = codes < 0
        if bad.any():
            shown = raw[bad] if raw.dtype == object else numbers[bad]
            offenders = pd.unique(pd.Series(shown, dtype=object))
            n_bad = int(bad.sum()) if weight is None else int(weight[bad].sum())
            raise CategoryError(
                f"{n_bad} score(s) in {where} are not points of the declared scale "
                f"[{_show_list(self.labels, 50)}]: {_show_list(offenders, 10).replace(', …', ' ...')}"
                "; fix the scores or declare the full scale with `categories=`"
            )
        return codes.astype(np.int8 if self.size <= 127 else np.int32)


def _distinct(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each entry into the distinct entries of an object array, and those entries."""
    inverse, uniques = pd.factorize(raw)
    return inverse, np.asarray(uniques, dtype=object)


def _merge_close(values: np.ndarray) -> np.ndarray:
    """Distinct values, those within the tolerance of their neighbour taken as one point."""
    uniq = np.unique(values)
    if uniq.size < 2:
        return uniq
    keep = np.r_[True, np.diff(uniq) > _tolerance(uniq)]
    return uniq[keep]


def _label_sort_key(label: Any) -> tuple[str, str]:
    return (type(label).__name__, str(label))


def _normalise_labels(items: Sequence[Any]) -> tuple[list[Any], np.ndarray]:
    """Declared labels as plain Python values, and their numbers (NaN for a label)."""
    plain = [_plain(v) for v in items]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in plain):
        numbers = np.array(plain, dtype=np.float64)  # score values: no parsing needed
        if np.isnan(numbers).any():
            raise CategoryError("categories contain a missing value (None/NaN); every category needs a label")
        _reject_infinite(numbers, "`categories`")
        return numbers.tolist(), numbers
    raw = np.empty(len(items), dtype=object)
    raw[:] = plain
    numbers = _as_numbers(raw)
    _reject_infinite(numbers, "`categories`")
    if pd.isna(raw).any():
        raise CategoryError("categories contain a missing value (None/NaN); every category needs a label")
    labels = [float(n) if not np.isnan(n) else v for v, n in zip(raw, numbers)]
    return labels, numbers


def _label_array(labels: Sequence[Any], numbers: np.ndarray) -> np.ndarray:
    if not np.isnan(numbers).any():
        return numbers.astype(np.float64)
    out = np.empty(len(labels), dtype=object)
    out[:] = labels
    return out


def _check_distinct(labels: list[Any], numbers: np.ndarray) -> None:
    is_number = ~np.isnan(numbers)
    nums = np.sort(numbers[is_number])
    close = np.flatnonzero(np.diff(nums) <= _tolerance(nums)) if nums.size > 1 else np.array([], int)
    text = [v for v, n in zip(labels, is_number) if not n]
    dup_text = sorted({v for v in text if text.count(v) > 1}, key=_label_sort_key)
    if close.size or dup_text:
        dups = [float(nums[i]) for i in close] + dup_text
        raise CategoryError(f"categories contain duplicates: {_show_list(dups)}; list each category once")


def _parse_categories(categories: Any, ordered: bool | None = None) -> Scale:
    """A :class:`Scale` from what ``categories=`` accepts.

    * a sequence of numbers: the score values (sorted);
    * a sequence of labels (or of labels and numbers): the categories in the
      order of the scale;
    * a mapping label -> numeric value or None (a label without a value, e.g.
      ``{'blank': None, 1: 1, 2: 2}``): numeric weights and distances use the
      values; when every value is a number the scale is ordered by value;
    * a pandas ``CategoricalDtype``/``Categorical``: its categories (ordered if it is);
    * a :class:`Scale`.
    """
    if isinstance(categories, Scale):
        return categories
    if isinstance(categories, (pd.CategoricalDtype, pd.Categorical)):
        return _parse_categories(list(categories.categories), ordered=bool(categories.ordered))
    if isinstance(categories, (str, bytes)):
        raise CategoryError(
            f"categories must be a sequence or a mapping of categories, got the string {categories!r}; "
            f"write [{categories!r}] for a one-category scale"
        )
    if isinstance(categories, Mapping):
        labels, numbers = _normalise_labels(list(categories.keys()))
        raw_points = [_plain(v) for v in categories.values()]
        points = np.full(len(raw_points), np.nan)
        for i, (label, value) in enumerate(zip(labels, raw_points)):
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
                raise CategoryError(
                    f"categories maps {_show(label)} to {value!r}; give each label a number "
                    "(its score value) or None (a label with no numeric value)"
                )
            if not np.isfinite(value):
                raise CategoryError(f"categories maps {_show(label)} to {value!r}; score values must be finite")
            points[i] = float(value)
        if not labels:
            raise CategoryError("categories must name at least one category")
        _check_distinct(labels, numbers)
        label_arr = _label_array(labels, numbers)
        if not np.isnan(points).any():
            order = np.argsort(points, kind="stable")  # a numeric scale is ordered by value
            return Scale(label_arr[order], points[order], True)
        return Scale(label_arr, points, bool(ordered))
    if isinstance(categories, np.ndarray):
        if categories.ndim != 1:
            raise CategoryError("categories must be a non-empty 1-D sequence of score values or labels")
        items = list(categories)
    else:
        try:
            items = list(categories)
        except TypeError:
            raise CategoryError(
                f"categories must be a sequence of score values or labels, or a mapping, got {categories!r}"
            ) from None
    if not items:
        raise CategoryError("categories must be a non-empty 1-D sequence of score values or labels")
    if any(isinstance(v, (list, tuple, np.ndarray)) for v in items):
        raise CategoryError("categories must be a non-empty 1-D sequence of score values or labels")
    labels, numbers = _normalise_labels(items)
    _check_distinct(labels, numbers)
    if not np.isnan(numbers).any():
        values = np.sort(numbers)
        if ordered and not np.array_equal(values, numbers):
            raise CategoryError(
                f"the ordered categories [{_show_list(numbers, 50)}] are not in the order of their "
                "values; numeric scales are ordered by value"
            )
        return Scale.numeric(values)
    return Scale(_label_array(labels, numbers), numbers, True if ordered is None else ordered)


def _infer_scale(numbers: np.ndarray, labels: np.ndarray | None) -> Scale:
    """The scale of the values observed: numbers sorted, then labels sorted; labels unordered."""
    points = _merge_close(numbers) if numbers.size else np.empty(0)
    if labels is None or labels.size == 0:
        if points.size == 0:
            raise DataError("no ratings given and no `categories` declared: nothing to analyse")
        return Scale.numeric(points)
    distinct = sorted(pd.unique(pd.Series(labels, dtype=object)), key=_label_sort_key)
    out = np.empty(points.size + len(distinct), dtype=object)
    out[:] = [float(v) for v in points] + list(distinct)
    return Scale(out, np.r_[points, np.full(len(distinct), np.nan)], False)


def _scale_of(
    categories: Any, raw: np.ndarray | None, declared: Scale | None = None, weight: np.ndarray | None = None
) -> Scale:
    """The declared scale, else the one declared by a Categorical, else the values observed.

    ``raw`` holds the scores, or their distinct values when ``weight`` (how many
    scores each stands for) is given.
    """
    if categories is not None:
        return _parse_categories(categories)
    if declared is not None:
        return declared
    if raw is None or raw.size == 0:
        raise DataError("no ratings given and no `categories` declared: nothing to analyse")
    if raw.dtype == object and weight is None:  # labels: look at each distinct value once
        inverse, raw = _distinct(raw)
        weight = np.bincount(inverse, minlength=raw.size)
    numbers = _as_numbers(raw)
    _reject_infinite(numbers, "the ratings", weight)
    is_label = np.isnan(numbers)
    return _infer_scale(numbers[~is_label], raw[is_label] if is_label.any() else None)


def _encode_distinct(raw: np.ndarray, categories: Any, declared: Scale | None, where: str) -> tuple[np.ndarray, Scale]:
    """Codes (-1 = missing) and scale of an object array of numbers, labels and None/NaN,
    looking at each distinct value once (a hash factorization, no per-rating parsing)."""
    inverse, uniques = _distinct(raw)  # -1 where missing
    present = inverse >= 0
    weight = np.bincount(inverse[present], minlength=uniques.size)
    scale = _scale_of(categories, uniques, declared, weight)
    unique_codes = scale._match(uniques, weight, where)
    codes = np.where(present, unique_codes[np.maximum(inverse, 0)], -1)
    return codes.astype(np.int8 if scale.size <= 127 else np.int32), scale


def _sorted_codes(codes: np.ndarray, uniques: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Re-code first-seen ``codes`` (-1 = missing) so that the distinct ``uniques`` come sorted.

    The result of ``pd.factorize(values, sort=True)``, with only the distinct
    values sorted: strings by Python's ``sorted`` (type-specialised comparisons,
    linear on ids already in order; numpy's object argsort is 2-10x slower),
    anything else (numbers, mixed labels) by pandas' own ordering.
    """
    n = uniques.shape[0]
    if n < 2:
        return codes, uniques
    if uniques.dtype == object and pd.api.types.infer_dtype(uniques, skipna=False) == "string":
        as_list = uniques.tolist()
        order = np.fromiter(sorted(range(n), key=as_list.__getitem__), dtype=np.intp, count=n)
        if (order[1:] > order[:-1]).all():  # already in order (e.g. ids sorted in the file)
            return codes, uniques
        rank = np.empty(n + 1, dtype=np.intp)
        rank[order] = np.arange(n)
        uniques = uniques[order]
    else:
        rank_of_unique, uniques = pd.factorize(uniques, sort=True)
        rank = np.append(rank_of_unique, -1).astype(np.intp, copy=False)
        uniques = np.asarray(uniques)
    rank[n] = -1  # a missing id (code -1) indexes the last entry
    return rank.take(codes), uniques


def _int_id_offsets(column: pd.Series, keep: np.ndarray | None) -> tuple[np.ndarray, int, int] | None:
    """``(id - lowest id, lowest id, span)`` for integer ids spanning at most ~4x the rows, else ``None``.

    Such ids need no hash table and no sort: the offset is the code once the
    ids nobody used are taken out.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        return None
    values = column.to_numpy()
    if values.dtype.kind not in "iu" or values.dtype.itemsize > 4 + 4 * (values.dtype.kind == "i") or not values.size:
        return None
    if keep is not None:
        values = values[keep]
        if not values.size:
            return None
    low, high = int(values.min()), int(values.max())
    span = high - low + 1
    if span > 4 * values.size + 1_000_000:
        return None
    # a new array even when low is 0: the codes are made read-only, the caller's column must not be
    return np.subtract(values, low, dtype=_code_dtype(span)), low, span


def _compress_ids(offsets: np.ndarray, low: int, used: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Codes and labels of integer ids from their offsets, ``used[offset]`` saying which occur."""
    if used.all():  # ids low..high, all used: the offset is the code
        return offsets, (np.arange(used.size) + low).astype(dtype, copy=False)
    rank = np.cumsum(used, dtype=offsets.dtype)
    rank -= 1
    return rank.take(offsets), (np.flatnonzero(used) + low).astype(dtype)


def _code_ids(column: pd.Series, keep: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..m-1 of the ids in ``column`` (rows ``keep``; -1 = missing id) and the
    m distinct ids, sorted: ``pd.factorize(column.to_numpy()[keep], sort=True)``.

    Integers spanning a range not much wider than the rows are coded from
    their offsets (no hashing, no sort); a Categorical by its codes; other ids
    by one hash factorization, then only the distinct ids are sorted.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        cat_codes = column.cat.codes.to_numpy()
        if keep is not None:
            cat_codes = cat_codes[keep]
        n_cat = len(column.cat.categories)
        used = np.bincount(cat_codes[cat_codes >= 0], minlength=n_cat) > 0
        # the observed categories, ordered by value (not by the dtype's order) as before
        used_codes, labels = _sorted_codes(
            np.arange(int(used.sum()), dtype=np.intp), column.cat.categories.to_numpy()[used]
        )
        remap = np.full(n_cat + 1, -1, dtype=np.intp)
        remap[np.flatnonzero(used)] = used_codes
        return remap.take(cat_codes), labels
    dense = _int_id_offsets(column, keep)
    if dense is not None:
        offsets, low, span = dense
        used = np.zeros(span, dtype=bool)
        used[offsets] = True
        return _compress_ids(offsets, low, used, column.dtype)
    values = column.to_numpy()
    if keep is not None:
        values = values[keep]
    codes, uniques = pd.factorize(values)
    return _sorted_codes(codes, np.asarray(uniques))


def _numeric_message(statistic: str, scale: Scale) -> str:
    """Why ``statistic`` cannot run on a scale with labels, and what to do."""
    missing = [v for v, p in zip(scale.labels, scale.points) if np.isnan(p)]
    nominal = (
        "or use a nominal coefficient (percent agreement, unweighted kappas, AC1, Brennan-Prediger, nominal alpha)"
    )
    if len(missing) == scale.size:
        pairs = ", ".join(f"{_show(v)}: {i + 1}" for i, v in enumerate(missing[:2]))
        return (
            f"{statistic} cannot be computed without numeric score values; the categories are labels "
            f"({_show_list(missing, 5)}): give each its value, e.g. categories={{{pairs}, …}} "
            f"(None for a label with no value), {nominal}"
        )
    which = (
        f"the category {_show(missing[0])} has"
        if len(missing) == 1
        else f"the categories {_show_list(missing, 5)} have"
    )
    return (
        f"{statistic} cannot be computed without numeric score values; {which} none: "
        "leave their ratings out with ratings.numeric_only() "
        f"(they are then counted in `dropped`), {nominal}"
    )


_FAST_SPAN = 250  # integer scales spanning at most this many points take the fast path
_BLOCK_CELLS = 1 << 18  # cells per block when coding a wide float array (2 MiB of float64)


def _encode_wide_fast(values: np.ndarray, categories: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Units x raters code matrix (-1 = not rated) for integer-valued scores, or ``None``.

    Block by block, ``fmax`` maps NaN below the scale, a cast to ``uint8`` gives
    the shifted score and a comparison checks the cast lost nothing; on a
    contiguous scale the code is then the shifted score minus one, otherwise a
    lookup table gives it.
    ``None`` (use the general path, which also words the errors) when a score is
    not an integer, lies off the declared scale, the scale is wide or has labels.
    """
    if values.size == 0:
        return None
    low = float(np.fmin.reduce(values, axis=None))  # fmin/fmax skip NaN
    high = float(np.fmax.reduce(values, axis=None))
    if np.isnan(low) or np.isinf(low) or np.isinf(high) or low != np.floor(low) or high != np.floor(high):
        return None
    if categories is None:
        base, top = low, high
    else:
        declared = _parse_categories(categories)
        if not declared.is_plain_numeric:
            return None
        scale = declared.labels
        if np.any(scale != np.floor(scale)) or low < scale[0] or high > scale[-1]:
            return None
        base, top = float(scale[0]), float(scale[-1])
    span = int(top - base) + 1
    if span > _FAST_SPAN:
        return None
    offset = base - 1.0  # NaN -> offset -> shifted value 0
    n, r = values.shape
    small = np.empty((n, r), dtype=np.uint8)
    rows = max(1, _BLOCK_CELLS // r)
    buffer = np.empty((min(rows, n), r))
    for start in range(0, n, rows):  # row blocks keep the float temporaries in cache
        block = buffer[: min(rows, n - start)]
        np.fmax(values[start : start + rows], offset, out=block)
        block -= offset
        target = small[start : start + rows]
        np.copyto(target, block, casting="unsafe")
        if not np.array_equal(target, block):  # a fractional score
            return None
    del buffer
    if categories is None:  # the scale is the values used
        used: list[bool] | np.ndarray
        if span <= 16:  # the lowest and highest are used by definition
            used = [True] + [bool((small == v).any()) for v in range(2, span)] + [True] * (span > 1)
        else:
            used = np.bincount(small.ravel(), minlength=span + 1)[1:] > 0
        scale = base + np.flatnonzero(used).astype(np.float64)
    k = scale.size
    if k == span and k <= 127:  # contiguous scale: code = shifted value - 1
        small -= 1  # 0 (not rated) wraps to 255, i.e. int8 -1
        return small.view(np.int8), scale
    lookup = np.full(span + 1, -2, dtype=np.int8 if k <= 127 else np.int16)
    lookup[0] = -1
    lookup[(scale - offset).astype(np.int64)] = np.arange(k)
    codes = lookup.take(small)
    if k < span and (codes == -2).any():  # an integer between declared points
        return None
    return codes, scale


def _encode_wide(values: np.ndarray, categories: Any, declared: Scale | None = None) -> tuple[np.ndarray, Scale]:
    """Units x raters code matrix (-1 = not rated) and the scale, validating every score.

    ``values`` is a float array (NaN = not rated) or an object array of numbers
    and labels (None/NaN = not rated).
    """
    if values.dtype == object:
        codes, scale = _encode_distinct(values.ravel(), categories, declared, "the ratings")
        return codes.reshape(values.shape), scale
    if declared is None or categories is not None:
        fast = _encode_wide_fast(values, categories)
        if fast is not None:
            return fast[0], Scale.numeric(fast[1])
    observed = ~np.isnan(values)
    scores = values[observed]
    scale = _scale_of(categories, scores, declared)
    codes = np.full(values.shape, -1, dtype=np.int8 if scale.size <= 127 else np.int32)
    codes[observed] = scale.encode(scores, "the ratings")
    return codes, scale


def _categorical_scale(series: pd.Series) -> Scale | None:
    """The scale a Categorical column declares (``None`` for any other dtype)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return _parse_categories(series.dtype)
    return None


def _columns_scale(df: pd.DataFrame) -> Scale | None:
    """The scale declared by the Categorical columns of a wide table (the union of
    their categories; ordered when they all are and agree), else ``None``."""
    dtypes = [t for t in df.dtypes if isinstance(t, pd.CategoricalDtype)]
    if not dtypes:
        return None
    union: list[Any] = []
    seen: set = set()
    for t in dtypes:
        for c in t.categories:
            if c not in seen:
                seen.add(c)
                union.append(c)
    agree = all(t.ordered for t in dtypes) and all(list(t.categories) == list(dtypes[0].categories) for t in dtypes)
    return _parse_categories(union, ordered=agree)


def _index_scale(index: pd.Index) -> Scale:
    """The categories named by a table's index or columns: score values when
    numeric, else labels in the order given (not taken as an order)."""
    if isinstance(index.dtype, pd.CategoricalDtype):
        return _parse_categories(index.dtype)
    return _parse_categories(list(index), ordered=False)


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
    lookup = np.zeros(256, dtype=dtype)  # uint8 view: -1 (not rated) is 255 -> 0
    lookup[:k] = np.left_shift(1, bits * np.arange(k, dtype=dtype), dtype=dtype)
    as_index = codes.view(np.uint8)
    packed = np.zeros(n, dtype=dtype)
    if r <= 512:
        for column in range(r):  # a loop over raters, not over ratings
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


def _in_memory_order(patterns: np.ndarray, multiplicity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct count rows in the order :meth:`Ratings.count_patterns` gives them for long data.

    By their mixed-radix code (the last category the most significant digit)
    when the code space is small, else lexicographically, so that a bootstrap
    over merged patterns draws the same replicates as over the ratings.
    """
    coded = count_row_codes(patterns, max_bits=24)
    if coded is not None:
        order = np.argsort(coded[0], kind="stable")
    else:
        order = np.lexsort(patterns.T[::-1])
    return _readonly(patterns[order].astype(np.int64)), _readonly(multiplicity[order].astype(np.int64))


def code_row_patterns(
    rows: np.ndarray, n_categories: int, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of an integer matrix with entries -1..n_categories-1, in lexicographic order.

    Returns the distinct rows (int64) and the summed ``weights`` (default 1 per
    row) of the rows equal to each.  The order depends on the integers only
    (column 0 the most significant): a mixed-radix key when it fits in 62
    bits, else a sort of the rows.  :meth:`Ratings.unit_code_patterns` orders
    the units' (rater, category) rows so, whether they come from the ratings or
    from merged unit pattern tables, so resampling draws the same units.

    >>> rows, mult = code_row_patterns(np.array([[1, -1], [0, 1], [1, -1]]), 2)
    >>> rows.tolist(), mult.tolist()
    ([[0, 1], [1, -1]], [1, 2])
    """
    rows = np.asarray(rows)
    n, r = rows.shape
    weights = np.ones(n, dtype=np.int64) if weights is None else np.asarray(weights)
    base = int(n_categories) + 1
    if n == 0:
        return np.zeros((0, r), dtype=np.int64), np.zeros(0, dtype=np.int64)
    if r * np.log2(base) <= 62:
        radix = base ** np.arange(r - 1, -1, -1, dtype=np.int64)
        key = np.zeros(n, dtype=np.int64)
        for column in range(r):  # a loop over raters, not units
            key += (rows[:, column].astype(np.int64) + 1) * radix[column]
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        distinct = rows[first]
    else:
        distinct, inverse = np.unique(rows, axis=0, return_inverse=True)
    summed = np.bincount(inverse.ravel(), weights=weights, minlength=distinct.shape[0])
    return _readonly(distinct.astype(np.int64)), _readonly(np.rint(summed).astype(np.int64))


def _sparse_rows_of_wide(codes: np.ndarray, k: int) -> np.ndarray:
    """:func:`~irr.stats._sufficient.unit_pattern_rows` of a units x raters code matrix (-1 = not rated)."""
    n, r = codes.shape
    offsets = (np.arange(r, dtype=np.int64) * k)[None, :]
    rated = codes >= 0
    if rated.all():
        return codes.astype(np.int64) + offsets  # already ascending: rater-major entries
    missing = np.int64(r) * k  # above every entry: sorts to the end
    entry = np.where(rated, codes.astype(np.int64) + offsets, missing)
    entry.sort(axis=1)
    width = int(rated.sum(axis=1).max(initial=0))
    table = entry[:, :width]
    table[table == missing] = -1
    return table


class Ratings:
    """Integer-coded ratings: who rated which unit, and which category.

    Build one with :meth:`from_long`, :meth:`from_wide`, :meth:`from_table` or
    :meth:`from_counts`; every coefficient in :mod:`irr.stats` also accepts a
    units x raters array (NaN = missing) and converts it with :meth:`from_wide`.

    Categories are score values (``1..4``), labels (condition codes such as
    ``'blank'``, pass/fail decisions, diagnoses) or both; the ratings hold
    integer codes ``0..K-1`` either way.  ``categories=`` declares the scale:
    a sequence of numbers, a sequence of labels (their order is the order of
    the scale), a mapping label -> numeric value or None, or a pandas
    ``CategoricalDtype``; a Categorical column declares its own categories.
    Scores match numeric points within 1e-9 of the scale's spread.

    Attributes
    ----------
    categories : ndarray
        The labels of the ``K`` categories in scale order: float64 score values
        for a numeric scale (as before), an object array when some are labels.
    values : ndarray of float or None
        The numeric value of each category, ``None`` unless every category has
        one.  Weights and distances are computed from these *values*, so a score
        point nobody used still counts when the scale is declared.
    labels : list
        The categories as plain Python values (for tables and messages).
    is_ordered : bool
        Whether the order of the categories is meaningful (numeric scales,
        declared label sequences, ordered Categoricals).
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
    >>> codes = Ratings.from_wide([["blank", 1], [2, 2]], categories={"blank": None, 1: 1, 2: 2})
    >>> codes.labels, codes.values
    (['blank', 1.0, 2.0], None)
    """

    __slots__ = (
        "scale",
        "unit_labels",
        "rater_labels",
        "dropped",
        "_given_counts",
        "_long",
        "_wide",
        "__dict__",
    )

    def __init__(
        self,
        *,
        categories: Any,
        unit_labels: np.ndarray,
        rater_labels: np.ndarray | None,
        unit: np.ndarray | None = None,
        rater: np.ndarray | None = None,
        code: np.ndarray | None = None,
        counts: np.ndarray | None = None,
        wide: np.ndarray | None = None,
        dropped: dict[str, int] | None = None,
    ):
        # a Scale, or score values / labels in scale order (labels: unordered)
        if isinstance(categories, Scale):
            self.scale = categories
        else:
            arr = np.asarray(categories)
            if arr.dtype.kind in "biuf":
                self.scale = Scale.numeric(arr)
            else:
                labels, numbers = _normalise_labels(list(arr))
                self.scale = Scale(_label_array(labels, numbers), numbers, False)
        self.unit_labels = _readonly(np.asarray(unit_labels))
        self.rater_labels = None if rater_labels is None else _readonly(np.asarray(rater_labels))
        # held either as parallel (unit, rater, code) arrays or as a units x raters
        # code matrix (-1 = not rated); the other form is derived when first asked for
        self._long: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        if unit is not None:
            assert rater is not None and code is not None, "unit, rater and code are given together"
            self._long = (_readonly(unit), _readonly(rater), _readonly(code))
        self._wide = None if wide is None else _readonly(wide)
        self._given_counts = None if counts is None else _readonly(counts)
        self.dropped = dict(dropped or {})
        self._sufficient: SufficientStatistics | None = None

    # ------------------------------------------------------------------ build
    @classmethod
    def from_long(
        cls,
        df: pd.DataFrame,
        unit: str = "unit",
        rater: str = "rater",
        score: str = "score",
        categories: Any = None,
    ) -> "Ratings":
        """Ratings from a long DataFrame, one row per rating.

        Rows whose score is missing (NaN/None) are not ratings; they are counted
        in ``dropped["missing score"]``.  A rater who scored the same unit twice is
        an error (aggregate or choose a read type first).  Scores are numbers,
        labels (``'blank'``) or both; a Categorical score column declares the
        scale unless ``categories=`` is given.
        """
        for col in (unit, rater, score):
            if col not in df.columns:
                raise DataError(f"column '{col}' not found; columns are {list(df.columns)}")
        column = df[score]
        declared = _categorical_scale(column)
        where = f"column '{score}'"
        if declared is None and pd.api.types.is_numeric_dtype(column.dtype):
            if isinstance(column.dtype, np.dtype):  # numpy float/int: no NA mask, no copy for float64
                numbers = column.to_numpy(dtype=np.float64, copy=False)
            else:  # Int64/Float64: NA -> NaN
                numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
            keep = ~np.isnan(numbers)
            coded = None
        else:  # labels, numbers as text, a Categorical: each distinct value once
            all_codes, scale = _encode_distinct(column.to_numpy(dtype=object), categories, declared, where)
            keep = all_codes >= 0
            coded = all_codes[keep]
        n_missing = int(keep.size - np.count_nonzero(keep))
        dropped = {"missing score": n_missing} if n_missing else {}
        rows = keep if n_missing else None  # None: every row, no copy
        unit_ids = _int_id_offsets(df[unit], rows)
        rater_ids = _int_id_offsets(df[rater], rows) if unit_ids is not None else None
        if unit_ids is None or rater_ids is None or unit_ids[2] * rater_ids[2] > 8 * keep.size + 1_000_000:
            unit_ids = rater_ids = None
            unit_codes, unit_labels = _code_ids(df[unit], rows)
            rater_codes, rater_labels = _code_ids(df[rater], rows)
            if unit_codes.min(initial=0) < 0 or rater_codes.min(initial=0) < 0:
                raise DataError(f"missing unit or rater identifiers in columns '{unit}'/'{rater}'")
        if coded is not None:
            codes = coded
        else:
            raw = numbers[keep] if n_missing else numbers
            _reject_infinite(raw, where)
            fast = _encode_wide_fast(raw[:, None], categories)
            if fast is not None:
                codes, scale = fast[0][:, 0], Scale.numeric(fast[1])
            else:
                scale = _scale_of(categories, raw)
                codes = scale.encode(raw, where)
        if unit_ids is not None:
            return cls._from_int_ids(unit_ids, rater_ids, df[unit].dtype, df[rater].dtype, codes, scale, dropped)
        out = cls(
            categories=scale,
            unit_labels=np.asarray(unit_labels),
            rater_labels=np.asarray(rater_labels),
            unit=unit_codes.astype(_code_dtype(len(unit_labels)), copy=False),
            rater=rater_codes.astype(_code_dtype(len(rater_labels)), copy=False),
            code=codes,
            dropped=dropped,
        )
        out._check_no_duplicate_pairs()
        return out

    @classmethod
    def _from_int_ids(cls, unit_ids, rater_ids, unit_dtype, rater_dtype, codes, scale, dropped) -> "Ratings":
        """from_long for integer ids on a grid not much larger than the ratings: one scatter
        of the codes into the (unit offset x rater offset) grid checks for duplicates (the
        ratings fill as many cells as there are ratings), tells which ids occur and is
        kept as :attr:`wide_codes`."""
        (unit_off, unit_low, unit_span), (rater_off, rater_low, rater_span) = unit_ids, rater_ids
        cells = unit_off.astype(_code_dtype(unit_span * rater_span))
        cells *= rater_span
        cells += rater_off
        grid = np.full(unit_span * rater_span, -1, dtype=np.int8 if scale.size <= 127 else np.int32)
        grid[cells] = codes
        filled = (grid >= 0).reshape(unit_span, rater_span)
        n_filled = np.count_nonzero(filled)
        if n_filled == filled.size:  # complete: every id occurs
            unit_used, rater_used = np.ones(unit_span, dtype=bool), np.ones(rater_span, dtype=bool)
        elif rater_span <= 32:  # a loop over raters: numpy reduces a short inner axis slowly
            unit_used = filled[:, 0].copy()
            for column in range(1, rater_span):
                unit_used |= filled[:, column]
            rater_used = np.array([filled[:, column].any() for column in range(rater_span)])
        else:
            unit_used, rater_used = np.any(filled, axis=1), np.any(filled, axis=0)
        unit_codes, unit_labels = _compress_ids(unit_off, unit_low, unit_used, unit_dtype)
        rater_codes, rater_labels = _compress_ids(rater_off, rater_low, rater_used, rater_dtype)
        out = cls(
            categories=scale,
            unit_labels=unit_labels,
            rater_labels=rater_labels,
            unit=unit_codes,
            rater=rater_codes,
            code=codes,
            dropped=dropped,
        )
        if n_filled != codes.size:
            out._check_no_duplicate_pairs()  # names the pairs
        grid = grid.reshape(unit_span, rater_span)
        if unit_used.all() and rater_used.all():
            out.__dict__["_cells"] = cells  # the offsets are the codes
        else:
            grid = grid[unit_used][:, rater_used]
        out.__dict__["wide_codes"] = _readonly(grid)
        return out

    @classmethod
    def from_sufficient_statistics(
        cls,
        statistics: SufficientStatistics,
        categories: Any,
        rater_labels: Any,
        dropped: Mapping[str, int] | None = None,
    ) -> "Ratings":
        """Ratings held as merged tables (count patterns, rater and pair tables, ICC sums).

        What :meth:`from_dask` builds: the coefficients computed from unit count
        patterns (percent agreement, Fleiss, Gwet, Brennan-Prediger,
        Krippendorff), from the two raters' table (Cohen, Scott) and from the
        ICC sums work as on the ratings themselves, with the same results; so
        do Conger's kappa and resampling the ICC when the tables include the
        unit pattern table (``statistics.unit_patterns``).  A statistic that
        needs what the tables lack raises :class:`PerUnitDataError`.

        Parameters
        ----------
        statistics : SufficientStatistics
            The merged tables (see :mod:`irr.stats._sufficient`).
        categories : Scale or what ``categories=`` accepts
            The scale the category codes of the tables refer to.
        rater_labels : sequence
            The raters of the rows of ``statistics.rater_counts``.
        dropped : mapping, optional
            Ratings left out while building, by reason.

        Examples
        --------
        >>> from irr.stats._sufficient import unit_tables
        >>> tables = unit_tables(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]), np.array([0, 0, 0, 1]), 2, 2)
        >>> r = Ratings.from_sufficient_statistics(tables, [1, 2], ["a", "b"])
        >>> r.n_units, r.n_raters, r.n_ratings
        (2, 2, 4)
        """
        scale = _parse_categories(categories)
        k = scale.size
        if statistics.patterns.shape[1:] != (k,) or statistics.rater_counts.shape[1:] != (k,):
            raise CategoryError(f"the tables have {statistics.patterns.shape[1:]} categories but the scale has {k}")
        labels = np.asarray(rater_labels)
        if labels.shape[0] != statistics.rater_counts.shape[0]:
            raise DataError(
                f"{labels.shape[0]} rater labels for {statistics.rater_counts.shape[0]} rows of rater counts"
            )
        out = cls(categories=scale, unit_labels=np.empty(0), rater_labels=labels, dropped=dict(dropped or {}))
        out._sufficient = statistics
        return out

    @classmethod
    def from_dask(
        cls,
        ddf: Any,
        unit: str = "unit",
        rater: str = "rater",
        score: str = "score",
        categories: Any = None,
        *,
        unit_patterns: bool = False,
    ) -> "Ratings":
        """Ratings of a Dask DataFrame (one row per rating), built from tables reduced on the workers.

        Each partition gives its unit count patterns, rater x category counts,
        the two raters' table and the ICC sums; they are added on the workers
        (a tree reduction), so only those tables reach the client.  Units whose
        ratings are split across partitions are first brought together with a
        shuffle by unit (a :class:`~irr.stats.distributed.UnitsShuffledWarning`
        says so).  With ``unit_patterns=True`` the unit pattern table (the
        distinct units' (rater, category) ratings with their multiplicities,
        see :mod:`irr.stats._sufficient`) is reduced too, which Conger's kappa
        and resampling the ICC need; without it, or when that table is over its
        size limit, they raise :class:`PerUnitDataError`, as does anything that
        needs the individual ratings.

        Examples
        --------
        >>> import dask.dataframe as dd, pandas as pd
        >>> df = pd.DataFrame({"unit": [1, 1, 2, 2], "rater": list("abab"), "score": [1, 1, 2, 1]})
        >>> r = Ratings.from_dask(dd.from_pandas(df, npartitions=2))  # doctest: +SKIP
        >>> r.n_units, r.n_ratings  # doctest: +SKIP
        (2, 4)
        """
        from irr.stats.distributed import ratings_from_dask

        return ratings_from_dask(
            ddf, unit=unit, rater=rater, score=score, categories=categories, unit_patterns=unit_patterns
        )

    @classmethod
    def from_wide(cls, data: Any, categories: Any = None) -> "Ratings":
        """Ratings from a units x raters array or DataFrame (NaN/None = not rated).

        A DataFrame's index gives the unit labels and its columns the rater
        labels; a plain array gets labels ``0..n-1``.  Scores are numbers,
        labels or both; Categorical columns declare the scale (the union of
        their categories) unless ``categories=`` is given.
        """
        if isinstance(data, Ratings):
            return data
        declared = None
        if isinstance(data, pd.DataFrame):
            unit_labels = data.index.to_numpy()
            rater_labels = data.columns.to_numpy()
            declared = _columns_scale(data)
            if declared is not None:
                data = data.astype(object)
            values = data.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            if (data.notna().to_numpy() & np.isnan(values)).any():
                values = data.to_numpy(dtype=object)  # labels: coded by the general path
        else:
            try:
                values = np.asarray(data, dtype=np.float64)
            except (TypeError, ValueError):
                values = np.asarray(data, dtype=object)
            if values.ndim != 2:
                raise DataError(f"wide ratings must be 2-D (units x raters), got shape {values.shape}")
            unit_labels = np.arange(values.shape[0])
            rater_labels = np.arange(values.shape[1])
        if values.ndim != 2:
            raise DataError(f"wide ratings must be 2-D (units x raters), got shape {values.shape}")
        codes, scale = _encode_wide(values, categories, declared)
        return cls(categories=scale, unit_labels=unit_labels, rater_labels=rater_labels, wide=codes)

    @classmethod
    def from_table(cls, table: Any, categories: Any = None) -> "Ratings":
        """Ratings of two raters from their K x K contingency table.

        ``table[i, j]`` is the number of units rater 1 put in category i and
        rater 2 in category j.  ``categories`` gives the categories of the rows
        (default: a labelled DataFrame's index -- score values if numeric, else
        labels -- or ``1..K``).  A DataFrame's columns are put in the order of
        its index when they hold the same labels.
        """
        if isinstance(table, pd.DataFrame):
            if categories is None:
                categories = _index_scale(table.index)
            if (
                list(table.columns) != list(table.index)
                and sorted(map(str, table.columns)) == sorted(map(str, table.index))
                and table.columns.is_unique
            ):
                table = table[list(table.index)]
            table = table.to_numpy()
        counts = np.asarray(table, dtype=np.float64)
        if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
            raise DataError(f"a contingency table must be square, got shape {counts.shape}")
        if (counts < 0).any() or not np.allclose(counts, np.round(counts)):
            raise DataError("contingency table cells must be non-negative whole counts")
        k = counts.shape[0]
        scale = _parse_categories(categories if categories is not None else np.arange(1, k + 1))
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
    def from_counts(cls, counts: Any, categories: Any = None) -> "Ratings":
        """Ratings from a units x categories count matrix (no rater identity).

        ``counts[i, k]`` is how many raters put unit i in category k.  Rater-aware
        statistics (Cohen, Conger, ICC) raise :class:`RaterIdentityError` on these.
        ``categories`` default: a DataFrame's columns (score values if numeric,
        else labels), or ``1..K``.
        """
        if isinstance(counts, pd.DataFrame):
            if categories is None:
                categories = _index_scale(counts.columns)
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
        scale = _parse_categories(categories if categories is not None else np.arange(1, k + 1))
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
        if self._sufficient is not None:
            return self._sufficient.n_units
        return int(self.unit_labels.shape[0])

    @property
    def n_raters(self) -> int:
        """Number of distinct raters (for count input: the largest ratings per unit)."""
        if self.rater_labels is None:
            return int(self.ratings_per_unit.max(initial=0))
        return int(self.rater_labels.shape[0])

    @property
    def categories(self) -> np.ndarray:
        """The categories in scale order: float64 score values for a numeric
        scale, else an object array of labels (and numbers)."""
        return self.scale.labels

    @property
    def labels(self) -> list[Any]:
        """The categories as plain Python values (numbers as floats)."""
        return [_plain(v) for v in self.scale.labels]

    @property
    def values(self) -> np.ndarray | None:
        """Numeric value of each category (float64), ``None`` unless all have one."""
        return self.scale.points if self.scale.is_numeric else None

    @property
    def is_numeric(self) -> bool:
        """Every category has a numeric score value (weights, distances, ICC apply)."""
        return self.scale.is_numeric

    @property
    def is_ordered(self) -> bool:
        """The order of the categories is the order of the scale."""
        return self.scale.ordered

    def require_numeric(self, statistic: str) -> np.ndarray:
        """The numeric values of the categories, or :class:`NonNumericScaleError`
        naming ``statistic`` (e.g. ``"quadratic weights"``, ``"ICC"``) and the fix.

        >>> r = Ratings.from_wide([["blank", "off_topic"], ["blank", "blank"]])
        >>> r.require_numeric("quadratic weights")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        irr.errors.NonNumericScaleError: quadratic weights cannot be computed without numeric ...
        """
        if not self.scale.is_numeric:
            raise NonNumericScaleError(_numeric_message(statistic, self.scale))
        return self.scale.points

    def require_order(self, statistic: str) -> None:
        """:class:`UnorderedScaleError` unless the categories have a declared order."""
        if not self.scale.ordered:
            raise UnorderedScaleError(
                f"{statistic} needs the order of the categories, but the labels "
                f"({_show_list(self.labels, 5)}) were not given in an order: declare it with "
                "categories=[lowest, ..., highest] (or an ordered Categorical), or use a nominal coefficient"
            )

    def numeric_only(self) -> "Ratings":
        """The ratings in categories with a numeric value; the others are dropped.

        The scale keeps the numeric categories only (so weighted coefficients and
        ICC apply); how many ratings were left out is in ``dropped``, by label.

        >>> r = Ratings.from_wide([["blank", 1], [2, 2]], categories={"blank": None, 1: 1, 2: 2})
        >>> sub = r.numeric_only()
        >>> sub.labels, sub.n_ratings, sub.dropped
        ([1.0, 2.0], 3, {"category 'blank'": 1})
        """
        has_value = ~np.isnan(self.scale.points)
        if has_value.all():
            return self
        if not has_value.any():
            raise NonNumericScaleError(_numeric_message("numeric_only", self.scale))
        per_category = self.counts.sum(axis=0)
        dropped = dict(self.dropped)
        for c in np.flatnonzero(~has_value):
            if per_category[c]:
                dropped[f"category {_show(self.scale.labels[c])}"] = int(per_category[c])
        kept = np.flatnonzero(has_value)
        kept = kept[np.argsort(self.scale.points[kept], kind="stable")]  # numbers: ordered by value
        labels, points = self.scale.labels[kept], self.scale.points[kept]
        numbers = _as_numbers(labels)
        if not np.isnan(numbers).any() and np.array_equal(numbers, points):
            labels = numbers  # plain numbers again: the fast paths apply
        scale = Scale(labels, points, True)
        if not self.has_rater_identity:
            return Ratings(
                categories=scale,
                unit_labels=self.unit_labels,
                rater_labels=None,
                counts=self.counts[:, kept],
                dropped=dropped,
            )
        remap = np.full(self.n_categories, -1, dtype=np.int64)
        remap[kept] = np.arange(kept.size)
        unit, rater, code = self._long_arrays
        keep = has_value[code]
        k = int(has_value.sum())
        return Ratings(
            categories=scale,
            unit_labels=self.unit_labels,
            rater_labels=self.rater_labels,
            unit=unit[keep],
            rater=rater[keep],
            code=remap[code[keep]].astype(np.int8 if k <= 127 else np.int32),
            dropped=dropped,
        )

    @property
    def n_categories(self) -> int:
        return self.scale.size

    @property
    def n_ratings(self) -> int:
        if self._sufficient is not None:
            return self._sufficient.n_ratings
        if self._long is not None:
            return int(self._long[2].shape[0])
        return int(self.ratings_per_unit.sum())

    @property
    def has_rater_identity(self) -> bool:
        return self._long is not None or self._wide is not None or self._sufficient is not None

    @property
    def sufficient_statistics(self) -> SufficientStatistics | None:
        """The merged tables, for ratings built from them (:meth:`from_sufficient_statistics`); else ``None``."""
        return self._sufficient

    def _refuse_per_unit(self, what: str) -> None:
        if self._sufficient is not None:
            raise PerUnitDataError(
                f"{what} needs each unit's ratings, but these ratings hold merged tables only (count patterns, "
                "rater and pair tables, ICC sums; e.g. built by Ratings.from_dask): compute it in memory "
                "(Ratings.from_long) on data that fits, or use a coefficient computed from the tables"
            )

    def unit_code_patterns(self, statistic: str) -> tuple[np.ndarray, np.ndarray]:
        """Distinct units x raters code rows (-1 = not rated) of the rated units, and units with each.

        In :func:`code_row_patterns` order of the units' ascending ``rater * K + code``
        entries (padded with -1), from the ratings or from the merged unit pattern
        table (:meth:`from_dask` with ``unit_patterns=True``); the two agree exactly.  :class:`PerUnitDataError` naming ``statistic`` when merged
        tables lack the unit pattern table.
        """
        self.require_rater_identity(statistic)
        merged = self._sufficient
        if merged is not None and merged.unit_patterns is None:
            why = (
                merged.unit_patterns_refused
                or "it was not reduced (Ratings.from_dask(..., unit_patterns=True) reduces it)"
            )
            raise PerUnitDataError(
                f"{statistic} needs each unit's raters, which these merged tables hold only in the unit "
                f"pattern table, but {why}: compute it in memory (Ratings.from_long) on data that fits, "
                "or use a coefficient computed from the count tables"
            )
        return self._unit_code_patterns

    @cached_property
    def _unit_code_patterns(self) -> tuple[np.ndarray, np.ndarray]:
        # the order is that of the units' sparse rows (ascending rater * K + code entries,
        # padded with -1 to the most ratings of a unit), the rows merged tables hold
        k, r = self.n_categories, self.n_raters
        merged = self._sufficient
        if merged is None:
            if self._wide is not None or "wide_codes" in self.__dict__:
                table = _sparse_rows_of_wide(self.wide_codes, k)  # no sort of the ratings
            else:
                table = unit_pattern_rows(*self._long_arrays, k)
            if table.shape[1]:
                table = table[table[:, 0] >= 0]  # units without ratings
            weights = None
        else:
            assert merged.unit_patterns is not None and merged.unit_multiplicity is not None
            table, weights = merged.unit_patterns, merged.unit_multiplicity
        if table.shape[0] == 0 or table.shape[1] == 0:
            return _readonly(np.zeros((0, r), dtype=np.int64)), _readonly(np.zeros(0, dtype=np.int64))
        sparse, mult = code_row_patterns(table, r * k, weights)
        rows = np.full((sparse.shape[0], r), -1, dtype=np.int64)
        which, column = np.nonzero(sparse >= 0)
        entry = sparse[which, column]
        rows[which, entry // k] = entry % k
        return _readonly(rows), mult

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
        """``(unit, rater, code)``; only for ratings with rater identity (callers check)."""
        self._refuse_per_unit("per-rating data")
        if self._long is not None:
            return self._long
        wide = self._wide
        assert wide is not None, "ratings without rater identity have no per-rating arrays"
        unit_idx, rater_idx = np.nonzero(wide >= 0)
        return (
            _readonly(unit_idx.astype(_code_dtype(self.n_units))),
            _readonly(rater_idx.astype(_code_dtype(self.n_raters))),
            _readonly(wide[unit_idx, rater_idx]),
        )

    @property
    def _known_rater_labels(self) -> np.ndarray:
        """``rater_labels`` for callers that checked rater identity (only count input lacks them)."""
        assert self.rater_labels is not None, "ratings with rater identity carry rater labels"
        return self.rater_labels

    @cached_property
    def is_complete(self) -> bool:
        """Every rater rated every unit (and there is at least one rating)."""
        if not self.has_rater_identity or self.n_units == 0 or self.n_raters == 0:
            return False
        if self._sufficient is not None:
            return self.n_ratings == self.n_units * self.n_raters
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
        self._refuse_per_unit("the units x categories count matrix")
        if self._given_counts is not None:
            return self._given_counts
        k = self.n_categories
        if self._wide is not None:
            if self._packed is not None:
                return _readonly(unpack_unit_counts(*self._packed, k))
            return _readonly(
                np.stack([np.count_nonzero(self._wide == c, axis=1) for c in range(k)], axis=1)
                .astype(np.int64)
                .reshape(self.n_units, k)
            )
        unit, _, code = self._long_arrays  # neither counts nor wide: the long arrays
        flat = unit.astype(np.int64) * k + code
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
        if self._sufficient is not None:
            return _in_memory_order(self._sufficient.patterns, self._sufficient.multiplicity)
        if self._packed is not None and self._packed[1] * k <= 24:
            packed, bits = self._packed  # already a row code: no counts needed
            mult = np.bincount(packed, minlength=1)
            present = np.flatnonzero(mult)
            return _readonly(unpack_unit_counts(present, bits, k)), _readonly(mult[present].astype(np.int64))
        counts = self.counts
        coded = count_row_codes(counts, max_bits=24)  # code space <= 16M bins
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
        return _readonly(np.bincount(self._long_arrays[0], minlength=self.n_units).astype(np.int64))

    @cached_property
    def rater_counts(self) -> np.ndarray:
        """Raters x categories count matrix (how often each rater used each point)."""
        self.require_rater_identity("rater_counts")
        if self._sufficient is not None:
            return _readonly(self._sufficient.rater_counts.astype(np.int64))
        k = self.n_categories
        if self._wide is not None:
            out = np.zeros((self.n_raters, k), dtype=np.int64)
            for column in range(self.n_raters):  # a loop over raters, not ratings
                codes = self._wide[:, column]
                if codes.dtype == np.int8:  # as uint8, -1 (not rated) is 255 >= k: cut off below
                    out[column] = np.bincount(codes.view(np.uint8), minlength=k)[:k]
                else:
                    out[column] = np.bincount(codes[codes >= 0], minlength=k)
            return _readonly(out)
        _, rater, code = self._long_arrays
        flat = rater.astype(np.int64) * k + code
        return _readonly(np.bincount(flat, minlength=self.n_raters * k).reshape(self.n_raters, k))

    @cached_property
    def wide_codes(self) -> np.ndarray:
        """Units x raters matrix of category codes, ``-1`` where not rated.

        Memory is ``n_units * n_raters`` small integers; fine for the designs of
        scoring programmes (tens of raters), refused beyond 2e9 cells.
        """
        self.require_rater_identity("wide_codes")
        self._refuse_per_unit("the units x raters matrix")
        if self._wide is not None:
            return self._wide
        cells = self.n_units * self.n_raters
        if cells > 2_000_000_000:
            raise DataError(
                f"{self.n_units} units x {self.n_raters} raters is too sparse for a wide "
                "matrix; use a statistic that works from counts"
            )
        dtype = np.int8 if self.n_categories <= 127 else np.int32
        out = np.full(cells, -1, dtype=dtype)
        out[self._cells] = self._long_arrays[2]  # one flat scatter
        return _readonly(out.reshape(self.n_units, self.n_raters))

    @cached_property
    def _cells(self) -> np.ndarray:
        """Flat units x raters cell of each rating, ``unit * n_raters + rater``."""
        unit, rater, _ = self._long_arrays
        cells = unit.astype(_code_dtype(self.n_units * max(self.n_raters, 1)))
        cells *= max(self.n_raters, 1)
        cells += rater
        return cells

    def wide_scores(self) -> np.ndarray:
        """Units x raters float matrix of score values, NaN where not rated."""
        points = self.require_numeric("wide_scores")
        codes = self.wide_codes
        values = points[np.maximum(codes, 0)]
        values[codes < 0] = np.nan
        return values

    def pair_table(self, rater_a: int, rater_b: int) -> np.ndarray:
        """K x K contingency table of two raters over the units both rated."""
        if self._sufficient is not None and self._sufficient.pair_table is not None and self.n_raters == 2:
            table = self._sufficient.pair_table
            return table.copy() if (rater_a, rater_b) == (0, 1) else table.T.copy()
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
        unit, rater, code = self._long_arrays
        return pd.DataFrame(
            {
                "unit": self.unit_labels[unit],
                "rater": self._known_rater_labels[rater],
                "score": self.scale.labels[code],
            }
        )

    def to_wide(self) -> pd.DataFrame:
        """Units x raters DataFrame of scores (NaN = not rated)."""
        if self.scale.is_plain_numeric:
            scores = self.wide_scores()
        else:  # labels: an object frame, None where not rated
            codes = self.wide_codes
            # numpy stubs: y=None (a valid object scalar) is not ArrayLike, so the 1-argument overload matches
            scores = np.where(codes >= 0, self.scale.labels[np.maximum(codes, 0)], None)  # type: ignore[assignment]
        return pd.DataFrame(
            scores,
            index=pd.Index(self.unit_labels, name="unit"),
            columns=pd.Index(self.rater_labels, name="rater"),
        )

    def select_raters(self, raters: Sequence[int]) -> "Ratings":
        """The ratings of a subset of raters (by code), same scale and units."""
        self.require_rater_identity("select_raters")
        picked = np.asarray(raters, dtype=np.int64)
        labels = self._known_rater_labels[picked]
        if self._wide is not None:
            return Ratings(
                categories=self.scale,
                unit_labels=self.unit_labels,
                rater_labels=labels,
                wide=self._wide[:, picked],
            )
        remap = np.full(self.n_raters, -1, dtype=np.int64)
        remap[picked] = np.arange(picked.size)
        unit, rater, code = self._long_arrays
        new_rater = remap[rater]
        keep = new_rater >= 0
        return Ratings(
            categories=self.scale,
            unit_labels=self.unit_labels,
            rater_labels=labels,
            unit=unit[keep],
            rater=new_rater[keep].astype(np.int32),
            code=code[keep],
        )

    def _with_scale(self, scale: Scale) -> "Ratings":
        """The same ratings on an equivalent scale (e.g. one that declares the order)."""
        if self._sufficient is not None:
            return Ratings.from_sufficient_statistics(self._sufficient, scale, self.rater_labels, self.dropped)
        unit, rater, code = self._long if self._long is not None else (None, None, None)
        return Ratings(
            categories=scale,
            unit_labels=self.unit_labels,
            rater_labels=self.rater_labels,
            unit=unit,
            rater=rater,
            code=code,
            counts=self._given_counts,
            wide=self._wide,
            dropped=self.dropped,
        )

    def _check_no_duplicate_pairs(self) -> None:
        """DataError naming (unit, rater) pairs rated more than once.

        When the units x raters grid is not much larger than the ratings, the
        codes are scattered into it once: the ratings are unique exactly when
        they fill as many cells as there are ratings, and the filled grid is kept
        as :attr:`wide_codes` (what the ICC and the pair tables read).
        """
        if self._long is None:
            return
        key = self._cells
        n_raters = max(self.n_raters, 1)
        cells = self.n_units * n_raters
        if cells <= 8 * key.size + 1_000_000:
            grid = np.full(cells, -1, dtype=np.int8 if self.n_categories <= 127 else np.int32)
            grid[key] = self._long[2]
            if np.count_nonzero(grid >= 0) == key.size:
                self.__dict__["wide_codes"] = _readonly(grid.reshape(self.n_units, self.n_raters))
                return
            dup = np.flatnonzero(np.bincount(key, minlength=cells) > 1)
        else:
            uniq, counts = np.unique(key, return_counts=True)
            dup = uniq[counts > 1]
        if dup.size:
            u, r = np.divmod(dup[:5], n_raters)
            pairs = ", ".join(
                f"({_plain(self.unit_labels[a])!r}, {_plain(self._known_rater_labels[b])!r})" for a, b in zip(u, r)
            )
            raise DataError(
                f"{dup.size} (unit, rater) pair(s) have more than one rating, e.g. {pairs}; "
                "keep one rating per rater and unit (filter by read type or aggregate first)"
            )

    def __repr__(self) -> str:
        scale = _show_list(self.labels, 50)
        who = f"{self.n_raters} raters" if self.has_rater_identity else "no rater identity"
        return f"Ratings({self.n_units} units, {who}, {self.n_ratings} ratings, scale [{scale}])"


def as_ratings(data: Any, categories: Any = None) -> Ratings:
    """Accept a :class:`Ratings`, or a units x raters array/DataFrame (NaN = missing)."""
    if isinstance(data, Ratings):
        if categories is None:
            return data
        declared = _parse_categories(categories)
        if not declared.same_as(data.scale, check_order=False):
            raise CategoryError(
                f"`categories` differs from the scale the Ratings were built with "
                f"({data.scale!r}); rebuild the Ratings with the scale you want"
            )
        # the same labels given as a sequence declare their order
        return data if declared.ordered == data.scale.ordered else data._with_scale(declared)
    return Ratings.from_wide(data, categories=categories)
