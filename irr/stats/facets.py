"""Many-facet Rasch measurement on integer-coded ratings (layer 1).

The model (Linacre 1989) for rating *r* of object *n* (a student's work) by elements
:math:`j, i, \\ldots` of the other facets (rater, dimension, ...) in category *k* of its
threshold group *g* (one group: rating scale; one per element of a facet: partial credit):

.. math::

    \\log \\frac{P_{rk}}{P_{r,k-1}} = \\eta_r - \\tau_{gk}, \\qquad
    \\eta_r = B_n - C_j - D_i - \\ldots

The object facet is oriented positively (a higher measure is a better work); every other
facet negatively (a higher rater measure is a harsher rater).  Identification: every facet
but the object's is centred at 0, and the thresholds of each group sum to 0 (FACETS'
convention).

Estimation (:func:`fit_rasch_facets`) is joint maximum likelihood, as FACETS does it, but by
full Newton-Raphson on all parameters at once: the objects' block of the information matrix
is diagonal, so it is eliminated (Schur complement) and each iteration solves one small
system in the other facets' elements and the thresholds.  Every per-rating quantity is a
vectorised array operation and every sum over ratings a ``bincount``; nothing loops over
ratings or elements.  Elements with extreme scores (every rating in the top, or every rating
in the bottom, category) have no finite estimate; they are left out of the joint estimation
and then measured with their score moved 0.3 score points inward (FACETS' ``Xtreme=0.3``).

JMLE is inconsistent when each object has few ratings (Andersen 1973): the other facets'
measures spread out by a factor that grows as the ratings per object fall (about 1.1 with
eight ratings per work).  ``correct_bias=True`` removes it with a parametric-bootstrap
calibration of that factor (see :func:`fit_rasch_facets`).

References
----------
Linacre, J. M. (1989). *Many-facet Rasch measurement*. Chicago: MESA Press.
Wright, B. D., & Masters, G. N. (1982). *Rating scale analysis*. Chicago: MESA Press
(fit mean-squares and their Wilson-Hilferty standardisation, ch. 5).
Wright, B. D., & Douglas, G. A. (1977). Best procedures for sample-free item analysis.
*Applied Psychological Measurement* 1, 281-295 (the JMLE bias).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from scipy import stats as _st

from irr.errors import DataError

__all__ = [
    "RaschFacetsFit",
    "DisconnectedDesignError",
    "category_moments",
    "design_subsets",
    "fit_rasch_facets",
    "element_fit",
    "interaction_bias",
    "separation_statistics",
    "rasch_welch",
    "wilson_hilferty",
]

EXTREME_ADJUSTMENT = 0.3


class DisconnectedDesignError(DataError):
    """The rating design splits into subsets whose measures cannot be compared.

    ``subsets`` is a list, one entry per subset, of ``{facet index: array of element
    indices}``.
    """

    def __init__(self, message: str, subsets: list[dict[int, np.ndarray]]):
        super().__init__(message)
        self.subsets = subsets


# ----------------------------------------------------------------------------- the model
def _cumulative_thresholds(thresholds: np.ndarray, n_categories: np.ndarray) -> np.ndarray:
    """Per group, [0, tau_1, tau_1 + tau_2, ...], +inf beyond the group's top category."""
    n_groups, width = thresholds.shape
    out = np.full((n_groups, width + 1), np.inf)
    out[:, 0] = 0.0
    out[:, 1:] = np.cumsum(np.nan_to_num(thresholds), axis=1)
    k = np.arange(width + 1)
    out[k[None, :] >= n_categories[:, None]] = np.inf
    return out


def category_moments(eta, group, thresholds, n_categories, fourth: bool = True):
    """Category probabilities and the moments of each rating's score (in category units).

    Returns ``(P, E, W, C)``: ``P`` (ratings x categories), the expected score
    :math:`E_r = \\sum_k k P_{rk}`, its variance :math:`W_r = \\sum_k k^2 P_{rk} - E_r^2`
    and fourth central moment :math:`C_r = \\sum_k (k - E_r)^4 P_{rk}` (NaN when
    ``fourth=False``: the estimation steps do not need it).

    >>> P, E, W, C = category_moments(np.array([0.0]), np.array([0]), np.array([[-1.0, 1.0]]), np.array([3]))
    >>> P.round(3), E.round(3), W.round(3)
    (array([[0.212, 0.576, 0.212]]), array([1.]), array([0.424]))
    """
    eta = np.asarray(eta, float)
    cum = _cumulative_thresholds(np.asarray(thresholds, float), np.asarray(n_categories))
    k = np.arange(cum.shape[1], dtype=float)
    logits = k[None, :] * eta[:, None] - cum[group]
    logits -= logits.max(axis=1, keepdims=True)
    P = np.exp(logits)
    P /= P.sum(axis=1, keepdims=True)
    E = P @ k
    W = np.maximum(P @ (k * k) - E * E, 0.0)
    if not fourth:
        return P, E, W, np.full(E.shape, np.nan)
    dev = (k[None, :] - E[:, None]) ** 2
    C = np.einsum("rk,rk,rk->r", P, dev, dev)
    return P, E, W, C


