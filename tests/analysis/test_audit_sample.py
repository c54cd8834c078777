"""The audit sampler: strata sizes, near-cut oversampling, linking set, auditors and reproducibility."""

import numpy as np
import pandas as pd
import pytest

from irr.analysis.audit import audit_sample
from irr.errors import DataError
from irr.model.bank import load_bank

TASK = "ela-g8-argument"  # ela-argument@1: scale 1-4, achievement cut 3


@pytest.fixture(scope="module")
def bank():
    return load_bank()


def local(levels_by_district, task=TASK, dims=("claim",)):
    """One local score per work and dimension: ``{"A": [1, 1, 2, ...]}`` gives district A a work per score."""
    rows = []
    for district, levels in levels_by_district.items():
        for i, level in enumerate(levels):
            for dim in dims:
                rows.append(
                    {
                        "rater_id": f"T-{district}",
                        "work_id": f"{district}-{i:03d}",
                        "task_id": task,
                        "dimension": dim,
                        "score": level,
                        "condition_code": "",
                        "read_type": "first",
                        "work_district": district,
                    }
                )
    frame = pd.DataFrame(rows)
    frame["score"] = frame["score"].astype("Int64")
    return frame


def panel(per_district, districts):
    return pd.DataFrame(
        {
            "rater_id": [f"{d}{k}" for d in districts for k in range(per_district)],
            "rater_district": [d for d in districts for _ in range(per_district)],
        }
    )


def test_allocation_is_proportional_and_sums_to_the_district_size(bank):
    scores = local({"A": [1] * 10 + [2] * 30 + [3] * 40 + [4] * 20, "B": [2] * 50})
    result = audit_sample(scores, panel(2, "AB"), per_district=20, seed=3, bank=bank)
    strata = result.tables["strata"].set_index(["work_district", "score_level"])
    assert strata.loc["A", "n_sampled"].tolist() == [2, 6, 8, 4]
    assert strata.loc[("B", 2), "n_sampled"] == 20
    districts = result.tables["districts"].set_index("work_district")
    assert districts["n_sampled"].tolist() == [20, 20] and districts["n_target"].tolist() == [20, 20]
    assert districts.loc["A", "rate_sampled"] == pytest.approx(0.2)
    # the assignments are the sample: one row per sampled work, each work once
    a = result.assignments
    assert len(a) == 40 and not a.duplicated(["task_id", "work_id"]).any()
    assert a.groupby("work_district").size().tolist() == [20, 20]


def test_every_stratum_gets_one_when_the_size_allows(bank):
    scores = local({"A": [1] + [4] + [2] * 98})
    strata = audit_sample(scores, panel(1, "BC"), per_district=10, seed=0, bank=bank).tables["strata"]
    assert strata["n_sampled"].tolist() == [1, 8, 1] and strata["n_works"].tolist() == [1, 98, 1]
    # fewer works to draw than strata: proportional, nothing forced
    few = audit_sample(scores, panel(1, "B"), per_district=2, seed=0, bank=bank)
    assert few.tables["strata"]["n_sampled"].tolist() == [0, 2, 0]
    assert any("more strata than works" in note for note in few.notes)


def test_a_small_district_is_taken_whole_and_rate_rounds_up(bank):
    scores = local({"A": [2] * 5 + [3] * 25, "B": [3] * 4})
    result = audit_sample(scores, panel(1, "AB"), per_district=6, seed=1, bank=bank)
    districts = result.tables["districts"].set_index("work_district")
    assert districts.loc["B", "n_sampled"] == 4 and districts.loc["B", "rate_sampled"] == 1.0
    assert any("all their works are sampled" in note and "'B'" in note for note in result.notes)
    # 0.1 * 30 is 3.0000000000000004 in floating point: still 3 works, not 4; the larger of the two wins
    by_rate = audit_sample(scores, panel(1, "AB"), rate=0.1, seed=1, bank=bank).tables["districts"]
    assert by_rate["n_sampled"].tolist() == [3, 1]
    both = audit_sample(scores, panel(1, "AB"), per_district=2, rate=0.1, seed=1, bank=bank).tables["districts"]
    assert both["n_sampled"].tolist() == [3, 2]


