"""Generalizability theory: G-studies and D-studies of rubric scores (``irr gstudy``).

"How many raters and how many tasks does a reliable competency score need?"  A G-study splits
the score variance into the object of measurement (students), the facets (tasks, raters) and
their interactions; a D-study projects the reliability of a design with other numbers of tasks
and raters (Cronbach et al. 1972; Brennan 2001).

:func:`g_study` takes long scores (one row per score: the object, the facet columns, the
score), builds the design's effects -- crossed (p x t x r), nested (r : p, p x (r : t)) as
declared with ``nested={"rater_id": "task_id"}`` and checked against the data -- and
estimates the variance components by Henderson's Method 1 (Brennan's analogous ANOVA,
:mod:`irr.stats.gtheory`): exactly the ANOVA solution on balanced data, unbiased on unbalanced
data (missing cells, unequal reads); or by REML (``method="reml"``, statsmodels MixedLM) for
moderate sizes.  Negative estimates are reported as computed and set to 0 in every
coefficient (Brennan 2001, sec. 3.4).

For D-study sample sizes :math:`n'_f`, each component :math:`\\sigma^2_\\alpha` other than the
object's is divided by :math:`\\prod_{f \\in \\alpha} n'_f` (the object excluded; for a nested
facet, its levels within the parent); the relative error :math:`\\sigma^2(\\delta)` sums those
of the effects that contain the object, the absolute error :math:`\\sigma^2(\\Delta)` all of
them, and

.. math::

    E\\rho^2 = \\frac{\\sigma^2_p}{\\sigma^2_p + \\sigma^2(\\delta)}, \\qquad
    \\Phi = \\frac{\\sigma^2_p}{\\sigma^2_p + \\sigma^2(\\Delta)}, \\qquad
    \\Phi(\\lambda) = \\frac{\\sigma^2_p + (\\mu - \\lambda)^2}{\\sigma^2_p + (\\mu - \\lambda)^2 +
    \\sigma^2(\\Delta)}

(Brennan 2001, eqs. 4.32, 4.34, 2.54), :math:`(\\mu - \\lambda)^2` estimated without bias by
:math:`(\\bar X - \\lambda)^2 - \\hat\\sigma^2(\\bar X)`.  For a p x t x r design:
:math:`\\sigma^2(\\delta) = \\sigma^2_{pt}/n'_t + \\sigma^2_{pr}/n'_r + \\sigma^2_{ptr,e}/(n'_t n'_r)`.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> p, t, r = np.meshgrid(np.arange(200), np.arange(3), np.arange(4), indexing="ij")
>>> y = (rng.normal(0, 1.0, 200)[p] + rng.normal(0, 0.3, 3)[t] + rng.normal(0, 0.7, (200, 3))[p, t]
...      + rng.normal(0, 0.5, p.shape))
>>> scores = pd.DataFrame({"student_id": p.ravel(), "task_id": t.ravel(), "rater_id": r.ravel(),
...                        "score": y.ravel()})
>>> g = g_study(scores, n_resamples=0)
>>> g.components.set_index("source")["variance"].round(2).abs().to_dict()  # truth: 1, .09, 0, .49, 0, 0, .25
{'student_id': 0.93, 'task_id': 0.01, 'rater_id': 0.0, 'student_id x task_id': 0.51, 'student_id x rater_id': 0.0, 'task_id x rater_id': 0.0, 'residual': 0.25}
>>> round(g.g, 2), round(g.phi, 2)
(0.83, 0.83)
>>> g.d_study({"task_id": [1, 6], "rater_id": [1]})[["task_id", "rater_id", "g", "phi"]].round(2).values.tolist()
[[1.0, 1.0, 0.55, 0.55], [6.0, 1.0, 0.88, 0.88]]
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from irr.analysis.result import AnalysisResult, Section, TableColumns, make_meta
from irr.analysis.scores import condition_coded
from irr.errors import DataError
from irr.stats.gtheory import bootstrap_components, variance_components

__all__ = ["g_study", "GStudyResult", "METHODS", "DEFAULT_SIZES"]

METHODS = ("auto", "anova", "reml")
DEFAULT_SIZES = (1, 2, 3, 4, 5, 6, 8, 10)
RESIDUAL = "residual"


# ----------------------------------------------------------------------------- the design
@dataclass(frozen=True)
class _Effect:
    name: str
    factors: frozenset  # every factor whose levels define the effect (nesting parents included)
    label: tuple  # the factors that name it


def _closure(members: set, nested: Mapping[str, str]) -> frozenset:
    out = set(members)
    changed = True
    while changed:
        changed = False
        for child, parent in nested.items():
            if child in out and parent not in out:
                out.add(parent)
                changed = True
    return frozenset(out)


def _name(label: Sequence[str], factors: frozenset, nested: Mapping[str, str]) -> str:
    parts = []
    for f in label:
        chain, g = [f], f
        while g in nested and nested[g] in factors and nested[g] not in label:
            g = nested[g]
            chain.append(g)
        parts.append(":".join(chain))
    return " x ".join(parts)


def design_effects(obj: str, facets: Sequence[str], nested: Mapping[str, str]) -> list[_Effect]:
    """Every effect of the design, smallest first: each subset of the factors closed under nesting."""
    factors = [obj, *facets]
    seen: dict[frozenset, _Effect] = {}
    for size in range(1, len(factors) + 1):
        for subset in itertools.combinations(factors, size):
            closed = _closure(set(subset), nested)
            if closed not in seen:
                seen[closed] = _Effect(_name(subset, closed, nested), closed, subset)
    return list(seen.values())


def _check_nesting(frame: pd.DataFrame, obj: str, facets: Sequence[str], nested: Mapping[str, str]) -> None:
    factors = [obj, *facets]
    for child, parent in nested.items():
        if child not in facets or parent not in factors or child == parent:
            raise DataError(
                f"nested={{{child!r}: {parent!r}}}: the nested facet must be one of the facets ({', '.join(facets)}) and "
                f"its parent the object or another facet"
            )
        parents = frame.groupby(child, sort=True)[parent].nunique()
        bad = parents[parents > 1]
        if len(bad):
            shown = ", ".join(str(v) for v in bad.index[:5])
            raise DataError(
                f"{child} is declared nested in {parent}, but {len(bad)} {child}(s) ({shown}{' ...' if len(bad) > 5 else ''}) "
                f"appear with more than one {parent}: declare the design crossed, or check the data"
            )
    for f in facets:  # undeclared nesting makes two effects the same: say which declaration is missing
        if f in nested:
            continue
        for g in factors:
            if g == f or nested.get(g) == f:
                continue
            if frame.groupby(f)[g].nunique().max() == 1 and frame[g].nunique() > 1:
                if g == obj:
                    continue  # a facet nested in the object (r : p) is checked below
                raise DataError(
                    f"every {f} appears with one {g} only: {f} is nested in {g}; declare nested={{'{f}': '{g}'}}"
                )
    for f in facets:
        if frame.groupby(obj)[f].nunique().max() == 1 and frame[f].nunique() > 1 and nested.get(f) != obj:
            raise DataError(
                f"every {obj} has one {f} only: the object of measurement is nested in {f}; leave {f} out of the "
                f"facets (a G-study per {f}), or measure a different object (e.g. student_id across tasks)"
            )


# ----------------------------------------------------------------------------- coefficients
def _divisor(effect: _Effect, obj: str, sizes: Mapping[str, float]) -> float:
    out = 1.0
    for f in effect.factors:
        if f != obj and f != "<score>":  # one score per cell in a D-study
            out *= float(sizes[f])
    return out


def _errors(variance: np.ndarray, effects: Sequence[_Effect], obj: str, sizes: Mapping[str, float], divisors=None):
    """(object variance, relative error, absolute error) with negative components set to 0.

    ``divisors`` (effect name -> number) replaces the product of the sizes: the observed
    design's per-effect harmonic means."""
    v = np.maximum(np.asarray(variance, float), 0.0)
    p_var = np.zeros(v.shape[:-1])
    rel = np.zeros(v.shape[:-1])
    absolute = np.zeros(v.shape[:-1])
    for i, e in enumerate(effects):
        if e.factors == frozenset([obj]):
            p_var = v[..., i]
            continue
        div = divisors[e.name] if divisors is not None else _divisor(e, obj, sizes)
        part = v[..., i] / div
        absolute = absolute + part
        if obj in e.factors:
            rel = rel + part
    return p_var, rel, absolute


