"""Calibration analysis on hand-computable sessions; rule profiles rule by rule."""
import pandas as pd
import pytest

from irr.analysis.calibration import calibrate
from irr.analysis.profiles import load_profile, available_profiles
from irr.errors import DataError, NotFoundError, ValidationError
from irr.model import load_bank

BANK = load_bank()
TASK = BANK.task("ela-g8-argument")
DIMS = ["claim", "evidence", "reasoning", "conventions"]
CONSENSUS = {(p.id, d): p.scores[d] for p in TASK.anchors for d in DIMS}


def room(raters: dict) -> pd.DataFrame:
    """raters: id -> function(paper, dimension, consensus) -> score."""
    rows = [dict(rater_id=r, work_id=p, task_id="ela-g8-argument", dimension=d, score=f(p, d, c), rater_district="D")
            for r, f in raters.items() for (p, d), c in CONSENSUS.items()]
    return pd.DataFrame(rows)


def exact(p, d, c):
    return c


def plus_one(p, d, c):
    return min(c + 1, 4)


def test_perfect_and_lenient_raters_by_hand():
    result = calibrate(room({"perfect": exact, "lenient": plus_one, "other": exact}), BANK, "pace")
    raters = result.raters.set_index("rater_id")
    assert raters.loc["perfect", "n"] == 48 and raters.loc["perfect", "exact"] == 1.0
    assert raters.loc["perfect", "status"] == "PASS" and raters.loc["perfect", "kappa_quadratic"] == pytest.approx(1)
    fours = sum(c == 4 for c in CONSENSUS.values())
    assert raters.loc["lenient", "exact"] == pytest.approx(fours / 48)          # only the 4s stay exact
    assert raters.loc["lenient", "exact_adjacent"] == 1.0
    assert raters.loc["lenient", "mean_diff"] == pytest.approx((48 - fours) / 48)
    assert raters.loc["lenient", "status"] == "FAIL"
    assert raters.loc["lenient", "reasons"] == f"exact {fours / 48:.0%} (needs >= 85%)"
    assert "lenient" in raters.loc["lenient", "effects"]
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
    row = result.raters.set_index("rater_id").loc["r"]
    assert row["discrepant"] == 3 and row["status"] == "FAIL"
    assert row["reasons"] == "exact_adjacent 94% (needs >= 95%)"


def test_naep_rule_is_per_dimension_by_scale_length():
    # 4-point scale -> 70% exact on every dimension. Miss 4 of the 12 claim scores (67%).
    claim_keys = [k for k in CONSENSUS if k[1] == "claim"][:4]

    def score(p, d, c):
        return (c + 1 if c < 4 else c - 1) if (p, d) in claim_keys else c
    result = calibrate(room({"r": score, "s": exact}), BANK, "naep")
    row = result.raters.set_index("rater_id").loc["r"]
    assert row["status"] == "FAIL" and row["reasons"] == "exact on claim 67% (needs >= 70%)"
    assert row["exact"] == pytest.approx(44 / 48)   # overall would pass


def test_pact_rules():
    result = calibrate(room({"two_off": _with_misses(1, delta=2), "s": exact}), BANK, "pact")
    row = result.raters.set_index("rater_id").loc["two_off"]
    assert "discrepant 1 (allows <= 0)" in row["reasons"]
    few = calibrate(room({"r": plus_one, "s": exact}), BANK, "pact").raters.set_index("rater_id").loc["r"]
    fours = sum(c == 4 for c in CONSENSUS.values())
    assert fours == 11                       # the anchor set has eleven 4s, which stay exact
    assert "exact_count" not in few["reasons"]
    assert "decision" in few["reasons"]      # plus-one flips some fail papers to pass
    five = calibrate(room({"r": _with_misses(43), "s": exact}), BANK, "pact").raters.set_index("rater_id").loc["r"]
    assert "exact_count 5 (needs >= 6)" in five["reasons"]


def test_pearson_each_trait_must_pass():
    evidence = [k for k in CONSENSUS if k[1] == "evidence"][:2]

    def score(p, d, c):
        return (c + 2 if c <= 2 else c - 2) if (p, d) in evidence else c
    row = calibrate(room({"r": score, "s": exact}), BANK, "pearson").raters.set_index("rater_id").loc["r"]
    assert "exact_adjacent on evidence 83% (needs >= 90%)" in row["reasons"]
    assert "discrepant 2 (allows <= 1)" in row["reasons"]


def test_split_paper_both_sides():
    target = ("ELA8-A02", "claim")    # consensus 3

    def up(p, d, c):
        return 4 if (p, d) == target else c

    def down(p, d, c):
        return 2 if (p, d) == target else c
    result = calibrate(room({"a": up, "b": up, "c": down, "d": down, "e": exact}), BANK, "pace")
    papers = result.papers.set_index(["work_id", "dimension"])
    assert papers.loc[target, "exact"] == pytest.approx(0.2)
    assert papers.loc[target, "above"] == pytest.approx(0.4) and papers.loc[target, "below"] == pytest.approx(0.4)
    assert papers.loc[target, "split"] and papers.loc[target, "split_reason"] == "low agreement; scores on both sides"
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
