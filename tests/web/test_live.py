"""Live calibration sessions (irr serve): a coordinator opens one, raters join and score on their
own devices, the dashboard follows, the coordinator reveals and closes; the result is an ordinary
store session that irr calibrate reports on with the same numbers."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from irr.analysis.calibration import calibrate_session
from irr.cli.main import cli
from irr.model.bank import load_bank
from irr.store import Store
from irr.web.app import create_app
from irr.web.security import hash_passphrase

TestClient = pytest.importorskip("starlette.testclient").TestClient
TASK = "ela-g8-argument"
PASS = "a long room passphrase"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _coordinator(app, passphrase: str | None = None) -> TestClient:
    client = TestClient(app)
    if passphrase:
        token = _csrf(client.get("/login").text)
        assert client.post("/login", data={"passphrase": passphrase, "csrf": token}).status_code == 200
    return client


def _open(client: TestClient, session_id: str = "live-room-a") -> str:
    token = _csrf(client.get(f"/tasks/{TASK}").text)
    response = client.post(
        "/live",
        data={"csrf": token, "task_id": TASK, "session_id": session_id, "profile": "pace"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == f"/live/{session_id}"
    return client.get(f"/live/{session_id}.json").json()["join_url"]


def _join(app, join_url: str, rater: str) -> TestClient:
    client = TestClient(app)
    path = join_url.split("testserver", 1)[1]
    page = client.get(path)
    assert page.status_code == 200
    done = client.post(path, data={"csrf": _csrf(page.text), "rater_id": rater}, follow_redirects=False)
    assert done.status_code == 303
    return client


def _scores(bank, shift: dict[str, int]) -> dict[str, str]:
    """A full sheet: each anchor's consensus, moved by ``shift[dimension]`` within the scale."""
    task = bank.task(TASK)
    rubric = bank.rubric_for(task)
    out = {}
    for paper in task.anchors:
        for dim in rubric.dimensions:
            values = dim.score_values
            target = min(max(paper.scores[dim.id] + shift.get(dim.id, 0), values[0]), values[-1])
            out[f"s*{paper.id}*{dim.id}"] = str(target)
    return out


def _submit(client: TestClient, session_id: str, fields: dict[str, str]):
    page = client.get(f"/live/{session_id}/score")
    assert page.status_code == 200
    return client.post(f"/live/{session_id}/score", data={"csrf": _csrf(page.text), **fields})


@pytest.fixture()
def app(tmp_path):
    return create_app(tmp_path / "live.sqlite", passphrase_hash=hash_passphrase(PASS))


def test_a_live_session_from_opening_to_the_calibration_report(app, tmp_path):
    bank = load_bank()
    coordinator = _coordinator(app, PASS)
    join_url = _open(coordinator)
    assert len(join_url.rsplit("/", 1)[1]) >= 24  # a long code
    dashboard = coordinator.get("/live/live-room-a")
    assert "<svg" in dashboard.text and join_url in dashboard.text  # the QR code and the link
    raters = {name: _join(app, join_url, name) for name in ("T01", "T02", "T03")}
    shifts = {"T01": {}, "T02": {"claim": 1}, "T03": {"claim": -1, "evidence": 1}}
    for name, client in raters.items():
        saved = _submit(client, "live-room-a", _scores(bank, shifts[name]))
        assert saved.status_code == 200 and "Saved:" in saved.text
    live = coordinator.get("/live/live-room-a.json").json()
    assert live["submitted"] == ["T01", "T02", "T03"] and live["joined"] == ["T01", "T02", "T03"]
    assert live["distribution"] and live["papers"]
    by_rater = {r["rater_id"]: r for r in live["raters"]}
    assert by_rater["T01"]["exact"] == 1.0 and by_rater["T02"]["exact"] < 1.0
    # the store holds an ordinary calibration session: irr calibrate gives the dashboard's numbers
    with Store(tmp_path / "live.sqlite") as store:
        [result] = calibrate_session(store, "live-room-a", bank, "pace")
        n_scores = len(store.scores(session="live-room-a"))
    table = result.tables["raters"].set_index("rater_id")
    for name in raters:
        assert table.loc[name, "exact"] == pytest.approx(by_rater[name]["exact"])
        assert table.loc[name, "status"] == by_rater[name]["status"]
    task = bank.task(TASK)
    assert n_scores == 3 * len(task.anchors) * len(bank.rubric_for(task).dimensions)  # each score exactly once
    cli_report = CliRunner().invoke(
        cli, ["calibrate", "--session", "live-room-a", "--store", str(tmp_path / "live.sqlite"), "--format", "terminal"]
    )
    assert cli_report.exit_code == 0 and "T02" in cli_report.output


