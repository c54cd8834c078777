"""Agreement tables as a coordinator reads them: names, percentages, reasons, benchmarks.

The numbers come annotated from the analysis (:func:`irr.analysis.interpretation.annotate`);
this module only turns them into text, so the terminal and the HTML read the same:

* :func:`display_rows` -- text cells: proportions as percentages ("64%"), coefficients with
  two decimals, the interpretation with its benchmark ("moderate (Landis & Koch 1977)",
  "meets pace target (>= 85%)"), notes including the condition-coded scores left out;
  columns that would be empty left out.
* :func:`terminal` / :func:`html` -- the report of an :class:`~irr.analysis.agreement.AgreementResult`.

Raw numbers stay raw in CSV/JSON (0.64, not "64%").

Examples
--------
>>> interpretation_text("meets", "pace target", 0.85)
'meets pace target (>= 85%)'
>>> interpretation_text("moderate", "Landis & Koch 1977")
'moderate (Landis & Koch 1977)'
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from irr.report.formatting import ci_text, count, format_estimate, format_se, is_missing, pct, plural
from irr.report.html import render_page
from irr.report.plots import numeric
from irr.report.terminal import text_table

__all__ = ["display_rows", "interpretation_text", "coded_notes", "sources", "terminal", "html"]

RIGHT = ("estimate", "SE", "p", "papers", "raters", "scores")


def interpretation_text(interpretation: str, benchmark: str, target: Any = None) -> str:
    if not interpretation:
        return ""
    if not is_missing(target):
        return f"{interpretation} {benchmark} (>= {pct(target)})"
    return f"{interpretation} ({benchmark})" if benchmark else interpretation


def coded_notes(table: pd.DataFrame, codes: pd.DataFrame | None, by: Sequence[str]) -> list[str]:
    """Per row of ``table``: "N condition-coded scores left out of the coefficients (code n, ...)"."""
    by = list(by)
    if "n_condition_coded" not in table:
        return [""] * len(table)
    breakdown: dict[tuple, str] = {}
    if codes is not None and not codes.empty:
        codes = codes.assign(_n=numeric(codes["count"]))
        groups = codes.groupby(by, sort=False, dropna=False) if by else [((), codes)]
        for key, sub in groups:
            key = key if isinstance(key, tuple) else (key,)
            sub = sub.sort_values("_n", ascending=False, kind="stable", na_position="last")
            breakdown[key] = ", ".join(f"{c} {count(n)}" for c, n in zip(sub["condition_code"], sub["count"]))
    notes = []
    for key, n in zip(
        table[by].itertuples(index=False, name=None) if by else [()] * len(table), table["n_condition_coded"]
    ):
        if is_missing(n) or n == 0:
            notes.append("")
            continue
        detail = breakdown.get(tuple(key), "")
        notes.append(
            f"{plural(count(n), 'condition-coded score')} left out of the coefficients"
            + (f" ({detail})" if detail else "")
        )
    return notes


def sources(annotated: pd.DataFrame) -> list[str]:
    """The interpretation sources used, each once, in order."""
    return list(dict.fromkeys(s.rstrip(".") for s in annotated["interpretation_source"] if isinstance(s, str) and s))


def _notes(annotated: pd.DataFrame, codes, by) -> list[str]:
    extra = coded_notes(annotated, codes, by)
    return ["; ".join(t for t in (n if isinstance(n, str) else "", e) if t) for n, e in zip(annotated["note"], extra)]


def display_rows(
    annotated: pd.DataFrame, by: Sequence[str] = (), level: float = 0.95, codes: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Text cells of an annotated agreement table; columns that would be empty are left out."""
    by = list(by)
    labels = annotated["coefficient"].astype(str)
    ci_head = f"{level:.0%} CI"
    cells = {col: annotated[col].fillna("").astype(str).tolist() for col in by}
    cells.update(
        {
            "coefficient": annotated["name"].tolist(),
            "estimate": [format_estimate(c, v) for c, v in zip(labels, annotated["estimate"])],
            ci_head: [ci_text(c, lo, hi) for c, lo, hi in zip(labels, annotated["ci_low"], annotated["ci_high"])],
            "SE": [format_se(c, v) for c, v in zip(labels, annotated["standard_error"])],
            "p": ["" if is_missing(v) else (v if isinstance(v, str) else f"{v:.2g}") for v in annotated["p_value"]],
            "papers": [count(v) for v in annotated["n_units"]],
            "raters": [count(v) for v in annotated["n_raters"]],
            "scores": [count(v) for v in annotated["n_ratings"]],
            "dropped": ["" if is_missing(v) else str(v) for v in annotated["dropped"]],
            "interpretation": [
                interpretation_text(i, b, t)
                for i, b, t in zip(annotated["interpretation"], annotated["benchmark"], annotated["target"])
            ],
            "note": _notes(annotated, codes, by),
        }
    )
    frame = pd.DataFrame(cells, index=annotated.index)
    keep = [c for c in frame.columns if c in by or c == "coefficient" or (frame[c] != "").any()]
    return frame[keep]