def test_near_cut_strata_get_a_double_share(bank):
    # cut 3, K=1: works with a mean local score in [2, 3] are near the cut
    scores = local({"A": [1] * 25 + [2] * 25 + [3] * 25 + [4] * 25})
    auditors = panel(2, "B")
    plain = audit_sample(scores, auditors, per_district=20, seed=5, bank=bank)
    near = audit_sample(scores, auditors, per_district=20, near_cut=1, seed=5, bank=bank)
    assert plain.tables["strata"]["n_sampled"].tolist() == [5, 5, 5, 5]
    strata = near.tables["strata"]
    assert strata["near_cut"].tolist() == [False, True, True, False]
    assert strata["n_sampled"].tolist() == [3, 7, 7, 3]
    assert near.tables["districts"]["n_near_cut"].tolist() == [14] and plain.tables["districts"][
        "n_near_cut"
    ].tolist() == [0]
    # the reason says which were drawn for being near the cut
    reasons = near.assignments.merge(scores[["work_id", "score"]], on="work_id")
    assert set(reasons.loc[reasons["reason"] == "near-cut", "score"]) == {2, 3}
    assert set(reasons.loc[reasons["reason"] == "stratum", "score"]) == {1, 4}
    assert set(plain.assignments["reason"]) == {"stratum"}


def test_a_small_near_cut_stratum_is_capped_and_its_surplus_goes_elsewhere(bank):
    # double share of the 6 near-cut works: 10 * 12 / 20 = 6, the whole stratum; the other 4 split evenly
    scores = local({"A": [1] * 4 + [2] * 6 + [4] * 4})
    auditors = panel(1, "B")
    strata = audit_sample(scores, auditors, per_district=10, near_cut=1, seed=2, bank=bank).tables["strata"]
    assert strata["n_sampled"].tolist() == [2, 6, 2]
    plain = audit_sample(scores, auditors, per_district=10, seed=2, bank=bank).tables["strata"]
    assert plain["n_sampled"].tolist() == [3, 4, 3]


def test_near_cut_uses_the_mean_over_dimensions(bank):
    # K=1: near means are 2 <= mean <= 3; a work scored 3,4 (mean 3.5, level 4) is not near, 2,3 (2.5) is
    both = local({"A": [3, 2]}, dims=("claim", "evidence"))
    both["score"] = pd.array([3, 4, 2, 3], dtype="Int64")  # 3, 4; A-001: 2, 3
    strata = audit_sample(both, panel(1, "B"), per_district=2, near_cut=1, seed=0, bank=bank).tables["strata"]
    assert strata[["score_level", "near_cut"]].values.tolist() == [[3, True], [4, False]]


def test_a_task_without_an_achievement_cut_has_no_near_cut_works(bank):
    class NoCutBank:
        def rubric_for(self, task):
            return bank.rubric_for(task).model_copy(update={"achievement_cut": None})

    scores = local({"A": [2, 3] * 10})
    result = audit_sample(scores, panel(1, "B"), per_district=4, near_cut=1, seed=0, bank=NoCutBank())
    assert not result.tables["strata"]["near_cut"].any()
    assert any("no achievement cut" in note and TASK in note for note in result.notes)


def test_no_auditor_rescores_their_own_district_outside_the_linking_set(bank):
    scores = local({d: list(np.resize([1, 2, 3, 4], 30)) for d in "ABCD"})
    auditors = panel(2, "ABCD")
    result = audit_sample(scores, auditors, per_district=10, linking=5, seed=7, bank=bank)
    a = result.assignments.merge(auditors, left_on="auditor_id", right_on="rater_id")
    outside = a[a["reason"] != "linking"]
    assert len(outside) == 40 and (outside["rater_district"] != outside["work_district"]).all()
    # the linking set is where an auditor may see their own district's work
    assert (a.loc[a["reason"] == "linking", "rater_district"] == a.loc[a["reason"] == "linking", "work_district"]).any()