def _tail_sums(P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """G_j = P(X >= j) and H_j = sum_{k >= j} k P_k, for j = 1 .. K-1."""
    k = np.arange(P.shape[1], dtype=float)
    G = np.cumsum(P[:, ::-1], axis=1)[:, ::-1][:, 1:]
    H = np.cumsum((P * k)[:, ::-1], axis=1)[:, ::-1][:, 1:]
    return G, H


# ----------------------------------------------------------------------------- design
def design_subsets(elements: np.ndarray, n_elements: Sequence[int]) -> list[dict[int, np.ndarray]]:
    """The subsets of a rating design whose measures can be compared (one when it is identified).

    The additive model :math:`\\eta = B_n - C_j - D_i - \\ldots` is identified (up to each
    facet's centring) exactly when the unit-weight information matrix of the design has one
    null direction per non-object facet (adding *c* to every object and to every element of
    that facet).  Each further null direction is a contrast the data cannot see: "the works of
    subset 1 are better and their raters harsher", or "rater A's severity and the claim
    dimension's difficulty trade off".  The objects are eliminated (Schur complement) to find
    those directions on the small block of the other facets; elements with the same
    coordinates in them form a group.  Groups holding works are the **subsets**, listed first;
    groups of other elements without works follow (the confounded elements, or elements that
    link every subset), with an empty facet-0 array.

    >>> el = np.array([[0, 0], [1, 0], [2, 1], [3, 1]])      # works 0, 1 by rater 0; 2, 3 by rater 1
    >>> [{f: v.tolist() for f, v in s.items()} for s in design_subsets(el, [4, 2])]
    [{0: [0, 1], 1: [0]}, {0: [2, 3], 1: [1]}]
    """
    elements = np.asarray(elements)
    n_facets = elements.shape[1]
    n_obj = int(n_elements[0])
    offsets = np.concatenate([[0], np.cumsum(n_elements[1:])]).astype(int)
    m = int(offsets[-1])
    whole = {f: np.arange(int(n_elements[f])) for f in range(n_facets)}
    if m == 0:
        return [whole]
    n = len(elements)
    cols_b = (elements[:, 1:] + offsets[:-1][None, :]).ravel()
    design_b = sp.csr_matrix((-np.ones(cols_b.size), (np.repeat(np.arange(n), n_facets - 1), cols_b)), shape=(n, m))
    objects = sp.csr_matrix((np.ones(n), (np.arange(n), elements[:, 0])), shape=(n, n_obj))
    counts = np.bincount(elements[:, 0], minlength=n_obj).astype(float)
    inv = np.where(counts > 0, 1.0 / np.maximum(counts, 1.0), 0.0)
    cross = (objects.T @ design_b).tocsr()
    schur = (design_b.T @ design_b).toarray() - (cross.T @ sp.diags(inv) @ cross).toarray()
    values, vectors = np.linalg.eigh(schur)
    tol = 1e-8 * max(1.0, float(np.abs(values).max(initial=0.0)))
    null_b = vectors[:, values < tol]
    if null_b.shape[1] <= n_facets - 1:
        return [whole]
    # complete each direction with its objects' coordinates (X v = 0: object = sum of its elements)
    null_a = -(sp.diags(inv) @ cross @ null_b)
    full = np.vstack([null_a, null_b])
    centring = np.zeros((n_obj + m, n_facets - 1))
    centring[:n_obj, :] = 1.0
    for f in range(1, n_facets):
        centring[n_obj + offsets[f - 1] : n_obj + offsets[f], f - 1] = 1.0
    q, _ = np.linalg.qr(centring)
    extra = full - q @ (q.T @ full)
    u, sv, _ = np.linalg.svd(extra, full_matrices=False)
    extra = u[:, sv > 1e-6 * max(1.0, float(sv.max(initial=0.0)))]
    scale = max(1e-12, float(np.abs(extra).max(initial=0.0)))
    coords = np.round(extra / scale * 1e5).astype(np.int64)
    _, label = np.unique(coords, axis=0, return_inverse=True)
    label = np.asarray(label).ravel()
    label_obj, label_b = label[:n_obj], label[n_obj:]
    out = []
    for s_id in np.unique(label):
        subset = {0: np.flatnonzero(label_obj == s_id)}
        for f in range(1, n_facets):
            subset[f] = np.flatnonzero(label_b[offsets[f - 1] : offsets[f]] == s_id)
        out.append(subset)
    out.sort(key=lambda s: (len(s[0]) == 0, int(s[0][0]) if len(s[0]) else 0))
    return out


# ----------------------------------------------------------------------------- the fit
@dataclass(frozen=True)
class RaschFacetsFit:
    """Estimates of a many-facet Rasch model (see :func:`fit_rasch_facets`).

    ``measures[f]``, ``se[f]`` and ``extreme[f]`` (+1 maximum score, -1 minimum, 0 neither)
    per facet, in element order; ``thresholds`` (groups x max steps, NaN beyond a group's
    scale) with ``threshold_se``; per rating ``eta``, ``expected``, ``variance``,
    ``kurtosis`` (fourth central moment) and ``probabilities``, in category units, at the
    joint (uncorrected) solution, whose thresholds are ``joint_thresholds``: the residuals
    that fit and interaction statistics are made of.
    """

    measures: tuple[np.ndarray, ...]
    se: tuple[np.ndarray, ...]
    extreme: tuple[np.ndarray, ...]
    thresholds: np.ndarray
    threshold_se: np.ndarray
    n_categories: np.ndarray
    joint_thresholds: np.ndarray
    eta: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    kurtosis: np.ndarray
    probabilities: np.ndarray
    estimated: np.ndarray  # ratings used in the joint estimation (no extreme element)
    iterations: int
    converged: bool
    log_likelihood: float
    joint_se: tuple[np.ndarray, ...] = ()
    bias_factor: tuple[float, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def _extreme_elements(x, elements, n_elements, top, active):
    """Iteratively find elements whose active ratings are all top or all bottom categories."""
    n_facets = elements.shape[1]
    extreme = [np.zeros(int(n), dtype=int) for n in n_elements]
    active = active.copy()
    while True:
        changed = False
        for f in range(n_facets):
            e = elements[:, f]
            n = int(n_elements[f])
            count = np.bincount(e, weights=active, minlength=n)
            at_top = np.bincount(e, weights=active & (x == top), minlength=n)
            at_bottom = np.bincount(e, weights=active & (x == 0), minlength=n)
            new_top = (count > 0) & (at_top == count) & (extreme[f] == 0)
            new_bottom = (count > 0) & (at_bottom == count) & (extreme[f] == 0) & ~new_top
            if new_top.any() or new_bottom.any():
                extreme[f][new_top] = 1
                extreme[f][new_bottom] = -1
                active &= extreme[f][e] == 0
                changed = True
        if not changed:
            return extreme, active


def _layout(n_elements, n_categories):
    """Offsets of the non-object parameters: elements of facets 1.., then each group's steps."""
    elem_offsets = np.concatenate([[0], np.cumsum(n_elements[1:])]).astype(int)
    n_elem = int(elem_offsets[-1])
    steps = np.maximum(np.asarray(n_categories) - 1, 0)
    width = int(steps.max(initial=0))
    tau_index = np.full((len(steps), width), -1, dtype=int)
    pos = n_elem
    for g, s in enumerate(steps):
        tau_index[g, :s] = pos + np.arange(s)
        pos += int(s)
    return elem_offsets, n_elem, tau_index, pos


def _center_blocks(n_elements, tau_index):
    """Block id of every non-object parameter: each facet and each threshold group is centred."""
    offsets = np.concatenate([[0], np.cumsum(n_elements[1:])]).astype(int)
    m = max(int(offsets[-1]), int(tau_index.max(initial=-1)) + 1)
    block = np.empty(m, dtype=np.int64)
    for f in range(len(n_elements) - 1):
        block[offsets[f] : offsets[f + 1]] = f
    for g in range(tau_index.shape[0]):
        block[tau_index[g][tau_index[g] >= 0]] = len(n_elements) - 1 + g
    return block


def _basis(block: np.ndarray, free: np.ndarray | None = None) -> np.ndarray:
    """Columns spanning the centred parameters: within each block, e_a - e_last for every a but the last.

    Parameters that are not ``free`` (an element with no rating left to estimate it from, e.g. an
    extreme rater) get no column and stay out of their block's centring: they are measured later.
    """
    m = block.size
    free = np.ones(m, dtype=bool) if free is None else np.asarray(free, bool)
    index = np.flatnonzero(free)
    order = index[np.argsort(block[index], kind="stable")]
    sorted_block = block[order]
    last_of_block = np.r_[sorted_block[1:] != sorted_block[:-1], True] if order.size else np.zeros(0, bool)
    last_index = order[last_of_block]  # the last free parameter of each block, by block id
    block_ids = sorted_block[last_of_block]
    members = order[~last_of_block]
    Z = np.zeros((m, members.size))
    cols = np.arange(members.size)
    Z[members, cols] = 1.0
    Z[last_index[np.searchsorted(block_ids, block[members])], cols] = -1.0
    return Z


def _thresholds_from(rest, tau_index):
    out = np.full(tau_index.shape, np.nan)
    valid = tau_index >= 0
    out[valid] = rest[tau_index[valid]]
    return out


class _Model:
    """Index bookkeeping shared by the estimation steps (no data copies).

    ``replicates`` independent copies of one design can be fitted at once (the bias
    calibration's simulated data sets): rating *r* belongs to copy ``rep[r]``, the objects and
    the other parameters are laid out copy by copy, and each copy is centred on its own.  The
    information matrix is then block-diagonal, and each Newton step solves the copies' small
    systems as one batched solve.
    """

    def __init__(self, elements, n_elements, group, n_categories, rep=None, replicates: int = 1):
        self.elements = elements
        self.n_elements = np.asarray(n_elements, dtype=int)
        self.n_facets = elements.shape[1]
        self.signs = np.array([1.0] + [-1.0] * (self.n_facets - 1))
        self.group = group
        self.n_categories = np.asarray(n_categories, dtype=int)
        self.R = int(replicates)
        self.rep = np.zeros(len(group), dtype=np.int64) if rep is None else np.asarray(rep, dtype=np.int64)
        self.elem_offsets, self.n_elem, self.tau_index, self.m = _layout(self.n_elements, self.n_categories)
        self.width = self.tau_index.shape[1]
        self.n_groups = self.tau_index.shape[0]
        self.n_obj = int(self.n_elements[0])
        self.obj = elements[:, 0] + self.rep * self.n_obj  # the object's index among all copies
        self.table_group = group + self.rep * self.n_groups  # row of the copies' threshold table
        self.table_categories = np.tile(self.n_categories, self.R)
        # per rating: the columns of its non-object parameters within its copy (elements, then
        # steps; -1 none)
        elem_cols = elements[:, 1:] + self.elem_offsets[:-1][None, :]
        tau_cols = self.tau_index[group] if self.width else np.zeros((len(group), 0), dtype=int)
        self.local_cols = np.concatenate([elem_cols, tau_cols], axis=1)

    def stacked_elements(self) -> np.ndarray:
        """Element indices made distinct across copies (for the extreme-score check)."""
        return self.elements + self.rep[:, None] * self.n_elements[None, :]

    def eta(self, persons, rest, rows=slice(None)):
        el = self.elements[rows]
        base = self.rep[rows] * self.m
        out = persons[self.obj[rows]].astype(float)
        for f in range(1, self.n_facets):
            out = out - rest[base + self.elem_offsets[f - 1] + el[:, f]]
        return out

    def thresholds(self, rest):
        """The copies' thresholds, (copies x groups) x steps, NaN beyond a group's scale."""
        per_copy = np.asarray(rest).reshape(self.R, self.m)
        out = np.full((self.R, self.n_groups, self.width), np.nan)
        valid = self.tau_index >= 0
        out[:, valid] = per_copy[:, self.tau_index[valid]]
        return out.reshape(self.R * self.n_groups, self.width)


def _joint_step(model: _Model, x, rows, persons, rest, Z):
    """One Newton-Raphson step on all parameters (objects eliminated by the Schur complement).

    Returns the steps of the objects and of the other parameters, the centred information of
    every copy (copies x free x free), the log-likelihood and the objects' information.
    """
    grp = model.table_group[rows]
    cols = model.local_cols[rows]
    rep = model.rep[rows]
    eta = model.eta(persons, rest, rows)
    P, E, W, _ = category_moments(eta, grp, model.thresholds(rest), model.table_categories, fourth=False)
    G, H = _tail_sums(P)
    xr = x[rows]
    # The rating's columns: its elements (eta = ... - element) and its group's steps (tau_j).
    # Information and gradient in those columns, from the natural parameters' (eta: W; eta x
    # tau_j: -Cov(X, 1[X >= j]); tau_j x tau_l: Cov(1[X >= j], 1[X >= l])), summed by one
    # bincount per pair of the rating's column slots (no ratings x slots x slots array).
    nf = model.n_facets - 1
    K1 = model.width
    L = cols.shape[1]
    j = np.arange(1, K1 + 1)
    cov_xg = H - E[:, None] * G
    m, R = model.m, model.R
    m1 = m + 1
    local = np.where(cols >= 0, cols, m)  # a dummy column m collects the unused steps
    base = rep * (m1 * m1)
    size = R * m1

    def pair_sum(u: int, v: int, w: np.ndarray) -> np.ndarray:
        return np.bincount(base + local[:, u] * m1 + local[:, v], weights=w, minlength=R * m1 * m1)

    B_flat = np.zeros(R * m1 * m1)
    for u in range(nf):  # element x element: W (a rating has one element per facet)
        for v in range(nf):
            B_flat += pair_sum(u, v, W)
    for u in range(nf):  # element x step: -(-1) Cov(X, 1[X >= j]), and its transpose
        for jj in range(K1):
            both = pair_sum(u, nf + jj, cov_xg[:, jj]).reshape(R, m1, m1)
            B_flat += (both + both.transpose(0, 2, 1)).ravel()
    for jj in range(K1):  # step x step
        for ll in range(K1):
            B_flat += pair_sum(nf + jj, nf + ll, G[:, max(jj, ll)] - G[:, jj] * G[:, ll])
    B = B_flat.reshape(R, m1, m1)[:, :m, :m]
    safe = local + (rep * m1)[:, None]
    gcol = np.empty((len(xr), L))
    gcol[:, :nf] = -(xr - E)[:, None]
    gcol[:, nf:] = -((xr[:, None] >= j[None, :]).astype(float) - G)
    flat = safe.ravel()
    gb = np.bincount(flat, weights=gcol.ravel(), minlength=size).reshape(R, m1)[:, :m]
    cross_vals = np.empty((len(xr), L))  # information between the rating's object and each column
    cross_vals[:, :nf] = -W[:, None]
    cross_vals[:, nf:] = -cov_xg
    # objects: eta has +1 on the object; cross information object x column
    n_obj = model.n_obj * R
    person = model.obj[rows]
    d = np.bincount(person, weights=W, minlength=n_obj)
    ga = np.bincount(person, weights=xr - E, minlength=n_obj)
    C = sp.csr_matrix((cross_vals.ravel(), (np.repeat(person, L), flat)), shape=(n_obj, size))
    dinv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 0.0)
    CtDinv = (C.T @ sp.diags(dinv)).tocsr()
    eliminated = (CtDinv @ C).tocoo()  # block-diagonal: an object belongs to one copy
    S = B.copy()
    r_of = eliminated.row // m1
    a_of, b_of = eliminated.row % m1, eliminated.col % m1
    keep = (a_of < m) & (b_of < m)
    np.add.at(S, (r_of[keep], a_of[keep], b_of[keep]), -eliminated.data[keep])
    rhs = gb - (CtDinv @ ga).reshape(R, m1)[:, :m]
    Sz = np.matmul(np.matmul(Z.T, S), Z)  # batched over the copies
    if Sz.shape[1]:
        ridge = 1e-12 * np.eye(Sz.shape[1])
        beta = np.linalg.solve(Sz + ridge, (rhs @ Z)[..., None])[..., 0]
    else:
        beta = np.zeros((R, 0))
    step_rest = beta @ Z.T  # (copies, m)
    padded = np.zeros((R, m1))
    padded[:, :m] = step_rest
    step_persons = dinv * (ga - C @ padded.ravel())
    loglik = float(np.log(np.maximum(P[np.arange(len(xr)), xr], 1e-300)).sum())
    return step_persons, step_rest.ravel(), Sz, loglik, d


def _extreme_measures(model, x, persons, rest, extreme, facet, active_ratings, max_iter=100):
    """Measures of a facet's extreme elements with their scores moved 0.3 points inward."""
    ids = np.flatnonzero(extreme[facet] != 0)
    if ids.size == 0:
        return
    e = model.elements[:, facet]
    rows = np.flatnonzero(np.isin(e, ids) & active_ratings)
    if rows.size == 0:
        return
    n = int(model.n_elements[facet])
    sign = model.signs[facet]
    observed = np.bincount(e[rows], weights=x[rows], minlength=n)
    target = observed - extreme[facet] * EXTREME_ADJUSTMENT
    values = persons if facet == 0 else rest
    offset = 0 if facet == 0 else model.elem_offsets[facet - 1]
    start = np.where(extreme[facet][ids] > 0, 3.0, -3.0) * sign
    values[offset + ids] = start
    for _ in range(max_iter):
        eta = model.eta(persons, rest, rows)
        _, E, W, _ = category_moments(eta, model.group[rows], model.thresholds(rest), model.n_categories)
        resid = np.bincount(e[rows], weights=x[rows] - E, minlength=n)[ids] + (target - observed)[ids]
        info = np.bincount(e[rows], weights=W, minlength=n)[ids]
        step = np.clip(resid / np.maximum(info, 1e-10), -1.0, 1.0) * sign
        values[offset + ids] += step
        if np.abs(step).max() < 1e-8:
            break


def _jmle(model: _Model, x, rows, persons, rest, Z, max_iter: int, tol: float, callback=None, stage="estimation"):
    """Newton-Raphson to convergence; returns the iteration count, convergence, Sz, log-likelihood.

    No parameter of a copy moves by more than a logit in one step: a copy's whole step is
    scaled down when one would (Newton's direction is kept, only shortened).
    """
    Sz = np.zeros((model.R, 0, 0))
    loglik = np.nan
    per_copy = np.full(model.R, np.inf)
    for iteration in range(1, max_iter + 1):
        dp, dr, Sz, loglik, _ = _joint_step(model, x, rows, persons, rest, Z)
        per_copy = np.maximum(
            np.abs(dp).reshape(model.R, -1).max(axis=1, initial=0.0),
            np.abs(dr).reshape(model.R, -1).max(axis=1, initial=0.0),
        )
        scale = np.where(per_copy <= 1.0, 1.0, 1.0 / np.maximum(per_copy, 1e-300))
        persons += np.repeat(scale, model.n_obj) * dp
        rest += np.repeat(scale, model.m) * dr
        biggest = float(per_copy.max(initial=0.0))
        if callback is not None:
            callback(stage, iteration, biggest)
        if biggest < tol:
            return iteration, True, Sz, loglik, per_copy
    return max_iter, False, Sz, loglik, per_copy


def _start(model: _Model, x, rows):
    """Objects at the logit of their mean score, other elements at 0, steps from category counts."""
    n_obj = int(model.n_elements[0])
    top = model.n_categories[model.group[rows]] - 1
    e = model.elements[rows, 0]
    share = np.bincount(e, weights=(x[rows] + 0.5) / (top + 1.0), minlength=n_obj)
    count = np.bincount(e, minlength=n_obj)
    rest_share = np.maximum(count - share, 1e-9)
    persons = np.log(np.maximum(share, 1e-9) / rest_share)
    persons = np.clip(np.where(count > 0, persons, 0.0), -4, 4)
    rest = np.zeros(model.m)
    xg = model.group[rows] * (model.width + 1) + x[rows]
    counts = np.bincount(xg, minlength=model.tau_index.shape[0] * (model.width + 1)).reshape(-1, model.width + 1)
    smoothed = counts + 0.5
    steps = np.log(smoothed[:, :-1] / smoothed[:, 1:])
    valid = model.tau_index >= 0
    steps = np.where(valid, steps, 0.0)
    steps -= (steps.sum(axis=1) / np.maximum(valid.sum(axis=1), 1))[:, None]
    rest[model.tau_index[valid]] = steps[valid]
    return persons, rest


def _anchored_objects(model: _Model, x, rows, persons, rest, max_iter: int = 100):
    """Re-estimate the objects (all at once) with every other parameter anchored."""
    e = model.elements[rows, 0]
    n = int(model.n_elements[0])
    thresholds = model.thresholds(rest)
    for _ in range(max_iter):
        eta = model.eta(persons, rest, rows)
        _, E, W, _ = category_moments(eta, model.group[rows], thresholds, model.n_categories)
        resid = np.bincount(e, weights=x[rows] - E, minlength=n)
        info = np.bincount(e, weights=W, minlength=n)
        step = np.clip(np.where(info > 0, resid / np.maximum(info, 1e-12), 0.0), -1.0, 1.0)
        persons += step
        if np.abs(step).max(initial=0.0) < 1e-9:
            break


def fit_rasch_facets(
    x,
    elements,
    n_elements: Sequence[int],
    group=None,
    n_categories=None,
    *,
    max_iter: int = 200,
    tol: float = 1e-7,
    correct_bias: bool = True,
    seed: int = 20261202,
    callback=None,
) -> RaschFacetsFit:
    """Joint maximum-likelihood estimates of a many-facet Rasch model, bias-corrected.

    Parameters
    ----------
    x : int array (ratings,)
        Category of each rating, 0 .. K_g - 1 for its threshold group *g*.
    elements : int array (ratings, facets)
        Element index of each rating in each facet; column 0 is the object of measurement.
    n_elements : the number of elements of each facet.
    group : int array (ratings,), optional
        Threshold group of each rating (all 0: the rating-scale model).
    n_categories : int array (groups,), optional
        Categories of each group (default: the largest category seen in the group + 1).
    correct_bias : bool
        Remove JMLE's spread inflation of the non-object facets and the thresholds.  Data sets
        are simulated from the fitted model with the same design (enough replicates for about
        100,000 ratings, at most 50, stacked into one block-diagonal fit), refit, and each
        facet's measures divided by the slope of the refit measures on the generating ones:
        Wright & Douglas's (L-1)/L correction, estimated for this design instead of assumed.
        The objects are then re-estimated with the corrected parameters anchored.
    seed : the seed of those simulations (the result is reproducible).
    callback : called as ``callback(stage, iteration, largest_change)`` after every
        Newton-Raphson step (``stage`` is ``"estimation"`` or ``"bias correction"``).

    The Newton-Raphson iterations stop when no parameter moves by more than ``tol`` logits.
    ``se`` is the model SE :math:`1/\\sqrt{\\sum_r W_r}` (FACETS'); ``joint_se`` comes from
    the joint information with the objects eliminated, so it carries the uncertainty of the
    objects' measures too (wider; the one whose intervals cover).  Raises
    :class:`DisconnectedDesignError` when the design is not connected.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> works, raters = rng.integers(0, 300, 3000), rng.integers(0, 6, 3000)
    >>> severity = np.array([-1.0, -0.5, 0.0, 0.0, 0.5, 1.0])
    >>> ability = rng.normal(0, 1.5, 300)
    >>> tau = np.array([-1.0, 0.0, 1.0])
    >>> eta = ability[works] - severity[raters]
    >>> P, *_ = category_moments(eta, np.zeros(3000, int), tau[None, :], np.array([4]))
    >>> x = (rng.random(3000)[:, None] > np.cumsum(P, 1)[:, :-1]).sum(1)
    >>> fit = fit_rasch_facets(x, np.column_stack([works, raters]), [300, 6])
    >>> fit.measures[1].round(1), fit.thresholds.round(1)
    (array([-1. , -0.5, -0. ,  0. ,  0.5,  1. ]), array([[-1.,  0.,  1.]]))
    """
    x = np.asarray(x, dtype=np.int64)
    elements = np.asarray(elements, dtype=np.int64)
    if elements.ndim != 2 or elements.shape[0] != x.shape[0]:
        raise DataError("elements must be a (ratings x facets) array with one row per rating")
    n_elements = [int(n) for n in n_elements]
    if group is None:
        group = np.zeros(len(x), dtype=np.int64)
    group = np.asarray(group, dtype=np.int64)
    n_groups = int(group.max()) + 1 if group.size else 1
    if n_categories is None:
        n_categories = np.zeros(n_groups, dtype=int)
        np.maximum.at(n_categories, group, x + 1)
    n_categories = np.asarray(n_categories, dtype=int)
    if (n_categories < 2).any():
        bad = np.flatnonzero(n_categories < 2)
        raise DataError(f"threshold group(s) {bad.tolist()} have a single category: there is nothing to measure")
    model = _Model(elements, n_elements, group, n_categories)
    top = n_categories[group] - 1
    extreme, active = _extreme_elements(x, elements, n_elements, top, np.ones(len(x), dtype=bool))
    notes: list[str] = []
    rows = np.flatnonzero(active)
    if rows.size == 0:
        raise DataError("every element has an extreme score (all top or all bottom categories): nothing to estimate")
    # every category of each group must be used by the estimation set, or its threshold is infinite
    seen = np.zeros((n_groups, int(n_categories.max())), dtype=bool)
    seen[group[rows], x[rows]] = True
    for g in range(n_groups):
        missing = [k for k in range(int(n_categories[g])) if not seen[g, k]]
        if missing:
            raise DataError(
                f"threshold group {g}: categories {missing} are never used by the non-extreme ratings, so "
                "their thresholds are infinite; recode the scale (collapse unused categories)"
            )
    subsets = design_subsets(elements[rows], n_elements)
    if len(subsets) > 1:
        split = sum(len(s[0]) > 0 for s in subsets)
        what = f"splits into {split} disconnected subsets" if split > 1 else "confounds elements of different facets"
        raise DisconnectedDesignError(f"the rating design {what}", subsets)
    rated = np.zeros(model.m + 1)
    np.add.at(rated, np.where(model.local_cols[rows] >= 0, model.local_cols[rows], model.m).ravel(), 1.0)
    free = rated[: model.m] > 0
    Z = _basis(_center_blocks(np.asarray(n_elements), model.tau_index), free)
    persons, rest = _start(model, x, rows)
    iterations, converged, Sz, loglik, _ = _jmle(model, x, rows, persons, rest, Z, max_iter, tol, callback)
    if not converged:
        notes.append(f"the estimation did not converge in {max_iter} iterations")
    # joint covariance of the non-object parameters
    cov_rest = Z @ np.linalg.pinv(Sz[0]) @ Z.T if Sz.size else np.zeros((model.m, model.m))
    # extreme elements: others anchored, score moved 0.3 points inward
    usable = active | (extreme[0][elements[:, 0]] == 0)

    def measure_extremes(p, r):
        for f in range(1, model.n_facets):
            _extreme_measures(model, x, p, r, extreme, f, usable)
        _extreme_measures(model, x, p, r, extreme, 0, np.ones(len(x), dtype=bool))

    measure_extremes(persons, rest)
    # residual-based statistics (fit, interactions, expected agreement) use the joint solution,
    # where every element's observed and expected scores balance, as FACETS computes them
    eta = model.eta(persons, rest)
    thresholds = model.thresholds(rest)
    P, E, W, C = category_moments(eta, group, thresholds, n_categories)
    factors = np.ones(model.m)
    bias_factor: tuple[float, ...] = ()
    if correct_bias:
        bias_factor, bias_note = _bias_factors(model, x, rows, persons, rest, Z, free, seed, callback)
        if bias_note:
            notes.append(bias_note)
        for f in range(1, model.n_facets):
            factors[model.elem_offsets[f - 1] : model.elem_offsets[f]] = bias_factor[f - 1]
        factors[model.n_elem :] = bias_factor[-1]
        persons, rest = persons.copy(), rest / factors
        _anchored_objects(model, x, rows, persons, rest)
        measure_extremes(persons, rest)
        notes.append(
            "JMLE bias corrected (parametric-bootstrap calibration): measures of "
            + ", ".join(f"facet {f} / {b:.3f}" for f, b in enumerate(bias_factor[:-1], start=1))
            + f", thresholds / {bias_factor[-1]:.3f}; the works re-estimated with those anchored"
        )
    joint_all = np.sqrt(np.maximum(np.diag(cov_rest), 0.0)) / factors
    W_objects = W
    if correct_bias:
        _, _, W_objects, _ = category_moments(model.eta(persons, rest), group, model.thresholds(rest), n_categories)
    measures, ses, joint = [], [], []
    for f in range(model.n_facets):
        info = np.bincount(elements[:, f], weights=W_objects if f == 0 else W, minlength=n_elements[f])
        se = np.where(info > 0, 1.0 / np.sqrt(np.maximum(info, 1e-300)), np.nan)
        if f == 0:
            measures.append(persons.copy())
            joint.append(np.full(n_elements[0], np.nan))
        else:
            sl = slice(model.elem_offsets[f - 1], model.elem_offsets[f])
            measures.append(rest[sl].copy())
            joint.append(joint_all[sl].copy())
            se = se / factors[sl]
        ses.append(se)
    tau_se = np.full(model.tau_index.shape, np.nan)
    valid = model.tau_index >= 0
    tau_se[valid] = joint_all[model.tau_index[valid]]
    return RaschFacetsFit(
        measures=tuple(measures),
        se=tuple(ses),
        extreme=tuple(extreme),
        thresholds=model.thresholds(rest),
        threshold_se=tau_se,
        joint_thresholds=thresholds,
        n_categories=n_categories,
        eta=eta,
        expected=E,
        variance=W,
        kurtosis=C,
        probabilities=P,
        estimated=active,
        iterations=iterations,
        converged=converged,
        log_likelihood=loglik,
        joint_se=tuple(joint),
        bias_factor=bias_factor,
        notes=tuple(notes),
    )


def _bias_factors(model: _Model, x, rows, persons, rest, Z, free, seed: int, callback=None):
    """Slopes of refit on generating measures, per non-object facet and for the thresholds.

    R copies of the data (R x ratings ~ 100,000, 1 <= R <= 50) are simulated from the fitted
    model with the same design and fitted together as one block-diagonal model
    (:class:`_Model` with replicates): one vectorised estimation, not a loop over copies.  A copy
    in which a free element has no rating left or a category goes unused (possible on tiny data)
    is left out.  Returns the factors and a note ("" when nothing needs saying).
    """
    rng = np.random.default_rng(seed)
    n = rows.size
    R = int(np.clip(np.ceil(100_000 / max(n, 1)), 1, 50))
    eta = model.eta(persons, rest, rows)
    P, *_ = category_moments(eta, model.group[rows], model.thresholds(rest), model.n_categories)
    x_sim = _simulate(np.tile(P, (R, 1)), rng)
    rep = np.repeat(np.arange(R), n)
    el = np.tile(model.elements[rows], (R, 1))
    grp = np.tile(model.group[rows], R)
    stacked = _Model(el, model.n_elements, grp, model.n_categories, rep=rep, replicates=R)
    top = model.n_categories[grp] - 1
    n_stacked = model.n_elements * R
    _, active = _extreme_elements(x_sim, stacked.stacked_elements(), n_stacked, top, np.ones(x_sim.size, dtype=bool))
    # copies fit for the refit: every free parameter still informed, every category still used
    m1 = model.m + 1
    cols = np.where(stacked.local_cols >= 0, stacked.local_cols, model.m)
    informed = np.bincount(
        (rep[:, None] * m1 + cols).ravel(), weights=np.repeat(active, cols.shape[1]).astype(float), minlength=R * m1
    ).reshape(R, m1)[:, : model.m]
    width = int(model.n_categories.max())
    used = np.bincount(
        (rep * model.n_groups + grp) * width + x_sim, weights=active.astype(float), minlength=R * model.n_groups * width
    ).reshape(R, model.n_groups, width)
    needed = np.arange(width)[None, :] < model.n_categories[:, None]
    good = ((informed > 0) | ~free[None, :]).all(axis=1) & ((used > 0) | ~needed[None]).all(axis=(1, 2))
    if not good.any():
        return tuple([1.0] * model.n_facets), "JMLE bias not corrected: no simulated copy of this design was estimable"
    keep = good[rep] & active
    renumber = np.cumsum(good) - 1
    R_good = int(good.sum())
    sim = _Model(el[keep], model.n_elements, grp[keep], model.n_categories, rep=renumber[rep[keep]], replicates=R_good)
    # start the refit at the generating values (it converges in a few steps from there)
    p_sim = np.tile(persons, R_good)
    r_sim = np.tile(rest, R_good)
    # A copy can hold an element that is nearly extreme (a rater with 4 ratings, 3 of them at the
    # top): its measure creeps off over many iterations.  Such copies are left out of the slope
    # rather than waited for; the factor is the median of the copies' slopes.
    _, _, _, _, change = _jmle(
        sim, x_sim[keep], np.arange(int(keep.sum())), p_sim, r_sim, Z, 40, 1e-4, callback, "bias correction"
    )
    settled = change < 1e-3
    if not settled.any():
        return tuple([1.0] * model.n_facets), "JMLE bias not corrected: the simulated copies did not converge"
    refit = r_sim.reshape(R_good, model.m)[settled]
    factors = []
    blocks = [np.arange(model.elem_offsets[f - 1], model.elem_offsets[f]) for f in range(1, model.n_facets)]
    blocks.append(np.arange(model.n_elem, model.m))
    for idx in blocks:
        idx = idx[free[idx]]
        gen = rest[idx]
        denom = float(gen @ gen)
        slope = float(np.median(refit[:, idx] @ gen / denom)) if denom > 1e-12 and idx.size > 2 else 1.0
        factors.append(float(np.clip(slope, 0.5, 2.0)))  # a spread ratio: never let noise flip or blow it up
    left_out = R - int(settled.sum())
    note = f"{left_out} of {R} simulated copies not estimable or not converged, left out" if left_out else ""
    return tuple(factors), note


def _simulate(P: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    u = np.asarray(rng.random(size=P.shape[0]))
    return (u[:, None] > np.cumsum(P, axis=1)[:, :-1]).sum(axis=1)


# ----------------------------------------------------------------------------- fit statistics
def wilson_hilferty(mean_square, q):
    """Standardised fit: :math:`t = (\\mathrm{MS}^{1/3} - 1)(3/q) + q/3` (Wright & Masters 1982).

    >>> round(float(wilson_hilferty(1.0, 0.2)), 3)
    0.067
    """
    ms = np.asarray(mean_square, float)
    q = np.asarray(q, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(q > 0, (np.cbrt(ms) - 1.0) * (3.0 / q) + q / 3.0, np.nan)


def element_fit(index, n: int, x, expected, variance, kurtosis, mask=None):
    """Infit and outfit mean-squares and their standardised forms, per element.

    With residual :math:`y_r = x_r - E_r`, variance :math:`W_r` and fourth central moment
    :math:`C_r` over an element's *n* ratings:

    * outfit :math:`u = \\frac{1}{n}\\sum y_r^2 / W_r`, with
      :math:`q_u^2 = \\frac{1}{n^2}\\sum C_r / W_r^2 - \\frac{1}{n}`;
    * infit :math:`v = \\sum y_r^2 / \\sum W_r`, with
      :math:`q_v^2 = \\sum (C_r - W_r^2) / (\\sum W_r)^2`;

    each standardised by :func:`wilson_hilferty`.  Returns ``(infit, infit_z, outfit,
    outfit_z)``.

    >>> element_fit(np.array([0, 0]), 1, np.array([2, 0]), np.array([1.0, 1.0]), np.array([0.5, 0.5]),
    ...             np.array([0.5, 0.5]))[0]
    array([2.])
    """
    index = np.asarray(index)
    y = np.asarray(x, float) - expected
    mask = np.ones(len(y), dtype=bool) if mask is None else np.asarray(mask, bool)
    w = np.where(mask, 1.0, 0.0)
    safe_var = np.where(variance > 1e-12, variance, np.nan)
    z2 = np.where(mask, y * y / safe_var, 0.0)
    z2 = np.nan_to_num(z2)
    count = np.bincount(index, weights=w * (variance > 1e-12), minlength=n)
    sum_w = np.bincount(index, weights=w * variance, minlength=n)
    sum_y2 = np.bincount(index, weights=w * y * y, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        outfit = np.bincount(index, weights=z2, minlength=n) / count
        infit = sum_y2 / sum_w
        kurt_ratio = np.nan_to_num(np.where(mask, kurtosis / (safe_var * safe_var), 0.0))
        q_out = np.sqrt(np.maximum(np.bincount(index, weights=kurt_ratio, minlength=n) / count**2 - 1.0 / count, 0))
        q_in = np.sqrt(np.maximum(np.bincount(index, weights=w * (kurtosis - variance**2), minlength=n) / sum_w**2, 0))
    return infit, wilson_hilferty(infit, q_in), outfit, wilson_hilferty(outfit, q_out)


def separation_statistics(measures, se):
    """Separation, strata and reliability of a facet's measures (Wright & Masters 1982).

    :math:`\\mathrm{RMSE} = \\sqrt{\\overline{SE^2}}`, true SD
    :math:`= \\sqrt{\\max(SD^2 - \\mathrm{RMSE}^2, 0)}` (population SD), separation
    :math:`G = \\text{true SD}/\\mathrm{RMSE}`, strata :math:`H = (4G + 1)/3`, reliability
    :math:`G^2 / (1 + G^2)`; the fixed ("all same") chi-square
    :math:`\\sum w_j d_j^2 - (\\sum w_j d_j)^2 / \\sum w_j` with :math:`w_j = 1/SE_j^2`, on
    J - 1 d.f.  Returns a dict.

    >>> s = separation_statistics(np.array([-1.0, 0.0, 1.0]), np.array([0.5, 0.5, 0.5]))
    >>> round(s["separation"], 3), round(s["reliability"], 3), round(s["chi2"], 1), s["df"]
    (1.291, 0.625, 8.0, 2)
    """
    d = np.asarray(measures, float)
    s = np.asarray(se, float)
    ok = np.isfinite(d) & np.isfinite(s) & (s > 0)
    d, s = d[ok], s[ok]
    n = d.size
    if n < 2:
        return dict(
            n=n,
            mean=float(d.mean()) if n else np.nan,
            sd=np.nan,
            rmse=np.nan,
            adjusted_sd=np.nan,
            separation=np.nan,
            strata=np.nan,
            reliability=np.nan,
            chi2=np.nan,
            df=0,
            p=np.nan,
        )
    sd = float(d.std())
    rmse = float(np.sqrt(np.mean(s * s)))
    true_var = max(sd * sd - rmse * rmse, 0.0)
    g = np.sqrt(true_var) / rmse
    w = 1.0 / (s * s)
    chi2 = float(w @ (d * d) - (w @ d) ** 2 / w.sum())
    return dict(
        n=n,
        mean=float(d.mean()),
        sd=sd,
        rmse=rmse,
        adjusted_sd=float(np.sqrt(true_var)),
        separation=float(g),
        strata=float((4 * g + 1) / 3),
        reliability=float(true_var / (sd * sd)) if sd > 0 else np.nan,
        chi2=chi2,
        df=n - 1,
        p=float(_st.chi2.sf(chi2, n - 1)),
    )


# ----------------------------------------------------------------------------- interactions
def interaction_bias(cell, n_cells: int, x, eta, group, thresholds, n_categories, *, max_iter: int = 100):
    """Bias (interaction) size per cell, with the main effects anchored (FACETS Table 13).

    For the ratings of cell *c*, solve :math:`\\sum_r (x_r - E_r(\\eta_r - b_c)) = 0` by
    Newton-Raphson (all cells at once): a positive :math:`b_c` means scored lower than the
    main effects expect (harsher), the orientation of a rater measure.  The SE is
    :math:`1/\\sqrt{\\sum_r W_r(\\eta_r - b_c)}`.  Cells whose ratings are all in the top or
    bottom category get their score moved 0.3 points inward and ``extreme`` = +-1.  Returns
    ``(bias, se, extreme, expected, variance, kurtosis)`` (the last three per rating, at the
    bias).

    >>> b, se, ext, *_ = interaction_bias(np.array([0, 0, 1, 1]), 2, np.array([0, 1, 1, 1]),
    ...     np.zeros(4), np.zeros(4, int), np.array([[0.0]]), np.array([2]))
    >>> b.round(3), ext
    (array([ 0.   , -1.735]), array([0, 1]))
    """
    cell = np.asarray(cell)
    x = np.asarray(x, float)
    top = np.asarray(n_categories)[group] - 1
    count = np.bincount(cell, minlength=n_cells).astype(float)
    observed = np.bincount(cell, weights=x, minlength=n_cells)
    at_top = np.bincount(cell, weights=(x == top), minlength=n_cells)
    at_bottom = np.bincount(cell, weights=(x == 0), minlength=n_cells)
    extreme = np.where((count > 0) & (at_top == count), 1, np.where((count > 0) & (at_bottom == count), -1, 0))
    target = observed - extreme * EXTREME_ADJUSTMENT
    bias = np.zeros(n_cells)
    for _ in range(max_iter):
        _, E, W, _ = category_moments(eta - bias[cell], group, thresholds, n_categories)
        resid = target - np.bincount(cell, weights=E, minlength=n_cells)
        info = np.bincount(cell, weights=W, minlength=n_cells)
        step = -np.clip(np.where(info > 0, resid / np.maximum(info, 1e-12), 0.0), -1.0, 1.0)
        bias += step
        if np.abs(step).max(initial=0.0) < 1e-8:
            break
    _, E, W, C = category_moments(eta - bias[cell], group, thresholds, n_categories)
    info = np.bincount(cell, weights=W, minlength=n_cells)
    se = np.where(info > 0, 1.0 / np.sqrt(np.maximum(info, 1e-300)), np.nan)
    return bias, se, extreme, E, W, C


def rasch_welch(bias_1, se_1, n_1, bias_2, se_2, n_2):
    """Rasch-Welch t of the difference of two bias sizes (FACETS Table 14).

    :math:`t = (b_1 - b_2)/\\sqrt{s_1^2 + s_2^2}` on Welch-Satterthwaite d.f.
    :math:`(s_1^2 + s_2^2)^2 / (s_1^4/(n_1 - 1) + s_2^4/(n_2 - 1))`.  Returns
    ``(contrast, se, t, df, p)`` (two-sided p).

    >>> [round(float(v), 2) for v in rasch_welch(0.8, 0.3, 20, -0.5, 0.334, 15)]
    [1.3, 0.45, 2.9, 30.89, 0.01]
    """
    b1, s1, n1 = np.asarray(bias_1, float), np.asarray(se_1, float), np.asarray(n_1, float)
    b2, s2, n2 = np.asarray(bias_2, float), np.asarray(se_2, float), np.asarray(n_2, float)
    contrast = b1 - b2
    se = np.sqrt(s1**2 + s2**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = contrast / se
        df = (s1**2 + s2**2) ** 2 / (s1**4 / (n1 - 1) + s2**4 / (n2 - 1))
    p = 2 * _st.t.sf(np.abs(t), df)
    return contrast, se, t, df, p
