"""Agreement statistics of a Dask DataFrame: tables per partition, reduced on the workers.

Two passes over the partitions, each a tree reduction of small tables
(``dask.delayed``, fan-in 8), so the client receives only reduced tables:

1. per group: the distinct scores with their counts, the distinct raters, the
   missing scores (gives each group's scale and rater codes) and, when the ICC
   is asked for, the rated units per partition (the design size: exact unless
   units are split across partitions, then bounded by ratings / raters);
2. per group: :class:`~irr.stats._sufficient.SufficientStatistics`, merged by
   addition:

   * unit count patterns with their multiplicities, rater x category counts;
   * the two raters' K x K table (Cohen's kappa, Scott's pi);
   * the ICC sums (co-rating and rater x category tables per ratings per unit);
   * the *unit pattern table* (each distinct unit's (rater, category)
     ratings, with how many units have it), only for a coefficient that needs
     each unit's raters: Conger's kappa (its linearized and null SEs and its
     resampling) and resampling the ICC (jackknife SE, bootstrap and jackknife
     intervals), the latter only when the design sizes of pass 1 allow the
     in-memory path to resample (:func:`irr.stats.icc.may_resample`, checked
     again on the client with the merged unit count; a large sparse design gets
     no table and, as in memory, no jackknife SE).  The table
     is dropped once over :data:`~irr.stats._sufficient.MAX_UNIT_PATTERN_CELLS`
     entries, and the coefficients that need it then raise
     :class:`~irr.stats._ratings.PerUnitDataError` instead of collecting ratings.

Every coefficient is then computed from these tables with the same results
as in memory (to round-off); resampling draws over the distinct patterns in an
order given by their integer codes, identical on both paths, so bootstrap
intervals agree too for the same ``random_state``.

A unit's ratings must be in one partition for pass 2.  When the partitions'
unit ranges (pass 1) overlap, a shuffle of the ``by`` x ``unit`` keys alone
checks whether some unit is in more than one partition; if one is, the frame is first
shuffled by that key, and a :class:`UnitsShuffledWarning` says so.  Dask is
imported only here, inside the functions.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from irr.errors import DataError, IrrError
from irr.stats import _sufficient
from irr.stats._ratings import Ratings, Scale, _categorical_scale, _scale_of
from irr.stats._sufficient import SufficientStatistics, check_no_duplicates, unit_tables

__all__ = ["UnitsShuffledWarning", "is_dask_collection", "ratings_from_dask", "grouped_ratings_from_dask"]

_FAN_IN = 8


class UnitsShuffledWarning(UserWarning):
    """Some unit's ratings were in several partitions: the frame was shuffled by unit first."""


def is_dask_collection(obj: Any) -> bool:
    """A Dask collection (checked without importing dask)."""
    return hasattr(obj, "__dask_graph__") and hasattr(obj, "npartitions")


def _groups(pdf: pd.DataFrame, by_cols: list[str]):
    if not by_cols:
        yield (), pdf
        return
    for key, sub in pdf.groupby(by_cols, sort=False, dropna=False, observed=True):
        # a missing key as None: NaN is not equal to itself, and each process unpickles its own NaN, so
        # the partitions' NaN groups would not merge
        yield tuple(None if pd.isna(v) else v for v in (key if isinstance(key, tuple) else (key,))), sub


def _shown(key: tuple) -> tuple:
    """A group key as the in-memory table shows it (a missing value as NaN)."""
    return tuple(np.nan if v is None else v for v in key)


