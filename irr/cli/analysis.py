"""`irr calibrate`, `irr agreement`, `irr demo`: analyses of the scores in the store."""
from __future__ import annotations

import tempfile
from pathlib import Path

import click
import pandas as pd

from irr.analysis.calibration import calibrate as run_calibration, condition_code_notes, numeric_scores
from irr.analysis.profiles import available_profiles, load_profile
from irr.cli.bank import BANK_OPTION
from irr.cli.store import STORE_OPTION, open_existing_store, require_session
from irr.errors import DataError, NotFoundError
from irr.model.bank import load_bank
from irr.report.agreement import annotate, display_rows, render_table
from irr.report.calibration import Provenance, render_terminal, write_report
from irr.resources import BUNDLED_DIR, data_path
from irr.stats.tables import DEFAULT_COEFFICIENTS, agreement_table
from irr.store import Store

FORMATS = ("terminal", "html", "csv", "json")


def _calibrate_session(store: Store, session: str, task: str | None, profile: str, bank, out: Path | None,
                       formats, suppress_below, anonymize, echo=click.echo) -> list[Path]:
    scores = store.scores(session=session, bank=bank)
    if scores.empty:
        raise NotFoundError(f"session '{session}' has no scores in {store.path}")
    tasks = [task] if task else sorted(scores["task_id"].unique())
    files = store.files(session)[["name", "sha256"]].to_dict("records")
    written = []
    for task_id in tasks:
        result = run_calibration(scores, bank, profile, task=task_id, session_id=session)
        if "terminal" in formats:
            echo(render_terminal(result, suppress_below=suppress_below))
            echo("")
        file_formats = [f for f in formats if f != "terminal"]
        if file_formats:
            target = (out or Path(f"calibration-{session}")) / (task_id if len(tasks) > 1 else "")
            paths = write_report(result, target, formats=file_formats, suppress_below=suppress_below,
                                 anonymize=anonymize, provenance=Provenance(files=files,
                                                                            task_version=result.rubric_ref))
            written.extend(paths.values())
            if "html" in paths:
                echo(f"report: {paths['html']}")
            if "tables" in paths:
                echo(f"tables: {paths['tables']}")
    return written


def _formats(value: str) -> tuple[str, ...]:
    chosen = tuple(v.strip() for v in value.split(",") if v.strip())
    bad = [v for v in chosen if v not in FORMATS]
    if bad:
        raise click.BadParameter(f"unknown format(s) {bad}; choose from {', '.join(FORMATS)}")
    return chosen


@click.command()
@click.option("--session", required=True, help="Session id in the store.")
@click.option("--task", help="Task id (default: every task of the session).")
@click.option("--profile", default="pace", show_default=True,
              help=f"Qualification rules: a name ({', '.join(available_profiles())}) or a profile YAML path.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the HTML report and tables (default ./calibration-SESSION).")
@click.option("--format", "formats", default="terminal,html,csv,json", show_default=True,
              help="Comma-separated: terminal, html, csv, json.")
@click.option("--suppress-below", type=click.IntRange(min=1), metavar="N",
              help="Show counts below N as '<N' (public reports; N >= 1).")
@click.option("--anonymize", is_flag=True, help="Replace rater ids by 'Rater 01', ... in files.")
@BANK_OPTION
@STORE_OPTION
def calibrate(session, task, profile, out, formats, suppress_below, anonymize, bank_dir, store_path) -> None:
    """Calibration report: who qualifies, which papers split the room, how well the group agrees."""
    bank = load_bank(bank_dir)
    load_profile(profile, bank=bank)
    with open_existing_store(store_path) as store:
        require_session(store, session)
        _calibrate_session(store, session, task, profile, bank, out, _formats(formats), suppress_below, anonymize)


@click.command()
@click.option("--session", multiple=True, help="Session id(s); default all.")
@click.option("--task", multiple=True, help="Task id(s).")
@click.option("--dimension", multiple=True, help="Dimension id(s).")
@click.option("--district", multiple=True, help="Work samples' district(s).")
@click.option("--read-type", multiple=True, help="Read type(s), e.g. first, second.")
@click.option("--by", default="task_id,dimension", show_default=True,
              help="Comma-separated grouping columns (e.g. task_id,dimension,work_district,session_id).")
@click.option("--coefficient", "coefficients", multiple=True,
              help="Coefficient spec, repeatable, e.g. fleiss_kappa, gwet_ac:quadratic, krippendorff_alpha:ordinal, "
                   f"icc:A,1 (default: {', '.join(DEFAULT_COEFFICIENTS)}).")
