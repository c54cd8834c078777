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

Condition codes (``blank``, ``off_topic``, ``illegible``, ``non_english``: a
``condition_code`` column, ``""`` for a numeric score, and ``score`` <NA>) are
counted, never dropped silently: a coded score is neither exact nor adjacent
agreement with a numeric consensus (it counts in ``n`` and against ``exact``), a
rater who gives an anchor's consensus code agrees exactly, and a paper where some
raters scored and others coded (or coded differently) is a disagreement to
discuss.  Mean differences, kappas, rater effects and the confusion matrix use
the numeric pairs only; the group agreement coefficients leave coded scores out
and say how many in ``note`` (the coefficients are defined on the score scale;
treating codes as extra nominal categories would change what kappa measures).
Scores without a ``condition_code`` column are all numeric.

All per-rater and per-paper numbers are vectorised pandas group-bys.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd
from scipy.special import stdtrit as _stdtrit  # the t quantile, without importing scipy.stats

from irr.analysis.profiles import Profile, load_profile
from irr.errors import DataError, InsufficientDataError
from irr.model.bank import Bank
from irr.stats import agreement_table, agreement_weights
from irr.stats.chance_corrected import weighted_kappa_tables

__all__ = ["calibrate", "CalibrationResult", "Thresholds", "GROUP_COEFFICIENTS", "condition_coded",
           "numeric_scores", "condition_code_notes"]

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
    condition_codes   one row per condition-coded score (rater, paper, dimension, code, consensus)
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
    condition_codes: pd.DataFrame
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
                "confusion": self.confusion, "effects": self.effects, "condition_codes": self.condition_codes}


def condition_coded(scores: pd.DataFrame) -> pd.Series:
    """Boolean mask of the rows that carry a condition code instead of a score.

    A row is coded when its ``condition_code`` is not empty, or when its score
    is missing (<NA>).  Scores without a ``condition_code`` column are numeric.
    """
    coded = scores["score"].isna()
    if "condition_code" in scores:
        coded |= scores["condition_code"].fillna("").astype(str) != ""
    return coded


def _codes(scores: pd.DataFrame) -> pd.Series:
    """The condition code of every row: ``""`` for a numeric score, ``missing`` for an uncoded <NA>."""
    codes = (scores["condition_code"].fillna("").astype(str) if "condition_code" in scores
             else pd.Series("", index=scores.index))
    return codes.where(~(scores["score"].isna() & (codes == "")), "missing")


def numeric_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """The rows with a numeric score, ``score`` as int64 (what the coefficients take)."""
    rows = scores[~condition_coded(scores)]
    return rows.assign(score=rows["score"].astype("int64"))


def _code_counts(codes: pd.Series) -> str:
    """``"off_topic 2, blank 1"``, most frequent first."""
    counts = codes.value_counts()
    return ", ".join(f"{code} {n}" for code, n in counts.items())


def condition_code_notes(scores: pd.DataFrame, by) -> pd.DataFrame:
    """Per group of ``by``: how many condition-coded scores the coefficients leave out.

    Returns the ``by`` columns and ``note`` (e.g. "3 condition-coded scores left out
    of the coefficients (off_topic 2, blank 1)"), one row per group with any.
    """
    by = [by] if isinstance(by, str) else list(by)
    mask = condition_coded(scores)
    coded = scores[mask].assign(_code=_codes(scores)[mask])
    if coded.empty:
        return pd.DataFrame(columns=[*by, "note"])
    if not by:
        return pd.DataFrame({"note": [_left_out(coded["_code"])]})
    notes = coded.groupby(by, sort=True, dropna=False)["_code"].agg(_left_out)
    return notes.rename("note").reset_index()


def _left_out(codes: pd.Series) -> str:
    n = len(codes)
    return f"{n} condition-coded score{'s' if n != 1 else ''} left out of the coefficients ({_code_counts(codes)})"


def _accuracy(grouped) -> pd.DataFrame:
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
    q = _stdtrit(np.maximum(out["n_numeric"] - 1, 1), 0.975)
    out["mean_diff_ci_low"] = np.where(out["n_numeric"] > 1, out["mean_diff"] - q * se, np.nan)
    out["mean_diff_ci_high"] = np.where(out["n_numeric"] > 1, out["mean_diff"] + q * se, np.nan)
    out["exact_count"] = out["exact_count"].astype(int)
    out["discrepant"] = out["discrepant"].astype(int)
    return out.drop(columns=["sd_diff", "n_numeric"])


