"""Rendering a :class:`~irr.analysis.calibration.CalibrationResult`.

* :func:`render_terminal` -- aligned text: raters with PASS/FAIL, papers to discuss,
  group agreement.
* :func:`write_html` -- one self-contained file (inline CSS and SVG, no external
  URL), printable; every user-provided string is escaped by Jinja2's autoescape
  and by matplotlib's SVG writer.
* :func:`write_tables` -- every table as CSV and JSON beside the HTML, so the
  numbers behind each chart can be audited.

``suppress_below=k`` replaces counts from 1 to k-1 by "<k" (public reports);
``anonymize=True`` replaces rater ids by "Rater 01", ... .
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
import io
import re
import textwrap
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from irr import __version__
from irr.analysis.calibration import CalibrationResult
from irr.report.agreement import annotate, display_rows, render_table

__all__ = ["Provenance", "render_terminal", "write_html", "write_tables", "write_report", "prepare"]



def _pyplot():
    """matplotlib's pyplot, imported on first use (it takes longer to import than the rest of the CLI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "font.family": "sans-serif"})
    return plt


def _percent_axis(ax) -> None:
    from matplotlib.ticker import PercentFormatter

    ax.xaxis.set_major_formatter(PercentFormatter(1.0))


@dataclass(frozen=True)
class Provenance:
    """What a report was made from (printed in its footer)."""

    files: Sequence[Mapping[str, str]] = ()        # name, sha256
    generated_at: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    toolkit_version: str = __version__
    task_version: str = ""


def prepare(result: CalibrationResult, *, anonymize: bool = False) -> CalibrationResult:
    """A copy of the result with rater ids replaced by "Rater 01".. when ``anonymize``."""
    if not anonymize:
        return result
    ids = sorted(result.raters["rater_id"])
    mapping = {r: f"Rater {i + 1:02d}" for i, r in enumerate(ids)}
    tables = {}
    for name, table in result.tables().items():
        if "rater_id" in table:
            table = table.assign(rater_id=table["rater_id"].map(mapping))
        if "rater_district" in table:
            table = table.drop(columns="rater_district")
        tables[name] = table
    return replace(result, **tables)


def _suppress(value, k: int | None):
    if k and isinstance(value, (int, np.integer)) and 0 < value < k:
        return f"<{k}"
    return value


def _pct(x) -> str:
    return "" if pd.isna(x) else f"{100 * x:.0f}%"


def _signed(x) -> str:
    return "" if pd.isna(x) else f"{x:+.2f}"


def _num(x, digits=2) -> str:
    return "" if pd.isna(x) else f"{x:.{digits}f}"


def group_agreement(result: CalibrationResult) -> pd.DataFrame:
    """The group agreement table with names, reasons and the profile's interpretation (see
    :func:`irr.report.agreement.annotate`); numbers as computed."""
    return annotate(result.group_agreement, profile=result.profile,
                    scale_points=lambda row: len(result.scales.get(row.dimension, ())) or None)


def _sources(annotated: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(s.rstrip(".") for s in annotated["interpretation_source"] if s))


def _dimension_order(result: CalibrationResult, frame: pd.DataFrame) -> pd.DataFrame:
    order = {d: i for i, d in enumerate(result.dimensions)}
    return frame.sort_values("dimension", key=lambda s: s.map(order), kind="stable")


