"""Read and validate one scorer submission file against the bank.

A submission is a CSV (UTF-8, with or without BOM, or ``encoding=``) or
``.xlsx`` score sheet in one of two layouts:

* **long**: one row per score -- ``rater_id, work_id, task_id, dimension, score``;
* **wide**: one row per rater x work sample -- ``rater_id, work_id, task_id`` and
  one column per rubric dimension id;

plus the optional columns of :data:`irr.model.session.OPTIONAL_COLUMNS` and
``flag_*`` subgroup columns.  Validation is vectorised (pandas) and collects
every problem with its file line number; one problem rejects the whole file.
"""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError as PydanticValidationError

from irr.errors import Problem, SubmissionError, ValidationError
from irr.model.bank import Bank
from irr.model.session import (
    FLAG_PREFIX, OPTIONAL_COLUMNS, RATER_ROLES, READ_TYPES, REQUIRED_COLUMNS, Session, default_read_type,
)

__all__ = ["Submission", "read_submission", "read_manifest", "parse_column_map", "STORED_COLUMNS"]

STORED_COLUMNS = ("rater_id", "work_id", "task_id", "dimension", "score", *OPTIONAL_COLUMNS)
MAX_SHOWN = 200  # problems listed per file before "... and N more"


@dataclass(frozen=True)
class Submission:
    """A validated submission: tidy long scores ready for the store."""

    path: Path
    name: str
    sha256: str
    layout: str
    n_rows: int                 # data rows in the file
    scores: pd.DataFrame        # STORED_COLUMNS + rubric_id, rubric_version + flag columns
    flag_columns: tuple[str, ...] = field(default_factory=tuple)


def read_manifest(path: str | Path) -> Session:
    """Read a session manifest YAML file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValidationError([Problem(str(path), f"cannot read the manifest: {exc}",
                                       fix="check the path and YAML syntax")]) from None
    try:
        return Session.model_validate(data or {})
    except PydanticValidationError as exc:
        raise ValidationError([
            Problem(str(path), e["msg"].removeprefix("Value error, "),
                    field=".".join(map(str, e["loc"])) or None)
            for e in exc.errors()
        ]) from None


def parse_column_map(pairs) -> dict[str, str]:
    """``["rater_id=Teacher", ...]`` -> ``{"rater_id": "Teacher"}``."""
    out = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValidationError([Problem("--map", f"'{pair}' is not NAME=HEADER",
                                           fix="write e.g. --map rater_id=Teacher")])
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


def _read_raw(path: Path, data: bytes, encoding: str | None) -> tuple[list[str], pd.DataFrame]:
    """Header cells and the data as stripped strings ('' for empty cells); blank rows left out."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(io.BytesIO(data), dtype=str, header=None, engine="openpyxl",
                                  keep_default_na=False)
        except Exception as exc:  # openpyxl raises many types for damaged files
            raise _file_problem(path, f"cannot read the Excel file ({type(exc).__name__}: {exc})",
                                "re-export it from the spreadsheet as .xlsx or CSV") from None
        if frame.empty:
            raise _file_problem(path, "the sheet is empty", "export the sheet with its header row")
        header = [str(c).strip() for c in frame.iloc[0].tolist()]
        body = frame.iloc[1:].reset_index(drop=True)
        body.columns = range(len(header))
        body.index = np.arange(2, len(body) + 2)      # sheet row numbers (the header is row 1)
        body = _strip_cells(body.fillna("").astype(str))
        blank = (body == "").all(axis=1).to_numpy()   # blank rows are not rows, as in CSV
        return header, body[~blank] if blank.any() else body
    if path.suffix.lower() not in (".csv", ".txt", ".tsv"):
        raise _file_problem(path, f"unsupported file type '{path.suffix}'", "save the sheet as .csv or .xlsx")
    try:
        text = data.decode(encoding or "utf-8-sig")
    except (UnicodeDecodeError, LookupError) as exc:
        raise _file_problem(path, f"the file is not {encoding or 'UTF-8'} text ({exc.__class__.__name__})",
                            "pass the right encoding, e.g. --encoding=latin-1 or --encoding=cp1252") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise _file_problem(path, "the file is empty", "export the score sheet with its header row")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise _file_problem(path, f"malformed CSV: {exc}", "re-export the sheet as CSV") from None
    header = [c.strip() for c in rows[0]]
    width = len(header)
    body_rows = rows[1:]
    sizes = np.fromiter(map(len, body_rows), dtype=np.int64, count=len(body_rows))
    ragged = np.flatnonzero(sizes != width)      # few rows: a Python look at each is cheap
    bad = [(int(i) + 2, int(sizes[i])) for i in ragged if any(c.strip() for c in body_rows[i])]
    if bad:
        shown = ", ".join(f"line {line} has {n}" for line, n in bad[:5])
        raise SubmissionError(
            [Problem(path.name, f"rows have a different number of cells than the header ({width}): {shown}"
                     + (f" and {len(bad) - 5} more" if len(bad) > 5 else ""),
                     row=bad[0][0], fix="check for truncated rows or unquoted commas")],
            summary=f"{path.name} was rejected")
    regular = np.flatnonzero(sizes == width)     # the others are blank lines (bad rows were refused)
    rows_kept = body_rows if regular.size == len(body_rows) else [body_rows[i] for i in regular]
    frame = pd.DataFrame(rows_kept, columns=range(width), dtype=str) if rows_kept else \
        pd.DataFrame(columns=range(width), dtype=str)
    frame.index = regular + 2                    # line numbers in the file
    frame = _strip_cells(frame)
    blank = (frame == "").all(axis=1).to_numpy() # blank lines are not rows
    return header, frame[~blank] if blank.any() else frame