def _coefficients(variance, effects, obj, sizes, divisors=None):
    p_var, rel, absolute = _errors(variance, effects, obj, sizes, divisors)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = p_var / (p_var + rel)
        phi = p_var / (p_var + absolute)
    return g, phi, rel, absolute


# ----------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class GStudyResult(AnalysisResult):
    """Result of :func:`g_study`: tables ``components``, ``coefficients`` and ``d_study``.

    ``g`` and ``phi`` are the observed design's coefficients; :meth:`d_study` projects others,
    :meth:`phi_lambda` gives the dependability of decisions at a cut score, :meth:`smallest`
    the smallest design that reaches a target.
    """

    fitted: Any = field(default=None, repr=False, compare=False)

    @property
    def components(self) -> pd.DataFrame:
        return self.tables["components"]

    @property
    def coefficients(self) -> pd.DataFrame:
        return self.tables["coefficients"]

    def _coefficient(self, name: str) -> float:
        table = self.tables["coefficients"].set_index("coefficient")
        return float(table.loc[name, "estimate"])

    @property
    def g(self) -> float:
        """Eρ², the generalizability (relative) coefficient of the observed design."""
        return self._coefficient("g")

    @property
    def phi(self) -> float:
        """Φ, the dependability (absolute) coefficient of the observed design."""
        return self._coefficient("phi")

    def d_study(self, sizes: Mapping[str, Sequence[int]] | None = None, target: float | None = None) -> pd.DataFrame:
        """One row per combination of facet sizes: the sizes (columns named after the facets),
        ``g``, ``phi``, ``relative_error``, ``absolute_error`` (variances), ``sem_relative``,
        ``sem_absolute``; with ``target``, ``reaches_g`` and ``reaches_phi``."""
        return _d_study(self.fitted, sizes, target)

    def smallest(self, target: float = 0.80, coefficient: str = "phi", sizes=None) -> pd.Series | None:
        """The design with the fewest scores per object (the product of the sizes; ties: the
        larger coefficient) whose ``coefficient`` reaches ``target``; None when none does."""
        table = self.d_study(sizes)
        hits = table[table[coefficient] >= target]
        if hits.empty:
            return None
        facets = list(self.fitted["facets"])
        cost = hits[facets].prod(axis=1)
        order = np.lexsort((-hits[coefficient].to_numpy(), cost.to_numpy()))
        return hits.iloc[order[0]]

    def phi_lambda(self, cut: float, sizes: Mapping[str, float] | None = None) -> float:
        """Brennan's Φ(λ): dependability of decisions at the cut score λ (on the score's scale)."""
        fitted = self.fitted
        divisors = None if sizes else fitted["divisors"]
        sizes = dict(sizes or fitted["sizes"])
        effects, obj = fitted["effects"], fitted["object"]
        v = np.maximum(fitted["variance"], 0.0)
        p_var, _, absolute = _errors(v, effects, obj, sizes, divisors)
        n_p = float(fitted["n_objects"])

        def div(e):
            if e.factors == frozenset([obj]):
                return 1.0
            return divisors[e.name] if divisors is not None else _divisor(e, obj, sizes)

        var_mean = sum(v[i] / (div(e) * (n_p if obj in e.factors else 1.0)) for i, e in enumerate(effects))
        gap = (fitted["mean"] - cut) ** 2 - var_mean
        return float((p_var + gap) / (p_var + gap + absolute))


