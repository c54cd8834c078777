"""`irr raters`: rater measurement with the many-facet Rasch model (who is harsh, who is erratic).

Options -> store query -> :func:`irr.analysis.facets.fit_facets` -> report
(:func:`irr.cli.output.emit`); nothing is computed or formatted here.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable, TextIO

import click

from irr.cli.options import BANK_OPTION
from irr.cli.output import emit, report_options
from irr.cli.store import STORE_OPTION, open_existing_store, require_sessions_or_all, selected_scores


class FitProgress:
    """A one-line status on stderr fed by the fit's ``progress(stage, iteration, largest_change)``.

    Silent for the first ``delay`` seconds (most fits end before) and when stderr is not a
    terminal; :meth:`close` clears the line.
    """

    def __init__(
        self,
        enabled: bool,
        *,
        delay: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        file: TextIO | None = None,
    ):
        self.enabled, self.delay, self.clock, self.file = enabled, delay, clock, file
        self.start = clock()
        self.width = 0

    def __call__(self, stage: str, iteration: int, largest_change: float) -> None:
        if not self.enabled or self.clock() - self.start < self.delay:
            return
        text = f"fitting the model ({stage}): iteration {iteration}, largest change {largest_change:.2g} logits"
        click.echo("\r" + text.ljust(self.width), nl=False, err=self.file is None, file=self.file)
        self.width = max(self.width, len(text))

    def close(self) -> None:
        if self.width:
            click.echo("\r" + " " * self.width + "\r", nl=False, err=self.file is None, file=self.file)
            self.width = 0


def _pairs(values: tuple[str, ...]) -> list[tuple[str, str]] | None:
    """``("rater_id,dimension", "rater_id,flag_ell")`` -> pairs; None when none was given."""
    if not values:
        return None
    pairs = []
    for value in values:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if len(parts) != 2:
            raise click.BadParameter(
                f"{value!r}: give two columns separated by a comma (e.g. rater_id,dimension)", param_hint="--bias"
            )
        pairs.append((parts[0], parts[1]))
    return pairs


@click.command()
@click.option("--session", "sessions", multiple=True, help="A session to include (repeat); or --all.")
@click.option("--all", "all_sessions", is_flag=True, help="Every session in the store.")
@click.option("--task", help="Only this task (give it when the sessions hold tasks scored on different rubrics).")
@click.option(
    "--model",
    type=click.Choice(["rating_scale", "partial_credit"]),
    default="rating_scale",
    show_default=True,
    help="One set of thresholds for every rating, or thresholds per element of --by.",
)
@click.option(
    "--by",
    "steps_by",
    help="With --model partial_credit: the facet whose elements have their own thresholds (default dimension).",
)
@click.option(
    "--bias",
    "bias",
    multiple=True,
    metavar="A,B",
    help="An interaction table (repeat): two facets or score columns, e.g. rater_id,dimension (the default) or "
    "rater_id,flag_ell (differential rater functioning by student subgroup).",
)
@click.option(
    "--extra",
    "extra",
    multiple=True,
    metavar="COLUMN",
    help="Another facet (repeat), oriented like the raters, e.g. session_id when works are read in several "
    "sessions (a facet nested in the works or the raters cannot be told apart from them: an error says so).",
)
@click.option(
    "--min-count",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Interaction cells with fewer ratings are suppressed.",
)
@click.option(
    "--level",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Confidence level of every interval.",
)
@click.option(
    "--bias-correction/--no-bias-correction",
    default=True,
    show_default=True,
    help="Correct JMLE's spread inflation (a parametric-bootstrap calibration); off: raw JMLE, as FACETS reports.",
)
@report_options("terminal,html,csv,json", "Folder for the report and tables (default ./raters).")
@BANK_OPTION
@STORE_OPTION
def raters(
    sessions,
    all_sessions,
    task,
    model,
    steps_by,
    bias,
    extra,
    min_count,
    level,
    bias_correction,
    output,
    bank_dir,
    store_path,
) -> None:
    """Rater measurement: who is harsh, who is erratic, whose scores are too predictable.

    Fits the many-facet Rasch model (works x raters x dimensions) and reports each rater's
    severity in logits (higher = harsher) with its interval, fair average and infit / outfit
    mean-squares; flagged raters come first with the rule that flagged them.  Then every
    facet's separation and reliability, the raters' exact agreement observed against expected,
    the rating scale's thresholds and the rater x dimension interactions (--bias for others).

    \b
    irr ingest examples/calibration/*.csv --session examples/calibration/session.yaml --store demo.sqlite
    irr raters --session seacoast-calibration-2026-10 --store demo.sqlite --out raters/
    irr raters --session regional-scoring-2026-11 --model partial_credit --by dimension --format terminal
    irr raters --session peer-audit-2026-12 --bias rater_id,flag_ell --public
    """
    from irr.analysis.drift import drift_across_sessions
    from irr.analysis.facets import fit_facets
    from irr.model.bank import load_bank

    require_sessions_or_all(sessions, all_sessions)
    if steps_by and model != "partial_credit":
        raise click.UsageError("--by sets the threshold groups of --model partial_credit")
    pairs = _pairs(bias)
    flags = any(c.startswith("flag_") for pair in pairs or () for c in pair)
    if output.privacy.suppress_below:  # a public report suppresses the interactions from the same minimum
        min_count = max(min_count, output.privacy.suppress_below)
    bank = load_bank(bank_dir)
    with open_existing_store(store_path) as store:
        scores, provenance = selected_scores(store, bank, sessions, include_flags=flags, task=task or None)
        # the raters' drift across every session of the store they scored in (irr drift), when there are 3+
        drift = drift_across_sessions(store, bank, scores["rater_id"].astype(str).unique())
    scores = scores.drop(columns=["student_id"], errors="ignore")  # personal data no table needs
    progress = FitProgress(sys.stderr.isatty())
    try:
        result = fit_facets(
            scores,
            model=model,
            steps_by=steps_by,
            extra=tuple(c.strip() for value in extra for c in value.split(",") if c.strip()),
            bias=pairs,
            min_count=min_count,
            level=level,
            correct_bias=bias_correction,
            progress=progress,
            provenance=provenance,
        )
    finally:
        progress.close()
    emit(result.with_drift(drift), output, default_out=Path("raters"))


COMMANDS = [raters]
