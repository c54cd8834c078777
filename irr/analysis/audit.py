"""The sample of a district peer-review audit: which locally scored works each auditor rescores.

In an NH PACE-style audit a sample of every district's locally scored student work is rescored
by auditors from *other* districts and the local scores are compared with the audit scores
(Evans & Lyons 2017; the SCALE audit rescores "all those with borderline and failing scores").
:func:`audit_sample` draws that sample from the local scores:

* **Works.** A work is a ``(task_id, work_id)``; its local score is the mean of its numeric local
  scores over dimensions (and over local readers, if several).  A wholly condition-coded work
  has no mean: it is kept, in a stratum of its own (``score_level`` <NA>, ``coded`` True), since
  whether "blank" or "off topic" was right is worth auditing too.
* **Strata.** ``work_district x task_id x score level x near_cut``, the score level being the
  mean rounded to the nearest score point of the task's rubric, half up.
* **Size.** District *d* with :math:`N_d` works gets
  :math:`n_d = \\min(N_d, \\max(\\text{per\\_district}, \\lceil \\text{rate} \\cdot N_d \\rceil))`,
  allocated over its strata proportionally to their sizes :math:`N_h` (largest remainders;
  ties to the larger, then the earlier stratum), each non-empty stratum getting at least one
  work when :math:`n_d` allows (taken from the stratum most above its quota).
* **Near the cut** (``near_cut=K``): a work whose mean lies in
  :math:`[c - K, c + K - 1]`, *c* being the rubric's achievement cut (the lowest score that
  meets the standard), is near the cut; near-cut strata weigh double,
  :math:`q_h = \\min(N_h, \\lambda w_h N_h)` with :math:`w_h = 2` near the cut and 1 elsewhere
  and :math:`\\lambda` such that :math:`\\sum_h q_h = n_d` (a stratum's cap frees its surplus
  for the others).  Sampled near-cut works have reason ``near-cut``, the others ``stratum``.
* **Linking** (``linking=L``): L more works, not in the stratum sample and not wholly coded, by
  a systematic sample (random start) of the works sorted by mean score and, within a mean,
  interleaved across districts; every auditor scores every one (reason ``linking``), which
  connects all auditors in one design (for a rater model or an audit-to-audit agreement).
* **Auditors.** Every other sampled work goes to one auditor from another district, the loads
  differing by at most one work whenever the auditors' districts allow it: how many works of
  each district go to the auditors of each other district is a flow with lower and upper
  bounds (:func:`scipy.sparse.csgraph.maximum_flow`); which works, and which auditor of a
  district takes one more, are drawn by the seeded generator.  When no such split exists
  (e.g. most works are from the district most auditors come from), each district's works are
  water-filled over its eligible auditors, largest district first, and ``meta["notes"]`` says so.

The draw is reproducible: before any number is drawn from ``numpy.random.default_rng(seed)``
the works are put in an order that depends on their ids only (by task, then a fixed 64-bit hash
of the work id: sorting 250,000 texts would take longer than the whole draw), so the same works,
auditors and seed give the same sample whatever the row order.  Everything is vectorised over
works (one random rank each, a sort, ranks within strata); the loops are over districts,
strata, tasks and groups of auditors.

The assignments carry no local score, so the rescoring can be blind; note that the reason
``near-cut`` tells an auditor the local score was near the cut.

Examples
--------
>>> import pandas as pd
>>> from irr.model.bank import load_bank
>>> scores = pd.DataFrame({
...     "work_id": [f"w{i}" for i in range(8)], "task_id": "ela-g8-argument",
...     "dimension": "claim", "rater_id": "t", "score": pd.array([1, 2, 2, 3, 3, 4, 2, 3], "Int64"),
...     "work_district": ["A"] * 4 + ["B"] * 4})
>>> auditors = pd.DataFrame({"rater_id": ["x", "y"], "rater_district": ["A", "B"]})
>>> result = audit_sample(scores, auditors, per_district=2, seed=1, bank=load_bank())
>>> result.tables["districts"][["work_district", "n_works", "n_sampled"]]
  work_district  n_works  n_sampled
0             A        4          2
1             B        4          2
>>> result.tables["loads"][["auditor_id", "n_assigned"]]
  auditor_id  n_assigned
0          x           2
1          y           2
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from irr.analysis.result import AnalysisResult, Section, TableColumns, make_meta
from irr.errors import DataError, NotFoundError

__all__ = ["audit_sample", "AuditSampleResult", "REASONS"]

REASONS = ("stratum", "near-cut", "linking")

_COLUMNS = {
    "assignments": TableColumns(raters=("auditor_id",), drop_when_anonymized=(), records=True),
    "strata": TableColumns(
        counts=("n_works", "n_sampled", "n_linking"), support="n_works", fixed=("score_level",), raters=()
    ),
    "districts": TableColumns(
        counts=("n_works", "n_near_cut_works", "n_target", "n_sampled", "n_near_cut", "n_linking"),
        support="n_works",
        raters=(),
        drop_when_anonymized=(),
    ),
    "loads": TableColumns(counts=("n_assigned", "n_linking", "n_total"), raters=("auditor_id",)),
}


@dataclass(frozen=True)
class AuditSampleResult(AnalysisResult):
    """Result of :func:`audit_sample`: tables ``assignments``, ``strata``, ``districts``, ``loads``."""

    @property
    def assignments(self) -> pd.DataFrame:
        return self.tables["assignments"]

    @property
    def notes(self) -> list[str]:
        return list(self.meta.get("notes", ()))


def _allocate(sizes: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """``n`` draws over strata of ``sizes``: capped proportional to ``weights * sizes``, at least one each.

    >>> _allocate(np.array([10, 5, 1]), np.ones(3), 8).tolist()
    [5, 2, 1]
    >>> _allocate(np.array([10, 5, 1]), np.array([1.0, 2.0, 1.0]), 8).tolist()
    [3, 4, 1]
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    k = sizes.size
    if n >= sizes.sum():
        return sizes.copy()
    w = np.asarray(weights, dtype=float) * sizes
    capped = np.zeros(k, dtype=bool)
    while True:  # at most k rounds: each caps at least one more stratum
        lam = (n - sizes[capped].sum()) / w[~capped].sum()
        newly = ~capped & (lam * w >= sizes)
        if not newly.any():
            break
        capped |= newly
    quota = np.where(capped, sizes, lam * w)
    alloc = np.minimum(np.floor(quota + 1e-9).astype(np.int64), sizes)
    # largest remainders (rounded so that float noise does not break ties), ties: larger, earlier
    frac = np.round(quota - alloc, 9)
    order = np.lexsort((np.arange(k), -sizes, -frac))
    open_ = order[alloc[order] < sizes[order]]
    alloc[open_[: n - int(alloc.sum())]] += 1
    if n >= k:
        over = np.round(alloc - quota, 9)
        for h in np.flatnonzero(alloc == 0):  # few strata: a donor each
            rich = np.flatnonzero(alloc >= 2)
            donor = rich[np.lexsort((rich, -alloc[rich], -over[rich]))[0]]
            alloc[donor] -= 1
            over[donor] -= 1
            alloc[h] += 1
    return alloc


