"""The calibration report: what is calibration's own (its texts, its figures, its page).

Everything shared -- privacy, number formats, the table writer, the base page, plot
helpers -- comes from the other :mod:`irr.report` modules; :func:`irr.report.render.write_report`
and :func:`irr.report.render.render_terminal` call :func:`terminal` and :func:`html` here with
the result already anonymised / suppressed as asked.

* :func:`rater_reasons`, :func:`rater_effects`, :func:`split_reasons` -- the sentences behind
  PASS/FAIL, rater effects and papers to discuss, written from the result's flags and checks.
* :func:`terminal` -- raters with PASS/FAIL, papers to discuss, condition codes, group agreement.
* :func:`html` -- the page: raters with the accuracy chart, papers with the heatmap,
  condition codes, group agreement with the confusion matrices.
"""

from __future__ import annotations

import textwrap
from typing import Sequence

import numpy as np
import pandas as pd

from irr.analysis.calibration import PROPORTION_METRICS, CalibrationResult
from irr.report.agreement import display_rows, render_table, sources
from irr.report.formatting import count, is_missing, num, pct, plural, signed
from irr.report.html import render_page
from irr.report.plots import count_heatmap, numeric, percent_axis, pyplot, svg

__all__ = ["terminal", "html", "rater_reasons", "rater_effects", "split_reasons"]


# --------------------------------------------------------------------- texts
def _check_value(metric: str, value) -> str:
    return pct(value) if metric in PROPORTION_METRICS else count(value)


def rater_reasons(result: CalibrationResult) -> pd.Series:
    """Per rater id: every failed rule, e.g. ``"exact 79% (needs >= 85%)"``, joined by ``"; "``."""
    checks = result.checks[~result.checks["passed"].astype(bool)]
    text = [
        f"{c.metric}{' on ' + c.dimension if c.dimension else ''} "
        f"{_check_value(c.metric, c.value if c.metric in PROPORTION_METRICS else c.count)} "
        f"({'needs >=' if c.bound == 'min' else 'allows <='} {_check_value(c.metric, c.limit)})"
        for c in checks.itertuples()
    ]
    joined = pd.Series(text, index=checks.index, dtype=object).groupby(checks["rater_id"], sort=False).agg("; ".join)
    return result.raters["rater_id"].map(joined).fillna("").set_axis(result.raters["rater_id"])


def rater_effects(result: CalibrationResult) -> pd.Series:
    """Per rater id: ``"lenient (+0.57); central tendency (70% middle vs 40%)"``, or ``""``."""
    labels = {}
    for row in result.effects.itertuples():
        items = []
        if isinstance(row.severity, str) and row.severity:
            items.append(f"{row.severity} ({signed(row.mean_diff)})")
        if row.central_tendency is True or row.central_tendency is np.True_:
            items.append(f"central tendency ({pct(row.middle_share)} middle vs {pct(row.consensus_middle_share)})")
        if row.restricted_range is True or row.restricted_range is np.True_:
            items.append(f"restricted range (SD ratio {num(row.sd_ratio)})")
        labels[row.rater_id] = "; ".join(items)
    drift = result.tables.get("drift")
    if drift is not None:  # the raters' drift across the store's sessions (irr drift)
        for row in drift.itertuples():
            if row.flagged is True or row.flagged is np.True_:
                text = f"drift across sessions: {row.direction} from {row.first_alarm}"
                if isinstance(row.shift, float) and np.isfinite(row.shift):
                    text += f" ({signed(row.shift)})"
                labels[row.rater_id] = "; ".join(t for t in (labels.get(row.rater_id, ""), text) if t)
    return result.raters["rater_id"].map(labels).fillna("").set_axis(result.raters["rater_id"])


def _paper_codes(result: CalibrationResult) -> dict[tuple, list[tuple[str, object]]]:
    """(work_id, dimension) -> [(code, count)], most frequent first."""
    codes = result.tables.get("codes_by_paper")
    out: dict[tuple, list] = {}
    if codes is None or codes.empty:
        return out
    codes = codes.assign(_n=numeric(codes["count"]))
    for key, sub in codes.groupby(["work_id", "dimension"], sort=False):
        sub = sub.sort_values("_n", ascending=False, kind="stable")
        out[key] = list(zip(sub["condition_code"], sub["count"]))
    return out


