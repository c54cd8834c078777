"""`irr raters` end to end on a small simulated store: a planted erratic and a planted harsh rater."""
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from irr.cli.main import cli
from irr.cli.raters import FitProgress

SESSION = "sim-scoring-2026-11"
SPLIT = "split-scoring-2026-11"
# distinctive ids, so that any leak into an anonymised output is found by a plain text search
RATERS = ["ann.lee", "bo.chan", "cy.diaz", "dee.ford", "ed.gray", "flo.hart"]
HARSH, ERRATIC = "dee.ford", "ed.gray"
DIMENSIONS = ["claim", "evidence", "reasoning", "conventions"]  # rubric ela-argument@1, scores 1-4


def _simulate(n_works: int = 48, seed: int = 5) -> pd.DataFrame:
    """Rasch rating-scale scores: each work by two of six raters on four dimensions (384 scores).

    dee.ford is 1.6 logits harsher than the others; ed.gray gives the mirror of a model score
    (5 - score) on half of the ratings, so the rater's scores do not follow the works' quality.
    About one work in twelve has flag_ell = 1.
    """
    rng = np.random.default_rng(seed)
    tau = np.array([-1.5, 0.0, 1.5])
    rows = []
    for w in range(n_works):
        ability = rng.normal(0, 1.3)
        ell = int(rng.random() < 0.08)
        first = w % 6
        second = (first + 1 + (w // 6) % 5) % 6
        for r in (RATERS[first], RATERS[second]):
            severity = 1.6 if r == HARSH else 0.0
            for d in DIMENSIONS:
                logits = np.concatenate([[0.0], np.cumsum(ability - severity - tau)])
                p = np.exp(logits - logits.max())
                score = 1 + int(rng.choice(4, p=p / p.sum()))
                if r == ERRATIC and rng.random() < 0.5:
                    score = 5 - score
                rows.append({"rater_id": r, "work_id": f"W{w:03d}", "task_id": "ela-g8-argument", "dimension": d,
                             "score": score, "read_type": "first", "flag_ell": ell})
    return pd.DataFrame(rows)


def _split() -> pd.DataFrame:
    """Two rooms that share no work and no rater: a disconnected design."""
    rows = []
    for room, raters in (("X", ["xa", "xb"]), ("Y", ["ya", "yb"])):
        for w in range(6):
            for i, r in enumerate(raters):
                for j, d in enumerate(DIMENSIONS):
                    rows.append({"rater_id": r, "work_id": f"{room}{w}", "task_id": "ela-g8-argument",
                                 "dimension": d, "score": 1 + (w + i + j) % 4})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("raters")
    path = str(folder / "s.sqlite")
    runner = CliRunner()
    for session, frame, kind in ((SESSION, _simulate(), "regional_scoring"), (SPLIT, _split(), "calibration")):
        csv = folder / f"{session}.csv"
        frame.to_csv(csv, index=False)
        (folder / f"{session}.yaml").write_text(f"id: {session}\nkind: {kind}\ndate: '2026-11-04'\n")
        result = runner.invoke(cli, ["ingest", str(csv), "--session", str(folder / f"{session}.yaml"),
                                     "--store", path])
        assert result.exit_code == 0, result.output
    return path


def test_terminal_lists_flagged_raters_first_and_the_report_is_written(store, tmp_path):
    out = tmp_path / "r"
    result = CliRunner().invoke(cli, ["raters", "--session", SESSION, "--store", store, "--format",
                                      "terminal,html,csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = result.stdout
    lines = text.splitlines()
    table = lines.index(next(line for line in lines if line.startswith("RATER ")))
    rows = [line.split()[0] for line in lines[table + 1 : table + 1 + len(RATERS)]]
    # the erratic rater first (misfit comes before harsh/lenient), then the harsh one, then the others
    assert rows[:2] == [ERRATIC, HARSH] and sorted(rows) == sorted(RATERS)
    assert "misfit: mean-square" in lines[table + 1] and "> 1.5 (erratic)" in lines[table + 1]
    assert "harsh: +" in lines[table + 2] and "logits from the mean" in lines[table + 2]
    # then the separation lines, the agreement line, the largest interactions, in that order
    at = [text.index(s) for s in ("RATER ", "rater_id: separation", "Rater agreement:", "Bias rater_id x dimension")]
    assert at == sorted(at)
    assert "Rasch-kappa" in text and "expected" in text.split("Rater agreement:")[1].splitlines()[0]
    measures = pd.read_csv(out / "tables" / "measures_rater_id.csv").set_index("rater_id")
    assert set(measures.index) == set(RATERS)
    assert measures.loc[HARSH, "measure"] == measures["measure"].max() > 0.5  # higher = harsher
    assert max(measures.loc[ERRATIC, ["infit", "outfit"]]) > 1.5
    assert {"measures_work_id.csv", "summary.csv", "agreement.csv", "bias_rater_id_x_dimension.csv",
            "contrast_rater_id_x_dimension.csv", "categories.csv"} <= {p.name for p in (out / "tables").iterdir()}
    assert list(pd.read_csv(out / "tables" / "summary.csv")["facet"]) == ["work_id", "rater_id", "dimension"]
    html = (out / "facets-report.html").read_text()
    assert "<svg" in html and 'id="fig-wright"' in html and HARSH in html
    assert "Many-facet Rasch model" in html and "divided by" in html  # the methods name the bias correction
    meta = json.loads((out / "provenance.json").read_text())
    assert meta["sessions"] == [SESSION] and meta["files"][0]["sha256"]


def test_anonymize_hides_rater_ids_in_every_output(store, tmp_path):
    out = tmp_path / "anon"
    result = CliRunner().invoke(cli, ["raters", "--session", SESSION, "--store", store, "--anonymize",
                                      "--format", "terminal,html,csv,json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    texts = {"terminal": result.output} | {str(p): p.read_text() for p in out.rglob("*") if p.is_file()}
    assert len(texts) > 10
    leaks = [(where, r) for where, text in texts.items() for r in RATERS if r in text]
    assert leaks == []
    measures = pd.read_csv(out / "tables" / "measures_rater_id.csv")
    assert measures["rater_id"].str.fullmatch(r"Rater \d\d").all()
    pairs = pd.read_csv(out / "tables" / "agreement.csv")
    assert pairs[["rater_id_a", "rater_id_b"]].stack().str.startswith("Rater ").all()
    assert "raters anonymised" in result.output


def test_a_disconnected_design_is_a_clean_error_naming_the_subsets(store):
    result = CliRunner().invoke(cli, ["raters", "--session", SPLIT, "--store", store])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("Error: the ratings split into 2 disconnected subsets")
    assert "subset 1" in result.output and "subset 2" in result.output
    assert "xa, xb" in result.output and "ya, yb" in result.output


def test_bias_by_a_flag_column_loads_the_flags_and_suppresses_small_cells(store, tmp_path):
    out = tmp_path / "drf"
    result = CliRunner().invoke(cli, ["raters", "--session", SESSION, "--store", store, "--bias", "rater_id,flag_ell",
                                      "--no-bias-correction", "--format", "terminal,csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "tables" / "bias_rater_id_x_flag_ell.csv", dtype={"flag_ell": str})
    assert set(table["flag_ell"]) == {"0", "1"} and set(table["rater_id"]) == set(RATERS)
    small = table["status"].astype("string").fillna("").str.startswith("suppressed (n < 10)")
    assert small.any() and (~small).any()
    assert table.loc[small, ["count", "bias", "se", "t", "p"]].isna().all().all()  # nothing computed is shown
    assert "suppressed" in result.output.split("Bias rater_id x flag_ell")[1].splitlines()[0]
    assert not (out / "tables" / "bias_rater_id_x_dimension.csv").exists()  # --bias replaces the default
    assert "student_id" not in (out / "tables" / "bias_rater_id_x_flag_ell.csv").read_text()


def test_public_blanks_every_number_and_flag_of_a_small_row(store, tmp_path):
    # each work has 8 ratings (2 raters x 4 dimensions): under --public (k = 10) none of its numbers may show,
    # nor the flag that quotes one ("overfit: mean-square 0.41 < 0.5 ...")
    out = tmp_path / "public"
    result = CliRunner().invoke(cli, ["raters", "--session", SESSION, "--store", store, "--public",
                                      "--no-bias-correction", "--format", "terminal,csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    works = pd.read_csv(out / "tables" / "measures_work_id.csv", dtype=str, keep_default_na=False)
    assert (works["count"] == "<10").all()
    assert (works[["measure", "se", "infit", "outfit", "flag"]] == "").all().all()
    raters = pd.read_csv(out / "tables" / "measures_rater_id.csv")
    assert raters["rater_id"].str.startswith("Rater ").all() and raters["measure"].notna().all()


def test_option_errors_are_messages(store):
    runner = CliRunner()
    for args, text in ((["--session", SESSION, "--by", "dimension"], "--by sets the threshold groups"),
                       (["--session", SESSION, "--bias", "rater_id"], "give two columns"),
                       ([], "name the sessions"),
                       (["--session", "nope"], "no session 'nope'")):
        result = runner.invoke(cli, ["raters", *args, "--store", store])
        assert result.exit_code != 0 and text in result.output and "Traceback" not in result.output, args


def test_the_progress_line_shows_only_after_a_second_and_is_cleared():
    now = [0.0]
    stream = io.StringIO()
    progress = FitProgress(True, clock=lambda: now[0], file=stream)
    progress("estimation", 1, 0.5)
    assert stream.getvalue() == ""  # a fit that ends within a second shows nothing
    now[0] = 1.5
    progress("bias correction", 7, 0.0123)
    assert "bias correction" in stream.getvalue() and "iteration 7" in stream.getvalue()
    progress.close()
    assert stream.getvalue().endswith("\r") and progress.width == 0
    quiet = io.StringIO()
    silent = FitProgress(False, clock=lambda: now[0] + 10, file=quiet)  # stderr is not a terminal
    silent("estimation", 1, 0.5)
    silent.close()
    assert quiet.getvalue() == ""


def test_the_command_is_listed_with_its_own_help():
    from irr.cli.main import COMMANDS

    assert COMMANDS["raters"][0] == "irr.cli.raters"
    result = CliRunner().invoke(cli, ["raters", "--help"])
    assert result.exit_code == 0 and "--anonymize" in result.output and "--model" in result.output
    assert Path(__file__).resolve().parents[2].joinpath("docs", "cli.md").read_text().count("## irr raters") == 1
