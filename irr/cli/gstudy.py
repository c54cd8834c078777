"""`irr gstudy`: a generalizability study (how many tasks and raters a reliable score needs).

Options -> store query -> :func:`irr.analysis.gstudy.g_study` -> report
(:func:`irr.cli.output.emit`); nothing is computed or formatted here but Φ(λ) at the asked cut
scores, which the result's own :meth:`~irr.analysis.gstudy.GStudyResult.phi_lambda` gives.
"""

from __future__ import annotations

from pathlib import Path

import click

from irr.cli.options import BANK_OPTION
from irr.cli.output import emit, report_options
from irr.cli.store import STORE_OPTION, open_existing_store, require_sessions_or_all, selected_scores


def _columns(value: str | None, hint: str) -> list[str]:
    names = [c.strip() for c in (value or "").split(",") if c.strip()]
    if not names:
        raise click.BadParameter("give one or more columns separated by commas", param_hint=hint)
    return names


def _nested(values: tuple[str, ...]) -> dict[str, str]:
    """``("rater_id:task_id",)`` -> ``{"rater_id": "task_id"}`` (child nested in parent)."""
    out = {}
    for value in values:
        parts = [p.strip() for p in value.split(":")]
        if len(parts) != 2 or not all(parts):
            raise click.BadParameter(
                f"{value!r}: give CHILD:PARENT, e.g. rater_id:task_id (raters nested in tasks)", param_hint="--nested"
            )
        out[parts[0]] = parts[1]
    return out


def _sizes(values: tuple[str, ...]) -> dict[str, list[int]] | None:
    """``("task_id=1,2,4", "rater_id=1,2")`` -> ``{"task_id": [1, 2, 4], "rater_id": [1, 2]}``."""
    if not values:
        return None
    out: dict[str, list[int]] = {}
    for value in values:
        facet, sep, numbers = value.partition("=")
        try:
            sizes = [int(n) for n in numbers.split(",") if n.strip()]
        except ValueError:
            sizes = []
        if not sep or not facet.strip() or not sizes or min(sizes) < 1:
            raise click.BadParameter(
                f"{value!r}: give FACET=N,N,... with whole numbers of 1 or more, e.g. rater_id=1,2,3",
                param_hint="--d-study",
            )
        out.setdefault(facet.strip(), [])
        out[facet.strip()] = sorted(set(out[facet.strip()]) | set(sizes))
    return out


