"""The web application of ``irr serve`` (layer 6, beside the CLI): the task bank and the store's
sessions and reports in a browser, over the same bank, store and analyses as the command line
(``/sessions/{id}/{report}``: calibration, agreement, raters, compare, gstudy -- the page the
command of that name writes), score sheets uploaded and validated like ``irr ingest``'s
(``/sessions/upload``), and live calibration sessions (:mod:`irr.web.live`).

Every page that shows data has a JSON twin at the same path with ``.json`` appended (Datasette's
convention): ``/`` and ``/index.json``, ``/tasks/ela-g8-argument`` and
``/tasks/ela-g8-argument.json``, ``/sessions`` and ``/sessions.json``.  A page's HTML and its JSON
are rendered from the same dictionary, so they cannot disagree.

Security (:mod:`irr.web.security`): with a coordinator passphrase (required off loopback, kept
only as a hash) every page but a live session's join and scoring pages (:mod:`irr.web.live`, which
check the rater themselves) asks for the coordinator's login first -- the bank shows anchor
papers' consensus scores, which raters must not see; login attempts are rate-limited; forms carry
a CSRF token; every page escapes what the data says (Jinja2 autoescaping); the application logs no
student or rater ids.

>>> from starlette.testclient import TestClient
>>> client = TestClient(create_app(store_path=None))
>>> page = client.get("/index.json").json()
>>> "ela-g8-argument" in [t["id"] for t in page["tasks"]], page["total"] == len(page["tasks"])
(True, True)
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from irr._version import __version__
from irr.errors import ConflictError, DataError, IrrError, NotFoundError
from irr.web.security import AttemptLimiter, new_token, read_body, tokens_match, verify_passphrase

__all__ = [
    "create_app",
    "render_page",
    "app_from_environment",
    "ENV_STORE",
    "ENV_BANK",
    "ENV_PASSPHRASE",
    "ENV_PASSPHRASE_HASH",
    "ENV_SECRET",
    "ENV_MAX_UPLOAD",
]

ENV_STORE = "IRR_SERVE_STORE"
ENV_BANK = "IRR_SERVE_BANK"
ENV_PASSPHRASE = "IRR_SERVE_PASSPHRASE"
ENV_PASSPHRASE_HASH = "IRR_SERVE_PASSPHRASE_HASH"
ENV_SECRET = "IRR_SERVE_SECRET"
ENV_MAX_UPLOAD = "IRR_SERVE_MAX_UPLOAD"
MAX_UPLOAD_BYTES = 10 * 2**20
UPLOAD_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")
DOCUMENT_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
OPEN_PATHS = ("/login", "/join/", "/live/")  # the live pages check coordinator or rater themselves

templates = Environment(
    loader=PackageLoader("irr.web", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True, default=True),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # the package's templates do not change under a running server: no stat() per page
)


# ----------------------------------------------------------------------------- page data
def _bank(request: Request):
    return request.app.state.bank()


def _task_summary(bank, task) -> dict[str, Any]:
    return {
        "id": task.id,
        "title": task.title,
        "kind": task.kind,
        "district": task.district,
        "content_area": task.content_area,
        "grade": task.grade,
        "dok": task.dok,
        "competencies": list(task.competencies),
        "status": task.status,
        "rubric": task.rubric,
        "anchors": len(task.anchors),
    }


FILTERS = ("subject", "grade", "kind", "competency", "dok", "q")


def bank_page(request: Request) -> dict[str, Any]:
    """The task bank, filtered by subject (content area), grade, kind, competency, DOK and words."""
    bank = _bank(request)
    query = {k: request.query_params.get(k, "").strip() for k in FILTERS}
    tasks = sorted(bank.tasks.values(), key=lambda t: (t.content_area, t.grade, t.id))
    options = {
        "subject": sorted({t.content_area for t in tasks}),
        "grade": sorted({t.grade for t in tasks}),
        "kind": sorted({t.kind for t in tasks}),
        "competency": sorted({c for t in tasks for c in t.competencies}),
        "dok": sorted({t.dok for t in tasks}),
    }

    def keep(task) -> bool:
        if query["subject"] and task.content_area != query["subject"]:
            return False
        if query["grade"] and str(task.grade) != query["grade"]:
            return False
        if query["kind"] and task.kind != query["kind"]:
            return False
        if query["competency"] and query["competency"] not in task.competencies:
            return False
        if query["dok"] and str(task.dok) != query["dok"]:
            return False
        words = query["q"].lower()
        return not words or words in f"{task.id} {task.title} {task.description or ''}".lower()

    shown = [_task_summary(bank, t) for t in tasks if keep(t)]
    return {"title": "Task bank", "filters": query, "options": options, "tasks": shown, "total": len(tasks)}


def task_page(request: Request, task_id: str) -> dict[str, Any]:
    """A task with its rubric (dimensions, score points, descriptors) and its anchor set."""
    bank = _bank(request)
    task = bank.task(task_id)
    rubric = bank.rubric_for(task)
    dimensions = []
    for dim in rubric.dimensions:
        labels = dim.labels
        dimensions.append(
            {
                "id": dim.id,
                "name": dim.name,
                "competencies": list(dim.competencies),
                "score_points": [
                    {"score": s, "label": labels.get(s, ""), "descriptor": dim.descriptors.get(s, "")}
                    for s in dim.score_values
                ],
                "condition_codes": list(dim.condition_codes or ()),
            }
        )
    anchors = [
        {
            "id": a.id,
            "role": a.role,
            "position": a.position,
            "scores": dict(a.scores),
            "annotation": a.annotation,
            "document": (
                str(request.url_for("anchor_document", task_id=task.id, anchor_id=a.id))
                if _document_path(bank, a) is not None
                else None
            ),
        }
        for a in task.anchors
    ]
    return {
        "title": task.title,
        "task": {**_task_summary(bank, task), "description": task.description},
        "rubric": {
            "id": rubric.id,
            "version": rubric.version,
            "title": rubric.title,
            "achievement_cut": (
                {"label": rubric.achievement_cut.label, "min_score": rubric.achievement_cut.min_score}
                if rubric.achievement_cut
                else None
            ),
            "dimensions": dimensions,
        },
        "anchors": anchors,
        "bank_file": bank.file_of(task.id),
    }


def sessions_page(request: Request) -> dict[str, Any]:
    """The store's sessions with their counts."""
    store = request.app.state.open_store()
    if store is None:
        return {"title": "Sessions", "store": None, "sessions": []}
    with store:
        table = store.sessions()
    rows = table.to_dict("records")
    for row in rows:
        for key, value in list(row.items()):
            if hasattr(value, "item"):
                row[key] = value.item()
        row["reports"] = [
            {"kind": k, "title": REPORT_TITLES[k], "url": f"/sessions/{row['session_id']}/{k}"}
            for k in REPORTS.get(str(row.get("kind")), ("agreement", "raters"))
        ]
    return {"title": "Sessions", "store": str(request.app.state.store_path), "sessions": rows}


