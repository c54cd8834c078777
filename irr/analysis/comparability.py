"""District comparability: local scores against audit rescoring (``irr compare``).

In a regional audit (or a district peer-review audit) a sample of each district's locally
scored work is rescored by auditors from other districts.  :func:`compare_districts` pairs
every audited score with the local score of the same work and dimension and asks, per
district (and per task and dimension where asked), whether the district's local scoring is
**lenient**, **severe** or **inconsistent** compared with the audit, and, per student
subgroup (the ``flag_*`` columns), whether local scoring treats a group differently from
the others at the same audit score (**equity**).

Notation.  For work *w*, dimension *k* and auditor *a*: the local score :math:`L_{wk}` (the
mean of the work's local reads) and the audit score :math:`A_{wka}`.  A work read by
:math:`m_{wk}` auditors enters with weight :math:`1/m_{wk}` per auditor, so every work and
dimension counts once.  For a district *d* (sums over its pairs):

* mean difference :math:`\\bar D_d = \\sum \\omega (L - A) / \\sum \\omega` (score points,
  positive = local scores higher = lenient);
* standardized mean difference (Williamson, Xi & Breyer 2012, as RSMTool's "williamson"
  SMD): :math:`\\bar D_d / \\sqrt{(\\sigma_L^2 + \\sigma_A^2)/2}` with the *population* SDs of
  the region's local and audit scores in the same task and dimension (the score SD, not the
  SD of the differences, so the size rule is not a p-value rule in disguise);
* exact and adjacent agreement (:math:`|L - A| = 0` and :math:`\\le 1`);
* quadratic weighted kappa, which for paired scores equals (Cohen 1968; Haberman's form as
  in RSMTool) :math:`\\kappa_q = 1 - \\overline{(L-A)^2} / (s_L^2 + s_A^2 + (\\bar L - \\bar A)^2)`;
* proficiency classification at the rubric's achievement cut: the share of pairs on the
  same side, and Cohen's kappa of the 2 x 2 table (the same formula on the 0/1 indicators).

Inference treats **works as the sampled units**: every statistic is a smooth function of
sums over works, and its standard error is the cluster (work) linearization
(Woodruff 1971; the sandwich estimator), :math:`\\widehat{var}(f) = \\frac{n}{n-1}\\sum_w
(\\nabla f \\cdot (u_w - \\bar u))^2` with :math:`u_w` the work's sums -- never the scores as
if independent.  The mean difference has a t interval on n_works - 1 degrees of freedom.

Flags (thresholds from the ``comparability`` profile, :class:`~irr.analysis.profiles.ComparabilityProfile`):

* **lenient / severe**: the mean difference is statistically clear after multiplicity
  control across districts (Holm 1979 by default) *and* at least the size threshold (0.15
  score SD by default, or a number of score points);
* **inconsistent**: the district's kappa or exact agreement with the audit is clearly below
  the other districts' (one-sided tests of the difference, on Fisher's z and the logit scale)
  *and* lower by at least the profile's drop (0.10).  The reference is the other districts'
  pooled exact agreement and the mean of their own kappas (a kappa pooled over districts that
  differ in achievement is higher than any district's).  A district with a clear mean
  difference loses agreement through the shift alone, so it is also called inconsistent only
  when its kappa *net of the mean difference* (:math:`2 s_{LA} / (s_L^2 + s_A^2)`) is clearly
  low as well;
* every test of the district table (each district's difference, kappa and exact agreement)
  is one multiplicity family, so the chance of any false flag on null data stays at alpha;
* a district with fewer than ``min_n`` audited works is reported as "too few audited
  works" and never flagged (nor counted in the multiplicity family).

Equity (RSMTool's fairness analyses, Loukina, Madnani & Zechner 2019): for each subgroup,
the mean difference, its SMD, the DSM (mean of the standardized local minus standardized
audit scores of the group's pairs) and the **conditional difference**: the subgroup's
coefficient in the regression of :math:`L - A` on the subgroup indicator, the work's score
level and the task x dimension, with work-clustered (CR1) standard errors -- the difference
between the group and the other students *at the same score level*, which separates a rater
bias (or a bias that depends on the score level, such as central tendency) from a true
difference between the groups.  The score level is the mean of the local and audit scores
(Bland & Altman 1999), not the audit score alone: conditioning on an error-laden audit score
credits a group that truly scores lower with a difference of its own (regression to the
group's mean; in ``scripts/sim_comparability.py`` a true gap of -0.6 with no bias was flagged
in 64% of datasets that way, and in 3% with the mean).

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> works = pd.DataFrame({"work_id": [f"w{i}" for i in range(60)],
...                       "work_district": np.repeat(["North", "South", "East"], 20)})
>>> truth = rng.normal(2.5, 0.8, 60)
>>> bias = np.where(works["work_district"] == "North", 0.8, 0.0)
>>> local = works.assign(rater_id="teacher", read_type="first",
...                      score=np.clip(np.rint(truth + bias + rng.normal(0, .3, 60)), 1, 4))
>>> audit = works.assign(rater_id="auditor", read_type="audit",
...                      score=np.clip(np.rint(truth + rng.normal(0, .3, 60)), 1, 4))
>>> scores = pd.concat([local, audit]).assign(task_id="t", dimension="d")
>>> result = compare_districts(scores, profile=None)
>>> result.districts[["district", "n_works", "flagged", "direction"]]
  district  n_works  flagged   direction
0     East       20    False  comparable
1    North       20     True     lenient
2    South       20    False  comparable
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

from irr.analysis.profiles import ComparabilityProfile, load_comparability_profile
from irr.analysis.result import AnalysisResult, Section, TableColumns, make_meta
from irr.analysis.scores import condition_coded
from irr.errors import DataError, NotFoundError
from irr.stats import adjust_pvalues

__all__ = ["compare_districts", "ComparabilityResult", "TOO_FEW", "SMD_DEFINITION", "suppressed_label"]

TOO_FEW = "too few audited works"
SMD_DEFINITION = (
    "Williamson, Xi & Breyer (2012) standardized mean difference: mean(local - audit) divided by "
    "sqrt((var_local + var_audit) / 2), the population variances of the region's local and audit "
    "scores in the same task and dimension"
)
_TRUE = {"1", "true", "yes", "y", "t"}


_SUPPRESSED = "suppressed (n < {k})"


def suppressed_label(k: int) -> str:
    """The text that replaces a number computed from fewer than ``k`` works in a public report."""
    return _SUPPRESSED.format(k=k)


# --------------------------------------------------------------------- sums and their algebra
# Per work (cluster) sums of the pairs: the statistics are smooth functions of these totals.
_SUMS = ("n", "sl", "sa", "sll", "saa", "sla", "exact", "adjacent", "nc", "pl", "pa", "pla")
_I = {name: i for i, name in enumerate(_SUMS)}


def _cluster_sums(pairs: pd.DataFrame, cluster: np.ndarray, n_clusters: int) -> np.ndarray:
    """(n_clusters, len(_SUMS)) weighted sums of every pair quantity, by bincount."""
    w = pairs["weight"].to_numpy(float)
    loc = pairs["local"].to_numpy(float)
    aud = pairs["audit"].to_numpy(float)
    diff = np.abs(loc - aud)
    has_cut = pairs["cut"].notna().to_numpy()
    cut = pairs["cut"].to_numpy(float, na_value=np.nan)
    pl = np.where(has_cut, loc >= cut, 0.0)
    pa = np.where(has_cut, aud >= cut, 0.0)
    columns = {
        "n": w,
        "sl": w * loc,
        "sa": w * aud,
        "sll": w * loc * loc,
        "saa": w * aud * aud,
        "sla": w * loc * aud,
        "exact": w * (diff < 1e-9),
        "adjacent": w * (diff <= 1 + 1e-9),
        "nc": w * has_cut,
        "pl": w * pl,
        "pa": w * pa,
        "pla": w * pl * pa,
    }
    return np.column_stack([np.bincount(cluster, weights=columns[s], minlength=n_clusters) for s in _SUMS])


def _ratio(t: np.ndarray, num: str, den: str) -> tuple[np.ndarray, np.ndarray]:
    """num/den and its gradient with respect to the totals."""
    d = t[:, _I[den]]
    with np.errstate(divide="ignore", invalid="ignore"):
        value = t[:, _I[num]] / d
        grad = np.zeros_like(t)
        grad[:, _I[num]] = 1 / d
        grad[:, _I[den]] = -value / d
    return value, grad


def _mean_difference(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, sl, sa = (t[:, _I[s]] for s in ("n", "sl", "sa"))
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (sl - sa) / n
        grad = np.zeros_like(t)
        grad[:, _I["sl"]] = 1 / n
        grad[:, _I["sa"]] = -1 / n
        grad[:, _I["n"]] = -value / n
    return value, grad


def _concordance(t: np.ndarray, names=("n", "sl", "sa", "sll", "saa", "sla")) -> tuple[np.ndarray, np.ndarray]:
    """Quadratic weighted kappa of paired scores from their moments, with its gradient.

    kappa = 1 - X / Y, X = (Sll + Saa - 2 Sla) / N (mean squared difference) and
    Y = (Sll + Saa) / N - 2 Sl Sa / N^2 (its expectation under independent margins).
    """
    i_n, i_l, i_a, i_ll, i_aa, i_la = (_I[s] for s in names)
    n, sl, sa, sll, saa, sla = (t[:, i] for i in (i_n, i_l, i_a, i_ll, i_aa, i_la))
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (sll + saa - 2 * sla) / n
        y = (sll + saa) / n - 2 * sl * sa / n**2
        value = 1 - x / y
        dx = np.zeros_like(t)
        dy = np.zeros_like(t)
        dx[:, i_n] = -x / n
        dx[:, i_ll] += 1 / n
        dx[:, i_aa] += 1 / n
        dx[:, i_la] += -2 / n
        dy[:, i_n] = -(sll + saa) / n**2 + 4 * sl * sa / n**3
        dy[:, i_ll] += 1 / n
        dy[:, i_aa] += 1 / n
        dy[:, i_l] += -2 * sa / n**2
        dy[:, i_a] += -2 * sl / n**2
        grad = (x[:, None] * dy - y[:, None] * dx) / (y**2)[:, None]
        value = np.where(y > 1e-12, value, np.nan)  # no variance in either set of scores: undefined
    return value, grad


def _net_concordance(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kappa net of the mean difference, 2 cov(L, A) / (var L + var A), with its gradient.

    The quadratic weighted kappa without its location term (Lin's concordance with the means
    aligned): a district that scores every paper half a point high keeps the region's value;
    one whose scores scatter around the audit's does not.
    """
    n, sl, sa, sll, saa, sla = (t[:, _I[s]] for s in ("n", "sl", "sa", "sll", "saa", "sla"))
    with np.errstate(divide="ignore", invalid="ignore"):
        c = sla / n - sl * sa / n**2
        vl = sll / n - (sl / n) ** 2
        va = saa / n - (sa / n) ** 2
        w = vl + va
        value = np.where(w > 1e-12, 2 * c / w, np.nan)
        dc = np.zeros_like(t)
        dw = np.zeros_like(t)
        dc[:, _I["n"]] = -sla / n**2 + 2 * sl * sa / n**3
        dc[:, _I["sla"]] = 1 / n
        dc[:, _I["sl"]] = -sa / n**2
        dc[:, _I["sa"]] = -sl / n**2
        dw[:, _I["n"]] = -(sll + saa) / n**2 + 2 * (sl**2 + sa**2) / n**3
        dw[:, _I["sll"]] = 1 / n
        dw[:, _I["saa"]] = 1 / n
        dw[:, _I["sl"]] = -2 * sl / n**2
        dw[:, _I["sa"]] = -2 * sa / n**2
        grad = 2 * (dc * w[:, None] - c[:, None] * dw) / (w**2)[:, None]
    return value, grad


