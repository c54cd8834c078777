"""The generalizability-study report (``irr gstudy``): variance components, G and Φ, the D-study.

The terminal report opens with the design (Brennan's notation), the estimation method and the
data's size; then the variance components (negative estimates shown as computed, marked, and
set to 0 in every coefficient), G (Eρ²) and Φ of the observed design with their intervals, a
D-study grid (rows: the numbers of one facet, columns: the numbers of raters; cells "G / Φ")
and the smallest design that reaches the target.  The HTML page adds cards, a bar of each
component's share and a D-study plot (Φ and G against the number of raters, one line per
number of tasks, the target marked).

Examples
--------
>>> facet_words("task_id"), facet_words("dimension"), facet_words("session_id")
('tasks', 'dimensions', 'session_id')
>>> size_text(2.0), size_text(2.4567)
('2', '2.46')
>>> axes_of(["task_id", "rater_id"]), axes_of(["rater_id", "dimension"]), axes_of(["rater_id"])
(('task_id', 'rater_id'), ('dimension', 'rater_id'), (None, 'rater_id'))
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from irr.report.formatting import is_missing, num, pct
from irr.report.html import render_page, table_links
from irr.report.plots import numeric, pyplot, svg
from irr.report.terminal import text_table

__all__ = [
    "facet_words",
    "size_text",
    "axes_of",
    "design_text",
    "component_cells",
    "coefficient_lines",
    "d_study_grid",
    "smallest_lines",
    "d_study_plot",
    "terminal",
    "html",
]

_WORDS = {
    "student_id": "students",
    "work_id": "works",
    "task_id": "tasks",
    "rater_id": "raters",
    "dimension": "dimensions",
}
_NEGATIVE = "*"  # marks a negative variance estimate


# --------------------------------------------------------------------- small helpers
def facet_words(facet: str) -> str:
    """``task_id -> "tasks"``; a column without a plain name keeps its own."""
    return _WORDS.get(facet, facet)


def _one(facet: str) -> str:
    words = facet_words(facet)
    return words[:-1] if facet in _WORDS else words


def size_text(value: Any) -> str:
    """A facet size: ``2`` for a whole number, else two decimals (an unbalanced design's harmonic mean)."""
    if is_missing(value):
        return ""
    v = float(value)
    return str(int(round(v))) if abs(v - round(v)) < 1e-9 else f"{v:.2f}"


def _sized(n: Any, facet: str) -> str:
    text = size_text(n)
    return f"{text} {_one(facet) if text == '1' else facet_words(facet)}"


def axes_of(facets: Sequence[str]) -> tuple[str | None, str]:
    """(row or line facet, column or x facet) of the D-study grid and plot: raters across when they
    are a facet, else the second facet; the first other facet down (None for a one-facet design)."""
    facets = list(facets)
    across = "rater_id" if "rater_id" in facets else facets[min(1, len(facets) - 1)]
    others = [f for f in facets if f != across]
    return (others[0] if others else None), across


def _ci(low: Any, high: Any, digits: int = 2) -> str:
    if is_missing(low) or is_missing(high):
        return ""
    return f"[{num(low, digits)}, {num(high, digits)}]"


def _params(result) -> dict:
    return dict(result.meta.get("parameters") or {})


def _facets(result) -> list[str]:
    return list(_params(result).get("facets") or [])


def _object(result) -> str:
    return str(_params(result).get("object", "student_id"))


def _target(result) -> float:
    return float(_params(result).get("target", 0.80))


def _score_text(result) -> str:
    p = _params(result)
    if p.get("dimension"):
        return f"dimension {p['dimension']}"
    if p.get("total"):
        return "the total over the rubric's dimensions"
    facets = p.get("facets") or []
    return "each dimension's score (dimension is a facet)" if "dimension" in facets else "the scores as given"


def design_text(result) -> str:
    """``student_id x task_id x rater_id``: the design in Brennan's notation (from ``meta``)."""
    return str(result.meta.get("design", ""))


def _observed_sizes(result) -> str:
    sizes = result.meta.get("sizes") or {}
    return " x ".join(_sized(sizes[f], f) for f in _facets(result) if f in sizes)


# --------------------------------------------------------------------- tables as text
def component_cells(result, *, bar: bool = False) -> pd.DataFrame:
    """The components as text: source, variance (negative ones marked), SE, CI, percent, levels."""
    c = result.tables["components"]
    negative = c["negative"].fillna(False).astype(bool).to_numpy()
    cells = pd.DataFrame(
        {
            "source": c["source"].astype(str).tolist(),
            "levels": [size_text(v) for v in c["n_levels"]],
            "variance": [num(v, 3) + (_NEGATIVE if neg else "") for v, neg in zip(c["variance"], negative)],
            "SE": [num(v, 3) for v in c["se"]],
            f"{result.level:.0%} CI": [_ci(lo, hi, 3) for lo, hi in zip(c["ci_low"], c["ci_high"])],
            "percent": [pct(v, 1) for v in c["percent"]],
        }
    )
    if not (cells["SE"] != "").any():  # no bootstrap: no empty columns
        cells = cells.drop(columns=["SE", f"{result.level:.0%} CI"])
    return cells


def _coefficient(result, name: str) -> pd.Series | None:
    table = result.tables["coefficients"].set_index("coefficient")
    return table.loc[name] if name in table.index else None


def coefficient_lines(result) -> list[str]:
    """G and Φ of the observed design with their intervals, the error variances, Φ(λ) at each cut."""
    lines = [f"Observed design ({_observed_sizes(result)} per {_one(_object(result))}):"]
    for name, label in (("g", "G (Eρ², relative decisions)"), ("phi", "Φ (absolute decisions)")):
        row = _coefficient(result, name)
        if row is None:
            continue
        ci = _ci(row["ci_low"], row["ci_high"])
        lines.append(f"  {label}: {num(row['estimate'])}" + (f" {result.level:.0%} CI {ci}" if ci else ""))
    rel, absolute = _coefficient(result, "relative_error"), _coefficient(result, "absolute_error")
    if rel is not None and absolute is not None:
        lines.append(
            f"  error variance: relative {num(rel['estimate'], 3)} (SEM {_sqrt(rel['estimate'])}), absolute "
            f"{num(absolute['estimate'], 3)} (SEM {_sqrt(absolute['estimate'])})"
        )
    for row in _phi_lambda_rows(result):
        lines.append(f"  Φ(λ) at the cut λ = {row['cut']:g}: {num(row['phi_lambda'])}")
    return lines


def _sqrt(value: Any) -> str:
    if is_missing(value) or isinstance(value, str):
        return "" if is_missing(value) else value
    return num(np.sqrt(max(float(value), 0.0)), 3)


def _phi_lambda_rows(result) -> list[dict]:
    table = result.tables.get("phi_lambda")
    if table is None or table.empty:
        return []
    return [{"cut": float(r["cut"]), "phi_lambda": r["phi_lambda"]} for _, r in table.iterrows()]


def _fixed(result, table: pd.DataFrame, keep: Sequence[str]) -> tuple[pd.DataFrame, dict[str, float]]:
    """The D-study rows with every facet outside ``keep`` at the grid value nearest its observed size."""
    sizes = result.meta.get("sizes") or {}
    fixed = {}
    for f in _facets(result):
        if f in keep or f not in table:
            continue
        values = np.unique(numeric(table[f]))
        at = float(values[np.argmin(np.abs(values - float(sizes.get(f, values[0]))))])
        fixed[f] = at
        table = table[np.isclose(numeric(table[f]), at)]
    return table, fixed


def _fixed_text(fixed: dict[str, float]) -> str:
    return ", ".join(_sized(v, f) for f, v in fixed.items())


def d_study_grid(result) -> tuple[pd.DataFrame, dict[str, float]]:
    """The D-study as a grid of "G / Φ" cells: rows the numbers of the first facet, columns the
    numbers of raters (or the second facet); other facets fixed at their observed sizes."""
    rows_f, cols_f = axes_of(_facets(result))
    table, fixed = _fixed(result, result.tables["d_study"], [f for f in (rows_f, cols_f) if f])
    cols = sorted(np.unique(numeric(table[cols_f])))
    head = f"{facet_words(rows_f)} \\ {facet_words(cols_f)}" if rows_f else facet_words(cols_f)
    if rows_f is None:
        ordered = table.sort_values(cols_f)
        grid = pd.DataFrame(
            {
                head: [size_text(v) for v in ordered[cols_f]],
                "G": [num(v) for v in ordered["g"]],
                "Φ": [num(v) for v in ordered["phi"]],
            }
        )
        return grid, fixed
    out: dict[str, list[str]] = {head: []}
    for c in cols:
        out[size_text(c)] = []
    for r in sorted(np.unique(numeric(table[rows_f]))):
        part = table[np.isclose(numeric(table[rows_f]), r)]
        out[head].append(size_text(r))
        for c in cols:
            cell = part[np.isclose(numeric(part[cols_f]), c)]
            out[size_text(c)].append(f"{num(cell['g'].iloc[0])} / {num(cell['phi'].iloc[0])}" if len(cell) else "")
    return pd.DataFrame(out), fixed


def _design_words(design: dict | None, facets: Sequence[str]) -> str:
    if not design:
        return ""
    return " x ".join(_sized(design[f], f) for f in facets if f in design)


def smallest_lines(result) -> list[str]:
    """The smallest D-study design (fewest scores per object) reaching the target, for G and for Φ."""
    target = _target(result)
    smallest = result.meta.get("smallest") or {}
    facets = _facets(result)
    lines = []
    for coef, label in (("g", "G"), ("phi", "Φ")):
        design = smallest.get(coef)
        if design:
            lines.append(
                f"Smallest design with {label} >= {target:.2f}: {_design_words(design, facets)} "
                f"({label} {num(design.get(coef))})"
            )
        else:
            lines.append(f"Smallest design with {label} >= {target:.2f}: none in the D-study grid")
    return lines


def _dropped_lines(result) -> list[str]:
    dropped = result.meta.get("dropped") or {}
    return ["Left out: " + "; ".join(f"{n} ({why})" for why, n in dropped.items())] if dropped else []


def _privacy_line(result) -> list[str]:
    privacy = (result.meta.get("privacy") or {}).get("description")
    return [f"({privacy}.)"] if privacy else []


# --------------------------------------------------------------------- terminal
def _header(result) -> list[str]:
    meta = result.meta
    levels = meta.get("n_levels") or {}
    counts = [f"{meta.get('n_scores', 0):,} scores", f"{meta.get('n_objects', 0):,} {facet_words(_object(result))}"]
    counts += [f"{n:,} {facet_words(f)}" for f, n in levels.items()]
    balance = "balanced (every cell of the design scored alike)" if meta.get("balanced") else "unbalanced"
    return [
        f"Generalizability study: {design_text(result)}; estimation: {meta.get('estimation', '')}",
        f"{', '.join(counts)}; {balance}; score: {_score_text(result)}",
    ]


def terminal(result) -> str:
    parts = [*_header(result), "", "Variance components"]
    cells = component_cells(result)
    parts.append(text_table(cells, right=set(cells.columns) - {"source"}))
    if result.tables["components"]["negative"].fillna(False).astype(bool).any():
        parts.append(f"{_NEGATIVE} negative estimate: shown as computed, set to 0 in G, Φ and the D-study")
    parts += ["", *coefficient_lines(result), ""]
    grid, fixed = d_study_grid(result)
    rows_f, cols_f = axes_of(_facets(result))
    title = "D-study: G / Φ" + (
        f" by number of {facet_words(rows_f)} (rows) and {facet_words(cols_f)} (columns)"
        if rows_f
        else f" by number of {facet_words(cols_f)}"
    )
    parts.append(title + (f"; {_fixed_text(fixed)} as observed" if fixed else ""))
    parts.append(text_table(grid, right=set(grid.columns)))
    parts += ["", *smallest_lines(result)]
    notes = result.meta.get("notes") or []
    if notes:
        parts += ["", *[f"Note: {n}" for n in notes]]
    parts += _dropped_lines(result)
    parts += _privacy_line(result)
    return "\n".join(parts)


# --------------------------------------------------------------------- the D-study plot
def d_study_plot(result) -> str:
    """Φ and G (two panels) against the number of raters (or the second facet), one line per number of
    tasks (or the first facet), the target as a labelled dashed line (inline SVG)."""
    rows_f, cols_f = axes_of(_facets(result))
    table, _ = _fixed(result, result.tables["d_study"], [f for f in (rows_f, cols_f) if f])
    if table.empty:
        return ""
    target = _target(result)
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.6), sharey=True)
    groups = sorted(np.unique(numeric(table[rows_f]))) if rows_f else [None]
    colours = plt.get_cmap("viridis")(np.linspace(0.1, 0.85, max(len(groups), 1)))
    low = 1.0
    for ax, (coef, label) in zip(axes, (("phi", "Φ (absolute decisions)"), ("g", "G, Eρ² (relative decisions)"))):
        for colour, level in zip(colours, groups):
            part = table if level is None else table[np.isclose(numeric(table[rows_f]), level)]
            part = part.sort_values(cols_f)
            x, y = numeric(part[cols_f]), numeric(part[coef])
            ok = np.isfinite(y)
            if ok.any():
                low = min(low, float(np.min(y[ok])))
            name = None if level is None or rows_f is None else _sized(level, rows_f)
            ax.plot(x[ok], y[ok], "o-", ms=3, lw=1.2, color=colour, label=name)
        ax.axhline(target, color="#b5382b", lw=1.0, ls="--")
        # the label just outside the panel's right edge, where no line runs
        ax.text(
            1.01,
            target,
            f"target {target:.2f}",
            transform=ax.get_yaxis_transform(),
            va="center",
            ha="left",
            fontsize=8,
            color="#b5382b",
            parse_math=False,
        )
        ax.set_title(label, fontsize=9)
        ax.set_xlabel(f"number of {facet_words(cols_f)}")
        ax.grid(True, color="#eeeeee", lw=0.6)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylabel("coefficient")
    axes[0].set_ylim(max(0.0, min(low, target) - 0.05), 1.0)
    fig.subplots_adjust(wspace=0.35)
    if rows_f:  # below the panels: inside, it would hide the lines
        fig.legend(
            *axes[0].get_legend_handles_labels(),
            title=f"number of {facet_words(rows_f)}",
            fontsize=7,
            title_fontsize=7,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.02),
            ncol=min(len(groups), 8),
            frameon=False,
        )
    for ax in axes:
        for text in ax.get_xticklabels() + ax.get_yticklabels():
            text.set_parse_math(False)
    return svg(fig)


