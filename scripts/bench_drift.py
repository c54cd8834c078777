#!/usr/bin/env python3
"""Benchmark: `rater_drift` on a season of 100 raters x 20 sessions (about 400,000 scores), after the
scores are in memory (what `irr drift --all` does after `Store.scores()`), in one process.

    python scripts/bench_drift.py              # change-point test (default) and the three charts
    python scripts/bench_drift.py --repeat 5

Target (issue 13): under 2 s.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raters", type=int, default=100)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--works", type=int, default=50, help="works each rater reads per session")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    spec = importlib.util.spec_from_file_location("sim_drift", HERE / "sim_drift.py")
    sim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sim)
    from irr.analysis.drift import rater_drift

    scores = sim.simulate_drift(
        np.random.default_rng(1), n_raters=args.raters, n_sessions=args.sessions, works=args.works, start=11
    )
    print(f"{args.raters} raters x {args.sessions} sessions: {len(scores):,} scores")
    rater_drift(scores)  # warm-up (imports)
    for method in ("changepoint", "cusum", "ewma", "shewhart"):
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = rater_drift(scores, method=method)
            times.append(time.perf_counter() - start)
        flagged = int(result.flags["flagged"].sum())
        print(f"{method:12s} median {statistics.median(times):.2f} s (min {min(times):.2f}); {flagged} flagged "
              "(target < 2 s)")


if __name__ == "__main__":
    main()
