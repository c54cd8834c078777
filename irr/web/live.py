"""Live calibration sessions in ``irr serve``: raters score a task's anchor papers from their own
laptop or phone while the coordinator watches the room's agreement form.

* The coordinator opens a session for a task (``POST /live``) and gets a join link with a long
  random code (and its QR code).  The session is an ordinary store session (kind
  ``calibration``): ``irr calibrate`` reports on it like on any other.
* A rater opens the link, gives their rater id and scores every anchor paper dimension by
  dimension, the rubric's descriptors beside each score point.  Each submission is the rater's
  whole score sheet, validated like a sheet ingested from a file (:func:`irr.io.ingest_sheets`,
  the checks and messages of ``irr ingest``) and stored atomically, replacing the rater's previous
  submission: a rater can correct scores until the coordinator closes scoring.  Raters see their
  own scores and their own session only, and the consensus scores only after the coordinator
  reveals them.  The page's script posts the sheet in the background to the page's JSON twin
  (``/live/{id}/score.json``), which answers with what was saved; without scripts the form posts
  to the page itself and gets the whole page back.
* Submissions arriving together are written together (:class:`GroupWriter`, :func:`write_sheets`): while one batch is
  being validated and committed the next ones queue, and go in as one validation and one
  transaction -- a room of 200 raters pressing "Submit" at once costs a few commits, not 200.
  Each rater's sheet stays all-or-nothing; a refused sheet refuses only itself.
* The dashboard (``/live/{id}``, JSON twin ``/live/{id}.json``) shows who has joined and
  submitted, the room's score distribution per paper and dimension, the papers that split the
  room and each rater's calibration status by the session's profile -- from
  :func:`irr.analysis.calibration.calibrate`, the same numbers ``irr calibrate`` prints.

The live state (join code, open or closed, revealed, who joined) is kept in the store beside the
scores (and the key signing the raters' cookies, so a restarted server knows them): stopping and
starting ``irr serve`` on the same store carries on where it stopped.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as _dt
import io
import logging
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from irr.errors import ConflictError, IrrError, NotFoundError, SubmissionError
from irr.web.security import AttemptLimiter, new_token, read_body, tokens_match

__all__ = ["LiveSession", "LiveRegistry", "GroupWriter", "write_sheets", "write_joins", "ROUTES", "RATER_ID"]

RATER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # also the rater's sheet name: live-<id>.csv
SHEET_HEADER = ("rater_id", "work_id", "task_id", "dimension", "score")
MAX_FORM_BYTES = 256 * 1024  # a score sheet of 100 papers x 10 dimensions is about 40 KiB


@dataclass
class LiveSession:
    id: str
    task_id: str
    profile: str
    code: str
    date: str
    open: bool = True
    revealed: bool = False
    joined: set = field(default_factory=set)

    @property
    def manifest(self) -> dict[str, str]:
        return {
            "id": self.id,
            "kind": "calibration",
            "date": self.date,
            "description": f"live calibration of {self.task_id} (irr serve)",
        }


def sheet_name(rater: str) -> str:
    """The name of a rater's sheet in the session (rater ids are :data:`RATER_ID`, so names differ)."""
    return f"live-{rater}.csv"


