"""The one table writer: CSV/JSON/XLSX with spreadsheet formulas neutralised."""
import json

import pandas as pd
import pytest

from irr.report.tables import FORMULA_STARTS, neutralise, to_csv_text, write_tables

HOSTILE = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_formula_start_is_neutralised(start):
    table = pd.DataFrame({"rater_id": [f"{start}1+1", "T01"]})
    assert neutralise(table)["rater_id"].tolist() == [f"'{start}1+1", "T01"]


def test_numbers_stay_numbers():
    table = pd.DataFrame({"mean_diff": [-0.5, 0.25], "n": [-1, 2], "mixed": [-1, "<10"]})
    out = neutralise(table)
    assert out["mean_diff"].tolist() == [-0.5, 0.25] and out["n"].tolist() == [-1, 2]
    assert out["mixed"].tolist() == [-1, "<10"]
    assert to_csv_text(table).splitlines()[1] == "-0.5,-1,-1"


def test_files_written_are_neutralised(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    tables = {"raters": pd.DataFrame({"rater_id": [HOSTILE], "exact": [0.5], "missing": [None]}),
              "other": pd.DataFrame({"x": [1]})}
    paths = write_tables(tables, tmp_path, formats=("csv", "json", "xlsx"))
    assert {p.name for p in paths} == {"raters.csv", "raters.json", "other.csv", "other.json", "tables.xlsx"}
    assert (tmp_path / "raters.csv").read_text().splitlines()[1].startswith("\"'=HYPERLINK")
    assert json.loads((tmp_path / "raters.json").read_text()) == [{"rater_id": HOSTILE, "exact": 0.5, "missing": None}]
    book = openpyxl.load_workbook(tmp_path / "tables.xlsx")
    assert book.sheetnames == ["raters", "other"]
    cell = book["raters"]["A2"]
    assert cell.value == "'" + HOSTILE and cell.data_type == "s"      # text, not a formula