# ------------------------------------------------------------------ terminal
def render_terminal(result: CalibrationResult, *, suppress_below: int | None = None, width: int = 100) -> str:
    """Plain-text summary: raters (PASS/FAIL, reasons), papers to discuss, group agreement."""
    lines = []
    head = f"Calibration: {result.task_id} ({result.rubric_ref})"
    if result.session_id:
        head += f" - session {result.session_id}"
    lines += [head, f"Profile: {result.profile.id} - {result.profile.title}",
              f"{result.n_raters} raters, {result.n_papers} anchor papers, {len(result.dimensions)} dimensions; "
              f"{result.n_qualified} of {result.n_raters} qualify", ""]
    cols = ["RATER", "DISTRICT", "N", "EXACT", "ADJ", "DISC", "MEAN DIFF", "KAPPA", "STATUS"]
    rows = [[r.rater_id, (r.rater_district if "rater_district" in result.raters else "") or "", str(r.n),
             _pct(r.exact), _pct(r.exact_adjacent), str(r.discrepant), _signed(r.mean_diff),
             _num(r.kappa_quadratic), r.status] for r in result.raters.itertuples()]
    coded = not result.condition_codes.empty
    if coded:   # a column only when some rater used a condition code
        cols.insert(-1, "CODED")
        for row, r in zip(rows, result.raters.itertuples()):
            row.insert(-1, str(r.condition_coded))
    widths = [max(len(c), *(len(str(row[i])) for row in rows)) for i, c in enumerate(cols)]
    fmt = "  ".join(f"{{:{'<' if i < 2 else '>'}{w}}}" for i, w in enumerate(widths))
    lines.append(fmt.format(*cols))
    for r, row in zip(result.raters.itertuples(), rows):
        lines.append(fmt.format(*row))
        notes = [n for n in (r.reasons, r.effects) if isinstance(n, str) and n]
        if notes:
            lines.append(" " * 4 + " | ".join(notes))
    lines.append("")
    discuss = result.papers_to_discuss()
    lines.append(f"Papers to discuss ({len(discuss)}), in order:")
    if discuss.empty:
        lines.append("  none: the room agrees with the consensus on every paper and dimension")
    dist = result.distribution.set_index(["work_id", "dimension", "score"])["count"]
    for p in discuss.itertuples():
        scale = result.scales[p.dimension]
        counts = " ".join(f"{s}:{_suppress(int(dist.get((p.work_id, p.dimension, s), 0)), suppress_below)}"
                          for s in scale)
        counts += "".join(f" {code}:{_suppress(n, suppress_below)}" for code, n in _paper_codes(result, p))
        lines.append(f"  {p.discussion_rank:>2}. {p.work_id} {p.dimension:<14} consensus {p.consensus}  "
                     f"match {_pct(p.exact):>4}  scores [{counts}]  ({p.split_reason})")
    lines.append("")
    if coded:
        lines += _terminal_codes(result, suppress_below)
    annotated = group_agreement(result)
    shown = display_rows(_dimension_order(result, annotated), by=["dimension"], level=result.level)
    shown = shown[[c for c in shown.columns if c in ("dimension", "coefficient", "estimate", "interpretation", "note")
                   or c.endswith(" CI")]]
    lines.append(f"Group agreement ({result.level:.0%} CI):")
    lines += ["  " + line for line in render_table(shown).splitlines()]
    sources = _sources(annotated)
    if sources:
        lines.append("  Interpretation sources:")
        lines += [textwrap.fill(src, width, initial_indent="    - ", subsequent_indent="      ") for src in sources]
    return "\n".join(lines)


def _paper_codes(result: CalibrationResult, paper) -> list[tuple[str, int]]:
    codes = result.condition_codes
    sub = codes[(codes["work_id"] == paper.work_id) & (codes["dimension"] == paper.dimension)]
    return [(str(c), int(n)) for c, n in sub["condition_code"].value_counts().items()]


def _terminal_codes(result: CalibrationResult, suppress_below) -> list[str]:
    codes = result.condition_codes
    lines = [f"Condition codes ({len(codes)} score{'s' if len(codes) != 1 else ''}; never agreement with a "
             "numeric consensus; "
             "left out of the group coefficients):"]
    for key, label in ((["rater_id"], "by rater"), (["work_id", "dimension"], "by paper")):
        counts = codes.groupby([*key, "condition_code"]).size()
        parts = {}
        for index, n in counts.items():
            *who, code = index
            parts.setdefault(" ".join(map(str, who)), []).append(f"{code} {_suppress(int(n), suppress_below)}")
        lines.append(f"  {label}: " + "; ".join(f"{who} ({', '.join(v)})" for who, v in parts.items()))
    lines.append("")
    return lines


# --------------------------------------------------------------------- plots
def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    _pyplot().close(fig)
    text = buf.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)   # creator/date: not needed inline
    return text[text.index("<svg"):]


def _accuracy_histogram(result: CalibrationResult) -> str:
    """For large sessions: distribution of exact agreement with the profile's thresholds."""
    raters = result.raters
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 2.8))
    bins = np.linspace(0, 1, 41)
    ax.hist(raters["exact"][raters["status"] == "PASS"], bins=bins, color="#2b7a3d", label="qualifies")
    ax.hist(raters["exact"][raters["status"] != "PASS"], bins=bins, color="#b5382b", alpha=0.8,
            label="does not qualify")
    for rule in result.profile.rules:
        if rule.scope == "overall" and rule.min is not None and rule.metric == "exact":
            ax.axvline(rule.min, ls="--", lw=1, color="#1f4e99", label=f"exact target {rule.min:.0%}")
    ax.set_xlabel("exact agreement with the anchors' consensus scores")
    ax.set_ylabel("raters")
    _percent_axis(ax)
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(f"Rater accuracy, {len(raters)} raters ({result.profile.id} thresholds)", fontsize=9)
    return _svg(fig)


def _accuracy_plot(result: CalibrationResult) -> str:
    if len(result.raters) > 80:
        return _accuracy_histogram(result)
    return _svg(_accuracy_figure(result))


