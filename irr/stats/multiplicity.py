"""Multiplicity-adjusted p-values across a family of tests (layer 1).

>>> adjust_pvalues([0.01, 0.04, 0.03, float("nan")], "holm").round(2)
array([0.03, 0.06, 0.06,  nan])
"""

from __future__ import annotations

import numpy as np

from irr.errors import DataError

__all__ = ["adjust_pvalues", "MULTIPLICITY_METHODS"]

MULTIPLICITY_METHODS = ("holm", "bonferroni", "fdr_bh", "bh", "none")


def _holm(p: np.ndarray) -> np.ndarray:
    order = np.argsort(p, kind="stable")
    m = p.size
    stepped = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = stepped
    return out


def adjust_pvalues(p, method: str = "holm", eligible=None) -> np.ndarray:
    """Adjusted p-values of the eligible, finite tests; NaN for the others.

    ``holm``: Holm's (1979) step-down, :math:`\\max_{j \\le i} \\min(1, (m - j + 1) p_{(j)})`
    (family-wise error); ``bonferroni``: :math:`\\min(1, m p)`; ``fdr_bh`` / ``bh``: Benjamini &
    Hochberg (1995), false discovery rate (:func:`scipy.stats.false_discovery_control`);
    ``none``: unchanged.  *m* counts the eligible finite p-values only.  statsmodels'
    ``multipletests`` gives the same numbers but calls ``gc.collect()`` on every call.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
    Journal of Statistics* 6, 65-70.
    """
    p = np.asarray(p, dtype=float)
    ok = np.isfinite(p) if eligible is None else np.asarray(eligible, dtype=bool) & np.isfinite(p)
    out = np.full(p.shape, np.nan)
    if method not in MULTIPLICITY_METHODS:
        raise DataError(f"multiplicity must be one of {', '.join(MULTIPLICITY_METHODS)}, not {method!r}")
    if not ok.any():
        return out
    chosen = p[ok]
    if method == "holm":
        out[ok] = _holm(chosen)
    elif method == "bonferroni":
        out[ok] = np.minimum(1.0, chosen * chosen.size)
    elif method in ("fdr_bh", "bh"):
        from scipy.stats import false_discovery_control

        out[ok] = false_discovery_control(chosen, method="bh")
    else:
        out[ok] = chosen
    return out
