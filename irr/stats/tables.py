"""`agreement_table`: one tidy row per group x coefficient.

The per-task / per-dimension / per-district tables of the reports are built
here, so every report computes its numbers the same way.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from irr.errors import DataError, IrrError
from irr.stats._ratings import Ratings, Scale
from irr.stats.registry import DEFAULT_COEFFICIENTS, CoefficientSpec, coefficient_names, parse_coefficient

# COEFFICIENTS is computed from the registry on access (module __getattr__)
__all__ = ["agreement_table", "COEFFICIENTS", "DEFAULT_COEFFICIENTS", "parse_coefficient"]  # noqa: F822


def __getattr__(name: str):
    # COEFFICIENTS: the names registered now (a registration after import is included)
    if name == "COEFFICIENTS":
        return coefficient_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _is_scale_mapping(categories: Mapping) -> bool:
    """A mapping label -> numeric value/None declares one scale; group -> scale maps groups."""
    values = list(categories.values())
    return bool(values) and all(
        v is None or (isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))) for v in values
    )


def _scale_for(categories: Any, key: tuple) -> Any:
    if categories is None or isinstance(categories, (list, tuple, np.ndarray, pd.Index, Scale, pd.CategoricalDtype)):
        return categories
    if isinstance(categories, Mapping):
        if _is_scale_mapping(categories):  # {'blank': None, 1: 1, ...}: one scale for all groups
            return categories
        lookup = key[0] if len(key) == 1 else key
        return categories.get(lookup)
    if callable(categories):
        return categories(key)
    raise DataError(
        "categories must be a sequence, a mapping label -> value, a mapping from group to "
        "scale, or a callable of the group key"
    )


def agreement_table(
    df: pd.DataFrame,
    unit: str = "unit",
    rater: str = "rater",
    score: str = "score",
    by: Sequence[str] | str | None = None,
    coefficients: Sequence[str] = DEFAULT_COEFFICIENTS,
    ci: str | None = "analytic",
    *,
    level: float = 0.95,
    categories: Any = None,
    n_resamples: int = 1000,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Agreement coefficients per group, as a tidy DataFrame.

    Parameters
    ----------
    df : DataFrame or dask.dataframe.DataFrame
        Long ratings, one row per rating.  A Dask DataFrame is reduced to
        merged tables on the workers (:mod:`irr.stats.distributed`): the same
        results, bootstrap intervals included (for the same ``random_state``).
        Conger's kappa and the ICC's jackknife SE and resampled intervals use
        the merged unit pattern table; where it is over its size limit (or,
        for the ICC, where the design is too large to resample in memory as
        well) the ``note`` says so.  ``attrs["dask"]`` records whether units
        split across partitions made a shuffle by unit necessary.
    unit, rater, score : str
        Column names.
    by : column name(s), optional
        One table row per group x coefficient (e.g. ``["task_id", "dimension"]``).
    coefficients : sequence of str
        Specs parsed by :func:`~irr.stats.parse_coefficient`, e.g. ``"fleiss_kappa"``,
        ``"gwet_ac:quadratic"``, ``"krippendorff_alpha:interval"``, ``"icc:C,1"``
        (names: :func:`~irr.stats.coefficient_names`; default
        :data:`~irr.stats.DEFAULT_COEFFICIENTS`).
    ci : {"analytic", "bootstrap", "jackknife", None}
        Interval method (``None``: no interval columns filled).
    level : float
        Confidence level.
    categories : sequence, mapping or callable, optional
        The declared scale: one for all groups (score values, labels, a mapping
        ``label -> value or None`` such as ``{"blank": None, 1: 1, 2: 2}``, a
        ``CategoricalDtype`` or a :class:`~irr.stats.Scale`), a mapping
        ``group key -> scale`` (key is the value of ``by`` for one column, else
        the tuple), or a callable of the key.  Default: a Categorical score
        column's categories, else the scores observed in each group.

    Returns
    -------
    DataFrame
        Columns: the ``by`` columns, ``coefficient``, ``estimate``,
        ``standard_error``, ``ci_low``, ``ci_high``, ``ci_method``, ``p_value``,
        ``n_units``, ``n_raters``, ``n_ratings``, ``dropped``, ``note``.  A
        coefficient that cannot be computed for a group (e.g. Cohen's kappa
        with three raters) gets NaN and the reason in ``note``; nothing is
        silently omitted.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3], "rater": list("ababab"),
    ...                    "score": [1, 1, 2, 2, 3, 2]})
    >>> agreement_table(df, coefficients=["percent_agreement"])[["coefficient", "estimate"]]
             coefficient  estimate
    0  percent_agreement  0.666667
    """
    specs = [parse_coefficient(c) for c in coefficients]
    if ci not in (None, "analytic", "bootstrap", "jackknife"):
        raise DataError(f"ci must be 'analytic', 'bootstrap', 'jackknife' or None, got {ci!r}")
    by_cols = [by] if isinstance(by, str) else list(by or [])
    facts = None
    built: Iterable[tuple[tuple, Ratings | IrrError]]
    if hasattr(df, "__dask_graph__"):  # a Dask DataFrame: tables reduced on the workers
        from irr.stats.distributed import grouped_ratings_from_dask

        names = {s.name for s in specs}
        built, facts = grouped_ratings_from_dask(
            df,
            unit,
            rater,
            score,
            by_cols,
            categories,
            scale_for=_scale_for,
            with_pair_table=bool(names & {"cohen_kappa", "scott_pi"}),
            with_icc="icc" in names,
            with_unit_patterns="conger_kappa" in names,
        )
    else:
        missing = [c for c in [unit, rater, score, *by_cols] if c not in df.columns]
        if missing:
            raise DataError(f"column(s) {missing} not found; columns are {list(df.columns)}")
        built = _groups_in_memory(df, unit, rater, score, by_cols, categories)
    rows: list[dict[str, Any]] = []
    for key, ratings in built:
        base = dict(zip(by_cols, key))
        if isinstance(ratings, IrrError):
            rows.extend({**base, "coefficient": s.label, "note": str(ratings)} for s in specs)
            continue
        for spec in specs:
            rows.append({**base, **_one_row(spec, ratings, ci, level, n_resamples, random_state)})
    table = _tidy(rows, by_cols)
    if facts is not None:
        table.attrs["dask"] = facts
    return table


