"""Schemas 2 to 4 of the store: dictionary-coded score rows, condition codes, student ids, the score_rows view,
migrations."""
import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

import irr.store.store as store_module
from irr.errors import StoreError
from irr.io import ingest
from irr.model import load_bank
from irr.store import Store

BANK = load_bank()
SESSION = {"id": "audit-2026", "kind": "audit", "date": "2026-11-02", "region": "North Country"}
HEADER = "rater_id,work_id,task_id,dimension,score,rater_district,rater_role,work_district,school,timestamp,flag_ell\n"


def _sheet(tmp_path: Path, name: str, raters: range, district: str) -> Path:
    lines = [f"A{r},W{w},ela-g8-argument,{dim},{(r * w) % 4 + 1},{district},auditor,D{w % 3},S{w % 2},"
             f"2026-11-02T0{r % 9}:1{w % 6}:00,{w % 2}"   # flags describe the work: one per work
             for r in raters for w in range(1, 6) for dim in ("claim", "evidence", "reasoning")]
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def filled(tmp_path) -> Store:
    store = Store(tmp_path / "s.sqlite")
    ingest(store, [_sheet(tmp_path, "north.csv", range(1, 5), "North"),
                  _sheet(tmp_path, "south.csv", range(5, 8), "South")], SESSION, bank=BANK)
    ingest(store, [_sheet(tmp_path, "cal.csv", range(8, 10), "West")],
                 {"id": "cal-2026", "kind": "calibration", "date": "2026-10-01"}, bank=BANK)
    return store


def test_scores_match_the_joined_view(filled):
    # the view joins the dictionary tables in SQL: an independent path to the same rows
    view = pd.read_sql_query("SELECT * FROM score_rows ORDER BY row", filled._conn)
    df = filled.scores(include_flags=True)
    assert len(df) == len(view) == 3 * 5 * 9
    for column in ("session_id", "rater_id", "work_id", "task_id", "rubric_id", "rubric_version", "dimension",
                   "score", "condition_code", "read_type", "rater_district", "rater_role", "work_district", "school",
                   "timestamp", "file"):
        assert df[column].tolist() == view[column].tolist(), column
    assert df["flag_ell"].tolist() == [json.loads(f)["flag_ell"] for f in view["flags"]]
    assert set(df["session_kind"]) == {"audit", "calibration"}
    assert set(df.loc[df.session_id == "cal-2026", "session_date"]) == {"2026-10-01"}
    assert set(df["dimension_name"]) == {"Claim and focus", "Use of evidence", "Reasoning and organization"}


def test_filters_select_through_the_dictionary(filled):
    assert set(filled.scores(rater_district="South")["rater_id"]) == {"A5", "A6", "A7"}
    assert set(filled.scores(kind="calibration")["rater_id"]) == {"A8", "A9"}
    assert len(filled.scores(district=["D0", "D1"], dimension="claim")) == 9 * 3   # works 1, 3 and 4
    assert filled.scores(task="no-such-task").empty
    assert list(filled.scores(task="no-such-task").columns) == list(filled.scores().columns)


def test_reading_in_rowid_windows_changes_nothing(filled, monkeypatch):
    whole = filled.scores(include_flags=True)
    monkeypatch.setattr(store_module, "_ROWID_WINDOW", 7)
    pd.testing.assert_frame_equal(filled.scores(include_flags=True), whole)
    south = whole[whole.rater_district == "South"].drop(columns=["student_id", "flag_ell"])
    pd.testing.assert_frame_equal(filled.scores(rater_district="South").reset_index(drop=True),
                                  south.reset_index(drop=True))


def test_replace_keeps_row_order_and_counts(filled, tmp_path):
    ingest(filled, [_sheet(tmp_path, "north.csv", range(1, 3), "North")], SESSION, bank=BANK, replace=True)
    df = filled.scores(session="audit-2026")
    assert len(df) == 3 * 5 * 5 and filled.check() == []
    assert df["file"].tolist() == sorted(df["file"], key=["south.csv", "north.csv"].index)