def _with_code_counts(table: pd.DataFrame, data: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Add ``condition_coded`` (count) and ``condition_codes`` ("off_topic 1, blank 2") per key."""
    coded = data[data["coded"]]
    counts = coded.groupby(keys).size().rename("condition_coded")
    text = coded.groupby(keys)["condition_code"].agg(_code_counts).rename("condition_codes")
    out = table.merge(counts.reset_index(), on=keys, how="left").merge(text.reset_index(), on=keys, how="left")
    out["condition_coded"] = out["condition_coded"].fillna(0).astype(int)
    out["condition_codes"] = out["condition_codes"].fillna("")
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
    profile = load_profile(profile, bank=bank)
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
    # a consensus is a score point or, for an anchor the panel condition-coded, the code itself
    consensus = pd.DataFrame([(p.id, d, "" if isinstance(v, str) else v, v if isinstance(v, str) else "")
                              for p in task_obj.anchors for d, v in p.scores.items()],
                             columns=["work_id", "dimension", "consensus", "consensus_code"])
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
    data["condition_code"] = _codes(data)
    data["coded"] = data["condition_code"] != ""
    coded_consensus = data["consensus_code"] != ""
    numeric = ~data["coded"] & ~coded_consensus
    if numeric.all():       # the common case: integer columns, exactly as without condition codes
        data["consensus"] = data["consensus"].astype(int)
        data["score"] = data["score"].astype(int)
        data["consensus_shown"] = data["consensus"]
    else:
        data["consensus"] = pd.to_numeric(data["consensus"].where(~coded_consensus), errors="coerce")
        data["score"] = pd.to_numeric(data["score"].where(~data["coded"]), errors="coerce").astype(float)
        data["consensus_shown"] = data["consensus"].astype("Int64").astype(object).where(
            ~coded_consensus, data["consensus_code"])
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

    rater_dims = _accuracy(data.groupby(["rater_id", "dimension"], sort=True)).reset_index()
    rater_dims = rater_dims.merge(_kappas_vs_consensus(pairs, dims, scales), on=["rater_id", "dimension"],
                                  how="left")
    raters = _accuracy(data.groupby("rater_id", sort=True)).reset_index()
    districts = data.groupby("rater_id")["rater_district"].first()
    raters.insert(1, "rater_district", raters["rater_id"].map(districts).fillna(""))
    raters = raters.merge(_pooled_kappa(pairs, dims, scales), on="rater_id", how="left")
    raters["decision"] = raters["rater_id"].map(_decisions(pairs, rubric)).astype(float)
    effects = _effects(pairs, scales, thresholds)
    status, reasons = _qualify(profile, raters, rater_dims, scales)
    raters["status"] = raters["rater_id"].map(status)
    raters["reasons"] = raters["rater_id"].map(reasons)
    raters = raters.merge(effects[["rater_id", "effects"]], on="rater_id", how="left")
    raters = _with_code_counts(raters, data, ["rater_id"])
    rater_dims = _with_code_counts(rater_dims, data, ["rater_id", "dimension"])

    papers, distribution = _papers(data, task_obj, thresholds, scales)
    confusion = (pairs.groupby(["dimension", "consensus", "score"]).size().rename("count").reset_index())
    coded_rows = data[data["coded"]]
    group = agreement_table(data[~data["coded"]].assign(score=lambda d: d["score"].astype(int)),
                            unit="work_id", rater="rater_id", score="score", by="dimension",
                            coefficients=GROUP_COEFFICIENTS, ci=ci, level=level,
                            categories={d: scales[d] for d in dims})
    if not coded_rows.empty:
        notes = condition_code_notes(data, "dimension").set_index("dimension")["note"]
        extra = group["dimension"].map(notes).fillna("")
        group["note"] = ["; ".join(t for t in (str(n) if isinstance(n, str) else "", e) if t)
                         for n, e in zip(group["note"], extra)]
    condition_codes = coded_rows[["rater_id", "work_id", "dimension", "condition_code", "consensus_shown"]]
    condition_codes = condition_codes.rename(columns={"consensus_shown": "consensus"}).reset_index(drop=True)
    return CalibrationResult(
        task_id=task, task_title=task_obj.title, rubric_ref=rubric.ref, profile=profile, session_id=session_id,
        raters=raters, rater_dimensions=rater_dims, papers=papers, distribution=distribution,
        group_agreement=group, confusion=confusion, effects=effects, condition_codes=condition_codes,
        dimensions=dims, dimension_names={d.id: d.name for d in rubric.dimensions}, scales=scales,
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
    q = _stdtrit(np.maximum(n - 1, 1), 0.975)
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
    papers = g.agg(consensus=("consensus_shown", "first"), n=("exact", "size"), exact=("exact", "mean"),
                   mean_score=("score", "mean"), sd_score=("score", "std"),
                   above=("diff", lambda d: (d > 0).mean()), below=("diff", lambda d: (d < 0).mean()))
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
    low_agreement = papers["exact"] < th.split_exact_below
    both_sides = (papers["above"] >= th.split_each_side) & (papers["below"] >= th.split_each_side)
    papers["split"] = low_agreement | both_sides | code_split
    reason = np.select(
        [low_agreement & both_sides, low_agreement, both_sides],
        ["low agreement; scores on both sides", "low agreement with consensus", "scores on both sides"], "")
    code_reason = [(f"condition-coded ({text}) where the consensus is {cons}"
                    if not isinstance(cons, str) else f"consensus is the code {cons}; {m} of {n} raters differ")
                   if flag else "" for flag, c, text, cons, m, n in
                   zip(code_split, papers["condition_coded"], papers["condition_codes"], papers["consensus"],
                       papers["code_mismatch"].fillna(0).astype(int), papers["n"])]
    papers["split_reason"] = ["; ".join(t for t in pair if t) for pair in zip(reason, code_reason)]
    papers = papers.drop(columns="code_mismatch")
    order = papers.sort_values(["split", "exact", "sd_score"], ascending=[False, True, False]).index
    papers.loc[order, "discussion_rank"] = np.arange(1, len(papers) + 1)
    papers["discussion_rank"] = papers["discussion_rank"].astype(int)
    paper_order = {p.id: i for i, p in enumerate(task.anchors)}
    papers = papers.sort_values(["work_id", "dimension"], key=lambda s: s.map(paper_order) if s.name == "work_id"
                                else s).reset_index(drop=True)
    scored = data[~data["coded"]]
    distribution = (scored.assign(score=scored["score"].astype(int))
                    .groupby(["work_id", "dimension", "score"]).size().rename("count").reset_index())
    return papers, distribution
