"""`irr drift`: which raters changed over the season or through a scoring day.

Options -> store query -> :func:`irr.analysis.drift.rater_drift` -> report
(:func:`irr.cli.output.emit`).
"""

from __future__ import annotations

from pathlib import Path

import click

from irr.cli.options import BANK_OPTION
from irr.cli.output import emit, report_options
from irr.cli.store import STORE_OPTION, open_existing_store, require_sessions_or_all, selected_scores


@click.command()
@click.option("--session", "sessions", multiple=True, help="A session to include (repeat); or --all.")
@click.option("--all", "all_sessions", is_flag=True, help="Every session in the store.")
@click.option("--task", help="Only this task.")
@click.option("--rater", "raters", multiple=True, help="Only this rater (repeat).")
@click.option(
    "--time",
    type=click.Choice(["session", "timestamp"]),
    default="session",
    show_default=True,
    help="Blocks are the sessions by date, or windows of the scores' timestamps within the day.",
)
@click.option("--block", help="With --time timestamp: a duration (30min, 1h) or a number of scores per rater (50).")
@click.option(
    "--method",
    type=click.Choice(["changepoint", "cusum", "ewma", "shewhart"]),
    default="changepoint",
    show_default=True,
    help="Retrospective change-point test, or a control chart for live monitoring.",
)
@click.option(
    "--reference",
    type=click.Choice(["auto", "anchor", "consensus", "others"]),
    default="auto",
    show_default=True,
    help="What each score is compared with: anchor papers' consensus, consensus reads, or the other reads.",
)
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05, show_default=True)
@click.option("--multiplicity", type=click.Choice(["holm", "bh", "none"]), default="holm", show_default=True)
@click.option(
    "--min-block",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Fewest compared scores for a rater's block to count.",
)
@click.option(
    "--exact-drop",
    type=click.FloatRange(0, 1),
    help="Also flag exact agreement this far below the opening block (e.g. 0.1).",
)
@click.option(
    "--mfrm",
    is_flag=True,
    help="Also estimate the many-facet Rasch rater x block interactions (FACETS Table 13) and flag on them.",
)
@report_options("terminal,html,csv,json", "Folder for the report and tables (default ./drift).")
@BANK_OPTION
@STORE_OPTION
def drift(
    sessions,
    all_sessions,
    task,
    raters,
    time,
    block,
    method,
    reference,
    alpha,
    multiplicity,
    min_block,
    exact_drop,
    mfrm,
    output,
    bank_dir,
    store_path,
) -> None:
    """Rater drift: which raters changed over the season or within a scoring day.

    Compares every score with a reference (an anchor's consensus, a consensus read, or the other
    reads of the work) and follows each rater's bias and agreement by block against the rater's
    own baseline: a rater lenient all along is not drift.  Flagged raters come first, with the
    block where the change is placed and its size.

    \b
    irr drift --all --out drift/
    irr drift --session seacoast-calibration-2026-10 --time timestamp --block 12 --method cusum
    """
    from irr.analysis.drift import rater_drift
    from irr.model.bank import load_bank

    require_sessions_or_all(sessions, all_sessions)
    bank = load_bank(bank_dir)
    with open_existing_store(store_path) as store:
        scores, provenance = selected_scores(store, bank, sessions, task=task or None, rater=list(raters) or None)
    result = rater_drift(
        scores,
        bank,
        time=time,
        block=int(block) if block and block.isdigit() else block,
        reference=reference,
        method=method,
        alpha=alpha,
        multiplicity=multiplicity,
        min_block=min_block,
        exact_drop=exact_drop,
        mfrm=mfrm,
        provenance=provenance,
        selection={"session": list(sessions) or "all", "task": task, "rater": list(raters)},
    )
    emit(result, output, default_out=Path("drift"))


COMMANDS = [drift]
