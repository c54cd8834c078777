#!/usr/bin/env python3
"""Speed of ``g_study`` (Henderson's Method 1 and its person bootstrap) beside statsmodels REML and GeneralizIT.

    python scripts/bench_gstudy.py                    # 5,000 students x 4 tasks x 5 raters, 30% of cells missing
    python scripts/bench_gstudy.py --students 7143    # about 100,000 scores
    python scripts/bench_gstudy.py --reml-students 50 --skip-generalizit

Rows: ``g_study`` without the bootstrap (n_resamples=0), with the default 1,000-resample bootstrap,
``d_study`` of a 10 x 10 grid on the fitted result, ``g_study(method="reml")`` (statsmodels MixedLM,
dense) and GeneralizIT 0.1.2 (pandas Method 1, no bootstrap) -- the peers on the subsample they can
handle, reported at the size they ran (no extrapolation).  Data: seeded p x t x r random-effects
scores; each cell dropped with probability ``--missing``.  Times are the median of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time
import warnings

import numpy as np
import pandas as pd

from irr.analysis.gstudy import g_study


def make_scores(n_students: int, n_tasks: int, n_raters: int, missing: float, seed: int = 0) -> pd.DataFrame:
    """Long p x t x r scores from the random-effects model, ``missing`` of the cells dropped."""
    rng = np.random.default_rng(seed)
    p, t, r = np.meshgrid(np.arange(n_students), np.arange(n_tasks), np.arange(n_raters), indexing="ij")
    y = (
        3.0
        + rng.normal(0, 0.8, n_students)[p]
        + rng.normal(0, 0.3, n_tasks)[t]
        + rng.normal(0, 0.2, n_raters)[r]
        + rng.normal(0, 0.5, (n_students, n_tasks))[p, t]
        + rng.normal(0, 0.3, (n_students, n_raters))[p, r]
        + rng.normal(0, 0.1, (n_tasks, n_raters))[t, r]
        + rng.normal(0, 0.6, p.shape)
    )
    keep = rng.random(p.shape) >= missing
    return pd.DataFrame(
        {
            "student_id": [f"S{i:05d}" for i in p[keep]],
            "task_id": [f"T{i}" for i in t[keep]],
            "rater_id": [f"R{i:02d}" for i in r[keep]],
            "score": y[keep],
        }
    )


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall-clock seconds of ``repeat`` calls, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def run_generalizit(scores: pd.DataFrame):
    import generalizit

    data = scores.rename(columns={"student_id": "p", "task_id": "t", "rater_id": "r"})
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gt = generalizit.GeneralizIT(data, "p x t x r", "score")
        gt.calculate_anova()
        gt.calculate_g_coefficients()
    return gt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--students", type=int, default=5000)
    ap.add_argument("--tasks", type=int, default=4)
    ap.add_argument("--raters", type=int, default=5)
    ap.add_argument("--missing", type=float, default=0.30)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reml-students", type=int, default=100, help="students in the REML subsample")
    ap.add_argument("--generalizit-students", type=int, default=0, help="GeneralizIT subsample (0: all)")
    ap.add_argument("--skip-reml", action="store_true")
    ap.add_argument("--skip-generalizit", action="store_true")
    args = ap.parse_args()

    scores = make_scores(args.students, args.tasks, args.raters, args.missing)
    n = len(scores)
    shape = f"{args.students:,} x {args.tasks} x {args.raters}, {n:,} scores"
    rows: list[tuple[str, str, str, str]] = []

    sec, g = timed(lambda: g_study(scores, n_resamples=0), args.repeat)
    rows.append(("`g_study` (Method 1, no bootstrap)", shape, f"{sec:.2f}", f"G {g.g:.3f}, phi {g.phi:.3f}"))
    sec, gb = timed(lambda: g_study(scores), max(1, args.repeat - 2))
    p_row = gb.components.iloc[0]
    rows.append(
        (
            "`g_study` + 1,000-resample bootstrap",
            shape,
            f"{sec:.2f}",
            f"SE(sigma2_p) {p_row['se']:.4f}; G 95% [{gb.coefficients['ci_low'][0]:.3f}, "
            f"{gb.coefficients['ci_high'][0]:.3f}]",
        )
    )
    grid = {"task_id": list(range(1, 11)), "rater_id": list(range(1, 11))}
    sec, table = timed(lambda: g.d_study(grid, target=0.8), max(args.repeat, 5))
    rows.append(("`d_study` 10 x 10 grid", "fitted result", f"{sec * 1000:.1f} ms", f"{len(table)} designs"))

    if not args.skip_reml:
        sub = scores[scores["student_id"].isin(sorted(scores["student_id"].unique())[: args.reml_students])]
        sub_shape = f"{args.reml_students:,} x {args.tasks} x {args.raters}, {len(sub):,} scores"
        sec_m1, m1 = timed(lambda: g_study(sub, n_resamples=0), 1)
        sec, reml = timed(lambda: g_study(sub, method="reml", n_resamples=0), 1)
        rows.append(("`g_study` Method 1 on the REML subsample", sub_shape, f"{sec_m1:.2f}", f"G {m1.g:.3f}"))
        rows.append(("`g_study(method='reml')` (statsmodels MixedLM)", sub_shape, f"{sec:.2f}", f"G {reml.g:.3f}"))

    if not args.skip_generalizit:
        try:
            import generalizit  # noqa: F401
        except ImportError:
            rows.append(("GeneralizIT 0.1.2", "-", "-", "not installed"))
        else:
            sub = scores
            if args.generalizit_students:
                keep = sorted(scores["student_id"].unique())[: args.generalizit_students]
                sub = scores[scores["student_id"].isin(keep)]
            n_sub = sub["student_id"].nunique()
            sub_shape = f"{n_sub:,} x {args.tasks} x {args.raters}, {len(sub):,} scores"
            sec, gt = timed(lambda: run_generalizit(sub), 1)
            rho = float(gt.design.g_coeffs_table.loc["p", "rho^2"])
            ours = g if sub is scores else g_study(sub, n_resamples=0)
            var_p = float(gt.design.anova_table.loc["p", "Variance"])
            ours_p = float(ours.components["variance"].iloc[0])
            rows.append(
                (
                    "GeneralizIT 0.1.2 (ANOVA + G coefficients)",
                    sub_shape,
                    f"{sec:.2f}",
                    f"rho2 {rho:.3f}; sigma2_p {var_p:.4f} (ours {ours_p:.4f})",
                )
            )

    print(f"# g_study benchmark: {shape}, {args.missing:.0%} of cells missing (median of {args.repeat})\n")
    print("| what | data | seconds | result |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
