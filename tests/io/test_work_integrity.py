"""Work-level columns (work_district, school, student_id, flag_*) describe the work, not the score:
one value on every row of a work, within a file and across the files of the store (issue 12)."""
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from irr.cli.main import cli
from irr.errors import SubmissionError
from irr.io import ingest
from irr.model import load_bank
from irr.model.session import WORK_COLUMNS
from irr.store import Store

BANK = load_bank()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AUDIT = {"id": "audit-2026", "kind": "audit", "date": "2026-12-02"}
COLUMNS = ["work_district", "school", "student_id", "flag_iep"]
WORK = {"W1": ("Granite Hills SD", "Granite Middle School", "STU-0001", "1"),
        "W2": ("Cedar Brook SD", "Cedar Middle School", "STU-0002", "0")}


def sheet(path: Path, raters=("T1", "T2"), works=WORK, change=None) -> Path:
    """A long sheet: each rater scores each work on two dimensions; ``change = (row, column, value)``
    sets one cell (row = the file line)."""
    rows = [dict(rater_id=r, work_id=w, task_id="ela-g8-argument", dimension=d, score=(i + j) % 4 + 1,
                 **dict(zip(COLUMNS, values)))
            for i, r in enumerate(raters) for j, (w, values) in enumerate(works.items()) for d in ("claim", "evidence")]
    df = pd.DataFrame(rows)
    if change is not None:
        line, column, value = change
        df.loc[line - 2, column] = value
    df.to_csv(path, index=False)
    return path


def n_stored(store: Store) -> int:
    return store._conn.execute("SELECT count(*) FROM scores").fetchone()[0]


def problems(info) -> list[str]:
    return [str(p) for p in info.value.problems]


# --- within one file ----------------------------------------------------------------------------
@pytest.mark.parametrize("column,value,shown", [("work_district", "Cedar Brook SD", "'Cedar Brook SD'"),
                                                ("school", "", "blank"),
                                                ("student_id", "STU-0009", "'STU-0009'"),
                                                ("flag_iep", "0", "'0'")])
def test_a_work_with_two_values_in_a_file_is_rejected(tmp_path, column, value, shown):
    # lines 2-3 and 6-7 are work W1 (rater T1, then T2): line 6 disagrees with the others
    store = Store(tmp_path / "s.sqlite")
    path = sheet(tmp_path / "a.csv", change=(6, column, value))
    with pytest.raises(SubmissionError) as info:
        ingest(store, path, AUDIT, bank=BANK)
    [text] = problems(info)
    first = dict(zip(COLUMNS, WORK["W1"]))[column]
    assert text.startswith(f"a.csv, rows 2–3, 6–7, column '{column}': 1 work(s) have more than one {column}")
    assert f"work 'W1' has '{first}' (rows 2–3, 7) and {shown} (row 6)" in text
    assert f"-> give every row of a work_id the same {column}" in text and "different work ids" in text
    assert n_stored(store) == 0


def test_wide_sheets_and_many_works_are_named_compactly(tmp_path):
    # wide layout: one line per rater x work; three works disagree, the first three are named
    lines = ["rater_id,work_id,task_id,claim,evidence,school,flag_ell"]
    lines += [f"T{r},W{w},ela-g8-argument,3,2,School {w},{int(r == 3 and w < 5)}" for w in range(1, 7)
              for r in range(1, 4)]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SubmissionError) as info:
        ingest(Store(tmp_path / "s.sqlite"), path, AUDIT, bank=BANK)
    [text] = problems(info)
    assert text.startswith("wide.csv, rows 2–13, column 'flag_ell': 4 work(s) have more than one flag_ell")
    assert "work 'W1' has '0' (rows 2–3) and '1' (row 4); work 'W2' has '0' (rows 5–6) and '1' (row 7)" in text
    assert "; and 1 more work(s)" in text and "'W4'" not in text


