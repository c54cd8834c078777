#!/usr/bin/env python3
"""Seeded simulations of the ICC on the designs of issue 10 (items 1, 2 and 11).

    python scripts/sim_icc.py              # full size: 1000 replicates per design
    python scripts/sim_icc.py --reps 100   # quick check that it runs

Scores are y = quality_i + severity_j + noise_ij with variances 1, 0.25 and 1
(true ICC(C,1) = 0.50, ICC(A,1) = 1/2.25).  The one-way forms are simulated
under their own model (a fresh reader per rating: y = quality_i + noise_ij
with noise variance 1.25).  Prints

(a) mean ICC(C,1) on designs whose raters fall into groups sharing no paper:
    6 scoring rooms of 5 papers x 2 raters and of 10 x 3, and a rater who alone
    scores some papers (true value 0.50);
(b) coverage of the 95% analytic interval of all six forms on an unbalanced
    design: 60 papers, 8 raters, 42 papers read by 2 raters, 18 by all 8; the
    "k" forms' true value uses the harmonic mean number of reads (2.58), as
    the estimate does;
(c) the rejection rate at alpha = .05 of each form's F test of ICC = 0 when
    the papers do not differ (n = 20 papers, k = 3 raters, complete; rater
    variance 1 here).

Only the public API is used (``irr.stats.icc`` and ``icc_table``), so the script also
runs against older versions for comparison.  Replicates are drawn in one
array per design; the library is then called once per replicate.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from irr.stats import icc, icc_table

FORMS = ["ICC(1,1)", "ICC(A,1)", "ICC(C,1)", "ICC(1,k)", "ICC(A,k)", "ICC(C,k)"]
VAR_UNIT, VAR_RATER, VAR_ERROR = 1.0, 0.25, 1.0


def two_way(rng, reps: int, mask: np.ndarray, var_unit: float = VAR_UNIT,
            var_rater: float = VAR_RATER) -> np.ndarray:
    """``reps`` data sets of the two-way random model on the design ``mask`` (NaN = not read)."""
    n, k = mask.shape
    y = (rng.normal(0, var_unit**0.5, (reps, n, 1)) + rng.normal(0, var_rater**0.5, (reps, 1, k))
         + rng.normal(0, VAR_ERROR**0.5, (reps, n, k)))
    return np.where(mask, y, np.nan)


def one_way(rng, reps: int, mask: np.ndarray, var_unit: float = VAR_UNIT) -> np.ndarray:
    """The one-way model: every reading by a different reader (rater variance is noise)."""
    n, k = mask.shape
    y = rng.normal(0, var_unit**0.5, (reps, n, 1)) + rng.normal(0, (VAR_RATER + VAR_ERROR)**0.5, (reps, n, k))
    return np.where(mask, y, np.nan)


def rooms(n_rooms: int, papers: int, raters: int) -> np.ndarray:
    """Block-diagonal design: each room's raters read all of its papers, nobody else's."""
    return np.kron(np.eye(n_rooms, dtype=bool), np.ones((papers, raters), dtype=bool))


def lone_rater() -> np.ndarray:
    """12 papers double-read round-robin by raters 0-3, and 8 papers that rater 4 alone read."""
    mask = np.zeros((20, 5), dtype=bool)
    first = np.arange(12) % 4
    mask[np.arange(12), first] = True
    mask[np.arange(12), (first + 1 + np.arange(12) // 4) % 4] = True
    mask[12:, 4] = True
    return mask


def unbalanced(rng) -> np.ndarray:
    """60 papers, 8 raters: 42 papers read by 2 raters drawn at random, 18 read by all 8."""
    mask = np.zeros((60, 8), dtype=bool)
    pick = np.argsort(rng.random((42, 8)), axis=1)[:, :2]
    np.put_along_axis(mask[:42], pick, True, axis=1)
    mask[42:] = True
    return mask


def columns(data: np.ndarray, *names: str) -> dict[str, np.ndarray]:
    """``icc_table`` of every replicate: each requested column as a (replicates, 6 forms) array."""
    out = {name: np.empty((len(data), len(FORMS))) for name in names}
    for i, x in enumerate(data):
        table = icc_table(x)
        for name in names:
            out[name][i] = table[name].to_numpy(dtype=float)
    return out


def section_a(rng, reps: int) -> list[str]:
    lines = ["(a) mean ICC(C,1), raters in groups that share no paper (true 0.50)",
             "| design | papers | raters | rater groups | mean ICC(C,1) | SD |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, mask in [("6 rooms of 5 papers x 2 raters", rooms(6, 5, 2)),
                       ("6 rooms of 10 papers x 3 raters", rooms(6, 10, 3)),
                       ("12 papers double-read by 4 raters, 8 read by a fifth alone", lone_rater())]:
        est = np.array([icc(x, "C,1").estimate for x in two_way(rng, reps, mask)])
        groups = _rater_groups(mask)
        lines.append(f"| {name} | {mask.shape[0]} | {mask.shape[1]} | {groups} | {np.nanmean(est):.3f} | "
                     f"{np.nanstd(est):.3f} |")
    return lines


def _rater_groups(mask: np.ndarray) -> int:
    """Connected groups of the unit-rater graph of a design (to label the table)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components
    return connected_components(csr_matrix(mask.T.astype(float) @ mask), directed=False)[0]