def _document_path(bank, anchor) -> Path | None:
    """The anchor's document file, when it exists inside the bank folder and is a PDF or image."""
    if not anchor.document:
        return None
    root = Path(bank.root).resolve()
    path = (root / anchor.document).resolve()
    if root not in path.parents or path.suffix.lower() not in DOCUMENT_TYPES or not path.is_file():
        return None
    return path


# ----------------------------------------------------------------------------- responses
def render_page(request: Request, template: str, data: dict[str, Any], status: int = 200) -> HTMLResponse:
    """A page of ``data`` through one of the package's templates (autoescaped)."""
    context = {
        "data": data,
        "version": __version__,
        "csrf": request.session.get("csrf", ""),
        "coordinator": bool(request.session.get("coordinator")),
        "locked": request.app.state.passphrase_hash is not None,
        "json_url": _json_url(request),
    }
    return HTMLResponse(templates.get_template(template).render(**context), status_code=status)


def _json_url(request: Request) -> str:
    path = request.url.path
    twin = "/index.json" if path == "/" else f"{path.rstrip('/')}.json"
    return twin + (f"?{request.url.query}" if request.url.query else "")


def _page(template: str, build):
    """A route serving ``build(request, **params)`` as HTML, or as JSON when the path ends in .json."""

    async def endpoint(request: Request) -> Response:
        params = dict(request.path_params)
        as_json = request.url.path.endswith(".json")
        for key, value in params.items():
            if isinstance(value, str) and value.endswith(".json"):
                params[key] = value[: -len(".json")]
        try:
            data = build(request, **params)
        except NotFoundError as exc:
            return _error(request, 404, str(exc), as_json)
        except DataError as exc:
            return _error(request, 400, str(exc), as_json)
        if as_json:
            return JSONResponse(data)
        return render_page(request, template, data)

    return endpoint