@click.option("--ci", type=click.Choice(["analytic", "bootstrap", "jackknife", "none"]), default="analytic",
              show_default=True)
@click.option("--level", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.95,
              show_default=True, help="Confidence level, between 0 and 1 (e.g. 0.9).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file instead of the terminal.")
@BANK_OPTION
@STORE_OPTION
def agreement(session, task, dimension, district, read_type, by, coefficients, ci, level, fmt, out,
              bank_dir, store_path) -> None:
    """Agreement table for any selection of scores: one row per group and coefficient."""
    bank = load_bank(bank_dir)
    with open_existing_store(store_path) as store:
        scores = store.scores(session=session or None, task=task or None, dimension=dimension or None,
                              district=district or None, read_type=read_type or None, bank=bank)
    if scores.empty:
        raise NotFoundError("no scores match that selection; see `irr sessions`")
    by_cols = [c.strip() for c in by.split(",") if c.strip()]
    unknown = [c for c in by_cols if c not in scores.columns]
    if unknown:
        raise DataError(f"cannot group by {unknown}; columns are {', '.join(scores.columns)}")
    scales = {}
    for (task_id, dim) in scores[["task_id", "dimension"]].drop_duplicates().itertuples(index=False):
        scales[(task_id, dim)] = bank.rubric_for(task_id).dimension(dim).score_values

    def scale_of(key):
        named = dict(zip(by_cols, key))
        if "task_id" in named and "dimension" in named:
            return scales[(named["task_id"], named["dimension"])]
        return None

    # condition-coded scores (blank, off_topic, ...) are not points of the scale: left out, counted in `note`
    notes = condition_code_notes(scores, by_cols)
    scores = numeric_scores(scores)
    # units are work samples within a task and dimension; a rater's reads of one paper in one group
    # must be single: keep group keys explicit
    scores = scores.assign(unit=scores["task_id"] + "|" + scores["dimension"] + "|" + scores["work_id"])
    if scores.empty:
        raise NotFoundError(f"every score of that selection is condition-coded ({notes['note'].iloc[0]}); "
                            "there is nothing to compute agreement on")
    table = agreement_table(scores, unit="unit", rater="rater_id", score="score", by=by_cols,
                            coefficients=list(coefficients) or DEFAULT_COEFFICIENTS,
                            ci=None if ci == "none" else ci, level=level, categories=scale_of)
    extra = (table[by_cols].merge(notes, on=by_cols, how="left")["note"].set_axis(table.index)
             if by_cols and not notes.empty else
             pd.Series(notes["note"].iloc[0] if not notes.empty else "", index=table.index))
    table = annotate(table, extra_notes=extra)
    if fmt == "csv":
        text = table.to_csv(index=False)
    elif fmt == "json":
        text = table.to_json(orient="records", indent=1)
    else:
        text = render_table(display_rows(table, by=by_cols, level=level))
        sources = list(dict.fromkeys(s for s in table["interpretation_source"] if s))
        if sources:
            text += "\n\nInterpretation: " + "; ".join(src.rstrip(".") for src in sources) + "."
    if out:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(table)} rows to {out}")
    else:
        click.echo(text)


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("irr-demo-report"),
              show_default=True, help="Where to write the demo report.")
@click.option("--profile", default="pace", show_default=True)
@BANK_OPTION
def demo(out: Path, profile: str, bank_dir) -> None:
    """Ingest the bundled example calibration session into a temporary store and report on it."""
    bank = load_bank(bank_dir)
    load_profile(profile, bank=bank)   # a bad profile is refused before anything is printed
    examples = data_path("examples")  # the checkout's examples/, else the installed package's copy
    folder = (examples or BUNDLED_DIR / "examples") / "calibration"
    if not (folder / "session.yaml").exists():
        raise NotFoundError(f"the bundled examples are missing ({folder}): in a checkout run "
                            "scripts/make_examples.py, otherwise reinstall irr-toolkit")
    with tempfile.TemporaryDirectory() as tmp:
        with Store(Path(tmp) / "demo.sqlite") as store:
            files = sorted(folder.glob("*.csv"))
            for result in store.ingest(files, folder / "session.yaml", bank=bank):
                click.echo(str(result))
            session = store.sessions()["session_id"].iloc[0]
            click.echo("")
            written = _calibrate_session(store, session, None, profile, bank, out,
                                         ("terminal", "html", "csv", "json"), None, False)
    click.echo(f"\nDemo report written to {Path(written[0]).resolve()}")


COMMANDS = [calibrate, agreement, demo]
