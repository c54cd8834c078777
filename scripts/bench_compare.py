#!/usr/bin/env python3
"""Benchmark: the comparability report of a statewide audit (`irr compare`'s work, in one process).

    python scripts/bench_compare.py                 # 50,000 rescored works in 100 districts
    python scripts/bench_compare.py --works 500     # audited works per district

Times `compare_districts` on the long scores (a local and an audit read of each work on 4
dimensions, with a subgroup flag) and then the report (terminal text, HTML with the forest
plot, CSV and JSON tables), median of --repeat runs.  Target (issue 12): under 10 s in all.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--districts", type=int, default=100)
    parser.add_argument("--works", type=int, default=500, help="audited works per district")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    spec = importlib.util.spec_from_file_location("sim_comparability", HERE / "sim_comparability.py")
    sim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sim)
    from irr.analysis.comparability import compare_districts
    from irr.model.bank import load_bank
    from irr.report.render import render_terminal, write_report

    bank = load_bank()
    scores = sim.simulate_audit(
        np.random.default_rng(1), n_districts=args.districts, works=args.works, offsets={0: 0.4, 1: -0.4}
    )
    print(f"{args.districts * args.works:,} audited works, {len(scores):,} score rows")
    analysis, report = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = compare_districts(scores, bank)
        mid = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            render_terminal(result)
            write_report(result, Path(tmp), formats=("html", "csv", "json"))
        end = time.perf_counter()
        analysis.append(mid - start)
        report.append(end - mid)
    a, r = statistics.median(analysis), statistics.median(report)
    print(f"compare_districts {a:.2f} s, report {r:.2f} s, total {a + r:.2f} s (target < 10 s)")


if __name__ == "__main__":
    main()
