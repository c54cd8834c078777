"""Calibration session analysis: raters against the anchors' consensus scores.

Given the scores of a calibration session (teachers scoring anchor papers whose
consensus scores an expert panel set), :func:`calibrate` answers, per task and
dimension:

* each rater's accuracy against the consensus -- n, exact and exact+adjacent
  agreement, discrepant scores (>= 2 points apart), mean signed difference
  (leniency > 0, severity < 0) with a t interval, quadratic-weighted kappa --
  and whether they qualify under a rule profile, with every rule's outcome in
  the ``checks`` table (value, bound, passed);
* which anchor papers split the room: low agreement with the consensus or
  scores on both sides of it, ordered for discussion;
* the group's agreement per dimension (Fleiss' kappa, Gwet's AC2, Krippendorff's
  ordinal alpha, ICC(A,1), exact and adjacent agreement) with intervals, and the
  rater x consensus confusion matrix;
* rater effects at a glance: severity/leniency, central tendency (overuse of
  middle score points relative to the consensus), restriction of range (spread
  of a rater's scores relative to the consensus spread).

Condition codes (``blank``, ``off_topic``, ``illegible``, ``non_english``: a
``condition_code`` column, ``""`` for a numeric score, and ``score`` <NA>) are
counted, never dropped silently: a coded score is neither exact nor adjacent
agreement with a numeric consensus (it counts in ``n`` and against ``exact``), a
rater who gives an anchor's consensus code agrees exactly, and a paper where some
raters scored and others coded (or coded differently) is a disagreement to
discuss.  Mean differences, kappas, rater effects and the confusion matrix use
the numeric pairs only; the group agreement coefficients leave coded scores out
and count them in ``n_condition_coded`` (the coefficients are defined on the score scale;
treating codes as extra nominal categories would change what kappa measures).
Scores without a ``condition_code`` column are all numeric.

All per-rater and per-paper numbers are vectorised pandas group-bys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy.special import stdtrit as _stdtrit  # the t quantile, without importing scipy.stats

from irr.analysis.interpretation import annotate
from irr.analysis.profiles import Profile, load_profile
from irr.analysis.result import AnalysisResult, Section, TableColumns, make_meta
from irr.analysis.scores import (
    condition_code_counts,
    condition_coded,
    condition_codes,
    numeric_scores,
    require_score_columns,
)
from irr.errors import DataError, InsufficientDataError, NotFoundError
from irr.model.bank import Bank
from irr.stats import DEFAULT_COEFFICIENTS, agreement_table, agreement_weights, weighted_kappa_from_tables

__all__ = [
    "calibrate",
    "calibrate_session",
    "CalibrationResult",
    "Thresholds",
    "GROUP_COEFFICIENTS",
    "condition_coded",
    "numeric_scores",
    "PROPORTION_METRICS",
]

GROUP_COEFFICIENTS = DEFAULT_COEFFICIENTS  # the group's agreement: the package's one default list
PROPORTION_METRICS = ("exact", "exact_adjacent", "decision")  # shown as percentages; the others are counts
THRESHOLDS_SOURCE = (
    "Split papers and rater effects: irr-toolkit's default thresholds (irr.analysis.calibration.Thresholds); the rater effects "
    "(severity/leniency, central tendency, restriction of range) as described by Myford & Wolfe "
    "(2003, 2004), J Appl Meas 4:386-422 and 5:189-227"
)


@dataclass(frozen=True)
class Thresholds:
    """When a paper splits the room and when a rater effect is flagged."""

    split_exact_below: float = 0.60  # fewer than 60% of raters match the consensus
    split_each_side: float = 0.20  # >= 20% of raters above AND >= 20% below
    severity_points: float = 0.50  # |mean difference| >= 0.5 score point (Facets heuristic)
    severity_significant: float = 0.25  # or >= 0.25 with a CI excluding 0
    central_excess: float = 0.25  # middle-point share exceeds the consensus share by 25 points
    restricted_sd_ratio: float = 0.60  # rater SD below 60% of the consensus SD


_COLUMNS = {
    "raters": TableColumns(counts=("n", "exact_count", "discrepant", "condition_coded"), support="n"),
    "rater_dimensions": TableColumns(counts=("n", "exact_count", "discrepant", "condition_coded"), support="n"),
    "checks": TableColumns(counts=("count",), fixed=("rule", "limit")),
    "papers": TableColumns(
        counts=("n", "condition_coded", "n_code_mismatch"),
        support="n",
        raters=(),
        fixed=("position", "discussion_rank"),
    ),
    "distribution": TableColumns(counts=("count",), raters=(), fixed=("score",)),
    "group_agreement": TableColumns(
        counts=("n_units", "n_ratings", "n_condition_coded"), support="n_units", raters=(), count_texts=("dropped",)
    ),
    "confusion": TableColumns(counts=("count",), raters=(), fixed=("consensus", "score")),
    "effects": TableColumns(counts=("n_numeric",), support="n_numeric"),
    "codes_by_rater": TableColumns(counts=("count",)),
    "codes_by_paper": TableColumns(counts=("count",), raters=()),
    "codes_by_dimension": TableColumns(counts=("count",), raters=()),
    "condition_codes": TableColumns(records=True),
}


@dataclass(frozen=True, kw_only=True)
class CalibrationResult(AnalysisResult):
    """Result of :func:`calibrate` for one task: tidy tables of raw numbers.

    tables["raters"]            one row per rater (overall) with ``status`` PASS/FAIL and the number of
                                failed checks
    tables["rater_dimensions"]  rater x dimension accuracy
    tables["checks"]            rater x rule (x dimension): the value, the bound, whether it passed
    tables["papers"]            anchor paper x dimension: consensus, room's distribution, split flags
                                (``low_agreement``, ``both_sides``, ``code_split``), ``discussion_rank``
    tables["distribution"]      anchor paper x dimension x score point counts
    tables["group_agreement"]   dimension x coefficient with intervals, names and interpretations
    tables["confusion"]         dimension x consensus score x rater score counts (pooled over raters)
    tables["effects"]           rater severity / central tendency / restriction of range, with flags
    tables["codes_by_rater"], tables["codes_by_paper"]
                                condition-code counts per rater, per paper and dimension
    tables["condition_codes"]   one row per condition-coded score (rater, paper, dimension, code, consensus)

    ``meta`` holds the profile, the thresholds and their sources, the level, the session and files.
    """

    task_id: str
    task_title: str
    rubric_ref: str
    profile: Profile
    session_id: str | None
    dimensions: tuple[str, ...]
    dimension_names: Mapping[str, str]
    scales: Mapping[str, tuple[int, ...]]
    thresholds: Thresholds = Thresholds()

    raters = property(lambda self: self.tables["raters"])
    rater_dimensions = property(lambda self: self.tables["rater_dimensions"])
    checks = property(lambda self: self.tables["checks"])
    papers = property(lambda self: self.tables["papers"])
    distribution = property(lambda self: self.tables["distribution"])
    group_agreement = property(lambda self: self.tables["group_agreement"])
    confusion = property(lambda self: self.tables["confusion"])
    effects = property(lambda self: self.tables["effects"])
    condition_codes = property(lambda self: self.tables["condition_codes"])

    @property
    def ignored_rows(self) -> Mapping[str, int]:
        return self.dropped

    @property
    def n_raters(self) -> int:
        return int(len(self.raters))

    @property
    def n_papers(self) -> int:
        return int(self.papers["work_id"].nunique())

    @property
    def n_qualified(self) -> int:
        return int((self.raters["status"] == "PASS").sum())

    def papers_to_discuss(self) -> pd.DataFrame:
        return self.papers[self.papers["split"]].sort_values("discussion_rank")


def _t_quantile(level: float, n: pd.Series) -> np.ndarray:
    """Two-sided t quantile of ``level`` with n - 1 degrees of freedom (n >= 2)."""
    return _stdtrit(np.maximum(np.asarray(n, float) - 1, 1), 0.5 + level / 2)


def _accuracy(grouped, level: float) -> pd.DataFrame:
    out = grouped.agg(
        n=("exact", "size"),
        n_numeric=("diff", "count"),
        exact=("exact", "mean"),
        exact_adjacent=("adjacent", "mean"),
        exact_count=("exact", "sum"),
        discrepant=("discrepant", "sum"),
        mean_diff=("diff", "mean"),
        sd_diff=("diff", "std"),
    )
    # the mean difference is over numeric pairs only (a condition code has no distance)
    se = out["sd_diff"] / np.sqrt(out["n_numeric"])
    q = _t_quantile(level, out["n_numeric"])
    out["mean_diff_ci_low"] = np.where(out["n_numeric"] > 1, out["mean_diff"] - q * se, np.nan)
    out["mean_diff_ci_high"] = np.where(out["n_numeric"] > 1, out["mean_diff"] + q * se, np.nan)
    out["exact_count"] = out["exact_count"].astype(int)
    out["discrepant"] = out["discrepant"].astype(int)
    return out.drop(columns=["sd_diff", "n_numeric"])


def _with_code_counts(table: pd.DataFrame, data: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Add ``condition_coded``: the number of condition-coded scores per key."""
    counts = data[data["coded"]].groupby(keys).size().rename("condition_coded")
    out = table.merge(counts.reset_index(), on=keys, how="left")
    out["condition_coded"] = out["condition_coded"].fillna(0).astype(int)
    return out


