"""Known answers for the generalizability-theory estimators (``irr.stats.gtheory``, ``irr.analysis.gstudy``).

Every expected value is computed here from first principles: classical ANOVA sums of squares on the
balanced data cube and the expected-mean-squares equations solved by hand (Brennan 2001, ch. 3;
Cronbach et al. 1972), Brennan's D-study formulas written out term by term, a published textbook
example (Brennan 2001, synthetic data set no. 4), statsmodels' REML on unbalanced data and the
independent GeneralizIT package (Henderson's Method 1).
"""

from __future__ import annotations

import contextlib
import io
import types
import warnings

import numpy as np
import pandas as pd
import pytest

from irr.analysis.gstudy import g_study
from irr.stats.gtheory import bootstrap_components, variance_components

PTR_NAMES = [
    "student_id",
    "task_id",
    "rater_id",
    "student_id x task_id",
    "student_id x rater_id",
    "task_id x rater_id",
    "residual",
]


# ----------------------------------------------------------------------------- data
def _ptr_cube(n_p: int = 12, n_t: int = 3, n_r: int = 4, seed: int = 9) -> np.ndarray:
    """A balanced p x t x r cube drawn from the random-effects model (every component positive)."""
    rng = np.random.default_rng(seed)
    sd = {"p": 1.0, "t": 0.5, "r": 0.4, "pt": 0.6, "pr": 0.5, "tr": 0.3, "e": 0.7}
    return (
        3.0
        + rng.normal(0, sd["p"], (n_p, 1, 1))
        + rng.normal(0, sd["t"], (1, n_t, 1))
        + rng.normal(0, sd["r"], (1, 1, n_r))
        + rng.normal(0, sd["pt"], (n_p, n_t, 1))
        + rng.normal(0, sd["pr"], (n_p, 1, n_r))
        + rng.normal(0, sd["tr"], (1, n_t, n_r))
        + rng.normal(0, sd["e"], (n_p, n_t, n_r))
    )


def _long(cube: np.ndarray) -> pd.DataFrame:
    """Long scores of a p x t x r cube (student_id, task_id, rater_id, score)."""
    p, t, r = np.meshgrid(*(np.arange(k) for k in cube.shape), indexing="ij")
    return pd.DataFrame({"student_id": p.ravel(), "task_id": t.ravel(), "rater_id": r.ravel(), "score": cube.ravel()})


def _unbalanced(n_p: int, n_t: int, n_r: int, missing: float, seed: int) -> pd.DataFrame:
    """A p x t x r cube with a random ``missing`` share of its cells dropped."""
    frame = _long(_ptr_cube(n_p, n_t, n_r, seed))
    keep = np.random.default_rng(seed + 1).random(len(frame)) >= missing
    return frame[keep].reset_index(drop=True)


# ----------------------------------------------------------------------------- ANOVA by hand
def _ptr_anova(y: np.ndarray) -> dict[str, float]:
    """Classical p x t x r ANOVA (one score per cell) and its EMS solution (Brennan 2001, Table 3.3)."""
    n_p, n_t, n_r = y.shape
    m = y.mean()
    mp, mt, mr = y.mean(axis=(1, 2)), y.mean(axis=(0, 2)), y.mean(axis=(0, 1))
    mpt, mpr, mtr = y.mean(axis=2), y.mean(axis=1), y.mean(axis=0)
    ss = {
        "p": n_t * n_r * np.sum((mp - m) ** 2),
        "t": n_p * n_r * np.sum((mt - m) ** 2),
        "r": n_p * n_t * np.sum((mr - m) ** 2),
        "pt": n_r * np.sum((mpt - mp[:, None] - mt[None, :] + m) ** 2),
        "pr": n_t * np.sum((mpr - mp[:, None] - mr[None, :] + m) ** 2),
        "tr": n_p * np.sum((mtr - mt[:, None] - mr[None, :] + m) ** 2),
    }
    resid = (
        y
        - mpt[:, :, None]
        - mpr[:, None, :]
        - mtr[None, :, :]
        + mp[:, None, None]
        + mt[None, :, None]
        + mr[None, None, :]
        - m
    )
    ss["ptr"] = np.sum(resid**2)
    assert np.isclose(sum(ss.values()), np.sum((y - m) ** 2))  # the SS partition the total
    df = {
        "p": n_p - 1,
        "t": n_t - 1,
        "r": n_r - 1,
        "pt": (n_p - 1) * (n_t - 1),
        "pr": (n_p - 1) * (n_r - 1),
        "tr": (n_t - 1) * (n_r - 1),
        "ptr": (n_p - 1) * (n_t - 1) * (n_r - 1),
    }
    ms = {k: ss[k] / df[k] for k in ss}
    # E(MS_p) = s2_ptr + n_r s2_pt + n_t s2_pr + n_t n_r s2_p, and so on: solved from the bottom up
    return {
        "p": (ms["p"] - ms["pt"] - ms["pr"] + ms["ptr"]) / (n_t * n_r),
        "t": (ms["t"] - ms["pt"] - ms["tr"] + ms["ptr"]) / (n_p * n_r),
        "r": (ms["r"] - ms["pr"] - ms["tr"] + ms["ptr"]) / (n_p * n_t),
        "pt": (ms["pt"] - ms["ptr"]) / n_r,
        "pr": (ms["pr"] - ms["ptr"]) / n_t,
        "tr": (ms["tr"] - ms["ptr"]) / n_p,
        "ptr": ms["ptr"],
    }