def _error(request: Request, status: int, message: str, as_json: bool = False) -> Response:
    if as_json:
        return JSONResponse({"error": message}, status_code=status)
    return render_page(
        request, "error.html.j2", {"title": "Not found" if status == 404 else "Error", "message": message}, status
    )


async def anchor_document(request: Request) -> Response:
    bank = _bank(request)
    try:
        task = bank.task(request.path_params["task_id"])
        anchor = task.anchor(request.path_params["anchor_id"])
    except (NotFoundError, KeyError, ValueError):
        return _error(request, 404, "no such anchor paper")
    path = _document_path(bank, anchor)
    if path is None:
        return _error(request, 404, f"anchor {anchor.id} has no document in the bank folder")
    return FileResponse(path, media_type=DOCUMENT_TYPES[path.suffix.lower()])


# the reports a session's page offers, by session kind (each the page its CLI command writes)
REPORTS = {
    "calibration": ("calibration", "raters", "agreement"),
    "regional_scoring": ("agreement", "raters", "gstudy"),
    "audit": ("compare", "raters", "agreement"),
    "local": ("agreement", "raters"),
}
REPORT_TITLES = {
    "calibration": "calibration report (irr calibrate)",
    "agreement": "agreement (irr agreement)",
    "raters": "rater measurement (irr raters)",
    "compare": "district comparability (irr compare)",
    "gstudy": "generalizability (irr gstudy)",
}


def _analysis(kind: str, store, session: str, bank, request: Request):
    """The analysis result of one report kind for a stored session, with the CLI command's defaults."""
    from irr.analysis.provenance import store_provenance

    provenance = store_provenance(store, [session])
    if kind == "calibration":
        from irr.analysis.calibration import calibrate_session

        results = calibrate_session(store, session, bank, request.query_params.get("profile", "pace"))
        task = request.query_params.get("task")
        return next((r for r in results if not task or r.meta.get("parameters", {}).get("task") == task), results[0])
    scores = store.scores(session=session, bank=bank, include_flags=kind == "compare")
    if kind == "agreement":
        from irr.analysis.agreement import agreement

        return agreement(scores, bank, provenance=provenance)
    if kind == "raters":
        from irr.analysis.drift import drift_across_sessions
        from irr.analysis.facets import fit_facets

        result = fit_facets(scores, provenance=provenance)
        return result.with_drift(drift_across_sessions(store, bank, scores["rater_id"].astype(str).unique()))
    if kind == "compare":
        from irr.analysis.comparability import compare_districts

        return compare_districts(scores, bank, provenance=provenance)
    if kind == "gstudy":
        from irr.analysis.gstudy import g_study

        return g_study(scores, object="work_id", facets=["rater_id", "dimension"], provenance=provenance)
    raise NotFoundError(f"no report {kind!r}; reports: {', '.join(REPORT_TITLES)}")


