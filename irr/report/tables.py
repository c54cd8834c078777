"""The one table writer: CSV, JSON and XLSX, with spreadsheet formulas neutralised.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (CSV injection, OWASP).  Every text cell that starts so is written with a
leading apostrophe, which spreadsheets show as text; numbers (negative ones included) stay
numbers.  JSON is not run by spreadsheets and keeps the text as it is.

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"rater_id": ['=HYPERLINK("http://x","y")', "T01"], "mean_diff": [-0.5, 0.25]})
>>> neutralise(t)["rater_id"].tolist(), neutralise(t)["mean_diff"].tolist()
(['\\'=HYPERLINK("http://x","y")', 'T01'], [-0.5, 0.25])
>>> to_csv_text(t).splitlines()[1]
'"\\'=HYPERLINK(""http://x"",""y"")",-0.5'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "neutralise",
    "neutralise_value",
    "to_csv_text",
    "to_json_text",
    "write_tables",
    "TABLE_FORMATS",
    "FORMULA_STARTS",
]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TABLE_FORMATS = ("csv", "json", "xlsx")


def neutralise_value(value):
    """``'=1+1'`` -> ``"'=1+1"``; anything that is not such a text is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise(table: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells (and column names) cannot run as spreadsheet formulas."""
    out = table.copy()
    for col in out.columns:
        series = out[col]
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            out[col] = series.map(neutralise_value)
    out.columns = [neutralise_value(str(c)) for c in out.columns]
    return out


def to_csv_text(table: pd.DataFrame) -> str:
    return neutralise(table).to_csv(index=False)


def _json_ready(table: pd.DataFrame) -> list[dict]:
    records = table.astype(object).where(table.notna(), None).to_dict("records")
    for row in records:
        for key, value in row.items():
            if isinstance(value, np.generic):
                row[key] = value.item()
            if isinstance(value, float) and not np.isfinite(value):
                row[key] = None
    return records


def to_json_text(table: pd.DataFrame) -> str:
    """Records as JSON; NaN and <NA> as null."""
    return json.dumps(_json_ready(table), indent=1, default=str)


def _sheet_name(name: str, used: set[str]) -> str:
    base = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "table"
    candidate, i = base, 2
    while candidate in used:
        candidate = f"{base[:28]}_{i}"
        i += 1
    used.add(candidate)
    return candidate


def write_tables(
    tables: Mapping[str, pd.DataFrame],
    directory: str | Path,
    *,
    formats: Sequence[str] = ("csv", "json"),
    workbook: str = "tables.xlsx",
) -> list[Path]:
    """Write every table: ``NAME.csv`` and ``NAME.json`` per table, one ``tables.xlsx`` with a sheet each."""
    unknown = [f for f in formats if f not in TABLE_FORMATS]
    if unknown:
        raise ValueError(f"unknown table format(s) {unknown}; choose from {TABLE_FORMATS}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in tables.items():
        if "csv" in formats:
            path = directory / f"{name}.csv"
            path.write_text(to_csv_text(table), encoding="utf-8")
            written.append(path)
        if "json" in formats:
            path = directory / f"{name}.json"
            path.write_text(to_json_text(table), encoding="utf-8")
            written.append(path)
    if "xlsx" in formats and tables:
        path = directory / workbook
        used: set[str] = set()
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, table in tables.items():
                neutralise(table.astype(object).where(table.notna(), None)).to_excel(
                    writer, sheet_name=_sheet_name(name, used), index=False
                )
        written.append(path)
    return written