def calibrate(
    scores: pd.DataFrame,
    bank: Bank,
    profile: str | Profile = "pace",
    *,
    task: str | None = None,
    session_id: str | None = None,
    thresholds: Thresholds = Thresholds(),
    ci: str = "analytic",
    level: float = 0.95,
    provenance: Mapping[str, Any] | None = None,
) -> CalibrationResult:
    """Analyse a calibration session against the anchor set of its task.

    Parameters
    ----------
    scores : DataFrame
        Long scores with ``rater_id, work_id, task_id, dimension, score`` (and
        optionally ``rater_district``, ``condition_code``); e.g. ``Store.scores(session=...)``.
    bank : Bank
        Gives the task's anchor papers (consensus scores) and the rubric.
    profile : str or Profile
        Qualification rules (``pace``, ``naep``, ``pact``, ``pearson`` or a YAML path).
    task : str, optional
        Needed when the scores cover several tasks.
    thresholds : Thresholds
        When a paper splits the room and when a rater effect is flagged.
    ci, level : str, float
        Interval method of the group coefficients; confidence level of every interval
        (the group coefficients' and the t intervals of the mean differences).
    provenance : mapping, optional
        ``files`` (name, sha256) and ``sessions`` the scores came from, kept in ``meta``.

    Returns
    -------
    CalibrationResult

    Examples
    --------
    >>> from irr.model import load_bank
    >>> import pandas as pd
    >>> bank = load_bank()
    >>> task = bank.task("ela-g8-argument")
    >>> rows = [(r, p.id, task.id, d, v) for r in ("T1", "T2") for p in task.anchors for d, v in p.scores.items()]
    >>> scores = pd.DataFrame(rows, columns=["rater_id", "work_id", "task_id", "dimension", "score"])
    >>> result = calibrate(scores, bank, "pace")
    >>> result.tables["raters"][["rater_id", "exact", "status"]]
      rater_id  exact status
    0       T1    1.0   PASS
    1       T2    1.0   PASS
    """
    profile = load_profile(profile, bank=bank)
    require_score_columns(scores)
    tasks = sorted(scores["task_id"].unique())
    if task is None:
        if len(tasks) != 1:
            raise DataError(f"the scores cover {len(tasks)} tasks ({', '.join(tasks)}); choose one with task=")
        task = tasks[0]
    task_obj = bank.task(task)
    rubric = bank.rubric_for(task_obj)
    if not task_obj.anchors:
        raise InsufficientDataError(f"task '{task}' has no anchor papers with consensus scores in the bank")
    # a consensus is a score point or, for an anchor the panel condition-coded, the code itself
    consensus = pd.DataFrame(
        [
            (p.id, d, "" if isinstance(v, str) else v, v if isinstance(v, str) else "")
            for p in task_obj.anchors
            for d, v in p.scores.items()
        ],
        columns=["work_id", "dimension", "consensus", "consensus_code"],
    )
    rows = scores[scores["task_id"] == task]
    ignored = {}
    merged = rows.merge(consensus, on=["work_id", "dimension"], how="left")
    not_anchor = merged["consensus_code"].isna()
    if not_anchor.any():
        ignored["not an anchor paper of the task"] = int(not_anchor.sum())
    data = merged[~not_anchor].copy()
    if data.empty:
        raise InsufficientDataError(f"no scores of task '{task}' are on its anchor papers")
    if "rater_district" not in data:
        data["rater_district"] = ""
    data["condition_code"] = condition_codes(data)
    data["coded"] = data["condition_code"] != ""
    coded_consensus = data["consensus_code"] != ""
    numeric = ~data["coded"] & ~coded_consensus
    if numeric.all():  # the common case: integer columns, exactly as without condition codes
        data["consensus"] = data["consensus"].astype(int)
        data["score"] = data["score"].astype(int)
        data["consensus_shown"] = data["consensus"]
    else:
        data["consensus"] = pd.to_numeric(data["consensus"].where(~coded_consensus), errors="coerce")
        data["score"] = pd.to_numeric(data["score"].where(~data["coded"]), errors="coerce").astype(float)
        data["consensus_shown"] = (
            data["consensus"].astype("Int64").astype(object).where(~coded_consensus, data["consensus_code"])
        )
    data["diff"] = data["score"] - data["consensus"]
    same_code = data["coded"] & (data["condition_code"] == data["consensus_code"])
    data["exact"] = (data["diff"] == 0) | same_code
    data["adjacent"] = (data["diff"].abs() <= 1) | same_code
    data["discrepant"] = data["diff"].abs() >= 2
    dims = tuple(d.id for d in rubric.dimensions if d.id in set(data["dimension"]))
    scales = {d.id: d.score_values for d in rubric.dimensions}
    pairs = data[numeric]
    if not numeric.all():
        pairs = pairs.assign(score=pairs["score"].astype(int), consensus=pairs["consensus"].astype(int))

    rater_dims = _accuracy(data.groupby(["rater_id", "dimension"], sort=True), level).reset_index()
    rater_dims = rater_dims.merge(_kappas_vs_consensus(pairs, dims, scales), on=["rater_id", "dimension"], how="left")
    raters = _accuracy(data.groupby("rater_id", sort=True), level).reset_index()
    districts = data.groupby("rater_id")["rater_district"].first()
    raters.insert(1, "rater_district", raters["rater_id"].map(districts).fillna(""))
    raters = raters.merge(_pooled_kappa(pairs, dims, scales), on="rater_id", how="left")
    raters["decision"] = raters["rater_id"].map(_decisions(pairs, rubric)).astype(float)
    checks = _checks(profile, raters, rater_dims, scales)
    failed = checks[~checks["passed"]].groupby("rater_id").size()
    raters["failed_checks"] = raters["rater_id"].map(failed).fillna(0).astype(int)
    raters["status"] = np.where(raters["failed_checks"] > 0, "FAIL", "PASS")
    effects = _effects(pairs, scales, thresholds, level)
    flags = effects.set_index("rater_id")[["severity", "central_tendency", "restricted_range"]]
    raters = raters.merge(flags.reset_index(), on="rater_id", how="left")
    raters = _with_code_counts(raters, data, ["rater_id"])
    rater_dims = _with_code_counts(rater_dims, data, ["rater_id", "dimension"])

    papers, distribution = _papers(data, task_obj, thresholds, scales)
    confusion = pairs.groupby(["dimension", "consensus", "score"]).size().rename("count").reset_index()
    coded_rows = data[data["coded"]]
    group = agreement_table(
        data[~data["coded"]].assign(score=lambda d: d["score"].astype(int)),
        unit="work_id",
        rater="rater_id",
        score="score",
        by="dimension",
        coefficients=GROUP_COEFFICIENTS,
        ci=ci,
        level=level,
        categories={d: scales[d] for d in dims},
    )
    coded_by_dim = coded_rows.groupby("dimension").size()
    group.insert(
        group.columns.get_loc("n_ratings") + 1,
        "n_condition_coded",
        group["dimension"].map(coded_by_dim).fillna(0).astype("int64"),
    )
    group = annotate(group, profile=profile, scale_points=lambda row: len(scales.get(row.dimension, ())) or None)
    condition_codes_table = coded_rows[["rater_id", "work_id", "dimension", "condition_code", "consensus_shown"]]
    condition_codes_table = condition_codes_table.rename(columns={"consensus_shown": "consensus"}).reset_index(
        drop=True
    )
    tables = {
        "raters": raters,
        "rater_dimensions": rater_dims,
        "checks": checks,
        "papers": papers,
        "distribution": distribution,
        "group_agreement": group,
        "confusion": confusion,
        "effects": effects,
        "codes_by_rater": condition_code_counts(data, ["rater_id"]),
        "codes_by_paper": condition_code_counts(data, ["work_id", "dimension"]),
        "codes_by_dimension": condition_code_counts(data, ["dimension"]),
        "condition_codes": condition_codes_table,
    }
    meta = make_meta(
        analysis="calibration",
        level=level,
        provenance=provenance,
        dropped=ignored,
        parameters={
            "task": task,
            "session": session_id,
            "profile": profile.id,
            "ci": ci,
            "thresholds": dict(thresholds.__dict__),
        },
        task={"id": task, "title": task_obj.title, "rubric": rubric.ref},
        profile={
            "id": profile.id,
            "title": profile.title,
            "source": " ".join(profile.source.split()),
            "rules": [rule.describe() for rule in profile.rules],
        },
        thresholds_source=THRESHOLDS_SOURCE,
    )
    sections = (
        Section("raters", "Raters against the anchors' consensus", ("raters", "checks", "rater_dimensions")),
        Section("papers", "Papers that split the room", ("papers", "distribution")),
        Section(
            "condition-codes",
            "Condition codes",
            ("codes_by_rater", "codes_by_paper", "codes_by_dimension", "condition_codes"),
        ),
        Section("agreement", "Group agreement by dimension", ("group_agreement", "confusion")),
        Section("effects", "Rater effects", ("effects",)),
    )
    return CalibrationResult(
        kind="calibration",
        title=f"Calibration report: {task_obj.title}",
        tables=tables,
        meta=meta,
        sections=sections,
        columns=_COLUMNS,
        task_id=task,
        task_title=task_obj.title,
        rubric_ref=rubric.ref,
        profile=profile,
        session_id=session_id,
        dimensions=dims,
        dimension_names={d.id: d.name for d in rubric.dimensions},
        scales=scales,
        thresholds=thresholds,
    )


