"""The district comparability report (``irr compare``): forest plot, district, region and
subgroup tables, methods and provenance.

Numbers come raw from :func:`irr.analysis.comparability.compare_districts` (after privacy:
in a public report a row from fewer than the minimum of audited works holds the text
"suppressed (n < 10)" in every number); this module only turns them into text and draws
the forest plot, which shows no point or interval for a suppressed row.

Examples
--------
>>> difference_text(0.4321, 0.21, 0.65)
'+0.43 [+0.21, +0.65]'
>>> difference_text("suppressed (n < 10)", "suppressed (n < 10)", "suppressed (n < 10)")
'suppressed (n < 10)'
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from irr.report.formatting import count, is_missing, num, pct, signed
from irr.report.html import render_page
from irr.report.plots import numeric, pyplot, svg
from irr.report.terminal import text_table

__all__ = ["difference_text", "district_rows", "region_rows", "equity_rows", "forest_plot", "terminal", "html"]

RIGHT = (
    "works",
    "scores",
    "local - audit",
    "SMD",
    "exact",
    "adjacent",
    "QWK",
    "class. agreement",
    "class. kappa",
    "p (adj.)",
    "DSM",
    "conditional",
)
_FOREST_MAX_ROWS = 150


def difference_text(value: Any, low: Any, high: Any, digits: int = 2) -> str:
    """``"+0.43 [+0.21, +0.65]"``; a suppressed or missing value as it is."""
    if isinstance(value, str):
        return value
    if is_missing(value):
        return ""
    if is_missing(low) or is_missing(high) or isinstance(low, str):
        return signed(value, digits)
    return f"{signed(value, digits)} [{signed(low, digits)}, {signed(high, digits)}]"


def _p(value: Any) -> str:
    if isinstance(value, str) or is_missing(value):
        return "" if is_missing(value) else value
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _label(table: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    return [" / ".join(str(v) for v in row) for row in table[list(keys)].itertuples(index=False, name=None)]


def _keys(table: pd.DataFrame) -> list[str]:
    return [c for c in ("district", "task_id", "dimension") if c in table]


def _comparison_cells(table: pd.DataFrame, level: float) -> dict[str, list[str]]:
    """The text cells a district row and a region row share: sizes, difference, agreement."""
    return {
        "works": [count(v) for v in table["n_works"]],
        "scores": [count(v) for v in table["n_scores"]],
        f"local - audit [{level:.0%} CI]": [
            difference_text(v, lo, hi) for v, lo, hi in zip(table["mean_difference"], table["ci_low"], table["ci_high"])
        ],
        "SMD": [signed(v) for v in table["smd"]],
        "exact": [pct(v) for v in table["exact"]],
        "adjacent": [pct(v) for v in table["adjacent"]],
        "QWK": [num(v) for v in table["qwk"]],
        "class. agreement": [pct(v) for v in table["classification_agreement"]],
        "class. kappa": [num(v) for v in table["classification_kappa"]],
    }


def _frame(table: pd.DataFrame, cells: dict[str, list[str]], keys: Sequence[str]) -> pd.DataFrame:
    """The cells as a frame, leaving out the columns that would be empty (the keys always stay)."""
    frame = pd.DataFrame(cells, index=table.index)
    return frame[[c for c in frame.columns if c in keys or (frame[c] != "").any()]]


def district_rows(table: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Text cells of the district table."""
    keys = _keys(table)
    cells = {k: table[k].astype(str).tolist() for k in keys}
    cells.update(_comparison_cells(table, level))
    cells["p (adj.)"] = [_p(v) for v in table["p_adjusted"]]
    cells["finding"] = table["direction"].astype(str).tolist()
    return _frame(table, cells, keys)


