"""The rater measurement report (``irr raters``): the many-facet Rasch model's tables, raters first.

The terminal report lists the raters with the flagged ones first (misfit, then too predictable,
then harsh and lenient), each with the rule that flagged it; then every facet's separation and
reliability, the raters' exact agreement observed against expected and the largest
interactions.  The HTML page adds a Wright map (works, raters, dimensions and the scale's
thresholds on one logit axis) and every table, long ones cut to their top and bottom rows
(the files under ``tables/`` hold them whole).

Examples
--------
>>> flag_kind("misfit: mean-square 1.82 > 1.5 (erratic); harsh: +0.90 logits from the mean"), flag_kind("")
(0, 5)
>>> dodge(np.array([0.0, 0.01, 0.02, 2.0]), 0.1).round(2).tolist()
[-0.09, 0.01, 0.11, 2.0]
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from irr.report.formatting import count, is_missing, num, pct, signed
from irr.report.html import render_page, table_links
from irr.report.plots import numeric, pyplot, svg
from irr.report.terminal import text_table

__all__ = [
    "flag_kind",
    "ordered_raters",
    "rater_rows",
    "summary_lines",
    "agreement_line",
    "dodge",
    "wright_map",
    "terminal",
    "html",
]

_NAMES = {"work_id": "works", "rater_id": "raters", "dimension": "dimensions"}
_KINDS = ("misfit", "overfit", "harsh", "lenient", "extreme")
_LONG = 30  # longer tables are shown as their top and bottom rows in the HTML page
_EDGE = 10
_BIAS_SHOWN = (5, 15)  # largest |t| rows: terminal, HTML


# --------------------------------------------------------------------- the result's tables
def _rater_facet(result) -> str:
    return str(result.meta["parameters"]["facets"][1])


def _measures(result, facet: str) -> pd.DataFrame:
    table = result.tables[f"measures_{facet}"]
    return table if facet in table.columns else table.rename_axis(facet).reset_index()


def _label(facet: str) -> str:
    return _NAMES.get(facet, facet)


def _p(value: Any) -> str:
    if isinstance(value, str) or is_missing(value):
        return "" if is_missing(value) else value
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _p_text(value: Any) -> str:
    text = _p(value)
    return f"< {text[1:]}" if text.startswith("<") else (f"= {text}" if text and text[0].isdigit() else text)


def _ci(low: Any, high: Any) -> str:
    if isinstance(low, str) or is_missing(low) or is_missing(high):
        return "" if is_missing(low) else str(low)
    return f"[{signed(low)}, {signed(high)}]"


def flag_kind(flag: Any) -> int:
    """Order of a flag: misfit 0, overfit 1, harsh 2, lenient 3, extreme or other 4, none 5."""
    text = "" if is_missing(flag) else str(flag).strip().lower()
    if not text:
        return 5
    first = text.split(":", 1)[0].split(" ", 1)[0]
    return _KINDS.index(first) if first in _KINDS else 4


def _kinds(table: pd.DataFrame) -> np.ndarray:
    """:func:`flag_kind` of each row; 6 for a row suppressed for privacy (its flag is not shown)."""
    kind = np.array(table["flag"].map(flag_kind), dtype=int)
    kind[table["count"].map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)] = 6
    return kind


def ordered_raters(result) -> pd.DataFrame:
    """The rater measures, flagged raters first: misfit (worst mean-square first), too predictable,
    harsh (harshest first), lenient (most lenient first), extreme; then the others, harshest first; rows
    suppressed for privacy last (their place would tell what their numbers were)."""
    table = _measures(result, _rater_facet(result))
    kind = _kinds(table)
    measure = numeric(table["measure"])
    worst = np.fmax(numeric(table["infit"]), numeric(table["outfit"]))
    least = np.fmin(numeric(table["infit"]), numeric(table["outfit"]))
    within = np.select([kind == 0, kind == 1, kind == 3], [-worst, least, measure], -measure)
    order = np.lexsort((np.nan_to_num(within, nan=np.inf), kind))
    return table.iloc[order].reset_index(drop=True)


def _measure_cells(table: pd.DataFrame, facet: str, level: float, *, full: bool) -> pd.DataFrame:
    ci = f"{level:.0%} CI"
    cells: dict[str, list[str]] = {
        _label(facet).rstrip("s") if facet in _NAMES else facet: table[facet].astype(str).tolist(),
        "count": [count(v) for v in table["count"]],
        "observed avg": [num(v) for v in table["observed_average"]],
        "fair avg": [num(v) for v in table["fair_average"]],
        "measure": [signed(v) for v in table["measure"]],
        ci: [_ci(lo, hi) for lo, hi in zip(table["ci_low"], table["ci_high"])],
    }
    if full:
        cells["model SE"] = [num(v) for v in table["se"]]
        cells["real SE"] = [num(v) for v in table["real_se"]]
        cells["joint SE"] = [num(v) for v in table["joint_se"]]
    cells["infit"] = [num(v) for v in table["infit"]]
    if full:
        cells["infit zstd"] = [signed(v, 1) for v in table["infit_zstd"]]
    cells["outfit"] = [num(v) for v in table["outfit"]]
    if full:
        cells["outfit zstd"] = [signed(v, 1) for v in table["outfit_zstd"]]
        cells["ptmea"] = [num(v) for v in table["ptmea"]]
    if "exact_observed" in table:
        cells["exact obs"] = [pct(v, 1) for v in table["exact_observed"]]
        cells["exact exp"] = [pct(v, 1) for v in table["exact_expected"]]
    suppressed = [isinstance(v, str) for v in table["count"]]  # a suppressed row shows no rule (it holds numbers)
    cells["flag"] = ["" if s or is_missing(f) else str(f) for f, s in zip(table["flag"], suppressed)]
    frame = pd.DataFrame(cells)
    return frame[[c for c in frame.columns if c != "flag" or (frame[c] != "").any()]]


def drift_texts(result) -> dict[str, str]:
    """Per rater with a drift row (``irr drift`` across the store's sessions): what changed, or ''."""
    drift = result.tables.get("drift")
    if drift is None:
        return {}
    out = {}
    for row in drift.itertuples():
        text = "no change"
        if row.flagged is True or row.flagged is np.True_:
            text = f"{row.direction} from {row.first_alarm}"
            if isinstance(row.shift, float) and np.isfinite(row.shift):
                text += f" ({signed(row.shift)})"
        out[str(row.rater_id)] = text
    return out


def rater_rows(result, *, full: bool = False) -> pd.DataFrame:
    """The rater table as text, flagged raters first (with their drift across sessions, when known)."""
    table = ordered_raters(result)
    cells = _measure_cells(table, _rater_facet(result), result.level, full=full)
    drift = drift_texts(result)
    if drift:
        cells["drift (irr drift)"] = [drift.get(str(r), "") for r in table[_rater_facet(result)]]
    return cells


def _right(frame: pd.DataFrame) -> set[str]:
    text = ("flag", "status", "rater", "rater A", "rater B", "work", "drift (irr drift)")
    return {c for c in frame.columns if c not in text} - set(frame.columns[:1])


def summary_lines(result) -> list[str]:
    """Per facet: separation, strata, reliability and the fixed (all same) chi-square."""
    lines = []
    summary = result.tables["summary"]
    summary = summary if "facet" in summary.columns else summary.rename_axis("facet").reset_index()
    for row in summary.itertuples(index=False):
        lines.append(
            f"{row.facet}: separation {num(row.separation)}, strata {num(row.strata)}, reliability "
            f"{num(row.reliability)}; fixed (all same) chi-square {num(row.chi2, 1)}, df {count(row.df)}, "
            f"p {_p_text(row.p)}"
        )
    return lines


def agreement_line(result) -> str:
    a = result.meta.get("rater_agreement") or {}
    if not a:
        return "Rater agreement: no two raters scored the same work on the same elements (no opportunities)."
    return (
        f"Rater agreement: {a['opportunities']:,} opportunities, exact agreement {pct(a['exact_observed'], 1)} "
        f"observed vs {pct(a['exact_expected'], 1)} expected, Rasch-kappa {num(a['rasch_kappa'])} "
        "(near 0: raters act as independent experts, as the model expects; well above 0: they agree more than "
        "the model predicts, like scoring machines)"
    )


def _bias_pairs(result) -> list[tuple[str, str]]:
    return [tuple(p) for p in result.meta["parameters"].get("bias", []) if f"bias_{p[0]}_x_{p[1]}" in result.tables]


def _largest(table: pd.DataFrame, n: int) -> pd.DataFrame:
    t = numeric(table["t"])
    order = np.argsort(-np.nan_to_num(np.abs(t), nan=-1.0), kind="stable")
    return table.iloc[[i for i in order if np.isfinite(t[i])][:n]]


def _bias_cells(table: pd.DataFrame, a: str, b: str, *, full: bool) -> pd.DataFrame:
    cells = {
        a: table[a].astype(str).tolist(),
        b: table[b].astype(str).tolist(),
        "count": [count(v) for v in table["count"]],
    }
    if full:
        cells["observed avg"] = [num(v) for v in table["observed"]]
        cells["expected avg"] = [num(v) for v in table["expected"]]
    cells["obs - exp"] = [signed(v) for v in table["obs_minus_exp"]]
    cells["bias"] = [signed(v) for v in table["bias"]]
    cells["SE"] = [num(v) for v in table["se"]]
    cells["t"] = [signed(v) for v in table["t"]]
    if full:
        cells["df"] = [count(v) for v in table["df"]]
    cells["p (adj.)"] = [_p(v) for v in table["p_adjusted"]]
    if full:
        cells["infit"] = [num(v) for v in table["infit"]]
        cells["outfit"] = [num(v) for v in table["outfit"]]
        cells["status"] = table["status"].fillna("").astype(str).tolist()
    return pd.DataFrame(cells)


def _bias_summary(result, a: str, b: str) -> str:
    table = result.tables[f"bias_{a}_x_{b}"]
    status = table["status"].fillna("").astype(str)
    small = int(status.str.startswith("suppressed").sum())
    alpha = 1 - result.level
    significant = int((numeric(table["p_adjusted"]) < alpha).sum())
    p = result.meta["parameters"]
    fixed = (result.meta.get("bias_fixed_chi2") or {}).get(f"bias_{a}_x_{b}")
    chi = (
        f"; fixed (all = 0) chi-square {fixed['chi2']:.1f}, df {fixed['df']}, p {_p_text(fixed['p'])}"
        if fixed and fixed["df"]
        else ""
    )
    return (
        f"Bias {a} x {b}: {len(table)} cells, {significant} with {p['multiplicity']}-adjusted p < {alpha:.2g}"
        + (f", {small} with fewer than {p['min_count']} ratings suppressed" if small else "")
        + chi
        + "; bias > 0: scored lower than expected (harsher on that cell), in logits"
    )


def _methods(result) -> list[str]:
    meta, p = result.meta, result.meta["parameters"]
    facets = list(p["facets"])
    terms = " - ".join(["B(work)" if facets[0] == "work_id" else f"B({facets[0]})", *[f"C({f})" for f in facets[1:]]])
    if p["model"] == "partial_credit":
        model = (
            f"partial credit model: thresholds F(k) estimated separately for each element of {p['steps_by']}, "
            f"log(P_k / P_k-1) = {terms} - F({p['steps_by']}, k)"
        )
    else:
        model = f"rating scale model: one set of thresholds, log(P_k / P_k-1) = {terms} - F(k)"
    names = [*facets[1:], "thresholds"]
    factors = meta.get("bias_factors") or []
    correction = (
        ". Bias correction (JMLE overstates the spread of the measures): data simulated from the fit with the same "
        "design were refit and each facet divided by the slope of the refit on the generating measures: "
        + ", ".join(f"{n} by {v:.3f}" for n, v in zip(names, factors))
        + "; the works then re-estimated with those anchored"
        if p.get("correct_bias") and factors
        else "; no bias correction (raw JMLE, as FACETS reports)"
    )
    extreme = {f: n for f, n in (meta.get("extreme") or {}).items() if n}
    rater = facets[1]
    lo, hi = p["fit_range"]
    items = [
        f"Many-facet Rasch model (Linacre 1989), {model}; {meta.get('n_ratings', '')} ratings.",
        f"Estimation: {meta.get('estimation', '')}; {meta.get('iterations', '')} Newton-Raphson iterations, "
        f"{'converged' if meta.get('converged') else 'NOT converged'}{correction}.",
        f"Identification and orientation: every facet after {facets[0]} and the thresholds are centred at 0 logits; "
        f"{facets[0]} is oriented positively (a higher measure is a better work), the others negatively: a higher "
        f"{rater} measure is a harsher rater, a higher dimension measure a harder dimension.",
        f"Fit: infit (information-weighted) and outfit (unweighted) mean-squares, expected 1, standardised by the "
        f"Wilson-Hilferty cube root; outside {lo:g}-{hi:g} is flagged (Linacre 2002, 'productive for measurement'): "
        f"above {hi:g} erratic (noise), below {lo:g} too predictable (e.g. central tendency or halo).",
        f"Harsh / lenient: a measure at least {p['severity_logits']} logits from its facet's mean whose "
        f"{result.level:.0%} joint-SE interval excludes the mean."
        if p.get("severity_logits") is not None
        else "Harsh / lenient: not flagged (severity_logits = None).",
        "Standard errors: model SE = 1 / sqrt(information) (FACETS' model S.E.); real SE = model SE x sqrt(max(1, "
        "infit)) (inflated for misfit); joint SE from the joint information with the works eliminated, which "
        "carries the works' uncertainty too: the intervals use it.",
        "Separation = adjusted (true) SD / RMSE, strata = (4 x separation + 1) / 3, reliability = separation^2 / "
        "(1 + separation^2); the fixed chi-square tests that all elements of a facet are the same. A high rater "
        "reliability means the raters differ reliably in severity: it is not agreement.",
        "Agreement: exact agreement of every pair of raters on the same work and elements, observed and expected "
        "under the model; Rasch-kappa = (observed - expected) / (1 - expected).",
        f"Bias (interactions): the main effects anchored, one bias measure per cell with a t test on count - 1 df, "
        f"{p['multiplicity']}-adjusted; cells with fewer than {p['min_count']} ratings are suppressed. Contrasts: "
        "Rasch-Welch t between an element's biases on two elements of the other facet.",
    ]
    if extreme:
        items.append(
            "Extreme scores (every rating at the top or bottom): "
            + ", ".join(f"{n} {_label(f)}" for f, n in extreme.items())
            + "; measured with the score moved 0.3 points inward, left out of the fit statistics, the separation "
            "statistics and the interactions."
        )
    dropped = meta.get("dropped") or {}
    if dropped:
        items.append("Left out: " + "; ".join(f"{n} ({why})" for why, n in dropped.items()) + ".")
    shown = [n for n in meta.get("notes") or [] if not (factors and str(n).startswith("JMLE bias corrected"))]
    items += [f"Note: {n}" for n in shown]
    items.append(
        "References: Linacre, J. M. (1989). Many-facet Rasch measurement. MESA Press. Linacre, J. M. (2002). What do "
        "infit and outfit, mean-square and standardized mean? Rasch Measurement Transactions 16(2), 878. Myford, C. M. "
        "& Wolfe, E. W. (2003, 2004). Detecting and measuring rater effects using many-facet Rasch measurement, "
        "Parts I and II. Journal of Applied Measurement 4, 386-422; 5, 189-227."
    )
    return items


def _privacy_line(result) -> list[str]:
    privacy = (result.meta.get("privacy") or {}).get("description")
    return [f"({privacy}.)"] if privacy else []


# --------------------------------------------------------------------- terminal
def _header(result) -> list[str]:
    p = result.meta["parameters"]
    sizes = " x ".join(f"{len(result.tables[f'measures_{f}'])} {_label(f)}" for f in p["facets"])
    raters = ordered_raters(result)
    kinds = _kinds(raters)
    counts = [f"{int((kinds == i).sum())} {k}" for i, k in enumerate(_KINDS) if (kinds == i).any()]
    flagged = int((kinds < 5).sum())
    return [
        f"Rater measurement (many-facet Rasch, {p['model'].replace('_', ' ')} model): "
        f"{result.meta.get('n_ratings', '')} ratings, {sizes}",
        f"Higher rater measure = harsher rater. Flagged: {flagged} of {len(raters)} raters"
        + (f" ({', '.join(counts)})" if counts else "")
        + ".",
    ]


def terminal(result) -> str:
    parts = [*_header(result), ""]
    rows = rater_rows(result)
    parts += [text_table(rows, right=_right(rows)), ""]
    parts += ["Separation and reliability", *summary_lines(result), "", agreement_line(result)]
    for a, b in _bias_pairs(result):
        table = result.tables[f"bias_{a}_x_{b}"]
        top = _largest(table, _BIAS_SHOWN[0])
        parts += ["", _bias_summary(result, a, b)]
        if len(top):
            cells = _bias_cells(top, a, b, full=False)
            parts.append(text_table(cells, right=_right(cells) - {b}))
    notes = result.meta.get("notes") or []
    if notes:
        parts += ["", *[f"Note: {n}" for n in notes]]
    parts += _privacy_line(result)
    return "\n".join(parts)


# --------------------------------------------------------------------- the Wright map
def dodge(y: np.ndarray, gap: float) -> np.ndarray:
    """Label positions near ``y``, at least ``gap`` apart (clusters of close labels spread around their mean)."""
    y = np.asarray(y, dtype=float)
    if y.size == 0:
        return y
    order = np.argsort(y, kind="stable")
    clusters = [[i] for i in order]

    def span(members):
        start = float(np.mean(y[members])) - gap * (len(members) - 1) / 2
        return start, start + gap * (len(members) - 1)

    merged = True
    while merged:
        merged = False
        out = [clusters[0]]
        for members in clusters[1:]:
            if span(members)[0] - span(out[-1])[1] < gap - 1e-12:
                out[-1] = out[-1] + members
                merged = True
            else:
                out.append(members)
        clusters = out
    placed = np.empty_like(y)
    for members in clusters:
        start = span(members)[0]
        for j, i in enumerate(members):
            placed[i] = start + j * gap
    return placed


def _orientation(facet: str, rater: str) -> str:
    if facet == rater:
        return "higher = harsher"
    if facet == "dimension":
        return "higher = harder"
    return "higher = lower scores"


def wright_map(result) -> str:
    """One logit axis: the works as a histogram, the other facets' elements as labelled points
    (flagged raters in red), each threshold group's Rasch-Andrich thresholds as ticks (inline SVG)."""
    facets = list(result.meta["parameters"]["facets"])
    rater = facets[1]
    works = numeric(_measures(result, facets[0])["measure"])
    works = works[np.isfinite(works)]
    columns = []
    for f in facets[1:]:
        table = _measures(result, f)
        m = numeric(table["measure"])
        ok = np.isfinite(m)
        flagged = (_kinds(table) < 5) & ok
        columns.append((f, table[f].astype(str).to_numpy()[ok], m[ok], flagged[ok]))
    cats = result.tables["categories"]
    groups = []
    for g, part in cats.groupby("group", sort=False):
        tau = numeric(part["threshold"])
        scores = part["score"].astype(str).tolist()
        ticks = [(tau[k], f"{scores[k - 1]}|{scores[k]}") for k in range(1, len(part)) if np.isfinite(tau[k])]
        groups.append((str(g), ticks))
    values = np.concatenate(
        [works, *[c[2] for c in columns], *[np.array([t for t, _ in ticks]) for _, ticks in groups]]
    )
    if values.size == 0:
        return ""
    low, high = float(np.min(values)) - 0.5, float(np.max(values)) + 0.5
    most = max([len(c[2]) for c in columns] + [1])
    height = float(np.clip(0.14 * most + 1.2, 4.0, 16.0))
    gap = (high - low) * 0.125 / (height - 0.9)
    n_cols = 1 + len(columns) + len(groups)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(min(2.0 + 1.7 * n_cols, 11.0), height))
    # works: a histogram drawn leftwards from the column's right edge
    if works.size:
        step = 0.25 if high - low <= 12 else 0.5
        edges = np.arange(np.floor(low / step) * step, high + step, step)
        hist, edges = np.histogram(works, bins=edges)
        centres = (edges[:-1] + edges[1:]) / 2
        keep = hist > 0
        ax.barh(
            centres[keep],
            0.85 * hist[keep] / hist.max(),
            left=0.9 - 0.85 * hist[keep] / hist.max(),
            height=step * 0.85,
            color="#8fb3d9",
        )
        for c, h in zip(centres[keep], hist[keep]):
            ax.text(0.92, c, str(int(h)), va="center", fontsize=6, color="#5a5a5a", parse_math=False)
    y_all = [low, high]
    for i, (_facet, labels, measure, flagged) in enumerate(columns, start=1):
        label_y = dodge(measure, gap)
        y_all += [float(label_y.min()) if label_y.size else low, float(label_y.max()) if label_y.size else high]
        for lab, m, ly, bad in zip(labels, measure, label_y, flagged):
            colour = "#b5382b" if bad else "#1f4e79"
            ax.plot([i + 0.08], [m], "o", ms=3.5, color=colour)
            ax.plot([i + 0.1, i + 0.2], [m, ly], lw=0.5, color="#aaaaaa")
            ax.text(i + 0.22, ly, lab, va="center", fontsize=7, color=colour, parse_math=False)
    for j, (_name, ticks) in enumerate(groups, start=1 + len(columns)):
        for tau, text in ticks:
            ax.plot([j + 0.05, j + 0.35], [tau, tau], lw=1.5, color="#333333")
            ax.text(j + 0.4, tau, text, va="center", fontsize=7, parse_math=False)
    for x in range(1, n_cols):
        ax.axvline(x, color="#dddddd", lw=0.6)
    heads = [f"{_label(facets[0])} (n = {works.size})\nhigher = better"]
    heads += [f"{_label(f)}\n{_orientation(f, rater)}" for f, *_ in columns]
    heads += [("thresholds" if len(groups) == 1 else f"thresholds: {name}") for name, _ in groups]
    ax.set_xticks(np.arange(n_cols) + 0.5, heads, fontsize=7)
    for tick in ax.get_xticklabels():
        tick.set_parse_math(False)
    ax.xaxis.tick_top()
    ax.tick_params(axis="x", length=0)
    ax.set_xlim(0, n_cols)
    ax.set_ylim(min(y_all) - gap, max(y_all) + gap)
    ax.set_ylabel("measure (logits)")
    ax.axhline(0, color="#cccccc", lw=0.6, zorder=0)
    ax.spines[["top", "right", "bottom"]].set_visible(False)
    return svg(fig)