def calibrate_session(
    store, session: str, bank: Bank, profile: str | Profile = "pace", *, task: str | None = None, **options: Any
) -> list[CalibrationResult]:
    """:func:`calibrate` every task of a stored session (or one ``task``), with its files' provenance.

    ``store`` is an open :class:`irr.store.Store`; ``options`` go to :func:`calibrate`.
    """
    scores = store.scores(session=session, bank=bank)
    if scores.empty:
        raise NotFoundError(f"session '{session}' has no scores in {store.path}")
    tasks = [task] if task else sorted(scores["task_id"].unique())
    files = store.files(session)[["name", "sha256"]].to_dict("records")
    profile = load_profile(profile, bank=bank)
    results = [
        calibrate(
            scores,
            bank,
            profile,
            task=task_id,
            session_id=session,
            provenance={"files": files, "sessions": [session]},
            **options,
        )
        for task_id in tasks
    ]
    drift = _drift_of(store, scores, bank)
    return [_with_drift(r, drift) for r in results] if drift is not None else results


def _drift_of(store, scores: pd.DataFrame, bank: Bank) -> pd.DataFrame | None:
    from irr.analysis.drift import drift_across_sessions

    return drift_across_sessions(store, bank, sorted(scores["rater_id"].astype(str).unique()))


