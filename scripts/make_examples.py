#!/usr/bin/env python3
"""Generate the bundled example sessions (seeded, reproducible).

    python scripts/make_examples.py            # writes examples/calibration, regional_scoring, audit

Rater model (score points 1-4 of rubric ela-argument@1):

    latent = truth + severity_r + drift_r * t + noise_sd_r * N(0, 1)
    latent = (1 - pull_r) * latent + pull_r * 2.5          # central tendency
    score  = clip(round(latent), 1, 4)

where ``truth`` is the anchor's consensus score (calibration) or a student's true
quality (scoring, audit), and ``t`` in [0, 1] is the rater's progress through
the session.  The rater effects planted in the calibration session are listed
in examples/README.md and checked by the tests.
"""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import irr

ROOT = Path(__file__).resolve().parents[1]
TASK = "ela-g8-argument"
DISTRICTS = ["Seacoast Regional SD", "Granite Hills SD", "Pemigewasset Valley SD",
             "Lakes Region Cooperative SD", "North Country Cooperative SD", "Cedar Brook SD"]
SEED = 20261014

# Planted effects in the calibration session (rater id -> description).
PLANTED = {
    "T05": dict(severity=0.85, note="lenient: about +0.8 of a point above the consensus"),
    "T11": dict(severity=-0.8, note="severe: about -0.8 of a point below the consensus"),
    "T16": dict(pull=0.75, note="central tendency: pulls scores toward 2-3, avoids 1 and 4"),
    "T21": dict(drift=1.6, note="drifts: starts calibrated, ends about +1.2 lenient"),
    "T08": dict(noise=1.1, note="inconsistent: large random error"),
}
# Calibration-role anchors (ELA8-A05, A06, A07, A09) are borderline papers: every rater's
# latent score on them gets extra N(0, 0.45) noise, so they tend to split the room.


def rater_scores(truth, t, severity, drift, pull, noise, rng):
    latent = truth + severity + drift * t + noise * rng.standard_normal(truth.shape)
    latent = (1 - pull) * latent + pull * 2.5
    return np.clip(np.rint(latent), 1, 4).astype(int)


