"""Seeded rubric-scoring data for the benchmarks (no dependency on ../shared).

    latent[u, r] = theta[u] - severity[r] + noise_sd[r] * eps[u, r]
    score[u, r]  = 1 + #{cutpoints < latent[u, r]}          (1..K, bell-shaped marginals)

Designs: "crossed" (every rater scores every unit) or "double" (each unit scored
by ``per_unit`` distinct raters drawn from R).  A fraction ``missing`` of the
assigned ratings is then dropped.  Returns a units x raters float array (NaN =
missing), the layout irr.Ratings.from_wide takes.
"""
from __future__ import annotations

import numpy as np
from scipy import stats


def generate(n_units: int, n_raters: int, k: int = 4, design: str = "crossed", per_unit: int = 2,
             missing: float = 0.05, seed: int = 20261122) -> np.ndarray:
    rng = np.random.default_rng([seed, n_units, n_raters, k, per_unit])
    severity = rng.normal(0, 0.35, n_raters)
    noise = rng.uniform(0.4, 0.8, n_raters)
    total_sd = np.sqrt(1 + 0.35**2 + 0.6**2)
    grid = np.arange(k)
    bell = np.exp(-0.5 * ((grid - (k - 1) / 2) / (k / 4)) ** 2)
    cuts = stats.norm.ppf(np.cumsum(bell / bell.sum())[:-1], scale=total_sd)
    out = np.empty((n_units, n_raters), dtype=np.float64)
    block = max(1, 4_000_000 // n_raters)
    for start in range(0, n_units, block):           # blocks bound memory at 10M units
        m = min(block, n_units - start)
        theta = rng.standard_normal(m)
        latent = theta[:, None] - severity[None, :] + noise[None, :] * rng.standard_normal((m, n_raters))
        scores = (np.searchsorted(cuts, latent) + 1).astype(np.float64)
        if design == "double" and per_unit < n_raters:
            keep = np.argpartition(rng.random((m, n_raters)), per_unit - 1, axis=1)[:, :per_unit]
            mask = np.zeros((m, n_raters), dtype=bool)
            np.put_along_axis(mask, keep, True, axis=1)
            scores[~mask] = np.nan
        if missing:
            scores[rng.random((m, n_raters)) < missing] = np.nan
        out[start:start + m] = scores
    return out