def _grid(fitted, sizes):
    facets = list(fitted["facets"])
    if sizes is None:
        sizes = {f: sorted(set(DEFAULT_SIZES) | {int(round(fitted["sizes"][f]))}) for f in facets}
    unknown = set(sizes) - set(facets)
    if unknown:
        raise DataError(f"d_study sizes name {sorted(unknown)}, which are not facets ({', '.join(facets)})")
    lists = [list(sizes.get(f, [fitted["sizes"][f]])) for f in facets]
    for f, values in zip(facets, lists):
        if any(float(v) <= 0 for v in values):
            raise DataError(f"d_study sizes of {f} must be positive")
    return facets, lists


def _d_study(fitted, sizes, target):
    facets, lists = _grid(fitted, sizes)
    rows = []
    for combo in itertools.product(*lists):
        d = dict(zip(facets, (float(c) for c in combo)))
        g, phi, rel, absolute = _coefficients(fitted["variance"], fitted["effects"], fitted["object"], d)
        rows.append(
            {
                **d,
                "g": float(g),
                "phi": float(phi),
                "relative_error": float(rel),
                "absolute_error": float(absolute),
                "sem_relative": float(np.sqrt(rel)),
                "sem_absolute": float(np.sqrt(absolute)),
            }
        )
    table = pd.DataFrame(rows)
    if target is not None:
        table["reaches_g"] = table["g"] >= target
        table["reaches_phi"] = table["phi"] >= target
    return table


