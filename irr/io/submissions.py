"""Read and validate one scorer submission file against the bank.

A submission is a CSV (UTF-8, with or without BOM, or ``encoding=``) or
``.xlsx`` score sheet in one of two layouts:

* **long**: one row per score -- ``rater_id, work_id, task_id, dimension, score``;
* **wide**: one row per rater x work sample -- ``rater_id, work_id, task_id`` and
  one column per rubric dimension id;

plus the optional columns of :data:`irr.model.session.OPTIONAL_COLUMNS` and
``flag_*`` subgroup columns.  Validation is vectorised (pandas) and collects
every problem with its file line number; one problem rejects the whole file.
The same problem on many rows is one line naming the rows (``rows 2-41``).

The columns that describe the work rather than the score -- ``work_district``,
``school``, ``student_id`` (:data:`irr.model.session.WORK_COLUMNS`) and every
``flag_*`` column -- hold one value on all rows of a ``work_id`` (a blank on one
row and a value on another disagree); the store checks them against the works
it already holds (:meth:`irr.store.Store.write_submission`).

A score cell holds a score point or one of the dimension's declared condition
codes (``blank``, ``off_topic``, ...; matched case-insensitively with ``-`` and
spaces read as ``_``).  An empty cell of the wide layout is *not scored*: no
score row, counted in :attr:`Submission.n_not_scored`.  In ``.xlsx`` sheets a
formula cell is read by the value the spreadsheet saved with it; a formula with
no saved value is a problem naming the cell.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence, cast

import numpy as np
import pandas as pd
import yaml

from irr.errors import IrrError, Problem, SubmissionError, ValidationError
from irr.model.bank import Bank
from irr.model.rubric import normalise_condition_code
from irr.model.session import (
    FLAG_PREFIX,
    OPTIONAL_COLUMNS,
    RATER_ROLES,
    READ_TYPES,
    REQUIRED_COLUMNS,
    SCORE_KEY,
    WORK_COLUMNS,
    Session,
    default_read_type,
    session_from_mapping,
)

__all__ = [
    "Submission",
    "read_submission",
    "read_sheets",
    "read_manifest",
    "parse_column_map",
    "STORED_COLUMNS",
    "RowsProblem",
    "SCORE_KEY",
]

STORED_COLUMNS = ("rater_id", "work_id", "task_id", "dimension", "score", "condition_code", *OPTIONAL_COLUMNS)
MAX_SHOWN = 200  # distinct problems listed per file before "... and N more"
MAX_RANGES = 8  # row ranges listed in one grouped problem


@dataclass(frozen=True)
class RowsProblem(Problem):
    """The same problem on several rows: ``file, rows 2-41, 45, column 'task_id': ...``.

    ``row`` is the first of ``rows`` (problems sort by it).
    """

    rows: tuple[int, ...] = ()

    def __str__(self) -> str:
        where = f"{self.file}, rows {_row_ranges(self.rows)}"
        if self.column:
            where += f", column '{self.column}'"
        text = f"{where}: {self.message}"
        return text + (f" -> {self.fix}" if self.fix else "")


def _row_ranges(rows: Sequence[int]) -> str:
    """``[2, 3, 4, 9, 11, 12]`` -> ``'2-4, 9, 11-12'`` (en dashes), at most MAX_RANGES ranges."""
    unique = np.unique(np.asarray(rows, dtype=np.int64))
    breaks = np.flatnonzero(np.diff(unique) != 1) + 1
    runs = np.split(unique, breaks)
    parts = [f"{r[0]}" if r.size == 1 else f"{r[0]}–{r[-1]}" for r in runs[:MAX_RANGES]]
    rest = int(sum(r.size for r in runs[MAX_RANGES:]))
    return ", ".join(parts) + (f" and {rest} more" if rest else "")


class _Problems:
    """Problems of one file, collected per row in arrays and grouped when the file is rejected."""

    def __init__(self, name: str):
        self.name = name
        self.single: list[Problem] = []
        self.parts: list[pd.DataFrame] = []
        self.order: dict[str, int] = {}  # header position of each column: problems of a row in file order

    def add(self, problem: Problem) -> None:
        self.single.append(problem)

    def add_rows(self, rows, columns, texts, fix) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        self.parts.append(
            pd.DataFrame(
                {
                    "row": rows,
                    "column": np.broadcast_to(np.asarray(columns, dtype=object), rows.shape),
                    "text": np.broadcast_to(np.asarray(texts, dtype=object), rows.shape),
                    "fix": np.broadcast_to(np.asarray(fix, dtype=object), rows.shape),
                }
            )
        )

    def __bool__(self) -> bool:
        return bool(self.single or self.parts)

    def problems(self) -> list[Problem]:
        out = list(self.single)
        if self.parts:
            table = pd.concat(self.parts, ignore_index=True).drop_duplicates()
            for (column, text, fix), rows in table.groupby(["column", "text", "fix"], sort=False)["row"]:
                rows = np.sort(rows.to_numpy())
                if rows.size == 1:
                    out.append(Problem(self.name, text, row=int(rows[0]), column=column, fix=fix))
                else:
                    out.append(
                        RowsProblem(
                            self.name, text, row=int(rows[0]), column=column, fix=fix, rows=tuple(int(r) for r in rows)
                        )
                    )
        out.sort(key=lambda p: (p.row if p.row is not None else 0, self.order.get(p.column or "", -1)))
        if len(out) > MAX_SHOWN:
            out = out[:MAX_SHOWN] + [Problem(self.name, f"... and {len(out) - MAX_SHOWN} more problems")]
        return out


def _formatted(template: str, values: np.ndarray) -> np.ndarray:
    """``template.format(value=v)`` for each value, formatting each distinct value once."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    return np.array([template.format(value=u) for u in uniques] or [""], dtype=object)[codes]