@click.command()
@click.option("--session", "sessions", multiple=True, help="A session to include (repeat); or --all.")
@click.option("--all", "all_sessions", is_flag=True, help="Every session in the store.")
@click.option("--task", "tasks", multiple=True, help="Only this task (repeat).")
@click.option(
    "--object",
    "object_",
    default="student_id",
    show_default=True,
    help="The object of measurement: student_id (a student's works across tasks; needs score sheets with "
    "student_id) or work_id (each work).",
)
@click.option(
    "--facets",
    help="Comma-separated facets of the design (default task_id,rater_id; rater_id with --object work_id).",
)
@click.option(
    "--nested",
    multiple=True,
    metavar="CHILD:PARENT",
    help="A nested facet (repeat), e.g. rater_id:task_id when each task has its own raters (checked against the data).",
)
@click.option("--dimension", help="Analyse this rubric dimension (when the scores hold several).")
@click.option("--total", is_flag=True, help="Analyse the total over the dimensions (cells missing one are left out).")
@click.option(
    "--d-study",
    "d_study",
    multiple=True,
    metavar="FACET=LIST",
    help="D-study sizes of a facet (repeat), e.g. --d-study task_id=1,2,4 --d-study rater_id=1,2,3 (default 1-6, "
    "8, 10 and the observed size).",
)
@click.option(
    "--target",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.80,
    show_default=True,
    help="The coefficient the smallest D-study design must reach.",
)
@click.option(
    "--method",
    type=click.Choice(["auto", "anova", "reml"]),
    default="auto",
    show_default=True,
    help="ANOVA (Henderson's Method 1 when unbalanced) or REML (moderate sizes, no bootstrap).",
)
@click.option(
    "--bootstrap",
    "n_resamples",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="Bootstrap resamples of the objects for SEs and intervals (0: none).",
)
@click.option(
    "--cut",
    "cuts",
    type=float,
    multiple=True,
    help="A cut score on the score's scale (repeat): adds Brennan's phi(lambda) for decisions at that cut.",
)
@click.option(
    "--level",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Confidence level of every interval.",
)
@report_options("terminal,html,csv,json", "Folder for the report and tables (default ./gstudy).")
@BANK_OPTION
@STORE_OPTION
def gstudy(
    sessions,
    all_sessions,
    tasks,
    object_,
    facets,
    nested,
    dimension,
    total,
    d_study,
    target,
    method,
    n_resamples,
    cuts,
    level,
    output,
    bank_dir,
    store_path,
) -> None:
    """Generalizability study: variance components, G and phi, and how many tasks and raters a score needs.

    Splits the score variance into the object of measurement (students, or works), the facets
    (tasks, raters, dimensions) and their interactions; reports G (relative decisions) and phi
    (absolute decisions) of the observed design with bootstrap intervals, and a D-study: the
    coefficients with other numbers of tasks and raters, and the smallest design that reaches
    --target.  Negative variance estimates are shown as computed and set to 0.  With several
    rubric dimensions, analyse one (--dimension) or their total (--total), or make dimension a
    facet.

    \b
    irr ingest examples/regional_scoring/scores.csv --session examples/regional_scoring/session.yaml --store demo.sqlite
    irr gstudy --session regional-scoring-2026-11 --object work_id --facets rater_id,dimension --store demo.sqlite
    irr gstudy --all --dimension claim --d-study task_id=1,2,4 --d-study rater_id=1,2,3 --cut 2.5
    irr gstudy --all --total --nested rater_id:task_id --format html --out gstudy/
    """
    import pandas as pd

    from irr.analysis.gstudy import g_study
    from irr.errors import DataError
    from irr.model.bank import load_bank

    require_sessions_or_all(sessions, all_sessions)
    if dimension and total:
        raise click.UsageError("give --dimension D or --total, not both")
    facet_list = (
        _columns(facets, "--facets")
        if facets
        else (["task_id", "rater_id"] if object_ == "student_id" else ["rater_id"])
    )
    nesting = _nested(nested)
    sizes = _sizes(d_study)
    bank = load_bank(bank_dir)
    with open_existing_store(store_path) as store:
        scores, provenance = selected_scores(store, bank, sessions, include_flags=True, task=list(tasks) or None)
    # subgroup flags are personal data no table needs; so is student_id unless it is in the design
    personal = [c for c in scores.columns if c.startswith("flag_")]
    if "student_id" not in (object_, *facet_list):
        personal.append("student_id")
    scores = scores.drop(columns=personal, errors="ignore")
    if object_ == "student_id" and (
        "student_id" not in scores
        or scores["student_id"].isna().all()
        or (scores["student_id"].astype(str) == "").all()
    ):
        raise DataError(
            "the scores carry no student_id (the score sheets had no student_id column): ingest sheets with "
            "student_id to measure students across tasks, or give --object work_id --facets rater_id"
        )
    result = g_study(
        scores,
        object=object_,
        facets=facet_list,
        nested=nesting or None,
        method=method,
        dimension=dimension,
        total=total,
        level=level,
        n_resamples=n_resamples,
        target=target,
        d_study=sizes,
        provenance=provenance,
    )
    if cuts:
        table = pd.DataFrame({"cut": [float(c) for c in cuts], "phi_lambda": [result.phi_lambda(c) for c in cuts]})
        shown = result.with_tables({**result.tables, "phi_lambda": table}, phi_lambda=table.to_dict("records"))
        emit(shown, output, default_out=Path("gstudy"))
        return
    emit(result, output, default_out=Path("gstudy"))


COMMANDS = [gstudy]
