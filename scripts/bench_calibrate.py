#!/usr/bin/env python3
"""Speed of `irr calibrate` (report written): a 40 x 15 x 4 session and a 200,000-score session.

    python scripts/bench_calibrate.py

Targets (issue 5): 40 raters x 15 anchor papers x 4 dimensions < 5 s; 200,000 scores < 30 s.
A temporary bank copy gets a task with 15 anchor papers; scores are simulated around the
consensus and ingested into a temporary store; the timed part is the CLI command itself
(store query, analysis, terminal summary, HTML with figures, CSV/JSON tables).
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from click.testing import CliRunner

import irr
from irr.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
DIMS = ["claim", "evidence", "reasoning", "conventions"]


def bank_with_15_anchors(tmp: Path) -> Path:
    shutil.copytree(ROOT / "rubrics", tmp / "rubrics")
    shutil.copytree(ROOT / "tasks", tmp / "tasks")
    path = tmp / "tasks" / "ela-g8-argument.yaml"
    task = yaml.safe_load(path.read_text())
    rng = np.random.default_rng(3)
    for i in range(13, 16):
        task["anchors"].append({"id": f"ELA8-A{i:02d}", "scores": {d: int(rng.integers(1, 5)) for d in DIMS},
                                "position": "mid", "role": "calibration", "annotation": "Benchmark paper."})
    path.write_text(yaml.safe_dump(task, sort_keys=False))
    return tmp


def session_scores(bank_dir: Path, n_raters: int, seed: int) -> pd.DataFrame:
    bank = irr.load_bank(bank_dir)
    anchors = bank.task("ela-g8-argument").anchors
    rng = np.random.default_rng(seed)
    cons = np.array([[p.scores[d] for d in DIMS] for p in anchors])            # papers x dims
    severity = rng.normal(0, 0.3, n_raters)
    latent = cons[None, :, :] + severity[:, None, None] + rng.normal(0, 0.5, (n_raters,) + cons.shape)
    scores = np.clip(np.rint(latent), 1, 4).astype(int)
    r, p, d = np.meshgrid(np.arange(n_raters), np.arange(len(anchors)), np.arange(4), indexing="ij")
    return pd.DataFrame({"rater_id": np.char.add("T", r.ravel().astype(str)),
                         "work_id": np.array([a.id for a in anchors])[p.ravel()],
                         "task_id": "ela-g8-argument", "dimension": np.array(DIMS)[d.ravel()],
                         "score": scores.ravel(), "rater_district": np.char.add("D", (r.ravel() % 40).astype(str))})


def run(label: str, bank_dir: Path, tmp: Path, n_raters: int) -> None:
    df = session_scores(bank_dir, n_raters, seed=n_raters)
    sheet = tmp / f"{label}.csv"
    df.to_csv(sheet, index=False)
    store = str(tmp / f"{label}.sqlite")
    runner = CliRunner()
    args = ["ingest", str(sheet), "--session", label, "--kind", "calibration", "--date", "2026-11-22",
            "--store", store, "--bank", str(bank_dir)]
    assert runner.invoke(cli, args).exit_code == 0
    t0 = time.perf_counter()
    result = runner.invoke(cli, ["calibrate", "--session", label, "--store", store, "--bank", str(bank_dir),
                                 "--out", str(tmp / f"report-{label}")])
    elapsed = time.perf_counter() - t0
    assert result.exit_code == 0, result.output
    print(f"{label}: {len(df):,} scores ({n_raters} raters x {df.work_id.nunique()} papers x 4 dimensions): "
          f"irr calibrate {elapsed:.2f} s")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        bank_dir = bank_with_15_anchors(tmp / "bank")
        run("session-40-raters", bank_dir, tmp, 40)
        run("statewide-200k", bank_dir, tmp, 3334)


if __name__ == "__main__":
    main()
