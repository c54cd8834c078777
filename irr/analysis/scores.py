"""Helpers on long score tables shared by the analyses: condition codes and score scales.

A score row carries a condition code (``blank``, ``off_topic``, ...) instead of a score point
when its ``condition_code`` is not empty or its ``score`` is missing.  The coefficients are
defined on the score scale, so the analyses leave coded rows out of them -- and count them,
by group and code, in a table of their own (:func:`condition_code_counts`).

Examples
--------
>>> import pandas as pd
>>> s = pd.DataFrame({"dimension": ["claim", "claim", "claim"], "score": [3, None, None],
...                   "condition_code": ["", "off_topic", "blank"]})
>>> condition_coded(s).tolist()
[False, True, True]
>>> condition_code_counts(s, ["dimension"])
  dimension condition_code  count
0     claim          blank      1
1     claim      off_topic      1
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from irr.errors import DataError

__all__ = [
    "condition_coded",
    "condition_codes",
    "numeric_scores",
    "condition_code_counts",
    "score_scales",
    "require_score_columns",
    "SCORE_COLUMNS",
]

SCORE_COLUMNS = ("rater_id", "work_id", "task_id", "dimension", "score")


def require_score_columns(scores: pd.DataFrame) -> None:
    """Raise :class:`~irr.errors.DataError` naming the columns of :data:`SCORE_COLUMNS` that are missing."""
    missing = set(SCORE_COLUMNS) - set(scores.columns)
    if missing:
        raise DataError(f"scores lack column(s) {sorted(missing)}")


def condition_coded(scores: pd.DataFrame) -> pd.Series:
    """Boolean mask of the rows that carry a condition code instead of a score.

    A row is coded when its ``condition_code`` is not empty, or when its score
    is missing (<NA>).  Scores without a ``condition_code`` column are numeric.
    """
    coded = scores["score"].isna()
    if "condition_code" in scores:
        coded |= scores["condition_code"].fillna("").astype(str) != ""
    return coded


def condition_codes(scores: pd.DataFrame) -> pd.Series:
    """The condition code of every row: ``""`` for a numeric score, ``missing`` for an uncoded <NA>."""
    codes = (
        scores["condition_code"].fillna("").astype(str)
        if "condition_code" in scores
        else pd.Series("", index=scores.index)
    )
    return codes.where(~(scores["score"].isna() & (codes == "")), "missing")


def numeric_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """The rows with a numeric score, ``score`` as int64 (what the coefficients take)."""
    rows = scores[~condition_coded(scores)]
    return rows.assign(score=rows["score"].astype("int64"))


def condition_code_counts(scores: pd.DataFrame, by: Sequence[str] | str = ()) -> pd.DataFrame:
    """Per group of ``by`` and condition code: how many scores carry that code.

    Returns the ``by`` columns, ``condition_code`` and ``count`` (no rows when nothing is coded).
    """
    by = [by] if isinstance(by, str) else list(by)
    mask = condition_coded(scores)
    coded = scores.loc[mask, by].assign(condition_code=condition_codes(scores)[mask])
    if coded.empty:
        frame = pd.DataFrame(columns=[*by, "condition_code", "count"])
        return frame.astype({"count": "int64"})
    counts = coded.groupby([*by, "condition_code"], sort=True, dropna=False).size()
    return counts.rename("count").reset_index()


def score_scales(bank, pairs: pd.DataFrame) -> dict[tuple[str, str], tuple[int, ...]]:
    """The rubric's score points of every (task_id, dimension) in ``pairs`` (from the bank)."""
    keys = pairs[["task_id", "dimension"]].drop_duplicates().itertuples(index=False)
    return {(task, dim): bank.rubric_for(task).dimension(dim).score_values for task, dim in keys}
