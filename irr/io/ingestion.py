"""The ingest flow: read and validate score sheets, then store them through the store's write API.

The store does not drive ingest: :func:`ingest` resolves the session, merges
the column maps, reads and validates each file
(:func:`~irr.io.submissions.read_submission`) and hands the validated
:class:`~irr.io.submissions.Submission` to
:meth:`irr.store.Store.write_submission`, one transaction per file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from irr.errors import IrrError
    from irr.model.bank import Bank
    from irr.model.session import Session
    from irr.store.store import IngestResult, Store

__all__ = ["ingest", "ingest_sheets", "resolve_session"]


def resolve_session(store: Store, session: Session | Mapping | str | os.PathLike) -> Session:
    """The :class:`~irr.model.session.Session` that ``session`` names.

    A :class:`Session` is itself; a mapping is its fields (``None`` values left
    out); a path ending in ``.yaml``/``.yml`` (or an existing file) is a
    manifest (:func:`~irr.io.submissions.read_manifest`); anything else is the
    id of a session the store holds (:class:`~irr.errors.NotFoundError` if it
    does not).
    """
    from irr.model.session import Session, session_from_mapping

    if isinstance(session, Session):
        return session
    if isinstance(session, Mapping):
        return session_from_mapping({k: v for k, v in session.items() if v is not None}, "--session")
    path = Path(session)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        from irr.io.submissions import read_manifest

        return read_manifest(path)
    return store.session(str(session))


def ingest(
    store: Store,
    files: Sequence[str | os.PathLike] | str | os.PathLike,
    session: Session | Mapping | str | os.PathLike,
    *,
    bank: Bank | None = None,
    column_map: Mapping[str, str] | None = None,
    encoding: str | None = None,
    replace: bool = False,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[IngestResult]:
    """Validate score files of one session and store them, one transaction per file.

    Parameters
    ----------
    store : irr.store.Store
        The store to write to (through :meth:`~irr.store.Store.write_submission`).
    files : path or sequence of paths
        CSV (``.csv``, ``.txt``, ``.tsv``) or ``.xlsx`` score sheets, long or wide.
    session : Session, mapping, manifest path or session id
        See :func:`resolve_session`.  A session already in the store keeps its
        manifest.
    bank : Bank, optional
        Rubrics and tasks to validate against (default :func:`~irr.model.load_bank`).
    column_map : mapping, optional
        ``{canonical name: header in the file}``.  Column maps combine, later
        winning: the map stored with the session (whether it is named by id or
        by its manifest), the manifest's ``column_map``, then this one; the
        result is remembered for the session.
    encoding : str, optional
        Text encoding of CSV files (default UTF-8 with or without BOM).
    replace : bool
        Swap the scores of a changed file already in the session (same name)
        for the new ones, atomically.
    dry_run : bool
        Validate (including the checks against the store) but store nothing.
    progress : callable, optional
        ``progress(done, total)``, called as batches of scores are stored.

    Returns
    -------
    list of IngestResult
        One per file, in order: ``ingested``, ``replaced``, ``unchanged`` or
        ``validated``.

    Raises
    ------
    SubmissionError
        A file with any problem (every problem listed with file, row, column
        and fix), or one holding scores the session already has from another
        file (same rater, work, task, dimension and read type,
        :data:`~irr.model.session.SCORE_KEY`; a second read as 'backread' or
        'consensus' is a different score), or one whose work-level columns
        (``work_district``, ``school``, ``student_id``, ``flag_*``) disagree
        between the rows of a work or with the store's values for a work it
        already holds (work ids are global; a blank is "not recorded").
        Nothing of that file is stored; files before it are.
    ConflictError
        A changed file of the same name is already in the session and
        ``replace`` is False.

    Examples
    --------
    >>> import tempfile, pathlib, irr
    >>> from irr.io import ingest
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> sheet = folder / "room-a.csv"
    >>> _ = sheet.write_text("rater_id,work_id,task_id,dimension,score\\n"
    ...                      "T1,W1,ela-g8-argument,claim,3\\nT2,W1,ela-g8-argument,claim,4\\n")
    >>> store = irr.Store(folder / "s.sqlite")
    >>> [result] = ingest(store, sheet, {"id": "cal-1", "kind": "calibration", "date": "2026-10-14"})
    >>> print(result)
    room-a.csv: ingested 2 scores from 2 rows into session cal-1
    >>> print(ingest(store, sheet, "cal-1")[0])
    room-a.csv: already in session cal-1 (same content); nothing to do
    """
    from irr.io.submissions import read_submission
    from irr.model.bank import load_bank

    files = [files] if isinstance(files, (str, os.PathLike)) else list(files)
    manifest = resolve_session(store, session)
    merged = {**store.stored_column_map(manifest.id), **manifest.column_map, **(column_map or {})}
    if merged != manifest.column_map:
        manifest = manifest.model_copy(update={"column_map": merged})
    bank = bank or load_bank()
    results = []
    for file in files:
        submission = read_submission(Path(file), bank, manifest, encoding=encoding)
        results.append(
            store.write_submission(submission, manifest, replace=replace, dry_run=dry_run, progress=progress)
        )
    return results


def ingest_sheets(
    store: Store,
    sheets: Sequence[tuple[str, bytes]],
    session: Session | Mapping | str | os.PathLike,
    *,
    bank: Bank | None = None,
    replace: bool = False,
    guard: Callable[[Store], None] | None = None,
) -> list[IngestResult | IrrError]:
    """Validate and store many score sheets given as content, in one transaction.

    What :func:`ingest` does for files, for ``(name, content)`` pairs held in memory (a live
    session's submissions, uploads), and with an outcome per sheet instead of stopping at the
    first refused one: each entry is the sheet's :class:`~irr.store.store.IngestResult`, or the
    error refusing it (the same :class:`~irr.errors.SubmissionError` messages, rows and columns
    of that sheet, as ``irr ingest`` prints).  A refused sheet stores nothing; the others are
    stored together (:func:`~irr.io.submissions.read_sheets`, then
    :meth:`~irr.store.Store.write_submissions`), so 200 raters' sheets cost one validation and
    one commit rather than 200.  ``guard(store)`` runs inside that transaction before anything is
    stored; an :class:`~irr.errors.IrrError` it raises refuses every sheet (and is raised).

    Examples
    --------
    >>> import tempfile, irr
    >>> from irr.io import ingest_sheets
    >>> store = irr.Store(tempfile.mkdtemp() + "/s.sqlite")
    >>> head = b"rater_id,work_id,task_id,dimension,score\\n"
    >>> sheets = [("t1.csv", head + b"T1,W1,ela-g8-argument,claim,3\\n"),
    ...           ("t2.csv", head + b"T2,W1,ela-g8-argument,claim,9\\n")]
    >>> for outcome in ingest_sheets(store, sheets, {"id": "cal", "kind": "calibration", "date": "2026-10-14"}):
    ...     print(str(outcome).splitlines()[0])
    t1.csv: ingested 1 scores from 1 rows into session cal
    t2.csv was rejected (1 problem(s); nothing stored):
    """
    from irr.io.submissions import read_sheets
    from irr.model.bank import load_bank

    manifest = resolve_session(store, session)
    merged = {**store.stored_column_map(manifest.id), **manifest.column_map}
    if merged != manifest.column_map:
        manifest = manifest.model_copy(update={"column_map": merged})
    bank = bank or load_bank()
    outcomes: list = read_sheets(sheets, bank, manifest)
    valid = [i for i, o in enumerate(outcomes) if not isinstance(o, Exception)]
    if valid:
        stored = store.write_submissions([outcomes[i] for i in valid], manifest, replace=replace, guard=guard)
        for i, result in zip(valid, stored):
            outcomes[i] = result
    return outcomes
