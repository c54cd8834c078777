"""Live calibration sessions in ``irr serve``: raters score a task's anchor papers from their own
laptop or phone while the coordinator watches the room's agreement form.

* The coordinator opens a session for a task (``POST /live``) and gets a join link with a long
  random code (and its QR code).  The session is an ordinary store session (kind
  ``calibration``): ``irr calibrate`` reports on it like on any other.
* A rater opens the link, gives their rater id and scores every anchor paper dimension by
  dimension, the rubric's descriptors beside each score point.  Each submission is the rater's
  whole score sheet, validated by :func:`irr.io.ingest` exactly like a sheet ingested from a file
  and written in one transaction, replacing the rater's previous submission: a rater can correct
  scores until the coordinator closes scoring.  Raters see their own scores and their own session
  only, and the consensus scores only after the coordinator reveals them.
* The dashboard (``/live/{id}``, JSON twin ``/live/{id}.json``) shows who has submitted, the
  room's score distribution per paper and dimension, the papers that split the room and each
  rater's calibration status by the session's profile -- from :func:`irr.analysis.calibration.calibrate`,
  the same numbers ``irr calibrate`` prints.

The live state (join codes, open or closed, revealed) lives in the server process; the scores
live in the store, so a restart loses no score (the coordinator opens the session again).
"""

from __future__ import annotations

import csv
import datetime as _dt
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from irr.errors import IrrError, NotFoundError
from irr.web.security import AttemptLimiter, new_token, tokens_match

__all__ = ["LiveSession", "LiveRegistry", "ROUTES"]


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


class LiveRegistry:
    """The server's live sessions, by id and by join code (thread-safe)."""

    def __init__(self):
        self._by_id: dict[str, LiveSession] = {}
        self._lock = threading.Lock()
        self.join_limiter = AttemptLimiter(max_attempts=20, window_seconds=60)
        self.folder = Path(tempfile.mkdtemp(prefix="irr-live-"))

    def open(self, session_id: str, task_id: str, profile: str) -> LiveSession:
        with self._lock:
            live = LiveSession(
                session_id, task_id, profile, new_token(18), _dt.date.today().isoformat()
            )  # 144 random bits: beyond guessing, and guesses are limited besides
            self._by_id[session_id] = live
            return live

    def get(self, session_id: str) -> LiveSession:
        live = self._by_id.get(session_id)
        if live is None:
            raise NotFoundError(f"no live session {session_id!r} on this server")
        return live

    def by_code(self, code: str) -> LiveSession | None:
        for live in list(self._by_id.values()):
            if tokens_match(live.code, code):
                return live
        return None


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
    """The posted form when its CSRF token matches the session's; None otherwise."""
    form = await request.form()
    if not tokens_match(request.session.get("csrf"), str(form.get("csrf", ""))):
        return None
    return {k: str(v) for k, v in form.items()}


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
    session_id = form.get("session_id", "").strip() or f"live-{task.id}-{_dt.date.today().isoformat()}"
    live = _registry(request).open(session_id, task.id, form.get("profile", "pace") or "pace")
    return RedirectResponse(f"/live/{live.id}", status_code=303)


def dashboard_data(request: Request, live: LiveSession) -> dict[str, Any]:
    """Who has submitted, the room's distributions, split papers and each rater's status."""
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
    keep = [c for c in ("rater_id", "n", "exact", "exact_adjacent", "status", "reasons") if c in raters]
    data["raters"] = _records(raters[keep])
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
    action = form.get("action")
    if action == "reveal":
        live.revealed = True
    elif action == "close":
        live.open = False
    elif action == "reopen":
        live.open = True
    else:
        return _message(request, 400, "Error", f"unknown action {action!r}")
    return RedirectResponse(f"/live/{live.id}", status_code=303)