class _Factorized:
    """The text columns of a frame, each factorized once (when first used).

    A check of a column of 1,000,000 cells with 400 distinct values runs on the 400 values and
    is mapped back to the rows by code: the answer of the check on every cell, for a pass over
    integers (hashing and comparing Python strings was most of the validation time).
    """

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self._done: dict[str, tuple[np.ndarray, pd.Series]] = {}

    def __getitem__(self, column: str) -> tuple[np.ndarray, pd.Series]:
        """``(codes, values)``: ``values.iloc[codes]`` is the column; values in order of first row."""
        if column not in self._done:
            codes, values = pd.factorize(self.frame[column], use_na_sentinel=False)
            self._done[column] = (codes, pd.Series(values))
        return self._done[column]

    def map(self, column: str, check) -> np.ndarray:
        """``check(values)`` (elementwise, on the distinct values) for every row."""
        codes, values = self[column]
        return np.asarray(check(values))[codes]

    def values(self, column: str, rows) -> np.ndarray:
        """The cells of ``rows`` (a mask or positions) as an object array."""
        codes, values = self[column]
        return values.to_numpy(dtype=object)[codes[rows]]

    def codes(self, column: str) -> tuple[np.ndarray, list]:
        codes, values = self[column]
        return codes, values.tolist()

    def replace(self, column: str, change) -> None:
        """Set the column to ``change(values)`` (elementwise), keeping its codes."""
        codes, values = self[column]
        new = change(values)
        self.frame[column] = new.array.take(codes)
        new_codes, new_values = pd.factorize(new, use_na_sentinel=False)  # values that became equal merge
        self._done[column] = (new_codes[codes], pd.Series(new_values))

    def _key(self, columns) -> np.ndarray:
        """One int64 per row, equal where the rows agree on every column."""
        key = np.zeros(len(self.frame), dtype=np.int64)
        span = 1
        for column in columns:
            codes, values = self[column]
            size = max(len(values), 1)
            if span * size >= 2**62:  # renumber the combinations seen so far: no overflow
                key, seen = pd.factorize(key)
                span = max(len(seen), 1)
            key = key * size + codes
            span *= size
        return key

    def combos(self, *columns: str) -> tuple[np.ndarray, np.ndarray]:
        """Codes of the distinct combinations of the columns' values (in order of first row), and
        the first row of each."""
        key = self._key(columns)
        codes, _ = pd.factorize(key)
        return codes, np.flatnonzero(~pd.Series(key).duplicated().to_numpy())

    def duplicated(self, columns) -> np.ndarray:
        """Rows whose values in ``columns`` another row repeats (``DataFrame.duplicated(keep=False)``)."""
        return pd.Series(self._key(columns)).duplicated(keep=False).to_numpy()


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """The first row of each code of ``pd.factorize`` codes (numbered in order of first row).

    A row is its code's first exactly when its code exceeds every earlier one: one pass, no hashing.
    """
    codes = np.asarray(codes)
    if codes.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(codes > np.maximum.accumulate(np.concatenate(([-1], codes[:-1]))))


def _shown(value: str) -> str:
    return f"'{value}'" if value != "" else "blank"


def _rows_text(rows: np.ndarray) -> str:
    return f"{'row' if np.unique(rows).size == 1 else 'rows'} {_row_ranges(rows.tolist())}"


def _check_work_columns(found: _Problems, cols: _Factorized, line: np.ndarray, columns, given_name) -> None:
    """Each work-level column (district, school, student, flags) holds one value on all rows of a work.

    Per column: one comparison of every row's value code with the code on its work's first row
    (no loop over rows or works); only the first few disagreeing works are looked at to name values.
    """
    work, work_values = cols["work_id"]
    if work.size == 0:
        return
    first_of_row = _first_rows(work)[work]
    named = (work_values != "").to_numpy()  # an empty work_id is a problem of its own
    for column in columns:
        codes, values = cols[column]
        if len(values) < 2:  # one value in the whole column: no work can disagree
            continue
        bad = np.zeros(len(work_values), dtype=bool)
        bad[work[codes != codes[first_of_row]]] = True
        bad &= named
        if not bad.any():
            continue
        bad_works = np.flatnonzero(bad)  # in order of first row
        shown = []
        for w in bad_works[:3]:  # the first few works only: their values and rows
            rows = np.flatnonzero(work == w)
            parts = [
                f"{_shown(values.iloc[c])} ({_rows_text(line[rows[codes[rows] == c]])})" for c in pd.unique(codes[rows])
            ]
            shown.append(f"work '{work_values.iloc[w]}' has " + " and ".join(parts))
        more = f"; and {bad_works.size - 3} more work(s)" if bad_works.size > 3 else ""
        header = given_name.get(column, column)
        found.add_rows(
            line[bad[work]],
            header,
            f"{bad_works.size} work(s) have more than one {header} on their rows (it describes the work, "
            f"so every row of a work holds the same): " + "; ".join(shown) + more,
            f"give every row of a work_id the same {header} (a blank counts as a different value); "
            "if these are different students' works, give them different work ids",
        )


