"""Live sessions kept in the store (a restart carries on), submissions arriving together written
together, and score sheets uploaded through the browser (validated like irr ingest)."""

from __future__ import annotations

import asyncio

import pytest

from irr.io import ingest_sheets, read_submission
from irr.model.bank import load_bank
from irr.model.session import session_from_mapping
from irr.store import Store
from irr.web.app import create_app
from irr.web.live import write_sheets
from irr.web.security import hash_passphrase
from tests.web.test_live import PASS, TASK, _coordinator, _csrf, _join, _open, _scores, _submit

TestClient = pytest.importorskip("starlette.testclient").TestClient


def test_a_restarted_server_carries_on_the_live_session(tmp_path):
    path = tmp_path / "live.sqlite"
    Store(path).close()  # irr serve starts on an existing store: the cookie key is kept in it
    first = create_app(path, passphrase_hash=hash_passphrase(PASS))
    coordinator = _coordinator(first, PASS)
    join_url = _open(coordinator)
    rater = _join(first, join_url, "T1")
    assert _submit(rater, "live-room-a", _scores(load_bank(), {})).status_code == 200
    token = _csrf(coordinator.get("/live/live-room-a").text)
    coordinator.post("/live/live-room-a/control", data={"csrf": token, "action": "close"})
    # a new process on the same store: same session, join code, state, joined raters; the rater's
    # cookie still holds (the signing key is the store's)
    second = create_app(path, passphrase_hash=hash_passphrase(PASS))
    again = _coordinator(second, PASS).get("/live/live-room-a.json").json()
    assert again["join_url"] == join_url and again["open"] is False
    assert again["joined"] == ["T1"] and again["submitted"] == ["T1"]
    rater.app = second  # the same browser (cookies) talking to the restarted server
    page = rater.get("/live/live-room-a/score")
    assert page.status_code == 200 and "scoring closed" in page.text and '<span id="stored">48</span> of 48 scores saved' in page.text
    # reopening keeps the code; an ingested session's id cannot become a live one
    from irr.errors import ConflictError

    with Store(path) as store:
        assert store.open_live_session("live-room-a", TASK, "pace", "y" * 24, "2026-12-03")["join_code"] in join_url
        head = b"rater_id,work_id,task_id,dimension,score\n"
        ingest_sheets(
            store,
            [("x.csv", head + b"T1,W1,ela-g8-argument,claim,3\n")],
            {"id": "ingested", "kind": "calibration", "date": "2026-12-02"},
        )
        with pytest.raises(ConflictError, match="already in the store"):
            store.open_live_session("ingested", TASK, "pace", "z" * 24, "2026-12-02")


def test_submissions_arriving_together_are_one_write_and_each_is_stored_once(tmp_path):
    app = create_app(tmp_path / "live.sqlite")
    join_url = _open(_coordinator(app))
    live = app.state.live.get("live-room-a")
    bank = load_bank()
    head = b"rater_id,work_id,task_id,dimension,score\n"
    rows = [(a.id, d.id, a.scores[d.id]) for a in bank.task(TASK).anchors for d in bank.rubric_for(TASK).dimensions]

    def sheet(rater: str, bad: bool = False) -> bytes:
        lines = [f"{rater},{w},{TASK},{d},{9 if bad and i == 3 else s}" for i, (w, d, s) in enumerate(rows)]
        return head + "\n".join(lines).encode() + b"\n"

    batch = [(live, f"R{i:02d}", sheet(f"R{i:02d}", bad=i == 5)) for i in range(12)]
    batch.append((live, "R00", sheet("R00")))  # R00 twice in one batch: the later wins
    outcomes = write_sheets(app.state.live, batch)
    assert [getattr(o, "action", None) for o in outcomes] == ["ingested"] * 5 + [None] + ["ingested"] * 7
    assert outcomes[0] is outcomes[-1]
    problem = outcomes[5].problems[0]
    assert problem.file == "live-R05.csv" and problem.row == 5 and "9" in problem.message  # its own sheet's row
    with Store(tmp_path / "live.sqlite") as store:
        scores = store.scores(session="live-room-a")
    assert len(scores) == 11 * len(rows) and not scores.duplicated(["rater_id", "work_id", "dimension"]).any()
    assert "R05" not in set(scores["rater_id"])

    # through the application: 20 raters submitting at once share the writer's batches
    clients = [_join(app, join_url, f"C{i:02d}") for i in range(20)]
    sizes = []
    writer = app.state.live.sheets
    original = writer._write
    writer._write = lambda items: (sizes.append(len(items)), original(items))[1]

    async def everyone():
        import httpx2

        transport = httpx2.ASGITransport(app=app)

        async def one(client):
            page = client.get("/live/live-room-a/score")
            async with httpx2.AsyncClient(
                transport=transport, base_url="http://testserver", cookies=dict(client.cookies)
            ) as browser:
                return await browser.post(
                    "/live/live-room-a/score", data={"csrf": _csrf(page.text), **_scores(bank, {})}
                )

        return await asyncio.gather(*(one(c) for c in clients))

    answers = asyncio.run(everyone())
    assert all(a.status_code == 200 and "Saved:" in a.text for a in answers)
    assert sum(sizes) == 20 and len(sizes) < 20  # grouped
    with Store(tmp_path / "live.sqlite") as store:
        assert len(store.scores(session="live-room-a")) == 31 * len(rows)


