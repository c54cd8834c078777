"""`pairwise_table`: agreement of every rater pair, computed in one batch.

All pair contingency tables come from one product: with the one-hot matrix
``X`` (units x (raters * K)), ``X.T @ X`` holds every pair's K x K table, so
there is no loop over units and none over pairs for the algebra (tables,
weighted kappa and its Fleiss-Cohen-Everitt SE are batched as (P, K, K) arrays).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from irr.errors import InsufficientDataError
from irr.stats._ratings import as_ratings
from irr.stats._weights import agreement_weights
from irr.stats.chance_corrected import weighted_kappa_from_tables

__all__ = ["pairwise_table", "pair_tables"]

# Units per block when accumulating X.T @ X (bounds the one-hot block's memory).
_BLOCK_UNITS = 200_000


def pair_tables(data, *, categories=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contingency tables of every rater pair.

    Returns
    -------
    first, second : (P,) rater codes of each pair (first < second)
    tables : (P, K, K) int64, ``tables[p, i, j]`` = units the first rater put in
        category i and the second in j (units both rated).
    """
    ratings = as_ratings(data, categories)
    ratings.require_rater_identity("pairwise_table")
    codes = ratings.wide_codes
    n, r = codes.shape
    k = ratings.n_categories
    gram = np.zeros((r * k, r * k))
    column = np.arange(r) * k
    for start in range(0, n, _BLOCK_UNITS):
        block = codes[start : start + _BLOCK_UNITS]
        rows, raters = np.nonzero(block >= 0)
        onehot = np.zeros((block.shape[0], r * k), dtype=np.float32)
        onehot[rows, column[raters] + block[rows, raters]] = 1.0
        gram += (onehot.T @ onehot).astype(np.float64)
    first, second = np.triu_indices(r, k=1)
    blocks = gram.reshape(r, k, r, k).transpose(0, 2, 1, 3)  # (r, r, K, K)
    tables = np.rint(blocks[first, second]).astype(np.int64)
    return first, second, tables


def pairwise_table(
    data,
    weights: Any = "linear",
    *,
    categories=None,
    tolerance: float = 1,
) -> pd.DataFrame:
    """Every rater pair's n, exact and adjacent agreement, and weighted kappa.

    Parameters
    ----------
    data : Ratings or array_like (units x raters, NaN = missing)
    weights : None, "identity", "linear", "quadratic" or K x K matrix
        Weights of Cohen's kappa (from the score values of the scale).
    tolerance : float
        Score difference that still counts as "adjacent" agreement.

    Returns
    -------
    DataFrame
        One row per pair: ``rater_a``, ``rater_b``, ``n`` (units both rated),
        ``exact``, ``adjacent`` (proportions; adjacent includes exact),
        ``kappa`` and ``kappa_se`` (Cohen 1968; Fleiss, Cohen & Everitt 1969).
        Pairs with no common unit have n = 0 and NaN statistics; pairs whose
        chance agreement is 1 have NaN kappa.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 1, 2], [2, 2, 2], [3, 2, 3], [4, 4, np.nan]])
    >>> table = pairwise_table(x, weights=None)
    >>> table["n"].tolist(), table["exact"].round(3).tolist()
    ([4, 3, 3], [0.75, 0.667, 0.333])
    """
    ratings = as_ratings(data, categories)
    if ratings.has_rater_identity and ratings.n_raters < 2:
        raise InsufficientDataError("pairwise_table needs at least 2 raters")
    first, second, tables = pair_tables(ratings)
    x = ratings.categories
    w = agreement_weights(x, weights)
    near = (np.abs(x[:, None] - x[None, :]) <= tolerance + 1e-12).astype(np.float64)
    n = tables.sum(axis=(1, 2)).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = tables / n[:, None, None]
        exact = np.trace(p, axis1=1, axis2=2)
        adjacent = (p * near).sum(axis=(1, 2))
    kappa, kappa_se = weighted_kappa_from_tables(tables, w)
    labels = ratings.rater_labels
    assert labels is not None  # pair_tables required rater identity, which comes with rater labels
    return pd.DataFrame(
        {
            "rater_a": labels[first],
            "rater_b": labels[second],
            "n": n.astype(np.int64),
            "exact": exact,
            "adjacent": adjacent,
            "kappa": kappa,
            "kappa_se": kappa_se,
        }
    )
