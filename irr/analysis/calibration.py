"""Calibration session analysis: raters against the anchors' consensus scores.

Given the scores of a calibration session (teachers scoring anchor papers whose
consensus scores an expert panel set), :func:`calibrate` answers, per task and
dimension:

* each rater's accuracy against the consensus -- n, exact and exact+adjacent
  agreement, discrepant scores (>= 2 points apart), mean signed difference
  (leniency > 0, severity < 0) with a t interval, quadratic-weighted kappa --
  and whether they qualify under a rule profile, with the reason for every fail;
* which anchor papers split the room: low agreement with the consensus or
  scores on both sides of it, ordered for discussion;
* the group's agreement per dimension (Fleiss' kappa, Gwet's AC2, Krippendorff's
  ordinal alpha, ICC(A,1), exact and adjacent agreement) with intervals, and the
  rater x consensus confusion matrix;
* rater effects at a glance: severity/leniency, central tendency (overuse of
  middle score points relative to the consensus), restriction of range (spread
  of a rater's scores relative to the consensus spread).

All per-rater and per-paper numbers are vectorised pandas group-bys.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import stats as _sps

from irr.analysis.profiles import Profile, load_profile
from irr.errors import DataError, InsufficientDataError
from irr.model.bank import Bank
from irr.stats import agreement_table, agreement_weights
from irr.stats.chance_corrected import weighted_kappa_tables

__all__ = ["calibrate", "CalibrationResult", "Thresholds", "GROUP_COEFFICIENTS"]

GROUP_COEFFICIENTS = ("percent_agreement", "adjacent_agreement", "fleiss_kappa", "gwet_ac:quadratic",
                      "krippendorff_alpha:ordinal", "icc:A,1")


@dataclass(frozen=True)
class Thresholds:
    """When a paper splits the room and when a rater effect is flagged."""

    split_exact_below: float = 0.60          # fewer than 60% of raters match the consensus
    split_each_side: float = 0.20            # >= 20% of raters above AND >= 20% below
    severity_points: float = 0.50            # |mean difference| >= 0.5 score point (Facets heuristic)
    severity_significant: float = 0.25       # or >= 0.25 with a CI excluding 0
    central_excess: float = 0.25             # middle-point share exceeds the consensus share by 25 points
    restricted_sd_ratio: float = 0.60        # rater SD below 60% of the consensus SD


@dataclass(frozen=True)
class CalibrationResult:
    """Tidy tables of one calibration analysis (all are pandas DataFrames).

    raters            one row per rater (overall), with ``status`` PASS/FAIL and ``reasons``
    rater_dimensions  rater x dimension accuracy
    papers            anchor paper x dimension: consensus, room's distribution, split flag,
                      ``discussion_rank`` (1 = discuss first)
    distribution      anchor paper x dimension x score point counts
    group_agreement   dimension x coefficient with intervals (see :func:`irr.stats.agreement_table`)
    confusion         dimension x consensus score x rater score counts (pooled over raters)
    effects           rater severity / central tendency / restriction of range
    """

    task_id: str
    task_title: str
    rubric_ref: str
    profile: Profile
    session_id: str | None
    raters: pd.DataFrame
    rater_dimensions: pd.DataFrame
    papers: pd.DataFrame
    distribution: pd.DataFrame
    group_agreement: pd.DataFrame
    confusion: pd.DataFrame
    effects: pd.DataFrame
    dimensions: tuple[str, ...]
    dimension_names: Mapping[str, str]
    scales: Mapping[str, tuple[int, ...]]
    ignored_rows: Mapping[str, int] = field(default_factory=dict)
    level: float = 0.95

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

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"raters": self.raters, "rater_dimensions": self.rater_dimensions, "papers": self.papers,
                "distribution": self.distribution, "group_agreement": self.group_agreement,
                "confusion": self.confusion, "effects": self.effects}


def _accuracy(grouped) -> pd.DataFrame:
    out = grouped.agg(
        n=("diff", "size"),
        exact=("exact", "mean"),
        exact_adjacent=("adjacent", "mean"),
        exact_count=("exact", "sum"),
        discrepant=("discrepant", "sum"),
        mean_diff=("diff", "mean"),
        sd_diff=("diff", "std"),
    )
    se = out["sd_diff"] / np.sqrt(out["n"])
    q = _sps.t.ppf(0.975, np.maximum(out["n"] - 1, 1))
    out["mean_diff_ci_low"] = np.where(out["n"] > 1, out["mean_diff"] - q * se, np.nan)
    out["mean_diff_ci_high"] = np.where(out["n"] > 1, out["mean_diff"] + q * se, np.nan)
    out["exact_count"] = out["exact_count"].astype(int)
    out["discrepant"] = out["discrepant"].astype(int)
    return out.drop(columns="sd_diff")


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
) -> CalibrationResult:
    """Analyse a calibration session against the anchor set of its task.

    Parameters
    ----------
    scores : DataFrame
        Long scores with ``rater_id, work_id, task_id, dimension, score`` (and
        optionally ``rater_district``); e.g. ``Store.scores(session=...)``.
    bank : Bank
        Gives the task's anchor papers (consensus scores) and the rubric.
    profile : str or Profile
        Qualification rules (``pace``, ``naep``, ``pact``, ``pearson`` or a YAML path).
    task : str, optional
        Needed when the scores cover several tasks.

    Returns
    -------
    CalibrationResult
    """
    profile = load_profile(profile)
    required = {"rater_id", "work_id", "task_id", "dimension", "score"}
    missing = required - set(scores.columns)
    if missing:
        raise DataError(f"scores lack column(s) {sorted(missing)}")
    tasks = sorted(scores["task_id"].unique())
    if task is None:
        if len(tasks) != 1:
            raise DataError(f"the scores cover {len(tasks)} tasks ({', '.join(tasks)}); choose one with task=")
        task = tasks[0]
    task_obj = bank.task(task)
    rubric = bank.rubric_for(task_obj)
    if not task_obj.anchors:
        raise InsufficientDataError(f"task '{task}' has no anchor papers with consensus scores in the bank")
    consensus = pd.DataFrame([(p.id, d, s) for p in task_obj.anchors for d, s in p.scores.items()],
                             columns=["work_id", "dimension", "consensus"])
    rows = scores[scores["task_id"] == task]
    ignored = {}
    merged = rows.merge(consensus, on=["work_id", "dimension"], how="left")
    not_anchor = merged["consensus"].isna()
    if not_anchor.any():
        ignored["not an anchor paper of the task"] = int(not_anchor.sum())
    data = merged[~not_anchor].copy()
    if data.empty:
        raise InsufficientDataError(f"no scores of task '{task}' are on its anchor papers")
    if "rater_district" not in data:
        data["rater_district"] = ""
    data["consensus"] = data["consensus"].astype(int)
    data["score"] = data["score"].astype(int)
    data["diff"] = data["score"] - data["consensus"]
    data["exact"] = data["diff"] == 0
    data["adjacent"] = data["diff"].abs() <= 1
    data["discrepant"] = data["diff"].abs() >= 2
    dims = tuple(d.id for d in rubric.dimensions if d.id in set(data["dimension"]))
    scales = {d.id: d.score_values for d in rubric.dimensions}

    rater_dims = _accuracy(data.groupby(["rater_id", "dimension"], sort=True)).reset_index()
    rater_dims = rater_dims.merge(_kappas_vs_consensus(data, dims, scales), on=["rater_id", "dimension"], how="left")
    raters = _accuracy(data.groupby("rater_id", sort=True)).reset_index()
    districts = data.groupby("rater_id")["rater_district"].first()
    raters.insert(1, "rater_district", raters["rater_id"].map(districts).fillna(""))
    raters = raters.merge(_pooled_kappa(data, dims, scales), on="rater_id", how="left")
    raters["decision"] = raters["rater_id"].map(_decisions(data, rubric)).astype(float)
    effects = _effects(data, scales, thresholds)
    status, reasons = _qualify(profile, raters, rater_dims, scales)
    raters["status"] = raters["rater_id"].map(status)
    raters["reasons"] = raters["rater_id"].map(reasons)
    raters = raters.merge(effects[["rater_id", "effects"]], on="rater_id", how="left")

    papers, distribution = _papers(data, task_obj, thresholds, scales)
    confusion = (data.groupby(["dimension", "consensus", "score"]).size().rename("count").reset_index())
    group = agreement_table(data, unit="work_id", rater="rater_id", score="score", by="dimension",
                            coefficients=GROUP_COEFFICIENTS, ci=ci, level=level,
                            categories={d: scales[d] for d in dims})
    return CalibrationResult(
        task_id=task, task_title=task_obj.title, rubric_ref=rubric.ref, profile=profile, session_id=session_id,
        raters=raters, rater_dimensions=rater_dims, papers=papers, distribution=distribution,
        group_agreement=group, confusion=confusion, effects=effects, dimensions=dims,
        dimension_names={d.id: d.name for d in rubric.dimensions}, scales=scales,
        ignored_rows=ignored, level=level,
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
        kappa, _ = weighted_kappa_tables(tables, agreement_weights(np.asarray(scales[dim], float), "quadratic"))
        frames.append(keys.assign(dimension=dim, kappa_quadratic=kappa))
    return pd.concat(frames, ignore_index=True)


def _pooled_kappa(data: pd.DataFrame, dims, scales) -> pd.DataFrame:
    """Kappa over all papers and dimensions when the dimensions share one scale."""
    if len({scales[d] for d in dims}) != 1:
        return pd.DataFrame({"rater_id": data["rater_id"].unique(), "kappa_quadratic": np.nan})
    scale = scales[dims[0]]
    keys, tables = _consensus_tables(data, ["rater_id"], scale)
    kappa, _ = weighted_kappa_tables(tables, agreement_weights(np.asarray(scale, float), "quadratic"))
    return keys.assign(kappa_quadratic=kappa)


def _decisions(data: pd.DataFrame, rubric) -> pd.Series:
    """Share of papers where the rater's pass/fail decision equals the consensus decision."""
    if rubric.achievement_cut is None:
        return pd.Series(np.nan, index=data["rater_id"].unique())
    cut = rubric.achievement_cut.min_score
    paper = data.groupby(["rater_id", "work_id"])[["score", "consensus"]].mean()
    same = (paper["score"] >= cut) == (paper["consensus"] >= cut)
    return same.groupby(level="rater_id").mean()


