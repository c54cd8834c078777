"""`irr demo`, `irr calibrate`, `irr agreement` end to end on the bundled examples."""
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from irr.cli.main import cli

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("store") / "s.sqlite")
    runner = CliRunner()
    for name in ("calibration", "regional_scoring", "audit"):
        folder = EXAMPLES / name
        files = [str(f) for f in sorted(folder.glob("*.csv"))]
        result = runner.invoke(cli, ["ingest", *files, "--session", str(folder / "session.yaml"), "--store", path])
        assert result.exit_code == 0, result.output
    return path


def test_demo_writes_a_report(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Demo report written to" in result.output and "Papers to discuss" in result.output
    html = (out / "calibration-report.html").read_text()
    assert "<svg" in html
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html)   # self-contained: nothing fetched
    raters = pd.read_csv(out / "tables" / "raters.csv")
    assert len(raters) == 24 and set(raters["status"]) == {"PASS", "FAIL"}
    # the planted rater effects of examples/README.md are found
    effects = raters.set_index("rater_id")["effects"].fillna("")
    assert "lenient" in effects["T05"] and "severe" in effects["T11"] and "central tendency" in effects["T16"]
    assert json.loads((out / "provenance.json").read_text())["files"][0]["sha256"]


def test_calibrate_formats_profile_and_public_options(store, tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["calibrate", "--session", "seacoast-calibration-2026-10", "--store", store,
                                 "--profile", "naep", "--out", str(tmp_path / "r"), "--format", "html,csv",
                                 "--suppress-below", "3", "--anonymize"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / "calibration-report.html").exists()
    assert not list((tmp_path / "r" / "tables").glob("*.json"))
    raters = pd.read_csv(tmp_path / "r" / "tables" / "raters.csv")
    assert raters["rater_id"].str.startswith("Rater ").all() and "rater_district" not in raters
    dist = pd.read_csv(tmp_path / "r" / "tables" / "distribution.csv", dtype=str)
    assert "<3" in set(dist["count"]) and not ({"1", "2"} & set(dist["count"]))
    terminal = runner.invoke(cli, ["calibrate", "--session", "seacoast-calibration-2026-10", "--store", store,
                                   "--format", "terminal"])
    assert "Profile: pace" in terminal.output and "PASS" in terminal.output


def test_calibrate_errors_are_messages(store):
    runner = CliRunner()
    for args, text in ((["--session", "nope"], "session 'nope' is not in the store"),
                       (["--session", "seacoast-calibration-2026-10", "--profile", "nope"], "no rule profile 'nope'"),
                       (["--session", "seacoast-calibration-2026-10", "--format", "pdf"], "unknown format")):
        result = runner.invoke(cli, ["calibrate", *args, "--store", store])
        assert result.exit_code != 0 and text in result.output and "Traceback" not in result.output


def test_agreement_table_by_district(store, tmp_path):
    out = tmp_path / "a.csv"
    result = CliRunner().invoke(cli, ["agreement", "--store", store, "--session", "regional-scoring-2026-11",
                                      "--by", "dimension,work_district", "--coefficient", "krippendorff_alpha:ordinal",
                                      "--coefficient", "icc:A,1", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert len(table) == 4 * 6 * 2
    assert table["estimate"].between(-1, 1).all() and (table["n_raters"] > 2).all()
    bad = CliRunner().invoke(cli, ["agreement", "--store", store, "--by", "colour"])
    assert bad.exit_code == 1 and "cannot group by ['colour']" in bad.output
