"""What the analysis commands write, through the shared output options: formulas neutralised in
every CSV/XLSX, and under --suppress-below no number from fewer than N works or scores in any
file (plots included)."""
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from irr.cli.main import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "calibration"
HOSTILE = '=HYPERLINK("http://x","y")'
COUNT_COLUMNS = {"n", "count", "n_units", "n_ratings", "exact_count", "discrepant", "condition_coded",
                 "n_condition_coded", "n_code_mismatch", "n_numeric"}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    for src in sorted(EXAMPLES.glob("*.csv")):
        frame = pd.read_csv(src)
        frame.loc[frame["rater_id"] == "T03", "rater_id"] = HOSTILE
        frame.to_csv(folder / src.name, index=False)
    path = folder / "store.sqlite"
    result = CliRunner().invoke(cli, ["ingest", *map(str, sorted(folder.glob("*.csv"))), "--session",
                                      str(EXAMPLES / "session.yaml"), "--store", str(path)])
    assert result.exit_code == 0, result.output
    return path


def _run(*args):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _csv_cells(folder: Path):
    for path in folder.rglob("*.csv"):
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        yield path, table


def _xlsx_cells(folder: Path):
    import openpyxl

    for path in folder.rglob("*.xlsx"):
        for sheet in openpyxl.load_workbook(path).worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    yield path, sheet, cell


@pytest.fixture(scope="module")
def written(store, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    _run("calibrate", "--session", "seacoast-calibration-2026-10", "--store", str(store), "--out", str(out / "cal"),
         "--format", "html,csv,json,xlsx", "--suppress-below", "10")
    _run("agreement", "--store", str(store), "--out", str(out / "agr"), "--format", "html,csv,json,xlsx",
         "--suppress-below", "10", "--by", "task_id,dimension,rater_district")
    _run("calibrate", "--session", "seacoast-calibration-2026-10", "--store", str(store),
         "--out", str(out / "plain"), "--format", "csv,xlsx")
    _run("export", "--session", "seacoast-calibration-2026-10", "--store", str(store), "--format", "csv",
         "--out", str(out / "plain" / "export.csv"))
    return out


def test_no_cell_of_any_csv_or_xlsx_runs_as_a_formula(written):
    seen_hostile = 0
    for path, table in _csv_cells(written):
        for col in table.columns:
            text = table[col]
            starts = text.str.match(r"^[=+\-@\t\r]") & pd.to_numeric(text, errors="coerce").isna()
            assert not starts.any(), (path, col, text[starts].tolist()[:3])
            seen_hostile += int(text.str.contains("HYPERLINK", regex=False).sum())
    assert seen_hostile > 0                      # the hostile id is there, as text
    for path, sheet, cell in _xlsx_cells(written):
        assert cell.data_type != "f", (path, sheet.title, cell.coordinate, cell.value)
        if isinstance(cell.value, str):
            assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), (path, sheet.title, cell.value)


def test_suppressed_files_hold_no_number_from_fewer_than_ten(written):
    for folder in (written / "cal", written / "agr"):
        for path, table in _csv_cells(folder):
            for col in COUNT_COLUMNS & set(table.columns):
                values = pd.to_numeric(table[col], errors="coerce")
                assert not values.between(1, 9).any(), (path, col)
            if "n" in table.columns and "exact" in table.columns:     # rows from < 10 scores: no rates either
                small = table["n"] == "<10"
                assert (table.loc[small, "exact"] == "").all(), path
        for path in folder.rglob("*.json"):
            if path.name == "provenance.json":
                continue
            for row in json.loads(path.read_text()):
                for col in COUNT_COLUMNS & set(row):
                    assert not (isinstance(row[col], (int, float)) and 1 <= row[col] <= 9), (path, col, row)
        for path, sheet, cell in _xlsx_cells(folder):
            header = sheet.cell(row=1, column=cell.column).value
            if cell.row > 1 and header in COUNT_COLUMNS and isinstance(cell.value, (int, float)):
                assert not 1 <= cell.value <= 9, (path, sheet.title, cell.coordinate)
    assert not (written / "cal" / "tables" / "condition_codes.csv").exists()   # a list of single scores


def test_suppressed_html_and_its_plots(written):
    html = (written / "cal" / "calibration-report.html").read_text()
    papers = html[html.index('id="papers"'):html.index('id="fig-heatmap"')]
    assert "&lt;10" in papers
    assert not re.search(r"\b\d: [1-9]\b", papers)           # room's score counts below 10 are "<10"
    confusion = html[html.index('id="fig-confusion"'):]
    texts = [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", confusion)]
    small = [t for t in texts if re.fullmatch(r"[1-9]", t)]
    # only the axis ticks (score points 1-4 on both axes of each of the 4 dimensions) are digits
    assert len(small) == 4 * 2 * 4 and "&lt;10" in confusion
    assert "numbers from fewer than 10 works or scores suppressed" in html
    agr = (written / "agr" / "agreement-report.html").read_text()
    assert "fewer than 10" in agr


def test_public_report_anonymises_everywhere(store, tmp_path):
    out = tmp_path / "public"
    text = _run("calibrate", "--session", "seacoast-calibration-2026-10", "--store", str(store), "--out", str(out),
                "--public")
    assert "HYPERLINK" not in text and "T01" not in text and "Rater 01" in text
    for path in out.rglob("*"):
        if path.is_file():
            body = path.read_text(errors="ignore") if path.suffix != ".xlsx" else ""
            assert "HYPERLINK" not in body and "Seacoast Regional SD" not in body, path


def test_agreement_single_table_to_standard_output_and_files_need_a_folder(store):
    text = _run("agreement", "--store", str(store), "--format", "csv")
    assert text.splitlines()[0].startswith("task_id,dimension,coefficient,name,estimate")
    result = CliRunner().invoke(cli, ["agreement", "--store", str(store), "--format", "html"])
    assert result.exit_code == 2 and "--out DIR" in result.output
    result = CliRunner().invoke(cli, ["agreement", "--store", str(store), "--format", "pdf"])
    assert result.exit_code == 2 and "unknown format" in result.output
