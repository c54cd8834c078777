"""`irr audit sample`: the works of a district peer-review audit and who rescores each.

options -> store query (the local session's scores) -> :func:`irr.analysis.audit.audit_sample`
-> :func:`irr.io.auditors.write_assignments` and the summary of :mod:`irr.report.audit_sample`.
"""

from __future__ import annotations

from pathlib import Path

import click

from irr.cli.options import BANK_OPTION
from irr.cli.store import STORE_OPTION, open_existing_store, require_session


@click.group("audit")
def audit_group() -> None:
    """Plan district peer-review audits (the sample to rescore)."""


def _out_path(ctx, param, value: Path) -> Path:
    if value.suffix.lower() not in (".csv", ".xlsx"):
        raise click.BadParameter(f"'{value}' is neither .csv nor .xlsx; name the file e.g. audit-sample.csv")
    return value


@audit_group.command("sample")
@click.option("--local", "session", required=True, help="The session of locally scored work (its id in the store).")
@click.option("--per-district", type=click.IntRange(min=1), metavar="N", help="At least N works per district.")
@click.option(
    "--rate",
    type=click.FloatRange(0, 1, min_open=True),
    metavar="R",
    help="At least this share of each district's works, rounded up (e.g. 0.1). With --per-district "
    "the larger wins; a district with fewer works is sampled whole.",
)
@click.option(
    "--near-cut",
    type=click.IntRange(min=1),
    metavar="K",
    help="Oversample works whose mean local score is within K score points below the rubric's achievement "
    "cut (cut-K to cut+K-1): their strata get a double share.",
)
@click.option(
    "--linking",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    metavar="L",
    help="L more works, spread over the score range and districts, rescored by every auditor.",
)
@click.option(
    "--auditors",
    "auditors_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV or .xlsx with columns rater_id, rater_district (one row per auditor; other columns ignored).",
)
@click.option("--seed", type=int, required=True, help="Random seed: the same seed gives the same sample.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_out_path,
    help="The assignments file to write (.csv or .xlsx): work_id, task_id, work_district, auditor_id, reason.",
)
@click.option(
    "--read-type", default="first", show_default=True, help="Which local scores count: the teachers' first reads."
)
@BANK_OPTION
@STORE_OPTION
def sample(
    session, per_district, rate, near_cut, linking, auditors_file, seed, out, read_type, bank_dir, store_path
) -> None:
    """Draw the works each auditor rescores, stratified by district, task and score level.

    Each district's sample (at least --per-district works, or --rate of them) is spread over its
    tasks and score levels in proportion, every level getting at least one work; each sampled
    work goes to one auditor from another district, keeping the auditors' loads even.  The
    file lists no local scores, so the rescoring can be blind.  The same scores, auditors and
    --seed give the same file, byte for byte.
    """
    from irr.analysis.audit import audit_sample
    from irr.analysis.provenance import store_provenance
    from irr.errors import NotFoundError
    from irr.io.auditors import read_auditors, write_assignments
    from irr.model.bank import load_bank
    from irr.report.render import render_terminal

    if per_district is None and rate is None:
        raise click.UsageError("give the sample size: --per-district N, --rate R or both")
    bank = load_bank(bank_dir)
    auditors = read_auditors(auditors_file)  # a bad file is refused before the store is read
    with open_existing_store(store_path) as store:
        require_session(store, session)
        scores = store.scores(session=session, read_type=read_type)
        if scores.empty:
            raise NotFoundError(
                f"session '{session}' has no scores with read type '{read_type}'; "
                "choose the local reads with --read-type (see `irr sessions`)"
            )
        provenance = store_provenance(store, [session])
    result = audit_sample(
        scores,
        auditors,
        per_district=per_district,
        rate=rate,
        near_cut=near_cut,
        linking=linking,
        seed=seed,
        bank=bank,
        provenance=provenance,
    )
    write_assignments(result.tables["assignments"], out)
    click.echo(render_terminal(result))
    click.echo(f"wrote {len(result.tables['assignments'])} assignments to {out}")
