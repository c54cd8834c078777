"""`irr validate`, `irr bank list|show`, `irr schema`: the rubric and task bank."""

from __future__ import annotations

import textwrap

import click

from irr.cli.options import BANK_OPTION
from irr.errors import BankError
from irr.model.bank import load_bank, resolve_bank_path, schema_text
from irr.model.task import REVIEW_STATUSES, TASK_KINDS


@click.command()
@click.argument("path", required=False, type=click.Path(file_okay=False))
@BANK_OPTION
def validate(path: str | None, bank_dir: str | None) -> None:
    """Check every rubric and task file of a bank; list all problems.

    Exits 0 when the bank is valid (warnings are printed but allowed), 1 with
    the numbered list of problems otherwise.
    """
    root = path or bank_dir
    try:
        bank = load_bank(root)
    except BankError as exc:
        n = len(exc.problems)
        try:
            where = f" {resolve_bank_path(root)}"
        except BankError:  # no bank anywhere: the problem itself lists what was searched
            where = ""
        click.echo(f"Error: INVALID bank{where} ({n} problem{'s' if n != 1 else ''}):", err=True)
        for i, problem in enumerate(exc.problems, 1):
            click.echo(f"{i:3d}. {problem}", err=True)
        raise SystemExit(1) from None
    for warning in bank.warnings:
        click.echo(f"warning: {warning}")
    click.echo(f"OK: {len(bank.rubrics)} rubrics, {len(bank.tasks)} tasks in {bank.root}")


@click.group("bank")
def bank_group() -> None:
    """Browse the rubric and task bank."""


@bank_group.command("list")
@BANK_OPTION
@click.option("--grade", type=int, multiple=True, help="Only these grades (repeatable).")
@click.option("--content-area", help="Only this content area (case-insensitive substring).")
@click.option("--kind", type=click.Choice(TASK_KINDS), help="common or local.")
@click.option("--status", type=click.Choice(REVIEW_STATUSES), help="Review status.")
def bank_list(bank_dir, grade, content_area, kind, status) -> None:
    """List tasks, one line each, filtered."""
    bank = load_bank(bank_dir)
    rows = [
        t
        for t in sorted(bank.tasks.values(), key=lambda t: (t.grade, t.id))
        if (not grade or t.grade in grade)
        and (not content_area or content_area.lower() in t.content_area.lower())
        and (not kind or t.kind == kind)
        and (not status or t.status == status)
    ]
    if not rows:
        click.echo("no tasks match")
        return
    header = ("TASK", "GRADE", "KIND", "STATUS", "RUBRIC", "ANCHORS", "TITLE")
    table = [header] + [
        (
            t.id,
            str(t.grade),
            t.kind if t.kind == "common" else f"local ({t.district})",
            t.status,
            t.rubric,
            str(len(t.anchors)),
            t.title,
        )
        for t in rows
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(header) - 1)]
    for r in table:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])


@bank_group.command("show")
@click.argument("task_id")
@BANK_OPTION
def bank_show(task_id: str, bank_dir: str | None) -> None:
    """Show a task, its rubric's dimensions and descriptors, and its anchor set."""
    bank = load_bank(bank_dir)
    task = bank.task(task_id)
    rubric = bank.rubric_for(task)
    echo = click.echo
    echo(click.style(f"{task.id}: {task.title}", bold=True))
    owner = "common task" if task.kind == "common" else f"local task of {task.district}"
    echo(f"{owner}; {task.content_area}, grade {task.grade}; DOK {task.dok}; status {task.status}")
    if task.competencies:
        echo(f"competencies: {', '.join(task.competencies)}")
    if task.description:
        echo(textwrap.fill(task.description.strip(), 96))
    echo("")
    echo(click.style(f"Rubric {rubric.ref}: {rubric.title}", bold=True))
    if rubric.achievement_cut:
        echo(f"achievement cut: {rubric.achievement_cut.label} at >= {rubric.achievement_cut.min_score}")
    for dim in rubric.dimensions:
        echo(f"  {dim.id} - {dim.name}")
        for score in dim.score_values:
            text = textwrap.fill(dim.descriptors[score], 88, subsequent_indent=" " * 8)
            echo(f"    {score} {dim.labels[score]}: {text}")
    echo("")
    echo(click.style(f"Anchor set ({len(task.anchors)} papers)", bold=True))
    if task.anchors:
        dims = rubric.dimension_ids
        echo("  " + "  ".join(["PAPER".ljust(10), "ROLE".ljust(11), "POS".ljust(4)] + [d[:12].rjust(12) for d in dims]))
        for paper in task.anchors:
            scores = [str(paper.scores.get(d, "-")).rjust(12) for d in dims]
            echo("  " + "  ".join([paper.id.ljust(10), paper.role.ljust(11), paper.position.ljust(4)] + scores))
            echo(textwrap.fill(paper.annotation.strip(), 92, initial_indent="      ", subsequent_indent="      "))


@click.command()
@click.argument("kind", type=click.Choice(["rubric", "task"]))
def schema(kind: str) -> None:
    """Print the JSON Schema of rubric or task files (for editor validation)."""
    click.echo(schema_text(kind))


COMMANDS = [validate, bank_group, schema]
