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

__all__ = ["Rule", "Profile", "load_profile", "available_profiles", "profile_dirs", "PROFILES_ENV"]

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
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    source: str = ""
    rules: list[Rule] = Field(min_length=1)
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


def load_profile(name_or_path: str | os.PathLike | Profile, bank: Bank | str | os.PathLike | None = None) -> Profile:
    """A profile by name (``pace``, ``naep``, ``pact``, ``pearson``) or YAML path.

    A name is looked up in :func:`profile_dirs` (``bank``: the bank in use, a
    :class:`Bank` or its folder, whose ``profiles/`` is searched first).
    """
    if isinstance(name_or_path, Profile):
        return name_or_path
    path = Path(name_or_path)
    if not (path.suffix in (".yaml", ".yml") and path.exists()):
        candidates = [d / f"{name_or_path}.yaml" for d in profile_dirs(bank)]
        found = next((c for c in candidates if c.exists()), None)
        if found is None:
            raise NotFoundError(
                f"no rule profile '{name_or_path}'; available: "
                f"{', '.join(available_profiles(bank))} (or give the path of a profile YAML "
                f"file); searched: {', '.join(str(d) for d in profile_dirs(bank))}"
            )
        path = found
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Profile.model_validate({**data, "path": str(path)})
    except yaml.YAMLError as exc:
        raise ValidationError([Problem(str(path), f"YAML syntax error: {exc}")]) from None
    except PydanticValidationError as exc:
        raise ValidationError(
            [Problem(str(path), e["msg"], field=".".join(map(str, e["loc"]))) for e in exc.errors()]
        ) from None