@dataclass(frozen=True)
class Submission:
    """A validated submission: tidy long scores ready for the store."""

    path: Path
    name: str
    sha256: str
    layout: str
    n_rows: int  # data rows in the file
    scores: pd.DataFrame  # STORED_COLUMNS + rubric_id, rubric_version + flag columns
    flag_columns: tuple[str, ...] = field(default_factory=tuple)
    n_not_scored: int = 0  # empty score cells of the wide layout (no score row)
    not_scored: tuple[tuple[int, str], ...] = ()  # the first few of them as (row, column)
    # text columns of `scores` factorized while validating, {column: (codes, values)}: the store
    # takes ids from them instead of hashing a million cells again (empty: it factorizes itself)
    codes: Mapping[str, tuple[np.ndarray, Sequence[str]]] = field(default_factory=dict, repr=False, compare=False)
    # a sheet validated with others (read_sheets): the joined scores and this sheet's rows in them,
    # so that the store can write the sheets together without concatenating them again
    part_of: tuple[pd.DataFrame, int, int] | None = field(default=None, repr=False, compare=False)

    @property
    def n_scores(self) -> int:
        return len(self.scores)

    @property
    def n_condition_coded(self) -> int:
        if "condition_code" in self.codes:
            codes, values = self.codes["condition_code"]
            return int(np.count_nonzero(np.array([v != "" for v in values] or [False])[codes]))
        return int((self.scores["condition_code"] != "").sum())


class _SheetPart(Submission):
    """A sheet validated with others (:func:`read_sheets`): its scores are its rows of the joined
    frame, sliced when first read -- the store writes the sheets together from the joined frame,
    so a batch of 200 sheets need not cut 200 frames."""

    @property
    def scores(self) -> pd.DataFrame:
        cached = self.__dict__.get("_scores")
        if cached is None:
            assert self.part_of is not None
            frame, start, stop = self.part_of
            cached = frame.iloc[start:stop]
            cached.index = pd.RangeIndex(len(cached))  # a new index for the slice, the data not copied
            object.__setattr__(self, "_scores", cached)
        return cached

    @scores.setter
    def scores(self, value: pd.DataFrame | None) -> None:  # the dataclass __init__ passes None
        object.__setattr__(self, "_scores", value)

    @property
    def n_scores(self) -> int:
        assert self.part_of is not None
        return self.part_of[2] - self.part_of[1]