def region_rows(table: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Text cells of the region table."""
    keys = _keys(table)
    cells = {k: table[k].astype(str).tolist() for k in keys}
    cells["districts"] = [count(v) for v in table["n_districts"]]
    cells.update(_comparison_cells(table, level))
    return _frame(table, cells, keys)


def equity_rows(table: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    cells = {
        "subgroup": [f"{s} = {v}" for s, v in zip(table["subgroup"], table["value"])],
        "works": [count(v) for v in table["n_works"]],
        "scores": [count(v) for v in table["n_scores"]],
        f"local - audit [{level:.0%} CI]": [
            difference_text(v, lo, hi) for v, lo, hi in zip(table["mean_difference"], table["ci_low"], table["ci_high"])
        ],
        "SMD": [signed(v) for v in table["smd"]],
        "DSM": [signed(v) for v in table["dsm"]],
        "conditional": [
            difference_text(v, lo, hi)
            for v, lo, hi in zip(
                table["conditional_difference"], table["conditional_ci_low"], table["conditional_ci_high"]
            )
        ],
        "p (adj.)": [_p(v) for v in table["p_adjusted"]],
        "finding": table["direction"].astype(str).tolist(),
    }
    return _frame(table, cells, ["subgroup"])


def forest_plot(result) -> str:
    """District differences with their intervals (inline SVG); suppressed rows are named, not drawn."""
    table = result.tables["districts"]
    if table.empty:
        return ""
    table = table.head(_FOREST_MAX_ROWS)
    diff = numeric(table["mean_difference"])
    low, high = numeric(table["ci_low"]), numeric(table["ci_high"])
    labels = _label(table, _keys(table))
    order = np.argsort(np.where(np.isfinite(diff), diff, np.inf), kind="stable")[::-1]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 0.6 + 0.28 * len(table)))
    flagged = table["flagged"].map(lambda v: v is True or v == 1 or (isinstance(v, np.bool_) and bool(v)))
    for y, i in enumerate(order):
        if not np.isfinite(diff[i]):
            text = table["mean_difference"].iloc[i]
            ax.text(
                0,
                y,
                text if isinstance(text, str) else "no estimate",
                va="center",
                ha="center",
                fontsize=7,
                color="#5a5a5a",
            )
            continue
        colour = "#b5382b" if flagged.iloc[i] else "#1f4e79"
        if np.isfinite(low[i]) and np.isfinite(high[i]):
            ax.plot([low[i], high[i]], [y, y], color=colour, lw=1.4)
        ax.plot([diff[i]], [y], "o", color=colour, ms=4)
    ax.axvline(0, color="#888888", lw=0.8)
    threshold = result.meta["parameters"].get("difference_points")
    if threshold:
        ax.axvspan(-threshold, threshold, color="#eeeeee", zorder=0)
    ax.set_yticks(range(len(order)), [labels[i] for i in order], fontsize=7)
    ax.set_ylim(-0.7, len(order) - 0.3)
    ax.set_xlabel(f"local - audit (score points), {result.level:.0%} CI")
    ax.spines[["top", "right"]].set_visible(False)
    return svg(fig)


def _summary(result) -> list[str]:
    table = result.tables["districts"]
    direction = table["direction"].astype(str)
    lines = []
    for word in ("lenient", "severe", "inconsistent"):
        rows = table[direction.str.contains(word)]
        if len(rows):
            lines.append(f"{word.capitalize()}: {', '.join(_label(rows, _keys(rows)))}")
    few = table[direction == "too few audited works"]
    if len(few):
        lines.append(
            f"Too few audited works (under {result.meta['parameters']['min_n']}): {', '.join(_label(few, _keys(few)))}"
        )
    if not lines:
        lines.append("No district's local scoring differs from the audit by the profile's rules.")
    return lines


def _rules(result) -> list[str]:
    params = result.meta["parameters"]
    return [
        f"Lenient / severe: mean local - audit statistically clear ({params['multiplicity']} at "
        f"{params['alpha']:g} across every test of the district table) and {params['difference_rule']}.",
        f"Inconsistent: {params['inconsistency_rule']}; a lenient or severe district also only when its "
        "kappa net of the mean difference is clearly low.",
        f"Subgroups: {params['equity_rule']}.",
        f"Rows from fewer than {params['min_n']} audited works: reported as 'too few audited works', never flagged.",
    ]


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """For the terminal: a suppressed row's cells as "-", the reason once, in its finding."""
    label = frame.map(lambda v: isinstance(v, str) and v.startswith("suppressed (n <"))
    rows = label.any(axis=1)
    if not rows.any():
        return frame
    text = next(v for v in frame.to_numpy().ravel() if isinstance(v, str) and v.startswith("suppressed (n <"))
    out = frame.mask(label, "-")
    if "finding" in out:
        out.loc[rows, "finding"] = out.loc[rows, "finding"] + f" ({text})"
    return out


def terminal(result) -> str:
    level = result.level
    parts = [
        f"District comparability: local ({', '.join(result.meta['parameters']['local'])}) against audit "
        f"({', '.join(result.meta['parameters']['audit'])}) scores",
        "",
        *_summary(result),
        "",
        text_table(_compact(district_rows(result.tables["districts"], level)), right=RIGHT),
        "",
        "The region (all districts together)",
        text_table(_compact(region_rows(result.tables["region"], level)), right=RIGHT),
    ]
    equity = result.tables["equity"]
    if not equity.empty:
        parts += ["", "Student subgroups", text_table(_compact(equity_rows(equity, level)), right=RIGHT)]
    parts += ["", *_rules(result)]
    privacy = (result.meta.get("privacy") or {}).get("description")
    if privacy:
        parts.append(f"({privacy}.)")
    return "\n".join(parts)


def _records(frame: pd.DataFrame) -> dict[str, Any]:
    return {"columns": list(frame.columns), "rows": frame.to_dict("records")}


def html(result, table_formats: Sequence[str] = ("CSV", "JSON")) -> str:
    level = result.level
    params = result.meta["parameters"]
    table = result.tables["districts"]
    direction = table["direction"].astype(str)
    flagged = int(direction.str.contains("lenient|severe|inconsistent").sum())
    n_works = numeric(table["n_works"])
    privacy = result.meta.get("privacy") or {}
    methods = [
        "Each audited score is paired with the local score of the same work and dimension; a work read by "
        "several auditors enters once (each auditor's score weighted 1/m). Local - audit is positive when "
        "local scoring is more lenient than the audit.",
        f"Intervals ({level:.0%}) and tests treat works as the sampled units (cluster linearization over works; "
        "t on n_works - 1 degrees of freedom), not scores as independent.",
        f"SMD: {result.meta.get('smd', '')}.",
        "QWK: quadratic weighted kappa of local and audit scores; 'region' values are the other districts' "
        "(their pooled exact agreement; the mean of their own kappas, since a kappa pooled over districts that "
        "differ in achievement is higher than any district's).",
        "Classification: local and audit scores on the same side of the rubric's achievement cut; kappa of "
        "that 2 x 2 table.",
        "Subgroups: DSM is the mean standardized local minus standardized audit score of the group "
        "(RSMTool); the conditional difference is the group's coefficient in a regression of local - audit on "
        "the group, the work's score level (the mean of its local and audit scores) and the task and dimension, "
        "with work-clustered errors: the difference at the same score level, which separates a rater bias "
        "from a true difference between the groups.",
        *_rules(result),
    ]
    if privacy.get("suppress_below"):
        methods.append(
            f"Public report: every number computed from fewer than {privacy['suppress_below']} audited works "
            f"reads 'suppressed (n < {privacy['suppress_below']})' in the tables, the plot and the files; no "
            "rater, student or work id appears anywhere (only district names)."
            + (
                " The works of those districts are also left out of the region, subgroup and other-district "
                "numbers, so that no published number can be differenced back to them."
                if params.get("pool_small") is False
                else ""
            )
        )
    if result.meta.get("profile_source"):
        methods.append(f"Thresholds ({params['profile']} profile): {result.meta['profile_source']}")
    equity = result.tables["equity"]
    return render_page(
        result,
        "comparability.html.j2",
        heading="District comparability",
        cards=[
            (len(table), "districts" if list(_keys(table)) == ["district"] else "rows"),
            (flagged, "flagged"),
            (int(np.nansum(n_works)) if np.isfinite(n_works).any() else "", "audited works shown"),
            (int((direction == "too few audited works").sum()), f"with fewer than {params['min_n']} works"),
        ],
        summary_lines=_summary(result),
        forest=forest_plot(result),
        districts=_records(district_rows(table, level)),
        region=_records(region_rows(result.tables["region"], level)),
        equity=_records(equity_rows(equity, level)) if not equity.empty else None,
        show_equity=not equity.empty,
        right=set(RIGHT) | {f"local - audit [{level:.0%} CI]"},
        methods=methods,
        footer_items=[
            ("local reads", ", ".join(params["local"])),
            ("audit reads", ", ".join(params["audit"])),
            ("by", ", ".join(params["by"])),
        ],
        table_formats=table_formats,
    )