def _p_rt_anova(y: np.ndarray) -> dict[str, float]:
    """p x (r:t) ANOVA: ``y[p, t, r]`` with rater r of task t a different rater for every task.

    E(MS_p) = s2_pr:t + n_r s2_pt + n_t n_r s2_p;  E(MS_t) = s2_pr:t + n_r s2_pt + n_p s2_r:t + n_p n_r s2_t;
    E(MS_r:t) = s2_pr:t + n_p s2_r:t;  E(MS_pt) = s2_pr:t + n_r s2_pt;  E(MS_pr:t) = s2_pr:t (Brennan 2001, ch. 3).
    """
    n_p, n_t, n_r = y.shape
    m = y.mean()
    mp, mt = y.mean(axis=(1, 2)), y.mean(axis=(0, 2))
    mpt, mtr = y.mean(axis=2), y.mean(axis=0)
    ss = {
        "p": n_t * n_r * np.sum((mp - m) ** 2),
        "t": n_p * n_r * np.sum((mt - m) ** 2),
        "r:t": n_p * np.sum((mtr - mt[:, None]) ** 2),
        "pt": n_r * np.sum((mpt - mp[:, None] - mt[None, :] + m) ** 2),
        "pr:t": np.sum((y - mpt[:, :, None] - mtr[None, :, :] + mt[None, :, None]) ** 2),
    }
    assert np.isclose(sum(ss.values()), np.sum((y - m) ** 2))
    df = {
        "p": n_p - 1,
        "t": n_t - 1,
        "r:t": n_t * (n_r - 1),
        "pt": (n_p - 1) * (n_t - 1),
        "pr:t": n_t * (n_p - 1) * (n_r - 1),
    }
    ms = {k: ss[k] / df[k] for k in ss}
    return {
        "p": (ms["p"] - ms["pt"]) / (n_t * n_r),
        "t": (ms["t"] - ms["r:t"] - ms["pt"] + ms["pr:t"]) / (n_p * n_r),
        "r:t": (ms["r:t"] - ms["pr:t"]) / n_p,
        "pt": (ms["pt"] - ms["pr:t"]) / n_r,
        "pr:t": ms["pr:t"],
    }


def _components(result) -> dict[str, float]:
    return result.components.set_index("source")["variance"].to_dict()


# ----------------------------------------------------------------------------- balanced known answers
def test_ptr_balanced_equals_ems_solution():
    cube = _ptr_cube()
    want = _ptr_anova(cube)
    frame = _long(cube)
    p, t, r = (frame[c].to_numpy() for c in ("student_id", "task_id", "rater_id"))
    levels = [p, t, r, p * 10 + t, p * 10 + r, t * 10 + r, np.arange(len(frame))]
    vc = variance_components(frame["score"].to_numpy(), levels)
    expected = [want[k] for k in ("p", "t", "r", "pt", "pr", "tr", "ptr")]
    assert min(expected) > 0  # the data exercise every component (no clipping in the D-study checks)
    np.testing.assert_allclose(vc.variance, expected, rtol=0, atol=1e-8)
    assert vc.mean == pytest.approx(cube.mean(), abs=1e-12)
    g = g_study(frame, n_resamples=0)
    assert list(g.components["source"]) == PTR_NAMES
    np.testing.assert_allclose(g.components["variance"].to_numpy(), expected, rtol=0, atol=1e-8)
    assert g.meta["balanced"] and g.meta["estimation"] == "ANOVA (expected mean squares)"