async def export_sheet(request: Request) -> Response:
    """The session's scores as a score sheet that ``irr ingest`` accepts unchanged (CSV)."""
    if not _coordinator_ok(request):
        return RedirectResponse("/login", status_code=303)
    from irr.io.export import write_scores

    session_id = request.path_params["session_id"]
    store = request.app.state.open_store(create=True)
    with store:
        scores = store.scores(session=session_id)
    if scores.empty:
        return _message(request, 404, "Not found", f"session {session_id!r} has no scores yet")
    path = _registry(request).folder / f"{session_id}-export.csv"
    write_scores(scores, path)
    return Response(
        path.read_bytes(),
        media_type="text/csv",
        headers={"content-disposition": f'attachment; filename="{session_id}.csv"'},
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
    if not rater or len(rater) > 64 or any(c in rater for c in ",\n\r\t\"'<>"):
        return _page(
            request,
            "live_join.html.j2",
            {
                "title": f"Join {live.id}",
                "task": live.task_id,
                "message": "Give your rater id (letters, digits, - or _).",
            },
            400,
        )
    request.session["live"] = live.id
    request.session["rater"] = rater
    live.joined.add(rater)
    return RedirectResponse(f"/live/{live.id}/score", status_code=303)


def _sheet(request: Request, live: LiveSession, rater: str) -> dict[str, Any]:
    bank = request.app.state.bank()
    task = bank.task(live.task_id)
    rubric = bank.rubric_for(task)
    mine: dict[tuple[str, str], str] = {}
    store = request.app.state.open_store(create=True)
    with store:
        if _has_session(store, live.id):
            own = store.scores(session=live.id, rater=rater)
            for row in own.itertuples():
                value = row.condition_code if getattr(row, "condition_code", "") else row.score
                mine[(str(row.work_id), str(row.dimension))] = str(value)
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
        "message": "",
    }


async def score(request: Request) -> Response:
    try:
        live = _registry(request).get(request.path_params["session_id"])
    except NotFoundError as exc:
        return _message(request, 404, "Not found", str(exc))
    rater = _rater_of(request, live)
    if rater is None:
        return _message(request, 403, "Error", "join this session with its link first")
    if request.method == "GET":
        return _page(request, "live_score.html.j2", await run_in_threadpool(_sheet, request, live, rater))
    if not live.open:
        data = await run_in_threadpool(_sheet, request, live, rater)
        data["message"] = "Scoring is closed: the coordinator closed it."
        return _page(request, "live_score.html.j2", data, 409)
    form = await _form(request)
    if form is None:
        return _message(request, 400, "Error", "the form expired: reload the page")
    bank = request.app.state.bank()
    task = bank.task(live.task_id)
    rubric = bank.rubric_for(task)
    rows = []
    for paper in task.anchors:
        for dim in rubric.dimensions:
            value = form.get(f"s::{paper.id}::{dim.id}", "").strip()
            if value:
                rows.append((rater, paper.id, task.id, dim.id, value))
    if not rows:
        data = await run_in_threadpool(_sheet, request, live, rater)
        data["message"] = "Nothing to submit: choose a score for at least one paper."
        return _page(request, "live_score.html.j2", data, 400)
    # validation and the write run in a worker thread: the server keeps answering while SQLite writes
    message = await run_in_threadpool(_submit, request, live, rater, rows)
    data = await run_in_threadpool(_sheet, request, live, rater)
    data["message"] = message or f"Saved: {len(rows)} scores. You can change them until scoring closes."
    return _page(request, "live_score.html.j2", data, 400 if message else 200)


def _submit(request: Request, live: LiveSession, rater: str, rows: list[tuple]) -> str:
    """Validate and store the rater's sheet like an ingested file (one transaction, replacing the
    rater's previous sheet); the validation's message when it is refused, '' when stored."""
    from irr.io import ingest

    folder = _registry(request).folder / live.id
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in rater)
    path = folder / f"live-{safe}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rater_id", "work_id", "task_id", "dimension", "score"])
        writer.writerows(rows)
    manifest = {"id": live.id, "kind": "calibration", "date": live.date, "description": "live calibration (irr serve)"}
    store = request.app.state.open_store(create=True)
    try:
        with store:
            ingest(store, path, manifest, bank=request.app.state.bank(), replace=True)
    except IrrError as exc:
        return f"Not saved: {exc}"
    return ""


ROUTES = [
    ("/live", open_live, ["POST"], "live_open"),
    ("/live/{session_id}", dashboard, ["GET"], "live_dashboard"),
    ("/live/{session_id}/control", control, ["POST"], "live_control"),
    ("/live/{session_id}/scores.csv", export_sheet, ["GET"], "live_export"),
    ("/live/{session_id}/score", score, ["GET", "POST"], "live_score"),
    ("/join/{code}", join, ["GET", "POST"], "join"),
]
