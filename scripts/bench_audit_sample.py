#!/usr/bin/env python3
"""Speed of the audit sampler: 1,000,000 local scores (250,000 works x 4 dimensions, 100 districts).

    python scripts/bench_audit_sample.py [--runs 5]

Target (issue 12): under 5 s for ``irr.analysis.audit.audit_sample`` on the DataFrame, in one
process (the median of a few runs, after one warm-up).  The local scores are simulated as
``Store.scores()`` returns them (str columns, nullable Int64 score, 1% condition-coded rows);
three tasks of the bundled bank, each with an achievement cut; 200 auditors, two per district.
The floor printed beside it is the part no sampler can skip: hashing the work ids into works.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from irr.analysis.audit import audit_sample
from irr.model.bank import load_bank

TASKS = ["ela-g8-argument", "math-g6-recipe-ratios", "sci-g7-plant-growth"]
DIMS = 4


def local_scores(n_works: int = 250_000, n_districts: int = 100, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    district = rng.integers(0, n_districts, n_works)
    task = rng.integers(0, len(TASKS), n_works)
    ability = rng.normal(2.5, 0.8, n_works) + (district - n_districts / 2) * 0.004
    score = np.clip(np.rint(ability[:, None] + rng.normal(0, 0.5, (n_works, DIMS))), 1, 4).astype("int64")
    work = np.repeat(np.arange(n_works), DIMS)
    coded = rng.random(work.size) < 0.01
    dims = pd.array(["claim", "evidence", "reasoning", "conventions"], dtype="str")
    frame = pd.DataFrame(
        {
            "rater_id": pd.array([f"L{i:05d}" for i in range(n_works // 25 + 1)], dtype="str").take(work // 25),
            "work_id": pd.array([f"S{i:06d}" for i in range(n_works)], dtype="str").take(work),
            "task_id": pd.array(TASKS, dtype="str").take(task[work]),
            "dimension": dims.take(np.tile(np.arange(DIMS), n_works)),
            "score": pd.array(np.where(coded, 0, score.ravel()), dtype="Int64"),
            "condition_code": pd.array(np.where(coded, "off_topic", ""), dtype="str"),
            "read_type": pd.array(np.full(work.size, "first"), dtype="str"),
            "work_district": pd.array([f"District {d:03d}" for d in range(n_districts)], dtype="str").take(
                district[work]
            ),
        }
    )
    frame.loc[coded, "score"] = pd.NA
    # stored order is not sorted by work: shuffle, as files arrive in any order
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bank = load_bank()
    t0 = time.perf_counter()
    scores = local_scores()
    print(f"simulated {len(scores):,} local scores in {time.perf_counter() - t0:.1f} s")
    auditors = pd.DataFrame(
        {
            "rater_id": [f"A{i:03d}" for i in range(200)],
            "rater_district": [f"District {i // 2:03d}" for i in range(200)],
        }
    )
    kwargs = dict(per_district=20, rate=0.02, near_cut=1, linking=20, bank=bank)
    audit_sample(scores, auditors, seed=0, **kwargs)  # warm-up (imports, bank rubrics)
    times, floor = [], []
    for run in range(args.runs):
        t0 = time.perf_counter()
        result = audit_sample(scores, auditors, seed=run, **kwargs)
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        pd.factorize(scores["work_id"].to_numpy(dtype=object))  # grouping 1,000,000 rows into works
        floor.append(time.perf_counter() - t0)
    loads = result.tables["loads"]["n_assigned"]
    print(
        f"sample: {result.meta['n_sampled']:,} works + {result.meta['n_linking']} linking, "
        f"{len(result.tables['assignments']):,} assignments, loads {loads.min()}-{loads.max()}"
    )
    print(
        f"audit_sample, 1,000,000 scores: median {statistics.median(times):.2f} s over {args.runs} runs "
        f"(min {min(times):.2f}, max {max(times):.2f}); target < 5 s"
    )
    print(f"floor (hashing the 1,000,000 work ids into works): median {statistics.median(floor):.2f} s")
    print(f"numpy {np.__version__}, pandas {pd.__version__}")


if __name__ == "__main__":
    main()