def _qualify(profile: Profile, raters, rater_dims, scales):
    status, reasons = {}, {}
    overall = raters.set_index("rater_id")
    per_dim = rater_dims.set_index(["rater_id", "dimension"])
    for rater in overall.index:
        fails = []
        for rule in profile.rules:
            if rule.scope == "overall":
                checks = [("", overall.loc[rater], len(next(iter(scales.values()))))]
            else:
                sub = per_dim.xs(rater, level="rater_id")
                checks = [(f" on {dim}", sub.loc[dim], len(scales[dim])) for dim in sub.index]
            for where, row, points in checks:
                bound = rule.threshold(points)
                if bound is None:
                    continue
                kind, limit = bound
                value = row[rule.metric]
                if pd.isna(value):
                    continue
                ok = value >= limit - 1e-12 if kind == "min" else value <= limit + 1e-12
                if not ok:
                    shown = (f"{value:.0%}" if rule.metric in ("exact", "exact_adjacent", "decision")
                             else f"{int(value)}")
                    need = (f"{limit:.0%}" if rule.metric in ("exact", "exact_adjacent", "decision")
                            else f"{int(limit)}")
                    fails.append(f"{rule.metric}{where} {shown} ({'needs >=' if kind == 'min' else 'allows <='} {need})")
        status[rater] = "FAIL" if fails else "PASS"
        reasons[rater] = "; ".join(fails)
    return status, reasons


