"""G-study (g_study): recovery of planted variance components on unbalanced data, the null
component, design declarations and their errors, the D-study and the coefficients.

The simulation is scripts/sim_gstudy.py (full size there; seeded small replications here).
Known answers on balanced data (ANOVA computed independently) are in tests/stats/test_gtheory.py.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from irr.analysis.gstudy import g_study
from irr.errors import DataError

_spec = importlib.util.spec_from_file_location("sim_gstudy", Path(__file__).parents[2] / "scripts" / "sim_gstudy.py")
sim = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sim)


@pytest.fixture(scope="module")
def crossed():
    scores = sim.simulate_gstudy(1500, seed=3)
    return scores, g_study(scores, n_resamples=200, random_state=1)


def test_recovers_planted_components_on_unbalanced_data(crossed):
    scores, result = crossed
    assert len(scores) < 1500 * 20 * 0.75  # 30% of the cells are missing
    assert not result.meta["balanced"] and "Method 1" in result.meta["estimation"]
    comp = result.components.set_index("source")
    for source, planted in sim.CROSSED.items():
        # the student-level components are estimated from 1,500 students: tight; the task and rater
        # ones from 4 tasks and 5 raters: loose
        tol = 0.06 if source in ("task_id", "rater_id", "task_id x rater_id") else 0.03
        assert comp.loc[source, "variance"] == pytest.approx(planted, abs=tol), source
    assert comp.loc["student_id", "ci_low"] < sim.CROSSED["student_id"] < comp.loc["student_id", "ci_high"]
    assert comp["percent"].sum() == pytest.approx(1.0)
    students = comp.index.str.startswith("student_id") | (comp.index == "residual")
    assert (comp.loc[students, "se"] > 0).all()
    # resampling students holds the 4 tasks and 5 raters fixed: no interval for their components
    assert comp.loc[~students, ["se", "ci_low", "ci_high"]].isna().all().all()
    assert any("left blank for task_id, rater_id, task_id x rater_id" in n for n in result.meta["notes"])


def test_null_component_centres_on_zero_and_negatives_are_reported_as_computed():
    estimates = []
    for seed in range(6):
        result = g_study(sim.simulate_gstudy(300, seed=100 + seed), n_resamples=0)
        estimates.append(result.components.set_index("source").loc["student_id x rater_id", "variance"])
    estimates = np.array(estimates)
    assert abs(estimates.mean()) < 0.01 and (estimates < 0).any()  # unbiased: some come out negative
    negative = next(
        g_study(sim.simulate_gstudy(300, seed=100 + s), n_resamples=0) for s in range(6) if estimates[s] < 0
    )
    row = negative.components.set_index("source").loc["student_id x rater_id"]
    assert row["variance"] < 0 and row["negative"] and row["percent"] == 0
    assert any("set to 0" in n for n in negative.meta["notes"])


def test_coefficients_of_the_observed_design_use_the_planted_values(crossed):
    _, result = crossed
    g_true, phi_true = sim._true_coefficients(result, sim.CROSSED)
    assert result.g == pytest.approx(g_true, abs=0.02)
    assert result.phi == pytest.approx(phi_true, abs=0.03)
    coef = result.coefficients.set_index("coefficient")
    assert coef.loc["g", "ci_low"] < result.g < coef.loc["g", "ci_high"]
    assert result.phi < result.g  # absolute error adds the task and rater components
    # 14 of 20 cells per student on average: the residual's divisor is that harmonic mean, not 4 x 5
    assert 13 < result.meta["divisors"]["residual"] < 15


def test_nested_design_recovery_and_wrong_declarations():
    scores = sim.simulate_gstudy(1200, design="nested", seed=4)
    result = g_study(scores, nested={"rater_id": "task_id"}, n_resamples=0)
    comp = result.components.set_index("source")
    assert list(comp.index) == list(sim.NESTED)
    for source, planted in sim.NESTED.items():
        tol = 0.06 if source in ("task_id", "rater_id:task_id") else 0.03
        assert comp.loc[source, "variance"] == pytest.approx(planted, abs=tol), source
    assert result.meta["design"] == "student_id x (rater_id:task_id)"
    assert result.meta["cells_possible"] == 1200 * 4 * 5  # students x (5 raters in each of 4 tasks)
    # the nested raters undeclared: a clear error that names the declaration to make
    with pytest.raises(DataError, match=r"rater_id is nested in task_id; declare nested=\{'rater_id': 'task_id'\}"):
        g_study(scores, n_resamples=0)
    # a crossed design declared nested: the raters that break the declaration are named
    crossed = sim.simulate_gstudy(100, seed=5)
    with pytest.raises(DataError, match="rater_id is declared nested in task_id, but 5 rater_id"):
        g_study(crossed, nested={"rater_id": "task_id"}, n_resamples=0)


def test_raters_nested_in_students():
    rng = np.random.default_rng(6)
    rows = []
    for s in range(300):
        level = rng.normal(0, 1)
        for k in range(2):  # each work scored by its own two raters
            rater_effect = rng.normal(0, 0.4)
            rows.append((f"S{s}", f"S{s}-R{k}", level + rater_effect + rng.normal(0, 0.5)))
    scores = pd.DataFrame(rows, columns=["work_id", "rater_id", "score"])
    result = g_study(scores, object="work_id", facets=["rater_id"], nested={"rater_id": "work_id"}, n_resamples=0)
    comp = result.components.set_index("source")
    assert list(comp.index) == ["work_id", "residual"]  # r:p is confounded with the residual
    assert comp.loc["work_id", "variance"] == pytest.approx(1.0, abs=0.2)
    assert comp.loc["residual", "variance"] == pytest.approx(0.16 + 0.25, abs=0.08)
    assert result.meta["design"] == "rater_id:work_id"
    assert result.meta["cells_possible"] == 600  # each of the 600 raters scores one work


def test_d_study_and_smallest_design(crossed):
    _, result = crossed
    table = result.d_study({"task_id": [1, 2, 4, 8], "rater_id": [1, 2, 3]}, target=0.8)
    assert len(table) == 12 and list(table.columns[:2]) == ["task_id", "rater_id"]
    # more tasks or raters never lower a coefficient
    for facet in ("task_id", "rater_id"):
        other = "rater_id" if facet == "task_id" else "task_id"
        for _, block in table.groupby(other):
            assert block.sort_values(facet)["phi"].is_monotonic_increasing
    assert (table["g"] >= table["phi"]).all()
    best = result.smallest(0.8, "phi", {"task_id": [1, 2, 4, 8], "rater_id": [1, 2, 3]})
    reaching = table[table["reaches_phi"]]
    assert best is not None and best["task_id"] * best["rater_id"] == (reaching["task_id"] * reaching["rater_id"]).min()
    assert result.smallest(0.999, "phi", {"task_id": [1], "rater_id": [1]}) is None
    assert result.meta["smallest"]["phi"]["phi"] >= 0.8
    with pytest.raises(DataError, match="not facets"):
        result.d_study({"session_id": [1]})


def test_phi_lambda_rises_away_from_the_mean(crossed):
    _, result = crossed
    mean = result.meta["mean"]
    at_mean, far = result.phi_lambda(mean), result.phi_lambda(mean + 3)
    assert at_mean < result.phi < far < 1  # Brennan: phi(lambda) is smallest at the mean, and phi-like there


def test_dimensions_total_and_dropped_rows():
    scores = sim.simulate_gstudy(200, seed=7)
    two = pd.concat([scores.assign(dimension="claim"), scores.assign(dimension="evidence", score=scores["score"] + 1)])
    with pytest.raises(DataError, match="2 dimensions"):
        g_study(two, n_resamples=0)
    one = g_study(two, dimension="claim", n_resamples=0)
    base = g_study(scores, n_resamples=0)
    assert np.allclose(one.components["variance"], base.components["variance"])
    total = g_study(two.iloc[1:], total=True, n_resamples=0)  # one cell misses a dimension
    assert total.dropped == {"cell missing a dimension (no total)": 1}
    assert total.meta["mean"] == pytest.approx(2 * scores["score"].iloc[1:].mean() + 1, abs=0.01)
    coded = scores.assign(condition_code="")
    coded.loc[:4, "condition_code"] = "blank"
    coded.loc[:4, "score"] = np.nan
    assert g_study(coded, n_resamples=0).dropped == {"condition code or no score": 5}
    with pytest.raises(DataError, match="include_flags=True"):
        g_study(scores.drop(columns="student_id"), n_resamples=0)


def test_object_nested_in_a_facet_is_refused():
    scores = sim.simulate_gstudy(100, seed=8).assign(work_id=lambda f: f["student_id"] + "-" + f["task_id"])
    with pytest.raises(DataError, match="object of measurement is nested in task_id"):
        g_study(scores, object="work_id", n_resamples=0)


def test_replicated_cells_separate_the_interaction_from_the_residual():
    scores = sim.simulate_gstudy(400, seed=9, missing=0.0)
    twice = pd.concat(
        [scores, scores.assign(score=scores["score"] + np.random.default_rng(1).normal(0, 0.3, len(scores)))]
    )
    result = g_study(twice, n_resamples=0)
    sources = list(result.components["source"])
    assert sources[-2:] == ["student_id x task_id x rater_id", "residual"]
    comp = result.components.set_index("source")
    assert comp.loc["residual", "variance"] == pytest.approx(0.045, abs=0.01)  # half the variance of the difference
