"""The rater drift report (``irr drift``): flagged raters first with their evidence, one small
chart per rater (bias by block against the rater's baseline, control limits, the alarm marked).

Examples
--------
>>> shift_text(0.31, 0.12, 0.5)
'+0.31 [+0.12, +0.50]'
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from irr.report.formatting import count, is_missing, num, pct, signed
from irr.report.html import render_page
from irr.report.plots import numeric, pyplot, svg
from irr.report.terminal import text_table

__all__ = ["shift_text", "flag_rows", "charts", "terminal", "html"]

RIGHT = ("blocks", "scores", "baseline bias", "shift", "p (adj.)", "accuracy change", "accuracy p (adj.)")
_CHARTS_PER_FIGURE = 24


def shift_text(value: Any, low: Any, high: Any) -> str:
    if isinstance(value, str) or is_missing(value):
        return "" if is_missing(value) else value
    if is_missing(low) or is_missing(high) or isinstance(low, str):
        return signed(value)
    return f"{signed(value)} [{signed(low)}, {signed(high)}]"


def _p(value: Any) -> str:
    if isinstance(value, str) or is_missing(value):
        return "" if is_missing(value) else value
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def flag_rows(flags: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    cells = {
        "rater": flags["rater_id"].astype(str).tolist(),
        "finding": [d if d else "no change" for d in flags["direction"].fillna("").astype(str)],
        "from": flags["first_alarm"].fillna("").astype(str).tolist(),
        f"shift [{level:.0%} CI]": [
            shift_text(v, lo, hi) for v, lo, hi in zip(flags["shift"], flags["ci_low"], flags["ci_high"])
        ],
        "p (adj.)": [_p(v) for v in flags["p_adjusted"]],
        "baseline bias": [signed(v) for v in flags["baseline_bias"]],
        "accuracy change": [
            "" if is_missing(v) else (v if isinstance(v, str) else f"{100 * v:+.0f} pts")
            for v in flags["accuracy_change"]
        ],
        "blocks": [count(v) for v in flags["n_blocks"]],
        "scores": [count(v) for v in flags["n_scores"]],
        "reference": flags["reference"].astype(str).tolist(),
    }
    frame = pd.DataFrame(cells, index=flags.index)
    return frame[[c for c in frame.columns if c in ("rater", "finding") or (frame[c] != "").any()]]


def _figure(result, raters: Sequence[str]) -> str:
    series = result.tables["series"]
    flags = result.tables["flags"].set_index("rater_id")
    labels = result.meta.get("blocks", [])
    cols = 4
    rows = int(np.ceil(len(raters) / cols))
    plt = pyplot()
    fig, axes = plt.subplots(rows, cols, figsize=(10, 1.9 * rows), squeeze=False, sharex=True)
    for ax in axes.ravel()[len(raters) :]:
        ax.axis("off")
    for ax, rater in zip(axes.ravel(), raters):
        part = series[series["rater_id"] == rater]
        block = numeric(part["block"])
        bias = numeric(part["bias"])
        se = numeric(part["bias_se"])
        base = numeric(part["baseline"])
        flagged = bool(flags.loc[rater, "flagged"]) if rater in flags.index else False
        colour = "#b5382b" if flagged else "#1f4e79"
        if np.isfinite(base).any():
            ax.axhline(np.nanmean(base), color="#888888", lw=0.8, ls="--")
        ok = np.isfinite(bias)
        ax.errorbar(
            block[ok],
            bias[ok],
            yerr=1.96 * np.nan_to_num(se[ok]),
            fmt="o-",
            ms=3,
            lw=1,
            color=colour,
            ecolor="#bbbbbb",
            elinewidth=0.8,
        )
        low, high = numeric(part["lower_limit"]), numeric(part["upper_limit"])
        if result.meta["parameters"]["method"] in ("ewma", "shewhart") and np.isfinite(high).any():
            sd = np.sqrt(np.nan_to_num(se) ** 2)
            ax.fill_between(block, base + low * sd, base + high * sd, color="#eeeeee", zorder=0, step="mid")
        alarm = part["alarm"].map(lambda v: v is True or v == 1).to_numpy()
        if alarm.any():
            ax.axvline(block[alarm][0] - 0.5, color="#b5382b", lw=1)
        title = f"{rater}: {flags.loc[rater, 'direction']}" if flagged else str(rater)
        ax.set_title(title, fontsize=8, color=colour)
        ax.tick_params(labelsize=6)
        ax.axhline(0, color="#cccccc", lw=0.6)
    for ax in axes[-1]:
        ax.set_xlabel("block", fontsize=7)
    if labels and len(labels) <= 12:
        for ax in axes[-1]:
            ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=5)
    fig.supylabel("rater - reference (score points)", fontsize=8)
    fig.subplots_adjust(hspace=0.7, wspace=0.3)  # tight_layout would double the drawing time
    return svg(fig)


def charts(result) -> list[str]:
    """Small multiples of every rater's bias by block, flagged raters first (one SVG per page of 24)."""
    order = result.tables["flags"]["rater_id"].astype(str).tolist()
    return [_figure(result, order[i : i + _CHARTS_PER_FIGURE]) for i in range(0, len(order), _CHARTS_PER_FIGURE)]