def test_each_linking_work_is_scored_by_every_auditor_and_is_spread(bank):
    scores = local({d: list(np.resize([1, 2, 3, 4], 40)) for d in "ABCD"})
    auditors = panel(2, "ABCD")
    result = audit_sample(scores, auditors, per_district=8, linking=8, seed=11, bank=bank)
    a = result.assignments
    linking = a[a["reason"] == "linking"]
    per_work = linking.groupby(["task_id", "work_id"])["auditor_id"].agg(["size", "nunique"])
    assert len(per_work) == 8 and (per_work["size"] == 8).all() and (per_work["nunique"] == 8).all()
    # not also in the stratum sample
    sampled = set(a.loc[a["reason"] != "linking", "work_id"])
    assert not sampled & set(linking["work_id"])
    # spread over the score range and over districts
    levels = scores.drop_duplicates("work_id").set_index("work_id")["score"]
    assert set(levels[per_work.index.get_level_values("work_id")]) == {1, 2, 3, 4}
    assert set(linking["work_district"]) == set("ABCD")
    loads = result.tables["loads"]
    assert (loads["n_linking"] == 8).all() and (loads["n_total"] == loads["n_assigned"] + 8).all()
    assert result.tables["strata"]["n_linking"].sum() == 8


def test_linking_is_capped_by_the_works_left(bank):
    scores = local({"A": [1, 2, 3], "B": [2, 3]})
    result = audit_sample(scores, panel(1, "AB"), per_district=2, linking=5, seed=0, bank=bank)
    assert result.meta["n_linking"] == 1 and any("linking set has 1" in n for n in result.notes)


def test_loads_are_balanced(bank):
    # 4 districts of different sizes, 2 auditors each: 10 + 10 + 6 + 4 = 30 works for 8 auditors
    scores = local({"A": [2, 3] * 20, "B": [1, 4] * 15, "C": [3] * 6, "D": [2] * 4})
    auditors = panel(2, "ABCD")
    for seed in range(5):
        loads = audit_sample(scores, auditors, per_district=10, seed=seed, bank=bank).tables["loads"]
        assert loads["n_assigned"].sum() == 30 and loads["n_assigned"].max() - loads["n_assigned"].min() <= 1


def test_loads_are_even_where_filling_district_by_district_would_not_be(bank):
    # 3 districts x 8 works, 2 auditors each: district by district water-filling ends at 3-5 works
    scores = local({d: [2, 3] * 12 for d in "ABC"})
    auditors = panel(2, "ABC")
    for seed in range(5):
        result = audit_sample(scores, auditors, per_district=8, seed=seed, bank=bank)
        assert result.tables["loads"]["n_assigned"].tolist() == [4] * 6 and not result.notes


def test_loads_the_districts_cannot_even_out_are_spread_with_a_note(bank):
    # A's 10 works can only go to the 3 auditors from B; B's 2 only to the one from A
    scores = local({"A": [2] * 10, "B": [3] * 2})
    auditors = pd.DataFrame({"rater_id": ["a", "b1", "b2", "b3"], "rater_district": ["A", "B", "B", "B"]})
    result = audit_sample(scores, auditors, per_district=10, seed=0, bank=bank)
    loads = result.tables["loads"]["n_assigned"].tolist()
    assert loads[0] == 2 and sorted(loads[1:]) == [3, 3, 4]
    assert any("do not allow loads" in note for note in result.notes)
    a = result.assignments.merge(auditors, left_on="auditor_id", right_on="rater_id")
    assert (a["rater_district"] != a["work_district"]).all()


