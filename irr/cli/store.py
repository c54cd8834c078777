"""`irr ingest`, `irr sessions`, `irr export`, `irr store check`: the embedded store."""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path
from typing import Any

import click

from irr.cli.options import BANK_OPTION
from irr.errors import NotFoundError, SubmissionError, ValidationError
from irr.store.store import DEFAULT_STORE, STORE_ENV, Store

# pandas is imported by the commands that need it (ingest, export), not here: `irr sessions` and
# `irr --help` load only click, sqlite3 and the models.


class _SessionKind(click.Choice):
    """``click.Choice`` of :data:`~irr.model.session.SESSION_KINDS`, read when first used: the models
    (pydantic) load only for the commands that need them."""

    def __init__(self) -> None:
        self.case_sensitive = True

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]  # read on first use, not set in __init__
        from irr.model.session import SESSION_KINDS

        return SESSION_KINDS


STORE_OPTION = click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False),
    envvar="IRR_STORE",
    default=None,
    help="The store file (default: $IRR_STORE, else ./irr-store.sqlite).",
)


class _ProgressBar:
    """A click progress bar over the scores being stored; silent when stderr is not a terminal."""

    def __init__(self, label: str, enabled: bool):
        self.label, self.enabled, self.shown = label, enabled, 0
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < 200_000:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=f"storing {self.label}", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _echo_problems(exc: ValidationError) -> None:
    click.echo(f"REJECTED: {str(exc).splitlines()[0]}", err=True)
    for i, problem in enumerate(exc.problems, 1):
        click.echo(f"{i:4d}. {problem}", err=True)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--session",
    "session",
    required=True,
    help="A session manifest (session.yaml), or the id of a session (new ones need --kind and --date).",
)
@click.option("--kind", type=_SessionKind(), help="Session kind, for a new session given by id.")
@click.option("--date", "date", help="Session date (YYYY-MM-DD), for a new session given by id.")
@click.option("--region", help="Region, for a new session given by id.")
@click.option("--facilitator", help="Facilitator, for a new session given by id.")
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="NAME=HEADER",
    help="Read column NAME from the file's HEADER, e.g. --map rater_id=Teacher. Remembered for the session "
    "(by id or by its manifest); combines with the stored map and the manifest's column_map, "
    "--map winning.",
)
@click.option("--encoding", help="Text encoding of CSV files (default UTF-8, with or without BOM).")
@click.option("--replace", is_flag=True, help="Swap a changed file's scores for the new ones (atomically).")
@click.option("--dry-run", is_flag=True, help="Validate only; store nothing.")
@BANK_OPTION
@STORE_OPTION
def ingest(
    files, session, kind, date, region, facilitator, mapping, encoding, replace, dry_run, bank_dir, store_path
) -> None:
    """Validate score sheets (CSV or .xlsx) against the bank and store them.

    Each file is checked whole: every problem is listed with its line and column,
    and a file with any problem is rejected without storing a row.  Re-ingesting
    an unchanged file does nothing.  A file holding scores the session already
    has from another file (same rater, work, dimension and read type) is
    rejected.  A score cell may hold a condition code of the rubric (e.g.
    off_topic); an empty cell of a wide sheet is counted as not scored.
    """
    from irr.io.ingestion import ingest as ingest_files
    from irr.io.submissions import parse_column_map
    from irr.model.bank import load_bank

    bank = load_bank(bank_dir)
    column_map = parse_column_map(mapping)
    with Store(store_path) as store:
        if kind or date:
            if not (kind and date):
                raise click.UsageError("a new session needs both --kind and --date")
            target = {"id": session, "kind": kind, "date": date, "region": region, "facilitator": facilitator}
        else:
            target = session
        failed = 0
        for file in files:
            bar = _ProgressBar(Path(file).name, enabled=sys.stderr.isatty())
            try:
                [result] = ingest_files(
                    store,
                    [file],
                    target,
                    bank=bank,
                    column_map=column_map,
                    encoding=encoding,
                    replace=replace,
                    dry_run=dry_run,
                    progress=bar,
                )
            except SubmissionError as exc:
                _echo_problems(exc)
                failed += 1
                continue
            finally:
                bar.close()
            click.echo(str(result))
        if failed:
            click.echo(f"{failed} of {len(files)} file(s) rejected; fix them and ingest again", err=True)
            raise SystemExit(1)