def _with_drift(result: CalibrationResult, drift: pd.DataFrame) -> CalibrationResult:
    from dataclasses import replace

    from irr.analysis.drift import DRIFT_COLUMNS, DRIFT_SECTION

    mine = drift[drift["rater_id"].isin(result.raters["rater_id"].astype(str))].reset_index(drop=True)
    return replace(
        result,
        tables={**result.tables, "drift": mine},
        sections=(*result.sections, DRIFT_SECTION),
        columns={**result.columns, "drift": DRIFT_COLUMNS},
    )


def _consensus_tables(data: pd.DataFrame, groups: list[str], scale) -> tuple[pd.DataFrame, np.ndarray]:
    """(consensus x rater score) count tables per group, built with one bincount."""
    keys = data[groups].drop_duplicates().sort_values(groups).reset_index(drop=True)
    index = pd.MultiIndex.from_frame(keys).get_indexer(pd.MultiIndex.from_frame(data[groups]))
    position = {v: i for i, v in enumerate(scale)}
    k = len(scale)
    cons = data["consensus"].map(position).to_numpy()
    score = data["score"].map(position).to_numpy()
    flat = (index * k + cons) * k + score
    tables = np.bincount(flat, minlength=len(keys) * k * k).reshape(len(keys), k, k)
    return keys, tables