def section_b(rng, reps: int) -> list[str]:
    mask = unbalanced(np.random.default_rng(12345))          # one fixed design
    km = mask.shape[0] / (1 / mask.sum(axis=1)).sum()
    truth = np.array([1 / 2.25, 1 / 2.25, 0.5, 1 / (1 + 1.25 / km), 1 / (1 + 1.25 / km), 1 / (1 + 1 / km)])
    two = columns(two_way(rng, reps, mask), "ci_low", "ci_high")
    one = columns(one_way(rng, reps, mask), "ci_low", "ci_high")
    one_way_form = np.array([form.startswith("ICC(1") for form in FORMS])
    low = np.where(one_way_form, one["ci_low"], two["ci_low"])
    high = np.where(one_way_form, one["ci_high"], two["ci_high"])
    defined = np.isfinite(low) & np.isfinite(high)
    covered = (defined & (low <= truth) & (truth <= high)).mean(axis=0)
    below, above = (defined & (high < truth)).mean(axis=0), (defined & (low > truth)).mean(axis=0)
    lines = [f"(b) coverage of the 95% analytic interval, 60 papers (42 read twice, 18 by all 8 raters), "
             f"harmonic mean reads {km:.3f}; {reps} replicates",
             "| form | true value | coverage | interval below truth | above truth | undefined |",
             "|---|---:|---:|---:|---:|---:|"]
    for i, form in enumerate(FORMS):
        lines.append(f"| {form} | {truth[i]:.4f} | {covered[i]:.3f} | {below[i]:.3f} | {above[i]:.3f} "
                     f"| {(~defined[:, i]).mean():.3f} |")
    return lines


def section_c(rng, reps: int) -> list[str]:
    mask = np.ones((20, 3), dtype=bool)
    # H0: the papers do not differ; rater severities vary as much as the noise (where the
    # old df2 = v made the agreement forms' test most conservative)
    two = columns(two_way(rng, reps, mask, var_unit=0.0, var_rater=1.0), "p_value", "df1", "df2")
    one = columns(one_way(rng, reps, mask, var_unit=0.0), "p_value", "df1", "df2")
    lines = [f"(c) rejection rate of the F test of ICC = 0 at alpha = .05 under H0 (n = 20, k = 3, rater "
             f"variance = residual variance = 1); {reps} replicates",
             "| form | df of the test (first replicate) | rejection rate |", "|---|---|---:|"]
    for i, form in enumerate(FORMS):
        res = one if form.startswith("ICC(1") else two
        lines.append(f"| {form} | ({res['df1'][0, i]:.4g}, {res['df2'][0, i]:.4g}) | "
                     f"{(res['p_value'][:, i] < 0.05).mean():.3f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000, help="replicates per design (default 1000)")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--only", choices=["a", "b", "c"], action="append", help="run only these sections")
    args = parser.parse_args()
    start, cpu = time.perf_counter(), time.process_time()
    for name, section in (("a", section_a), ("b", section_b), ("c", section_c)):
        if args.only and name not in args.only:
            continue
        rng = np.random.default_rng([args.seed, ord(name)])     # each section reproducible on its own
        print("\n".join(section(rng, args.reps)), end="\n\n", flush=True)
    print(f"{time.perf_counter() - start:.0f} s wall, {time.process_time() - cpu:.0f} s CPU")


if __name__ == "__main__":
    main()