# --------------------------------------------------------------------- HTML
def _records(frame: pd.DataFrame, right: set[str] | None = None) -> dict[str, Any]:
    right = set(frame.columns[1:]) if right is None else right
    return {"columns": list(frame.columns), "rows": frame.to_dict("records"), "right": sorted(right)}


def _component_block(result, table_formats) -> dict[str, Any]:
    cells = component_cells(result)
    share = numeric(result.tables["components"]["percent"])
    bars = [float(np.clip(v * 100, 0, 100)) if np.isfinite(v) else 0.0 for v in share]
    return {
        **_records(cells, set(cells.columns) - {"source"}),
        "bars": bars,
        "negative": bool(result.tables["components"]["negative"].fillna(False).astype(bool).any()),
        "links": table_links("components", table_formats),
    }


def _coefficient_cells(result) -> pd.DataFrame:
    c = result.tables["coefficients"]
    names = {
        "g": "G (Eρ²)",
        "phi": "Φ",
        "relative_error": "relative error variance σ²(δ)",
        "absolute_error": "absolute error variance σ²(Δ)",
    }
    rows = {
        "coefficient": [names.get(str(v), str(v)) for v in c["coefficient"]],
        "estimate": [num(v, 3) for v in c["estimate"]],
        f"{result.level:.0%} CI": [_ci(lo, hi, 3) for lo, hi in zip(c["ci_low"], c["ci_high"])],
    }
    frame = pd.DataFrame(rows)
    for row in _phi_lambda_rows(result):
        frame.loc[len(frame)] = [f"Φ(λ) at λ = {row['cut']:g}", num(row["phi_lambda"], 3), ""]
    return frame


