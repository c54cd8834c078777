"""Agreement statistics on Dask: N ratings as Parquet, all default coefficients, 2 workers.

    .venv/bin/python scripts/bench_dask.py --ratings 100000000 --out /tmp/irr-bench
    .venv/bin/python scripts/bench_dask.py --out /tmp/irr-bench --reuse --no-full --in-memory 100000000
    .venv/bin/python scripts/bench_dask.py --ratings 2000000 --in-memory 2000000
    .venv/bin/python scripts/bench_dask.py --ratings 2000000 --in-memory 2000000 --coefficients conger_kappa icc:A,1

Writes the ratings in chunks (2 reads per work, 4 dimensions, 200 raters, scores 1-4), runs
``agreement_table(ddf, by="dimension")`` with ``DEFAULT_COEFFICIENTS`` (or ``--coefficients``) on a LocalCluster of 2
worker processes, and prints the wall time and each worker's peak resident memory; then the
in-memory path on the first ``--in-memory`` ratings (the first Parquet files, read with pandas:
time and the process's peak memory) against Dask on the same files, for the ratio.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_ratings(folder: Path, n_ratings: int, chunk: int = 4_000_000, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    per_work = 2 * 4  # 2 reads x 4 dimensions
    n_works = n_ratings // per_work
    works_per_chunk = max(1, chunk // per_work)
    for part, start in enumerate(range(0, n_works, works_per_chunk)):
        works = np.arange(start, min(start + works_per_chunk, n_works))
        n = works.size
        true = rng.integers(1, 5, size=n)
        raters = rng.integers(0, 200, size=(n, 2))
        raters[:, 1] = (raters[:, 0] + 1 + rng.integers(0, 199, size=n)) % 200
        frames = []
        for dim in range(4):
            for read in range(2):
                score = np.clip(true + rng.integers(-1, 2, size=n), 1, 4).astype(np.int8)
                frames.append(
                    pd.DataFrame(
                        {
                            "work_id": works,
                            "dimension": np.int8(dim),
                            "rater_id": raters[:, read].astype(np.int16),
                            "score": score,
                        }
                    )
                )
        pd.concat(frames, ignore_index=True).sort_values(["work_id", "dimension"]).to_parquet(
            folder / f"part-{part:05d}.parquet", index=False
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratings", type=int, default=100_000_000)
    parser.add_argument("--out", type=Path, default=None, help="folder for the Parquet files (default: a temp dir)")
    parser.add_argument("--in-memory", type=int, default=0, help="also run the in-memory path on this many ratings")
    parser.add_argument("--reuse", action="store_true", help="use the Parquet files already in --out")
    parser.add_argument("--no-full", action="store_true", help="skip the Dask run on all the ratings")
    parser.add_argument(
        "--coefficients", nargs="+", default=None, help="specs (default: DEFAULT_COEFFICIENTS), e.g. conger_kappa"
    )
    args = parser.parse_args()
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from irr.stats import DEFAULT_COEFFICIENTS, agreement_table

    coefficients = args.coefficients or list(DEFAULT_COEFFICIENTS)

    folder = args.out or Path(tempfile.mkdtemp(prefix="irr-bench-dask-"))
    if not (args.reuse and sorted(folder.glob("*.parquet"))):
        t0 = time.perf_counter()
        write_ratings(folder, args.ratings)
        print(f"wrote {args.ratings:,} ratings to {folder} in {time.perf_counter() - t0:.1f} s")
    if not args.no_full:
        with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                ddf = dd.read_parquet(folder)
                t0 = time.perf_counter()
                table = agreement_table(
                    ddf, unit="work_id", rater="rater_id", score="score", by="dimension", coefficients=coefficients
                )
                wall = time.perf_counter() - t0
                peaks = client.run(_peak_rss_mib)
        print(
            f"dask, 2 workers: {wall:.1f} s; worker peak RSS (MiB): "
            + ", ".join(f"{v:.0f}" for v in peaks.values())
            + f"; shuffled: {table.attrs['dask']['shuffled']}"
        )
        print(table[["dimension", "coefficient", "estimate", "standard_error"]].to_string())
    if args.in_memory:
        files = sorted(folder.glob("*.parquet"))
        frames, total = [], 0
        for f in files:
            if total >= args.in_memory:
                break
            frames.append(pd.read_parquet(f))
            total += len(frames[-1])
        used = files[: len(frames)]
        t0 = time.perf_counter()
        df = pd.concat(frames, ignore_index=True)
        del frames
        in_memory = agreement_table(
            df, unit="work_id", rater="rater_id", score="score", by="dimension", coefficients=coefficients
        )
        t_mem = time.perf_counter() - t0
        peak = _peak_rss_mib()
        n = len(df)
        del df
        with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
            with Client(cluster):
                t0 = time.perf_counter()
                on_dask = agreement_table(
                    dd.read_parquet(used),
                    unit="work_id",
                    rater="rater_id",
                    score="score",
                    by="dimension",
                    coefficients=coefficients,
                )
                t_dask = time.perf_counter() - t0
        gap = (in_memory["estimate"] - on_dask["estimate"]).abs().max()
        print(
            f"{n:,} ratings ({len(used)} files): in memory {t_mem:.1f} s (peak RSS {peak / 1024:.1f} GiB), "
            f"dask on the same files {t_dask:.1f} s (ratio {t_dask / t_mem:.2f}); largest estimate difference {gap:.1e}"
        )


if __name__ == "__main__":
    main()
