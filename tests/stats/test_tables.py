"""agreement_table: tidy rows per group x coefficient, hand-computed values."""
import numpy as np
import pandas as pd
import pytest

from irr.errors import DataError
from irr.stats.tables import agreement_table, parse_coefficient


def _two_dimensions() -> pd.DataFrame:
    # dimension "claim": raters a, b on 3 papers -> table (1,1), (2,2), (3,2)
    #   p_o = 2/3; marginals a = (1/3, 1/3, 1/3), b = (1/3, 2/3, 0)
    #   p_e = 1/9 + 2/9 = 1/3; Cohen kappa = (2/3 - 1/3) / (1 - 1/3) = 0.5
    # dimension "evidence": three raters -> Cohen's kappa is undefined
    claim = pd.DataFrame({"paper": [1, 1, 2, 2, 3, 3], "rater": list("ababab"),
                          "score": [1, 1, 2, 2, 3, 2], "dim": "claim"})
    evidence = pd.DataFrame({"paper": [1, 1, 1, 2, 2, 2], "rater": list("abcabc"),
                             "score": [2, 2, 2, 3, 3, 4], "dim": "evidence"})
    return pd.concat([claim, evidence], ignore_index=True)


def test_hand_computed_values_per_group():
    table = agreement_table(_two_dimensions(), unit="paper", by="dim",
                            coefficients=["percent_agreement", "cohen_kappa"],
                            categories={"claim": [1, 2, 3], "evidence": [1, 2, 3, 4]})
    claim = table[table["dim"] == "claim"].set_index("coefficient")
    assert claim.loc["percent_agreement", "estimate"] == pytest.approx(2 / 3)
    assert claim.loc["cohen_kappa", "estimate"] == pytest.approx(0.5)
    assert claim.loc["cohen_kappa", "n_units"] == 3
    assert claim.loc["cohen_kappa", "ci_low"] < 0.5 < claim.loc["cohen_kappa", "ci_high"]
    evidence = table[table["dim"] == "evidence"].set_index("coefficient")
    # unit 1: 3 agreeing pairs of 3; unit 2: 1 of 3 -> (1 + 1/3) / 2
    assert evidence.loc["percent_agreement", "estimate"] == pytest.approx(2 / 3)
    # not silently omitted: the reason is in the note
    assert np.isnan(evidence.loc["cohen_kappa", "estimate"])
    assert "2 raters" in evidence.loc["cohen_kappa", "note"] or "two raters" in evidence.loc["cohen_kappa", "note"]


def test_adjacent_agreement_uses_score_values():
    df = pd.DataFrame({"unit": [1, 1, 2, 2], "rater": list("abab"), "score": [1, 2, 1, 3]})
    table = agreement_table(df, coefficients=["adjacent_agreement"], ci=None)
    assert table.loc[0, "estimate"] == pytest.approx(0.5)
    assert pd.isna(table.loc[0, "ci_low"])


def test_bad_inputs_name_the_problem():
    with pytest.raises(DataError, match="unknown coefficient"):
        parse_coefficient("cronbach")
    with pytest.raises(DataError, match="not found"):
        agreement_table(pd.DataFrame({"unit": [1]}), coefficients=["fleiss_kappa"])
    with pytest.raises(DataError, match="ci must be"):
        agreement_table(_two_dimensions(), unit="paper", ci="magic")


def test_labels_name_weights_and_levels():
    assert parse_coefficient("gwet_ac").label == "gwet_ac1"
    assert parse_coefficient("gwet_ac2").label == "gwet_ac2 (quadratic)"
    assert parse_coefficient("krippendorff_alpha").label == "krippendorff_alpha (ordinal)"
    assert parse_coefficient("icc:C,1").label == "icc (C,1)"


def test_a_label_mapping_is_one_scale_for_all_groups_and_a_group_mapping_is_per_group():
    df = pd.DataFrame({"unit": [1, 1, 2, 2, 1, 1, 2, 2], "rater": list("abab") * 2,
                       "score": ["blank", "blank", 1, 2, 1, 1, 2, 2], "dim": ["x"] * 4 + ["y"] * 4})
    one_scale = agreement_table(df, by="dim", coefficients=["brennan_prediger"], ci=None,
                                categories={"blank": None, 1: 1, 2: 2, 3: 3})
    # 4 categories in both groups: x agrees on 1 of 2 units, y on 2 of 2
    assert one_scale["estimate"].tolist() == pytest.approx([(0.5 - 0.25) / 0.75, 1.0])
    per_group = agreement_table(df, by="dim", coefficients=["brennan_prediger"], ci=None,
                                categories={"x": ["blank", 1, 2], "y": [1, 2]})
    assert per_group["estimate"].tolist() == pytest.approx([(0.5 - 1 / 3) / (2 / 3), 1.0])
    weighted = agreement_table(df, by="dim", coefficients=["gwet_ac:quadratic", "icc"], ci=None,
                               categories={"blank": None, 1: 1, 2: 2, 3: 3})
    x = weighted[weighted["dim"] == "x"]
    assert x["estimate"].isna().all() and x["note"].str.contains("'blank' has none").all()


def test_a_categorical_score_column_keeps_its_categories_in_every_group():
    df = pd.DataFrame({"unit": [1, 1, 2, 2, 1, 1, 2, 2], "rater": list("abab") * 2,
                       "score": [1, 1, 2, 1, 2, 2, 2, 2], "dim": ["x"] * 4 + ["y"] * 4})
    df["score"] = df["score"].astype(pd.CategoricalDtype([1, 2, 3]))
    table = agreement_table(df, by="dim", coefficients=["brennan_prediger"], ci=None)
    # K = 3 from the dtype (not 2 or 1 from the scores seen): x agrees on 1 of 2, y on 2 of 2
    assert table["estimate"].tolist() == pytest.approx([(0.5 - 1 / 3) / (2 / 3), 1.0])
