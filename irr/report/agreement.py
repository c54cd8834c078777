"""Agreement tables as a coordinator reads them: names, percentages, reasons, benchmarks.

:func:`irr.stats.agreement_table` returns raw numbers keyed by coefficient ids
(``gwet_ac2 (quadratic)``).  This module is the one place that turns such a table
into what the reports show, so the terminal, the HTML and the CSV/JSON agree:

* :func:`coefficient_name` -- ``"gwet_ac2 (quadratic)"`` -> ``"Gwet's AC2, quadratic weights"``;
* :func:`annotate` -- the raw table plus a ``name`` column, the reason in ``note``
  wherever a standard error is missing, no p-value for raw agreement proportions
  (a test of "agreement = 0" says nothing), and an ``interpretation`` with its
  ``interpretation_source`` (the profile's target for proportions, a published
  benchmark for the chance-corrected coefficients);
* :func:`display_rows` / :func:`render_table` -- text cells: proportions as
  percentages ("64%"), coefficients with two decimals, columns that would be
  empty left out.

Raw numbers stay raw in CSV/JSON (0.64, not "64%").

Examples
--------
>>> coefficient_name("krippendorff_alpha (ordinal)")
"Krippendorff's alpha, ordinal"
>>> format_estimate("percent_agreement", 0.6417)
'64%'
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = ["coefficient_name", "is_proportion", "annotate", "display_rows", "render_table", "format_estimate",
           "BENCHMARKS"]

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

# Published benchmarks, named after their source (as RSMTool names Williamson et al.'s gates).
BENCHMARKS = {
    "kappa": ("Landis & Koch 1977", "Landis & Koch (1977), Biometrics 33:159-174",
              ((0.0, "poor"), (0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial"),
               (np.inf, "almost perfect"))),
    "alpha": ("Krippendorff 2004", "Krippendorff (2004), Content Analysis, 2nd ed., p. 241: rely on >= .800, tentative >= .667",
              ((0.667, "unreliable, below .667"), (0.8, "tentative, .667 to .800"), (np.inf, "reliable, .800 or more"))),
    "icc": ("Koo & Li 2016", "Koo & Li (2016), J Chiropr Med 15:155-163",
            ((0.5, "poor"), (0.75, "moderate"), (0.9, "good"), (np.inf, "excellent"))),
}
_FAMILY = {"cohen_kappa": "kappa", "scott_pi": "kappa", "fleiss_kappa": "kappa", "conger_kappa": "kappa",
           "brennan_prediger": "kappa", "gwet_ac1": "kappa", "gwet_ac2": "kappa",
           "krippendorff_alpha": "alpha", "icc": "icc"}
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


def format_estimate(label: str, value, digits: int = 2) -> str:
    """``64%`` for a proportion, ``0.64`` for a coefficient, ``""`` for a missing value."""
    if value is None or pd.isna(value):
        return ""
    return f"{100 * value:.0f}%" if is_proportion(label) else f"{value:.{digits}f}"


def _band(family: str, value: float) -> str:
    """Landis & Koch's bands are closed at two decimals (.41-.60 moderate); the others are [lower, upper)."""
    bands = BENCHMARKS[family][2]
    if family == "kappa":
        if value < 0:
            return bands[0][1]
        value = round(value, 2)
        return next(text for upper, text in bands[1:] if value <= upper)
    return next(text for upper, text in bands if value < upper)


def _profile_target(profile, label: str, scale_points: int | None):
    """(text, source) comparing a group proportion with the profile's rater target, or None."""
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


def _interpret(label: str, estimate: float, profile, scale_points: int | None) -> tuple[str, str]:
    if estimate is None or pd.isna(estimate):
        return "", ""
    if is_proportion(label):
        target = _profile_target(profile, label, scale_points)
        if target is None:
            return "", ""
        limit, source = target
        met = estimate >= limit - 1e-12
        return f"{'meets' if met else 'below'} {profile.id} target (>= {limit:.0%})", source
    family = _FAMILY.get(_split(label)[0])
    if family is None:
        return "", ""
    short, source, _ = BENCHMARKS[family]
    return f"{_band(family, float(estimate))} ({short})", source


