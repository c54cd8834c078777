"""`irr audit sample` end to end: a small local session ingested into a temporary store."""

import hashlib

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from irr.cli.main import cli

DIMS = ("claim", "evidence", "reasoning", "conventions")
DISTRICTS = ("Cedar Brook SD", "Granite Hills SD", "Seacoast Regional SD")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("audit-cli")
    rng = np.random.default_rng(0)
    rows = []
    for d, district in enumerate(DISTRICTS):
        for i in range(24 + 6 * d):
            level = int(rng.integers(1, 5))
            for dim in DIMS:
                rows.append(
                    {
                        "rater_id": f"T{d}{i % 3}",
                        "work_id": f"W{d}{i:03d}",
                        "task_id": "ela-g8-argument",
                        "dimension": dim,
                        "score": min(4, max(1, level + int(rng.integers(-1, 2)))),
                        "read_type": "first",
                        "work_district": district,
                    }
                )
    # a second read of some works is not a local score
    rows += [{**row, "rater_id": "X", "read_type": "second"} for row in rows[:8]]
    sheet = folder / "local.csv"
    pd.DataFrame(rows).to_csv(sheet, index=False)
    path = str(folder / "s.sqlite")
    result = CliRunner().invoke(
        cli,
        ["ingest", str(sheet), "--session", "local-2026", "--kind", "local", "--date", "2026-11-20", "--store", path],
    )
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def auditors(tmp_path):
    path = tmp_path / "auditors.csv"
    pd.DataFrame(
        {"rater_id": [f"A{i}" for i in range(6)], "rater_district": [DISTRICTS[i // 2] for i in range(6)]}
    ).to_csv(path, index=False)
    return path


def run(store, auditors, out, *extra):
    return CliRunner().invoke(
        cli,
        [
            "audit",
            "sample",
            "--local",
            "local-2026",
            "--auditors",
            str(auditors),
            "--out",
            str(out),
            "--store",
            store,
            *extra,
        ],
    )


def test_sample_writes_the_assignments_and_a_summary(store, auditors, tmp_path):
    out = tmp_path / "sample.csv"
    result = run(store, auditors, out, "--per-district", "8", "--near-cut", "1", "--linking", "2", "--seed", "5")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns) == ["work_id", "task_id", "work_district", "auditor_id", "reason"]
    stratum = table[table["reason"] != "linking"]
    assert stratum.groupby("work_district").size().tolist() == [8, 8, 8]
    assert (table["reason"] == "linking").sum() == 2 * 6
    own = stratum.merge(pd.read_csv(auditors), left_on="auditor_id", right_on="rater_id")
    assert (own["rater_district"] != own["work_district"]).all()
    # only first reads are local scores: the rater X's second reads are not counted as works
    assert "Cedar Brook SD" in result.output and "24" in result.output and "36" in result.output
    assert "24 works sampled from 90; 6 auditors, 4-4 works each plus 2 linking works for all" in result.output
    assert f"wrote {len(table)} assignments to {out}" in result.output


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_same_seed_gives_the_same_file_and_another_seed_another(store, auditors, tmp_path, suffix):
    digests = []
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        out = tmp_path / f"{name}{suffix}"
        result = run(store, auditors, out, "--rate", "0.25", "--linking", "1", "--seed", seed)
        assert result.exit_code == 0, result.output
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
    assert digests[0] == digests[1] != digests[2]


@pytest.mark.parametrize(
    "args,text",
    [
        (["--seed", "1"], "give the sample size"),
        (["--per-district", "2", "--seed", "1", "--read-type", "audit"], "no scores with read type 'audit'"),
        (["--per-district", "0", "--seed", "1"], "Invalid value for '--per-district'"),
    ],
)
def test_bad_options_are_clean_errors(store, auditors, tmp_path, args, text):
    result = run(store, auditors, tmp_path / "x.csv", *args)
    assert result.exit_code != 0 and text in result.output and "Traceback" not in result.output


def test_bad_files_and_sessions_are_clean_errors(store, auditors, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("rater_id,rater_district\nA1,Cedar Brook SD\nA1,Granite Hills SD\n")
    result = run(store, bad, tmp_path / "x.csv", "--per-district", "2", "--seed", "1")
    assert result.exit_code == 1 and "Error:" in result.output and "Traceback" not in result.output
    assert "bad.csv, row 3, field 'rater_id'" in result.output and "list each auditor once" in result.output
    only_one = tmp_path / "one.csv"
    only_one.write_text("rater_id,rater_district\nA1,Cedar Brook SD\n")
    result = run(store, only_one, tmp_path / "x.csv", "--per-district", "2", "--seed", "1")
    assert result.exit_code == 1 and "district 'Cedar Brook SD'" in result.output and "add auditors" in result.output
    result = run(store, auditors, tmp_path / "x.txt", "--per-district", "2", "--seed", "1")
    assert result.exit_code == 2 and "neither .csv nor .xlsx" in result.output
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "sample",
            "--local",
            "nope",
            "--auditors",
            str(auditors),
            "--out",
            str(tmp_path / "x.csv"),
            "--store",
            store,
            "--per-district",
            "2",
            "--seed",
            "1",
        ],
    )
    assert result.exit_code == 1 and "no session 'nope'" in result.output and not (tmp_path / "x.csv").exists()
