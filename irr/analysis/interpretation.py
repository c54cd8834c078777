"""What an agreement coefficient is called and how it is read.

:func:`irr.stats.agreement_table` returns raw numbers keyed by coefficient ids
(``gwet_ac2 (quadratic)``).  :func:`annotate` adds, still as data, what a reader needs
beside each number, so that every report (terminal, HTML, CSV) says the same:

* ``name`` -- ``"gwet_ac2 (quadratic)"`` -> ``"Gwet's AC2, quadratic weights"``;
* ``p_value`` NaN for raw agreement proportions (a test of "agreement = 0" says nothing);
* ``note`` -- the reason wherever a standard error is missing;
* ``interpretation`` with ``interpretation_source``: the band of a published benchmark for a
  chance-corrected coefficient (Landis & Koch 1977 for kappa-type coefficients, Krippendorff
  2004 for alpha, Koo & Li 2016 for the ICC) or, for a proportion, whether it meets the
  qualification profile's rater target, the target itself in ``target``.

Examples
--------
>>> coefficient_name("krippendorff_alpha (ordinal)")
"Krippendorff's alpha, ordinal"
>>> is_proportion("adjacent_agreement"), is_proportion("fleiss_kappa")
(True, False)
>>> interpret("fleiss_kappa", 0.55)
('moderate', 'Landis & Koch 1977', 'Landis & Koch (1977), Biometrics 33:159-174')
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

__all__ = ["coefficient_name", "is_proportion", "interpret", "annotate", "BENCHMARKS", "PROPORTIONS"]

_NAMES = {
    "percent_agreement": "exact agreement",
    "adjacent_agreement": "exact + adjacent agreement",
    "cohen_kappa": "Cohen's kappa",
    "scott_pi": "Scott's pi",
    "fleiss_kappa": "Fleiss' kappa",
    "conger_kappa": "Conger's kappa",
    "brennan_prediger": "Brennan-Prediger kappa",
    "gwet_ac1": "Gwet's AC1",
    "gwet_ac2": "Gwet's AC2",
    "krippendorff_alpha": "Krippendorff's alpha",
    "icc": "ICC",
}
_ICC_FORMS = {"A": "absolute agreement", "C": "consistency"}
PROPORTIONS = ("percent_agreement", "adjacent_agreement")

# Published benchmarks: (short name, full source, ((upper bound, band), ...)).
BENCHMARKS = {
    "kappa": (
        "Landis & Koch 1977",
        "Landis & Koch (1977), Biometrics 33:159-174",
        (
            (0.0, "poor"),
            (0.2, "slight"),
            (0.4, "fair"),
            (0.6, "moderate"),
            (0.8, "substantial"),
            (np.inf, "almost perfect"),
        ),
    ),
    "alpha": (
        "Krippendorff 2004",
        "Krippendorff (2004), Content Analysis, 2nd ed., p. 241: rely on >= .800, tentative >= .667",
        ((0.667, "unreliable, below .667"), (0.8, "tentative, .667 to .800"), (np.inf, "reliable, .800 or more")),
    ),
    "icc": (
        "Koo & Li 2016",
        "Koo & Li (2016), J Chiropr Med 15:155-163",
        ((0.5, "poor"), (0.75, "moderate"), (0.9, "good"), (np.inf, "excellent")),
    ),
}
_FAMILY = {
    "cohen_kappa": "kappa",
    "scott_pi": "kappa",
    "fleiss_kappa": "kappa",
    "conger_kappa": "kappa",
    "brennan_prediger": "kappa",
    "gwet_ac1": "kappa",
    "gwet_ac2": "kappa",
    "krippendorff_alpha": "alpha",
    "icc": "icc",
}
_PROFILE_METRIC = {"percent_agreement": "exact", "adjacent_agreement": "exact_adjacent"}


def _split(label: str) -> tuple[str, str | None]:
    base, _, option = str(label).partition(" (")
    return base, option.rstrip(")") or None


def coefficient_name(label: str) -> str:
    """The name a coordinator reads for a coefficient id of :func:`irr.stats.agreement_table`.

    >>> coefficient_name("gwet_ac2 (quadratic)")
    "Gwet's AC2, quadratic weights"
    >>> coefficient_name("icc (A,1)")
    'ICC(A,1), absolute agreement, single rater'
    """
    base, option = _split(label)
    if base == "icc" and option:
        kind, _, k = option.partition(",")
        raters = "single rater" if k == "1" else "mean of k raters"
        return f"ICC({option}), {_ICC_FORMS.get(kind, kind)}, {raters}"
    name = _NAMES.get(base, base)
    if option is None:
        return name
    if base == "krippendorff_alpha":
        return f"{name}, {option}"
    return f"{name}, {option} weights"


def is_proportion(label: str) -> bool:
    """Raw agreement proportions (exact, exact + adjacent): shown as percentages, no p-value."""
    return _split(label)[0] in PROPORTIONS


def _band(family: str, value: float) -> str:
    """Landis & Koch's bands are closed at two decimals (.41-.60 moderate); the others are [lower, upper)."""
    bands = BENCHMARKS[family][2]
    if family == "kappa":
        if value < 0:
            return bands[0][1]
        value = round(value, 2)
        return next(text for upper, text in bands[1:] if value <= upper)
    return next(text for upper, text in bands if value < upper)


