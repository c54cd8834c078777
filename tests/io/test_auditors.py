"""Reading the auditors file and writing the assignments file (the same bytes for the same content)."""

import hashlib
import zipfile

import openpyxl
import pandas as pd
import pytest

from irr.errors import ValidationError
from irr.io.auditors import FIXED_TIMESTAMP, read_auditors, write_assignments


def write_xlsx(path, rows):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_csv_and_xlsx_are_read_with_extra_columns_ignored(tmp_path):
    csv = tmp_path / "auditors.csv"
    csv.write_text("\ufeff Rater_ID ,email,rater_district\nA1,a@x, Seacoast \n\nA2,b@x,Granite\n", encoding="utf-8")
    frame = read_auditors(csv)
    assert frame.to_dict("list") == {"rater_id": ["A1", "A2"], "rater_district": ["Seacoast", "Granite"]}
    xlsx = write_xlsx(
        tmp_path / "auditors.xlsx",
        [["rater_id", "rater_district", "note"], [101, "Seacoast", "x"], ["A2", "Granite", None]],
    )
    assert read_auditors(xlsx).to_dict("list") == {"rater_id": ["101", "A2"], "rater_district": ["Seacoast", "Granite"]}


def problems_of(path):
    with pytest.raises(ValidationError) as info:
        read_auditors(path)
    return info.value.problems


def test_a_missing_column_names_the_file_the_field_and_the_fix(tmp_path):
    path = tmp_path / "auditors.csv"
    path.write_text("rater_id,district\nA1,Seacoast\n")
    [problem] = problems_of(path)
    assert (problem.file, problem.row, problem.field) == ("auditors.csv", 1, "rater_district")
    assert "add a 'rater_district' column" in problem.fix


def test_blank_cells_and_repeated_auditors_are_located(tmp_path):
    path = tmp_path / "auditors.csv"
    path.write_text("rater_id,rater_district\nA1,Seacoast\nA2,\n,Granite\nA1,Lakes\n")
    problems = problems_of(path)
    located = [(p.row, p.field) for p in problems]
    assert located == [(3, "rater_district"), (4, "rater_id"), (5, "rater_id")]
    assert "listed again (first on row 2)" in problems[2].message and "list each auditor once" in problems[2].fix
    assert all(p.file == "auditors.csv" and p.fix for p in problems)
    # the message (what the CLI prints) carries all of it
    with pytest.raises(ValidationError, match=r"auditors\.csv, row 3, field 'rater_district': blank rater_district"):
        read_auditors(path)


def test_xlsx_problems_use_the_sheet_row_numbers(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [["rater_id", "rater_district"], ["A1", "X"], [None, None], ["A1", "Y"]])
    [problem] = problems_of(path)
    assert (problem.row, problem.field) == (4, "rater_id")


@pytest.mark.parametrize(
    "name,content,text",
    [
        ("a.csv", b"", "the file is empty"),
        ("a.csv", "rater_id,rater_district\n".encode(), "lists no auditors"),
        ("a.csv", b"\xff\xfe\x00r", "not UTF-8"),
        ("a.xlsx", b"not a workbook", "cannot read the Excel file"),
        ("a.json", b"[]", "unsupported file type"),
    ],
)
def test_unreadable_files_are_validation_errors(tmp_path, name, content, text):
    path = tmp_path / name
    path.write_bytes(content)
    [problem] = problems_of(path)
    assert text in problem.message and problem.fix
    missing = problems_of(tmp_path / "nope.csv")
    assert "no such file" in missing[0].message


ASSIGNMENTS = pd.DataFrame(
    {
        "work_id": ["S1", "=cmd|' /C calc'!A0", "S3"],
        "task_id": ["ela-g8-argument"] * 3,
        "work_district": ["Seacoast", "Granite", "Lakes, Region"],
        "auditor_id": ["A1", "A1", "A2"],
        "reason": ["stratum", "near-cut", "linking"],
    }
)


def test_csv_is_the_same_bytes_and_formulas_are_neutralised(tmp_path):
    a, b = write_assignments(ASSIGNMENTS, tmp_path / "a.csv"), write_assignments(ASSIGNMENTS, tmp_path / "b.csv")
    data = a.read_bytes()
    assert data == b.read_bytes()
    assert data.startswith(b"work_id,task_id,work_district,auditor_id,reason\r\n") and b"\n" not in data.replace(
        b"\r\n", b""
    )
    assert b"'=cmd" in data and b'"Lakes, Region"' in data
    assert pd.read_csv(a)["work_district"].tolist() == ["Seacoast", "Granite", "Lakes, Region"]


def test_xlsx_is_the_same_bytes_with_fixed_times(tmp_path):
    a = write_assignments(ASSIGNMENTS, tmp_path / "a.xlsx")
    b = write_assignments(ASSIGNMENTS, tmp_path / "b.xlsx")
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    # what would change from one run to the next is fixed: the zip entries' times and the document dates
    with zipfile.ZipFile(a) as archive:
        assert {info.date_time for info in archive.infolist()} == {FIXED_TIMESTAMP.timetuple()[:6]}
        core = archive.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core and core.count("2000-01-01") == 2
    book = openpyxl.load_workbook(a)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0] == tuple(ASSIGNMENTS.columns) and rows[2][0] == "'=cmd|' /C calc'!A0" and len(rows) == 4
    assert book.properties.modified == FIXED_TIMESTAMP


def test_other_file_types_are_refused(tmp_path):
    with pytest.raises(ValidationError, match=r"name the file \.csv or \.xlsx"):
        write_assignments(ASSIGNMENTS, tmp_path / "a.json")