def _score_values(column: pd.Series) -> np.ndarray:
    if isinstance(column.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(column.dtype):
        return column.to_numpy(dtype=object)
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def _inventory(
    pdf: pd.DataFrame, unit: str, rater: str, score: str, by_cols: list[str], count_units: bool = False
) -> dict:
    """Pass 1 of one partition: per group, score counts, raters, missing scores (and rated units)."""
    out: dict = {}
    for key, sub in _groups(pdf, by_cols):
        scored = sub[sub[score].notna()]
        out[key] = {
            "scores": scored[score].astype(object).value_counts(),
            "raters": pd.Index(scored[rater].dropna().unique()),
            "missing": int(len(sub) - len(scored)),
            "missing_ids": int((scored[unit].isna() | scored[rater].isna()).sum()),
            "units": int(scored[unit].nunique()) if count_units else 0,
        }
    keys = pdf[[*by_cols, unit]]
    n_keys = int(len(keys.drop_duplicates())) if len(keys) else 0
    return {"groups": out, "n_unit_keys": n_keys, "unit_ranges": [_unit_range(pdf[unit])]}


def _unit_range(units: pd.Series) -> tuple | None:
    """The partition's smallest and largest unit id: () when it is empty, None when some id is
    missing or the ids are not comparable."""
    if not len(units):
        return ()
    if units.isna().any():
        return None
    try:
        low, high = units.min(), units.max()
        return (low, high) if low <= high else None
    except TypeError:  # ids of mixed types
        return None


def _ranges_disjoint(ranges: list) -> bool:
    """Whether the partitions' unit ranges overlap nowhere: then no unit is in two partitions (data
    written sorted by unit, one range of units per file), and the key shuffle that would check it
    is not needed."""
    if any(r is None for r in ranges):
        return False
    try:
        ordered = sorted((r for r in ranges if r), key=lambda r: r[0])
        return all(prev[1] < nxt[0] for prev, nxt in zip(ordered, ordered[1:]))
    except TypeError:  # partitions' ids of different types
        return False


def _merge_inventory(a: dict, b: dict) -> dict:
    groups = dict(a["groups"])
    for key, value in b["groups"].items():
        if key in groups:
            old = groups[key]
            groups[key] = {
                "scores": old["scores"].add(value["scores"], fill_value=0),
                "raters": old["raters"].append(value["raters"]).unique(),
                "missing": old["missing"] + value["missing"],
                "missing_ids": old["missing_ids"] + value["missing_ids"],
                "units": old["units"] + value["units"],
            }
        else:
            groups[key] = value
    return {
        "groups": groups,
        "n_unit_keys": a["n_unit_keys"] + b["n_unit_keys"],
        "unit_ranges": a["unit_ranges"] + b["unit_ranges"],
    }


def _tables(pdf, unit, rater, score, by_cols, plans, with_pair_table, with_icc) -> dict:
    """Pass 2 of one partition: the SufficientStatistics of each group."""
    out: dict = {}
    for key, sub in _groups(pdf, by_cols):
        plan = plans.get(key)
        if plan is None:
            continue
        scale, rater_index, pattern_limit = plan
        sub = sub[sub[score].notna()]
        if not len(sub):
            continue
        codes = scale.encode(_score_values(sub[score]), f"column '{score}'")
        unit_codes, _ = pd.factorize(sub[unit])
        rater_codes = rater_index.get_indexer(sub[rater])
        out[key] = unit_tables(
            unit_codes,
            rater_codes,
            codes,
            len(rater_index),
            scale.size,
            with_pair_table=with_pair_table,
            with_icc=with_icc and scale.is_numeric,
            unit_pattern_limit=pattern_limit,
        )
    return out


def _merge_tables(a: dict, b: dict) -> dict:
    out = dict(a)
    for key, value in b.items():
        out[key] = out[key].merge(value) if key in out else value
    return out


def _tree_reduce(parts: list, combine):
    """Pairwise-by-``_FAN_IN`` reduction of delayed parts (stays on the workers)."""
    import dask

    def combine_many(*items):
        result = items[0]
        for item in items[1:]:
            result = combine(result, item)
        return result

    while len(parts) > 1:
        parts = [dask.delayed(combine_many)(*parts[i : i + _FAN_IN]) for i in range(0, len(parts), _FAN_IN)]
    return parts[0]


def _shuffle_method() -> str | None:
    """``"tasks"`` under a local scheduler (p2p needs distributed workers), else Dask's choice."""
    import dask

    local = dask.config.get("scheduler", None) in ("threads", "threading", "sync", "synchronous", "processes")
    return "tasks" if local else None


def _units_split(ddf, unit: str, by_cols: list[str], n_keys_in_partitions: int) -> bool:
    """Whether some (by, unit) key occurs in more than one partition (a hash shuffle of the keys only)."""
    if ddf.npartitions == 1:
        return False
    distinct = ddf[[*by_cols, unit]].drop_duplicates(split_out=ddf.npartitions, shuffle_method=_shuffle_method())
    return int(distinct.shape[0].compute()) < n_keys_in_partitions


def _pattern_limit(info: dict, k: int, split: bool, scale: Scale, with_icc: bool, with_unit_patterns: bool) -> int:
    """The size limit of a group's unit pattern table, 0 when no coefficient asked for needs it.

    For the ICC alone: only when some number of units consistent with pass 1
    (exactly the units counted, unless units were split across partitions)
    gives a design that the in-memory ICC resamples.
    """
    wanted = with_unit_patterns
    if not wanted and with_icc and scale.is_numeric:
        from irr.stats.icc import may_resample_design

        n_ratings = int(info["scores"].sum())
        n_high = int(info["units"])
        n_low = -(-n_ratings // max(k, 1)) if split else n_high
        wanted = may_resample_design(n_low, n_high, n_ratings, k)
    return int(_sufficient.MAX_UNIT_PATTERN_CELLS) if wanted else 0


def grouped_ratings_from_dask(
    ddf,
    unit: str = "unit",
    rater: str = "rater",
    score: str = "score",
    by: Sequence[str] | str | None = None,
    categories: Any = None,
    scale_for=None,
    with_pair_table: bool = True,
    with_icc: bool = True,
    with_unit_patterns: bool = False,
    resample_icc: bool = True,
) -> tuple[list[tuple[tuple, Ratings | IrrError]], dict]:
    """The :class:`Ratings` of each ``by`` group of a Dask DataFrame, from reduced tables.

    ``with_unit_patterns`` reduces the unit pattern table of every group
    (Conger's kappa); ``with_icc`` reduces the ICC sums and, with
    ``resample_icc``, for groups whose design sizes allow the ICC to be
    resampled, the unit pattern table too.

    Returns the groups in sorted key order, each with its Ratings (or the
    error that kept it from being built), and facts about the computation
    (``{"npartitions": ..., "units_split": bool, "shuffled": bool}``).
    """
    import dask

    by_cols = [by] if isinstance(by, str) else list(by or [])
    missing = [c for c in [unit, rater, score, *by_cols] if c not in ddf.columns]
    if missing:
        raise DataError(f"column(s) {missing} not found; columns are {list(ddf.columns)}")
    declared = _categorical_scale(ddf._meta[score])
    parts = [
        dask.delayed(_inventory)(p, unit, rater, score, by_cols, with_icc and resample_icc)
        for p in ddf[[*by_cols, unit, rater, score]].to_delayed()
    ]
    inventory = dask.compute(_tree_reduce(parts, _merge_inventory))[0]
    facts = {"npartitions": int(ddf.npartitions), "units_split": False, "shuffled": False}
    split = not _ranges_disjoint(inventory["unit_ranges"]) and _units_split(
        ddf, unit, by_cols, inventory["n_unit_keys"]
    )
    if split:
        facts.update(units_split=True, shuffled=True)
        warnings.warn(
            f"some units' ratings were in more than one of the {ddf.npartitions} partitions: the frame was "
            f"shuffled by {[*by_cols, unit]} before the tables were computed (partition by unit to avoid it)",
            UnitsShuffledWarning,
            stacklevel=3,
        )
        ddf = ddf.shuffle(on=[*by_cols, unit], shuffle_method=_shuffle_method())
    plans: dict = {}
    results: dict = {}
    where = f"column '{score}'"
    for key in sorted(inventory["groups"], key=lambda k: tuple((pd.isna(v), v) for v in k)):
        info = inventory["groups"][key]
        try:
            if info["missing_ids"]:
                raise DataError(f"missing unit or rater identifiers in columns '{unit}'/'{rater}'")
            distinct = np.asarray(info["scores"].index, dtype=object)
            weight = info["scores"].to_numpy(dtype=np.int64)
            wanted = scale_for(categories, _shown(key)) if scale_for is not None else categories
            raw = (
                distinct if distinct.size == 0 or any(isinstance(v, str) for v in distinct) else distinct.astype(float)
            )
            scale: Scale = _scale_of(wanted, raw, declared, weight)
            scale._match(distinct, weight, where)  # every score on the scale, or the error
            rater_index = pd.Index(info["raters"]).sort_values()
            plans[key] = (
                scale,
                rater_index,
                _pattern_limit(info, len(rater_index), split, scale, with_icc and resample_icc, with_unit_patterns),
            )
            results[key] = {"missing score": info["missing"]} if info["missing"] else {}
        except IrrError as exc:
            results[key] = exc
    parts = [
        dask.delayed(_tables)(p, unit, rater, score, by_cols, plans, with_pair_table, with_icc)
        for p in ddf[[*by_cols, unit, rater, score]].to_delayed()
    ]
    tables = dask.compute(_tree_reduce(parts, _merge_tables))[0] if plans else {}
    out: list[tuple[tuple, Ratings | IrrError]] = []
    for key, value in results.items():
        if isinstance(value, IrrError):
            out.append((_shown(key), value))
            continue
        scale, rater_index, _ = plans[key]
        merged: SufficientStatistics | None = tables.get(key)
        try:
            if merged is None:
                raise DataError("no ratings given and no `categories` declared: nothing to analyse")
            check_no_duplicates(merged)
            out.append((_shown(key), Ratings.from_sufficient_statistics(merged, scale, rater_index.to_numpy(), value)))
        except IrrError as exc:
            out.append((_shown(key), exc))
    return out, facts


def ratings_from_dask(
    ddf, unit: str = "unit", rater: str = "rater", score: str = "score", categories=None, unit_patterns: bool = False
) -> Ratings:
    """:meth:`Ratings.from_dask`: one :class:`Ratings` of the whole frame."""
    groups, _ = grouped_ratings_from_dask(
        ddf, unit, rater, score, None, categories, with_unit_patterns=unit_patterns, resample_icc=False
    )
    (_, ratings), *_ = groups
    if isinstance(ratings, IrrError):
        raise ratings
    return ratings
