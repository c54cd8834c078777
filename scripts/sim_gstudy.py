"""Simulation study of the G-study (irr.analysis.gstudy.g_study).

Scores are simulated from the random-effects model of a students x tasks x raters design with
planted variance components, then a share of the cells is deleted at random (unbalanced data,
as a scoring programme has them):

* ``crossed`` (p x t x r): student, task, rater, student x task, student x rater, task x rater,
  residual;
* ``nested`` (p x (r:t)): each task has its own raters: student, task, rater:task,
  student x task, residual (student x rater:task).

Per replication: every component's estimate (Henderson's Method 1), whether the 95% bootstrap
interval (students resampled) covers the planted value, and G and Φ of the observed design
against their values from the planted components.  The planted student x rater component is 0
(the null: raters rank students alike), so its estimates should centre on 0 and its interval
should cover 0 at about the nominal rate.

    python scripts/sim_gstudy.py                      # 200 replications each design (about 3 minutes)
    python scripts/sim_gstudy.py --reps 50 --students 500

Figures are in scripts/README.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from irr.analysis.gstudy import g_study

CROSSED = {
    "student_id": 0.50,
    "task_id": 0.05,
    "rater_id": 0.03,
    "student_id x task_id": 0.30,
    "student_id x rater_id": 0.0,
    "task_id x rater_id": 0.02,
    "residual": 0.40,
}
NESTED = {
    "student_id": 0.50,
    "task_id": 0.05,
    "rater_id:task_id": 0.04,
    "student_id x task_id": 0.30,
    "residual": 0.45,
}


def simulate_gstudy(
    n_students: int = 1000,
    n_tasks: int = 4,
    n_raters: int = 5,
    *,
    design: str = "crossed",
    missing: float = 0.3,
    components: dict | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Long scores (student_id, task_id, rater_id, score) with planted components.

    ``n_raters`` is the number of raters (crossed) or of raters per task (nested).
    """
    rng = np.random.default_rng(seed)
    comp = dict(components or (CROSSED if design == "crossed" else NESTED))
    sd = {k: np.sqrt(v) for k, v in comp.items()}
    p, t, r = (
        a.ravel() for a in np.meshgrid(np.arange(n_students), np.arange(n_tasks), np.arange(n_raters), indexing="ij")
    )
    keep = rng.random(p.size) >= missing
    p, t, r = p[keep], t[keep], r[keep]
    y = rng.normal(0, sd["student_id"], n_students)[p] + rng.normal(0, sd["task_id"], n_tasks)[t]
    y = y + rng.normal(0, sd["student_id x task_id"], (n_students, n_tasks))[p, t]
    if design == "crossed":
        y = y + rng.normal(0, sd["rater_id"], n_raters)[r]
        y = y + rng.normal(0, sd["student_id x rater_id"], (n_students, n_raters))[p, r]
        y = y + rng.normal(0, sd["task_id x rater_id"], (n_tasks, n_raters))[t, r]
        rater = np.char.add("R", r.astype(str))
    else:
        y = y + rng.normal(0, sd["rater_id:task_id"], (n_tasks, n_raters))[t, r]
        rater = np.char.add(np.char.add(np.char.add("T", t.astype(str)), "-R"), r.astype(str))
    y = y + rng.normal(0, sd["residual"], p.size)
    return pd.DataFrame(
        {
            "student_id": np.char.add("S", p.astype(str)),
            "task_id": np.char.add("T", t.astype(str)),
            "rater_id": rater,
            "score": y,
        }
    )


def _true_coefficients(result, planted: dict) -> tuple[float, float]:
    """G and Φ of the observed design from the planted components (the result's own divisors)."""
    divisors = result.meta["divisors"]
    p = planted["student_id"]
    rel = absolute = 0.0
    for source, value in planted.items():
        if source == "student_id":
            continue
        part = value / divisors[source]
        absolute += part
        if source.startswith("student_id") or source == "residual":  # the residual holds the student too
            rel += part
    return p / (p + rel), p / (p + absolute)


def replicate(seed: int, design: str, n_students: int, n_resamples: int) -> dict:
    planted = CROSSED if design == "crossed" else NESTED
    scores = simulate_gstudy(n_students, design=design, seed=seed)
    nested = {"rater_id": "task_id"} if design == "nested" else None
    result = g_study(scores, nested=nested, n_resamples=n_resamples, random_state=seed)
    comp = result.components.set_index("source")
    out: dict = {}
    for source, value in planted.items():
        out[f"est[{source}]"] = float(comp.loc[source, "variance"])
        low, high = comp.loc[source, "ci_low"], comp.loc[source, "ci_high"]
        out[f"cover[{source}]"] = bool(low <= value <= high) if np.isfinite(low) else np.nan
    g_true, phi_true = _true_coefficients(result, planted)
    coef = result.coefficients.set_index("coefficient")
    for name, truth in (("g", g_true), ("phi", phi_true)):
        out[f"{name}_error"] = float(coef.loc[name, "estimate"] - truth)
        out[f"cover[{name}]"] = bool(coef.loc[name, "ci_low"] <= truth <= coef.loc[name, "ci_high"])
    out["negative[student_id x rater_id]"] = bool(comp.get("variance").get("student_id x rater_id", 1.0) < 0)
    return out


def study(reps: int = 200, n_students: int = 1000, n_resamples: int = 500, seed: int = 1) -> dict[str, pd.DataFrame]:
    return {
        design: pd.DataFrame([replicate(seed + r, design, n_students, n_resamples) for r in range(reps)])
        for design in ("crossed", "nested")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--resamples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    start = time.perf_counter()
    results = study(args.reps, args.students, args.resamples, args.seed)
    print(
        f"{args.reps} replications per design, {args.students} students x 4 tasks x 5 raters, 30% of cells missing "
        f"({time.perf_counter() - start:.0f} s)"
    )
    for design, rows in results.items():
        planted = CROSSED if design == "crossed" else NESTED
        print(f"\n{design}:")
        print(f"{'source':<24} {'planted':>8} {'mean est':>9} {'SD':>7} {'95% CI covers':>14}")
        for source, value in planted.items():
            est = rows[f"est[{source}]"]
            cover = rows[f"cover[{source}]"].astype(float)
            shown = f"{cover.mean():.1%}" if cover.notna().any() else "(not given)"
            print(f"{source:<24} {value:>8.3f} {est.mean():>9.4f} {est.std():>7.4f} {shown:>14}")
        for name in ("g", "phi"):
            err = rows[f"{name}_error"]
            print(
                f"{name:<24} mean error {err.mean():+.4f} (SD {err.std():.4f}), CI covers {rows[f'cover[{name}]'].mean():.1%}"
            )
        if "negative[student_id x rater_id]" in rows and design == "crossed":
            print(
                f"student x rater (planted 0) estimated negative: {rows['negative[student_id x rater_id]'].mean():.1%}"
            )


if __name__ == "__main__":
    main()
