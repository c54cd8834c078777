#!/usr/bin/env python3
"""Speed and memory of irr.stats side by side with the peer libraries, in one process.

    python scripts/bench_stats.py --quick          # small sizes, checks that everything runs (< 1 min)
    python scripts/bench_stats.py                  # the sizes of issue 3 (several minutes)
    python scripts/bench_stats.py --markdown out.md

Sections: alpha (1e6 units; 2 crossed, 5 double-scored, 20 crossed raters; each level vs
krippendorff 0.9), all (every coefficient at 1e6 x 20 crossed), bootstrap (1,000 replicates of
alpha), icc (100,000 x 2 vs pingouin; from a wide array and from a long DataFrame with integer and
with string ids), memory (10e6 units x 6 categories, in a subprocess).
Peers that would take many minutes are timed on a smaller N and extrapolated linearly ("~").
Times are the median of --repeat runs.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gen_data import generate  # noqa: E402

import irr.stats as st  # noqa: E402

ROWS: list[tuple[str, str, str, str]] = []   # section, what, irr seconds, peer seconds / note


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def record(section, what, ours, peer="", note=""):
    ratio = f"{peer / ours:.1f}x" if isinstance(peer, float) and ours > 0 else ""
    peer_txt = f"{peer:.2f}" if isinstance(peer, float) else str(peer)
    ROWS.append((section, what, f"{ours:.4g}", f"{peer_txt} {ratio} {note}".strip()))
    print(f"{section:10s} {what:55s} irr {ours:9.4g} s   peer {peer_txt:>9s} {ratio:>8s} {note}", flush=True)


def bench_alpha(n, repeat):
    import krippendorff

    for label, raters, design in (("2 raters crossed", 2, "crossed"), ("5 raters, 2 per unit", 5, "double"),
                                  ("20 raters crossed", 20, "crossed")):
        x = generate(n, raters, design=design)

        def build():
            r = st.Ratings.from_wide(x, categories=[1, 2, 3, 4])
            r.count_patterns()     # the sufficient statistics, cached on the Ratings
            return r
        t_build, ratings = timed(build, repeat)
        record("alpha", f"{label}: Ratings + counts + count patterns (n={n:,})", t_build)
        for level in ("nominal", "ordinal", "interval", "ratio"):
            peer, ref = timed(lambda: krippendorff.alpha(x.T, level_of_measurement=level,
                                                         value_domain=[1, 2, 3, 4]), repeat)
            # the like-for-like comparison: one call on the raw units x raters array
            raw, res_raw = timed(lambda: st.krippendorff_alpha(x, level, categories=[1, 2, 3, 4]), repeat)
            ours, res = timed(lambda: st.krippendorff_alpha(ratings, level), repeat)
            assert abs(res.estimate - ref) < 1e-9 and abs(res_raw.estimate - ref) < 1e-9
            record("alpha", f"{label}, {level}, from the raw array (n={n:,})", raw, peer)
            record("alpha", f"{label}, {level}, on the built Ratings (n={n:,})", ours, peer)


def bench_all(n, repeat):
    import statsmodels.stats.inter_rater as smir

    x = generate(n, 20, design="crossed")
    t_build, ratings = timed(lambda: st.Ratings.from_wide(x, categories=[1, 2, 3, 4]), 1)

    def everything(r=ratings):
        out = [st.percent_agreement(r), st.percent_agreement(r, tolerance=1), st.fleiss_kappa(r),
               st.fleiss_kappa(r, "quadratic"), st.gwet_ac(r), st.gwet_ac(r, "quadratic"),
               st.brennan_prediger(r), st.conger_kappa(r)]
        out += [st.krippendorff_alpha(r, lv) for lv in ("nominal", "ordinal", "interval", "ratio")]
        out.append(st.pairwise_table(r, weights="quadratic"))
        out.append(st.icc(r, "A,1"))
        return out

    ours, _ = timed(lambda: everything(st.Ratings.from_wide(x, categories=[1, 2, 3, 4])), 1)
    ours_only, _ = timed(everything, repeat)
    # peer: statsmodels Cohen over all 190 pairs on a 1/10 sample, extrapolated
    sub = max(1, n // 10)
    codes = np.nan_to_num(x[:sub], nan=0).astype(int)

    def sm_pairs():
        for a in range(20):
            for b in range(a + 1, 20):
                both = (codes[:, a] > 0) & (codes[:, b] > 0)
                table = np.zeros((4, 4))
                np.add.at(table, (codes[both, a] - 1, codes[both, b] - 1), 1)
                smir.cohens_kappa(table)
    peer, _ = timed(sm_pairs, 1)
    record("all", f"Ratings construction, 1e6 x 20 crossed (n={n:,})", t_build)
    record("all", "all coefficients (15 results incl. 190 pairs, ICC)", ours_only, f"~{peer * n / sub:.1f}",
           "statsmodels pairwise Cohen incl. np.add.at tables")
    record("all", "all coefficients + Ratings construction", ours)


def bench_bootstrap(n_small, n_big, repeat):
    import krippendorff

    for n in (n_small, n_big):
        x = generate(n, 5, design="double")
        ratings = st.Ratings.from_wide(x, categories=[1, 2, 3, 4])
        for level in ("nominal", "ordinal"):
            res = st.krippendorff_alpha(ratings, level)
            ours, _ = timed(lambda: res.confidence_interval(method="bootstrap", n_resamples=1000), 1)
            peer_note = ""
            peer = ""
            if n == n_small:
                rng = np.random.default_rng(0)
                reps = 30
                t0 = time.perf_counter()
                for _ in range(reps):   # the peers' way: a Python loop over replicates
                    idx = rng.integers(0, n, n)
                    krippendorff.alpha(x[idx].T, level_of_measurement=level, value_domain=[1, 2, 3, 4])
                peer = (time.perf_counter() - t0) * 1000 / reps
                peer_note = "(loop over krippendorff, extrapolated from 30)"
            record("bootstrap", f"1,000 BCa replicates of {level} alpha, n={n:,}", ours, peer, peer_note)


def timed_together(fns: dict, repeat: int) -> dict:
    """Median seconds of each function, the calls interleaved so that all see the same machine load."""
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(v) for name, v in times.items()}


def bench_icc(n, repeat):
    import pandas as pd
    import pingouin

    x = generate(n, 2, design="crossed", missing=0.0)
    long = pd.DataFrame(x).stack().reset_index()
    long.columns = ["t", "r", "s"]                               # integer ids
    named = long.assign(t="paper-" + long["t"].astype(str), r="rater-" + long["r"].astype(str))
    peer, ref = timed(lambda: pingouin.intraclass_corr(long, "t", "r", "s"), repeat)
    peer_named, ref_named = timed(lambda: pingouin.intraclass_corr(named, "t", "r", "s"), repeat)
    ours, one = timed(lambda: st.icc(x, "A,1"), max(repeat, 20))
    table = st.icc_table(x)
    assert abs(one.estimate - ref["ICC"].iloc[1]) < 1e-9      # rows in the order 1,1 A,1 C,1 1,k A,k C,k
    assert np.allclose(table["estimate"], ref["ICC"], atol=1e-9)
    assert np.allclose(st.icc_table(st.Ratings.from_long(named, "t", "r", "s"))["estimate"], ref_named["ICC"],
                       atol=1e-9)
    # the three paths interleaved: the long/wide ratio is not moved by the load of the moment
    t = timed_together({
        "wide": lambda: st.icc_table(st.Ratings.from_wide(x)),
        "long int": lambda: st.icc_table(st.Ratings.from_long(long, "t", "r", "s")),
        "long str": lambda: st.icc_table(st.Ratings.from_long(named, "t", "r", "s")),
    }, max(repeat, 20))
    record("icc", f"ICC(A,1) from a wide array, {n:,} x 2", ours, peer, "pingouin.intraclass_corr (all six)")
    record("icc", f"all six forms (from_wide + icc_table), {n:,} x 2", t["wide"], peer,
           "pingouin.intraclass_corr")
    record("icc", f"all six forms from the long DataFrame, integer ids, {n:,} x 2", t["long int"], peer,
           f"pingouin.intraclass_corr; {t['long int'] / t['wide']:.2f}x the wide path")
    record("icc", f"all six forms from the long DataFrame, string ids, {n:,} x 2", t["long str"], peer_named,
           f"pingouin.intraclass_corr on the same frame; {t['long str'] / t['wide']:.2f}x the wide path")


MEMORY_CHILD = """
import sys, json, tracemalloc
sys.path.insert(0, {scripts!r})
from _gen_data import generate
import irr.stats as st
x = generate({n}, 2, k=6, design="crossed")
tracemalloc.start()                       # numpy reports its buffers to tracemalloc
r = st.Ratings.from_wide(x, categories=[1, 2, 3, 4, 5, 6])
for level in ("nominal", "ordinal", "interval", "ratio"):
    st.krippendorff_alpha(r, level)