def test_p_x_r_in_t_balanced_equals_ems_solution():
    n_p, n_t, n_r = 10, 3, 4
    rng = np.random.default_rng(5)
    y = (
        rng.normal(0, 1.0, (n_p, 1, 1))
        + rng.normal(0, 0.6, (1, n_t, 1))
        + rng.normal(0, 0.5, (1, n_t, n_r))  # rater effects: a different rater in every task
        + rng.normal(0, 0.6, (n_p, n_t, 1))
        + rng.normal(0, 0.8, (n_p, n_t, n_r))
    )
    want = _p_rt_anova(y)
    p, t, r = np.meshgrid(np.arange(n_p), np.arange(n_t), np.arange(n_r), indexing="ij")
    rater = (t * n_r + r).ravel()  # rater ids unique across tasks
    frame = pd.DataFrame({"student_id": p.ravel(), "task_id": t.ravel(), "rater_id": rater, "score": y.ravel()})
    expected = [want[k] for k in ("p", "t", "r:t", "pt", "pr:t")]
    pv, tv = p.ravel(), t.ravel()
    levels = [pv, tv, rater, pv * 10 + tv, np.arange(pv.size)]
    np.testing.assert_allclose(variance_components(y.ravel(), levels).variance, expected, rtol=0, atol=1e-8)
    g = g_study(frame, nested={"rater_id": "task_id"}, n_resamples=0)
    assert list(g.components["source"]) == [
        "student_id",
        "task_id",
        "rater_id:task_id",
        "student_id x task_id",
        "residual",
    ]
    np.testing.assert_allclose(g.components["variance"].to_numpy(), expected, rtol=0, atol=1e-8)
    # D-study of p x (r:t): delta = s2_pt/n't + s2_pr:t/(n't n'r); Delta adds s2_t/n't + s2_r:t/(n't n'r)
    s = {k: max(v, 0.0) for k, v in want.items()}
    sizes = [(1, 1), (2, 3), (3, 4), (5, 2)]
    table = g.d_study({"task_id": [a for a, _ in sizes], "rater_id": sorted({b for _, b in sizes})})
    for nt, nr in sizes:
        rel = s["pt"] / nt + s["pr:t"] / (nt * nr)
        ab = rel + s["t"] / nt + s["r:t"] / (nt * nr)
        row = table[(table["task_id"] == nt) & (table["rater_id"] == nr)].iloc[0]
        assert row["g"] == pytest.approx(s["p"] / (s["p"] + rel), abs=1e-10)
        assert row["phi"] == pytest.approx(s["p"] / (s["p"] + ab), abs=1e-10)
        assert row["relative_error"] == pytest.approx(rel, abs=1e-10)


def test_r_in_p_balanced_equals_ems_solution():
    # r:p: every student read by three raters of their own; E(MS_p) = s2_r:p + n_r s2_p, E(MS_r:p) = s2_r:p
    n_p, n_r = 15, 3
    rng = np.random.default_rng(8)
    y = rng.normal(0, 1.0, (n_p, 1)) + rng.normal(0, 0.7, (n_p, n_r))
    m, mp = y.mean(), y.mean(axis=1)
    ms_p = n_r * np.sum((mp - m) ** 2) / (n_p - 1)
    ms_rp = np.sum((y - mp[:, None]) ** 2) / (n_p * (n_r - 1))
    s2_p, s2_rp = (ms_p - ms_rp) / n_r, ms_rp
    p, r = np.meshgrid(np.arange(n_p), np.arange(n_r), indexing="ij")
    frame = pd.DataFrame({"student_id": p.ravel(), "rater_id": (p * n_r + r).ravel(), "score": y.ravel()})
    g = g_study(frame, facets=("rater_id",), nested={"rater_id": "student_id"}, n_resamples=0)
    assert list(g.components["source"]) == ["student_id", "residual"]
    np.testing.assert_allclose(g.components["variance"].to_numpy(), [s2_p, s2_rp], rtol=0, atol=1e-8)
    # in r:p the rater effect is confounded with the residual: delta = Delta = s2_r:p / n'r
    assert g.g == pytest.approx(s2_p / (s2_p + s2_rp / n_r), abs=1e-10)
    assert g.phi == pytest.approx(g.g, abs=1e-12)
    row = g.d_study({"rater_id": [2]}).iloc[0]
    assert row["g"] == pytest.approx(s2_p / (s2_p + s2_rp / 2), abs=1e-10)


