"""`irr calibrate`, `irr agreement`, `irr demo`: analyses of the scores in the store.

Each command is options -> store query -> analysis function (:mod:`irr.analysis`) -> report
(:func:`irr.cli.output.emit`); nothing is computed or formatted here.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click

from irr.cli.options import BANK_OPTION
from irr.cli.output import emit, report_options
from irr.cli.store import STORE_OPTION, open_existing_store, require_session

_LEVEL = click.option(
    "--level",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Confidence level of every interval, between 0 and 1 (e.g. 0.9).",
)
_CI = click.option(
    "--ci",
    type=click.Choice(["analytic", "bootstrap", "jackknife", "none"]),
    default="analytic",
    show_default=True,
    help="Interval method of the agreement coefficients.",
)


def _profile_names() -> str:
    from irr.analysis.profiles import available_profiles

    return ", ".join(available_profiles())


@click.command()
@click.option("--session", required=True, help="Session id in the store.")
@click.option("--task", help="Task id (default: every task of the session).")
@click.option(
    "--profile",
    default="pace",
    show_default=True,
    help="Qualification rules: a profile name (irr/profiles: pace, naep, pact, pearson, or your bank's "
    "profiles/) or a profile YAML path.",
)
@_CI
@_LEVEL
@report_options("terminal,html,csv,json", "Folder for the report and tables (default ./calibration-SESSION).")
@BANK_OPTION
@STORE_OPTION
def calibrate(session, task, profile, ci, level, output, bank_dir, store_path) -> None:
    """Calibration report: who qualifies, which papers split the room, how well the group agrees."""
    from irr.analysis.calibration import calibrate_session
    from irr.analysis.profiles import load_profile
    from irr.model.bank import load_bank

    bank = load_bank(bank_dir)
    profile = load_profile(profile, bank=bank)
    with open_existing_store(store_path) as store:
        require_session(store, session)
        results = calibrate_session(
            store, session, bank, profile, task=task, ci=None if ci == "none" else ci, level=level
        )
    emit(results, output, default_out=Path(f"calibration-{session}"), subfolder=lambda r: r.task_id)


@click.command()
@click.option("--session", multiple=True, help="Session id(s); default all.")
@click.option("--task", multiple=True, help="Task id(s).")
@click.option("--dimension", multiple=True, help="Dimension id(s).")
@click.option("--district", multiple=True, help="Work samples' district(s).")
@click.option("--read-type", multiple=True, help="Read type(s), e.g. first, second.")
@click.option(
    "--by",
    default="task_id,dimension",
    show_default=True,
    help="Comma-separated grouping columns (e.g. task_id,dimension,work_district,session_id).",
)
@click.option(
    "--coefficient",
    "coefficients",
    multiple=True,
    help="Coefficient spec, repeatable, e.g. fleiss_kappa, gwet_ac:quadratic, krippendorff_alpha:ordinal, "
    "icc:A,1 (default: percent and adjacent agreement, Fleiss' kappa, Gwet's AC2 quadratic, "
    "Krippendorff's ordinal alpha, ICC(A,1)).",
)
@_CI
@_LEVEL
@click.option("--profile", help="A qualification profile whose rater targets interpret exact and adjacent agreement.")
@report_options(
    "terminal",
    "Folder for the tables (and the HTML report); without it a single csv or json table goes to standard output.",
)
@BANK_OPTION
@STORE_OPTION
def agreement(
    session, task, dimension, district, read_type, by, coefficients, ci, level, profile, output, bank_dir, store_path
) -> None:
    """Agreement table for any selection of scores: one row per group and coefficient."""
    from irr.analysis.agreement import agreement as run_agreement
    from irr.analysis.profiles import load_profile
    from irr.analysis.provenance import store_provenance
    from irr.errors import NotFoundError
    from irr.model.bank import load_bank

    bank = load_bank(bank_dir)
    selection: dict[str, Any] = {
        "session": list(session),
        "task": list(task),
        "dimension": list(dimension),
        "district": list(district),
        "read_type": list(read_type),
    }
    with open_existing_store(store_path) as store:
        scores = store.scores(
            bank=bank,
            session=list(session) or None,
            task=list(task) or None,
            dimension=list(dimension) or None,
            district=list(district) or None,
            read_type=list(read_type) or None,
        )
        if scores.empty:
            raise NotFoundError("no scores match that selection; see `irr sessions`")
        provenance = store_provenance(store, sorted(scores["session_id"].astype(str).unique()))
    result = run_agreement(
        scores,
        bank,
        by=[c.strip() for c in by.split(",") if c.strip()],
        coefficients=list(coefficients) or None,
        ci=None if ci == "none" else ci,
        level=level,
        profile=load_profile(profile, bank=bank) if profile else None,
        provenance=provenance,
        selection=selection,
    )
    emit(result, output, default_out=None)


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("irr-demo-report"),
    show_default=True,
    help="Where to write the demo report.",
)
@click.option("--profile", default="pace", show_default=True)
@BANK_OPTION
def demo(out: Path, profile: str, bank_dir) -> None:
    """Ingest the bundled example calibration session into a temporary store and report on it."""
    from irr.analysis.calibration import calibrate_session
    from irr.analysis.profiles import load_profile
    from irr.cli.output import Output
    from irr.errors import NotFoundError
    from irr.io import ingest
    from irr.model.bank import load_bank
    from irr.report.privacy import Privacy
    from irr.resources import BUNDLED_DIR, data_path
    from irr.store import Store

    bank = load_bank(bank_dir)
    rules = load_profile(profile, bank=bank)  # a bad profile is refused before anything is printed
    examples = data_path("examples")  # the checkout's examples/, else the installed package's copy
    folder = (examples or BUNDLED_DIR / "examples") / "calibration"
    if not (folder / "session.yaml").exists():
        raise NotFoundError(
            f"the bundled examples are missing ({folder}): in a checkout run "
            "scripts/make_examples.py, otherwise reinstall irr-toolkit"
        )
    with tempfile.TemporaryDirectory() as tmp:
        with Store(Path(tmp) / "demo.sqlite") as store:
            for result in ingest(store, sorted(folder.glob("*.csv")), folder / "session.yaml", bank=bank):
                click.echo(str(result))
            session = store.sessions()["session_id"].iloc[0]
            click.echo("")
            results = calibrate_session(store, session, bank, rules)
    written = emit(results, Output(("terminal", "html", "csv", "json"), out, Privacy()), subfolder=lambda r: r.task_id)
    click.echo(f"\nDemo report written to {Path(written[0]).resolve()}")


COMMANDS = [calibrate, agreement, demo]
