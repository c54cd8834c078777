"""Rubrics: versioned, with dimensions, ordered score points and descriptors."""

from __future__ import annotations

import re
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from irr.errors import NotFoundError

__all__ = ["ScorePoint", "Dimension", "AchievementCut", "Rubric", "normalise_condition_code"]

_ID = r"^[a-z0-9][a-z0-9_.-]*$"
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")  # starts with a letter: a code can never read as a score


def normalise_condition_code(text: str) -> str:
    """How a score cell is matched against condition codes: lower case, runs of space, ``-`` or ``_`` -> ``_``.

    >>> normalise_condition_code(" Off-topic "), normalise_condition_code("NON ENGLISH")
    ('off_topic', 'non_english')
    """
    return re.sub(r"[\s_-]+", "_", str(text).strip().lower())


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScorePoint(_Frozen):
    """One point of a score scale, e.g. ``3 Proficient``."""

    score: int = Field(description="The score value a rater records.")
    label: str = Field(min_length=1, description="Short name of the level, e.g. 'Proficient'.")


def _check_codes(codes: list[str] | None) -> tuple[str, ...] | None:
    if codes is None:
        return None
    bad = [c for c in codes if not _CODE.match(c)]
    if bad:
        raise ValueError(
            f"condition codes {bad} are not lowercase identifiers; write e.g. off_topic "
            "(a letter first, then letters, digits or _)"
        )
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise ValueError(f"condition codes repeat: {repeated}; list each code once")
    return tuple(codes)


def _check_scale(points: list[ScorePoint]) -> list[ScorePoint]:
    scores = [p.score for p in points]
    if len(points) < 2:
        raise ValueError("a scale needs at least 2 score points")
    if len(set(scores)) != len(scores):
        raise ValueError(f"score points repeat: {scores}; list each score once")
    if scores != sorted(scores):
        raise ValueError(f"score points must be listed from lowest to highest, got {scores}")
    return points


class Dimension(_Frozen):
    """A rubric dimension (trait/criterion) with a descriptor for each score point.

    ``scale`` is the dimension's own scale if the rubric gives one, otherwise
    the rubric's scale (filled in when the rubric is validated).

    ``condition_codes`` are the non-score labels a rater may record instead of
    a score (``blank``, ``off_topic``, ``illegible``, ``non_english``): the
    dimension's own list *replaces* the rubric's ``condition_codes`` (as its
    ``scale`` does; write ``condition_codes: []`` for none).  After the rubric
    is validated it is the effective tuple, possibly empty.
    """

    id: str = Field(pattern=_ID, description="Short identifier used in score sheets, e.g. 'evidence'.")
    name: str = Field(min_length=1)
    competencies: list[str] = Field(default_factory=list)
    scale: Optional[list[ScorePoint]] = Field(default=None, description="Only if it differs from the rubric's scale.")
    descriptors: dict[int, str] = Field(description="Score -> what work at that level looks like.")
    condition_codes: Optional[tuple[str, ...]] = Field(
        default=None,
        description="Non-score codes for this dimension (replaces the rubric's list), "
        "e.g. [blank, off_topic]; [] for none.",
    )

    @field_validator("scale")
    @classmethod
    def check_scale(cls, value):
        return value if value is None else _check_scale(value)

    @field_validator("condition_codes", mode="before")
    @classmethod
    def check_condition_codes(cls, value):
        return _check_codes(list(value)) if isinstance(value, (list, tuple)) else value

    @property
    def score_values(self) -> tuple[int, ...]:
        """The legal scores, ascending."""
        return tuple(p.score for p in (self.scale or ()))

    @property
    def labels(self) -> dict[int, str]:
        return {p.score: p.label for p in (self.scale or ())}


class AchievementCut(_Frozen):
    """The score at and above which work meets the standard (e.g. proficient >= 3)."""

    label: str = Field(min_length=1)
    min_score: int


class Rubric(_Frozen):
    """A versioned analytic rubric."""

    id: str = Field(pattern=_ID)
    version: int = Field(ge=1)
    title: str = Field(min_length=1)
    content_area: str = Field(min_length=1)
    grade_span: str = Field(min_length=1, description="e.g. '6-8'")
    description: Optional[str] = None
    scale: list[ScorePoint]
    dimensions: list[Dimension] = Field(min_length=1)
    achievement_cut: Optional[AchievementCut] = None
    condition_codes: tuple[str, ...] = Field(
        default=(),
        description="Non-score codes a rater may record instead of a score, for every dimension "
        "that does not list its own, e.g. [blank, off_topic, illegible, non_english].",
    )

    @field_validator("scale")
    @classmethod
    def check_scale(cls, value):
        return _check_scale(value)

    @field_validator("condition_codes", mode="before")
    @classmethod
    def check_condition_codes(cls, value):
        return _check_codes(list(value)) if isinstance(value, (list, tuple)) else value

    @model_validator(mode="after")
    def fill_and_check(self) -> "Rubric":
        ids = [d.id for d in self.dimensions]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"dimension ids repeat: {repeated}; give each dimension its own id")
        filled = []
        for dim in self.dimensions:
            scale = dim.scale or self.scale
            scores = [p.score for p in scale]
            missing = [s for s in scores if s not in dim.descriptors]
            extra = [s for s in dim.descriptors if s not in scores]
            if missing:
                raise ValueError(
                    f"dimension '{dim.id}' has no descriptor for score point(s) {missing}; "
                    "write what work at each level looks like"
                )
            if extra:
                raise ValueError(
                    f"dimension '{dim.id}' has descriptors for {extra}, which are not on its scale {scores}"
                )
            codes = self.condition_codes if dim.condition_codes is None else dim.condition_codes
            labels = {normalise_condition_code(p.label): p.score for p in scale}
            clash = [c for c in codes if c in labels]
            if clash:
                raise ValueError(
                    f"condition code(s) {clash} of dimension '{dim.id}' are also score labels of its scale; "
                    "a cell reading that word would be ambiguous -> rename the code (e.g. 'not_scorable')"
                )
            filled.append(dim.model_copy(update={"scale": list(scale), "condition_codes": tuple(codes)}))
        object.__setattr__(self, "dimensions", filled)
        if self.achievement_cut is not None:
            cut = self.achievement_cut.min_score
            for dim in filled:
                if not (min(dim.score_values) < cut <= max(dim.score_values)):
                    raise ValueError(
                        f"achievement cut {cut} is not inside dimension '{dim.id}' scale {list(dim.score_values)}"
                    )
        return self

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    def dimension(self, dimension_id: str) -> Dimension:
        for dim in self.dimensions:
            if dim.id == dimension_id:
                return dim
        raise NotFoundError(
            f"rubric {self.ref} has no dimension '{dimension_id}'; its dimensions are {[d.id for d in self.dimensions]}"
        )

    @property
    def dimension_ids(self) -> list[str]:
        return [d.id for d in self.dimensions]