def test_corrections_replace_off_scale_scores_are_refused_and_closing_stops_scoring(app, tmp_path):
    bank = load_bank()
    coordinator = _coordinator(app, PASS)
    join_url = _open(coordinator)
    rater = _join(app, join_url, "T09")
    assert "Saved:" in _submit(rater, "live-room-a", _scores(bank, {})).text
    again = _submit(rater, "live-room-a", _scores(bank, {"claim": 1}))  # a correction: replaces, adds nothing
    assert again.status_code == 200
    with Store(tmp_path / "live.sqlite") as store:
        scores = store.scores(session="live-room-a")
    first = bank.task(TASK).anchors[0]
    claim = scores[(scores["work_id"] == first.id) & (scores["dimension"] == "claim")]
    assert len(claim) == 1 and int(claim["score"].iloc[0]) == min(first.scores["claim"] + 1, 4)
    bad = _submit(rater, "live-room-a", {**_scores(bank, {}), f"s*{first.id}*claim": "9"})
    assert bad.status_code == 400 and "Not saved:" in bad.text and "9" in bad.text
    with Store(tmp_path / "live.sqlite") as store:
        assert len(store.scores(session="live-room-a")) == len(scores)  # nothing half-written
    # the rater sees no consensus until it is revealed
    assert "consensus" not in rater.get("/live/live-room-a/score").text
    token = _csrf(coordinator.get("/live/live-room-a").text)
    coordinator.post("/live/live-room-a/control", data={"csrf": token, "action": "reveal"})
    assert "consensus" in rater.get("/live/live-room-a/score").text
    coordinator.post("/live/live-room-a/control", data={"csrf": token, "action": "close"})
    closed = _submit(rater, "live-room-a", _scores(bank, {}))
    assert closed.status_code == 409 and "closed" in closed.text


def test_raters_see_only_their_session_and_never_the_dashboard(app):
    coordinator = _coordinator(app, PASS)
    join_a = _open(coordinator, "room-a")
    _open(coordinator, "room-b")
    rater = _join(app, join_a, "T05")
    assert rater.get("/live/room-b/score").status_code == 403
    assert rater.get("/live/room-a", follow_redirects=False).status_code == 303  # to the coordinator login
    assert rater.get("/live/room-a.json", follow_redirects=False).status_code == 303
    assert rater.get("/live/room-a/scores.csv", follow_redirects=False).status_code == 303
    assert rater.get("/index.json").status_code == 401  # the bank (consensus scores) stays locked
    stranger = TestClient(app)
    assert stranger.get("/live/room-a/score").status_code == 403
    assert stranger.get("/join/not-a-code").status_code == 404
    page = stranger.get(join_a.split("testserver", 1)[1])
    hostile = stranger.post(join_a.split("testserver", 1)[1], data={"csrf": _csrf(page.text), "rater_id": "<b>x</b>"})
    assert hostile.status_code == 400
    assert stranger.post(join_a.split("testserver", 1)[1], data={"rater_id": "T06"}).status_code == 400  # no CSRF