def split_reasons(result: CalibrationResult) -> pd.Series:
    """Per row of ``papers``: why it splits the room (``""`` when it does not)."""
    codes = _paper_codes(result)
    reasons = []
    for p in result.papers.itertuples():
        low, both = bool(p.low_agreement), bool(p.both_sides)
        main = (
            "low agreement; scores on both sides"
            if low and both
            else "low agreement with consensus"
            if low
            else "scores on both sides"
            if both
            else ""
        )
        code = ""
        if bool(p.code_split):
            listed = ", ".join(f"{c} {count(n)}" for c, n in codes.get((p.work_id, p.dimension), []))
            code = (
                f"condition-coded ({listed}) where the consensus is {p.consensus}"
                if not isinstance(p.consensus, str)
                else f"consensus is the code {p.consensus}; {count(p.n_code_mismatch)} of {count(p.n)} raters differ"
            )
        reasons.append("; ".join(t for t in (main, code) if t))
    return pd.Series(reasons, index=result.papers.index, dtype=object)


def _suppress_below(result) -> int | None:
    return (result.meta.get("privacy") or {}).get("suppress_below")


def _room_counts(result: CalibrationResult, paper) -> list[tuple[object, str]]:
    """The room's scores of one paper and dimension: (score point or code, count text)."""
    dist = result.distribution
    dist = dist[(dist["work_id"] == paper.work_id) & (dist["dimension"] == paper.dimension)]
    by_score = dict(zip(dist["score"], dist["count"]))
    counts: list[tuple[object, str]] = [(s, count(by_score.get(s, 0))) for s in result.scales[paper.dimension]]
    counts += [(c, count(n)) for c, n in _paper_codes(result).get((paper.work_id, paper.dimension), [])]
    return counts


def _dimension_order(result: CalibrationResult, frame: pd.DataFrame) -> pd.DataFrame:
    order = {d: i for i, d in enumerate(result.dimensions)}
    return frame.sort_values("dimension", key=lambda s: s.map(order), kind="stable")


def _codes_by(result: CalibrationResult, name: str, keys: list[str]) -> list[tuple[str, list[str]]]:
    table = result.tables.get(name)
    if table is None or table.empty:
        return []
    parts: dict[str, list[str]] = {}
    for row in table.itertuples(index=False):
        who = " ".join(str(getattr(row, k)) for k in keys)
        parts.setdefault(who, []).append(f"{row.condition_code} {count(row.count)}")
    return list(parts.items())


def _has_codes(result: CalibrationResult) -> bool:
    table = result.tables.get("codes_by_rater")
    return table is not None and not table.empty