def test_read_sheets_together_gives_each_sheet_what_reading_it_alone_gives(tmp_path):
    bank = load_bank()
    session = session_from_mapping({"id": "s", "kind": "calibration", "date": "2026-12-02"}, "test")
    head = b"rater_id,work_id,task_id,dimension,score\n"
    sheets = [
        ("a.csv", head + b"T1,W1,ela-g8-argument,claim,3\nT1,W2,ela-g8-argument,claim,2\n"),
        ("b.csv", head + b"T2,W1,ela-g8-argument,claim,4\n"),
        ("c.csv", head + b"T3,W1,ela-g8-argument,claim,7\n"),  # off the scale
        ("d.csv", head + b"T4,W1,ela-g8-argument,reasoning,1\nT4,W2,ela-g8-argument,claim,2\n"),
    ]
    from irr.io.submissions import read_sheets

    together = read_sheets(sheets, bank, session)
    for (name, data), got in zip(sheets, together):
        try:
            alone = read_submission(tmp_path / name, bank, session, data=data)
        except Exception as exc:  # noqa: BLE001
            assert type(got) is type(exc) and str(got) == str(exc)
            continue
        assert got.name == alone.name and got.sha256 == alone.sha256 and got.n_rows == alone.n_rows
        assert got.scores.reset_index(drop=True).equals(alone.scores.reset_index(drop=True))
    store = Store(tmp_path / "s.sqlite")
    outcomes = ingest_sheets(store, sheets, session, bank=bank)
    assert [getattr(o, "action", "refused") for o in outcomes] == ["ingested", "ingested", "refused", "ingested"]
    assert len(store.scores(session="s")) == 5


def test_a_score_sheet_uploaded_through_the_browser_is_validated_like_irr_ingest(tmp_path):
    path = tmp_path / "up.sqlite"
    Store(path).close()
    app = create_app(path, max_upload_bytes=2000)
    client = TestClient(app)
    page = client.get("/sessions/upload")
    assert page.status_code == 200 and "Upload a score sheet" in page.text
    token = _csrf(page.text)
    good = b"rater_id,work_id,task_id,dimension,score\nT1,W1,ela-g8-argument,claim,3\nT2,W1,ela-g8-argument,claim,4\n"
    form = {"csrf": token, "session_id": "up-1", "kind": "calibration", "date": "2026-12-02"}
    done = client.post("/sessions/upload", data=form, files={"sheet": ("room-a.csv", good, "text/csv")})
    assert done.status_code == 200 and "room-a.csv: ingested 2 scores from 2 rows into session up-1" in done.text
    # a bad sheet: the messages irr ingest gives, row and column named; nothing stored
    bad = good.replace(b"claim,4", b"claim,9").replace(b"ela-g8-argument,claim,3", b"ela-g8-argument,claim,3")
    refused = client.post(
        "/sessions/upload.json", data={**form, "session_id": "up-2"}, files={"sheet": ("room-b.csv", bad, "text/csv")}
    )
    assert refused.status_code == 400
    [problem] = refused.json()["problems"]
    assert problem["row"] == 3 and problem["column"] == "score" and problem["file"] == "room-b.csv"
    with pytest.raises(Exception) as ingest_error:
        read_submission(
            tmp_path / "room-b.csv",
            load_bank(),
            session_from_mapping({"id": "up-2", "kind": "calibration", "date": "2026-12-02"}, "t"),
            data=bad,
        )
    assert problem["text"] == str(ingest_error.value.problems[0])
    # too large: refused unread; the CSRF token is required; a changed sheet needs "replace"
    big = client.post("/sessions/upload", data=form, files={"sheet": ("big.csv", good * 40, "text/csv")})
    assert big.status_code == 413 and "larger than" in big.text
    assert (
        client.post(
            "/sessions/upload", data={**form, "csrf": "x"}, files={"sheet": ("room-a.csv", good, "text/csv")}
        ).status_code
        == 400
    )
    changed = good.replace(b"claim,3", b"claim,2")
    again = client.post("/sessions/upload", data=form, files={"sheet": ("room-a.csv", changed, "text/csv")})
    assert again.status_code == 409
    swapped = client.post(
        "/sessions/upload.json", data={**form, "replace": "1"}, files={"sheet": ("room-a.csv", changed, "text/csv")}
    )
    assert swapped.status_code == 200 and swapped.json()["action"] == "replaced"
    assert (
        client.post("/sessions/upload", data=form, files={"sheet": ("x.pdf", b"%PDF", "application/pdf")}).status_code
        == 400
    )
    with Store(path) as store:
        assert sorted(store.scores(session="up-1")["score"].tolist()) == [2, 4]
        assert store.sessions()["session_id"].tolist() == ["up-1"]