def test_wrong_join_codes_are_limited_but_a_room_joins_freely(app):
    client = TestClient(app)
    codes = [client.get(f"/join/guess-{i}").status_code for i in range(22)]
    assert codes[:20] == [404] * 20 and codes[20:] == [429, 429]
    coordinator = _coordinator(app, PASS)
    join_url = _open(coordinator)
    for i in range(25):  # 25 raters from one address (a room behind one router): none is refused
        _join(app, join_url, f"T{i:02d}")


def test_the_scores_download_as_a_sheet_irr_ingest_takes(app, tmp_path):
    bank = load_bank()
    coordinator = _coordinator(app, PASS)
    join_url = _open(coordinator)
    _submit(_join(app, join_url, "T07"), "live-room-a", _scores(bank, {"evidence": -1}))
    sheet = coordinator.get("/live/live-room-a/scores.csv")
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/csv")
    path = tmp_path / "room.csv"
    path.write_bytes(sheet.content)
    manifest = tmp_path / "session.yaml"
    manifest.write_text("id: copy\nkind: calibration\ndate: 2026-12-02\n")
    result = CliRunner().invoke(
        cli, ["ingest", str(path), "--session", str(manifest), "--store", str(tmp_path / "b.sqlite")]
    )
    assert result.exit_code == 0, result.output
    with Store(tmp_path / "b.sqlite") as copy, Store(tmp_path / "live.sqlite") as live:
        assert len(copy.scores(session="copy")) == len(live.scores(session="live-room-a"))


def test_the_scoring_page_json_twin_takes_the_page_script_posts(app):
    bank = load_bank()
    coordinator = _coordinator(app, PASS)
    join_url = _open(coordinator)
    rater = _join(app, join_url, "T01")
    other = _join(app, join_url, "T02")
    token = _csrf(rater.get("/live/live-room-a/score").text)
    fields = {"csrf": token, **_scores(bank, {})}
    first = bank.task(TASK).anchors[0]
    # what the page's script sends: the form, urlencoded, to score.json; only a short answer comes back
    saved = rater.post("/live/live-room-a/score.json", data=fields)
    assert saved.status_code == 200 and saved.headers["content-type"].startswith("application/json")
    answer = saved.json()
    assert answer["saved"] == answer["stored"] == 48 and answer["message"].startswith("Saved: 48 scores")
    assert answer["rater"] == "T01" and answer["open"] is True
    mine = rater.get("/live/live-room-a/score.json").json()  # the page's twin: the rater's own scores
    assert mine["stored"] == 48 and "consensus" not in mine  # hidden until revealed
    assert mine["scores"][first.id] == {d: str(s) for d, s in first.scores.items()}
    # the other rater sees only their own (empty) sheet
    assert other.get("/live/live-room-a/score.json").json()["scores"][first.id] == {}
    # bad input: off the scale (named by paper and dimension), no form token, not joined, unknown session
    bad = rater.post("/live/live-room-a/score.json", data={**fields, f"s*{first.id}*claim": "9"})
    assert bad.status_code == 400 and f"paper {first.id}, claim" in bad.json()["message"] and bad.json()["saved"] == 0
    assert rater.get("/live/live-room-a/score.json").json()["scores"][first.id]["claim"] == str(first.scores["claim"])
    assert rater.post("/live/live-room-a/score.json", data={**fields, "csrf": "x"}).status_code == 400
    assert TestClient(app).get("/live/live-room-a/score.json").status_code == 403
    assert rater.get("/live/no-such/score.json").json()["error"].startswith("no live session")
    # revealed: the consensus comes with the sheet; closed: a post is refused, 409
    token = _csrf(coordinator.get("/live/live-room-a").text)
    coordinator.post("/live/live-room-a/control", data={"csrf": token, "action": "reveal"})
    coordinator.post("/live/live-room-a/control", data={"csrf": token, "action": "close"})
    assert rater.get("/live/live-room-a/score.json").json()["consensus"][first.id] == dict(first.scores)
    closed = rater.post("/live/live-room-a/score.json", data=fields)
    assert closed.status_code == 409 and closed.json()["open"] is False and closed.json()["saved"] == 0
