"""Rater drift: which raters *changed* over the season or through a scoring day (``irr drift``).

Drift is change.  A rater lenient all along has a severity problem (calibration and rater
measurement show it), not drift; so every detector here compares a rater with the rater's
own baseline, never with the room.

:func:`rater_drift` compares every score with a **reference**:

* ``anchor``: the bank's consensus score when the work is one of the task's anchor papers
  (validity papers seeded into live scoring);
* ``consensus``: the mean of the work's ``consensus`` reads (the rater's own left out);
* ``others``: the mean of the other raters' reads of the same work and dimension
  (leave-one-out);
* ``auto`` (default): the first of these a score has, per score, and says which.

Scores are cut into **blocks**: the sessions in date order (``time="session"``), or, within
sessions, windows of time (``time="timestamp", block="30min"``) or every N scores of a
rater (``block=50``).  Per rater and block: ``n``, exact and adjacent agreement with the
reference, and the signed **bias** (mean rater - reference) with a work-clustered SE.

Detectors (``method``):

* ``changepoint`` (default, retrospective): the max-type test of one shift in each rater's
  bias series (Hawkins 1977), with the change placed, its size and CI, and a p-value from the
  statistic's simulated null distribution given the rater's block SEs
  (:func:`irr.stats.drift.changepoint_test`); the same test on exact agreement finds raters
  who became **less accurate**.  Multiplicity control across raters and both measures
  (Holm by default, or Benjamini-Hochberg);
* ``cusum``, ``ewma``, ``shewhart`` (live monitoring): control charts of the standardized
  bias :math:`z_t = (b_t - b_0)/\\sqrt{s_t^2 + s_0^2}` against the rater's baseline
  :math:`b_0` (the first ``baseline_blocks`` blocks), two-sided CUSUM with (k, h), EWMA with
  (lambda, L), Shewhart limits at L SEs, with a p chart of exact agreement against the
  baseline's ("less accurate" below it);
* ``exact_drop=X`` (any method): the NAEP-style rule, "exact agreement fell by at least X
  from the opening block".

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> rows = []
>>> for s in range(8):
...     for r in range(6):
...         for w in range(15):
...             truth = rng.integers(1, 5)
...             shift = 0.8 if (r == 0 and s >= 4) else 0.0
...             rows.append(dict(session_id=f"s{s}", session_date=f"2026-0{s + 1}-01", rater_id=f"R{r}",
...                              work_id=f"s{s}-w{w}", task_id="t", dimension="d",
...                              score=int(np.clip(np.rint(truth + shift + rng.normal(0, .3)), 1, 4)),
...                              reference=truth))
>>> scores = pd.DataFrame(rows)
>>> bank_free = scores.rename(columns={"reference": "true_score"})
>>> result = rater_drift(bank_free, reference="true_score")
>>> flags = result.flags.set_index("rater_id")
>>> bool(flags.loc["R0", "flagged"]), flags.loc["R0", "first_alarm"], int(flags["flagged"].sum())
(True, 's4', 1)
>>> round(float(flags.loc["R0", "shift"]), 1)   # +0.8 latent; scores clipped at 4 show less
0.6
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from irr.analysis.result import AnalysisResult, Section, TableColumns, make_meta
from irr.analysis.scores import numeric_scores
from irr.errors import DataError, NotFoundError
from irr.stats import adjust_pvalues, changepoint_test, cusum, ewma, p_chart, shewhart

__all__ = [
    "rater_drift",
    "drift_across_sessions",
    "DriftResult",
    "METHODS",
    "REFERENCES",
    "DRIFT_SECTION",
    "DRIFT_COLUMNS",
]

METHODS = ("changepoint", "cusum", "ewma", "shewhart")
REFERENCES = ("auto", "anchor", "consensus", "others")


# ----------------------------------------------------------------------------- references
def _anchor_truth(rows: pd.DataFrame, bank) -> np.ndarray:
    """The anchor's consensus score of each row whose work is one of its task's anchors (NaN otherwise)."""
    out = np.full(len(rows), np.nan)
    if bank is None:
        return out
    table = []
    for task in rows["task_id"].astype(str).unique():
        try:
            anchors = bank.task(task).anchors
        except NotFoundError:  # a task the bank does not hold has no anchors to compare with
            continue
        table += [(task, a.id, dim, float(v)) for a in anchors for dim, v in a.scores.items()]
    if not table:
        return out
    truth = pd.DataFrame(table, columns=["task_id", "work_id", "dimension", "truth"])
    keyed = (
        rows[["task_id", "work_id", "dimension"]]
        .astype(str)
        .merge(truth, how="left", on=["task_id", "work_id", "dimension"])
    )
    return keyed["truth"].to_numpy(float)


def _codes(rows: pd.DataFrame, columns) -> np.ndarray:
    """One integer per distinct combination of the columns' values (factorized, no string keys)."""
    key = np.zeros(len(rows), dtype=np.int64)
    span = 1
    for col in columns:
        codes, uniques = pd.factorize(rows[col])
        if span * (len(uniques) + 1) >= 2**62:  # renumber before the product could overflow
            key, seen = pd.factorize(key)
            span = len(seen)
        key = key * (len(uniques) + 1) + codes
        span *= len(uniques) + 1
    return key


