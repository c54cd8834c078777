"""`irr export --format parquet`: a dataset partitioned by session that Dask reads back row for row."""

import pandas as pd
import pytest
from click.testing import CliRunner

from irr.cli.main import cli
from irr.io import ingest
from irr.model import load_bank
from irr.store import Store

dd = pytest.importorskip("dask.dataframe")
pytest.importorskip("pyarrow")


def test_parquet_export_reads_back_with_dask(tmp_path):
    sheet = tmp_path / "a.csv"
    sheet.write_text(
        "rater_id,work_id,task_id,dimension,score\n"
        "R1,W1,ela-g8-argument,claim,3\nR2,W1,ela-g8-argument,claim,2\n"
        "R1,W2,ela-g8-argument,claim,4\n",
        encoding="utf-8",
    )
    store_path = tmp_path / "s.sqlite"
    with Store(store_path) as store:
        ingest(store, [sheet], {"id": "s1", "kind": "audit", "date": "2026-10-14"}, bank=load_bank())
        expected = store.scores(session="s1")
    out = tmp_path / "scores.parquet"
    result = CliRunner().invoke(
        cli, ["export", "--session", "s1", "--store", str(store_path), "--format", "parquet", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "session_id=s1").is_dir()
    back = dd.read_parquet(out).compute()
    back["session_id"] = back["session_id"].astype(str)
    columns = list(expected.columns)
    got = back[columns].sort_values(["work_id", "rater_id"]).reset_index(drop=True)
    want = expected.sort_values(["work_id", "rater_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    # exporting the session again replaces its partition: the rows are not doubled
    again = CliRunner().invoke(
        cli, ["export", "--session", "s1", "--store", str(store_path), "--format", "parquet", "--out", str(out)]
    )
    assert again.exit_code == 0, again.output
    assert len(dd.read_parquet(out).compute()) == len(expected)
