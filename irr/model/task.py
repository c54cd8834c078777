"""Performance tasks of the bank and their anchor sets."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from irr.errors import NotFoundError

__all__ = ["AnchorPaper", "Task", "TASK_KINDS", "REVIEW_STATUSES", "ANCHOR_ROLES", "POSITIONS"]

TASK_KINDS = ("common", "local")
REVIEW_STATUSES = ("draft", "validated", "piloted", "approved", "retired")
ANCHOR_ROLES = ("anchor", "practice", "calibration", "qualifying", "validity")
POSITIONS = ("low", "mid", "high")


class AnchorPaper(BaseModel):
    """A piece of student work with the expert panel's consensus scores."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, description="Paper id, used as work_id in score sheets.")
    scores: dict[str, int] = Field(min_length=1, description="Dimension id -> consensus score.")
    position: Literal["low", "mid", "high"] = Field(
        description="Where the paper sits within its score point: a low, prototypical (mid) or high 3."
    )
    role: Literal["anchor", "practice", "calibration", "qualifying", "validity"]
    annotation: str = Field(min_length=1, description="Why the panel gave these scores.")
    document: Optional[str] = Field(
        default=None,
        description="The paper itself (a PDF or image), as a path relative to the bank folder, e.g. "
        "'anchors/ela-g8-argument/A1.pdf'; `irr serve` shows it when the file is there.",
    )


class Task(BaseModel):
    """A common or local performance task tied to a versioned rubric."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    title: str = Field(min_length=1)
    kind: Literal["common", "local"]
    district: Optional[str] = Field(default=None, description="Owning district (required for local tasks).")
    content_area: str = Field(min_length=1)
    grade: int = Field(ge=0, le=12)
    competencies: list[str] = Field(default_factory=list)
    dok: int = Field(ge=1, le=4, description="Webb's Depth of Knowledge, 1-4.")
    rubric: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*@[0-9]+$", description="Rubric reference 'id@version'.")
    status: Literal["draft", "validated", "piloted", "approved", "retired"]
    description: Optional[str] = None
    anchors: list[AnchorPaper] = Field(default_factory=list)

    @model_validator(mode="after")
    def check_task(self) -> "Task":
        if self.kind == "local" and not self.district:
            raise ValueError("a local task must name its owning district (add `district:`)")
        ids = [a.id for a in self.anchors]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"anchor paper ids repeat: {repeated}; give each paper its own id")
        return self

    @property
    def rubric_id(self) -> str:
        return self.rubric.split("@")[0]

    @property
    def rubric_version(self) -> int:
        return int(self.rubric.split("@")[1])

    def anchor(self, paper_id: str) -> AnchorPaper:
        for paper in self.anchors:
            if paper.id == paper_id:
                return paper
        raise NotFoundError(f"task '{self.id}' has no anchor paper '{paper_id}'")