def _water_fill(loads: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """How many of ``m`` works each auditor gets so that the new loads are as even as possible."""
    lo, hi = int(loads.min()), int(loads.min()) + m
    while lo < hi:  # the highest level t whose filling needs at most m works
        mid = (lo + hi + 1) // 2
        if np.maximum(mid - loads, 0).sum() <= m:
            lo = mid
        else:
            hi = mid - 1
    take = np.maximum(lo - loads, 0)
    rest = m - int(take.sum())
    if rest:  # fewer than the auditors at the level: which of them get one more is drawn
        at_level = np.flatnonzero(loads + take == lo)
        take[rng.choice(at_level, size=rest, replace=False)] += 1
    return take


def _spread(mean: np.ndarray, district: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` of the works (indices), spread over the score range and taking the districts in turn.

    Pick *k* is the work at quantile :math:`(u + k) / n` of its district's works sorted by mean
    score (a systematic sample, random start *u*), the districts taking turns in a random order.
    A district with fewer works than turns leaves its surplus picks to a systematic sample of
    the other works.
    """
    size = mean.size
    mean_rank = np.unique(mean, return_inverse=True)[1].astype(np.int64)
    by_mean = np.argsort(mean_rank * size + rng.permutation(size))  # equal means in random order
    position = np.empty(size, dtype=np.int64)
    position[by_mean] = np.arange(size)
    d_code, counts = np.unique(district, return_inverse=True, return_counts=True)[1:]
    by_district = np.argsort(d_code.astype(np.int64) * size + position)  # each district's works by mean
    offset = np.concatenate(([0], np.cumsum(counts)[:-1]))
    turn = rng.permutation(counts.size)[np.arange(n) % counts.size]
    quantile = (rng.random() + np.arange(n)) / n
    within = np.minimum(np.floor(quantile * counts[turn]).astype(np.int64), counts[turn] - 1)
    picks = np.unique(by_district[offset[turn] + within])
    if picks.size < n:
        rest = by_mean[~np.isin(by_mean, picks)]
        more = n - picks.size
        at = np.floor((rng.random() + np.arange(more)) / more * rest.size).astype(np.int64)
        picks = np.concatenate([picks, rest[np.minimum(at, rest.size - 1)]])
    return picks


def _even_flows(supply: np.ndarray, eligible: np.ndarray, size: np.ndarray) -> np.ndarray | None:
    """How many works of each district (rows) go to each group of auditors (columns), so that every
    auditor can get :math:`\\lfloor M/A \\rfloor` or :math:`\\lceil M/A \\rceil` of the *M* works; None
    when the auditors' districts do not allow it.

    A flow with lower bounds: district *d* supplies exactly its works, along edges to the groups
    it may go to, and group *g* of :math:`s_g` auditors takes between :math:`s_g t` and
    :math:`s_g (t + 1)` works, :math:`t = \\lfloor M/A \\rfloor`; the bounds are met by the usual
    reduction to a maximum flow between a super source and a super sink.
    """
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import maximum_flow

    n_d, n_g = eligible.shape
    total, low = int(supply.sum()), int(supply.sum()) // int(size.sum())
    dn, gn = 4 + np.arange(n_d), 4 + n_d + np.arange(n_g)
    # nodes: 0 source, 1 sink, 2 super source, 3 super sink, the districts, the groups
    pairs = np.nonzero(eligible)
    edges = [
        (np.full(n_d, 2), dn, supply),  # the supplies are lower bounds too: fed by the super source
        ([0], [3], [total]),
        (dn[pairs[0]], gn[pairs[1]], np.full(pairs[0].size, total)),
        (gn, np.full(n_g, 1), size),  # between the lower bound s_g t and the upper s_g (t + 1)
        ([2], [1], [low * int(size.sum())]),
        (gn, np.full(n_g, 3), size * low),
        ([1], [0], [2 * total + 1]),
    ]
    rows, cols, caps = (np.concatenate([np.asarray(e[i], dtype=np.int64) for e in edges]) for i in range(3))
    keep = caps > 0
    graph = csr_array(
        (caps[keep].astype(np.int32), (rows[keep].astype(np.int32), cols[keep].astype(np.int32))),
        shape=(4 + n_d + n_g,) * 2,
    )
    result = maximum_flow(graph, 2, 3)
    if result.flow_value < total + low * int(size.sum()):
        return None
    flow = result.flow.toarray()
    return np.maximum(flow[np.ix_(dn, gn)], 0).astype(np.int64)


def _nearest_point(mean: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The score point nearest to each mean, half up (2.5 -> 3 on 1..4)."""
    upper = np.clip(np.searchsorted(points, mean, side="left"), 1, points.size - 1)
    low, high = points[upper - 1], points[upper]
    level = np.where(high - mean <= mean - low, high, low)
    return np.clip(level, points[0], points[-1])


def _objects(series: pd.Series) -> np.ndarray:
    """The column as an object array (a view of a string column: factorising it skips a copy)."""
    return series.to_numpy(dtype=object)


def _codes(values: np.ndarray, blank_is_missing: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Codes into the sorted distinct values (-1 for a missing one, and for a blank text if asked).

    Hashing first and sorting only the few distinct values is much faster than a sorted factorise.
    """
    codes, uniques = pd.factorize(values)
    uniques = np.asarray(uniques, dtype=object)
    order = np.argsort(np.asarray([str(u) for u in uniques], dtype=str), kind="stable")
    good = np.ones(uniques.size, dtype=bool)
    if blank_is_missing:
        good = np.array([str(u).strip() != "" for u in uniques], dtype=bool)
    order = order[good[order]]
    remap = np.full(uniques.size + 1, -1, dtype=np.int64)  # the last slot: a missing value (-1)
    remap[order] = np.arange(order.size)
    return remap[codes], uniques[order]


def _canonical_order(task: np.ndarray, work_id: np.ndarray) -> np.ndarray:
    """An order of the works that depends on their ids only: by task, then a fixed 64-bit hash of the id.

    ``pandas.util.hash_array`` is keyed (the same in every process), unlike Python's ``hash``; sorting
    the hashes is many times faster than sorting 250,000 texts.  Were two ids of a task to share a
    hash, the texts themselves decide.
    """
    hashed = pd.util.hash_array(work_id.astype(object), categorize=False)
    order = np.argsort(hashed)
    order = order[np.argsort(task[order], kind="stable")]  # two integer sorts: faster than lexsort
    tie = (np.diff(hashed[order]) == 0) & (np.diff(task[order]) == 0)
    if tie.any():
        order = np.lexsort((np.asarray(work_id, dtype=str), task))
    return order


def _check_auditors(auditors: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("rater_id", "rater_district") if c not in auditors.columns]
    if missing:
        raise DataError(
            f"the auditors lack column(s) {missing}; give one row per auditor with rater_id and rater_district"
        )
    frame = auditors[["rater_id", "rater_district"]].astype(object)
    blank = frame.isna() | (frame.astype(str).apply(lambda c: c.str.strip()) == "")
    if blank.any().any():
        rows = np.flatnonzero(blank.any(axis=1).to_numpy())[:5].tolist()
        raise DataError(f"auditor row(s) {rows} have a blank rater_id or rater_district; fill them in")
    frame = frame.astype(str)
    repeated = sorted(set(frame.loc[frame["rater_id"].duplicated(), "rater_id"]))
    if repeated:
        raise DataError(f"auditor(s) {repeated[:5]} are listed more than once; list each auditor once")
    if frame.empty:
        raise DataError("there are no auditors; list at least one auditor from another district")
    return frame.sort_values("rater_id", kind="stable").reset_index(drop=True)


def audit_sample(
    local_scores: pd.DataFrame,
    auditors: pd.DataFrame,
    *,
    per_district: int | None = None,
    rate: float | None = None,
    near_cut: int | None = None,
    linking: int = 0,
    seed: int,
    bank,
    provenance: Mapping[str, Any] | None = None,
) -> AuditSampleResult:
    """Draw the works to rescore in a district peer-review audit and assign them to auditors.

    Parameters
    ----------
    local_scores : DataFrame
        Long local scores as ``Store.scores()`` returns them: ``work_id, task_id, score``
        (nullable; <NA> on a condition-coded row) and ``work_district`` (optionally
        ``condition_code``).  Take one read type (the teachers' ``first`` reads).
    auditors : DataFrame
        ``rater_id, rater_district``: one row per auditor (:func:`irr.io.auditors.read_auditors`).
    per_district : int, optional
        At least this many works per district (all of a district that has fewer).
    rate : float, optional
        At least this share of each district's works, rounded up (e.g. 0.05 or 0.25 as NAEP's
        second scoring).  Give ``per_district``, ``rate`` or both (the larger wins).
    near_cut : int, optional
        Oversample works within K score points below the achievement cut (see the module
        docstring): their strata weigh double.
    linking : int
        Works scored by every auditor, on top of the sample.
    seed : int
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same sample.
    bank : Bank
        Gives each task's rubric: its score points (the score levels) and achievement cut.
    provenance : mapping, optional
        Where the local scores came from (files, sessions); recorded in ``meta``.

    Returns
    -------
    AuditSampleResult
        ``assignments``: ``work_id, task_id, work_district, auditor_id, reason`` (one row per
        work and auditor, by auditor then work); ``strata``: ``work_district, task_id,
        score_level, coded, near_cut, n_works, n_sampled, n_linking``; ``districts``:
        ``work_district, n_works, n_near_cut_works, n_target, n_sampled, n_near_cut`` (sampled
        near-cut works), ``n_linking, rate_sampled`` (``n_sampled / n_works``, linking works
        aside); ``loads``: ``auditor_id, rater_district, n_assigned, n_linking, n_total``.
        ``meta["notes"]`` says what the design could not do as asked.

    Raises
    ------
    DataError
        A column is missing, a parameter is out of range, a work has two districts, or a
        district's works have no auditor from another district.
    """
    if per_district is None and rate is None:
        raise DataError("give the sample size: per_district (works per district), rate (a share) or both")
    if per_district is not None and (int(per_district) != per_district or per_district < 1):
        raise DataError(f"per_district must be a whole number of at least 1, got {per_district}")
    if rate is not None and not (0 < rate <= 1):
        raise DataError(f"rate must be a share in (0, 1], e.g. 0.1 for 10%, got {rate}")
    if near_cut is not None and (int(near_cut) != near_cut or near_cut < 1):
        raise DataError(f"near_cut must be a whole number of score points of at least 1, got {near_cut}")
    if int(linking) != linking or linking < 0:
        raise DataError(f"linking must be a whole number of works (0 for none), got {linking}")
    missing = [c for c in ("work_id", "task_id", "score", "work_district") if c not in local_scores.columns]
    if missing:
        raise DataError(f"the local scores lack column(s) {missing}; read them with Store.scores()")
    if local_scores.empty:
        raise NotFoundError("there are no local scores to sample from")
    if not (pd.api.types.is_numeric_dtype(local_scores["score"]) or local_scores["score"].isna().all()):
        raise DataError("the local scores' score column is not numeric; read them with Store.scores()")
    panel = _check_auditors(auditors)
    rng = np.random.default_rng(seed)
    notes: list[str] = []

    # --- works, in a canonical order whatever the row order ----------------------------------
    task_code, task_names = _codes(_objects(local_scores["task_id"]))
    work_obj = _objects(local_scores["work_id"])
    work_code, work_uniques = pd.factorize(work_obj)  # first-seen order; made canonical below
    for column, codes in (("task_id", task_code), ("work_id", work_code)):
        if (codes < 0).any():
            raise DataError(f"{int((codes < 0).sum())} local score row(s) have no {column}; give every row one")
    width = max(len(work_uniques), 1)
    key_code, key_uniques = pd.factorize(task_code * width + work_code)
    k_task, k_work = key_uniques // width, key_uniques % width
    canon = _canonical_order(k_task, np.asarray(work_uniques, dtype=object)[k_work])
    position = np.empty(canon.size, dtype=np.int64)
    position[canon] = np.arange(canon.size)
    row_work = position[key_code]
    n = canon.size
    w_task = k_task[canon]
    w_id = np.asarray(work_uniques, dtype=object)[k_work[canon]]

    dist_code, dist_names = _codes(_objects(local_scores["work_district"]), blank_is_missing=True)
    w_dist = np.full(n, -1, dtype=np.int64)
    w_dist[row_work] = dist_code
    conflict = np.flatnonzero(w_dist[row_work] != dist_code)
    if conflict.size:
        bad = sorted({(str(task_names[w_task[row_work[i]]]), str(w_id[row_work[i]])) for i in conflict[:50]})[:3]
        raise DataError(
            f"work(s) {bad} have local scores from more than one district (or with and without one); "
            "give each work one work_district"
        )

    score = local_scores["score"].to_numpy(dtype=float, na_value=np.nan)
    numeric = ~np.isnan(score)
    if "condition_code" in local_scores.columns:
        code_code, _ = _codes(_objects(local_scores["condition_code"]), blank_is_missing=True)
        numeric &= code_code < 0  # no code (blank or missing): the row holds a score
    count = np.bincount(row_work[numeric], minlength=n)
    total = np.bincount(row_work[numeric], weights=score[numeric], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    coded = count == 0

    level = np.full(n, np.nan)
    near = np.zeros(n, dtype=bool)
    no_cut: list[str] = []
    for t, task in enumerate(task_names):  # a loop over tasks: each has its own rubric
        rubric = bank.rubric_for(str(task))
        mine = (w_task == t) & ~coded
        points = np.asarray([p.score for p in rubric.scale], dtype=float)
        level[mine] = _nearest_point(mean[mine], points)
        if near_cut is not None:
            if rubric.achievement_cut is None:
                no_cut.append(str(task))
                continue
            cut = rubric.achievement_cut.min_score
            near[mine] = (mean[mine] >= cut - near_cut) & (mean[mine] <= cut + near_cut - 1)
    if no_cut:
        notes.append(
            f"task(s) {no_cut} have no achievement cut in their rubric: none of their works is near the cut "
            "(add achievement_cut to the rubric to oversample them)"
        )

    kept = w_dist >= 0
    dropped: dict[str, int] = {}
    if (~kept).any():
        dropped["local score row of a work without a work_district (no auditor can be matched)"] = int(
            np.count_nonzero(~kept[row_work])
        )
    coded_rows = ~numeric & ~coded[row_work] & kept[row_work]
    if coded_rows.any():
        dropped["condition-coded local score of a scored work (left out of its mean)"] = int(coded_rows.sum())
    if not kept.any():
        raise DataError("no local score has a work_district; the audit samples works per district")

    # --- strata: district x task x score level x near-cut, sorted so -----------------------
    idx = np.flatnonzero(kept)
    levels = np.where(coded[idx], np.inf, level[idx])  # the coded level sorts last
    level_values, level_code = np.unique(levels, return_inverse=True)
    n_levels, n_tasks = level_values.size, len(task_names)
    skey = ((w_dist[idx] * n_tasks + w_task[idx]) * n_levels + level_code) * 2 + near[idx]
    strata_keys, stratum = np.unique(skey, return_inverse=True)
    s_near = (strata_keys % 2).astype(bool)
    s_level = level_values[(strata_keys // 2) % n_levels]
    s_task = (strata_keys // (2 * n_levels)) % n_tasks
    s_dist = strata_keys // (2 * n_levels * n_tasks)
    s_size = np.bincount(stratum, minlength=strata_keys.size)

    # --- how many per district, and per stratum ----------------------------------------------
    districts = np.unique(s_dist)
    d_works = np.bincount(w_dist[idx], minlength=len(dist_names))
    alloc = np.zeros(strata_keys.size, dtype=np.int64)
    target = np.zeros(len(dist_names), dtype=np.int64)
    small, thin = [], []
    for d in districts:  # a loop over districts: a few strata each
        size = int(d_works[d])
        want = max(
            int(per_district or 0),
            math.ceil(round(rate * size, 9)) if rate is not None else 0,
        )
        target[d] = min(size, want)
        if want >= size:
            small.append(str(dist_names[d]))
        strata_d = np.flatnonzero(s_dist == d)
        if target[d] < strata_d.size:
            thin.append(str(dist_names[d]))
        alloc[strata_d] = _allocate(s_size[strata_d], np.where(s_near[strata_d], 2.0, 1.0), int(target[d]))
    if small:
        notes.append(f"district(s) {small} have no more works than the sample size: all their works are sampled")
    if thin:
        notes.append(f"district(s) {thin} have more strata than works to sample: some of their strata are not sampled")

    # --- the draw: a random key per work, ranks within strata --------------------------------
    u = rng.permutation(n)[idx]  # distinct random ranks: one integer key sorts by stratum, then at random
    order = np.argsort(stratum * n + u)
    start = np.concatenate(([0], np.cumsum(s_size)[:-1]))
    rank = np.empty(idx.size, dtype=np.int64)
    rank[order] = np.arange(idx.size) - start[stratum[order]]
    chosen = rank < alloc[stratum]

    # --- linking works: spread over the score range and the districts --------------------------
    pool = np.flatnonzero(~chosen & ~coded[idx])
    n_link = min(int(linking), pool.size)
    if n_link < linking:
        notes.append(
            f"only {pool.size} scored works are left outside the sample: the linking set has {n_link} works, "
            f"not {linking}"
        )
    linked = np.zeros(idx.size, dtype=bool)
    if n_link:
        linked[pool[_spread(mean[idx[pool]], w_dist[idx[pool]], n_link, rng)]] = True

    # --- auditors: another district's, loads even -------------------------------------------
    a_ids = panel["rater_id"].to_numpy(dtype=object)
    a_dist = panel["rater_district"].to_numpy(dtype=object)
    sampled = np.flatnonzero(chosen)
    s_district = w_dist[idx[sampled]]
    d_sampled = np.bincount(s_district, minlength=len(dist_names))
    active = np.flatnonzero(d_sampled)
    g_names, a_group = np.unique(a_dist.astype(str), return_inverse=True)  # auditors by district
    g_size = np.bincount(a_group, minlength=g_names.size)
    eligible = g_names[None, :] != dist_names[active].astype(str)[:, None]
    stranded = active[~eligible.any(axis=1)]
    if stranded.size:
        d = stranded[0]
        raise DataError(
            f"district '{dist_names[d]}' has {d_sampled[d]} sampled works but every auditor is from "
            f"'{dist_names[d]}'; add auditors from other districts to the auditors file"
        )
    auditor_of = np.full(idx.size, -1, dtype=np.int64)
    flows = _even_flows(d_sampled[active], eligible, g_size) if sampled.size else None
    if flows is not None:
        group_of = np.full(idx.size, -1, dtype=np.int64)
        for row, d in enumerate(active):  # which of the district's works go to which group: at random
            works_d = sampled[s_district == d]
            group_of[works_d[rng.permutation(works_d.size)]] = np.repeat(np.arange(g_names.size), flows[row])
        by_group = sampled[np.argsort(group_of[sampled], kind="stable")]
        bounds = np.searchsorted(group_of[by_group], np.arange(g_names.size + 1))
        for g in range(g_names.size):  # within a group, even loads; who gets one more is drawn
            works_g = by_group[bounds[g] : bounds[g + 1]]
            members = np.flatnonzero(a_group == g)
            take = np.full(members.size, works_g.size // members.size, dtype=np.int64)
            take[rng.choice(members.size, size=works_g.size % members.size, replace=False)] += 1
            auditor_of[works_g[rng.permutation(works_g.size)]] = np.repeat(members, take)
    elif sampled.size:
        notes.append(
            "the auditors' districts do not allow loads that differ by at most one work: each district's "
            "works were spread over its eligible auditors in turn, largest district first"
        )
        filled = np.zeros(a_ids.size, dtype=np.int64)
        for d in sorted(active, key=lambda d: (-d_sampled[d], d)):
            mine = np.flatnonzero(a_dist.astype(str) != str(dist_names[d]))
            works_d = sampled[s_district == d]
            take = _water_fill(filled[mine], works_d.size, rng)
            filled[mine] += take
            auditor_of[works_d[rng.permutation(works_d.size)]] = np.repeat(mine, take)
    loads = np.bincount(auditor_of[sampled], minlength=a_ids.size)

    # --- tables ------------------------------------------------------------------------------
    near_k = near[idx]
    link_rows = np.flatnonzero(linked)
    a_work = np.concatenate([sampled, np.repeat(link_rows, a_ids.size)])
    a_aud = np.concatenate([auditor_of[sampled], np.tile(np.arange(a_ids.size), link_rows.size)])
    a_reason = np.concatenate([np.where(near_k[sampled], 1, 0), np.full(link_rows.size * a_ids.size, 2)])
    wk = idx[a_work]
    # the ids themselves order the (few) assignments: by auditor, work id, task
    sort = np.lexsort((task_names[w_task[wk]].astype(str), w_id[wk].astype(str), a_aud))
    wk, a_aud, a_reason = wk[sort], a_aud[sort], a_reason[sort]
    assignments = pd.DataFrame(
        {
            "work_id": pd.array(w_id[wk], dtype="str"),
            "task_id": pd.array(task_names[w_task[wk]], dtype="str"),
            "work_district": pd.array(dist_names[w_dist[wk]], dtype="str"),
            "auditor_id": pd.array(a_ids[a_aud], dtype="str"),
            "reason": pd.array(np.asarray(REASONS, dtype=object)[a_reason], dtype="str"),
        }
    )
    s_sampled = np.bincount(stratum[chosen], minlength=strata_keys.size)
    s_linking = np.bincount(stratum[linked], minlength=strata_keys.size)
    strata = pd.DataFrame(
        {
            "work_district": pd.array(dist_names[s_dist], dtype="str"),
            "task_id": pd.array(task_names[s_task], dtype="str"),
            "score_level": pd.array(np.where(np.isinf(s_level), np.nan, s_level), dtype="Float64").astype("Int64"),
            "coded": np.isinf(s_level),
            "near_cut": s_near,
            "n_works": s_size,
            "n_sampled": s_sampled,
            "n_linking": s_linking,
        }
    )
    dw = w_dist[idx]
    per_d = {
        "n_works": d_works,
        "n_near_cut_works": np.bincount(dw[near_k], minlength=len(dist_names)),
        "n_target": target,
        "n_sampled": d_sampled,
        "n_near_cut": np.bincount(dw[chosen & near_k], minlength=len(dist_names)),
        "n_linking": np.bincount(dw[linked], minlength=len(dist_names)),
    }
    district_table = pd.DataFrame(
        {"work_district": pd.array(dist_names[districts], dtype="str"), **{k: v[districts] for k, v in per_d.items()}}
    )
    district_table["rate_sampled"] = district_table["n_sampled"] / district_table["n_works"]
    load_table = pd.DataFrame(
        {
            "auditor_id": pd.array(a_ids, dtype="str"),
            "rater_district": pd.array(a_dist, dtype="str"),
            "n_assigned": loads,
            "n_linking": np.full(a_ids.size, link_rows.size, dtype=np.int64),
        }
    )
    load_table["n_total"] = load_table["n_assigned"] + load_table["n_linking"]

    meta = make_meta(
        analysis="audit_sample",
        level=0.95,  # no interval here; kept for the one shape of meta
        provenance=provenance,
        parameters={
            "per_district": per_district,
            "rate": rate,
            "near_cut": near_cut,
            "linking": int(linking),
            "seed": seed,
            "strata": ["work_district", "task_id", "score_level", "near_cut"],
        },
        dropped=dropped,
        notes=notes,
        n_scores=int(len(local_scores)),
        n_works=int(idx.size),
        n_condition_coded_works=int(np.count_nonzero(coded[idx])),
        n_auditors=int(a_ids.size),
        n_sampled=int(sampled.size),
        n_linking=int(link_rows.size),
    )
    sections = (
        Section("districts", "Sample by district", ("districts",)),
        Section("strata", "Strata", ("strata",)),
        Section("loads", "Auditors' loads", ("loads",)),
        Section("assignments", "Assignments", ("assignments",)),
    )
    return AuditSampleResult(
        kind="audit_sample",
        title="Audit sample",
        tables={"assignments": assignments, "strata": strata, "districts": district_table, "loads": load_table},
        meta=meta,
        sections=sections,
        columns=_COLUMNS,
    )
