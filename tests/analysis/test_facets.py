"""Rater measurement (fit_facets): recovery of planted effects, false alarms, design checks, tables.

The simulation is scripts/sim_facets.py (the full-size study is there; these are seeded small
replications of it).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from irr.analysis.facets import FacetsDesignError, fit_facets
from irr.errors import DataError

_spec = importlib.util.spec_from_file_location("sim_facets", Path(__file__).parents[2] / "scripts" / "sim_facets.py")
sim = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sim)


@pytest.fixture(scope="module")
def planted():
    scores, truth = sim.simulate_facets(900, 10, random_raters=1, central_raters=1, bias=1.0, seed=5, link_works=20)
    return scores, truth, fit_facets(scores)


@pytest.fixture(scope="module")
def null_data():
    return sim.simulate_facets(900, 10, seed=6, link_works=20)


def test_recovers_severities_and_corrects_jmle_spread(null_data):
    scores, truth = null_data
    corrected = fit_facets(scores).measures("rater_id")
    plain = fit_facets(scores, correct_bias=False).measures("rater_id")
    true = truth["severity"][corrected.index]
    assert np.corrcoef(corrected["measure"], true)[0, 1] > 0.98
    slope_corrected = np.polyfit(true, corrected["measure"], 1)[0]
    slope_plain = np.polyfit(true, plain["measure"], 1)[0]
    # plain JMLE spreads the raters out (8 ratings per work); the correction takes it back
    assert slope_plain > 1.08
    assert abs(slope_corrected - 1) < 0.06
    covered = np.abs(corrected["measure"] - true) <= 1.96 * corrected["joint_se"]
    assert covered.mean() >= 0.8
    # the joint SE carries the works' uncertainty: never below the model SE
    assert (corrected["joint_se"] >= corrected["se"] - 1e-12).all()


def test_null_data_raise_no_flags(null_data):
    scores, _ = null_data
    result = fit_facets(scores)
    raters = result.measures("rater_id")
    assert raters["infit"].between(0.7, 1.5).all() and raters["outfit"].between(0.7, 1.5).all()
    assert not raters["flag"].str.contains("fit").any()
    assert (result.tables["bias_rater_id_x_dimension"]["p_adjusted"] >= 0.05).all()


def test_random_and_central_raters_are_flagged(planted):
    _, truth, result = planted
    raters = result.measures("rater_id")
    random_rater, central_rater = truth["random"][0], truth["central"][0]
    assert max(raters.loc[random_rater, ["infit", "outfit"]]) > 1.5
    assert raters.loc[random_rater, "flag"].startswith("misfit")
    assert raters.loc[central_rater, "infit"] < 0.7
    assert raters.loc[central_rater, "flag"].startswith("overfit")
    others = raters.drop(index=[random_rater, central_rater])
    assert others["infit"].between(0.7, 1.5).all()
    # flagged raters first in result.flagged: exactly the two planted misfits among the fit flags
    assert set(raters.index[raters["flag"].str.contains("fit:")]) == {random_rater, central_rater}


def test_planted_interaction_is_the_largest_t_among_fitting_raters(planted):
    _, truth, result = planted
    raters = result.measures("rater_id")
    table = result.tables["bias_rater_id_x_dimension"]
    fitting = raters.index[raters["infit"].between(0.5, 1.5) & raters["outfit"].between(0.5, 1.5)]
    among = table[table["rater_id"].isin(fitting)]
    top = among.loc[among["t"].abs().idxmax()]
    assert (top["rater_id"], top["dimension"]) == truth["biased"]
    assert top["bias"] > 0.5 and top["p_adjusted"] < 0.05  # harsher there: positive, like a measure
    assert top["obs_minus_exp"] < 0
    contrasts = result.tables["contrast_rater_id_x_dimension"]
    own = contrasts[(contrasts["rater_id"] == truth["biased"][0]) & (contrasts["dimension_1"] == truth["biased"][1])]
    assert len(own) == 3 and (own["contrast"] > 0).all() and (own["p_adjusted"] < 0.05).all()


def test_differential_rater_functioning_suppresses_small_cells(null_data):
    scores, _ = null_data
    rng = np.random.default_rng(0)
    works = scores["work_id"].unique()
    ell = pd.Series(rng.random(works.size) < 0.03, index=works).map({True: "1", False: "0"})
    flagged = scores.assign(flag_ell=scores["work_id"].map(ell))
    result = fit_facets(flagged, correct_bias=False, bias=())
    table = result.bias("rater_id", "flag_ell", min_count=10)
    small = table["status"].str.startswith("suppressed")
    assert small.any() and (~small).any()
    assert table.loc[small, ["count", "bias", "se", "t", "p", "observed"]].isna().all().all()
    assert table.loc[small, "status"].eq("suppressed (n < 10)").all()
    assert table.loc[~small, "count"].ge(10).all()
    # suppressed cells are not in the Holm family: p_adjusted is computed over the others only
    assert table.loc[~small, "p_adjusted"].notna().all()
    # ratings of works with no flag recorded are in no cell, and counted
    blanked = flagged.assign(flag_ell=np.where(flagged["work_id"] == works[0], "", flagged["flag_ell"]))
    again = fit_facets(blanked, correct_bias=False, bias=()).bias("rater_id", "flag_ell")
    n_blank = int((blanked["flag_ell"] == "").sum())
    assert again.attrs["dropped"]["flag_ell blank"] == n_blank


def test_extreme_work_is_measured_and_reported():
    scores, _ = sim.simulate_facets(300, 6, seed=2, link_works=10)
    top = scores["score"].max()
    scores.loc[scores["work_id"] == "W00000", "score"] = top
    result = fit_facets(scores, correct_bias=False)
    works = result.measures("work_id")
    row = works.loc["W00000"]
    assert row["status"] == "maximum" and np.isfinite(row["measure"])
    ordinary = works.loc[works["status"] == "", "measure"]
    assert ordinary.quantile(0.9) < row["measure"] < ordinary.max() + 3  # finite, beyond the others, not runaway
    expected_total = row["expected_average"] * row["count"]
    assert expected_total == pytest.approx(row["total_score"] - 0.3, abs=1e-6)  # its score moved 0.3 inward
    assert np.isnan(row["infit"])
    assert result.meta["extreme"]["work_id"] >= 1


def test_disconnected_design_names_the_subsets():
    a, _ = sim.simulate_facets(120, 3, seed=3, link_works=5)
    b, _ = sim.simulate_facets(120, 3, seed=4, link_works=5)
    b = b.assign(work_id="B" + b["work_id"], rater_id="B" + b["rater_id"])
    with pytest.raises(FacetsDesignError) as err:
        fit_facets(pd.concat([a, b]), correct_bias=False)
    assert "2 disconnected subsets" in str(err.value)
    assert "common to every subset: dimension" in str(err.value)
    raters = [set(s.get("rater_id", [])) for s in err.value.subsets]
    assert {"R00", "R01", "R02"} in raters and {"BR00", "BR01", "BR02"} in raters
    assert "linking" in str(err.value)
    # a facet nested in the works (each work in one session) is not identified either
    nested = a.assign(session_id=np.where(a["work_id"].str[-1].astype(int) % 2 == 0, "s1", "s2"))
    with pytest.raises(FacetsDesignError, match="2 disconnected subsets") as err:
        fit_facets(nested, extra=("session_id",), correct_bias=False)
    assert "common to every subset: rater_id" in str(err.value)


def test_rater_confounded_with_dimension_is_not_identified():
    # the graph is connected (same works) but rater A scores only claim, rater B only evidence
    rows = [
        (f"W{w}", rater, dim, s)
        for w in range(30)
        for rater, dim, s in (("A", "claim", 1 + (w % 4)), ("B", "evidence", 1 + ((w + 1) % 4)))
    ]
    scores = pd.DataFrame(rows, columns=["work_id", "rater_id", "dimension", "score"])
    with pytest.raises(FacetsDesignError, match="confounds") as err:
        fit_facets(scores, correct_bias=False)
    groups = err.value.subsets
    assert {"A", "B"} <= {r for g in groups for r in g.get("rater_id", [])}
    assert {"claim", "evidence"} <= {d for g in groups for d in g.get("dimension", [])}


def test_partial_credit_with_different_scales():
    scores, _ = sim.simulate_facets(400, 6, seed=7, link_works=10)
    wide = scores["dimension"] == "conventions"
    jitter = np.random.default_rng(1).integers(0, 2, int(wide.sum()))
    scores.loc[wide, "score"] = np.clip(scores.loc[wide, "score"] * 2 - 1 - jitter, 1, 6)
    result = fit_facets(scores, model="partial_credit", correct_bias=False)
    cats = result.categories
    assert set(cats["group"]) == {"claim", "evidence", "organization", "conventions"}
    assert cats.loc[cats["group"] == "conventions", "score"].tolist() == [1, 2, 3, 4, 5, 6]
    assert cats.loc[cats["group"] == "claim", "score"].tolist() == [1, 2, 3, 4]
    steps = cats.dropna(subset=["threshold"]).groupby("group")["threshold"].sum()
    assert np.allclose(steps, 0, atol=1e-8)  # each group's thresholds are centred
    with pytest.raises(DataError, match="steps_by"):
        fit_facets(scores, model="partial_credit", steps_by="work_id")


def test_condition_codes_dropped_and_counted_and_extra_facet():
    scores, _ = sim.simulate_facets(200, 4, seed=8, link_works=5)
    crossed = (scores["work_id"].str[-1].astype(int) + scores["rater_id"].str[-1].astype(int)) % 2
    scores["session_id"] = np.where(crossed == 0, "s1", "s2")
    scores["condition_code"] = ""
    scores.loc[:2, "condition_code"] = "blank"
    scores.loc[:2, "score"] = np.nan
    result = fit_facets(scores, extra=("session_id",), correct_bias=False)
    assert result.dropped == {"condition code or no score": 3}
    assert result.meta["n_ratings"] == len(scores) - 3
    assert list(result.measures("session_id").index) == ["s1", "s2"]
    assert abs(result.measures("session_id")["measure"].sum()) < 1e-8
    with pytest.raises(DataError, match="not a facet"):
        result.measures("school")


def test_summary_and_agreement_tables_are_consistent(null_data):
    scores, _ = null_data
    result = fit_facets(scores, correct_bias=False)
    s = result.summary.loc["rater_id"]
    assert s["reliability"] == pytest.approx(s["adjusted_sd"] ** 2 / s["sd"] ** 2)
    assert s["strata"] == pytest.approx((4 * s["separation"] + 1) / 3)
    agreement = result.agreement
    overall = result.meta["rater_agreement"]
    assert agreement["opportunities"].sum() == overall["opportunities"]
    weighted = (agreement["exact_observed"] * agreement["opportunities"]).sum() / agreement["opportunities"].sum()
    assert weighted == pytest.approx(overall["exact_observed"])
    assert overall["rasch_kappa"] == pytest.approx(
        (overall["exact_observed"] - overall["exact_expected"]) / (1 - overall["exact_expected"])
    )
    # data from the model: observed and expected agreement are close
    assert abs(overall["exact_observed"] - overall["exact_expected"]) < 0.05


def test_unused_score_point_is_noted():
    scores, _ = sim.simulate_facets(200, 4, seed=9, link_works=5)
    result = fit_facets(scores, categories=[0, 1, 2, 3, 4], correct_bias=False)
    assert any("never used" in n for n in result.meta["notes"])
    with pytest.raises(DataError, match="not among the categories"):
        fit_facets(scores, categories=[1, 2, 3], correct_bias=False)


def _expected_score(eta: float, thresholds, values) -> float:
    """Rating-scale expected score, written out: P_k proportional to exp(k * eta - tau_1 - ... - tau_k)."""
    import math

    numerators = [math.exp(k * eta - sum(thresholds[:k])) for k in range(len(thresholds) + 1)]
    total = sum(numerators)
    return sum(v * n / total for v, n in zip(values, numerators))


def test_fair_average_and_bias_by_hand():
    """Fair-M average (Linacre: the element's measure, every other facet at its mean) and a Table 13 bias
    size (sum of residuals = 0 with the main effects anchored), computed with plain arithmetic."""
    scores, _ = sim.simulate_facets(150, 5, seed=12, link_works=5)
    result = fit_facets(scores, correct_bias=False, bias=[("rater_id", "dimension")])
    works, raters, dims = (result.measures(f) for f in ("work_id", "rater_id", "dimension"))
    taus = result.categories["threshold"].dropna().tolist()
    values = result.categories["score"].tolist()
    mean_work = works.loc[works["status"] == "", "measure"].mean()
    for rater in ("R00", "R03"):
        eta = mean_work - raters.loc[rater, "measure"] - dims["measure"].mean()
        assert raters.loc[rater, "fair_average"] == pytest.approx(_expected_score(eta, taus, values), abs=1e-9)
    # the bias of R01 on claim: bisect sum(x - E(eta - b)) = 0 over its ratings
    cell = scores[(scores["rater_id"] == "R01") & (scores["dimension"] == "claim")]
    eta = cell["work_id"].map(works["measure"]).to_numpy() - raters.loc["R01", "measure"] - dims.loc["claim", "measure"]
    observed = cell["score"].sum()

    def residual(b: float) -> float:
        return observed - sum(_expected_score(e - b, taus, values) for e in eta)

    low, high = -5.0, 5.0
    for _ in range(80):
        mid = (low + high) / 2
        low, high = (mid, high) if residual(mid) < 0 else (low, mid)
    table = result.tables["bias_rater_id_x_dimension"]
    row = table[(table["rater_id"] == "R01") & (table["dimension"] == "claim")].iloc[0]
    assert row["bias"] == pytest.approx((low + high) / 2, abs=1e-6)
    assert row["count"] == len(cell) and row["observed"] == pytest.approx(cell["score"].mean())
    assert row["obs_minus_exp"] == pytest.approx(residual(0.0) / len(cell), abs=1e-9)