# ------------------------------------------------------------------ terminal
def terminal(result: CalibrationResult, width: int = 100) -> str:
    """Plain-text summary: raters (PASS/FAIL, reasons), papers to discuss, group agreement."""
    lines = []
    head = f"Calibration: {result.task_id} ({result.rubric_ref})"
    if result.session_id:
        head += f" - session {result.session_id}"
    lines += [
        head,
        f"Profile: {result.profile.id} - {result.profile.title}",
        f"{result.n_raters} raters, {result.n_papers} anchor papers, {len(result.dimensions)} dimensions; "
        f"{result.n_qualified} of {result.n_raters} qualify",
        "",
    ]
    raters = result.raters
    reasons, effects = rater_reasons(result), rater_effects(result)
    cols = ["RATER", "DISTRICT", "N", "EXACT", "ADJ", "DISC", "MEAN DIFF", "KAPPA", "STATUS"]
    rows = [
        [
            str(r.rater_id),
            (r.rater_district if "rater_district" in raters else "") or "",
            count(r.n),
            pct(r.exact),
            pct(r.exact_adjacent),
            count(r.discrepant),
            signed(r.mean_diff),
            num(r.kappa_quadratic),
            r.status,
        ]
        for r in raters.itertuples()
    ]
    coded = _has_codes(result)
    if coded:  # a column only when some rater used a condition code
        cols.insert(-1, "CODED")
        for row, r in zip(rows, raters.itertuples()):
            row.insert(-1, count(r.condition_coded))
    widths = [max(len(c), *(len(str(row[i])) for row in rows)) for i, c in enumerate(cols)]
    fmt = "  ".join(f"{{:{'<' if i < 2 else '>'}{w}}}" for i, w in enumerate(widths))
    lines.append(fmt.format(*cols))
    for r, row in zip(raters.itertuples(), rows):
        lines.append(fmt.format(*row))
        notes = [n for n in (reasons[r.rater_id], effects[r.rater_id]) if n]
        if notes:
            lines.append(" " * 4 + " | ".join(notes))
    lines.append("")
    discuss = result.papers_to_discuss()
    why = split_reasons(result)
    lines.append(f"Papers to discuss ({len(discuss)}), in order:")
    if discuss.empty:
        lines.append("  none: the room agrees with the consensus on every paper and dimension")
    for i, p in zip(discuss.index, discuss.itertuples()):
        counts = " ".join(f"{s}:{c}" for s, c in _room_counts(result, p))
        lines.append(
            f"  {p.discussion_rank:>2}. {p.work_id} {p.dimension:<14} consensus {p.consensus}  "
            f"match {pct(p.exact):>4}  scores [{counts}]  ({why[i]})"
        )
    lines.append("")
    if coded:
        n = int(numeric(result.tables["codes_by_rater"]["count"]).sum()) if not _suppress_below(result) else None
        total = plural(n, "score") + "; " if n is not None else ""
        lines.append(
            f"Condition codes ({total}never agreement with a numeric consensus; left out of the group coefficients):"
        )
        for name, keys, label in (
            ("codes_by_rater", ["rater_id"], "by rater"),
            ("codes_by_paper", ["work_id", "dimension"], "by paper"),
        ):
            lines.append(
                f"  {label}: " + "; ".join(f"{who} ({', '.join(v)})" for who, v in _codes_by(result, name, keys))
            )
        lines.append("")
    annotated = _dimension_order(result, result.group_agreement)
    shown = display_rows(annotated, by=["dimension"], level=result.level, codes=_codes_per_dimension(result))
    shown = shown[
        [
            c
            for c in shown.columns
            if c in ("dimension", "coefficient", "estimate", "interpretation", "note") or c.endswith(" CI")
        ]
    ]
    lines.append(f"Group agreement ({result.level:.0%} CI):")
    lines += ["  " + line for line in render_table(shown).splitlines()]
    used = sources(annotated)
    if used:
        lines.append("  Interpretation sources:")
        lines += [textwrap.fill(src, width, initial_indent="    - ", subsequent_indent="      ") for src in used]
    privacy = (result.meta.get("privacy") or {}).get("description")
    if privacy:
        lines += ["", f"({privacy}.)"]
    return "\n".join(lines)


def _codes_per_dimension(result: CalibrationResult) -> pd.DataFrame | None:
    return result.tables.get("codes_by_dimension")


# --------------------------------------------------------------------- plots
def _accuracy_histogram(result: CalibrationResult) -> str:
    """For large sessions: distribution of exact agreement with the profile's thresholds."""
    raters = result.raters
    exact = numeric(raters["exact"])
    passed = (raters["status"] == "PASS").to_numpy()
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 2.8))
    bins = np.linspace(0, 1, 41)
    ax.hist(exact[passed & np.isfinite(exact)], bins=bins, color="#2b7a3d", label="qualifies")
    ax.hist(exact[~passed & np.isfinite(exact)], bins=bins, color="#b5382b", alpha=0.8, label="does not qualify")
    for rule in result.profile.rules:
        if rule.scope == "overall" and rule.min is not None and rule.metric == "exact":
            ax.axvline(rule.min, ls="--", lw=1, color="#1f4e99", label=f"exact target {rule.min:.0%}")
    ax.set_xlabel("exact agreement with the anchors' consensus scores")
    ax.set_ylabel("raters")
    percent_axis(ax)
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(f"Rater accuracy, {len(raters)} raters ({result.profile.id} thresholds)", fontsize=9)
    return svg(fig)


