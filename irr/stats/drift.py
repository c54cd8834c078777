"""Rater drift detectors on per-rater block series (layer 1: numpy/scipy only, no I/O).

Every function takes a 2-D array, raters x time blocks (a 1-D array is one
rater), where NaN means the rater has no data in that block, and works on all
raters at once:

* :func:`cusum` -- two-sided tabular CUSUM of standardized block statistics
  (Page 1954; Montgomery, *Introduction to Statistical Quality Control*, §9.1).
* :func:`ewma` -- EWMA chart with exact time-varying limits (Roberts 1959;
  Lucas & Saccucci 1990; Montgomery §9.2).
* :func:`shewhart` -- x-bar chart of block means with their standard errors.
* :func:`p_chart` -- p-chart of block proportions (e.g. exact agreement with
  validity papers).
* :func:`changepoint_test` -- retrospective test of one shift in a rater's
  mean against the rater's own baseline (Hawkins 1977; Worsley 1979), with a
  simulated p-value.

Omar (2010, JEM 47(1)) applies Shewhart charts to the temporal consistency of
ratings; Wan & Keller (2023, PARE 28) give a CUSUM primer for assessment.
The CUSUM/EWMA recursions loop over blocks (few), vectorised across raters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr as _ndtr  # not scipy.stats: slow to import
from scipy.special import ndtri as _ndtri

from irr.errors import DataError

__all__ = [
    "CusumResult",
    "EwmaResult",
    "ShewhartResult",
    "PChartResult",
    "ChangepointResult",
    "cusum",
    "ewma",
    "shewhart",
    "p_chart",
    "changepoint_test",
]

# Elements of one raters x replicates x splits array in changepoint_test (~32 MB of float64).
_CHUNK_ELEMENTS = 4_000_000
# Relative tolerance for ties between a simulated and the observed statistic (as scipy's
# permutation_test): round-off must not turn an equal replicate into a smaller one.
_TIE_RTOL = 1e-12


# --- results ------------------------------------------------------------------
class _Alarms:
    """``first_direction``: the direction of each rater's first alarm (0: none)."""

    alarm: np.ndarray
    first_alarm: Any
    direction: np.ndarray

    @property
    def first_direction(self) -> Any:
        direction = np.atleast_2d(self.direction)
        first = np.atleast_1d(self.first_alarm)
        out = np.where(first >= 0, direction[np.arange(first.size), np.maximum(first, 0)], 0)
        return out[0] if np.ndim(self.first_alarm) == 0 else out


@dataclass(frozen=True)
class CusumResult(_Alarms):
    """Tabular CUSUM (see :func:`cusum`).

    upper, lower : C+ and C- after each block (raters x blocks).
    alarm : block where C+ > h or C- > h (False where the block has no data).
    first_alarm : index of each rater's first alarm, -1 if none.
    direction : +1 where C+ signals, -1 where C- signals, 0 elsewhere.
    k, h : reference value and decision interval used.
    """

    upper: np.ndarray
    lower: np.ndarray
    alarm: np.ndarray
    first_alarm: Any
    direction: np.ndarray
    k: float
    h: float


@dataclass(frozen=True)
class EwmaResult(_Alarms):
    """EWMA chart (see :func:`ewma`).

    statistic : E_t after each block; limit : the exact limit L * sd(E_t);
    alarm : |E_t| > limit at a block with data; first_alarm : -1 if none;
    direction : sign of E_t where it signals.
    """

    statistic: np.ndarray
    limit: np.ndarray
    alarm: np.ndarray
    first_alarm: Any
    direction: np.ndarray
    lam: float
    L: float


@dataclass(frozen=True)
class ShewhartResult(_Alarms):
    """x-bar chart (see :func:`shewhart`): ``center``, ``lower``, ``upper`` per block."""

    center: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    alarm: np.ndarray
    first_alarm: Any
    direction: np.ndarray


@dataclass(frozen=True)
class PChartResult(_Alarms):
    """p-chart (see :func:`p_chart`): ``proportion``, ``lower``, ``upper`` per block,
    ``center`` (p-bar or p0) per rater."""

    proportion: np.ndarray
    center: Any
    lower: np.ndarray
    upper: np.ndarray
    alarm: np.ndarray
    first_alarm: Any
    direction: np.ndarray