def _d_study_cells(result) -> pd.DataFrame:
    d = result.tables["d_study"]
    facets = [f for f in _facets(result) if f in d]
    cells = {facet_words(f): [size_text(v) for v in d[f]] for f in facets}
    cells.update(
        {
            "G": [num(v) for v in d["g"]],
            "Φ": [num(v) for v in d["phi"]],
            "SEM relative": [num(v, 3) for v in d["sem_relative"]],
            "SEM absolute": [num(v, 3) for v in d["sem_absolute"]],
        }
    )
    if "reaches_phi" in d:
        cells[f"Φ >= {_target(result):.2f}"] = ["yes" if bool(v) else "" for v in d["reaches_phi"].fillna(False)]
    return pd.DataFrame(cells)


def _largest_card(result) -> tuple[str, str]:
    c = result.tables["components"]
    share = numeric(c["percent"])
    if not np.isfinite(share).any():
        return "", "largest variance component"
    i = int(np.nanargmax(share))
    return pct(share[i]), f"largest component: {c['source'].iloc[i]}"


def _smallest_card(result) -> tuple[str, str]:
    smallest = (result.meta.get("smallest") or {}).get("phi")
    target = _target(result)
    text = _design_words(smallest, _facets(result)) if smallest else "none in the grid"
    return text, f"smallest design with Φ >= {target:.2f}"


