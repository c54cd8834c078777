#!/usr/bin/env python3
"""Simulation study of `irr.analysis.drift.rater_drift`: are drifting raters found, with the change
placed where it happened, while stably lenient raters and drift-free data raise no alarm?

    python scripts/sim_drift.py                        # 200 datasets of each scenario
    python scripts/sim_drift.py --datasets 50 --works 20

Model (rubric points 1-4, 4 dimensions; each work of a session double-scored by two raters
drawn at random, so each score's reference is the other read):

    truth_wk = 2.5 + N(0, 0.8) + N(0, 0.3)
    score    = clip(round(truth_wk + severity_r + drift_r * [session >= start] + N(0, 0.4)), 1, 4)

Planted (issue 13): 50 raters over 12 sessions; raters R01-R05 shift by +0.3 from session 7;
R06-R10 are lenient by +0.4 all along (severity, not drift); the others N(0, 0.1).
The tests (tests/analysis/test_drift.py) import `simulate_drift` from here.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

DIMENSIONS = ("claim", "evidence", "reasoning", "conventions")
TASK = "ela-g8-argument"


def simulate_drift(
    rng: np.random.Generator,
    *,
    n_raters: int = 50,
    n_sessions: int = 12,
    works: int = 50,
    drifters: int = 5,
    lenient: int = 5,
    shift: float = 0.3,
    start: int = 7,
    lenience: float = 0.4,
    noise: float = 0.4,
) -> pd.DataFrame:
    """Long scores of a season: ``works`` reads per rater per session, each work read by two raters.

    Sessions are ``S01``..``S12`` dated a week apart; ``start`` is the 1-based session from which
    the drifters (the first ``drifters`` raters) score ``shift`` higher; the next ``lenient``
    raters are ``lenience`` higher in every session.
    """
    severity = rng.normal(0, 0.1, n_raters)
    severity[drifters : drifters + lenient] = lenience
    drift = np.zeros(n_raters)
    drift[:drifters] = shift
    raters = np.array([f"R{r + 1:02d}" for r in range(n_raters)])
    n_works = n_raters * works // 2
    k = len(DIMENSIONS)
    frames = []
    for s in range(n_sessions):
        # each rater reads `works` works: a random pairing of the rater slots
        slots = rng.permutation(np.repeat(np.arange(n_raters), works))
        pair = slots[: 2 * n_works].reshape(n_works, 2)
        truth = 2.5 + rng.normal(0, 0.8, n_works)[:, None] + rng.normal(0, 0.3, (n_works, k))
        for read in (0, 1):
            r = pair[:, read]
            latent = truth + (severity[r] + drift[r] * (s + 1 >= start))[:, None] + noise * rng.standard_normal((n_works, k))
            frames.append(
                pd.DataFrame(
                    {
                        "session_id": f"S{s + 1:02d}",
                        "session_date": (pd.Timestamp("2026-09-07") + pd.Timedelta(weeks=s)).strftime("%Y-%m-%d"),
                        "rater_id": np.repeat(raters[r], k),
                        "work_id": np.repeat([f"S{s + 1:02d}-W{w:04d}" for w in range(n_works)], k),
                        "task_id": TASK,
                        "dimension": np.tile(DIMENSIONS, n_works),
                        "score": np.clip(np.rint(latent), 1, 4).astype(int).ravel(),
                        "read_type": "first" if read == 0 else "second",
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def main(argv=None) -> None:
    from irr.analysis.drift import rater_drift

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=200)
    parser.add_argument("--works", type=int, default=50, help="works each rater reads per session")
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    begin = time.perf_counter()
    found, placed, lenient_flagged, null_any, n = 0, 0, 0, 0, args.datasets
    at_least_4 = 0
    shifts = []
    for _ in range(n):
        flags = rater_drift(simulate_drift(rng, works=args.works)).flags.set_index("rater_id")
        drifters = flags.loc[[f"R{r:02d}" for r in range(1, 6)]]
        hit = drifters["flagged"].astype(bool) & drifters["direction"].str.contains("lenient")
        found += int(hit.sum())
        at_least_4 += int(hit.sum() >= 4)
        placed += int(drifters.loc[hit, "first_alarm"].isin(["S07", "S08", "S09"]).sum())
        shifts += drifters.loc[hit, "shift"].tolist()
        lenient_flagged += int(flags.loc[[f"R{r:02d}" for r in range(6, 11)], "flagged"].astype(bool).sum())
    print(f"planted ({n} datasets, 50 raters x 12 sessions x {args.works} works, 5 drift +0.3 from S07, 5 lenient +0.4):")
    print(f"  drifters flagged {found / (5 * n):.1%}; datasets with >= 4 of 5 flagged {at_least_4 / n:.1%}")
    print(f"  change placed in S07-S09: {placed / max(found, 1):.1%} of those flagged; mean shift {np.mean(shifts):+.3f}")
    print(f"  stably lenient raters flagged: {lenient_flagged} of {5 * n}")
    for _ in range(n):
        flags = rater_drift(simulate_drift(rng, works=args.works, drifters=0)).flags
        null_any += bool(flags["flagged"].astype(bool).any())
    print(f"null ({n} datasets, no drift, 5 lenient): any rater flagged {null_any / n:.1%} (alpha 5%)")
    print(f"({time.perf_counter() - begin:.0f} s)")


if __name__ == "__main__":
    main()