# ----------------------------------------------------------------------------- estimation
def _reml(frame: pd.DataFrame, effects: Sequence[_Effect], codes: list[np.ndarray]) -> np.ndarray:
    """REML estimates by statsmodels MixedLM: every effect but the residual a variance component."""
    import warnings

    import statsmodels.api as sm

    n = len(frame)
    levels = sum(int(c.max()) + 1 for c, e in zip(codes, effects) if e.name != RESIDUAL)
    if n * levels > 5e7:
        raise DataError(
            f"REML on {n:,} scores and {levels:,} random-effect levels is too large for statsmodels' dense "
            "design: use method='anova' (Henderson's Method 1, unbiased) or a sample"
        )
    data = pd.DataFrame({"y": frame["score"].to_numpy(float), "group": np.zeros(n, dtype=int)})
    vc = {}
    for i, (c, e) in enumerate(zip(codes, effects)):
        if e.name == RESIDUAL:
            continue
        data[f"e{i}"] = c
        vc[f"e{i}"] = f"0 + C(e{i})"
    best = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sm.MixedLM.from_formula("y ~ 1", groups="group", vc_formula=vc, re_formula="0", data=data)
        # One optimizer can stop short and still say it converged (L-BFGS at a REML log-likelihood of
        # -346.48 where BFGS and Powell reach -345.68): fit with BFGS and L-BFGS, then Powell and
        # Nelder-Mead if neither converged, and keep the converged fit with the best likelihood.
        for optimizers in ((["bfgs"], ["lbfgs"]), (["powell", "lbfgs"], ["nm", "lbfgs"])):
            for optimizer in optimizers:
                try:
                    fit = model.fit(reml=True, method=optimizer)
                except (np.linalg.LinAlgError, ValueError):
                    continue
                if fit.converged and (best is None or fit.llf > best.llf + 1e-9):
                    best = fit
            if best is not None:
                break
    if best is None:
        raise DataError("REML did not converge on these data (statsmodels MixedLM); use method='anova'")
    fit = best
    # statsmodels orders the components by its own sort of the names: read them by name
    by_name = dict(zip(fit.model.exog_vc.names, np.asarray(fit.vcomp, float)))
    out = np.empty(len(effects))
    for i, e in enumerate(effects):
        out[i] = float(fit.scale) if e.name == RESIDUAL else float(by_name[f"e{i}"])
    return out