def _accuracy_figure(result: CalibrationResult):
    """Each rater's exact and exact + adjacent agreement, with the profile's thresholds."""
    raters = result.raters.sort_values("exact")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 0.22 * len(raters) + 1.2))
    y = np.arange(len(raters))
    ax.hlines(y, raters["exact"], raters["exact_adjacent"], color="#bbbbbb", lw=2)
    passed = raters["status"] == "PASS"
    ax.scatter(raters["exact"][passed], y[passed], color="#2b7a3d", zorder=3, label="exact (qualifies)")
    ax.scatter(raters["exact"][~passed], y[~passed], color="#b5382b", zorder=3, label="exact (does not qualify)")
    ax.scatter(raters["exact_adjacent"], y, color="#555555", marker="|", s=80, zorder=3, label="exact + adjacent")
    shown = [r for r in result.profile.rules
             if r.scope == "overall" and r.min is not None and r.metric in ("exact", "exact_adjacent")]
    # thresholds are named in the legend: text drawn above the axes collided with the title
    for rule in shown:
        ax.axvline(rule.min, ls="--", lw=1, color="#1f4e99" if rule.metric == "exact" else "#777777",
                   label=f"{'exact' if rule.metric == 'exact' else 'exact + adjacent'} target {rule.min:.0%}")
    ax.set_ylim(-0.7, len(raters) - 0.3)
    ax.set_yticks(y, raters["rater_id"].astype(str))
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("agreement with the anchors' consensus scores")
    _percent_axis(ax)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 - 1.5 / (len(raters) + 6)), ncol=3, fontsize=7,
              frameon=False)
    ax.set_title(f"Rater accuracy against the consensus ({result.profile.id} thresholds)", fontsize=9)
    return fig


def _heatmap(result: CalibrationResult) -> str:
    papers = result.papers
    order = list(dict.fromkeys(papers["work_id"]))
    grid = papers.pivot(index="work_id", columns="dimension", values="exact").reindex(index=order,
                                                                                       columns=list(result.dimensions))
    cons = papers.pivot(index="work_id", columns="dimension", values="consensus").reindex(index=order,
                                                                                          columns=list(result.dimensions))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.2 * len(result.dimensions) + 2.2, 0.32 * len(order) + 1.2))
    im = ax.imshow(grid.to_numpy(dtype=float), cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            v = grid.iat[i, j]
            if not pd.isna(v):
                ax.text(j, i, f"{v:.0%}\n({int(cons.iat[i, j])})", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(result.dimensions)), list(result.dimensions))
    ax.set_yticks(range(len(order)), order)
    fig.colorbar(im, ax=ax, fraction=0.04, label="share matching consensus")
    ax.set_title("Anchor papers: share of the room matching the consensus (consensus score)", fontsize=9)
    return _svg(fig)