def _leave_one_out(key: np.ndarray, value: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per row, the mean of the *other* rows of its key among ``mask`` (NaN when there are none)."""
    n_keys = int(key.max()) + 1 if key.size else 0
    total = np.bincount(key, weights=np.where(mask, value, 0.0), minlength=n_keys)
    count = np.bincount(key, weights=mask.astype(float), minlength=n_keys)
    own = mask.astype(float)
    others = count[key] - own
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(others > 0, (total[key] - np.where(mask, value, 0.0)) / others, np.nan)


def _references(rows: pd.DataFrame, bank, reference: str, work: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference score of every row and which kind it is ("" where there is none)."""
    if reference not in REFERENCES:  # a column of the scores holding the reference (e.g. a true score)
        if reference not in rows:
            raise DataError(
                f"reference must be one of {', '.join(REFERENCES)} or a column of the scores; got {reference!r}"
            )
        values = pd.to_numeric(rows[reference], errors="coerce").to_numpy(float)
        return values, np.where(np.isfinite(values), reference, "")
    dim_codes, dims = pd.factorize(rows["dimension"])
    key = pd.factorize(work * (len(dims) + 1) + dim_codes)[0]
    value = rows["score"].to_numpy(float)
    read = rows["read_type"].astype(str).to_numpy() if "read_type" in rows else np.full(len(rows), "first")
    is_consensus = read == "consensus"
    candidates = {
        "anchor": _anchor_truth(rows, bank),
        "consensus": _leave_one_out(key, value, is_consensus),
        "others": _leave_one_out(key, value, ~is_consensus),
    }
    order = ["anchor", "consensus", "others"] if reference == "auto" else [reference]
    out = np.full(len(rows), np.nan)
    kind = np.full(len(rows), "", dtype=object)
    for name in order:
        take = np.isnan(out) & np.isfinite(candidates[name])
        out[take] = candidates[name][take]
        kind[take] = name
    return out, kind


# ----------------------------------------------------------------------------- blocks
def _blocks(rows: pd.DataFrame, time: str, block) -> tuple[np.ndarray, list[str]]:
    """A block index for every row (0, 1, ... in time order) and the blocks' labels."""
    if time == "session":
        dates = rows["session_date"].astype(str) if "session_date" in rows else pd.Series("", index=rows.index)
        order = (
            pd.DataFrame({"session": rows["session_id"].astype(str), "date": dates})
            .drop_duplicates("session")
            .sort_values(["date", "session"], kind="stable")
        )
        labels = order["session"].tolist()
        index = pd.Series(np.arange(len(labels)), index=labels)
        return index.reindex(rows["session_id"].astype(str)).to_numpy(), labels
    if time != "timestamp":
        raise DataError(f"time must be 'session' or 'timestamp', not {time!r}")
    if "timestamp" not in rows:
        raise DataError("time='timestamp' needs a timestamp column")
    stamps = pd.to_datetime(rows["timestamp"].replace("", None), errors="coerce")
    if stamps.isna().all():
        raise DataError("no score has a timestamp; ingest score sheets with a timestamp column, or use time='session'")
    if block is None:
        block = "30min"
    if isinstance(block, (int, np.integer)) or (isinstance(block, str) and block.isdigit()):
        size = int(block)
        if size < 1:
            raise DataError("block must be a positive number of scores")
        rank = (
            pd.DataFrame({"rater": rows["rater_id"].astype(str), "t": stamps})
            .assign(i=np.arange(len(rows)))
            .sort_values(["rater", "t", "i"], kind="stable")
        )
        rank["k"] = rank.groupby("rater").cumcount() // size
        index = np.empty(len(rows), dtype=np.int64)
        index[rank["i"].to_numpy()] = rank["k"].to_numpy()
        labels = [f"scores {k * size + 1}-{(k + 1) * size}" for k in range(int(index.max()) + 1)]
        return index, labels
    try:
        width = pd.Timedelta(block)
    except ValueError:
        raise DataError(f"block {block!r} is neither a number of scores nor a duration such as '30min'") from None
    start = stamps.min()
    index = ((stamps - start) // width).to_numpy()
    index = np.where(np.isnan(index.astype(float)), -1, index).astype(np.int64)
    labels = [
        f"{(start + k * width):%Y-%m-%d %H:%M}-{(start + (k + 1) * width):%H:%M}" for k in range(int(index.max()) + 1)
    ]
    return index, labels


# ----------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class DriftResult(AnalysisResult):
    """Result of :func:`rater_drift`: tables ``flags`` (one row per rater) and ``series``."""

    @property
    def flags(self) -> pd.DataFrame:
        return self.tables["flags"]

    @property
    def series(self) -> pd.DataFrame:
        return self.tables["series"]

    @property
    def flagged(self) -> pd.DataFrame:
        return self.flags[self.flags["flagged"].astype(bool)]


# how a result that links to drift shows its ``drift`` table (calibration and rater reports)
DRIFT_SECTION = Section("drift", "Drift across sessions (irr drift)", ("drift",))
DRIFT_COLUMNS = TableColumns(counts=("n_scores",), support="n_scores", fixed=("n_blocks",), drop_when_anonymized=())


def drift_across_sessions(store, bank, raters) -> pd.DataFrame | None:
    """The drift flags of ``raters`` across every session of the store they scored in (``irr drift
    --all`` restricted to them), when they span at least three sessions; None otherwise (or when
    there is no reference to compare with).  What the calibration and rater reports link to."""
    raters = sorted({str(r) for r in raters})
    history = store.scores(bank=bank, rater=raters)
    if history.empty or history["session_id"].nunique() < 3:
        return None
    try:
        flags = rater_drift(history, bank).flags
    except (NotFoundError, DataError):  # no reference to compare with, or too little: no drift to show
        return None
    return flags[flags["rater_id"].isin(raters)].reset_index(drop=True)


def _adjust(p: np.ndarray, method: str) -> np.ndarray:
    return adjust_pvalues(p, method)


def _calibrate_chart(
    method: str,
    n_after: int,
    baseline_blocks: int,
    per_rater: float,
    k: float,
    lam: float,
    random_state: int,
    n_sim: int = 20_000,
) -> float:
    """The chart's threshold (CUSUM h, EWMA or Shewhart L) whose chance of any false alarm over
    ``n_after`` in-control blocks is ``per_rater``, by simulating the standardized in-control series
    with its baseline (the shared baseline makes the z correlated), vectorised over replicates."""
    rng = np.random.default_rng(random_state)
    e = rng.standard_normal((n_sim, baseline_blocks + n_after))
    b0 = e[:, :baseline_blocks].mean(axis=1)
    z = (e[:, baseline_blocks:] - b0[:, None]) / np.sqrt(1 + 1 / baseline_blocks)
    if method == "cusum":
        sums = cusum(z, k=k, h=1e12)
        worst = np.maximum(sums.upper, sums.lower).max(axis=1)
    elif method == "ewma":
        path = ewma(z, lam=lam, L=1.0)
        worst = (np.abs(path.statistic) / path.limit).max(axis=1)
    else:
        worst = np.abs(z).max(axis=1)
    return float(np.quantile(worst, 1 - per_rater))


def _grid(values: np.ndarray, rater: np.ndarray, block: np.ndarray, shape) -> np.ndarray:
    out = np.full(shape, np.nan)
    out[rater, block] = values
    return out


def rater_drift(
    scores: pd.DataFrame,
    bank=None,
    *,
    time: str = "session",
    block: str | int | None = None,
    reference: str = "auto",
    method: str = "changepoint",
    alpha: float = 0.05,
    multiplicity: str = "holm",
    min_block: int = 5,
    baseline_blocks: int = 3,
    k: float = 0.5,
    h: float | None = None,
    lam: float = 0.2,
    limit: float | None = None,
    exact_drop: float | None = None,
    level: float = 0.95,
    n_sim: int = 2000,
    random_state: int = 0,
    provenance: Mapping[str, Any] | None = None,
    selection: Mapping[str, Any] | None = None,
    mfrm: bool = False,
) -> DriftResult:
    """Which raters changed: bias and agreement by block against each rater's own baseline.

    Parameters
    ----------
    scores : DataFrame
        Long scores (``Store.scores()``): ``rater_id, work_id, task_id, dimension, score``,
        ``session_id`` and ``session_date`` (``time="session"``) or ``timestamp``, optionally
        ``read_type``, ``condition_code``.
    bank : Bank, optional
        Anchor papers' consensus scores (the ``anchor`` reference).
    time, block :
        ``"session"`` (blocks are sessions by date) or ``"timestamp"`` with ``block`` a
        duration (``"30min"``, the default) or a number of scores per rater (``50``).
    reference : {"auto", "anchor", "consensus", "others"} or a column name
        What each score is compared with (see the module docstring).
    method : {"changepoint", "cusum", "ewma", "shewhart"}
    alpha, multiplicity : float, {"holm", "bh", "none"}
        The change-point tests' level and multiplicity control across raters (and across the
        bias and agreement tests).
    min_block : int
        Fewest scores with a reference for a rater's block to count.
    baseline_blocks : int
        Blocks that make the control charts' baseline (the opening blocks).
    k, h, lam, limit :
        CUSUM (k, h), EWMA lambda, and the EWMA/Shewhart limit in SEs.  ``h`` and ``limit``
        default to the thresholds whose chance of any false alarm over a rater's blocks is
        alpha / raters (alpha with ``multiplicity="none"``), found by simulating the in-control
        chart with its baseline: the control across raters the change-point test has.  With
        k = 0.5, 9 blocks after a 3-block baseline and 50 raters this gives h = 12.3: the shared
        baseline makes the z correlated, and at the textbook h = 4 (or 5) a stable rater alarms
        in 14% (8%) of such seasons.
    exact_drop : float, optional
        Also flag a rater whose exact agreement in a later block is at least this much below
        the opening block's (NAEP's "decline from the opening block" rule).

    mfrm : bool
        Also fit the many-facet Rasch model (works x raters x dimensions,
        :func:`irr.analysis.facets.fit_facets`) and estimate every rater x block interaction with
        the main effects anchored (FACETS Table 13): table ``mfrm`` (``rater_id, block_label,
        count, bias, se, t, p, p_adjusted``; positive bias = harsher in that block than the
        rater's own overall severity), Holm-adjusted (``multiplicity``) across all cells.  A rater
        with a cell below ``alpha`` is flagged too (direction from the largest |t|, first alarm
        at the first significant block of that sign).  Every score with a block counts, with or
        without a reference.

    Returns
    -------
    DriftResult
        ``flags``: ``rater_id, flagged, direction, first_alarm, shift, ci_low, ci_high, p_value,
        p_adjusted, method, n_blocks, n_scores, baseline_bias, accuracy_change, accuracy_p_value,
        accuracy_p_adjusted, reference``; ``series``: per rater and block ``n, exact, adjacent, bias, bias_se,
        baseline, z, lower_limit, upper_limit, alarm``.

    References
    ----------
    Hawkins, D. M. (1977). Testing a sequence of observations for a shift in location. *JASA*
    72, 180-186.  Page, E. S. (1954). Continuous inspection schemes. *Biometrika* 41, 100-115.
    Roberts, S. W. (1959). Control chart tests based on geometric moving averages.
    *Technometrics* 1, 239-250.  Omar, M. H. (2010). Statistical process control charts for
    measuring and monitoring temporal consistency of ratings. *JEM* 47(1), 18-35.
    """
    if method not in METHODS:
        raise DataError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    required = {"rater_id", "work_id", "task_id", "dimension", "score"} | (
        {"session_id"} if time == "session" else set()
    )
    missing = sorted(required - set(scores.columns))
    if missing:
        raise DataError(f"scores lack column(s) {missing} needed for drift")
    rows = numeric_scores(scores).reset_index(drop=True)
    dropped: dict[str, int] = {}
    if len(rows) < len(scores):
        dropped["condition-coded score (no score point to compare)"] = int(len(scores) - len(rows))
    if rows.empty:
        raise NotFoundError("no scores to follow over time")
    work_all = _codes(rows, ["task_id", "work_id"])
    ref, kind = _references(rows, bank, reference, work_all)
    read = rows["read_type"].astype(str).to_numpy() if "read_type" in rows else np.full(len(rows), "")
    judged = np.isfinite(ref) & (read != "consensus")  # a consensus read is the reference, not a rater's read
    if (~judged).any():
        no_ref = int((~np.isfinite(ref)).sum())
        if no_ref:
            dropped["score with no reference (no anchor truth, consensus or other read of the work)"] = no_ref
        n_consensus = int(((read == "consensus") & np.isfinite(ref)).sum())
        if n_consensus:
            dropped["consensus read (a reference, not a rater's score)"] = n_consensus
    block_index, labels = _blocks(rows, time, block)
    no_time = block_index < 0
    if (judged & no_time).any():
        dropped["score with no timestamp"] = int((judged & no_time).sum())
    mfrm_rows = ~no_time & (read != "consensus")
    mfrm_table = (
        _mfrm_blocks(rows[mfrm_rows], block_index[mfrm_rows], labels, min_block, multiplicity) if mfrm else None
    )
    judged &= ~no_time
    if not judged.any():
        raise NotFoundError(
            "no score has a reference to compare with: score anchor papers, double-score some works, "
            "or record consensus reads"
        )
    rows, ref, kind, block_index = rows[judged], ref[judged], kind[judged], block_index[judged]
    work = pd.factorize(work_all[judged])[0]
    rater_codes, raters = pd.factorize(rows["rater_id"].astype(str), sort=True)
    n_raters, n_blocks = len(raters), len(labels)
    cell = rater_codes * n_blocks + block_index
    x = rows["score"].to_numpy(float)
    d = x - ref
    n = np.bincount(cell, minlength=n_raters * n_blocks).astype(float)
    exact = np.bincount(cell, weights=(np.abs(d) < 0.5).astype(float), minlength=n.size)
    adjacent = np.bincount(cell, weights=(np.abs(d) <= 1.5).astype(float), minlength=n.size)
    dsum = np.bincount(cell, weights=d, minlength=n.size)
    dsq = np.bincount(cell, weights=d * d, minlength=n.size)
    # work-clustered SE of each cell's bias: the dimensions of one work are not independent reads
    cluster = np.unique(cell.astype(np.int64) * (int(work.max()) + 1) + work, return_inverse=True)[1].reshape(-1)
    n_cl = int(cluster.max()) + 1
    cl_cell = np.zeros(n_cl, dtype=np.int64)
    cl_cell[cluster] = cell
    cl_sum = np.bincount(cluster, weights=d, minlength=n_cl)
    cl_n = np.bincount(cluster, minlength=n_cl).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        bias = dsum / n
        p_exact = exact / n
        resid = cl_sum - bias[cl_cell] * cl_n
    g = np.bincount(cl_cell, minlength=n.size).astype(float)
    usable = n >= min_block
    shape = (n_raters, n_blocks)
    # The SE of a block's bias from the rater's *pooled* between-work variance (all blocks): a
    # block's own 20 works give a noisy SE, and a noisy SE taken as known makes the max-type test
    # reject too often.  var_t = s^2 g_t / n_t^2, s^2 = sum of squared work residuals / sum (g_t - 1).
    ss = np.bincount(cl_cell, weights=resid**2, minlength=n.size).reshape(shape)
    dof = np.where(usable, g - 1, 0).reshape(shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = np.sum(np.where(usable.reshape(shape), ss, 0), axis=1) / np.sum(dof, axis=1)
        se_g = np.sqrt(pooled[:, None] * g.reshape(shape)) / n.reshape(shape)
    bias_g = np.where(usable, bias, np.nan).reshape(shape)
    se_g = np.where(usable.reshape(shape) & (se_g > 0), se_g, np.where(usable.reshape(shape), 1e-6, np.nan))
    exact_g = np.where(usable, p_exact, np.nan).reshape(shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        # the spread of a rater's differences around the block's own bias: accuracy net of a shift
        spread = np.sqrt(np.maximum(dsq - n * bias**2, 0) / (n - 1))
    spread_g = np.where(usable & (n > 1), spread, np.nan).reshape(shape)
    spread_se = np.where(spread_g > 0, spread_g, np.nan) / np.sqrt(2 * np.maximum(n.reshape(shape) - 1, 1))
    n_g = n.reshape(shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        # agreement's SE from the block's proportion, floored at one score's worth (p = 0 or 1)
        exact_se = np.sqrt(np.maximum(exact_g * (1 - exact_g), 1 / np.maximum(n_g, 1)) / n_g)
    # baseline: the rater's opening usable blocks
    seen = np.cumsum(np.isfinite(bias_g), axis=1)
    opening = np.isfinite(bias_g) & (seen <= baseline_blocks)
    w0 = np.where(opening, 1 / se_g**2, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        b0 = np.sum(w0 * np.nan_to_num(bias_g), axis=1) / np.sum(w0, axis=1)
        s0 = np.sqrt(1 / np.sum(w0, axis=1))
        z = (bias_g - b0[:, None]) / np.sqrt(se_g**2 + s0[:, None] ** 2)
    z_after = np.where(opening, np.nan, z)
    lower = upper = np.full(shape, np.nan)
    if method == "changepoint":
        cp = changepoint_test(bias_g, se_g, n_sim=n_sim, random_state=random_state, level=level)
        acc = changepoint_test(exact_g, exact_se, n_sim=n_sim, random_state=random_state + 1, level=level)
        family = _adjust(np.concatenate([cp.p_value, acc.p_value]), multiplicity)
        p_adj, acc_adj = family[:n_raters], family[n_raters:]
        shifted = p_adj < alpha
        # A shifted rater agrees less with the reference through the shift alone: "less accurate"
        # too only when the spread of the differences around the rater's bias grew as well.
        spread_cp = changepoint_test(spread_g, spread_se, n_sim=n_sim, random_state=random_state + 2, level=level)
        spread_adj = _adjust(np.where(shifted, spread_cp.p_value, np.nan), multiplicity)
        wider = (spread_adj < alpha) & (spread_cp.shift > 0)
        worse = (acc_adj < alpha) & (acc.shift < 0) & (~shifted | wider)
        change = np.where(shifted, cp.change_index, np.where(worse, acc.change_index, -1))
        shift, shift_low, shift_high, p_value = cp.shift, cp.ci_low, cp.ci_high, cp.p_value
        alarm_grid = np.zeros(shape, dtype=bool)
        valid = change >= 0
        alarm_grid[np.flatnonzero(valid), change[valid]] = True
        accuracy_change, accuracy_p, accuracy_adj = acc.shift, acc.p_value, acc_adj
    else:
        chart: Any
        per_rater = alpha if multiplicity == "none" else alpha / n_raters
        n_after = max(1, n_blocks - baseline_blocks)
        if method == "cusum" and h is None:
            h = _calibrate_chart("cusum", n_after, baseline_blocks, per_rater, k, lam, random_state)
        if method in ("ewma", "shewhart") and limit is None:
            limit = _calibrate_chart(method, n_after, baseline_blocks, per_rater, k, lam, random_state)
        if method == "cusum":
            chart = cusum(z_after, k=k, h=float(h if h is not None else 0))
            upper, lower = chart.upper, -chart.lower
        elif method == "ewma":
            chart = ewma(z_after, lam=lam, L=float(limit if limit is not None else 0))
            upper, lower = chart.limit, -chart.limit
        else:
            chart = shewhart(
                z_after,
                np.where(np.isfinite(z_after), 1.0, np.nan),
                center=0.0,
                L=float(limit if limit is not None else 0),
            )
            upper, lower = chart.upper, chart.lower
        alarm_grid = np.asarray(chart.alarm, dtype=bool)
        change = np.asarray(chart.first_alarm)
        shifted = change >= 0
        worse = np.zeros(n_raters, dtype=bool)
        if method == "shewhart":
            # the p chart of exact agreement against the rater's opening blocks, at the same limit:
            # a block below it is "less accurate" (unless the bias chart already explains it)
            hits = np.where(opening, exact_g * n_g, 0.0)
            p0 = np.nansum(hits, axis=1) / np.nansum(np.where(opening, n_g, 0.0), axis=1)
            p0 = np.clip(np.where(np.isfinite(p0), p0, 0.5), 1e-3, 1 - 1e-3)
            agreement = p_chart(
                np.where(opening, np.nan, exact_g * n_g), np.where(opening, np.nan, n_g), p0=p0, L=float(limit or 0)
            )
            low = np.asarray(agreement.alarm, dtype=bool) & (np.asarray(agreement.direction) < 0)
            worse = low.any(axis=1) & ~shifted
            change = np.where(shifted, change, np.where(worse, np.argmax(low, axis=1), -1))
            alarm_grid = alarm_grid | (low & ~shifted[:, None])
        after = np.where(np.isfinite(bias_g) & ~opening, bias_g, np.nan)
        with np.errstate(invalid="ignore"):
            shift = np.nanmean(after, axis=1) - b0
        shift_low = shift_high = p_value = p_adj = np.full(n_raters, np.nan)
        accuracy_change, accuracy_p = np.full(n_raters, np.nan), np.full(n_raters, np.nan)
        accuracy_adj = np.full(n_raters, np.nan)
    dropped_rule: Any = np.zeros(n_raters, dtype=bool)
    if exact_drop is not None:
        first_exact = np.take_along_axis(exact_g, np.argmax(np.isfinite(exact_g), axis=1)[:, None], axis=1)[:, 0]
        fell = (first_exact[:, None] - exact_g >= exact_drop) & ~opening
        dropped_rule = fell.any(axis=1)
        worse = worse | dropped_rule
        first_fall = np.where(dropped_rule, np.argmax(fell, axis=1), -1)
        change = np.where(change >= 0, change, first_fall)
    direction = np.where(shifted, np.where(shift > 0, "lenient", "severe"), "")
    direction = np.where(
        worse,
        np.where(direction == "", "less accurate", np.char.add(direction.astype(str), ", less accurate")),
        direction,
    )
    label_array = np.asarray(labels, dtype=object)
    method_text = method + (f" + exact drop >= {exact_drop:g}" if exact_drop is not None else "")
    if mfrm_table is not None and not mfrm_table.empty:
        method_text += " + MFRM rater x block"
        hit = _mfrm_alarms(mfrm_table, np.asarray(raters, dtype=object), alpha, list(labels))
        new = hit["flag"] & ~(shifted | worse)
        direction = np.where(new, hit["direction"], direction)
        change = np.where(new, hit["first"], change)
        shifted = shifted | new
    pairs = pd.DataFrame({"r": rater_codes, "k": kind}).drop_duplicates().sort_values(["r", "k"])
    kinds = pairs.groupby("r")["k"].agg(", ".join)  # a few rows per rater: the distinct kinds
    flags = pd.DataFrame(
        {
            "rater_id": np.asarray(raters, dtype=object),
            "flagged": shifted | worse,
            "direction": direction,
            "first_alarm": np.where(change >= 0, label_array[np.clip(change, 0, None)], ""),
            "shift": shift,
            "ci_low": shift_low,
            "ci_high": shift_high,
            "p_value": p_value,
            "p_adjusted": p_adj,
            "method": method_text,
            "n_blocks": np.isfinite(bias_g).sum(axis=1),
            "n_scores": np.bincount(rater_codes, minlength=n_raters),
            "baseline_bias": b0,
            "accuracy_change": accuracy_change,
            "accuracy_p_value": accuracy_p,
            "accuracy_p_adjusted": accuracy_adj,
            "reference": kinds.reindex(range(n_raters)).fillna("").to_numpy(),
        }
    )
    flags = flags.sort_values(["flagged", "p_value", "rater_id"], ascending=[False, True, True], kind="stable")
    r_idx, b_idx = np.divmod(np.arange(n_raters * n_blocks), n_blocks)
    present = n > 0
    series = pd.DataFrame(
        {
            "rater_id": np.asarray(raters, dtype=object)[r_idx],
            "block": b_idx,
            "block_label": label_array[b_idx],
            "n": n.astype(np.int64),
            "exact": p_exact,
            "adjacent": adjacent / np.where(n > 0, n, np.nan),
            "bias": bias,
            "bias_se": se_g.ravel(),
            "baseline": b0[r_idx],
            "z": z.ravel(),
            "lower_limit": np.asarray(lower).ravel() if np.ndim(lower) else np.nan,
            "upper_limit": np.asarray(upper).ravel() if np.ndim(upper) else np.nan,
            "alarm": alarm_grid.ravel(),
            "used": usable,
        }
    )[present].reset_index(drop=True)
    meta = make_meta(
        analysis="drift",
        level=level,
        provenance=provenance,
        parameters={
            "time": time,
            "block": block,
            "reference": reference,
            "method": method,
            "alpha": alpha,
            "multiplicity": multiplicity,
            "min_block": min_block,
            "baseline_blocks": baseline_blocks,
            "k": k,
            "h": h,
            "lambda": lam,
            "limit": limit,
            "exact_drop": exact_drop,
            "n_sim": n_sim,
            "random_state": random_state,
            "selection": dict(selection or {}),
            "mfrm": bool(mfrm),
        },
        dropped=dropped,
        blocks=labels,
        references_used={str(k_): int(v) for k_, v in pd.Series(kind).value_counts().items()},
    )
    columns = {
        "flags": TableColumns(counts=("n_scores",), support="n_scores", fixed=("n_blocks",), drop_when_anonymized=()),
        "series": TableColumns(counts=("n",), support="n", fixed=("block",), drop_when_anonymized=()),
    }
    tables = {"flags": flags.reset_index(drop=True), "series": series}
    sections = [Section("flags", "Raters", ("flags",)), Section("series", "By block", ("series",))]
    if mfrm_table is not None:
        tables["mfrm"] = mfrm_table
        sections.append(Section("mfrm", "Rater x block interactions (many-facet Rasch)", ("mfrm",)))
        columns["mfrm"] = TableColumns(
            counts=("count",), support="count", drop_when_anonymized=(), suppressed_label="suppressed (n < {k})"
        )
    return DriftResult(
        kind="drift",
        title="Rater drift",
        tables=tables,
        meta=meta,
        sections=tuple(sections),
        columns=columns,
    )


def _mfrm_blocks(rows: pd.DataFrame, block_index: np.ndarray, labels, min_block: int, multiplicity: str):
    """Rater x block interactions of the many-facet Rasch model (FACETS Table 13) on the drift data."""
    from irr.analysis.facets import fit_facets

    task = rows["task_id"].astype(str).to_numpy()
    frame = pd.DataFrame(
        {
            "work_id": task + " / " + rows["work_id"].astype(str).to_numpy(),
            "rater_id": rows["rater_id"].astype(str).to_numpy(),
            "dimension": task + " / " + rows["dimension"].astype(str).to_numpy(),
            "score": rows["score"].to_numpy(),
            "block_label": np.asarray(labels, dtype=object)[block_index],
        }
    )
    ranges = frame.groupby("dimension")["score"].agg(["min", "max"]).drop_duplicates()
    model = "partial_credit" if len(ranges) > 1 else "rating_scale"
    fit = fit_facets(frame, model=model, bias=(), correct_bias=False, severity_logits=None)
    table = fit.bias("rater_id", "block_label", min_count=min_block, multiplicity=multiplicity)
    order = {label: i for i, label in enumerate(labels)}
    table = table.assign(_order=table["block_label"].map(order)).sort_values(["rater_id", "_order"], kind="stable")
    return table.drop(columns="_order").reset_index(drop=True)


def _mfrm_alarms(table: pd.DataFrame, raters: np.ndarray, alpha: float, labels: list) -> dict[str, np.ndarray]:
    """Per rater: any significant rater x block cell, the way the rater moved and the first such block.

    A block's bias is relative to the rater's own overall severity, so a rater who turned lenient
    shows harsh early blocks *and* lenient late ones: the direction is the sign of the weighted
    trend of the bias over the blocks, the first alarm the first significant block on that side.
    """
    order = {label: i for i, label in enumerate(labels)}
    usable = table[np.isfinite(table["bias"]) & np.isfinite(table["se"]) & (table["se"] > 0)]
    usable = usable.assign(o=usable["block_label"].map(order).astype(float), w=1.0 / usable["se"] ** 2)
    g = usable.groupby("rater_id")
    sw = g["w"].sum()
    mo = (usable["w"] * usable["o"]).groupby(usable["rater_id"]).sum() / sw
    mb = (usable["w"] * usable["bias"]).groupby(usable["rater_id"]).sum() / sw
    do = usable["o"] - usable["rater_id"].map(mo)
    trend = (usable["w"] * do * (usable["bias"] - usable["rater_id"].map(mb))).groupby(usable["rater_id"]).sum()
    sig = usable[usable["p_adjusted"] < alpha]
    sig = sig[np.sign(sig["bias"]).to_numpy() == np.sign(sig["rater_id"].map(trend)).to_numpy()]
    earliest = sig.groupby("rater_id")["o"].min()
    flag = np.isin(raters, earliest.index.to_numpy())
    direction = np.where(flag, np.where(pd.Series(raters).map(trend).to_numpy(float) > 0, "severe", "lenient"), "")
    first = pd.Series(raters).map(earliest).fillna(-1).to_numpy().astype(int)
    return {"flag": flag, "direction": direction.astype(object), "first": first}