def render_table(frame: pd.DataFrame) -> str:
    return text_table(frame, right=RIGHT)


# ------------------------------------------------------------------ reports
def terminal(result) -> str:
    """The agreement table as aligned text, with the interpretation sources below it."""
    table = result.tables["agreement"]
    text = render_table(
        display_rows(table, by=result.by, level=result.level, codes=result.tables.get("condition_codes"))
    )
    used = sources(table)
    if used:
        text += "\n\nInterpretation: " + "; ".join(used) + "."
    privacy = (result.meta.get("privacy") or {}).get("description")
    if privacy:
        text += f"\n({privacy}.)"
    return text


def html(result, table_formats: Sequence[str] = ("CSV", "JSON")) -> str:
    table = result.tables["agreement"]
    by = result.by
    cells = display_rows(table, by=by, level=result.level, codes=result.tables.get("condition_codes"))
    groups = []
    keys = table[by].astype(str).agg(" / ".join, axis=1) if by else pd.Series("all scores", index=table.index)
    for key in dict.fromkeys(keys):
        rows = cells[keys == key]
        groups.append(
            {
                "key": key,
                "columns": [c for c in rows.columns if c not in by],
                "rows": rows.drop(columns=by).to_dict("records"),
                "ids": table.loc[rows.index, "coefficient"].tolist(),
                "sources": table.loc[rows.index, "interpretation_source"].tolist(),
            }
        )
    params = result.meta["parameters"]
    selection = {k: v for k, v in (params.get("selection") or {}).items() if v}
    n_units = numeric(table["n_units"])
    codes = result.tables.get("condition_codes")
    code_rows = (
        []
        if codes is None or codes.empty
        else [
            {
                "key": " / ".join(str(row[c]) for c in by) or "all scores",
                "code": row["condition_code"],
                "count": count(row["count"]),
            }
            for row in codes.to_dict("records")
        ]
    )
    return render_page(
        result,
        "agreement.html.j2",
        code_rows=code_rows,
        show_condition_codes=bool(code_rows),
        heading="Agreement",
        groups=groups,
        right=set(RIGHT),
        cards=[
            (len(groups), "groups"),
            (len(table["coefficient"].unique()), "coefficients"),
            (count(np.nanmax(n_units)) if np.isfinite(n_units).any() else "", "papers in the largest group"),
        ],
        footer_items=[
            ("grouped by", ", ".join(by) or "nothing"),
            *[(k, ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else v) for k, v in selection.items()],
        ],
        methods=[
            f"Intervals: {params.get('ci') or 'none'} at the {result.level:.0%} level.",
            "Units are work samples within a task and dimension; condition-coded scores are left out of the "
            "coefficients and counted in the notes.",
            *[f"Interpretation: {s}" for s in sources(table)],
        ],
        table_formats=table_formats,
    )
