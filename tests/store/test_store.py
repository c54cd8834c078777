"""Ingesting score sheets into the store: validation, idempotence, atomicity, concurrency."""
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import irr
from irr.cli.main import cli
from irr.errors import ConflictError, NotFoundError, SubmissionError
from irr.io import ingest
from irr.io.export import neutralise_formulas
from irr.model import load_bank
from irr.store import Store

BANK = load_bank()
SESSION = {"id": "cal-2026-10", "kind": "calibration", "date": "2026-10-14", "region": "Seacoast"}
HEADER = "rater_id,work_id,task_id,dimension,score,rater_district,flag_iep\n"


def write(path: Path, text: str, encoding="utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def sheet(rows: int = 6) -> str:
    lines = [f"T{r:02d},ELA8-A{w:02d},ela-g8-argument,{dim},{(r + w) % 4 + 1},North,{w % 2}"   # a flag describes the work
             for r in range(1, rows + 1) for w in (1, 2) for dim in ("claim", "evidence")]
    return HEADER + "\n".join(lines) + "\n"


def store_rows(store: Store) -> int:
    return int(store.sessions()["scores"].sum()) if len(store.sessions()) else 0


def test_long_and_wide_round_trip(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    [res] = ingest(store, [write(tmp_path / "long.csv", sheet())], SESSION, bank=BANK)
    assert (res.action, res.n_scores, res.n_rows) == ("ingested", 24, 24)
    wide = write(tmp_path / "wide.csv", "rater_id,work_id,task_id,claim,evidence,reasoning,conventions\n"
                 "T99,ELA8-A03,ela-g8-argument,2,2,,1\n")
    [res] = ingest(store, [wide], SESSION, bank=BANK)
    assert (res.n_scores, res.n_rows, res.action) == (3, 1, "ingested")  # the empty cell is not a score
    scores = store.scores(session="cal-2026-10", rater="T99")
    assert sorted(scores["dimension"]) == ["claim", "conventions", "evidence"]
    assert set(scores["read_type"]) == {"calibration"}  # default for a calibration session
    assert scores["dimension_name"].iloc[0] in {"Claim and focus", "Language and conventions", "Use of evidence"}
    assert "flag_iep" not in store.scores().columns
    assert "flag_iep" in store.scores(include_flags=True).columns
    ratings = store.ratings("ela-g8-argument", "claim")
    assert list(ratings.categories) == [1, 2, 3, 4] and ratings.n_raters == 7


def test_idempotent_and_replace(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    path = write(tmp_path / "room1.csv", sheet())
    ingest(store, [path], SESSION, bank=BANK)
    [again] = ingest(store, [path], SESSION, bank=BANK)
    assert again.action == "unchanged" and "nothing to do" in str(again)
    write(path, sheet(rows=3))
    with pytest.raises(ConflictError, match="--replace"):
        ingest(store, [path], SESSION, bank=BANK)
    assert store_rows(store) == 24
    [swapped] = ingest(store, [path], SESSION, bank=BANK, replace=True)
    assert swapped.action == "replaced" and store_rows(store) == 12
    assert list(store.log()["action"]) == ["ingested", "replaced"]
    assert store.check() == []


def test_every_problem_reported_and_nothing_stored(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    bad = write(tmp_path / "bad.csv", HEADER
                + "T1,ELA8-A01,ela-g8-argument,claim,3,N,0\n"
                + "T1,ELA8-A01,ela-g8-argument,claim,4,N,0\n"      # same read, different score
                + "T2,ELA8-A01,ela-g9-argument,claim,3,N,0\n"      # unknown task
                + "T3,ELA8-A01,ela-g8-argument,voice,3,N,0\n"      # dimension not in rubric
                + "T4,ELA8-A01,ela-g8-argument,claim,5,N,0\n"      # off scale
                + "T5,,ela-g8-argument,claim,2.5,N,0\n")           # empty id, not whole
    with pytest.raises(SubmissionError) as info:
        ingest(store, [bad], SESSION, bank=BANK)
    text = str(info.value)
    for expected in ("row 2, column 'score': rater 'T1' scored work 'ELA8-A01' / claim",
                     "row 4, column 'task_id': task 'ela-g9-argument' is not in the bank",
                     "row 5, column 'dimension'", "row 6, column 'score': score 5 is not on the scale",
                     "row 7, column 'work_id': empty work_id", "row 7, column 'score': score '2.5'"):
        assert expected in text
    assert store.sessions().empty


def test_column_map_is_remembered(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    text = sheet().replace("rater_id,work_id", "Teacher,Paper ID", 1)
    path = write(tmp_path / "mapped.csv", text)
    with pytest.raises(SubmissionError, match="required column"):
        ingest(store, [path], SESSION, bank=BANK)
    ingest(store, [path], SESSION, bank=BANK, column_map={"rater_id": "Teacher", "work_id": "Paper ID"})
    second = write(tmp_path / "mapped2.csv", text.replace(",T0", ",T5").replace("\nT0", "\nT5"))  # other raters
    [res] = ingest(store, [second], "cal-2026-10", bank=BANK)   # session by id: its map is reused
    assert res.action == "ingested"


def test_encodings_bom_and_excel(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    text = sheet().replace("North", "Cöte")
    ingest(store, [write(tmp_path / "bom.csv", "\ufeff" + text)], SESSION, bank=BANK)
    latin = write(tmp_path / "latin.csv", text.replace("T0", "L0"), encoding="latin-1")
    with pytest.raises(SubmissionError, match="--encoding"):
        ingest(store, [latin], SESSION, bank=BANK)
    ingest(store, [latin], SESSION, bank=BANK, encoding="latin-1")
    df = pd.read_csv(tmp_path / "bom.csv")
    df["rater_id"] = df["rater_id"].str.replace("T", "X")
    df.to_excel(tmp_path / "sheet.xlsx", index=False)
    [res] = ingest(store, [tmp_path / "sheet.xlsx"], SESSION, bank=BANK)
    assert res.n_scores == 24
    assert "Cöte" in set(store.scores()["rater_district"])


def test_formula_cells_are_data_and_neutralised_on_export(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    evil = "=cmd|' /C calc'!A0"
    path = write(tmp_path / "evil.csv", HEADER + f'"{evil}",ELA8-A01,ela-g8-argument,claim,3,"@SUM(1)",0\n')
    ingest(store, [path], SESSION, bank=BANK)
    assert store.scores()["rater_id"].tolist() == [evil]
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(cli, ["export", "--session", "cal-2026-10", "--store", str(tmp_path / "s.sqlite"),
                                      "--out", str(out)])
    assert result.exit_code == 0
    exported = pd.read_csv(out, dtype=str)
    assert exported["rater_id"][0] == "'" + evil and exported["rater_district"][0] == "'@SUM(1)"
    assert neutralise_formulas(pd.DataFrame({"s": [-1, 2]}))["s"].tolist() == [-1, 2]


MALFORMED = st.lists(st.one_of(
    st.just(""), st.just("T1,ELA8-A01,ela-g8-argument,claim"),            # truncated
    st.just("T1,ELA8-A01,ela-g8-argument,claim,three,N,0"),                # wrong type
    st.just("T1,ELA8-A01,ela-g8-argument,claim,99999999999999999999,N,0"),  # huge
    st.just('T1,"=HYPERLINK(""x"")",ela-g8-argument,claim,2,N,0'),         # formula-looking
    st.just("T1,ELA8-A02,ela-g8-argument,evidence,2,N,0"),
    st.text(alphabet=',"\n\r\ufeffabc=1', max_size=12),
), min_size=0, max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=MALFORMED, header=st.sampled_from([HEADER, "\ufeff" + HEADER, "rater_id,rater_id,score\n", ""]))
def test_fuzzed_files_never_crash_or_half_write(tmp_path, body, header):
    path = tmp_path / "fuzz.csv"
    path.write_text(header + "\n".join(body), encoding="utf-8")
    store = Store(tmp_path / "fuzz.sqlite")
    before = store_rows(store)
    try:
        [res] = ingest(store, [path], SESSION, bank=BANK, replace=True)
    except SubmissionError as exc:
        assert exc.problems and all(p.file == "fuzz.csv" for p in exc.problems)
        assert store_rows(store) == before
    else:
        assert res.action in ("ingested", "replaced", "unchanged")
    assert store.check() == []
    store.close()


def test_cli_ingest_reports_without_traceback(tmp_path):
    runner = CliRunner()
    good = write(tmp_path / "good.csv", sheet())
    bad = write(tmp_path / "bad.csv", HEADER + "T1,ELA8-A01,ela-g8-argument,claim,9,N,0\n")
    store = str(tmp_path / "s.sqlite")
    result = runner.invoke(cli, ["ingest", str(good), str(bad), "--session", "s1", "--kind", "audit",
                                 "--date", "2026-11-01", "--store", store])
    assert result.exit_code == 1
    assert "good.csv: ingested 24 scores" in result.output
    assert "bad.csv, row 2, column 'score': score 9" in result.output and "Traceback" not in result.output
    assert "s1" in runner.invoke(cli, ["sessions", "--store", store]).output
    other_raters = write(tmp_path / "dry.csv", sheet(2).replace("\nT", "\nD"))   # the session holds T01-T06
    dry = runner.invoke(cli, ["ingest", str(other_raters), "--session", "s1", "--store", store, "--dry-run"])
    assert "dry run, nothing stored" in dry.output
    assert "OK: 1 sessions, 24 scores" in runner.invoke(cli, ["store", "check", "--store", store]).output
    missing = runner.invoke(cli, ["ingest", str(good), "--session", "nope", "--store", store])
    assert missing.exit_code == 1 and "session 'nope' is not in the store" in missing.output


def _ingest_script(store: Path, csv: Path, session: str) -> str:
    return textwrap.dedent(f"""
        import irr
        from irr.io import ingest
        store = irr.Store({str(store)!r}, timeout=60)
        ingest(store, [{str(csv)!r}], {{"id": {session!r}, "kind": "regional_scoring", "date": "2026-11-02"}})
    """)


def _big_sheet(path: Path, n_raters: int, prefix: str) -> Path:
    rng = np.random.default_rng(0)
    works = np.repeat(np.arange(20_000), 2)
    df = pd.DataFrame({"rater_id": [f"{prefix}{i % n_raters}" for i in range(works.size)],
                       "work_id": [f"W{w}" for w in works], "task_id": "ela-g8-argument",
                       "dimension": "claim", "score": rng.integers(1, 5, works.size)})
    df.to_csv(path, index=False)
    return path


def test_killed_process_leaves_store_consistent(tmp_path):
    store_path = tmp_path / "s.sqlite"
    Store(store_path).close()
    csv = _big_sheet(tmp_path / "big.csv", 40, "K")
    proc = subprocess.Popen([sys.executable, "-c", _ingest_script(store_path, csv, "killed")])
    time.sleep(1.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = Store(store_path)
    assert store.check() == []
    n = store_rows(store)
    assert n in (0, 40_000)  # all or nothing


def test_two_processes_ingest_at_once(tmp_path):
    store_path = tmp_path / "s.sqlite"
    Store(store_path).close()
    a = _big_sheet(tmp_path / "a.csv", 30, "A")
    b = _big_sheet(tmp_path / "b.csv", 30, "B")
    procs = [subprocess.Popen([sys.executable, "-c", _ingest_script(store_path, f, s)],
                              stderr=subprocess.PIPE, text=True) for f, s in ((a, "sa"), (b, "sb"))]
    outcomes = [(p.wait(), p.stderr.read()) for p in procs]
    store = Store(store_path)
    landed = store.sessions().set_index("session_id")["scores"].to_dict()
    for (code, err), session in zip(outcomes, ("sa", "sb")):
        if code == 0:
            assert landed[session] == 40_000
        else:
            assert "busy" in err and session not in landed
    assert store.check() == []


def test_store_errors_are_clear(tmp_path):
    with pytest.raises(irr.errors.StoreError, match="is a folder"):
        Store(tmp_path)
    junk = write(tmp_path / "junk.sqlite", "not a database at all" * 100)
    with pytest.raises(irr.errors.StoreError, match="not an irr store"):
        Store(junk)
    store = Store(tmp_path / "s.sqlite")
    with pytest.raises(NotFoundError):
        ingest(store, [write(tmp_path / "x.csv", sheet())], "unknown-session", bank=BANK)
    with pytest.raises(irr.errors.StoreError, match="unknown filter"):
        store.scores(colour="red")


def test_ingest_reports_progress_in_batches(tmp_path):
    calls = []
    store = Store(tmp_path / "s.sqlite")
    ingest(store, [write(tmp_path / "long.csv", sheet(rows=8))], SESSION, bank=BANK,
                 progress=lambda done, total: calls.append((done, total)))
    assert calls == [(32, 32)]                     # one batch of 100,000 holds the whole small file


def test_cli_progress_bar_only_for_large_files_on_a_terminal():
    from irr.cli.store import _ProgressBar

    quiet = _ProgressBar("small.csv", enabled=True)
    quiet(50_000, 50_000)                          # under 200,000 scores: no bar
    assert quiet.bar is None
    off = _ProgressBar("big.csv", enabled=False)   # stderr is not a terminal
    off(100_000, 1_000_000)
    assert off.bar is None
    shown = _ProgressBar("big.csv", enabled=True)
    for done in (100_000, 200_000, 250_000):
        shown(done, 250_000)
    assert shown.bar is not None and shown.shown == 250_000 and shown.bar.pos == 250_000
    shown.close()


def test_excel_rows_are_named_by_their_sheet_row_and_blank_rows_skipped(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet_ = book.active
    sheet_.append(["rater_id", "work_id", "task_id", "dimension", "score"])
    sheet_.append(["T1", "W1", "ela-g8-argument", "claim", 3])
    sheet_.append([None] * 5)                                    # row 3: blank, not a score
    sheet_.append(["T2", "W1", "ela-g8-argument", "claim", 9])   # row 4: off the 1-4 scale
    path = tmp_path / "room.xlsx"
    book.save(path)
    store = Store(tmp_path / "s.sqlite")
    with pytest.raises(SubmissionError) as info:
        ingest(store, [path], SESSION, bank=BANK)
    assert [(p.row, p.column) for p in info.value.problems] == [(4, "score")]
    sheet_["E4"] = 2
    book.save(path)
    [res] = ingest(store, [path], SESSION, bank=BANK)
    assert (res.n_scores, res.n_rows) == (2, 2)
    assert store.scores()["rater_id"].tolist() == ["T1", "T2"]
