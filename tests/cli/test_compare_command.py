"""`irr compare` end to end: the bundled audit example, separate local and audit sessions, and a
public run whose every file is scanned for ids and for numbers of a district under the minimum."""

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from irr.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _simulator():
    spec = importlib.util.spec_from_file_location("sim_comparability", ROOT / "scripts" / "sim_comparability.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ingest(runner, store, files, session):
    result = runner.invoke(cli, ["ingest", *map(str, files), "--session", str(session), "--store", store])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def example_store(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("store") / "s.sqlite")
    folder = EXAMPLES / "audit"
    _ingest(CliRunner(), path, sorted(folder.glob("*.csv")), folder / "session.yaml")
    return path


def test_example_audit_finds_the_planted_districts(example_store, tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["compare", "--local", "peer-audit-2026-12", "--store", example_store,
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    # examples/README.md: Granite Hills lenient (+0.6), North Country severe (-0.4), Monadnock 6 works
    assert "Lenient: Granite Hills SD" in result.output and "Severe: North Country Cooperative SD" in result.output
    districts = pd.read_csv(out / "tables" / "districts.csv").set_index("district")
    assert districts.loc["Granite Hills SD", "direction"] == "lenient"
    assert districts.loc["North Country Cooperative SD", "direction"] == "severe"
    assert districts.loc["Monadnock Regional SD", "direction"] == "too few audited works"
    assert districts["flagged"].sum() == 2
    assert 0.4 < districts.loc["Granite Hills SD", "mean_difference"] < 0.8
    for name in ("region", "equity"):
        assert (out / "tables" / f"{name}.csv").exists() and (out / "tables" / f"{name}.json").exists()
    html = (out / "comparability-report.html").read_text()
    assert "<svg" in html and "Forest plot" in html and "Student subgroups" in html
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html)
    meta = json.loads((out / "provenance.json").read_text())
    assert meta["sessions"] == ["peer-audit-2026-12"] and meta["files"][0]["sha256"]
    assert meta["parameters"]["profile"] == "comparability" and "Williamson" in meta["smd"]


def test_separate_sessions_and_grouping(tmp_path):
    """Local scores in one session, the audit in another, both 'first' reads: told apart by session."""
    sim = _simulator()
    scores = sim.simulate_audit(np.random.default_rng(3), n_districts=4, works=15, offsets={0: 0.8})
    local = scores[scores["read_type"] == "first"]
    audit = scores[scores["read_type"] == "audit"].assign(read_type="first")
    local.to_csv(tmp_path / "local.csv", index=False)
    audit.to_csv(tmp_path / "audit.csv", index=False)
    (tmp_path / "local.yaml").write_text("id: local-2026\nkind: local\ndate: 2026-05-01\n")
    (tmp_path / "audit.yaml").write_text("id: audit-2026\nkind: audit\ndate: 2026-06-01\n")
    store = str(tmp_path / "s.sqlite")
    runner = CliRunner()
    _ingest(runner, store, [tmp_path / "local.csv"], tmp_path / "local.yaml")
    _ingest(runner, store, [tmp_path / "audit.csv"], tmp_path / "audit.yaml")
    result = runner.invoke(cli, ["compare", "--local", "local-2026", "--audit", "audit-2026", "--audit-read", "first",
                                 "--by", "work_district,dimension", "--store", store, "--format", "csv",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(tmp_path / "out" / "tables" / "districts.csv")
    assert len(rows) == 4 * 4 and set(rows["dimension"]) == set(sim.DIMENSIONS)
    first = rows[rows["district"] == "District 001"]
    by_district = rows.groupby("district")["mean_difference"].mean()
    assert (first["mean_difference"] > 0.3).all() and by_district["District 001"] > 0.5
    assert (by_district.drop("District 001").abs() < 0.25).all()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--local", "nope"], "no session 'nope'"),
        (["--local", "peer-audit-2026-12", "--audit-read", "second"], "no scores of read type 'second'"),
        (["--local", "peer-audit-2026-12", "--by", "work_district,rater_id"], "takes task_id and/or dimension"),
        (["--local", "peer-audit-2026-12", "--profile", "pace"], "not a comparability profile"),
    ],
)
def test_bad_input_is_one_clean_error(example_store, args, message):
    result = CliRunner().invoke(cli, ["compare", *args, "--store", example_store, "--format", "terminal"])
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and message in result.output and "Traceback" not in result.output


def test_public_run_shows_no_id_and_no_number_of_a_small_district(tmp_path):
    """Every file of a --public run: no rater, student or work id; nothing computed from the district
    with 6 audited works (nor from the subgroup with fewer than 10), in tables, plot or JSON."""
    sim = _simulator()
    rng = np.random.default_rng(11)
    sizes = [25, 25, 25, 6]
    scores = sim.simulate_audit(rng, n_districts=4, works=sizes, offsets={3: 0.7}, ell_share=0.05)
    scores["student_id"] = "STU-" + scores["work_id"].str[1:]
    scores["rater_district"] = ""
    (tmp_path / "session.yaml").write_text("id: sim-audit\nkind: audit\ndate: 2026-12-02\n")
    scores.to_csv(tmp_path / "scores.csv", index=False)
    store = str(tmp_path / "s.sqlite")
    runner = CliRunner()
    _ingest(runner, store, [tmp_path / "scores.csv"], tmp_path / "session.yaml")
    full = tmp_path / "full"
    result = runner.invoke(cli, ["compare", "--local", "sim-audit", "--store", store, "--out", str(full),
                                 "--format", "csv"])
    assert result.exit_code == 0, result.output
    small = pd.read_csv(full / "tables" / "districts.csv").set_index("district").loc["District 004"]
    assert small["n_works"] == 6 and small["direction"] == "too few audited works"
    equity = pd.read_csv(full / "tables" / "equity.csv", dtype={"value": str})
    few = equity[equity["n_works"] < 10]
    assert len(few) == 1  # the ell = 1 subgroup

    public = tmp_path / "public"
    result = runner.invoke(cli, ["compare", "--local", "sim-audit", "--store", store, "--out", str(public),
                                 "--public", "--format", "terminal,html,csv,json,xlsx"])
    assert result.exit_code == 0, result.output
    texts = {"terminal": result.output}
    for path in public.rglob("*"):
        if path.suffix in (".csv", ".json", ".html"):
            texts[str(path)] = path.read_text()
        elif path.suffix == ".xlsx":
            import openpyxl

            book = openpyxl.load_workbook(path)
            texts[str(path)] = "\n".join(
                ",".join("" if c is None else str(c) for c in row)
                for sheet in book.worksheets
                for row in sheet.iter_rows(values_only=True)
            )
    assert len(texts) >= 9  # terminal, html, provenance, 3 tables x (csv, json), xlsx
    ids = set(scores["work_id"]) | set(scores["rater_id"]) | set(scores["student_id"])
    for name, text in texts.items():
        found = [i for i in ids if i in text]
        assert not found, f"{name} shows ids {found[:3]}"
    # the small district's and small subgroup's numbers, as the files and the page would write them
    numbers = set()
    for row in (small, few.iloc[0]):
        for col in ("mean_difference", "ci_low", "ci_high", "smd", "exact", "qwk", "dsm"):
            value = row.get(col)
            if isinstance(value, float) and np.isfinite(value):
                numbers |= {repr(value), repr(round(value, 6)), f"{value:+.2f} [{row['ci_low']:+.2f}"}
    for name, text in texts.items():
        leaked = [n for n in numbers if n in text]
        assert not leaked, f"{name} shows {leaked}"
    public_table = pd.read_csv(public / "tables" / "districts.csv", dtype=str).set_index("district")
    assert (public_table.loc["District 004"].drop("direction") == "suppressed (n < 10)").all()
    assert "suppressed (n &lt; 10)" in texts[str(public / "comparability-report.html")]
    # the region and other districts' numbers leave the small district out (nothing to difference back)
    region = pd.read_csv(public / "tables" / "region.csv")
    assert int(region["n_works"].iloc[0]) == 75 and int(region["n_districts"].iloc[0]) == 3
    assert "differenced back" in texts[str(public / "comparability-report.html")]