def test_a_consistent_file_is_accepted_and_only_disagreeing_works_are_named(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    [res] = ingest(store, sheet(tmp_path / "a.csv"), AUDIT, bank=BANK)
    assert res.action == "ingested" and n_stored(store) == 8
    stored = store.scores(include_flags=True)
    assert stored.groupby("work_id")[COLUMNS].nunique().eq(1).all().all()
    assert stored.set_index("work_id").loc["W1", "student_id"].tolist() == ["STU-0001"] * 4
    # a row without a work id is its own problem, not a work with two schools; W2 (lines 4-5) disagrees
    path = sheet(tmp_path / "b.csv", raters=("T3",), change=(2, "work_id", ""))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[3, "school"] = "Other Middle School"
    frame.to_csv(path, index=False)
    with pytest.raises(SubmissionError) as info:
        ingest(store, path, AUDIT, bank=BANK)
    empty, school = problems(info)
    assert empty.startswith("b.csv, row 2, column 'work_id': empty work_id")
    assert school.startswith("b.csv, rows 4–5, column 'school': 1 work(s) have more than one school")
    assert "work 'W2' has 'Cedar Middle School' (row 4) and 'Other Middle School' (row 5)" in school


def test_a_student_id_with_a_control_character_is_rejected(tmp_path):
    path = sheet(tmp_path / "a.csv", works={"W1": ("D", "S", "STU\x1f1", "0")})
    with pytest.raises(SubmissionError, match="student id .* holds a control character"):
        ingest(Store(tmp_path / "s.sqlite"), path, AUDIT, bank=BANK)


# --- across files -------------------------------------------------------------------------------
@pytest.mark.parametrize("column,value", [("work_district", "Lakes Region Cooperative SD"),
                                          ("school", "Lakes Middle School"), ("student_id", "STU-0444"),
                                          ("flag_iep", "0")])
def test_a_work_stored_with_another_value_is_rejected_and_nothing_stored(tmp_path, column, value):
    store = Store(tmp_path / "s.sqlite")
    ingest(store, sheet(tmp_path / "a.csv"), AUDIT, bank=BANK)
    changed = {"W1": tuple(value if c == column else v for c, v in zip(COLUMNS, WORK["W1"])), "W2": WORK["W2"]}
    late = sheet(tmp_path / "late.csv", raters=("T3", "T4"), works=changed)
    before = store._conn.execute("SELECT * FROM scores").fetchall()
    with pytest.raises(SubmissionError) as info:
        ingest(store, late, AUDIT, bank=BANK)
    [text] = problems(info)
    old = dict(zip(COLUMNS, WORK["W1"]))[column]
    assert text.startswith(f"late.csv, rows 2–3, 6–7, column '{column}': 1 work(s) are already stored with another")
    assert f"work 'W1' is '{value}' here but '{old}' in a.csv (session audit-2026)" in text
    assert "ingest a corrected a.csv with --replace" in text
    assert "nothing stored" in str(info.value)
    assert store._conn.execute("SELECT * FROM scores").fetchall() == before
    assert store.files()["name"].tolist() == ["a.csv"]
    # a dry run sees it too
    with pytest.raises(SubmissionError, match="already stored with another"):
        ingest(store, late, AUDIT, bank=BANK, dry_run=True)


def test_work_ids_are_global_another_session_conflicts_too(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    ingest(store, sheet(tmp_path / "a.csv"), AUDIT, bank=BANK)
    moved = {"W2": ("Seacoast Regional SD",) + WORK["W2"][1:]}
    with pytest.raises(SubmissionError) as info:
        ingest(store, sheet(tmp_path / "b.csv", works=moved), {**AUDIT, "id": "regional-2026"}, bank=BANK)
    [text] = problems(info)
    assert "work 'W2' is 'Seacoast Regional SD' here but 'Cedar Brook SD' in a.csv (session audit-2026)" in text
    assert len(store.sessions()) == 1             # the new session was not created either


def test_a_blank_on_either_side_is_not_recorded(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    ingest(store, sheet(tmp_path / "a.csv", works={"W1": ("Granite Hills SD", "", "", "")}), AUDIT, bank=BANK)
    # the later file records what the first left blank, and leaves blank what it recorded
    filled = {"W1": ("", "Granite Middle School", "STU-0001", "1")}
    [res] = ingest(store, sheet(tmp_path / "b.csv", raters=("T3",), works=filled), AUDIT, bank=BANK)
    assert res.action == "ingested"
    # now both values are stored: a third file must agree with them
    with pytest.raises(SubmissionError, match="'STU-0002' here but 'STU-0001' in b.csv"):
        ingest(store, sheet(tmp_path / "c.csv", raters=("T4",), works={"W1": ("", "", "STU-0002", "")}), AUDIT,
               bank=BANK)
    with pytest.raises(SubmissionError, match="'Cedar Brook SD' here but 'Granite Hills SD' in a.csv"):
        ingest(store, sheet(tmp_path / "d.csv", raters=("T5",), works={"W1": ("Cedar Brook SD", "", "", "")}),
               AUDIT, bank=BANK)
    assert store.check() == []


def test_replacing_a_file_does_not_conflict_with_its_own_old_rows(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    first = sheet(tmp_path / "a.csv")
    ingest(store, first, AUDIT, bank=BANK)
    corrected = {"W1": ("Granite Hills SD", "Granite Middle School", "STU-0101", "0"), "W2": WORK["W2"]}
    sheet(first, works=corrected)
    with pytest.raises(SubmissionError):        # the same rows in another file do conflict
        ingest(store, sheet(tmp_path / "copy.csv", raters=("T3",), works=corrected), AUDIT, bank=BANK)
    [res] = ingest(store, first, AUDIT, bank=BANK, replace=True, dry_run=True)
    assert res.action == "validated"
    [res] = ingest(store, first, AUDIT, bank=BANK, replace=True)
    assert res.action == "replaced" and n_stored(store) == 8
    stored = store.scores(include_flags=True).set_index("work_id")
    assert set(stored.loc["W1", "student_id"]) == {"STU-0101"} and set(stored.loc["W1", "flag_iep"]) == {"0"}
    # the replaced values are the stored ones now
    with pytest.raises(SubmissionError, match="'STU-0001' here but 'STU-0101' in a.csv"):
        ingest(store, sheet(tmp_path / "b.csv", raters=("T3",)), AUDIT, bank=BANK)


def test_check_names_works_stored_with_two_values(tmp_path):
    # a store written before ingest refused this
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        ingest(store, sheet(tmp_path / "a.csv"), AUDIT, bank=BANK)
        assert store.check() == []
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE scores SET student_id = 'STU-0999' WHERE rowid = (SELECT min(rowid) FROM scores)")
    conn.close()
    with Store(path) as store:
        [message] = store.check()
    assert message.startswith("1 work(s) are stored with more than one work_district, school or student_id")
    assert "work 'W1': 2 student ids" in message and "--replace" in message


# --- the bundled examples -----------------------------------------------------------------------
def test_the_examples_ingest_into_one_store_with_one_value_per_work(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    for name in ("calibration", "regional_scoring", "audit"):
        folder = EXAMPLES / name
        results = ingest(store, sorted(folder.glob("*.csv")), folder / "session.yaml", bank=BANK)
        assert {r.action for r in results} == {"ingested"}
    assert store.check() == []
    audit = store.scores(session="peer-audit-2026-12", include_flags=True)
    per_work = audit.groupby("work_id")[[*WORK_COLUMNS, "flag_iep", "flag_ell"]].nunique()
    assert len(per_work) == 126 and (per_work == 1).all().all()
    assert (audit["student_id"] != "").all()
    works = audit.drop_duplicates("work_id")
    assert works["work_district"].value_counts().to_dict() == {
        **{d: 20 for d in ("Seacoast Regional SD", "Granite Hills SD", "Pemigewasset Valley SD",
                           "Lakes Region Cooperative SD", "North Country Cooperative SD", "Cedar Brook SD")},
        "Monadnock Regional SD": 6}
    auditors = audit[audit["read_type"] == "audit"]
    assert (auditors["rater_district"] != "").all()
    assert not (auditors["rater_district"] == auditors["work_district"]).any()     # never their own district
    regional = set(store.scores(session="regional-scoring-2026-11")["work_id"])
    assert regional and not regional & set(works["work_id"])          # other students, other work ids
    # the planted district effects of examples/README.md (mean local - audit score)
    wide = audit.pivot_table(index=["work_id", "dimension", "work_district"], columns="read_type",
                             values="score").reset_index()
    effect = (wide["first"] - wide["audit"]).groupby(wide["work_district"]).mean()
    assert effect["Granite Hills SD"] > 0.4 and effect["North Country Cooperative SD"] < -0.25
    others = effect.drop(["Granite Hills SD", "North Country Cooperative SD", "Monadnock Regional SD"])
    assert others.abs().max() < 0.1
    # the same audit file under another name would give its works to other students: refused
    copy = tmp_path / "copy.csv"
    df = pd.read_csv(EXAMPLES / "audit" / "scores.csv", dtype=str, keep_default_na=False)
    df.assign(student_id="STU-X", rater_id=df["rater_id"] + "-b").to_csv(copy, index=False)
    with pytest.raises(SubmissionError, match="126 work\\(s\\) are already stored with another student_id"):
        ingest(store, copy, "peer-audit-2026-12", bank=BANK)


def test_export_writes_student_ids_only_with_the_flags(tmp_path):
    store_path = str(tmp_path / "s.sqlite")
    with Store(store_path) as store:
        ingest(store, sheet(tmp_path / "a.csv"), AUDIT, bank=BANK)
    runner = CliRunner()
    for extra, expected in (([], False), (["--include-flags"], True)):
        out = tmp_path / f"out{len(extra)}.csv"
        result = runner.invoke(cli, ["export", "--session", "audit-2026", "--store", store_path, "--out", str(out),
                                     *extra])
        assert result.exit_code == 0, result.output
        exported = pd.read_csv(out, dtype=str, keep_default_na=False)
        assert ("student_id" in exported) is expected and ("flag_iep" in exported) is expected
        if expected:
            assert exported.groupby("work_id")["student_id"].first().to_dict() == {"W1": "STU-0001", "W2": "STU-0002"}
