"""Variance components of random-effects designs, for generalizability theory (layer 1).

Every observation :math:`y_n` is modelled as the grand mean plus one random effect per
*effect* of the design (the object of measurement, each facet, their interactions, each
nested combination) plus error: :math:`y_n = \\mu + \\sum_\\alpha u_{\\alpha, a_\\alpha(n)}`,
with :math:`u_\\alpha \\sim (0, \\sigma^2_\\alpha)` independent.  An effect is given by the level
of every observation (an integer code); the residual is the observation level itself.

The estimator (:func:`variance_components`) is Henderson's (1953) Method 1, which Brennan
(2001, ch. 7) calls the analogous-ANOVA procedure and urGENOVA implements: with the
"T terms" :math:`T_\\alpha = \\sum_a S_a^2 / n_a` (:math:`S_a`, :math:`n_a` the sum and count of
level *a*'s observations) and :math:`T_\\mu = (\\sum_n y_n)^2 / N`,

.. math::

    E(T_\\alpha) = N\\mu^2 + \\sum_\\beta k_{\\alpha\\beta}\\,\\sigma^2_\\beta, \\qquad
    k_{\\alpha\\beta} = \\sum_a \\frac{\\sum_b n_{ab}^2}{n_a},

where :math:`n_{ab}` counts the observations in level *a* of α and level *b* of β.  Setting
each T term to its expectation gives a square linear system in :math:`\\mu^2` and the
components: unbiased for any random-effects design, balanced or not, and on balanced data
exactly the ANOVA (expected-mean-squares) solution.  Everything is counts and sums by level:
``bincount`` and ``unique`` on integer codes, no loop over observations or objects.

The bootstrap (:func:`bootstrap_components`) resamples the objects of measurement (persons)
with replacement.  Every T term and coefficient is either linear in the resampling weights
(effects whose levels belong to one person) or a ratio of sums that are (effects crossing
persons), so all replicates come from a few (replicates x persons) @ (persons x levels)
products: vectorised, no loop over replicates.

References
----------
Henderson, C. R. (1953). Estimation of variance and covariance components. *Biometrics* 9,
226-252.  Brennan, R. L. (2001). *Generalizability theory*. Springer (ch. 3, 4, 7).  Searle,
S. R., Casella, G., & McCulloch, C. E. (1992). *Variance components*. Wiley (ch. 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from irr.errors import DataError

__all__ = ["VarianceComponents", "variance_components", "bootstrap_components", "t_terms"]


@dataclass(frozen=True)
class VarianceComponents:
    """Method-1 estimates: ``variance`` per effect (in the order given), ``mean`` (the grand
    mean), ``t_terms`` and ``coefficients`` (the system solved, μ first), ``n`` observations."""

    variance: np.ndarray
    mean: float
    t_terms: np.ndarray
    coefficients: np.ndarray
    n: int


def _codes(levels: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense 0..L-1 codes of any integer level array."""
    uniq, inverse = np.unique(np.asarray(levels), return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), int(uniq.size)


def t_terms(y: np.ndarray, levels: Sequence[np.ndarray]) -> np.ndarray:
    """:math:`T_\\mu` then :math:`T_\\alpha = \\sum_a S_a^2 / n_a` for every effect.

    >>> t_terms(np.array([1.0, 2.0, 3.0, 6.0]), [np.array([0, 0, 1, 1])]).tolist()
    [36.0, 45.0]
    """
    y = np.asarray(y, float)
    out = [y.sum() ** 2 / y.size]
    for lv in levels:
        code, n_levels = _codes(lv)
        s = np.bincount(code, weights=y, minlength=n_levels)
        n = np.bincount(code, minlength=n_levels)
        out.append(float(np.sum(s * s / n)))
    return np.asarray(out)


