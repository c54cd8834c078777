"""Calibration analysis on hand-computable sessions; rule profiles rule by rule.

The sentences behind PASS/FAIL and split papers are written by the report from the result's
``checks`` and flags; ``raters_with_reasons`` and ``papers_with_reasons`` put them beside the
numbers so each rule's outcome can be read as a coordinator reads it.
"""
import pandas as pd
import pytest

from irr.analysis.calibration import calibrate
from irr.analysis.profiles import available_profiles, load_profile
from irr.errors import DataError, NotFoundError, ValidationError
from irr.model import load_bank
from irr.report.calibration import rater_effects, rater_reasons, split_reasons

BANK = load_bank()
TASK = BANK.task("ela-g8-argument")
DIMS = ["claim", "evidence", "reasoning", "conventions"]
CONSENSUS = {(p.id, d): p.scores[d] for p in TASK.anchors for d in DIMS}


def room(raters: dict) -> pd.DataFrame:
    """raters: id -> function(paper, dimension, consensus) -> score."""
    rows = [dict(rater_id=r, work_id=p, task_id="ela-g8-argument", dimension=d, score=f(p, d, c), rater_district="D")
            for r, f in raters.items() for (p, d), c in CONSENSUS.items()]
    return pd.DataFrame(rows)


def raters_with_reasons(result) -> pd.DataFrame:
    raters = result.raters.set_index("rater_id")
    return raters.assign(reasons=rater_reasons(result), effects=rater_effects(result))


def papers_with_reasons(result) -> pd.DataFrame:
    return result.papers.assign(split_reason=split_reasons(result)).set_index(["work_id", "dimension"])


def codes_of(result, table: str, **key) -> str:
    codes = result.tables[table]
    for col, value in key.items():
        codes = codes[codes[col] == value]
    return ", ".join(f"{c} {n}" for c, n in zip(codes["condition_code"], codes["count"]))


def exact(p, d, c):
    return c


def plus_one(p, d, c):
    return min(c + 1, 4)


def test_perfect_and_lenient_raters_by_hand():
    result = calibrate(room({"perfect": exact, "lenient": plus_one, "other": exact}), BANK, "pace")
    raters = raters_with_reasons(result)
    assert raters.loc["perfect", "n"] == 48 and raters.loc["perfect", "exact"] == 1.0
    assert raters.loc["perfect", "status"] == "PASS" and raters.loc["perfect", "kappa_quadratic"] == pytest.approx(1)
    fours = sum(c == 4 for c in CONSENSUS.values())
    assert raters.loc["lenient", "exact"] == pytest.approx(fours / 48)          # only the 4s stay exact
    assert raters.loc["lenient", "exact_adjacent"] == 1.0
    assert raters.loc["lenient", "mean_diff"] == pytest.approx((48 - fours) / 48)
    assert raters.loc["lenient", "status"] == "FAIL"
    assert raters.loc["lenient", "reasons"] == f"exact {fours / 48:.0%} (needs >= 85%)"
    assert "lenient" in raters.loc["lenient", "effects"] and raters.loc["lenient", "severity"] == "lenient"
    check = result.checks[(result.checks["rater_id"] == "lenient") & ~result.checks["passed"]]
    assert check[["metric", "bound", "limit"]].values.tolist() == [["exact", "min", 0.85]]
    assert check["value"].iloc[0] == pytest.approx(fours / 48)
    assert raters.loc["lenient", "decision"] < 1.0


def _with_misses(n_miss: int, delta: int = 1):
    """A rater who departs by `delta` from the consensus on the first `n_miss` paper-dimensions."""
    keys = list(CONSENSUS)[:n_miss]

    def score(p, d, c):
        if (p, d) in keys:
            return c + delta if 1 <= c + delta <= 4 else c - delta
        return c
    return score


@pytest.mark.parametrize("misses,status", [(7, "PASS"), (8, "FAIL")])  # 41/48 = 85.4%, 40/48 = 83.3%
def test_pace_exact_rule_boundary(misses, status):
    result = calibrate(room({"r": _with_misses(misses), "s": exact}), BANK, "pace")
    assert result.raters.set_index("rater_id").loc["r", "status"] == status