def _kappas_vs_consensus(data: pd.DataFrame, dims, scales) -> pd.DataFrame:
    """Quadratic-weighted kappa of each rater with the consensus, per dimension."""
    frames = []
    for dim in dims:
        keys, tables = _consensus_tables(data[data["dimension"] == dim], ["rater_id"], scales[dim])
        kappa, _ = weighted_kappa_from_tables(tables, agreement_weights(np.asarray(scales[dim], float), "quadratic"))
        frames.append(keys.assign(dimension=dim, kappa_quadratic=kappa))
    return pd.concat(frames, ignore_index=True)


def _pooled_kappa(data: pd.DataFrame, dims, scales) -> pd.DataFrame:
    """Kappa over all papers and dimensions when the dimensions share one scale."""
    if len({scales[d] for d in dims}) != 1:
        return pd.DataFrame({"rater_id": data["rater_id"].unique(), "kappa_quadratic": np.nan})
    scale = scales[dims[0]]
    keys, tables = _consensus_tables(data, ["rater_id"], scale)
    kappa, _ = weighted_kappa_from_tables(tables, agreement_weights(np.asarray(scale, float), "quadratic"))
    return keys.assign(kappa_quadratic=kappa)


def _decisions(data: pd.DataFrame, rubric) -> pd.Series:
    """Share of papers where the rater's pass/fail decision equals the consensus decision."""
    if rubric.achievement_cut is None:
        return pd.Series(np.nan, index=data["rater_id"].unique())
    cut = rubric.achievement_cut.min_score
    paper = data.groupby(["rater_id", "work_id"])[["score", "consensus"]].mean()
    same = (paper["score"] >= cut) == (paper["consensus"] >= cut)
    return same.groupby(level="rater_id").mean()


