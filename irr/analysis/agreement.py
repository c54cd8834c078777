"""Agreement of any selection of scores: one row per group and coefficient (``irr agreement``).

:func:`agreement` takes long scores (``Store.scores(...)``), groups them (by task and
dimension unless told otherwise), computes the coefficients with :func:`irr.stats.agreement_table`
on each group's declared score scale, and returns an :class:`AgreementResult` whose
``agreement`` table holds the raw estimates with their names and interpretations
(:func:`irr.analysis.interpretation.annotate`).

Units are work samples within a task and dimension: a paper scored on four dimensions is four
units.  Condition-coded scores are left out of the coefficients and counted per group
(``n_condition_coded``; by code in the ``condition_codes`` table).

Examples
--------
>>> import pandas as pd
>>> scores = pd.DataFrame({"task_id": "t", "dimension": "d", "work_id": ["w1", "w1", "w2", "w2"],
...                        "rater_id": ["a", "b", "a", "b"], "score": [1, 1, 2, 3]})
>>> result = agreement(scores, coefficients=["percent_agreement"], ci=None)
>>> result.tables["agreement"][["dimension", "coefficient", "estimate", "n_units"]]
  dimension        coefficient  estimate  n_units
0         d  percent_agreement       0.5        2
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import pandas as pd

from irr.analysis.interpretation import annotate
from irr.analysis.result import AnalysisResult, Section, TableColumns, make_meta
from irr.analysis.scores import condition_code_counts, numeric_scores, require_score_columns, score_scales
from irr.errors import DataError, NotFoundError
from irr.stats import DEFAULT_COEFFICIENTS, agreement_table

__all__ = ["agreement", "AgreementResult", "DEFAULT_BY"]

DEFAULT_BY = ("task_id", "dimension")


def _columns(by: Sequence[str]) -> dict[str, TableColumns]:
    # grouping by rater makes rater ids part of the tables; districts are institutions and stay
    raters = ("rater_id",) if "rater_id" in by else ()
    return {
        "agreement": TableColumns(
            counts=("n_units", "n_ratings", "n_condition_coded"),
            support="n_units",
            raters=raters,
            drop_when_anonymized=(),
            count_texts=("dropped",),
        ),
        "condition_codes": TableColumns(counts=("count",), raters=raters, drop_when_anonymized=()),
    }


@dataclass(frozen=True)
class AgreementResult(AnalysisResult):
    """Result of :func:`agreement`: tables ``agreement`` and ``condition_codes``."""

    @property
    def by(self) -> list[str]:
        return list(self.meta["parameters"]["by"])

    @property
    def table(self) -> pd.DataFrame:
        return self.tables["agreement"]


def agreement(
    scores: pd.DataFrame,
    bank=None,
    *,
    by: Sequence[str] | str = DEFAULT_BY,
    coefficients: Sequence[str] | None = None,
    ci: str | None = "analytic",
    level: float = 0.95,
    profile=None,
    n_resamples: int = 1000,
    random_state: int | None = 0,
    provenance: Mapping[str, Any] | None = None,
    selection: Mapping[str, Any] | None = None,
) -> AgreementResult:
    """Agreement coefficients per group of a long score table.

    Parameters
    ----------
    scores : DataFrame
        Long scores with ``rater_id, work_id, task_id, dimension, score`` (optionally
        ``condition_code`` and any grouping column), e.g. ``Store.scores(session=...)``.
    bank : Bank, optional
        Gives each task and dimension's score points (the declared scale, so unused points
        count); without it the scale is the scores observed in each group.  Needed when
        grouping by both ``task_id`` and ``dimension`` is wanted on the declared scale.
    by : column name(s)
        One row per group and coefficient (default task and dimension).
    coefficients : sequence of str, optional
        Coefficient specs (:func:`irr.stats.parse_coefficient`); default
        :data:`irr.stats.DEFAULT_COEFFICIENTS`.
    ci : {"analytic", "bootstrap", "jackknife", None}
        Interval method.
    level : float
        Confidence level of every interval.
    profile : Profile, optional
        Its rater targets interpret the agreement proportions.
    provenance, selection : mapping, optional
        Where the scores came from (files with SHA-256, session ids) and the filters used to
        select them; recorded in ``meta``.

    Returns
    -------
    AgreementResult
        ``tables["agreement"]``: the ``by`` columns, ``coefficient``, ``name``, ``estimate``,
        ``standard_error``, ``ci_low``, ``ci_high``, ``ci_method``, ``p_value``, ``n_units``,
        ``n_raters``, ``n_ratings``, ``n_condition_coded``, ``dropped``, ``note``,
        ``interpretation``, ``benchmark``, ``target``, ``interpretation_source``;
        ``tables["condition_codes"]``: coded scores left out, by group and code.
    """
    if scores.empty:
        raise NotFoundError("no scores to compute agreement on")
    by_cols = [by] if isinstance(by, str) else [c for c in by if c]
    unknown = [c for c in by_cols if c not in scores.columns]
    if unknown:
        raise DataError(f"cannot group by {unknown}; columns are {', '.join(scores.columns)}")
    require_score_columns(scores)
    scales = score_scales(bank, scores) if bank is not None else {}

    def scale_of(key):
        named = dict(zip(by_cols, key))
        if "task_id" in named and "dimension" in named:
            return scales.get((named["task_id"], named["dimension"]))
        return None

    codes = condition_code_counts(scores, by_cols)
    numeric = numeric_scores(scores)
    if numeric.empty:
        raise NotFoundError(
            f"every score of that selection is condition-coded ({int(codes['count'].sum())} "
            "scores); there is nothing to compute agreement on"
        )
    # a rater's read of one paper on one dimension is one rating: units are task|dimension|work
    numeric = numeric.assign(
        unit=numeric["task_id"].astype(str)
        + "|"
        + numeric["dimension"].astype(str)
        + "|"
        + numeric["work_id"].astype(str)
    )
    chosen = list(coefficients) if coefficients else list(DEFAULT_COEFFICIENTS)
    table = agreement_table(
        numeric,
        unit="unit",
        rater="rater_id",
        score="score",
        by=by_cols,
        coefficients=chosen,
        ci=ci,
        level=level,
        categories=scale_of,
        n_resamples=n_resamples,
        random_state=random_state,
    )
    coded = codes.groupby(by_cols, dropna=False)["count"].sum() if by_cols and not codes.empty else None
    if coded is None:
        n_coded = pd.Series(int(codes["count"].sum()) if not by_cols else 0, index=table.index)
    else:
        keys = pd.MultiIndex.from_frame(table[by_cols]) if len(by_cols) > 1 else table[by_cols[0]]
        n_coded = pd.Series(coded.reindex(keys).fillna(0).to_numpy(), index=table.index)
    table.insert(table.columns.get_loc("n_ratings") + 1, "n_condition_coded", n_coded.astype("int64"))
    points = None
    if "task_id" in by_cols and "dimension" in by_cols:

        def points(row):
            scale = scales.get((row.task_id, row.dimension))
            return len(scale) if scale else None

    table = annotate(table, profile=profile, scale_points=points)
    meta = make_meta(
        analysis="agreement",
        level=level,
        provenance=provenance,
        parameters={
            "by": by_cols,
            "coefficients": chosen,
            "ci": ci,
            "n_resamples": n_resamples,
            "random_state": random_state,
            "profile": getattr(profile, "id", None),
            "selection": dict(selection or {}),
        },
        dropped=(
            {"condition-coded score (left out of the coefficients)": int(codes["count"].sum())}
            if not codes.empty
            else {}
        ),
        n_scores=int(len(scores)),
    )
    sections = (
        Section("agreement", "Agreement by group", ("agreement",)),
        Section("condition-codes", "Condition codes", ("condition_codes",)),
    )
    return AgreementResult(
        kind="agreement",
        title="Agreement",
        tables={"agreement": table, "condition_codes": codes},
        meta=meta,
        sections=sections,
        columns=_columns(by_cols),
    )
