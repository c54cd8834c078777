"""Agreement weights from the score *values* of the declared scale.

``w[k, l]`` is the credit given when one rating is category k and another l:
1 on the diagonal, 0 for full disagreement.  Computed from the values of the
scale (not from category positions), so a score point nobody used still
counts -- unlike scikit-learn and statsmodels, which weight by label index.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from irr.errors import DataError, NonNumericScaleError
from irr.stats._ratings import Ratings, Scale, _numeric_message, _parse_categories

__all__ = ["agreement_weights", "weights_name"]

NAMED = ("identity", "linear", "quadratic")


def agreement_weights(categories: Any, weights: Any = None) -> np.ndarray:
    """K x K agreement-weight matrix.

    Parameters
    ----------
    categories : (K,) ordered score values, or a :class:`~irr.stats.Ratings` /
        :class:`~irr.stats.Scale` (their numeric values are used).
    weights : None, "identity", "linear", "quadratic" or a K x K matrix.

    Notes
    -----
    With ``x`` the score values and ``range = x_max - x_min``:

    * identity:  ``w_kl = 1 if k == l else 0``
    * linear:    ``w_kl = 1 - |x_k - x_l| / range``
    * quadratic: ``w_kl = 1 - (x_k - x_l)^2 / range^2``

    (Cohen 1968; Gwet 2014, ch. 3).  A custom matrix must be K x K with
    ones on the diagonal and entries in [0, 1].  Identity weights need no
    values, so they apply to labelled (nominal) categories; linear and
    quadratic weights raise :class:`NonNumericScaleError` when a category is a
    label without a numeric value.  A custom matrix may be given for labels.

    Examples
    --------
    >>> agreement_weights(np.array([1., 2., 4.]), "linear").round(3).tolist()
    [[1.0, 0.667, 0.0], [0.667, 1.0, 0.333], [0.0, 0.333, 1.0]]
    >>> agreement_weights(["blank", "off_topic"]).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    scale = _as_scale(categories)
    k = scale.size
    if weights is None or (isinstance(weights, str) and weights in ("identity", "unweighted", "nominal")):
        return np.eye(k)
    if isinstance(weights, str):
        if weights not in NAMED:
            raise DataError(f"weights must be one of {NAMED} or a {k}x{k} matrix, got {weights!r}")
        if not scale.is_numeric:
            raise NonNumericScaleError(_numeric_message(f"{weights} weights", scale))
        x = scale.points
        span = x.max() - x.min() if k > 1 else 1.0
        diff = np.abs(x[:, None] - x[None, :]) / (span if span > 0 else 1.0)
        return 1 - diff if weights == "linear" else 1 - diff**2
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (k, k):
        raise DataError(f"a weight matrix must be {k}x{k} for a {k}-point scale, got shape {w.shape}")
    if not np.allclose(np.diag(w), 1) or (w < 0).any() or (w > 1).any():
        raise DataError(
            "a custom weight matrix must hold agreement weights: ones on the diagonal, "
            "entries in [0, 1] (convert disagreement weights d with w = 1 - d / d.max())"
        )
    return w


def _as_scale(categories: Any) -> Scale:
    """The scale of a Ratings, a Scale, score values or labels (in the order given)."""
    if isinstance(categories, Ratings):
        return categories.scale
    if isinstance(categories, Scale):
        return categories
    arr = np.asarray(categories)
    if arr.dtype.kind in "biuf":  # score values as given (order kept, no sorting)
        return Scale.numeric(arr.astype(np.float64).ravel())
    return _parse_categories(list(arr.ravel()), ordered=False)


def weights_name(weights: Any) -> str:
    if weights is None or (isinstance(weights, str) and weights in ("identity", "unweighted", "nominal")):
        return "identity"
    if isinstance(weights, str):
        return weights
    return "custom"
