"""The embedded store: one SQLite file (WAL mode) holding sessions and scores.

* Versioned schema (``PRAGMA user_version``) with forward migrations.
* One transaction per file (``BEGIN IMMEDIATE``): a failure, or a killed
  process, leaves the store exactly as before.
* Idempotent: a file whose SHA-256 the session already holds is a no-op; a
  changed file with the same name is refused unless ``replace=True``, which
  swaps the old rows for the new ones in the same transaction.
* A score is stored once per session: a file whose scores a session already
  holds from another file (same rater, work, task, dimension and read type,
  :data:`~irr.model.session.SCORE_KEY`) is rejected, naming the other file.
* Condition codes (``blank``, ``off_topic``, ...) are stored as such: their
  rows have no score (``score`` NULL) and a ``condition_code``.
* A work id names one student's work everywhere: a file whose work-level
  columns (``work_district``, ``school``, ``student_id``, ``flag_*``) give a
  stored work another non-blank value is rejected, naming the other file.
* SQL is built only with parameters.

The store does not read files: :func:`irr.io.ingest` reads and validates a
score sheet and hands the :class:`~irr.io.Submission` to
:meth:`Store.write_submission`, the store's write API (with
:meth:`Store.session` and :meth:`Store.stored_column_map`).

numpy and pandas are imported by the methods that need them, so that opening
a store and listing its sessions (``irr sessions``) stays quick.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import getpass
import itertools
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from irr._version import __version__
from irr.errors import (
    ConflictError,
    IrrError,
    NotFoundError,
    Problem,
    StoreBusyError,
    StoreError,
    SubmissionError,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from irr.io.submissions import Submission
    from irr.model.bank import Bank
    from irr.model.session import Session
    from irr.stats import Ratings

__all__ = ["Store", "IngestResult", "STORE_ENV", "DEFAULT_STORE", "SCHEMA_VERSION"]

STORE_ENV = "IRR_STORE"
DEFAULT_STORE = "irr-store.sqlite"
SCHEMA_VERSION = 5

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, date TEXT NOT NULL, region TEXT,
        facilitator TEXT, description TEXT, column_map TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL);
    CREATE TABLE files (
        id INTEGER PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id),
        name TEXT NOT NULL, sha256 TEXT NOT NULL, layout TEXT NOT NULL, n_rows INTEGER NOT NULL,
        n_scores INTEGER NOT NULL, ingested_at TEXT NOT NULL, UNIQUE (session_id, name));
    CREATE TABLE raters (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);
    CREATE TABLE works (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);
    CREATE TABLE scores (
        file_id INTEGER NOT NULL REFERENCES files(id), session_id TEXT NOT NULL,
        rater INTEGER NOT NULL REFERENCES raters(id), work INTEGER NOT NULL REFERENCES works(id),
        task_id TEXT NOT NULL, rubric_id TEXT NOT NULL, rubric_version INTEGER NOT NULL,
        dimension TEXT NOT NULL, score INTEGER NOT NULL, read_type TEXT NOT NULL,
        rater_district TEXT, rater_role TEXT, work_district TEXT, school TEXT, timestamp TEXT,
        flags TEXT, source_line INTEGER NOT NULL);
    CREATE INDEX scores_session ON scores (session_id, task_id, dimension);
    CREATE INDEX scores_file ON scores (file_id);
    CREATE TABLE ingest_log (
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, session_id TEXT NOT NULL, file TEXT NOT NULL,
        sha256 TEXT NOT NULL, n_rows INTEGER NOT NULL, action TEXT NOT NULL, who TEXT NOT NULL,
        tool TEXT NOT NULL);
    """,
    # 2: the repeated text of a score row (session, task, dimension, districts, ...) becomes ids
    # into one dictionary table, so a score row is all integers; the view score_rows shows the text.
    # The term ids are not declared foreign keys (checking 9 per row would double the insert time);
    # they are looked up in the same transaction, and `Store.check` verifies them.
    2: """
    CREATE TABLE terms (id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE);
    INSERT OR IGNORE INTO terms (value)
        SELECT session_id FROM scores UNION SELECT task_id FROM scores UNION SELECT rubric_id FROM scores
        UNION SELECT dimension FROM scores UNION SELECT read_type FROM scores
        UNION SELECT ifnull(rater_district, '') FROM scores UNION SELECT ifnull(rater_role, '') FROM scores
        UNION SELECT ifnull(work_district, '') FROM scores UNION SELECT ifnull(school, '') FROM scores;
    CREATE TABLE scores_v2 (
        file_id INTEGER NOT NULL REFERENCES files(id), session INTEGER NOT NULL,
        rater INTEGER NOT NULL REFERENCES raters(id), work INTEGER NOT NULL REFERENCES works(id),
        task INTEGER NOT NULL, rubric INTEGER NOT NULL, rubric_version INTEGER NOT NULL,
        dimension INTEGER NOT NULL, score INTEGER NOT NULL, read_type INTEGER NOT NULL,
        rater_district INTEGER NOT NULL, rater_role INTEGER NOT NULL, work_district INTEGER NOT NULL,
        school INTEGER NOT NULL, timestamp TEXT NOT NULL DEFAULT '', flags TEXT, source_line INTEGER NOT NULL);
    INSERT INTO scores_v2 (rowid, file_id, session, rater, work, task, rubric, rubric_version, dimension, score,
                           read_type, rater_district, rater_role, work_district, school, timestamp, flags,
                           source_line)
        SELECT s.rowid, s.file_id, (SELECT id FROM terms WHERE value = s.session_id), s.rater, s.work,
               (SELECT id FROM terms WHERE value = s.task_id), (SELECT id FROM terms WHERE value = s.rubric_id),
               s.rubric_version, (SELECT id FROM terms WHERE value = s.dimension), s.score,
               (SELECT id FROM terms WHERE value = s.read_type),
               (SELECT id FROM terms WHERE value = ifnull(s.rater_district, '')),
               (SELECT id FROM terms WHERE value = ifnull(s.rater_role, '')),
               (SELECT id FROM terms WHERE value = ifnull(s.work_district, '')),
               (SELECT id FROM terms WHERE value = ifnull(s.school, '')),
               ifnull(s.timestamp, ''), s.flags, s.source_line
        FROM scores s ORDER BY s.rowid;
    DROP TABLE scores;
    ALTER TABLE scores_v2 RENAME TO scores;
    CREATE INDEX scores_session ON scores (session, task, dimension);
    CREATE INDEX scores_file ON scores (file_id);
    CREATE VIEW score_rows AS
        SELECT sc.rowid AS row, f.name AS file, se.value AS session_id, r.code AS rater_id, w.code AS work_id,
               ta.value AS task_id, ru.value AS rubric_id, sc.rubric_version, di.value AS dimension, sc.score,
               rt.value AS read_type, rd.value AS rater_district, ro.value AS rater_role,
               wd.value AS work_district, sh.value AS school, sc.timestamp, sc.flags, sc.source_line
        FROM scores sc JOIN files f ON f.id = sc.file_id JOIN terms se ON se.id = sc.session
        JOIN raters r ON r.id = sc.rater JOIN works w ON w.id = sc.work JOIN terms ta ON ta.id = sc.task
        JOIN terms ru ON ru.id = sc.rubric JOIN terms di ON di.id = sc.dimension
        JOIN terms rt ON rt.id = sc.read_type JOIN terms rd ON rd.id = sc.rater_district
        JOIN terms ro ON ro.id = sc.rater_role JOIN terms wd ON wd.id = sc.work_district
        JOIN terms sh ON sh.id = sc.school;
    """,
    # 3: condition codes. A row holds a score or a condition code (a term id; the term '' for a score),
    # so `score` becomes nullable: the table is rebuilt (SQLite cannot drop NOT NULL in place), in the
    # one transaction of the migration, so a failure leaves the schema-2 store as it was.
    3: """
    INSERT OR IGNORE INTO terms (value) VALUES ('');
    DROP VIEW score_rows;
    CREATE TABLE scores_v3 (
        file_id INTEGER NOT NULL REFERENCES files(id), session INTEGER NOT NULL,
        rater INTEGER NOT NULL REFERENCES raters(id), work INTEGER NOT NULL REFERENCES works(id),
        task INTEGER NOT NULL, rubric INTEGER NOT NULL, rubric_version INTEGER NOT NULL,
        dimension INTEGER NOT NULL, score INTEGER, condition_code INTEGER NOT NULL, read_type INTEGER NOT NULL,
        rater_district INTEGER NOT NULL, rater_role INTEGER NOT NULL, work_district INTEGER NOT NULL,
        school INTEGER NOT NULL, timestamp TEXT NOT NULL DEFAULT '', flags TEXT, source_line INTEGER NOT NULL);
    INSERT INTO scores_v3 (rowid, file_id, session, rater, work, task, rubric, rubric_version, dimension, score,
                           condition_code, read_type, rater_district, rater_role, work_district, school, timestamp,
                           flags, source_line)
        SELECT rowid, file_id, session, rater, work, task, rubric, rubric_version, dimension, score,
               (SELECT id FROM terms WHERE value = ''), read_type, rater_district, rater_role, work_district,
               school, timestamp, flags, source_line
        FROM scores ORDER BY rowid;
    DROP TABLE scores;
    ALTER TABLE scores_v3 RENAME TO scores;
    CREATE INDEX scores_session ON scores (session, task, dimension);
    CREATE INDEX scores_file ON scores (file_id);
    CREATE VIEW score_rows AS
        SELECT sc.rowid AS row, f.name AS file, se.value AS session_id, r.code AS rater_id, w.code AS work_id,
               ta.value AS task_id, ru.value AS rubric_id, sc.rubric_version, di.value AS dimension, sc.score,
               cc.value AS condition_code, rt.value AS read_type, rd.value AS rater_district,
               ro.value AS rater_role, wd.value AS work_district, sh.value AS school, sc.timestamp, sc.flags,
               sc.source_line
        FROM scores sc JOIN files f ON f.id = sc.file_id JOIN terms se ON se.id = sc.session
        JOIN raters r ON r.id = sc.rater JOIN works w ON w.id = sc.work JOIN terms ta ON ta.id = sc.task
        JOIN terms ru ON ru.id = sc.rubric JOIN terms di ON di.id = sc.dimension
        JOIN terms cc ON cc.id = sc.condition_code
        JOIN terms rt ON rt.id = sc.read_type JOIN terms rd ON rd.id = sc.rater_district
        JOIN terms ro ON ro.id = sc.rater_role JOIN terms wd ON wd.id = sc.work_district
        JOIN terms sh ON sh.id = sc.school;
    """,
    # 4: a pseudonymous student id per score row (text: nearly one value per student, so a term id
    # would only grow the dictionary). Adding a column with a constant default rewrites no row.
    4: """
    ALTER TABLE scores ADD COLUMN student_id TEXT NOT NULL DEFAULT '';
    DROP VIEW score_rows;
    CREATE VIEW score_rows AS
        SELECT sc.rowid AS row, f.name AS file, se.value AS session_id, r.code AS rater_id, w.code AS work_id,
               ta.value AS task_id, ru.value AS rubric_id, sc.rubric_version, di.value AS dimension, sc.score,
               cc.value AS condition_code, rt.value AS read_type, rd.value AS rater_district,
               ro.value AS rater_role, wd.value AS work_district, sh.value AS school, sc.student_id, sc.timestamp,
               sc.flags, sc.source_line
        FROM scores sc JOIN files f ON f.id = sc.file_id JOIN terms se ON se.id = sc.session
        JOIN raters r ON r.id = sc.rater JOIN works w ON w.id = sc.work JOIN terms ta ON ta.id = sc.task
        JOIN terms ru ON ru.id = sc.rubric JOIN terms di ON di.id = sc.dimension
        JOIN terms cc ON cc.id = sc.condition_code
        JOIN terms rt ON rt.id = sc.read_type JOIN terms rd ON rd.id = sc.rater_district
        JOIN terms ro ON ro.id = sc.rater_role JOIN terms wd ON wd.id = sc.work_district
        JOIN terms sh ON sh.id = sc.school;
    """,
    # 5: live calibration sessions of irr serve (join code, open or closed, revealed), the raters who
    # joined them, and the server's cookie-signing key: a restarted server carries on where it stopped.
    5: """
    CREATE TABLE live_sessions (
        id TEXT PRIMARY KEY, task_id TEXT NOT NULL, profile TEXT NOT NULL, join_code TEXT NOT NULL UNIQUE,
        date TEXT NOT NULL, open INTEGER NOT NULL DEFAULT 1, revealed INTEGER NOT NULL DEFAULT 0,
        opened_at TEXT NOT NULL);
    CREATE TABLE live_raters (
        session_id TEXT NOT NULL REFERENCES live_sessions(id), rater_id TEXT NOT NULL, joined_at TEXT NOT NULL,
        PRIMARY KEY (session_id, rater_id));
    CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
}

# score columns held as ids into `terms`, with the DataFrame column each becomes
_TERM_COLUMNS = {
    "session": "session_id",
    "task": "task_id",
    "rubric": "rubric_id",
    "dimension": "dimension",
    "condition_code": "condition_code",
    "read_type": "read_type",
    "rater_district": "rater_district",
    "rater_role": "rater_role",
    "work_district": "work_district",
    "school": "school",
}
_UNIT_SEPARATOR = "\x1f"  # joins text values in one aggregate; never in a timestamp or JSON text
_ROWID_WINDOW = 2_000_000  # rows per aggregate query (bounds the size of the concatenated strings)


@dataclass(frozen=True)
class IngestResult:
    """What happened to one file: ``ingested``, ``replaced``, ``unchanged`` or ``validated``."""

    file: str
    session: str
    action: str
    n_rows: int
    n_scores: int
    sha256: str
    n_not_scored: int = 0  # empty score cells of a wide sheet (no score row)
    n_condition_coded: int = 0  # of n_scores: rows holding a condition code, not a score
    not_scored: tuple[tuple[int, str], ...] = ()  # the first few empty cells as (row, column)

    def __str__(self) -> str:
        if self.action == "unchanged":
            return f"{self.file}: already in session {self.session} (same content); nothing to do"
        coded = f" ({self.n_condition_coded} with a condition code)" if self.n_condition_coded else ""
        empty = ""
        if self.n_not_scored:
            cells = ", ".join(f"row {r} {c}" for r, c in self.not_scored[:3])
            more = ", ..." if self.n_not_scored > 3 else ""
            empty = f"; {self.n_not_scored} cell{'s' if self.n_not_scored != 1 else ''} not scored ({cells}{more})"
        if self.action == "validated":
            return (
                f"{self.file}: valid ({self.n_scores} scores{coded} from {self.n_rows} rows{empty}); "
                "dry run, nothing stored"
            )
        return (
            f"{self.file}: {self.action} {self.n_scores} scores{coded} from {self.n_rows} rows into session "
            f"{self.session}{empty}"
        )


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _who() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in some containers
        return "unknown"


class Store:
    """A SQLite store of sessions and scores.

    Parameters
    ----------
    path : str or Path, optional
        The database file; default ``$IRR_STORE`` or ``./irr-store.sqlite``.
    timeout : float
        Seconds to wait for another process's write lock before
        :class:`~irr.errors.StoreBusyError`.

    Examples
    --------
    >>> import tempfile, irr
    >>> store = irr.Store(tempfile.mkdtemp() + "/demo.sqlite")
    >>> store.sessions().empty
    True
    """

    def __init__(self, path: str | os.PathLike | None = None, *, timeout: float = 30.0):
        self.path = Path(path or os.environ.get(STORE_ENV) or DEFAULT_STORE)
        self.timeout = timeout
        if self.path.exists() and self.path.is_dir():
            raise StoreError(f"{self.path} is a folder; give the store a file name, e.g. {self.path / DEFAULT_STORE}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA temp_store=MEMORY")  # the rows being ingested (see _insert_scores)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not an irr store ({exc}); choose another --store path") from None

    # -------------------------------------------------------------- schema
    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was written by a newer irr-toolkit (schema {version}); upgrade the toolkit")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            try:
                with self._write():  # one transaction per step: a failure leaves the previous schema whole
                    for statement in filter(str.strip, _MIGRATIONS[target].split(";")):
                        self._conn.execute(statement)
                    self._conn.execute(f"PRAGMA user_version = {int(target)}")
            except sqlite3.DatabaseError as exc:
                raise StoreError(
                    f"{self.path}: updating the store from schema {target - 1} to {target} failed ({exc}); the store "
                    f"is unchanged (schema {target - 1}); run `irr store check` and report this"
                ) from None

    @contextlib.contextmanager
    def _snapshot(self):
        """One read transaction: every query inside sees the same committed state (WAL)."""
        if self._conn.in_transaction:
            yield
            return
        self._conn.execute("BEGIN")
        try:
            yield
        finally:
            self._conn.execute("COMMIT")

    def _write(self, *, foreign_keys: bool = True):
        """One write transaction (``BEGIN IMMEDIATE``); ``foreign_keys=False`` turns SQLite's
        foreign-key checks off for it (the pragma cannot change inside a transaction)."""
        store = self

        class _Txn:
            def __enter__(self_inner):
                if not foreign_keys:
                    store._conn.execute("PRAGMA foreign_keys=OFF")
                try:
                    store._conn.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as exc:
                    if not foreign_keys:
                        store._conn.execute("PRAGMA foreign_keys=ON")
                    if "locked" in str(exc) or "busy" in str(exc):
                        raise StoreBusyError(
                            f"the store {store.path} is busy: another process has been writing for more than "
                            f"{store.timeout:g} s; try again when it has finished"
                        ) from None
                    raise

            def __exit__(self_inner, exc_type, exc, tb):
                try:
                    store._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
                finally:
                    if not foreign_keys:
                        store._conn.execute("PRAGMA foreign_keys=ON")
                return False

        return _Txn()

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --------------------------------------------------------------- write
    def session(self, session_id: str) -> Session:
        """The manifest of a session the store holds (:class:`~irr.errors.NotFoundError` if none)."""
        from irr.model.session import Session

        known = self._conn.execute(
            "SELECT id, kind, date, region, facilitator, description, column_map FROM sessions WHERE id = ?",
            (str(session_id),),
        ).fetchone()
        if known is None:
            raise NotFoundError(
                f"session '{session_id}' is not in the store {self.path}; give a manifest "
                "(--session session.yaml) or --kind and --date for a new session"
            )
        return Session(
            id=known[0],
            kind=known[1],
            date=known[2],
            region=known[3],
            facilitator=known[4],
            description=known[5],
            column_map=json.loads(known[6]),
        )

    def stored_column_map(self, session_id: str) -> dict[str, str]:
        """The column map remembered for a session (``{}`` for a session the store does not hold)."""
        row = self._conn.execute("SELECT column_map FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return json.loads(row[0]) if row is not None else {}

    def write_submission(
        self,
        submission: Submission,
        session: Session,
        *,
        replace: bool = False,
        dry_run: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> IngestResult:
        """Store one validated file's scores in one transaction (``BEGIN IMMEDIATE``).

        The store's write API, called by :func:`irr.io.ingest` (which reads and
        validates the file).

        * A file whose SHA-256 the session already holds: ``unchanged``, nothing written.
        * A changed file of the same name: :class:`~irr.errors.ConflictError`
          unless ``replace=True``, which swaps its rows in the same transaction.
        * Scores the session already holds from another file (same rater, work,
          task, dimension and read type, :data:`~irr.model.session.SCORE_KEY`):
          :class:`~irr.errors.SubmissionError` naming the other file and rows.
        * A work the store already holds (in any session) whose work-level
          column (``work_district``, ``school``, ``student_id`` or a ``flag_*``
          column) has another non-blank value in the file:
          :class:`~irr.errors.SubmissionError` naming the rows, the values and
          the stored file (a blank on either side is "not recorded"; the rows
          of the file being replaced do not count).
        * ``dry_run=True``: every check above, nothing written (``validated``).

        The session is created (or its ``column_map`` merged into the stored
        one) in the same transaction.  ``progress(done, total)`` is called as
        batches of scores are stored.
        """
        sub = submission
        base = self._result_fields(sub, session)
        same = self._conn.execute(
            "SELECT name FROM files WHERE session_id = ? AND sha256 = ?", (session.id, sub.sha256)
        ).fetchone()
        if same is not None:
            return IngestResult(action="unchanged", **base)
        previous = self._previous_file(sub, session, replace)
        replacing = () if previous is None else (previous,)
        if dry_run:
            with self._snapshot():
                self._refuse_scores_held(sub, session.id, replacing)
                self._refuse_work_conflicts(sub, replacing)
            return IngestResult(action="validated", **base)
        # the rater, work and file ids of the new rows are made in this transaction, so SQLite's
        # per-row foreign-key lookups (a quarter of the insert time) would only re-check them
        with self._write(foreign_keys=False):
            self._refuse_scores_held(sub, session.id, replacing)
            self._refuse_work_conflicts(sub, replacing)
            self._upsert_session(session)
            [action] = self._store_files([sub], session, [previous], progress)
        return IngestResult(action=action, **base)

    def write_submissions(
        self,
        submissions: Sequence[Submission],
        session: Session,
        *,
        replace: bool = False,
        guard: Callable[["Store"], None] | None = None,
    ) -> list[IngestResult | IrrError]:
        """Store several validated sheets of one session in one transaction.

        Each sheet gets what :meth:`write_submission` would give it -- ``ingested``, ``replaced``,
        ``unchanged``, or the :class:`~irr.errors.IrrError` refusing it (held scores, work-level
        conflicts, a changed file without ``replace``) -- in one list, in order; a refused sheet
        stores nothing and the others are stored.  The checks run once over all the sheets'
        rows and the rows go in with one insert, so many small sheets (a live session's
        submissions) cost about what one large one does.  When the joined check refuses, or two
        sheets hold the same score, each sheet is checked and stored in turn (a savepoint each,
        in the same transaction), so every refusal names its own sheet.  Names must differ.
        ``guard(store)``, when given, runs first inside the transaction and may raise an
        :class:`~irr.errors.IrrError` to store nothing (a live session checking that scoring is
        still open, in the same transaction that would store its scores).
        """
        names = [sub.name for sub in submissions]
        if len(set(names)) != len(names):
            raise ValueError("write_submissions: two sheets have the same name; store them one after the other")
        # every read inside the write transaction: another process writing the same session (a second
        # irr serve on the store) cannot slip a file in between what is read here and what is written
        with self._write(foreign_keys=False):
            if guard is not None:
                guard(self)
            return self._write_checked(submissions, session, replace)

    def _write_checked(
        self, submissions: Sequence[Submission], session: Session, replace: bool
    ) -> list[IngestResult | IrrError]:
        from irr.model.session import SCORE_KEY

        held = {
            name: (file_id, sha)
            for file_id, name, sha in self._conn.execute(
                "SELECT id, name, sha256 FROM files WHERE session_id = ?", (session.id,)
            )
        }
        shas = {sha for _, sha in held.values()}
        results: list[IngestResult | IrrError | None] = [None] * len(submissions)
        todo: list[int] = []
        for i, sub in enumerate(submissions):
            if sub.sha256 in shas:
                results[i] = IngestResult(action="unchanged", **self._result_fields(sub, session))
            elif sub.name in held and not replace:
                results[i] = self._changed_file_error(sub, session)
            else:
                todo.append(i)
        if todo:
            subs = [submissions[i] for i in todo]
            previous = [held[sub.name][0] if sub.name in held else None for sub in subs]
            replacing = tuple(p for p in previous if p is not None)
            joined = self._joined(subs)
            key = [c for c in SCORE_KEY if c in joined.scores.columns]
            self._upsert_session(session)
            try:
                if len(subs) > 1 and joined.scores.duplicated(key).any():
                    raise SubmissionError([], summary="two sheets hold the same score")
                self._refuse_scores_held(joined, session.id, replacing)
                self._refuse_work_conflicts(joined, replacing)
            except SubmissionError:
                self._store_each(subs, session, previous, todo, results)
            else:
                actions = self._store_files(subs, session, previous, None, joined)
                for i, sub, action in zip(todo, subs, actions):
                    results[i] = IngestResult(action=action, **self._result_fields(sub, session))
        return [r for r in results if r is not None]

    def _store_each(self, subs, session, previous, todo, results) -> None:
        """Check and store sheets one by one, each in a savepoint of the open transaction."""
        for i, sub, prev in zip(todo, subs, previous):
            replacing = () if prev is None else (prev,)
            self._conn.execute("SAVEPOINT sheet")
            try:
                self._refuse_scores_held(sub, session.id, replacing)
                self._refuse_work_conflicts(sub, replacing)
                [action] = self._store_files([sub], session, [prev], None)
            except IrrError as exc:
                self._conn.execute("ROLLBACK TO sheet")
                results[i] = exc
            else:
                results[i] = IngestResult(action=action, **self._result_fields(sub, session))
            finally:
                self._conn.execute("RELEASE sheet")

    @staticmethod
    def _result_fields(sub: Submission, session: Session) -> dict[str, Any]:
        return dict(
            file=sub.name,
            session=session.id,
            n_rows=sub.n_rows,
            n_scores=sub.n_scores,
            sha256=sub.sha256,
            n_not_scored=sub.n_not_scored,
            n_condition_coded=sub.n_condition_coded,
            not_scored=sub.not_scored,
        )

    @staticmethod
    def _changed_file_error(sub: Submission, session: Session) -> ConflictError:
        return ConflictError(
            f"{sub.name} is already in session {session.id} with different content; pass --replace to swap "
            "the old scores for this file's, or rename the file if it holds other scores"
        )

    def _previous_file(self, sub: Submission, session: Session, replace: bool) -> int | None:
        """The id of the session's file of the same name (ConflictError unless ``replace``)."""
        previous = self._conn.execute(
            "SELECT id FROM files WHERE session_id = ? AND name = ?", (session.id, sub.name)
        ).fetchone()
        if previous is not None and not replace:
            raise self._changed_file_error(sub, session)
        return None if previous is None else int(previous[0])

    @staticmethod
    def _joined(subs: Sequence[Submission]) -> Submission:
        """The sheets as one submission (their rows one after another, each with its own line numbers)."""
        import pandas as pd

        if len(subs) == 1:
            return subs[0]
        frames = {id(s.part_of[0]) for s in subs if s.part_of is not None}
        parts = [s.part_of for s in subs]
        if (
            len(frames) == 1
            and all(p is not None for p in parts)
            and all(a[2] == b[1] for a, b in zip(parts, parts[1:]))  # type: ignore[index]
        ):
            # consecutive parts of one joined frame (read_sheets): slice it instead of concatenating
            frame, start, stop = parts[0][0], parts[0][1], parts[-1][2]  # type: ignore[index]
            scores = frame.iloc[start:stop].reset_index(drop=True)
        else:
            scores = pd.concat([s.scores for s in subs], ignore_index=True)
        return dataclasses.replace(
            subs[0],
            name=", ".join(s.name for s in subs[:3]) + (f" and {len(subs) - 3} more" if len(subs) > 3 else ""),
            scores=scores,
            flag_columns=tuple(dict.fromkeys(c for s in subs for c in s.flag_columns)),
            codes={},
            part_of=None,
        )

    def _store_files(self, subs, session: Session, previous, progress, joined=None) -> list[str]:
        """Insert checked sheets (inside the caller's write transaction), each replacing its
        ``previous`` file id when not None; the action of each, ``ingested`` or ``replaced``.
        ``joined`` is :meth:`_joined` of the sheets when the caller has it."""
        import numpy as np

        gone = [p for p in previous if p is not None]
        for start in range(0, len(gone), 900):  # SQLite's parameter limit
            part = gone[start : start + 900]
            marks = ",".join("?" * len(part))
            self._conn.execute(f"DELETE FROM scores WHERE file_id IN ({marks})", part)
            self._conn.execute(f"DELETE FROM files WHERE id IN ({marks})", part)
        now = _now()
        file_ids = []
        for sub in subs:
            cur = self._conn.execute(
                "INSERT INTO files (session_id, name, sha256, layout, n_rows, n_scores, ingested_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session.id, sub.name, sub.sha256, sub.layout, sub.n_rows, sub.n_scores, now),
            )
            file_ids.append(cur.lastrowid)
        actions = ["replaced" if p is not None else "ingested" for p in previous]
        row_files: Any
        if len(subs) == 1:
            sub, row_files = subs[0], file_ids[0]
        else:
            sub = joined if joined is not None else self._joined(subs)
            row_files = np.repeat(np.array(file_ids, dtype=np.int64), [s.n_scores for s in subs])
        raters = self._intern("raters", sub.codes.get("rater_id", sub.scores["rater_id"]))
        works = self._intern("works", sub.codes.get("work_id", sub.scores["work_id"]))
        self._insert_scores(row_files, session.id, sub, raters, works, progress)
        tool, who = f"irr-toolkit {__version__}", _who()
        self._conn.executemany(
            "INSERT INTO ingest_log (at, session_id, file, sha256, n_rows, action, who, tool) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(now, session.id, s.name, s.sha256, s.n_rows, a, who, tool) for s, a in zip(subs, actions)],
        )
        return actions

    def _lookup(self, table: str, column: str, values) -> np.ndarray:
        """Ids of values in a code/term table, -1 where absent (nothing is inserted)."""
        import numpy as np
        import pandas as pd

        assert (table, column) in (("raters", "code"), ("works", "code"), ("terms", "value"))
        codes, unique = pd.factorize(pd.Series(values).astype(str))
        mapping: dict[str, int] = {}
        chunk = 900  # SQLite's parameter limit
        for start in range(0, len(unique), chunk):
            part = list(unique[start : start + chunk])
            marks = ",".join("?" * len(part))
            mapping.update(self._conn.execute(f"SELECT {column}, id FROM {table} WHERE {column} IN ({marks})", part))
        return np.array([mapping.get(u, -1) for u in unique] or [-1], dtype=np.int64)[codes]

    def _refuse_scores_held(self, sub: Submission, session_id: str, replacing: Sequence[int] = ()) -> None:
        """Raise if the session already holds any score of ``sub`` from another file.

        One indexed query tells whether the session has rows at all (a new session costs nothing),
        lookups whether the store knows the file's raters and works; only then are the session's score
        keys read as columns (one aggregate per column) and matched by a vectorised merge.
        """
        import numpy as np
        import pandas as pd

        term = self._conn.execute("SELECT id FROM terms WHERE value = ?", (session_id,)).fetchone()
        if (
            term is None
            or self._conn.execute("SELECT 1 FROM scores WHERE session = ? LIMIT 1", term).fetchone() is None
        ):
            return
        held_files = {row[0] for row in self._conn.execute("SELECT id FROM files WHERE session_id = ?", (session_id,))}
        if held_files <= set(replacing):  # every score the session holds is being replaced (a correction)
            return
        columns = ["rater", "work", "task", "dimension", "read_type"]
        df = sub.scores
        new = pd.DataFrame(
            {
                "rater": self._lookup("raters", "code", df["rater_id"]),
                "work": self._lookup("works", "code", df["work_id"]),
                "task": self._lookup("terms", "value", df["task_id"]),
                "dimension": self._lookup("terms", "value", df["dimension"]),
                "read_type": self._lookup("terms", "value", df["read_type"]),
                "row": df["source_line"].to_numpy(),
                "i": np.arange(len(df)),
            }
        )
        new = new[(new[columns] >= 0).all(axis=1)]  # a rater or work the store has never seen cannot clash
        if new.empty:
            return
        held = self._read_columns(columns + ["file_id", "source_line"], [], {"session": session_id})
        held = pd.DataFrame(held)
        if replacing:
            held = held[~held["file_id"].isin(replacing)]
        if held.empty:
            return
        clash = new.merge(held, on=columns, how="inner")
        if clash.empty:
            return
        files = dict(self._conn.execute("SELECT id, name FROM files WHERE session_id = ?", (session_id,)))
        problems = []
        for file_id, rows in clash.sort_values("row").groupby("file_id", sort=False):
            other = files.get(int(file_id), f"file #{file_id}")
            shown = rows.head(3)
            examples = "; ".join(
                f"row {r}: rater '{df['rater_id'].iloc[i]}', work '{df['work_id'].iloc[i]}', "
                f"{df['dimension'].iloc[i]} ({df['read_type'].iloc[i]} read) = row {o} of {other}"
                for r, o, i in zip(shown["row"], shown["source_line"], shown["i"])
            )
            n = rows["row"].nunique()
            problems.append(
                Problem(
                    sub.name,
                    f"{len(rows)} score(s) on {n} row(s) are already in session {session_id} from {other} "
                    f"(same rater, work, dimension and read type), e.g. {examples}",
                    row=int(rows["row"].iloc[0]),
                    fix=f"remove these rows from {sub.name}; or, if it corrects {other}, ingest the corrected {other} "
                    f"with --replace (a second read of a paper needs its own read_type, e.g. backread)",
                )
            )
        raise SubmissionError(
            problems, summary=f"{sub.name} was rejected (scores the session already holds; nothing stored)"
        )

    def _refuse_work_conflicts(self, sub: Submission, replacing: Sequence[int] = ()) -> None:
        """Raise if a work of ``sub`` the store already holds has another value of a work-level column.

        ``work_district``, ``school``, ``student_id`` and the ``flag_*`` columns describe the work
        (one student's paper), and a work id is global in the store: a non-blank value in the file
        must equal the non-blank stored one (a blank on either side is "not recorded").  The file's
        works with any such value, and their values, go into a temporary table; one scan of
        ``scores`` joined to it returns the distinct stored rows that differ where both sides are
        recorded (none, in the usual case), which are then compared column by column.  A store with
        no other rows, or a file with no work-level value, costs one query.  The rows of the file
        being replaced do not count.
        """
        import numpy as np
        import pandas as pd

        from irr.io.submissions import RowsProblem
        from irr.model.session import FLAG_PREFIX, WORK_COLUMNS

        df = sub.scores
        columns = [c for c in (*WORK_COLUMNS, *sub.flag_columns) if c in df.columns]
        if not columns or df.empty:
            return
        replaced = ",".join(str(int(r)) for r in replacing) or "-1"  # integers only: safe to inline; ids are > 0
        if self._conn.execute(f"SELECT 1 FROM scores WHERE file_id NOT IN ({replaced}) LIMIT 1").fetchone() is None:
            return
        work_codes, work_ids = sub.codes["work_id"] if "work_id" in sub.codes else pd.factorize(df["work_id"])
        work_codes = np.asarray(work_codes)
        work_names = np.asarray([str(w) for w in work_ids], dtype=object)
        # factorize numbers works in order of first row: a row is its work's first iff its code is a new maximum
        first = np.flatnonzero(work_codes > np.maximum.accumulate(np.concatenate(([-1], work_codes[:-1]))))
        mine = {c: np.asarray(df[c].to_numpy(dtype=object)[first].astype(str), dtype=object) for c in columns}
        recorded = np.flatnonzero(np.logical_or.reduce([mine[c] != "" for c in columns]))
        if recorded.size == 0:
            return
        columns = [c for c in columns if (mine[c] != "").any()]  # a column blank throughout cannot disagree
        flag_columns = [c for c in columns if c.startswith(FLAG_PREFIX)]
        blank = self._lookup("terms", "value", [""])[0]
        ids = {
            c: self._lookup("terms", "value", mine[c][recorded]) if c in columns else blank for c in WORK_COLUMNS[:2]
        }
        ids = {c: np.where(mine[c][recorded] == "", blank, v) if c in columns else v for c, v in ids.items()}
        students = mine["student_id"][recorded] if "student_id" in columns else ""
        # the flags as the store writes them, so that equal records are equal text
        flags = (
            df[flag_columns].iloc[first[recorded]].to_json(orient="records", lines=True).splitlines()
            if flag_columns
            else ""
        )
        mine_rows = {
            "code": work_names[recorded].tolist(),
            "i": recorded.tolist(),
            **{c: v.tolist() if isinstance(v, np.ndarray) else [int(v)] * recorded.size for c, v in ids.items()},
            "student_id": students.tolist() if isinstance(students, np.ndarray) else [""] * recorded.size,
            "flags": flags or [""] * recorded.size,
        }
        for table in ("file_codes", "file_works"):
            self._conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
        self._conn.execute(f"CREATE TEMP TABLE file_codes ({', '.join(mine_rows)})")
        self._conn.execute(
            "CREATE TEMP TABLE file_works (work INTEGER PRIMARY KEY, i, work_district, school, student_id, flags)"
        )
        try:
            self._conn.executemany(
                f"INSERT INTO temp.file_codes VALUES ({', '.join('?' * len(mine_rows))})", zip(*mine_rows.values())
            )
            self._conn.execute(
                "INSERT INTO temp.file_works SELECT w.id, c.i, c.work_district, c.school, c.student_id, c.flags "
                "FROM temp.file_codes c JOIN works w ON w.code = c.code"
            )
            # the stored rows of the file's works whose values differ from the file's where both are recorded
            # (flag records that differ as text are compared value by value below); CROSS JOIN keeps `scores`
            # the outer loop: one scan, each row probing the temp table's key
            stored = self._conn.execute(
                "SELECT DISTINCT fw.i, sc.file_id, sc.work_district, sc.school, sc.student_id, ifnull(sc.flags, '') "
                "FROM scores sc CROSS JOIN temp.file_works fw ON fw.work = sc.work "
                f"WHERE sc.file_id NOT IN ({replaced}) AND ("
                "(fw.work_district != :blank AND sc.work_district NOT IN (:blank, fw.work_district)) "
                "OR (fw.school != :blank AND sc.school NOT IN (:blank, fw.school)) "
                "OR (fw.student_id != '' AND sc.student_id NOT IN ('', fw.student_id)) "
                "OR (fw.flags != '' AND ifnull(sc.flags, '') NOT IN ('', fw.flags)))",
                {"blank": int(blank)},
            ).fetchall()
        finally:
            for table in ("file_codes", "file_works"):
                self._conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
        if not stored:
            return
        got = pd.DataFrame(stored, columns=["i", "file_id", "work_district", "school", "student_id", "flags"])
        terms = self._table_values("terms", "value")
        theirs = {
            "work_district": np.asarray(terms.take(got["work_district"].to_numpy()), dtype=object),
            "school": np.asarray(terms.take(got["school"].to_numpy()), dtype=object),
            "student_id": got["student_id"].to_numpy(dtype=object),
        }
        if flag_columns:
            flag_codes, flag_texts = pd.factorize(got["flags"])  # the few distinct flag records, parsed once each
            parsed = [json.loads(t) if t else {} for t in flag_texts]
            for c in flag_columns:
                theirs[c] = np.array(["" if p.get(c) is None else str(p.get(c)) for p in parsed], dtype=object)[
                    flag_codes
                ]
        where = {
            int(i): (name, session) for i, name, session in self._conn.execute("SELECT id, name, session_id FROM files")
        }
        at = got["i"].to_numpy()
        lines = df["source_line"].to_numpy()
        problems: list[Problem] = []
        for c in columns:
            ours = mine[c][at]
            clash = (theirs[c] != "") & (ours != "") & (theirs[c] != ours)
            if not clash.any():
                continue
            hits = got[clash].assign(ours=ours[clash], theirs=theirs[c][clash]).sort_values(["i", "file_id"])
            hits = hits.drop_duplicates("i")  # one stored value per work is enough to show
            bad = np.zeros(len(work_names), dtype=bool)
            bad[hits["i"].to_numpy()] = True
            rows = np.sort(lines[bad[work_codes]])
            shown = "; ".join(
                f"work '{work_names[i]}' is '{o}' here but '{t}' in {where.get(int(f), (f'file #{f}', '?'))[0]} "
                f"(session {where.get(int(f), ('', '?'))[1]})"
                for i, f, o, t in zip(hits["i"][:3], hits["file_id"][:3], hits["ours"][:3], hits["theirs"][:3])
            )
            more = f"; and {len(hits) - 3} more work(s)" if len(hits) > 3 else ""
            other = where.get(int(hits["file_id"].iloc[0]), ("the other file", ""))[0]
            text = (
                f"{len(hits)} work(s) are already stored with another {c} (it describes the work, and a work id "
                f"names the same student's work in every file): {shown}{more}"
            )
            fix = (
                f"correct {c} in {sub.name}, or, if {other} is wrong, ingest a corrected {other} with --replace; "
                "if these are different students' works, give them different work ids"
            )
            if np.unique(rows).size > 1:
                problems.append(
                    RowsProblem(sub.name, text, row=int(rows[0]), column=c, fix=fix, rows=tuple(rows.tolist()))
                )
            else:
                problems.append(Problem(sub.name, text, row=int(rows[0]), column=c, fix=fix))
        if problems:
            raise SubmissionError(
                problems,
                summary=f"{sub.name} was rejected (work-level values disagree with works the store holds; "
                "nothing stored)",
            )

    def _upsert_session(self, s: Session) -> None:
        row = self._conn.execute("SELECT column_map FROM sessions WHERE id = ?", (s.id,)).fetchone()
        if row is None:
            self._conn.execute(
                "INSERT INTO sessions (id, kind, date, region, facilitator, description, column_map, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    s.id,
                    s.kind,
                    s.date.isoformat(),
                    s.region,
                    s.facilitator,
                    s.description,
                    json.dumps(s.column_map),
                    _now(),
                ),
            )
        elif s.column_map:
            merged = {**json.loads(row[0]), **s.column_map}
            self._conn.execute("UPDATE sessions SET column_map = ? WHERE id = ?", (json.dumps(merged), s.id))

    def _intern(self, table: str, codes: pd.Series | tuple) -> np.ndarray:
        """Integer ids for rater/work codes (inserting new ones); each distinct code is looked up once.

        ``codes`` is the column, or it factorized as ``(positions, distinct codes)``.
        """
        import numpy as np
        import pandas as pd

        assert table in ("raters", "works")
        positions, unique = codes if isinstance(codes, tuple) else pd.factorize(codes)
        unique = [str(c) for c in unique]
        self._conn.executemany(f"INSERT OR IGNORE INTO {table} (code) VALUES (?)", ((c,) for c in unique))
        mapping: dict[str, int] = {}
        chunk = 900  # SQLite's parameter limit
        for start in range(0, len(unique), chunk):
            part = unique[start : start + chunk]
            marks = ",".join("?" * len(part))
            mapping.update(self._conn.execute(f"SELECT code, id FROM {table} WHERE code IN ({marks})", part))
        return np.array([mapping[c] for c in unique] or [-1], dtype=np.int64)[positions]

    def _term_ids(self, columns: Mapping[str, pd.Series | str]) -> dict[str, np.ndarray | int]:
        """Ids in `terms` for the values of several text columns (inserting new values).

        A column given as one string (the same value on every row) gets one id, not an array; one
        given as a tuple is already factorized, ``(codes, distinct values)``.
        """
        import numpy as np
        import pandas as pd

        factorized = {
            name: (None, [col])
            if isinstance(col, str)
            else col
            if isinstance(col, tuple)
            else pd.factorize(col.astype(str))
            for name, col in columns.items()
        }
        values = sorted({str(v) for _, uniques in factorized.values() for v in uniques})
        self._conn.executemany("INSERT OR IGNORE INTO terms (value) VALUES (?)", ((v,) for v in values))
        mapping: dict[str, int] = {}
        chunk = 900  # SQLite's parameter limit
        for start in range(0, len(values), chunk):
            part = values[start : start + chunk]
            marks = ",".join("?" * len(part))
            mapping.update(self._conn.execute(f"SELECT value, id FROM terms WHERE value IN ({marks})", part))
        out: dict[str, np.ndarray | int] = {}
        for name, (codes, uniques) in factorized.items():
            ids = np.array([mapping[str(v)] for v in uniques], dtype=np.int64)
            out[name] = int(ids[0]) if codes is None or ids.size == 1 else ids[codes]
        return out

    def _insert_scores(self, file_id, session_id, sub: Submission, raters, works, progress) -> None:
        import numpy as np

        df = sub.scores
        n = len(df)
        flags = (
            df[list(sub.flag_columns)].to_json(orient="records", lines=True).splitlines() if sub.flag_columns else None
        )
        ids = self._term_ids(
            {
                "session": session_id,
                **{
                    name: sub.codes.get(column, df[column])
                    for name, column in _TERM_COLUMNS.items()
                    if name != "session"
                },
            }
        )
        score = df["score"].array
        missing = np.asarray(score.isna())
        if missing.any():  # condition-coded rows have no score: NULL
            coded = score.to_numpy(dtype=np.int64, na_value=0).astype(object)
            coded[missing] = None
            scores = coded.tolist()
        else:
            scores = score.to_numpy(dtype=np.int64)
        stamps = df["timestamp"]
        timestamps = "" if (stamps == "").all() else stamps.tolist()
        if "student_id" in sub.codes:  # one value (mostly ''), or the text of each row
            student_codes, student_values = sub.codes["student_id"]
            students = (
                str(student_values[0])
                if len(student_values) == 1
                else np.asarray(student_values, dtype=object)[student_codes].tolist()
            )
        else:
            column_ = df["student_id"] if "student_id" in df.columns else None
            students = "" if column_ is None or (column_ == "").all() else column_.astype(str).tolist()

        def column(values):
            # a value the same on every row is one value, not a list
            if values is None or isinstance(values, (int, str, list)):
                return values
            values = np.asarray(values)
            if values.size and (values == values[0]).all():
                return values[0].item()
            return values.tolist()

        values = {
            "file_id": column(file_id),
            "session": column(ids["session"]),
            "rater": column(raters),
            "work": column(works),
            "task": column(ids["task"]),
            "rubric": column(ids["rubric"]),
            "rubric_version": column(df["rubric_version"].to_numpy()),
            "dimension": column(ids["dimension"]),
            "score": column(scores),
            "condition_code": column(ids["condition_code"]),
            "read_type": column(ids["read_type"]),
            "rater_district": column(ids["rater_district"]),
            "rater_role": column(ids["rater_role"]),
            "work_district": column(ids["work_district"]),
            "school": column(ids["school"]),
            "timestamp": timestamps,
            "student_id": students,
            "flags": flags,
            "source_line": df["source_line"].tolist(),  # always a list: a row per score
        }
        # The columns that vary go row by row into a temporary table; the ones the same on every row
        # are bound once in the INSERT ... SELECT that copies the rows into `scores` (18 bound values
        # a row cost a third more than the ~5 that vary). Column names come from the dict above only.
        varying = [name for name, v in values.items() if isinstance(v, list)]
        constants = {name: v for name, v in values.items() if name not in varying}
        self._conn.execute("DROP TABLE IF EXISTS temp.ingest_rows")
        self._conn.execute(f"CREATE TEMP TABLE ingest_rows ({', '.join(varying)})")
        rows = zip(*(values[name] for name in varying))
        insert = f"INSERT INTO temp.ingest_rows VALUES ({', '.join('?' * len(varying))})"
        batch = 100_000
        done = 0
        while done < n:
            self._conn.executemany(insert, itertools.islice(rows, batch))  # pulls the rows: no batch list
            done = min(done + batch, n)
            if progress:
                progress(done, n)
        names = list(values)
        self._conn.execute(
            f"INSERT INTO scores ({', '.join(names)}) SELECT "
            + ", ".join(f":{name}" if name in constants else name for name in names)
            + " FROM temp.ingest_rows ORDER BY rowid",
            constants,
        )
        self._conn.execute("DROP TABLE temp.ingest_rows")

    # --------------------------------------------------------------- query
    _SESSIONS_QUERY = """
        SELECT s.id AS session_id, s.kind, s.date, s.region, s.facilitator,
               (SELECT COUNT(*) FROM files f WHERE f.session_id = s.id) AS files,
               COUNT(sc.file_id) AS scores, COUNT(DISTINCT sc.rater) AS raters,
               COUNT(DISTINCT sc.work) AS works, COUNT(DISTINCT sc.task) AS tasks
        FROM sessions s LEFT JOIN terms t ON t.value = s.id LEFT JOIN scores sc ON sc.session = t.id
        GROUP BY s.id ORDER BY s.date, s.id"""

    def session_table(self) -> tuple[list[str], list[tuple]]:
        """The rows of :meth:`sessions` as plain tuples with their column names (no pandas)."""
        cursor = self._conn.execute(self._SESSIONS_QUERY)
        return [d[0] for d in cursor.description], cursor.fetchall()

    def sessions(self) -> pd.DataFrame:
        """One row per session with counts of files, scores, raters, works and tasks."""
        import pandas as pd

        columns, rows = self.session_table()
        return pd.DataFrame.from_records(rows, columns=columns)

    def files(self, session: str | None = None) -> pd.DataFrame:
        """Ingested files with their SHA-256 (provenance for reports)."""
        import pandas as pd

        query = "SELECT session_id, name, sha256, layout, n_rows, n_scores, ingested_at FROM files"
        params: tuple = ()
        if session is not None:
            query += " WHERE session_id = ?"
            params = (session,)
        return pd.read_sql_query(query + " ORDER BY session_id, name", self._conn, params=params)

    _FILTERS = {  # filter name -> scores column ("rater" and "kind" go through their tables)
        "session": "session",
        "task": "task",
        "dimension": "dimension",
        "district": "work_district",
        "rater_district": "rater_district",
        "rater": "rater",
        "read_type": "read_type",
        "kind": "kind",
    }

    def scores(self, *, include_flags: bool = False, bank: Bank | None = None, **filters) -> pd.DataFrame:
        """Long scores with session and rubric metadata.

        Filters (each a value or a list of values): ``session``, ``task``,
        ``dimension``, ``district`` (the work's district), ``rater_district``,
        ``rater``, ``read_type``, ``kind``.  Subgroup flags and the
        pseudonymous ``student_id`` (personal data) are only returned with
        ``include_flags=True``.

        ``score`` is a nullable ``Int64`` column: <NA> on rows that hold a
        condition code instead (``condition_code``, e.g. ``'off_topic'``; ``''``
        on every row with a score).

        Rows come back in the order they were stored.  A score row is all
        integers (ids into small tables), so each column is read as one
        ``group_concat`` aggregate and parsed by numpy: no Python object per
        cell (1,000,000 rows in about two seconds).  All windows and the id
        tables are read in one transaction, so a file ingested or replaced by
        another process meanwhile is seen whole or not at all.
        """
        import numpy as np
        import pandas as pd

        unknown = set(filters) - set(self._FILTERS)
        if unknown:
            raise StoreError(f"unknown filter(s) {sorted(unknown)}; use {sorted(self._FILTERS)}")
        numbers = [
            "rowid",
            "file_id",
            "session",
            "rater",
            "work",
            "task",
            "rubric",
            "rubric_version",
            "dimension",
            "score",
            "condition_code",
            "read_type",
            "rater_district",
            "rater_role",
            "work_district",
            "school",
        ]
        texts = ["timestamp"] + (["student_id", "flags"] if include_flags else [])
        with self._snapshot():
            columns = self._read_columns(numbers, texts, filters)
            terms = self._table_values("terms", "value")
            raters = self._table_values("raters", "code")
            works = self._table_values("works", "code")
            files = self._table_values("files", "name")
            sessions = pd.read_sql_query("SELECT id, kind, date FROM sessions", self._conn).set_index("id")
        order = np.argsort(columns["rowid"], kind="stable")
        if not np.all(order == np.arange(order.size)):
            columns = {name: np.asarray(col)[order] for name, col in columns.items()}
        session_codes, session_terms = pd.factorize(columns["session"])
        session_ids = terms.take(session_terms)
        df = pd.DataFrame({"session_id": session_ids.take(session_codes)})
        for name in ("kind", "date"):
            df[f"session_{name}"] = pd.array(sessions[name].reindex(session_ids).to_numpy(), dtype="str").take(
                session_codes
            )
        df["rater_id"] = raters.take(columns["rater"])
        for name in ("rater_district", "rater_role"):
            df[name] = terms.take(columns[name])
        df["work_id"] = works.take(columns["work"])
        for name in ("work_district", "school"):
            df[name] = terms.take(columns[name])
        df["task_id"] = terms.take(columns["task"])
        df["rubric_id"] = terms.take(columns["rubric"])
        df["rubric_version"] = columns["rubric_version"]
        df["dimension"] = terms.take(columns["dimension"])
        df["dimension_name"] = self._dimension_names(
            columns["rubric"], columns["rubric_version"], columns["dimension"], terms, bank
        )
        coded = columns["condition_code"] != self._blank_term(terms)
        df["score"] = pd.arrays.IntegerArray(columns["score"], coded)
        df["condition_code"] = terms.take(columns["condition_code"])
        df["read_type"] = terms.take(columns["read_type"])
        df["timestamp"] = columns["timestamp"]
        df["file"] = files.take(columns["file_id"])
        if include_flags:
            df["student_id"] = pd.array(columns["student_id"], dtype="str")
            flags = pd.json_normalize([json.loads(f) if f else {} for f in columns["flags"]])
            df = pd.concat([df, flags], axis=1)
        return df

    def _read_columns(self, numbers: list[str], texts: list[str], filters) -> dict[str, np.ndarray]:
        """Columns of the selected score rows, aggregated by SQLite in windows of rowids."""
        import numpy as np

        where = self._where_sql(filters)
        params = self._where_params(filters)
        # score is NULL on condition-coded rows; group_concat would skip it (0 is masked by the caller)
        aggregates = [f"group_concat({'ifnull(score, 0)' if c == 'score' else c}, ',')" for c in numbers]
        aggregates += [f"group_concat(ifnull({c}, ''), char(31))" for c in texts]
        query = f"SELECT count(*), {', '.join(aggregates)} FROM scores WHERE rowid BETWEEN ? AND ?" + (
            f" AND {where}" if where else ""
        )
        low, high = self._conn.execute("SELECT min(rowid), max(rowid) FROM scores").fetchone()
        parts: dict[str, list] = {name: [] for name in numbers + texts}
        if low is not None:
            for start in range(low, high + 1, _ROWID_WINDOW):  # windows of rows, not a loop over rows
                count, *values = self._conn.execute(query, [start, start + _ROWID_WINDOW - 1, *params]).fetchone()
                if not count:
                    continue
                for name, text in zip(numbers, values[: len(numbers)]):
                    parsed = np.fromstring(text, dtype=np.int64, sep=",")
                    if parsed.size != count:
                        raise StoreError(f"column {name} of the scores table could not be read; run `irr store check`")
                    parts[name].append(parsed)
                for name, text in zip(texts, values[len(numbers) :]):
                    parts[name].append(np.array(text.split(_UNIT_SEPARATOR), dtype=object))
        empty = {name: np.zeros(0, dtype=np.int64 if name in numbers else object) for name in parts}
        return {
            name: chunks[0] if len(chunks) == 1 else np.concatenate(chunks) if chunks else empty[name]
            for name, chunks in parts.items()
        }

    def _where_sql(self, filters) -> str:
        parts = []
        for key, value in filters.items():
            if value is None:
                continue
            n = 1 if isinstance(value, (str, int)) else len(list(value))
            marks = ",".join("?" * n)
            if key == "rater":
                parts.append(f"rater IN (SELECT id FROM raters WHERE code IN ({marks}))")
            elif key == "kind":
                parts.append(
                    f"session IN (SELECT t.id FROM terms t JOIN sessions s ON s.id = t.value WHERE s.kind IN ({marks}))"
                )
            else:
                parts.append(f"{self._FILTERS[key]} IN (SELECT id FROM terms WHERE value IN ({marks}))")
        return " AND ".join(parts)

    @staticmethod
    def _where_params(filters) -> list:
        params = []
        for value in filters.values():
            if value is None:
                continue
            params.extend([str(value)] if isinstance(value, (str, int)) else [str(v) for v in value])
        return params

    @staticmethod
    def _blank_term(terms) -> int:
        """The id of the term '' (the condition code of a row with a score); -1 if there is none."""
        import numpy as np

        found = np.flatnonzero(np.asarray(terms == "", dtype=bool))
        return int(found[0]) if found.size else -1

    def _table_values(self, table: str, column: str) -> pd.api.extensions.ExtensionArray:
        """A small table's text column as a string array indexed by id (``.take(ids)`` maps ids to text)."""
        import numpy as np
        import pandas as pd

        assert (table, column) in (("raters", "code"), ("works", "code"), ("files", "name"), ("terms", "value"))
        rows = self._conn.execute(f"SELECT id, {column} FROM {table}").fetchall()
        if not rows:
            return pd.array([], dtype="str")
        keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        values = np.empty(keys.max() + 1, dtype=object)
        values[keys] = [r[1] for r in rows]
        return pd.array(values, dtype="str")

    @staticmethod
    def _dimension_names(
        rubric: np.ndarray, version: np.ndarray, dimension: np.ndarray, terms: np.ndarray, bank: Bank | None
    ) -> np.ndarray:
        """Each row's dimension name from the bank ('' where the bank does not hold the rubric)."""
        import numpy as np
        import pandas as pd

        from irr.model.bank import load_bank

        if rubric.size == 0:
            return np.array([], dtype=object)
        try:
            bank = bank or load_bank()
        except IrrError:  # the bank may be elsewhere; names are a convenience
            return np.full(rubric.size, "", dtype=object)
        parts = [pd.factorize(column) for column in (rubric, version, dimension)]
        key = (parts[0][0] * len(parts[1][1]) + parts[1][0]) * len(parts[2][1]) + parts[2][0]
        codes, combos = pd.factorize(key)
        rest, d = np.divmod(combos, len(parts[2][1]))
        r, v = np.divmod(rest, len(parts[1][1]))
        names = np.empty(combos.size, dtype=object)
        for i, (rubric_id, ver, dim) in enumerate(zip(terms[parts[0][1][r]], parts[1][1][v], terms[parts[2][1][d]])):
            found = bank.rubrics.get((rubric_id, int(ver)))  # a loop over the few distinct dimensions
            known = {x.id: x.name for x in found.dimensions} if found is not None else {}
            names[i] = known.get(dim, "")
        return pd.array(names, dtype="str").take(codes)

    def ratings(self, task: str, dimension: str, *, bank: Bank | None = None, **filters) -> Ratings:
        """One task dimension's scores as :class:`~irr.Ratings` (units = work samples).

        The category scale is the dimension's full scale from the bank, so an
        unused score point still counts.  Rows holding a condition code
        (``blank``, ``off_topic``, ...) are not ratings: they are left out and
        counted in ``dropped["condition code"]``.
        """
        from irr.model.bank import load_bank
        from irr.stats import Ratings

        bank = bank or load_bank()
        scale = bank.rubric_for(task).dimension(dimension).score_values
        df = self.scores(task=task, dimension=dimension, bank=bank, **filters)
        if df.empty:
            raise NotFoundError(f"no scores for task '{task}', dimension '{dimension}' with filters {filters}")
        coded = (df["condition_code"] != "").to_numpy()
        if coded.all():
            raise NotFoundError(
                f"no scores for task '{task}', dimension '{dimension}' with filters {filters}: "
                f"all {int(coded.sum())} rows hold a condition code"
            )
        if coded.any():
            df = df[~coded]
        ratings = Ratings.from_long(df, unit="work_id", rater="rater_id", score="score", categories=scale)
        if coded.any():
            ratings.dropped["condition code"] = int(coded.sum())
        return ratings

    # ------------------------------------------------------------- upkeep
    def check(self) -> list[str]:
        """Integrity check: SQLite's own check plus the store's invariants. Empty list = healthy."""
        problems = [r[0] for r in self._conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        problems += [f"foreign key violation in {r[0]}" for r in self._conn.execute("PRAGMA foreign_key_check")]
        for column in _TERM_COLUMNS:
            orphans = self._conn.execute(
                f"SELECT count(*) FROM scores WHERE {column} NOT IN (SELECT id FROM terms)"
            ).fetchone()[0]
            if orphans:
                problems.append(f"{orphans} score row(s) have a {column} id missing from the terms table")
        problems += self._held_twice()
        problems += self._works_disagreeing()
        for name, n_scores, actual in self._conn.execute(
            "SELECT f.name, f.n_scores, (SELECT COUNT(*) FROM scores s WHERE s.file_id = f.id) FROM files f"
        ):
            if n_scores != actual:
                problems.append(f"file {name}: {actual} scores stored, {n_scores} recorded at ingest")
        return problems

    def _held_twice(self) -> list[str]:
        """Scores stored more than once in a session (stores written before ingest refused them)."""
        query = """
            SELECT se.value, r.code, w.code, di.value, rt.value, d.n,
                   (SELECT group_concat(name, ', ') FROM files WHERE ',' || d.files || ',' LIKE '%,' || id || ',%')
            FROM (SELECT session, rater, work, task, dimension, read_type, count(*) AS n,
                         group_concat(DISTINCT file_id) AS files
                  FROM scores GROUP BY session, rater, work, task, dimension, read_type HAVING count(*) > 1) d
            JOIN terms se ON se.id = d.session JOIN raters r ON r.id = d.rater JOIN works w ON w.id = d.work
            JOIN terms di ON di.id = d.dimension JOIN terms rt ON rt.id = d.read_type"""
        rows = self._conn.execute(query).fetchall()
        if not rows:
            return []
        extra = sum(r[5] - 1 for r in rows)
        shown = "; ".join(
            f"session {s}: rater '{r}', work '{w}', {d} ({t} read) {n} times, in {f}"
            for s, r, w, d, t, n, f in rows[:3]
        )
        return [
            f"{extra} score(s) are stored more than once (same session, rater, work, dimension and read type), "
            f"e.g. {shown} -> ingest a corrected version of one of those files with --replace"
        ]

    def _works_disagreeing(self) -> list[str]:
        """Works stored with two non-blank values of a work-level column (stores written before ingest
        checked them; flags, kept as JSON records, are left to ingest)."""
        blank = self._conn.execute("SELECT id FROM terms WHERE value = ''").fetchone()
        query = """
            SELECT w.code, d.districts, d.schools, d.students
            FROM (SELECT work, count(DISTINCT nullif(work_district, :blank)) AS districts,
                         count(DISTINCT nullif(school, :blank)) AS schools,
                         count(DISTINCT nullif(student_id, '')) AS students
                  FROM scores GROUP BY work
                  HAVING count(DISTINCT nullif(work_district, :blank)) > 1 OR count(DISTINCT nullif(school, :blank)) > 1
                      OR count(DISTINCT nullif(student_id, '')) > 1) d
            JOIN works w ON w.id = d.work ORDER BY d.work"""
        rows = self._conn.execute(query, {"blank": blank[0] if blank else -1}).fetchall()
        if not rows:
            return []
        shown = "; ".join(
            f"work '{code}': "
            + ", ".join(f"{n} {name}" for n, name in zip(counts, ("districts", "schools", "student ids")) if n > 1)
            for code, *counts in rows[:3]
        )
        return [
            f"{len(rows)} work(s) are stored with more than one work_district, school or student_id, e.g. {shown} "
            "-> ingest corrected versions of their files with --replace (`irr export --include-flags` shows the rows)"
        ]

    def log(self) -> pd.DataFrame:
        import pandas as pd

        return pd.read_sql_query("SELECT * FROM ingest_log ORDER BY id", self._conn)

    # --------------------------------------------------------------- live sessions (irr serve)
    _LIVE_FIELDS = ("id", "task_id", "profile", "join_code", "date", "open", "revealed", "opened_at")

    def open_live_session(self, session_id: str, task_id: str, profile: str, join_code: str, date: str) -> dict:
        """Record a live calibration session of ``irr serve`` (its join code, open, not revealed).

        A live session of that id already recorded is returned as it is (its code kept): opening
        it again is carrying on.  An id the store holds as an ordinary (ingested) session is
        refused with :class:`~irr.errors.ConflictError`: live scores would mix with its files.
        """
        with self._write():
            row = self._conn.execute(
                f"SELECT {', '.join(self._LIVE_FIELDS)} FROM live_sessions WHERE id = ?", (session_id,)
            ).fetchone()
            if row is not None:
                return self._live_record(row)
            if self._conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is not None:
                raise ConflictError(
                    f"session {session_id!r} is already in the store (ingested score sheets); "
                    "give the live session another id"
                )
            self._conn.execute(
                "INSERT INTO live_sessions (id, task_id, profile, join_code, date, opened_at) VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, task_id, profile, join_code, date, _now()),
            )
            self._bump_live_version()
        return self.live_session(session_id)

    def live_sessions(self) -> list[dict]:
        """Every live session recorded, oldest first, as dicts of ``id, task_id, profile, join_code, date,
        open, revealed, opened_at``."""
        rows = self._conn.execute(
            f"SELECT {', '.join(self._LIVE_FIELDS)} FROM live_sessions ORDER BY opened_at, id"
        ).fetchall()
        return [self._live_record(row) for row in rows]

    def live_session(self, session_id: str) -> dict:
        """One live session's record (:class:`~irr.errors.NotFoundError` if there is none)."""
        row = self._conn.execute(
            f"SELECT {', '.join(self._LIVE_FIELDS)} FROM live_sessions WHERE id = ?", (session_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no live session {session_id!r} in {self.path.name}")
        return self._live_record(row)

    def _live_record(self, row) -> dict:
        record = dict(zip(self._LIVE_FIELDS, row))
        record["open"], record["revealed"] = bool(record["open"]), bool(record["revealed"])
        return record

    def set_live_state(self, session_id: str, *, open: bool | None = None, revealed: bool | None = None) -> dict:
        """Close or reopen a live session's scoring, reveal its consensus scores; the new record."""
        self.live_session(session_id)
        with self._write():
            if open is not None:
                self._conn.execute("UPDATE live_sessions SET open = ? WHERE id = ?", (int(open), session_id))
            if revealed is not None:
                self._conn.execute("UPDATE live_sessions SET revealed = ? WHERE id = ?", (int(revealed), session_id))
            self._bump_live_version()
        return self.live_session(session_id)

    def add_live_raters(self, session_id: str, rater_ids: Sequence[str]) -> None:
        """Record raters who joined a live session (once each; joining again changes nothing)."""
        now = _now()
        with self._write():
            before = self._conn.total_changes
            self._conn.executemany(
                "INSERT OR IGNORE INTO live_raters (session_id, rater_id, joined_at) VALUES (?, ?, ?)",
                [(session_id, str(r), now) for r in rater_ids],
            )
            if self._conn.total_changes != before:
                self._bump_live_version()

    def live_version(self) -> int:
        """A number that changes with every change of the live sessions' state (opened, closed,
        revealed, a rater joined), so that each ``irr serve`` on the store knows, with one
        indexed read, when the state it holds is out of date."""
        row = self._conn.execute("SELECT value FROM settings WHERE name = 'live_version'").fetchone()
        return int(row[0]) if row is not None else 0

    def _bump_live_version(self) -> None:
        self._conn.execute(
            "INSERT INTO settings (name, value) VALUES ('live_version', '1') "
            "ON CONFLICT (name) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def live_raters(self, session_id: str) -> list[str]:
        """The raters who joined a live session, sorted."""
        rows = self._conn.execute(
            "SELECT rater_id FROM live_raters WHERE session_id = ? ORDER BY rater_id", (session_id,)
        ).fetchall()
        return [r[0] for r in rows]

    def setting(self, name: str, default: Callable[[], str]) -> str:
        """A value kept in the store (``irr serve``'s cookie-signing key), made by ``default()`` and
        stored the first time it is asked for."""
        with self._write():
            self._conn.execute("INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)", (name, default()))
            return str(self._conn.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()[0])

    def file_scores(self, session_id: str, file_name: str) -> list[tuple[str, str, int | None, str]]:
        """The scores one stored sheet holds, as ``(work_id, dimension, score, condition_code)`` in
        its row order (a live session's rater reading back their own sheet; one indexed lookup, not
        a read of the session)."""
        return list(
            self._conn.execute(
                "SELECT w.code, di.value, sc.score, cc.value FROM files f "
                "JOIN scores sc ON sc.file_id = f.id JOIN works w ON w.id = sc.work "
                "JOIN terms di ON di.id = sc.dimension JOIN terms cc ON cc.id = sc.condition_code "
                "WHERE f.session_id = ? AND f.name = ? ORDER BY sc.rowid",
                (session_id, file_name),
            )
        )
