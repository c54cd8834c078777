#!/usr/bin/env python3
"""Ingest speed: 1,000,000 score rows from CSV into a fresh store, then Store.scores().

    python scripts/bench_ingest.py [--rows 1000000]

Targets (issue 4): ingest < 20 s, Store.scores() of 1M rows < 3 s, on 2 cores.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import irr


def make_sheet(path: Path, rows: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    dims = np.array(["claim", "evidence", "reasoning", "conventions"])
    n_reads = rows // 4
    # two reads per work sample, by raters from two disjoint pools: (rater, work) pairs are unique
    works = np.arange(n_reads) // 2
    raters = (np.arange(n_reads) % 2) * 200 + rng.integers(0, 200, n_reads)
    df = pd.DataFrame({
        "rater_id": np.char.add("R", np.repeat(raters, 4).astype(str)),
        "work_id": np.char.add("W", np.repeat(works, 4).astype(str)),
        "task_id": "ela-g8-argument",
        "dimension": np.tile(dims, n_reads),
        "score": rng.integers(1, 5, n_reads * 4),
        "read_type": np.repeat(np.where(np.arange(n_reads) % 2 == 0, "first", "second"), 4),
        "work_district": np.repeat(np.char.add("D", (works % 30).astype(str)), 4),
    })
    df.to_csv(path, index=False)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    bank = irr.load_bank()
    with tempfile.TemporaryDirectory() as tmp:
        sheet = Path(tmp) / "scores.csv"
        make_sheet(sheet, args.rows)
        store = irr.Store(Path(tmp) / "bench.sqlite")
        t0 = time.perf_counter()
        [result] = store.ingest([sheet], {"id": "bench", "kind": "regional_scoring", "date": "2026-11-22"}, bank=bank)
        t_ingest = time.perf_counter() - t0
        t0 = time.perf_counter()
        scores = store.scores(bank=bank)
        t_scores = time.perf_counter() - t0
        t0 = time.perf_counter()
        ratings = store.ratings("ela-g8-argument", "claim", bank=bank)
        t_ratings = time.perf_counter() - t0
    print(f"ingest {result.n_scores:,} rows from CSV: {t_ingest:.2f} s (target < 20 s)")
    print(f"Store.scores() -> {len(scores):,} rows: {t_scores:.2f} s (target < 3 s)")
    print(f"Store.ratings(task, dimension) -> {ratings.n_ratings:,} ratings: {t_ratings:.2f} s")


if __name__ == "__main__":
    main()