def _missing_se_reason(label: str, ci_method) -> str:
    base = _split(label)[0]
    interval = ("the interval is McGraw & Wong's F interval" if base == "icc" and ci_method == "analytic"
                else f"the interval is the {ci_method} one" if isinstance(ci_method, str) else "")
    why = ("no standard error: the ICC has no closed-form SE, and its jackknife is undefined here "
           "(leaving out some paper leaves the ICC undefined, e.g. a rater who scored only that paper)"
           if base == "icc" else
           "no standard error: the jackknife is undefined here (leaving out some paper leaves the "
           "coefficient undefined)")
    return "; ".join(t for t in (why, interval, "--ci bootstrap resamples papers instead") if t)


def annotate(table: pd.DataFrame, *, profile=None, scale_points=None,
             extra_notes: pd.Series | None = None) -> pd.DataFrame:
    """The raw agreement table with what a reader needs beside the numbers.

    Parameters
    ----------
    table : DataFrame
        From :func:`irr.stats.agreement_table` (numbers are not changed).
    profile : Profile, optional
        Its ``exact``/``exact_adjacent`` targets interpret the agreement proportions.
    scale_points : callable, optional
        ``row -> number of score points`` (for profiles whose target depends on it).
    extra_notes : Series, optional
        Aligned with ``table``: more text for ``note`` (e.g. condition-coded scores left out).

    Returns
    -------
    DataFrame
        ``table`` with ``name`` after ``coefficient``, ``p_value`` NaN for
        proportions, ``note`` giving the reason for every missing standard
        error, and ``interpretation`` / ``interpretation_source`` columns.
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
    if extra_notes is not None:
        notes = ["; ".join(t for t in (n, str(e) if isinstance(e, str) else "") if t)
                 for n, e in zip(notes, extra_notes.reindex(out.index).tolist())]
    out["note"] = notes
    points = [scale_points(row) if scale_points else None for row in out.itertuples(index=False)]
    pairs = [_interpret(lab, est, profile, p) for lab, est, p in zip(labels, estimate, points)]
    out["interpretation"] = [p[0] for p in pairs]
    out["interpretation_source"] = [p[1] for p in pairs]
    return out


def _ci_text(label: str, low, high) -> str:
    if pd.isna(low) or pd.isna(high):
        return ""
    return f"[{format_estimate(label, low)}, {format_estimate(label, high)}]"


def _count(v) -> str:
    return "" if v is None or pd.isna(v) else str(int(v))


def display_rows(annotated: pd.DataFrame, by: Sequence[str] = (), level: float = 0.95) -> pd.DataFrame:
    """Text cells of an :func:`annotate`-d table; columns that would be empty are left out."""
    labels = annotated["coefficient"].astype(str)
    ci_head = f"{level:.0%} CI"
    cells = {col: annotated[col].fillna("").astype(str).tolist() for col in by}
    cells.update({
        "coefficient": annotated["name"].tolist(),
        "estimate": [format_estimate(c, v) for c, v in zip(labels, annotated["estimate"])],
        ci_head: [_ci_text(c, lo, hi) for c, lo, hi in zip(labels, annotated["ci_low"], annotated["ci_high"])],
        "SE": ["" if pd.isna(v) else (f"{100 * v:.1f}%" if is_proportion(c) else f"{v:.3f}")
               for c, v in zip(labels, annotated["standard_error"])],
        "p": ["" if pd.isna(v) else f"{v:.2g}" for v in annotated["p_value"]],
        "papers": [_count(v) for v in annotated["n_units"]],
        "raters": [_count(v) for v in annotated["n_raters"]],
        "scores": [_count(v) for v in annotated["n_ratings"]],
        "dropped": ["" if pd.isna(v) else str(v) for v in annotated["dropped"]],
        "interpretation": annotated["interpretation"].tolist(),
        "note": annotated["note"].tolist(),
    })
    frame = pd.DataFrame(cells, index=annotated.index)
    keep = [c for c in frame.columns if c in by or c == "coefficient" or (frame[c] != "").any()]
    return frame[keep]


def render_table(frame: pd.DataFrame, right: Iterable[str] = ("estimate", "SE", "p", "papers", "raters",
                                                              "scores")) -> str:
    """Aligned plain text of a :func:`display_rows` frame (headers upper-case)."""
    right = set(right) | {c for c in frame.columns if c.endswith(" CI")}
    heads = [c.upper() for c in frame.columns]
    rows = frame.astype(str).to_numpy().tolist()
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(heads)]
    last = len(heads) - 1

    def line(values):
        parts = [v.rjust(w) if c in right else (v if i == last else v.ljust(w))
                 for i, (v, w, c) in enumerate(zip(values, widths, frame.columns))]
        return "  ".join(parts).rstrip()

    return "\n".join([line(heads), *(line(r) for r in rows)])