async def session_report(request: Request) -> Response:
    """A stored session's report: the same HTML page the CLI command writes."""
    from irr.report.render import render_html

    session, kind = request.path_params["session_id"], request.path_params["report"]
    if kind not in REPORT_TITLES:
        return _error(request, 404, f"no report {kind!r}; reports: {', '.join(REPORT_TITLES)}")
    store = request.app.state.open_store()
    if store is None:
        return _error(request, 404, "no store: start irr serve with --store FILE")
    try:
        with store:
            store.session(session)
            result = _analysis(kind, store, session, _bank(request), request)
    except NotFoundError as exc:
        return _error(request, 404, str(exc))
    except IrrError as exc:
        return _error(request, 400, f"{REPORT_TITLES[kind]} cannot be made from this session: {exc}")
    return HTMLResponse(render_html(result, table_formats=()))


def _upload_data(request: Request, sessions: list[str]) -> dict[str, Any]:
    limit = request.app.state.max_upload_bytes
    return {
        "title": "Upload a score sheet",
        "sessions": sessions,
        "max_upload_mb": round(limit / 2**20, 2),
        "kinds": ["calibration", "regional_scoring", "audit", "local"],
        "result": None,
        "problems": [],
        "message": "",
    }


def _stored_session_ids(request: Request) -> list[str]:
    store = request.app.state.open_store(create=True)
    with store:
        return [str(row[0]) for row in store.session_table()[1]]


async def upload(request: Request) -> Response:
    """A score sheet (CSV/XLSX) uploaded through the browser, validated and stored like ``irr ingest``."""
    from starlette.concurrency import run_in_threadpool

    as_json = request.url.path.endswith(".json")
    try:
        sessions = await run_in_threadpool(_stored_session_ids, request)
    except NotFoundError as exc:
        return _error(request, 404, str(exc), as_json)
    data = _upload_data(request, sessions)
    if request.method == "GET":
        return JSONResponse(data) if as_json else render_page(request, "upload.html.j2", data)

    def refuse(status: int, message: str, problems: list | None = None) -> Response:
        data.update(message=message, problems=problems or [])
        if as_json:
            return JSONResponse({"error": message, "problems": problems or []}, status_code=status)
        return render_page(request, "upload.html.j2", data, status)

    body = await read_body(request, request.app.state.max_upload_bytes)
    if body is None:
        return refuse(413, f"the upload is larger than {data['max_upload_mb']} MiB: split the sheet")
    form = await request.form()
    if not tokens_match(request.session.get("csrf"), str(form.get("csrf", ""))):
        return refuse(400, "the form expired: reload the page")
    sheet = form.get("sheet")
    if sheet is None or isinstance(sheet, str) or not sheet.filename:
        return refuse(400, "choose a score sheet (.csv or .xlsx) to upload")
    name = Path(sheet.filename.replace("\\", "/")).name
    if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        return refuse(400, f"{name}: unsupported file type; save the sheet as .csv or .xlsx")
    content = await sheet.read()
    session_id = str(form.get("session_id", "")).strip()
    if not session_id:
        return refuse(400, "name the session: choose a stored one or give a new id")
    if session_id in sessions:
        manifest: Any = session_id
    else:
        manifest = {
            "id": session_id,
            "kind": str(form.get("kind", "")).strip() or None,
            "date": str(form.get("date", "")).strip() or None,
            "description": "uploaded through irr serve",
        }
    replace = str(form.get("replace", "")) in ("1", "on", "true")

    def store_sheet():
        from irr.io import ingest_sheets

        with request.app.state.open_store(create=True) as store:
            return ingest_sheets(store, [(name, content)], manifest, bank=_bank(request), replace=replace)[0]

    try:
        outcome = await run_in_threadpool(store_sheet)
    except IrrError as exc:  # the session's manifest (kind, date) itself
        outcome = exc
    if isinstance(outcome, IrrError):
        problems = [
            {
                "file": p.file,
                "row": p.row,
                "column": p.column,
                "field": p.field,
                "message": p.message,
                "fix": p.fix,
                "text": str(p),
            }
            for p in getattr(outcome, "problems", ())
        ]
        summary = str(outcome).splitlines()[0] if problems else str(outcome)
        return refuse(409 if isinstance(outcome, ConflictError) else 400, summary, problems)
    result = {
        "file": outcome.file,
        "session": outcome.session,
        "action": outcome.action,
        "n_rows": outcome.n_rows,
        "n_scores": outcome.n_scores,
        "text": str(outcome),
    }
    if as_json:
        return JSONResponse(result)
    data.update(result=result, sessions=sorted({*sessions, outcome.session}))
    return render_page(request, "upload.html.j2", data)