def _classification(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of pairs on the same side of the cut, and Cohen's kappa of the 2 x 2 table."""
    nc, pl, pa, pla = (t[:, _I[s]] for s in ("nc", "pl", "pa", "pla"))
    with np.errstate(divide="ignore", invalid="ignore"):
        agree = (nc - pl - pa + 2 * pla) / nc
    # kappa of 0/1 indicators: the concordance formula with sum(p^2) = sum(p)
    binary = np.column_stack([nc, pl, pa, pl, pa, pla] + [np.zeros_like(nc)] * (len(_SUMS) - 6))
    kappa, _ = _concordance(binary, names=_SUMS[:6])
    return agree, kappa


def _linearized_variance(grad: np.ndarray, totals: np.ndarray, moments: np.ndarray, n: np.ndarray) -> np.ndarray:
    """n/(n-1) * sum_w (g . (u_w - T/n))^2 from the totals T and the moment matrix sum_w u_w u_w'."""
    quad = np.einsum("gi,gij,gj->g", grad, moments, grad)
    centre = np.einsum("gi,gi->g", grad, totals) ** 2 / np.where(n > 0, n, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = (quad - centre) * n / (n - 1)
    return np.where(n > 1, np.maximum(var, 0.0), np.nan)


def _group_moments(u: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """sum over each group's clusters of u_w u_w' -- (n_groups, p, p), one bincount per entry."""
    p = u.shape[1]
    out = np.zeros((n_groups, p, p))
    for i in range(p):  # p(p+1)/2 bincounts over the clusters: no (clusters, p, p) array
        for j in range(i, p):
            out[:, i, j] = out[:, j, i] = np.bincount(group, weights=u[:, i] * u[:, j], minlength=n_groups)
    return out


@dataclass(frozen=True)
class _Sums:
    totals: np.ndarray  # (G, p)
    moments: np.ndarray  # (G, p, p)
    n_works: np.ndarray  # (G,)


def _sums_by(u: np.ndarray, group: np.ndarray, n_groups: int) -> _Sums:
    totals = np.column_stack([np.bincount(group, weights=u[:, i], minlength=n_groups) for i in range(u.shape[1])])
    return _Sums(totals, _group_moments(u, group, n_groups), np.bincount(group, minlength=n_groups).astype(float))


def _statistics(sums: _Sums, level: float) -> dict[str, np.ndarray]:
    """Every statistic of a set of groups with the SEs the tests need."""
    t, m, n = sums.totals, sums.moments, sums.n_works
    diff, g_diff = _mean_difference(t)
    se_diff = np.sqrt(_linearized_variance(g_diff, t, m, n))
    exact, g_exact = _ratio(t, "exact", "n")
    adjacent, _ = _ratio(t, "adjacent", "n")
    qwk, g_qwk = _concordance(t)
    net, g_net = _net_concordance(t)
    agree, kappa = _classification(t)
    df = np.where(n > 1, n - 1, np.nan)
    half = _st.t.ppf(0.5 + level / 2, df) * se_diff
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = diff / se_diff
    p = np.where(se_diff > 0, 2 * _st.t.sf(np.abs(tstat), df), np.where(diff == 0, 1.0, 0.0))
    p = np.where(np.isfinite(se_diff), p, np.nan)
    return {
        "n_scores": t[:, _I["n"]],
        "mean_difference": diff,
        "standard_error": se_diff,
        "ci_low": diff - half,
        "ci_high": diff + half,
        "p_value": p,
        "exact": exact,
        "exact_se": np.sqrt(_linearized_variance(g_exact, t, m, n)),
        "adjacent": adjacent,
        "qwk": qwk,
        "qwk_se": np.sqrt(_linearized_variance(g_qwk, t, m, n)),
        "qwk_net": net,
        "qwk_net_se": np.sqrt(_linearized_variance(g_net, t, m, n)),
        "classification_agreement": agree,
        "classification_kappa": kappa,
        "local_mean": t[:, _I["sl"]] / np.where(t[:, _I["n"]] > 0, t[:, _I["n"]], np.nan),
        "audit_mean": t[:, _I["sa"]] / np.where(t[:, _I["n"]] > 0, t[:, _I["n"]], np.nan),
    }


def _score_sd(t: np.ndarray) -> np.ndarray:
    """sqrt((var_L + var_A) / 2) with population variances, from the totals."""
    n = np.where(t[:, _I["n"]] > 0, t[:, _I["n"]], np.nan)
    var_l = t[:, _I["sll"]] / n - (t[:, _I["sl"]] / n) ** 2
    var_a = t[:, _I["saa"]] / n - (t[:, _I["sa"]] / n) ** 2
    return np.sqrt(np.maximum((var_l + var_a) / 2, 0.0))


def _adjust(p: np.ndarray, eligible: np.ndarray, method: str) -> np.ndarray:
    """Multiplicity-adjusted p-values over the eligible tests (NaN elsewhere)."""
    return adjust_pvalues(p, method, eligible)


# --------------------------------------------------------------------- pairing the scores
def _combine(*codes: np.ndarray) -> np.ndarray:
    """One integer code per distinct combination of several integer code arrays (dense, 0..n-1)."""
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for c in codes:
        key = key * (int(c.max()) + 1 if len(c) else 1) + c
        key = np.unique(key, return_inverse=True)[1].reshape(-1)  # renumber: no overflow
    return key


def _first_nonblank(values: pd.Series, unit: np.ndarray, n_units: int) -> np.ndarray:
    """Per unit, the first non-blank text of ``values`` (rows in order); "" where all are blank."""
    codes, uniques = pd.factorize(values.astype("string").fillna(""))
    texts = np.asarray([str(u).strip() for u in uniques], dtype=object)
    filled = np.flatnonzero(texts[codes] != "") if len(texts) else np.zeros(0, dtype=np.int64)
    out = np.full(n_units, "", dtype=object)
    units, first = np.unique(unit[filled], return_index=True)
    out[units] = texts[codes[filled[first]]]
    return out


def _pairs(
    scores: pd.DataFrame, local: Sequence[str], audit: Sequence[str], district: str, bank, flags: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, int], dict[str, int]]:
    """Audit pairs (one row per work, dimension and audit score) with the local score.

    Columns: ``task_id, work, dimension, key`` (integer codes of the work and of the work and
    dimension), ``rater_id, local, audit, weight, cut``, the district column and the flags.
    """
    dropped: dict[str, int] = {}
    info: dict[str, int] = {}
    read = scores["read_type"].astype(str).to_numpy()
    is_local, is_audit = np.isin(read, list(local)), np.isin(read, list(audit))
    other = int((~is_local & ~is_audit).sum())
    if other:
        dropped[f"score of another read type (not {', '.join(local)} or {', '.join(audit)})"] = other
    coded = condition_coded(scores).to_numpy()
    for name, mask in (("local", is_local), ("audit", is_audit)):
        n = int((mask & coded).sum())
        if n:
            dropped[f"condition-coded {name} score (no score point to compare)"] = n
    use_local, use_audit = is_local & ~coded, is_audit & ~coded
    if not use_local.any() or not use_audit.any():
        which = "local" if not use_local.any() else "audit"
        reads = ", ".join(local if which == "local" else audit)
        raise NotFoundError(
            f"no {which} scores (read type {reads}) to compare; check --local/--audit and the read types "
            f"of the session ({', '.join(sorted(set(read)))})"
        )
    # local rows first, so a work's attributes come from its local reads where they have them
    rows = scores.iloc[np.concatenate([np.flatnonzero(use_local), np.flatnonzero(use_audit)])]
    n_local = int(use_local.sum())
    task_code, tasks = pd.factorize(rows["task_id"].astype(str))
    work_code, _ = pd.factorize(rows["work_id"].astype(str))
    dim_code, dims = pd.factorize(rows["dimension"].astype(str))
    work = _combine(task_code, work_code)
    key = _combine(work, dim_code)
    n_keys, n_works = int(key.max()) + 1, int(work.max()) + 1
    value = rows["score"].to_numpy(dtype=float, na_value=np.nan)
    lk, ak = key[:n_local], key[n_local:]
    local_count = np.bincount(lk, minlength=n_keys)
    local_mean = np.bincount(lk, weights=value[:n_local], minlength=n_keys) / np.maximum(local_count, 1)
    audit_count = np.bincount(ak, minlength=n_keys)
    has_local = local_count[ak] > 0
    if (~has_local).any():
        dropped["audit score of a work and dimension with no local score"] = int((~has_local).sum())
    info["local_scores_not_audited"] = int(((local_count > 0) & (audit_count == 0)).sum())
    attrs = {col: _first_nonblank(rows[col], work, n_works) for col in [district, *flags]}
    audit_rows = np.flatnonzero(has_local) + n_local
    aw = work[audit_rows]
    pairs = pd.DataFrame(
        {
            "task_id": np.asarray(tasks, dtype=object)[task_code[audit_rows]],
            "work": aw,
            "dimension": np.asarray(dims, dtype=object)[dim_code[audit_rows]],
            "key": key[audit_rows],
            "rater_id": rows["rater_id"].to_numpy()[audit_rows],
            "local": local_mean[key[audit_rows]],
            "audit": value[audit_rows],
            "weight": 1.0 / audit_count[key[audit_rows]],
            **{col: attrs[col][aw] for col in attrs},
        }
    )
    blank = pairs[district].to_numpy() == ""
    if blank.any():
        dropped[f"audit score of a work with no {district}"] = int(blank.sum())
        pairs = pairs[~blank]
    if pairs.empty:
        raise NotFoundError("no audit score has a local score of the same work and dimension to compare with")
    cuts = {}
    if bank is not None:
        for task in pairs["task_id"].unique():
            cut = bank.rubric_for(task).achievement_cut
            cuts[task] = float(cut.min_score) if cut is not None else np.nan
    pairs = pairs.assign(cut=pairs["task_id"].map(cuts).astype(float) if cuts else np.nan)
    return pairs.reset_index(drop=True), dropped, info


def _codes(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer codes of the distinct combinations of ``columns`` (in sorted order) and the combinations."""
    if not columns:
        return np.zeros(len(frame), dtype=np.int64), pd.DataFrame(index=[0])
    parts = [pd.factorize(frame[c].astype(str), sort=True) for c in columns]
    combined = np.zeros(len(frame), dtype=np.int64)
    for codes, uniques in parts:
        combined = combined * len(uniques) + codes
    unique, inverse = np.unique(combined, return_inverse=True)
    labels = {}
    for (_, uniques), col in zip(reversed(parts), reversed(list(columns))):
        labels[col] = np.asarray(uniques, dtype=object)[unique % len(uniques)]
        unique = unique // len(uniques)
    return inverse.reshape(-1).astype(np.int64), pd.DataFrame({c: labels[c] for c in columns})


# --------------------------------------------------------------------- region and equity
def _region_table(sums: _Sums, strata: pd.DataFrame, n_districts: np.ndarray, level: float) -> pd.DataFrame:
    """All districts together, per task and dimension where asked."""
    stats = _statistics(sums, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        smd = stats["mean_difference"] / _score_sd(sums.totals)
    columns: dict[str, Any] = {c: strata[c].to_numpy() for c in strata.columns}
    if not columns:
        columns["district"] = np.array(["all districts"])
    columns["n_districts"] = np.asarray(n_districts).astype(np.int64)
    columns["n_works"] = sums.n_works.astype(np.int64)
    columns["n_scores"] = np.rint(stats["n_scores"]).astype(np.int64)
    for col in ("mean_difference", "standard_error", "ci_low", "ci_high"):
        columns[col] = stats[col]
    columns["smd"] = smd
    for col in ("exact", "adjacent", "qwk", "classification_agreement", "classification_kappa", "p_value"):
        columns[col] = stats[col]
    columns["local_mean"] = stats["local_mean"]
    columns["audit_mean"] = stats["audit_mean"]
    return pd.DataFrame(columns)


_EQUITY_COLUMNS = (
    "subgroup",
    "value",
    "n_works",
    "n_scores",
    "mean_difference",
    "ci_low",
    "ci_high",
    "smd",
    "dsm",
    "conditional_difference",
    "conditional_se",
    "conditional_ci_low",
    "conditional_ci_high",
    "conditional_smd",
    "p_value",
    "p_adjusted",
    "flagged",
    "direction",
)


def _reference_level(levels: Sequence[str]) -> str | None:
    """The 'not in the group' value of a two-valued flag (0, false, no, n), if there is one."""
    if len(levels) != 2:
        return None
    false_like = [v for v in levels if v.strip().lower() in {"0", "false", "no", "n", "f"}]
    true_like = [v for v in levels if v.strip().lower() in _TRUE]
    return false_like[0] if len(false_like) == 1 and len(true_like) == 1 else None


def _cluster_ols(y: np.ndarray, x: np.ndarray, cluster: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """OLS coefficients and their cluster-robust covariance (CR1, Liang & Zeger 1986: the
    sandwich with the small-sample factor G/(G-1) (N-1)/(N-K), as Stata and statsmodels use)."""
    n, k = x.shape
    bread = np.linalg.pinv(x.T @ x)
    beta = bread @ (x.T @ y)
    resid = y - x @ beta
    codes, _ = pd.factorize(cluster)
    g = int(codes.max()) + 1
    score = np.column_stack([np.bincount(codes, weights=x[:, j] * resid, minlength=g) for j in range(k)])
    factor = g / (g - 1) * (n - 1) / (n - k) if g > 1 and n > k else np.nan
    return beta, factor * bread @ (score.T @ score) @ bread, g


def _conditional_difference(
    scored: pd.DataFrame, member: np.ndarray, level: float
) -> tuple[float, float, float, float, float]:
    """Coefficient of the subgroup indicator in D ~ member + score level + task x dimension, clustered by work."""
    stratum = scored["stratum"].to_numpy()
    levels = np.unique(stratum)
    # the work's score level is the mean of its local and audit scores (Bland & Altman): the
    # audit score alone carries its own error, and conditioning on it would credit a group
    # that truly scores lower with a difference of its own (regression to the group's mean)
    design = np.column_stack(
        [
            np.ones(len(scored)),
            member.astype(float),
            scored["mean"].to_numpy(float),
            *[(stratum == v).astype(float) for v in levels[1:]],
        ]
    )
    beta, cov, g = _cluster_ols(scored["difference"].to_numpy(float), design, scored["work"].to_numpy())
    se = float(np.sqrt(cov[1, 1]))
    half = _st.t.ppf(0.5 + level / 2, g - 1) * se
    p = float(2 * _st.t.sf(abs(beta[1] / se), g - 1)) if se > 0 else np.nan
    return float(beta[1]), se, float(beta[1] - half), float(beta[1] + half), p


def _equity_table(
    pairs: pd.DataFrame, flags: Sequence[str], rules: ComparabilityProfile, min_n: int, level: float
) -> pd.DataFrame:
    """Per subgroup value: the difference, SMD, DSM and the conditional difference."""
    if not flags:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in _EQUITY_COLUMNS})
    w = pairs["weight"].to_numpy(float)
    local, audit = pairs["local"].to_numpy(float), pairs["audit"].to_numpy(float)
    stratum = _combine(*(pd.factorize(pairs[c])[0] for c in ("task_id", "dimension")))
    n_strata = int(stratum.max()) + 1
    # standardized scores within each task x dimension (population moments over the pairs)
    z = {}
    sw = np.bincount(stratum, w, n_strata)
    for name, x in (("local", local), ("audit", audit)):
        mean = np.bincount(stratum, w * x, n_strata) / sw
        sd = np.sqrt(np.bincount(stratum, w * x * x, n_strata) / sw - mean**2)
        with np.errstate(divide="ignore", invalid="ignore"):
            z[name] = np.where(sd[stratum] > 1e-12, (x - mean[stratum]) / sd[stratum], 0.0)
    # one row per work and dimension for the regression: local - mean audit, and the score level
    key = pairs["key"].to_numpy()
    keys, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    audit_mean = np.bincount(inverse, w * audit) / np.bincount(inverse, w)
    per_score = pd.DataFrame(
        {
            "work": pairs["work"].to_numpy()[first],
            "stratum": stratum[first],
            "difference": local[first] - audit_mean,
            "mean": (local[first] + audit_mean) / 2,
        }
    )
    work = pairs["work"].to_numpy()
    overall_sd = float(_score_sd(_cluster_sums(pairs, np.zeros(len(pairs), dtype=np.int64), 1))[0])
    rows: list[dict[str, Any]] = []
    tests: list[int] = []
    for flag in flags:
        flag_codes, flag_values = pd.factorize(pairs[flag].astype(str))
        values = np.asarray([v.strip() for v in flag_values], dtype=object)[flag_codes]
        known = values != ""
        levels = sorted(set(values[known]))
        reference = _reference_level(levels)
        code = np.searchsorted(np.asarray(levels, dtype=object), values) if levels else np.zeros(len(values), int)
        sub = pairs[known]
        cluster, _ = pd.factorize(work[known])
        u = _cluster_sums(sub, cluster, int(cluster.max()) + 1 if len(cluster) else 0)
        group_of_cluster = np.zeros(len(u), dtype=np.int64)
        group_of_cluster[cluster] = code[known]
        sums = _sums_by(u, group_of_cluster, len(levels))
        stats = _statistics(sums, level)
        dsm_sum = np.bincount(code[known], w[known] * (z["local"] - z["audit"])[known], len(levels))
        dsm = dsm_sum / np.bincount(code[known], w[known], len(levels))
        score_value = values[first]
        scored = per_score[score_value != ""]
        scored_value = score_value[score_value != ""]
        n_total = int(sums.n_works.sum())
        for i, value in enumerate(levels):
            n_in = int(sums.n_works[i])
            row: dict[str, Any] = {
                "subgroup": flag.removeprefix("flag_"),
                "value": value,
                "n_works": n_in,
                "n_scores": int(np.rint(stats["n_scores"][i])),
                "mean_difference": stats["mean_difference"][i],
                "ci_low": stats["ci_low"][i],
                "ci_high": stats["ci_high"][i],
                "smd": stats["mean_difference"][i] / overall_sd if overall_sd > 0 else np.nan,
                "dsm": dsm[i],
                "conditional_difference": np.nan,
                "conditional_se": np.nan,
                "conditional_ci_low": np.nan,
                "conditional_ci_high": np.nan,
                "conditional_smd": np.nan,
                "p_value": np.nan,
                "flagged": False,
            }
            if value == reference:
                row["direction"] = "reference group"
            elif n_in < min_n or n_total - n_in < min_n:
                row["direction"] = TOO_FEW
            elif len(levels) < 2:
                row["direction"] = "one value only"
            else:
                diff, se, low, high, p = _conditional_difference(scored, scored_value == value, level)
                row.update(
                    conditional_difference=diff,
                    conditional_se=se,
                    conditional_ci_low=low,
                    conditional_ci_high=high,
                    conditional_smd=diff / overall_sd if overall_sd > 0 else np.nan,
                    p_value=p,
                )
                tests.append(len(rows))
            rows.append(row)
    table = pd.DataFrame(rows)
    p = table["p_value"].to_numpy(float)
    eligible = np.zeros(len(table), dtype=bool)
    eligible[tests] = True
    table["p_adjusted"] = _adjust(p, eligible, rules.multiplicity)
    clear = eligible & (table["p_adjusted"].to_numpy() < rules.alpha)
    large = np.abs(table["conditional_smd"].to_numpy(float)) >= rules.equity.threshold
    table["flagged"] = clear & large
    higher = table["conditional_difference"].to_numpy(float) > 0
    verdict = np.where(
        table["flagged"], np.where(higher, "lenient toward the group", "severe toward the group"), "comparable"
    )
    table["direction"] = np.where(eligible, verdict, table["direction"].to_numpy(object))
    return table[list(_EQUITY_COLUMNS)]


# --------------------------------------------------------------------- the result
def _columns() -> dict[str, TableColumns]:
    label = _SUPPRESSED
    return {
        "districts": TableColumns(
            counts=("n_works", "n_scores"),
            support="n_works",
            raters=(),
            drop_when_anonymized=(),
            suppressed_label=label,
        ),
        "region": TableColumns(
            counts=("n_works", "n_scores"),
            support="n_works",
            fixed=("n_districts",),
            raters=(),
            drop_when_anonymized=(),
            suppressed_label=label,
        ),
        "equity": TableColumns(
            counts=("n_works", "n_scores"),
            support="n_works",
            raters=(),
            drop_when_anonymized=(),
            suppressed_label=label,
        ),
    }


@dataclass(frozen=True)
class ComparabilityResult(AnalysisResult):
    """Result of :func:`compare_districts`: tables ``districts``, ``region`` and ``equity``."""

    @property
    def districts(self) -> pd.DataFrame:
        return self.tables["districts"]

    @property
    def region(self) -> pd.DataFrame:
        return self.tables["region"]

    @property
    def equity(self) -> pd.DataFrame:
        return self.tables["equity"]

    @property
    def by(self) -> list[str]:
        return list(self.meta["parameters"]["by"])

    @property
    def flagged(self) -> pd.DataFrame:
        """The flagged rows of the district table."""
        table = self.tables["districts"]
        return table[table["flagged"].astype(bool)]


def _reads(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def compare_districts(
    scores: pd.DataFrame,
    bank=None,
    *,
    local: str | Sequence[str] = "first",
    audit: str | Sequence[str] = "audit",
    by: str | Sequence[str] = "work_district",
    profile: str | ComparabilityProfile | None = "comparability",
    min_n: int | None = None,
    level: float = 0.95,
    subgroups: Sequence[str] | None = None,
    pool_small: bool = True,
    provenance: Mapping[str, Any] | None = None,
    selection: Mapping[str, Any] | None = None,
) -> ComparabilityResult:
    """Compare each district's local scores with the audit rescoring of the same works.

    Parameters
    ----------
    scores : DataFrame
        Long scores (``Store.scores(include_flags=True)``) holding both the local reads and the
        audit reads: ``work_id, task_id, dimension, score, read_type``, the district column
        (``by``'s first), ``rater_id``, optionally ``condition_code`` and ``flag_*`` columns.
    bank : Bank, optional
        Gives each task's achievement cut (for the proficiency classification); without it the
        classification columns are NaN.
    local, audit : str or sequence of str
        The read types of the local scores (default ``first``) and of the audit scores
        (default ``audit``).
    by : column name(s)
        The district column first (default ``work_district``), then optionally ``task_id``
        and/or ``dimension`` for one row per district, task and dimension.
    profile : ComparabilityProfile, name or path, optional
        The thresholds (default the shipped ``comparability`` profile; None: its defaults).
    min_n : int, optional
        Fewest audited works for a row to be tested and flagged (default the profile's, 10).
    level : float
        Confidence level of the intervals.
    subgroups : sequence of str, optional
        The ``flag_*`` columns for the equity table (default every ``flag_*`` column).
    pool_small : bool
        Whether the works of rows under ``min_n`` count in the region, subgroup and "other
        districts" numbers (default True).  False for a public report: then no published
        number can be differenced back to a suppressed district.
    provenance, selection : mapping, optional
        Where the scores came from and the filters used; recorded in ``meta``.

    Returns
    -------
    ComparabilityResult
        ``districts``: one row per district (and task and dimension): ``district``, ``n_works``,
        ``n_scores``, ``mean_difference`` (local - audit, score points), ``standard_error``,
        ``ci_low``, ``ci_high``, ``smd`` (see :data:`SMD_DEFINITION`), ``exact``, ``adjacent``,
        ``qwk``, ``qwk_region`` and ``exact_region`` (the other districts pooled),
        ``classification_agreement``, ``classification_kappa``, ``p_value``, ``p_adjusted``,
        ``p_agreement``, ``p_agreement_adjusted``, ``flagged``, ``direction``;
        ``region``: the same statistics for all districts together;
        ``equity``: one row per subgroup value.

    References
    ----------
    Williamson, D. M., Xi, X. & Breyer, F. J. (2012). A framework for evaluation and use of
    automated scoring. *Educational Measurement: Issues and Practice* 31(1), 2-13.
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
    Journal of Statistics* 6, 65-70.
    Woodruff, R. S. (1971). A simple method for approximating the variance of a complicated
    estimate. *JASA* 66, 411-414.
    Loukina, A., Madnani, N. & Zechner, K. (2019). The many dimensions of algorithmic
    fairness in educational applications. *BEA workshop*, 1-10.
    """
    rules = (
        load_comparability_profile(profile, bank=bank)
        if profile is not None
        else ComparabilityProfile(id="defaults", kind="comparability", title="default thresholds")
    )
    min_n = int(min_n if min_n is not None else rules.min_n)
    by_cols = [by] if isinstance(by, str) else [c for c in by if c]
    if not by_cols:
        raise DataError("compare_districts needs the district column in `by` (e.g. by='work_district')")
    district, strata_cols = by_cols[0], by_cols[1:]
    bad = [c for c in strata_cols if c not in ("task_id", "dimension")]
    if bad:
        raise DataError(f"`by` after the district column takes task_id and/or dimension, not {bad}")
    required = {"work_id", "task_id", "dimension", "score", "read_type", "rater_id", district}
    missing = sorted(required - set(scores.columns))
    if missing:
        raise DataError(f"scores lack column(s) {missing} needed to compare local and audit scores")
    if scores.empty:
        raise NotFoundError("no scores to compare")
    flags = [c for c in (subgroups if subgroups is not None else scores.columns) if str(c).startswith("flag_")]
    unknown = [c for c in flags if c not in scores.columns]
    if unknown:
        raise DataError(
            f"no subgroup column(s) {unknown}; the scores have {[c for c in scores if c.startswith('flag_')]}"
        )
    local_reads, audit_reads = _reads(local), _reads(audit)
    overlap = set(local_reads) & set(audit_reads)
    if overlap:
        raise DataError(f"read type(s) {sorted(overlap)} cannot be both local and audit")
    pairs, dropped, info = _pairs(scores, local_reads, audit_reads, district, bank, flags)

    # groups (district x strata), strata (task x dimension as asked), clusters (group x work)
    group, groups = _codes(pairs, [district, *strata_cols])
    stratum_of_group, strata = _codes(groups, strata_cols)
    cluster = _combine(group, pairs["work"].to_numpy())
    n_clusters = int(cluster.max()) + 1
    u = _cluster_sums(pairs, cluster, n_clusters)
    group_of_cluster = np.zeros(n_clusters, dtype=np.int64)
    group_of_cluster[cluster] = group
    by_group = _sums_by(u, group_of_cluster, len(groups))
    eligible = by_group.n_works >= min_n
    # the region: sums over its districts (clusters are disjoint, so sums and moments add);
    # without pooling, rows under the minimum stay out of every other number
    pooled = eligible | pool_small
    by_stratum = _Sums(
        np.column_stack(
            [np.bincount(stratum_of_group, by_group.totals[:, i] * pooled, len(strata)) for i in range(len(_SUMS))]
        ),
        np.stack([by_group.moments[pooled & (stratum_of_group == s)].sum(axis=0) for s in range(len(strata))]),
        np.bincount(stratum_of_group, by_group.n_works * pooled, len(strata)),
    )
    # the other districts of the same stratum: totals and moments by subtraction
    keep = pooled[:, None]
    rest = _Sums(
        by_stratum.totals[stratum_of_group] - by_group.totals * keep,
        by_stratum.moments[stratum_of_group] - by_group.moments * keep[:, :, None],
        by_stratum.n_works[stratum_of_group] - by_group.n_works * pooled,
    )
    own = _statistics(by_group, level)
    other = _statistics(rest, level)
    sd = _score_sd(by_stratum.totals)[stratum_of_group]
    with np.errstate(divide="ignore", invalid="ignore"):
        smd = own["mean_difference"] / sd
    n_works = by_group.n_works.astype(np.int64)
    # inconsistency: this district's agreement below the other districts' (one-sided z tests)
    # Kappas are compared on Fisher's z scale (Lin 1989) and proportions on the logit scale,
    # where their sampling distributions are near symmetric (the lower tail of a kappa is long),
    # against a t distribution on the district's works - 1 degrees of freedom.
    # The reference for a kappa is the mean of the other districts' own kappas (weighted by
    # works): a kappa pooled over districts that differ in achievement is higher than any
    # district's, so every district would look inconsistent against it.
    reference = {"exact": other["exact"], "exact_se": other["exact_se"]}
    weight = np.where(eligible, n_works, 0).astype(float)
    for stat in ("qwk", "qwk_net"):
        ok = np.isfinite(own[stat]) & np.isfinite(own[stat + "_se"]) & (weight > 0)
        wk = np.where(ok, weight, 0.0)
        sw = np.bincount(stratum_of_group, wk, len(strata))[stratum_of_group] - wk
        sx = np.bincount(stratum_of_group, wk * np.where(ok, own[stat], 0), len(strata))[stratum_of_group]
        sv = np.bincount(stratum_of_group, wk**2 * np.where(ok, own[stat + "_se"] ** 2, 0), len(strata))
        with np.errstate(divide="ignore", invalid="ignore"):
            reference[stat] = np.where(sw > 0, (sx - wk * np.where(ok, own[stat], 0)) / sw, np.nan)
            reference[stat + "_se"] = np.sqrt(
                np.where(
                    sw > 0, (sv[stratum_of_group] - wk**2 * np.where(ok, own[stat + "_se"] ** 2, 0)) / sw**2, np.nan
                )
            )

    def below(stat: str, se: str, transform: str) -> tuple[np.ndarray, np.ndarray]:
        other = reference
        drop = other[stat] - own[stat]
        with np.errstate(divide="ignore", invalid="ignore"):
            if transform == "fisher":
                a, b = np.clip(own[stat], -0.999, 0.999), np.clip(other[stat], -0.999, 0.999)
                da, db = 1 - a**2, 1 - b**2
                diff = np.arctanh(b) - np.arctanh(a)
            else:
                a, b = np.clip(own[stat], 1e-3, 1 - 1e-3), np.clip(other[stat], 1e-3, 1 - 1e-3)
                da, db = a * (1 - a), b * (1 - b)
                diff = np.log(b / (1 - b)) - np.log(a / (1 - a))
            z = diff / np.sqrt((own[se] / da) ** 2 + (other[se] / db) ** 2)
            p = _st.t.sf(z, np.where(n_works > 1, n_works - 1, np.nan))
        return drop, np.where(np.isfinite(z), p, np.nan)

    qwk_drop, p_qwk = below("qwk", "qwk_se", "fisher")
    exact_drop, p_exact = below("exact", "exact_se", "logit")
    # one family for every test of the table (each district's difference, kappa and exact
    # agreement), so the chance of any false flag on null data stays at alpha
    g = len(groups)
    family = _adjust(np.concatenate([own["p_value"], p_qwk, p_exact]), np.tile(eligible, 3), rules.multiplicity)
    p_adjusted, p_qwk_adj, p_exact_adj = family[:g], family[g : 2 * g], family[2 * g :]
    size = smd if rules.difference.statistic == "smd" else own["mean_difference"]
    biased = eligible & (p_adjusted < rules.alpha) & (np.abs(size) >= rules.difference.threshold)
    low_qwk = (p_qwk_adj < rules.alpha) & (qwk_drop >= rules.inconsistency.qwk_drop)
    low_exact = (p_exact_adj < rules.alpha) & (exact_drop >= rules.inconsistency.exact_drop)
    # A shifted district (a clear mean difference, large enough to flag or not) loses agreement
    # through its shift alone; it is also inconsistent only when its kappa net of the mean
    # difference is clearly low as well (those tests: a family of their own).
    shifted = eligible & (p_adjusted < rules.alpha)
    net_drop, p_net = below("qwk_net", "qwk_net_se", "fisher")
    p_net_adj = _adjust(p_net, shifted, rules.multiplicity)
    low_net = (p_net_adj < rules.alpha) & (net_drop >= rules.inconsistency.qwk_drop)
    inconsistent = eligible & (low_qwk | low_exact) & (~shifted | low_net)
    direction = []
    for ok, b, d, inc in zip(eligible, biased, own["mean_difference"], inconsistent):
        if not ok:
            direction.append(TOO_FEW)
            continue
        reasons = (["lenient" if d > 0 else "severe"] if b else []) + (["inconsistent"] if inc else [])
        direction.append(", ".join(reasons) or "comparable")

    key = groups.rename(columns={district: "district"})
    columns: dict[str, Any] = {c: key[c].to_numpy() for c in key.columns}
    columns["n_works"] = n_works
    columns["n_scores"] = np.rint(own["n_scores"]).astype(np.int64)
    for col in ("mean_difference", "standard_error", "ci_low", "ci_high"):
        columns[col] = own[col]
    columns.update(
        smd=smd,
        exact=own["exact"],
        adjacent=own["adjacent"],
        qwk=own["qwk"],
        qwk_region=reference["qwk"],
        qwk_net=own["qwk_net"],
        qwk_net_region=reference["qwk_net"],
        exact_region=reference["exact"],
        classification_agreement=own["classification_agreement"],
        classification_kappa=own["classification_kappa"],
        p_value=own["p_value"],
        p_adjusted=p_adjusted,
        p_agreement=np.fmin(p_qwk, p_exact),
        p_agreement_adjusted=np.fmin(p_qwk_adj, p_exact_adj),
        flagged=biased | inconsistent,
        direction=direction,
    )
    table = pd.DataFrame(columns)

    region = _region_table(by_stratum, strata, np.bincount(stratum_of_group, pooled, len(strata)), level)
    equity = _equity_table(pairs[pooled[group]] if not pool_small else pairs, flags, rules, min_n, level)
    size_text = (
        f"|SMD| >= {rules.difference.threshold:g}"
        if rules.difference.statistic == "smd"
        else f"|mean difference| >= {rules.difference.threshold:g} score points"
    )
    meta = make_meta(
        analysis="comparability",
        level=level,
        provenance=provenance,
        parameters={
            "local": local_reads,
            "audit": audit_reads,
            "by": by_cols,
            "profile": rules.id,
            "min_n": min_n,
            "alpha": rules.alpha,
            "multiplicity": rules.multiplicity,
            "difference_rule": size_text,
            "difference_points": (
                rules.difference.threshold
                if rules.difference.statistic == "points"
                else float(rules.difference.threshold * _score_sd(by_stratum.totals)[0])
                if len(strata) == 1
                else None
            ),
            "inconsistency_rule": f"kappa drop >= {rules.inconsistency.qwk_drop:g} or exact-agreement drop >= "
            f"{rules.inconsistency.exact_drop:g} below the other districts, one-sided at {rules.alpha:g} "
            f"after {rules.multiplicity}",
            "equity_rule": f"|conditional difference| >= {rules.equity.threshold:g} score SD, at {rules.alpha:g} "
            f"after {rules.multiplicity}",
            "subgroups": flags,
            "pool_small": pool_small,
            "selection": dict(selection or {}),
        },
        dropped=dropped,
        smd=SMD_DEFINITION,
        profile_source=rules.source.strip(),
        n_pairs=int(len(pairs)),
        n_auditors=int(pairs["rater_id"].nunique()),
        **info,
    )
    sections = (
        Section("districts", "Districts", ("districts",)),
        Section("region", "The region", ("region",)),
        Section("equity", "Student subgroups", ("equity",)),
    )
    return ComparabilityResult(
        kind="comparability",
        title="District comparability",
        tables={"districts": table, "region": region, "equity": equity},
        meta=meta,
        sections=sections,
        columns=_columns(),
    )