def _checks(profile: Profile, raters: pd.DataFrame, rater_dims: pd.DataFrame, scales) -> pd.DataFrame:
    """One row per rater, rule and (for per-dimension rules) dimension: value, bound, passed.

    Rules whose bound does not apply (a ``min_by_scale_points`` without this scale length)
    and missing values (e.g. no decision without an achievement cut) give no row.
    """
    frames = []
    first_scale = len(next(iter(scales.values())))
    for number, rule in enumerate(profile.rules, 1):
        if rule.scope == "overall":
            sub = raters[["rater_id", rule.metric]].assign(dimension="", points=first_scale)
        else:
            sub = rater_dims[["rater_id", "dimension", rule.metric]].copy()
            sub["points"] = sub["dimension"].map(lambda d: len(scales[d]))
        bounds = {p: b for p in sub["points"].unique() if (b := rule.threshold(p)) is not None}
        sub = sub[sub["points"].isin(list(bounds)) & sub[rule.metric].notna()]
        kind = sub["points"].map({p: b[0] for p, b in bounds.items()})
        limit = sub["points"].map({p: b[1] for p, b in bounds.items()}).astype(float)
        value = sub[rule.metric].astype(float)
        passed = np.where(kind == "min", value >= limit - 1e-12, value <= limit + 1e-12)
        proportion = rule.metric in PROPORTION_METRICS
        frames.append(
            pd.DataFrame(
                {
                    "rater_id": sub["rater_id"],
                    "rule": number,
                    "metric": rule.metric,
                    "scope": rule.scope,
                    "dimension": sub["dimension"],
                    # a count metric's value is a count of scores: its own column, for privacy
                    "value": value if proportion else np.nan,
                    "count": np.nan if proportion else value,
                    "bound": kind,
                    "limit": limit,
                    "passed": passed.astype(bool),
                }
            )
        )
    checks = pd.concat(frames, ignore_index=True)
    order = {r: i for i, r in enumerate(raters["rater_id"])}
    return checks.sort_values(
        ["rater_id", "rule"], key=lambda c: c.map(order) if c.name == "rater_id" else c, kind="stable"
    ).reset_index(drop=True)


