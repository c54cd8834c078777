"""Qualification rule profiles (``profiles/*.yaml``) and their evaluation.

A profile is a list of rules; a rater qualifies when every rule passes.  Each
rule names a metric of the rater's scores against the anchors' consensus,
a bound (``min`` or ``max``, or ``min_by_scale_points`` keyed by the number of
score points of the dimension) and a scope: ``overall`` (all dimensions
pooled) or ``each_dimension`` (every dimension must pass: "traits must pass").

Metrics: ``exact`` and ``exact_adjacent`` (proportions), ``exact_count``,
``discrepant`` (number of scores >= 2 points from consensus) and ``decision``
(share of papers with the same pass/fail decision as the consensus, using the
rubric's achievement cut on the paper's mean score).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

import irr.resources as resources
from irr.errors import BankError, NotFoundError, Problem, ValidationError
from irr.model.bank import Bank, resolve_bank_path

__all__ = [
    "Rule",
    "Profile",
    "ComparabilityProfile",
    "load_profile",
    "load_comparability_profile",
    "available_profiles",
    "profile_dirs",
    "PROFILES_ENV",
]

METRICS = ("exact", "exact_adjacent", "exact_count", "discrepant", "decision")


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: Literal["exact", "exact_adjacent", "exact_count", "discrepant", "decision"]
    scope: Literal["overall", "each_dimension"] = "overall"
    min: Optional[float] = None
    max: Optional[float] = None
    min_by_scale_points: Optional[dict[int, float]] = None
    label: Optional[str] = None

    @model_validator(mode="after")
    def one_bound(self) -> "Rule":
        given = [b for b in (self.min, self.max, self.min_by_scale_points) if b is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of min, max, min_by_scale_points")
        return self

    def threshold(self, scale_points: int) -> tuple[str, float] | None:
        """``("min"|"max", value)`` for a dimension with this many score points."""
        if self.min is not None:
            return "min", self.min
        if self.max is not None:
            return "max", self.max
        table = self.min_by_scale_points or {}
        if scale_points in table:
            return "min", table[scale_points]
        return None

    def describe(self) -> str:
        if self.label:
            return self.label
        bound = (
            f">= {self.min}"
            if self.min is not None
            else f"<= {self.max}"
            if self.max is not None
            else f">= {self.min_by_scale_points} by scale length"
        )
        return f"{self.metric} {bound} ({self.scope})"


class Profile(BaseModel):
    """Qualification rules for raters (``kind: qualification``, the default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: Literal["qualification"] = "qualification"
    title: str
    source: str = ""
    rules: list[Rule] = Field(min_length=1)
    path: Optional[str] = None


class DifferenceRule(BaseModel):
    """How large a district's mean local - audit difference must be to matter."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    statistic: Literal["smd", "points"] = "smd"
    threshold: float = Field(default=0.15, ge=0)
    label: Optional[str] = None


class InconsistencyRule(BaseModel):
    """How far below the other districts' agreement with the audit a district must be."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    qwk_drop: float = Field(default=0.10, ge=0)
    exact_drop: float = Field(default=0.10, ge=0)
    label: Optional[str] = None


class EquityRule(BaseModel):
    """How large a subgroup's conditional difference (in score SDs) must be to matter."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    threshold: float = Field(default=0.10, ge=0)
    label: Optional[str] = None


class ComparabilityProfile(BaseModel):
    """Thresholds of the district comparability analysis (``kind: comparability``).

    A district is flagged lenient or severe when its mean difference is statistically clear
    after ``multiplicity`` control across districts at ``alpha`` *and* at least
    ``difference.threshold`` (score SDs or score points); inconsistent when its agreement
    with the audit is clearly below the other districts' by the ``inconsistency`` drops.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: Literal["comparability"]
    title: str
    source: str = ""
    alpha: float = Field(default=0.05, gt=0, lt=1)
    multiplicity: Literal["holm", "fdr_bh", "bonferroni", "none"] = "holm"
    min_n: int = Field(default=10, ge=1)
    difference: DifferenceRule = DifferenceRule()
    inconsistency: InconsistencyRule = InconsistencyRule()
    equity: EquityRule = EquityRule()
    path: Optional[str] = None


PROFILES_ENV = "IRR_PROFILES"


def profile_dirs(bank: Bank | str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for a profile given by name, in order; the first match wins.

    1. ``profiles/`` next to the bank in use (``bank``: a :class:`Bank` or its
       folder; else the one :func:`~irr.model.bank.locate_bank` finds:
       ``$IRR_BANK``, the current directory, ...), so that a folder made by
       ``irr init DIR`` brings its own editable profiles;
    2. ``$IRR_PROFILES``;
    3. ``./profiles``;
    4. the shipped profiles (repository checkout, else the installed package),
       also when the shipped bank is the one in use.

    Examples
    --------
    >>> profile_dirs("my-bank")[0]
    PosixPath('my-bank/profiles')
    """
    shipped = resources.data_path("profiles")
    dirs: list[Path] = []
    try:
        if bank is None or isinstance(bank, (str, os.PathLike)):
            dirs.append(resolve_bank_path(bank) / "profiles")
        elif hasattr(bank, "root"):  # a Bank
            dirs.append(Path(bank.root) / "profiles")
    except BankError:  # no bank anywhere: the other places still hold profiles
        pass
    if os.environ.get(PROFILES_ENV):
        dirs.append(Path(os.environ[PROFILES_ENV]))
    dirs.append(Path.cwd() / "profiles")
    # The shipped profiles come last even when the shipped bank is in use, so
    # that $IRR_PROFILES and ./profiles can override them.
    if shipped is not None:
        dirs = [d for d in dirs if d.resolve() != shipped.resolve()] + [shipped]
    unique: list[Path] = []
    for d in dirs:  # the bank is often the current directory: search each folder once
        if not any(d.resolve() == u.resolve() for u in unique):
            unique.append(d)
    return unique


def available_profiles(bank: Bank | str | os.PathLike | None = None) -> list[str]:
    """Names of the profiles found in :func:`profile_dirs`."""
    names: set[str] = set()
    for d in profile_dirs(bank):
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.yaml"))
    return sorted(names)


def _profile_path(name_or_path: str | os.PathLike, bank) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path
    candidates = [d / f"{name_or_path}.yaml" for d in profile_dirs(bank)]
    found = next((c for c in candidates if c.exists()), None)
    if found is None:
        raise NotFoundError(
            f"no rule profile '{name_or_path}'; available: "
            f"{', '.join(available_profiles(bank))} (or give the path of a profile YAML "
            f"file); searched: {', '.join(str(d) for d in profile_dirs(bank))}"
        )
    return found


def _read_profile(path: Path, model, kind: str, use: str):
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValidationError([Problem(str(path), f"YAML syntax error: {exc}")]) from None
    found = data.get("kind", "qualification") if isinstance(data, dict) else None
    if found in ("qualification", "comparability") and found != kind:
        raise ValidationError(
            [Problem(str(path), f"is a {found} profile, not a {kind} profile", fix=f"use a {kind} profile {use}")]
        )
    try:
        return model.model_validate({**data, "path": str(path)})
    except PydanticValidationError as exc:
        raise ValidationError(
            [Problem(str(path), e["msg"], field=".".join(map(str, e["loc"]))) for e in exc.errors()]
        ) from None


def load_profile(name_or_path: str | os.PathLike | Profile, bank: Bank | str | os.PathLike | None = None) -> Profile:
    """A qualification profile by name (``pace``, ``naep``, ``pact``, ``pearson``) or YAML path.

    A name is looked up in :func:`profile_dirs` (``bank``: the bank in use, a
    :class:`Bank` or its folder, whose ``profiles/`` is searched first).
    """
    if isinstance(name_or_path, Profile):
        return name_or_path
    return _read_profile(_profile_path(name_or_path, bank), Profile, "qualification", "with irr calibrate")


def load_comparability_profile(
    name_or_path: str | os.PathLike | ComparabilityProfile = "comparability",
    bank: Bank | str | os.PathLike | None = None,
) -> ComparabilityProfile:
    """A comparability profile (``kind: comparability``) by name or YAML path; default the
    shipped ``comparability`` profile.

    Examples
    --------
    >>> profile = load_comparability_profile()
    >>> profile.difference.statistic, profile.difference.threshold, profile.min_n
    ('smd', 0.15, 10)
    """
    if isinstance(name_or_path, ComparabilityProfile):
        return name_or_path
    return _read_profile(_profile_path(name_or_path, bank), ComparabilityProfile, "comparability", "with irr compare")