def _pair_coefficient(a: np.ndarray, n_a: int, b: np.ndarray, n_b: int) -> float:
    """:math:`\\sum_a \\sum_b n_{ab}^2 / n_a` from the two effects' codes."""
    joint, counts = np.unique(a * n_b + b, return_counts=True)
    size_a = np.bincount(a, minlength=n_a).astype(float)
    return float(np.sum(counts.astype(float) ** 2 / size_a[joint // n_b]))


def _coefficients(codes: list[tuple[np.ndarray, int]], n: int) -> np.ndarray:
    """The (1 + m) x (1 + m) system: rows μ then the effects; columns μ² then the components."""
    m = len(codes)
    K = np.empty((m + 1, m + 1))
    K[:, 0] = n
    for j, (b, n_b) in enumerate(codes):
        size_b = np.bincount(b, minlength=n_b).astype(float)
        K[0, j + 1] = float(np.sum(size_b**2) / n)
    for i, (a, n_a) in enumerate(codes):
        for j, (b, n_b) in enumerate(codes):
            K[i + 1, j + 1] = _pair_coefficient(a, n_a, b, n_b)
    return K


def _same_partition(a: np.ndarray, n_a: int, b: np.ndarray, n_b: int) -> bool:
    return n_a == n_b and np.unique(a * n_b + b).size == n_a


def variance_components(y, levels: Sequence[np.ndarray], names: Sequence[str] | None = None) -> VarianceComponents:
    """Henderson's Method 1 (Brennan's analogous ANOVA) estimates of every effect's variance.

    Parameters
    ----------
    y : float array (observations,)
    levels : one integer array per effect, the level of every observation; the last is
        usually the residual (``np.arange(N)``, every observation its own level).
    names : the effects' names, for error messages.

    Raises :class:`~irr.errors.DataError` when two effects group the observations the same
    way (their variances cannot be told apart: a facet nested in another but declared
    crossed, say).

    Examples
    --------
    Balanced persons x raters, 3 x 2: Method 1 is the ANOVA solution
    (:math:`\\hat\\sigma^2_p = (MS_p - MS_e)/n_r`, ...).

    >>> y = np.array([4.0, 5, 2, 2, 5, 6])
    >>> p, r = np.repeat([0, 1, 2], 2), np.tile([0, 1], 3)
    >>> variance_components(y, [p, r, np.arange(6)]).variance.round(4).tolist()
    [3.1667, 0.1667, 0.1667]
    """
    y = np.asarray(y, float)
    n = y.size
    if n < 2:
        raise DataError("a variance-components analysis needs at least two scores")
    names = list(names) if names is not None else [f"effect {i}" for i in range(len(levels))]
    codes = [_codes(lv) for lv in levels]
    for i in range(len(codes)):
        for j in range(i + 1, len(codes)):
            if _same_partition(*codes[i], *codes[j]):
                raise DataError(
                    f"{names[i]} and {names[j]} group the scores the same way in these data, so their variances "
                    "cannot be told apart (is one facet nested in another? declare it with nested=)"
                )
    T = t_terms(y, [c for c, _ in codes])
    K = _coefficients(codes, n)
    try:
        solution = np.linalg.solve(K, T)
    except np.linalg.LinAlgError:
        raise DataError(
            f"the design's effects ({', '.join(names)}) are not separable in these data (a singular system)"
        ) from None
    return VarianceComponents(variance=solution[1:], mean=float(y.mean()), t_terms=T, coefficients=K, n=int(n))


def bootstrap_components(
    y,
    levels: Sequence[np.ndarray],
    person: np.ndarray,
    within_person: Sequence[bool],
    n_resamples: int = 1000,
    random_state: int | np.random.Generator | None = 0,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Method-1 components of ``n_resamples`` bootstrap samples of the persons: (replicates x effects).

    ``within_person[α]`` says effect α's levels each belong to one person (α contains the
    object of measurement, or is the residual).  A person drawn twice counts as two persons.
    ``weights`` (replicates x persons, persons in sorted order) replaces the random draws.

    With weights :math:`w_i` (how often person *i* was drawn), for an effect within persons
    :math:`T_\\alpha(w) = \\sum_i w_i t_{\\alpha i}` and :math:`k_{\\alpha\\beta}(w) = \\sum_i w_i
    k_{\\alpha\\beta i}`; for an effect crossing persons the level sums and counts are
    :math:`S_a(w) = \\sum_i w_i S_{ia}`, :math:`n_a(w) = \\sum_i w_i n_{ia}`, and
    :math:`\\sum_b n_{ab}(w)^2` is linear in *w* when β is within persons and the square of a
    linear form when it is not.

    >>> y = np.array([4.0, 5, 2, 2, 5, 6, 3, 4, 1, 2])
    >>> p, r = np.repeat(np.arange(5), 2), np.tile([0, 1], 5)
    >>> boot = bootstrap_components(y, [p, r, np.arange(10)], p, [True, False, True], 200, 1)
    >>> boot.shape
    (200, 3)
    """
    y = np.asarray(y, float)
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    person, n_persons = _codes(person)
    codes = [_codes(lv) for lv in levels]
    m = len(codes)
    if weights is not None:
        W = np.atleast_2d(np.asarray(weights, float))
        n_resamples = W.shape[0]
    else:
        W = rng.multinomial(n_persons, np.full(n_persons, 1.0 / n_persons), size=n_resamples).astype(float)

    def per_person(values: np.ndarray, index: np.ndarray, size: int) -> np.ndarray:
        """(persons x size) matrix of sums of ``values`` by (person, index)."""
        return np.bincount(person * size + index, weights=values, minlength=n_persons * size).reshape(n_persons, size)

    ones = np.ones(y.size)
    T = np.empty((n_resamples, m + 1))
    K = np.empty((n_resamples, m + 1, m + 1))
    # μ: one level crossing all persons
    total = W @ np.bincount(person, weights=y, minlength=n_persons)
    count = W @ np.bincount(person, minlength=n_persons).astype(float)
    T[:, 0] = total**2 / count
    K[:, :, 0] = count[:, None]
    level_sums = []
    for lv, n_lv in codes:
        level_sums.append((np.bincount(lv, weights=y, minlength=n_lv), np.bincount(lv, minlength=n_lv).astype(float)))
    # T terms
    for a_idx, ((a, n_a), inside) in enumerate(zip(codes, within_person)):
        if inside:
            s, n = level_sums[a_idx]
            owner = np.zeros(n_a, dtype=np.int64)
            owner[a] = person
            t_i = np.bincount(owner, weights=s * s / n, minlength=n_persons)
            T[:, a_idx + 1] = W @ t_i
        else:
            S = W @ per_person(y, a, n_a)
            N = W @ per_person(ones, a, n_a)
            with np.errstate(divide="ignore", invalid="ignore"):
                T[:, a_idx + 1] = np.nansum(np.where(N > 0, S * S / N, 0.0), axis=1)
    # coefficients: row μ
    for b_idx, ((b, n_b), inside_b) in enumerate(zip(codes, within_person)):
        if inside_b:
            owner = np.zeros(n_b, dtype=np.int64)
            owner[b] = person
            q_i = np.bincount(owner, weights=level_sums[b_idx][1] ** 2, minlength=n_persons)
            K[:, 0, b_idx + 1] = (W @ q_i) / count
        else:
            Nb = W @ per_person(ones, b, n_b)
            K[:, 0, b_idx + 1] = (Nb**2).sum(axis=1) / count
    # coefficients: effect rows
    for a_idx, ((a, n_a), inside_a) in enumerate(zip(codes, within_person)):
        size_a = level_sums[a_idx][1]
        for b_idx, ((b, n_b), inside_b) in enumerate(zip(codes, within_person)):
            joint, inverse, counts = np.unique(a * n_b + b, return_inverse=True, return_counts=True)
            inverse = inverse.reshape(-1)
            cell_a = joint // n_b
            if inside_a:
                # every (a, b) cell belongs to a's person: linear in the weights
                owner = np.zeros(n_a, dtype=np.int64)
                owner[a] = person
                k_i = np.bincount(
                    owner[cell_a], weights=counts.astype(float) ** 2 / size_a[cell_a], minlength=n_persons
                )
                K[:, a_idx + 1, b_idx + 1] = W @ k_i
                continue
            Na = W @ per_person(ones, a, n_a)  # (replicates x levels of a)
            Q: np.ndarray
            if inside_b:
                # b's levels belong to one person each: sum_b n_ab(w)^2 = sum_i w_i sum_{b in i} n_ab^2
                cell_person = np.zeros(joint.size, dtype=np.int64)
                cell_person[inverse] = person
                q_cells = np.bincount(
                    cell_person * n_a + cell_a, weights=counts.astype(float) ** 2, minlength=n_persons * n_a
                ).reshape(n_persons, n_a)
                Q = W @ q_cells
            else:
                Nab = W @ per_person(ones, inverse, joint.size)  # (replicates x cells)
                Q = np.zeros((n_resamples, n_a))
                np.add.at(Q.T, cell_a, (Nab**2).T)
            with np.errstate(divide="ignore", invalid="ignore"):
                K[:, a_idx + 1, b_idx + 1] = np.where(Na > 0, Q / Na, 0.0).sum(axis=1)
    solution = np.linalg.solve(K, T[..., None])[..., 0]
    return solution[:, 1:]