async def login(request: Request) -> Response:
    state = request.app.state
    if state.passphrase_hash is None:
        return RedirectResponse("/", status_code=303)
    if request.method == "GET":
        return render_page(request, "login.html.j2", {"title": "Coordinator login", "message": ""})
    client = request.client.host if request.client else "unknown"
    if not state.login_limiter.allow(client):
        return render_page(
            request,
            "login.html.j2",
            {"title": "Coordinator login", "message": "Too many attempts: wait a minute."},
            429,
        )
    form = await request.form()
    if not tokens_match(request.session.get("csrf"), str(form.get("csrf", ""))):
        return render_page(
            request, "login.html.j2", {"title": "Coordinator login", "message": "The form expired: try again."}, 400
        )
    if not verify_passphrase(str(form.get("passphrase", "")), state.passphrase_hash):
        return render_page(
            request, "login.html.j2", {"title": "Coordinator login", "message": "Wrong passphrase."}, 403
        )
    request.session.clear()
    request.session["coordinator"] = True
    request.session["csrf"] = new_token()
    return RedirectResponse(str(request.query_params.get("next") or "/"), status_code=303)


async def logout(request: Request) -> Response:
    form = await request.form()
    if not tokens_match(request.session.get("csrf"), str(form.get("csrf", ""))):
        return _error(request, 400, "the form expired: reload the page")
    request.session.clear()
    return RedirectResponse("/login" if request.app.state.passphrase_hash else "/", status_code=303)


