"""`irr demo`, `irr calibrate`, `irr agreement` end to end on the bundled examples."""
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from irr.cli.main import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


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
    raters = pd.read_csv(out / "tables" / "raters.csv").set_index("rater_id")
    assert len(raters) == 24 and set(raters["status"]) == {"PASS", "FAIL"}
    # the planted rater effects of examples/README.md are found, in the tables and in the report
    assert raters.loc["T05", "severity"] == "lenient" and raters.loc["T11", "severity"] == "severe"
    assert raters.loc["T16", "central_tendency"]
    assert "lenient (+" in html and "central tendency (" in html
    meta = json.loads((out / "provenance.json").read_text())
    assert meta["files"][0]["sha256"] and meta["level"] == 0.95 and meta["sessions"] == ["seacoast-calibration-2026-10"]
    assert meta["profile"]["id"] == "pace" and meta["toolkit_version"]


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
    for args, text in ((["--session", "nope"], "no session 'nope' in"),
                       (["--session", "seacoast-calibration-2026-10", "--profile", "nope"], "no rule profile 'nope'"),
                       (["--session", "seacoast-calibration-2026-10", "--format", "pdf"], "unknown format")):
        result = runner.invoke(cli, ["calibrate", *args, "--store", store])
        assert result.exit_code != 0 and text in result.output and "Traceback" not in result.output


def test_agreement_table_by_district(store, tmp_path):
    out = tmp_path / "a"
    result = CliRunner().invoke(cli, ["agreement", "--store", store, "--session", "regional-scoring-2026-11",
                                      "--by", "dimension,work_district", "--coefficient", "krippendorff_alpha:ordinal",
                                      "--coefficient", "icc:A,1", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "tables" / "agreement.csv")
    assert len(table) == 4 * 6 * 2
    assert table["estimate"].between(-1, 1).all() and (table["n_raters"] > 2).all()
    bad = CliRunner().invoke(cli, ["agreement", "--store", store, "--by", "colour"])
    assert bad.exit_code == 1 and "cannot group by ['colour']" in bad.output


def test_agreement_icc_by_district_says_why_the_standard_error_is_missing(store):
    # with --by dimension,work_district most ICC standard errors are NaN (jackknife undefined): say why
    result = CliRunner().invoke(cli, ["agreement", "--store", store, "--session", "regional-scoring-2026-11",
                                      "--by", "dimension,work_district", "--coefficient", "icc:A,1",
                                      "--format", "csv"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.output), keep_default_na=False, na_values=[""])
    missing = table["standard_error"].isna()
    assert missing.any()
    assert table.loc[missing, "note"].str.startswith("no standard error: the ICC has no closed-form SE").all()
    assert (table["name"] == "ICC(A,1), absolute agreement, single rater").all()


def test_agreement_table_names_percentages_and_p_values(store):
    runner = CliRunner()
    args = ["agreement", "--store", store, "--session", "regional-scoring-2026-11", "--by", "dimension"]
    raw = pd.read_csv(io.StringIO(runner.invoke(cli, [*args, "--format", "csv"]).output))
    assert {"coefficient", "name", "note", "interpretation"} <= set(raw.columns)
    proportion = raw["coefficient"].isin(["percent_agreement", "adjacent_agreement"])
    assert raw.loc[proportion, "p_value"].isna().all() and raw.loc[~proportion, "p_value"].notna().all()
    shown = runner.invoke(cli, args)
    assert shown.exit_code == 0, shown.output
    exact = raw[(raw["dimension"] == "claim") & (raw["coefficient"] == "percent_agreement")]["estimate"].iloc[0]
    assert f"{100 * exact:.0f}%" in shown.output and f"{exact:.3f}" not in shown.output
    assert "Gwet's AC2, quadratic weights" in shown.output and "gwet_ac2" not in shown.output
    assert "NOTE" not in shown.output and "DROPPED" not in shown.output        # empty columns are left out


def test_agreement_leaves_condition_codes_out_and_says_so(store, monkeypatch):
    # the store's coming interface: `condition_code` ("" for a score) and `score` Int64 <NA> when coded
    from irr.store import Store

    real = Store.scores

    def with_codes(self, *args, **kwargs):
        df = real(self, *args, **kwargs)
        coded = (df["dimension"] == "claim") & (df.index % 40 == 0)
        df["condition_code"] = np.where(coded, "illegible", "")
        df["score"] = df["score"].astype("Int64").mask(coded)
        return df

    args = ["agreement", "--store", store, "--session", "regional-scoring-2026-11", "--by", "dimension",
            "--coefficient", "fleiss_kappa", "--format", "csv"]
    before = pd.read_csv(io.StringIO(CliRunner().invoke(cli, args).output)).set_index("dimension")
    monkeypatch.setattr(Store, "scores", with_codes)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    after = pd.read_csv(io.StringIO(result.output)).set_index("dimension")
    n_coded = before.loc["claim", "n_ratings"] - after.loc["claim", "n_ratings"]
    assert n_coded > 0 and after.loc["claim", "n_condition_coded"] == n_coded
    assert after.loc["evidence", "n_condition_coded"] == 0
    assert after.loc["evidence", "estimate"] == before.loc["evidence", "estimate"]
    shown = CliRunner().invoke(cli, args[:-2])                 # the terminal table says it in words
    assert f"{n_coded} condition-coded scores left out of the coefficients (illegible {n_coded})" in shown.output