def _observed_divisors(frame: pd.DataFrame, obj: str, effects: Sequence[_Effect]) -> dict[str, float]:
    """Per effect, the harmonic mean over objects of the distinct levels of its facets an object has
    (Brennan's ñ for unbalanced designs): 14 (task, rater) cells for a student with 14 of 20 scored."""
    person = pd.factorize(frame[obj].astype(str))[0]
    out = {}
    for e in effects:
        facets_only = [c for c in e.factors if c != obj and c != "<score>"]
        if not facets_only:
            continue
        if e.name == RESIDUAL and "<score>" in e.factors:
            key = np.arange(len(frame))
        else:
            key = np.zeros(len(frame), dtype=np.int64)
            for c in sorted(facets_only):
                f_code, f_levels = pd.factorize(frame[c].astype(str))
                key = key * (len(f_levels) + 1) + f_code
        per = pd.DataFrame({"p": person, "k": key}).drop_duplicates().groupby("p").size().to_numpy(float)
        out[e.name] = float(per.size / np.sum(1.0 / per))
    return out


def _observed_sizes(frame: pd.DataFrame, obj: str, facets: Sequence[str], nested: Mapping[str, str]) -> dict:
    """Brennan's ñ: the harmonic mean, over objects (and parents of a nested facet), of the levels seen."""
    sizes = {}
    for f in facets:
        keys = [obj] + ([nested[f]] if f in nested and nested[f] != obj else [])
        counts = frame.groupby(keys)[f].nunique().to_numpy(float)
        sizes[f] = float(counts.size / np.sum(1.0 / counts))
    return sizes


def _totals(frame: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, int]:
    """The sum over dimensions per cell, only where every dimension was scored."""
    n_dims = frame["dimension"].nunique()
    grouped = frame.groupby(keys, sort=False, observed=True)
    out = grouped["score"].agg(["sum", "count"]).reset_index()
    incomplete = out["count"] < n_dims
    out = out[~incomplete].rename(columns={"sum": "score"}).drop(columns="count")
    return out, int(incomplete.sum())