st.fleiss_kappa(r)
current, peak = tracemalloc.get_traced_memory()
print(json.dumps({{"input_bytes": x.nbytes, "peak_bytes": peak}}))
"""


def bench_memory(n):
    code = MEMORY_CHILD.format(scripts=str(Path(__file__).resolve().parent), n=n)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    info = json.loads(out.stdout.strip().splitlines()[-1])
    record("memory", f"alpha x4 levels + Fleiss, {n:,} units x 2 raters, K=6", time.perf_counter() - t0,
           f"peak {(info['peak_bytes'] + info['input_bytes']) / 2**30:.2f} GiB",
           f"(input array {info['input_bytes'] / 2**30:.2f} GiB + peak traced allocations "
           f"{info['peak_bytes'] / 2**30:.2f} GiB)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["alpha", "all", "bootstrap", "icc", "memory"])
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    big = 20_000 if args.quick else 1_000_000
    sizes = dict(alpha=big, all=big, boot=(2_000 if args.quick else 10_000, big), icc=10_000 if args.quick else 100_000,
                 memory=200_000 if args.quick else 10_000_000)
    repeat = 1 if args.quick else args.repeat
    run = {"alpha": lambda: bench_alpha(sizes["alpha"], repeat), "all": lambda: bench_all(sizes["all"], repeat),
           "bootstrap": lambda: bench_bootstrap(*sizes["boot"], repeat), "icc": lambda: bench_icc(sizes["icc"], repeat),
           "memory": lambda: bench_memory(sizes["memory"])}
    for name, fn in run.items():
        if args.only in (None, name):
            fn()
    if args.markdown:
        lines = ["| section | what | irr (s) | peer (s), ratio |", "|---|---|---:|---|"]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in ROWS]
        args.markdown.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
