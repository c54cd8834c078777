"""`irr compare`: district comparability -- local scores against the audit rescoring.

Options -> store query -> :func:`irr.analysis.comparability.compare_districts` -> report
(:func:`irr.cli.output.emit`); nothing is computed or formatted here.
"""

from __future__ import annotations

from pathlib import Path

import click

from irr.cli.options import BANK_OPTION
from irr.cli.output import emit, report_options
from irr.cli.store import STORE_OPTION, open_existing_store, require_session


@click.command()
@click.option("--local", "local_session", required=True, help="Session holding the local (teacher) scores.")
@click.option(
    "--audit",
    "audit_session",
    help="Session holding the audit rescoring (default: the --local session, when one session holds both reads).",
)
@click.option("--local-read", default="first", show_default=True, help="Read type of the local scores.")
@click.option("--audit-read", default="audit", show_default=True, help="Read type of the audit scores.")
@click.option(
    "--by",
    default="work_district",
    show_default=True,
    help="work_district, optionally followed by task_id and/or dimension (comma-separated) for one row "
    "per district, task and dimension.",
)
@click.option(
    "--profile",
    default="comparability",
    show_default=True,
    help="Comparability thresholds: a profile name (profiles/comparability.yaml) or a profile YAML path.",
)
@click.option(
    "--min-n",
    type=click.IntRange(min=1),
    help="Fewest audited works for a district to be tested and flagged, and (with --public) for any of its "
    "numbers to be shown (default the profile's, 10).",
)
@click.option(
    "--level",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Confidence level of every interval.",
)
@report_options(
    "terminal,html,csv,json",
    "Folder for the report and tables (default ./comparability-LOCAL).",
)
@BANK_OPTION
@STORE_OPTION
def compare(
    local_session, audit_session, local_read, audit_read, by, profile, min_n, level, output, bank_dir, store_path
) -> None:
    """District comparability: local scores against audit rescoring, by district and subgroup.

    Pairs every audit score with the local score of the same work and dimension and reports,
    per district, the mean difference (local - audit) with its interval, the standardized
    difference, exact and adjacent agreement, quadratic weighted kappa and the proficiency
    classification agreement, flagging districts whose local scoring is lenient, severe or
    inconsistent; then the same comparison by student subgroup (flag_* columns).  --public
    suppresses every number from fewer than --min-n audited works and shows no rater,
    student or work id.

    \b
    irr compare --local peer-audit-2026-12 --out audit-report/
    irr compare --local local-2026 --audit regional-audit-2026 --by work_district,dimension --public
    """
    import pandas as pd

    from irr.analysis.comparability import compare_districts
    from irr.analysis.profiles import load_comparability_profile
    from irr.analysis.provenance import store_provenance
    from irr.errors import NotFoundError
    from irr.model.bank import load_bank
    from irr.report.privacy import Privacy

    bank = load_bank(bank_dir)
    rules = load_comparability_profile(profile, bank=bank)  # a bad profile is refused before the store is read
    min_n = min_n or rules.min_n
    if output.privacy.suppress_below:  # --public suppresses from the same minimum (or a larger --suppress-below)
        output.privacy = Privacy(
            anonymize=output.privacy.anonymize, suppress_below=max(min_n, output.privacy.suppress_below, 2)
        )
    audit_session = audit_session or local_session
    sessions = list(dict.fromkeys([local_session, audit_session]))
    with open_existing_store(store_path) as store:
        for session in sessions:
            require_session(store, session)
        local = store.scores(bank=bank, include_flags=True, session=local_session, read_type=local_read)
        audit = store.scores(bank=bank, include_flags=True, session=audit_session, read_type=audit_read)
        if local.empty:
            raise NotFoundError(f"session {local_session} has no scores of read type '{local_read}' (--local-read)")
        if audit.empty:
            raise NotFoundError(f"session {audit_session} has no scores of read type '{audit_read}' (--audit-read)")
        provenance = store_provenance(store, sessions)
    if local_read == audit_read:  # separate sessions with the same read type: label them apart
        local = local.assign(read_type="local")
        audit = audit.assign(read_type="audit")
        local_read, audit_read = "local", "audit"
    result = compare_districts(
        pd.concat([local, audit], ignore_index=True),
        bank,
        local=local_read,
        audit=audit_read,
        by=[c.strip() for c in by.split(",") if c.strip()],
        profile=rules,
        min_n=min_n,
        level=level,
        pool_small=not output.privacy.suppress_below,  # a public report: nothing to difference back
        provenance=provenance,
        selection={"local session": local_session, "audit session": audit_session},
    )
    emit(result, output, default_out=Path(f"comparability-{local_session}"))


COMMANDS = [compare]
