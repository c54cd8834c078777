"""Seeded simulations behind the p-value and interval choices (issue 10, items 3 and 7).

1. Rejection rate at alpha = .05 under independence, for every coefficient with a
   p-value (percent agreement has none): 3 raters, 3 equally likely categories,
   n = 20 and n = 50 units.  "old z" is the test the toolkit used to run
   (estimate / SE of the estimate); "null z" is the current p-value
   (estimate / SE under H0).  Cohen's kappa and Scott's pi use raters 1 and 2.
2. Coverage and share of zero-width intervals of the 95% interval of Fleiss' kappa
   with true kappa = .90 and 10 papers (3 raters, 3 categories): each rater gives
   the paper's true category with probability sqrt(.90), otherwise a uniform
   random category, so pairwise chance-corrected agreement is .90.  "old" is
   estimate +/- 1.96 SE; "now" is ``confidence_interval()``.

Usage: ``python scripts/sim_pvalues.py [--reps 1000] [--coverage-reps 1000] [--seed 1]``
(about 2 minutes on the project's 2-core machine).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from irr.stats import Ratings
from irr.stats.chance_corrected import (
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    gwet_ac,
    scott_pi,
)
from irr.stats.krippendorff import krippendorff_alpha

SCALE = [1, 2, 3]
MULTI = {"Fleiss' kappa": fleiss_kappa, "Conger's kappa": conger_kappa,
         "Krippendorff's alpha (nominal)": krippendorff_alpha, "Gwet's AC1": gwet_ac,
         "Brennan-Prediger": brennan_prediger}
TWO = {"Cohen's kappa (raters 1-2)": cohen_kappa, "Scott's pi (raters 1-2)": scott_pi}


def rejection_rates(n: int, reps: int, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    data = rng.integers(1, 4, size=(reps, n, 3)).astype(float)
    old = {name: 0 for name in (*MULTI, *TWO)}
    new = dict(old)
    used = dict(old)
    for x in data:
        groups = ((Ratings.from_wide(x, categories=SCALE), MULTI),
                  (Ratings.from_wide(x[:, :2], categories=SCALE), TWO))
        for ratings, funcs in groups:
            for name, func in funcs.items():
                try:
                    res = func(ratings)
                except Exception:          # e.g. chance agreement 1: no test
                    continue
                used[name] += 1
                se = res.standard_error
                z_old = res.estimate / se if se > 0 else np.nan
                old[name] += bool(abs(z_old) > 1.959963984540054) if np.isfinite(z_old) else 0
                new[name] += bool(res.p_value < 0.05)
    return {name: (old[name] / used[name], new[name] / used[name]) for name in old}


def fleiss_coverage(reps: int, rng: np.random.Generator, kappa: float = 0.90, n: int = 10,
                    raters: int = 3) -> dict[str, float]:
    rho = np.sqrt(kappa)
    truth = rng.integers(1, 4, size=(reps, n, 1))
    noise = rng.integers(1, 4, size=(reps, n, raters))
    x = np.where(rng.random((reps, n, raters)) < rho, truth, noise).astype(float)
    hits_old = hits_new = zero_old = zero_new = undefined = 0
    used = 0
    for xi in x:
        try:
            res = fleiss_kappa(Ratings.from_wide(xi, categories=SCALE))
        except Exception:
            continue
        used += 1
        lo, hi = res.estimate - 1.959963984540054 * res.standard_error, \
            res.estimate + 1.959963984540054 * res.standard_error
        hits_old += lo <= kappa <= hi
        zero_old += hi - lo <= 1e-12
        ci = res.confidence_interval()
        if np.isnan(ci.low):
            undefined += 1
            continue
        hits_new += ci.low <= kappa <= ci.high
        zero_new += ci.high - ci.low <= 1e-12
    return {"datasets": used, "coverage_old": hits_old / used, "zero_width_old": zero_old / used,
            "coverage_now": hits_new / used, "zero_width_now": zero_new / used,
            "undefined_now": undefined / used}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--coverage-reps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    print(f"Rejection rate at alpha = .05 under independence ({args.reps} datasets each, seed {args.seed})")
    print("| coefficient | n = 20, old z | n = 20, null z | n = 50, old z | n = 50, null z |")
    print("|---|---:|---:|---:|---:|")
    rates = {n: rejection_rates(n, args.reps, rng) for n in (20, 50)}
    for name in rates[20]:
        (o20, n20), (o50, n50) = rates[20][name], rates[50][name]
        print(f"| {name} | {o20:.1%} | {n20:.1%} | {o50:.1%} | {n50:.1%} |")
    cov = fleiss_coverage(args.coverage_reps, rng)
    print(f"\nFleiss' kappa, true kappa = .90, 10 papers, 3 raters, 3 categories "
          f"({cov['datasets']} datasets): 95% interval")
    print("| interval | coverage | zero-width | undefined (NaN) |")
    print("|---|---:|---:|---:|")
    print(f"| old: estimate +/- 1.96 SE | {cov['coverage_old']:.1%} | {cov['zero_width_old']:.1%} | 0 |")
    print(f"| now: confidence_interval() | {cov['coverage_now']:.1%} | {cov['zero_width_now']:.1%} "
          f"| {cov['undefined_now']:.1%} |")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