# --------------------------------------------------------------------- HTML
def _records(frame: pd.DataFrame, right: set[str] | None = None) -> dict[str, Any]:
    return {
        "columns": list(frame.columns),
        "rows": frame.to_dict("records"),
        "right": _right(frame) if right is None else right,
    }


def _cut(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """A long table as its top and bottom rows with a row saying how many are left out."""
    if len(frame) <= _LONG:
        return frame
    gap = pd.DataFrame([{c: "" for c in frame.columns}])
    gap.iloc[0, 0] = f"... {len(frame) - 2 * _EDGE} more {what} ..."
    return pd.concat([frame.head(_EDGE), gap, frame.tail(_EDGE)], ignore_index=True)


def _facet_block(result, facet: str, table_formats) -> dict[str, Any]:
    table = _measures(result, facet)
    order = np.argsort(-np.nan_to_num(numeric(table["measure"]), nan=-np.inf), kind="stable")
    cells = _measure_cells(table.iloc[order].reset_index(drop=True), facet, result.level, full=True)
    return {
        "id": f"facet-{facet}",
        "title": f"Measures: {facet}",
        "facet": facet,
        "n": len(table),
        "long": len(table) > _LONG,
        "table": _records(_cut(cells, _label(facet))),
        "links": table_links(f"measures_{facet}", table_formats),
    }


def _summary_cells(result) -> pd.DataFrame:
    s = result.tables["summary"]
    s = s if "facet" in s.columns else s.rename_axis("facet").reset_index()
    return pd.DataFrame(
        {
            "facet": s["facet"].astype(str),
            "elements": [count(v) for v in s["elements"]],
            "extreme": [count(v) for v in s["extreme"]],
            "mean": [signed(v) for v in s["mean"]],
            "SD": [num(v) for v in s["sd"]],
            "RMSE": [num(v) for v in s["rmse"]],
            "adj. SD": [num(v) for v in s["adjusted_sd"]],
            "separation": [num(v) for v in s["separation"]],
            "strata": [num(v) for v in s["strata"]],
            "reliability": [num(v) for v in s["reliability"]],
            "real separation": [num(v) for v in s["real_separation"]],
            "real reliability": [num(v) for v in s["real_reliability"]],
            "chi-square": [num(v, 1) for v in s["chi2"]],
            "df": [count(v) for v in s["df"]],
            "p": [_p(v) for v in s["p"]],
        }
    )


def _category_cells(result) -> pd.DataFrame:
    c = result.tables["categories"]
    return pd.DataFrame(
        {
            "group": c["group"].astype(str),
            "score": c["score"].astype(str),
            "count": [count(v) for v in c["count"]],
            "percent": [pct(v) for v in c["percent"]],
            "cumulative": [pct(v) for v in c["cumulative_percent"]],
            "average measure": [signed(v) for v in c["average_measure"]],
            "outfit": [num(v) for v in c["outfit"]],
            "threshold": [signed(v) for v in c["threshold"]],
            "threshold SE": [num(v) for v in c["threshold_se"]],
        }
    )


def _agreement_cells(result) -> pd.DataFrame:
    a = result.tables["agreement"]
    rater = _rater_facet(result)
    if a.empty:
        return pd.DataFrame()
    diff = numeric(a["exact_observed"]) - numeric(a["exact_expected"])
    order = np.argsort(-np.nan_to_num(diff, nan=-np.inf), kind="stable")
    a = a.iloc[order]
    return pd.DataFrame(
        {
            "rater A": a[f"{rater}_a"].astype(str).tolist(),
            "rater B": a[f"{rater}_b"].astype(str).tolist(),
            "opportunities": [count(v) for v in a["opportunities"]],
            "exact observed": [pct(v, 1) for v in a["exact_observed"]],
            "exact expected": [pct(v, 1) for v in a["exact_expected"]],
            "difference": ["" if not np.isfinite(d) else f"{100 * d:+.1f} pts" for d in diff[order]],
        }
    )


def _contrast_cells(table: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            a: table[a].astype(str).tolist(),
            f"{b} 1": table[f"{b}_1"].astype(str).tolist(),
            "bias 1": [signed(v) for v in table["bias_1"]],
            f"{b} 2": table[f"{b}_2"].astype(str).tolist(),
            "bias 2": [signed(v) for v in table["bias_2"]],
            "contrast": [signed(v) for v in table["contrast"]],
            "SE": [num(v) for v in table["se"]],
            "t": [signed(v) for v in table["t"]],
            "df": [num(v, 1) for v in table["df"]],
            "p (adj.)": [_p(v) for v in table["p_adjusted"]],
        }
    )