def calibration(bank, out: Path, rng) -> None:
    task = bank.task(TASK)
    dims = bank.rubric_for(task).dimension_ids
    papers = [p.id for p in task.anchors]
    consensus = {(p.id, d): p.scores[d] for p in task.anchors for d in dims}
    rows = []
    start = dt.datetime(2026, 10, 14, 9, 0)
    for r in range(24):
        rater = f"T{r + 1:02d}"
        effect = PLANTED.get(rater, {})
        severity = effect.get("severity", rng.normal(0, 0.12))
        order = rng.permutation(len(papers))
        t = np.arange(len(papers)) / (len(papers) - 1)
        for step, idx in enumerate(order):
            paper = papers[idx]
            truth = np.array([consensus[(paper, d)] for d in dims], dtype=float)
            if task.anchor(paper).role == "calibration":   # borderline papers: the room disagrees more
                truth = truth + rng.normal(0, 0.45, len(dims))
            scores = rater_scores(truth, t[step], severity, effect.get("drift", 0.0), effect.get("pull", 0.0),
                                  effect.get("noise", rng.uniform(0.25, 0.45)), rng)
            stamp = start + dt.timedelta(minutes=int(7 * step + rng.integers(0, 4)))
            for dim, score in zip(dims, scores):
                rows.append(dict(rater_id=rater, work_id=paper, task_id=TASK, dimension=dim, score=int(score),
                                 rater_district=DISTRICTS[r % 6], rater_role="teacher",
                                 timestamp=stamp.isoformat(timespec="minutes")))
    df = pd.DataFrame(rows)
    out.mkdir(parents=True, exist_ok=True)
    df[df["rater_id"] <= "T12"].to_csv(out / "scores-room-a.csv", index=False)
    df[df["rater_id"] > "T12"].to_csv(out / "scores-room-b.csv", index=False)
    manifest = dict(id="seacoast-calibration-2026-10", kind="calibration", date="2026-10-14",
                    region="Seacoast and Lakes", facilitator="Regional assessment coordinator",
                    description="Fall regional calibration on the grade 8 argument common task: 24 teachers "
                                "from 6 districts independently score the 12 anchor papers before discussion.")
    (out / "session.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))


def student_scores(rng, n_works, districts_bias):
    works = pd.DataFrame({"work_id": [f"S{i:04d}" for i in range(n_works)],
                          "work_district": [DISTRICTS[i % 6] for i in range(n_works)]})
    works["school"] = works["work_district"].str.replace(" SD", "").str.split().str[0] + " Middle School"
    quality = np.clip(rng.normal(2.6, 0.8, n_works), 0.6, 4.4)
    return works, quality


def regional_scoring(bank, out: Path, rng) -> None:
    dims = bank.rubric_for(TASK).dimension_ids
    works, quality = student_scores(rng, 240, None)
    raters = [f"R{i + 1:02d}" for i in range(24)]
    severity = rng.normal(0, 0.3, 24)
    rows = []
    for i, work in works.iterrows():
        home = i % 6
        eligible = [r for r in range(24) if r % 6 != home]        # nobody scores their own district
        pair = rng.choice(eligible, 2, replace=False)
        for read, r in zip(("first", "second"), pair):
            truth = quality[i] + rng.normal(0, 0.35, len(dims))
            scores = rater_scores(truth, 0.0, severity[r], 0.0, 0.0, 0.45, rng)
            for dim, score in zip(dims, scores):
                rows.append(dict(rater_id=raters[r], work_id=work.work_id, task_id=TASK, dimension=dim,
                                 score=int(score), read_type=read, rater_district=DISTRICTS[r % 6],
                                 rater_role="teacher", work_district=work.work_district, school=work.school))
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(out / "scores.csv", index=False)
    manifest = dict(id="regional-scoring-2026-11", kind="regional_scoring", date="2026-11-04",
                    region="Seacoast and Lakes", facilitator="Regional assessment coordinator",
                    description="Regional scoring day: 240 grade 8 arguments, each double-scored by two teachers "
                                "from other districts.")
    (out / "session.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))


def audit(bank, out: Path, rng) -> None:
    """Peer-review audit: 20 papers from each of the six districts and 6 from a small seventh one.

    Work-level columns (district, school, student id, subgroup flags) are set once per paper, so
    every row of a paper holds the same.  Audit papers get their own ids (``P0000`` ...): they are
    other students than the regional-scoring papers (``S0000`` ...), and a work id is global in
    the store.  Auditors come from the six districts and never audit their own district's papers.
    """
    dims = bank.rubric_for(TASK).dimension_ids
    # a separate list: the shared DISTRICTS (and the rng draws of the sessions before) stay as they are
    small = "Monadnock Regional SD"                 # only 6 audited papers: "too few audited works"
    local_bias = {d: 0.0 for d in (*DISTRICTS, small)}
    local_bias["Granite Hills SD"] = 0.6          # a lenient district
    local_bias["North Country Cooperative SD"] = -0.4   # a severe one
    auditors = [f"A{k:02d}" for k in range(8)]
    auditor_district = [DISTRICTS[k % 6] for k in range(8)]
    load = [0] * 8
    rows = []

    def papers(districts, first):
        works = pd.DataFrame({"work_district": districts})
        works["school"] = works["work_district"].str.replace(" SD", "").str.split().str[0] + " Middle School"
        quality = np.clip(rng.normal(2.6, 0.8, len(works)), 0.6, 4.4)
        for j, work in works.iterrows():
            i = first + j
            eligible = [k for k in range(8) if auditor_district[k] != work.work_district]  # never their own district
            auditor = min(eligible, key=lambda k: load[k])                               # the least busy of them
            load[auditor] += 1
            truth = quality[j] + rng.normal(0, 0.3, len(dims))
            local = rater_scores(truth, 0.0, local_bias[work.work_district], 0.0, 0.0, 0.4, rng)
            audited = rater_scores(truth, 0.0, 0.0, 0.0, 0.0, 0.35, rng)
            # the flags are the paper's, drawn once; the 2 x 8 draws per paper of the earlier generator (one
            # pair per score row) are still taken, so the papers keep the scores they had
            iep, ell = rng.random((len(dims) * 2, 2))[0]
            paper = dict(work_id=f"P{i:04d}", task_id=TASK)
            reads = (("first", f"L-{work.work_district[:4].upper()}-{i % 5}", work.work_district, "teacher", local),
                     ("audit", auditors[auditor], auditor_district[auditor], "auditor", audited))
            for read, rater, rater_district, role, scores in reads:
                for dim, score in zip(dims, scores):
                    rows.append(dict(rater_id=rater, **paper, dimension=dim, score=int(score), read_type=read,
                                     rater_district=rater_district, rater_role=role,
                                     work_district=work.work_district, school=work.school,
                                     student_id=f"STU-{i + 1:04d}", flag_iep=int(iep < 0.14),
                                     flag_ell=int(ell < 0.08)))

    papers([DISTRICTS[i % 6] for i in range(120)], 0)
    papers([small] * 6, 120)
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(out / "scores.csv", index=False)
    manifest = dict(id="peer-audit-2026-12", kind="audit", date="2026-12-02", region="Statewide",
                    facilitator="District peer-review team",
                    description="District peer-review audit: 126 locally scored papers from 7 districts rescored "
                                "by regional auditors from other districts.")
    (out / "session.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "examples")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    bank = irr.load_bank()
    rng = np.random.default_rng(args.seed)
    calibration(bank, args.out / "calibration", rng)
    regional_scoring(bank, args.out / "regional_scoring", rng)
    audit(bank, args.out / "audit", rng)
    print(f"wrote examples to {args.out}")


if __name__ == "__main__":
    main()
