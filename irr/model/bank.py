"""Loading and validating the rubric and task bank (``rubrics/*.yaml``, ``tasks/*.yaml``).

Every file is read with a safe YAML loader and checked against the schemas in
:mod:`irr.model.rubric` and :mod:`irr.model.task`; then the files are checked
against each other (rubric references, anchor dimensions and scores).  All
problems of all files are collected and raised together as one
:class:`~irr.errors.BankError`, each naming the file, the field path and the
fix.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

import irr.resources as resources
from irr.errors import BankError, NotFoundError, Problem
from irr.model.rubric import Rubric
from irr.model.task import Task

__all__ = [
    "Bank",
    "BankLocation",
    "load_bank",
    "locate_bank",
    "resolve_bank_path",
    "json_schema",
    "BANK_ENV",
    "schema_text",
]

BANK_ENV = "IRR_BANK"
ANCHOR_SET_SIZE = (8, 15)


NO_BANK_FIX = "pass --bank DIR, set IRR_BANK=DIR, or create an editable copy with `irr init DIR`"


@dataclass(frozen=True)
class BankLocation:
    """A bank folder and how it was chosen (``source``: one of :data:`BANK_SOURCES`)."""

    path: Path
    source: str


#: The places searched for the bank, in order (see :func:`locate_bank`).
BANK_SOURCES = ("argument", BANK_ENV, "current directory", "repository checkout", "installed package")


def locate_bank(path: str | os.PathLike | None = None) -> BankLocation:
    """Find the bank folder, in this order; the first that applies wins.

    1. ``path`` (``--bank DIR``), as given, even when it is not a bank (the
       caller then reports what is wrong with it);
    2. ``$IRR_BANK``, likewise;
    3. the current directory, when it holds ``rubrics/`` and ``tasks/``: a
       folder made by ``irr init DIR`` is used by ``cd DIR`` alone, and this
       edited copy wins over the shipped bank;
    4. the repository checkout the package runs from (editable install);
    5. the copy bundled in the installed package (``irr/_bundled``).

    Raises
    ------
    BankError
        When none applies, naming every place searched and the fix.

    Examples
    --------
    >>> locate_bank("my-bank")
    BankLocation(path=PosixPath('my-bank'), source='argument')
    """
    if path is not None:
        return BankLocation(Path(path), "argument")
    if os.environ.get(BANK_ENV):
        return BankLocation(Path(os.environ[BANK_ENV]), BANK_ENV)
    cwd = Path.cwd()
    if resources.is_bank(cwd):
        return BankLocation(cwd, "current directory")
    checkout = resources.checkout_root()
    if checkout is not None:
        return BankLocation(checkout, "repository checkout")
    if resources.is_bank(resources.BUNDLED_DIR):
        return BankLocation(resources.BUNDLED_DIR, "installed package")
    searched = (
        f"--bank (not given); ${BANK_ENV} (not set); the current directory {cwd} (no rubrics/ and "
        f"tasks/); the repository checkout (none: the package runs from {resources.PACKAGE_DIR}); "
        f"the installed package's copy {resources.BUNDLED_DIR} (missing: reinstall irr-toolkit)"
    )
    raise BankError(
        [Problem("bank", f"no rubric and task bank found; searched: {searched}", fix=NO_BANK_FIX)],
        summary="no bank found",
    )


def resolve_bank_path(path: str | os.PathLike | None = None) -> Path:
    """The bank folder to use: :func:`locate_bank` without the source."""
    return locate_bank(path).path


@dataclass(frozen=True)
class Bank:
    """The rubrics and tasks of one bank folder.

    Attributes
    ----------
    root : Path
    rubrics : dict mapping ``(id, version)`` to :class:`Rubric`
    tasks : dict mapping task id to :class:`Task`
    warnings : tuple of :class:`~irr.errors.Problem` that do not make the bank invalid
    files : dict mapping rubric ref / task id to the file it came from
    """

    root: Path
    rubrics: dict[tuple[str, int], Rubric]
    tasks: dict[str, Task]
    warnings: tuple[Problem, ...] = ()
    files: dict[str, str] = field(default_factory=dict)

    def rubric(self, rubric_id: str, version: int | None = None) -> Rubric:
        """A rubric by id and version (the latest version when ``version`` is None)."""
        versions = sorted(v for (rid, v) in self.rubrics if rid == rubric_id)
        if not versions:
            raise NotFoundError(
                f"no rubric '{rubric_id}' in the bank at {self.root}"
                + _suggest(rubric_id, {rid for rid, _ in self.rubrics})
            )
        if version is None:
            return self.rubrics[(rubric_id, versions[-1])]
        if (rubric_id, int(version)) not in self.rubrics:
            raise NotFoundError(f"rubric '{rubric_id}' has no version {version}; versions: {versions}")
        return self.rubrics[(rubric_id, int(version))]

    def task(self, task_id: str) -> Task:
        try:
            return self.tasks[task_id]
        except KeyError:
            raise NotFoundError(
                f"no task '{task_id}' in the bank at {self.root}" + _suggest(task_id, self.tasks)
            ) from None

    def rubric_for(self, task: Task | str) -> Rubric:
        task = self.task(task) if isinstance(task, str) else task
        return self.rubric(task.rubric_id, task.rubric_version)

    def file_of(self, key: str) -> str:
        return self.files.get(key, "")


def _suggest(name: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(options), n=3)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def _field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _read_yaml(path: Path, root: Path, problems: list[Problem]) -> Any:
    rel = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(rel, "file is not UTF-8 text", fix="save the file as UTF-8"))
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.append(
            Problem(
                rel,
                f"YAML syntax error{where}: {problem}",
                fix="fix the indentation or quoting there; only plain YAML is accepted",
            )
        )
        return None
    if not isinstance(data, dict):
        problems.append(
            Problem(rel, "the file must hold one mapping (key: value lines)", fix="start the file with `id: ...`")
        )
        return None
    return data


def _schema_problems(rel: str, exc: PydanticValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = _field_path(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            fix = f"add `{err['loc'][-1]}`"
        elif err["type"] == "extra_forbidden":
            fix = "remove it or check its spelling"
        elif err["type"] == "literal_error":
            fix = f"use one of {err.get('ctx', {}).get('expected', '')}"
        else:
            fix = None
        problems.append(Problem(rel, message, field=loc or None, fix=fix))
    return problems


def load_bank(path: str | os.PathLike | None = None) -> Bank:
    """Load and validate a bank folder holding ``rubrics/`` and ``tasks/``.

    Raises
    ------
    BankError
        Listing every problem in every file (not only the first).

    Examples
    --------
    >>> bank = load_bank()
    >>> bank.task("ela-g8-argument").rubric
    'ela-argument@1'
    >>> bank.rubric("ela-argument").dimension("evidence").score_values
    (1, 2, 3, 4)
    """
    location = locate_bank(path)
    root = location.path
    # Only a given path or $IRR_BANK can point at a non-bank; say which one did.
    given = f" (the folder ${BANK_ENV} names)" if location.source == BANK_ENV else ""
    problems: list[Problem] = []
    if not root.is_dir():
        raise BankError([Problem(str(root), f"bank folder not found{given}", fix=NO_BANK_FIX)])
    for sub in ("rubrics", "tasks"):
        if not (root / sub).is_dir():
            problems.append(
                Problem(str(root), f"no {sub}/ folder{given}", fix=f"create {root / sub}, or {NO_BANK_FIX}")
            )
    if problems:
        raise BankError(problems, summary=f"{root} is not a bank (a folder with rubrics/ and tasks/)")

    files: dict[str, str] = {}
    rubrics: dict[tuple[str, int], Rubric] = {}
    for rel, rubric in _valid_records(root, "rubrics", Rubric, problems):
        if (rubric.id, rubric.version) in rubrics:
            problems.append(
                Problem(
                    rel,
                    f"rubric {rubric.ref} is also defined in {files[rubric.ref]}",
                    field="version",
                    fix="give the new rubric a higher version",
                )
            )
            continue
        rubrics[(rubric.id, rubric.version)] = rubric
        files[rubric.ref] = rel

    tasks: dict[str, Task] = {}
    warnings: list[Problem] = []
    for rel, task in _valid_records(root, "tasks", Task, problems):
        if task.id in tasks:
            problems.append(
                Problem(
                    rel,
                    f"task id '{task.id}' is also used by {files[task.id]}",
                    field="id",
                    fix="give each task its own id",
                )
            )
            continue
        tasks[task.id] = task
        files[task.id] = rel
        problems.extend(_cross_check(task, rel, rubrics, warnings))

    if problems:
        raise BankError(problems, summary=f"the bank at {root} has {len(problems)} problem(s)")
    return Bank(root=root, rubrics=rubrics, tasks=tasks, warnings=tuple(warnings), files=files)


def _valid_records(root: Path, folder: str, model, problems: list[Problem]):
    """(relative path, validated record) for every YAML file of a bank folder; problems collected."""
    for file in sorted((root / folder).glob("*.y*ml")):
        rel = str(file.relative_to(root))
        data = _read_yaml(file, root, problems)
        if data is None:
            continue
        try:
            yield rel, model.model_validate(data)
        except PydanticValidationError as exc:
            problems.extend(_schema_problems(rel, exc))


def _cross_check(task: Task, rel: str, rubrics: dict, warnings: list[Problem]) -> list[Problem]:
    """Checks of a task against its rubric; anchor-set coverage goes to warnings."""
    problems: list[Problem] = []
    rubric = rubrics.get((task.rubric_id, task.rubric_version))
    if rubric is None:
        versions = sorted(v for rid, v in rubrics if rid == task.rubric_id)
        if versions:
            fix = f"use one of the versions that exist: {', '.join(f'{task.rubric_id}@{v}' for v in versions)}"
            message = f"rubric '{task.rubric_id}' has no version {task.rubric_version}"
        else:
            known = sorted({rid for rid, _ in rubrics})
            fix = "add the rubric to rubrics/ or reference one of: " + ", ".join(known)
            message = f"unknown rubric '{task.rubric_id}'" + _suggest(task.rubric_id, known)
        return [Problem(rel, message, field="rubric", fix=fix)]
    dims = {d.id: d for d in rubric.dimensions}
    for i, paper in enumerate(task.anchors):
        for dim_id, score in paper.scores.items():
            where = f"anchors[{i}].scores.{dim_id}"
            if dim_id not in dims:
                problems.append(
                    Problem(
                        rel,
                        f"anchor '{paper.id}' scores dimension '{dim_id}', which rubric {rubric.ref} lacks"
                        + _suggest(dim_id, dims),
                        field=where,
                        fix=f"use the rubric's dimensions: {', '.join(dims)}",
                    )
                )
            elif score not in dims[dim_id].score_values:
                problems.append(
                    Problem(
                        rel,
                        f"anchor '{paper.id}' has score {score} on '{dim_id}', off its scale "
                        f"{list(dims[dim_id].score_values)}",
                        field=where,
                        fix="use a score point of the dimension's scale",
                    )
                )
        missing = [d for d in dims if d not in paper.scores]
        if missing:
            problems.append(
                Problem(
                    rel,
                    f"anchor '{paper.id}' has no consensus score for {missing}",
                    field=f"anchors[{i}].scores",
                    fix="add the panel's score for every rubric dimension",
                )
            )
    if task.kind == "common" and task.status != "retired":
        low, high = ANCHOR_SET_SIZE
        if not low <= len(task.anchors) <= high:
            warnings.append(
                Problem(
                    rel,
                    f"common task has {len(task.anchors)} anchor papers; calibration sets usually hold {low}-{high}",
                    field="anchors",
                )
            )
        for dim in rubric.dimensions:
            used = {p.scores.get(dim.id) for p in task.anchors}
            uncovered = [s for s in dim.score_values if s not in used]
            if task.anchors and uncovered:
                warnings.append(
                    Problem(
                        rel,
                        f"no anchor paper shows score point(s) {uncovered} on '{dim.id}'",
                        field="anchors",
                        fix="add papers for every score point before calibrating",
                    )
                )
    return problems


def json_schema(kind: str) -> dict:
    """JSON Schema of a rubric or task file, for editors (``irr schema rubric|task``)."""
    models: dict[str, type[BaseModel]] = {"rubric": Rubric, "task": Task}
    if kind not in models:
        raise NotFoundError(f"no schema '{kind}'; choose 'rubric' or 'task'")
    schema = models[kind].model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"irr-toolkit {kind} file"
    return schema


def schema_text(kind: str) -> str:
    return json.dumps(json_schema(kind), indent=2)