def accuracy_figure(result: CalibrationResult):
    """Each rater's exact and exact + adjacent agreement, with the profile's thresholds."""
    raters = result.raters.assign(
        _exact=numeric(result.raters["exact"]), _adjacent=numeric(result.raters["exact_adjacent"])
    ).sort_values("_exact")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 0.22 * len(raters) + 1.2))
    y = np.arange(len(raters))
    ax.hlines(y, raters["_exact"], raters["_adjacent"], color="#bbbbbb", lw=2)
    passed = (raters["status"] == "PASS").to_numpy()
    ax.scatter(raters["_exact"][passed], y[passed], color="#2b7a3d", zorder=3, label="exact (qualifies)")
    ax.scatter(raters["_exact"][~passed], y[~passed], color="#b5382b", zorder=3, label="exact (does not qualify)")
    ax.scatter(raters["_adjacent"], y, color="#555555", marker="|", s=80, zorder=3, label="exact + adjacent")
    shown = [
        r
        for r in result.profile.rules
        if r.scope == "overall" and r.min is not None and r.metric in ("exact", "exact_adjacent")
    ]
    # thresholds are named in the legend: text drawn above the axes collided with the title
    for rule in shown:
        ax.axvline(
            rule.min,
            ls="--",
            lw=1,
            color="#1f4e99" if rule.metric == "exact" else "#777777",
            label=f"{'exact' if rule.metric == 'exact' else 'exact + adjacent'} target {rule.min:.0%}",
        )
    ax.set_ylim(-0.7, len(raters) - 0.3)
    ax.set_yticks(y, raters["rater_id"].astype(str))
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("agreement with the anchors' consensus scores")
    percent_axis(ax)
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.12 - 1.5 / (len(raters) + 6)), ncol=3, fontsize=7, frameon=False
    )
    ax.set_title(f"Rater accuracy against the consensus ({result.profile.id} thresholds)", fontsize=9)
    return fig


def _accuracy_plot(result: CalibrationResult) -> str:
    if len(result.raters) > 80:
        return _accuracy_histogram(result)
    return svg(accuracy_figure(result))


def _heatmap(result: CalibrationResult) -> str:
    papers = result.papers.assign(_exact=numeric(result.papers["exact"]))
    order = list(dict.fromkeys(papers["work_id"]))
    dims = list(result.dimensions)
    grid = papers.pivot(index="work_id", columns="dimension", values="_exact").reindex(index=order, columns=dims)
    cons = papers.pivot(index="work_id", columns="dimension", values="consensus").reindex(index=order, columns=dims)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(1.2 * len(dims) + 2.2, 0.32 * len(order) + 1.2))
    im = ax.imshow(grid.to_numpy(dtype=float), cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            v, c = grid.iat[i, j], cons.iat[i, j]
            if not pd.isna(v):
                ax.text(j, i, f"{v:.0%}\n({c})", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(dims)), dims)
    ax.set_yticks(range(len(order)), order)
    fig.colorbar(im, ax=ax, fraction=0.04, label="share matching consensus")
    ax.set_title("Anchor papers: share of the room matching the consensus (consensus score)", fontsize=9)
    return svg(fig)


def _confusions(result: CalibrationResult) -> str:
    dims = list(result.dimensions)
    plt = pyplot()
    fig, axes = plt.subplots(1, len(dims), figsize=(2.4 * len(dims), 2.6), squeeze=False)
    confusion = result.confusion
    for ax, dim in zip(axes[0], dims):
        scale = list(result.scales[dim])
        sub = confusion[confusion["dimension"] == dim]
        cells = {(c, s): n for c, s, n in zip(sub["consensus"], sub["score"], sub["count"])}
        count_heatmap(ax, [[cells.get((c, s), 0) for s in scale] for c in scale])
        ax.set_xticks(range(len(scale)), scale)
        ax.set_yticks(range(len(scale)), scale)
        ax.set_xlabel("rater score")
        ax.set_ylabel("consensus")
        ax.set_title(dim, fontsize=9)
    fig.tight_layout()
    return svg(fig)