def open_existing_store(store_path) -> Store:
    """The store for reading: a missing file is an error here (Store() would create an empty one)."""
    path = Path(store_path or os.environ.get(STORE_ENV) or DEFAULT_STORE)
    if not path.exists():
        raise NotFoundError(
            f"no store at {path}; ingest scores first (`irr ingest FILES --session session.yaml "
            f"--store {path}`) or point --store / ${STORE_ENV} at an existing store"
        )
    return Store(path)


def require_session(store: Store, session: str) -> None:
    """A session id the store holds, or an error listing the ones it does (and the closest)."""
    known = [str(row[0]) for row in store.session_table()[1]]
    if session in known:
        return
    if not known:
        raise NotFoundError(
            f"no session '{session}' in {store.path}: the store holds no sessions yet; "
            "add scores with `irr ingest FILES --session session.yaml`"
        )
    close = difflib.get_close_matches(session, known, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else "; see `irr sessions`"
    raise NotFoundError(f"no session '{session}' in {store.path}; sessions are: {', '.join(known)}{hint}")


def selected_scores(store: Store, bank, sessions, *, include_flags: bool = False, **filters):
    """The scores of the named sessions (every session when none is named) with the filters of
    :meth:`Store.scores`, and their provenance; an unknown session or an empty selection is an error."""
    from irr.analysis.provenance import store_provenance

    for session in sessions:
        require_session(store, session)
    scores = store.scores(bank=bank, include_flags=include_flags, session=list(sessions) or None, **filters)
    if scores.empty:
        raise NotFoundError("no scores match that selection; see `irr sessions`")
    return scores, store_provenance(store, sorted(scores["session_id"].astype(str).unique()))


def require_sessions_or_all(sessions, all_sessions: bool) -> None:
    """--session S (repeated) or --all, one of them."""
    if not sessions and not all_sessions:
        raise click.UsageError("name the sessions (--session S, repeated) or give --all")


@click.command()
@STORE_OPTION
def sessions(store_path) -> None:
    """List the sessions in the store with counts of files, scores, raters and works."""
    with open_existing_store(store_path) as store:
        columns, rows = store.session_table()
    if not rows:
        click.echo("the store holds no sessions yet; add scores with `irr ingest`")
        return
    click.echo(format_table(columns, rows))


def format_table(columns: list[str], rows: list[tuple]) -> str:
    """Rows as right-aligned text columns under their names, laid out as
    ``DataFrame.fillna("").to_string(index=False)`` does (a number column is one wider than its
    name, for the sign), without loading pandas."""
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    numeric = [bool(rows) and all(isinstance(row[i], (int, float)) for row in rows) for i in range(len(columns))]
    widths = [max([len(name) + numeric[i]] + [len(row[i]) for row in cells]) for i, name in enumerate(columns)]
    lines = [" ".join(name.rjust(w) for name, w in zip(columns, widths))]
    lines += [" ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


@click.command()
@click.option("--session", required=True, help="Session id.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "parquet"]),
    default="csv",
    show_default=True,
    help="parquet: a dataset folder partitioned by session (pyarrow; the dask extra), for Dask.",
)
@click.option(
    "--out", type=click.Path(), help="Output file, or folder for parquet (default: SESSION.csv|xlsx|parquet)."
)
@click.option("--include-flags", is_flag=True, help="Also export student ids and subgroup flags (restricted data).")
@STORE_OPTION
def export(session, fmt, out, include_flags, store_path) -> None:
    """Export a session's scores; cells a spreadsheet would run as formulas are neutralised."""
    from irr.io.export import write_scores

    with open_existing_store(store_path) as store:
        require_session(store, session)
        df = store.scores(session=session, include_flags=include_flags)
    target = Path(out or f"{session}.{fmt}")
    if fmt == "parquet":
        from irr.io.export import write_scores_parquet

        write_scores_parquet(df, target)
    else:
        write_scores(df, target)
    click.echo(f"wrote {len(df)} scores to {target}")


@click.group("store")
def store_group() -> None:
    """Look after the store file."""


@store_group.command("check")
@STORE_OPTION
def store_check(store_path) -> None:
    """Integrity check of the store (exit 1 when something is wrong)."""
    with open_existing_store(store_path) as store:
        problems = store.check()
        columns, rows = store.session_table()
    if problems:
        for p in problems:
            click.echo(f"problem: {p}", err=True)
        raise SystemExit(1)
    scores = columns.index("scores")
    click.echo(f"OK: {len(rows)} sessions, {sum(row[scores] for row in rows)} scores")


COMMANDS = [ingest, sessions, export, store_group]