class LiveRegistry:
    """The server's live sessions, kept in the store and cached here (thread-safe).

    ``open_store(create=True)`` gives a :class:`~irr.store.Store` (a new connection each time:
    SQLite connections stay in their thread); ``bank()`` the bank.  Every change is written to the store first, then to
    the cache, so the cache never shows what the store does not hold.
    """

    def __init__(self, open_store: Callable[..., Any], bank: Callable[[], Any]):
        self._open_store = open_store
        self.bank = bank
        self._cache: dict[str, LiveSession] | None = None
        self._version = -1  # the store's live_version the cache was read at
        self._lock = threading.Lock()
        self._local = threading.local()
        self.join_limiter = AttemptLimiter(max_attempts=20, window_seconds=60)
        self.sheets = GroupWriter(lambda batch: write_sheets(self, batch))
        self.joins = GroupWriter(lambda batch: write_joins(self, batch))
        self.grids: dict[
            tuple, tuple[list[str], dict[tuple[str, str, str], int]]
        ] = {}  # scoring grids by (task, revealed, open): _with_grid

    def store(self):
        """A new connection to the store (close it: ``with registry.store() as store``)."""
        return self._open_store(create=True)

    def here(self):
        """This thread's own connection to the store, kept open for the thread's next requests (not
        to be closed: the hot paths -- a rater's page, the writer -- skip opening one each time)."""
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = self._open_store(create=True)
        return store

    def _sessions(self) -> dict[str, LiveSession]:
        """The live sessions, re-read from the store whenever their state there changed (another
        ``irr serve`` on the same store may have changed it): one indexed read per call."""
        try:
            version = self.here().live_version()
        except NotFoundError:  # no store: no live sessions
            return {}
        if self._cache is None or version != self._version:
            with self._lock:
                if self._cache is None or version != self._version:
                    self._reload(version)
        assert self._cache is not None
        return self._cache

    def _reload(self, version: int) -> None:
        """Bring the cache up to the store (under the lock); sessions already cached are updated in
        place, so that a request holding one sees the change."""
        cache = dict(self._cache or {})
        with self.store() as store:
            for rec in store.live_sessions():
                joined = store.live_raters(rec["id"])
                live = cache.get(rec["id"])
                if live is None:
                    cache[rec["id"]] = self._session(rec, joined)
                else:
                    live.open, live.revealed = rec["open"], rec["revealed"]
                    live.joined.update(joined)
        self._cache, self._version = cache, version

    @staticmethod
    def _session(rec: dict, joined) -> LiveSession:
        return LiveSession(
            rec["id"],
            rec["task_id"],
            rec["profile"],
            rec["join_code"],
            rec["date"],
            rec["open"],
            rec["revealed"],
            set(joined),
        )

    def open(self, session_id: str, task_id: str, profile: str, date: str) -> LiveSession:
        """Open a live session (or return the one of that id already open: its code is kept)."""
        sessions = self._sessions()
        with self._lock, self.store() as store:
            # 144 random bits: beyond guessing, and guesses are limited besides
            rec = store.open_live_session(session_id, task_id, profile, new_token(18), date)
            live = sessions.get(rec["id"]) or self._session(rec, store.live_raters(rec["id"]))
            sessions[live.id] = live
            return live

    def get(self, session_id: str) -> LiveSession:
        live = self._sessions().get(session_id)
        if live is None:
            raise NotFoundError(f"no live session {session_id!r} on this server")
        return live

    def by_code(self, code: str) -> LiveSession | None:
        for live in list(self._sessions().values()):
            if tokens_match(live.code, code):
                return live
        return None

    def set_state(self, live: LiveSession, *, open: bool | None = None, revealed: bool | None = None) -> None:
        with self._lock, self.store() as store:
            rec = store.set_live_state(live.id, open=open, revealed=revealed)
            live.open, live.revealed = rec["open"], rec["revealed"]

    async def join(self, live: LiveSession, rater: str) -> None:
        """Record that ``rater`` joined (with the other joins arriving now: one transaction)."""
        if rater not in live.joined:
            await self.joins.submit((live, rater))


@dataclass
class _Pending:
    item: Any
    done: asyncio.Future


class GroupWriter:
    """Group commit: the items that arrive while a batch is being written are written next,
    together, by ``write(items) -> outcomes`` (run in a worker thread, one batch at a time).

    ``await writer.submit(item)`` gives the item's outcome.  When the first item of a batch
    arrives the writer waits while more keep coming (``gather_step`` at a time, at most
    ``gather_seconds``), so that a room pressing "Submit" together shares one write.
    """

    max_batch = 1000
    gather_step = 0.003  # seconds: a lone item waits this long for company
    gather_seconds = 0.1

    def __init__(self, write: Callable[[list[Any]], list[Any]]):
        self._write = write
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Pending] | None = None
        self._task: asyncio.Task | None = None

    async def submit(self, item: Any) -> Any:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._task is None or self._task.done():
            # one writer task per event loop (a test client may run each request in a new loop)
            self._loop, self._queue = loop, asyncio.Queue()
            self._task = loop.create_task(self._run(self._queue))
        assert self._queue is not None
        pending = _Pending(item, loop.create_future())
        self._queue.put_nowait(pending)
        return await pending.done

    async def _run(self, queue: asyncio.Queue[_Pending]) -> None:
        while True:
            batch = [await queue.get()]
            waited = 0.0
            while waited < self.gather_seconds and len(batch) < self.max_batch:
                await asyncio.sleep(self.gather_step)
                waited += self.gather_step
                if queue.empty():
                    break
                while not queue.empty() and len(batch) < self.max_batch:
                    batch.append(queue.get_nowait())
            try:
                outcomes = await run_in_threadpool(self._write, [p.item for p in batch])
            except Exception as exc:  # noqa: BLE001 -- every waiter must hear, whatever went wrong
                outcomes = [exc] * len(batch)
            for pending, outcome in zip(batch, outcomes):
                if not pending.done.done():
                    pending.done.set_result(outcome)


