"""The auditors file of a district peer-review audit, and the assignments file written for them.

:func:`read_auditors` reads the list of auditors (CSV or .xlsx, one row per auditor, columns
``rater_id`` and ``rater_district``; other columns are ignored; headers match without regard to
case or surrounding spaces).  Every problem is reported at once, each with its file, row (the
spreadsheet's row number, the header being row 1), field and fix.

:func:`write_assignments` writes the audit sample (:func:`irr.analysis.audit.audit_sample`'s
``assignments``) as CSV or .xlsx, byte for byte the same file for the same content: CSV in
UTF-8 with CRLF line ends (RFC 4180); a workbook whose document properties and zip entry
times are fixed, so that a re-run with the same seed can be checked with a checksum.  Text
cells that a spreadsheet would run as a formula are written with a leading apostrophe
(:func:`irr.io.export.neutralise_formulas`).

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "auditors.csv").write_text("rater_id,rater_district,email\\nA1,Seacoast,a@x\\nA2,Granite,b@x\\n")
>>> read_auditors(folder / "auditors.csv")
  rater_id rater_district
0       A1       Seacoast
1       A2        Granite
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pandas as pd

from irr.errors import Problem, ValidationError
from irr.io.export import neutralise_formulas

__all__ = ["read_auditors", "write_assignments", "AUDITOR_COLUMNS", "FIXED_TIMESTAMP"]

AUDITOR_COLUMNS = ("rater_id", "rater_district")
# the date stamped into a workbook and its zip entries (zip times start in 1980)
FIXED_TIMESTAMP = dt.datetime(2000, 1, 1, 0, 0, 0)
_MAX_SHOWN = 20


def _reject(name: str, problems: list[Problem]) -> ValidationError:
    if len(problems) > _MAX_SHOWN:
        problems = problems[:_MAX_SHOWN] + [Problem(name, f"... and {len(problems) - _MAX_SHOWN} more problems")]
    return ValidationError(problems, summary=f"{name}: the auditors file was not read")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an id typed as a number in a spreadsheet
    return str(value)


def _grid(path: Path) -> list[list[str]]:
    """The file's rows as text cells (header first)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for damaged files
            raise _reject(
                path.name,
                [
                    Problem(
                        path.name,
                        f"cannot read the Excel file ({type(exc).__name__})",
                        fix="re-export it from the spreadsheet as .xlsx or CSV",
                    )
                ],
            ) from None
        try:
            sheet = book.worksheets[0]
            return [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    if suffix not in (".csv", ".txt"):
        raise _reject(
            path.name,
            [
                Problem(
                    path.name, f"unsupported file type '{path.suffix}'", fix="save the auditors list as .csv or .xlsx"
                )
            ],
        )
    import csv

    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _reject(
            path.name, [Problem(path.name, "the file is not UTF-8 text", fix="save it as CSV UTF-8")]
        ) from None
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""), strict=True)]
    except csv.Error as exc:
        raise _reject(path.name, [Problem(path.name, f"malformed CSV: {exc}", fix="re-export it as CSV")]) from None


def read_auditors(path: str | Path) -> pd.DataFrame:
    """The auditors of an audit: one row per auditor, ``rater_id`` and ``rater_district`` (text).

    Raises
    ------
    ValidationError
        The file cannot be read, lacks a column, has a blank cell or lists an auditor twice;
        each :class:`~irr.errors.Problem` names the file, row and field and says what to do.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise _reject(
            name, [Problem(str(path), "no such file", fix="give the path of the auditors list (CSV or .xlsx)")]
        )
    # rows numbered as a spreadsheet shows them (the header is row 1); blank rows are not auditors
    numbered = [(i + 1, row) for i, row in enumerate(_grid(path)) if any(cell.strip() for cell in row)]
    rows = [row for _, row in numbered]
    if not rows:
        raise _reject(
            name, [Problem(name, "the file is empty", row=1, fix="write a header row: rater_id,rater_district")]
        )
    header = [cell.strip().lower() for cell in rows[0]]
    missing = [c for c in AUDITOR_COLUMNS if c not in header]
    if missing:
        raise _reject(
            name,
            [
                Problem(
                    name,
                    f"no '{column}' column (the header reads {', '.join(repr(c) for c in rows[0])})",
                    row=1,
                    field=column,
                    fix=f"add a '{column}' column: one row per auditor with rater_id and rater_district",
                )
                for column in missing
            ],
        )
    at = {column: header.index(column) for column in AUDITOR_COLUMNS}
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    records = []
    for line, row in numbered[1:]:  # an auditors list has tens of rows: a look at each is cheap
        cells = {c: (row[i].strip() if i < len(row) else "") for c, i in at.items()}
        for column, value in cells.items():
            if not value:
                problems.append(
                    Problem(
                        name,
                        f"blank {column}",
                        row=line,
                        field=column,
                        fix="fill it in or delete the row"
                        + (
                            " (an auditor's district decides which districts' work they may rescore)"
                            if column == "rater_district"
                            else ""
                        ),
                    )
                )
        rid = cells["rater_id"]
        if rid and rid in seen:
            problems.append(
                Problem(
                    name,
                    f"auditor '{rid}' is listed again (first on row {seen[rid]})",
                    row=line,
                    field="rater_id",
                    fix="list each auditor once (delete the repeat or correct the id)",
                )
            )
        elif rid:
            seen[rid] = line
        records.append(cells)
    if not records:
        problems.append(Problem(name, "the file lists no auditors", row=2, fix="add one row per auditor"))
    if problems:
        raise _reject(name, problems)
    return pd.DataFrame(records, columns=list(AUDITOR_COLUMNS)).astype("str")


def write_assignments(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write the assignments (any table) as ``.csv`` or ``.xlsx``: the same content, the same bytes."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValidationError(
            [Problem(str(path), f"cannot write a '{path.suffix}' file", fix="name the file .csv or .xlsx")]
        )
    safe = neutralise_formulas(frame)
    safe.columns = [str(c) for c in safe.columns]
    if suffix == ".csv":
        path.write_bytes(safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8"))
        return path
    path.write_bytes(_xlsx_bytes(safe))
    return path


def _xlsx_bytes(frame: pd.DataFrame) -> bytes:
    import openpyxl
    from openpyxl.writer.excel import ExcelWriter

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "assignments"
    sheet.append(list(frame.columns))
    for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False):
        sheet.append([v.item() if hasattr(v, "item") else v for v in row])
    book.properties.creator = "irr-toolkit"
    book.properties.created = book.properties.modified = FIXED_TIMESTAMP
    buffer = io.BytesIO()
    # ExcelWriter rather than Workbook.save, which stamps the current time as 'modified'
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()
    # the zip entries carry the time they were written: rewrite them with a fixed one
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIMESTAMP.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()
