"""Rater measurement: the many-facet Rasch model with FACETS' tables (``irr raters``).

Agreement says how much raters agree; rater measurement says *who* is harsh, who is erratic
and whose scores are too predictable.  :func:`fit_facets` fits the many-facet Rasch model
(Linacre 1989) to long scores -- works x raters x dimensions, plus any extra facets -- by
bias-corrected joint maximum likelihood (:func:`irr.stats.facets.fit_rasch_facets`) and
returns FACETS' tables as DataFrames:

* ``measures(facet)`` (Table 7): per element, count, observed and fair average, measure in
  logits with model, "real" and joint SEs and a confidence interval, infit and outfit
  mean-squares with their standardised forms, the point-measure correlation, exact agreement
  observed vs expected (raters) and the rule that flagged it;
* ``summary``: per facet, RMSE, adjusted (true) SD, separation, strata, reliability and the
  fixed ("all same") chi-square;
* ``categories`` (Table 8): category counts, average measures, Rasch-Andrich thresholds with SEs;
* ``agreement``: rater pairs' exact agreement observed vs expected under the model;
* ``bias(a, b)`` (Table 13) and ``bias_contrast(a, b)`` (Table 14): interactions with the
  main effects anchored, Holm-adjusted, with small cells suppressed -- among them
  differential rater functioning by student subgroup, ``bias("rater_id", "flag_ell")``.

Orientation: the first facet (the works) is positive, a higher measure is a better work;
every other facet negative, **a higher rater measure is a harsher rater** and a higher
dimension measure a harder dimension; a positive bias means scored lower than expected.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from irr.stats.facets import category_moments
>>> rng = np.random.default_rng(3)
>>> works = np.repeat(np.arange(400), 2 * 3)
>>> raters = np.repeat(np.array([rng.choice(8, 2, replace=False) for _ in range(400)]).ravel(), 3)
>>> dims = np.tile(np.arange(3), 800)
>>> severity = np.linspace(-1, 1, 8)
>>> eta = rng.normal(0, 1, 400)[works] - severity[raters] - np.array([-0.3, 0, 0.3])[dims]
>>> P, *_ = category_moments(eta, np.zeros(eta.size, int), np.array([[-1.2, 0.0, 1.2]]), np.array([4]))
>>> scores = pd.DataFrame({"work_id": works.astype(str), "rater_id": [f"R{r}" for r in raters],
...                        "dimension": np.array(["claim", "evidence", "style"])[dims],
...                        "score": 1 + (rng.random(eta.size)[:, None] > np.cumsum(P, 1)[:, :-1]).sum(1)})
>>> result = fit_facets(scores)
>>> raters = result.measures("rater_id")
>>> float(np.corrcoef(raters["measure"], severity)[0, 1]) > 0.98
True
>>> result.summary.loc["rater_id", ["separation", "reliability"]].round(1).tolist()
[10.0, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from irr.analysis.result import AnalysisResult, Section, TableColumns, make_meta
from irr.analysis.scores import condition_coded
from irr.errors import DataError
from irr.stats import adjust_pvalues
from irr.stats.facets import (
    DisconnectedDesignError,
    category_moments,
    element_fit,
    fit_rasch_facets,
    interaction_bias,
    rasch_welch,
    separation_statistics,
)

__all__ = ["fit_facets", "FacetsResult", "MODELS", "FacetsDesignError"]

MODELS = ("rating_scale", "partial_credit")
DEFAULT_FACETS = ("work_id", "rater_id", "dimension")
SUPPRESSED = "suppressed (n < {k})"


class FacetsDesignError(DataError):
    """The ratings split into disconnected subsets; ``subsets`` names the elements of each."""

    def __init__(self, message: str, subsets: list[dict[str, list[str]]]):
        super().__init__(message)
        self.subsets = subsets


# ----------------------------------------------------------------------------- the data
@dataclass(frozen=True)
class _Fitted:
    """What the tables and the interaction analyses are computed from (one row per rating)."""

    ratings: pd.DataFrame  # the scores used, with the facet columns and the extra columns kept
    facets: tuple[str, ...]
    codes: np.ndarray  # (ratings, facets) element index
    labels: tuple[pd.Index, ...]  # element ids per facet
    x: np.ndarray  # category index
    group: np.ndarray
    values: np.ndarray  # (groups, max categories) score value of each category (NaN beyond)
    group_labels: pd.Index
    fit: Any  # irr.stats.facets.RaschFacetsFit
    fit_mask: np.ndarray  # ratings in the fit statistics (no extreme element)


def _element_codes(ratings: pd.DataFrame, facet: str) -> tuple[np.ndarray, pd.Index]:
    codes, uniques = pd.factorize(ratings[facet].astype(str), sort=True)
    return codes.astype(np.int64), pd.Index(uniques, name=facet)


def _categories(scores: pd.Series, group: np.ndarray, n_groups: int, categories) -> tuple[np.ndarray, np.ndarray, list]:
    """Category index of each score within its group (ordinal: unused score points are skipped)."""
    values = scores.to_numpy(np.int64)
    notes = []
    table = []
    for g in range(n_groups):
        seen = np.unique(values[group == g])
        if categories is not None:
            allowed = np.asarray(sorted(categories), dtype=np.int64)
            outside = np.setdiff1d(seen, allowed)
            if outside.size:
                raise DataError(f"score(s) {outside.tolist()} are not among the categories {allowed.tolist()}")
            unused = np.setdiff1d(allowed, seen)
            if unused.size:
                notes.append(f"score point(s) {unused.tolist()} never used: left out of the scale (FACETS' ordinal)")
        table.append(seen)
    width = max(len(t) for t in table)
    value_table = np.full((n_groups, width), np.nan)
    for g, seen in enumerate(table):
        value_table[g, : len(seen)] = seen
    # category index = position of the value in its group's list (vectorised by a sorted search)
    x = np.empty(len(values), dtype=np.int64)
    for g, seen in enumerate(table):
        mask = group == g
        x[mask] = np.searchsorted(seen, values[mask])
    return x, value_table, notes


# ----------------------------------------------------------------------------- tables
def _expected_raw(fitted: _Fitted, P: np.ndarray) -> np.ndarray:
    vals = np.nan_to_num(fitted.values[fitted.group][:, : P.shape[1]])
    return (P * vals).sum(axis=1)


def _fair_averages(fitted: _Fitted, f: int) -> np.ndarray:
    """Fair-M average of every element of facet f: its measure, the other facets at their means."""
    fit = fitted.fit
    signs = np.array([1.0] + [-1.0] * (len(fitted.facets) - 1))
    others = 0.0
    for g in range(len(fitted.facets)):
        if g != f:
            ok = fit.extreme[g] == 0
            others += signs[g] * float(np.mean(fit.measures[g][ok])) if ok.any() else 0.0
    eta = signs[f] * fit.measures[f] + others
    n_groups = fit.thresholds.shape[0]
    share = np.bincount(fitted.group, minlength=n_groups) / len(fitted.group)
    fair = np.zeros(eta.size)
    for g in range(n_groups):  # groups are few (one per dimension at most)
        P, *_ = category_moments(eta, np.full(eta.size, g), fit.thresholds, fit.n_categories)
        fair += share[g] * (P * np.nan_to_num(fitted.values[g][: P.shape[1]])).sum(axis=1)
    return fair


def _grouped_corr(index: np.ndarray, n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    c = np.bincount(index, minlength=n).astype(float)
    sa, sb = np.bincount(index, a, n), np.bincount(index, b, n)
    saa, sbb, sab = np.bincount(index, a * a, n), np.bincount(index, b * b, n), np.bincount(index, a * b, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = sab - sa * sb / c
        va, vb = saa - sa * sa / c, sbb - sb * sb / c
        return np.where((va > 1e-12) & (vb > 1e-12), cov / np.sqrt(va * vb), np.nan)


def _pair_frame(fitted: _Fitted, rater_facet: int) -> pd.DataFrame:
    """Every pair of ratings of the same work and the same elements of the other facets, by two raters."""
    others = [i for i in range(len(fitted.facets)) if i != rater_facet]
    key = np.zeros(len(fitted.x), dtype=np.int64)
    for i in others:
        key = key * (len(fitted.labels[i]) + 1) + fitted.codes[:, i]
    cell = pd.factorize(key)[0]
    frame = pd.DataFrame({"cell": cell, "row": np.arange(len(cell)), "rater": fitted.codes[:, rater_facet]})
    size = np.bincount(cell)
    frame = frame[size[cell] > 1]
    pairs = frame.merge(frame, on="cell", suffixes=("_a", "_b"))
    pairs = pairs[pairs["rater_a"] < pairs["rater_b"]]
    ra, rb = pairs["row_a"].to_numpy(), pairs["row_b"].to_numpy()
    P = fitted.fit.probabilities
    return pd.DataFrame(
        {
            "rater_a": pairs["rater_a"].to_numpy(),
            "rater_b": pairs["rater_b"].to_numpy(),
            "agree": (fitted.x[ra] == fitted.x[rb]).astype(float),
            "expected": np.einsum("rk,rk->r", P[ra], P[rb]),
        }
    )


def _agreement_tables(fitted: _Fitted, rater_facet: int):
    pairs = _pair_frame(fitted, rater_facet)
    labels = fitted.labels[rater_facet]
    name = fitted.facets[rater_facet]
    if pairs.empty:
        per_pair = pd.DataFrame(columns=[f"{name}_a", f"{name}_b", "opportunities", "exact_observed", "exact_expected"])
        return per_pair, np.full(len(labels), np.nan), np.full(len(labels), np.nan), {}
    grouped = pairs.groupby(["rater_a", "rater_b"], sort=True).agg(
        opportunities=("agree", "size"), exact_observed=("agree", "mean"), exact_expected=("expected", "mean")
    )
    per_pair = grouped.reset_index()
    per_pair.insert(0, f"{name}_a", labels[per_pair.pop("rater_a").to_numpy()])
    per_pair.insert(1, f"{name}_b", labels[per_pair.pop("rater_b").to_numpy()])
    both = np.concatenate([pairs["rater_a"].to_numpy(), pairs["rater_b"].to_numpy()])
    agree = np.tile(pairs["agree"].to_numpy(), 2)
    expected = np.tile(pairs["expected"].to_numpy(), 2)
    n = len(labels)
    count = np.bincount(both, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        obs = np.bincount(both, agree, n) / count
        exp = np.bincount(both, expected, n) / count
    o, e = float(pairs["agree"].mean()), float(pairs["expected"].mean())
    overall = {
        "opportunities": int(len(pairs)),
        "exact_observed": o,
        "exact_expected": e,
        "rasch_kappa": (o - e) / (1 - e) if e < 1 else float("nan"),
    }
    return per_pair, obs, exp, overall


def _shown(value: float, bound: float) -> str:
    """The value with enough digits not to read as the bound it crossed (0.497 is not "0.50 < 0.5")."""
    for digits in (2, 3, 4):
        text = f"{value:.{digits}f}"
        if float(text) != bound:
            return text
    return f"{value:.6f}"


def _flag(infit, outfit, measure, joint_se, centre, fit_range, severity_logits, facet_index, level_z):
    """The rule that flagged each element ('' when none), misfit first."""
    lo, hi = fit_range
    out = np.full(measure.size, "", dtype=object)
    worst = np.fmax(infit, outfit)
    least = np.fmin(infit, outfit)
    misfit = worst > hi
    over = least < lo
    out[over] = [
        f"overfit: mean-square {_shown(v, lo)} < {lo:g} (too predictable, e.g. central tendency)" for v in least[over]
    ]
    out[misfit] = [f"misfit: mean-square {_shown(v, hi)} > {hi:g} (erratic)" for v in worst[misfit]]
    if facet_index > 0 and severity_logits is not None:
        diff = measure - centre
        sig = np.abs(diff) > level_z * np.nan_to_num(joint_se, nan=np.inf)
        harsh = sig & (diff >= severity_logits)
        lenient = sig & (diff <= -severity_logits)
        for mask, word in ((harsh, "harsh"), (lenient, "lenient")):
            text = [f"{word}: {d:+.2f} logits from the mean" for d in diff[mask]]
            out[mask] = [f"{a}; {b}" if a else b for a, b in zip(out[mask], text)]
    return out


def _measures_table(fitted: _Fitted, f: int, options: dict, agreement=None) -> pd.DataFrame:
    fit = fitted.fit
    codes = fitted.codes[:, f]
    n = len(fitted.labels[f])
    raw = fitted.ratings["score"].to_numpy(float)
    count = np.bincount(codes, minlength=n)
    total = np.bincount(codes, raw, n)
    expected_raw = _expected_raw(fitted, fit.probabilities)
    infit, infit_z, outfit, outfit_z = element_fit(
        codes, n, fitted.x, fit.expected, fit.variance, fit.kurtosis, fitted.fit_mask
    )
    extreme = fit.extreme[f]
    for arr in (infit, infit_z, outfit, outfit_z):
        arr[extreme != 0] = np.nan
    signs = np.array([1.0] + [-1.0] * (len(fitted.facets) - 1))
    contribution = signs[f] * fit.measures[f][codes]
    ptmea = _grouped_corr(codes, n, raw, fit.eta - contribution)
    se = fit.se[f]
    real_se = se * np.sqrt(np.fmax(np.nan_to_num(infit, nan=1.0), 1.0))
    joint = fit.joint_se[f] if f > 0 else se
    z = options["z"]
    table = pd.DataFrame(
        {
            "count": count,
            "total_score": total,
            "observed_average": total / np.maximum(count, 1),
            "expected_average": np.bincount(codes, expected_raw, n) / np.maximum(count, 1),
            "fair_average": _fair_averages(fitted, f),
            "measure": fit.measures[f],
            "se": se,
            "real_se": real_se,
            "joint_se": joint,
            "ci_low": fit.measures[f] - z * joint,
            "ci_high": fit.measures[f] + z * joint,
            "infit": infit,
            "infit_zstd": infit_z,
            "outfit": outfit,
            "outfit_zstd": outfit_z,
            "ptmea": ptmea,
        },
        index=fitted.labels[f],
    )
    if agreement is not None:
        table["exact_observed"] = agreement[0]
        table["exact_expected"] = agreement[1]
    table["status"] = np.where(extreme > 0, "maximum", np.where(extreme < 0, "minimum", ""))
    ok = extreme == 0
    centre = float(np.mean(fit.measures[f][ok])) if ok.any() else 0.0
    table["flag"] = _flag(
        infit, outfit, fit.measures[f], joint, centre, options["fit_range"], options["severity_logits"], f, z
    )
    table.loc[extreme != 0, "flag"] = [
        f"extreme score ({s}): measure estimated with the score 0.3 points inward"
        for s in table.loc[extreme != 0, "status"]
    ]
    return table


def _summary_table(fitted: _Fitted, measures: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = {}
    for name, table in measures.items():
        ok = table["status"] == ""
        model = separation_statistics(table.loc[ok, "measure"], table.loc[ok, "se"])
        real = separation_statistics(table.loc[ok, "measure"], table.loc[ok, "real_se"])
        rows[name] = {
            "elements": int(len(table)),
            "extreme": int((~ok).sum()),
            "mean": model["mean"],
            "sd": model["sd"],
            "rmse": model["rmse"],
            "adjusted_sd": model["adjusted_sd"],
            "separation": model["separation"],
            "strata": model["strata"],
            "reliability": model["reliability"],
            "chi2": model["chi2"],
            "df": model["df"],
            "p": model["p"],
            "real_rmse": real["rmse"],
            "real_separation": real["separation"],
            "real_reliability": real["reliability"],
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "facet"
    return out


def _categories_table(fitted: _Fitted) -> pd.DataFrame:
    fit = fitted.fit
    width = fitted.values.shape[1]
    n_groups = fitted.values.shape[0]
    key = fitted.group * width + fitted.x
    count = np.bincount(key, minlength=n_groups * width).astype(float)
    avg_measure = np.bincount(key, fit.eta, n_groups * width) / np.maximum(count, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z2 = np.where(fit.variance > 1e-12, (fitted.x - fit.expected) ** 2 / fit.variance, np.nan)
    outfit = np.bincount(key, np.nan_to_num(z2), n_groups * width) / np.maximum(count, 1)
    group_total = np.bincount(fitted.group, minlength=n_groups).astype(float)
    rows = []
    for g in range(n_groups):
        k_max = int(fit.n_categories[g])
        for k in range(k_max):
            i = g * width + k
            rows.append(
                {
                    "group": fitted.group_labels[g],
                    "score": int(fitted.values[g, k]),
                    "count": int(count[i]),
                    "percent": count[i] / group_total[g],
                    "average_measure": avg_measure[i],
                    "outfit": outfit[i],
                    "threshold": np.nan if k == 0 else fit.thresholds[g, k - 1],
                    "threshold_se": np.nan if k == 0 else fit.threshold_se[g, k - 1],
                }
            )
    table = pd.DataFrame(rows)
    table["cumulative_percent"] = table.groupby("group")["percent"].cumsum()
    return table[
        [
            "group",
            "score",
            "count",
            "percent",
            "cumulative_percent",
            "average_measure",
            "outfit",
            "threshold",
            "threshold_se",
        ]
    ]


# ----------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class FacetsResult(AnalysisResult):
    """Result of :func:`fit_facets`: FACETS' tables (see the module docstring).

    ``tables`` holds ``measures_<facet>`` for every facet, ``summary``, ``categories``,
    ``agreement`` and the interaction tables asked for (``bias_<a>_x_<b>``,
    ``contrast_<a>_x_<b>``); the methods compute any other interaction on demand.
    """

    fitted: Any = field(default=None, repr=False, compare=False)

    @property
    def facets(self) -> tuple[str, ...]:
        return tuple(self.meta["parameters"]["facets"])

    def measures(self, facet: str) -> pd.DataFrame:
        """Table 7: one row per element of ``facet``, indexed by the element id.

        (``tables["measures_<facet>"]`` holds the same rows with the id as the first column, as
        the CSV files have it.)"""
        key = f"measures_{facet}"
        if key not in self.tables:
            raise DataError(f"{facet!r} is not a facet of this model ({', '.join(self.facets)})")
        return self.tables[key].set_index(facet)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per facet, indexed by the facet's name."""
        return self.tables["summary"].set_index("facet")

    @property
    def categories(self) -> pd.DataFrame:
        return self.tables["categories"]

    @property
    def agreement(self) -> pd.DataFrame:
        return self.tables["agreement"]

    @property
    def flagged(self) -> pd.DataFrame:
        """The flagged elements of the second facet (the raters)."""
        table = self.measures(self.facets[1])
        return table[table["flag"].fillna("") != ""]

    def bias(
        self, facet_a: str, facet_b: str, *, min_count: int | None = None, multiplicity: str = "holm"
    ) -> pd.DataFrame:
        """Table 13: the interaction of every (facet_a, facet_b) element pair with the main effects anchored.

        ``facet_b`` may be any column of the scores (e.g. ``flag_ell`` for differential rater
        functioning by subgroup).  Cells with fewer than ``min_count`` ratings (default: the
        fit's ``min_count``, 10) are suppressed: their numbers are not computed into the table
        and they are left out of the multiplicity family.  Ratings with ``facet_b`` blank, and
        ratings of an element with an extreme score, are in no cell: ``table.attrs["dropped"]``
        counts them by reason (for the tables :func:`fit_facets` makes, ``meta["bias_dropped"]``).
        """
        return _bias_table(self.fitted, facet_a, facet_b, self._min_count(min_count), multiplicity)

    def bias_contrast(
        self, facet_a: str, facet_b: str, *, min_count: int | None = None, multiplicity: str = "holm"
    ) -> pd.DataFrame:
        """Table 14: per element of facet_a, the Rasch-Welch contrast between its biases on two elements of facet_b."""
        table = self.bias(facet_a, facet_b, min_count=min_count, multiplicity=multiplicity)
        return _contrast_table(table, facet_a, facet_b, multiplicity)

    def with_drift(self, drift: pd.DataFrame | None) -> "FacetsResult":
        """A copy with the raters' drift flags across sessions (:func:`irr.analysis.drift.drift_across_sessions`)
        as table ``drift``, for the raters of this fit; unchanged when there is none."""
        from dataclasses import replace

        from irr.analysis.drift import DRIFT_COLUMNS, DRIFT_SECTION

        if drift is None or drift.empty:
            return self
        rater = self.facets[1]
        ids = self.tables[f"measures_{rater}"][rater].astype(str)
        mine = drift[drift["rater_id"].astype(str).isin(ids)].reset_index(drop=True)
        if mine.empty:
            return self
        return replace(
            self,
            tables={**self.tables, "drift": mine},
            sections=(*self.sections, DRIFT_SECTION),
            columns={**self.columns, "drift": DRIFT_COLUMNS},
        )

    def _min_count(self, value: int | None) -> int:
        return int(self.meta["parameters"]["min_count"] if value is None else value)