def test_pace_adjacent_rule():
    # 3 scores two points off: exact 45/48 = 94% but exact+adjacent 45/48 < 95%
    result = calibrate(room({"r": _with_misses(3, delta=2), "s": exact}), BANK, "pace")
    row = raters_with_reasons(result).loc["r"]
    assert row["discrepant"] == 3 and row["status"] == "FAIL"
    assert row["reasons"] == "exact_adjacent 94% (needs >= 95%)"


def test_naep_rule_is_per_dimension_by_scale_length():
    # 4-point scale -> 70% exact on every dimension. Miss 4 of the 12 claim scores (67%).
    claim_keys = [k for k in CONSENSUS if k[1] == "claim"][:4]

    def score(p, d, c):
        return (c + 1 if c < 4 else c - 1) if (p, d) in claim_keys else c
    result = calibrate(room({"r": score, "s": exact}), BANK, "naep")
    row = raters_with_reasons(result).loc["r"]
    assert row["status"] == "FAIL" and row["reasons"] == "exact on claim 67% (needs >= 70%)"
    assert row["exact"] == pytest.approx(44 / 48)   # overall would pass


def test_pact_rules():
    result = calibrate(room({"two_off": _with_misses(1, delta=2), "s": exact}), BANK, "pact")
    row = raters_with_reasons(result).loc["two_off"]
    assert "discrepant 1 (allows <= 0)" in row["reasons"]
    few = raters_with_reasons(calibrate(room({"r": plus_one, "s": exact}), BANK, "pact")).loc["r"]
    fours = sum(c == 4 for c in CONSENSUS.values())
    assert fours == 11                       # the anchor set has eleven 4s, which stay exact
    assert "exact_count" not in few["reasons"]
    assert "decision" in few["reasons"]      # plus-one flips some fail papers to pass
    five = raters_with_reasons(calibrate(room({"r": _with_misses(43), "s": exact}), BANK, "pact")).loc["r"]
    assert "exact_count 5 (needs >= 6)" in five["reasons"]


def test_pearson_each_trait_must_pass():
    evidence = [k for k in CONSENSUS if k[1] == "evidence"][:2]

    def score(p, d, c):
        return (c + 2 if c <= 2 else c - 2) if (p, d) in evidence else c
    row = raters_with_reasons(calibrate(room({"r": score, "s": exact}), BANK, "pearson")).loc["r"]
    assert "exact_adjacent on evidence 83% (needs >= 90%)" in row["reasons"]
    assert "discrepant 2 (allows <= 1)" in row["reasons"]


def test_split_paper_both_sides():
    target = ("ELA8-A02", "claim")    # consensus 3

    def up(p, d, c):
        return 4 if (p, d) == target else c

    def down(p, d, c):
        return 2 if (p, d) == target else c
    result = calibrate(room({"a": up, "b": up, "c": down, "d": down, "e": exact}), BANK, "pace")
    papers = papers_with_reasons(result)
    assert papers.loc[target, "exact"] == pytest.approx(0.2)
    assert papers.loc[target, "above"] == pytest.approx(0.4) and papers.loc[target, "below"] == pytest.approx(0.4)
    assert papers.loc[target, "split"] and papers.loc[target, "split_reason"] == "low agreement; scores on both sides"
    assert papers.loc[target, "low_agreement"] and papers.loc[target, "both_sides"] and not papers.loc[target, "code_split"]
    assert result.papers_to_discuss().iloc[0][["work_id", "dimension"]].tolist() == list(target)
    assert papers["split"].sum() == 1
    dist = result.distribution.set_index(["work_id", "dimension", "score"])["count"]
    assert (dist.loc[("ELA8-A02", "claim", 4)], dist.loc[("ELA8-A02", "claim", 2)]) == (2, 2)