def _bias_blocks(result, table_formats) -> list[dict[str, Any]]:
    blocks = []
    for a, b in _bias_pairs(result):
        table = result.tables[f"bias_{a}_x_{b}"]
        top = _largest(table, _BIAS_SHOWN[1])
        contrast = result.tables.get(f"contrast_{a}_x_{b}")
        cells = _bias_cells(top, a, b, full=True)
        block = {
            "id": f"bias-{a}-{b}",
            "title": f"Bias: {a} x {b}",
            "summary": _bias_summary(result, a, b),
            "n": len(table),
            "shown": len(top),
            "table": _records(cells, _right(cells) - {b, "status"}),
            "links": table_links(f"bias_{a}_x_{b}", table_formats),
            "contrast": None,
        }
        if contrast is not None and len(contrast):
            shown = _largest(contrast, _BIAS_SHOWN[1])
            ccells = _contrast_cells(shown, a, b)
            block["contrast"] = {
                "n": len(contrast),
                "shown": len(shown),
                "table": _records(ccells, _right(ccells) - {f"{b} 1", f"{b} 2"}),
                "links": table_links(f"contrast_{a}_x_{b}", table_formats),
            }
        blocks.append(block)
    return blocks


def html(result, table_formats: Sequence[str] = ("CSV", "JSON")) -> str:
    p = result.meta["parameters"]
    facets = list(p["facets"])
    rater = facets[1]
    raters = ordered_raters(result)
    flagged = int((_kinds(raters) < 5).sum())
    summary = result.tables["summary"]
    summary = summary if "facet" in summary.columns else summary.rename_axis("facet").reset_index()
    rel = summary.loc[summary["facet"] == rater, "reliability"]
    agreement = result.meta.get("rater_agreement") or {}
    rows = rater_rows(result, full=True)
    agreement_cells = _agreement_cells(result)
    return render_page(
        result,
        "facets.html.j2",
        heading="Rater measurement (many-facet Rasch)",
        cards=[
            (len(raters), "raters"),
            (flagged, "flagged"),
            (num(rel.iloc[0]) if len(rel) else "", "rater separation reliability"),
            (
                f"{pct(agreement['exact_observed'])} / {pct(agreement['exact_expected'])}" if agreement else "",
                "exact agreement observed / expected",
            ),
        ],
        summary_lines=_header(result)[1:] + [agreement_line(result)],
        wright=wright_map(result),
        raters={**_records(rows), "links": table_links(f"measures_{rater}", table_formats)},
        summary={
            **_records(_summary_cells(result)),
            "lines": summary_lines(result),
            "links": table_links("summary", table_formats),
        },
        facets=[_facet_block(result, f, table_formats) for f in facets if f != rater],
        categories={**_records(_category_cells(result)), "links": table_links("categories", table_formats)},
        agreement={
            **_records(_cut(agreement_cells, "pairs")),
            "n": len(result.tables["agreement"]),
            "line": agreement_line(result),
            "links": table_links("agreement", table_formats),
        },
        biases=_bias_blocks(result, table_formats),
        methods=_methods(result),
        footer_items=[("model", p["model"].replace("_", " ")), ("facets", ", ".join(facets))],
        table_formats=table_formats,
    )