def _confusions(result: CalibrationResult) -> str:
    dims = list(result.dimensions)
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(dims), figsize=(2.4 * len(dims), 2.6), squeeze=False)
    for ax, dim in zip(axes[0], dims):
        scale = list(result.scales[dim])
        sub = result.confusion[result.confusion["dimension"] == dim]
        mat = sub.pivot(index="consensus", columns="score", values="count").reindex(index=scale, columns=scale)
        mat = mat.fillna(0).to_numpy()
        ax.imshow(mat, cmap="Blues")
        for i in range(len(scale)):
            for j in range(len(scale)):
                ax.text(j, i, int(mat[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if mat[i, j] > mat.max() / 2 else "black")
        ax.set_xticks(range(len(scale)), scale)
        ax.set_yticks(range(len(scale)), scale)
        ax.set_xlabel("rater score")
        ax.set_ylabel("consensus")
        ax.set_title(dim, fontsize=9)
    fig.tight_layout()
    return _svg(fig)


# ---------------------------------------------------------------------- HTML
def _environment() -> Environment:
    return Environment(loader=PackageLoader("irr.report", "templates"),
                       autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)


def write_html(result: CalibrationResult, path: str | Path, *, provenance: Provenance | None = None,
               suppress_below: int | None = None) -> Path:
    """Write the self-contained HTML report."""
    path = Path(path)
    provenance = provenance or Provenance()
    dist = result.distribution.set_index(["work_id", "dimension", "score"])["count"]
    papers = []
    for p in result.papers_to_discuss().itertuples():
        counts = [(s, _suppress(int(dist.get((p.work_id, p.dimension, s), 0)), suppress_below))
                  for s in result.scales[p.dimension]]
        counts += [(code, _suppress(n, suppress_below)) for code, n in _paper_codes(result, p)]
        papers.append({"rank": p.discussion_rank, "work_id": p.work_id, "dimension": p.dimension,
                       "consensus": p.consensus, "match": _pct(p.exact), "counts": counts,
                       "reason": p.split_reason, "position": p.position, "role": p.role})
    raters = [{**r._asdict(), "exact_pct": _pct(r.exact), "adjacent_pct": _pct(r.exact_adjacent),
               "ci_txt": f"[{_num(r.mean_diff_ci_low)}, {_num(r.mean_diff_ci_high)}]",
               "mean_diff_txt": _signed(r.mean_diff),
               "kappa_txt": _num(r.kappa_quadratic), "decision_txt": _pct(r.decision)}
              for r in result.raters.itertuples(index=False)]
    annotated = group_agreement(result)
    cells = display_rows(annotated, by=["dimension"], level=result.level)
    ci_head = next(c for c in cells.columns if c.endswith(" CI"))
    agreement = []
    for dim in result.dimensions:
        at = annotated.index[annotated["dimension"] == dim]
        agreement.append({"dimension": dim, "name": result.dimension_names.get(dim, dim), "rows": [
            {"coefficient": annotated.at[i, "coefficient"], "name": annotated.at[i, "name"],
             "estimate": cells.at[i, "estimate"], "ci": cells.at[i, ci_head],
             "se": cells.at[i, "SE"] if "SE" in cells else "", "n": cells.at[i, "papers"] if "papers" in cells else "",
             "interpretation": annotated.at[i, "interpretation"], "source": annotated.at[i, "interpretation_source"],
             "note": annotated.at[i, "note"]} for i in at]})
    show_note = bool((annotated["note"] != "").any())
    codes = _html_codes(result, suppress_below)
    html = _environment().get_template("calibration.html.j2").render(
        r=result, raters=raters, papers=papers, agreement=agreement, provenance=provenance,
        accuracy_svg=_accuracy_plot(result), heatmap_svg=_heatmap(result), confusion_svg=_confusions(result),
        suppress_below=suppress_below, level_pct=int(result.level * 100), show_note=show_note, codes=codes,
        sources=_sources(annotated),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def _html_codes(result: CalibrationResult, suppress_below) -> dict:
    """Condition-code counts by rater and by paper for the HTML (empty when none were used)."""
    codes = result.condition_codes
    if codes.empty:
        return {}
    out = {"n": len(codes)}
    for key, name in ((["rater_id"], "raters"), (["work_id", "dimension"], "papers")):
        counts = codes.groupby([*key, "condition_code"]).size()
        rows: dict[str, list[str]] = {}
        for index, n in counts.items():
            *who, code = index
            rows.setdefault(" ".join(map(str, who)), []).append(f"{code}: {_suppress(int(n), suppress_below)}")
        out[name] = [(who, ", ".join(v)) for who, v in rows.items()]
    return out


def write_tables(result: CalibrationResult, directory: str | Path, *, suppress_below: int | None = None,
                 formats: Sequence[str] = ("csv", "json")) -> list[Path]:
    """Every table of the result as CSV and JSON (numbers behind the charts)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in result.tables().items():
        if name == "group_agreement":    # raw numbers, plus names, reasons and interpretation
            table = group_agreement(result)
        if suppress_below:
            table = table.copy()
            for col in ("count",):
                if col in table:
                    table[col] = table[col].map(lambda v: _suppress(int(v), suppress_below))
        if "csv" in formats:
            table.to_csv(directory / f"{name}.csv", index=False)
            written.append(directory / f"{name}.csv")
        if "json" in formats:
            (directory / f"{name}.json").write_text(table.to_json(orient="records", indent=1), encoding="utf-8")
            written.append(directory / f"{name}.json")
    return written


def write_report(result: CalibrationResult, out_dir: str | Path, *, provenance: Provenance | None = None,
                 formats: Sequence[str] = ("html", "csv", "json"), suppress_below: int | None = None,
                 anonymize: bool = False) -> dict[str, Path]:
    """HTML + tables into ``out_dir``; returns the paths written by kind."""
    out_dir = Path(out_dir)
    result = prepare(result, anonymize=anonymize)
    written: dict[str, Path] = {}
    if "html" in formats:
        written["html"] = write_html(result, out_dir / "calibration-report.html", provenance=provenance,
                                     suppress_below=suppress_below)
    if "csv" in formats or "json" in formats:
        write_tables(result, out_dir / "tables", suppress_below=suppress_below,
                     formats=[f for f in formats if f in ("csv", "json")])
        written["tables"] = out_dir / "tables"
    meta = {"task": result.task_id, "rubric": result.rubric_ref, "profile": result.profile.id,
            "session": result.session_id, "toolkit_version": __version__,
            "files": list(provenance.files) if provenance else []}
    (out_dir / "provenance.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return written