# ---------------------------------------------------------------------- HTML
def html(result: CalibrationResult, table_formats: Sequence[str] = ("CSV", "JSON")) -> str:
    """The self-contained HTML page."""
    why = split_reasons(result)
    papers = [
        {
            "rank": p.discussion_rank,
            "work_id": p.work_id,
            "dimension": p.dimension,
            "consensus": p.consensus,
            "match": pct(p.exact),
            "counts": _room_counts(result, p),
            "reason": why[i],
            "position": p.position,
            "role": p.role,
        }
        for i, p in zip(result.papers_to_discuss().index, result.papers_to_discuss().itertuples())
    ]
    reasons, effects = rater_reasons(result), rater_effects(result)
    raters = [
        {
            "rater_id": r.rater_id,
            "rater_district": getattr(r, "rater_district", None),
            "n": count(r.n),
            "exact_pct": pct(r.exact),
            "adjacent_pct": pct(r.exact_adjacent),
            "discrepant": count(r.discrepant),
            "ci_txt": (
                "" if is_missing(r.mean_diff_ci_low) else f"[{num(r.mean_diff_ci_low)}, {num(r.mean_diff_ci_high)}]"
            ),
            "mean_diff_txt": signed(r.mean_diff),
            "kappa_txt": num(r.kappa_quadratic),
            "decision_txt": pct(r.decision),
            "status": r.status,
            "reasons": reasons[r.rater_id],
            "effects": effects[r.rater_id],
        }
        for r in result.raters.itertuples(index=False)
    ]
    annotated = result.group_agreement
    cells = display_rows(annotated, by=["dimension"], level=result.level, codes=_codes_per_dimension(result))
    ci_head = next(c for c in cells.columns if c.endswith(" CI"))
    agreement = []
    for dim in result.dimensions:
        at = annotated.index[annotated["dimension"] == dim]
        agreement.append(
            {
                "dimension": dim,
                "name": result.dimension_names.get(dim, dim),
                "rows": [
                    {
                        "coefficient": annotated.at[i, "coefficient"],
                        "name": annotated.at[i, "name"],
                        "estimate": cells.at[i, "estimate"],
                        "ci": cells.at[i, ci_head],
                        "se": cells.at[i, "SE"] if "SE" in cells else "",
                        "n": cells.at[i, "papers"] if "papers" in cells else "",
                        "interpretation": cells.at[i, "interpretation"] if "interpretation" in cells else "",
                        "source": annotated.at[i, "interpretation_source"],
                        "note": cells.at[i, "note"] if "note" in cells else "",
                    }
                    for i in at
                ],
            }
        )
    show_note = "note" in cells
    coded = _has_codes(result)
    codes = (
        {
            "raters": [(who, ", ".join(v)) for who, v in _codes_by(result, "codes_by_rater", ["rater_id"])],
            "papers": [(who, ", ".join(v)) for who, v in _codes_by(result, "codes_by_paper", ["work_id", "dimension"])],
        }
        if coded
        else {}
    )
    return render_page(
        result,
        "calibration.html.j2",
        heading=result.title,
        page_title=f"Calibration report: {result.task_id}" + (f" - {result.session_id}" if result.session_id else ""),
        cards=[
            (f"{result.n_qualified} / {result.n_raters}", "raters qualify"),
            (result.n_papers, "anchor papers"),
            (len(papers), "paper-dimensions to discuss"),
        ],
        footer_items=[("task", result.task_id), ("rubric", result.rubric_ref), ("profile", result.profile.id)],
        methods=[
            f"Intervals at the {result.level:.0%} level: t intervals for mean differences; "
            f"{result.meta['parameters'].get('ci', 'analytic')} intervals for the group coefficients.",
            f"Qualification profile {result.profile.id}: {result.meta['profile']['source']}",
            result.meta.get("thresholds_source", ""),
        ],
        table_formats=table_formats,
        show_condition_codes=coded,
        show_effects=False,
        raters=raters,
        papers=papers,
        agreement=agreement,
        show_note=show_note,
        codes=codes,
        show_district="rater_district" in result.raters,
        level_pct=int(round(result.level * 100)),
        accuracy_svg=_accuracy_plot(result),
        heatmap_svg=_heatmap(result),
        confusion_svg=_confusions(result),
        sources=sources(annotated),
    )