def _groups_in_memory(df, unit, rater, score, by_cols, categories):
    """Each ``by`` group's key with its Ratings, or the error that kept them from being built."""
    groups = df.groupby(by_cols, sort=True, dropna=False) if by_cols else [((), df)]
    for key, sub in groups:
        key = key if isinstance(key, tuple) else (key,)
        try:
            yield (
                key,
                Ratings.from_long(sub, unit=unit, rater=rater, score=score, categories=_scale_for(categories, key)),
            )
        except IrrError as exc:
            yield key, exc


def _tidy(rows: list[dict[str, Any]], by_cols: list[str]) -> pd.DataFrame:
    columns = [
        *by_cols,
        "coefficient",
        "estimate",
        "standard_error",
        "ci_low",
        "ci_high",
        "ci_method",
        "p_value",
        "n_units",
        "n_raters",
        "n_ratings",
        "dropped",
        "note",
    ]
    out = pd.DataFrame(rows).reindex(columns=columns)
    for col in ("n_units", "n_raters", "n_ratings"):
        out[col] = out[col].astype("Int64")
    return out


def _one_row(spec: CoefficientSpec, ratings: Ratings, ci, level, n_resamples, random_state) -> dict:
    row: dict[str, Any] = {"coefficient": spec.label}
    try:
        result = spec.call(ratings)
    except IrrError as exc:
        row["note"] = str(exc)
        return row
    row.update(
        estimate=result.estimate,
        standard_error=result.standard_error,
        p_value=result.p_value,
        n_units=result.n_units,
        n_raters=result.n_raters,
        n_ratings=result.n_ratings,
        dropped="; ".join(f"{k}: {v}" for k, v in result.dropped.items()) or "",
    )
    notes = [getattr(result, "note", "")]  # e.g. why an ICC is undefined
    if ci is not None:
        try:
            kwargs = {"n_resamples": n_resamples, "random_state": random_state} if ci == "bootstrap" else {}
            interval = result.confidence_interval(level, method=ci, **kwargs)
            row.update(ci_low=interval[0], ci_high=interval[1], ci_method=getattr(interval, "method", "") or ci)
            notes.append(getattr(interval, "note", ""))
        except IrrError as exc:
            notes.append(f"no {ci} interval: {exc}")
    row["note"] = "; ".join(dict.fromkeys(n for n in notes if n))
    return row
