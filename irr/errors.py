"""The one exception hierarchy of irr-toolkit.

Every error the toolkit raises on purpose derives from :class:`IrrError`, so a
caller (and the CLI) can catch one class and show its message instead of a
traceback.  Messages name the place (file, row, field) and the fix.

This module imports nothing from the project: every layer may import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence


class IrrError(Exception):
    """Base class of every error raised deliberately by irr-toolkit."""

    exit_code = 1


# --- statistics ------------------------------------------------------------
class DataError(IrrError, ValueError):
    """The ratings given to a statistic cannot be used as they are."""


class CategoryError(DataError):
    """A score is not a point of the declared category scale."""


class NonNumericScaleError(CategoryError):
    """A statistic needs numeric score values (weights, distances, ICC) but some
    categories of the scale are labels without one (e.g. ``'blank'``)."""


class UnorderedScaleError(CategoryError):
    """A statistic needs the order of the categories (ordinal alpha) but the
    scale is a set of labels whose order nobody declared."""


class InsufficientDataError(DataError):
    """Too few units, ratings or raters for the statistic requested."""


class RaterIdentityError(DataError):
    """The statistic needs to know which rater gave which score (e.g. Cohen,
    Conger, ICC) but the ratings carry none (built from unit x category counts)."""


# --- data files: rubrics, tasks, submissions --------------------------------
@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as known."""

    file: str
    message: str
    field: str | None = None
    row: int | None = None
    column: str | None = None
    fix: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        if self.field:
            where += f", field '{self.field}'"
        text = f"{where}: {self.message}"
        if self.fix:
            text += f" -> {self.fix}"
        return text


class ValidationError(IrrError):
    """One or more problems found in input files; all are reported at once."""

    def __init__(self, problems: Iterable[Problem], summary: str | None = None):
        self.problems: tuple[Problem, ...] = tuple(problems)
        n = len(self.problems)
        head = summary or f"{n} problem{'s' if n != 1 else ''} found"
        body = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{head}:\n{body}" if body else head)


class BankError(ValidationError):
    """The rubric/task bank is invalid."""


class SubmissionError(ValidationError):
    """A scorer submission file is invalid and was rejected whole."""


class FolderNotEmptyError(IrrError, FileExistsError):
    """``irr init`` was pointed at a folder that already holds files (and no ``--force``)."""


class NotFoundError(IrrError, LookupError):
    """A named rubric, task, session, rater or profile does not exist."""


# --- the store ---------------------------------------------------------------
class StoreError(IrrError):
    """The embedded store cannot do what was asked."""


class StoreBusyError(StoreError):
    """Another process held the store's write lock for longer than the timeout."""


class ConflictError(StoreError):
    """The request conflicts with what the store already holds (e.g. a changed
    file for an existing session without ``--replace``)."""


def problems_to_text(problems: Sequence[Problem]) -> str:
    return "\n".join(str(p) for p in problems)
