"""Writing tables for spreadsheets safely (CSV and .xlsx)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["neutralise_formulas", "write_scores"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells a spreadsheet would run as a formula with an apostrophe.

    Numbers are left alone (a negative score is data, not a formula); text such
    as ``=cmd|' /C calc'!A0`` becomes ``'=cmd|' /C calc'!A0`` (OWASP CSV injection).
    """
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            text = out[col].astype("string")
            risky = text.str.startswith(_FORMULA_START).fillna(False)
            out[col] = out[col].where(~risky, "'" + text)
    return out


def write_scores(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a table of scores as CSV or ``.xlsx`` (by the suffix), formulas neutralised.

    It writes the columns it is given: personal data -- the ``flag_*``
    subgroup flags and the pseudonymous ``student_id`` -- is in the table only
    when it was read with ``Store.scores(include_flags=True)`` (``irr export
    --include-flags``).
    """
    path = Path(path)
    safe = neutralise_formulas(df)
    if path.suffix.lower() == ".xlsx":
        safe.to_excel(path, index=False, engine="openpyxl")
    else:
        # CRLF line ends (RFC 4180): the writer then quotes every cell holding a CR or LF, which it
        # leaves bare with pandas' default "\n" (a bare CR splits the row in a spreadsheet)
        safe.to_csv(path, index=False, lineterminator="\r\n")
    return path