def _methods(result) -> list[str]:
    meta, p = result.meta, _params(result)
    obj, facets = _object(result), _facets(result)
    levels = meta.get("n_levels") or {}
    n_boot = int(p.get("n_resamples") or 0)
    few = [f"{facet_words(f)} ({levels[f]})" for f in facets if f in levels and levels[f] < 20]
    items = [
        f"Model: design {design_text(result)}, all effects random; each score is the grand mean plus one effect for "
        f"each source of the components table ({', '.join(result.tables['components']['source'].astype(str))}), the "
        f"last holding what no effect explains (Cronbach et al. 1972; Brennan 2001). Object of measurement: {obj}; "
        f"score: {_score_text(result)}.",
        f"Estimation: {meta.get('estimation', '')}"
        + (
            ": the expected mean squares of the balanced ANOVA solved for the components."
            if meta.get("balanced") and "REML" not in str(meta.get("estimation", ""))
            else (
                ": restricted maximum likelihood, every effect a variance component."
                if "REML" in str(meta.get("estimation", ""))
                else ": the ANOVA of unbalanced data, each component solved from the expected sums of squares "
                "(unbiased with missing cells and unequal reads); the observed design's coefficients divide each component by the harmonic mean, "
                f"over {facet_words(obj)}, of the levels of its facets each has."
            )
        ),
        "Negative estimates (sampling error around a component near 0) are reported as computed and set to 0 in "
        "every coefficient and in the D-study (Brennan 2001, sec. 3.4).",
        f"Coefficients: the relative error σ²(δ) is the sum of the components that include {obj}, each divided by "
        f"the number of levels of its facets averaged over; the absolute error σ²(Δ) adds the facets' own main effects "
        f"and their interactions. G (Eρ²) = σ²({obj}) / (σ²({obj}) + σ²(δ)), for ranking (relative decisions); "
        f"Φ = σ²({obj}) / (σ²({obj}) + σ²(Δ)), for decisions against a fixed standard (absolute decisions). The SEMs "
        "are the square roots of the error variances, on the score's scale.",
        "D-study: the same components divided by other numbers of levels of the facets; the smallest design is the "
        f"one with the fewest scores per {_one(obj)} (the product of the sizes; ties: the larger coefficient) that "
        f"reaches {_target(result):.2f}.",
    ]
    if n_boot:
        comps = result.tables["components"]
        blank = comps.loc[numeric(comps["se"]) != numeric(comps["se"]), "source"].astype(str).tolist()
        items.append(
            f"Uncertainty: {n_boot} bootstrap resamples of the {facet_words(obj)} (with replacement, every score of a "
            f"resampled {_one(obj)} kept; a {_one(obj)} drawn twice counts as two); SE = the resamples' SD, "
            f"{result.level:.0%} percentile intervals. Resampling {facet_words(obj)} holds the facets' levels fixed, "
            "so it understates the uncertainty of the components of facets with few levels"
            + (f" (here {', '.join(few)})" if few and not blank else "")
            + (f": their SEs and intervals are left blank ({', '.join(blank)})" if blank else "")
            + "; the intervals of G and Φ are too narrow for the same reason."
        )
    else:
        items.append("Uncertainty: no bootstrap (--bootstrap 0): no SEs or intervals.")
    cuts = _phi_lambda_rows(result)
    if cuts:
        items.append(
            "Φ(λ): the dependability of decisions at the cut score λ, (σ²(p) + (μ - λ)²) / (σ²(p) + (μ - λ)² + "
            "σ²(Δ)), with (μ - λ)² estimated without bias as (mean - λ)² - σ²(mean) (Brennan 2001, eq. 2.54)."
        )
    items += [f"Note: {n}" for n in meta.get("notes") or []]
    items.append(
        "References: Brennan, R. L. (2001). Generalizability theory. Springer. Cronbach, L. J., Gleser, G. C., "
        "Nanda, H., & Rajaratnam, N. (1972). The dependability of behavioral measurements. Wiley. Henderson, C. R. "
        "(1953). Estimation of variance and covariance components. Biometrics 9, 226-252."
    )
    return items