def test_central_tendency_and_confusion():
    def middle(p, d, c):
        return min(max(c, 2), 3)
    result = calibrate(room({"mid": middle, "s": exact}), BANK, "pace")
    effects = result.effects.set_index("rater_id")
    assert effects.loc["mid", "central_tendency"] and effects.loc["mid", "middle_share"] == 1.0
    assert not effects.loc["s", "central_tendency"]
    conf = result.confusion.set_index(["dimension", "consensus", "score"])["count"]
    ones_claim = sum(1 for (p, d), c in CONSENSUS.items() if d == "claim" and c == 1)
    assert conf.loc[("claim", 1, 2)] == ones_claim   # the middle rater moved every 1 to 2


def test_group_agreement_and_ignored_rows():
    df = room({"a": exact, "b": plus_one, "c": exact})
    extra = df.iloc[:3].assign(work_id="NOT-AN-ANCHOR")
    result = calibrate(pd.concat([df, extra]), BANK, "pace", session_id="s1")
    assert result.ignored_rows == {"not an anchor paper of the task": 3}
    claim = result.group_agreement[result.group_agreement["dimension"] == "claim"].set_index("coefficient")
    assert set(claim.index) >= {"fleiss_kappa", "gwet_ac2 (quadratic)", "krippendorff_alpha (ordinal)", "icc (A,1)"}
    assert (claim["ci_low"] <= claim["estimate"]).all() and (claim["estimate"] <= claim["ci_high"]).all()
    assert claim.loc["percent_agreement", "n_units"] == 12


def test_errors():
    with pytest.raises(NotFoundError, match="available"):
        load_profile("nope")
    with pytest.raises(DataError, match="column"):
        calibrate(pd.DataFrame({"rater_id": []}), BANK)
    two_tasks = pd.concat([room({"a": exact}), room({"a": exact}).assign(task_id="math-g5-garden")])
    with pytest.raises(DataError, match="choose one with task="):
        calibrate(two_tasks, BANK)


def test_profiles_load_and_validate(tmp_path):
    assert {"pace", "naep", "pact", "pearson"} <= set(available_profiles())
    naep = load_profile("naep")
    assert naep.rules[0].threshold(2) == ("min", 0.90) and naep.rules[0].threshold(4) == ("min", 0.70)
    custom = tmp_path / "strict.yaml"
    custom.write_text("id: strict\ntitle: Strict\nrules:\n  - {metric: exact, min: 1.0}\n")
    assert load_profile(str(custom)).rules[0].min == 1.0
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\ntitle: Bad\nrules:\n  - {metric: exact, min: 0.8, max: 0.9}\n")
    with pytest.raises(ValidationError, match="exactly one of"):
        load_profile(str(bad))


# ------------------------------------------------------------ condition codes
# The store's interface (being added with the bank's condition codes): a `condition_code` column, "" for a
# numeric score, and `score` as pandas "Int64" with <NA> on condition-coded rows.
CODED = ("ELA8-A01", "claim")
LAST = TASK.anchors[-1].id


def off_on_last(p, d, c):
    """Exact but one point off on the last anchor (so no dimension has perfect agreement: ICC < 1)."""
    return (c + 1 if c < 4 else c - 1) if p == LAST else c


def coded_room(raters: dict, codes: dict) -> pd.DataFrame:
    """room() with condition codes: codes maps (rater, paper, dimension) -> code."""
    df = room(raters)
    keys = list(zip(df["rater_id"], df["work_id"], df["dimension"]))
    df["condition_code"] = [codes.get(k, "") for k in keys]
    df["score"] = df["score"].astype("Int64").mask(df["condition_code"] != "")
    return df


