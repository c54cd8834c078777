"""Ingest integrity: scores held twice across files, Excel formulas, empty cells, condition codes,
grouped and header-level messages, files that are not what their name says, manifests."""
import sqlite3
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from irr.cli.main import cli
from irr.errors import SubmissionError, ValidationError
from irr.io import ingest
from irr.io.submissions import RowsProblem, _read_csv_columnar, _read_csv_rows, _row_ranges, read_manifest
from irr.model import load_bank
from irr.store import Store

BANK = load_bank()
SESSION = {"id": "cal-2026-10", "kind": "calibration", "date": "2026-10-14"}
LONG = "rater_id,work_id,task_id,dimension,score\n"
WIDE = "rater_id,work_id,task_id,claim,evidence,reasoning,conventions\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def long_sheet(raters=("T1", "T2"), works=("W1", "W2")) -> str:
    return LONG + "".join(f"{r},{w},ela-g8-argument,{d},{(i + j) % 4 + 1}\n" for i, r in enumerate(raters)
                          for j, w in enumerate(works) for d in ("claim", "evidence"))


def n_stored(store: Store) -> int:
    return store._conn.execute("SELECT count(*) FROM scores").fetchone()[0]


def problems(info) -> list[str]:
    return [str(p) for p in info.value.problems]


