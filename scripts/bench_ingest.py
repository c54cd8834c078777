#!/usr/bin/env python3
"""Ingest speed against its floor, in one process: 1,000,000 score rows from CSV.

    python scripts/bench_ingest.py [--rows 1000000] [--repeat 3]

Each repeat measures, side by side on the same file:

(a) the floor: ``pandas.read_csv(dtype=str)`` of the file plus one bulk SQLite
    insert of the same rows into a plain table (``executemany`` in one
    transaction, same journal mode as the store);
(b) ``irr.io.ingest`` of the file into a fresh store (every validation, one
    transaction);
(c) ``Store.scores()`` of all the rows.

and prints the medians and the ratio (b)/(a).  Targets (issue 11): ingest
< 4 s for 1M rows on a quiet 2-core machine, against a floor of ~1.7 s.
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import irr
from irr.io import ingest


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


def floor(sheet: Path, db: Path) -> float:
    """pandas.read_csv(dtype=str) + executemany of the same rows into a plain table, one transaction."""
    t0 = time.perf_counter()
    df = pd.read_csv(sheet, dtype=str)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"CREATE TABLE rows ({', '.join(f'c{i} TEXT' for i in range(df.shape[1]))})")
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO rows VALUES ({', '.join('?' * df.shape[1])})",
                     zip(*(df[c].tolist() for c in df.columns)))   # lists: the quickest way out of pandas
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - t0


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    bank = irr.load_bank()
    session = {"id": "bench", "kind": "regional_scoring", "date": "2026-11-22"}
    times: dict[str, list[float]] = {"floor": [], "ingest": [], "scores": []}
    with tempfile.TemporaryDirectory() as tmp:
        sheet = Path(tmp) / "scores.csv"
        make_sheet(sheet, args.rows)
        for i in range(args.repeat):
            times["floor"].append(floor(sheet, Path(tmp) / f"floor-{i}.sqlite"))
            store = irr.Store(Path(tmp) / f"bench-{i}.sqlite")
            t0 = time.perf_counter()
            [result] = ingest(store, [sheet], session, bank=bank)
            times["ingest"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            scores = store.scores(bank=bank)
            times["scores"].append(time.perf_counter() - t0)
            store.close()
            assert result.n_scores == len(scores) == args.rows
            print(f"run {i + 1}: floor {times['floor'][-1]:.2f} s, ingest {times['ingest'][-1]:.2f} s "
                  f"({times['ingest'][-1] / times['floor'][-1]:.2f}x), Store.scores() {times['scores'][-1]:.2f} s",
                  flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"medians of {args.repeat} runs, {args.rows:,} rows:")
    print(f"  (a) floor, pandas.read_csv(dtype=str) + executemany: {med['floor']:.2f} s")
    print(f"  (b) irr.io.ingest (validated, one transaction):      {med['ingest']:.2f} s (target < 4 s)")
    print(f"  (b)/(a):                                             {med['ingest'] / med['floor']:.2f}x")
    print(f"  (c) Store.scores() -> {args.rows:,} rows:            {med['scores']:.2f} s (target < 3 s)")


if __name__ == "__main__":
    main()