def _profile_target(profile, label: str, scale_points: int | None) -> tuple[float, str] | None:
    """(target, source) of the profile's rater rule for a group proportion, or None."""
    if profile is None:
        return None
    metric = _PROFILE_METRIC.get(_split(label)[0])
    for rule in profile.rules:
        if rule.metric != metric:
            continue
        bound = rule.threshold(scale_points or 0)
        if bound is None or bound[0] != "min":
            continue
        return bound[1], f"{profile.id} profile: {' '.join(profile.source.split())}"
    return None


def interpret(
    label: str,
    estimate: float,
    profile=None,
    scale_points: int | None = None,
) -> tuple[str, str, str]:
    """``(interpretation, benchmark, source)`` of one estimate; empty strings when there is none.

    A proportion is compared with the profile's rater target (``"meets"`` / ``"below"``), a
    chance-corrected coefficient placed in its benchmark's band.
    """
    if estimate is None or pd.isna(estimate):
        return "", "", ""
    if is_proportion(label):
        target = _profile_target(profile, label, scale_points)
        if target is None:
            return "", "", ""
        limit, source = target
        return ("meets" if estimate >= limit - 1e-12 else "below"), f"{profile.id} target", source
    family = _FAMILY.get(_split(label)[0])
    if family is None:
        return "", "", ""
    short, source, _ = BENCHMARKS[family]
    return _band(family, float(estimate)), short, source


def _missing_se_reason(label: str, ci_method) -> str:
    base = _split(label)[0]
    interval = (
        "the interval is McGraw & Wong's F interval"
        if base == "icc" and ci_method == "analytic"
        else f"the interval is the {ci_method} one"
        if isinstance(ci_method, str)
        else ""
    )
    why = (
        "no standard error: the ICC has no closed-form SE, and its jackknife is undefined here "
        "(leaving out some paper leaves the ICC undefined, e.g. a rater who scored only that paper)"
        if base == "icc"
        else "no standard error: the jackknife is undefined here (leaving out some paper leaves the "
        "coefficient undefined)"
    )
    return "; ".join(t for t in (why, interval, "--ci bootstrap resamples papers instead") if t)


def annotate(
    table: pd.DataFrame, *, profile=None, scale_points: Callable[[Any], int | None] | None = None
) -> pd.DataFrame:
    """The raw agreement table with what a reader needs beside the numbers.

    Parameters
    ----------
    table : DataFrame
        From :func:`irr.stats.agreement_table` (numbers are not changed).
    profile : Profile, optional
        Its ``exact``/``exact_adjacent`` targets interpret the agreement proportions.
    scale_points : callable, optional
        ``row -> number of score points`` (for profiles whose target depends on it).

    Returns
    -------
    DataFrame
        ``table`` with ``name`` after ``coefficient``, ``p_value`` NaN for proportions,
        ``note`` giving the reason for every missing standard error, and
        ``interpretation``, ``benchmark``, ``target`` (the profile's target of a proportion,
        else NaN) and ``interpretation_source``.
    """
    out = table.copy()
    labels = out["coefficient"].astype(str)
    out.insert(out.columns.get_loc("coefficient") + 1, "name", labels.map(coefficient_name))
    proportion = labels.map(is_proportion).to_numpy(bool)
    out["p_value"] = out["p_value"].astype(float).where(~proportion, np.nan)
    notes = out["note"].fillna("").astype(str).tolist()
    estimate = out["estimate"].astype(float).to_numpy()
    se = out["standard_error"].astype(float).to_numpy()
    for i in np.flatnonzero(np.isfinite(estimate) & ~np.isfinite(se)):
        if not notes[i]:
            notes[i] = _missing_se_reason(labels.iat[i], out["ci_method"].iat[i])
    out["note"] = notes
    points = [scale_points(row) if scale_points else None for row in out.itertuples(index=False)]
    read = [interpret(lab, est, profile, p) for lab, est, p in zip(labels, estimate, points)]
    targets = [
        (_profile_target(profile, lab, p) or (np.nan,))[0] if is_proportion(lab) else np.nan
        for lab, p in zip(labels, points)
    ]
    out["interpretation"] = [r[0] for r in read]
    out["benchmark"] = [r[1] for r in read]
    out["target"] = np.asarray(targets, dtype=float)
    out["interpretation_source"] = [r[2] for r in read]
    return out
