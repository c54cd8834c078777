#!/usr/bin/env python3
"""Simulation study of `irr.analysis.compare_districts`: does it find planted district offsets,
inconsistent districts and subgroup bias, and how often does it flag on null data?

    python scripts/sim_comparability.py                  # full size (about a minute per 100 datasets)
    python scripts/sim_comparability.py --datasets 200 --works 30

Model (rubric points 1-4, 4 dimensions, one local read and one audit read per work):

    theta_w   = 2.5 + district_mean_d + gap * ell_w + N(0, 0.8)     (true quality: districts and
                                                                   subgroups truly differ)
    truth_wk  = theta_w + N(0, 0.3)
    local_wk  = clip(round(truth_wk + offset_d + bias * ell_w + N(0, sd_d)), 1, 4)
    audit_wk  = clip(round(truth_wk + N(0, 0.35)), 1, 4)

`district_mean_d ~ N(0, 0.3)`: districts differ in achievement, which must not be flagged.
The planted scenario has two lenient districts (+0.5), one severe (-0.5), one inconsistent
(local noise SD 1.0 instead of 0.35) and one district with only 6 audited works.
The tests (tests/analysis/test_comparability.py) import `simulate_audit` from here and run a
few small seeded datasets.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

DIMENSIONS = ("claim", "evidence", "reasoning", "conventions")
TASK = "ela-g8-argument"


def simulate_audit(
    rng: np.random.Generator,
    *,
    n_districts: int = 12,
    works: int | list[int] = 30,
    offsets: dict[int, float] | None = None,
    noise: dict[int, float] | None = None,
    local_sd: float = 0.35,
    audit_sd: float = 0.35,
    ell_share: float = 0.2,
    gap: float = -0.6,
    bias: float = 0.0,
) -> pd.DataFrame:
    """Long scores of one simulated audit: a ``first`` (local) and an ``audit`` read per work and
    dimension, with ``work_district`` and a ``flag_ell`` subgroup column."""
    offsets, noise = offsets or {}, noise or {}
    sizes = np.full(n_districts, works) if isinstance(works, int) else np.asarray(works)
    district = np.repeat(np.arange(n_districts), sizes)
    n = district.size
    ell = (rng.random(n) < ell_share).astype(int)
    theta = 2.5 + rng.normal(0, 0.3, n_districts)[district] + gap * ell + rng.normal(0, 0.8, n)
    k = len(DIMENSIONS)
    truth = theta[:, None] + rng.normal(0, 0.3, (n, k))
    offset = np.array([offsets.get(d, 0.0) for d in range(n_districts)])[district]
    sd = np.array([noise.get(d, local_sd) for d in range(n_districts)])[district]
    local = truth + offset[:, None] + bias * ell[:, None] + sd[:, None] * rng.standard_normal((n, k))
    audit = truth + audit_sd * rng.standard_normal((n, k))
    names = np.array([f"District {d + 1:03d}" for d in range(n_districts)])
    work_ids = np.array([f"W{i:06d}" for i in range(n)])
    frames = []
    for read, latent, rater in (
        ("first", local, np.char.add("T-", names[district])),
        ("audit", audit, np.array([f"A{(d + 1) % n_districts:03d}" for d in district])),
    ):
        frames.append(
            pd.DataFrame(
                {
                    "rater_id": np.repeat(rater, k),
                    "work_id": np.repeat(work_ids, k),
                    "task_id": TASK,
                    "dimension": np.tile(DIMENSIONS, n),
                    "score": np.clip(np.rint(latent), 1, 4).astype(int).ravel(),
                    "read_type": read,
                    "work_district": np.repeat(names[district], k),
                    "flag_ell": np.repeat(ell, k).astype(str),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


PLANTED_OFFSETS = {0: 0.5, 1: 0.5, 2: -0.5}
PLANTED_NOISE = {3: 1.0}
SMALL = 4  # the district with 6 audited works


def planted(rng, works: int = 30, n_districts: int = 12) -> pd.DataFrame:
    sizes = [works] * n_districts
    sizes[SMALL] = 6
    return simulate_audit(rng, n_districts=n_districts, works=sizes, offsets=PLANTED_OFFSETS, noise=PLANTED_NOISE)


def main(argv=None) -> None:
    from irr.analysis.comparability import compare_districts

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=500)
    parser.add_argument("--works", type=int, default=30, help="audited works per district")
    parser.add_argument("--districts", type=int, default=12)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--part", choices=["all", "planted", "null", "equity"], default="all")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    if args.part in ("all", "planted"):
        _planted(args, rng, compare_districts)
    if args.part in ("all", "null"):
        _null(args, rng, compare_districts)
    if args.part in ("all", "equity"):
        _equity(args, rng, compare_districts)
    print(f"({time.perf_counter() - start:.0f} s)")


def _planted(args, rng, compare_districts) -> None:
    exact, found = 0, {"lenient": 0, "severe": 0, "inconsistent": 0}
    small_flagged = 0
    estimates = []
    for _ in range(args.datasets):
        result = compare_districts(planted(rng, args.works, args.districts), profile=None)
        table = result.districts
        direction = dict(zip(range(len(table)), table["direction"]))
        flagged = set(np.flatnonzero(table["flagged"].to_numpy()))
        expected = {*PLANTED_OFFSETS, *PLANTED_NOISE}
        exact += flagged == expected
        found["lenient"] += sum("lenient" in direction[d] for d in (0, 1))
        found["severe"] += "severe" in direction[2]
        found["inconsistent"] += "inconsistent" in direction[3]
        small_flagged += bool(table["flagged"].iloc[SMALL])
        estimates.append(table["mean_difference"].to_numpy()[[0, 1, 2]])
    n = args.datasets
    est = np.mean(estimates, axis=0)
    print(f"planted ({n} datasets, {args.districts} districts x {args.works} works, one with 6):")
    print(f"  exactly the planted districts flagged: {exact / n:.1%}")
    print(f"  lenient found {found['lenient'] / (2 * n):.1%}, severe {found['severe'] / n:.1%}, "
          f"inconsistent {found['inconsistent'] / n:.1%}; small district flagged {small_flagged}")
    print(f"  mean estimated difference of the +0.5/+0.5/-0.5 districts: {np.round(est, 3).tolist()}")


def _null(args, rng, compare_districts) -> None:
    """No offsets; districts and subgroups truly differ."""
    n = args.datasets
    any_flag, district_flags, equity_flags, total = 0, 0, 0, 0
    reasons = {"lenient": 0, "severe": 0, "inconsistent": 0}
    for _ in range(args.datasets):
        result = compare_districts(simulate_audit(rng, n_districts=args.districts, works=args.works), profile=None)
        flags = result.districts["flagged"].to_numpy()
        for reason in reasons:
            reasons[reason] += bool(result.districts["direction"].str.contains(reason).any())
        any_flag += bool(flags.any())
        district_flags += int(flags.sum())
        total += flags.size
        equity_flags += int(result.equity["flagged"].astype(bool).sum())
    print(f"null ({n} datasets): any district flagged {any_flag / n:.1%} (nominal 5%); per district "
          f"{district_flags / total:.2%}; subgroup flagged {equity_flags / n:.1%} (true gap -0.6)")
    print("  datasets with a district flagged " + ", ".join(f"{k} {v / n:.1%}" for k, v in reasons.items()))


def _equity(args, rng, compare_districts) -> None:
    """A planted bias of +0.3 toward the subgroup."""
    n = args.datasets
    power = 0
    for _ in range(args.datasets):
        result = compare_districts(
            simulate_audit(rng, n_districts=args.districts, works=args.works, bias=0.3), profile=None
        )
        row = result.equity[result.equity["value"] == "1"]
        power += bool(row["flagged"].iloc[0]) and "lenient" in row["direction"].iloc[0]
    print(f"equity bias +0.3 toward flag_ell = 1: flagged {power / n:.1%}")


if __name__ == "__main__":
    main()