class _ManifestLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text: the Session model parses them and says what is wrong
    (YAML's own date parser raises a bare ValueError on ``2026-13-40``)."""


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    assert isinstance(node, yaml.ScalarNode)  # YAML timestamps are scalars
    return loader.construct_scalar(node)


_ManifestLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def read_manifest(path: str | Path) -> Session:
    """Read a session manifest YAML file.

    Every problem (unreadable file, YAML syntax, not a mapping, unknown or
    missing fields, a date that is not a date) is one
    :class:`~irr.errors.ValidationError` naming the file, the field and the fix.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ValidationError(
            [
                Problem(
                    str(path),
                    f"cannot read the manifest: {reason}",
                    fix="check the path; the manifest is a UTF-8 YAML text file",
                )
            ]
        ) from None
    try:
        data = yaml.load(text, Loader=_ManifestLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ValidationError(
            [
                Problem(
                    str(path),
                    f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
                    row=mark.line + 1 if mark is not None else None,
                    fix="check the indentation and quote values that hold ':' or '#'",
                )
            ]
        ) from None
    return session_from_mapping(data, str(path))


def parse_column_map(pairs) -> dict[str, str]:
    """``["rater_id=Teacher", ...]`` -> ``{"rater_id": "Teacher"}``."""
    out = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValidationError(
                [Problem("--map", f"'{pair}' is not NAME=HEADER", fix="write e.g. --map rater_id=Teacher")]
            )
        out[key.strip()] = value.strip()
    return out


def _file_problem(path: Path, message: str, fix: str | None = None) -> SubmissionError:
    return SubmissionError([Problem(path.name, message, fix=fix)], summary=f"{path.name} was rejected")


def _strip_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell without surrounding white space (each distinct value stripped once)."""
    out = {}
    for column in frame.columns:
        codes, uniques = pd.factorize(frame[column])
        out[column] = pd.array([u.strip() for u in uniques], dtype="str").take(codes)
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def _what_is(data: bytes) -> tuple[str, str] | None:
    """What a file that is not CSV text is, by its first bytes, and what to do with it."""
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            names = []
        if any(n.startswith("xl/") for n in names):
            return "an Excel workbook", "rename it to .xlsx (or save the sheet as CSV)"
        if "content.xml" in names:
            return "an OpenDocument file (.ods)", "save it as .xlsx or CSV"
        if any(n.startswith("word/") for n in names):
            return "a Word document", "ingest the CSV or .xlsx score sheet, not the document"
        return "a zip archive", "unzip it and ingest the score sheet inside"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return (
            "an old-format (97-2003) Office file such as an .xls workbook",
            "open it in Excel or LibreOffice and save it as .xlsx or CSV",
        )
    if data.startswith(b"%PDF"):
        return "a PDF document", "export the score sheet from the spreadsheet as CSV or .xlsx"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text", "pass --encoding=utf-16"
    if b"\x00" in data[:8192]:
        return "a binary file, not text", "ingest the CSV or .xlsx export of the score sheet"
    return None


def _cell_text(value) -> str:
    """An Excel cell as text, as a CSV export would write it."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _excel_grid(path: Path, data: bytes, data_only: bool):
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
    try:
        sheet = book.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()  # a stale <dimension> tag would cut rows off
        rows = [[(c.value, getattr(c, "data_type", "n")) for c in row] for row in sheet.iter_rows()]
        return sheet.title, rows
    finally:
        book.close()


def _read_excel(path: Path, data: bytes) -> tuple[list[str], pd.DataFrame]:
    if not data.startswith(b"PK"):
        what = _what_is(data)
        if what is None:
            raise _file_problem(
                path,
                f"this is a text file (CSV?) saved with a {path.suffix} name, not an Excel workbook",
                "rename it to .csv",
            )
        if what[0] != "an Excel workbook":
            raise _file_problem(path, f"this is {what[0]}, not an .xlsx workbook", what[1])
    try:
        title, grid = _excel_grid(path, data, data_only=False)
        formulas = [(r, c, value) for r, row in enumerate(grid) for c, (value, kind) in enumerate(row) if kind == "f"]
        if formulas:
            # a formula cell holds the formula; the value the spreadsheet computed is in the cache
            _, cached = _excel_grid(path, data, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise _file_problem(
            path,
            f"cannot read the Excel file ({type(exc).__name__}: {exc})",
            "re-export it from the spreadsheet as .xlsx or CSV",
        ) from None
    values = [[value for value, _ in row] for row in grid]
    problems = []
    if formulas:
        from openpyxl.utils import get_column_letter

        header = [_cell_text(v).strip() for v in values[0]] if values else []
        for r, c, formula in formulas:
            saved = cached[r][c][0] if r < len(cached) and c < len(cached[r]) else None
            if saved is None:
                problems.append(
                    Problem(
                        path.name,
                        f"{title}!{get_column_letter(c + 1)}{r + 1} holds a formula ({formula}) with no saved value",
                        row=r + 1,
                        column=header[c] if r and c < len(header) else None,
                        fix="type the value instead, or open the file in Excel or LibreOffice and save it again "
                        "(that stores the formulas' values)",
                    )
                )
            else:
                values[r][c] = saved
    if problems:
        raise SubmissionError(problems, summary=f"{path.name} was rejected")
    if not values or not any(v is not None for v in values[0]):
        raise _file_problem(
            path,
            "the sheet is empty" if not values else "the first row (the header) is empty",
            "export the sheet with its header row in row 1",
        )
    width = max(len(row) for row in values)
    text = [[_cell_text(v) for v in row] + [""] * (width - len(row)) for row in values]
    header = [c.strip() for c in text[0]]
    while header and header[-1] == "":  # trailing empty header cells are not columns
        header.pop()
    body = (
        pd.DataFrame([row[: len(header)] for row in text[1:]], columns=range(len(header)), dtype=str)
        if len(text) > 1
        else pd.DataFrame(columns=range(len(header)), dtype=str)
    )
    body.index = np.arange(2, len(body) + 2)  # sheet row numbers (the header is row 1)
    body = _strip_cells(body)
    blank = (body == "").all(axis=1).to_numpy()  # blank rows are not rows, as in CSV
    return header, body[~blank] if blank.any() else body


# white space bytes -> " ", the line end and delimiters -> "\n" (non-ASCII bytes count as space: they
# may belong to a Unicode space, and a false alarm only costs a strip)
_EDGE_TABLE = bytes(
    32 if b in (9, 11, 12, 13, 28, 29, 30, 31, 32) or b >= 128 else 10 if b in (10, 44) else b for b in range(256)
)


def _space_at_a_cell_edge(raw: bytes, delimiter: str) -> bool:
    """Whether a cell of the UTF-8 text ``raw`` may start or end with white space (then cells are stripped)."""
    table = (
        _EDGE_TABLE if delimiter == "," else bytes(10 if b == ord(delimiter) else x for b, x in enumerate(_EDGE_TABLE))
    )
    marked = raw.translate(table)  # one pass in C; the searches below are memchr-fast
    return marked[:1] == b" " or marked[-1:] == b" " or b" \n" in marked or b"\n " in marked


def _read_csv_columnar(text: str, delimiter: str) -> tuple[list[str], pd.DataFrame] | None:
    """The fast reader for plain CSV text: pandas' C parser, stripped cells, file line numbers.

    It reads only text that ``csv.reader(strict=True)`` reads the same way: no quote character
    (quoting rules differ between the two parsers), no NUL, no lone carriage return, and every
    line with as many cells as the header except blank ones.  For anything else it returns
    None and the caller reads with the csv module, which names the bad line.
    """
    if '"' in text or "\x00" in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    raw = text.encode("utf-8")
    buf = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    n_lines = ends.size + (0 if raw.endswith(b"\n") else 1)
    # cells per line = delimiters + 1 (no quotes, so every delimiter separates cells); the line ends
    # are looked up among the delimiters (fewer searches than each delimiter among the line ends)
    delimiters_before = np.searchsorted(np.flatnonzero(buf == ord(delimiter)), ends)
    total = int(np.count_nonzero(buf == ord(delimiter)))
    cells = np.diff(np.concatenate(([0], delimiters_before, [] if n_lines == ends.size else [total]))) + 1
    width = int(cells[0])
    starts = np.concatenate(([0], ends + 1))
    for line in np.flatnonzero(cells != width):  # few lines: blank ones are dropped, others refused
        stop = ends[line] if line < ends.size else len(raw)
        if raw[starts[line] : stop].decode("utf-8").replace(delimiter, "").strip() or cells[line] > width:
            return None  # the csv path reports the line
    try:
        frame = pd.read_csv(
            io.BytesIO(raw),
            sep=delimiter,
            header=None,
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            quoting=csv.QUOTE_NONE,
            engine="c",
            encoding="utf-8",
            low_memory=False,
        )
    except (ValueError, pd.errors.ParserError):
        return None
    if len(frame) != n_lines or frame.shape[1] != width:
        return None
    header = [str(c).strip() for c in frame.iloc[0]]
    frame = frame.iloc[1:]
    frame.index = np.arange(2, n_lines + 1)  # line numbers in the file
    if _space_at_a_cell_edge(raw, delimiter):
        frame = _strip_cells(frame)
        blank = (frame == "").all(axis=1).to_numpy()  # blank lines are not rows
    else:
        # unstripped, a line of empty cells holds only its delimiters: at most width - 1 bytes, so
        # only such short lines are looked at
        lengths = np.append(ends, len(raw))[:n_lines] - starts[:n_lines]
        short = np.flatnonzero(lengths[1:] < width)
        blank = np.zeros(len(frame), dtype=bool)
        if short.size:
            blank[short] = (frame.iloc[short] == "").all(axis=1).to_numpy()
    return header, frame[~blank] if blank.any() else frame


def _read_raw(path: Path, data: bytes, encoding: str | None) -> tuple[list[str], pd.DataFrame]:
    """Header cells and the data as stripped strings ('' for empty cells); blank rows left out."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_excel(path, data)
    if path.suffix.lower() not in (".csv", ".txt", ".tsv"):
        raise _file_problem(path, f"unsupported file type '{path.suffix}'", "save the sheet as .csv or .xlsx")
    what = _what_is(data)
    if (
        what is not None
        and not (what[0] == "UTF-16 text" and encoding and "16" in encoding)
        and not (encoding and ("16" in encoding or "32" in encoding))
    ):
        if what[0] == "an Excel workbook":
            raise _file_problem(path, f"this is an Excel workbook saved with a {path.suffix} name", what[1])
        raise _file_problem(path, f"this is {what[0]}, not a CSV text file", what[1])
    try:
        text = data.decode(encoding or "utf-8-sig")
    except (UnicodeDecodeError, LookupError) as exc:
        raise _file_problem(
            path,
            f"the file is not {encoding or 'UTF-8'} text ({exc.__class__.__name__})",
            "pass the right encoding, e.g. --encoding=latin-1 or --encoding=cp1252",
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise _file_problem(path, "the file is empty", "export the score sheet with its header row")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    fast = _read_csv_columnar(text, delimiter)
    return fast if fast is not None else _read_csv_rows(path, text, delimiter)


def _read_csv_rows(path: Path, text: str, delimiter: str) -> tuple[list[str], pd.DataFrame]:
    """The exact reader (``csv.reader(strict=True)``), for text the columnar reader leaves to it."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise _file_problem(path, f"malformed CSV: {exc}", "re-export the sheet as CSV") from None
    header = [c.strip() for c in rows[0]]
    width = len(header)
    body_rows = rows[1:]
    sizes = np.fromiter(map(len, body_rows), dtype=np.int64, count=len(body_rows))
    ragged = np.flatnonzero(sizes != width)  # few rows: a Python look at each is cheap
    bad = [(int(i) + 2, int(sizes[i])) for i in ragged if any(c.strip() for c in body_rows[i])]
    if bad:
        shown = ", ".join(f"line {line} has {n}" for line, n in bad[:5])
        raise SubmissionError(
            [
                Problem(
                    path.name,
                    f"rows have a different number of cells than the header ({width}): {shown}"
                    + (f" and {len(bad) - 5} more" if len(bad) > 5 else ""),
                    row=bad[0][0],
                    fix="check for truncated rows or unquoted commas",
                )
            ],
            summary=f"{path.name} was rejected",
        )
    regular = np.flatnonzero(sizes == width)  # the others are blank lines (bad rows were refused)
    rows_kept = body_rows if regular.size == len(body_rows) else [body_rows[i] for i in regular]
    frame = (
        pd.DataFrame(rows_kept, columns=range(width), dtype=str)
        if rows_kept
        else pd.DataFrame(columns=range(width), dtype=str)
    )
    frame.index = regular + 2  # line numbers in the file
    frame = _strip_cells(frame)
    blank = (frame == "").all(axis=1).to_numpy()  # blank lines are not rows
    return header, frame[~blank] if blank.any() else frame


def read_submission(
    path: str | Path,
    bank: Bank,
    session: Session,
    *,
    column_map: Mapping[str, str] | None = None,
    encoding: str | None = None,
    data: bytes | None = None,
) -> Submission:
    """Read one score sheet, map its columns, validate every row against the bank.

    ``data``, when given, is the sheet's content (an upload, a live session's form): nothing is
    read from disk and ``path`` only names the sheet (its suffix gives the format).

    Raises
    ------
    SubmissionError
        With every problem found (file, line, column, what to change); the
        file must then be fixed and ingested again -- no row is kept.
    """
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise _file_problem(path, f"cannot read the file: {exc.strerror}", "check the path") from None
    sha = hashlib.sha256(data).hexdigest()
    header, frame = _read_raw(path, data, encoding)
    name = path.name
    found = _Problems(name)
    found.order = {h: i for i, h in reversed(list(enumerate(header)))}

    def reject():
        problems = found.problems()
        raise SubmissionError(problems, summary=f"{name} was rejected ({len(problems)} problem(s); nothing stored)")

    # --- header: duplicates, mapping, required columns ---------------------------
    seen: dict[str, int] = {}
    for col in header:
        seen[col] = seen.get(col, 0) + 1
    for col, count in seen.items():
        if count > 1:
            found.add(
                Problem(
                    name,
                    f"column '{col}' appears {count} times in the header",
                    row=1,
                    column=col,
                    fix="rename or delete the repeated column",
                )
            )
    mapping = {**session.column_map, **(column_map or {})}
    rename = {}
    for canonical, given in mapping.items():
        if given in header:
            rename[given] = canonical
        elif canonical not in header:
            found.add(
                Problem(
                    name,
                    f"mapped column '{given}' (for {canonical}) is not in the header",
                    row=1,
                    column=given,
                    fix=f"the header is: {', '.join(header)}",
                )
            )
    names = [rename.get(h, h) for h in header]
    given_name = {rename.get(h, h): h for h in header}  # canonical -> the header in the file
    if found:
        reject()
    frame.columns = names

    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    long_layout = "dimension" in names or "score" in names
    if long_layout:
        missing += [c for c in ("dimension", "score") if c not in names]
    if missing:
        raise SubmissionError(
            [
                Problem(
                    name,
                    f"required column(s) missing: {', '.join(missing)}",
                    row=1,
                    fix="add them or map your headers with --map NAME=HEADER",
                )
            ],
            summary=f"{name} was rejected",
        )
    flags = tuple(c for c in names if c.startswith(FLAG_PREFIX))
    n_not_scored, not_scored = 0, cast(tuple[tuple[int, str], ...], ())
    if not long_layout:
        known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) | set(flags)
        dims = [c for c in names if c not in known and c != ""]
        if "" in names and (frame.loc[:, [n == "" for n in names]] != "").to_numpy().any():
            found.add(
                Problem(name, "a column with values has no header", row=1, fix="name it (a dimension id) or delete it")
            )
        if not dims:
            raise SubmissionError(
                [
                    Problem(
                        name,
                        "no score columns: neither 'dimension'/'score' (long layout) "
                        "nor rubric dimension columns (wide layout)",
                        row=1,
                        fix="add one column per rubric dimension, named by its id",
                    )
                ],
                summary=f"{name} was rejected",
            )
        # a header that is no dimension of the file's rubrics is one header problem, not one per row
        file_tasks = [t for t in pd.unique(frame["task_id"]) if t in bank.tasks]
        rubrics = {bank.rubric_for(bank.task(t)).ref: bank.rubric_for(bank.task(t)) for t in file_tasks} or {
            r.ref: r for r in bank.rubrics.values()
        }
        dim_ids = list(dict.fromkeys(d for r in rubrics.values() for d in r.dimension_ids))
        for col in dims:
            if col not in dim_ids:
                near = difflib.get_close_matches(col, dim_ids, n=1)
                which = "the rubric's" if len(rubrics) == 1 else "the rubrics'"
                found.add(
                    Problem(
                        name,
                        f"unknown column '{given_name.get(col, col)}'; {which} dimensions are {', '.join(dim_ids)}",
                        row=1,
                        column=given_name.get(col, col),
                        fix=(f"did you mean '{near[0]}'? " if near else "")
                        + "name each score column by a dimension id, or map it with --map DIMENSION=HEADER",
                    )
                )
        dims = [c for c in dims if c in dim_ids]
        frame = frame.reset_index(names="_line")
        frame = frame.melt(
            id_vars=[c for c in frame.columns if c not in dims],
            value_vars=dims,
            var_name="dimension",
            value_name="score",
        )
        frame = frame.set_index("_line").sort_index(kind="stable")
        # an empty cell is "not scored" where the row's rubric has the dimension (else: not its column)
        empty = (frame["score"] == "").to_numpy()
        if empty.any():
            applies = {(t, d) for t in file_tasks for d in bank.rubric_for(bank.task(t)).dimension_ids}
            cells = pd.MultiIndex.from_arrays([frame["task_id"], frame["dimension"]])
            counted = empty & cells.isin(list(applies))
            n_not_scored = int(counted.sum())
            not_scored = tuple(
                (int(r), given_name.get(d, d))
                for r, d in zip(frame.index[counted][:20], frame["dimension"].to_numpy()[counted][:20])
            )
            frame = frame[~empty]
    layout = "long" if long_layout else "wide"
    for col in OPTIONAL_COLUMNS:
        if col not in frame.columns:
            frame[col] = ""

    line = frame.index.to_numpy()
    cols = _Factorized(frame)  # each text column hashed once; checks look at its distinct values

    def score_column(rows):
        """The column a score problem is in: 'score' (long) or the dimension's own column (wide)."""
        if long_layout:
            return given_name.get("score", "score")
        return cols.map("dimension", lambda u: u.map(given_name)).astype(object)[rows]

    def report(mask, column, message, fix, value_col=None):
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        columns = score_column(mask) if column is None else given_name.get(column, column)
        texts = _formatted(message, cols.values(value_col, mask)) if value_col else message
        found.add_rows(line[mask], columns, texts, fix)

    empty = {col: cols.map(col, lambda u: u == "") for col in REQUIRED_COLUMNS + ("dimension", "score")}
    for col in REQUIRED_COLUMNS + ("dimension",):
        report(empty[col], col, f"empty {col}", f"fill in {col} (every score needs it)")
    if long_layout:
        report(empty["score"], None, "empty score", "enter the score or delete the row")

    # --- against the bank -----------------------------------------------------------
    task_codes, task_values = cols["task_id"]
    unknown_u = ~np.isin(task_values.to_numpy(dtype=object), list(bank.tasks)) & (task_values != "").to_numpy()
    unknown = unknown_u[task_codes]
    report(unknown, "task_id", "task '{value}' is not in the bank", "use a task id from `irr bank list`", "task_id")
    legal: dict[tuple[str, str], tuple[int, ...]] = {}
    codes_of: dict[tuple[str, str], tuple[str, ...]] = {}
    rubric_of: dict[str, tuple[str, int]] = {}
    for task_id in task_values[~unknown_u & (task_values != "").to_numpy()]:  # in order of first row
        task = bank.task(task_id)
        rubric = bank.rubric_for(task)
        rubric_of[task_id] = (rubric.id, rubric.version)
        for dim in rubric.dimensions:
            legal[(task_id, dim.id)] = dim.score_values
            codes_of[(task_id, dim.id)] = dim.condition_codes or ()
    known_task = ~unknown & ~empty["task_id"]
    pair_codes, first = cols.combos("task_id", "dimension")
    pairs = zip(cols.values("task_id", first), cols.values("dimension", first))
    bad_dim = known_task & ~np.array([p in legal for p in pairs] or [False])[pair_codes] & ~empty["dimension"]
    if bad_dim.any():
        pairs = pd.MultiIndex.from_arrays([frame["task_id"][bad_dim], frame["dimension"][bad_dim]])
        codes, uniques = pd.factorize(pairs)
        texts, fixes = [], []
        for t, d in uniques:
            rid, ver = rubric_of[t]
            texts.append(f"dimension '{d}' is not in rubric {rid}@{ver} of task '{t}'")
            fixes.append(
                f"use one of: {', '.join(dd for (tt, dd) in legal if tt == t)}"
                + ("" if long_layout else "; leave this cell empty for this task")
            )
        found.add_rows(
            line[bad_dim],
            "dimension" if long_layout else score_column(bad_dim),
            np.array(texts, dtype=object)[codes],
            np.array(fixes, dtype=object)[codes],
        )
    score_codes, score_values = cols["score"]
    numeric = pd.to_numeric(score_values, errors="coerce")  # each distinct cell parsed once
    whole_u = (numeric.notna() & np.isfinite(numeric) & (numeric == np.round(numeric))).to_numpy()
    whole = whole_u[score_codes]
    # a non-numeric cell may be a condition code declared for the row's dimension
    condition = np.full(len(frame), "", dtype=object)
    other = ~whole & ~empty["score"]
    if other.any():
        cells = pd.MultiIndex.from_arrays([frame["task_id"][other], frame["dimension"][other], frame["score"][other]])
        codes, uniques = pd.factorize(cells)
        code_of, texts, fixes = [], [], []
        for t, d, v in uniques:
            code = normalise_condition_code(v)
            declared = codes_of.get((t, d), ())
            code_of.append(code if code in declared else "")
            texts.append(f"score '{v}' is not a whole number" + (f" or a condition code of '{d}'" if declared else ""))
            fixes.append(
                f"enter a score point of the rubric or one of its condition codes: {', '.join(declared)}"
                if declared
                else "enter the rubric score point (e.g. 3)"
            )
        code_of = np.array(code_of, dtype=object)[codes]
        condition[other] = code_of
        shown = code_of == ""
        found.add_rows(
            line[other][shown],
            score_column(np.flatnonzero(other)[shown]),
            np.array(texts, dtype=object)[codes][shown],
            np.array(fixes, dtype=object)[codes][shown],
        )
    check = whole & known_task & ~bad_dim
    if check.any():
        as_int_u = numeric.where(whole_u, -(10**9)).astype(np.int64).to_numpy()
        as_int = as_int_u[score_codes]
        cell_codes, first = cols.combos("task_id", "dimension", "score")
        on_scale = np.array(
            [
                v in legal.get((t, d), ())
                for t, d, v in zip(cols.values("task_id", first), cols.values("dimension", first), as_int[first])
            ]
            or [False]
        )[cell_codes]
        off = check & ~on_scale
        if off.any():
            cells = pd.MultiIndex.from_arrays([frame["task_id"][off], frame["dimension"][off], as_int[off]])
            codes, uniques = pd.factorize(cells)
            off_scale = np.array(
                [f"score {v} is not on the scale of '{d}' {list(legal[(t, d)])}" for t, d, v in uniques], dtype=object
            )
            found.add_rows(line[off], score_column(off), off_scale[codes], "enter a score point of the rubric")
    report(
        cols.map("read_type", lambda u: ~u.isin(("",) + READ_TYPES)),
        "read_type",
        "unknown read type '{value}'",
        f"use one of: {', '.join(READ_TYPES)}",
        "read_type",
    )
    report(
        cols.map("rater_role", lambda u: ~u.isin(("",) + RATER_ROLES)),
        "rater_role",
        "unknown rater role '{value}'",
        f"use one of: {', '.join(RATER_ROLES)}",
        "rater_role",
    )
    stamp_codes, stamp_values = cols["timestamp"]
    stamps = pd.to_datetime(stamp_values.where(stamp_values != ""), errors="coerce", utc=True, format="ISO8601")
    report(
        (stamps.isna() & (stamp_values != "")).to_numpy()[stamp_codes],
        "timestamp",
        "timestamp '{value}' is not ISO 8601",
        "write e.g. 2026-10-14T09:30",
        "timestamp",
    )

    # the store joins text cells with the unit separator when it reads them back
    report(
        cols.map("student_id", lambda u: u.str.contains(r"[\x00-\x1f]", regex=True)),
        "student_id",
        "student id '{value}' holds a control character",
        "write the id with letters, digits and punctuation only",
        "student_id",
    )

    cols.replace("read_type", lambda u: u.where(u != "", default_read_type(session.kind)))
    key = list(SCORE_KEY)
    repeated = cols.duplicated(key) & ~empty["rater_id"]
    if repeated.any():
        groups = frame[repeated].groupby(key, sort=False)
        for (rater, work, _task, dim, read), group in list(groups)[:MAX_SHOWN]:
            distinct = sorted(set(group["score"]))
            lines = ", ".join(str(i) for i in group.index[:6])
            what = f"different scores {distinct}" if len(distinct) > 1 else f"the same score {distinct[0]}"
            found.add(
                Problem(
                    name,
                    f"rater '{rater}' scored work '{work}' / {dim} ({read} read) more than once "
                    f"({what}) on lines {lines}",
                    row=int(group.index[0]),
                    column=given_name.get("score", "score") if long_layout else given_name.get(dim, dim),
                    fix="keep one row per rater, work sample and dimension in a read",
                )
            )
    _check_work_columns(found, cols, line, WORK_COLUMNS + flags, given_name)
    if found:
        reject()
    if frame.empty:
        if n_not_scored:
            raise _file_problem(
                path, f"no score in the file: all {n_not_scored} score cells are empty", "enter the scores"
            )
        raise _file_problem(path, "the file has a header but no score rows", "add the scores")

    out = frame[[c for c in STORED_COLUMNS if c != "condition_code"] + list(flags)].copy()
    coded = condition != ""
    points = numeric.where(whole_u, 0).to_numpy().astype(np.int64)
    out["score"] = pd.arrays.IntegerArray(points[score_codes], coded)
    condition_codes = pd.factorize(condition) if coded.any() else (np.zeros(len(frame), np.intp), np.array([""]))
    out.insert(
        out.columns.get_loc("score") + 1,
        "condition_code",
        pd.array(condition_codes[1], dtype="str").take(condition_codes[0]),
    )
    out["timestamp"] = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S%z").fillna("").array.take(stamp_codes)
    task_ids = task_values.tolist()  # the few distinct tasks, looked up once each
    out["rubric_id"] = pd.array([rubric_of[t][0] for t in task_ids], dtype="str").take(task_codes)
    out["rubric_version"] = np.array([rubric_of[t][1] for t in task_ids], dtype=np.int64)[task_codes]
    out["source_line"] = frame.index.to_numpy()
    codes = {
        c: cols.codes(c)
        for c in (
            "rater_id",
            "work_id",
            "task_id",
            "dimension",
            "read_type",
            "rater_district",
            "rater_role",
            "work_district",
            "school",
            "student_id",
        )
    }
    codes["rubric_id"] = (task_codes, [rubric_of[t][0] for t in task_ids])
    codes["condition_code"] = (condition_codes[0], condition_codes[1].tolist())
    return Submission(
        path=path,
        name=name,
        sha256=sha,
        layout=layout,
        n_rows=int(frame.index.nunique()),
        scores=out.reset_index(drop=True),
        flag_columns=flags,
        n_not_scored=n_not_scored,
        not_scored=not_scored,
        codes=codes,
    )


def read_sheets(
    sheets: Sequence[tuple[str, bytes]],
    bank: Bank,
    session: Session,
    *,
    column_map: Mapping[str, str] | None = None,
) -> list[Submission | IrrError]:
    """Validate several score sheets of one session, as :func:`read_submission` does each.

    ``sheets`` are ``(name, content)`` pairs (a live session's submissions, uploads).  The result
    has one entry per sheet, in order: its :class:`Submission`, or the error
    :func:`read_submission` raises for it.

    Many small CSV sheets with the same header line are validated together, as one sheet whose
    rows are theirs one after another, and the result split back by line: the per-row checks
    then run once over all rows instead of once per sheet (a live session's 200 raters cost
    about what one rater costs).  That gives every sheet the result :func:`read_submission`
    gives it when the joined sheet is valid in the long layout and every sheet keeps at least
    one score; joining can only add problems (one sheet's scores repeated in another), so when
    the joined sheet is refused -- or the sheets are not all plain CSV (no quotes, no blank
    lines, so lines are rows) -- each sheet is validated on its own and gets its own messages
    (rows and columns of its own file).
    """
    results = _read_sheets_joined(sheets, bank, session, column_map) if len(sheets) > 1 else None
    if results is not None:
        return results
    out: list[Submission | IrrError] = []
    for name, data in sheets:
        try:
            out.append(read_submission(Path(name), bank, session, column_map=column_map, data=data))
        except IrrError as exc:
            out.append(exc)
    return out


def _read_sheets_joined(sheets, bank, session, column_map) -> list[Submission | IrrError] | None:
    """The sheets validated as one, or None when that cannot stand for validating each."""
    header = None
    bodies: list[bytes] = []
    for name, data in sheets:
        if Path(name).suffix.lower() != ".csv" or b'"' in data or b"\r" in data or data.startswith(b"\xef\xbb\xbf"):
            return None
        first, _, body = data.partition(b"\n")
        if header is None:
            header = first
        if first != header or not body.strip():
            return None
        body = body if body.endswith(b"\n") else body + b"\n"
        if b"\n\n" in body or any(not line.strip() for line in body.splitlines()):
            return None  # a blank line is no row: lines would not number rows
        bodies.append(body)
    assert header is not None
    try:
        joined = read_submission(
            Path("sheets.csv"), bank, session, column_map=column_map, data=header + b"\n" + b"".join(bodies)
        )
    except IrrError:
        return None
    if joined.layout != "long":
        return None
    sizes = np.array([body.count(b"\n") for body in bodies])
    first_line = 2 + np.concatenate(([0], np.cumsum(sizes)[:-1]))  # each sheet's first row in the joined one
    lines = joined.scores["source_line"].to_numpy()
    sheet_of = np.searchsorted(first_line, lines, side="right") - 1
    if (np.diff(sheet_of) < 0).any():
        return None  # rows out of line order (not the long layout's reading): no contiguous split
    bounds = np.searchsorted(sheet_of, np.arange(len(sheets) + 1))
    if (np.diff(bounds) == 0).any():
        return None  # a sheet without scores: its own validation says why
    coded, coded_values = joined.codes["condition_code"]
    coded = np.asarray(coded)
    joined.scores["source_line"] = lines - (first_line[sheet_of] - 2)  # each row's line in its own sheet
    out: list[Submission | IrrError] = []
    for i, (name, data) in enumerate(sheets):
        rows = slice(bounds[i], bounds[i + 1])
        out.append(
            _SheetPart(
                path=Path(name),
                name=Path(name).name,
                sha256=hashlib.sha256(data).hexdigest(),
                layout="long",
                n_rows=int(np.unique(lines[rows]).size),
                scores=None,  # sliced from part_of when read
                flag_columns=joined.flag_columns,
                codes={"condition_code": (coded[rows], coded_values)},
                part_of=(joined.scores, rows.start, rows.stop),
            )
        )
    return out
