"""Scoring sessions (the manifest) and the vocabulary of score rows."""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from irr.errors import Problem, ValidationError

__all__ = [
    "Session",
    "session_from_mapping",
    "SESSION_KINDS",
    "READ_TYPES",
    "RATER_ROLES",
    "default_read_type",
    "REQUIRED_COLUMNS",
    "OPTIONAL_COLUMNS",
    "FLAG_PREFIX",
    "WORK_COLUMNS",
    "SCORE_KEY",
]

SESSION_KINDS = ("calibration", "regional_scoring", "audit", "local")
READ_TYPES = ("first", "second", "backread", "consensus", "audit", "calibration")
RATER_ROLES = ("teacher", "expert", "auditor")
REQUIRED_COLUMNS = ("rater_id", "work_id", "task_id")
OPTIONAL_COLUMNS = (
    "rater_district",
    "rater_role",
    "work_district",
    "school",
    "student_id",
    "read_type",
    "timestamp",
)
FLAG_PREFIX = "flag_"

# Columns that describe the work (the student's paper), not the score: with the ``flag_*`` subgroup
# columns they hold one value on every row of a work_id, within a file and across the store.
# ``student_id`` is a pseudonymous id that links one student's works on several tasks; like the
# flags it is personal data (stored, never printed in a report).
WORK_COLUMNS = ("work_district", "school", "student_id")


# The key of a score: one per rater x work x dimension *within a read type*.  A rater may
# legitimately read the same paper again as a different read (a 'consensus' or 'backread' read
# after a 'first'), so read_type is part of the key, within a file and across a session's files.
SCORE_KEY = ("rater_id", "work_id", "task_id", "dimension", "read_type")


def default_read_type(kind: str) -> str:
    """The read type of rows that do not say: calibration and audit sessions name theirs."""
    return {"calibration": "calibration", "audit": "audit"}.get(kind, "first")


class Session(BaseModel):
    """A session manifest (``session.yaml``): what was scored, when and where.

    ``column_map`` maps the toolkit's column names to the headers of the score
    sheets, e.g. ``{rater_id: Teacher, work_id: "Paper ID"}``; it is remembered
    in the store for the session.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    kind: Literal["calibration", "regional_scoring", "audit", "local"]
    date: dt.date
    region: Optional[str] = None
    facilitator: Optional[str] = None
    description: Optional[str] = None
    column_map: dict[str, str] = Field(default_factory=dict)


_FIXES = {
    "id": "write a short id of letters, digits and . _ : - (e.g. seacoast-calibration-2026-10)",
    "kind": f"use one of: {', '.join(SESSION_KINDS)}",
    "date": "write the date as YYYY-MM-DD, e.g. 2026-10-14",
    "column_map": "write a mapping of toolkit column to your header, e.g. column_map: {rater_id: Teacher}",
}


def session_from_mapping(data: Any, source: str = "session") -> Session:
    """A :class:`Session` from manifest data, every problem raised as one
    :class:`~irr.errors.ValidationError` naming ``source``, the field and the fix.

    >>> session_from_mapping({"id": "s1", "kind": "audit", "date": "2026-11-02"}).date
    datetime.date(2026, 11, 2)
    """
    if data is None:
        raise ValidationError(
            [
                Problem(
                    source,
                    "the manifest is empty",
                    fix="write at least id, kind and date, e.g. 'id: s1', 'kind: audit', 'date: 2026-11-02'",
                )
            ]
        )
    if not isinstance(data, dict):
        raise ValidationError(
            [
                Problem(
                    source,
                    f"the manifest is a {type(data).__name__}, not a mapping of fields",
                    fix="write one 'field: value' per line (id, kind, date, ...)",
                )
            ]
        )
    fields = list(Session.model_fields)
    data = {(k.isoformat() if isinstance(k, (dt.date, dt.datetime)) else str(k)): v for k, v in data.items()}
    try:
        return Session.model_validate(data)
    except PydanticValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = [str(part) for part in error["loc"]]
            top = loc[0] if loc else ""
            if error["type"] == "extra_forbidden":
                near = difflib.get_close_matches(top, fields, n=1)
                problems.append(
                    Problem(
                        source,
                        f"unknown field '{top}'",
                        field=top,
                        fix=(f"did you mean '{near[0]}'? " if near else "") + f"the fields are: {', '.join(fields)}",
                    )
                )
                continue
            value = error.get("input")
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "missing":
                message = "is missing"
            elif not isinstance(value, (dict, list)):
                message = f"{value!r}: {message}"
            fix = _FIXES.get(top)
            if error["type"] == "string_type" and not isinstance(value, (dict, list)):
                fix = "put the value in quotes" + (f"; {fix}" if fix and top != "column_map" else "")
            problems.append(Problem(source, message, field=".".join(loc) or None, fix=fix))
        raise ValidationError(problems, summary=f"{source}: the session is not valid") from None