def test_schema_1_store_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in filter(str.strip, store_module._MIGRATIONS[1].split(";")):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO sessions VALUES ('old', 'local', '2025-05-01', NULL, NULL, NULL, '{}', '2025-05-01')")
    conn.execute("INSERT INTO files VALUES (1, 'old', 'old.csv', 'abc', 'long', 2, 3, '2025-05-01')")
    conn.execute("INSERT INTO raters VALUES (1, 'T1'), (2, 'T2')")
    conn.execute("INSERT INTO works VALUES (1, 'W1')")
    conn.executemany("INSERT INTO scores VALUES (1, 'old', ?, 1, 'ela-g8-argument', 'ela-argument', 1, ?, ?, "
                     "'first', ?, NULL, '', NULL, ?, NULL, ?)",
                     [(1, "claim", 3, "North", "2025-05-01T10:00:00+0000", 2),
                      (2, "claim", 2, None, None, 3),
                      (2, "evidence", 4, "South", "", 4)])
    conn.close()

    store = Store(path)
    assert store._conn.execute("PRAGMA user_version").fetchone()[0] == store_module.SCHEMA_VERSION == 5
    assert store.check() == []
    df = store.scores()
    assert df["rater_id"].tolist() == ["T1", "T2", "T2"]
    assert df["score"].tolist() == [3, 2, 4]
    assert df["rater_district"].tolist() == ["North", "", "South"]      # NULLs of schema 1 become ''
    assert df["timestamp"].tolist() == ["2025-05-01T10:00:00+0000", "", ""]
    assert df["file"].tolist() == ["old.csv"] * 3
    assert store.sessions().set_index("session_id").loc["old", "scores"] == 3
    # the migrated store takes new files
    sheet = tmp_path / "new.csv"
    sheet.write_text("rater_id,work_id,task_id,dimension,score\nT3,W1,ela-g8-argument,claim,1\n", encoding="utf-8")
    ingest(store, [sheet], "old", bank=BANK)
    assert store.scores(session="old")["rater_id"].tolist() == ["T1", "T2", "T2", "T3"]


def test_check_finds_term_ids_that_lead_nowhere(filled):
    assert filled.check() == []
    filled._conn.execute("UPDATE scores SET dimension = 9999 WHERE rowid IN (SELECT rowid FROM scores LIMIT 2)")
    assert filled.check() == ["2 score row(s) have a dimension id missing from the terms table"]


@pytest.mark.filterwarnings("ignore:pandas only supports SQLAlchemy")   # the proxy connection below
def test_scores_read_one_snapshot_while_another_process_replaces_a_file(filled, monkeypatch):
    # a writer deletes rows between two windows of the read: the read must not notice
    monkeypatch.setattr(store_module, "_ROWID_WINDOW", 7)
    expected = filled.scores()
    writer = sqlite3.connect(filled.path, isolation_level=None, timeout=5)
    real = filled._conn

    class WriteAfterFirstWindow:
        windows = 0

        def __getattr__(self, name):
            return getattr(real, name)

        def execute(self, sql, *args):
            out = real.execute(sql, *args)
            if "group_concat" in sql:
                WriteAfterFirstWindow.windows += 1
                if WriteAfterFirstWindow.windows == 1:
                    writer.execute("DELETE FROM scores WHERE file_id = (SELECT id FROM files WHERE name = 'south.csv')")
            return out

    monkeypatch.setattr(filled, "_conn", WriteAfterFirstWindow())
    pd.testing.assert_frame_equal(filled.scores(), expected)
    assert WriteAfterFirstWindow.windows > 1
    monkeypatch.setattr(filled, "_conn", real)
    assert "south.csv" not in set(filled.scores()["file"])      # the delete did land afterwards
    writer.close()