def test_the_dashboard_says_why_a_rater_fails_and_offers_both_sheet_formats(tmp_path):
    app = create_app(tmp_path / "live.sqlite")
    coordinator = _coordinator(app)
    join_url = _open(coordinator)
    far = _join(app, join_url, "T9")
    assert _submit(far, "live-room-a", _scores(load_bank(), {"claim": -3, "evidence": -3})).status_code == 200
    [row] = coordinator.get("/live/live-room-a.json").json()["raters"]
    assert row["status"] == "FAIL" and row["failed_checks"] > 0 and "exact" in row["why"]
    page = coordinator.get("/live/live-room-a").text
    assert row["why"].split(";")[0] in page and "scores.xlsx" in page
    sheet = coordinator.get("/live/live-room-a/scores.xlsx")
    assert sheet.status_code == 200 and sheet.content[:2] == b"PK"
    path = tmp_path / "back.xlsx"
    path.write_bytes(sheet.content)
    with Store(tmp_path / "again.sqlite") as store:
        [result] = ingest_sheets(
            store, [("back.xlsx", sheet.content)], {"id": "x", "kind": "calibration", "date": "2026-12-02"}
        )
        assert result.action == "ingested" and result.n_scores == 48


def test_two_servers_on_one_store_see_each_others_live_state(tmp_path):
    # e.g. a second `irr serve` started by mistake on the same store: neither acts on stale state
    path = tmp_path / "live.sqlite"
    Store(path).close()
    first, second = create_app(path), create_app(path)
    join_url = _open(_coordinator(first))
    rater = _join(second, join_url, "T1")  # a session opened on one server is joined on the other
    assert _submit(rater, "live-room-a", _scores(load_bank(), {})).status_code == 200
    assert _coordinator(first).get("/live/live-room-a.json").json()["joined"] == ["T1"]
    coordinator = _coordinator(first)
    token = _csrf(coordinator.get("/live/live-room-a").text)
    coordinator.post("/live/live-room-a/control", data={"csrf": token, "action": "close"})
    # the other server refuses the rater's correction: it reads the close from the store
    late = _submit(rater, "live-room-a", _scores(load_bank(), {"claim": 1}))
    assert late.status_code == 409 and "closed" in late.text
    # and the writer checks again in the transaction that would store the sheets: a close committed
    # after the request was read (the cached state still says open) refuses them too
    live = second.state.live.get("live-room-a")
    live.open = True  # as a request that read the state just before the close would hold it
    head = b"rater_id,work_id,task_id,dimension,score\n"
    [outcome] = write_sheets(second.state.live, [(live, "T2", head + b"T2,ELA8-A01,ela-g8-argument,claim,3\n")])
    assert isinstance(outcome, Exception) and "closed" in str(outcome)
    with Store(path) as store:
        scores = store.scores(session="live-room-a")
        assert set(scores["rater_id"]) == {"T1"} and len(scores) == 48
        assert store.live_session("live-room-a")["open"] is False