def _effects(data: pd.DataFrame, scales, th: Thresholds) -> pd.DataFrame:
    lo = data["dimension"].map({d: min(s) for d, s in scales.items()})
    hi = data["dimension"].map({d: max(s) for d, s in scales.items()})
    frame = data.assign(
        rater_middle=((data["score"] > lo) & (data["score"] < hi)).astype(float),
        consensus_middle=((data["consensus"] > lo) & (data["consensus"] < hi)).astype(float),
    )
    g = frame.groupby("rater_id")
    out = pd.DataFrame({
        "mean_diff": g["diff"].mean(),
        "middle_share": g["rater_middle"].mean(),
        "consensus_middle_share": g["consensus_middle"].mean(),
        "sd_scores": g["score"].std(),
        "sd_consensus": g["consensus"].std(),
    })
    n = g.size()
    se = g["diff"].std() / np.sqrt(n)
    q = _sps.t.ppf(0.975, np.maximum(n - 1, 1))
    low, high = out["mean_diff"] - q * se, out["mean_diff"] + q * se
    out["sd_ratio"] = out["sd_scores"] / out["sd_consensus"]
    significant = (low > 0) | (high < 0)
    big = out["mean_diff"].abs() >= th.severity_points
    moderate = (out["mean_diff"].abs() >= th.severity_significant) & significant
    out["severity"] = np.where(big | moderate, np.where(out["mean_diff"] > 0, "lenient", "severe"), "")
    out["central_tendency"] = (out["middle_share"] - out["consensus_middle_share"]) >= th.central_excess
    out["restricted_range"] = out["sd_ratio"] < th.restricted_sd_ratio
    labels = []
    for row in out.itertuples():
        items = []
        if row.severity:
            items.append(f"{row.severity} ({row.mean_diff:+.2f})")
        if row.central_tendency:
            items.append(f"central tendency ({row.middle_share:.0%} middle vs {row.consensus_middle_share:.0%})")
        if row.restricted_range:
            items.append(f"restricted range (SD ratio {row.sd_ratio:.2f})")
        labels.append("; ".join(items))
    out["effects"] = labels
    return out.reset_index()


