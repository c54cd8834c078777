"""`irr export` and irr.io.export: cells a spreadsheet would run as a formula are neutralised (OWASP)."""
import csv

import openpyxl
import pandas as pd
from click.testing import CliRunner

from irr.cli.main import cli
from irr.io import ingest
from irr.io.export import neutralise_formulas, write_scores
from irr.model import load_bank
from irr.store import Store

BANK = load_bank()
SESSION = {"id": "s1", "kind": "audit", "date": "2026-10-14"}


def test_hyperlink_rater_id_is_neutralised_in_csv_and_xlsx(tmp_path):
    evil = '=HYPERLINK("http://x","y")'
    sheet = tmp_path / "a.csv"
    sheet.write_text('rater_id,work_id,task_id,dimension,score\n"=HYPERLINK(""http://x"",""y"")",W1,'
                     "ela-g8-argument,claim,3\n", encoding="utf-8")
    with Store(tmp_path / "s.sqlite") as store:
        ingest(store, [sheet], SESSION, bank=BANK)
        assert store.scores()["rater_id"].tolist() == [evil]     # stored as data
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"out.{fmt}"
        result = CliRunner().invoke(cli, ["export", "--session", "s1", "--store", str(tmp_path / "s.sqlite"),
                                          "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        if fmt == "csv":
            exported = pd.read_csv(out, dtype=str, keep_default_na=False)
            assert exported["rater_id"][0] == "'" + evil and exported["score"][0] == "3"
        else:
            ws = openpyxl.load_workbook(out).worksheets[0]
            header = [c.value for c in ws[1]]
            row = {h: c.value for h, c in zip(header, ws[2])}
            assert row["rater_id"] == "'" + evil and row["score"] == 3


def test_every_formula_start_is_neutralised_and_numbers_stay_numbers(tmp_path):
    df = pd.DataFrame({"text": ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain", "a=b"],
                       "n": [-1, 2, -3, 4, 5, 6, 7, 8], "x": [-1.5] * 8})
    safe = neutralise_formulas(df)
    assert safe["text"].tolist() == ["'=1+2", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "plain", "a=b"]
    assert safe["n"].tolist() == df["n"].tolist() and safe["x"].tolist() == df["x"].tolist()
    out = write_scores(df, tmp_path / "t.csv")
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert [r[1] for r in rows[1:]] == [str(v) for v in df["n"]]   # -1 is written as a number, unprefixed
    assert rows[1][0] == "'=1+2" and rows[6][0] == "'\rx"
