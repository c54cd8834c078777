"""Anonymising and small-cell suppression on their own, on a hand-made result."""
import pandas as pd
import pytest

from irr.analysis.result import AnalysisResult, Section, TableColumns
from irr.report.privacy import Privacy, apply_privacy


def _result():
    tables = {
        "raters": pd.DataFrame({"rater_id": ["T2", "T1", "T3"], "rater_district": ["D1", "D2", "D2"],
                                "n": [48, 12, 6], "discrepant": [3, 0, 1], "exact": [0.81, 0.9, 0.5],
                                "flag": [True, False, True]}),
        "cells": pd.DataFrame({"score": [1, 2, 3], "count": [0, 4, 25]}),
        "records": pd.DataFrame({"rater_id": ["T1"], "code": ["blank"]}),
    }
    columns = {"raters": TableColumns(counts=("n", "discrepant"), support="n"),
               "cells": TableColumns(counts=("count",), raters=(), fixed=("score",)),
               "records": TableColumns(records=True)}
    return AnalysisResult("x", "x", tables, meta={"level": 0.95},
                          sections=(Section("s", "S", ("raters", "cells", "records")),), columns=columns)


def test_nothing_changes_without_privacy():
    result = _result()
    assert apply_privacy(result, Privacy()) is result


def test_anonymise_maps_ids_in_sorted_order_and_drops_districts():
    shown = apply_privacy(_result(), Privacy(anonymize=True))
    raters = shown.tables["raters"]
    assert raters["rater_id"].tolist() == ["Rater 02", "Rater 01", "Rater 03"]
    assert "rater_district" not in raters
    assert shown.tables["records"]["rater_id"].tolist() == ["Rater 01"]   # one mapping for every table
    assert shown.meta["privacy"]["anonymize"] is True


def test_suppression_blanks_small_counts_rows_and_records():
    shown = apply_privacy(_result(), Privacy(suppress_below=10))
    raters = shown.tables["raters"]
    # T2: 48 scores -> shown, but its 3 discrepant scores are a small cell
    assert raters.loc[0, "n"] == 48 and raters.loc[0, "discrepant"] == "<10" and raters.loc[0, "exact"] == 0.81
    # T3: 6 scores -> every number of the row is suppressed, flags included
    assert raters.loc[2, "n"] == "<10" and raters.loc[2, "discrepant"] == "<10"
    assert pd.isna(raters.loc[2, "exact"]) and pd.isna(raters.loc[2, "flag"])
    assert raters.loc[1, "discrepant"] == 0                   # zero identifies nobody
    cells = shown.tables["cells"]
    assert cells["count"].tolist() == [0, "<10", 25] and cells["score"].tolist() == [1, 2, 3]
    assert "records" not in shown.tables and shown.meta["privacy"]["tables_left_out"] == ["records"]
    assert shown.sections[0].tables == ("raters", "cells")


@pytest.mark.parametrize("options,expected", [
    ({"public": True}, Privacy(anonymize=True, suppress_below=10)),
    ({"public": True, "suppress_below": 5}, Privacy(anonymize=True, suppress_below=5)),
    ({"suppress_below": 1}, Privacy()),
    ({"anonymize": True}, Privacy(anonymize=True)),
])
def test_options(options, expected):
    assert Privacy.from_options(**options) == expected


def test_counts_inside_dropped_texts_are_suppressed():
    table = pd.DataFrame({"coefficient": ["fleiss_kappa"], "n_units": [40],
                          "dropped": ["units with one rating: 3; units with no rating: 12"]})
    result = AnalysisResult("x", "x", {"t": table}, columns={
        "t": TableColumns(counts=("n_units",), support="n_units", raters=(), count_texts=("dropped",))})
    shown = apply_privacy(result, Privacy(suppress_below=10)).tables["t"]
    assert shown.loc[0, "dropped"] == "units with one rating: <10; units with no rating: 12"
