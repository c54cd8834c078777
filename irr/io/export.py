"""Writing tables for spreadsheets safely (CSV and .xlsx), and as a Parquet dataset for Dask."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["neutralise_formulas", "write_scores", "write_scores_parquet"]

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


def write_scores_parquet(df: pd.DataFrame, folder: str | Path, partition_by: str = "session_id") -> Path:
    """Write scores as a Parquet dataset with pyarrow, one folder per ``partition_by`` value.

    ``folder/session_id=S/part-0.parquet``: what ``dask.dataframe.read_parquet(folder)``
    (or any Arrow reader) reads back, one partition per session, so a cluster computing
    agreement ``by="session_id"`` finds each unit's ratings in one partition (no shuffle of the
    ratings; a shuffle of the unit keys still checks it, units being unsorted within a session).  Values are written as they
    are (Parquet is not opened by spreadsheets, so no formula neutralising).  Writing a
    session again replaces its partition; other sessions' partitions are kept.
    Needs the ``dask`` extra (``pip install irr-toolkit[dask]``) for pyarrow.
    """
    from irr.errors import DataError, IrrError

    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - the extra is missing
        raise IrrError("Parquet export needs pyarrow: pip install 'irr-toolkit[dask]'") from None
    folder = Path(folder)
    if partition_by not in df.columns:
        raise DataError(f"column {partition_by!r} not in the scores; columns are {list(df.columns)}")
    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    # exporting a session again replaces its partition (as a CSV export replaces the file): appending
    # would hold its rows twice; other sessions' partitions in the folder are kept
    pq.write_to_dataset(
        table, root_path=str(folder), partition_cols=[partition_by], existing_data_behavior="delete_matching"
    )
    return folder