def _papers(data: pd.DataFrame, task, th: Thresholds, scales):
    g = data.groupby(["work_id", "dimension"], sort=False)
    papers = g.agg(consensus=("consensus", "first"), n=("score", "size"), exact=("exact", "mean"),
                   mean_score=("score", "mean"), sd_score=("score", "std"),
                   above=("diff", lambda d: (d > 0).mean()), below=("diff", lambda d: (d < 0).mean()))
    papers = papers.reset_index()
    meta = {p.id: p for p in task.anchors}
    papers["position"] = papers["work_id"].map(lambda w: meta[w].position)
    papers["role"] = papers["work_id"].map(lambda w: meta[w].role)
    low_agreement = papers["exact"] < th.split_exact_below
    both_sides = (papers["above"] >= th.split_each_side) & (papers["below"] >= th.split_each_side)
    papers["split"] = low_agreement | both_sides
    papers["split_reason"] = np.select(
        [low_agreement & both_sides, low_agreement, both_sides],
        ["low agreement; scores on both sides", "low agreement with consensus", "scores on both sides"], "")
    order = papers.sort_values(["split", "exact", "sd_score"], ascending=[False, True, False]).index
    papers.loc[order, "discussion_rank"] = np.arange(1, len(papers) + 1)
    papers["discussion_rank"] = papers["discussion_rank"].astype(int)
    paper_order = {p.id: i for i, p in enumerate(task.anchors)}
    papers = papers.sort_values(["work_id", "dimension"], key=lambda s: s.map(paper_order) if s.name == "work_id"
                                else s).reset_index(drop=True)
    distribution = (data.groupby(["work_id", "dimension", "score"]).size().rename("count").reset_index())
    return papers, distribution