def test_condition_codes_are_counted_not_agreement():
    cons = CONSENSUS[CODED]
    df = coded_room({"perfect": exact, "coder": exact, "other": off_on_last}, {("coder", *CODED): "off_topic"})
    result = calibrate(df, BANK, "pace")
    coder = result.raters.set_index("rater_id").loc["coder"]
    # 47 of the 48 anchor scores match; the coded one is neither exact nor adjacent, and has no distance
    assert coder["n"] == 48 and coder["exact"] == pytest.approx(47 / 48) and coder["exact_count"] == 47
    assert coder["exact_adjacent"] == pytest.approx(47 / 48) and coder["discrepant"] == 0
    assert coder["mean_diff"] == 0 and coder["condition_coded"] == 1
    assert codes_of(result, "codes_by_rater", rater_id="coder") == "off_topic 1"
    assert coder["kappa_quadratic"] == pytest.approx(1)          # the 47 numeric pairs agree perfectly
    perfect = result.raters.set_index("rater_id").loc["perfect"]
    assert perfect["condition_coded"] == 0 and codes_of(result, "codes_by_rater", rater_id="perfect") == ""
    by_dim = result.rater_dimensions.set_index(["rater_id", "dimension"])
    assert by_dim.loc[("coder", "claim"), "exact"] == pytest.approx(11 / 12)
    assert by_dim.loc[("coder", "evidence"), "condition_coded"] == 0
    # the paper two raters scored and one marked off topic is to be discussed, with the reason
    papers = papers_with_reasons(result)
    assert papers.loc[CODED, "split"] and "off_topic" in papers.loc[CODED, "split_reason"]
    assert papers.loc[CODED, "code_split"] and papers.loc[CODED, "exact"] == pytest.approx(2 / 3)
    assert codes_of(result, "codes_by_paper", work_id=CODED[0], dimension=CODED[1]) == "off_topic 1"
    assert papers["split"].sum() == 1                   # the last anchor's one miss in three does not split
    assert result.condition_codes.to_dict("records") == [
        {"rater_id": "coder", "work_id": CODED[0], "dimension": "claim", "condition_code": "off_topic",
         "consensus": cons}]
    dist = result.distribution.set_index(["work_id", "dimension", "score"])["count"]
    assert dist.loc[(*CODED, cons)] == 2
    # group coefficients leave the coded score out and say so; other dimensions are untouched
    group = result.group_agreement.set_index(["dimension", "coefficient"])
    assert group.loc[("claim", "fleiss_kappa"), "n_ratings"] == 35
    assert group.loc[("claim", "fleiss_kappa"), "n_condition_coded"] == 1
    assert group.loc[("evidence", "fleiss_kappa"), "n_condition_coded"] == 0
    assert codes_of(result, "codes_by_dimension", dimension="claim") == "off_topic 1"
    assert group.loc[("evidence", "fleiss_kappa"), "n_ratings"] == 36


def test_condition_code_as_consensus_agrees_exactly_with_the_same_code():
    first = TASK.anchors[0]
    anchors = [first.model_copy(update={"scores": {**first.scores, "claim": "off_topic"}}), *TASK.anchors[1:]]

    class OneTask:                     # the bank with one anchor the panel marked off topic
        def task(self, task_id):
            return TASK.model_copy(update={"anchors": anchors})

        def rubric_for(self, task):
            return BANK.rubric_for(TASK)

    df = coded_room({"same": exact, "scorer": exact, "other": exact, "noisy": off_on_last},
                    {("same", *CODED): "off_topic", ("other", *CODED): "blank", ("noisy", *CODED): "off_topic"})
    result = calibrate(df, OneTask(), "pace")
    raters = result.raters.set_index("rater_id")
    assert raters.loc["same", "exact"] == 1.0 and raters.loc["same", "exact_count"] == 48
    assert raters.loc["scorer", "exact"] == pytest.approx(47 / 48)        # a number against a code
    assert raters.loc["other", "exact_adjacent"] == pytest.approx(47 / 48)   # another code
    paper = papers_with_reasons(result).loc[CODED]
    assert paper["consensus"] == "off_topic" and paper["split"]
    assert paper["split_reason"].endswith("consensus is the code off_topic; 2 of 4 raters differ")


def test_scores_without_codes_give_the_same_tables_either_way():
    plain = room({"a": exact, "b": plus_one, "c": _with_misses(9, -1)})
    typed = plain.assign(score=plain["score"].astype("Int64"), condition_code="")
    one, two = calibrate(plain, BANK, "pace"), calibrate(typed, BANK, "pace")
    for name, table in one.tables.items():
        pd.testing.assert_frame_equal(table, two.tables[name], check_dtype=False, obj=name)