def g_study(
    scores: pd.DataFrame,
    object: str = "student_id",
    facets: Sequence[str] = ("task_id", "rater_id"),
    score: str = "score",
    nested: Mapping[str, str] | None = None,
    method: str = "auto",
    *,
    dimension: str | None = None,
    total: bool = False,
    level: float = 0.95,
    n_resamples: int = 1000,
    random_state: int = 0,
    target: float = 0.80,
    d_study: Mapping[str, Sequence[int]] | None = None,
    provenance=None,
) -> GStudyResult:
    """Variance components, G and Φ of a rubric-score design, and its D-study.

    Parameters
    ----------
    scores : DataFrame, one row per score: ``object``, the ``facets`` columns and ``score``
        (what :meth:`irr.store.Store.scores` returns with ``include_flags=True`` for
        ``student_id``).  Condition-coded rows and rows with a blank object or facet are left
        out and counted in ``meta["dropped"]``.
    object : the object of measurement (``student_id``: a student's works across tasks;
        ``work_id``: each work, then without ``task_id`` among the facets).
    facets : the facets of the design.
    nested : ``{facet: parent}`` for nested facets (``{"rater_id": "task_id"}``: p x (r:t);
        ``{"rater_id": "student_id"}``: r:p), checked against the data.
    method : ``"auto"`` / ``"anova"`` (Henderson's Method 1: the ANOVA solution when balanced)
        or ``"reml"`` (statsmodels MixedLM, moderate sizes).
    dimension, total : with several rubric dimensions, analyse one (``dimension="claim"``) or
        their sum per cell (``total=True``; cells missing a dimension are left out and counted).
    n_resamples : bootstrap resamples of the objects for the SEs and percentile intervals (0:
        none).  They reflect the sampling of students, not of the few raters or tasks.
    target : the coefficient the D-study's smallest design must reach.
    d_study : the D-study grid (``{"task_id": [1, 2, 4], "rater_id": [1, 2, 3]}``; default 1-6, 8,
        10 and the observed size of every facet).

    References
    ----------
    Brennan, R. L. (2001). *Generalizability theory*. Springer.  Cronbach, L. J., Gleser, G.
    C., Nanda, H., & Rajaratnam, N. (1972). *The dependability of behavioral measurements*.
    Wiley.  Henderson, C. R. (1953). *Biometrics* 9, 226-252.  Shavelson, R. J., & Webb, N. M.
    (1991). *Generalizability theory: A primer*. Sage.
    """
    if method not in METHODS:
        raise DataError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    facets = list(dict.fromkeys(facets))
    nested = dict(nested or {})
    if object in facets:
        raise DataError(f"{object} is the object of measurement; it cannot be a facet too")
    if not facets:
        raise DataError("give at least one facet (e.g. rater_id)")
    needed = [object, *facets, score]
    missing = [c for c in needed if c not in scores]
    if missing:
        hint = " (Store.scores(include_flags=True) gives student_id)" if "student_id" in missing else ""
        raise DataError(f"scores lack column(s) {missing}{hint}")
    frame = scores.rename(columns={score: "score"}) if score != "score" else scores
    dropped: dict[str, int] = {}
    if "condition_code" in frame or frame["score"].isna().any():
        coded = condition_coded(frame)
        if coded.any():
            dropped["condition code or no score"] = int(coded.sum())
            frame = frame[~coded]
    blank = np.zeros(len(frame), dtype=bool)
    for c in (object, *facets):
        blank |= frame[c].isna().to_numpy() | (frame[c].astype(str) == "").to_numpy()
    if blank.any():
        dropped[f"blank {object} or facet"] = int(blank.sum())
        frame = frame[~blank]
    if "dimension" in frame and "dimension" not in facets:
        dims = sorted(frame["dimension"].astype(str).unique())
        if dimension is not None:
            if dimension not in dims:
                raise DataError(f"dimension {dimension!r} is not in the scores ({', '.join(dims)})")
            frame = frame[frame["dimension"].astype(str) == dimension]
        elif total and len(dims) > 1:
            frame, incomplete = _totals(frame.assign(score=frame["score"].astype(float)), [object, *facets])
            if incomplete:
                dropped["cell missing a dimension (no total)"] = incomplete
        elif len(dims) > 1:
            raise DataError(
                f"the scores hold {len(dims)} dimensions ({', '.join(dims)}): analyse one (dimension=, --dimension) "
                "or their total (total=True, --total), or make dimension a facet"
            )
    frame = frame.reset_index(drop=True)
    if frame.empty:
        raise DataError("no scores left to analyse")
    frame = frame.assign(score=pd.to_numeric(frame["score"], errors="raise").astype(float))
    _check_nesting(frame, object, facets, nested)
    effects = design_effects(object, facets, nested)
    factor_codes = {c: pd.factorize(frame[c].astype(str), sort=True)[0].astype(np.int64) for c in (object, *facets)}
    sizes_f = {c: int(factor_codes[c].max()) + 1 for c in factor_codes}

    def level_codes(factors: frozenset) -> np.ndarray:
        key = np.zeros(len(frame), dtype=np.int64)
        for c in (object, *facets):
            if c in factors:
                key = key * sizes_f[c] + factor_codes[c]
        return pd.factorize(key)[0].astype(np.int64)

    codes = [level_codes(e.factors) for e in effects]
    full = codes[-1]
    if np.bincount(full).max() == 1:  # one score per cell of the full design: its interaction is the residual
        effects[-1] = _Effect(RESIDUAL, effects[-1].factors, effects[-1].label)
    else:
        effects.append(_Effect(RESIDUAL, frozenset([*effects[-1].factors, "<score>"]), ("<score>",)))
        codes.append(np.arange(len(frame), dtype=np.int64))
    names = [e.name for e in effects]
    y = frame["score"].to_numpy(float)
    cells = np.bincount(full)
    # a nested facet's level fixes its parent's: the full design's cells are the product over the non-parents
    parents = set(nested.values())
    n_cells_possible = int(np.prod([sizes_f[c] for c in (object, *facets) if c not in parents]))
    balanced = bool(cells.size > 0 and (cells == cells[0]).all() and _is_complete(frame, object, facets, nested))
    used = "reml" if method == "reml" else "anova"
    vc = variance_components(y, codes, names)
    variance = vc.variance if used == "anova" else _reml(frame, effects, codes)
    person = factor_codes[object]
    inside = [object in e.factors or e.name == RESIDUAL for e in effects]
    boot = (
        bootstrap_components(y, codes, person, inside, n_resamples, random_state)
        if n_resamples and used == "anova"
        else None
    )
    sizes = _observed_sizes(frame, object, facets, nested)
    divisors = _observed_divisors(frame, object, effects)
    alpha = 1 - level
    total_var = float(np.maximum(variance, 0).sum())
    # Resampling students says how the student-level components vary; a task or rater component
    # estimated from 4 tasks or 5 raters varies with the tasks and raters, which it holds fixed
    # (intervals that covered 17-47% in scripts/sim_gstudy.py): those are left blank.
    by_students = np.array(inside)
    se = np.where(by_students, boot.std(axis=0, ddof=1), np.nan) if boot is not None else np.nan
    low = np.where(by_students, np.quantile(boot, alpha / 2, axis=0), np.nan) if boot is not None else np.nan
    high = np.where(by_students, np.quantile(boot, 1 - alpha / 2, axis=0), np.nan) if boot is not None else np.nan
    comp = pd.DataFrame(
        {
            "source": names,
            "variance": variance,
            "se": se,
            "ci_low": low,
            "ci_high": high,
            "percent": np.maximum(variance, 0) / total_var if total_var > 0 else np.nan,
            "negative": variance < 0,
            "n_levels": [int(c.max()) + 1 for c in codes],
        }
    )
    g, phi, rel, absolute = _coefficients(variance, effects, object, sizes, divisors)
    coef_rows = []
    for name, value, idx in (("g", g, 0), ("phi", phi, 1)):
        low = high = np.nan
        if boot is not None:
            bg, bphi, _, _ = _coefficients(boot, effects, object, sizes, divisors)
            vals = bg if idx == 0 else bphi
            vals = vals[np.isfinite(vals)]
            if vals.size:
                low, high = np.quantile(vals, [alpha / 2, 1 - alpha / 2])
        coef_rows.append({"coefficient": name, "estimate": float(value), "ci_low": low, "ci_high": high})
    coef_rows.append({"coefficient": "relative_error", "estimate": float(rel), "ci_low": np.nan, "ci_high": np.nan})
    coef_rows.append(
        {"coefficient": "absolute_error", "estimate": float(absolute), "ci_low": np.nan, "ci_high": np.nan}
    )
    coefficients = pd.DataFrame(coef_rows)
    fitted = {
        "variance": np.asarray(variance, float),
        "effects": effects,
        "object": object,
        "facets": facets,
        "sizes": sizes,
        "divisors": divisors,
        "mean": float(y.mean()),
        "n_objects": sizes_f[object],
        "bootstrap": boot,
    }
    d_table = _d_study(fitted, d_study, target)
    smallest: dict[str, dict[str, float] | None] = {}
    for coef in ("g", "phi"):
        hits = d_table[d_table[coef] >= target]
        if not hits.empty:
            cost = hits[facets].prod(axis=1).to_numpy()
            best = hits.iloc[np.lexsort((-hits[coef].to_numpy(), cost))[0]]
            smallest[coef] = {**{f: float(best[f]) for f in facets}, coef: float(best[coef])}
        else:
            smallest[coef] = None
    notes = []
    if boot is not None:
        fixed = [n for n, b in zip(names, by_students) if not b]
        if fixed:
            notes.append(
                f"SEs and {level:.0%} intervals resample the {object}s ({n_resamples} bootstrap samples, percentile); "
                f"they are left blank for {', '.join(fixed)}, whose uncertainty comes from the few levels sampled, "
                f"which resampling {object}s holds fixed; for the same reason phi's interval is too narrow"
            )
    if (variance < 0).any():
        negative = ", ".join(n for n, v in zip(names, variance) if v < 0)
        notes.append(f"negative estimate(s) ({negative}) reported as computed and set to 0 in G, phi and the D-study")
    if not balanced:
        notes.append(
            "unbalanced data: Henderson's Method 1 (Brennan's analogous ANOVA); the observed design's G and phi divide "
            f"each component by the harmonic mean, over {object}s, of the levels of its facets each {object} has"
        )
    meta = make_meta(
        analysis="gstudy",
        level=level,
        parameters={
            "object": object,
            "facets": facets,
            "nested": nested,
            "method": method,
            "dimension": dimension,
            "total": bool(total),
            "n_resamples": int(n_resamples),
            "random_state": int(random_state),
            "target": target,
            "d_study": {k: list(v) for k, v in (d_study or {}).items()},
        },
        provenance=provenance,
        dropped=dropped,
        estimation=(
            "REML (statsmodels MixedLM)"
            if used == "reml"
            else ("ANOVA (expected mean squares)" if balanced else "Henderson's Method 1 (analogous ANOVA)")
        ),
        balanced=balanced,
        design=_design_text(object, facets, nested),
        n_scores=int(len(frame)),
        n_objects=int(sizes_f[object]),
        n_levels={c: int(sizes_f[c]) for c in facets},
        cells_possible=n_cells_possible,
        sizes=sizes,
        divisors=divisors,
        mean=float(y.mean()),
        smallest=smallest,
        notes=notes,
    )
    return GStudyResult(
        kind="gstudy",
        title="Generalizability study",
        tables={"components": comp, "coefficients": coefficients, "d_study": d_table},
        meta=meta,
        sections=(
            Section("components", "Variance components", ("components",)),
            Section("coefficients", "Generalizability and dependability", ("coefficients",)),
            Section("d_study", f"D-study: other numbers of {' and '.join(facets)}", ("d_study",)),
        ),
        columns={
            "components": TableColumns(raters=(), drop_when_anonymized=(), fixed=("n_levels",)),
            "coefficients": TableColumns(raters=(), drop_when_anonymized=()),
            "d_study": TableColumns(raters=(), drop_when_anonymized=(), fixed=tuple(facets)),
        },
        fitted=fitted,
    )


def _design_text(obj: str, facets: Sequence[str], nested: Mapping[str, str]) -> str:
    """Brennan's notation: ``student_id x task_id x rater_id``, ``student_id x (rater_id:task_id)``,
    ``rater_id:student_id``."""
    parts = [obj]
    for f in facets:
        if f not in nested:
            parts.append(f)
            continue
        chain, g = [f], f
        while g in nested:
            g = nested[g]
            chain.append(g)
        if g == obj:
            parts[0] = ":".join(chain)  # nested in the object: r : p
        else:
            parts = [q for q in parts if q != g]
            parts.append("(" + ":".join(chain) + ")")
    return " x ".join(parts)


def _is_complete(frame: pd.DataFrame, obj: str, facets: Sequence[str], nested: Mapping[str, str]) -> bool:
    """Every cell of the design present (a nested facet within each parent level)."""
    keys = [obj, *facets]
    n_cells = frame.groupby(keys, sort=False).ngroups
    expected = frame[obj].nunique()
    for f in facets:
        if f in nested:
            per_parent = frame.groupby(nested[f])[f].nunique()
            if per_parent.nunique() != 1:
                return False
            expected *= int(per_parent.iloc[0])
        else:
            expected *= frame[f].nunique()
    return bool(n_cells == expected)