def _effects(data: pd.DataFrame, scales, th: Thresholds, level: float) -> pd.DataFrame:
    lo = data["dimension"].map({d: min(s) for d, s in scales.items()})
    hi = data["dimension"].map({d: max(s) for d, s in scales.items()})
    frame = data.assign(
        rater_middle=((data["score"] > lo) & (data["score"] < hi)).astype(float),
        consensus_middle=((data["consensus"] > lo) & (data["consensus"] < hi)).astype(float),
    )
    g = frame.groupby("rater_id")
    n = g.size()
    out = pd.DataFrame(
        {
            "n_numeric": n,
            "mean_diff": g["diff"].mean(),
            "middle_share": g["rater_middle"].mean(),
            "consensus_middle_share": g["consensus_middle"].mean(),
            "sd_scores": g["score"].std(),
            "sd_consensus": g["consensus"].std(),
        }
    )
    se = g["diff"].std() / np.sqrt(n)
    q = _t_quantile(level, n)
    low, high = out["mean_diff"] - q * se, out["mean_diff"] + q * se
    out["mean_diff_ci_low"], out["mean_diff_ci_high"] = low, high
    out["sd_ratio"] = out["sd_scores"] / out["sd_consensus"]
    significant = (low > 0) | (high < 0)
    big = out["mean_diff"].abs() >= th.severity_points
    moderate = (out["mean_diff"].abs() >= th.severity_significant) & significant
    out["severity"] = np.where(big | moderate, np.where(out["mean_diff"] > 0, "lenient", "severe"), "")
    out["central_tendency"] = (out["middle_share"] - out["consensus_middle_share"]) >= th.central_excess
    out["restricted_range"] = out["sd_ratio"] < th.restricted_sd_ratio
    return out.reset_index()


def _papers(data: pd.DataFrame, task, th: Thresholds, scales):
    g = data.groupby(["work_id", "dimension"], sort=False)
    papers = g.agg(
        consensus=("consensus_shown", "first"),
        n=("exact", "size"),
        exact=("exact", "mean"),
        mean_score=("score", "mean"),
        sd_score=("score", "std"),
        above=("diff", lambda d: (d > 0).mean()),
        below=("diff", lambda d: (d < 0).mean()),
    )
    papers = papers.reset_index()
    meta = {p.id: p for p in task.anchors}
    papers["position"] = papers["work_id"].map(lambda w: meta[w].position)
    papers["role"] = papers["work_id"].map(lambda w: meta[w].role)
    papers = _with_code_counts(papers, data, ["work_id", "dimension"])
    # a code where the consensus is a score (or a score / another code where it is a code) splits the room
    off_code = data["condition_code"] != data["consensus_code"]
    mismatch = off_code.groupby([data["work_id"], data["dimension"]]).sum().rename("code_mismatch")
    papers = papers.merge(mismatch.reset_index(), on=["work_id", "dimension"], how="left")
    code_split = papers["code_mismatch"].fillna(0).to_numpy() > 0
    cons_code = papers["consensus"].map(lambda v: isinstance(v, str)).to_numpy(bool)
    code_split &= (papers["condition_coded"].to_numpy() > 0) | cons_code
    papers["n_code_mismatch"] = papers["code_mismatch"].fillna(0).astype(int)
    papers = papers.drop(columns="code_mismatch")
    papers["low_agreement"] = papers["exact"] < th.split_exact_below
    papers["both_sides"] = (papers["above"] >= th.split_each_side) & (papers["below"] >= th.split_each_side)
    papers["code_split"] = code_split
    papers["split"] = papers["low_agreement"] | papers["both_sides"] | papers["code_split"]
    order = papers.sort_values(["split", "exact", "sd_score"], ascending=[False, True, False]).index
    papers.loc[order, "discussion_rank"] = np.arange(1, len(papers) + 1)
    papers["discussion_rank"] = papers["discussion_rank"].astype(int)
    paper_order = {p.id: i for i, p in enumerate(task.anchors)}
    papers = papers.sort_values(
        ["work_id", "dimension"], key=lambda s: s.map(paper_order) if s.name == "work_id" else s
    ).reset_index(drop=True)
    scored = data[~data["coded"]]
    distribution = (
        scored.assign(score=scored["score"].astype(int))
        .groupby(["work_id", "dimension", "score"])
        .size()
        .rename("count")
        .reset_index()
    )
    return papers, distribution