def read_submission(
    path: str | Path,
    bank: Bank,
    session: Session,
    *,
    column_map: Mapping[str, str] | None = None,
    encoding: str | None = None,
) -> Submission:
    """Read one score sheet, map its columns, validate every row against the bank.

    Raises
    ------
    SubmissionError
        With every problem found (file, line, column, what to change); the
        file must then be fixed and ingested again -- no row is kept.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _file_problem(path, f"cannot read the file: {exc.strerror}", "check the path") from None
    sha = hashlib.sha256(data).hexdigest()
    header, frame = _read_raw(path, data, encoding)
    problems: list[Problem] = []
    name = path.name

    # --- header: duplicates, mapping, required columns ---------------------------
    seen: dict[str, int] = {}
    for col in header:
        seen[col] = seen.get(col, 0) + 1
    for col, count in seen.items():
        if count > 1:
            problems.append(Problem(name, f"column '{col}' appears {count} times in the header", row=1,
                                    column=col, fix="rename or delete the repeated column"))
    mapping = {**session.column_map, **(column_map or {})}
    rename = {}
    for canonical, given in mapping.items():
        if given in header:
            rename[given] = canonical
        elif canonical not in header:
            problems.append(Problem(name, f"mapped column '{given}' (for {canonical}) is not in the header",
                                    row=1, column=given, fix=f"the header is: {', '.join(header)}"))
    names = [rename.get(h, h) for h in header]
    if problems:
        raise SubmissionError(problems, summary=f"{name} was rejected")
    frame.columns = names

    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    long_layout = "dimension" in names or "score" in names
    if long_layout:
        missing += [c for c in ("dimension", "score") if c not in names]
    if missing:
        raise SubmissionError([Problem(name, f"required column(s) missing: {', '.join(missing)}", row=1,
                                       fix="add them or map your headers with --map NAME=HEADER")],
                              summary=f"{name} was rejected")
    flags = tuple(c for c in names if c.startswith(FLAG_PREFIX))
    if not long_layout:
        known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) | set(flags)
        dims = [c for c in names if c not in known]
        if not dims:
            raise SubmissionError([Problem(name, "no score columns: neither 'dimension'/'score' (long layout) "
                                           "nor rubric dimension columns (wide layout)", row=1,
                                           fix="add one column per rubric dimension, named by its id")],
                                  summary=f"{name} was rejected")
        frame = frame.reset_index(names="_line")
        frame = frame.melt(id_vars=[c for c in frame.columns if c not in dims], value_vars=dims,
                           var_name="dimension", value_name="score")
        frame = frame[frame["score"] != ""].set_index("_line").sort_index(kind="stable")
    layout = "long" if long_layout else "wide"
    for col in OPTIONAL_COLUMNS:
        if col not in frame.columns:
            frame[col] = ""

    line = frame.index.to_numpy()

    def report(mask, column, message, fix, value_col=None):
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        for ln, val in zip(line[mask][:MAX_SHOWN], (frame[value_col].to_numpy()[mask] if value_col else
                                                     [None] * int(mask.sum()))[:MAX_SHOWN]):
            text = message if val is None else message.format(value=val)
            problems.append(Problem(name, text, row=int(ln), column=column, fix=fix))
        if mask.sum() > MAX_SHOWN:
            problems.append(Problem(name, f"... and {int(mask.sum()) - MAX_SHOWN} more rows like this",
                                    column=column))

    for col in REQUIRED_COLUMNS + ("dimension",):
        report(frame[col] == "", col, f"empty {col}", f"fill in {col} (every score needs it)")
    if long_layout:
        report(frame["score"] == "", "score", "empty score", "enter the score or delete the row")

    # --- against the bank -----------------------------------------------------------
    tasks = frame["task_id"].to_numpy()
    unknown = ~np.isin(tasks, list(bank.tasks)) & (tasks != "")
    report(unknown, "task_id", "unknown task '{value}'", "use a task id from `irr bank list`", "task_id")
    legal: dict[tuple[str, str], tuple[int, ...]] = {}
    rubric_of: dict[str, tuple[str, int]] = {}
    for task_id in pd.unique(tasks[~unknown & (tasks != "")]):
        task = bank.task(task_id)
        rubric = bank.rubric_for(task)
        rubric_of[task_id] = (rubric.id, rubric.version)
        for dim in rubric.dimensions:
            legal[(task_id, dim.id)] = dim.score_values
    known_task = ~unknown & (tasks != "")
    task_dim = pd.MultiIndex.from_arrays([frame["task_id"], frame["dimension"]])
    bad_dim = known_task & ~task_dim.isin(list(legal)) & (frame["dimension"] != "").to_numpy()
    if bad_dim.any():
        shown = frame[bad_dim].head(MAX_SHOWN)
        for ln, t, d in zip(shown.index, shown["task_id"], shown["dimension"]):
            rid, ver = rubric_of[t]
            dims = [dd for (tt, dd) in legal if tt == t]
            problems.append(Problem(name, f"dimension '{d}' is not in rubric {rid}@{ver} of task '{t}'",
                                    row=int(ln), column="dimension", fix=f"use one of: {', '.join(dims)}"))
    numeric = pd.to_numeric(frame["score"], errors="coerce")
    whole = numeric.notna() & np.isfinite(numeric) & (numeric == np.round(numeric))
    report((~whole & (frame["score"] != "")).to_numpy(), "score", "score '{value}' is not a whole number",
           "enter the rubric score point (e.g. 3)", "score")
    check = whole.to_numpy() & known_task & ~bad_dim
    if check.any():
        triples = [(t, d, v) for (t, d), scale in legal.items() for v in scale]
        as_int = numeric.where(whole, -10**9).astype(np.int64)
        on_scale = pd.MultiIndex.from_arrays([frame["task_id"], frame["dimension"], as_int]).isin(triples)
        off = check & ~on_scale
        shown = frame[off].head(MAX_SHOWN)
        for ln, t, d, v in zip(shown.index, shown["task_id"], shown["dimension"], as_int[off][:MAX_SHOWN]):
            problems.append(Problem(name, f"score {v} is not on the scale of '{d}' {list(legal[(t, d)])}",
                                    row=int(ln), column="score", fix="enter a score point of the rubric"))
    report(~frame["read_type"].isin(("",) + READ_TYPES), "read_type", "unknown read type '{value}'",
           f"use one of: {', '.join(READ_TYPES)}", "read_type")
    report(~frame["rater_role"].isin(("",) + RATER_ROLES), "rater_role", "unknown rater role '{value}'",
           f"use one of: {', '.join(RATER_ROLES)}", "rater_role")
    stamps = pd.to_datetime(frame["timestamp"].where(frame["timestamp"] != ""), errors="coerce", utc=True,
                            format="ISO8601")
    report((stamps.isna() & (frame["timestamp"] != "")).to_numpy(), "timestamp",
           "timestamp '{value}' is not ISO 8601", "write e.g. 2026-10-14T09:30", "timestamp")

    frame["read_type"] = frame["read_type"].where(frame["read_type"] != "", default_read_type(session.kind))
    key = ["rater_id", "work_id", "task_id", "dimension", "read_type"]
    repeated = frame.duplicated(key, keep=False).to_numpy() & (frame["rater_id"] != "").to_numpy()
    if repeated.any():
        groups = frame[repeated].groupby(key, sort=False)
        for (rater, work, task, dim, read), group in list(groups)[:MAX_SHOWN]:
            distinct = sorted(set(group["score"]))
            lines = ", ".join(str(i) for i in group.index[:6])
            what = f"different scores {distinct}" if len(distinct) > 1 else f"the same score {distinct[0]}"
            problems.append(Problem(
                name, f"rater '{rater}' scored work '{work}' / {dim} ({read} read) more than once "
                f"({what}) on lines {lines}", row=int(group.index[0]), column="score",
                fix="keep one row per rater, work sample and dimension in a read"))
    if problems:
        raise SubmissionError(problems, summary=f"{name} was rejected ({len(problems)} problem(s); nothing stored)")
    if frame.empty:
        raise _file_problem(path, "the file has a header but no score rows", "add the scores")

    out = frame[list(STORED_COLUMNS) + list(flags)].copy()
    out["score"] = numeric.astype(np.int64)
    out["timestamp"] = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S%z").fillna("")
    out["rubric_id"] = out["task_id"].map({t: r[0] for t, r in rubric_of.items()})
    out["rubric_version"] = out["task_id"].map({t: r[1] for t, r in rubric_of.items()}).astype(np.int64)
    out["source_line"] = frame.index.to_numpy()
    return Submission(path=path, name=name, sha256=sha, layout=layout, n_rows=int(frame.index.nunique()),
                      scores=out.reset_index(drop=True), flag_columns=flags)