# ----------------------------------------------------------------------------- the application
class _Guard:
    """Every request gets a CSRF token in its session; with a passphrase, coordinator pages need a login."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if "csrf" not in request.session:
            request.session["csrf"] = new_token()
        state = scope["app"].state
        locked = state.passphrase_hash is not None and not request.session.get("coordinator")
        if locked and not scope["path"].startswith(OPEN_PATHS):
            if scope["path"].endswith(".json"):
                response: Response = JSONResponse({"error": "coordinator login required"}, status_code=401)
            else:
                response = RedirectResponse(f"/login?next={scope['path']}", status_code=303)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(
    store_path: str | os.PathLike | None = None,
    bank_dir: str | os.PathLike | None = None,
    *,
    passphrase_hash: str | None = None,
    secret: str | None = None,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
) -> Starlette:
    """The application over a store file (None: the bank only) and a bank folder (None: the
    default bank, as the CLI finds it).  ``passphrase_hash`` (:func:`irr.web.security.hash_passphrase`)
    locks every coordinator page behind a login; ``secret`` signs the session cookies (default:
    a key kept in the store, so raters stay joined when the server restarts; random for this
    process when there is no store file yet); ``max_upload_bytes`` bounds a score sheet upload."""
    from irr.model.bank import load_bank
    from irr.web import live

    bank_cache: dict[str, Any] = {}

    def bank():
        if "bank" not in bank_cache:
            bank_cache["bank"] = load_bank(bank_dir)
        return bank_cache["bank"]

    def open_store(create: bool = False):
        if store_path is None:
            if create:
                raise NotFoundError("no store: start irr serve with --store FILE to run live sessions")
            return None
        from irr.store import Store

        path = Path(store_path)
        if not path.exists() and not create:
            raise NotFoundError(f"no store at {path}: ingest a session first (irr ingest)")
        return Store(path)

    if secret is None and store_path is not None and Path(store_path).is_file():
        with open_store() as store:
            secret = store.setting("serve_cookie_key", new_token)
    routes = [
        Route("/", _page("bank.html.j2", bank_page)),
        Route("/index.json", _page("bank.html.j2", bank_page)),
        Route("/tasks/{task_id}/anchors/{anchor_id}/document", anchor_document, name="anchor_document"),
        Route("/tasks/{task_id}", _page("task.html.j2", task_page), name="task"),
        Route("/sessions", _page("sessions.html.j2", sessions_page)),
        Route("/sessions.json", _page("sessions.html.j2", sessions_page)),
        Route("/sessions/upload", upload, methods=["GET", "POST"], name="upload"),
        Route("/sessions/upload.json", upload, methods=["GET", "POST"]),
        Route("/sessions/{session_id}/{report}", session_report),
        Route("/login", login, methods=["GET", "POST"]),
        *[Route(path, endpoint, methods=methods, name=name) for path, endpoint, methods, name in live.ROUTES],
        Route("/logout", logout, methods=["POST"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        # the bank and the modules a live session needs, loaded before the first rater arrives
        from starlette.concurrency import run_in_threadpool

        def warm() -> None:
            import irr.analysis.calibration  # noqa: F401
            import irr.io.ingestion  # noqa: F401
            from irr.io.submissions import read_sheets
            from irr.model.session import session_from_mapping

            loaded = bank()
            # one validation of a made-up sheet (nothing is stored): the first sheets a room submits
            # then skip the validator's and pandas' first-call costs (some 20 ms)
            for task in list(loaded.tasks.values())[:1]:
                rubric = loaded.rubric_for(task)
                line = f"T,W,{task.id},{rubric.dimensions[0].id},{rubric.dimensions[0].score_values[0]}\n"
                manifest = session_from_mapping({"id": "warm-up", "kind": "calibration", "date": "2026-01-01"})
                try:
                    read_sheets(
                        [("warm.csv", ("rater_id,work_id,task_id,dimension,score\n" + line).encode())],
                        loaded,
                        manifest,
                    )
                except Exception:  # noqa: BLE001 -- only a warm-up: the server starts whatever it met
                    logging.getLogger("irr.web").debug("warm-up validation failed", exc_info=True)

        await run_in_threadpool(warm)
        # the modules and the bank live as long as the server: kept out of the collector's full passes,
        # which otherwise walk them (tens of ms) while a room's submissions wait
        gc.collect()
        gc.freeze()
        yield

    app = Starlette(
        lifespan=lifespan,
        routes=routes,
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=secret or new_token(),
                session_cookie="irr_session",
                same_site="strict",
                https_only=False,
                max_age=12 * 3600,
            ),
            Middleware(_Guard),
        ],
    )
    app.state.bank = bank
    app.state.open_store = open_store
    app.state.store_path = Path(store_path) if store_path is not None else None
    app.state.passphrase_hash = passphrase_hash
    app.state.login_limiter = AttemptLimiter(max_attempts=10, window_seconds=60)
    app.state.max_upload_bytes = int(max_upload_bytes)
    app.state.live = live.LiveRegistry(open_store, bank)
    return app


def app_from_environment() -> Starlette:
    """The application as ``irr serve`` starts it (uvicorn's factory): settings from the environment.

    A passphrase in ``IRR_SERVE_PASSPHRASE`` is hashed and removed from the environment at once;
    ``IRR_SERVE_PASSPHRASE_HASH`` gives an already hashed one."""
    from irr.web.security import hash_passphrase

    passphrase = os.environ.pop(ENV_PASSPHRASE, None)
    stored = hash_passphrase(passphrase) if passphrase else (os.environ.get(ENV_PASSPHRASE_HASH) or None)
    return create_app(
        os.environ.get(ENV_STORE) or None,
        os.environ.get(ENV_BANK) or None,
        passphrase_hash=stored,
        secret=os.environ.get(ENV_SECRET) or None,
        max_upload_bytes=int(os.environ.get(ENV_MAX_UPLOAD) or MAX_UPLOAD_BYTES),
    )