# ----------------------------------------------------------------------------- D-study and phi(lambda)
def test_ptr_d_study_and_phi_lambda_equal_brennan_formulas():
    cube = _ptr_cube()
    n_p = cube.shape[0]
    s = _ptr_anova(cube)
    g = g_study(_long(cube), n_resamples=0)

    def coefficients(nt: float, nr: float) -> tuple[float, float, float]:
        rel = s["pt"] / nt + s["pr"] / nr + s["ptr"] / (nt * nr)
        ab = rel + s["t"] / nt + s["r"] / nr + s["tr"] / (nt * nr)
        return s["p"] / (s["p"] + rel), s["p"] / (s["p"] + ab), ab

    table = g.d_study({"task_id": [1, 2, 3, 6], "rater_id": [1, 2, 4, 10]})
    assert len(table) == 16
    for nt, nr in [(1, 1), (2, 4), (3, 4), (6, 10), (1, 10)]:
        row = table[(table["task_id"] == nt) & (table["rater_id"] == nr)].iloc[0]
        want_g, want_phi, ab = coefficients(nt, nr)
        assert row["g"] == pytest.approx(want_g, abs=1e-10)
        assert row["phi"] == pytest.approx(want_phi, abs=1e-10)
        assert row["sem_absolute"] == pytest.approx(np.sqrt(ab), abs=1e-10)
    want_g, want_phi, _ = coefficients(3, 4)  # the observed design
    assert g.g == pytest.approx(want_g, abs=1e-10) and g.phi == pytest.approx(want_phi, abs=1e-10)

    # Brennan (2001, ch. 2 and 4): phi(lambda) with (mu - lambda)^2 estimated by (Xbar - lambda)^2 - s2(Xbar)
    def phi_lambda(cut: float, nt: float, nr: float) -> float:
        var_mean = (
            s["p"] / n_p
            + s["t"] / nt
            + s["r"] / nr
            + s["pt"] / (n_p * nt)
            + s["pr"] / (n_p * nr)
            + s["tr"] / (nt * nr)
            + s["ptr"] / (n_p * nt * nr)
        )
        gap = (cube.mean() - cut) ** 2 - var_mean
        ab = coefficients(nt, nr)[2]
        return (s["p"] + gap) / (s["p"] + gap + ab)

    for cut in (1.0, 2.5, 4.0, 6.0):
        assert g.phi_lambda(cut) == pytest.approx(phi_lambda(cut, 3, 4), abs=1e-10)
        assert g.phi_lambda(cut, sizes={"task_id": 2, "rater_id": 3}) == pytest.approx(phi_lambda(cut, 2, 3), abs=1e-10)
    # far from the mean of the scores, decisions at the cut are dependable
    assert g.phi_lambda(cube.mean() + 20) > 0.99


# ----------------------------------------------------------------------------- a published example
# Brennan (2001), Table 3.2 p. 73: synthetic data set no. 4, 10 persons x 12 raters, raters 1-4 scoring
# task 1, 5-8 task 2, 9-12 task 3 (p x (r:t)).  Rows are persons, columns raters 1..12.  The data as given
# in the test file of the gt4ireval R package (github.com/julian-urbano/gt4ireval, gt4ireval.test.R),
# which also carries Brennan's published p x i analysis of the same data (Table 6.2, p. 182).
BRENNAN_SYNTHETIC_4 = np.array(
    [
        [5, 6, 5, 5, 5, 3, 4, 5, 6, 7, 3, 3],
        [9, 3, 7, 7, 7, 5, 5, 5, 7, 7, 5, 2],
        [3, 4, 3, 3, 5, 3, 3, 5, 6, 5, 1, 6],
        [7, 5, 5, 3, 3, 1, 4, 3, 5, 3, 3, 5],
        [9, 2, 9, 7, 7, 7, 3, 7, 2, 7, 5, 3],
        [3, 4, 3, 5, 3, 3, 6, 3, 4, 5, 1, 2],
        [7, 3, 7, 7, 7, 5, 5, 7, 5, 5, 5, 4],
        [5, 8, 5, 7, 7, 5, 5, 4, 3, 2, 1, 1],
        [9, 9, 8, 8, 6, 6, 6, 5, 5, 8, 1, 1],
        [4, 4, 4, 3, 3, 5, 6, 5, 5, 7, 1, 1],
    ],
    dtype=float,
)