# --- 16: a score stored once per session ----------------------------------------------------
def test_the_same_scores_in_a_second_file_are_refused(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    first = write(tmp_path / "room-a.csv", long_sheet())
    ingest(store, [first], SESSION, bank=BANK)
    pd.read_csv(first).to_excel(tmp_path / "room-a.xlsx", index=False)     # the same rows saved as .xlsx
    with pytest.raises(SubmissionError) as info:
        ingest(store, [tmp_path / "room-a.xlsx"], SESSION, bank=BANK)
    [text] = problems(info)
    assert "8 score(s) on 8 row(s) are already in session cal-2026-10 from room-a.csv" in text
    assert "row 2: rater 'T1', work 'W1', claim (calibration read) = row 2 of room-a.csv" in text
    assert "--replace" in text
    assert n_stored(store) == 8
    with pytest.raises(SubmissionError, match="already in session"):                 # a dry run says so too
        ingest(store, [tmp_path / "room-a.xlsx"], SESSION, bank=BANK, dry_run=True)
    # one clashing row among new ones: still refused, and only that row is named
    write(tmp_path / "late.csv", LONG + "T9,W1,ela-g8-argument,claim,2\nT2,W2,ela-g8-argument,evidence,1\n")
    with pytest.raises(SubmissionError, match=r"1 score\(s\) on 1 row\(s\).*row 3: rater 'T2'"):
        ingest(store, [tmp_path / "late.csv"], SESSION, bank=BANK)
    # a second read of the same paper as another read type is a different score
    write(tmp_path / "backread.csv", LONG.strip() + ",read_type\nT1,W1,ela-g8-argument,claim,3,backread\n")
    [res] = ingest(store, [tmp_path / "backread.csv"], SESSION, bank=BANK)
    assert res.action == "ingested"
    # replacing a file does not clash with its own old rows
    write(first, long_sheet(works=("W1",)))
    [res] = ingest(store, [first], SESSION, bank=BANK, replace=True)
    assert res.action == "replaced" and n_stored(store) == 4 + 1
    assert store.check() == []


def test_another_session_may_hold_the_same_scores(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    sheet = write(tmp_path / "a.csv", long_sheet())
    ingest(store, [sheet], SESSION, bank=BANK)
    [res] = ingest(store, [sheet], {**SESSION, "id": "cal-2026-11"}, bank=BANK)
    assert res.action == "ingested" and n_stored(store) == 16


def test_cli_ingest_of_a_second_copy_is_rejected_and_check_finds_old_duplicates(tmp_path):
    runner = CliRunner()
    store_path = str(tmp_path / "s.sqlite")
    a = write(tmp_path / "a.csv", long_sheet())
    b = write(tmp_path / "b.csv", long_sheet() + "T3,W1,ela-g8-argument,claim,1\n")
    result = runner.invoke(cli, ["ingest", str(a), str(b), "--session", "s1", "--kind", "audit", "--date",
                                 "2026-11-02", "--store", store_path])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "REJECTED" in result.output and "from a.csv" in result.output
    # a store written before ingest refused this: the check reports it
    conn = sqlite3.connect(store_path, isolation_level=None)
    conn.execute("INSERT INTO scores SELECT * FROM scores WHERE rowid <= 2")
    conn.execute("UPDATE files SET n_scores = n_scores + 2")
    conn.close()
    with Store(store_path) as store:
        [message] = store.check()
    assert message.startswith("2 score(s) are stored more than once")
    assert "session s1: rater 'T1', work 'W1', claim (audit read) 2 times, in a.csv" in message
    checked = runner.invoke(cli, ["store", "check", "--store", store_path])
    assert checked.exit_code == 1 and "stored more than once" in checked.output


# --- 17: Excel formulas; empty cells of the wide layout ---------------------------------------
def _book(rows) -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    return book


def _save_with_cached_values(book, path: Path, values: dict[str, str]) -> Path:
    """Save, then write cached formula results as Excel does (openpyxl leaves them empty)."""
    plain = path.with_suffix(".plain.xlsx")
    book.save(plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                for formula, value in values.items():
                    data = data.replace(f"<f>{formula}</f><v />".encode(), f"<f>{formula}</f><v>{value}</v>".encode())
            out.writestr(item, data)
    return path


def test_excel_formula_cells_use_their_saved_value_or_are_named(tmp_path):
    rows = [["rater_id", "work_id", "task_id", "dimension", "score"],
            ["T1", "W1", "ela-g8-argument", "claim", 3],
            ["T1", "W2", "ela-g8-argument", "claim", "=2+2"]]
    store = Store(tmp_path / "s.sqlite")
    book = _book(rows)
    book.save(tmp_path / "nocache.xlsx")                      # as openpyxl or a script writes it: no value
    with pytest.raises(SubmissionError) as info:
        ingest(store, [tmp_path / "nocache.xlsx"], SESSION, bank=BANK)
    [text] = problems(info)
    assert "nocache.xlsx, row 3, column 'score': Sheet!E3 holds a formula (=2+2) with no saved value" in text
    _save_with_cached_values(book, tmp_path / "cached.xlsx", {"2+2": "4"})
    [res] = ingest(store, [tmp_path / "cached.xlsx"], SESSION, bank=BANK)
    assert res.n_scores == 2
    assert store.scores()["score"].tolist() == [3, 4]


def test_excel_formula_in_an_id_is_not_called_empty(tmp_path):
    book = _book([["rater_id", "work_id", "task_id", "dimension", "score"],
                  ['=CONCAT("T","1")', "W1", "ela-g8-argument", "claim", 3]])
    book.save(tmp_path / "ids.xlsx")
    with pytest.raises(SubmissionError) as info:
        ingest(Store(tmp_path / "s.sqlite"), [tmp_path / "ids.xlsx"], SESSION, bank=BANK)
    [text] = problems(info)
    assert "column 'rater_id': Sheet!A2 holds a formula" in text and "empty" not in text


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_empty_cells_of_a_wide_sheet_are_counted_as_not_scored(tmp_path, suffix):
    text = WIDE + "T1,W1,ela-g8-argument,2,,3,1\nT1,W2,ela-g8-argument,2,1,3,\nT1,W3,ela-g8-argument,,,,\n"
    path = write(tmp_path / "wide.csv", text)
    if suffix == ".xlsx":
        pd.read_csv(path, dtype=str).to_excel(tmp_path / "wide.xlsx", index=False)
        path = tmp_path / "wide.xlsx"
    store = Store(tmp_path / "s.sqlite")
    [res] = ingest(store, [path], SESSION, bank=BANK)
    assert (res.n_scores, res.n_not_scored) == (6, 6)
    assert "6 cells not scored (row 2 evidence, row 3 conventions, row 4 claim, ...)" in str(res)


# --- 19: wide-layout messages, header problems, grouped problems --------------------------------
def test_wide_problems_name_the_dimension_column(tmp_path):
    path = write(tmp_path / "w.csv", WIDE + "T1,W1,ela-g8-argument,2,5,3,x\n")
    with pytest.raises(SubmissionError) as info:
        ingest(Store(tmp_path / "s.sqlite"), [path], SESSION, bank=BANK)
    assert problems(info) == [
        "w.csv, row 2, column 'evidence': score 5 is not on the scale of 'evidence' [1, 2, 3, 4] "
        "-> enter a score point of the rubric",
        "w.csv, row 2, column 'conventions': score 'x' is not a whole number or a condition code of 'conventions' "
        "-> enter a score point of the rubric or one of its condition codes: blank, off_topic, illegible, "
        "non_english"]


def test_misspelled_dimension_header_is_one_header_problem(tmp_path):
    body = "".join(f"T{i},W1,ela-g8-argument,2,2,3,1\n" for i in range(40))
    path = write(tmp_path / "w.csv", WIDE.replace("evidence", "evidance") + body)
    with pytest.raises(SubmissionError) as info:
        ingest(Store(tmp_path / "s.sqlite"), [path], SESSION, bank=BANK)
    assert problems(info) == [
        "w.csv, row 1, column 'evidance': unknown column 'evidance'; the rubric's dimensions are claim, evidence, "
        "reasoning, conventions -> did you mean 'evidence'? name each score column by a dimension id, or map it "
        "with --map DIMENSION=HEADER"]


def test_one_wrong_task_id_is_one_problem_listing_its_rows(tmp_path):
    body = "".join(f"T{i},W1,ela-g8-argumnet,2,2,3,1\n" for i in range(40))      # rows 2-41, 4 cells each
    body += "T99,W1,ela-g8-argument,2,2,3,1\n" + "T98,W1,ela-g8-argumnet,2,2,3,1\n"  # row 42 is fine, 43 not
    path = write(tmp_path / "w.csv", WIDE + body)
    with pytest.raises(SubmissionError) as info:
        ingest(Store(tmp_path / "s.sqlite"), [path], SESSION, bank=BANK)
    assert problems(info) == ["w.csv, rows 2\u201341, 43, column 'task_id': task 'ela-g8-argumnet' is not in the "
                              "bank -> use a task id from `irr bank list`"]
    assert isinstance(info.value.problems[0], RowsProblem) and info.value.problems[0].row == 2


def test_problems_are_sorted_by_row_and_ranges_compressed(tmp_path):
    path = write(tmp_path / "l.csv", LONG + "T1,W1,ela-g8-argument,claim,9\n" + "T2,,ela-g8-argument,claim,1\n"
                 + "T3,W1,ela-g8-argument,claim,9\n")
    with pytest.raises(SubmissionError) as info:
        ingest(Store(tmp_path / "s.sqlite"), [path], SESSION, bank=BANK)
    assert [p.row for p in info.value.problems] == [2, 3]
    assert str(info.value.problems[0]).startswith("l.csv, rows 2, 4, column 'score': score 9")
    assert _row_ranges([9, 2, 3, 4, 7, 11, 12]) == "2\u20134, 7, 9, 11\u201312"
    assert _row_ranges(range(2, 40, 2)).endswith("and 11 more")


# --- 20: files that are not CSV text; --map with a manifest --------------------------------------
def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _zip_with(path: Path, name: str) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(name, "x")
    return path


@pytest.mark.parametrize("make, expected", [
    (lambda p: _book([["a"]]).save(p) or p, "this is an Excel workbook saved with a .csv name -> rename it to .xlsx"),
    (lambda p: _bytes(p, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100), "old-format (97-2003)"),
    (lambda p: _bytes(p, b"%PDF-1.7\n%\xe2\xe3\n"), "this is a PDF document"),
    (lambda p: _bytes(p, b"rater_id\x00\x01\x02\xff"), "this is a binary file, not text"),
    (lambda p: _zip_with(p, "notes.txt"), "this is a zip archive"),
    (lambda p: _bytes(p, "rater_id\n".encode("utf-16")), "UTF-16 text, not a CSV text file -> pass "
                                                                  "--encoding=utf-16"),
])
def test_a_csv_that_is_not_text_says_what_it_is(tmp_path, make, expected):
    path = make(tmp_path / "scores.csv")
    with pytest.raises(SubmissionError) as info:
        ingest(Store(tmp_path / "s.sqlite"), [path], SESSION, bank=BANK)
    assert expected in str(info.value) and "latin-1" not in str(info.value)


def test_an_xlsx_that_is_not_a_workbook_says_what_it_is(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    with pytest.raises(SubmissionError, match="text file .CSV.. saved with a .xlsx name.*rename it to .csv"):
        ingest(store, [write(tmp_path / "x.xlsx", long_sheet())], SESSION, bank=BANK)
    (tmp_path / "y.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(SubmissionError, match="old-format.*save it as .xlsx or CSV"):
        ingest(store, [tmp_path / "y.xlsx"], SESSION, bank=BANK)


def test_utf16_with_its_encoding_is_read(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(long_sheet().encode("utf-16"))
    [res] = ingest(Store(tmp_path / "s.sqlite"), [path], SESSION, bank=BANK, encoding="utf-16")
    assert res.n_scores == 8


def test_column_map_is_remembered_when_the_same_manifest_is_given_again(tmp_path):
    manifest = write(tmp_path / "session.yaml", "id: cal-2026-10\nkind: calibration\ndate: 2026-10-14\n")
    text = long_sheet().replace("rater_id,work_id", "Teacher,Paper", 1)
    store = Store(tmp_path / "s.sqlite")
    with pytest.raises(SubmissionError, match="required column"):
        ingest(store, [write(tmp_path / "a.csv", text)], manifest, bank=BANK)
    ingest(store, [tmp_path / "a.csv"], manifest, bank=BANK, column_map={"rater_id": "Teacher", "work_id": "Paper"})
    # the same session.yaml again, no --map: the stored map applies
    [res] = ingest(store, [write(tmp_path / "b.csv", text.replace("T1", "T5").replace("T2", "T6"))], manifest,
                         bank=BANK)
    assert res.action == "ingested"
    # the manifest's own column_map and --map combine, --map winning
    both = write(tmp_path / "both.yaml", "id: cal-2026-11\nkind: calibration\ndate: 2026-10-14\n"
                 "column_map: {rater_id: Teacher, work_id: Wrong}\n")
    [res] = ingest(store, [tmp_path / "a.csv"], both, bank=BANK, column_map={"work_id": "Paper"})
    assert res.action == "ingested"
    assert store.session("cal-2026-11").column_map == {"rater_id": "Teacher", "work_id": "Paper"}


# --- 18: manifests -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("id: s1\nkind: audit\ndate: 2026-13-40\n",
     "field 'date': '2026-13-40': Input should be a valid date or datetime, month value is outside expected range"),
    ("id: s1\nkind: audit\ndate: '2026-02-30'\n", "field 'date': '2026-02-30'"),
    ("id: s1\nkind: audit\ndate: 2026-10-14 09:00:00\n", "field 'date'"),
    ("", "the manifest is empty"),
    ("- id: s1\n", "the manifest is a list, not a mapping"),
    ("id: s1\nkind: audit\ndate: 2026-10-14\nfacilitater: me\n",
     "field 'facilitater': unknown field 'facilitater' -> did you mean 'facilitator'?"),
    ("id: s1\nkind: workshop\ndate: 2026-10-14\n", "field 'kind': 'workshop'"),
    ("id: s1\nkind: audit\ndate: 2026-10-14\ncolumn_map: [rater_id]\n", "field 'column_map'"),
    ("id: s1\nkind: audit\ndate: 2026-10-14\ncolumn_map: {rater_id: 5}\n", "field 'column_map.rater_id': 5"),
    ("id: s1\nkind: audit\n", "field 'date': is missing"),
    ("id: [s1\n", "not valid YAML"),
])
def test_manifest_problems_are_one_message(tmp_path, text, expected):
    path = write(tmp_path / "session.yaml", text)
    with pytest.raises(ValidationError) as info:
        read_manifest(path)
    assert expected in str(info.value) and str(path) in str(info.value)
    result = CliRunner().invoke(cli, ["ingest", str(write(tmp_path / "a.csv", long_sheet())), "--session", str(path),
                                      "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 1 and "Traceback" not in result.output and expected in result.output


def test_manifest_dates_parse_quoted_or_not(tmp_path):
    for text in ("date: 2026-10-14", "date: '2026-10-14'"):
        path = write(tmp_path / "s.yaml", f"id: s1\nkind: audit\n{text}\n")
        assert read_manifest(path).date.isoformat() == "2026-10-14"


def test_cli_new_session_with_a_bad_date_is_one_message(tmp_path):
    result = CliRunner().invoke(cli, ["ingest", str(write(tmp_path / "a.csv", long_sheet())), "--session", "s1",
                                      "--kind", "audit", "--date", "2026-13-40", "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "--session, field 'date': '2026-13-40'" in result.output


# --- 8: condition codes --------------------------------------------------------------------------------
def test_condition_codes_are_read_stored_and_excluded_from_ratings(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    path = write(tmp_path / "c.csv", LONG + "T1,W1,ela-g8-argument,claim,Off-topic\n"
                 + "T1,W1,ela-g8-argument,evidence, NON ENGLISH \n" + "T2,W1,ela-g8-argument,claim,3\n"
                 + "T1,W2,ela-g8-argument,claim,2\n" + "T2,W2,ela-g8-argument,claim,illegible\n")
    [res] = ingest(store, [path], SESSION, bank=BANK)
    assert (res.n_scores, res.n_condition_coded) == (5, 3) and "(3 with a condition code)" in str(res)
    df = store.scores()
    assert str(df["score"].dtype) == "Int64"
    assert df["score"].tolist()[2:4] == [3, 2] and df["score"].isna().tolist() == [True, True, False, False, True]
    assert df["condition_code"].tolist() == ["off_topic", "non_english", "", "", "illegible"]
    assert store.sessions()["scores"].tolist() == [5]
    ratings = store.ratings("ela-g8-argument", "claim")
    assert ratings.n_ratings == 2 and ratings.dropped == {"condition code": 2}
    view = pd.read_sql_query("SELECT score, condition_code FROM score_rows ORDER BY row", store._conn)
    assert view["condition_code"].tolist() == df["condition_code"].tolist()
    assert store.check() == []


def test_an_undeclared_label_lists_the_declared_codes(tmp_path):
    path = write(tmp_path / "c.csv", LONG + "T1,W1,ela-g8-argument,claim,absent\n"
                 + "T1,W1,wsp-g8-collaboration,contribution,blank\n")
    bank_task = [t for t in BANK.tasks.values() if BANK.rubric_for(t).id == "wsp-collaboration"][0].id
    path = write(tmp_path / "c.csv", path.read_text().replace("wsp-g8-collaboration", bank_task))
    with pytest.raises(SubmissionError) as info:
        ingest(Store(tmp_path / "s.sqlite"), [path], SESSION, bank=BANK)
    texts = problems(info)
    assert "score 'absent' is not a whole number or a condition code of 'claim' -> enter a score point of the " \
           "rubric or one of its condition codes: blank, off_topic, illegible, non_english" in texts[0]
    assert "one of its condition codes: not_observed, absent" in texts[1]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_writes_the_condition_code_and_a_blank_score(tmp_path, fmt):
    store_path = tmp_path / "s.sqlite"
    ingest(Store(store_path), [write(tmp_path / "c.csv", LONG + "T1,W1,ela-g8-argument,claim,blank\n"
                                    + "T2,W1,ela-g8-argument,claim,3\n")], SESSION, bank=BANK)
    out = tmp_path / f"out.{fmt}"
    result = CliRunner().invoke(cli, ["export", "--session", "cal-2026-10", "--format", fmt, "--out", str(out),
                                      "--store", str(store_path)])
    assert result.exit_code == 0, result.output
    back = pd.read_csv(out, dtype=str, keep_default_na=False) if fmt == "csv" else \
        pd.read_excel(out, dtype=str, keep_default_na=False)
    assert back["score"].tolist() == ["", "3"] and back["condition_code"].tolist() == ["blank", ""]


@pytest.mark.parametrize("name", ["irr.model.session", "irr.model.rubric"])
def test_docstring_examples(name):
    import doctest
    import importlib

    failures, attempted = doctest.testmod(importlib.import_module(name))
    assert attempted > 0 and failures == 0


# --- the columnar CSV reader reads what csv.reader reads, or leaves the file to it ------------------
CELL = st.sampled_from(["", " ", "a", " a", "b ", "T1", "3", "x y", "é", "\u00a0z", "-1", "=1+2", "\t"])


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(st.one_of(st.lists(CELL, min_size=0, max_size=4).map(",".join), st.just("")),
                      min_size=1, max_size=8),
       end=st.sampled_from(["\n", "\r\n", ""]))
def test_columnar_reader_agrees_with_the_csv_module(lines, end):
    text = end.join(["h1,h2 ,h3"] + lines) + end
    fast = _read_csv_columnar(text, ",")
    try:
        exact = _read_csv_rows(Path("f.csv"), text, ",")
    except SubmissionError:
        assert fast is None               # a file the csv path refuses is never read by the fast one
        return
    if fast is None:
        return
    assert fast[0] == exact[0]
    pd.testing.assert_frame_equal(fast[1], exact[1], check_index_type=False)
    assert fast[1].index.tolist() == exact[1].index.tolist()


def test_columnar_reader_leaves_quotes_and_ragged_lines_to_the_csv_module():
    assert _read_csv_columnar('a,b\n"x",y\n', ",") is None
    assert _read_csv_columnar("a,b\n1,2,3\n", ",") is None
    assert _read_csv_columnar("a,b\n1\n", ",") is None
    assert _read_csv_columnar("a,b\r1,2\r", ",") is None              # lone carriage returns
    header, frame = _read_csv_columnar("a,b\n\n 1 ,2\n,\n", ",")
    assert header == ["a", "b"] and frame.index.tolist() == [3] and frame.iloc[0].tolist() == ["1", "2"]


# --- validation on each column's distinct values (issue 11, speed) ---------------------------------
def test_submission_codes_are_its_columns_and_the_store_needs_none(tmp_path):
    import dataclasses

    import numpy as np

    from irr.io.submissions import read_submission
    from irr.model.session import session_from_mapping

    sheet = write(tmp_path / "a.csv", LONG + "T1,W1,ela-g8-argument,claim,3\nT2,W1,ela-g8-argument,claim,blank\n"
                  "T1,W2,ela-g8-argument,evidence,2\n\n,,,,\nT2,W2,ela-g8-argument,evidence,4")
    session = session_from_mapping(SESSION, "x")
    sub = read_submission(sheet, BANK, session)
    assert sub.scores["source_line"].tolist() == [2, 3, 4, 7]          # blank lines left out, no final newline
    assert set(sub.codes) >= {"rater_id", "work_id", "task_id", "dimension", "read_type", "condition_code"}
    for column, (codes, values) in sub.codes.items():
        assert np.array(values, dtype=object)[codes].tolist() == sub.scores[column].tolist(), column
    assert sub.n_condition_coded == 1
    with_codes, without = Store(tmp_path / "a.sqlite"), Store(tmp_path / "b.sqlite")
    with_codes.write_submission(sub, session)
    without.write_submission(dataclasses.replace(sub, codes={}), session)   # the store factorizes itself
    pd.testing.assert_frame_equal(with_codes.scores(), without.scores())


def test_checks_on_distinct_values_name_every_row(tmp_path):
    rows = ["T1,W1,ela-g8-argument,claim,3", "T2,W1,ela-g8-argument,claim,9", "T3,W1,ela-g8-argument,claim,9",
            "T4,W1,ela-g8-argument,claimz,3", "T5,W1,nope,claim,3", "T6,W1,ela-g8-argument,claim,9",
            "T1,W1,ela-g8-argument,claim,3"]
    sheet = write(tmp_path / "a.csv", LONG + "\n".join(rows) + "\n")
    with pytest.raises(SubmissionError) as info:
        ingest(Store(tmp_path / "s.sqlite"), sheet, SESSION, bank=BANK)
    text = problems(info)
    assert any("rows 3–4, 7" in p and "score 9 is not on the scale of 'claim'" in p for p in text), text
    assert any("row 5" in p and "dimension 'claimz'" in p for p in text), text
    assert any("row 6" in p and "task 'nope'" in p for p in text), text
    assert any("more than once" in p and "lines 2, 8" in p for p in text), text