def _schema_2_store(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    for version in (1, 2):
        for statement in filter(str.strip, store_module._MIGRATIONS[version].split(";")):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO sessions VALUES ('old', 'local', '2025-05-01', NULL, NULL, NULL, '{}', '2025-05-01')")
    conn.execute("INSERT INTO files VALUES (1, 'old', 'old.csv', 'abc', 'long', 2, 2, '2025-05-01')")
    conn.execute("INSERT INTO raters VALUES (1, 'T1'), (2, 'T2')")
    conn.execute("INSERT INTO works VALUES (1, 'W1')")
    conn.executemany("INSERT INTO terms VALUES (?, ?)", [(1, "old"), (2, "ela-g8-argument"), (3, "ela-argument"),
                                                         (4, "claim"), (5, "first"), (6, "North"), (7, "")])
    conn.executemany("INSERT INTO scores VALUES (1, 1, ?, 1, 2, 3, 1, 4, ?, 5, ?, 7, 7, 7, '', NULL, ?)",
                     [(1, 3, 6, 2), (2, 2, 7, 3)])
    conn.close()


def test_schema_2_store_is_migrated_to_condition_codes(tmp_path):
    path = tmp_path / "v2.sqlite"
    _schema_2_store(path)
    store = Store(path)
    assert store._conn.execute("PRAGMA user_version").fetchone()[0] == 5
    assert store.check() == []
    df = store.scores()
    assert df["score"].tolist() == [3, 2] and str(df["score"].dtype) == "Int64"
    assert df["condition_code"].tolist() == ["", ""]
    assert df["rater_district"].tolist() == ["North", ""]
    view = pd.read_sql_query("SELECT rater_id, score, condition_code FROM score_rows ORDER BY row", store._conn)
    assert view.values.tolist() == [["T1", 3, ""], ["T2", 2, ""]]
    sheet = tmp_path / "new.csv"     # the migrated store takes condition codes
    sheet.write_text("rater_id,work_id,task_id,dimension,score\nT3,W1,ela-g8-argument,claim,Illegible\n",
                     encoding="utf-8")
    ingest(store, [sheet], "old", bank=BANK)
    assert store.scores()["condition_code"].tolist() == ["", "", "illegible"]
    assert store.check() == []


def test_a_failed_migration_leaves_the_schema_2_store_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "v2.sqlite"
    _schema_2_store(path)
    before = sqlite3.connect(path).execute("SELECT * FROM scores").fetchall()
    # fail after the table rebuild has started (scores_v3 filled, scores dropped)
    broken = store_module._MIGRATIONS[3].replace("ALTER TABLE scores_v3 RENAME TO scores;",
                                                  "ALTER TABLE scores_v3 RENAME TO scores; SELECT no_such_function();")
    monkeypatch.setitem(store_module._MIGRATIONS, 3, broken)
    with pytest.raises(StoreError, match="from schema 2 to 3 failed .* the store is unchanged"):
        Store(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert conn.execute("SELECT * FROM scores").fetchall() == before
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name IN ('scores_v3', 'score_rows')").fetchone() \
        == (1,)          # the view is back, no half-built table
    conn.close()
    monkeypatch.undo()
    assert Store(path).scores()["score"].tolist() == [3, 2]


def _schema_3_store(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    for version in (1, 2, 3):
        for statement in filter(str.strip, store_module._MIGRATIONS[version].split(";")):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 3")
    conn.execute("INSERT INTO sessions VALUES ('old', 'audit', '2025-05-01', NULL, NULL, NULL, '{}', '2025-05-01')")
    conn.execute("INSERT INTO files VALUES (1, 'old', 'old.csv', 'abc', 'long', 2, 2, '2025-05-01')")
    conn.execute("INSERT INTO raters VALUES (1, 'T1'), (2, 'T2')")
    conn.execute("INSERT INTO works VALUES (1, 'W1')")
    assert conn.execute("SELECT id, value FROM terms").fetchall() == [(1, "")]      # from migration 3
    conn.executemany("INSERT INTO terms VALUES (?, ?)",
                     [(2, "old"), (3, "ela-g8-argument"), (4, "ela-argument"), (5, "claim"), (6, "first"),
                      (7, "North"), (8, "Granite Hills SD")])
    conn.executemany("INSERT INTO scores VALUES (1, 2, ?, 1, 3, 4, 1, 5, ?, 1, 6, 7, 1, 8, 1, '', ?, ?)",
                     [(1, 3, '{"flag_iep":"1"}', 2), (2, 2, '{"flag_iep":"1"}', 3)])
    conn.close()


def test_schema_3_store_is_migrated_to_student_ids(tmp_path):
    path = tmp_path / "v3.sqlite"
    _schema_3_store(path)
    before = sqlite3.connect(path).execute("SELECT * FROM scores ORDER BY rowid").fetchall()
    store = Store(path)
    assert store._conn.execute("PRAGMA user_version").fetchone()[0] == 5
    assert store.check() == []
    # the old rows are kept as they were, with a blank student id
    assert store._conn.execute("SELECT * FROM scores ORDER BY rowid").fetchall() == [r + ("",) for r in before]
    df = store.scores(include_flags=True)
    assert df["score"].tolist() == [3, 2] and df["student_id"].tolist() == ["", ""]
    assert df["work_district"].tolist() == ["Granite Hills SD"] * 2 and df["flag_iep"].tolist() == ["1", "1"]
    assert "student_id" not in store.scores().columns       # personal data: only with the flags
    view = pd.read_sql_query("SELECT rater_id, work_id, student_id FROM score_rows ORDER BY row", store._conn)
    assert view.values.tolist() == [["T1", "W1", ""], ["T2", "W1", ""]]
    # the migrated store takes student ids; a blank stored id is "not recorded", so W1 may get one now
    sheet = tmp_path / "new.csv"
    sheet.write_text("rater_id,work_id,task_id,dimension,score,work_district,student_id,flag_iep\n"
                     "T3,W1,ela-g8-argument,claim,2,Granite Hills SD,STU-0001,1\n", encoding="utf-8")
    ingest(store, [sheet], "old", bank=BANK)
    assert store.scores(include_flags=True)["student_id"].tolist() == ["", "", "STU-0001"]
    view = pd.read_sql_query("SELECT student_id FROM score_rows ORDER BY row", store._conn)
    assert view["student_id"].tolist() == ["", "", "STU-0001"]
    assert store.check() == []
    store.close()
    assert Store(path).scores(include_flags=True)["student_id"].tolist() == ["", "", "STU-0001"]  # no 2nd migration