_BIAS_NUMBERS = (
    "count",
    "observed",
    "expected",
    "obs_minus_exp",
    "bias",
    "se",
    "t",
    "df",
    "p",
    "p_adjusted",
    "infit",
    "outfit",
)


def _bias_table(fitted: _Fitted, facet_a: str, facet_b: str, min_count: int, multiplicity: str) -> pd.DataFrame:
    """Table 13 of (facet_a, facet_b); ``table.attrs["dropped"]`` counts the ratings left out and why."""
    ratings = fitted.ratings
    for name in (facet_a, facet_b):
        if name not in ratings:
            raise DataError(f"{name!r} is not a column of the scores (facets: {', '.join(fitted.facets)})")
    a_codes, a_labels = pd.factorize(ratings[facet_a].astype(str), sort=True)
    b_values = ratings[facet_b]
    known = b_values.notna() & (b_values.astype(str) != "")
    b_codes, b_labels = pd.factorize(b_values.where(known).astype("string"), sort=True)
    keep = (a_codes >= 0) & (b_codes >= 0) & fitted.fit_mask
    n_b = len(b_labels)
    cell_all = a_codes.astype(np.int64) * max(n_b, 1) + b_codes
    cell, cell_ids = pd.factorize(cell_all[keep])
    n_cells = len(cell_ids)
    fit = fitted.fit
    x = fitted.x[keep]
    raw = ratings["score"].to_numpy(float)[keep]
    count = np.bincount(cell, minlength=n_cells)
    expected_raw = _expected_raw(fitted, fit.probabilities)[keep]
    bias, se, extreme, E_b, W_b, C_b = interaction_bias(
        cell, n_cells, x, fit.eta[keep], fitted.group[keep], fit.joint_thresholds, fit.n_categories
    )
    infit, _, outfit, _ = element_fit(cell, n_cells, x, E_b, W_b, C_b)
    observed = np.bincount(cell, raw, n_cells) / np.maximum(count, 1)
    expected = np.bincount(cell, expected_raw, n_cells) / np.maximum(count, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = bias / se
    df = count - 1.0
    from scipy import stats as st

    p = np.where(df > 0, 2 * st.t.sf(np.abs(t), np.maximum(df, 1)), np.nan)
    small = count < min_count
    eligible = ~small & (extreme == 0) & np.isfinite(p)
    p_adj = adjust_pvalues(p, multiplicity, eligible)
    table = pd.DataFrame(
        {
            facet_a: np.asarray(a_labels)[cell_ids // max(n_b, 1)],
            facet_b: np.asarray(b_labels, dtype=object)[cell_ids % max(n_b, 1)],
            "count": count.astype(float),
            "observed": observed,
            "expected": expected,
            "obs_minus_exp": observed - expected,
            "bias": bias,
            "se": se,
            "t": t,
            "df": df,
            "p": p,
            "p_adjusted": p_adj,
            "infit": infit,
            "outfit": outfit,
            "status": np.where(extreme > 0, "maximum", np.where(extreme < 0, "minimum", "")),
        }
    )
    table.loc[small, list(_BIAS_NUMBERS)] = np.nan
    table.loc[small, "status"] = SUPPRESSED.format(k=min_count)
    table = table.sort_values([facet_a, facet_b], kind="stable").reset_index(drop=True)
    table = table[[facet_a, facet_b, *_BIAS_NUMBERS, "status"]]
    dropped = {
        f"{facet_b} blank": int((~known.to_numpy() & fitted.fit_mask).sum()),
        "an element with an extreme score (no residual to interact)": int((~fitted.fit_mask).sum()),
    }
    table.attrs["dropped"] = {k: v for k, v in dropped.items() if v}
    return table


def bias_chi_square(table: pd.DataFrame) -> dict[str, float]:
    """FACETS' fixed (all = 0) chi-square of a bias table: the sum of squared t over the cells shown
    (not suppressed, not extreme), on as many d.f."""
    from scipy import stats as st

    usable = table[(table["status"] == "") & np.isfinite(table["t"].astype(float))]
    chi2 = float((usable["t"].astype(float) ** 2).sum())
    df = int(len(usable))
    return {"chi2": chi2, "df": df, "p": float(st.chi2.sf(chi2, df)) if df else float("nan")}


def _contrast_table(bias: pd.DataFrame, facet_a: str, facet_b: str, multiplicity: str) -> pd.DataFrame:
    usable = bias[(bias["status"] == "") & bias["se"].notna()]
    pairs = usable.merge(usable, on=facet_a, suffixes=("_1", "_2"))
    pairs = pairs[pairs[f"{facet_b}_1"].astype(str) < pairs[f"{facet_b}_2"].astype(str)]
    contrast, se, t, df, p = rasch_welch(
        pairs["bias_1"], pairs["se_1"], pairs["count_1"], pairs["bias_2"], pairs["se_2"], pairs["count_2"]
    )
    out = pd.DataFrame(
        {
            facet_a: pairs[facet_a].to_numpy(),
            f"{facet_b}_1": pairs[f"{facet_b}_1"].to_numpy(),
            "bias_1": pairs["bias_1"].to_numpy(),
            "se_1": pairs["se_1"].to_numpy(),
            f"{facet_b}_2": pairs[f"{facet_b}_2"].to_numpy(),
            "bias_2": pairs["bias_2"].to_numpy(),
            "se_2": pairs["se_2"].to_numpy(),
            "contrast": np.asarray(contrast),
            "se": np.asarray(se),
            "t": np.asarray(t),
            "df": np.asarray(df),
            "p": np.asarray(p),
        }
    )
    out["p_adjusted"] = adjust_pvalues(out["p"].to_numpy(float), multiplicity)
    return out.reset_index(drop=True)


def _columns(facets: Sequence[str], bias_pairs) -> dict[str, TableColumns]:
    """What privacy needs: the rater columns (ids of the second facet), counts and the derived flag text."""
    rater = facets[1]
    cols: dict[str, TableColumns] = {}
    for f in facets:
        cols[f"measures_{f}"] = TableColumns(
            counts=("count",),
            support="count",
            raters=(rater,) if f == rater else (),
            drop_when_anonymized=(),
            texts=("flag",),
        )
    cols["summary"] = TableColumns(raters=(), drop_when_anonymized=(), fixed=("elements", "extreme", "df"))
    cols["categories"] = TableColumns(counts=("count",), raters=(), drop_when_anonymized=(), fixed=("score",))
    cols["agreement"] = TableColumns(
        counts=("opportunities",), support="opportunities", raters=(f"{rater}_a", f"{rater}_b"), drop_when_anonymized=()
    )
    for a, b in bias_pairs:
        named = (rater, f"{rater}_1", f"{rater}_2")
        cols[f"bias_{a}_x_{b}"] = TableColumns(
            counts=("count",),
            support="count",
            raters=tuple(c for c in named if c in (a, b)),
            drop_when_anonymized=(),
            suppressed_label=SUPPRESSED,
        )
        contrast_cols = (a, f"{b}_1", f"{b}_2")
        cols[f"contrast_{a}_x_{b}"] = TableColumns(
            raters=tuple(c for c in contrast_cols if c in named), drop_when_anonymized=()
        )
    return cols


def _subset_error(err: DisconnectedDesignError, facets, labels) -> FacetsDesignError:
    def describe(subset) -> tuple[dict[str, list[str]], str]:
        entry = {facets[f]: [str(labels[f][j]) for j in idx] for f, idx in subset.items() if len(idx)}
        shown = "; ".join(
            f"{name}: {', '.join(ids[:8])}{' ...' if len(ids) > 8 else ''} ({len(ids)})" for name, ids in entry.items()
        )
        return entry, shown

    with_works = [s for s in err.subsets if len(s[0])]
    without = [s for s in err.subsets if not len(s[0])]
    named = []
    lines = []
    if len(with_works) > 1:
        for i, subset in enumerate(with_works, start=1):
            entry, shown = describe(subset)
            named.append(entry)
            lines.append(f"  subset {i}: {shown}")
        message = (
            f"the ratings split into {len(with_works)} disconnected subsets, so their measures cannot be compared: "
            f"a difference between the subsets' {facets[0]}s would fit the data exactly as well as a difference "
            "between the measures of their other elements.\n" + "\n".join(lines)
        )
        if without:
            shared = "; ".join(describe(s)[1] for s in without)
            message += f"\n  common to every subset: {shared}"
        message += (
            f"\nfix: have some {facets[1]}s of each subset score common (linking) works, leave out a facet nested in "
            f"the {facets[0]}s (each work in one session, say), or analyse each subset on its own"
        )
    else:
        for i, subset in enumerate(without, start=1):
            entry, shown = describe(subset)
            named.append(entry)
            lines.append(f"  group {i}: {shown}")
        message = (
            "the rating design confounds elements of different facets, so their measures cannot be separated: "
            "these groups always occur together in the ratings, and shifting one group's measures against "
            "another's would fit the data exactly as well (disconnected in FACETS' sense).\n"
            + "\n".join(lines)
            + f"\nfix: cross the facets (e.g. have each {facets[1]} score more than one "
            f"{facets[2] if len(facets) > 2 else 'element'}), or leave one of the confounded facets out"
        )
    return FacetsDesignError(message, named)


def _named_notes(fit, facets: Sequence[str]) -> list[str]:
    """The fit's notes, the bias correction's factors named by facet."""
    out = [n for n in fit.notes if not n.startswith("JMLE bias corrected")]
    if fit.bias_factor:
        named = ", ".join(f"{f} / {b:.3f}" for f, b in zip(facets[1:], fit.bias_factor[:-1]))
        out.append(
            f"JMLE bias corrected (parametric-bootstrap calibration): measures of {named}, thresholds / "
            f"{fit.bias_factor[-1]:.3f}; the {facets[0]} measures re-estimated with those anchored"
        )
    return out


def fit_facets(
    scores: pd.DataFrame,
    facets: Sequence[str] = DEFAULT_FACETS,
    model: str = "rating_scale",
    score: str = "score",
    categories: Sequence[int] | None = None,
    extra: Sequence[str] = (),
    *,
    steps_by: str | None = None,
    bias: Sequence[tuple[str, str]] | None = None,
    min_count: int = 10,
    fit_range: tuple[float, float] = (0.5, 1.5),
    severity_logits: float | None = 0.5,
    multiplicity: str = "holm",
    level: float = 0.95,
    correct_bias: bool = True,
    seed: int = 20261202,
    progress: Callable[[str, int, float], None] | None = None,
    provenance=None,
) -> FacetsResult:
    """Fit the many-facet Rasch model to long scores and return FACETS' tables.

    Parameters
    ----------
    scores : DataFrame
        One row per score (what :meth:`irr.store.Store.scores` returns): the facet columns and
        ``score``.  Rows with a condition code or no score are left out and counted in
        ``meta["dropped"]``.
    facets : the object of measurement first (``work_id``), then the facets oriented
        negatively (``rater_id``, ``dimension``, ...).
    model : ``"rating_scale"`` (one set of thresholds) or ``"partial_credit"`` (thresholds per
        element of ``steps_by``, default ``dimension`` or the last facet), for rubrics whose
        dimensions have different scales.
    categories : the score points of the scale (default: those used).  Score points nobody used
        are left out of the scale (FACETS' ordinal recount) and noted.
    extra : more facets (``session_id``, ``rater_district``, ...) added after ``facets``.
    bias : interaction tables to include (pairs of facets or columns); default the second and
        third facets (rater x dimension).  Any other pair: :meth:`FacetsResult.bias`.
    min_count : interaction cells with fewer ratings are suppressed (never shown).
    fit_range : mean-squares outside it are flagged (Linacre: 0.5-1.5 is "productive for
        measurement"); over the top is erratic, under the bottom too predictable.
    severity_logits : flag an element as harsh or lenient when its measure is at least this far
        from its facet's mean and the joint-SE interval excludes the mean (None: never).
    correct_bias : JMLE bias correction (see :func:`irr.stats.facets.fit_rasch_facets`).
    progress : called as ``progress(stage, iteration, largest_change)`` while fitting.

    Raises :class:`FacetsDesignError` (naming the elements of every subset) when the design is
    disconnected.

    References
    ----------
    Linacre, J. M. (1989). *Many-facet Rasch measurement*. MESA Press.  Linacre, J. M. (2023).
    *Facets computer program for many-facet Rasch measurement*, Tables 7, 8, 13, 14.
    Myford, C. M., & Wolfe, E. W. (2003, 2004). Detecting and measuring rater effects using
    many-facet Rasch measurement, Parts I and II. *Journal of Applied Measurement* 4, 386-422;
    5, 189-227.
    """
    if model not in MODELS:
        raise DataError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
    facets = tuple(dict.fromkeys([*facets, *extra]))
    if len(facets) < 2:
        raise DataError("give the object of measurement and at least one other facet")
    missing = [c for c in (*facets, score) if c not in scores]
    if missing:
        raise DataError(f"scores lack column(s) {missing} (facets: {', '.join(facets)})")
    frame = scores.rename(columns={score: "score"}) if score != "score" else scores
    coded = condition_coded(frame) if "condition_code" in frame or frame["score"].isna().any() else None
    dropped: dict[str, int] = {}
    if coded is not None and coded.any():
        dropped["condition code or no score"] = int(coded.sum())
        frame = frame[~coded]
    blank = np.zeros(len(frame), dtype=bool)
    for name in facets:
        blank |= frame[name].isna().to_numpy() | (frame[name].astype(str) == "").to_numpy()
    if blank.any():
        dropped["a facet left blank"] = int(blank.sum())
        frame = frame[~blank]
    if frame.empty:
        raise DataError("no scores to fit")
    frame = frame.reset_index(drop=True)
    frame = frame.assign(score=pd.to_numeric(frame["score"], errors="raise").astype("int64"))
    codes_list, labels = [], []
    for name in facets:
        c, lab = _element_codes(frame, name)
        codes_list.append(c)
        labels.append(lab)
    codes = np.column_stack(codes_list)
    if model == "partial_credit":
        steps_by = steps_by or ("dimension" if "dimension" in facets else facets[-1])
        if steps_by not in facets[1:]:
            raise DataError(f"steps_by must be one of the facets after the first; got {steps_by!r}")
        group_codes = codes[:, facets.index(steps_by)]
        group_labels = labels[facets.index(steps_by)]
    else:
        group_codes = np.zeros(len(frame), dtype=np.int64)
        group_labels = pd.Index(["all"], name="group")
    x, values, notes = _categories(frame["score"], group_codes, len(group_labels), categories)
    n_categories = np.isfinite(values).sum(axis=1)
    if (n_categories < 2).any():
        bad = [str(group_labels[g]) for g in np.flatnonzero(n_categories < 2)]
        raise DataError(f"every score of {', '.join(bad)} is the same: a scale needs two categories used")
    try:
        fit = fit_rasch_facets(
            x,
            codes,
            [len(lab) for lab in labels],
            group_codes,
            n_categories,
            correct_bias=correct_bias,
            seed=seed,
            callback=progress,
        )
    except DisconnectedDesignError as err:
        raise _subset_error(err, facets, labels) from None
    fit_mask = np.ones(len(x), dtype=bool)
    for f in range(len(facets)):
        fit_mask &= fit.extreme[f][codes[:, f]] == 0
    fitted = _Fitted(frame, facets, codes, tuple(labels), x, group_codes, values, group_labels, fit, fit_mask)
    from scipy import stats as st

    options = {
        "z": float(st.norm.ppf(0.5 + level / 2)),
        "fit_range": tuple(fit_range),
        "severity_logits": severity_logits,
    }
    rater_facet = 1
    per_pair, obs, exp, overall = _agreement_tables(fitted, rater_facet)
    tables: dict[str, pd.DataFrame] = {}
    measures = {}
    for f, name in enumerate(facets):
        table = _measures_table(fitted, f, options, (obs, exp) if f == rater_facet else None)
        measures[name] = table
        tables[f"measures_{name}"] = table.reset_index()
    tables["summary"] = _summary_table(fitted, measures).reset_index()
    tables["categories"] = _categories_table(fitted)
    tables["agreement"] = per_pair
    if bias is None:
        bias = [(facets[1], facets[2])] if len(facets) >= 3 else []
    bias_pairs = [tuple(p) for p in bias]
    fixed_chi2 = {}
    bias_dropped: dict[str, dict[str, int]] = {}
    for a, b in bias_pairs:
        table = _bias_table(fitted, a, b, min_count, multiplicity)
        tables[f"bias_{a}_x_{b}"] = table
        tables[f"contrast_{a}_x_{b}"] = _contrast_table(table, a, b, multiplicity)
        fixed_chi2[f"bias_{a}_x_{b}"] = bias_chi_square(table)
        if table.attrs.get("dropped"):
            bias_dropped[f"bias_{a}_x_{b}"] = dict(table.attrs["dropped"])
    extreme_counts = {facets[f]: int((fit.extreme[f] != 0).sum()) for f in range(len(facets))}
    meta = make_meta(
        analysis="facets",
        level=level,
        parameters={
            "facets": list(facets),
            "model": model,
            "steps_by": steps_by if model == "partial_credit" else None,
            "categories": None if categories is None else list(categories),
            "bias": [list(p) for p in bias_pairs],
            "min_count": int(min_count),
            "fit_range": list(fit_range),
            "severity_logits": severity_logits,
            "multiplicity": multiplicity,
            "correct_bias": bool(correct_bias),
            "seed": int(seed),
        },
        provenance=provenance,
        dropped=dropped,
        estimation=(
            "joint maximum likelihood (full Newton-Raphson), bias-corrected by a parametric-bootstrap calibration"
            if correct_bias
            else "joint maximum likelihood (full Newton-Raphson), uncorrected"
        ),
        iterations=int(fit.iterations),
        converged=bool(fit.converged),
        log_likelihood=float(fit.log_likelihood),
        bias_factors=list(fit.bias_factor),
        n_ratings=int(len(x)),
        extreme=extreme_counts,
        rater_agreement=overall,
        bias_fixed_chi2=fixed_chi2,
        bias_dropped=bias_dropped,
        notes=[*notes, *_named_notes(fit, facets)],
    )
    sections = [
        Section("raters", f"Measures: {facets[1]}", (f"measures_{facets[1]}",)),
        Section("summary", "Separation and reliability", ("summary",)),
        *[Section(f"facet-{f}", f"Measures: {f}", (f"measures_{f}",)) for f in facets if f != facets[1]],
        Section("categories", "Rating scale", ("categories",)),
        Section("agreement", "Rater agreement: observed and expected", ("agreement",)),
        *[
            Section(f"bias-{a}-{b}", f"Bias: {a} x {b}", (f"bias_{a}_x_{b}", f"contrast_{a}_x_{b}"))
            for a, b in bias_pairs
        ],
    ]
    return FacetsResult(
        kind="facets",
        title="Rater measurement (many-facet Rasch)",
        tables=tables,
        meta=meta,
        sections=tuple(sections),
        columns=_columns(facets, bias_pairs),
        fitted=fitted,
    )