def test_a_district_with_only_its_own_auditors_is_an_error(bank):
    scores = local({"A": [2] * 5, "B": [3] * 5})
    with pytest.raises(DataError, match=r"district 'A'.*every auditor is from 'A'.*add auditors from other"):
        audit_sample(scores, panel(2, "A"), per_district=2, seed=0, bank=bank)


def test_the_same_seed_gives_the_same_sample_whatever_the_row_order(bank):
    scores = local({d: list(np.resize([1, 2, 3, 4, 2], 50)) for d in "ABC"}, dims=("claim", "evidence"))
    auditors = panel(3, "ABC")
    kwargs = dict(per_district=12, near_cut=1, linking=4, bank=bank)
    first = audit_sample(scores, auditors, seed=42, **kwargs)
    shuffled = scores.sample(frac=1, random_state=1).reset_index(drop=True)
    again = audit_sample(shuffled, auditors.iloc[::-1], seed=42, **kwargs)
    for name in ("assignments", "strata", "districts", "loads"):
        pd.testing.assert_frame_equal(first.tables[name], again.tables[name])
    other = audit_sample(scores, auditors, seed=43, **kwargs)
    assert not first.assignments.equals(other.assignments)
    assert first.assignments.equals(first.assignments.sort_values(["auditor_id", "work_id"]).reset_index(drop=True))


def test_condition_coded_works_form_their_own_stratum_and_nothing_is_dropped_silently(bank):
    scores = local({"A": [2] * 10 + [3] * 10}, dims=("claim", "evidence"))
    # wholly coded (no score level); A-001: one coded dimension (mean of the other)
    coded = scores["work_id"].eq("A-000") | (scores["work_id"].eq("A-001") & scores["dimension"].eq("claim"))
    scores.loc[coded, "score"] = pd.NA
    scores.loc[coded, "condition_code"] = "off_topic"
    nowhere = local({"Z": [2, 3]}).assign(work_district="")
    scores = pd.concat([scores, nowhere], ignore_index=True)
    result = audit_sample(scores, panel(1, "B"), per_district=20, seed=0, bank=bank)
    strata = result.tables["strata"]
    assert (
        strata.loc[strata["coded"], "n_works"].tolist() == [1]
        and strata.loc[strata["coded"], "score_level"].isna().all()
    )
    assert "A-000" in set(result.assignments["work_id"])
    assert result.meta["n_condition_coded_works"] == 1 and result.meta["n_works"] == 20
    assert result.dropped == {
        "local score row of a work without a work_district (no auditor can be matched)": 2,
        "condition-coded local score of a scored work (left out of its mean)": 1,
    }
    assert result.meta["parameters"]["seed"] == 0 and result.kind == "audit_sample"


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({}, "give the sample size"),
        ({"per_district": 0}, "per_district must be"),
        ({"rate": 1.5}, "rate must be a share"),
        ({"per_district": 2, "near_cut": 0}, "near_cut must be"),
        ({"per_district": 2, "linking": -1}, "linking must be"),
    ],
)
def test_bad_parameters_are_data_errors(bank, kwargs, message):
    with pytest.raises(DataError, match=message):
        audit_sample(local({"A": [2]}), panel(1, "B"), seed=0, bank=bank, **kwargs)


def test_bad_inputs_are_data_errors(bank):
    scores = local({"A": [2, 3]})
    split = scores.copy()
    split.loc[1, "work_id"] = "A-000"
    split.loc[1, "work_district"] = "B"
    with pytest.raises(DataError, match=r"'A-000'.*more than one district"):
        audit_sample(split, panel(1, "C"), per_district=2, seed=0, bank=bank)
    with pytest.raises(DataError, match="lack column"):
        audit_sample(scores.drop(columns="work_district"), panel(1, "B"), per_district=2, seed=0, bank=bank)
    with pytest.raises(DataError, match="more than once"):
        audit_sample(
            scores,
            pd.DataFrame({"rater_id": ["x", "x"], "rater_district": ["B", "C"]}),
            per_district=2,
            seed=0,
            bank=bank,
        )
