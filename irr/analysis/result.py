"""The one shape of every analysis result: tables of numbers, metadata, and the report's sections.

Every analysis in :mod:`irr.analysis` returns an :class:`AnalysisResult` (or a subclass that
adds convenience properties):

* ``tables`` -- named DataFrames of raw numbers (proportions as 0.64, not "64%"; flags as
  booleans; thresholds as columns or in ``meta``).  Formatting belongs to :mod:`irr.report`.
* ``meta`` -- the parameters, the confidence level, the data's provenance (files with SHA-256,
  session ids), the package version, what was dropped and why.
* ``sections`` -- what the report shows, in order (as RSMTool's report sections): each names
  the tables it is built from, so a report can be assembled from pieces and every number on
  the page can be traced to a CSV.
* ``columns`` -- for each table, which columns are counts of works or scores, which column is
  the number of works or scores behind a row, which hold rater ids and which are personal
  records: what :mod:`irr.report.privacy` needs to suppress small cells and anonymise raters
  without knowing the analysis.

Examples
--------
>>> import pandas as pd
>>> r = AnalysisResult(kind="example", title="An example", tables={"t": pd.DataFrame({"n": [3]})},
...                    meta={"level": 0.9}, sections=(Section("main", "Main", ("t",)),))
>>> r.level, list(r.tables), r.sections[0].tables
(0.9, ['t'], ('t',))
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import pandas as pd

from irr._version import __version__

__all__ = ["AnalysisResult", "Section", "TableColumns", "make_meta"]


@dataclass(frozen=True)
class Section:
    """One section of a report: an id (the HTML anchor), a title, the tables it shows."""

    id: str
    title: str
    tables: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class TableColumns:
    """What the columns of one table are, for privacy.

    counts   columns holding counts of works or scores (a cell below N is suppressed)
    support  the column giving the number of works or scores behind each row (when it is
             below N, every other number of the row is suppressed too)
    raters   columns holding rater ids (replaced by "Rater 01", ... when anonymising)
    drop_when_anonymized  columns that identify raters indirectly (e.g. their district)
    fixed    numeric columns that describe the row rather than measure it (a consensus score,
             a position): never suppressed
    count_texts  text columns of ``"reason: n; reason: n"`` counts (the ``dropped`` column of an
             agreement table): each n below N is suppressed too
    records  the table lists individual scores (left out of suppressed reports)
    suppressed_label  text for every suppressed cell, with ``{k}`` for the minimum (e.g.
             ``"suppressed (n < {k})"``); empty: counts show as ``"<k"`` and other numbers are blanked
    texts    text columns derived from the row's numbers (a flag that quotes a measure): blanked
             (or given the label) with the row's numbers
    """

    counts: tuple[str, ...] = ()
    support: str | None = None
    fixed: tuple[str, ...] = ()
    count_texts: tuple[str, ...] = ()
    raters: tuple[str, ...] = ("rater_id",)
    drop_when_anonymized: tuple[str, ...] = ("rater_district",)
    records: bool = False
    suppressed_label: str = ""
    texts: tuple[str, ...] = ()


def _frozen(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class AnalysisResult:
    """Result of an analysis (see the module docstring)."""

    kind: str
    title: str
    tables: Mapping[str, pd.DataFrame]
    meta: Mapping[str, Any] = field(default_factory=dict)
    sections: tuple[Section, ...] = ()
    columns: Mapping[str, TableColumns] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tables", _frozen(self.tables))
        object.__setattr__(self, "meta", _frozen(self.meta))
        object.__setattr__(self, "columns", _frozen(self.columns))
        for section in self.sections:
            unknown = [t for t in section.tables if t not in self.tables]
            if unknown:
                raise ValueError(f"section {section.id!r} names unknown table(s) {unknown}")

    @property
    def level(self) -> float:
        """The confidence level of every interval in the result."""
        return float(self.meta.get("level", 0.95))

    @property
    def dropped(self) -> Mapping[str, int]:
        """Rows left out of the analysis, by reason."""
        return self.meta.get("dropped", {})

    def columns_of(self, table: str) -> TableColumns:
        return self.columns.get(table, TableColumns())

    def with_tables(self, tables: Mapping[str, pd.DataFrame], **meta: Any) -> "AnalysisResult":
        """A copy with other tables (e.g. anonymised) and more metadata."""
        from dataclasses import replace

        sections = tuple(replace(s, tables=tuple(t for t in s.tables if t in tables)) for s in self.sections)
        return replace(self, tables=tables, meta={**self.meta, **meta}, sections=sections)


def make_meta(
    *,
    analysis: str,
    level: float,
    parameters: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    dropped: Mapping[str, int] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The ``meta`` of a result: what was asked, from what data, by which version, what was left out.

    ``provenance`` holds what the data came from: ``files`` (a list of ``{"name", "sha256"}``)
    and ``sessions`` (ids); :func:`irr.analysis.provenance.store_provenance` reads them from
    a store.
    """
    provenance = dict(provenance or {})
    return {
        "analysis": analysis,
        "level": float(level),
        "parameters": dict(parameters or {}),
        "files": list(provenance.get("files", ())),
        "sessions": list(provenance.get("sessions", ())),
        "toolkit_version": __version__,
        "generated_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "dropped": dict(dropped or {}),
        **extra,
    }
