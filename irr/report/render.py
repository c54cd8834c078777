"""Reports of any analysis result: the terminal text, and the files (HTML, CSV, JSON, XLSX).

The renderer of a result is the module ``irr.report.<result.kind>``, which defines
``terminal(result) -> str`` and ``html(result) -> str``; both receive the result after
:func:`irr.report.privacy.apply_privacy`, so anonymising and suppression are the same in every
output.  A new analysis adds one such module; everything else here is shared.

Files written by :func:`write_report` into ``out_dir``:

* ``KIND-report.html`` -- one self-contained page (inline CSS and SVG, no external URL);
* ``tables/NAME.csv``, ``tables/NAME.json`` (and ``tables/tables.xlsx``) -- every table of the
  result, the numbers behind each chart, formulas neutralised;
* ``provenance.json`` -- the result's ``meta``: parameters, level, data files with SHA-256,
  sessions, version, what was dropped, what privacy was applied.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Sequence

from irr.analysis.result import AnalysisResult
from irr.report.privacy import Privacy, apply_privacy
from irr.report.tables import TABLE_FORMATS, write_tables

__all__ = ["FORMATS", "FILE_FORMATS", "render_terminal", "render_html", "write_report", "renderer"]

FORMATS = ("terminal", "html", *TABLE_FORMATS)
FILE_FORMATS = ("html", *TABLE_FORMATS)


def renderer(result: AnalysisResult):
    """The report module of the result's kind."""
    try:
        return importlib.import_module(f"irr.report.{result.kind}")
    except ModuleNotFoundError as exc:  # a result kind without a report module is a programming error
        raise LookupError(f"no report module irr.report.{result.kind} for results of kind {result.kind!r}") from exc


def render_terminal(result: AnalysisResult, privacy: Privacy = Privacy()) -> str:
    """The plain-text report."""
    return renderer(result).terminal(apply_privacy(result, privacy))


def render_html(
    result: AnalysisResult, privacy: Privacy = Privacy(), table_formats: Sequence[str] = ("csv", "json")
) -> str:
    """The HTML page as text."""
    return renderer(result).html(apply_privacy(result, privacy), table_formats=[f.upper() for f in table_formats])


def _json_safe(value):
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def write_report(
    result: AnalysisResult,
    out_dir: str | Path,
    *,
    formats: Sequence[str] = ("html", "csv", "json"),
    privacy: Privacy = Privacy(),
) -> dict[str, Path]:
    """Write the report files into ``out_dir``; returns the paths written by kind
    (``html``, ``tables``, ``provenance``)."""
    unknown = [f for f in formats if f not in FILE_FORMATS]
    if unknown:
        raise ValueError(f"unknown report format(s) {unknown}; choose from {FILE_FORMATS}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shown = apply_privacy(result, privacy)
    table_formats = [f for f in formats if f in TABLE_FORMATS]
    written: dict[str, Path] = {}
    if "html" in formats:
        path = out_dir / f"{result.kind}-report.html"
        path.write_text(renderer(shown).html(shown, table_formats=[f.upper() for f in table_formats]), encoding="utf-8")
        written["html"] = path
    if table_formats:
        write_tables(shown.tables, out_dir / "tables", formats=table_formats)
        written["tables"] = out_dir / "tables"
    path = out_dir / "provenance.json"
    path.write_text(json.dumps(_json_safe(dict(shown.meta)), indent=1), encoding="utf-8")
    written["provenance"] = path
    return written
