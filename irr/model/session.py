"""Scoring sessions (the manifest) and the vocabulary of score rows."""
from __future__ import annotations

import datetime as dt
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Session", "SESSION_KINDS", "READ_TYPES", "RATER_ROLES", "default_read_type",
           "REQUIRED_COLUMNS", "OPTIONAL_COLUMNS", "FLAG_PREFIX"]

SESSION_KINDS = ("calibration", "regional_scoring", "audit", "local")
READ_TYPES = ("first", "second", "backread", "consensus", "audit", "calibration")
RATER_ROLES = ("teacher", "expert", "auditor")
REQUIRED_COLUMNS = ("rater_id", "work_id", "task_id")
OPTIONAL_COLUMNS = ("rater_district", "rater_role", "work_district", "school", "read_type", "timestamp")
FLAG_PREFIX = "flag_"


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