def write_sheets(registry: LiveRegistry, batch: list[tuple[LiveSession, str, bytes]]) -> list[Any]:
    """Store a batch of raters' sheets ``(live session, rater, sheet)``: per live session, one
    :func:`irr.io.ingest_sheets` of the raters' latest sheets (a rater's later sheet replaces the
    earlier, as it would one batch later, and both get its outcome), refused whole for a session
    whose scoring is closed.  Each outcome is an IngestResult or the IrrError refusing the sheet."""
    from irr.io import ingest_sheets

    outcomes: list[Any] = [None] * len(batch)
    sessions: dict[str, list[int]] = {}
    for i, (live, _, _) in enumerate(batch):
        sessions.setdefault(live.id, []).append(i)
    for indices in sessions.values():
        live = batch[indices[0]][0]
        latest = {batch[i][1]: i for i in indices}
        if not live.open:
            closed = ConflictError(f"scoring of session {live.id} is closed")
            for i in indices:
                outcomes[i] = closed
            continue
        chosen = sorted(latest.values())
        sheets = [(sheet_name(batch[i][1]), batch[i][2]) for i in chosen]

        def still_open(store, session_id: str = live.id) -> None:
            # in the transaction that stores the sheets: a close committed first (by this server or
            # another on the same store) refuses them, one committed later comes after them
            if not store.live_session(session_id)["open"]:
                raise ConflictError(f"scoring of session {session_id} is closed")

        try:
            results = ingest_sheets(
                registry.here(), sheets, live.manifest, bank=registry.bank(), replace=True, guard=still_open
            )
        except IrrError as exc:
            results = [exc] * len(chosen)
        for i, result in zip(chosen, results):
            outcomes[i] = result
        for i in indices:
            if outcomes[i] is None:
                outcomes[i] = outcomes[latest[batch[i][1]]]
    return outcomes


def write_joins(registry: LiveRegistry, batch: list[tuple[LiveSession, str]]) -> list[None]:
    """Record a batch of joins ``(live session, rater)`` in the store, one transaction."""
    by_session: dict[str, list[str]] = {}
    for live, rater in batch:
        by_session.setdefault(live.id, []).append(rater)
    store = registry.here()
    for session_id, raters in by_session.items():
        store.add_live_raters(session_id, raters)
    with registry._lock:
        for live, rater in batch:
            live.joined.add(rater)
    return [None] * len(batch)


def _has_session(store, session_id: str) -> bool:
    return any(str(row[0]) == session_id for row in store.session_table()[1])


def _registry(request: Request) -> LiveRegistry:
    return request.app.state.live


def _coordinator_ok(request: Request) -> bool:
    return request.app.state.passphrase_hash is None or bool(request.session.get("coordinator"))


def _rater_of(request: Request, live: LiveSession) -> str | None:
    if request.session.get("live") == live.id and request.session.get("rater"):
        return str(request.session["rater"])
    return None


async def _form(request: Request) -> dict[str, str] | None:
    """The posted form when its CSRF token matches the session's; None otherwise (or when larger
    than :data:`MAX_FORM_BYTES`).  A plain urlencoded form -- every form of these pages -- is
    parsed with the standard library's parse_qsl, ten times faster than the multipart parser."""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        body = await read_body(request, MAX_FORM_BYTES)
        if body is None:
            return None
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    else:
        form = {k: str(v) for k, v in (await request.form()).items()}
    if not tokens_match(request.session.get("csrf"), form.get("csrf", "")):
        return None
    return form