def _summary(result) -> list[str]:
    flags = result.tables["flags"]
    flagged = flags[flags["flagged"].map(lambda v: v is True or v == 1)]
    if flagged.empty:
        return [f"No rater changed ({len(flags)} raters, {len(result.meta.get('blocks', []))} blocks)."]
    return [
        f"{r.rater_id}: {r.direction} from {r.first_alarm}"
        + (f", shift {shift_text(r.shift, r.ci_low, r.ci_high)}" if not is_missing(r.shift) else "")
        for r in flagged.itertuples(index=False)
    ]


def _methods(result) -> list[str]:
    p = result.meta["parameters"]
    method = p["method"]
    calibrated = " (threshold set so that a stable rater alarms with chance alpha / raters over the season)"
    if method == "changepoint":
        text = (
            "one shift in each rater's bias series (Hawkins 1977 max-type test; p-value from the statistic's "
            "simulated null distribution given the rater's block SEs), the same test on exact agreement ('less "
            f"accurate'); {p['multiplicity']} across raters and both tests at {p['alpha']:g}"
        )
    elif method == "cusum":
        text = f"two-sided CUSUM of the standardized bias (k = {p['k']:g}, h = {p['h']:.2f}; Page 1954){calibrated}"
    elif method == "ewma":
        text = f"EWMA of the standardized bias (lambda = {p['lambda']:g}, limits at {p['limit']:.2f} SDs; Roberts 1959){calibrated}"
    else:
        text = f"Shewhart chart of the standardized bias (limits at {p['limit']:.2f} SEs){calibrated}"
    used = ", ".join(f"{k} {v}" for k, v in result.meta.get("references_used", {}).items())
    return [
        "Drift is change: each rater is compared with the rater's own baseline (the opening "
        f"{p['baseline_blocks']} block(s)), so a rater lenient all along is not drift.",
        f"Bias = mean(rater - reference) per block, with a work-clustered SE; references used: {used}.",
        f"Detector: {text}.",
        *(
            [f"Also: exact agreement {p['exact_drop']:.0%} or more below the opening block's."]
            if p.get("exact_drop")
            else []
        ),
        f"Blocks with fewer than {p['min_block']} compared scores are left out of the tests.",
        *(
            [
                "Also: the many-facet Rasch model (works x raters x dimensions, joint maximum likelihood) with every "
                "rater x block interaction estimated with the main effects anchored (FACETS Table 13; positive = "
                f"harsher in that block than the rater's own severity), {p['multiplicity']} across all cells; "
                "a rater with a significant cell is flagged, the direction from the trend of the block biases."
            ]
            if p.get("mfrm")
            else []
        ),
    ]


def mfrm_rows(result) -> list[dict]:
    """The significant rater x block interactions, largest |t| first (empty without --mfrm)."""
    table = result.tables.get("mfrm")
    if table is None or table.empty:
        return []
    alpha = result.meta["parameters"]["alpha"]
    hits = table[table["p_adjusted"] < alpha]
    hits = hits.reindex(hits["t"].abs().sort_values(ascending=False).index)
    return [
        {
            "rater_id": row.rater_id,
            "block": row.block_label,
            "ratings": int(row.count),
            "bias (logits)": signed(row.bias),
            "t": num(row.t),
            "p (adjusted)": num(row.p_adjusted, 3),
        }
        for row in hits.itertuples()
    ]


def terminal(result) -> str:
    parts = [
        f"Rater drift ({result.meta['parameters']['method']}, {len(result.meta.get('blocks', []))} blocks by "
        f"{result.meta['parameters']['time']})",
        "",
        *_summary(result),
        "",
        text_table(flag_rows(result.tables["flags"], result.level), right=RIGHT),
        "",
        *_methods(result),
    ]
    privacy = (result.meta.get("privacy") or {}).get("description")
    if privacy:
        parts.append(f"({privacy}.)")
    return "\n".join(parts)


def html(result, table_formats: Sequence[str] = ("CSV", "JSON")) -> str:
    flags = result.tables["flags"]
    rows = flag_rows(flags, result.level)
    flagged = int(flags["flagged"].map(lambda v: v is True or v == 1).sum())
    return render_page(
        result,
        "drift.html.j2",
        heading="Rater drift",
        cards=[(len(flags), "raters"), (flagged, "changed"), (len(result.meta.get("blocks", [])), "blocks")],
        summary_lines=_summary(result),
        charts=charts(result),
        flags={"columns": list(rows.columns), "rows": rows.to_dict("records")},
        right=set(RIGHT) | {f"shift [{result.level:.0%} CI]"},
        methods=_methods(result),
        mfrm=mfrm_rows(result),
        footer_items=[("method", result.meta["parameters"]["method"]), ("time", result.meta["parameters"]["time"])],
        table_formats=table_formats,
        pct=pct,
    )