@dataclass(frozen=True)
class ChangepointResult:
    """One-shift test per rater (see :func:`changepoint_test`); all fields per rater.

    statistic : max over splits of |Z_tau|.
    change_index : first block after the estimated change (-1 when undefined).
    shift, shift_se, ci_low, ci_high : mean after minus mean before the
        estimated change, its SE and normal interval at ``level`` (conditional
        on the estimated change point: they ignore that it was chosen as the
        maximum, so the interval is too narrow when the shift is small).
    p_value : simulated, plus-one corrected.
    n_blocks : blocks with a finite mean and a finite positive SE.
    note : why a rater's values are NaN ('' when they are not).
    """

    statistic: Any
    change_index: Any
    shift: Any
    shift_se: Any
    ci_low: Any
    ci_high: Any
    p_value: Any
    n_blocks: Any
    note: Any
    level: float
    n_sim: int


def _finish(cls, one: bool, **values):
    """Build a result; for 1-D input (one rater) drop the rater axis of every array."""
    if one:
        values = {k: v[0] if isinstance(v, np.ndarray) else v for k, v in values.items()}
    return cls(**values)


# --- input checks -------------------------------------------------------------
def _series(x, name: str) -> tuple[np.ndarray, bool]:
    """``x`` as a float (raters x blocks) array; ``True`` when it was one rater's 1-D series."""
    try:
        arr = np.array(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be numbers (NaN for a block without data): {exc}") from None
    one = arr.ndim == 1
    if one:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2:
        raise DataError(f"{name} must be 2-D (raters x blocks) or 1-D (one rater), got shape {arr.shape}")
    if np.isinf(arr).any():
        raise DataError(f"{name} contains an infinite value; use NaN for a block without data")
    return arr, one


def _like(x, shape: tuple[int, ...], name: str) -> np.ndarray:
    """``x`` broadcast to ``shape`` (a per-rater column of a 1-D per-rater vector allowed)."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 1 and arr.size == shape[0] and arr.size != shape[1]:
        arr = arr[:, np.newaxis]  # one value per rater
    try:
        return np.broadcast_to(arr, shape).astype(float)
    except ValueError:
        raise DataError(
            f"{name} has shape {np.shape(x)}, which does not fit the series' shape {shape}; "
            "give one value, one per rater, or one per block"
        ) from None


def _positive(value: float, name: str, *, allow_zero: bool = False) -> float:
    value = float(value)
    ok = np.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        raise DataError(f"{name} must be a finite {'non-negative' if allow_zero else 'positive'} number, got {value}")
    return value


def _first(alarm: np.ndarray) -> np.ndarray:
    return np.where(alarm.any(axis=1), alarm.argmax(axis=1), -1)


# --- CUSUM --------------------------------------------------------------------
def cusum(z, k: float = 0.5, h: float = 4.0, *, fir: float = 0.0) -> CusumResult:
    """Two-sided tabular CUSUM of standardized block statistics, per rater.

    .. math::

        C^+_t = \\max(0,\\ C^+_{t-1} + z_t - k), \\qquad
        C^-_t = \\max(0,\\ C^-_{t-1} - z_t - k), \\qquad C^\\pm_0 = \\text{fir}

    and block t signals when :math:`C^+_t > h` or :math:`C^-_t > h`.  The sums
    are not reset after a signal (as Montgomery's tables).  A block without
    data (NaN) carries both sums over unchanged and never signals.

    Parameters
    ----------
    z : array_like, raters x blocks (or 1-D: one rater)
        Standardized statistics, e.g. block bias divided by its SE.
    k : float
        Reference value (allowance), in SD units: half the shift to detect.
    h : float
        Decision interval.  k = 0.5 with h = 4 or 5 are the conventional SPC
        choices (in-control ARL about 168 and 465).
    fir : float
        Fast-initial-response headstart C0 (Lucas & Crosier 1982), 0 <= fir < h;
        h/2 is the usual choice.

    Returns
    -------
    CusumResult
        ``upper``, ``lower``, ``alarm``, ``direction`` (raters x blocks) and
        ``first_alarm`` (per rater, -1 if none; ``first_direction`` its sign).

    References
    ----------
    Page, E. S. (1954). Continuous inspection schemes. *Biometrika* 41, 100-115.
    Montgomery, D. C. *Introduction to Statistical Quality Control*, §9.1 (tabular CUSUM).
    Wan, S. & Keller, L. A. (2023). *Practical Assessment, Research & Evaluation* 28(1).

    Examples
    --------
    >>> res = cusum([0.2, 1.5, 2.0, float("nan"), 1.8, -0.4], k=0.5, h=4.0)
    >>> res.upper
    array([0. , 1. , 2.5, 2.5, 3.8, 2.9])
    >>> bool(res.alarm.any()), int(res.first_alarm)
    (False, -1)
    >>> cusum([[1.5, 1.5, 1.5, 1.5], [0.0, -3.0, -3.0, 0.0]], h=2.5).first_alarm
    array([2, 2])
    """
    arr, one = _series(z, "z")
    k = _positive(k, "k", allow_zero=True)
    h = _positive(h, "h")
    fir = _positive(fir, "fir", allow_zero=True)
    if fir >= h:
        raise DataError(f"fir (headstart) must be below h = {h}, got {fir}; h/2 is the usual choice")
    observed = ~np.isnan(arr)
    upper = np.empty_like(arr)
    lower = np.empty_like(arr)
    up = np.full(arr.shape[0], fir)
    down = np.full(arr.shape[0], fir)
    for t in range(arr.shape[1]):  # the recursion is sequential in time only
        zt = arr[:, t]
        has = observed[:, t]
        up = np.where(has, np.maximum(0.0, up + zt - k), up)
        down = np.where(has, np.maximum(0.0, down - zt - k), down)
        upper[:, t] = up
        lower[:, t] = down
    up_alarm = (upper > h) & observed
    down_alarm = (lower > h) & observed
    alarm = up_alarm | down_alarm
    # Both sums above h at once is possible after a swing: the larger one names the direction.
    direction = np.where(alarm, np.where(up_alarm & (~down_alarm | (upper >= lower)), 1, -1), 0).astype(np.int8)
    return _finish(
        CusumResult,
        one,
        upper=upper,
        lower=lower,
        alarm=alarm,
        first_alarm=_first(alarm),
        direction=direction,
        k=k,
        h=h,
    )


# --- EWMA ---------------------------------------------------------------------
def ewma(z, lam: float = 0.2, L: float = 3.0) -> EwmaResult:
    """EWMA chart of standardized block statistics, with exact limits, per rater.

    .. math::

        E_t = \\lambda z_t + (1 - \\lambda) E_{t-1}, \\quad E_0 = 0, \\qquad
        \\text{limit}_t = L \\sqrt{\\frac{\\lambda}{2 - \\lambda}\\,\\bigl(1 - (1 - \\lambda)^{2 n_t}\\bigr)}

    where :math:`n_t` is the number of blocks with data up to t (the block
    index when nothing is missing): the limits are the exact in-control SD of
    :math:`E_t` for independent standard normal :math:`z_t`.  Block t signals
    when :math:`|E_t| > \\text{limit}_t`.  A block without data (NaN) carries
    :math:`E` and its limit over and never signals.

    Parameters
    ----------
    z : array_like, raters x blocks (or 1-D: one rater)
        Standardized statistics (mean 0, SD 1 in control).
    lam : float
        Smoothing weight, 0 < lam <= 1 (lam = 1 is a Shewhart chart of z).
    L : float
        Width of the limits in SDs of E_t (L = 2.7 with lam = 0.1, or L = 3
        with lam = 0.2, give an in-control ARL near 500).

    Returns
    -------
    EwmaResult
        ``statistic``, ``limit``, ``alarm``, ``direction`` (raters x blocks),
        ``first_alarm`` (per rater, -1 if none).

    References
    ----------
    Roberts, S. W. (1959). Control chart tests based on geometric moving
    averages. *Technometrics* 1, 239-250.
    Lucas, J. M. & Saccucci, M. S. (1990). Exponentially weighted moving average
    control schemes. *Technometrics* 32, 1-12.
    Montgomery, D. C. *Introduction to Statistical Quality Control*, §9.2.

    Examples
    --------
    >>> res = ewma([1.0, 2.0, float("nan"), 3.0], lam=0.5, L=2.0)
    >>> res.statistic.tolist()
    [0.5, 1.25, 1.25, 2.125]
    >>> res.limit.round(4)
    array([1.    , 1.118 , 1.118 , 1.1456])
    >>> int(res.first_alarm), int(res.first_direction)
    (1, 1)
    """
    arr, one = _series(z, "z")
    lam = float(lam)
    if not 0 < lam <= 1:
        raise DataError(f"lam (the EWMA weight) must be in (0, 1], got {lam}")
    L = _positive(L, "L")
    observed = ~np.isnan(arr)
    statistic = np.empty_like(arr)
    e = np.zeros(arr.shape[0])
    for t in range(arr.shape[1]):
        e = np.where(observed[:, t], lam * np.nan_to_num(arr[:, t]) + (1 - lam) * e, e)
        statistic[:, t] = e
    n_seen = np.cumsum(observed, axis=1)
    limit = L * np.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * n_seen)))
    alarm = observed & (np.abs(statistic) > limit)
    direction = np.where(alarm, np.sign(statistic), 0).astype(np.int8)
    return _finish(
        EwmaResult,
        one,
        statistic=statistic,
        limit=limit,
        alarm=alarm,
        first_alarm=_first(alarm),
        direction=direction,
        lam=lam,
        L=L,
    )


# --- Shewhart charts ----------------------------------------------------------
def _limit_alarms(values: np.ndarray, lower: np.ndarray, upper: np.ndarray):
    with np.errstate(invalid="ignore"):
        high = values > upper
        low = values < lower
    alarm = high | low
    direction = (high.astype(np.int8) - low.astype(np.int8)).astype(np.int8)
    return alarm, _first(alarm), direction


def shewhart(values, se, center=0.0, L: float = 3.0) -> ShewhartResult:
    """Shewhart x-bar chart of block means with their standard errors, per rater.

    .. math::  \\text{lower}_t, \\text{upper}_t = \\text{center} \\mp L \\cdot se_t

    and block t signals when its mean falls outside.  For rater drift the
    values are e.g. the rater's mean signed bias (rater - true score) on the
    validity papers of each block and ``se`` its SE (SD / sqrt(n_t)); blocks of
    different size get limits of different width.  NaN value or SE: no data,
    no signal.

    Parameters
    ----------
    values : array_like, raters x blocks (or 1-D: one rater)
    se : array_like
        Standard errors, broadcastable to ``values`` (one value, one per rater,
        or raters x blocks).  A 1-D array as long as the number of raters is
        read as one value per rater, unless raters == blocks (then per block);
        a (raters, 1) column is never ambiguous.
    center : float or array_like
        In-control mean: one value or one per rater (default 0: no bias).
    L : float
        Width of the limits in SEs.

    Returns
    -------
    ShewhartResult
        ``center``, ``lower``, ``upper``, ``alarm``, ``direction`` (raters x
        blocks) and ``first_alarm`` (per rater, -1 if none).

    References
    ----------
    Montgomery, D. C. *Introduction to Statistical Quality Control*, ch. 6.
    Omar, M. H. (2010). Statistical process control charts for measuring and
    monitoring temporal consistency of ratings. *JEM* 47(1), 18-35.

    Examples
    --------
    >>> res = shewhart([0.1, -0.2, 0.9, -0.7], se=[0.2, 0.2, 0.25, 0.2])
    >>> res.upper
    array([0.6 , 0.6 , 0.75, 0.6 ])
    >>> res.direction
    array([ 0,  0,  1, -1], dtype=int8)
    """
    arr, one = _series(values, "values")
    L = _positive(L, "L")
    s = _like(se, arr.shape, "se")
    if (s < 0).any():
        raise DataError("se contains a negative standard error")
    c = _like(center, arr.shape, "center")
    lower = c - L * s
    upper = c + L * s
    alarm, first, direction = _limit_alarms(arr, lower, upper)
    return _finish(
        ShewhartResult,
        one,
        center=c,
        lower=lower,
        upper=upper,
        alarm=alarm,
        first_alarm=first,
        direction=direction,
    )


def p_chart(successes, n, p0=None, L: float = 3.0) -> PChartResult:
    """Shewhart p-chart of block proportions, per rater.

    .. math::

        \\hat p_t = x_t / n_t, \\qquad
        \\text{lower}_t, \\text{upper}_t = \\bar p \\mp L \\sqrt{\\bar p (1 - \\bar p) / n_t}
        \\ \\text{clipped to}\\ [0, 1]

    with :math:`\\bar p = \\sum_t x_t / \\sum_t n_t`, each rater's own pooled
    proportion (the rater's baseline), unless ``p0`` is given.  Block t
    signals when :math:`\\hat p_t` falls outside.  A block with NaN or
    ``n_t = 0`` has no data and never signals.

    Parameters
    ----------
    successes : array_like, raters x blocks (or 1-D: one rater)
        Counts, e.g. exact agreements with the validity scores.
    n : array_like
        Trials per block (papers), broadcastable to ``successes``.
    p0 : float or array_like, optional
        Target proportion, one value or one per rater, instead of p-bar.
    L : float
        Width of the limits in binomial SDs.

    Returns
    -------
    PChartResult
        ``proportion``, ``lower``, ``upper``, ``alarm``, ``direction`` (raters x
        blocks), ``center`` and ``first_alarm`` (per rater).

    References
    ----------
    Montgomery, D. C. *Introduction to Statistical Quality Control*, ch. 7
    (the p-chart with variable sample size).

    Examples
    --------
    >>> res = p_chart([18, 17, 19, 9], n=[20, 20, 20, 20])
    >>> float(res.center)
    0.7875
    >>> res.upper
    array([1., 1., 1., 1.])
    >>> int(res.first_alarm), int(res.first_direction)
    (3, -1)
    """
    x, one = _series(successes, "successes")
    L = _positive(L, "L")
    trials = _like(n, x.shape, "n")
    if np.isinf(trials).any():
        raise DataError("n contains an infinite value; use NaN for a block without data")
    with np.errstate(invalid="ignore"):
        bad = (x < 0) | (trials < 0) | (x > trials)
    if bad.any():
        r, t = np.argwhere(bad)[0]
        raise DataError(
            f"successes and n must satisfy 0 <= successes <= n; rater {r}, block {t} has "
            f"{x[r, t]:g} of {trials[r, t]:g}"
        )
    observed = ~np.isnan(x) & ~np.isnan(trials) & (trials > 0)
    xs = np.where(observed, x, 0.0)
    ns = np.where(observed, trials, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        proportion = np.where(observed, xs / np.where(observed, ns, 1.0), np.nan)
        if p0 is None:
            center = xs.sum(axis=1) / ns.sum(axis=1)  # NaN for a rater without data
        else:
            center = _like(p0, (x.shape[0], 1), "p0")[:, 0].copy()
            if ((center < 0) | (center > 1) | np.isnan(center)).any():
                raise DataError(f"p0 must be a proportion in [0, 1], got {p0}")
        pbar = center[:, np.newaxis]
        half = L * np.sqrt(pbar * (1 - pbar) / np.where(observed, ns, np.nan))
    lower = np.clip(pbar - half, 0.0, 1.0)
    upper = np.clip(pbar + half, 0.0, 1.0)
    alarm, first, direction = _limit_alarms(proportion, lower, upper)
    return _finish(
        PChartResult,
        one,
        proportion=proportion,
        center=center,
        lower=lower,
        upper=upper,
        alarm=alarm,
        first_alarm=first,
        direction=direction,
    )


# --- retrospective change-point test ----------------------------------------------
def _split_coefficients(w: np.ndarray, usable: np.ndarray, min_segment: int):
    """Linear coefficients of every split's Z statistic.

    Returns ``coef`` (raters x splits x blocks) with ``Z_tau = coef[:, tau] @ b``,
    the shift's SE per split, and the mask of admissible splits.  Split ``tau``
    puts blocks ``< tau`` before and ``>= tau`` after the change; only splits at
    a usable block with ``min_segment`` usable blocks on each side count (a split
    just before an unusable block would repeat the next one).
    """
    w_before = np.cumsum(w, axis=1) - w  # weight of blocks < tau
    w_after = w.sum(axis=1, keepdims=True) - w_before
    n_before = np.cumsum(usable, axis=1) - usable
    n_after = usable.sum(axis=1, keepdims=True) - n_before
    valid = usable & (n_before >= min_segment) & (n_after >= min_segment)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(1 / w_before + 1 / w_after)
        after = np.arange(w.shape[1])[np.newaxis, np.newaxis, :] >= np.arange(w.shape[1])[np.newaxis, :, np.newaxis]
        # (raters, tau, t): +w_t / W_after for t >= tau, -w_t / W_before for t < tau.
        coef = np.where(
            after, w[:, np.newaxis, :] / w_after[:, :, np.newaxis], -w[:, np.newaxis, :] / w_before[:, :, np.newaxis]
        )
        coef = np.where(valid[:, :, np.newaxis], coef, 0.0)
        se = np.where(valid, se, np.nan)
    return coef, se, valid


def changepoint_test(
    means,
    se,
    n_sim: int = 2000,
    random_state=0,
    *,
    min_segment: int = 1,
    level: float = 0.95,
) -> ChangepointResult:
    """Retrospective test of one shift in each rater's mean (max-type likelihood-ratio test).

    For a rater's block means :math:`b_t` with known SEs :math:`s_t` (weights
    :math:`w_t = 1/s_t^2`; blocks with NaN mean or NaN, infinite or zero SE are
    left out) and every split :math:`\\tau` with at least ``min_segment``
    blocks on each side,

    .. math::

        Z_\\tau = \\frac{\\bar b_{\\ge\\tau} - \\bar b_{<\\tau}}
                       {\\sqrt{1/W_{<\\tau} + 1/W_{\\ge\\tau}}}, \\qquad
        T = \\max_\\tau |Z_\\tau|

    with weighted means :math:`\\bar b` and weight sums :math:`W`.  This is the
    likelihood-ratio statistic for one change in a normal mean with known
    variances (Hawkins 1977; Worsley 1979).  The rater's own level is a nuisance
    parameter: a constant offset (a harsh but stable rater) is not a change,
    since every :math:`Z_\\tau` is a difference of means.

    The estimated change is the maximizing :math:`\\tau` (the first block after
    the change) and the shift :math:`\\bar b_{\\ge\\tau} - \\bar b_{<\\tau}`
    with SE :math:`\\sqrt{1/W_{<\\tau} + 1/W_{\\ge\\tau}}` and a normal interval.

    The p-value is simulated from the null distribution of T given the
    rater's own SEs (:math:`b_t \\sim N(0, s_t^2)` independent):
    :math:`(1 + \\#\\{T^* \\ge T\\}) / (1 + n_{sim})`; when no replicate reaches T, the
    Bonferroni bound over the splits :math:`m \\cdot 2\\Phi(-T)` if it is smaller (a valid upper
    bound, so a clear change can pass a correction across many raters).  All raters use the same
    standard normal draws ``rng.standard_normal((n_sim, blocks))`` scaled by
    their own SEs, so a rater's p-value does not depend on the other raters in
    the call.

    Parameters
    ----------
    means : array_like, raters x blocks (or 1-D: one rater)
        Block means, e.g. mean signed bias (rater - validity score) per block.
    se : array_like
        Their standard errors, broadcastable to ``means``.
    n_sim : int
        Simulated null replicates.
    random_state : None, int or numpy.random.Generator
        Seed of the simulation (default 0: reproducible).
    min_segment : int
        Fewest usable blocks on each side of a split.
    level : float
        Confidence level of the shift's interval.

    Returns
    -------
    ChangepointResult
        Per rater ``statistic``, ``change_index`` (-1 when undefined),
        ``shift``, ``shift_se``, ``ci_low``, ``ci_high``, ``p_value``,
        ``n_blocks`` and ``note`` (why the values are NaN; '' otherwise).

    References
    ----------
    Hawkins, D. M. (1977). Testing a sequence of observations for a shift in
    location. *JASA* 72(357), 180-186.
    Worsley, K. J. (1979). On the likelihood ratio test for a shift in location
    of normal populations. *JASA* 74(366), 365-367.

    Examples
    --------
    >>> means = [[0.1, -0.1, 0.0, 0.1, 1.2, 1.0, 1.1],   # shifts at block 4
    ...          [2.0, 2.1, 1.9, 2.0, 2.1, 1.9, 2.0]]     # harsh but stable
    >>> res = changepoint_test(means, se=0.2, n_sim=999)
    >>> bool(res.p_value[0] < 1 / 1000), round(float(res.p_value[1]), 3)   # below 1/1000: Bonferroni
    (True, 0.996)
    >>> int(res.change_index[0]), round(float(res.shift[0]), 2), round(float(res.shift_se[0]), 3)
    (4, 1.08, 0.153)
    """
    b, one = _series(means, "means")
    s = _like(se, b.shape, "se")
    if (s < 0).any():
        raise DataError("se contains a negative standard error")
    n_sim = int(n_sim)
    if n_sim < 1:
        raise DataError(f"n_sim must be a positive number of replicates, got {n_sim}")
    min_segment = int(min_segment)
    if min_segment < 1:
        raise DataError(f"min_segment must be at least 1, got {min_segment}")
    level = float(level)
    if not 0 < level < 1:
        raise DataError(f"confidence level must be between 0 and 1, got {level}")
    rng = np.random.default_rng(random_state)

    usable = ~np.isnan(b) & np.isfinite(s) & (s > 0)
    with np.errstate(divide="ignore"):
        w = np.where(usable, 1 / np.where(usable, s, 1.0) ** 2, 0.0)
    coef, split_se, valid = _split_coefficients(w, usable, min_segment)
    b0 = np.where(usable, b, 0.0)

    n_raters, n_blocks_total = b.shape
    shift_all = np.einsum("rkt,rt->rk", coef, b0)  # mean after - mean before, per split
    with np.errstate(invalid="ignore"):
        z_obs = np.abs(np.where(valid, shift_all / split_se, 0.0))
    defined = valid.any(axis=1)
    change = np.where(defined, z_obs.argmax(axis=1), -1)
    pick = np.arange(n_raters), np.maximum(change, 0)
    statistic = np.where(defined, z_obs[pick], np.nan)
    shift = np.where(defined, shift_all[pick], np.nan)
    shift_se = np.where(defined, split_se[pick], np.nan)
    half = _ndtri(0.5 + level / 2) * shift_se

    # Null replicates: Z*_tau = sum_t coef[tau, t] * s_t * e_t / se_tau, one matrix product per chunk.
    eps = rng.standard_normal((n_sim, n_blocks_total))
    s_usable = np.where(usable, s, 0.0)  # coef is 0 there, but s may be inf or NaN
    with np.errstate(invalid="ignore"):
        scaled = np.where(valid[:, :, np.newaxis], coef * s_usable[:, np.newaxis, :] / split_se[:, :, np.newaxis], 0.0)
    exceed = np.zeros(n_raters)
    threshold = statistic * (1 - _TIE_RTOL)
    step = max(1, _CHUNK_ELEMENTS // max(1, n_sim * n_blocks_total))
    for start in range(0, n_raters, step):  # chunks of raters bound the memory
        part = slice(start, start + step)
        block = scaled[part]  # (raters, splits, blocks)
        # One 2-D BLAS product (n_sim x blocks) @ (blocks x raters*splits): far faster than a
        # broadcast batched matmul.
        z_sim = (eps @ block.transpose(2, 0, 1).reshape(n_blocks_total, -1)).reshape(n_sim, block.shape[0], -1)
        sim = np.abs(z_sim, out=z_sim).max(axis=2)  # (n_sim, raters)
        exceed[part] = (sim >= threshold[part]).sum(axis=0)
    p_value = np.where(defined, (1 + exceed) / (1 + n_sim), np.nan)
    # Below the simulation's resolution (no replicate reached T) the Bonferroni bound over the
    # splits, sum_tau P(|Z_tau| >= T) = n_splits * 2 (1 - Phi(T)), is a valid upper bound of the
    # p-value: so a clear change can pass a multiplicity correction across many raters.
    n_splits = valid.sum(axis=1)
    with np.errstate(invalid="ignore"):
        bound = np.minimum(1.0, n_splits * 2 * _ndtr(-np.nan_to_num(statistic)))
    p_value = np.where(defined & (exceed == 0), np.minimum(p_value, bound), p_value)

    n_usable = usable.sum(axis=1)
    note = np.where(
        defined,
        "",
        np.where(
            n_usable < 2,
            "fewer than 2 usable blocks (finite mean, finite positive SE)",
            f"fewer than 2 x min_segment = {2 * min_segment} usable blocks (finite mean, finite positive SE)",
        ),
    )
    return _finish(
        ChangepointResult,
        one,
        statistic=statistic,
        change_index=change,
        shift=shift,
        shift_se=shift_se,
        ci_low=shift - half,
        ci_high=shift + half,
        p_value=p_value,
        n_blocks=n_usable,
        note=note,
        level=level,
        n_sim=n_sim,
    )
