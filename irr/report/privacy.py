"""Anonymising raters and suppressing small cells, for any analysis result.

What each column of a result's tables is (counts, the number of works or scores behind a
row, rater ids, individual records) is declared by the analysis
(:class:`irr.analysis.result.TableColumns`); this module applies the rules to every table,
so the terminal, the HTML (plots included), CSV, JSON and XLSX all show the same cells.

* ``anonymize``: rater ids become ``Rater 01``, ``Rater 02``, ... (in sorted order of the
  ids, one mapping for the whole result), and columns that identify raters indirectly
  (their district) are dropped.
* ``suppress_below=k``: a count from 1 to k-1 becomes the text ``"<k"``; in a row based on
  fewer than k works or scores every other number (rates, means, intervals, flags) is
  blanked too; tables of individual scores are left out.  Zero counts stay (they identify
  nobody).  A table that declares a ``suppressed_label`` (``"suppressed (n < {k})"``) shows
  that text in every suppressed cell instead, counts included.
* ``public``: both, with k = 10 unless another k is given.

Examples
--------
>>> import pandas as pd
>>> from irr.analysis.result import AnalysisResult, TableColumns
>>> r = AnalysisResult("x", "x", {"t": pd.DataFrame({"rater_id": ["b", "a"], "n": [12, 3],
...                                                 "exact": [0.75, 1.0]})},
...                    columns={"t": TableColumns(counts=("n",), support="n")})
>>> apply_privacy(r, Privacy(anonymize=True, suppress_below=10)).tables["t"]
   rater_id    n  exact
0  Rater 02   12   0.75
1  Rater 01  <10    NaN
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from irr.analysis.result import AnalysisResult

__all__ = ["Privacy", "apply_privacy", "suppressed_text", "PUBLIC_SUPPRESS_BELOW"]

PUBLIC_SUPPRESS_BELOW = 10


@dataclass(frozen=True)
class Privacy:
    """How identifiable a report may be."""

    anonymize: bool = False
    suppress_below: int | None = None

    @classmethod
    def from_options(
        cls, *, public: bool = False, anonymize: bool = False, suppress_below: int | None = None
    ) -> "Privacy":
        if public:
            return cls(anonymize=True, suppress_below=suppress_below or PUBLIC_SUPPRESS_BELOW)
        return cls(
            anonymize=anonymize, suppress_below=suppress_below if suppress_below and suppress_below > 1 else None
        )

    @property
    def active(self) -> bool:
        return self.anonymize or bool(self.suppress_below)

    def describe(self) -> str:
        parts = []
        if self.anonymize:
            parts.append("raters anonymised")
        if self.suppress_below:
            parts.append(f"numbers from fewer than {self.suppress_below} works or scores suppressed")
        return "; ".join(parts)


def suppressed_text(k: int) -> str:
    return f"<{k}"


def _rater_mapping(result: AnalysisResult) -> dict:
    ids: set = set()
    for name, table in result.tables.items():
        for col in result.columns_of(name).raters:
            if col in table:
                ids.update(v for v in table[col].dropna().unique())
    return {r: f"Rater {i + 1:02d}" for i, r in enumerate(sorted(ids, key=str))}


def _anonymize(result: AnalysisResult) -> dict[str, pd.DataFrame]:
    mapping = _rater_mapping(result)
    tables = {}
    for name, table in result.tables.items():
        spec = result.columns_of(name)
        changes = {col: table[col].map(mapping) for col in spec.raters if col in table}
        table = table.assign(**changes) if changes else table
        drop = [c for c in spec.drop_when_anonymized if c in table]
        tables[name] = table.drop(columns=drop) if drop else table
    return tables


def _suppress_counts_in_text(text, k: int):
    """``"units with one rating: 3"`` -> ``"units with one rating: <10"``."""
    if not isinstance(text, str):
        return text
    return re.sub(r": (\d+)\b", lambda m: f": {suppressed_text(k)}" if 0 < int(m.group(1)) < k else m.group(0), text)


def _suppress_table(table: pd.DataFrame, spec, k: int) -> pd.DataFrame:
    out = table.copy()
    small_row = np.zeros(len(out), dtype=bool)
    if spec.support and spec.support in out:
        support = pd.to_numeric(out[spec.support], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        small_row = support < k
    label = spec.suppressed_label.format(k=k) if spec.suppressed_label else ""
    if small_row.any():
        derived = [
            c
            for c in out.columns
            if (c not in spec.counts or label)
            and c not in spec.fixed
            and (pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_bool_dtype(out[c]))
        ]
        for col in derived:
            if label:  # every number of the row becomes the label, counts included
                out[col] = out[col].astype(object).where(~small_row, label)
            elif pd.api.types.is_float_dtype(out[col]):
                out[col] = out[col].where(~small_row, np.nan)
            else:  # integers and flags: no NaN of their own
                out[col] = out[col].astype(object).where(~small_row, None)
        for col in spec.texts:  # words that quote the row's numbers go with them
            if col in out:
                out[col] = out[col].astype(object).where(~small_row, label)
    for col in spec.count_texts:
        if col in out:
            out[col] = out[col].map(lambda text: _suppress_counts_in_text(text, k))
    for col in spec.counts:
        if col not in out:
            continue
        values = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        small = (values > 0) & (values < k)
        if small.any():
            out[col] = out[col].astype(object).where(~small, label or suppressed_text(k))
    return out


def apply_privacy(result: AnalysisResult, privacy: Privacy) -> AnalysisResult:
    """The result with raters anonymised and small cells suppressed as ``privacy`` asks.

    The returned result's ``meta["privacy"]`` says what was done and which tables were left
    out; the numbers of the original result are not changed.
    """
    if not privacy.active:
        return result
    tables = _anonymize(result) if privacy.anonymize else dict(result.tables)
    left_out = []
    if privacy.suppress_below:
        k = privacy.suppress_below
        for name in list(tables):
            spec = result.columns_of(name)
            if spec.records:
                left_out.append(name)
                del tables[name]
            else:
                tables[name] = _suppress_table(tables[name], spec, k)
    return result.with_tables(
        tables,
        privacy={
            "anonymize": privacy.anonymize,
            "suppress_below": privacy.suppress_below,
            "tables_left_out": left_out,
            "description": privacy.describe(),
        },
    )