def _brennan_frame() -> pd.DataFrame:
    p, r = np.meshgrid(np.arange(10), np.arange(12), indexing="ij")
    return pd.DataFrame(
        {
            "student_id": p.ravel(),
            "task_id": (r // 4).ravel(),
            "rater_id": r.ravel(),
            "score": BRENNAN_SYNTHETIC_4.ravel(),
        }
    )


def test_brennan_synthetic_4_published_components():
    frame = _brennan_frame()
    # p x i (the 12 raters as items): Brennan (2001) Table 6.2, p. 182: .6258, .8840, 2.7872; Table 6.5, p. 198:
    # Erho2 .729, Phi .672 (as gt4ireval's tests/testthat/test.gstudy.R and test.dstudy.R assert them)
    g = g_study(frame, facets=("rater_id",), n_resamples=0)
    np.testing.assert_allclose(g.components["variance"].to_numpy(), [0.6258, 0.8840, 2.7872], atol=5e-5)
    assert g.g == pytest.approx(0.729, abs=5e-4) and g.phi == pytest.approx(0.672, abs=5e-4)
    # p x (r:t), the design Brennan analyses these data with in ch. 3: the printed components were not at
    # hand to copy, so the check is the hand-written EMS solution of this file (and GeneralizIT, below)
    g = g_study(frame, nested={"rater_id": "task_id"}, n_resamples=0)
    want = _p_rt_anova(BRENNAN_SYNTHETIC_4.reshape(10, 3, 4))
    np.testing.assert_allclose(
        g.components["variance"].to_numpy(), [want[k] for k in ("p", "t", "r:t", "pt", "pr:t")], atol=1e-10
    )


# ----------------------------------------------------------------------------- unbalanced: REML
def _statsmodels_reml(frame: pd.DataFrame, effects: dict[str, list[str]]) -> dict[str, float]:
    """REML components by a direct statsmodels MixedLM call: one group, a variance component per effect."""
    import statsmodels.formula.api as smf

    data = pd.DataFrame({"y": frame["score"].to_numpy(float), "one": 1})
    vc = {}
    for name, cols in effects.items():
        key = "v" + str(len(vc))
        data[key] = frame[cols].astype(str).agg("|".join, axis=1).to_numpy()
        vc[name] = f"0 + C({key})"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm("y ~ 1", data, groups="one", re_formula="0", vc_formula=vc).fit(reml=True)
    out = dict(zip(fit.model.exog_vc.names, np.asarray(fit.vcomp, float)))
    out["residual"] = float(fit.scale)
    return out


def test_unbalanced_p_x_r_reml_and_method_1():
    pytest.importorskip("statsmodels")
    frame = _unbalanced(40, 1, 5, 0.25, seed=21).drop(columns="task_id")
    assert len(frame) == 145
    reml = g_study(frame, facets=("rater_id",), method="reml", n_resamples=0)
    anova = g_study(frame, facets=("rater_id",), method="anova", n_resamples=0)
    assert reml.meta["estimation"] == "REML (statsmodels MixedLM)" and not anova.meta["balanced"]
    direct = _statsmodels_reml(frame, {"student_id": ["student_id"], "rater_id": ["rater_id"]})
    got = _components(reml)
    for k in ("student_id", "rater_id", "residual"):
        assert got[k] == pytest.approx(direct[k], abs=1e-4)  # measured 1e-5: two optimisers, one likelihood
    # Method 1 and REML are different estimators of the same components: measured max |difference| 0.007
    # on these 145 scores (student 0.8828 vs 0.8881, residual 0.5176 vs 0.5245); pinned with room
    diff = np.abs(reml.components["variance"].to_numpy() - anova.components["variance"].to_numpy())
    assert diff.max() < 0.03
    assert abs(reml.g - anova.g) < 0.01  # measured 0.0009


def test_unbalanced_ptr_reml_and_method_1():
    pytest.importorskip("statsmodels")
    frame = _unbalanced(40, 3, 4, 0.25, seed=3)
    assert len(frame) == 378
    reml = g_study(frame, method="reml", n_resamples=0)
    anova = g_study(frame, method="anova", n_resamples=0)
    effects = {
        "student_id": ["student_id"],
        "task_id": ["task_id"],
        "rater_id": ["rater_id"],
        "student_id x task_id": ["student_id", "task_id"],
        "student_id x rater_id": ["student_id", "rater_id"],
        "task_id x rater_id": ["task_id", "rater_id"],
    }
    direct = _statsmodels_reml(frame, effects)
    got = _components(reml)
    for k in PTR_NAMES:
        # measured max 1.4e-4: g_study's L-BFGS and statsmodels' default BFGS stop at slightly different points
        assert got[k] == pytest.approx(direct[k], abs=5e-4), k
    diff = reml.components["variance"].to_numpy() - anova.components["variance"].to_numpy()
    # measured max |REML - Method 1| = 0.108 (residual 0.441 vs 0.332; student x rater 0.245 vs 0.350) on
    # these 378 scores: the estimators split the interaction and residual differently; pinned with room
    assert np.abs(diff).max() < 0.25
    assert abs(reml.g - anova.g) < 0.02  # measured 0.0011 (0.8687 vs 0.8676)


# ----------------------------------------------------------------------------- GeneralizIT
def _generalizit(frame: pd.DataFrame):
    """GeneralizIT 0.1.2 on p x t x r: (components by our names, its rho^2 and phi^2 of p)."""
    generalizit = pytest.importorskip("generalizit")
    data = frame.rename(columns={"student_id": "p", "task_id": "t", "rater_id": "r"})[["p", "t", "r", "score"]]
    with contextlib.redirect_stdout(io.StringIO()):  # it prints its progress
        gt = generalizit.GeneralizIT(data, "p x t x r", "score")
        gt.calculate_anova()
        gt.calculate_g_coefficients()
    variance = gt.design.anova_table["Variance"]
    keys = ["p", "t", "r", "p x t", "p x r", "t x r", "p x t x r"]
    coefs = gt.design.g_coeffs_table.loc["p"]
    return dict(zip(PTR_NAMES, variance[keys].to_numpy(float))), float(coefs["rho^2"]), float(coefs["phi^2"])


def test_generalizit_balanced():
    frame = _long(_ptr_cube())
    theirs, rho2, phi2 = _generalizit(frame)
    g = g_study(frame, n_resamples=0)
    ours = _components(g)
    # GeneralizIT rounds its T terms, coefficients and components to 4 decimals: measured max 4.7e-5
    for k in PTR_NAMES:
        assert ours[k] == pytest.approx(theirs[k], abs=2e-4), k
    assert g.g == pytest.approx(rho2, abs=2e-4) and g.phi == pytest.approx(phi2, abs=2e-4)


def test_generalizit_unbalanced():
    frame = _unbalanced(40, 3, 4, 0.25, seed=3)
    theirs, rho2, phi2 = _generalizit(frame)
    g = g_study(frame, n_resamples=0)
    ours = _components(g)
    # the same Method-1 equations; measured max |difference| 4.3e-5 (its 4-decimal rounding)
    for k in PTR_NAMES:
        assert ours[k] == pytest.approx(theirs[k], abs=5e-4), k
    # G and phi differ a little: GeneralizIT divides each component by a different "effective n" on
    # unbalanced data (the mean over persons of sum n^2 / (sum n)^2 of the cell counts), we by the harmonic
    # mean of the levels each person has; measured G 0.8676 vs 0.8617, phi 0.8489 vs 0.8429
    assert 0.002 < g.g - rho2 < 0.015 and 0.002 < g.phi - phi2 < 0.015


# ----------------------------------------------------------------------------- bootstrap with weights
def _ptr_levels(frame: pd.DataFrame) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    p, t, r = (frame[c].to_numpy(np.int64) for c in ("student_id", "task_id", "rater_id"))
    levels = [p, t, r, p * 100 + t, p * 100 + r, t * 100 + r, np.arange(len(frame))]
    return frame["score"].to_numpy(float), levels, p


INSIDE = [True, False, False, True, True, False, True]


def test_bootstrap_unit_weights_reproduce_point_estimate():
    frame = _unbalanced(30, 3, 4, 0.25, seed=9)
    y, levels, p = _ptr_levels(frame)
    point = variance_components(y, levels).variance
    boot = bootstrap_components(y, levels, p, INSIDE, weights=np.ones((2, 30)))
    assert boot.shape == (2, 7)
    np.testing.assert_allclose(boot, np.vstack([point, point]), rtol=0, atol=1e-9)


def test_bootstrap_weight_two_equals_duplicated_person():
    frame = _unbalanced(30, 3, 4, 0.25, seed=9)
    y, levels, p = _ptr_levels(frame)
    persons = np.unique(p)
    for k in (0, 7, 29):
        w = np.ones(persons.size)
        w[k] = 2.0
        boot = bootstrap_components(y, levels, p, INSIDE, weights=w[None, :])
        twin = frame[frame["student_id"] == persons[k]].assign(student_id=1000)
        dy, dlevels, _ = _ptr_levels(pd.concat([frame, twin], ignore_index=True))
        np.testing.assert_allclose(boot[0], variance_components(dy, dlevels).variance, rtol=0, atol=1e-9)
    # a weight of 0 drops the person
    w = np.ones(persons.size)
    w[3] = 0.0
    boot = bootstrap_components(y, levels, p, INSIDE, weights=w[None, :])
    ry, rlevels, _ = _ptr_levels(frame[frame["student_id"] != persons[3]].reset_index(drop=True))
    np.testing.assert_allclose(boot[0], variance_components(ry, rlevels).variance, rtol=0, atol=1e-9)


def test_generalizit_brennan_p_x_r_in_t():
    generalizit = pytest.importorskip("generalizit")
    data = _brennan_frame().rename(columns={"student_id": "p", "task_id": "t", "rater_id": "r"})
    with contextlib.redirect_stdout(io.StringIO()):
        gt = generalizit.GeneralizIT(data[["p", "t", "r", "score"]], "p x (r:t)", "score")
        gt.calculate_anova()
    theirs = gt.design.anova_table["Variance"][["p", "t", "r:t", "p x t", "p x (r:t)"]].to_numpy(float)
    ours = g_study(_brennan_frame(), nested={"rater_id": "task_id"}, n_resamples=0).components["variance"]
    np.testing.assert_allclose(ours.to_numpy(), theirs, atol=1e-4)


# ----------------------------------------------------------------------------- REML bookkeeping and convergence
def _four_factor_frame() -> pd.DataFrame:
    """Balanced 6 x 2 x 2 x 2 (students x tasks x raters x occasions): 14 random effects besides the residual."""
    rng = np.random.default_rng(1)
    p, t, r, o = np.meshgrid(np.arange(6), np.arange(2), np.arange(2), np.arange(2), indexing="ij")
    return pd.DataFrame(
        {
            "student_id": p.ravel(),
            "task_id": t.ravel(),
            "rater_id": r.ravel(),
            "occasion": o.ravel(),
            "score": rng.normal(0, 1, p.size),
        }
    )


def test_reml_components_follow_statsmodels_order(monkeypatch):
    """A stand-in fit returns, for each variance component, the number in its statsmodels name: g_study must
    report 0, 1, ..., 13 in its effects' order (no real fit: the bookkeeping is what is checked)."""
    mlm = pytest.importorskip("statsmodels.regression.mixed_linear_model")

    def fake_fit(self, *args, **kwargs):
        vcomp = np.array([float(name.lstrip("e")) for name in self.exog_vc.names])
        return types.SimpleNamespace(vcomp=vcomp, scale=99.0, converged=True, llf=0.0, model=self)

    monkeypatch.setattr(mlm.MixedLM, "fit", fake_fit)
    g = g_study(_four_factor_frame(), facets=("task_id", "rater_id", "occasion"), method="reml", n_resamples=0)
    np.testing.assert_array_equal(g.components["variance"].to_numpy(), [*range(14), 99.0])


def test_reml_reaches_the_optimum():
    pytest.importorskip("statsmodels")
    frame = _unbalanced(24, 3, 4, 0.25, seed=3)
    g = g_study(frame, method="reml", n_resamples=0)
    effects = {k: [c for c in ("student_id", "task_id", "rater_id") if c in k.split(" x ")] for k in PTR_NAMES[:-1]}
    direct = _statsmodels_reml(frame, effects)
    got = _components(g)
    assert max(abs(got[k] - direct[k]) for k in PTR_NAMES) < 5e-3
