#!/usr/bin/env python3
"""Speed of the many-facet Rasch fit (``irr.stats.facets.fit_rasch_facets``) beside raschpy and mirt.

    python scripts/bench_facets.py                         # the issue's size: 25,000 works (~208,000 ratings)
    python scripts/bench_facets.py --works 2000 --peer-size 10000   # a quick check (peers on a subsample)

Design (seeded): ``--works`` works x 40 raters x 4 dimensions, each work double-scored by 2
random raters on every dimension, plus a linking set of ``--link`` works scored by all 40
raters; 5 categories; generated from the rating-scale model (works N(0, 1.5^2), severities
evenly spread over [-1, 1], dimensions -0.3 .. 0.3, thresholds -2, -0.7, 0.7, 2).

Ours (bias-corrected default and plain JMLE, ``correct_bias=False``) always runs on the full
data.  raschpy 1.4 (``MFRM``, model 'global', estimation 'cp-full-rcl') and mirt 1.2
(``PolytomousMFRM`` + ``fit_mfrm``, MML) run on the same full data by default (both take
seconds); with ``--peer-size N`` they run on a subsample of about N ratings (the linking set
plus random double-scored works) and their time is extrapolated linearly by ratings (marked
``~``; raschpy's cost is not linear in ratings, so this overstates it).  The last two columns
compare each method's rater severities with the generating ones, on the data it fitted: the
correlation, and the SD ratio (plain JMLE spreads the raters out; the others should be near 1).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from irr.stats.facets import category_moments, fit_rasch_facets

N_RATERS, N_DIMS, N_CAT = 40, 4, 5
TAU = np.array([-2.0, -0.7, 0.7, 2.0])


def simulate(n_works: int, n_link: int, seed: int) -> dict[str, np.ndarray]:
    """Long-form ratings of the design in the module docstring."""
    rng = np.random.default_rng(seed)
    severity = np.linspace(-1.0, 1.0, N_RATERS)
    difficulty = np.linspace(-0.3, 0.3, N_DIMS)
    ability = rng.normal(0.0, 1.5, n_works + n_link)
    # double-scored works: two distinct raters each (second drawn from the other 39)
    first = rng.integers(0, N_RATERS, n_works)
    second = (first + rng.integers(1, N_RATERS, n_works)) % N_RATERS
    pairs = np.column_stack([first, second])
    work_d = np.repeat(np.arange(n_works), 2 * N_DIMS)
    rater_d = np.repeat(pairs.ravel(), N_DIMS)
    work_l = np.repeat(np.arange(n_works, n_works + n_link), N_RATERS * N_DIMS)
    rater_l = np.tile(np.repeat(np.arange(N_RATERS), N_DIMS), n_link)
    work = np.concatenate([work_d, work_l])
    rater = np.concatenate([rater_d, rater_l])
    dim = np.tile(np.arange(N_DIMS), work.size // N_DIMS)
    eta = ability[work] - severity[rater] - difficulty[dim]
    P, *_ = category_moments(eta, np.zeros(eta.size, dtype=int), TAU[None, :], np.array([N_CAT]))
    x = (rng.random(eta.size)[:, None] > np.cumsum(P, axis=1)[:, :-1]).sum(axis=1)
    return dict(x=x, work=work, rater=rater, dim=dim, severity=severity, n_works=n_works + n_link)


def subsample(data: dict[str, np.ndarray], n_link: int, target: int, seed: int) -> dict[str, np.ndarray]:
    """The linking set plus random double-scored works, about ``target`` ratings in all."""
    n_double = data["n_works"] - n_link
    per_work = 2 * N_DIMS
    keep_n = int(np.clip((target - n_link * N_RATERS * N_DIMS) // per_work, 1, n_double))
    rng = np.random.default_rng(seed + 1)
    keep = np.zeros(data["n_works"], dtype=bool)
    keep[rng.choice(n_double, keep_n, replace=False)] = True
    keep[n_double:] = True
    rows = keep[data["work"]]
    new_id = np.cumsum(keep) - 1
    out = {k: data[k][rows] for k in ("x", "rater", "dim")}
    out["work"] = new_id[data["work"][rows]]
    out["severity"] = data["severity"]
    out["n_works"] = int(keep.sum())
    return out


def run_ours(data: dict[str, np.ndarray], correct_bias: bool) -> np.ndarray:
    el = np.column_stack([data["work"], data["rater"], data["dim"]])
    fit = fit_rasch_facets(data["x"], el, [data["n_works"], N_RATERS, N_DIMS], correct_bias=correct_bias)
    return fit.measures[1]


def run_fit_facets(data: dict[str, np.ndarray]) -> np.ndarray:
    """The whole analysis, as `irr raters` runs it: string ids in a DataFrame, every table, the bias table."""
    from irr.analysis.facets import fit_facets

    frame = pd.DataFrame(
        {
            "work_id": np.char.add("W", data["work"].astype(str)),
            "rater_id": np.char.add("R", data["rater"].astype(str).astype("<U3")),
            "dimension": np.char.add("d", data["dim"].astype(str)),
            "score": data["x"] + 1,
        }
    )
    result = fit_facets(frame)
    raters = result.measures("rater_id")
    order = np.argsort(raters.index.str[1:].astype(int))
    return raters["measure"].to_numpy()[order]


def run_raschpy(data: dict[str, np.ndarray]) -> np.ndarray:
    import raschpy

    frame = pd.DataFrame(
        {
            "rater": np.char.add("R", data["rater"].astype(str)),
            "person": np.char.add("P", data["work"].astype(str)),
            "item": np.char.add("I", data["dim"].astype(str)),
            "x": data["x"].astype(float),
        }
    ).pivot_table(index=["rater", "person"], columns="item", values="x")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = raschpy.MFRM(frame, max_score=N_CAT - 1)
        m.calibrate(model="global", estimation="cp-full-rcl")
    return m.facet_effects_global.reindex([f"R{r}" for r in range(N_RATERS)]).to_numpy(float)


def run_mirt(data: dict[str, np.ndarray]) -> np.ndarray:
    from mirt.estimation import fit_mfrm
    from mirt.models import Facet, PolytomousMFRM

    # one row per work, one column per rating (the linking works have 160)
    order = np.argsort(data["work"], kind="stable")
    work = data["work"][order]
    counts = np.bincount(work, minlength=data["n_works"])
    col = np.arange(work.size) - np.repeat(np.cumsum(counts) - counts, counts)
    shape = (data["n_works"], int(counts.max()))
    responses = np.full(shape, -1)
    items = np.zeros(shape, dtype=int)
    raters = np.zeros(shape, dtype=int)
    responses[work, col] = data["x"][order]
    items[work, col] = data["dim"][order]
    raters[work, col] = data["rater"][order]
    model = PolytomousMFRM(N_DIMS, N_CAT, [Facet("rater", N_RATERS)])
    result = fit_mfrm(model, responses, {"rater": raters}, item_indices=items)
    return result.facet_parameters["rater"]


def timed(fn, *args) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--works", type=int, default=25_000, help="double-scored works (default 25,000)")
    ap.add_argument("--link", type=int, default=50, help="linking works scored by all 40 raters (default 50)")
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--peer-size", type=int, default=0, help="fit the peers on a subsample of this many ratings")
    ap.add_argument("--skip-peers", action="store_true")
    args = ap.parse_args()

    t0 = time.perf_counter()
    data = simulate(args.works, args.link, args.seed)
    n_full = data["x"].size
    print(
        f"{n_full:,} ratings: {data['n_works']:,} works x {N_RATERS} raters x {N_DIMS} dimensions, "
        f"{N_CAT} categories (simulated in {time.perf_counter() - t0:.1f} s)"
    )
    truth = data["severity"]
    # method, ratings fitted, seconds (for the full data), extrapolated, r and SD ratio against the truth
    rows: list[tuple[str, int, float, bool, float, float]] = []

    def versus_truth(sev: np.ndarray) -> tuple[float, float]:
        return float(np.corrcoef(sev, truth)[0, 1]), float(np.std(sev) / np.std(truth))

    for label, flag in (("ours (correct_bias=True)", True), ("ours (correct_bias=False)", False)):
        sec, sev = timed(run_ours, data, flag)
        rows.append((label, n_full, sec, False, *versus_truth(sev)))
        print(f"  {label}: {sec:.2f} s", flush=True)
    sec, sev = timed(run_fit_facets, data)
    rows.append(
        ("fit_facets (all tables: measures, fit, agreement pairs, bias 13/14)", n_full, sec, False, *versus_truth(sev))
    )
    print(f"  fit_facets, every table: {sec:.2f} s", flush=True)
    if not args.skip_peers:
        peer_data = subsample(data, args.link, args.peer_size, args.seed) if args.peer_size > 0 else data
        n_peer = peer_data["x"].size
        for label, fn in (("raschpy 1.4 MFRM cp-full-rcl", run_raschpy), ("mirt 1.2 fit_mfrm (MML)", run_mirt)):
            try:
                sec, sev = timed(fn, peer_data)
            except ImportError as exc:
                print(f"  {label}: not importable ({exc})")
                continue
            rows.append((label, n_peer, sec * n_full / n_peer, n_peer < n_full, *versus_truth(sev)))
            print(f"  {label}: {sec:.2f} s on {n_peer:,} ratings", flush=True)

    ours_sec = rows[0][2]
    print()
    print(
        f"| method | ratings fitted | seconds for {n_full:,} ratings | vs ours (default) | r(severity, truth) "
        "| SD ratio to truth |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for label, n, sec, extrapolated, r, ratio in rows:
        mark = "~" if extrapolated else ""
        print(f"| {label} | {n:,} | {mark}{sec:.2f} | {mark}{sec / ours_sec:.2f}x | {r:.4f} | {ratio:.3f} |")
    if any(row[3] for row in rows):
        print("~ timed on the subsample and extrapolated linearly by ratings; r and SD ratio are on the subsample")


if __name__ == "__main__":
    main()
