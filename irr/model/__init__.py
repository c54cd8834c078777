"""Layer 2: the records of the toolkit, as validated schemas (pydantic).

Rubrics and tasks (the bank), anchor papers, and -- in :mod:`irr.model.session`
-- scoring sessions and score rows.
"""

from irr.model.bank import Bank, json_schema, load_bank, resolve_bank_path
from irr.model.rubric import AchievementCut, Dimension, Rubric, ScorePoint
from irr.model.task import AnchorPaper, Task

__all__ = [
    "Bank",
    "load_bank",
    "resolve_bank_path",
    "json_schema",
    "Rubric",
    "Dimension",
    "ScorePoint",
    "AchievementCut",
    "Task",
    "AnchorPaper",
]