def _page(request: Request, template: str, data: dict[str, Any], status: int = 200) -> HTMLResponse:
    from irr.web.app import render_page  # the package's page renderer (imported late: app imports this module)

    return render_page(request, template, data, status)


def _message(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return _page(request, "error.html.j2", {"title": title, "message": message}, status)


# ----------------------------------------------------------------------------- coordinator
async def open_live(request: Request) -> Response:
    if not _coordinator_ok(request):
        return RedirectResponse("/login", status_code=303)
    form = await _form(request)
    if form is None:
        return _message(request, 400, "Error", "the form expired: reload the page")
    bank = request.app.state.bank()
    try:
        task = bank.task(form.get("task_id", ""))
    except NotFoundError as exc:
        return _message(request, 404, "Not found", str(exc))
    if not task.anchors:
        return _message(request, 400, "Error", f"task {task.id} has no anchor papers to calibrate on")
    today = _dt.date.today().isoformat()
    session_id = form.get("session_id", "").strip() or f"live-{task.id}-{today}"
    if not RATER_ID.fullmatch(session_id):
        return _message(request, 400, "Error", "a session id is letters, digits, '.', '-' or '_' (at most 64)")
    profile = form.get("profile", "pace") or "pace"
    try:
        live = await run_in_threadpool(_registry(request).open, session_id, task.id, profile, today)
    except IrrError as exc:
        return _message(request, 409 if isinstance(exc, ConflictError) else 400, "Error", str(exc))
    if live.task_id != task.id:
        return _message(request, 409, "Error", f"live session {live.id} is already open on task {live.task_id}")
    return RedirectResponse(f"/live/{live.id}", status_code=303)


def dashboard_data(request: Request, live: LiveSession) -> dict[str, Any]:
    """Who has submitted, the room's distributions, split papers and each rater's status."""
    import pandas as pd

    from irr.analysis.calibration import calibrate

    join = str(request.url_for("join", code=live.code))
    data: dict[str, Any] = {
        "title": f"Live calibration: {live.id}",
        "session": live.id,
        "task": live.task_id,
        "profile": live.profile,
        "open": live.open,
        "revealed": live.revealed,
        "join_url": join,
        "joined": sorted(live.joined),
        "submitted": [],
        "raters": [],
        "papers": [],
        "distribution": [],
    }
    store = request.app.state.open_store(create=True)
    with store:
        if not _has_session(store, live.id):
            return data
        scores = store.scores(session=live.id, bank=request.app.state.bank())
    if scores.empty:
        return data
    data["submitted"] = sorted(scores["rater_id"].astype(str).unique())
    counts = scores.dropna(subset=["score"]).groupby(["work_id", "dimension", "score"]).size().rename("n").reset_index()
    data["distribution"] = [
        {"work_id": r.work_id, "dimension": r.dimension, "score": int(r.score), "n": int(r.n)}
        for r in counts.itertuples()
    ]
    try:
        result = calibrate(scores, request.app.state.bank(), live.profile, task=live.task_id)
    except IrrError as exc:
        data["note"] = str(exc)
        return data
    raters = result.tables["raters"]
    keep = [c for c in ("rater_id", "n", "exact", "exact_adjacent", "status", "failed_checks") if c in raters]
    data["raters"] = _records(raters[keep])
    checks = result.tables.get("checks")
    if checks is not None and "passed" in checks:
        failed = checks[~checks["passed"].astype(bool)]
        why: dict[str, list[str]] = {}
        for row in failed.to_dict("records"):
            dim = row.get("dimension")
            where = f" ({dim})" if isinstance(dim, str) and dim else ""
            if pd.notna(row.get("value")):  # a share, against a share
                value, bound = f"{row['value']:.0%}", f"{row['limit']:.0%}"
            else:  # a count (no share), against a count
                value, bound = f"{row.get('count'):g}", f"{row['limit']:g}"
            told = f"{row['metric']}{where} {value}, {row['bound']} {bound}"
            why.setdefault(str(row["rater_id"]), []).append(told)
        for rater in data["raters"]:
            rater["why"] = "; ".join(why.get(str(rater["rater_id"]), []))
    papers = result.tables["papers"]
    keep = [
        c
        for c in ("work_id", "dimension", "consensus", "exact", "low_agreement", "both_sides", "discussion_rank")
        if c in papers
    ]
    split = papers[keep]
    if "discussion_rank" in split:
        split = split.sort_values("discussion_rank")
    data["papers"] = _records(split)
    return data


def _records(frame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict("records"):
        clean = {}
        for k, v in row.items():
            if hasattr(v, "item"):
                v = v.item()
            if isinstance(v, float) and v != v:
                v = None
            clean[str(k)] = v
        out.append(clean)
    return out


async def dashboard(request: Request) -> Response:
    if not _coordinator_ok(request):
        return RedirectResponse("/login", status_code=303)
    raw = request.path_params["session_id"]
    as_json = raw.endswith(".json")
    try:
        live = _registry(request).get(raw[: -len(".json")] if as_json else raw)
    except NotFoundError as exc:
        return JSONResponse({"error": str(exc)}, 404) if as_json else _message(request, 404, "Not found", str(exc))
    data = await run_in_threadpool(dashboard_data, request, live)  # store reads off the event loop
    if as_json:
        return JSONResponse(data)
    data["qr"] = _qr_svg(data["join_url"])
    return _page(request, "live_dashboard.html.j2", data)


def _qr_svg(text: str) -> str:
    import segno

    return segno.make(text, error="m").svg_inline(scale=4, dark="#1d2430")


async def control(request: Request) -> Response:
    """Reveal the consensus scores, close or reopen scoring."""
    if not _coordinator_ok(request):
        return RedirectResponse("/login", status_code=303)
    form = await _form(request)
    if form is None:
        return _message(request, 400, "Error", "the form expired: reload the page")
    try:
        live = _registry(request).get(request.path_params["session_id"])
    except NotFoundError as exc:
        return _message(request, 404, "Not found", str(exc))
    changes = {"reveal": {"revealed": True}, "close": {"open": False}, "reopen": {"open": True}}
    action = form.get("action", "")
    if action not in changes:
        return _message(request, 400, "Error", f"unknown action {action!r}")
    await run_in_threadpool(lambda: _registry(request).set_state(live, **changes[action]))
    return RedirectResponse(f"/live/{live.id}", status_code=303)


SHEET_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def export_sheet(request: Request) -> Response:
    """The session's scores as a score sheet (CSV or XLSX) that ``irr ingest`` accepts unchanged."""
    if not _coordinator_ok(request):
        return RedirectResponse("/login", status_code=303)
    session_id, suffix = request.path_params["session_id"], request.path_params["format"]
    if suffix not in SHEET_TYPES:
        return _message(request, 404, "Not found", "score sheets download as scores.csv or scores.xlsx")

    def sheet() -> bytes | None:
        import tempfile
        from pathlib import Path

        from irr.io.export import write_scores

        with request.app.state.open_store(create=True) as store:
            scores = store.scores(session=session_id)
        if scores.empty:
            return None
        with tempfile.TemporaryDirectory(prefix="irr-sheet-") as folder:
            return write_scores(scores, Path(folder) / f"scores.{suffix}").read_bytes()

    content = await run_in_threadpool(sheet)
    if content is None:
        return _message(request, 404, "Not found", f"session {session_id!r} has no scores yet")
    return Response(
        content,
        media_type=SHEET_TYPES[suffix],
        headers={"content-disposition": f'attachment; filename="{session_id}.{suffix}"'},
    )


# ----------------------------------------------------------------------------- raters
async def join(request: Request) -> Response:
    registry = _registry(request)
    client = request.client.host if request.client else "unknown"
    live = registry.by_code(request.path_params["code"])
    if live is None:
        # only wrong codes count: a room of raters behind one address joins freely, a guesser is slowed
        if not registry.join_limiter.allow(client):
            return _message(request, 429, "Error", "too many wrong join codes: wait a minute")
        return _message(request, 404, "Not found", "no session with this join code: ask the coordinator for the link")
    if request.method == "GET":
        return _page(request, "live_join.html.j2", {"title": f"Join {live.id}", "task": live.task_id, "message": ""})
    form = await _form(request)
    if form is None:
        return _message(request, 400, "Error", "the form expired: reload the page")
    rater = form.get("rater_id", "").strip()
    if not RATER_ID.fullmatch(rater):
        return _page(
            request,
            "live_join.html.j2",
            {
                "title": f"Join {live.id}",
                "task": live.task_id,
                "message": "Give your rater id: letters, digits, '.', '-' or '_' (at most 64).",
            },
            400,
        )
    await registry.join(live, rater)
    request.session["live"] = live.id
    request.session["rater"] = rater
    return RedirectResponse(f"/live/{live.id}/score", status_code=303)


def _sheet(request: Request, live: LiveSession, rater: str) -> dict[str, Any]:
    """The rater's scoring page: every anchor paper x dimension, their stored scores filled in."""
    bank = request.app.state.bank()
    task = bank.task(live.task_id)
    rubric = bank.rubric_for(task)
    stored = _registry(request).here().file_scores(live.id, sheet_name(rater))
    mine = {(work, dim): (code or str(score)) for work, dim, score, code in stored}
    dims = [
        {
            "id": d.id,
            "name": d.name,
            "points": [
                {"score": s, "label": d.labels.get(s, ""), "descriptor": d.descriptors.get(s, "")}
                for s in d.score_values
            ],
            "codes": list(d.condition_codes or ()),
        }
        for d in rubric.dimensions
    ]
    papers = [
        {
            "id": a.id,
            "scores": {d["id"]: mine.get((a.id, d["id"]), "") for d in dims},
            "consensus": dict(a.scores) if live.revealed else None,
        }
        for a in task.anchors
    ]
    return {
        "title": f"{task.title}: your scores",
        "session": live.id,
        "rater": rater,
        "open": live.open,
        "revealed": live.revealed,
        "dimensions": dims,
        "papers": papers,
        "stored": len(stored),
        "message": "",
    }


def _with_grid(request: Request, live: LiveSession, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with its scoring grid: rendered once per task and state (a few ms for 15 papers x 4
    dimensions, most of a page's cost) and cut where each choice's "checked" goes; a rater's page
    then only fills in their own choices."""
    from markupsafe import Markup

    from irr.web.app import templates

    grids = _registry(request).grids
    key = (live.task_id, live.revealed, live.open)
    if key not in grids:
        slots: dict[tuple[str, str, str], int] = {}

        def mark(paper: str, dim: str, value: str) -> Markup:
            slots[(paper, dim, value)] = 2 * len(slots) + 1  # its place in the cut page's parts
            return Markup("\x00")

        texts = templates.get_template("live_grid.html.j2").render(data=data, mark=mark).split("\x00")
        parts = [part for text in texts for part in (text, "")][:-1]  # text, slot, text, ..., slot, text
        grids[key] = (parts, slots)
    parts, slots = grids[key]
    page = list(parts)
    for p in data["papers"]:
        for dim, value in p["scores"].items():
            slot = slots.get((p["id"], dim, value)) if value else None
            if slot is not None:
                page[slot] = " checked"
    data["grid"] = Markup("".join(page))
    return data


def _rows_of(request: Request, live: LiveSession, form: dict[str, str]) -> list[tuple[str, str]]:
    """(work_id, dimension) of each score the form gives, in the sheet's row order."""
    bank = request.app.state.bank()
    task = bank.task(live.task_id)
    dims = [d.id for d in bank.rubric_for(task).dimensions]
    return [(a.id, d) for a in task.anchors for d in dims if form.get(f"s*{a.id}*{d}", "").strip()]


def _sheet_bytes(rater: str, task_id: str, rows, form: dict[str, str]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(SHEET_HEADER)
    writer.writerows((rater, work, task_id, dim, form[f"s*{work}*{dim}"].strip()) for work, dim in rows)
    return text.getvalue().encode("utf-8")


def _refusal(outcome: IrrError, rows: list[tuple[str, str]]) -> str:
    """A refused sheet's problems, told by paper and dimension (the rater never saw the sheet's rows)."""
    if not isinstance(outcome, SubmissionError):
        return f"Not saved: {outcome}"
    told = []
    for problem in outcome.problems:
        where = ""
        if problem.row is not None and 2 <= problem.row < len(rows) + 2:
            work, dim = rows[problem.row - 2]
            where = f"paper {work}, {dim}: "
        told.append(where + problem.message)
    return "Not saved: " + "; ".join(told or [str(outcome)])


async def score(request: Request) -> Response:
    """A rater's scoring page; ``score.json`` is its JSON twin, to which the page's script posts the
    form (only a short answer then travels back: the page already shows the rater's choices)."""
    as_json = request.url.path.endswith(".json")

    def refuse(status: int, title: str, message: str) -> Response:
        return JSONResponse({"error": message}, status) if as_json else _message(request, status, title, message)

    try:
        live = _registry(request).get(request.path_params["session_id"])
    except NotFoundError as exc:
        return refuse(404, "Not found", str(exc))
    rater = _rater_of(request, live)
    if rater is None:
        return refuse(403, "Error", "join this session with its link first")
    status, message, saved = 200, "", 0
    if request.method == "POST":
        form = await _form(request)
        if form is None:
            return refuse(400, "Error", "the form expired: reload the page")
        status, message, saved, live = await _submit(request, live, rater, form)
        if as_json and saved:  # the script's answer: the page already shows the choices just stored
            return JSONResponse(
                {"session": live.id, "rater": rater, "open": live.open, "revealed": live.revealed}
                | {"stored": saved, "saved": saved, "message": message}
            )
    # on the event loop: one indexed read of the rater's own sheet (WAL: never waits for a writer)
    # costs less than the hop to a worker thread
    data = _sheet(request, live, rater)
    data["message"] = message
    if as_json:
        return JSONResponse(_sheet_json(data, saved), status)
    return _page(request, "live_score.html.j2", _with_grid(request, live, data), status)


async def _submit(request: Request, live: LiveSession, rater: str, form: dict[str, str]):
    """Store the rater's posted sheet: ``(status, message, scores saved, live session as now)``."""
    rows = _rows_of(request, live, form)
    if not live.open:
        return 409, "Scoring is closed: the coordinator closed it.", 0, live
    if not rows:
        return 400, "Nothing to submit: choose a score for at least one paper.", 0, live
    # validated and stored with the other sheets arriving now (GroupWriter), off the event loop
    outcome = await _registry(request).sheets.submit((live, rater, _sheet_bytes(rater, live.task_id, rows, form)))
    live = _registry(request).get(live.id)  # as the store has it now (scoring may have closed meanwhile)
    if isinstance(outcome, ConflictError) and not live.open:
        return 409, "Scoring is closed: the coordinator closed it.", 0, live
    if isinstance(outcome, IrrError):
        return 400, _refusal(outcome, rows), 0, live
    if isinstance(outcome, Exception):  # a fault of the server, not of the sheet: logged, said
        logging.getLogger("irr.web").error("storing a live sheet failed", exc_info=outcome)
        return 500, "Not saved: the server could not store the sheet; try again.", 0, live
    return 200, f"Saved: {len(rows)} scores. You can change them until scoring closes.", len(rows), live


def _sheet_json(data: dict[str, Any], saved: int) -> dict[str, Any]:
    """The rater's own sheet, as the scoring page shows it: their scores, and the consensus once revealed."""
    out = {key: data[key] for key in ("session", "rater", "open", "revealed", "stored", "message")}
    out["saved"] = saved
    out["scores"] = {p["id"]: {dim: value for dim, value in p["scores"].items() if value} for p in data["papers"]}
    if data["revealed"]:
        out["consensus"] = {p["id"]: p["consensus"] for p in data["papers"]}
    return out


ROUTES = [
    ("/live", open_live, ["POST"], "live_open"),
    ("/live/{session_id}", dashboard, ["GET"], "live_dashboard"),
    ("/live/{session_id}/control", control, ["POST"], "live_control"),
    ("/live/{session_id}/scores.{format}", export_sheet, ["GET"], "live_export"),
    ("/live/{session_id}/score", score, ["GET", "POST"], "live_score"),
    ("/live/{session_id}/score.json", score, ["GET", "POST"], "live_score_json"),
    ("/join/{code}", join, ["GET", "POST"], "join"),
]