def _about(result) -> str:
    facets = [facet_words(f) for f in _facets(result)]
    return (
        f"How much of the score variance is the {facet_words(_object(result))}' and how much the "
        f"{' and '.join(facets)}', how dependable the observed design is, and how many {' and '.join(facets)} a "
        f"dependable score needs"
    )


def html(result, table_formats: Sequence[str] = ("CSV", "JSON")) -> str:
    g, phi = _coefficient(result, "g"), _coefficient(result, "phi")
    rows_f, cols_f = axes_of(_facets(result))
    grid, fixed = d_study_grid(result)
    plot_note = (
        f"One line per number of {facet_words(rows_f)}; x: the number of {facet_words(cols_f)}."
        if rows_f
        else f"x: the number of {facet_words(cols_f)}."
    )
    if fixed:
        plot_note += f" The other facets are fixed at their observed sizes ({_fixed_text(fixed)})."
    return render_page(
        result,
        "gstudy.html.j2",
        heading="Generalizability study",
        cards=[
            (num(g["estimate"]) if g is not None else "", "G (Eρ²), observed design"),
            (num(phi["estimate"]) if phi is not None else "", "Φ, observed design"),
            _largest_card(result),
            _smallest_card(result),
        ],
        about=_about(result),
        object_words=facet_words(_object(result)),
        header_lines=_header(result)[1:] + [f"Observed design: {_observed_sizes(result)} per {_one(_object(result))}."],
        components=_component_block(result, table_formats),
        coefficients={**_records(_coefficient_cells(result)), "links": table_links("coefficients", table_formats)},
        coefficient_lines=coefficient_lines(result),
        design_grid={**_records(grid), "fixed": _fixed_text(fixed)},
        d_study={**_records(_d_study_cells(result)), "links": table_links("d_study", table_formats)},
        smallest=smallest_lines(result),
        plot=d_study_plot(result),
        plot_note=plot_note,
        target=f"{_target(result):.2f}",
        methods=_methods(result),
        footer_items=[("design", design_text(result)), ("estimation", result.meta.get("estimation", ""))],
        table_formats=table_formats,
    )
