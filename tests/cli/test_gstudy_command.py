"""`irr gstudy` end to end on a small simulated p x t x r store, and on the bundled regional example."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from irr.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
SESSION = "gt-scoring-2026-11"
TASKS = ["ela-g8-argument", "ela-g10-literary-argument", "ela-g11-argument"]  # all on rubric ela-argument@1
RATERS = ["ra", "rb", "rc", "rd"]
DIMENSIONS = ["claim", "evidence"]
N_STUDENTS = 40


def _simulate(seed: int = 7) -> pd.DataFrame:
    """Every student writes the three tasks; all four raters score every work on two dimensions (960 scores).

    A student effect (SD 1), a student x task effect (SD 0.5), a harsh rater rd (-0.5) and noise (SD 0.4),
    rounded onto the rubric's 1-4 scale: students dominate, G and phi of 3 tasks x 4 raters near 0.8.
    """
    rng = np.random.default_rng(seed)
    ability = rng.normal(0, 1.0, N_STUDENTS)
    pt = rng.normal(0, 0.5, (N_STUDENTS, len(TASKS)))
    rows = []
    for s in range(N_STUDENTS):
        for t, task in enumerate(TASKS):
            for rater in RATERS:
                for d in DIMENSIONS:
                    y = 2.5 + ability[s] + pt[s, t] - (0.5 if rater == "rd" else 0.0) + rng.normal(0, 0.4)
                    rows.append(
                        {
                            "rater_id": rater,
                            "work_id": f"W{s:02d}-{t}",
                            "task_id": task,
                            "dimension": d,
                            "score": int(np.clip(np.rint(y), 1, 4)),
                            "student_id": f"ST{s:03d}",
                        }
                    )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    import irr
    from irr.io import ingest

    folder = tmp_path_factory.mktemp("gstudy")
    _simulate().to_csv(folder / "scores.csv", index=False)
    path = folder / "s.sqlite"
    with irr.Store(path) as s:
        ingest(
            s,
            folder / "scores.csv",
            {"id": SESSION, "kind": "regional_scoring", "date": "2026-11-04"},
            bank=irr.load_bank(),
        )
    return str(path)


def _run(store, *args):
    return CliRunner().invoke(cli, ["gstudy", "--session", SESSION, "--store", store, *args])


def test_terminal_report_in_order_and_files_written(store, tmp_path):
    out = tmp_path / "g"
    result = _run(
        store, "--dimension", "claim", "--bootstrap", "50", "--format", "terminal,html,csv", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    text = result.stdout
    lines = text.splitlines()
    assert lines[0] == (
        "Generalizability study: student_id x task_id x rater_id; estimation: ANOVA (expected mean squares)"
    )
    assert lines[1].startswith("480 scores, 40 students, 3 tasks, 4 raters; balanced") and "dimension claim" in lines[1]
    heads = [
        "Variance components",
        "SOURCE ",
        "Observed design (3 tasks x 4 raters per student)",
        "G (Eρ²",
        "Φ (absolute",
        "D-study: G / Φ by number of tasks (rows) and raters (columns)",
        "Smallest design with G >= 0.80",
        "Smallest design with Φ >= 0.80",
    ]
    at = [text.index(h) for h in heads]
    assert at == sorted(at)
    sources = [line.split()[0] for line in lines[lines.index("Variance components") + 2 :][:7]]
    assert sources == ["student_id", "task_id", "rater_id", "student_id", "student_id", "task_id", "residual"]
    assert "95% CI" in text  # bootstrap intervals shown
    components = pd.read_csv(out / "tables" / "components.csv").set_index("source")
    # the students' share dominates; the harsh rater gives the raters a visible main effect
    assert components.loc["student_id", "percent"] == components["percent"].max()
    assert components.loc["rater_id", "variance"] > 0.01
    coefficients = pd.read_csv(out / "tables" / "coefficients.csv").set_index("coefficient")
    g, phi = coefficients.loc["g", "estimate"], coefficients.loc["phi", "estimate"]
    assert 0.6 < phi < g < 1
    assert f"G (Eρ², relative decisions): {g:.2f}" in text and f"Φ (absolute decisions): {phi:.2f}" in text
    assert {"components.csv", "coefficients.csv", "d_study.csv"} <= {p.name for p in (out / "tables").iterdir()}
    html = (out / "gstudy-report.html").read_text()
    assert 'id="fig-dstudy"' in html and "<svg" in html and "target 0.80" in html
    assert "Brennan" in html and "Cronbach" in html and "understates" in html
    meta = json.loads((out / "provenance.json").read_text())
    assert meta["sessions"] == [SESSION] and meta["design"] == "student_id x task_id x rater_id"
    assert "flag_" not in html and "ST000" not in html  # no personal data in the report


def test_d_study_grid_follows_the_asked_sizes(store, tmp_path):
    out = tmp_path / "d"
    result = _run(
        store,
        "--dimension",
        "evidence",
        "--bootstrap",
        "0",
        "--d-study",
        "task_id=1,2,4",
        "--d-study",
        "rater_id=1,3",
        "--format",
        "terminal,csv",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("TASKS \\ RATERS"))
    assert lines[head].split()[3:] == ["1", "3"]
    assert [line.split()[0] for line in lines[head + 1 : head + 4]] == ["1", "2", "4"]
    assert lines[head + 4] == ""
    table = pd.read_csv(out / "tables" / "d_study.csv")
    assert table[["task_id", "rater_id"]].values.tolist() == [[1, 1], [1, 3], [2, 1], [2, 3], [4, 1], [4, 3]]
    # more tasks and more raters never lower the coefficients
    assert table.groupby("rater_id")["phi"].apply(lambda s: s.is_monotonic_increasing).all()
    cell = table[(table["task_id"] == 2) & (table["rater_id"] == 3)].iloc[0]
    assert f"{cell['g']:.2f} / {cell['phi']:.2f}" in lines[head + 2]
    assert "95% CI" not in result.stdout  # --bootstrap 0: no intervals


def test_cut_adds_phi_lambda(store, tmp_path):
    out = tmp_path / "c"
    result = _run(
        store,
        "--dimension",
        "claim",
        "--bootstrap",
        "0",
        "--cut",
        "2.5",
        "--cut",
        "3",
        "--format",
        "terminal,csv,html",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "tables" / "phi_lambda.csv")
    assert table["cut"].tolist() == [2.5, 3.0] and table["phi_lambda"].between(0, 1).all()
    for cut, value in zip(["2.5", "3"], table["phi_lambda"]):
        assert f"Φ(λ) at the cut λ = {cut}: {value:.2f}" in result.stdout
    assert "Φ(λ) at λ = 2.5" in (out / "gstudy-report.html").read_text()


def test_total_and_dimension(store, tmp_path):
    several = _run(store, "--bootstrap", "0", "--format", "terminal")
    assert several.exit_code == 1 and "Traceback" not in several.output
    assert several.output.startswith("Error: the scores hold 2 dimensions (claim, evidence)")
    total = _run(store, "--total", "--bootstrap", "0", "--format", "terminal,csv", "--out", str(tmp_path / "t"))
    assert total.exit_code == 0, total.output
    assert "score: the total over the rubric's dimensions" in total.stdout and "480 scores" in total.stdout
    claim = _run(
        store, "--dimension", "claim", "--bootstrap", "0", "--format", "terminal,csv", "--out", str(tmp_path / "c")
    )
    assert claim.exit_code == 0 and "score: dimension claim" in claim.stdout
    totals = pd.read_csv(tmp_path / "t" / "tables" / "components.csv").set_index("source")["variance"]
    claims = pd.read_csv(tmp_path / "c" / "tables" / "components.csv").set_index("source")["variance"]
    assert list(totals.index) == list(claims.index) and len(totals) == 7
    # the sum of two dimensions driven by the same student effect: about four times one dimension's variance
    assert 2.5 * claims["student_id"] < totals["student_id"] < 5 * claims["student_id"]
    both = _run(store, "--total", "--dimension", "claim")
    assert both.exit_code == 2 and "not both" in both.output
    wrong = _run(store, "--dimension", "voice", "--bootstrap", "0")
    assert wrong.exit_code == 1 and "Error: dimension 'voice' is not in the scores" in wrong.output


def test_a_wrong_nesting_declaration_is_a_clean_error(store):
    result = _run(store, "--dimension", "claim", "--nested", "rater_id:task_id", "--bootstrap", "0")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("Error: rater_id is declared nested in task_id, but 4 rater_id(s)")
    bad = _run(store, "--dimension", "claim", "--nested", "rater_id")
    assert bad.exit_code == 2 and "CHILD:PARENT" in bad.output
    sizes = _run(store, "--dimension", "claim", "--d-study", "rater_id=one")
    assert sizes.exit_code == 2 and "FACET=N,N" in sizes.output


def test_the_regional_example_runs_works_x_raters_x_dimensions(tmp_path):
    example = ROOT / "examples" / "regional_scoring"
    path = str(tmp_path / "r.sqlite")
    runner = CliRunner()
    ingest = runner.invoke(
        cli, ["ingest", str(example / "scores.csv"), "--session", str(example / "session.yaml"), "--store", path]
    )
    assert ingest.exit_code == 0, ingest.output
    result = runner.invoke(
        cli,
        [
            "gstudy",
            "--session",
            "regional-scoring-2026-11",
            "--object",
            "work_id",
            "--facets",
            "rater_id,dimension",
            "--bootstrap",
            "0",
            "--store",
            path,
            "--format",
            "terminal",
        ],
    )
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("Generalizability study: work_id x rater_id x dimension; estimation: Henderson's Method 1")
    assert "1,920 scores, 240 works, 24 raters, 4 dimensions; unbalanced" in text
    assert "Observed design (2 raters x 4 dimensions per work)" in text
    # the command prints what the API computes (whose numbers tests/stats/test_gtheory.py checks)
    from irr.analysis.gstudy import g_study
    from irr.store import Store

    with Store(path) as store:
        api = g_study(
            store.scores(session="regional-scoring-2026-11"),
            object="work_id",
            facets=["rater_id", "dimension"],
            n_resamples=0,
        )
    assert f"G (Eρ², relative decisions): {api.g:.2f}" in text and f"Φ (absolute decisions): {api.phi:.2f}" in text
    negative = int(api.components["negative"].sum())
    assert negative >= 1 and text.count("*  ") + text.count("* ") >= negative
    assert "set to 0 in G, Φ and the D-study" in text
    best = api.meta["smallest"]["phi"]
    raters, dims = int(best["rater_id"]), int(best["dimension"])
    words = f"{raters} rater{'s' if raters > 1 else ''} x {dims} dimension{'s' if dims > 1 else ''}"
    assert f"Smallest design with Φ >= 0.80: {words}" in text
    student = runner.invoke(cli, ["gstudy", "--session", "regional-scoring-2026-11", "--store", path])
    assert student.exit_code == 1 and "Error: the scores carry no student_id" in student.output
