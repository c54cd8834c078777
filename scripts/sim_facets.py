"""Simulation study of rater measurement (irr.analysis.facets.fit_facets).

Data are simulated from the many-facet Rasch model -- works x raters x dimensions, every work
double-scored by two random raters, plus a linking set scored by every rater -- with planted
rater effects:

* severities drawn N(0, severity_sd), centred;
* a *random* rater (scores uniform over the scale, whatever the work);
* a *central-tendency* rater (the model with thresholds spread 2.5 times wider: the middle
  categories pile up);
* a rater x dimension bias of +1 logit (one rater harsher on one dimension only).

Per replication it records the correlation of the rater measures with the true severities
(well-behaved raters), how often the 95% intervals cover them (joint SE, model SE;
bias-corrected and plain JMLE), whether the random rater is flagged (infit or outfit > 1.5),
the central rater flagged (infit < 0.7), the planted bias is the largest |t| of the rater x
dimension table among well-fitting raters and Holm-significant; and, on null data (no
planted effect), how many raters are flagged and whether any bias cell is Holm-significant.

    python scripts/sim_facets.py                 # 50 replications, 2,000 works (about 8 minutes)
    python scripts/sim_facets.py --reps 20 --works 1000

Figures are in scripts/README.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from irr.analysis.facets import fit_facets
from irr.stats.facets import category_moments

DIMENSIONS = ("claim", "evidence", "organization", "conventions")


def simulate_facets(
    n_works: int = 1000,
    n_raters: int = 20,
    n_dims: int = 4,
    *,
    reads: int = 2,
    link_works: int = 20,
    n_categories: int = 4,
    severity_sd: float = 0.5,
    random_raters: int = 0,
    central_raters: int = 0,
    bias: float = 0.0,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict]:
    """Long scores (work_id, rater_id, dimension, task_id, score 1..K) and the planted truth.

    Rater 0 .. random_raters-1 score at random, the next central_raters are central; the
    rater after them is ``bias`` logits harsher on the first dimension (when bias != 0).
    """
    rng = np.random.default_rng(seed)
    ability = rng.normal(0.0, 1.0, n_works)
    severity = rng.normal(0.0, severity_sd, n_raters)
    severity -= severity.mean()
    difficulty = np.linspace(-0.4, 0.4, n_dims)
    tau = np.linspace(-1.5, 1.5, n_categories - 1)
    single = n_works - link_works
    # every ordinary work gets `reads` distinct raters: a random permutation's first columns
    picks = np.argsort(rng.random((single, n_raters)), axis=1)[:, :reads]
    work = np.concatenate([np.repeat(np.arange(single), reads), np.repeat(np.arange(single, n_works), n_raters)])
    rater = np.concatenate([picks.ravel(), np.tile(np.arange(n_raters), link_works)])
    work, rater = np.repeat(work, n_dims), np.repeat(rater, n_dims)
    dim = np.tile(np.arange(n_dims), work.size // n_dims)
    eta = ability[work] - severity[rater] - difficulty[dim]
    biased = random_raters + central_raters
    if bias:
        eta = eta - bias * ((rater == biased) & (dim == 0))
    group = np.zeros(eta.size, dtype=int)
    P, *_ = category_moments(eta, group, tau[None, :], np.array([n_categories]))
    central = (rater >= random_raters) & (rater < random_raters + central_raters)
    if central_raters:
        Pc, *_ = category_moments(eta[central], group[central], 2.5 * tau[None, :], np.array([n_categories]))
        P[central] = Pc
    x = (rng.random(eta.size)[:, None] > np.cumsum(P, axis=1)[:, :-1]).sum(axis=1)
    randomly = rater < random_raters
    x[randomly] = rng.integers(0, n_categories, int(randomly.sum()))
    scores = pd.DataFrame(
        {
            "task_id": "sim-task",
            "work_id": [f"W{w:05d}" for w in work],
            "rater_id": [f"R{r:02d}" for r in rater],
            "dimension": np.asarray(DIMENSIONS + tuple(f"d{i}" for i in range(4, n_dims)))[dim],
            "score": x + 1,
        }
    )
    truth = {
        "severity": pd.Series(severity, index=[f"R{r:02d}" for r in range(n_raters)]),
        "random": [f"R{r:02d}" for r in range(random_raters)],
        "central": [f"R{r:02d}" for r in range(random_raters, random_raters + central_raters)],
        "biased": (f"R{biased:02d}", DIMENSIONS[0]) if bias else None,
    }
    return scores, truth


def replicate(seed: int, n_works: int, n_raters: int) -> dict:
    """One replication: planted effects, then null data; the figures of the study."""
    out: dict = {}
    scores, truth = simulate_facets(
        n_works, n_raters, random_raters=1, central_raters=1, bias=1.0, seed=seed, link_works=max(10, n_works // 50)
    )
    result = fit_facets(scores, seed=seed)
    raters = result.measures("rater_id")
    special = set(truth["random"]) | set(truth["central"])
    ordinary = [r for r in raters.index if r not in special]
    out["corr_with_misfits"] = float(np.corrcoef(raters.loc[ordinary, "measure"], truth["severity"][ordinary])[0, 1])
    rnd = raters.loc[truth["random"][0]]
    cen = raters.loc[truth["central"][0]]
    out["random_flagged"] = bool(max(rnd["infit"], rnd["outfit"]) > 1.5)
    out["central_flagged"] = bool(cen["infit"] < 0.7)
    out["ordinary_misfit"] = float(
        ((raters.loc[ordinary, ["infit", "outfit"]].max(axis=1) > 1.5) | (raters.loc[ordinary, "infit"] < 0.7)).mean()
    )
    table = result.tables["bias_rater_id_x_dimension"]
    fitting = raters.index[(raters["infit"].between(0.5, 1.5)) & (raters["outfit"].between(0.5, 1.5))]
    among = table[table["rater_id"].isin(fitting)]
    top = among.loc[among["t"].abs().idxmax()]
    out["bias_top"] = bool((top["rater_id"], top["dimension"]) == truth["biased"])
    planted = table[(table["rater_id"] == truth["biased"][0]) & (table["dimension"] == truth["biased"][1])].iloc[0]
    out["bias_found"] = bool(planted["p_adjusted"] < 0.05)
    out["bias_size"] = float(planted["bias"])
    # null data: the model itself, severities planted, nothing else
    null, null_truth = simulate_facets(n_works, n_raters, seed=seed + 10_000, link_works=max(10, n_works // 50))
    for corrected in (True, False):
        result = fit_facets(null, seed=seed, correct_bias=corrected)
        raters = result.measures("rater_id")
        true = null_truth["severity"][raters.index]
        suffix = "" if corrected else "_jmle"
        out["corr" + suffix] = float(np.corrcoef(raters["measure"], true)[0, 1])
        miss = np.abs(raters["measure"] - true)
        out["cover_joint" + suffix] = float((miss <= 1.96 * raters["joint_se"]).mean())
        out["cover_model" + suffix] = float((miss <= 1.96 * raters["se"]).mean())
        out["scale" + suffix] = float(np.polyfit(true, raters["measure"], 1)[0])
        if corrected:
            out["null_misfit"] = float(
                ((raters[["infit", "outfit"]].max(axis=1) > 1.5) | (raters["infit"] < 0.7)).mean()
            )
            out["null_bias_any"] = bool((result.tables["bias_rater_id_x_dimension"]["p_adjusted"] < 0.05).any())
    return out


def study(reps: int = 50, n_works: int = 2000, n_raters: int = 20, seed: int = 1) -> pd.DataFrame:
    """Replications of :func:`replicate`, one row each."""
    return pd.DataFrame([replicate(seed + r, n_works, n_raters) for r in range(reps)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--works", type=int, default=2000)
    parser.add_argument("--raters", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    start = time.perf_counter()
    rows = study(args.reps, args.works, args.raters, args.seed)
    print(
        f"{args.reps} replications, {args.works} works x {args.raters} raters x 4 dimensions, "
        f"double-scored plus a linking set ({time.perf_counter() - start:.0f} s)"
    )
    print(rows.mean().round(3).to_string())
    print("min corr", round(float(rows["corr"].min()), 4), "; share of replications with corr > 0.98:",
          round(float((rows["corr"] > 0.98).mean()), 3))


if __name__ == "__main__":
    main()
